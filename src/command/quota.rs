//! Memory and key quotas at the dispatch point, for commands that can grow memory (`denyoom`
//! in the command table), before the handler runs: a tenant's limits for its data, and on top
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
use crate::tenant::quota::{Resource, WARN_PERCENT};
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
        if self.mem_limit > 0
            && usage.bytes.load(Relaxed) + res.bytes_in_flight(usage) > self.mem_limit as i64
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
            _ => CmdError::err(format!(
                "OOM command not allowed when used memory > 'maxmemory' for tenant '{}'",
                t.id
            )),
        }
    }
}

/// Admits a write into `tenant`'s data, or the global context's when `tenant` is None.
pub fn admit(
    server: &Server,
    tenant: Option<&Arc<Tenant>>,
    spec: &CommandSpec,
    args: &[&[u8]],
    db: usize,
    now: u64,
) -> Result<Option<Reservation>, CmdError> {
    if !spec.has(flags::DENYOOM) {
        return Ok(None);
    }
    let server_limit = server.params.maxmemory().max(0) as u64;
    let max_bulk = server.params.proto_max_bulk_len().max(0) as usize;
    let server_bytes = &*server.storage.bytes;
    let shared = server.workers > 1;
    let target = match tenant {
        Some(t) => {
            let (key_limit, mem_limit) = t.quota_limits();
            Target {
                data: &t.data,
                tenant: Some(t),
                key_limit,
                mem_limit,
                server,
                server_limit,
                server_bytes,
                max_bulk,
                shared,
            }
        }
        None => {
            if server_limit == 0 {
                return Ok(None);
            }
            Target {
                data: &server.storage.global,
                tenant: None,
                key_limit: 0,
                mem_limit: 0,
                server,
                server_limit,
                server_bytes,
                max_bulk,
                shared,
            }
        }
    };
    if target.key_limit == 0 && target.mem_limit == 0 && target.server_limit == 0 {
        return Ok(None);
    }
    if let Some(t) = target.tenant {
        warn_on_crossing(t, &target);
    }
    reserve(&target, spec, args, db, now).map(Some)
}

/// Logs once when a tenant's memory or keys pass `WARN_PERCENT` of the limit.
#[inline]
fn warn_on_crossing(t: &Tenant, target: &Target<'_>) {
    let usage = &target.data.usage;
    let bytes = usage.bytes.load(Relaxed);
    if t.warnings
        .observe(Resource::Memory, bytes.max(0) as u64, target.mem_limit)
    {
        log_crossing(t, Resource::Memory, bytes, target.mem_limit);
    }
    let keys = usage.keys.load(Relaxed);
    if t.warnings
        .observe(Resource::Keys, keys.max(0) as u64, target.key_limit)
    {
        log_crossing(t, Resource::Keys, keys, target.key_limit);
    }
}

#[cold]
#[inline(never)]
fn log_crossing(t: &Tenant, r: Resource, used: i64, limit: u64) {
    tracing::warn!(
        tenant = %t.id,
        resource = r.name(),
        used,
        limit,
        "tenant passed {}% of its {} limit",
        WARN_PERCENT,
        r.name()
    );
}

/// What a write may add beyond its keys' table slots: its argument bytes, or what the command
/// table says it may write when that is more (`CommandSpec::writes`). An estimate past
/// `proto-max-bulk-len` is left to the command, which refuses it with Redis's own error (so
/// the quota check is no oracle for sizes the command would never write).
fn payload_bytes(spec: &CommandSpec, args: &[&[u8]], max_bulk: usize) -> usize {
    let sent: usize = args[1..].iter().map(|a| a.len()).sum();
    match spec.writes.map(|w| w(args)) {
        Some(writes) if writes <= max_bulk => sent.max(writes),
        _ => sent,
    }
}

fn reserve(
    t: &Target<'_>,
    spec: &CommandSpec,
    args: &[&[u8]],
    db: usize,
    now: u64,
) -> Result<Reservation, CmdError> {
    let usage = &t.data.usage;
    let nkeys = key_count(spec, args);
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
        let payload = payload_bytes(spec, args, t.max_bulk);
        let needed =
            i64::try_from(payload.saturating_add(ENTRY_OVERHEAD * nkeys)).unwrap_or(i64::MAX);
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
    if t.mem_limit > 0 && needed > t.mem_limit as i64 {
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
