//! Memory and key quotas at the dispatch point, for commands that can grow memory (`denyoom`
//! in the command table, and our `grows` / `renames` where Redis's table has no flag), before
//! the handler runs: a tenant's limits for its data, and on top
//! of them the server's `maxmemory` for all data together (the global context evicts by
//! `maxmemory-policy`, a tenant by its own policy and only its own keys).
//!
//! Limits are compared with used + reserved: each admitted command reserves what it may add
//! (one key per key argument; its argument bytes plus the per-key overhead) until it finishes,
//! so fifty writers arriving together at the limit cannot all pass. On a single worker thread
//! commands run one at a time (handlers never await), nothing else is ever in flight, and the
//! check alone is exact: the reservation's shared counters are skipped.
//!
//! At the key limit a command that only overwrites existing keys is still admitted. At the
//! memory limit the eviction policy removes keys of the same data only (never another
//! tenant's), sampled like Redis, until the command fits; under `noeviction`, or with nothing
//! left to evict, the command gets Redis's OOM error.

use super::keys::{key_count, key_positions};
use super::spec::{flags, CommandSpec};
use crate::protocol::CmdError;
use crate::server::Server;
use crate::storage::keyspace::{Eviction, Usage};
use crate::storage::value::ENTRY_OVERHEAD;
use crate::storage::{ServerBytes, TenantData};
use crate::tenant::quota::Resource;
use crate::tenant::Tenant;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// Redis's error at `maxmemory`, for the server-wide limit.
const SERVER_OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// Keys sampled per eviction (Redis's `maxmemory-samples` default).
const EVICTION_SAMPLES: usize = 5;
/// Most keys one command may evict to make room before it is refused.
const MAX_EVICTIONS: usize = 100_000;

/// What an admitted command holds until it finishes; released on drop. Held in the usage's
/// shared counters only when other workers can admit commands meanwhile (`usage` is set).
pub struct Reservation {
    usage: Option<Arc<Usage>>,
    keys: i64,
    bytes: i64,
}

impl Reservation {
    /// Promises `n` more keys (a negative `n` takes a promise back); returns the keys promised
    /// to commands in flight, this one's included.
    fn add_keys(&mut self, usage: &Usage, n: i64) -> i64 {
        self.keys += n;
        match self.usage {
            Some(_) => usage.reserved_keys.fetch_add(n, Relaxed) + n,
            None => self.keys,
        }
    }

    /// Promises `n` more bytes.
    fn add_bytes(&mut self, usage: &Usage, n: i64) {
        self.bytes += n;
        if self.usage.is_some() {
            usage.reserved_bytes.fetch_add(n, Relaxed);
        }
    }

    /// Bytes promised to commands in flight, this one's included.
    fn bytes_in_flight(&self, usage: &Usage) -> i64 {
        match self.usage {
            Some(_) => usage.reserved_bytes.load(Relaxed),
            None => self.bytes,
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let Some(usage) = &self.usage else {
            return;
        };
        if self.keys != 0 {
            usage.reserved_keys.fetch_sub(self.keys, Relaxed);
        }
        if self.bytes != 0 {
            usage.reserved_bytes.fetch_sub(self.bytes, Relaxed);
        }
    }
}

/// Bytes a connection holds for its tenant outside the tenant's data (a MULTI queue; its
/// subscriptions and WATCHed keys), given back when dropped. They live in server memory like
/// data, so the tenant's data and everything its connections hold may not pass its memory
/// limit together: otherwise forty connections queueing 5 MB SETs each would hold 200 MB
/// beyond a 10 MB limit, or ten holding 200 000 subscriptions a gigabyte.
pub struct HeldCharge {
    tenant: Arc<Tenant>,
    bytes: i64,
}

impl HeldCharge {
    /// Sets the charge to `bytes`, what the connection now holds (never refused: a charge
    /// that grows was admitted by `charge_held` first).
    pub fn set(&mut self, bytes: i64) {
        self.tenant
            .held_bytes
            .fetch_add(bytes - self.bytes, Relaxed);
        self.bytes = bytes;
    }

