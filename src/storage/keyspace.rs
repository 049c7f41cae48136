//! A keyspace: one logical database of one tenant, sharded, with its accounting inside.
//!
//! Each shard is an insertion-ordered hash map (`IndexMap`): O(1) lookup like any hash map, plus
//! O(1) access by position, which is what random sampling (RANDOMKEY, eviction) and cursors
//! (SCAN, the active expiry sweep) need. KeyEvent is `swap_remove` (the last entry fills the hole),
//! so cursors walk positions *downward*: an entry only ever moves to a lower position, from above
//! the cursor, so every entry present for a whole SCAN is returned at least once, as Redis promises.
//!
//! Locks are `parking_lot::Mutex`es held only inside these methods, never across `.await`.
//! Every insert, overwrite, delete, expiry and flush adjusts the shard's exact counters and the
//! keyspace's and tenant's atomic totals in the same place, so nobody outside storage reports deltas.

use super::value::{entry_size, full_capacity, table_size, Entry, Key, Value};
use super::watch::Watchers;
use super::{Events, KeyEvent};
use indexmap::map::RawEntryApiV1;
use parking_lot::{Mutex, MutexGuard};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::sync::Arc;

type Hasher = foldhash::fast::RandomState;
type Map = indexmap::IndexMap<Key, Entry, Hasher>;

/// Shards per keyspace. A power of two, so the shard is a few bits of the hash.
pub const SHARDS: usize = 16;
/// Most keys `Keyspace::warm` takes at once.
pub const WARM_MAX: usize = 32;
const SHARD_SHIFT: u32 = 40;

/// Totals a tenant's keyspaces roll up into (what quotas will read).
#[derive(Debug, Default)]
pub struct Usage {
    pub bytes: AtomicI64,
    pub keys: AtomicI64,
    /// Keys and bytes promised to commands in flight (quota reservations): limits compare
    /// against used + reserved, so concurrent writers cannot together pass a limit.
    pub reserved_keys: AtomicI64,
    pub reserved_bytes: AtomicI64,
    /// Keys removed by eviction.
    pub evicted: std::sync::atomic::AtomicU64,
    /// Every store's bytes together, which this store's changes also feed (the server-wide
    /// `maxmemory` compares with it), and this store's stripe of it.
    pub server: Arc<super::ServerBytes>,
    pub stripe: usize,
    /// Blocked clients of this store woken and not yet run.
    pub handoffs: Arc<super::watch::Handoffs>,
}

/// Which keys eviction may pick, and how it ranks the sampled ones (Redis's policies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Eviction {
    NoEviction = 0,
    AllKeysLru,
    AllKeysLfu,
    AllKeysRandom,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
}

impl Eviction {
    pub fn parse(name: &str) -> Eviction {
        match name {
            "allkeys-lru" => Eviction::AllKeysLru,
            "allkeys-lfu" => Eviction::AllKeysLfu,
            "allkeys-random" => Eviction::AllKeysRandom,
            "volatile-lru" => Eviction::VolatileLru,
            "volatile-lfu" => Eviction::VolatileLfu,
            "volatile-random" => Eviction::VolatileRandom,
            "volatile-ttl" => Eviction::VolatileTtl,
            _ => Eviction::NoEviction,
        }
    }

    fn volatile_only(self) -> bool {
        matches!(
            self,
            Eviction::VolatileLru
                | Eviction::VolatileLfu
                | Eviction::VolatileRandom
                | Eviction::VolatileTtl
        )
    }

    /// The sampled entry's rank: the highest is evicted first.
    fn score(self, e: &Entry, now: u64) -> u64 {
        match self {
            Eviction::AllKeysLru | Eviction::VolatileLru => idle_seconds(e, now) as u64,
            Eviction::AllKeysLfu | Eviction::VolatileLfu => 255 - lfu_counter(e, now) as u64,
            Eviction::VolatileTtl => u64::MAX - e.expire_at,
            _ => fastrand::u64(..),
        }
    }
}

#[derive(Default)]
struct Shard {
    map: Map,
    bytes: i64,
    /// The part of `bytes` that is the map's own table, by its real capacity.
    table: i64,
    volatile: i64,
    /// Position below which the active expiry sweep continues (it walks downward).
    expire_cursor: usize,
}

pub struct Keyspace {
    /// The logical database index (`SELECT n`), also the lock order between keyspaces.
    pub index: usize,
    shards: Box<[Mutex<Shard>]>,
    hasher: Hasher,
    keys: AtomicI64,
    bytes: AtomicI64,
    volatile: AtomicI64,
    /// Keys reclaimed by expiry (lazily or actively), for INFO's `expired_keys`.
    expired: std::sync::atomic::AtomicU64,
    /// Estimated average remaining TTL in ms of keys with one (INFO keyspace `avg_ttl`),
    /// sampled by the active expiry sweep and smoothed as Redis does.
    avg_ttl: std::sync::atomic::AtomicU64,
    usage: Arc<Usage>,
    /// Connections watching (WATCH) or waiting on (blocking commands) this keyspace's keys.
    pub watchers: Watchers,
    /// Where keys this keyspace removes on its own (expiry, eviction) are reported.
    events: Events,
}

