//! Server commands against the real server: INFO (sections, keyspace, commandstats,
//! errorstats), DBSIZE, FLUSHDB/FLUSHALL, TIME, MEMORY, CONFIG GET/SET/RESETSTAT/HELP and
//! SHUTDOWN.
//!
//! Expected replies and error texts are Redis 7.2's (checked against a real `redis-server`).
//! Every error case also checks that the connection is still usable afterwards.
mod common;

use common::{
    assert_alive, assert_err_exact, dbsize, eventually, info, info_fields, select, set, TestServer,
};
use std::collections::HashMap;
use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The `# Name` headers of an INFO reply, in order.
fn headers(info: &str) -> Vec<String> {
    info.lines()
        .filter_map(|l| l.strip_prefix("# "))
        .map(|h| h.trim_end().to_string())
        .collect()
}

/// CONFIG GET as (name, value) pairs in reply order.
fn config_get(con: &mut redis::Connection, patterns: &[&str]) -> Vec<(String, String)> {
    let flat: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg(patterns)
        .query(con)
        .unwrap();
    flat.chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect()
}

fn config_value(con: &mut redis::Connection, name: &str) -> String {
    let pairs = config_get(con, &[name]);
    assert_eq!(pairs.len(), 1, "CONFIG GET {name}: {pairs:?}");
    pairs[0].1.clone()
}

fn config_set(con: &mut redis::Connection, pairs: &[(&str, &str)]) {
    let mut cmd = redis::cmd("CONFIG");
    cmd.arg("SET");
    for (k, v) in pairs {
        cmd.arg(*k).arg(*v);
    }
    let _: () = cmd.query(con).unwrap();
}

// ---------------------------------------------------------------------------------------------
// INFO
// ---------------------------------------------------------------------------------------------

#[test]
fn info_default_sections_appear_in_redis_order() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let all = headers(&info(&mut c, &[]));
    let expected = [
        "Server",
        "Clients",
        "Memory",
        "Persistence",
        "Stats",
        "Replication",
        "CPU",
        "Errorstats",
        "Keyspace",
    ];
    let present: Vec<&String> = all
        .iter()
        .filter(|h| expected.contains(&h.as_str()))
        .collect();
    assert_eq!(present, expected, "{all:?}");
    assert!(
        !all.iter().any(|h| h == "Commandstats"),
        "commandstats is not a default section: {all:?}"
    );
    assert_eq!(headers(&info(&mut c, &["default"])), all);
}

#[test]
fn info_default_sections_match_redis_exactly() {
    // Redis 7 also prints `# Modules` (empty) and `# Cluster` (cluster_enabled:0) by default.
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(
        headers(&info(&mut c, &[])),
        [
            "Server",
            "Clients",
            "Memory",
            "Persistence",
            "Stats",
            "Replication",
            "CPU",
            "Modules",
            "Errorstats",
            "Cluster",
            "Keyspace"
        ]
    );
}

#[test]
fn info_cluster_reports_cluster_disabled() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let text = info(&mut c, &["cluster"]);
    assert_eq!(text, "# Cluster\r\ncluster_enabled:0\r\n");
}

#[test]
fn info_server_reports_version_and_real_port() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let text = info(&mut c, &["server"]);
    assert_eq!(headers(&text), ["Server"]);
    assert!(text.starts_with("# Server\r\n"), "{text:?}");
    assert!(text.ends_with("\r\n"));
    let f = info_fields(&text);
    assert_eq!(f["redis_version"], "7.2.4");
    assert_eq!(f["redis_mode"], "standalone");
    assert_eq!(f["tcp_port"], srv.addr.port().to_string());
    assert_eq!(f["run_id"].len(), 40);
    assert!(f["run_id"].bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(f["process_id"], std::process::id().to_string());
    let up: u64 = f["uptime_in_seconds"].parse().unwrap();
    assert!(up < 60, "{up}");
}

#[test]
fn info_multiple_sections_and_case() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(
        headers(&info(&mut c, &["server", "clients"])),
        ["Server", "Clients"]
    );
    assert_eq!(
        headers(&info(&mut c, &["KEYSPACE", "Server"])),
        ["Server", "Keyspace"]
    );
}

#[test]
fn info_unknown_section_is_empty() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"INFO foo\r\n", b"$0\r\n\r\n");
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn info_all_and_everything_include_commandstats() {
    let srv = TestServer::start();
    let mut c = srv.client();
    for s in ["all", "everything"] {
        let h = headers(&info(&mut c, &[s]));
        assert!(h.iter().any(|x| x == "Commandstats"), "{s}: {h:?}");
        assert!(h.iter().any(|x| x == "Server"), "{s}: {h:?}");
        assert!(h.iter().any(|x| x == "Keyspace"), "{s}: {h:?}");
    }
}