    pub fn bytes(&self) -> i64 {
        self.bytes
    }

    /// Whether the charge is `tenant`'s.
    pub fn is_for(&self, tenant: &Arc<Tenant>) -> bool {
        Arc::ptr_eq(&self.tenant, tenant)
    }
}

impl Drop for HeldCharge {
    fn drop(&mut self) {
        self.tenant.held_bytes.fetch_sub(self.bytes, Relaxed);
    }
}

/// What one queued command holds: its arguments and their bookkeeping.
pub fn queued_size(args: &[&[u8]]) -> i64 {
    const PER_ARG: usize = 16;
    args.iter().map(|a| a.len() + PER_ARG).sum::<usize>() as i64
}

/// Charges `bytes` more to `tenant`'s memory on `charge` (made on first use): refused with the
/// tenant's OOM error when its data and everything its connections hold would pass its limit.
pub fn charge_held(
    tenant: &Arc<Tenant>,
    charge: &mut Option<HeldCharge>,
    bytes: i64,
) -> Result<(), CmdError> {
    let (_, mem_limit) = tenant.quota_limits();
    let held = tenant.held_bytes.fetch_add(bytes, Relaxed) + bytes;
    if mem_limit > 0 && bytes > 0 && tenant.data.usage.bytes.load(Relaxed) + held > mem_limit as i64
    {
        tenant.held_bytes.fetch_sub(bytes, Relaxed);
        tenant.rejections.count(Resource::Memory);
        return Err(tenant_oom(tenant));
    }
    match charge {
        Some(c) if Arc::ptr_eq(&c.tenant, tenant) => c.bytes += bytes,
        _ => {
            *charge = Some(HeldCharge {
                tenant: tenant.clone(),
                bytes,
            })
        }
    }
    Ok(())
}

/// A tenant's error at its memory limit.
fn tenant_oom(t: &Tenant) -> CmdError {
    CmdError::err(format!(
        "OOM command not allowed when used memory > 'maxmemory' for tenant '{}'",
        t.id
    ))
}

/// Whose data a write goes to, and the limits that apply to it.
struct Target<'a> {
    data: &'a TenantData,
    tenant: Option<&'a Tenant>,
    key_limit: u64,
    mem_limit: u64,
    /// The server, for the global context's `maxmemory-policy` (read only when evicting).
    server: &'a Server,
    /// The server's `maxmemory` (0 = none) and every store's bytes together.
    server_limit: u64,
    server_bytes: &'a ServerBytes,
    /// `proto-max-bulk-len`: the largest string a write may make.
    max_bulk: usize,
    /// Other workers may admit commands while this one runs.
    shared: bool,
}

/// Which memory limit a write would pass.
enum Over {
    Own,
    Server,
}

impl Target<'_> {
    /// The eviction policy: the tenant's own, or the server's `maxmemory-policy`.
    fn policy(&self) -> Eviction {
        match self.tenant {
            Some(t) => t.storage_limits().2,
            None => Eviction::parse(
                &self
                    .server
                    .params
                    .get("maxmemory-policy")
                    .unwrap_or_default(),
            ),
        }
    }

    fn over_memory(&self, usage: &Usage, res: &Reservation, needed: i64) -> Option<Over> {
        let held = held(self.tenant);
        if self.mem_limit > 0
            && usage.bytes.load(Relaxed) + held + res.bytes_in_flight(usage) > self.mem_limit as i64
        {
            return Some(Over::Own);
        }
        if self.server_limit > 0 && self.server_bytes.total() + needed > self.server_limit as i64 {
            return Some(Over::Server);
        }
        None
    }

    fn refuse_memory(&self, over: Over) -> CmdError {
        match (over, self.tenant) {
            (Over::Own, _) => self.refuse(Resource::Memory),
            (Over::Server, t) => {
                if let Some(t) = t {
                    t.rejections.count(Resource::Memory);
                }
                CmdError::err(SERVER_OOM)
            }
        }
    }

    fn refuse(&self, r: Resource) -> CmdError {
        let Some(t) = self.tenant else {
            return CmdError::err(SERVER_OOM);
        };
        t.rejections.count(r);
        match r {
            Resource::Keys => CmdError::err(format!(
                "OOM tenant '{}' reached its key limit ({})",
                t.id, self.key_limit
            )),
            _ => tenant_oom(t),
        }
    }
}

