//! The tenant registry: create, update, delete, list, authenticate, tokens. Every change is
//! handed to the registry writer, so it survives a restart.

use super::credentials;
use super::registry::{self, Writer};
use super::{eviction_policy, valid_id, Limits, Role, State, Tenant, TenantRecord, TokenRecord};
use crate::config::TenancySection;
use crate::storage::{now_ms, Storage};
use dashmap::DashMap;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// Tenancy errors, rendered as Redis-style error replies by the command layer.
#[derive(Debug, Clone, PartialEq)]
pub enum TenantError {
    Disabled,
    InvalidId(String),
    Exists(String),
    NotFound(String),
    UnknownTier(String),
    Invalid { what: &'static str, value: String },
    MaxTenants(usize),
    HasKeys { id: String, keys: usize },
    UnknownToken(String),
    TooManyTokens { id: String, max: usize },
    TooLong { what: &'static str, max: usize },
}

impl fmt::Display for TenantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use TenantError::*;
        match self {
            Disabled => write!(f, "ERR tenancy is disabled in this server's configuration"),
            InvalidId(id) => write!(
                f,
                "ERR invalid tenant id '{id}': use 1 to 64 characters a-z 0-9 . _ -, starting with a letter or digit"
            ),
            Exists(id) => write!(f, "ERR tenant '{id}' already exists"),
            NotFound(id) => write!(f, "ERR no such tenant '{id}'"),
            UnknownTier(t) => write!(f, "ERR unknown tier '{t}'"),
            Invalid { what, value } => write!(f, "ERR invalid {what} '{value}'"),
            MaxTenants(n) => write!(f, "ERR max number of tenants reached ({n})"),
            HasKeys { id, keys } => write!(
                f,
                "ERR tenant '{id}' still has {keys} keys; use TENANT.DELETE {id} FORCE to delete them"
            ),
            UnknownToken(id) => write!(f, "ERR no such token '{id}'"),
            TooManyTokens { id, max } => write!(
                f,
                "ERR tenant '{id}' has reached its token limit ({max}); revoke one first"
            ),
            TooLong { what, max } => write!(f, "ERR {what} is longer than {max} bytes"),
        }
    }
}

/// Settings given to TENANT.CREATE / TENANT.UPDATE (None: keep or take from the tier).
#[derive(Debug, Default, Clone)]
pub struct Changes {
    pub name: Option<String>,
    pub tier: Option<String>,
    pub state: Option<State>,
    pub memory: Option<u64>,
    pub keys: Option<u64>,
    pub ops: Option<u64>,
    pub connections: Option<u64>,
    pub databases: Option<u64>,
    pub eviction: Option<String>,
    pub request: Option<u64>,
}

/// What a verified token grants a connection.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub role: Role,
    pub id: String,
    /// Unix ms; 0 = never.
    pub expires_at: u64,
    /// The tenant's credential epoch read before the token was verified.
    pub epoch: u64,
}

/// A well-formed hash no secret matches, verified against on failed logins.
const DUMMY_HASH: &str = "sha256:00000000000000000000000000000000:0000000000000000000000000000000000000000000000000000000000000000";

/// Tenant ids that would make `AUTH <id> ...` ambiguous with the built-in admin.
const RESERVED_IDS: &[&str] = &["default"];

/// Tokens a tenant may hold: each is a row of the registry file.
pub const MAX_TOKENS: usize = 100;

/// A tier's limits and eviction policy, from `[tenancy.tiers.<name>]`.
#[derive(Debug, Clone)]
pub struct Tier {
    pub limits: Limits,
    pub eviction: &'static str,
}

pub struct Manager {
    enabled: bool,
    tenants: DashMap<String, Arc<Tenant>>,
    tiers: BTreeMap<String, Tier>,
    default_tier: String,
    max_tenants: usize,
    /// Microseconds of a tenant's ops/s limit it may spend at once (integer: the burst is
    /// worked out per command).
    burst_micros: u64,
    /// The server's database count: the most a tenant can be given.
    databases: usize,
    storage: Arc<Storage>,
    /// Names of the configured admins: taken for AUTH, so not available as tenant ids.
    admin_names: std::collections::HashSet<String>,
    /// Set once after construction (the writer needs a handle to the manager).
    writer: std::sync::OnceLock<Writer>,
}

