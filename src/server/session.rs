//! Per-connection state (`Session`) and the slice of it other connections may see or act on
//! (`ClientHandle`: CLIENT LIST / INFO / KILL, shutdown).

use super::pubsub::{Kind, Subscriptions};
use crate::protocol::{Proto, Reply};
use crate::storage::TenantData;
use crate::tenant::manager::TokenGrant;
use crate::tenant::quota::QuotaError;
use crate::tenant::{Role, Tenant};
use bytes::Bytes;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// What other connections can read about a client, and its kill switch. Fields that change per
/// command are atomics so updating them costs no lock.
pub struct ClientHandle {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub created_ms: u64,
    pub last_ms: AtomicU64,
    pub db: AtomicUsize,
    pub resp: AtomicU8,
    /// Registry id of the last command run (for `cmd=` in CLIENT LIST).
    pub last_cmd: AtomicUsize,
    pub name: Mutex<Option<String>>,
    pub lib_name: Mutex<Option<String>>,
    pub lib_ver: Mutex<Option<String>>,
    pub user: Mutex<String>,
    /// The tenant this connection is bound to (CLIENT LIST / KILL scope), if any.
    pub tenant: Mutex<Option<String>>,
    /// The tenant an admin's connection works inside (TENANT.USE), if any: not one of the
    /// tenant's own connections, but closed with them when the tenant is deleted.
    pub inside: Mutex<Option<String>>,
    pub killed: AtomicBool,
    pub kill_signal: Notify,
    /// Whether the connection waits in a blocking command, and what CLIENT UNBLOCK asked of
    /// it (`UNBLOCK_*`), with the wake-up that tells it.
    pub unblock: AtomicU8,
    pub unblock_signal: Notify,
    /// What CLIENT LIST shows of the connection's state, published once per batch.
    pub state: ClientState,
}

/// A connection's state as other connections see it (CLIENT LIST `flags`, `sub`, `psub`,
/// `ssub`, `multi`, `watch`): written by the connection after each batch, read by anyone.
pub struct ClientState {
    pub sub: std::sync::atomic::AtomicU32,
    pub psub: std::sync::atomic::AtomicU32,
    pub ssub: std::sync::atomic::AtomicU32,
    /// Commands queued in MULTI, or -1 outside one.
    pub multi: std::sync::atomic::AtomicI32,
    pub flags: AtomicU8,
    /// The session's WATCH signal, so a broken watch shows (`d`) as soon as it breaks.
    pub watch: Arc<crate::storage::watch::Signal>,
    /// Keys WATCHed (`watch=`, Redis 7.4), kept current by WATCH and UNWATCH themselves.
    pub watched: std::sync::atomic::AtomicU32,
    /// The query buffer as of the client's last batch: bytes held (`qbuf`) and room left
    /// (`qbuf-free`). The client asking CLIENT LIST/INFO shows its live values instead.
    pub qbuf: std::sync::atomic::AtomicUsize,
    pub qbuf_free: std::sync::atomic::AtomicUsize,
}

impl Default for ClientState {
    fn default() -> ClientState {
        ClientState {
            sub: Default::default(),
            psub: Default::default(),
            ssub: Default::default(),
            multi: std::sync::atomic::AtomicI32::new(-1),
            flags: Default::default(),
            watch: Default::default(),
            watched: Default::default(),
            qbuf: Default::default(),
            qbuf_free: Default::default(),
        }
    }
}

/// `ClientState::flags` bits, shown as Redis's flag letters in this order.
pub const CLIENT_PUBSUB: u8 = 1;
pub const CLIENT_MULTI: u8 = 2;
pub const CLIENT_BLOCKED: u8 = 4;
/// Watching keys (WATCH); shown as `d` once one of them changes.
pub const CLIENT_WATCHING: u8 = 8;
/// Blocked with a timeout (INFO's `clients_in_timeout_table`); no letter of its own.
pub const CLIENT_BLOCKED_TIMEOUT: u8 = 16;