/// Admits a write into `tenant`'s data, or the global context's when `tenant` is None.
/// Inline: every write of every tenant passes here, and almost all of them fit.
#[inline]
pub fn admit(
    server: &Server,
    tenant: Option<&Arc<Tenant>>,
    spec: &CommandSpec,
    args: &[&[u8]],
    db: usize,
    now: u64,
) -> Result<Option<Reservation>, CmdError> {
    if !spec.has(flags::DENYOOM | flags::GROWS | flags::RENAMES) || spec.has(flags::ADMITS_ITSELF) {
        return Ok(None);
    }
    let server_limit = server.params.maxmemory().max(0) as u64;
    let (data, key_limit, mem_limit) = own_limits(server, tenant);
    if key_limit == 0 && mem_limit == 0 && server_limit == 0 {
        return Ok(None);
    }
    // A rename adds no key: only its new name's bytes count.
    let nkeys = if spec.has(flags::RENAMES) {
        0
    } else {
        key_count(spec, args)
    };
    // One worker runs one command at a time: nothing else is in flight, a reservation would
    // hold nothing, and a write that fits as things stand is admitted by comparisons alone.
    if server.workers == 1 {
        let usage = &data.usage;
        let keys_fit =
            key_limit == 0 || usage.keys.load(Relaxed) + nkeys as i64 <= key_limit as i64;
        if keys_fit && (mem_limit == 0 && server_limit == 0) {
            return Ok(None);
        }
        if keys_fit {
            let max_bulk = server.params.proto_max_bulk_len().max(0) as usize;
            let needed = needed_bytes(spec, args, max_bulk, nkeys);
            let own = mem_limit == 0
                || usage.bytes.load(Relaxed) + held(tenant.map(|t| &**t)) + needed
                    <= mem_limit as i64;
            let all = server_limit == 0
                || server.storage.bytes.total().saturating_add(needed) <= server_limit as i64;
            if own && all {
                return Ok(None);
            }
        }
    }
    admit_reserving(server, tenant, spec, args, nkeys, db, now)
}

/// After writes into a tenant's data under an evicting policy: a key's estimate carries its
/// average share of a table, not a doubling, so a table that doubled under a write can leave
/// the data a little past the limit. Evicts back under it at once, so the tenant's limit holds
/// between batches of commands (under `noeviction` the next write is refused instead).
#[inline]
pub fn settle(tenant: Option<&Arc<Tenant>>, now: u64) {
    let Some(t) = tenant else {
        return;
    };
    let (_, mem_limit) = t.quota_limits();
    if mem_limit > 0 && t.data.usage.bytes.load(Relaxed) > mem_limit as i64 {
        evict_to_limit(t, mem_limit as i64, now);
    }
}

#[cold]
#[inline(never)]
fn evict_to_limit(t: &Tenant, limit: i64, now: u64) {
    let policy = t.storage_limits().2;
    if policy == Eviction::NoEviction {
        return;
    }
    let mut evicted = 0;
    while t.data.usage.bytes.load(Relaxed) > limit
        && evicted < MAX_EVICTIONS
        && t.data.evict_one(policy, EVICTION_SAMPLES, now)
    {
        evicted += 1;
    }
}

/// What `tenant`'s connections hold outside its data (`HeldCharge`): data and held bytes
/// share the memory limit.
fn held(tenant: Option<&Tenant>) -> i64 {
    tenant.map_or(0, |t| t.held_bytes.load(Relaxed).max(0))
}

