//! Connections waiting on keys: WATCH (EXEC must fail once a watched key changed) and blocking
//! commands (BLPOP and friends wake when a key they wait on is written).
//!
//! Each keyspace keeps a registry from key to the signals of the connections interested in it.
//! Every mutation storage makes (writes, deletes, expiry, eviction, flushes) touches its key,
//! which fires and forgets every signal registered for it: a fired signal stays fired, and a
//! connection that wants to keep waiting registers again. With nobody watching, a touch costs
//! one relaxed load of a counter that only WATCH and blocking commands write, so the write
//! path pays nothing for the feature. The registry lives in the keyspace, so one tenant's
//! writes can never fire another tenant's signals.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

thread_local! {
    /// Blocked clients woken by commands run on this thread. A connection that sees this move
    /// across one of its commands (which run, touches included, on one thread without a
    /// pause) has just handed a key to a blocked client, and lets it run before its own next
    /// command: Redis serves blocked clients as soon as the command that fed them ends, so a
    /// pipelined `LPUSH k x; LPOP k` must leave `x` to the client blocked on `k`. Per thread,
    /// so one tenant's wake-ups never make another tenant's connections yield.
    static WAKEUPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// See `WAKEUPS`.
pub fn wakeups() -> u64 {
    WAKEUPS.with(|w| w.get())
}

/// One connection's interest: fired once any key it was registered for is touched.
#[derive(Default)]
pub struct Signal {
    fired: AtomicBool,
    notify: tokio::sync::Notify,
    /// A blocked client's signal: a touch wakes only the longest-waiting exclusive signal of
    /// the key (first come, first served); the woken client's own pop touches the key again
    /// if something is left, which wakes the next. WATCH signals are all fired.
    exclusive: bool,
}

impl Signal {
    pub fn new() -> Arc<Signal> {
        Arc::default()
    }

    /// A signal for a blocked client (see `exclusive`).
    pub fn exclusive() -> Arc<Signal> {
        Arc::new(Signal {
            exclusive: true,
            ..Signal::default()
        })
    }

    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::Acquire)
    }

    /// Re-arms the signal (a blocked connection about to wait again).
    pub fn reset(&self) {
        self.fired.store(false, Ordering::Release);
    }

    pub fn fire(&self) {
        self.fired.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    /// Waits until fired (returns at once if it already was).
    pub async fn wait(&self) {
        while !self.fired() {
            self.notify.notified().await;
        }
    }
}

/// Key → the signals registered for it (weak: a closed connection's drop out by themselves).
type Registry = HashMap<Box<[u8]>, Vec<Weak<Signal>>>;

#[derive(Default)]
pub struct Watchers {
    map: Mutex<Registry>,
    /// Keys in `map`: lets `touch` skip the lock when nobody waits on anything.
    keys: AtomicUsize,
}

impl Watchers {
    /// Someone watches or waits on a key of this keyspace.
    pub fn active(&self) -> bool {
        self.keys.load(Ordering::Relaxed) != 0
    }

    /// Keys some blocked client waits on (INFO's `total_blocking_keys`).
    pub fn blocking_keys(&self) -> usize {
        if !self.active() {
            return 0;
        }
        let map = self.map.lock();
        map.values()
            .filter(|list| {
                list.iter()
                    .any(|w| w.upgrade().is_some_and(|s| s.exclusive))
            })
            .count()
    }

    /// Registers `signal` for `key` until the key is next touched.
    pub fn register(&self, key: &[u8], signal: &Arc<Signal>) -> bool {
        let mut map = self.map.lock();
        let list = map.entry(key.into()).or_default();
        list.retain(|w| w.strong_count() > 0);
        let new = !list
            .iter()
            .any(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(signal)));
        if new {
            list.push(Arc::downgrade(signal));
        }
        self.keys.store(map.len(), Ordering::Relaxed);
        new
    }

    /// Drops `signal`'s registration for `key` (UNWATCH, a blocked connection giving up).
    pub fn unregister(&self, key: &[u8], signal: &Arc<Signal>) {
        let mut map = self.map.lock();
        if let Some(list) = map.get_mut(key) {
            list.retain(|w| w.strong_count() > 0 && !std::ptr::eq(w.as_ptr(), Arc::as_ptr(signal)));
            if list.is_empty() {
                map.remove(key);
            }
        }
        self.keys.store(map.len(), Ordering::Relaxed);
    }

    /// The key changed: fires everyone registered for it.
    pub fn touch(&self, key: &[u8]) {
        if self.keys.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut fired = Vec::new();
        {
            let mut map = self.map.lock();
            let Some(list) = map.get_mut(key) else {
                return;
            };
            let mut woke_one = false;
            // Registration order is arrival order: the first live exclusive signal is the
            // longest-waiting blocked client.
            list.retain(|w| match w.upgrade() {
                None => false,
                Some(s) if !s.exclusive => {
                    fired.push(s);
                    false
                }
                Some(s) if !woke_one => {
                    woke_one = true;
                    WAKEUPS.with(|w| w.set(w.get() + 1));
                    fired.push(s);
                    false
                }
                Some(_) => true,
            });
            if list.is_empty() {
                map.remove(key);
            }
            self.keys.store(map.len(), Ordering::Relaxed);
        }
        for s in fired {
            s.fire();
        }
    }

    /// Fires the registrations of every key `changed` accepts (FLUSHDB: the keys that existed).
    pub fn touch_where(&self, mut changed: impl FnMut(&[u8]) -> bool) {
        if self.keys.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut fired = Vec::new();
        {
            let mut map = self.map.lock();
            map.retain(|k, list| {
                if changed(k) {
                    fired.append(list);
                    false
                } else {
                    true
                }
            });
            self.keys.store(map.len(), Ordering::Relaxed);
        }
        for s in fired.into_iter().filter_map(|w| w.upgrade()) {
            s.fire();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touch_fires_once_and_only_for_its_key() {
        let w = Watchers::default();
        let (a, b) = (Signal::new(), Signal::new());
        w.register(b"k", &a);
        w.register(b"k", &a);
        w.register(b"other", &b);
        w.touch(b"nope");
        assert!(!a.fired() && !b.fired());
        w.touch(b"k");
        assert!(a.fired() && !b.fired());
        // Fired registrations are forgotten: a re-armed signal needs registering again.
        a.reset();
        w.touch(b"k");
        assert!(!a.fired());
        w.unregister(b"other", &b);
        w.touch(b"other");
        assert!(!b.fired());
        assert_eq!(w.keys.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_touch_wakes_only_the_longest_waiting_blocked_client() {
        let w = Watchers::default();
        let (first, second, watcher) = (Signal::exclusive(), Signal::exclusive(), Signal::new());
        w.register(b"k", &first);
        w.register(b"k", &second);
        w.register(b"k", &watcher);
        w.touch(b"k");
        assert!(first.fired() && !second.fired() && watcher.fired());
        w.touch(b"k");
        assert!(second.fired());
    }

    #[test]
    fn touch_where_fires_the_accepted_keys() {
        let w = Watchers::default();
        let (a, b) = (Signal::new(), Signal::new());
        w.register(b"exists", &a);
        w.register(b"missing", &b);
        w.touch_where(|k| k == b"exists");
        assert!(a.fired() && !b.fired());
    }
}