impl ClientState {
    /// Redis's `flags=` letters: P (subscribed), x (in MULTI), b (blocked), d (a watched key
    /// changed), or N for none.
    pub fn flag_letters(&self) -> String {
        let mut f = self.flags.load(Relaxed);
        if f & CLIENT_WATCHING != 0 && !self.watch.fired() {
            f &= !CLIENT_WATCHING;
        }
        let mut s: String = [
            (CLIENT_PUBSUB, 'P'),
            (CLIENT_MULTI, 'x'),
            (CLIENT_BLOCKED, 'b'),
            (CLIENT_WATCHING, 'd'),
        ]
        .iter()
        .filter(|(bit, _)| f & bit != 0)
        .map(|(_, c)| *c)
        .collect();
        if s.is_empty() {
            s.push('N');
        }
        s
    }
}

impl ClientHandle {
    pub fn new(id: u64, addr: String, laddr: String, now_ms: u64) -> ClientHandle {
        ClientHandle {
            id,
            addr,
            laddr,
            created_ms: now_ms,
            last_ms: AtomicU64::new(now_ms),
            db: AtomicUsize::new(0),
            resp: AtomicU8::new(2),
            last_cmd: AtomicUsize::new(usize::MAX),
            name: Mutex::new(None),
            lib_name: Mutex::new(None),
            lib_ver: Mutex::new(None),
            user: Mutex::new("default".to_string()),
            tenant: Mutex::new(None),
            inside: Mutex::new(None),
            killed: AtomicBool::new(false),
            kill_signal: Notify::new(),
            unblock: AtomicU8::new(UNBLOCK_IDLE),
            unblock_signal: Notify::new(),
            state: ClientState::default(),
        }
    }

    /// Asks the connection to close at its next opportunity (CLIENT KILL, SHUTDOWN).
    pub fn kill(&self) {
        self.killed.store(true, Relaxed);
        self.kill_signal.notify_one();
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Relaxed)
    }

    /// Marks the connection as waiting in a blocking command (CLIENT UNBLOCK may end the
    /// wait) until the guard drops, however the wait ends.
    pub fn waiting(&self) -> impl Drop + '_ {
        struct Waiting<'h>(&'h ClientHandle);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.unblock.store(UNBLOCK_IDLE, Relaxed);
            }
        }
        self.unblock.store(UNBLOCK_WAITING, Relaxed);
        Waiting(self)
    }

    /// CLIENT UNBLOCK: ends the connection's blocked wait as a timeout, or with an error.
    /// False when it is not waiting.
    pub fn unblock(&self, error: bool) -> bool {
        let how = if error {
            UNBLOCK_ERROR
        } else {
            UNBLOCK_TIMEOUT
        };
        let done = self
            .unblock
            .compare_exchange(UNBLOCK_WAITING, how, Relaxed, Relaxed)
            .is_ok();
        if done {
            self.unblock_signal.notify_one();
        }
        done
    }
}

/// `ClientHandle::unblock`'s states: not blocked, blocked, and asked to end the wait as a
/// timeout or with an error.
pub const UNBLOCK_IDLE: u8 = 0;
pub const UNBLOCK_WAITING: u8 = 1;
pub const UNBLOCK_TIMEOUT: u8 = 2;
pub const UNBLOCK_ERROR: u8 = 3;

/// CLIENT REPLY mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    SkipNext,
    /// Set while running the command whose reply is skipped.
    Skipping,
}

/// A connection's binding to a tenant.
pub struct Bound {
    pub tenant: Arc<Tenant>,
    pub role: Role,
    /// The token it authenticated with (None for an admin's TENANT.USE).
    pub token: Option<String>,
    /// When that token expires (Unix ms, 0 = never): checked on every command.
    pub expires_at: u64,
    /// Counted as one of the tenant's connections (token logins; not an admin looking in).
    counted: bool,
    /// The tenant's credential epoch when last checked: a change means re-check the token.
    pub epoch: u64,
}

/// State of one connection, owned by its task.
type GateGuard = parking_lot::ArcRwLockReadGuard<parking_lot::RawRwLock, ()>;

/// A transaction being queued.
#[derive(Default)]
pub struct Multi {
    /// Registry ids and arguments, checked when queued.
    pub queue: Vec<(usize, Vec<Bytes>)>,
    /// A command was refused while queueing: EXEC will answer EXECABORT.
    pub aborted: bool,
    /// The queue's bytes, charged to the tenant's memory while it is held.
    pub charge: Option<crate::command::quota::HeldCharge>,
}

