//! Server commands: INFO, DBSIZE, FLUSHDB, FLUSHALL, TIME, SHUTDOWN, MEMORY and CONFIG.

use super::dispatch::Ctx;
use super::registry::REGISTRY;
use super::spec::{cmd, container, flags::*, key_flags::*, CommandSpec, KeySpec};
use crate::protocol::{args, CmdError, Reply};
use crate::server::session::{CLIENT_BLOCKED, CLIENT_BLOCKED_TIMEOUT};
use crate::server::REDIS_COMPAT_VERSION;
use crate::storage::value::{entry_size, ENTRY_OVERHEAD};
use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

const SV: &[&str] = &[];
const KSP: &[&str] = &["@keyspace"];
const G: &str = "server";

#[rustfmt::skip]
const MEMORY_SUBCOMMANDS: &[CommandSpec] = &[
    cmd("usage", -3, READONLY, SV, &[KeySpec::single(2, RO)], memory_usage, "Estimates the memory usage of a key.", "4.0.0", G, "O(N) where N is the number of samples.").args("key [SAMPLES count]"),
    cmd("stats", 2, 0, SV, &[], memory_stats, "Returns details about memory usage.", "4.0.0", G, "O(1)").tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]),
    cmd("doctor", 2, 0, SV, &[], memory_doctor, "Outputs a memory problems report.", "4.0.0", G, "O(1)").tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]),
    cmd("help", 2, LOADING | STALE, SV, &[], memory_help, "Returns helpful text about the different subcommands.", "4.0.0", G, "O(1)"),
];

#[rustfmt::skip]
const CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    cmd("get", -3, ADMIN | NOSCRIPT | LOADING | STALE, SV, &[], config_get, "Returns the effective values of configuration parameters.", "2.0.0", G, "O(N) when N is the number of configuration parameters provided").args("parameter [parameter ...]"),
    cmd("set", -4, ADMIN | NOSCRIPT | LOADING | STALE, SV, &[], config_set, "Sets configuration parameters in-flight.", "2.0.0", G, "O(N) when N is the number of configuration parameters provided").args("parameter value [parameter value ...]").tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    cmd("resetstat", 2, ADMIN | NOSCRIPT | LOADING | STALE, SV, &[], config_resetstat, "Resets the server's statistics.", "2.0.0", G, "O(1)").tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    cmd("help", 2, LOADING | STALE, SV, &[], config_help, "Returns helpful text about the different subcommands.", "5.0.0", G, "O(1)"),
];

#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[
    cmd("info", -1, LOADING | STALE | SENTINEL, &["@dangerous"], &[], info, "Returns information and statistics about the server.", "1.0.0", G, "O(1)").args("[section [section ...]]").tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]),
    cmd("dbsize", 1, READONLY | FAST, KSP, &[], dbsize, "Returns the number of keys in the database.", "1.0.0", G, "O(1)").tips(&["request_policy:all_shards", "response_policy:agg_sum"]),
    cmd("flushdb", -1, WRITE, &["@keyspace", "@dangerous"], &[], flushdb, "Removes all keys from the current database.", "1.0.0", G, "O(N) where N is the number of keys in the selected database").args("[ASYNC | SYNC]").tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    cmd("flushall", -1, WRITE, &["@keyspace", "@dangerous"], &[], flushall, "Removes all keys from all databases.", "1.0.0", G, "O(N) where N is the total number of keys in all databases").args("[ASYNC | SYNC]").tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    cmd("time", 1, LOADING | STALE | FAST, SV, &[], time, "Returns the server time.", "2.6.0", G, "O(1)").tips(&["nondeterministic_output"]),
    cmd("shutdown", -1, ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | SENTINEL | ALLOW_BUSY, SV, &[], shutdown, "Synchronously saves the database(s) to disk and shuts down the Redis server.", "1.0.0", G, "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)").args("[NOSAVE | SAVE] [NOW] [FORCE] [ABORT]"),
    container("memory", -2, 0, MEMORY_SUBCOMMANDS, "A container for memory diagnostics commands.", "4.0.0", G),
    container("config", -2, 0, CONFIG_SUBCOMMANDS, "A container for server configuration commands.", "2.0.0", G),
];

/// DBSIZE
fn dbsize(ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(Reply::Int(ctx.db().len() as i64))
}