#[test]
fn info_keyspace_counts_keys_and_expires_per_database() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let mut raw = srv.raw();
    // Empty: the header alone.
    raw.roundtrip(b"INFO keyspace\r\n", b"$12\r\n# Keyspace\r\n\r\n");
    set(&mut c, "k", "v");
    let _: () = redis::cmd("SET")
        .arg("k2")
        .arg("v2")
        .arg("EX")
        .arg(100)
        .query(&mut c)
        .unwrap();
    select(&mut c, 3);
    set(&mut c, "x", "1");
    let text = info(&mut c, &["keyspace"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "# Keyspace");
    assert_eq!(lines.len(), 3, "{text:?}");
    assert!(
        lines[1].starts_with("db0:keys=2,expires=1,avg_ttl="),
        "{text:?}"
    );
    assert_eq!(lines[2], "db3:keys=1,expires=0,avg_ttl=0");
    assert!(text.ends_with("avg_ttl=0\r\n"), "{text:?}");
    let _: () = redis::cmd("FLUSHALL").query(&mut c).unwrap();
    assert_eq!(info(&mut c, &["keyspace"]), "# Keyspace\r\n");
}

#[test]
fn info_keyspace_reports_average_ttl_of_volatile_keys() {
    // Redis estimates avg_ttl (milliseconds) in the background expiry cycle.
    let srv = TestServer::start();
    let mut c = srv.client();
    for i in 0..10 {
        let _: () = redis::cmd("SET")
            .arg(format!("k{i}"))
            .arg("v")
            .arg("EX")
            .arg(100)
            .query(&mut c)
            .unwrap();
    }
    let mut last = String::new();
    eventually("avg_ttl to be estimated", || {
        last = info(&mut c, &["keyspace"]);
        let avg: u64 = last
            .split("avg_ttl=")
            .nth(1)
            .and_then(|v| v.trim_end().parse().ok())
            .unwrap_or(0);
        avg > 90_000 && avg <= 100_000
    });
}

#[test]
fn info_clients_counts_connections() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let n0: i64 = info_fields(&info(&mut a, &["clients"]))["connected_clients"]
        .parse()
        .unwrap();
    let _b = srv.client();
    let _c = srv.client();
    let n1: i64 = info_fields(&info(&mut a, &["clients"]))["connected_clients"]
        .parse()
        .unwrap();
    assert_eq!(n1, n0 + 2);
    assert_eq!(
        info_fields(&info(&mut a, &["clients"]))["maxclients"],
        "10000"
    );
}

/// Command statistics live in the process-wide command table, so every server in this test
/// binary shares them (and CONFIG RESETSTAT on one resets them for all). Tests that read or
/// reset them take this lock and use commands no other test here runs.
static COMMAND_STATS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The `cmdstat_<name>` fields, or None when the command is not listed.
fn cmdstat(con: &mut redis::Connection, name: &str) -> Option<HashMap<String, u64>> {
    let text = info(con, &["commandstats"]);
    assert_eq!(headers(&text), ["Commandstats"]);
    info_fields(&text).get(&format!("cmdstat_{name}")).map(|v| {
        v.split(',')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_string(), v.parse::<f64>().unwrap() as u64)
            })
            .collect()
    })
}

fn cmdstat_or_zero(con: &mut redis::Connection, name: &str, field: &str) -> u64 {
    cmdstat(con, name).map_or(0, |m| m[field])
}

#[test]
fn info_commandstats_counts_calls_rejections_and_failures() {
    let _guard = COMMAND_STATS.lock().unwrap_or_else(|e| e.into_inner());
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "s", "abc");
    let calls0 = cmdstat_or_zero(&mut c, "strlen", "calls");
    let rejected0 = cmdstat_or_zero(&mut c, "strlen", "rejected_calls");
    let failed0 = cmdstat_or_zero(&mut c, "incrby", "failed_calls");
    let incrby0 = cmdstat_or_zero(&mut c, "incrby", "calls");
    let sub0 = cmdstat_or_zero(&mut c, "client|getname", "calls");
    for _ in 0..3 {
        let n: i64 = redis::cmd("STRLEN").arg("s").query(&mut c).unwrap();
        assert_eq!(n, 3);
    }
    // Arity errors are rejected calls; errors from the command itself are failed calls.
    let _: redis::RedisResult<redis::Value> = redis::cmd("STRLEN").query(&mut c);
    let _: redis::RedisResult<redis::Value> = redis::cmd("INCRBY").arg("s").arg(1).query(&mut c);
    let _: Option<String> = redis::cmd("CLIENT").arg("GETNAME").query(&mut c).unwrap();
    let strlen = cmdstat(&mut c, "strlen").expect("strlen listed");
    assert_eq!(strlen["calls"], calls0 + 3);
    assert_eq!(strlen["rejected_calls"], rejected0 + 1);
    assert_eq!(strlen["failed_calls"], 0);
    assert!(strlen.contains_key("usec") && strlen.contains_key("usec_per_call"));
    assert_eq!(cmdstat_or_zero(&mut c, "incrby", "calls"), incrby0 + 1);
    assert_eq!(
        cmdstat_or_zero(&mut c, "incrby", "failed_calls"),
        failed0 + 1
    );
    assert_eq!(
        cmdstat_or_zero(&mut c, "client|getname", "calls"),
        sub0 + 1,
        "subcommands are counted under container|sub"
    );
}