/// The data a write goes to and its own key and memory limits (0 = none): the global
/// context has none of its own, only the server's `maxmemory`.
#[inline]
fn own_limits<'a>(
    server: &'a Server,
    tenant: Option<&'a Arc<Tenant>>,
) -> (&'a TenantData, u64, u64) {
    match tenant {
        Some(t) => {
            let (keys, mem) = t.quota_limits();
            (&t.data, keys, mem)
        }
        None => (&server.storage.global, 0, 0),
    }
}

/// `admit` for a write that may not fit, or that other workers' writes may race: reserves
/// what it may add, evicting or refusing at a limit.
#[inline(never)]
fn admit_reserving(
    server: &Server,
    tenant: Option<&Arc<Tenant>>,
    spec: &CommandSpec,
    args: &[&[u8]],
    nkeys: usize,
    db: usize,
    now: u64,
) -> Result<Option<Reservation>, CmdError> {
    reserve(&target(server, tenant), spec, args, nkeys, db, now).map(Some)
}

fn target<'a>(server: &'a Server, tenant: Option<&'a Arc<Tenant>>) -> Target<'a> {
    let (data, key_limit, mem_limit) = own_limits(server, tenant);
    Target {
        data,
        tenant: tenant.map(|t| &**t),
        key_limit,
        mem_limit,
        server,
        server_limit: server.params.maxmemory().max(0) as u64,
        server_bytes: &server.storage.bytes,
        max_bulk: server.params.proto_max_bulk_len().max(0) as usize,
        shared: server.workers > 1,
    }
}

/// For a command whose growth its arguments do not show (COPY's value and target database,
/// RESTORE's decoded value), checked by the handler once it knows: `keys` new keys and `bytes`
/// more memory in `tenant`'s data (or the global context's), evicting by the policy or refused
/// as `admit` would. The handler must hold no key locks (eviction takes them).
pub fn admit_growth(
    server: &Server,
    tenant: Option<&Arc<Tenant>>,
    keys: usize,
    bytes: i64,
    now: u64,
) -> Result<(), CmdError> {
    let t = target(server, tenant);
    let usage = &t.data.usage;
    if t.key_limit > 0 && keys > 0 && usage.keys.load(Relaxed) + keys as i64 > t.key_limit as i64 {
        return Err(t.refuse(Resource::Keys));
    }
    if bytes > 0 && (t.mem_limit > 0 || t.server_limit > 0) {
        // Measured against what is stored; other commands' promises are theirs to keep.
        let res = Reservation {
            usage: None,
            keys: 0,
            bytes,
        };
        if t.over_memory(usage, &res, bytes).is_some() {
            make_room(&t, &res, bytes, now)?;
        }
    }
    Ok(())
}

/// What a write may add beyond its keys' table slots: its argument bytes, or what the command
/// table says it may write when that is more (`CommandSpec::writes`). An estimate past
/// `proto-max-bulk-len` is left to the command, which refuses it with Redis's own error (so
/// the quota check is no oracle for sizes the command would never write).
fn payload_bytes(spec: &CommandSpec, args: &[&[u8]], max_bulk: usize) -> usize {
    if spec.has(flags::RENAMES) {
        // The key and its value stay; only a longer name adds.
        return args[2].len().saturating_sub(args[1].len());
    }
    let sent: usize = args[1..].iter().map(|a| a.len()).sum();
    match spec.writes.map(|w| w(args)) {
        Some(writes) if writes <= max_bulk => sent.max(writes),
        _ => sent,
    }
}

/// What one argument that is not a key may cost beyond its bytes: its slot as an element of
/// a collection (a set member's 24-byte slot and its share of the table, a list element's
/// 16-byte slot, half of a hash's field-and-value pair). Without it one SADD of a million
/// short members, admitted on its 6 MB of arguments, would store some 77 MB.
const ELEMENT_OVERHEAD: usize = 48;

