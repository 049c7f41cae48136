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

/// Blocked clients of one store (a tenant's, or the global context's) that a write has handed
/// a key and that have not run yet. Redis serves a blocked client inside the command that fed
/// it, so nothing else can run in between; here the woken client runs in its own task, so
/// while this is non-zero the store's other connections hold their next command back (see
/// `server::connection`). Per store, so one tenant's wake-ups never hold another's clients.
#[derive(Debug, Default)]
pub struct Handoffs(AtomicUsize);

/// Handoffs pending in every store together: an admin in the global context may write a
/// tenant's keys by their global names, so it waits for any store's.
static ANYWHERE: AtomicUsize = AtomicUsize::new(0);

impl Handoffs {
    pub fn pending(&self) -> bool {
        self.0.load(Ordering::Acquire) != 0
    }

    /// Some store has a handoff pending.
    pub fn pending_anywhere() -> bool {
        ANYWHERE.load(Ordering::Acquire) != 0
    }
}

/// One handoff, counted in its store's `Handoffs` until dropped.
struct Handoff(Arc<Handoffs>);

impl Handoff {
    fn new(to: &Arc<Handoffs>) -> Handoff {
        to.0.fetch_add(1, Ordering::AcqRel);
        ANYWHERE.fetch_add(1, Ordering::AcqRel);
        Handoff(to.clone())
    }
}

impl Drop for Handoff {
    fn drop(&mut self) {
        self.0 .0.fetch_sub(1, Ordering::AcqRel);
        ANYWHERE.fetch_sub(1, Ordering::AcqRel);
    }
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
    /// A blocked client's wait (see `park`).
    wait: Mutex<Wait>,
}

#[derive(Default)]
struct Wait {
    /// The client is parked on the signal, ready to run the moment it fires.
    parked: bool,
    /// The wake-up it was handed and has not yet used.
    handoff: Option<Handoff>,
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

    /// Marks a blocked client as parked: ready to run its command again the moment the signal
    /// fires, so a touch hands it the key (`Handoffs`). Set when it blocks.
    pub fn park(&self) {
        self.wait.lock().parked = true;
    }

    /// Ends the park and releases a handoff not yet used: the client's wait ended, or it has
    /// to wait for its peer to read (then it must not hold its store's other clients back).
    pub fn unpark(&self) {
        let handoff = {
            let mut wait = self.wait.lock();
            wait.parked = false;
            wait.handoff.take()
        };
        drop(handoff);
    }

    /// The wake-up handed to this parked client, to drop once it has run its command.
    pub fn take_handoff(&self) -> Option<impl Drop> {
        self.wait.lock().handoff.take()
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
    /// The store's count of blocked clients woken and not yet run.
    handoffs: Arc<Handoffs>,
}

impl Watchers {
    pub fn new(handoffs: Arc<Handoffs>) -> Watchers {
        Watchers {
            handoffs,
            ..Watchers::default()
        }
    }

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
            // longest-waiting blocked client. A blocked client keeps its place until it is
            // served or gives up (one that finds nothing to pop waits on where it was, as in
            // Redis); one already woken, through this key or another, is passed over, so a
            // client blocked on several keys is served once and the key goes to the next.
            list.retain(|w| match w.upgrade() {
                None => false,
                Some(s) if !s.exclusive => {
                    fired.push(s);
                    false
                }
                Some(s) if s.fired() => true,
                Some(s) if !woke_one => {
                    woke_one = true;
                    // Fired now, under the registry's lock, so no other touch wakes it too.
                    s.fired.store(true, Ordering::Release);
                    let mut wait = s.wait.lock();
                    if wait.parked {
                        wait.handoff = Some(Handoff::new(&self.handoffs));
                    }
                    drop(wait);
                    fired.push(s);
                    true
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
                    // Blocked clients all look again, and keep their places.
                    list.retain(|w| match w.upgrade() {
                        None => false,
                        Some(s) => {
                            let keep = s.exclusive;
                            if keep {
                                s.fired.store(true, Ordering::Release);
                            }
                            fired.push(s);
                            keep
                        }
                    });
                    !list.is_empty()
                } else {
                    true
                }
            });
            self.keys.store(map.len(), Ordering::Relaxed);
        }
        for s in fired {
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
    fn a_blocked_client_that_waits_again_keeps_its_place() {
        let w = Watchers::default();
        let (first, second) = (Signal::exclusive(), Signal::exclusive());
        w.register(b"k", &first);
        w.register(b"k", &second);
        w.touch(b"k");
        assert!(first.fired());
        // It found nothing (another type, a flushed key): it waits again, first in line.
        first.reset();
        assert!(!w.register(b"k", &first));
        w.touch_where(|_| true);
        assert!(first.fired() && second.fired());
        first.reset();
        second.reset();
        w.touch(b"k");
        assert!(first.fired() && !second.fired());
    }

    #[test]
    fn a_client_woken_through_one_key_leaves_its_other_keys_to_the_next() {
        let w = Watchers::default();
        let (both, second) = (Signal::exclusive(), Signal::exclusive());
        w.register(b"k1", &both);
        w.register(b"k2", &both);
        w.register(b"k2", &second);
        w.touch(b"k1");
        w.touch(b"k2");
        assert!(both.fired() && second.fired());
    }

    #[test]
    fn only_a_parked_client_is_handed_a_key_until_it_has_run() {
        let handoffs = Arc::new(Handoffs::default());
        let w = Watchers::new(handoffs.clone());
        let (parked, busy) = (Signal::exclusive(), Signal::exclusive());
        w.register(b"p", &parked);
        w.register(b"b", &busy);
        parked.park();
        w.touch(b"b");
        assert!(busy.fired() && !handoffs.pending());
        w.touch(b"p");
        assert!(handoffs.pending());
        drop(parked.take_handoff());
        assert!(!handoffs.pending());
        // A wake-up still unused when the park ends is released with it.
        parked.reset();
        w.touch(b"p");
        assert!(handoffs.pending() && Handoffs::pending_anywhere());
        parked.unpark();
        assert!(!handoffs.pending());
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