#[test]
fn info_errorstats_counts_error_replies_by_code() {
    let srv = TestServer::start_with("[auth]\nrequirepass = \"secret\"\n");
    let mut raw = srv.raw();
    raw.roundtrip(b"PING\r\n", b"-NOAUTH Authentication required.\r\n");
    raw.roundtrip(b"PING\r\n", b"-NOAUTH Authentication required.\r\n");
    raw.roundtrip(
        b"AUTH bad\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    raw.roundtrip(b"AUTH secret\r\n", b"+OK\r\n");
    raw.roundtrip(
        b"nosuch\r\n",
        b"-ERR unknown command 'nosuch', with args beginning with: \r\n",
    );
    raw.roundtrip(
        b"GET\r\n",
        b"-ERR wrong number of arguments for 'get' command\r\n",
    );
    let url = format!("redis://:secret@{}/", srv.addr);
    let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
    let text = info(&mut c, &["errorstats"]);
    assert_eq!(headers(&text), ["Errorstats"]);
    let f = info_fields(&text);
    assert_eq!(f["errorstat_NOAUTH"], "count=2", "{text}");
    assert_eq!(f["errorstat_WRONGPASS"], "count=1", "{text}");
    assert_eq!(f["errorstat_ERR"], "count=2", "{text}");
    let stats = info_fields(&info(&mut c, &["stats"]));
    assert_eq!(stats["total_error_replies"], "5");
}

#[test]
fn info_stats_counts_commands_and_connections() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let before = info_fields(&info(&mut c, &["stats"]));
    let n0: u64 = before["total_commands_processed"].parse().unwrap();
    let conns0: u64 = before["total_connections_received"].parse().unwrap();
    for _ in 0..5 {
        assert_alive(&mut c);
    }
    let _other = srv.client();
    let after = info_fields(&info(&mut c, &["stats"]));
    let n1: u64 = after["total_commands_processed"].parse().unwrap();
    let conns1: u64 = after["total_connections_received"].parse().unwrap();
    // INFO, 5 PINGs, and the new client's two CLIENT SETINFO calls.
    assert!(n1 >= n0 + 6, "{n0} -> {n1}");
    assert_eq!(conns1, conns0 + 1);
}

// ---------------------------------------------------------------------------------------------
// DBSIZE / FLUSHDB / FLUSHALL
// ---------------------------------------------------------------------------------------------

#[test]
fn dbsize_counts_keys_of_the_selected_database() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(dbsize(&mut c), 0);
    for i in 0..5 {
        set(&mut c, format!("k{i}"), "v");
    }
    assert_eq!(dbsize(&mut c), 5);
    select(&mut c, 1);
    assert_eq!(dbsize(&mut c), 0);
    set(&mut c, "x", "v");
    assert_eq!(dbsize(&mut c), 1);
    assert_err_exact(
        &mut c,
        redis::cmd("DBSIZE").arg("x"),
        "ERR wrong number of arguments for 'dbsize' command",
    );
}

#[test]
fn flushdb_clears_only_the_selected_database() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "a", "1");
    select(&mut c, 2);
    set(&mut c, "b", "2");
    set(&mut c, "c", "3");
    let r: String = redis::cmd("FLUSHDB").query(&mut c).unwrap();
    assert_eq!(r, "OK");
    assert_eq!(dbsize(&mut c), 0);
    select(&mut c, 0);
    assert_eq!(dbsize(&mut c), 1, "db 0 untouched");
}

#[test]
fn flushdb_async_and_sync() {
    let srv = TestServer::start();
    let mut c = srv.client();
    for mode in ["ASYNC", "sync", "async", "SYNC"] {
        for i in 0..100 {
            set(&mut c, format!("k{i}"), "v");
        }
        let r: String = redis::cmd("FLUSHDB").arg(mode).query(&mut c).unwrap();
        assert_eq!(r, "OK");
        assert_eq!(dbsize(&mut c), 0, "FLUSHDB {mode}");
    }
}

#[test]
fn flushall_clears_every_database() {
    let srv = TestServer::start();
    let mut c = srv.client();
    for db in [0, 5, 15] {
        select(&mut c, db);
        set(&mut c, "k", "v");
    }
    let mut other = srv.client();
    select(&mut other, 5);
    let r: String = redis::cmd("FLUSHALL").query(&mut c).unwrap();
    assert_eq!(r, "OK");
    for db in [0, 5, 15] {
        select(&mut c, db);
        assert_eq!(dbsize(&mut c), 0, "db {db}");
    }
    assert_eq!(dbsize(&mut other), 0, "seen from another connection");
}

#[test]
fn flushall_async_and_sync() {
    let srv = TestServer::start();
    let mut c = srv.client();
    for mode in ["ASYNC", "SYNC"] {
        set(&mut c, "k", "v");
        select(&mut c, 1);
        set(&mut c, "k", "v");
        let r: String = redis::cmd("FLUSHALL").arg(mode).query(&mut c).unwrap();
        assert_eq!(r, "OK");
        assert_eq!(dbsize(&mut c), 0);
        select(&mut c, 0);
        assert_eq!(dbsize(&mut c), 0, "FLUSHALL {mode}");
    }
}