impl Manager {
    /// Builds the registry from configuration and the registry file.
    pub fn new(
        cfg: &TenancySection,
        admin_names: impl IntoIterator<Item = String>,
        storage: Arc<Storage>,
    ) -> Result<Arc<Manager>, String> {
        let databases = storage.global.databases();
        let mut tiers = BTreeMap::new();
        for (name, t) in &cfg.tiers {
            let eviction = eviction_policy(&t.eviction)
                .ok_or_else(|| format!("tier {name}: unknown eviction policy '{}'", t.eviction))?;
            if t.databases == 0 {
                return Err(format!("tier {name}: databases must be at least 1"));
            }
            tiers.insert(
                name.clone(),
                Tier {
                    limits: Limits {
                        memory: t.memory.0,
                        keys: t.keys,
                        ops: t.ops,
                        connections: t.connections,
                        // A tier cannot give more databases than the server has.
                        databases: t.databases.min(databases as u64),
                        request: t.request.map_or(0, |b| b.0),
                    },
                    eviction,
                },
            );
        }
        if !tiers.contains_key(&cfg.default_tier) {
            return Err(format!(
                "tenancy.default_tier '{}' is not a tier",
                cfg.default_tier
            ));
        }
        let path: Option<std::path::PathBuf> =
            (!cfg.registry_path.is_empty()).then(|| cfg.registry_path.clone().into());
        let loaded = match &path {
            Some(p) => Some(registry::load(p)?),
            None => None,
        };
        let manager = Arc::new(Manager {
            enabled: cfg.enabled,
            tenants: DashMap::new(),
            tiers,
            default_tier: cfg.default_tier.clone(),
            max_tenants: cfg.max_tenants,
            burst_micros: (cfg.ops_burst_seconds.max(0.0) * 1e6).round() as u64,
            databases,
            storage,
            admin_names: admin_names.into_iter().collect(),
            writer: std::sync::OnceLock::new(),
        });
        for r in loaded.iter().flat_map(|l| l.records.iter().cloned()) {
            let data = manager.storage.tenant(&r.id);
            manager
                .tenants
                .insert(r.id.clone(), Arc::new(Tenant::new(r, data)));
        }
        let (Some(path), Some(loaded)) = (path, loaded) else {
            return Ok(manager);
        };
        let writer = Writer::start(path.clone(), &loaded, WeakSource(Arc::downgrade(&manager)))
            .map_err(|e| format!("cannot write tenant registry {}: {e}", path.display()))?;
        let _ = manager.writer.set(writer);
        Ok(manager)
    }

    /// Hands tenant `id`'s change to the registry writer.
    fn persist(&self, id: &str) {
        if let Some(w) = self.writer.get() {
            w.mark_dirty(id);
        }
    }

    /// Writes the registry now (graceful shutdown).
    pub fn flush(&self) -> std::io::Result<()> {
        match self.writer.get() {
            Some(w) => w.flush(self),
            None => Ok(()),
        }
    }

    fn check_enabled(&self) -> Result<(), TenantError> {
        if self.enabled {
            Ok(())
        } else {
            Err(TenantError::Disabled)
        }
    }

    /// The burst (in commands) of a tenant limited to `ops` per second.
    pub fn burst(&self, ops: u64) -> u64 {
        (ops.saturating_mul(self.burst_micros) / 1_000_000).max(1)
    }

    pub fn get(&self, id: &str) -> Option<Arc<Tenant>> {
        self.tenants.get(id).map(|t| t.clone())
    }

    pub fn find(&self, id: &str) -> Result<Arc<Tenant>, TenantError> {
        self.check_enabled()?;
        self.get(id)
            .ok_or_else(|| TenantError::NotFound(id.to_string()))
    }

    pub fn len(&self) -> usize {
        self.tenants.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tenants.is_empty()
    }