/// What a write may add: its payload, the per-key overhead of each key it names, and the
/// per-element overhead of its other arguments.
fn needed_bytes(spec: &CommandSpec, args: &[&[u8]], max_bulk: usize, nkeys: usize) -> i64 {
    let payload = payload_bytes(spec, args, max_bulk);
    let elements = if spec.has(flags::RENAMES) {
        0
    } else {
        args.len().saturating_sub(1 + nkeys)
    };
    let overhead = ENTRY_OVERHEAD * nkeys + ELEMENT_OVERHEAD * elements;
    i64::try_from(payload.saturating_add(overhead)).unwrap_or(i64::MAX)
}

fn reserve(
    t: &Target<'_>,
    spec: &CommandSpec,
    args: &[&[u8]],
    nkeys: usize,
    db: usize,
    now: u64,
) -> Result<Reservation, CmdError> {
    let usage = &t.data.usage;
    let mut res = Reservation {
        usage: t.shared.then(|| usage.clone()),
        keys: 0,
        bytes: 0,
    };
    if t.key_limit > 0 && nkeys > 0 {
        let n = nkeys as i64;
        let promised = res.add_keys(usage, n);
        if usage.keys.load(Relaxed) + promised > t.key_limit as i64 {
            admit_overwrites(t, spec, args, db, now)?;
            res.add_keys(usage, -n);
        }
    }
    if t.mem_limit > 0 || t.server_limit > 0 {
        let needed = needed_bytes(spec, args, t.max_bulk, nkeys);
        res.add_bytes(usage, needed);
        if (t.mem_limit > 0 && needed > t.mem_limit as i64)
            || t.over_memory(usage, &res, needed).is_some()
        {
            make_room(t, &res, needed, now)?;
        }
    }
    Ok(res)
}

/// Over the key limit, a command is admitted only if every key it names already exists
/// (overwrites). Out of line: the common write never gets here.
#[cold]
#[inline(never)]
fn admit_overwrites(
    t: &Target<'_>,
    spec: &CommandSpec,
    args: &[&[u8]],
    db: usize,
    now: u64,
) -> Result<(), CmdError> {
    let positions = key_positions(spec, args);
    let ks = t.data.db(db);
    let mut txn = ks.txn(now, positions.iter().map(|&i| &args[i]));
    if positions.iter().any(|&i| !txn.exists(args[i])) {
        return Err(t.refuse(Resource::Keys));
    }
    Ok(())
}

/// Over a memory limit: evicts by the policy until the write fits, or refuses it. Out of line:
/// the common write never gets here.
#[cold]
#[inline(never)]
fn make_room(t: &Target<'_>, res: &Reservation, needed: i64, now: u64) -> Result<(), CmdError> {
    let usage = &t.data.usage;
    // A write bigger than the whole limit can never fit: refuse it before evicting anything,
    // rather than empty the data and refuse it anyway.
    // What the tenant's connections hold is never evicted for: the write must fit beside it.
    let held = held(t.tenant);
    if t.mem_limit > 0 && needed + held > t.mem_limit as i64 {
        return Err(t.refuse(Resource::Memory));
    }
    if t.server_limit > 0 && needed > t.server_limit as i64 {
        return Err(t.refuse_memory(Over::Server));
    }
    let policy = t.policy();
    let mut evicted = 0;
    // Eviction only ever takes this data's own keys. Past the server's limit, it evicts only
    // when its own data is at least the excess, so the write can fit: otherwise the room is
    // held by others, and evicting would empty this tenant for a refusal anyway.
    while let Some(over) = t.over_memory(usage, res, needed) {
        let hopeless = matches!(over, Over::Server)
            && usage.bytes.load(Relaxed) < t.server_bytes.total() + needed - t.server_limit as i64;
        if hopeless
            || policy == Eviction::NoEviction
            || evicted >= MAX_EVICTIONS
            || !t.data.evict_one(policy, EVICTION_SAMPLES, now)
        {
            return Err(t.refuse_memory(over));
        }
        evicted += 1;
    }
    Ok(())
}