/// INFO's lazyfree counters follow what a background thread really frees: a big ASYNC flush
/// (past 10 000 keys) goes there, a SYNC one and a small ASYNC one are freed inline.
#[test]
fn lazyfree_counters_count_what_a_background_thread_freed() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let lazy = |c: &mut redis::Connection| {
        let f = info_fields(&info(c, &["memory"]));
        (
            f["lazyfree_pending_objects"].clone(),
            f["lazyfreed_objects"].clone(),
        )
    };
    assert_eq!(lazy(&mut c), ("0".into(), "0".into()));
    let fill = |c: &mut redis::Connection, n: usize| {
        for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
            let mut mset = redis::cmd("MSET");
            for i in chunk {
                mset.arg(format!("k{i}")).arg("v");
            }
            let _: () = mset.query(c).unwrap();
        }
    };
    fill(&mut c, 12_000);
    let _: () = redis::cmd("FLUSHALL").arg("SYNC").query(&mut c).unwrap();
    fill(&mut c, 100);
    let _: () = redis::cmd("FLUSHDB").arg("ASYNC").query(&mut c).unwrap();
    assert_eq!(lazy(&mut c), ("0".into(), "0".into()));
    fill(&mut c, 12_000);
    let _: () = redis::cmd("FLUSHALL").arg("ASYNC").query(&mut c).unwrap();
    assert_eq!(dbsize(&mut c), 0);
    eventually("the background free", || {
        lazy(&mut c) == ("0".into(), "12000".into())
    });
    // CONFIG RESETSTAT clears the count of freed objects, as Redis's does.
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut c).unwrap();
    assert_eq!(lazy(&mut c), ("0".into(), "0".into()));
}

#[test]
fn flush_with_bad_argument_is_a_syntax_error_and_flushes_nothing() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "v");
    for cmd in ["FLUSHDB", "FLUSHALL"] {
        assert_err_exact(&mut c, redis::cmd(cmd).arg("foo"), "ERR syntax error");
        assert_err_exact(
            &mut c,
            redis::cmd(cmd).arg("ASYNC").arg("SYNC"),
            "ERR syntax error",
        );
    }
    assert_eq!(dbsize(&mut c), 1);
}

// ---------------------------------------------------------------------------------------------
// TIME
// ---------------------------------------------------------------------------------------------

#[test]
fn time_returns_seconds_and_microseconds() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.send(b"TIME\r\n");
    assert_eq!(raw.read_line(), b"*2\r\n");
    let mut c = srv.client();
    let v: Vec<String> = redis::cmd("TIME").query(&mut c).unwrap();
    assert_eq!(v.len(), 2);
    let secs: u64 = v[0].parse().unwrap();
    let micros: u64 = v[1].parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(secs.abs_diff(now) <= 2, "{secs} vs {now}");
    assert!(micros < 1_000_000);
    assert_err_exact(
        &mut c,
        redis::cmd("TIME").arg("x"),
        "ERR wrong number of arguments for 'time' command",
    );
}

// ---------------------------------------------------------------------------------------------
// MEMORY
// ---------------------------------------------------------------------------------------------

#[test]
fn memory_usage_of_existing_and_missing_keys() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "small", "v");
    set(&mut c, "big", "x".repeat(10_000));
    let small: i64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("small")
        .query(&mut c)
        .unwrap();
    let big: i64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("big")
        .query(&mut c)
        .unwrap();
    assert!(small > 0);
    assert!(big >= 10_000 && big > small, "{small} {big}");
    let with_samples: i64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("big")
        .arg("SAMPLES")
        .arg(0)
        .query(&mut c)
        .unwrap();
    assert_eq!(with_samples, big);
    let mut raw = srv.raw();
    raw.roundtrip(b"MEMORY USAGE nokey\r\n", b"$-1\r\n");
}

#[test]
fn memory_usage_errors() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "v");
    assert_err_exact(
        &mut c,
        redis::cmd("MEMORY").arg("USAGE"),
        "ERR wrong number of arguments for 'memory|usage' command",
    );
    assert_err_exact(
        &mut c,
        redis::cmd("MEMORY")
            .arg("USAGE")
            .arg("k")
            .arg("SAMPLES")
            .arg("x"),
        "ERR value is not an integer or out of range",
    );
    assert_err_exact(
        &mut c,
        redis::cmd("MEMORY").arg("USAGE").arg("k").arg("SAMPLES"),
        "ERR syntax error",
    );
    assert_err_exact(
        &mut c,
        redis::cmd("MEMORY")
            .arg("USAGE")
            .arg("k")
            .arg("FOO")
            .arg("1"),
        "ERR syntax error",
    );
}

#[test]
fn memory_stats_is_a_map_with_redis_fields() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "a", "1");
    set(&mut c, "b", "2");
    let flat: Vec<redis::Value> = redis::cmd("MEMORY").arg("STATS").query(&mut c).unwrap();
    assert_eq!(flat.len() % 2, 0);
    let mut m: HashMap<String, redis::Value> = HashMap::new();
    for p in flat.chunks(2) {
        let k: String = redis::from_redis_value_ref(&p[0]).unwrap();
        m.insert(k, p[1].clone());
    }
    for key in [
        "peak.allocated",
        "total.allocated",
        "startup.allocated",
        "keys.count",
        "dataset.bytes",
        "overhead.total",
    ] {
        assert!(
            matches!(m.get(key), Some(redis::Value::Int(_))),
            "{key}: {m:?}"
        );
    }
    assert_eq!(m["keys.count"], redis::Value::Int(2));
    assert!(m.contains_key("db.0"), "{m:?}");
    // In RESP3 the reply is a real map.
    let mut c3 = srv.client_resp3();
    let v: redis::Value = redis::cmd("MEMORY").arg("STATS").query(&mut c3).unwrap();
    assert!(matches!(v, redis::Value::Map(_)), "{v:?}");
    assert_err_exact(
        &mut c,
        redis::cmd("MEMORY").arg("STATS").arg("x"),
        "ERR wrong number of arguments for 'memory|stats' command",
    );
}