    /// Every tenant, sorted by id.
    pub fn list(&self) -> Vec<Arc<Tenant>> {
        let mut v: Vec<Arc<Tenant>> = self.tenants.iter().map(|t| t.clone()).collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    /// Applies `c` over `r` (tier first, then explicit limits), validating every value.
    fn apply(&self, r: &mut TenantRecord, c: &Changes) -> Result<(), TenantError> {
        if let Some(tier) = &c.tier {
            let t = self
                .tiers
                .get(tier)
                .ok_or_else(|| TenantError::UnknownTier(tier.clone()))?;
            r.tier = tier.clone();
            r.limits = t.limits;
            r.eviction = t.eviction.to_string();
        }
        if let Some(n) = &c.name {
            r.name = n.clone();
        }
        let l = &mut r.limits;
        for (slot, v) in [
            (&mut l.memory, c.memory),
            (&mut l.keys, c.keys),
            (&mut l.ops, c.ops),
            (&mut l.connections, c.connections),
            (&mut l.request, c.request),
        ] {
            if let Some(v) = v {
                *slot = v;
            }
        }
        if let Some(d) = c.databases {
            if d == 0 || d as usize > self.databases {
                return Err(TenantError::Invalid {
                    what: "databases",
                    value: d.to_string(),
                });
            }
            l.databases = d;
        }
        if let Some(e) = &c.eviction {
            r.eviction = eviction_policy(e)
                .ok_or_else(|| TenantError::Invalid {
                    what: "eviction policy",
                    value: e.clone(),
                })?
                .to_string();
        }
        if let Some(s) = c.state {
            r.state = s.name().to_string();
            if s != State::Suspended {
                r.suspend_reason = None;
            }
        }
        Ok(())
    }

    /// TENANT.CREATE
    pub fn create(&self, id: &str, c: &Changes) -> Result<Arc<Tenant>, TenantError> {
        self.check_enabled()?;
        if !valid_id(id.as_bytes()) || RESERVED_IDS.contains(&id) || self.admin_names.contains(id) {
            return Err(TenantError::InvalidId(id.to_string()));
        }
        if self.tenants.len() >= self.max_tenants {
            return Err(TenantError::MaxTenants(self.max_tenants));
        }
        let now = now_ms();
        let mut record = TenantRecord {
            id: id.to_string(),
            name: id.to_string(),
            tier: String::new(),
            state: State::Active.name().to_string(),
            limits: Limits::default(),
            eviction: String::new(),
            created_at: now,
            updated_at: now,
            suspend_reason: None,
            tokens: Vec::new(),
        };
        let mut c = c.clone();
        c.tier.get_or_insert_with(|| self.default_tier.clone());
        self.apply(&mut record, &c)?;
        let tenant = match self.tenants.entry(id.to_string()) {
            dashmap::Entry::Occupied(_) => return Err(TenantError::Exists(id.to_string())),
            dashmap::Entry::Vacant(v) => {
                let t = Arc::new(Tenant::new(record, self.storage.tenant(id)));
                v.insert(t.clone());
                t
            }
        };
        self.persist(id);
        Ok(tenant)
    }

    /// TENANT.UPDATE, TENANT.SUSPEND, TENANT.ACTIVATE
    pub fn update(
        &self,
        id: &str,
        c: &Changes,
        reason: Option<String>,
    ) -> Result<Arc<Tenant>, TenantError> {
        let t = self.find(id)?;
        t.modify(|r| {
            self.apply(r, c)?;
            if let Some(reason) = reason {
                r.suspend_reason = Some(reason);
            }
            r.updated_at = now_ms();
            Ok(())
        })?;
        self.persist(id);
        Ok(t)
    }

    /// TENANT.DELETE: refuses while the tenant has keys unless `force`. The tenant is gone
    /// from the registry at once; its data is freed when its last connection lets go.
    pub fn delete(&self, id: &str, force: bool) -> Result<Arc<Tenant>, TenantError> {
        let t = self.find(id)?;
        let keys = t.data.usage.keys.load(Relaxed).max(0) as usize;
        if keys > 0 && !force {
            return Err(TenantError::HasKeys {
                id: id.to_string(),
                keys,
            });
        }
        t.state.store(State::Deleting as u8, Relaxed);
        t.deleted.store(true, Relaxed);
        t.epoch.fetch_add(1, Relaxed);
        // Forget the store while the id is still registered: a TENANT.CREATE of the same id
        // racing this delete either fails (exists) or, after the removal, gets a fresh store,
        // never the old tenant's data.
        self.storage.drop_tenant(id);
        self.tenants.remove(id);
        // Free the data off the caller's thread: a big tenant takes a while to drop.
        let flushed: Vec<_> = t.data.existing().map(|ks| ks.flush()).collect();
        self.storage.release(flushed, true);
        self.persist(id);
        Ok(t)
    }

    /// Checks `AUTH <tenant> <secret>`: the tenant and the token (role, id, expiry).
    pub fn authenticate(&self, id: &[u8], secret: &[u8]) -> Option<(Arc<Tenant>, TokenGrant)> {
        let found = self.authenticate_inner(id, secret);
        if found.is_none() {
            // Spend a hash verification on failure too, so how long AUTH takes does not reveal
            // whether the tenant or token exists.
            let _ = credentials::verify(secret, DUMMY_HASH);
        }
        found
    }

    fn authenticate_inner(&self, id: &[u8], secret: &[u8]) -> Option<(Arc<Tenant>, TokenGrant)> {
        if !self.enabled {
            return None;
        }
        let t = self.get(std::str::from_utf8(id).ok()?)?;
        let token_id = credentials::token_id_of(secret)?;
        let now = now_ms();
        // Read before the token is checked: a revocation that lands after the check bumps the
        // epoch past this value, so the bound connection notices it at its next command.
        let epoch = t.epoch();
        let role = {
            let mut r = t.record.write();
            let tok = r.tokens.iter_mut().find(|k| k.id == token_id)?;
            if (tok.expires_at != 0 && tok.expires_at <= now)
                || !credentials::verify(secret, &tok.hash)
            {
                return None;
            }
            tok.last_used = now;
            TokenGrant {
                role: tok.role,
                id: tok.id.clone(),
                expires_at: tok.expires_at,
                epoch,
            }
        };
        Some((t, role))
    }

    /// TENANT.TOKEN.CREATE: returns the token id and its secret (shown once).
    pub fn create_token(
        &self,
        id: &str,
        role: Role,
        name: Option<String>,
        ttl_secs: Option<u64>,
    ) -> Result<(String, String), TenantError> {
        let t = self.find(id)?;
        let token_id = credentials::new_token_id();
        let secret = credentials::new_secret(&token_id);
        let now = now_ms();
        let record = TokenRecord {
            id: token_id.clone(),
            name: name.unwrap_or_default(),
            role,
            hash: credentials::hash_secret(secret.as_bytes()),
            created_at: now,
            last_used: 0,
            expires_at: ttl_secs.map_or(0, |s| now.saturating_add(s.saturating_mul(1000))),
        };
        {
            let mut r = t.record.write();
            if r.tokens.len() >= MAX_TOKENS {
                return Err(TenantError::TooManyTokens {
                    id: id.to_string(),
                    max: MAX_TOKENS,
                });
            }
            r.tokens.push(record);
        }
        self.persist(id);
        Ok((token_id, secret))
    }

    /// TENANT.TOKEN.REVOKE: live connections using the token lose it at their next command.
    pub fn revoke_token(&self, id: &str, token_id: &str) -> Result<(), TenantError> {
        let t = self.find(id)?;
        {
            let mut r = t.record.write();
            let before = r.tokens.len();
            r.tokens.retain(|k| k.id != token_id);
            if r.tokens.len() == before {
                return Err(TenantError::UnknownToken(token_id.to_string()));
            }
        }
        t.epoch.fetch_add(1, Relaxed);
        self.persist(id);
        Ok(())
    }
}

impl registry::Source for Manager {
    fn records(&self) -> Option<Vec<TenantRecord>> {
        let mut v: Vec<TenantRecord> = self.tenants.iter().map(|t| t.record()).collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        Some(v)
    }

    fn record(&self, id: &str) -> Option<Option<TenantRecord>> {
        Some(self.get(id).map(|t| t.record()))
    }

    fn count(&self) -> usize {
        self.tenants.len()
    }
}

/// The writer reads the manager through a weak handle, so it never keeps the manager alive.
struct WeakSource(std::sync::Weak<Manager>);

impl registry::Source for WeakSource {
    fn records(&self) -> Option<Vec<TenantRecord>> {
        registry::Source::records(&*self.0.upgrade()?)
    }

    fn record(&self, id: &str) -> Option<Option<TenantRecord>> {
        registry::Source::record(&*self.0.upgrade()?, id)
    }

    fn count(&self) -> usize {
        self.0.upgrade().map_or(0, |m| m.count())
    }
}