/// Changes to a keyspace's totals. Shard counters are exact and updated under the shard lock
/// as each change happens; the shared atomic totals (keyspace and tenant) receive the sum once
/// per command, because four atomic adds per key made multi-key writes bounce cache lines
/// between worker threads.
#[derive(Default, Debug)]
struct Delta {
    /// Keys a transaction changed while someone watched this keyspace: touched once each when
    /// it ends, so one command wakes one blocked client per key, however many steps it took.
    touched: Vec<Box<[u8]>>,
    keys: i64,
    bytes: i64,
    volatile: i64,
    expired: u64,
}

impl Delta {
    fn account(&mut self, shard: &mut Shard, keys: i64, bytes: i64, volatile: i64) {
        shard.bytes += bytes;
        shard.volatile += volatile;
        self.keys += keys;
        self.bytes += bytes;
        self.volatile += volatile;
    }
}

/// Removes the entry at `idx` (the last entry takes its place), accounts it, and touches its
/// key for watchers: at once with `now`, else when the transaction ends. A removal storage
/// makes on its own (`why`) is also reported for keyspace notifications.
fn remove_at(
    shard: &mut Shard,
    idx: usize,
    d: &mut Delta,
    ks: &Keyspace,
    now: bool,
    why: Option<KeyEvent>,
) -> Entry {
    let (k, e) = shard.map.swap_remove_index(idx).expect("index in range");
    let vol = if e.expire_at != 0 { -1 } else { 0 };
    d.account(shard, -1, -(entry_size(&k, &e.value) as i64), vol);
    if now {
        ks.watchers.touch(k.as_bytes());
    } else if ks.watchers.active() {
        d.touched.push(k.as_bytes().into());
    }
    if let Some(why) = why {
        ks.events.report(ks.index, why, k.as_bytes());
    }
    e
}

/// Brings the shard's accounted table size up to date with its real capacity after changes,
/// first shrinking a table that removals left mostly empty (below 1/8 full, to about half
/// full, as Redis resizes its dicts; an empty one is freed), so deleted keys give their memory
/// back. Shrinking keeps the entries' order, so SCAN cursors stay valid. A table of a few
/// slots goes down to what its entries need, as one filled by inserts alone would be: without
/// it, what a keyspace emptied down to a key or two keeps would depend on the order of the
/// deletes (a table of 7 slots for one key, or of 3).
fn settle_table(shard: &mut Shard, d: &mut Delta) {
    const SMALL: usize = 7;
    let (len, cap) = (shard.map.len(), shard.map.capacity());
    if cap > 0 && len * 8 < cap {
        shard.map.shrink_to(full_capacity(len * 2));
    }
    let cap = shard.map.capacity();
    if cap <= SMALL && cap > full_capacity(len) {
        shard.map.shrink_to(full_capacity(len));
    }
    let table = table_size(shard.map.capacity()) as i64;
    if table != shard.table {
        d.account(shard, 0, table - shard.table, 0);
        shard.table = table;
    }
}

/// Data removed by a flush, not yet freed.
pub struct Flushed {
    maps: Vec<Map>,
    keys: usize,
}

impl Flushed {
    pub fn keys(&self) -> usize {
        self.keys
    }

    /// Frees the data now.
    pub fn free(self) {
        drop(self.maps);
    }
}

/// Where a key lives, computed once per operation.
#[derive(Clone, Copy)]
struct Loc {
    shard: usize,
    hash: u64,
}

fn is_expired(e: &Entry, now: u64) -> bool {
    e.expire_at != 0 && e.expire_at <= now
}

/// A keyspace freed with data still in it (a deleted tenant's store that a write reached
/// after its flush) takes its bytes out of the server total, which outlives it.
impl Drop for Keyspace {
    fn drop(&mut self) {
        let bytes = self.bytes.load(Relaxed);
        if bytes != 0 {
            self.usage.server.add(self.usage.stripe, -bytes);
        }
    }
}

/// Cursor layout for SCAN: `(shard + 1) << 40 | position`; 0 starts at shard 0.
const CURSOR_POS_BITS: u32 = 40;
const CURSOR_TOP: u64 = (1 << CURSOR_POS_BITS) - 1;

