//! Per-tenant quotas enforced on the request path: the ops/s rate limiter, the rejection
//! counters every refusal feeds, and the errors clients see (one text per limit).
//!
//! The rate limiter is GCRA, the token bucket expressed as one "theoretical arrival time":
//! admitting a command is one compare-and-swap on one atomic, so connections of the same tenant
//! on different worker threads never take a lock, and refusing costs the same.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The resources a tenant is limited on, in the order TENANT.QUOTA reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Memory,
    Keys,
    Ops,
    Connections,
    Databases,
    Request,
}

impl Resource {
    pub const ALL: [Resource; 6] = [
        Resource::Memory,
        Resource::Keys,
        Resource::Ops,
        Resource::Connections,
        Resource::Databases,
        Resource::Request,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Resource::Memory => "memory",
            Resource::Keys => "keys",
            Resource::Ops => "ops",
            Resource::Connections => "connections",
            Resource::Databases => "databases",
            Resource::Request => "request",
        }
    }

    pub fn parse(s: &[u8]) -> Option<Resource> {
        Resource::ALL
            .into_iter()
            .find(|r| s.eq_ignore_ascii_case(r.name().as_bytes()))
    }
}

/// Refusals per resource, reported by TENANT.INFO and INFO tenants.
#[derive(Default)]
pub struct Rejections([AtomicU64; 6]);

impl Rejections {
    pub fn count(&self, r: Resource) {
        self.0[r as usize].fetch_add(1, Relaxed);
    }

    pub fn get(&self, r: Resource) -> u64 {
        self.0[r as usize].load(Relaxed)
    }
}

/// Crossing detection for the warning threshold: one log line per upward crossing (not one
/// per command while above it), re-armed when usage falls back under.
#[derive(Default)]
pub struct Warnings {
    above: [std::sync::atomic::AtomicBool; 2],
    pub count: AtomicU64,
}

/// Share of a limit at which a warning is logged.
pub const WARN_PERCENT: u64 = 80;

impl Warnings {
    /// Records `used` against `limit` for `r` (Memory or Keys); true on an upward crossing.
    #[inline]
    pub fn observe(&self, r: Resource, used: u64, limit: u64) -> bool {
        let slot = match r {
            Resource::Memory => 0,
            Resource::Keys => 1,
            _ => return false,
        };
        let above = limit > 0 && used.saturating_mul(100) >= limit.saturating_mul(WARN_PERCENT);
        // Checked on every write: a plain load while nothing changes, the swap (a locked
        // instruction) only on a crossing.
        if self.above[slot].load(Relaxed) == above {
            return false;
        }
        let was = self.above[slot].swap(above, Relaxed);
        if above && !was {
            self.count.fetch_add(1, Relaxed);
            return true;
        }
        false
    }
}

impl super::Tenant {
    /// Logs once when the tenant's memory or keys pass `WARN_PERCENT` of the limit. Called
    /// after each batch one of its connections runs, and after each command an admin runs on
    /// its data: a crossing is seen within one batch of the write that made it, and the
    /// per-command path pays nothing for it.
    pub fn warn_on_crossing(&self) {
        let (key_limit, mem_limit) = self.quota_limits();
        let usage = &self.data.usage;
        let bytes = usage.bytes.load(Relaxed);
        if self
            .warnings
            .observe(Resource::Memory, bytes.max(0) as u64, mem_limit)
        {
            self.log_crossing(Resource::Memory, bytes, mem_limit);
        }
        let keys = usage.keys.load(Relaxed);
        if self
            .warnings
            .observe(Resource::Keys, keys.max(0) as u64, key_limit)
        {
            self.log_crossing(Resource::Keys, keys, key_limit);
        }
    }

    #[cold]
    #[inline(never)]
    fn log_crossing(&self, r: Resource, used: i64, limit: u64) {
        tracing::warn!(
            tenant = %self.id,
            resource = r.name(),
            used,
            limit,
            "tenant passed {}% of its {} limit",
            WARN_PERCENT,
            r.name()
        );
    }
}

/// A quota refusal, rendered with the tenant id by `Display`.
#[derive(Debug, Clone, PartialEq)]
pub enum QuotaError {
    RateLimited { limit: u64, retry_ms: u64 },
    Connections { limit: u64 },
}

/// A quota refusal for tenant `id`, with its Redis-style error text.
pub struct Refusal<'a>(pub &'a str, pub &'a QuotaError);

impl fmt::Display for Refusal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.0;
        match self.1 {
            QuotaError::RateLimited { limit, retry_ms } => write!(
                f,
                "RATELIMIT tenant '{id}' exceeded {limit} ops/s, retry in {retry_ms} ms"
            ),
            QuotaError::Connections { limit } => write!(
                f,
                "ERR max number of connections for tenant '{id}' reached ({limit})"
            ),
        }
    }
}

/// GCRA state: the theoretical arrival time of the next command, in ns on the server clock.
#[derive(Default)]
pub struct RateLimiter {
    tat: AtomicU64,
}