#[test]
fn memory_doctor_returns_a_report() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let empty: String = redis::cmd("MEMORY").arg("DOCTOR").query(&mut c).unwrap();
    assert!(
        empty.starts_with("Hi Sam, this instance is empty"),
        "{empty}"
    );
    set(&mut c, "k", "v");
    let report: String = redis::cmd("MEMORY").arg("DOCTOR").query(&mut c).unwrap();
    assert!(report.contains("Sam"), "{report}");
    assert_err_exact(
        &mut c,
        redis::cmd("MEMORY").arg("DOCTOR").arg("x"),
        "ERR wrong number of arguments for 'memory|doctor' command",
    );
}

#[test]
fn memory_help_and_unknown_subcommand() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let lines: Vec<String> = redis::cmd("MEMORY").arg("HELP").query(&mut c).unwrap();
    assert_eq!(
        lines[0],
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    for sub in ["DOCTOR", "STATS", "USAGE <key> [SAMPLES <count>]", "HELP"] {
        assert!(lines.iter().any(|l| l == sub), "{sub}: {lines:?}");
    }
    assert_err_exact(
        &mut c,
        redis::cmd("MEMORY").arg("foo"),
        "ERR unknown subcommand 'foo'. Try MEMORY HELP.",
    );
    assert_err_exact(
        &mut c,
        &mut redis::cmd("MEMORY"),
        "ERR wrong number of arguments for 'memory' command",
    );
}

// ---------------------------------------------------------------------------------------------
// CONFIG GET
// ---------------------------------------------------------------------------------------------

#[test]
fn config_get_exact_name() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(
        b"CONFIG GET maxmemory\r\n",
        b"*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n",
    );
    // An exact name is answered under the spelling it was asked with.
    raw.roundtrip(
        b"CONFIG GET MAXMEMORY\r\n",
        b"*2\r\n$9\r\nMAXMEMORY\r\n$1\r\n0\r\n",
    );
    raw.roundtrip(b"CONFIG GET nosuch\r\n", b"*0\r\n");
}

#[test]
fn config_get_glob_pattern() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let mut names: Vec<String> = config_get(&mut c, &["maxmemory*"])
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "maxmemory",
            "maxmemory-clients",
            "maxmemory-eviction-tenacity",
            "maxmemory-policy",
            "maxmemory-samples"
        ]
    );
    let all = config_get(&mut c, &["*"]);
    assert!(all.len() > 100, "{}", all.len());
    let qm = config_get(&mut c, &["h?"]);
    assert_eq!(qm, [("hz".to_string(), "10".to_string())]);
}

#[test]
fn config_hidden_parameters_answer_by_name_only() {
    let srv = TestServer::start();
    let mut c = srv.client();
    // Redis's debugging knobs: test suites read and set them by name; globs never list them.
    for (name, default) in [
        ("key-load-delay", "0"),
        ("rdb-key-save-delay", "0"),
        ("loading-process-events-interval-bytes", "2097152"),
        ("watchdog-period", "0"),
        ("use-exit-on-panic", "no"),
    ] {
        assert_eq!(config_value(&mut c, name), default, "{name}");
        assert!(
            config_get(&mut c, &["*"]).iter().all(|(n, _)| n != name),
            "{name} listed by *"
        );
    }
    config_set(&mut c, &[("key-load-delay", "-5")]);
    assert_eq!(config_value(&mut c, "key-load-delay"), "-5");
    assert_err_exact(
        &mut c,
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("loading-process-events-interval-bytes")
            .arg("1023"),
        "ERR CONFIG SET failed (possibly related to argument \
         'loading-process-events-interval-bytes') - argument must be between 1024 and \
         2147483647 inclusive",
    );
}

#[test]
fn config_get_multiple_patterns_reports_each_parameter_once() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let mut got = config_get(&mut c, &["maxmemory", "timeout"]);
    got.sort();
    assert_eq!(
        got,
        [
            ("maxmemory".to_string(), "0".to_string()),
            ("timeout".to_string(), "0".to_string())
        ]
    );
    assert_eq!(config_get(&mut c, &["maxmemory", "maxmemory"]).len(), 1);
    let overlap = config_get(&mut c, &["maxmemory*", "maxmemory"]);
    assert_eq!(overlap.len(), 5, "{overlap:?}");
}