impl Keyspace {
    pub fn new(index: usize, usage: Arc<Usage>, events: Events) -> Keyspace {
        let hasher = Hasher::default();
        Keyspace {
            index,
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        map: Map::with_hasher(hasher),
                        ..Shard::default()
                    })
                })
                .collect(),
            hasher,
            keys: AtomicI64::new(0),
            bytes: AtomicI64::new(0),
            volatile: AtomicI64::new(0),
            expired: Default::default(),
            avg_ttl: Default::default(),
            watchers: Watchers::new(usage.handoffs.clone()),
            usage,
            events,
        }
    }

    /// The key's hash (the same one its shard's map computes) and its shard.
    fn locate(&self, key: &[u8]) -> Loc {
        let hash = self.hasher.hash_one(key);
        // Middle bits of the hash: the shard's own table uses the low bits for the bucket and
        // the top 7 for its control tags, so taking either here would leave every key of a
        // shard with nearly the same tag (measured: 20% of SET time in probing).
        Loc {
            shard: (hash >> SHARD_SHIFT) as usize & (SHARDS - 1),
            hash,
        }
    }

    fn shard_of(&self, key: &[u8]) -> usize {
        self.locate(key).shard
    }

    /// Keys in this keyspace (expired keys not yet reclaimed included, as Redis's DBSIZE).
    pub fn len(&self) -> usize {
        self.keys.load(Relaxed).max(0) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keys with a TTL.
    pub fn volatile_len(&self) -> usize {
        self.volatile.load(Relaxed).max(0) as usize
    }

    /// Accounted bytes (see `value::ENTRY_OVERHEAD` for the model).
    pub fn bytes(&self) -> usize {
        self.bytes.load(Relaxed).max(0) as usize
    }

    /// Estimated average TTL (ms) of the keys that have one; 0 when none do.
    pub fn avg_ttl(&self) -> u64 {
        if self.volatile_len() == 0 {
            0
        } else {
            self.avg_ttl.load(Relaxed)
        }
    }

    /// Keys this keyspace reclaimed because their TTL passed.
    pub fn expired_count(&self) -> u64 {
        self.expired.load(Relaxed)
    }

    /// Publishes accumulated changes to the keyspace's and tenant's shared totals.
    fn publish(&self, d: &Delta) {
        if d.keys != 0 {
            self.keys.fetch_add(d.keys, Relaxed);
            self.usage.keys.fetch_add(d.keys, Relaxed);
        }
        if d.bytes != 0 {
            self.bytes.fetch_add(d.bytes, Relaxed);
            self.usage.bytes.fetch_add(d.bytes, Relaxed);
            self.usage.server.add(self.usage.stripe, d.bytes);
        }
        if d.volatile != 0 {
            self.volatile.fetch_add(d.volatile, Relaxed);
        }
        if d.expired != 0 {
            self.expired.fetch_add(d.expired, Relaxed);
        }
    }

    /// Locks the shards `want` names, in ascending order, so that two holders of several
    /// shards can never deadlock.
    fn lock_shards(&self, want: &[bool; SHARDS]) -> [Option<MutexGuard<'_, Shard>>; SHARDS] {
        let mut guards: [Option<MutexGuard<'_, Shard>>; SHARDS] = Default::default();
        for (i, w) in want.iter().enumerate() {
            if *w {
                guards[i] = Some(self.shards[i].lock());
            }
        }
        guards
    }

    /// Opens a transaction over the shards holding `keys`, locked in ascending shard order so
    /// concurrent multi-key commands cannot deadlock.
    pub fn txn<'a, K: AsRef<[u8]>>(
        &'a self,
        now: u64,
        keys: impl IntoIterator<Item = K>,
    ) -> Txn<'a> {
        let mut want = [false; SHARDS];
        let (mut wanted, mut last) = (0, 0);
        for k in keys {
            let i = self.shard_of(k.as_ref());
            if !want[i] {
                want[i] = true;
                wanted += 1;
                last = i;
            }
        }
        let guards = if wanted == 1 {
            Guards::One(last, self.shards[last].lock())
        } else {
            Guards::Many(self.lock_shards(&want))
        };
        Txn {
            ks: self,
            guards,
            now,
            delta: Delta::default(),
        }
    }

    /// Brings the table slots and entries of `keys` into the cache ahead of the commands that
    /// will use them. A pipelined batch's keys are independent, so their cache misses overlap
    /// here instead of being paid one after another, command by command. Changes nothing.
    pub fn warm(&self, keys: &[&[u8]]) {
        let mut locs = [Loc { shard: 0, hash: 0 }; WARM_MAX];
        let mut want = [false; SHARDS];
        for (loc, key) in locs.iter_mut().zip(keys) {
            *loc = self.locate(key);
            want[loc.shard] = true;
        }
        // Every shard locked first: a lock per lookup would order each lookup's loads after
        // the previous one's, which is what this is here to avoid.
        let guards = self.lock_shards(&want);
        let mut sum = 0u64;
        for (loc, key) in locs.iter().zip(keys) {
            let shard = guards[loc.shard].as_ref().expect("locked above");
            if let Some((k, e)) = shard
                .map
                .raw_entry_v1()
                .from_hash(loc.hash, |k| k.as_bytes() == *key)
            {
                sum = sum.wrapping_add(e.expire_at) ^ k.as_bytes().len() as u64;
            }
        }
        std::hint::black_box(sum);
    }

    /// Removes every key; returns the old data so the caller decides where it is freed
    /// (`storage::release`).
    pub fn flush(&self) -> Flushed {
        let mut old = Vec::with_capacity(SHARDS);
        let mut keys = 0;
        for m in self.shards.iter() {
            let mut shard = m.lock();
            let map = std::mem::replace(&mut shard.map, Map::with_hasher(self.hasher));
            let (n, bytes, vol) = (map.len() as i64, shard.bytes, shard.volatile);
            shard.expire_cursor = 0;
            shard.table = 0;
            let mut d = Delta::default();
            d.account(&mut shard, -n, -bytes, -vol);
            self.publish(&d);
            keys += map.len();
            old.push(map);
        }
        // Watchers of keys that existed learn of it (Redis's `touchAllWatchedKeysInDb`).
        self.watchers
            .touch_where(|k| old[self.shard_of(k)].contains_key(k));
        Flushed { maps: old, keys }
    }

    /// Calls `f` for every live key (KEYS, and whole-keyspace reads), shard by shard.
    pub fn for_each_key(&self, now: u64, mut f: impl FnMut(&[u8], &Entry)) {
        for m in self.shards.iter() {
            let shard = m.lock();
            for (k, e) in shard.map.iter() {
                if !is_expired(e, now) {
                    f(k.as_bytes(), e);
                }
            }
        }
    }

    /// One SCAN step: visits about `count` entries from `cursor`, returning the next cursor
    /// (0 when done) and the keys `keep` accepts.
    pub fn scan(
        &self,
        cursor: u64,
        count: usize,
        now: u64,
        mut keep: impl FnMut(&[u8], &Entry) -> bool,
    ) -> (u64, Vec<bytes::Bytes>) {
        // Any number is a valid cursor (clients may send one we never issued): a zero shard
        // field means shard 0, and out-of-range shards end the scan.
        let (mut shard_idx, mut pos) = if cursor == 0 {
            (0usize, CURSOR_TOP)
        } else {
            (
                ((cursor >> CURSOR_POS_BITS) as usize).saturating_sub(1),
                cursor & CURSOR_TOP,
            )
        };
        let mut out = Vec::new();
        let mut visited = 0usize;
        while shard_idx < SHARDS {
            let shard = self.shards[shard_idx].lock();
            let mut p = (pos as usize).min(shard.map.len());
            while p > 0 && visited < count {
                p -= 1;
                visited += 1;
                let (k, e) = shard.map.get_index(p).expect("position below len");
                if !is_expired(e, now) && keep(k.as_bytes(), e) {
                    out.push(bytes::Bytes::copy_from_slice(k.as_bytes()));
                }
            }
            drop(shard);
            if p > 0 {
                return ((shard_idx as u64 + 1) << CURSOR_POS_BITS | p as u64, out);
            }
            shard_idx += 1;
            pos = CURSOR_TOP;
            if visited >= count {
                if shard_idx >= SHARDS {
                    break;
                }
                return ((shard_idx as u64 + 1) << CURSOR_POS_BITS | CURSOR_TOP, out);
            }
        }
        (0, out)
    }

    /// Evicts one key chosen by `policy` from `samples` random entries of a random non-empty
    /// shard (Redis's approximated LRU/LFU). Returns false when nothing is evictable.
    pub fn evict_one(&self, policy: Eviction, samples: usize, now: u64) -> bool {
        if policy == Eviction::NoEviction
            || self.is_empty()
            || (policy.volatile_only() && self.volatile_len() == 0)
        {
            return false;
        }
        let start = fastrand::usize(..SHARDS);
        for i in 0..SHARDS {
            let mut shard = self.shards[(start + i) % SHARDS].lock();
            let n = shard.map.len();
            if n == 0 || (policy.volatile_only() && shard.volatile == 0) {
                continue;
            }
            let mut best: Option<(u64, usize)> = None;
            // Volatile policies may need more draws to find keys with a TTL.
            for _ in 0..samples.max(1) * if policy.volatile_only() { 4 } else { 1 } {
                let idx = fastrand::usize(..n);
                let e = &shard.map[idx];
                if policy.volatile_only() && e.expire_at == 0 {
                    continue;
                }
                let score = policy.score(e, now);
                if best.is_none_or(|(s, _)| score > s) {
                    best = Some((score, idx));
                }
            }
            let Some((_, idx)) = best else {
                continue;
            };
            let mut d = Delta::default();
            remove_at(&mut shard, idx, &mut d, self, true, Some(KeyEvent::Evicted));
            settle_table(&mut shard, &mut d);
            drop(shard);
            self.publish(&d);
            self.usage.evicted.fetch_add(1, Relaxed);
            return true;
        }
        false
    }

    /// A uniformly random live key, or None when empty. Expired keys met on the way are
    /// reclaimed, as Redis's RANDOMKEY does.
    pub fn random_key(&self, now: u64) -> Option<bytes::Bytes> {
        for _ in 0..100 {
            let total = self.len();
            if total == 0 {
                return None;
            }
            let mut r = fastrand::usize(..total);
            for m in self.shards.iter() {
                let mut shard = m.lock();
                let n = shard.map.len();
                if r >= n {
                    r -= n;
                    continue;
                }
                let (k, e) = shard.map.get_index(r).expect("index below len");
                if !is_expired(e, now) {
                    return Some(bytes::Bytes::copy_from_slice(k.as_bytes()));
                }
                let mut d = Delta {
                    expired: 1,
                    ..Delta::default()
                };
                remove_at(&mut shard, r, &mut d, self, true, Some(KeyEvent::Expired));
                settle_table(&mut shard, &mut d);
                self.publish(&d);
                break;
            }
        }
        None
    }

    /// One step of active expiry: sweeps up to `budget` entries across the shards that hold
    /// keys with a TTL, reclaiming expired ones. Returns (checked, reclaimed).
    pub fn active_expire(&self, now: u64, budget: usize) -> (usize, usize) {
        let (mut checked, mut reclaimed) = (0, 0);
        let (mut ttl_sum, mut ttl_n) = (0u64, 0u64);
        let mut d = Delta::default();
        let per_shard = (budget / SHARDS).max(16);
        // Expired keys are reported after each shard's lock is released: this sweep serves
        // every tenant, and a tenant's subscribers (patterns to match) must not lengthen the
        // time a shard stays locked.
        let report = self.events.wants(KeyEvent::Expired);
        let mut gone: Vec<Box<[u8]>> = Vec::new();
        for m in self.shards.iter() {
            let mut shard = m.lock();
            if shard.volatile == 0 {
                continue;
            }
            let mut p = shard.expire_cursor.min(shard.map.len());
            if p == 0 {
                p = shard.map.len();
            }
            let mut steps = 0;
            while p > 0 && steps < per_shard {
                p -= 1;
                steps += 1;
                let at = shard.map[p].expire_at;
                if at != 0 && at <= now {
                    if report {
                        gone.push(
                            shard
                                .map
                                .get_index(p)
                                .expect("below len")
                                .0
                                .as_bytes()
                                .into(),
                        );
                    }
                    remove_at(&mut shard, p, &mut d, self, true, None);
                    reclaimed += 1;
                } else if at != 0 {
                    ttl_sum = ttl_sum.saturating_add(at - now);
                    ttl_n += 1;
                }
            }
            shard.expire_cursor = p;
            settle_table(&mut shard, &mut d);
            checked += steps;
            drop(shard);
            for k in gone.drain(..) {
                self.events.report(self.index, KeyEvent::Expired, &k);
            }
        }
        d.expired = reclaimed as u64;
        self.publish(&d);
        if let Some(sample) = ttl_sum.checked_div(ttl_n) {
            // Redis's smoothing: the new sample weighs 2%, unless there is no estimate yet.
            let old = self.avg_ttl.load(Relaxed);
            let avg = if old == 0 {
                sample
            } else {
                old / 50 * 49 + sample / 50
            };
            self.avg_ttl.store(avg, Relaxed);
        }
        (checked, reclaimed)
    }
}

