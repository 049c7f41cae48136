//! Busy polling: while requests keep arriving, the lone worker polls for I/O without sleeping,
//! for a window of up to `[server] busy_poll_us` after the last one, as Seastar's reactor
//! (`--idle-poll-time-us`, 200 µs), Go's scheduler and .NET's thread pool spin before they
//! park and Linux's `net.core.busy_poll` does for sockets.
//!
//! Why: a server that sleeps in `epoll_wait` between requests has to be woken by the client's
//! next write, and the waking is paid by the client: on this machine a remote wake-up (an IPI,
//! and in a VM an exit) on every other request. At `-P 1` the client is the bottleneck, so its
//! cost is the throughput: LRANGE_600 -P 1 woke tenantkv 30 000 times per 60 000 requests
//! against Redis's 7 000 (our server, faster per request, ran dry more often), and ran at
//! 0.85 of Redis. Polling through the gaps takes that cost off the client (docs/benchmarks.md).
//!
//! The price is the worker's core while traffic flows, and the window after it stops; an idle
//! server sleeps as before. The window adapts (`run`): requests more than `busy_poll_us` apart are
//! polled for only a quarter of that, so a lightly loaded server spends little on it. Only the
//! single-worker runtime polls: one spinning task keeps its one worker's I/O driver hot, which on
//! the multi-threaded runtime would hold one of several workers and none of the others.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

pub struct BusyPoll {
    /// The longest window: a gap longer than this is not worth polling through.
    max_window: Duration,
    /// A request arrived since the poller last looked.
    active: AtomicBool,
    /// The poller is asleep, waiting for the next request.
    cold: AtomicBool,
    wake: Notify,
}

impl BusyPoll {
    pub fn new(max_window: Duration) -> BusyPoll {
        BusyPoll {
            max_window,
            active: AtomicBool::new(false),
            cold: AtomicBool::new(false),
            wake: Notify::new(),
        }
    }

    /// Called by a connection for each read: keeps the poller polling, or wakes it. On the one
    /// worker these are plain loads and stores.
    #[inline]
    pub fn activity(&self) {
        if !self.active.load(Relaxed) {
            self.active.store(true, Relaxed);
        }
        if self.cold.load(Relaxed) {
            self.cold.store(false, Relaxed);
            self.wake.notify_one();
        }
    }

    /// Whether the poller is asleep.
    pub fn is_cold(&self) -> bool {
        self.cold.load(Relaxed)
    }

    /// The poller: each yield sends the runtime to poll for I/O without a timeout (a yielded
    /// task is runnable again), so the worker never sleeps while it runs. It sleeps itself
    /// once a whole window has passed without a request.
    ///
    /// The window adapts to the gaps that put it to sleep: one its longest window would have
    /// polled through widens it to cover the like (the client is busy, its requests come in
    /// bursts a little apart: LRANGE_600 at `-P 1` sleeps after 75-250 µs gaps); a longer one
    /// narrows it toward a quarter of the longest (requests are sparse and polling for them
    /// would only burn the core). A lightly loaded server so polls a quarter as long per
    /// request as a fixed longest window would.
    pub async fn run(&self) {
        let min_window = self.max_window / 4;
        let mut window = min_window;
        loop {
            let mut last = Instant::now();
            loop {
                tokio::task::yield_now().await;
                if self.active.swap(false, Relaxed) {
                    last = Instant::now();
                } else if last.elapsed() > window {
                    break;
                }
            }
            self.cold.store(true, Relaxed);
            // A request between the store and the wait leaves a permit: nothing is missed.
            self.wake.notified().await;
            window = next_window(window, last.elapsed(), min_window, self.max_window);
        }
    }
}

/// The window after a sleep that ended `gap` after the last request.
fn next_window(window: Duration, gap: Duration, min: Duration, max: Duration) -> Duration {
    if gap <= max {
        (gap + gap / 4).clamp(window, max)
    } else {
        (window - window / 4).max(min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// The poller must go to sleep when requests stop (an idle server burns no CPU) and wake
    /// with the next one.
    #[test]
    fn polls_while_requests_come_and_sleeps_when_they_stop() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            // Windows of milliseconds, not the microseconds of a real server: a test thread
            // that is preempted for longer than the window would see a sleep it did not earn.
            let bp = Arc::new(BusyPoll::new(Duration::from_millis(40)));
            let poller = bp.clone();
            tokio::spawn(async move { poller.run().await });
            // Requests every 20 µs (well within the shortest window, 10 ms) for 20 ms: the
            // poller never sleeps.
            let until = Instant::now() + Duration::from_millis(20);
            while Instant::now() < until {
                bp.activity();
                let t = Instant::now();
                while t.elapsed() < Duration::from_micros(20) {
                    tokio::task::yield_now().await;
                }
                assert!(!bp.is_cold(), "slept between requests");
            }
            // None for longer than the longest window: asleep.
            tokio::time::sleep(Duration::from_millis(60)).await;
            assert!(bp.is_cold(), "still polling with no requests");
            // The next request wakes it.
            bp.activity();
            assert!(!bp.is_cold());
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(60)).await;
            assert!(bp.is_cold(), "asleep again");
        });
    }

    /// Gaps the longest window would cover widen the window to cover them (never past the
    /// longest); longer ones narrow it, never below a quarter of the longest.
    #[test]
    fn the_window_follows_the_gaps_it_could_cover() {
        let us = Duration::from_micros;
        let (min, max) = (us(50), us(200));
        let next = |w, gap| next_window(w, gap, min, max);
        assert_eq!(next(us(50), us(120)), us(150));
        assert_eq!(next(us(150), us(100)), us(150), "a shorter gap keeps it");
        assert_eq!(next(us(150), us(190)), us(200), "capped");
        let mut w = max;
        for _ in 0..3 {
            w = next(w, us(300));
        }
        assert!(w < us(100) && w > min, "{w:?}");
        for _ in 0..20 {
            w = next(w, us(5000));
        }
        assert_eq!(w, min);
    }
}