/// A connection parked by a blocking command (see `command::blocking`).
pub struct Blocked {
    /// The command, run again when a key is written.
    pub args: Vec<Bytes>,
    pub deadline: Option<Instant>,
    pub keys: Vec<(Arc<crate::storage::keyspace::Keyspace>, Bytes)>,
    pub signal: Arc<crate::storage::watch::Signal>,
    /// The reply when the timeout passes.
    pub on_timeout: Reply,
    /// The command ran to completion after a wake-up (then the wake-up was used).
    pub served: bool,
    /// The command ran again and waits once more: the new wait owns the registrations, which
    /// kept their places in the keys' queues.
    pub waits_again: bool,
}

impl Drop for Blocked {
    /// Leaves the keys' queues and ends the park. A wake-up this client received but did not
    /// use (it timed out, disconnected or was unblocked) is passed on to the next waiter, so no
    /// blocked client is left asleep with data ready.
    fn drop(&mut self) {
        if self.waits_again {
            return;
        }
        for (ks, k) in &self.keys {
            ks.watchers.unregister(k, &self.signal);
        }
        // Read once it is out of every queue: a touch in between passes it over instead.
        let pass_on = self.signal.fired() && !self.served;
        if pass_on {
            for (ks, k) in &self.keys {
                ks.watchers.touch(k);
            }
        }
        self.signal.unpark();
    }
}

/// One WATCHed key.
pub struct Watched {
    pub keyspace: Arc<crate::storage::keyspace::Keyspace>,
    pub key: Bytes,
    /// The key's expiry when it was watched, if it was live and had one: EXEC fails if that
    /// moment has passed, even before the key is reclaimed (Redis 7's `isWatchedKeyExpired`).
    pub expire_at: u64,
}

pub struct Session {
    pub handle: Arc<ClientHandle>,
    pub proto: Proto,
    pub db: usize,
    pub authenticated: bool,
    /// Authenticated as a server admin (or no password is required).
    pub server_admin: bool,
    /// Bound to a tenant: keys resolve in its keyspaces.
    pub tenant: Option<Bound>,
    /// The global context's store, to return to on TENANT.EXIT or unbinding.
    pub global: Arc<TenantData>,
    /// The admin user this connection authenticated as (CLIENT LIST `user=` outside tenants).
    pub admin_user: String,
    /// The store keys resolve into: the global context's, or (with tenancy) a tenant's.
    pub store: Arc<TenantData>,
    pub reply_mode: ReplyMode,
    /// Close once the current replies are written (QUIT, SHUTDOWN, CLIENT KILL of self).
    pub closing: bool,
    pub clock: Clock,
    /// When the server started: the time base of every batch's clock.
    epoch: Instant,
    /// MULTI: the queued commands, once MULTI was called.
    pub multi: Option<Multi>,
    /// WATCHed keys, and the signal their keyspaces fire when one changes.
    pub watched: Vec<Watched>,
    pub watch_signal: Arc<crate::storage::watch::Signal>,
    /// The shared hold on the current store's `exec_gate` for this batch (see `hold_gate`).
    gate: Option<(Arc<TenantData>, GateGuard)>,
    /// Running an EXEC: its commands already hold the store's gate exclusively.
    pub in_exec: bool,
    /// Counts changes of the connection's binding (see `identity`).
    generation: u64,
    /// What its subscriptions and WATCHed keys hold, charged to its tenant's memory.
    state_charge: Option<crate::command::quota::HeldCharge>,
    /// Server memory the WATCHed keys hold.
    watched_bytes: usize,
    /// Parked by a blocking command, and the signal its keys fire.
    pub blocked: Option<Blocked>,
    /// Running a parked command again after a wake-up. A key it waits on that now holds
    /// another type is then not ready (Redis serves a blocked client only from a key of the
    /// type it waits for), where the first call answers WRONGTYPE.
    pub rewoken: bool,
    /// The last command's name and id, to skip the lookup when it repeats.
    pub recent_command: crate::command::dispatch::RecentCommand,
    /// The query buffer as this batch began: (bytes held, room left). Redis keeps a batch's
    /// input in the buffer until the batch is done, so that is what CLIENT INFO shows.
    pub query: (usize, usize),
    pub block_signal: Arc<crate::storage::watch::Signal>,
    /// Set by a refusal of the tenant's ops/s limit, or by its pacer: the connection reads no
    /// more input until then. A client flooding past its limit then waits instead of spinning
    /// on refusals, so the refusals cost the server (and its other tenants) next to nothing.
    pub throttle_until: Option<Instant>,
    /// Commands of this batch admitted by the ops limit since its last refusal (pacing).
    pub ops_admitted: u32,
    /// Until when (server clock, ns) this connection's admitted batches also take turns in its
    /// tenant's pacer: set for a second by each ops refusal (see `tenancy::pace_admitted`).
    pub paced_until_ns: u64,
    /// Counters kept locally and added to the server's totals once per input batch, so the
    /// hot path does not touch shared cache lines for every command.
    pub counters: Counters,
    /// Pub/Sub state, created by the first (P)SUBSCRIBE and kept for the connection's life.
    pub pubsub: Option<Box<Subscriptions>>,
    /// The command sent its reply through the Pub/Sub outbox ((P)(UN)SUBSCRIBE send one
    /// frame per name): there is no other reply to write.
    pub no_reply: bool,
    /// The previous input batch ran more than one command or left part of a request unread
    /// (true until a batch says otherwise). Only then is the next batch's look ahead worth
    /// walking: a client that sends one command per round trip never has two keys to warm
    /// together.
    pub pipelining: bool,
}

