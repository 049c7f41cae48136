//! In-memory storage: every tenant owns a set of keyspaces (one per logical database), each
//! sharded, each accounting its own bytes and keys. Storage knows nothing of RESP or sessions.
//!
//! The global context (server admins, and every connection while tenancy is off) is itself a
//! tenant-shaped store, so tenant binding only changes *which* store a session resolves to.

pub mod dump;
pub mod hash;
pub mod keyspace;
pub mod list;
pub mod set;
pub mod value;
pub mod watch;
pub mod zset;

use keyspace::{Keyspace, Usage};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

/// What happened to a key inside storage that no command's own reply describes: a removal
/// storage made on its own, or a key coming into existence (Redis's `new` event, raised in
/// `dbAdd` whichever command created the key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyEvent {
    Expired,
    Evicted,
    Created,
}

/// Hears of key events (lazy or active expiry, eviction, creation) for keyspace notifications.
/// Storage knows nothing of Pub/Sub: the server installs one listener for every store. Called
/// with the key's shard locked, so it must not touch storage.
pub trait KeyEventListener: Send + Sync {
    fn happened(&self, namespace: &str, db: usize, what: KeyEvent, key: &[u8]);
    /// Whether such events are wanted now (cheap), so storage looks for them only then.
    fn wants(&self, what: KeyEvent) -> bool;
}

/// Where a keyspace reports its key events: the server-wide listener (installed once the
/// server exists, so stores made earlier report too) and the store's namespace.
#[derive(Clone, Default)]
pub struct Events {
    listener: Arc<OnceLock<Arc<dyn KeyEventListener>>>,
    namespace: Arc<str>,
}

impl Events {
    pub fn wants(&self, what: KeyEvent) -> bool {
        self.listener.get().is_some_and(|l| l.wants(what))
    }

    pub fn report(&self, db: usize, what: KeyEvent, key: &[u8]) {
        if let Some(l) = self.listener.get() {
            l.happened(&self.namespace, db, what, key);
        }
    }
}

/// Stripes of [`ServerBytes`]: enough that writers of different tenants rarely share one.
const STRIPES: usize = 16;

/// The bytes of every store together, which the server-wide `maxmemory` compares with.
/// Striped, each store adding to its own stripe, so writers of different tenants do not all
/// bounce one cache line between cores; a reader sums the stripes.
#[derive(Debug, Default)]
pub struct ServerBytes {
    stripes: [Stripe; STRIPES],
}

#[derive(Debug, Default)]
#[repr(align(128))]
struct Stripe(std::sync::atomic::AtomicI64);

impl ServerBytes {
    pub fn add(&self, stripe: usize, n: i64) {
        self.stripes[stripe % STRIPES]
            .0
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn total(&self) -> i64 {
        self.stripes
            .iter()
            .map(|s| s.0.load(std::sync::atomic::Ordering::Relaxed))
            .sum()
    }
}

/// The data of one tenant (or of the global context): its keyspaces, created on first use so
/// an idle tenant costs almost nothing.
pub struct TenantData {
    dbs: Box<[OnceLock<Arc<Keyspace>>]>,
    pub usage: Arc<Usage>,
    /// Makes EXEC atomic for this data's clients, and only theirs: a connection holds it
    /// shared while it runs a batch of commands here, EXEC holds it exclusively. Per batch,
    /// not per command, so pipelines pay for it once.
    pub exec_gate: Arc<parking_lot::RwLock<()>>,
    events: Events,
}

impl TenantData {
    pub fn new(databases: usize, events: Events, server: Arc<ServerBytes>) -> TenantData {
        let stripe = {
            use std::hash::BuildHasher;
            foldhash::fast::FixedState::default().hash_one(&*events.namespace) as usize
        };
        TenantData {
            dbs: (0..databases).map(|_| OnceLock::new()).collect(),
            usage: Arc::new(Usage {
                server,
                stripe,
                ..Usage::default()
            }),
            exec_gate: Arc::default(),
            events,
        }
    }

    pub fn databases(&self) -> usize {
        self.dbs.len()
    }

    /// The keyspace of database `index` (created on first use). Callers validate `index`.
    pub fn db(&self, index: usize) -> &Arc<Keyspace> {
        self.dbs[index].get_or_init(|| {
            Arc::new(Keyspace::new(
                index,
                self.usage.clone(),
                self.events.clone(),
            ))
        })
    }

    /// Database `index` if something has created it (never creates it).
    pub fn db_if_created(&self, index: usize) -> Option<&Arc<Keyspace>> {
        self.dbs.get(index)?.get()
    }

    /// Evicts one key of this tenant by `policy`, from a random non-empty database.
    pub fn evict_one(&self, policy: keyspace::Eviction, samples: usize, now: u64) -> bool {
        let dbs: Vec<&Arc<Keyspace>> = self.existing().filter(|ks| !ks.is_empty()).collect();
        if dbs.is_empty() {
            return false;
        }
        let start = fastrand::usize(..dbs.len());
        (0..dbs.len()).any(|i| dbs[(start + i) % dbs.len()].evict_one(policy, samples, now))
    }