#[test]
fn config_get_aliases_report_under_the_alias() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(
        config_get(&mut c, &["hash-max-ziplist-entries"]),
        [("hash-max-ziplist-entries".to_string(), "512".to_string())]
    );
    assert_eq!(config_value(&mut c, "slave-read-only"), "yes");
    assert_eq!(config_value(&mut c, "lua-time-limit"), "5000");
    // A glob matching both the name and the alias reports both.
    let mut names: Vec<String> = config_get(&mut c, &["hash-max-*-entries"])
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["hash-max-listpack-entries", "hash-max-ziplist-entries"]
    );
}

#[test]
fn config_get_encoding_thresholds_have_redis_7_defaults() {
    let srv = TestServer::start();
    let mut c = srv.client();
    for (name, want) in [
        ("hash-max-listpack-entries", "512"),
        ("hash-max-listpack-value", "64"),
        ("hash-max-ziplist-entries", "512"),
        ("hash-max-ziplist-value", "64"),
        ("zset-max-listpack-entries", "128"),
        ("zset-max-listpack-value", "64"),
        ("zset-max-ziplist-entries", "128"),
        ("zset-max-ziplist-value", "64"),
        ("list-max-listpack-size", "-2"),
        ("list-max-ziplist-size", "-2"),
        ("list-compress-depth", "0"),
        ("set-max-intset-entries", "512"),
        ("set-max-listpack-entries", "128"),
        ("set-max-listpack-value", "64"),
        ("stream-node-max-bytes", "4096"),
        ("stream-node-max-entries", "100"),
        ("hll-sparse-max-bytes", "3000"),
    ] {
        assert_eq!(config_value(&mut c, name), want, "{name}");
    }
}

#[test]
fn config_get_reflects_startup_configuration() {
    let srv = TestServer::start_with("[limits]\nproto_max_bulk_len = \"2mb\"\n");
    let mut c = srv.client();
    assert_eq!(config_value(&mut c, "proto-max-bulk-len"), "2097152");
    assert_eq!(config_value(&mut c, "port"), srv.addr.port().to_string());
    assert_eq!(config_value(&mut c, "databases"), "16");
    assert_eq!(config_value(&mut c, "maxmemory-policy"), "noeviction");
}

#[test]
fn config_get_is_a_map_in_resp3() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.send(b"HELLO 3\r\n");
    // The HELLO map: 7 pairs of single-line values but for the modules array (`*0`).
    for _ in 0..(1 + 7 * 2 * 2 - 3) {
        raw.read_line();
    }
    raw.roundtrip(
        b"CONFIG GET maxmemory\r\n",
        b"%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n",
    );
    let mut c3 = srv.client_resp3();
    let v: redis::Value = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory")
        .query(&mut c3)
        .unwrap();
    assert_eq!(
        v,
        redis::Value::Map(vec![(
            redis::Value::BulkString(b"maxmemory".to_vec()),
            redis::Value::BulkString(b"0".to_vec())
        )])
    );
}

#[test]
fn config_get_arity_and_subcommand_errors() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_err_exact(
        &mut c,
        redis::cmd("CONFIG").arg("GET"),
        "ERR wrong number of arguments for 'config|get' command",
    );
    assert_err_exact(
        &mut c,
        &mut redis::cmd("CONFIG"),
        "ERR wrong number of arguments for 'config' command",
    );
    assert_err_exact(
        &mut c,
        redis::cmd("CONFIG").arg("foo"),
        "ERR unknown subcommand 'foo'. Try CONFIG HELP.",
    );
}

// ---------------------------------------------------------------------------------------------
// CONFIG SET
// ---------------------------------------------------------------------------------------------

#[test]
fn config_set_then_get_round_trips_canonical_values() {
    let srv = TestServer::start();
    let mut c = srv.client();
    config_set(&mut c, &[("maxmemory", "100mb")]);
    assert_eq!(config_value(&mut c, "maxmemory"), "104857600");
    config_set(&mut c, &[("MAXMEMORY", "1gb")]);
    assert_eq!(config_value(&mut c, "maxmemory"), "1073741824");
    config_set(&mut c, &[("maxmemory", "10k")]);
    assert_eq!(config_value(&mut c, "maxmemory"), "10000");
    config_set(&mut c, &[("maxmemory-policy", "ALLKEYS-LRU")]);
    assert_eq!(config_value(&mut c, "maxmemory-policy"), "allkeys-lru");
    config_set(&mut c, &[("appendonly", "YES")]);
    assert_eq!(config_value(&mut c, "appendonly"), "yes");
    // Setting through an alias changes the parameter.
    config_set(&mut c, &[("hash-max-ziplist-entries", "100")]);
    assert_eq!(config_value(&mut c, "hash-max-listpack-entries"), "100");
    // Visible from another connection, and in INFO.
    let mut other = srv.client();
    assert_eq!(config_value(&mut other, "maxmemory-policy"), "allkeys-lru");
    let mem = info_fields(&info(&mut other, &["memory"]));
    assert_eq!(mem["maxmemory"], "10000");
    assert_eq!(mem["maxmemory_policy"], "allkeys-lru");
}

#[test]
fn config_set_multiple_pairs_at_once() {
    let srv = TestServer::start();
    let mut c = srv.client();
    config_set(
        &mut c,
        &[("maxmemory", "10mb"), ("timeout", "5"), ("hz", "20")],
    );
    assert_eq!(config_value(&mut c, "maxmemory"), "10485760");
    assert_eq!(config_value(&mut c, "timeout"), "5");
    assert_eq!(config_value(&mut c, "hz"), "20");
}