/// The time source of one input batch. Clock reads are expensive enough to show in profiles
/// (three per command cost ~9% of a pipelined GET), so a batch reads the wall clock once and
/// each command reads the monotonic clock once: its end is the next command's start. Times are
/// kept as integer nanoseconds from the batch's start, so the unix milliseconds expiry uses and
/// the rate limiter's nanoseconds are a division and an add, not `Instant` arithmetic.
pub struct Clock {
    base_unix_ms: u64,
    /// When the batch began.
    base: Instant,
    /// The batch's start in ns since the server started (the rate limiter's time base).
    base_ns: u64,
    /// From `base` to the end of the previous command (the current one's start), in ns.
    elapsed_ns: u64,
}

impl Clock {
    /// A batch clock; `epoch` is when the server started.
    pub fn new(epoch: Instant) -> Clock {
        let now = Instant::now();
        Clock {
            base_unix_ms: crate::storage::now_ms(),
            base: now,
            base_ns: now.saturating_duration_since(epoch).as_nanos() as u64,
            elapsed_ns: 0,
        }
    }

    /// Unix milliseconds at the start of the current command.
    pub fn now_ms(&self) -> u64 {
        self.base_unix_ms + self.elapsed_ns / 1_000_000
    }

    /// Nanoseconds since the server started, at the start of the current command.
    pub fn since_start_ns(&self) -> u64 {
        self.base_ns + self.elapsed_ns
    }

    /// The start of the current command.
    pub fn last(&self) -> Instant {
        self.base + Duration::from_nanos(self.elapsed_ns)
    }

    /// Marks the end of a command; returns its duration in microseconds.
    pub fn lap_us(&mut self) -> u64 {
        let elapsed = Instant::now()
            .saturating_duration_since(self.base)
            .as_nanos() as u64;
        let us = elapsed.saturating_sub(self.elapsed_ns) / 1000;
        self.elapsed_ns = elapsed;
        us
    }
}

#[derive(Default)]
pub struct Counters {
    pub commands: u64,
    /// Commands run for the bound tenant, added to its meter once per batch (and before the
    /// connection re-binds).
    pub tenant_commands: u64,
    /// Commands charged to the tenant's ops/s limit, added to its ops meter once per batch.
    pub metered: u64,
    pub hits: u64,
    pub misses: u64,
    /// Per-command (registry id, calls, usec, failed) of this batch. A batch touches few
    /// distinct commands, so a short vector beats a map; the counters it feeds are shared by
    /// all connections, and updating them per command made their cache lines bounce between
    /// worker threads.
    pub calls: Vec<(usize, u64, u64, u64)>,
    /// Error replies of this batch by code.
    pub errors: Vec<(String, u64)>,
}

impl Counters {
    pub fn record_call(&mut self, id: usize, usec: u64, failed: bool) {
        match self.calls.iter_mut().find(|c| c.0 == id) {
            Some(c) => {
                c.1 += 1;
                c.2 += usec;
                c.3 += failed as u64;
            }
            None => self.calls.push((id, 1, usec, failed as u64)),
        }
    }
}

