//! Tenancy: the registry of tenants (`Manager`), their credentials, and the registry file.
//!
//! A tenant is a keyspace owner: its data is a `storage::TenantData`, and a connection bound
//! to it (AUTH, HELLO AUTH, TENANT.USE) resolves every key there. What can change under a live
//! connection (state, deletion, revoked tokens) is read through atomics here, so dispatch can
//! check it on every command for the cost of a load.

pub mod credentials;
pub mod manager;
pub mod quota;
pub mod registry;

use crate::storage::keyspace::Eviction;
use crate::storage::TenantData;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::Arc;

pub use manager::Manager;

/// Tenant ids: `[a-z0-9][a-z0-9._-]{0,63}`. No `:`, so `__tenant:<id>:<key>` parses
/// unambiguously and one tenant's id can never alias another's keys.
pub fn valid_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && (id[0].is_ascii_lowercase() || id[0].is_ascii_digit())
        && id.iter().all(|&c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-')
        })
}

/// Lifecycle state. `Migrating` arrives with migration; `Deleting` is set while a tenant's
/// data is being dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    Active = 0,
    Suspended = 1,
    ReadOnly = 2,
    Deleting = 3,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Suspended => "suspended",
            State::ReadOnly => "readonly",
            State::Deleting => "deleting",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        match s.to_ascii_lowercase().as_str() {
            "active" => Some(State::Active),
            "suspended" => Some(State::Suspended),
            "readonly" => Some(State::ReadOnly),
            _ => None,
        }
    }

    fn from_u8(v: u8) -> State {
        match v {
            1 => State::Suspended,
            2 => State::ReadOnly,
            3 => State::Deleting,
            _ => State::Active,
        }
    }
}

/// What a tenant connection may do, decided from the command table's flags in dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read commands only.
    Readonly,
    /// Every data command.
    Readwrite,
    /// Data commands plus its own tenant's tokens and TENANT.INFO.
    Admin,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Readonly => "readonly",
            Role::Readwrite => "readwrite",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s.to_ascii_lowercase().as_str() {
            "readonly" => Some(Role::Readonly),
            "readwrite" => Some(Role::Readwrite),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// Per-tenant limits (0 = unlimited). Stored and reported here; enforced by quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Limits {
    pub memory: u64,
    pub keys: u64,
    pub ops: u64,
    pub connections: u64,
    pub databases: u64,
    /// Largest request (sum of argument bytes); 0 = only the server's proto-max-bulk-len.
    #[serde(default)]
    pub request: u64,
}

/// The eviction policies a tenant may use, with Redis's names; aliases map to them.
pub const EVICTION_POLICIES: &[&str] = &[
    "noeviction",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
];

/// Canonical eviction policy name (`lru` → `allkeys-lru`, ...), or None if unknown.
pub fn eviction_policy(name: &str) -> Option<&'static str> {
    let n = name.to_ascii_lowercase();
    let canonical = match n.as_str() {
        "lru" => "allkeys-lru",
        "lfu" => "allkeys-lfu",
        "random" => "allkeys-random",
        "ttl" => "volatile-ttl",
        other => other,
    };
    EVICTION_POLICIES.iter().copied().find(|p| *p == canonical)
}

/// A token as stored: never the secret, only its salted hash.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenRecord {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub hash: String,
    pub created_at: u64,
    #[serde(default)]
    pub last_used: u64,
    /// Unix ms; 0 = never expires.
    #[serde(default)]
    pub expires_at: u64,
}

/// Everything about a tenant that is persisted in the registry file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TenantRecord {
    pub id: String,
    pub name: String,
    pub tier: String,
    pub state: String,
    pub limits: Limits,
    pub eviction: String,
    pub created_at: u64,
    pub updated_at: u64,
    #[serde(default)]
    pub suspend_reason: Option<String>,
    #[serde(default)]
    pub tokens: Vec<TokenRecord>,
}

/// A live tenant: its persisted record, its data, and what connections check per command.
pub struct Tenant {
    pub id: String,
    pub data: Arc<TenantData>,
    record: RwLock<TenantRecord>,
    state: AtomicU8,
    /// Bumped whenever a credential is revoked: bound connections re-check their token.
    epoch: AtomicU64,
    deleted: AtomicBool,
    /// Connections currently bound to this tenant.
    pub connections: AtomicU64,
    /// The databases limit, read by every command of a bound connection.
    db_limit: AtomicU64,
    /// The ops/s and connection limits, read lock-free on the request path.
    ops_limit: AtomicU64,
    conn_limit: AtomicU64,
    key_limit: AtomicU64,
    mem_limit: AtomicU64,
    request_limit: AtomicU64,
    eviction: AtomicU8,
    /// Commands its connections ran (refusals excluded): the usage meter.
    pub commands: AtomicU64,
    pub limiter: quota::RateLimiter,
    pub pacer: quota::Pacer,
    pub meter: quota::OpsMeter,
    pub rejections: quota::Rejections,
    pub warnings: quota::Warnings,
    /// Bytes its connections hold outside its data: MULTI queues, subscriptions, WATCHed
    /// keys (see `command::quota::HeldCharge`).
    pub held_bytes: AtomicI64,
}

impl fmt::Debug for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tenant({})", self.id)
    }
}