/// Parses FLUSHDB/FLUSHALL's optional `ASYNC | SYNC`; returns true for ASYNC.
fn flush_mode(a: &[&[u8]]) -> Result<bool, CmdError> {
    match a.len() {
        1 => Ok(false),
        2 if args::is(a[1], "ASYNC") => Ok(true),
        2 if args::is(a[1], "SYNC") => Ok(false),
        _ => Err(CmdError::Syntax),
    }
}

/// FLUSHDB [ASYNC | SYNC]
fn flushdb(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let async_ = flush_mode(a)?;
    ctx.server.storage.release(vec![ctx.db().flush()], async_);
    Ok(Reply::Ok)
}

/// FLUSHALL [ASYNC | SYNC]
fn flushall(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let async_ = flush_mode(a)?;
    let old: Vec<_> = ctx.store().existing().map(|ks| ks.flush()).collect();
    ctx.server.storage.release(old, async_);
    Ok(Reply::Ok)
}

/// TIME
fn time(_ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Ok(Reply::Array(vec![
        Reply::bulk(d.as_secs().to_string()),
        Reply::bulk(d.subsec_micros().to_string()),
    ]))
}

/// SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]
fn shutdown(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut save = false;
    for opt in &a[1..] {
        if args::is(opt, "SAVE") {
            save = true;
        } else if args::is(opt, "ABORT") {
            return Err(CmdError::err("ERR No shutdown in progress."));
        } else if !(args::is(opt, "NOSAVE") || args::is(opt, "NOW") || args::is(opt, "FORCE")) {
            return Err(CmdError::Syntax);
        }
    }
    if save {
        // There is nothing to save to yet: refuse rather than pretend to have saved.
        return Err(CmdError::err("ERR Errors trying to SHUTDOWN. Check logs."));
    }
    tracing::info!(client = ctx.session.id(), "SHUTDOWN requested");
    ctx.server.shutdown();
    // Like Redis, a successful SHUTDOWN closes the connection without a reply.
    ctx.session.closing = true;
    ctx.session.reply_mode = crate::server::session::ReplyMode::Skipping;
    Ok(Reply::Ok)
}

/// Resident set size of the process, from /proc (0 where unavailable).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b < 1024.0 {
        format!("{bytes}B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.2}K", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", b / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", b / (1024.0 * 1024.0 * 1024.0))
    }
}

/// Bytes and keys accounted by storage across every store.
/// For a tenant connection, only its own tenant's data (anything wider would let it count
/// other tenants' data).
fn dataset_totals(ctx: &Ctx<'_>) -> (u64, u64) {
    let stores = if tenant_scoped(ctx) {
        vec![ctx.session.store.clone()]
    } else {
        ctx.server.storage.all_tenants()
    };
    stores.iter().fold((0, 0), |(b, k), t| {
        (
            b + t.usage.bytes.load(Relaxed).max(0) as u64,
            k + t.usage.keys.load(Relaxed).max(0) as u64,
        )
    })
}

/// A connection bound to a tenant with a tenant credential (not an admin using TENANT.USE):
/// what it may observe is limited to its own tenant.
fn tenant_scoped(ctx: &Ctx<'_>) -> bool {
    ctx.session.tenant.is_some() && !ctx.session.server_admin
}

/// INFO sections a tenant connection may read; the rest describe the whole server (every
/// tenant's traffic, errors and commands) and are left out rather than leaked.
const SECTIONS_TENANT: &[&str] = &["server", "clients", "memory", "keyspace"];

/// Every INFO section in output order, and whether a plain INFO (or `default`) includes it.
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("cluster", true),
    ("keyspace", true),
    ("tenants", false),
];

/// INFO [section [section ...]]
fn info(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    // Include this connection's not yet flushed counts (earlier commands of this batch).
    ctx.session.flush_counters(ctx.server);
    let wanted: Vec<String> = a[1..]
        .iter()
        .map(|s| args::text(s).to_ascii_lowercase())
        .collect();
    let all = wanted.iter().any(|w| w == "all" || w == "everything");
    let default = wanted.is_empty() || wanted.iter().any(|w| w == "default");
    let mut out = String::new();
    let scoped = tenant_scoped(ctx);
    for &(section, in_default) in SECTIONS {
        let asked = all || (default && in_default) || wanted.iter().any(|w| w == section);
        if !asked || (scoped && !SECTIONS_TENANT.contains(&section)) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        let _ = write_section(ctx, section, &mut out);
    }
    Ok(Reply::Verbatim(out.into()))
}