impl Session {
    pub fn new(
        handle: Arc<ClientHandle>,
        store: Arc<TenantData>,
        authenticated: bool,
        epoch: Instant,
    ) -> Self {
        let watch_signal = handle.state.watch.clone();
        Session {
            handle,
            proto: Proto::Resp2,
            db: 0,
            authenticated,
            server_admin: authenticated,
            tenant: None,
            global: store.clone(),
            admin_user: "default".to_string(),
            store,
            reply_mode: ReplyMode::On,
            closing: false,
            clock: Clock::new(epoch),
            epoch,
            throttle_until: None,
            ops_admitted: 0,
            paced_until_ns: 0,
            multi: None,
            watched: Vec::new(),
            watch_signal,
            gate: None,
            in_exec: false,
            generation: 0,
            state_charge: None,
            watched_bytes: 0,
            rewoken: false,
            recent_command: Default::default(),
            query: (0, 0),
            blocked: None,
            block_signal: crate::storage::watch::Signal::exclusive(),
            counters: Counters::default(),
            pubsub: None,
            no_reply: false,
            pipelining: true,
        }
    }

    /// The Pub/Sub namespace the connection acts in: its tenant's id, or `""` for the global
    /// context (tenant ids are never empty).
    pub fn namespace(&self) -> &str {
        self.tenant_id().unwrap_or("")
    }

    /// Subscribed to at least one channel, pattern or shard channel (Redis's `CLIENT_PUBSUB`).
    pub fn subscribed(&self) -> bool {
        self.pubsub.as_ref().is_some_and(|p| p.total() > 0)
    }

    /// After a rebind: subscriptions made in another tenant's namespace are dropped, so the
    /// connection never keeps receiving the messages of a tenant it no longer acts in.
    fn leave_foreign_subscriptions(&mut self) {
        let ns = self.tenant.as_ref().map_or("", |b| b.tenant.id.as_str());
        if let Some(p) = &mut self.pubsub {
            if p.namespace().is_some_and(|old| old != ns) {
                p.leave_all();
                p.sub.discard_queued();
            }
        }
    }

    /// Binds the connection to `tenant`: its keys now resolve in the tenant's keyspaces.
    /// Every binding counts against the tenant's connection limit (AUTH, HELLO AUTH and an
    /// admin's TENANT.USE alike: each is a connection working in the tenant). With a token
    /// `grant` the connection also becomes one of the tenant's, listed and killable by it;
    /// without (TENANT.USE) it acts inside as the tenant's admin. Refused when the tenant is at
    /// its connection limit (the connection is then unbound).
    pub fn bind(
        &mut self,
        tenant: Arc<Tenant>,
        grant: Option<TokenGrant>,
    ) -> Result<(), QuotaError> {
        // A new login to the tenant it is already in keeps its slot; any other takes one
        // before the old binding is let go, so a refused login leaves the connection as it
        // was (Redis's failed AUTH changes nothing), never unbound half-way.
        let same = match self.tenant.as_mut() {
            Some(b) if Arc::ptr_eq(&b.tenant, &tenant) && b.counted => {
                b.counted = false;
                true
            }
            _ => false,
        };
        if !same {
            tenant.acquire_connection()?;
            // Keys watched elsewhere are no business of the tenant it now acts in (nor
            // charged to it).
            self.unwatch_all();
        }
        self.release_binding();
        self.store = tenant.data.clone();
        self.set_db(0);
        let bound = match grant {
            Some(g) => {
                *self.handle.tenant.lock() = Some(tenant.id.clone());
                *self.handle.user.lock() = tenant.id.clone();
                Bound {
                    role: g.role,
                    token: Some(g.id),
                    expires_at: g.expires_at,
                    epoch: g.epoch,
                    counted: true,
                    tenant,
                }
            }
            None => {
                *self.handle.inside.lock() = Some(tenant.id.clone());
                Bound {
                    role: Role::Admin,
                    token: None,
                    expires_at: 0,
                    epoch: tenant.epoch(),
                    counted: true,
                    tenant,
                }
            }
        };
        self.tenant = Some(bound);
        self.leave_foreign_subscriptions();
        Ok(())
    }

