//! The server: shared state, the TCP listener, background tasks and graceful shutdown.
//!
//! `start` binds and returns a `RunningServer` (tests and benches use it on port 0); `run` is
//! what the binary calls: start, then wait for SIGINT/SIGTERM or SHUTDOWN.

pub mod buffers;
pub mod busy_poll;
pub mod connection;
pub mod pubsub;
pub mod session;

use crate::command::registry::{CommandStats, REGISTRY};
use crate::config::{params::Params, Config};
use crate::storage::{now_ms, KeyEvent, KeyEventListener, Storage};
use crate::tenant::Manager;
use dashmap::DashMap;
use parking_lot::Mutex;
use session::ClientHandle;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tracing::{info, warn};

/// Redis version tenantkv reports to clients (HELLO, INFO): the command semantics it follows.
pub const REDIS_COMPAT_VERSION: &str = "7.2.4";

/// Server-wide counters for INFO stats.
#[derive(Default)]
pub struct Stats {
    pub connections_received: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub commands_processed: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub keyspace_hits: AtomicU64,
    pub keyspace_misses: AtomicU64,
    pub error_replies: AtomicU64,
    /// `errorstat_<CODE>` counts.
    pub errors_by_code: Mutex<HashMap<String, u64>>,
    /// Set by a reset so the ops sampler drops samples taken before it.
    reset_hook: AtomicBool,
}

impl Stats {
    pub fn reset(&self) {
        self.reset_hook.store(true, Relaxed);
        for c in [
            &self.connections_received,
            &self.rejected_connections,
            &self.commands_processed,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.keyspace_hits,
            &self.keyspace_misses,
            &self.error_replies,
        ] {
            c.store(0, Relaxed);
        }
        self.errors_by_code.lock().clear();
    }
}

pub struct Server {
    pub config: Config,
    /// `INFO commandstats` counters, indexed by registry id.
    pub command_stats: Box<[CommandStats]>,
    pub params: Params,
    pub storage: Arc<Storage>,
    pub tenants: Arc<Manager>,
    pub clients: DashMap<u64, Arc<ClientHandle>>,
    /// Pub/Sub subscriptions of every namespace (tenant), and delivery.
    pub pubsub: Arc<pubsub::Hub>,
    next_client_id: AtomicU64,
    pub stats: Stats,
    pub started: Instant,
    pub started_unix_ms: u64,
    /// Commands that can run at the same moment: the runtime's worker threads (handlers never
    /// await, so a worker runs one command at a time).
    pub workers: usize,
    pub run_id: String,
    pub addr: SocketAddr,
    /// Process RSS when the server started: the baseline of `used_memory`.
    pub startup_rss: u64,
    memory_peak: AtomicU64,
    /// (unix ms, commands processed) samples for `instantaneous_ops_per_sec`.
    ops_samples: Mutex<std::collections::VecDeque<(u64, u64)>>,
    shutting_down: AtomicBool,
    shutdown_signal: Notify,
    /// Polling through the gaps between requests, on a lone worker (`busy_poll`).
    pub busy_poll: Option<Arc<busy_poll::BusyPoll>>,
}

impl Server {
    pub fn next_client_id(&self) -> u64 {
        self.next_client_id.fetch_add(1, Relaxed)
    }

    /// Starts a graceful shutdown: stop accepting, close every connection after its current
    /// replies, stop background tasks.
    pub fn shutdown(&self) {
        if !self.shutting_down.swap(true, Relaxed) {
            self.shutdown_signal.notify_waiters();
            for c in self.clients.iter() {
                c.kill();
            }
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Relaxed)
    }

    /// Records `used` as a candidate peak and returns the peak so far.
    pub fn record_memory_peak(&self, used: u64) -> u64 {
        self.memory_peak.fetch_max(used, Relaxed).max(used)
    }

    /// Samples the command counter (called by the background loop, `hz` times a second).
    fn sample_ops(&self) {
        let mut s = self.ops_samples.lock();
        if self.stats.reset_hook.swap(false, Relaxed) {
            s.clear();
        }
        s.push_back((now_ms(), self.stats.commands_processed.load(Relaxed)));
        while s.len() > 16 {
            s.pop_front();
        }
    }

    /// Commands per second over the recent samples, as INFO's `instantaneous_ops_per_sec`.
    pub fn instantaneous_ops(&self) -> u64 {
        let s = self.ops_samples.lock();
        match (s.front(), s.back()) {
            (Some(&(t0, c0)), Some(&(t1, c1))) if t1 > t0 => {
                c1.saturating_sub(c0) * 1000 / (t1 - t0)
            }
            _ => 0,
        }
    }