/// Locked shards of one keyspace for the duration of one command (or one atomic unit).
/// All reads and writes of keys go through here, so expiry and accounting are never skipped.
pub struct Txn<'a> {
    ks: &'a Keyspace,
    guards: Guards<'a>,
    pub now: u64,
    delta: Delta,
}

/// The shards a transaction holds. Most commands name one key, or keys of one shard: for
/// them one guard, not an array of sixteen to fill, walk and drop (callgrind, SET -P 16: 220
/// of ~4100 instructions per command went to the array).
enum Guards<'a> {
    One(usize, MutexGuard<'a, Shard>),
    Many([Option<MutexGuard<'a, Shard>>; SHARDS]),
}

impl<'a> Guards<'a> {
    fn get_mut(&mut self, i: usize) -> Option<&mut Shard> {
        match self {
            Guards::One(j, g) if *j == i => Some(g),
            Guards::One(..) => None,
            Guards::Many(all) => all[i].as_deref_mut(),
        }
    }

    fn for_each(&mut self, mut f: impl FnMut(&mut Shard)) {
        match self {
            Guards::One(_, g) => f(g),
            Guards::Many(all) => all.iter_mut().flatten().for_each(|g| f(g)),
        }
    }
}

impl Drop for Txn<'_> {
    fn drop(&mut self) {
        // Runs before the guards are released, so totals never lag an unlocked shard.
        let delta = &mut self.delta;
        self.guards.for_each(|shard| settle_table(shard, delta));
        self.ks.publish(&self.delta);
        let mut touched = std::mem::take(&mut self.delta.touched);
        touched.sort_unstable();
        touched.dedup();
        for k in touched {
            self.ks.watchers.touch(&k);
        }
    }
}

impl<'a> Txn<'a> {
    fn shard_at(&mut self, i: usize) -> &mut Shard {
        self.parts(i).0
    }

    /// A locked shard and the transaction's pending totals, borrowed together.
    /// Records a change to `key` for watchers (see `Delta::touched`).
    fn touch(&mut self, key: &[u8]) {
        if self.ks.watchers.active() {
            self.delta.touched.push(key.into());
        }
    }

    fn parts(&mut self, i: usize) -> (&mut Shard, &mut Delta) {
        let shard = self
            .guards
            .get_mut(i)
            .expect("command touched a key outside its declared key set");
        (shard, &mut self.delta)
    }

    /// One hash and one probe: the key's shard and hash, and its position if it is live.
    /// An expired key found on the way is reclaimed (lazy expiry).
    fn find(&mut self, key: &[u8]) -> (Loc, Option<usize>) {
        let now = self.now;
        let ks = self.ks;
        let loc = ks.locate(key);
        let (shard, delta) = self.parts(loc.shard);
        let idx = shard
            .map
            .raw_entry_v1()
            .index_from_hash(loc.hash, |k| k.as_bytes() == key);
        match idx {
            Some(i) if is_expired(&shard.map[i], now) => {
                remove_at(shard, i, delta, ks, false, Some(KeyEvent::Expired));
                delta.expired += 1;
                (loc, None)
            }
            other => (loc, other),
        }
    }

    fn entry_at(&mut self, loc: Loc, idx: usize) -> &mut Entry {
        &mut self.shard_at(loc.shard).map[idx]
    }

    /// Reads a key, updating its access clock (Redis's `lookupKeyRead`).
    pub fn get(&mut self, key: &[u8]) -> Option<&Entry> {
        let (loc, idx) = self.find(key);
        let now = self.now;
        let e = self.entry_at(loc, idx?);
        touch(e, now);
        Some(e)
    }

    /// Reads a key without touching its access clock (TTL, TYPE, OBJECT).
    pub fn peek(&mut self, key: &[u8]) -> Option<&Entry> {
        let (loc, idx) = self.find(key);
        Some(self.entry_at(loc, idx?))
    }

    pub fn exists(&mut self, key: &[u8]) -> bool {
        self.find(key).1.is_some()
    }

    /// Sets a key's value and expiry (0 = none), replacing any previous value, in one probe.
    /// Returns the previous live entry.
    pub fn set(&mut self, key: &[u8], value: Value, expire_at: u64) -> Option<Entry> {
        use indexmap::map::raw_entry_v1::RawEntryMut;
        let now = self.now;
        let ks = self.ks;
        let loc = ks.locate(key);
        self.touch(key);
        let (shard, delta) = self.parts(loc.shard);
        let new_entry = Entry {
            value,
            expire_at,
            access: access_clock(now),
        };
        let new_vol = (expire_at != 0) as i64;
        match shard
            .map
            .raw_entry_mut_v1()
            .from_key_hashed_nocheck(loc.hash, key)
        {
            RawEntryMut::Occupied(mut o) => {
                let new_size = entry_size(o.key(), &new_entry.value) as i64;
                let old_size = entry_size(o.key(), &o.get().value) as i64;
                let old = o.insert(new_entry);
                let vol = new_vol - (old.expire_at != 0) as i64;
                delta.account(shard, 0, new_size - old_size, vol);
                if is_expired(&old, now) {
                    // Overwriting a key that had already expired: it counts as reclaimed,
                    // and is reported before the write's own event, as Redis's lookup does.
                    delta.expired += 1;
                    ks.events.report(ks.index, KeyEvent::Expired, key);
                    return None;
                }
                Some(old)
            }
            RawEntryMut::Vacant(v) => {
                let k = Key::new(key);
                let size = entry_size(&k, &new_entry.value) as i64;
                v.insert_hashed_nocheck(loc.hash, k, new_entry);
                delta.account(shard, 1, size, new_vol);
                if ks.events.wants(KeyEvent::Created) {
                    ks.events.report(ks.index, KeyEvent::Created, key);
                }
                None
            }
        }
    }

    /// Mutates a live key's value in place and re-accounts its size. None when missing.
    pub fn update<R>(&mut self, key: &[u8], f: impl FnOnce(&mut Value) -> R) -> Option<R> {
        let (loc, idx) = self.find(key);
        Some(self.update_at(loc, idx?, f))
    }

    fn update_at<R>(&mut self, loc: Loc, idx: usize, f: impl FnOnce(&mut Value) -> R) -> R {
        let now = self.now;
        let ks = self.ks;
        let (shard, delta) = self.parts(loc.shard);
        let (k, e) = shard.map.get_index_mut(idx).expect("live index");
        if ks.watchers.active() {
            delta.touched.push(k.as_bytes().into());
        }
        let before = entry_size(k, &e.value) as i64;
        let r = f(&mut e.value);
        touch(e, now);
        let after = entry_size(k, &e.value) as i64;
        delta.account(shard, 0, after - before, 0);
        r
    }

    /// Read-modify-write of one key with a single lookup (INCR and friends): `f` sees the
    /// live value, or None, and returns its result plus the value to store. An existing key
    /// keeps its TTL; a missing one is created without.
    pub fn upsert<R, E>(
        &mut self,
        key: &[u8],
        f: impl FnOnce(Option<&Value>) -> Result<(R, Value), E>,
    ) -> Result<R, E> {
        let (loc, idx) = self.find(key);
        match idx {
            Some(idx) => {
                let (r, new) = f(Some(&self.entry_at(loc, idx).value))?;
                self.update_at(loc, idx, |v| *v = new);
                Ok(r)
            }
            None => {
                let (r, new) = f(None)?;
                self.set(key, new, 0);
                Ok(r)
            }
        }
    }

    /// Writes a collection in place (LPUSH, HSET, SREM, ZADD, ...): `f` gets the live value, or
    /// the one `create` makes when the key is missing (None from `create` leaves the keyspace
    /// untouched and returns None). The size is re-accounted, and a collection `f` leaves empty
    /// is deleted, as Redis never keeps an empty collection. An existing key keeps its TTL.
    pub fn write<R>(
        &mut self,
        key: &[u8],
        create: impl FnOnce() -> Option<Value>,
        f: impl FnOnce(&mut Value) -> R,
    ) -> Option<R> {
        let found = self.find(key);
        self.write_found(key, found, create, f)
    }

    /// `write` after the key's lookup (and lazy expiry) has been done.
    fn write_found<R>(
        &mut self,
        key: &[u8],
        found: (Loc, Option<usize>),
        create: impl FnOnce() -> Option<Value>,
        f: impl FnOnce(&mut Value) -> R,
    ) -> Option<R> {
        let (loc, idx) = match found {
            (loc, Some(idx)) => (loc, idx),
            (_, None) => {
                self.set(key, create()?, 0);
                let (loc, idx) = self.find(key);
                (loc, idx.expect("just inserted"))
            }
        };
        let r = self.update_at(loc, idx, f);
        let ks = self.ks;
        let (shard, delta) = self.parts(loc.shard);
        if shard.map[idx].value.is_empty_collection() {
            remove_at(shard, idx, delta, ks, false, None);
        }
        Some(r)
    }

    /// `write` for commands that may change nothing (SADD of present members, SREM of absent
    /// ones) or fail on the value's type: the key's change signal is kept only when `changed`
    /// says the result changed it. Redis signals only modified keys, so WATCH and blocked
    /// clients must not hear of a no-op or a WRONGTYPE error.
    pub fn write_if<R>(
        &mut self,
        key: &[u8],
        create: impl FnOnce() -> Option<Value>,
        f: impl FnOnce(&mut Value) -> R,
        changed: impl FnOnce(&R) -> bool,
    ) -> Option<R> {
        // The lookup first: a lazy expiry it performs is a change watchers must hear of,
        // whatever the write then does.
        let found = self.find(key);
        let mark = self.delta.touched.len();
        let r = self.write_found(key, found, create, f)?;
        if !changed(&r) {
            self.delta.touched.truncate(mark);
        }
        Some(r)
    }

    /// Deletes a key; returns its entry if it was live.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let (loc, idx) = self.find(key);
        let ks = self.ks;
        let (shard, delta) = self.parts(loc.shard);
        Some(remove_at(shard, idx?, delta, ks, false, None))
    }

    /// Sets (or with 0 clears) a live key's expiry. False when the key is missing.
    pub fn set_expire(&mut self, key: &[u8], expire_at: u64) -> bool {
        let (loc, Some(idx)) = self.find(key) else {
            return false;
        };
        self.touch(key);
        let (shard, delta) = self.parts(loc.shard);
        let e = &mut shard.map[idx];
        let vol = (expire_at != 0) as i64 - (e.expire_at != 0) as i64;
        e.expire_at = expire_at;
        delta.account(shard, 0, 0, vol);
        true
    }

    /// Backdates a key's last access (RESTORE IDLETIME).
    pub fn set_idle(&mut self, key: &[u8], idle_secs: u64) {
        let now = self.now.saturating_sub(idle_secs.saturating_mul(1000));
        if let (loc, Some(idx)) = self.find(key) {
            let e = self.entry_at(loc, idx);
            e.access = (clock_secs(now) << 8) | (e.access & 0xff);
        }
    }

    /// Sets a key's LFU counter (RESTORE FREQ).
    pub fn set_lfu(&mut self, key: &[u8], counter: u8) {
        if let (loc, Some(idx)) = self.find(key) {
            let e = self.entry_at(loc, idx);
            e.access = (e.access & !0xff) | counter as u32;
        }
    }
}