    /// The keyspaces that exist (have been used), with their index.
    pub fn existing(&self) -> impl Iterator<Item = &Arc<Keyspace>> {
        self.dbs.iter().filter_map(|d| d.get())
    }
}

/// All data held by the server: the global context's store and every tenant's.
pub struct Storage {
    pub global: Arc<TenantData>,
    tenants: dashmap::DashMap<String, Arc<TenantData>>,
    databases: usize,
    listener: Arc<OnceLock<Arc<dyn KeyEventListener>>>,
    /// Every store's bytes together.
    pub bytes: Arc<ServerBytes>,
    /// Keys handed to a background thread to free and not yet freed (INFO's
    /// `lazyfree_pending_objects`), and those it has freed (`lazyfreed_objects`).
    pub lazyfree: Arc<LazyFree>,
}

#[derive(Debug, Default)]
pub struct LazyFree {
    pub pending: AtomicU64,
    pub freed: AtomicU64,
}

impl Storage {
    pub fn new(databases: usize) -> Storage {
        let listener: Arc<OnceLock<Arc<dyn KeyEventListener>>> = Arc::default();
        let events = Events {
            listener: listener.clone(),
            namespace: "".into(),
        };
        let bytes = Arc::<ServerBytes>::default();
        Storage {
            global: Arc::new(TenantData::new(databases, events, bytes.clone())),
            tenants: dashmap::DashMap::new(),
            databases,
            listener,
            bytes,
            lazyfree: Arc::default(),
        }
    }

    /// Frees flushed data. With `lazy` (FLUSHDB/FLUSHALL ASYNC, TENANT.DELETE) large data goes
    /// to a background thread so the caller returns at once; small data is freed inline
    /// either way, since a thread per call would let a client spawn threads at will.
    pub fn release(&self, flushed: Vec<keyspace::Flushed>, lazy: bool) {
        const LAZY_THRESHOLD: usize = 10_000;
        let keys: usize = flushed.iter().map(keyspace::Flushed::keys).sum();
        if lazy && keys > LAZY_THRESHOLD {
            let counts = self.lazyfree.clone();
            counts.pending.fetch_add(keys as u64, Relaxed);
            std::thread::spawn(move || {
                flushed.into_iter().for_each(keyspace::Flushed::free);
                counts.pending.fetch_sub(keys as u64, Relaxed);
                counts.freed.fetch_add(keys as u64, Relaxed);
            });
        } else {
            flushed.into_iter().for_each(keyspace::Flushed::free);
        }
    }

    /// Installs the listener every store reports its own removals to (once; later calls are
    /// ignored).
    pub fn set_key_event_listener(&self, l: Arc<dyn KeyEventListener>) {
        let _ = self.listener.set(l);
    }

    /// The store of tenant `id`, created on first use.
    pub fn tenant(&self, id: &str) -> Arc<TenantData> {
        self.tenants
            .entry(id.to_string())
            .or_insert_with(|| {
                let events = Events {
                    listener: self.listener.clone(),
                    namespace: id.into(),
                };
                Arc::new(TenantData::new(self.databases, events, self.bytes.clone()))
            })
            .clone()
    }

    /// Forgets tenant `id`'s store (its data is freed when the last user lets go).
    pub fn drop_tenant(&self, id: &str) {
        self.tenants.remove(id);
    }

    /// Every store, for server-wide work (active expiry, INFO totals).
    pub fn all_tenants(&self) -> Vec<Arc<TenantData>> {
        let mut v = Vec::with_capacity(self.tenants.len() + 1);
        v.push(self.global.clone());
        v.extend(self.tenants.iter().map(|t| t.clone()));
        v
    }

    /// One active-expiry pass over every keyspace that has keys with a TTL, spending at most
    /// `budget` entry checks per keyspace. Returns (checked, reclaimed).
    pub fn active_expire(&self, now: u64, budget: usize) -> (usize, usize) {
        let (mut checked, mut reclaimed) = (0, 0);
        for t in self.all_tenants() {
            for ks in t.existing() {
                if ks.volatile_len() > 0 {
                    let (c, r) = ks.active_expire(now, budget);
                    checked += c;
                    reclaimed += r;
                }
            }
        }
        (checked, reclaimed)
    }
}

impl Storage {
    /// Keys reclaimed by expiry across every keyspace (INFO `expired_keys`).
    pub fn expired_keys(&self) -> u64 {
        self.all_tenants()
            .iter()
            .flat_map(|t| {
                t.existing()
                    .map(|ks| ks.expired_count())
                    .collect::<Vec<_>>()
            })
            .sum()
    }
}

/// Milliseconds since the Unix epoch: the clock for expiry.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use value::{Str, Value};

    /// A store dropped with data in it (a deleted tenant's store reached by a late write)
    /// takes its bytes out of the server total, which outlives it.
    #[test]
    fn a_dropped_store_leaves_the_server_total() {
        let storage = Storage::new(2);
        let data = storage.tenant("t");
        for i in 0..100 {
            let k = format!("key:{i}");
            data.db(1)
                .txn(0, [&k])
                .set(k.as_bytes(), Value::Str(Str::from_slice(&[b'x'; 100])), 0);
        }
        assert!(storage.bytes.total() > 100 * 100);
        storage.drop_tenant("t");
        drop(data);
        assert_eq!(storage.bytes.total(), 0);
    }
}
