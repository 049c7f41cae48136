//! Memory and key quotas at the dispatch point, for commands that can grow memory (`denyoom`
//! in the command table), before the handler runs.
//!
//! Limits are compared with used + reserved: each admitted command reserves what it may add
//! (one key per key argument; its argument bytes plus the per-key overhead) until it finishes,
//! so fifty writers arriving together at the limit cannot all pass. At the key limit a command
//! that only overwrites existing keys is still admitted. At the memory limit the tenant's
//! eviction policy removes that tenant's own keys (sampled like Redis) until the command fits;
//! under `noeviction`, or with nothing left to evict, the command gets Redis's OOM error.

use super::keys::key_positions;
use super::spec::{flags, CommandSpec};
use crate::protocol::CmdError;
use crate::storage::keyspace::{Eviction, Usage};
use crate::storage::value::ENTRY_OVERHEAD;
use crate::tenant::quota::Resource;
use crate::tenant::Tenant;
use bytes::Bytes;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// Keys sampled per eviction (Redis's `maxmemory-samples` default).
const EVICTION_SAMPLES: usize = 5;
/// Most keys one command may evict to make room before it is refused.
const MAX_EVICTIONS: usize = 100_000;

/// What an admitted command holds until it finishes; released on drop.
pub struct Reservation {
    usage: Arc<Usage>,
    keys: i64,
    bytes: i64,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.keys != 0 {
            self.usage.reserved_keys.fetch_sub(self.keys, Relaxed);
        }
        if self.bytes != 0 {
            self.usage.reserved_bytes.fetch_sub(self.bytes, Relaxed);
        }
    }
}

/// Admits a command into tenant `t`'s data (database `db`), or refuses it with OOM.
pub fn admit(
    t: &Tenant,
    spec: &CommandSpec,
    args: &[Bytes],
    db: usize,
    now: u64,
) -> Result<Option<Reservation>, CmdError> {
    if !spec.has(flags::DENYOOM) {
        return Ok(None);
    }
    let (key_limit, mem_limit, policy) = t.storage_limits();
    if key_limit == 0 && mem_limit == 0 {
        return Ok(None);
    }
    let usage = &t.data.usage;
    let positions = key_positions(spec, args);
    let mut res = Reservation {
        usage: usage.clone(),
        keys: 0,
        bytes: 0,
    };
    if key_limit > 0 && !positions.is_empty() {
        let n = positions.len() as i64;
        res.keys = n;
        let promised = usage.reserved_keys.fetch_add(n, Relaxed) + n;
        if usage.keys.load(Relaxed) + promised > key_limit as i64 {
            // Over the limit: admitted only if every key already exists (overwrites).
            let ks = t.data.db(db);
            let mut txn = ks.txn(now, positions.iter().map(|&i| &args[i]));
            let creates = positions.iter().any(|&i| !txn.exists(&args[i]));
            drop(txn);
            if creates {
                t.rejections.count(Resource::Keys);
                return Err(CmdError::err(format!(
                    "OOM tenant '{}' reached its key limit ({key_limit})",
                    t.id
                )));
            }
            usage.reserved_keys.fetch_sub(n, Relaxed);
            res.keys = 0;
        }
    }
    if mem_limit > 0 {
        let bytes: usize = args[1..].iter().map(Bytes::len).sum();
        res.bytes = (bytes + ENTRY_OVERHEAD * positions.len()) as i64;
        usage.reserved_bytes.fetch_add(res.bytes, Relaxed);
        let mut evicted = 0;
        while usage.bytes.load(Relaxed) + usage.reserved_bytes.load(Relaxed) > mem_limit as i64 {
            if policy == Eviction::NoEviction
                || evicted >= MAX_EVICTIONS
                || !t.data.evict_one(policy, EVICTION_SAMPLES, now)
            {
                t.rejections.count(Resource::Memory);
                return Err(CmdError::err(format!(
                    "OOM command not allowed when used memory > 'maxmemory' for tenant '{}'",
                    t.id
                )));
            }
            evicted += 1;
        }
    }
    Ok(Some(res))
}