// The per-key access word packs Redis's two eviction clocks, so both OBJECT IDLETIME and
// OBJECT FREQ (and LRU or LFU eviction) work whatever the policy: the top 24 bits are the last
// access time in seconds (wrapping after 194 days, like Redis's LRU clock), the low 8 bits the
// logarithmic LFU counter, decayed by the minutes since that last access.
const LFU_INIT: u32 = 5;
const LFU_LOG_FACTOR: f64 = 10.0;
const CLOCK_MASK: u32 = (1 << 24) - 1;

fn clock_secs(now_ms: u64) -> u32 {
    ((now_ms / 1000) as u32) & CLOCK_MASK
}

/// The access word of a key created now.
pub fn access_clock(now_ms: u64) -> u32 {
    (clock_secs(now_ms) << 8) | LFU_INIT
}

/// Seconds since the key was last accessed.
pub fn idle_seconds(e: &Entry, now_ms: u64) -> u32 {
    clock_secs(now_ms).wrapping_sub(e.access >> 8) & CLOCK_MASK
}

/// The LFU counter after decay (one step per idle minute), as Redis's `LFUDecrAndReturn`.
pub fn lfu_counter(e: &Entry, now_ms: u64) -> u8 {
    let counter = e.access & 0xff;
    let periods = idle_seconds(e, now_ms) / 60;
    counter.saturating_sub(periods) as u8
}