fn write_section(ctx: &Ctx<'_>, section: &str, o: &mut String) -> std::fmt::Result {
    let srv = ctx.server;
    let st = &srv.stats;
    let uptime = srv.started.elapsed().as_secs();
    match section {
        "server" => {
            writeln!(o, "# Server\r")?;
            writeln!(o, "redis_version:{REDIS_COMPAT_VERSION}\r")?;
            writeln!(o, "tenantkv_version:{}\r", env!("CARGO_PKG_VERSION"))?;
            writeln!(o, "redis_git_sha1:00000000\r")?;
            writeln!(o, "redis_git_dirty:0\r")?;
            writeln!(o, "redis_mode:standalone\r")?;
            writeln!(
                o,
                "os:{} {}\r",
                std::env::consts::OS,
                std::env::consts::ARCH
            )?;
            writeln!(o, "arch_bits:{}\r", usize::BITS)?;
            writeln!(o, "multiplexing_api:tokio\r")?;
            // Where and how the server runs on its host is the operator's business, not a
            // tenant's: its process id and executable path are shown to admins only.
            let host_details = !tenant_scoped(ctx);
            if host_details {
                writeln!(o, "process_id:{}\r", std::process::id())?;
            }
            writeln!(o, "process_supervised:no\r")?;
            writeln!(o, "run_id:{}\r", srv.run_id)?;
            writeln!(o, "tcp_port:{}\r", srv.addr.port())?;
            writeln!(o, "server_time_usec:{}\r", ctx.now * 1000)?;
            writeln!(o, "uptime_in_seconds:{uptime}\r")?;
            writeln!(o, "uptime_in_days:{}\r", uptime / 86400)?;
            writeln!(o, "hz:{}\r", srv.params.hz())?;
            writeln!(o, "configured_hz:{}\r", srv.params.hz())?;
            writeln!(o, "lru_clock:{}\r", (ctx.now / 1000) & 0xff_ffff)?;
            if host_details {
                let exe = std::env::current_exe().unwrap_or_default();
                writeln!(o, "executable:{}\r", exe.display())?;
                writeln!(o, "config_file:\r")?;
            }
            writeln!(o, "io_threads_active:0\r")?;
        }
        "clients" => {
            let connected = match &ctx.session.tenant {
                Some(b) if tenant_scoped(ctx) => b.tenant.connections.load(Relaxed) as usize,
                _ => srv.clients.len(),
            };
            writeln!(o, "# Clients\r")?;
            writeln!(o, "connected_clients:{connected}\r")?;
            writeln!(o, "cluster_connections:0\r")?;
            writeln!(o, "maxclients:{}\r", srv.params.maxclients())?;
            writeln!(o, "client_recent_max_input_buffer:0\r")?;
            writeln!(o, "client_recent_max_output_buffer:0\r")?;
            let scope = tenant_scoped(ctx).then(|| ctx.session.namespace());
            let blocked = srv
                .clients
                .iter()
                .filter(|c| super::connection::in_scope(c, scope))
                .filter(|c| c.state.flags.load(Relaxed) & CLIENT_BLOCKED != 0)
                .count();
            let in_timeout = srv
                .clients
                .iter()
                .filter(|c| super::connection::in_scope(c, scope))
                .filter(|c| c.state.flags.load(Relaxed) & CLIENT_BLOCKED_TIMEOUT != 0)
                .count();
            let stores = if tenant_scoped(ctx) {
                vec![ctx.session.store.clone()]
            } else {
                srv.storage.all_tenants()
            };
            let blocking_keys: usize = stores
                .iter()
                .flat_map(|t| t.existing().map(|ks| ks.watchers.blocking_keys()))
                .sum();
            writeln!(o, "blocked_clients:{blocked}\r")?;
            writeln!(o, "tracking_clients:0\r")?;
            writeln!(o, "clients_in_timeout_table:{in_timeout}\r")?;
            writeln!(o, "total_blocking_keys:{blocking_keys}\r")?;
            // Only stream readers wait for a key to go away, and there are no streams yet.
            writeln!(o, "total_blocking_keys_on_nokey:0\r")?;
        }
        "memory" if tenant_scoped(ctx) => {
            // The tenant's own accounting and limits; process-wide figures stay hidden.
            let (dataset, _) = dataset_totals(ctx);
            let t = &ctx.session.tenant.as_ref().expect("scoped").tenant;
            let rec = t.record();
            writeln!(o, "# Memory\r")?;
            writeln!(o, "used_memory:{dataset}\r")?;
            writeln!(o, "used_memory_human:{}\r", human(dataset))?;
            writeln!(o, "used_memory_dataset:{dataset}\r")?;
            writeln!(o, "maxmemory:{}\r", rec.limits.memory)?;
            writeln!(o, "maxmemory_human:{}\r", human(rec.limits.memory))?;
            writeln!(o, "maxmemory_policy:{}\r", rec.eviction)?;
        }
        "memory" => {
            let (dataset, _) = dataset_totals(ctx);
            let rss = rss_bytes();
            let used = dataset + srv.startup_rss;
            let peak = srv.record_memory_peak(used);
            let maxmemory = srv.params.maxmemory().max(0) as u64;
            writeln!(o, "# Memory\r")?;
            writeln!(o, "used_memory:{used}\r")?;
            writeln!(o, "used_memory_human:{}\r", human(used))?;
            writeln!(o, "used_memory_rss:{rss}\r")?;
            writeln!(o, "used_memory_rss_human:{}\r", human(rss))?;
            writeln!(o, "used_memory_peak:{peak}\r")?;
            writeln!(o, "used_memory_peak_human:{}\r", human(peak))?;
            writeln!(o, "used_memory_startup:{}\r", srv.startup_rss)?;
            writeln!(o, "used_memory_dataset:{dataset}\r")?;
            writeln!(o, "maxmemory:{maxmemory}\r")?;
            writeln!(o, "maxmemory_human:{}\r", human(maxmemory))?;
            writeln!(
                o,
                "maxmemory_policy:{}\r",
                srv.params.get("maxmemory-policy").unwrap_or_default()
            )?;
            let frag = if used > 0 {
                rss as f64 / used as f64
            } else {
                1.0
            };
            writeln!(o, "mem_fragmentation_ratio:{frag:.2}\r")?;
            writeln!(o, "mem_allocator:libc\r")?;
            let lazy = &srv.storage.lazyfree;
            writeln!(
                o,
                "lazyfree_pending_objects:{}\r",
                lazy.pending.load(Relaxed)
            )?;
            writeln!(o, "lazyfreed_objects:{}\r", lazy.freed.load(Relaxed))?;
        }
        "persistence" => {
            // No persistence exists yet; these are the values Redis reports with it disabled.
            writeln!(o, "# Persistence\r")?;
            writeln!(o, "loading:0\r")?;
            writeln!(o, "async_loading:0\r")?;
            writeln!(o, "rdb_bgsave_in_progress:0\r")?;
            writeln!(o, "aof_enabled:0\r")?;
            writeln!(o, "aof_rewrite_in_progress:0\r")?;
        }
        "stats" => {
            writeln!(o, "# Stats\r")?;
            let l = |c: &std::sync::atomic::AtomicU64| c.load(Relaxed);
            writeln!(
                o,
                "total_connections_received:{}\r",
                l(&st.connections_received)
            )?;
            writeln!(
                o,
                "total_commands_processed:{}\r",
                l(&st.commands_processed)
            )?;
            writeln!(o, "instantaneous_ops_per_sec:{}\r", srv.instantaneous_ops())?;
            writeln!(o, "total_net_input_bytes:{}\r", l(&st.net_input_bytes))?;
            writeln!(o, "total_net_output_bytes:{}\r", l(&st.net_output_bytes))?;
            writeln!(o, "rejected_connections:{}\r", l(&st.rejected_connections))?;
            writeln!(o, "expired_keys:{}\r", srv.storage.expired_keys())?;
            let evicted: u64 = srv
                .storage
                .all_tenants()
                .iter()
                .map(|t| t.usage.evicted.load(Relaxed))
                .sum();
            writeln!(o, "evicted_keys:{evicted}\r")?;
            writeln!(o, "keyspace_hits:{}\r", l(&st.keyspace_hits))?;
            writeln!(o, "keyspace_misses:{}\r", l(&st.keyspace_misses))?;
            let (channels, patterns, shard_channels) = srv.pubsub.totals();
            writeln!(o, "pubsub_channels:{channels}\r")?;
            writeln!(o, "pubsub_patterns:{patterns}\r")?;
            writeln!(o, "pubsubshard_channels:{shard_channels}\r")?;
            writeln!(o, "total_error_replies:{}\r", l(&st.error_replies))?;
        }
        "replication" => {
            writeln!(o, "# Replication\r")?;
            writeln!(o, "role:master\r")?;
            writeln!(o, "connected_slaves:0\r")?;
            writeln!(o, "master_repl_offset:0\r")?;
        }
        "cpu" => {
            let (user, sys) = cpu_seconds();
            writeln!(o, "# CPU\r")?;
            writeln!(o, "used_cpu_sys:{sys:.6}\r")?;
            writeln!(o, "used_cpu_user:{user:.6}\r")?;
        }
        "modules" => writeln!(o, "# Modules\r")?,
        "tenants" => {
            writeln!(o, "# Tenants\r")?;
            let tenants = srv.tenants.list();
            writeln!(o, "tenants:{}\r", tenants.len())?;
            for t in tenants {
                write!(
                    o,
                    "tenant_{}:state={},keys={},memory={},connections={}",
                    t.id,
                    t.state().name(),
                    t.data.usage.keys.load(Relaxed).max(0),
                    t.data.usage.bytes.load(Relaxed).max(0),
                    t.connections.load(Relaxed)
                )?;
                for r in crate::tenant::quota::Resource::ALL {
                    write!(o, ",rejected_{}={}", r.name(), t.rejections.get(r))?;
                }
                writeln!(o, "\r")?;
            }
        }
        "cluster" => {
            writeln!(o, "# Cluster\r")?;
            writeln!(o, "cluster_enabled:0\r")?;
        }
        "commandstats" => {
            writeln!(o, "# Commandstats\r")?;
            for (e, st) in REGISTRY.entries.iter().zip(srv.command_stats.iter()) {
                let calls = st.calls.load(Relaxed);
                let (rej, failed) = (st.rejected.load(Relaxed), st.failed.load(Relaxed));
                if calls == 0 && rej == 0 && failed == 0 {
                    continue;
                }
                let usec = st.usec.load(Relaxed);
                let per = if calls > 0 {
                    usec as f64 / calls as f64
                } else {
                    0.0
                };
                writeln!(
                    o,
                    "cmdstat_{}:calls={calls},usec={usec},usec_per_call={per:.2},rejected_calls={rej},failed_calls={failed}\r",
                    e.fullname
                )?;
            }
        }
        "errorstats" => {
            writeln!(o, "# Errorstats\r")?;
            let mut codes: Vec<_> = st
                .errors_by_code
                .lock()
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect();
            codes.sort();
            for (code, n) in codes {
                writeln!(o, "errorstat_{code}:count={n}\r")?;
            }
        }
        "keyspace" => {
            writeln!(o, "# Keyspace\r")?;
            for ks in ctx.store().existing() {
                if ks.is_empty() {
                    continue;
                }
                writeln!(
                    o,
                    "db{}:keys={},expires={},avg_ttl={}\r",
                    ks.index,
                    ks.len(),
                    ks.volatile_len(),
                    ks.avg_ttl()
                )?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// User and system CPU seconds of the process, from /proc/self/stat.
fn cpu_seconds() -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    // Fields after the parenthesised command name; utime and stime are 14th and 15th overall.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = 100.0;
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / tick;
    (get(11), get(12))
}

/// MEMORY USAGE key [SAMPLES count]
fn memory_usage(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    match a.len() {
        3 => {}
        5 if args::is(a[3], "SAMPLES") => {
            args::int(a[4])?;
        }
        _ => return Err(CmdError::Syntax),
    }
    let key = &a[2];
    let mut t = ctx.db().txn(ctx.now, [key]);
    let size = t
        .peek(key)
        .map(|e| ENTRY_OVERHEAD + entry_size(&crate::storage::value::Key::new(key), &e.value));
    Ok(size.map_or(Reply::Nil, |s| Reply::Int(s as i64)))
}

/// MEMORY STATS
fn memory_stats(ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (dataset, keys) = dataset_totals(ctx);
    if tenant_scoped(ctx) {
        // Process-wide figures (RSS, peak, startup) would reveal other tenants' usage.
        return Ok(Reply::map_str(vec![
            ("keys.count", Reply::Int(keys as i64)),
            (
                "keys.bytes-per-key",
                Reply::Int(dataset.checked_div(keys).unwrap_or(0) as i64),
            ),
            ("dataset.bytes", Reply::Int(dataset as i64)),
        ]));
    }
    let startup = ctx.server.startup_rss;
    let used = dataset + startup;
    let peak = ctx.server.record_memory_peak(used);
    let rss = rss_bytes();
    let mut pairs = vec![
        ("peak.allocated", Reply::Int(peak as i64)),
        ("total.allocated", Reply::Int(used as i64)),
        ("startup.allocated", Reply::Int(startup as i64)),
        ("replication.backlog", Reply::Int(0)),
        ("clients.slaves", Reply::Int(0)),
        ("clients.normal", Reply::Int(0)),
        ("aof.buffer", Reply::Int(0)),
        ("lua.caches", Reply::Int(0)),
        ("overhead.total", Reply::Int(startup as i64)),
        ("keys.count", Reply::Int(keys as i64)),
        (
            "keys.bytes-per-key",
            Reply::Int(dataset.checked_div(keys).unwrap_or(0) as i64),
        ),
        ("dataset.bytes", Reply::Int(dataset as i64)),
        (
            "dataset.percentage",
            Reply::Double(if used > 0 {
                dataset as f64 * 100.0 / used as f64
            } else {
                0.0
            }),
        ),
        (
            "peak.percentage",
            Reply::Double(if peak > 0 {
                used as f64 * 100.0 / peak as f64
            } else {
                0.0
            }),
        ),
        (
            "fragmentation",
            Reply::Double(if used > 0 {
                rss as f64 / used as f64
            } else {
                1.0
            }),
        ),
    ];
    let dbs: Vec<(String, Reply)> = ctx
        .session
        .store
        .existing()
        .filter(|ks| !ks.is_empty())
        .map(|ks| {
            (
                format!("db.{}", ks.index),
                Reply::map_str(vec![
                    ("keys", Reply::Int(ks.len() as i64)),
                    ("expires", Reply::Int(ks.volatile_len() as i64)),
                    ("dataset.bytes", Reply::Int(ks.bytes() as i64)),
                ]),
            )
        })
        .collect();
    for (name, r) in &dbs {
        pairs.push((name.as_str(), r.clone()));
    }
    Ok(Reply::map_str(pairs))
}

/// MEMORY DOCTOR
fn memory_doctor(ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (dataset, keys) = dataset_totals(ctx);
    let text = if let Some(per_key) = dataset.checked_div(keys) {
        format!("Sam, I detected no memory issues in this instance: {keys} keys use {dataset} accounted bytes ({per_key} per key).")
    } else {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.".to_string()
    };
    Ok(Reply::Verbatim(text.into()))
}

/// MEMORY HELP
fn memory_help(_ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(super::help_reply(
        "MEMORY",
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    ))
}

/// CONFIG GET parameter [parameter ...]
fn config_get(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let patterns: Vec<&[u8]> = a[2..].iter().map(|p| p.as_ref()).collect();
    let found = ctx.server.params.get_matching(&patterns);
    Ok(Reply::Map(
        found
            .into_iter()
            .map(|(k, v)| (Reply::bulk(k), Reply::bulk(v)))
            .collect(),
    ))
}

/// CONFIG SET parameter value [parameter value ...]
fn config_set(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if !(a.len() - 2).is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    let pairs: Vec<(&[u8], &[u8])> = a[2..].chunks_exact(2).map(|p| (p[0], p[1])).collect();
    ctx.server.params.set_many(&pairs)?;
    Ok(Reply::Ok)
}

/// CONFIG RESETSTAT
fn config_resetstat(ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    ctx.session.flush_counters(ctx.server);
    ctx.server.stats.reset();
    ctx.server.storage.lazyfree.freed.store(0, Relaxed);
    for st in ctx.server.command_stats.iter() {
        st.reset();
    }
    Ok(Reply::Ok)
}

/// CONFIG HELP
fn config_help(_ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(super::help_reply(
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
        ],
    ))
}