#[test]
fn config_set_is_all_or_nothing() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_err_exact(
        &mut c,
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("maxmemory")
            .arg("10mb")
            .arg("maxmemory-policy")
            .arg("bogus"),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction",
    );
    assert_eq!(config_value(&mut c, "maxmemory"), "0", "nothing applied");
}

#[test]
fn config_set_invalid_values_have_redis_error_texts() {
    let srv = TestServer::start();
    let mut c = srv.client();
    for (name, value, reason) in [
        ("maxmemory", "abc", "argument must be a memory value"),
        (
            "maxmemory-samples",
            "0",
            "argument must be between 1 and 2147483647 inclusive",
        ),
        ("hz", "x", "argument couldn't be parsed into an integer"),
        ("appendonly", "maybe", "argument must be 'yes' or 'no'"),
        (
            "loglevel",
            "loud",
            "argument(s) must be one of the following: debug, verbose, notice, warning",
        ),
    ] {
        assert_err_exact(
            &mut c,
            redis::cmd("CONFIG").arg("SET").arg(name).arg(value),
            &format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}"),
        );
    }
}

#[test]
fn config_set_unknown_parameter() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_err_exact(
        &mut c,
        redis::cmd("CONFIG").arg("SET").arg("foo").arg("bar"),
        "ERR Unknown option or number of arguments for CONFIG SET - 'foo'",
    );
    // An unknown name anywhere is reported before any value error.
    assert_err_exact(
        &mut c,
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("maxmemory")
            .arg("oops")
            .arg("foo")
            .arg("2"),
        "ERR Unknown option or number of arguments for CONFIG SET - 'foo'",
    );
}

/// The listener is bound once at startup: CONFIG SET port/bind accepts the current value (as
/// Redis's CONFIG sanity test sets every parameter to itself) and fails any other with Redis's
/// cannot-listen error, leaving the other parameters of the call unapplied.
#[test]
fn config_set_port_and_bind_accept_only_the_current_value() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let port = config_value(&mut c, "port");
    let bind = config_value(&mut c, "bind");
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("port")
        .arg(&port)
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("bind")
        .arg(&bind)
        .query(&mut c)
        .unwrap();
    let other = (srv.addr.port() as u32 + 1) % 65536;
    assert_err_exact(
        &mut c,
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("maxmemory")
            .arg("10000001")
            .arg("port")
            .arg(other),
        "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port: tenantkv binds its listener at startup only",
    );
    assert_eq!(config_value(&mut c, "maxmemory"), "0");
    assert_eq!(config_value(&mut c, "port"), port);
    assert_err_exact(
        &mut c,
        redis::cmd("CONFIG").arg("SET").arg("bind").arg("127.0.0.2"),
        "ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses: tenantkv binds its listener at startup only",
    );
}

#[test]
fn config_set_immutable_and_duplicate_parameters() {
    let srv = TestServer::start();
    let mut c = srv.client();
    for name in ["daemonize", "databases"] {
        assert_err_exact(
            &mut c,
            redis::cmd("CONFIG").arg("SET").arg(name).arg("3"),
            &format!(
                "ERR CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config"
            ),
        );
    }
    assert_err_exact(
        &mut c,
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("maxmemory")
            .arg("1")
            .arg("maxmemory")
            .arg("2"),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter",
    );
    assert_eq!(config_value(&mut c, "databases"), "16");
    assert_eq!(config_value(&mut c, "maxmemory"), "0");
}

#[test]
fn config_set_protected_parameter_is_refused() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let dir = config_value(&mut c, "dir");
    assert_err_exact(
        &mut c,
        redis::cmd("CONFIG").arg("SET").arg("dir").arg("/tmp"),
        "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config",
    );
    assert_eq!(config_value(&mut c, "dir"), dir);
}