impl Tenant {
    fn new(record: TenantRecord, data: Arc<TenantData>) -> Tenant {
        let state = State::parse(&record.state).unwrap_or(State::Active);
        let db_limit = AtomicU64::new(record.limits.databases);
        Tenant {
            db_limit,
            ops_limit: AtomicU64::new(record.limits.ops),
            conn_limit: AtomicU64::new(record.limits.connections),
            key_limit: AtomicU64::new(record.limits.keys),
            mem_limit: AtomicU64::new(record.limits.memory),
            request_limit: AtomicU64::new(record.limits.request),
            eviction: AtomicU8::new(Eviction::parse(&record.eviction) as u8),
            commands: AtomicU64::new(0),
            limiter: Default::default(),
            pacer: Default::default(),
            meter: Default::default(),
            rejections: Default::default(),
            warnings: Default::default(),
            held_bytes: AtomicI64::new(0),
            id: record.id.clone(),
            data,
            record: RwLock::new(record),
            state: AtomicU8::new(state as u8),
            epoch: AtomicU64::new(0),
            deleted: AtomicBool::new(false),
            connections: AtomicU64::new(0),
        }
    }

    pub fn state(&self) -> State {
        State::from_u8(self.state.load(Relaxed))
    }

    pub fn epoch(&self) -> u64 {
        self.epoch.load(Relaxed)
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted.load(Relaxed)
    }

    /// A copy of the persisted record.
    pub fn record(&self) -> TenantRecord {
        self.record.read().clone()
    }

    pub fn limits(&self) -> Limits {
        self.record.read().limits
    }

    /// The key and memory limits (0 = unlimited), lock-free: what every write checks.
    pub fn quota_limits(&self) -> (u64, u64) {
        (self.key_limit.load(Relaxed), self.mem_limit.load(Relaxed))
    }

    /// The key and memory limits (0 = unlimited) and the eviction policy, lock-free.
    pub fn storage_limits(&self) -> (u64, u64, Eviction) {
        let policy = match self.eviction.load(Relaxed) {
            1 => Eviction::AllKeysLru,
            2 => Eviction::AllKeysLfu,
            3 => Eviction::AllKeysRandom,
            4 => Eviction::VolatileLru,
            5 => Eviction::VolatileLfu,
            6 => Eviction::VolatileRandom,
            7 => Eviction::VolatileTtl,
            _ => Eviction::NoEviction,
        };
        (
            self.key_limit.load(Relaxed),
            self.mem_limit.load(Relaxed),
            policy,
        )
    }

    /// The largest request in bytes (0 = unlimited), lock-free for the framing layer: the
    /// explicit limit, or else the memory limit. A request larger than the tenant's whole
    /// memory could never be stored, and each of its connections would otherwise buffer up
    /// to the server's query-buffer limit (1 GB) of it.
    pub fn request_limit(&self) -> u64 {
        match self.request_limit.load(Relaxed) {
            0 => self.mem_limit.load(Relaxed),
            explicit => explicit,
        }
    }

    /// The ops/s limit (0 = unlimited), without taking the record lock.
    pub fn ops_limit(&self) -> u64 {
        self.ops_limit.load(Relaxed)
    }

    /// Counts a new connection against the limit, or refuses it (the limit is never passed,
    /// however many connections arrive at once).
    pub fn acquire_connection(&self) -> Result<(), quota::QuotaError> {
        let limit = self.conn_limit.load(Relaxed);
        let mut cur = self.connections.load(Relaxed);
        loop {
            if limit != 0 && cur >= limit {
                self.rejections.count(quota::Resource::Connections);
                return Err(quota::QuotaError::Connections { limit });
            }
            match self
                .connections
                .compare_exchange_weak(cur, cur + 1, Relaxed, Relaxed)
            {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// The tenant's database count (SELECT 0..n-1), without taking the record lock.
    pub fn db_limit(&self) -> usize {
        self.db_limit.load(Relaxed) as usize
    }

    /// Changes the record under its write lock (so concurrent changes, such as a token
    /// revoked meanwhile, are never overwritten) and refreshes what is read lock-free.
    fn modify<E>(&self, f: impl FnOnce(&mut TenantRecord) -> Result<(), E>) -> Result<(), E> {
        let mut w = self.record.write();
        let mut next = w.clone();
        f(&mut next)?;
        self.db_limit.store(next.limits.databases, Relaxed);
        self.ops_limit.store(next.limits.ops, Relaxed);
        self.conn_limit.store(next.limits.connections, Relaxed);
        self.key_limit.store(next.limits.keys, Relaxed);
        self.mem_limit.store(next.limits.memory, Relaxed);
        self.request_limit.store(next.limits.request, Relaxed);
        self.eviction
            .store(Eviction::parse(&next.eviction) as u8, Relaxed);
        if let Some(s) = State::parse(&next.state) {
            self.state.store(s as u8, Relaxed);
        }
        *w = next;
        Ok(())
    }

    /// Whether token `id` is still valid at `now` (not revoked, not expired).
    pub fn token_valid(&self, id: &str, now: u64) -> bool {
        self.record
            .read()
            .tokens
            .iter()
            .any(|t| t.id == id && (t.expires_at == 0 || t.expires_at > now))
    }
}