impl RateLimiter {
    /// Admits one command at `now_ns` under `rate` ops/s with a burst of `burst` commands;
    /// on refusal, returns how long until one would be admitted, in ms (at least 1).
    /// `exclusive`: no other thread admits meanwhile (the server runs one worker, and
    /// handlers never await), so a plain store replaces the compare-and-swap, whose locked
    /// instruction waits for the previous command's stores to drain.
    pub fn admit(&self, now_ns: u64, rate: u64, burst: u64, exclusive: bool) -> Result<(), u64> {
        if rate == 0 {
            return Ok(());
        }
        let interval = 1_000_000_000 / rate.max(1);
        // The bucket holds `burst` commands: the arrival time may run ahead of now by that many
        // intervals (the one being admitted included).
        let allowance = interval.saturating_mul(burst.max(1));
        let mut tat = self.tat.load(Relaxed);
        loop {
            let next = tat.max(now_ns).saturating_add(interval);
            if next - now_ns > allowance {
                let wait_ns = next - now_ns - allowance;
                return Err(wait_ns.div_ceil(1_000_000).max(1));
            }
            if exclusive {
                self.tat.store(next, Relaxed);
                return Ok(());
            }
            match self.tat.compare_exchange_weak(tat, next, Relaxed, Relaxed) {
                Ok(_) => return Ok(()),
                Err(actual) => tat = actual,
            }
        }
    }
}

/// The turns of a tenant's refused connections. Each refused connection reserves the time
/// the tenant's rate needs to admit what it sent and resumes when that reservation ends, so the
/// connections come back one after another, spread evenly over the rate, like a client pacing
/// itself, instead of in bursts the tenant's neighbours would queue behind. One atomic, no lock.
#[derive(Default)]
pub struct Pacer {
    next: AtomicU64,
}

impl Pacer {
    /// Reserves `cost_ns` after every earlier reservation (or from `now_ns`, if they have
    /// ended), never ending more than `horizon_ns` from now; returns when it ends, in ns.
    pub fn reserve(&self, now_ns: u64, cost_ns: u64, horizon_ns: u64) -> u64 {
        let mut next = self.next.load(Relaxed);
        loop {
            let end = next
                .max(now_ns)
                .saturating_add(cost_ns)
                .min(now_ns.saturating_add(horizon_ns));
            match self.next.compare_exchange_weak(next, end, Relaxed, Relaxed) {
                Ok(_) => return end,
                Err(actual) => next = actual,
            }
        }
    }
}

/// Commands admitted in the current one-second window, for TENANT.QUOTA's `ops` usage.
#[derive(Default)]
pub struct OpsMeter {
    window: AtomicU64,
    count: AtomicU64,
    last: AtomicU64,
}

impl OpsMeter {
    /// Counts `n` commands admitted at `now_ns` (a batch's worth at once).
    pub fn record(&self, now_ns: u64, n: u64) {
        let sec = now_ns / 1_000_000_000;
        let w = self.window.load(Relaxed);
        if w != sec {
            // A new second: keep the finished window's count as the current rate.
            if self
                .window
                .compare_exchange(w, sec, Relaxed, Relaxed)
                .is_ok()
            {
                let done = self.count.swap(0, Relaxed);
                self.last
                    .store(if sec == w + 1 { done } else { 0 }, Relaxed);
            }
        }
        self.count.fetch_add(n, Relaxed);
    }

    /// Commands admitted in the last complete second (or this one, if busier so far).
    pub fn per_second(&self, now_ns: u64) -> u64 {
        let sec = now_ns / 1_000_000_000;
        let w = self.window.load(Relaxed);
        let current = if w == sec {
            self.count.load(Relaxed)
        } else {
            0
        };
        let last = if w == sec || w + 1 == sec {
            self.last.load(Relaxed)
        } else {
            0
        };
        last.max(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcra_admits_rate_plus_burst_then_refuses() {
        for exclusive in [false, true] {
            let r = RateLimiter::default();
            let t0 = 1_000_000_000;
            // 10 ops/s with a burst of 5: five at once, then one every 100 ms.
            for _ in 0..5 {
                assert!(r.admit(t0, 10, 5, exclusive).is_ok());
            }
            let wait = r.admit(t0, 10, 5, exclusive).unwrap_err();
            assert_eq!(wait, 100);
            assert!(r.admit(t0 + 100_000_000, 10, 5, exclusive).is_ok());
            assert!(r.admit(t0 + 100_000_000, 10, 5, exclusive).is_err());
            // Unlimited.
            assert!(r.admit(t0, 0, 0, exclusive).is_ok());
        }
    }

    #[test]
    fn sustained_rate_matches_the_limit() {
        let r = RateLimiter::default();
        let mut admitted = 0;
        // Offer 20x the rate for 10 simulated seconds.
        for i in 0..(2000 * 10) {
            let now = 1_000_000_000 + i * 500_000; // every 0.5 ms
            if r.admit(now, 100, 100, false).is_ok() {
                admitted += 1;
            }
        }
        // 100/s for 10 s plus the initial burst of 100.
        assert!((1090..=1110).contains(&admitted), "{admitted}");
    }

    #[test]
    fn pacer_turns_follow_each_other_and_restart_from_now() {
        let p = Pacer::default();
        let ms = 1_000_000;
        // Two connections refused at the same moment come back one turn apart.
        assert_eq!(p.reserve(10 * ms, 2 * ms, 1000 * ms), 12 * ms);
        assert_eq!(p.reserve(10 * ms, 3 * ms, 1000 * ms), 15 * ms);
        // Once the turns have passed, a reservation starts from now.
        assert_eq!(p.reserve(20 * ms, ms, 1000 * ms), 21 * ms);
        // Never further ahead than the horizon.
        assert_eq!(p.reserve(20 * ms, 5000 * ms, 1000 * ms), 1020 * ms);
    }
}