    /// Returns to the global context.
    pub fn unbind(&mut self) {
        if self.tenant.is_some() {
            self.unwatch_all();
        }
        self.release_binding();
        self.leave_foreign_subscriptions();
    }

    /// Drops the tenant binding (if any) without touching subscriptions: `bind` decides about
    /// those once it knows the new namespace.
    fn release_binding(&mut self) {
        self.generation += 1;
        self.flush_tenant_commands();
        if let Some(b) = self.tenant.take() {
            if b.counted {
                b.tenant.connections.fetch_sub(1, Relaxed);
            }
            self.store = self.global.clone();
            self.set_db(0);
            *self.handle.tenant.lock() = None;
            *self.handle.inside.lock() = None;
            *self.handle.user.lock() = self.admin_user.clone();
        }
    }

    /// Admits `more` bytes of connection state (subscriptions, WATCHed keys) against the
    /// tenant's memory limit, charging them until `settle_state_charge` measures again.
    pub fn admit_state(&mut self, more: usize) -> Result<(), crate::protocol::CmdError> {
        match &self.tenant {
            Some(b) => {
                crate::command::quota::charge_held(&b.tenant, &mut self.state_charge, more as i64)
            }
            None => Ok(()),
        }
    }

    /// Records a WATCHed key's memory (the key was admitted by `admit_state`).
    pub fn add_watched_bytes(&mut self, n: usize) {
        self.watched_bytes += n;
    }

    /// Brings the tenant back under its memory limit if this batch's writes left it above (a
    /// table that doubled under a write; see `quota::settle`): once per batch, not per write.
    pub fn settle_memory(&self) {
        if let Some(b) = &self.tenant {
            crate::command::quota::settle(Some(&b.tenant), self.clock.now_ms());
        }
    }

    /// Brings the tenant's charge for this connection's state to what it holds now: once per
    /// batch, so unsubscribing, UNWATCH, EXEC and rebinding give their bytes back.
    pub fn settle_state_charge(&mut self) {
        let Some(c) = &mut self.state_charge else {
            return;
        };
        let bound = self.tenant.as_ref().is_some_and(|b| c.is_for(&b.tenant));
        if !bound {
            self.state_charge = None;
            return;
        }
        let held = self.watched_bytes + self.pubsub.as_ref().map_or(0, |p| p.held_bytes());
        if held as i64 != c.bytes() {
            c.set(held as i64);
        }
    }

    /// Who the connection is: changes with every binding, login and logout. EXEC compares it
    /// between queued commands, so no command of a transaction runs as anyone else than the
    /// connection that queued it (a token revoked mid-EXEC unbinds it).
    pub fn identity(&self) -> (u64, bool, bool) {
        (self.generation, self.authenticated, self.server_admin)
    }

    /// The number of databases this connection may SELECT.
    pub fn db_limit(&self) -> usize {
        match &self.tenant {
            Some(b) => b.tenant.db_limit().min(self.store.databases()),
            None => self.store.databases(),
        }
    }

    /// The tenant id the connection acts in, if bound.
    pub fn tenant_id(&self) -> Option<&str> {
        self.tenant.as_ref().map(|b| b.tenant.id.as_str())
    }

    /// Starts an input batch: one wall-clock read for all its commands.
    pub fn begin_batch(&mut self) {
        self.clock = Clock::new(self.epoch);
        self.ops_admitted = 0;
    }

    /// Publishes what CLIENT LIST shows of this connection (subscriptions, MULTI, blocked, a
    /// broken WATCH): once per batch, a few relaxed stores.
    pub fn publish_state(&self) {
        let st = &self.handle.state;
        let [sub, psub, ssub] = [Kind::Channel, Kind::Pattern, Kind::Shard]
            .map(|k| self.pubsub.as_ref().map_or(0, |p| p.count_of(k)));
        st.sub.store(sub as u32, Relaxed);
        st.psub.store(psub as u32, Relaxed);
        st.ssub.store(ssub as u32, Relaxed);
        let multi = self.multi.as_ref().map_or(-1, |m| m.queue.len() as i32);
        st.multi.store(multi, Relaxed);
        let mut flags = 0;
        if sub + psub + ssub > 0 {
            flags |= CLIENT_PUBSUB;
        }
        if self.multi.is_some() {
            flags |= CLIENT_MULTI;
        }
        if let Some(b) = &self.blocked {
            flags |= CLIENT_BLOCKED;
            if b.deadline.is_some() {
                flags |= CLIENT_BLOCKED_TIMEOUT;
            }
        }
        if !self.watched.is_empty() {
            flags |= CLIENT_WATCHING;
        }
        st.flags.store(flags, Relaxed);
    }