#[test]
fn config_set_requirepass_applies_to_new_connections() {
    let srv = TestServer::start();
    let mut admin = srv.client();
    config_set(&mut admin, &[("requirepass", "s3cret")]);
    assert_alive(&mut admin);
    let mut raw = srv.raw();
    raw.roundtrip(b"PING\r\n", b"-NOAUTH Authentication required.\r\n");
    raw.roundtrip(b"AUTH s3cret\r\n", b"+OK\r\n");
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
    config_set(&mut admin, &[("requirepass", "")]);
    let mut open = srv.raw();
    open.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn config_set_timeout_closes_idle_connections_opened_afterwards() {
    let srv = TestServer::start();
    let mut admin = srv.client();
    config_set(&mut admin, &[("timeout", "1")]);
    let mut idle = srv.raw();
    idle.roundtrip(b"PING\r\n", b"+PONG\r\n");
    let started = Instant::now();
    idle.stream()
        .set_read_timeout(Some(Duration::from_secs(8)))
        .unwrap();
    assert!(idle.is_closed(), "idle connection closed by the server");
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[test]
fn config_set_timeout_closes_connections_that_were_already_idle() {
    // Redis's clientsCron checks every client against the current timeout, including ones
    // that went idle before CONFIG SET timeout.
    let srv = TestServer::start();
    let mut idle = srv.raw();
    idle.roundtrip(b"PING\r\n", b"+PONG\r\n");
    let mut admin = srv.client();
    config_set(&mut admin, &[("timeout", "1")]);
    idle.stream()
        .set_read_timeout(Some(Duration::from_secs(8)))
        .unwrap();
    let mut b = [0u8; 1];
    let r = idle.read(&mut b);
    assert!(
        matches!(r, Ok(0)),
        "already-idle connection should be closed within a few seconds, got {r:?}"
    );
}

#[test]
fn config_set_missing_value_is_an_arity_error() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_err_exact(
        &mut c,
        redis::cmd("CONFIG").arg("SET").arg("maxmemory"),
        "ERR wrong number of arguments for 'config|set' command",
    );
}

#[test]
fn config_set_odd_number_of_arguments_is_a_syntax_error() {
    // Redis: arity -4 is satisfied, then `argc & 1` -> shared.syntaxerr.
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_err_exact(
        &mut c,
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("maxmemory")
            .arg("1")
            .arg("hz"),
        "ERR syntax error",
    );
    assert_eq!(config_value(&mut c, "maxmemory"), "0");
}

#[test]
fn config_set_maxclients_takes_effect_for_new_connections() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let connected: i64 = info_fields(&info(&mut c, &["clients"]))["connected_clients"]
        .parse()
        .unwrap();
    config_set(&mut c, &[("maxclients", &connected.to_string())]);
    // The refusal is written on accept, before the client sends anything.
    let mut raw = srv.raw();
    let got = raw.read_n(36);
    assert_eq!(got, b"-ERR max number of clients reached\r\n");
    assert!(raw.is_closed());
    config_set(&mut c, &[("maxclients", "10000")]);
    let mut again = srv.raw();
    again.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

// ---------------------------------------------------------------------------------------------
// CONFIG RESETSTAT / HELP
// ---------------------------------------------------------------------------------------------

#[test]
fn config_resetstat_clears_command_and_error_statistics() {
    let _guard = COMMAND_STATS.lock().unwrap_or_else(|e| e.into_inner());
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "s", "abc");
    for _ in 0..3 {
        let _: String = redis::cmd("GETRANGE")
            .arg("s")
            .arg(0)
            .arg(1)
            .query(&mut c)
            .unwrap();
    }
    let _: redis::RedisResult<redis::Value> = redis::cmd("nosuch").query(&mut c);
    assert!(cmdstat(&mut c, "getrange").is_some());
    let r: String = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut c).unwrap();
    assert_eq!(r, "OK");
    let f = info_fields(&info(&mut c, &["commandstats", "errorstats", "stats"]));
    assert!(!f.contains_key("cmdstat_getrange"), "{f:?}");
    assert!(!f.contains_key("errorstat_ERR"), "{f:?}");
    assert_eq!(f["total_error_replies"], "0");
    assert_err_exact(
        &mut c,
        redis::cmd("CONFIG").arg("RESETSTAT").arg("x"),
        "ERR wrong number of arguments for 'config|resetstat' command",
    );
}

#[test]
fn config_help_lists_subcommands() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let lines: Vec<String> = redis::cmd("CONFIG").arg("HELP").query(&mut c).unwrap();
    assert_eq!(
        lines[0],
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    for sub in [
        "GET <pattern>",
        "SET <directive> <value>",
        "RESETSTAT",
        "HELP",
    ] {
        assert!(lines.iter().any(|l| l == sub), "{sub}: {lines:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// SHUTDOWN
// ---------------------------------------------------------------------------------------------

#[test]
fn shutdown_closes_without_reply_and_stops_accepting() {
    let srv = TestServer::start();
    let mut bystander = srv.raw();
    bystander.roundtrip(b"PING\r\n", b"+PONG\r\n");
    let mut raw = srv.raw();
    raw.send(b"SHUTDOWN NOSAVE\r\n");
    let mut buf = Vec::new();
    let _ = raw.read_to_end(&mut buf);
    assert!(buf.is_empty(), "no reply to SHUTDOWN: {buf:?}");
    assert!(bystander.is_closed(), "other clients are disconnected");
    eventually("new connections to be refused", || {
        TcpStream::connect_timeout(&srv.addr, Duration::from_millis(200)).is_err()
    });
}

#[test]
fn shutdown_plain_also_stops_the_server() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let r: redis::RedisResult<redis::Value> = redis::cmd("SHUTDOWN").query(&mut c);
    assert!(
        r.is_err(),
        "the connection closes instead of replying: {r:?}"
    );
    eventually("new connections to be refused", || {
        TcpStream::connect_timeout(&srv.addr, Duration::from_millis(200)).is_err()
    });
}

#[test]
fn shutdown_abort_and_bad_option_do_not_stop_the_server() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"SHUTDOWN ABORT\r\n", b"-ERR No shutdown in progress.\r\n");
    raw.roundtrip(b"SHUTDOWN FOO\r\n", b"-ERR syntax error\r\n");
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
    let mut c = srv.client();
    assert_alive(&mut c);
}