    /// Closes clients idle for longer than `timeout` seconds (Redis's clientsCron), so a
    /// CONFIG SET of the timeout also reaches connections that are already idle.
    fn close_idle_clients(&self) {
        let timeout = self.params.timeout();
        if timeout <= 0 {
            return;
        }
        let now = now_ms();
        for c in self.clients.iter() {
            if now.saturating_sub(c.last_ms.load(Relaxed)) > timeout as u64 * 1000 {
                c.kill();
            }
        }
    }

    /// Whether new connections start unauthenticated.
    /// Whether new connections start unauthenticated: a `requirepass` or any configured admin
    /// turns authentication on. Only with neither is the server open (every connection an admin).
    pub fn auth_required(&self) -> bool {
        !self.config.auth.admins.is_empty()
            || self
                .params
                .get("requirepass")
                .is_some_and(|p| !p.is_empty())
    }
}

/// A started server: its address, and a way to stop it and wait for it.
pub struct RunningServer {
    pub server: Arc<Server>,
    pub addr: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningServer {
    /// Waits until the server has shut down (SHUTDOWN or `shutdown()`).
    pub async fn wait(self) {
        for t in self.tasks {
            let _ = t.await;
        }
    }

    pub fn shutdown(&self) {
        self.server.shutdown();
    }
}

#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

/// Binds the listener and spawns the accept loop and background tasks on the current runtime.
pub async fn start(config: Config) -> Result<RunningServer, StartError> {
    let bind = format!("{}:{}", config.server.bind, config.server.port);
    let listener = TcpListener::bind(&bind)
        .await
        .map_err(|e| StartError(format!("cannot listen on {bind}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError(e.to_string()))?;
    let params = Params::new();
    apply_config_to_params(&config, &params, addr)?;
    let storage = Arc::new(Storage::new(config.server.databases));
    let admins = config.auth.admins.iter().map(|a| a.name.clone());
    let tenants = Manager::new(&config.tenancy, admins, storage.clone()).map_err(StartError)?;
    let workers = tokio::runtime::Handle::current().metrics().num_workers();
    let busy_poll = (workers == 1 && config.server.busy_poll_us > 0).then(|| {
        let window = Duration::from_micros(config.server.busy_poll_us);
        Arc::new(busy_poll::BusyPoll::new(window))
    });
    let server = Arc::new(Server {
        command_stats: REGISTRY
            .entries
            .iter()
            .map(|_| CommandStats::default())
            .collect(),
        storage,
        tenants,
        params,
        config,
        clients: DashMap::new(),
        pubsub: Arc::new(pubsub::Hub::new()),
        next_client_id: AtomicU64::new(1),
        stats: Stats::default(),
        started: Instant::now(),
        started_unix_ms: now_ms(),
        workers,
        run_id: make_run_id(),
        addr,
        startup_rss: crate::command::server::rss_bytes(),
        memory_peak: AtomicU64::new(0),
        ops_samples: Mutex::new(std::collections::VecDeque::new()),
        shutting_down: AtomicBool::new(false),
        shutdown_signal: Notify::new(),
        busy_poll,
    });
    server
        .storage
        .set_key_event_listener(Arc::new(KeyEventNotifier {
            server: Arc::downgrade(&server),
            hub: server.pubsub.clone(),
        }));
    info!(%addr, "tenantkv listening");
    let accept = tokio::spawn(accept_loop(server.clone(), listener));
    let expiry = tokio::spawn(active_expiry_loop(server.clone()));
    // Not among the tasks a shutdown waits for: it ends with the runtime.
    if let Some(bp) = server.busy_poll.clone() {
        tokio::spawn(async move { bp.run().await });
    }
    Ok(RunningServer {
        server,
        addr,
        tasks: vec![accept, expiry],
    })
}

/// Delivers storage's key events as keyspace notifications (`expired`, `evicted`, `new`), in
/// the namespace of the store they happened in. Weak, because the server owns storage; the hub
/// is held directly so that, with no subscriber anywhere, asking costs one load (`new` is asked
/// about on every key creation).
struct KeyEventNotifier {
    server: std::sync::Weak<Server>,
    hub: Arc<pubsub::Hub>,
}

/// The keyspace-event class and name of a storage key event.
fn key_event_class(what: KeyEvent) -> (u32, &'static str) {
    use crate::config::params::{NOTIFY_EVICTED, NOTIFY_EXPIRED, NOTIFY_NEW};
    match what {
        KeyEvent::Expired => (NOTIFY_EXPIRED, "expired"),
        KeyEvent::Evicted => (NOTIFY_EVICTED, "evicted"),
        KeyEvent::Created => (NOTIFY_NEW, "new"),
    }
}

impl KeyEventListener for KeyEventNotifier {
    fn happened(&self, namespace: &str, db: usize, what: KeyEvent, key: &[u8]) {
        let Some(server) = self.server.upgrade() else {
            return;
        };
        let (class, event) = key_event_class(what);
        crate::command::dispatch::raise_keyspace_event(&server, namespace, class, event, db, key);
    }

    fn wants(&self, what: KeyEvent) -> bool {
        !self.hub.is_idle()
            && self.server.upgrade().is_some_and(|server| {
                crate::command::dispatch::keyspace_events_wanted(&server, key_event_class(what).0)
            })
    }
}

fn apply_config_to_params(
    config: &Config,
    params: &Params,
    addr: SocketAddr,
) -> Result<(), StartError> {
    let pairs = [
        ("bind", config.server.bind.clone()),
        ("port", addr.port().to_string()),
        ("databases", config.server.databases.to_string()),
        ("maxclients", config.server.maxclients.to_string()),
        ("timeout", config.server.timeout.to_string()),
        ("hz", config.server.hz.to_string()),
        (
            "proto-max-bulk-len",
            config.limits.proto_max_bulk_len.0.to_string(),
        ),
        (
            "client-query-buffer-limit",
            config.limits.client_query_buffer_limit.0.to_string(),
        ),
        ("maxmemory", config.memory.maxmemory.0.to_string()),
        ("maxmemory-policy", config.memory.maxmemory_policy.clone()),
        ("requirepass", config.auth.requirepass.clone()),
        ("loglevel", redis_loglevel(&config.log.level).to_string()),
    ];
    for (name, value) in pairs {
        params
            .set_initial(name, &value)
            .map_err(|e| StartError(format!("config {name} = {value:?}: {e}")))?;
    }
    Ok(())
}

/// Redis's `loglevel` names for our tracing levels.
fn redis_loglevel(level: &str) -> &'static str {
    match level.to_ascii_lowercase().as_str() {
        "trace" | "debug" => "debug",
        "warn" | "error" => "warning",
        _ => "notice",
    }
}

fn make_run_id() -> String {
    (0..40)
        .map(|_| char::from_digit(fastrand::u32(..16), 16).expect("hex digit"))
        .collect()
}

async fn accept_loop(server: Arc<Server>, listener: TcpListener) {
    let mut backoff = Duration::from_millis(5);
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = server.shutdown_signal.notified() => break,
        };
        if server.is_shutting_down() {
            break;
        }
        match accepted {
            Ok((stream, peer)) => {
                backoff = Duration::from_millis(5);
                let server = server.clone();
                tokio::spawn(connection::serve(server, stream, peer));
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                warn!(error = %e, "accept failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
    // Wait (bounded) for connections to finish writing their last replies.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.clients.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    if let Err(e) = server.tenants.flush() {
        warn!(error = %e, "cannot write the tenant registry at shutdown");
    }
    info!("tenantkv stopped");
}

/// Redis's active expiry: every 1/hz seconds, sweep keyspaces with TTL keys within a CPU
/// budget, so keys nobody reads are still reclaimed.
async fn active_expiry_loop(server: Arc<Server>) {
    loop {
        let hz = server.params.hz().clamp(1, 500) as u64;
        let sleep = tokio::time::sleep(Duration::from_millis(1000 / hz));
        tokio::select! {
            _ = sleep => {}
            _ = server.shutdown_signal.notified() => break,
        }
        if server.is_shutting_down() {
            break;
        }
        server.sample_ops();
        server.close_idle_clients();
        let srv = server.clone();
        // The sweep takes shard locks: run it off the async workers.
        let reclaimed = tokio::task::spawn_blocking(move || {
            let start = Instant::now();
            let mut total = 0;
            // Keep sweeping while a pass finds many expired keys, within ~25% of the period.
            let budget = Duration::from_millis(250 / hz);
            loop {
                let (checked, reclaimed) = srv.storage.active_expire(now_ms(), 20_000);
                total += reclaimed;
                if checked == 0 || reclaimed * 10 < checked || start.elapsed() > budget {
                    break;
                }
            }
            total
        })
        .await
        .unwrap_or(0);
        tracing::trace!(reclaimed, "active expiry cycle");
    }
}

/// Runs the server until SIGINT, SIGTERM or SHUTDOWN.
pub async fn run(config: Config) -> Result<(), StartError> {
    let running = start(config).await?;
    let server = running.server.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        info!("signal received, shutting down");
        server.shutdown();
    });
    running.wait().await;
    Ok(())
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