    /// Adds the batch's local counters to the server totals.
    pub fn flush_counters(&mut self, server: &crate::server::Server) {
        let stats = &server.stats;
        for (id, calls, usec, failed) in self.counters.calls.drain(..) {
            let s = &server.command_stats[id];
            s.calls.fetch_add(calls, Relaxed);
            s.usec.fetch_add(usec, Relaxed);
            if failed > 0 {
                s.failed.fetch_add(failed, Relaxed);
            }
        }
        if !self.counters.errors.is_empty() {
            let mut by_code = stats.errors_by_code.lock();
            for (code, n) in self.counters.errors.drain(..) {
                stats.error_replies.fetch_add(n, Relaxed);
                *by_code.entry(code).or_insert(0) += n;
            }
        }
        self.flush_tenant_commands();
        let c = &mut self.counters;
        if c.commands > 0 {
            stats.commands_processed.fetch_add(c.commands, Relaxed);
        }
        if c.hits > 0 {
            stats.keyspace_hits.fetch_add(c.hits, Relaxed);
        }
        if c.misses > 0 {
            stats.keyspace_misses.fetch_add(c.misses, Relaxed);
        }
        (c.commands, c.hits, c.misses) = (0, 0, 0);
    }

    fn flush_tenant_commands(&mut self) {
        let n = std::mem::take(&mut self.counters.tenant_commands);
        let metered = std::mem::take(&mut self.counters.metered);
        if let Some(b) = &self.tenant {
            if n > 0 {
                b.tenant.commands.fetch_add(n, Relaxed);
                b.tenant.warn_on_crossing();
            }
            if metered > 0 {
                b.tenant.meter.record(self.clock.since_start_ns(), metered);
            }
        }
    }

    /// Holds `store`'s exec gate shared, unless already held (or inside EXEC, which holds it
    /// exclusively). One gate at a time: switching stores releases the old one first, so a
    /// connection never waits for a gate while holding another.
    /// `None` means the session's own store. Clones an `Arc` only when taking the gate (once
    /// per batch): a clone per command would bounce the store's reference count between
    /// worker threads.
    pub fn hold_gate(&mut self, other: Option<&Arc<TenantData>>) {
        if self.in_exec {
            return;
        }
        let store = other.unwrap_or(&self.store);
        if let Some((held, _)) = &self.gate {
            if Arc::ptr_eq(held, store) {
                return;
            }
        }
        let store = store.clone();
        self.gate = None;
        let guard = store.exec_gate.read_arc();
        self.gate = Some((store, guard));
    }

    /// Releases the gate: at the end of every batch, before any await.
    pub fn release_gate(&mut self) {
        self.gate = None;
    }

    /// Forgets every WATCH (EXEC, DISCARD, UNWATCH, RESET).
    pub fn unwatch_all(&mut self) {
        for w in self.watched.drain(..) {
            w.keyspace.watchers.unregister(&w.key, &self.watch_signal);
        }
        self.watched_bytes = 0;
        self.watch_signal.reset();
        self.handle.state.watched.store(0, Relaxed);
    }

    pub fn id(&self) -> u64 {
        self.handle.id
    }

    pub fn set_db(&mut self, db: usize) {
        self.db = db;
        self.handle.db.store(db, Relaxed);
    }

    pub fn set_proto(&mut self, proto: Proto) {
        self.proto = proto;
        if let Some(p) = &self.pubsub {
            p.sub.set_resp3(proto == Proto::Resp3);
        }
        self.handle
            .resp
            .store(if proto == Proto::Resp3 { 3 } else { 2 }, Relaxed);
    }

    pub fn set_name(&self, name: Option<Bytes>) {
        *self.handle.name.lock() = name.map(|n| String::from_utf8_lossy(&n).into_owned());
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Releases the tenant's connection count when the connection ends.
        self.unbind();
    }
}