/// Records an access: decays then probabilistically increments the LFU counter (Redis's
/// `LFULogIncr`), and stamps the access time.
fn touch(e: &mut Entry, now_ms: u64) {
    let mut counter = lfu_counter(e, now_ms) as u32;
    if counter < 255 {
        let base = counter.saturating_sub(LFU_INIT) as f64;
        if fastrand::f64() < 1.0 / (base * LFU_LOG_FACTOR + 1.0) {
            counter += 1;
        }
    }
    e.access = (clock_secs(now_ms) << 8) | counter;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::value::Str;

    fn sval(s: &[u8]) -> Value {
        Value::Str(Str::from_slice(s))
    }

    #[test]
    fn accounting_follows_every_mutation() {
        let usage = Arc::new(Usage::default());
        let ks = Keyspace::new(0, usage.clone(), Events::default());
        let mut t = ks.txn(1000, [b"a", b"b"]);
        t.set(b"a", sval(b"1"), 0);
        t.set(b"b", sval(&[b'x'; 100]), 5000);
        drop(t);
        assert_eq!(ks.len(), 2);
        assert_eq!(ks.volatile_len(), 1);
        let big = ks.bytes();
        assert!(big > 100 + table_size(1));
        let mut t = ks.txn(1000, [b"b"]);
        t.update(b"b", |v| *v = sval(b"small"));
        drop(t);
        assert!(ks.bytes() < big);
        // Lazy expiry on access reclaims and re-accounts.
        let mut t = ks.txn(6000, [b"b"]);
        assert!(t.get(b"b").is_none());
        drop(t);
        assert_eq!(ks.len(), 1);
        assert_eq!(ks.volatile_len(), 0);
        assert_eq!(usage.keys.load(Relaxed), 1);
        ks.flush();
        assert_eq!(ks.len(), 0);
        assert_eq!(ks.bytes(), 0);
        assert_eq!(usage.bytes.load(Relaxed), 0);
    }

    /// The accounted total is exactly the keys' data plus every shard table at its real
    /// capacity, and a table emptied by deletes shrinks and gives its bytes back.
    #[test]
    fn tables_are_accounted_by_capacity_and_shrink() {
        let ks = Keyspace::new(0, Arc::default(), Events::default());
        let recount = |ks: &Keyspace| -> usize {
            ks.shards
                .iter()
                .map(|m| {
                    let s = m.lock();
                    table_size(s.map.capacity())
                        + s.map
                            .iter()
                            .map(|(k, e)| entry_size(k, &e.value))
                            .sum::<usize>()
                })
                .sum()
        };
        let keys: Vec<String> = (0..20_000).map(|i| format!("key:{i}")).collect();
        for k in &keys {
            ks.txn(0, [k]).set(k.as_bytes(), sval(b"v"), 0);
        }
        assert_eq!(ks.bytes(), recount(&ks));
        let full = ks.bytes();
        for k in &keys[100..] {
            ks.txn(0, [k]).remove(k.as_bytes());
        }
        assert_eq!(ks.bytes(), recount(&ks));
        assert!(ks.bytes() < full / 20, "{} of {full}", ks.bytes());
        // KeyEvent by eviction and expiry settles tables too.
        while ks.evict_one(Eviction::AllKeysRandom, 5, 0) {}
        assert_eq!(ks.bytes(), recount(&ks));
    }

    /// Memory given back by deletes does not depend on the order they came in: a keyspace
    /// emptied down to a few keys accounts exactly what one that only ever held them does.
    #[test]
    fn a_table_emptied_by_deletes_ends_as_small_as_a_fresh_one() {
        for survivors in 1..=3 {
            for stride in [1, 7, 500] {
                let ks = Keyspace::new(0, Arc::default(), Events::default());
                let keys: Vec<String> = (0..5_000).map(|i| format!("key:{i}")).collect();
                for k in &keys {
                    ks.txn(0, [k]).set(k.as_bytes(), sval(b"v"), 0);
                }
                // Removed in batches of `stride`, as a sweep or a DEL of many keys would.
                for batch in keys[survivors..].chunks(stride) {
                    let mut t = ks.txn(0, batch);
                    for k in batch {
                        t.remove(k.as_bytes());
                    }
                }
                // Each shard's table as inserts alone size it for what it holds (the
                // keyspace's hash seed is its own: another keyspace would spread the same keys
                // over other shards).
                let fresh: usize = ks
                    .shards
                    .iter()
                    .map(|m| {
                        let s = m.lock();
                        let mut map = Map::default();
                        for (k, e) in s.map.iter() {
                            map.insert(k.clone(), e.clone());
                        }
                        table_size(map.capacity())
                            + s.map
                                .iter()
                                .map(|(k, e)| entry_size(k, &e.value))
                                .sum::<usize>()
                    })
                    .sum();
                assert_eq!(ks.bytes(), fresh, "{survivors} left, stride {stride}");
            }
        }
    }

    #[test]
    fn scan_returns_every_key_under_deletes() {
        let ks = Keyspace::new(0, Arc::default(), Events::default());
        let keys: Vec<Vec<u8>> = (0..1000).map(|i| format!("k{i}").into_bytes()).collect();
        for k in &keys {
            ks.txn(0, [k]).set(k, sval(b"v"), 0);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            let (next, batch) = ks.scan(cursor, 10, 0, |_, _| true);
            seen.extend(batch.into_iter().map(|b| b.to_vec()));
            // Delete keys with odd numbers as we go; even ones must all be seen.
            let victim = format!("k{}", round * 2 + 1).into_bytes();
            ks.txn(0, [&victim]).remove(&victim);
            round += 1;
            if next == 0 {
                break;
            }
            cursor = next;
        }
        for i in (0..1000).step_by(2) {
            assert!(seen.contains(format!("k{i}").as_bytes()), "missing k{i}");
        }
    }

    #[test]
    fn active_expire_reclaims_without_reads() {
        let ks = Keyspace::new(0, Arc::default(), Events::default());
        for i in 0..5000 {
            let k = format!("k{i}");
            ks.txn(0, [&k]).set(k.as_bytes(), sval(b"v"), 10);
        }
        ks.txn(0, [b"keep"]).set(b"keep", sval(b"v"), 0);
        let mut total = 0;
        for _ in 0..100 {
            total += ks.active_expire(20, 1000).1;
        }
        assert_eq!(total, 5000);
        assert_eq!(ks.len(), 1);
    }
}
