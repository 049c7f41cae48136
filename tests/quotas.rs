//! Per-tenant quotas enforced on the request path: ops/s (token bucket), connections, keys,
//! memory with each eviction policy, limits changed live (TENANT.LIMITS.SET/GET), usage
//! (TENANT.QUOTA) and rejection counters, including under concurrent writers.
mod common;

use common::{connect_tenant as connect, create_tenant as tenant, TestServer};
use redis::{cmd, Connection, Value};
use std::time::{Duration, Instant};

/// Runs a quota case on two workers, where commands of different connections run at the same
/// time and hold reservations, and on one, where they run one at a time and hold none.
macro_rules! on_two_workers_and_one {
    ($case:ident) => {
        mod $case {
            #[test]
            fn two_workers() {
                super::$case(2);
            }

            #[test]
            fn one_worker() {
                super::$case(1);
            }
        }
    };
}

fn admin(srv: &TestServer) -> Connection {
    srv.client()
}

fn map(v: Value) -> std::collections::HashMap<String, Value> {
    let mut out = std::collections::HashMap::new();
    let items: Vec<(Value, Value)> = match v {
        Value::Map(m) => m,
        Value::Array(a) => a.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect(),
        other => panic!("not a map: {other:?}"),
    };
    for (k, v) in items {
        out.insert(redis::from_redis_value(k).unwrap(), v);
    }
    out
}

fn int(v: &Value) -> i64 {
    redis::from_redis_value(v.clone()).unwrap()
}

on_two_workers_and_one!(over_the_ops_limit_commands_get_ratelimit_and_connection_commands_do_not);
fn over_the_ops_limit_commands_get_ratelimit_and_connection_commands_do_not(workers: usize) {
    let srv = TestServer::start_on(workers, "");
    let mut a = admin(&srv);
    let s = tenant(&mut a, "acme", &["OPS", "10"]);
    let mut t = connect(&srv, "acme", &s).unwrap();
    // A burst of one second's worth (ops_burst_seconds = 1.0) is admitted at once.
    for _ in 0..10 {
        let _: Option<String> = cmd("GET").arg("k").query(&mut t).unwrap();
    }
    let e: redis::RedisResult<Option<String>> = cmd("GET").arg("k").query(&mut t);
    let text = common::error_text(&e.unwrap_err());
    assert!(
        text.starts_with("RATELIMIT tenant 'acme' exceeded 10 ops/s, retry in ")
            && text.ends_with(" ms"),
        "{text}"
    );
    let ms: u64 = text
        .trim_end_matches(" ms")
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=100).contains(&ms), "retry hint {ms}");
    // PING, AUTH and HELLO are not charged.
    common::assert_alive(&mut t);
    let _: () = cmd("AUTH").arg("acme").arg(&s).query(&mut t).unwrap();
    // After the hinted wait, commands are admitted again.
    std::thread::sleep(Duration::from_millis(ms + 20));
    let _: Option<String> = cmd("GET").arg("k").query(&mut t).unwrap();
    let info = map(cmd("TENANT.INFO").arg("acme").query(&mut a).unwrap());
    assert!(int(&info["rejected_ops"]) >= 1);
}

on_two_workers_and_one!(accepted_rate_stays_within_ten_percent_of_the_limit);
fn accepted_rate_stays_within_ten_percent_of_the_limit(workers: usize) {
    let srv = TestServer::start_on(workers, "");
    let mut a = admin(&srv);
    let s = tenant(&mut a, "acme", &["OPS", "200"]);
    let mut t = connect(&srv, "acme", &s).unwrap();
    // Spend the initial burst, then offer far more than the limit for two seconds.
    let _ = run_for(&mut t, Duration::from_millis(300));
    let (ok, refused) = run_for(&mut t, Duration::from_secs(2));
    let expected = 200.0 * 2.0;
    assert!(
        (ok as f64 - expected).abs() <= expected * 0.10,
        "admitted {ok} in 2 s at 200 ops/s (refused {refused})"
    );
    // The client offers as much as the server will read, so the limit is hit...
    assert!(refused > 0, "admitted {ok}, never refused");
    // ...but a refused batch pauses the connection for its share of the rate per command it
    // sent, so a flooding client is paced near its limit instead of being refused as fast as
    // it can send (which cost the server a refusal per command: ~20 times the limit here).
    assert!(
        (refused as f64) < expected * 2.0,
        "refused {refused} in 2 s at 200 ops/s: the refusals were not paced"
    );
}

on_two_workers_and_one!(a_refused_flood_is_paced_to_the_rate_instead_of_refused_half_the_time);
fn a_refused_flood_is_paced_to_the_rate_instead_of_refused_half_the_time(workers: usize) {
    let srv = TestServer::start_on(workers, "");
    let mut a = admin(&srv);
    let s = tenant(&mut a, "acme", &["OPS", "400"]);
    // Four connections pipelining as fast as replies come back, as redis-benchmark -P does.
    let totals: Vec<(u64, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (srv, s) = (&srv, &s);
                scope.spawn(move || {
                    let mut t = connect(srv, "acme", s).unwrap();
                    let _ = run_for(&mut t, Duration::from_millis(500));
                    run_for(&mut t, Duration::from_secs(2))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok: u64 = totals.iter().map(|t| t.0).sum();
    let refused: u64 = totals.iter().map(|t| t.1).sum();
    // Pacing must not starve the tenant below its rate; above it, at most the bucket's burst
    // (one second's worth) refilled while the four threads' windows were not aligned.
    assert!(
        (720..=1200).contains(&ok),
        "admitted {ok} in 2 s at 400 ops/s"
    );
    // A refused connection takes turns in the tenant's pacer, for its admitted batches too,
    // so its next batch comes when the rate has room. Refusing it only when it comes back would
    // alternate admitted and refused batches: about as many refusals as admissions.
    assert!(
        refused * 4 <= ok,
        "refused {refused} against {ok} admitted: the flood was not paced"
    );
}

#[test]
fn a_client_back_under_the_rate_after_a_refusal_is_not_held_back() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let s = tenant(&mut a, "acme", &["OPS", "200"]);
    let mut t = connect(&srv, "acme", &s).unwrap();
    // Spend the burst and get refused: the connection is now paced for a second.
    let (_, refused) = run_for(&mut t, Duration::from_millis(200));
    assert!(refused > 0);
    // The next command is read once the refused batch's turn is over (at most a second).
    let _: Option<String> = cmd("GET").arg("k").query(&mut t).unwrap();
    // Back under the rate (50 ops/s, a quarter of it), and still paced: each command waits
    // only for its own turn, never for the flood's.
    for _ in 0..10 {
        let start = Instant::now();
        let _: Option<String> = cmd("GET").arg("k").query(&mut t).unwrap();
        let took = start.elapsed();
        assert!(
            took < Duration::from_millis(100),
            "a GET under the rate took {took:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends pipelined GETs for `d`; returns (admitted, refused).
fn run_for(t: &mut Connection, d: Duration) -> (u64, u64) {
    let (mut ok, mut refused) = (0, 0);
    let start = Instant::now();
    while start.elapsed() < d {
        let mut p = redis::pipe();
        for _ in 0..20 {
            p.cmd("GET").arg("k");
        }
        // Per-command errors come back inside the pipeline's reply.
        let replies: Vec<redis::Value> = p.ignore_errors().query(t).expect("pipeline");
        for r in replies {
            match r {
                redis::Value::ServerError(_) => refused += 1,
                _ => ok += 1,
            }
        }
    }
    (ok, refused)
}

#[test]
fn one_tenant_at_its_ops_limit_never_slows_another() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let sa = tenant(&mut a, "noisy", &["OPS", "5"]);
    let sb = tenant(&mut a, "quiet", &["OPS", "100000"]);
    let mut noisy = connect(&srv, "noisy", &sa).unwrap();
    for _ in 0..20 {
        let _: redis::RedisResult<Option<String>> = cmd("GET").arg("k").query(&mut noisy);
    }
    let mut quiet = connect(&srv, "quiet", &sb).unwrap();
    for i in 0..500 {
        let _: () = cmd("SET").arg("k").arg(i).query(&mut quiet).unwrap();
    }
    let info = map(cmd("TENANT.INFO").arg("quiet").query(&mut a).unwrap());
    assert_eq!(int(&info["rejected_ops"]), 0);
}

#[test]
fn connection_limit_refuses_the_next_connection_and_frees_on_close() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let s = tenant(&mut a, "acme", &["CONNECTIONS", "2"]);
    let c1 = connect(&srv, "acme", &s).unwrap();
    let _c2 = connect(&srv, "acme", &s).unwrap();
    // The client library reports only "authentication failed": read the exact text raw.
    let mut raw = srv.raw();
    let reply = raw.request(format!("AUTH acme {s}\r\n").as_bytes());
    assert_eq!(
        String::from_utf8_lossy(&reply),
        "-ERR max number of connections for tenant 'acme' reached (2)\r\n"
    );
    assert!(connect(&srv, "acme", &s).is_err(), "still full");
    drop(c1);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match connect(&srv, "acme", &s) {
            Ok(_) => break,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("slot not released: {e}"),
        }
    }
    let info = map(cmd("TENANT.INFO").arg("acme").query(&mut a).unwrap());
    assert!(int(&info["rejected_connections"]) >= 1);
}

#[test]
fn tenant_use_counts_as_a_connection_and_exit_releases_it() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let s = tenant(&mut a, "acme", &["CONNECTIONS", "1"]);
    let connections = |a: &mut Connection| {
        int(&map(cmd("TENANT.INFO").arg("acme").query(a).unwrap())["connections"])
    };
    let mut inside = admin(&srv);
    let _: () = cmd("TENANT.USE").arg("acme").query(&mut inside).unwrap();
    assert_eq!(connections(&mut a), 1);
    // The slot is taken: neither a tenant login nor a second TENANT.USE gets in.
    assert!(connect(&srv, "acme", &s).is_err());
    let mut raw = srv.raw();
    assert_eq!(
        String::from_utf8_lossy(&raw.request(b"TENANT.USE acme\r\n")),
        "-ERR max number of connections for tenant 'acme' reached (1)\r\n"
    );
    let _: () = cmd("TENANT.EXIT").query(&mut inside).unwrap();
    assert_eq!(connections(&mut a), 0);
    let _c = connect(&srv, "acme", &s).unwrap();
    assert_eq!(connections(&mut a), 1);
}
#[test]
fn fifty_concurrent_logins_never_pass_the_connection_limit() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let s = tenant(&mut a, "acme", &["CONNECTIONS", "5"]);
    let url = format!("redis://acme:{s}@{}/", srv.addr);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(50));
    let handles: Vec<_> = (0..50)
        .map(|_| {
            let (url, barrier) = (url.clone(), barrier.clone());
            std::thread::spawn(move || {
                let client = redis::Client::open(url).unwrap();
                barrier.wait();
                // Keep the connection open until every thread has tried.
                let c = client.get_connection().ok();
                std::thread::sleep(Duration::from_millis(500));
                c.is_some()
            })
        })
        .collect();
    let admitted = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|ok| *ok)
        .count();
    assert_eq!(admitted, 5);
}

#[test]
fn limits_set_get_and_quota() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let s = tenant(&mut a, "acme", &[]);
    let _: () = cmd("TENANT.LIMITS.SET")
        .arg("acme")
        .arg(&[
            "MEMORY",
            "1mb",
            "KEYS",
            "50",
            "OPS",
            "1000",
            "CONNECTIONS",
            "3",
        ])
        .arg(&["REQUEST", "64kb"])
        .query(&mut a)
        .unwrap();
    let l = map(cmd("TENANT.LIMITS.GET").arg("acme").query(&mut a).unwrap());
    assert_eq!(int(&l["memory"]), 1024 * 1024);
    assert_eq!(int(&l["keys"]), 50);
    assert_eq!(int(&l["ops"]), 1000);
    assert_eq!(int(&l["connections"]), 3);
    assert_eq!(int(&l["databases"]), 1);
    assert_eq!(int(&l["request"]), 65536);
    let mut t = connect(&srv, "acme", &s).unwrap();
    for i in 0..10 {
        let _: () = cmd("SET")
            .arg(format!("k{i}"))
            .arg("v")
            .query(&mut t)
            .unwrap();
    }
    let q = map(cmd("TENANT.QUOTA").arg("acme").query(&mut a).unwrap());
    let keys = map(q["keys"].clone());
    assert_eq!(int(&keys["used"]), 10);
    assert_eq!(int(&keys["limit"]), 50);
    let pct: f64 = redis::from_redis_value(keys["percent"].clone()).unwrap();
    assert!((pct - 20.0).abs() < 0.01, "{pct}");
    let conns = map(q["connections"].clone());
    assert_eq!(int(&conns["used"]), 1);
    let ops = map(q["ops"].clone());
    assert!(int(&ops["used"]) >= 1);
    assert!(int(&map(q["memory"].clone())["used"]) > 0);
    // The tenant's own admin role can read its quota; others cannot.
    let tok: Vec<String> = cmd("TENANT.TOKEN.CREATE")
        .arg(&["acme", "ROLE", "admin"])
        .query(&mut a)
        .unwrap();
    let admin_secret = tok[tok.iter().position(|f| f == "secret").unwrap() + 1].clone();
    let mut ta = connect(&srv, "acme", &admin_secret).unwrap();
    let _: Value = cmd("TENANT.QUOTA").arg("acme").query(&mut ta).unwrap();
    common::expect_err(&mut t, cmd("TENANT.QUOTA").arg("acme"), "NOPERM");
    common::expect_err(
        &mut ta,
        cmd("TENANT.LIMITS.SET").arg(&["acme", "OPS", "1"]),
        "NOPERM",
    );
}

#[test]
fn limits_errors() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    tenant(&mut a, "acme", &[]);
    common::expect_err(
        &mut a,
        cmd("TENANT.LIMITS.SET").arg(&["acme", "CPU", "1"]),
        "ERR unknown limit 'CPU': use MEMORY, KEYS, OPS, CONNECTIONS, DATABASES or REQUEST",
    );
    common::expect_err(
        &mut a,
        cmd("TENANT.LIMITS.SET").arg(&["acme", "OPS"]),
        "ERR wrong number of arguments for 'tenant.limits.set' command",
    );
    common::expect_err(
        &mut a,
        cmd("TENANT.LIMITS.SET").arg(&["acme", "OPS", "1", "KEYS"]),
        "ERR syntax error",
    );
    common::expect_err(
        &mut a,
        cmd("TENANT.LIMITS.SET").arg(&["acme", "MEMORY", "lots"]),
        "ERR invalid memory size 'lots'",
    );
    common::expect_err(
        &mut a,
        cmd("TENANT.LIMITS.SET").arg(&["acme", "KEYS", "-1"]),
        "ERR invalid key limit '-1'",
    );
    common::expect_err(
        &mut a,
        cmd("TENANT.LIMITS.SET").arg(&["nobody", "KEYS", "1"]),
        "ERR no such tenant 'nobody'",
    );
}

#[test]
fn a_lowered_ops_limit_applies_at_the_next_command() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let s = tenant(&mut a, "acme", &["OPS", "100000"]);
    let mut t = connect(&srv, "acme", &s).unwrap();
    for _ in 0..50 {
        let _: Option<String> = cmd("GET").arg("k").query(&mut t).unwrap();
    }
    let _: () = cmd("TENANT.LIMITS.SET")
        .arg(&["acme", "OPS", "1"])
        .query(&mut a)
        .unwrap();
    let mut refused = false;
    for _ in 0..5 {
        let r: redis::RedisResult<Option<String>> = cmd("GET").arg("k").query(&mut t);
        refused |= r.is_err();
    }
    assert!(refused, "the new limit applies to the live connection");
    let info: String = cmd("INFO").arg("tenants").query(&mut a).unwrap();
    assert!(info.contains("tenant_acme:state=active"), "{info}");
    assert!(info.contains("rejected_ops="), "{info}");
}

fn set(t: &mut Connection, k: &str, v: &[u8]) -> redis::RedisResult<()> {
    cmd("SET").arg(k).arg(v).query(t)
}

on_two_workers_and_one!(key_limit_refuses_new_keys_but_not_overwrites_or_deletes);
fn key_limit_refuses_new_keys_but_not_overwrites_or_deletes(workers: usize) {
    let srv = TestServer::start_on(workers, "");
    let mut a = admin(&srv);
    let s = tenant(&mut a, "acme", &["KEYS", "5"]);
    let mut t = connect(&srv, "acme", &s).unwrap();
    for i in 0..5 {
        set(&mut t, &format!("k{i}"), b"v").unwrap();
    }
    let e = set(&mut t, "k5", b"v").unwrap_err();
    assert_eq!(
        common::error_text(&e),
        "OOM tenant 'acme' reached its key limit (5)"
    );
    // Overwriting works; a command that would create any key is refused whole.
    set(&mut t, "k0", b"new").unwrap();
    common::expect_err(
        &mut t,
        cmd("MSET").arg(&["k1", "x", "k9", "y"]),
        "OOM tenant 'acme' reached its key limit (5)",
    );
    assert_eq!(common::get_str(&mut t, "k1").as_deref(), Some("v"));
    // Reads and deletes work; deleting makes room.
    let _: i64 = cmd("DEL").arg("k1").query(&mut t).unwrap();
    set(&mut t, "k5", b"v").unwrap();
    assert_eq!(common::dbsize(&mut t), 5);
    let info = map(cmd("TENANT.INFO").arg("acme").query(&mut a).unwrap());
    assert!(int(&info["rejected_keys"]) >= 2);
}

on_two_workers_and_one!(fifty_concurrent_writers_never_pass_the_key_limit);
fn fifty_concurrent_writers_never_pass_the_key_limit(workers: usize) {
    let srv = TestServer::start_on(workers, "");
    let mut a = admin(&srv);
    let s = tenant(
        &mut a,
        "acme",
        &["KEYS", "100", "OPS", "0", "CONNECTIONS", "0"],
    );
    let url = format!("redis://acme:{s}@{}/", srv.addr);
    let handles: Vec<_> = (0..50)
        .map(|w| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                let mut ok = 0;
                for i in 0..10 {
                    let r: redis::RedisResult<()> =
                        cmd("SET").arg(format!("w{w}:{i}")).arg("v").query(&mut c);
                    ok += r.is_ok() as usize;
                }
                ok
            })
        })
        .collect();
    let admitted: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let info = map(cmd("TENANT.INFO").arg("acme").query(&mut a).unwrap());
    assert_eq!(int(&info["keys"]), 100, "admitted {admitted}");
    assert_eq!(admitted, 100);
}

on_two_workers_and_one!(setrange_padding_counts_against_the_memory_limit);
/// SETRANGE may pad a string up to its offset: the padding counts against the memory limit
/// before it is written, so a few bytes sent cannot grow a tenant past its limit.
fn setrange_padding_counts_against_the_memory_limit(workers: usize) {
    let srv = TestServer::start_on(workers, "");
    let mut a = admin(&srv);
    let s = tenant(
        &mut a,
        "acme",
        &["MEMORY", "100kb", "EVICTION", "noeviction", "OPS", "0"],
    );
    let mut t = connect(&srv, "acme", &s).unwrap();
    let e: redis::RedisResult<i64> = cmd("SETRANGE").arg("k").arg(500_000).arg("x").query(&mut t);
    assert_eq!(
        common::error_text(&e.unwrap_err()),
        "OOM command not allowed when used memory > 'maxmemory' for tenant 'acme'"
    );
    let used = int(&map(cmd("TENANT.INFO").arg("acme").query(&mut a).unwrap())["memory_used"]);
    assert!(used < 100 * 1024, "memory_used {used}");
    // Within the limit it works.
    let n: i64 = cmd("SETRANGE")
        .arg("k")
        .arg(10_000)
        .arg("x")
        .query(&mut t)
        .unwrap();
    assert_eq!(n, 10_001);
    // Offsets past proto-max-bulk-len get Redis's own error, as without a limit; the largest
    // offset must not wrap the reservation into a negative number either.
    for offset in ["10000000000", "9223372036854775807"] {
        let e: redis::RedisResult<i64> =
            cmd("SETRANGE").arg("k").arg(offset).arg("x").query(&mut t);
        assert_eq!(
            common::error_text(&e.unwrap_err()),
            "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
        );
    }
    let e: redis::RedisResult<i64> = cmd("SETRANGE").arg("k").arg(500_000).arg("x").query(&mut t);
    assert!(e.is_err(), "the limit still holds after the huge offsets");
}

on_two_workers_and_one!(
    memory_limit_under_noeviction_refuses_writes_but_not_reads_deletes_or_expire
);
fn memory_limit_under_noeviction_refuses_writes_but_not_reads_deletes_or_expire(workers: usize) {
    let srv = TestServer::start_on(workers, "");
    let mut a = admin(&srv);
    let s = tenant(
        &mut a,
        "acme",
        &["MEMORY", "100kb", "EVICTION", "noeviction", "OPS", "0"],
    );
    let mut t = connect(&srv, "acme", &s).unwrap();
    let value = vec![b'x'; 4096];
    let mut written = 0;
    let err = loop {
        match set(&mut t, &format!("k{written}"), &value) {
            Ok(()) => written += 1,
            Err(e) => break e,
        }
        assert!(written < 1000, "never refused");
    };
    assert_eq!(
        common::error_text(&err),
        "OOM command not allowed when used memory > 'maxmemory' for tenant 'acme'"
    );
    let info = map(cmd("TENANT.INFO").arg("acme").query(&mut a).unwrap());
    assert!(int(&info["memory_used"]) <= 100 * 1024, "{info:?}");
    assert_eq!(int(&info["evicted_keys"]), 0);
    // Reads, DEL and EXPIRE still work, and deleting makes room again.
    assert_eq!(common::get(&mut t, "k0").map(|v| v.len()), Some(4096));
    let _: i64 = cmd("EXPIRE").arg("k1").arg(100).query(&mut t).unwrap();
    let _: i64 = cmd("DEL").arg(&["k2", "k3"]).query(&mut t).unwrap();
    set(&mut t, "again", &value).unwrap();
}

on_two_workers_and_one!(allkeys_lru_evicts_only_the_tenants_own_keys_to_stay_under_its_limit);
fn allkeys_lru_evicts_only_the_tenants_own_keys_to_stay_under_its_limit(workers: usize) {
    let srv = TestServer::start_on(workers, "");
    let mut a = admin(&srv);
    let s = tenant(
        &mut a,
        "acme",
        &["MEMORY", "200kb", "EVICTION", "allkeys-lru", "OPS", "0"],
    );
    let other = tenant(&mut a, "other", &[]);
    let mut o = connect(&srv, "other", &other).unwrap();
    for i in 0..50 {
        set(&mut o, &format!("k{i}"), &[b'o'; 1024]).unwrap();
    }
    let mut t = connect(&srv, "acme", &s).unwrap();
    for i in 0..1000 {
        set(&mut t, &format!("k{i}"), &[b'x'; 1024]).unwrap();
    }
    let info = map(cmd("TENANT.INFO").arg("acme").query(&mut a).unwrap());
    assert!(int(&info["memory_used"]) <= 200 * 1024, "{info:?}");
    assert!(int(&info["evicted_keys"]) > 500, "{info:?}");
    assert!(int(&info["keys"]) < 1000);
    // The newest key survives, and the other tenant lost nothing.
    assert!(common::get(&mut t, "k999").is_some());
    assert_eq!(common::dbsize(&mut o), 50);
}

on_two_workers_and_one!(volatile_ttl_evicts_only_keys_with_a_ttl);
fn volatile_ttl_evicts_only_keys_with_a_ttl(workers: usize) {
    let srv = TestServer::start_on(workers, "");
    let mut a = admin(&srv);
    let s = tenant(
        &mut a,
        "acme",
        &["MEMORY", "100kb", "EVICTION", "volatile-ttl", "OPS", "0"],
    );
    let mut t = connect(&srv, "acme", &s).unwrap();
    for i in 0..5 {
        set(&mut t, &format!("keep{i}"), &[b'p'; 1024]).unwrap();
    }
    for i in 0..300 {
        let r: redis::RedisResult<()> = cmd("SET")
            .arg(format!("tmp{i}"))
            .arg(vec![b't'; 1024])
            .arg("EX")
            .arg(1000 + i)
            .query(&mut t);
        r.unwrap();
    }
    for i in 0..5 {
        assert!(common::get(&mut t, format!("keep{i}")).is_some(), "keep{i}");
    }
    // With no TTL keys left to evict, a persistent write is refused.
    let _: i64 = cmd("DEL")
        .arg((0..300).map(|i| format!("tmp{i}")).collect::<Vec<_>>())
        .query(&mut t)
        .unwrap();
    // Under the request limit (the memory limit), over what the five keys leave.
    let big = vec![b'b'; 98 * 1024];
    common::expect_err(
        &mut t,
        cmd("SET").arg("big").arg(big),
        "OOM command not allowed",
    );
}

#[test]
fn an_oversized_request_is_refused_and_the_connection_stays_usable() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let s = tenant(&mut a, "acme", &["REQUEST", "1kb", "OPS", "0"]);
    let mut raw = srv.raw();
    assert_eq!(
        raw.request(format!("AUTH acme {s}\r\n").as_bytes()),
        b"+OK\r\n"
    );
    let value = vec![b'x'; 2000];
    let mut req = format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n", value.len()).into_bytes();
    req.extend_from_slice(&value);
    req.extend_from_slice(b"\r\n");
    assert_eq!(
        String::from_utf8_lossy(&raw.request(&req)),
        "-ERR max request size exceeded for tenant 'acme' (1024 bytes)\r\n"
    );
    // The stream is still in sync: the next commands work and nothing was written.
    assert_eq!(raw.request(b"*1\r\n$4\r\nPING\r\n"), b"+PONG\r\n");
    assert_eq!(raw.request(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), b"$-1\r\n");
    // A request under the limit passes.
    assert_eq!(
        raw.request(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nsmall\r\n"),
        b"+OK\r\n"
    );
    // An inline request (what telnet sends) is held to the same limit.
    let line = format!("SET k {}\r\n", "y".repeat(2000));
    assert_eq!(
        String::from_utf8_lossy(&raw.request(line.as_bytes())),
        "-ERR max request size exceeded for tenant 'acme' (1024 bytes)\r\n"
    );
    assert_eq!(raw.request(b"GET k\r\n"), b"$5\r\nsmall\r\n");
    let info = map(cmd("TENANT.INFO").arg("acme").query(&mut a).unwrap());
    assert_eq!(int(&info["rejected_request"]), 2);
}

on_two_workers_and_one!(global_context_maxmemory_follows_maxmemory_policy);
fn global_context_maxmemory_follows_maxmemory_policy(workers: usize) {
    let srv = TestServer::start_on(workers, "");
    let mut a = admin(&srv);
    let _: () = cmd("CONFIG")
        .arg(&[
            "SET",
            "maxmemory",
            "100kb",
            "maxmemory-policy",
            "noeviction",
        ])
        .query(&mut a)
        .unwrap();
    let value = vec![b'x'; 4096];
    let mut refused = None;
    for i in 0..100 {
        if let Err(e) = set(&mut a, &format!("g{i}"), &value) {
            refused = Some(common::error_text(&e));
            break;
        }
    }
    assert_eq!(
        refused.as_deref(),
        Some("OOM command not allowed when used memory > 'maxmemory'.")
    );
    // Under allkeys-lru the same writes evict old global keys instead.
    let _: () = cmd("CONFIG")
        .arg(&["SET", "maxmemory-policy", "allkeys-lru"])
        .query(&mut a)
        .unwrap();
    for i in 0..100 {
        set(&mut a, &format!("h{i}"), &value).unwrap();
    }
    let info = common::info(&mut a, &["stats"]);
    let evicted: u64 = common::info_fields(&info)["evicted_keys"].parse().unwrap();
    assert!(evicted > 0, "{info}");
}

on_two_workers_and_one!(server_maxmemory_bounds_all_tenants_together);
/// The server's `maxmemory` bounds all data together, on top of each tenant's own limit: past
/// it, a tenant makes room only by its own policy from its own keys, or gets Redis's OOM; no
/// tenant's write ever evicts another tenant's keys.
fn server_maxmemory_bounds_all_tenants_together(workers: usize) {
    let srv = TestServer::start_on(workers, "");
    let mut a = admin(&srv);
    let _: () = cmd("CONFIG")
        .arg(&["SET", "maxmemory", "1mb"])
        .query(&mut a)
        .unwrap();
    let big = tenant(&mut a, "big", &["EVICTION", "noeviction", "OPS", "0"]);
    let lru = tenant(&mut a, "lru", &["EVICTION", "allkeys-lru", "OPS", "0"]);
    let mut b = connect(&srv, "big", &big).unwrap();
    let mut l = connect(&srv, "lru", &lru).unwrap();
    let value = vec![b'x'; 4096];
    let used = |a: &mut Connection, id: &str| -> i64 {
        int(&map(cmd("TENANT.INFO").arg(id).query(a).unwrap())["memory_used"])
    };
    // "lru" holds a few keys, then "big" (no limit of its own) fills the server.
    for i in 0..20 {
        set(&mut l, &format!("l{i}"), &value).unwrap();
    }
    let mut refused = None;
    for i in 0..1000 {
        if let Err(e) = set(&mut b, &format!("b{i}"), &value) {
            refused = Some(common::error_text(&e));
            break;
        }
    }
    assert_eq!(
        refused.as_deref(),
        Some("OOM command not allowed when used memory > 'maxmemory'.")
    );
    let total = used(&mut a, "big") + used(&mut a, "lru");
    assert!(
        total <= 1024 * 1024 + 8192,
        "all data {total} past maxmemory"
    );
    // "lru" was not evicted to make room for "big".
    assert_eq!(dbsize_of(&mut l), 20);
    assert!(
        int(&map(cmd("TENANT.INFO").arg("big").query(&mut a).unwrap())["rejected_memory"]) >= 1
    );
    // Reads and deletes still work for "big"; "lru" writes by evicting its own keys.
    let _: Option<Vec<u8>> = cmd("GET").arg("b0").query(&mut b).unwrap();
    for i in 20..40 {
        set(&mut l, &format!("l{i}"), &value).unwrap();
    }
    let lru_info = map(cmd("TENANT.INFO").arg("lru").query(&mut a).unwrap());
    assert!(int(&lru_info["evicted_keys"]) > 0);
    assert!(dbsize_of(&mut b) > 100, "big's keys stay");
    // A tenant whose own data could never make room is refused at once, keeping its keys:
    // the server's memory is held by others, and evicting its keys would not make the write
    // fit.
    let tiny = tenant(&mut a, "tiny", &["EVICTION", "allkeys-lru", "OPS", "0"]);
    let mut y = connect(&srv, "tiny", &tiny).unwrap();
    let _: () = cmd("FLUSHDB").query(&mut l).unwrap();
    set(&mut y, "t1", b"small").unwrap();
    set(&mut y, "t2", b"small").unwrap();
    for i in 0..1000 {
        if set(&mut b, &format!("c{i}"), &value).is_err() {
            break;
        }
    }
    let e = set(&mut y, "big", &vec![b'y'; 64 * 1024]).unwrap_err();
    assert_eq!(
        common::error_text(&e),
        "OOM command not allowed when used memory > 'maxmemory'."
    );
    let tiny_info = map(cmd("TENANT.INFO").arg("tiny").query(&mut a).unwrap());
    assert_eq!(
        int(&tiny_info["evicted_keys"]),
        0,
        "tiny's keys were evicted for nothing"
    );
    // Memory freed by one tenant is room for the others.
    let _: () = cmd("FLUSHDB").query(&mut b).unwrap();
    set(&mut b, "again", &value).unwrap();
}

fn dbsize_of(c: &mut Connection) -> i64 {
    cmd("DBSIZE").query(c).unwrap()
}

#[test]
fn passing_eighty_percent_warns_once_per_crossing() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let s = tenant(&mut a, "acme", &["KEYS", "10", "OPS", "0"]);
    let mut t = connect(&srv, "acme", &s).unwrap();
    let warnings = |a: &mut Connection| {
        int(&map(cmd("TENANT.INFO").arg("acme").query(a).unwrap())["limit_warnings"])
    };
    for i in 0..10 {
        set(&mut t, &format!("k{i}"), b"v").unwrap();
    }
    // Writes past 8 of 10 keys: one crossing, however many writes follow.
    for _ in 0..5 {
        set(&mut t, "k0", b"w").unwrap();
    }
    assert_eq!(warnings(&mut a), 1);
    // Falling back under re-arms it; crossing again counts again.
    let _: i64 = cmd("DEL")
        .arg(&["k1", "k2", "k3", "k4", "k5"])
        .query(&mut t)
        .unwrap();
    set(&mut t, "k0", b"x").unwrap();
    for i in 1..5 {
        set(&mut t, &format!("k{i}"), b"v").unwrap();
    }
    set(&mut t, "k0", b"y").unwrap();
    assert_eq!(warnings(&mut a), 2);
}

#[test]
fn a_crossing_is_seen_after_a_pipelined_batch_and_after_an_admins_writes() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let s = tenant(&mut a, "acme", &["KEYS", "10", "OPS", "0"]);
    tenant(&mut a, "other", &["KEYS", "10", "OPS", "0"]);
    let warnings = |a: &mut Connection, id: &str| {
        int(&map(cmd("TENANT.INFO").arg(id).query(a).unwrap())["limit_warnings"])
    };
    // One pipelined batch that goes from 0 to 9 of 10 keys: one crossing, counted as soon
    // as the batch's replies are in.
    let mut t = connect(&srv, "acme", &s).unwrap();
    let mut pipe = redis::pipe();
    for i in 0..9 {
        pipe.cmd("SET").arg(format!("k{i}")).arg("v").ignore();
    }
    pipe.query::<()>(&mut t).unwrap();
    assert_eq!(warnings(&mut a, "acme"), 1);
    // An admin writing a tenant's keys by their global names from the global context
    // crosses that tenant's threshold, and only that tenant's.
    for i in 0..8 {
        let _: () = cmd("SET")
            .arg(format!("__tenant:other:k{i}"))
            .arg("v")
            .query(&mut a)
            .unwrap();
    }
    assert_eq!(warnings(&mut a, "other"), 1);
    assert_eq!(warnings(&mut a, "acme"), 1);
}

#[test]
fn tenant_info_meters_the_commands_a_tenant_ran() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let s = tenant(&mut a, "acme", &[]);
    let mut t = connect(&srv, "acme", &s).unwrap();
    let processed = |a: &mut Connection| {
        int(&map(cmd("TENANT.INFO").arg("acme").query(a).unwrap())["commands_processed"])
    };
    let base = processed(&mut a);
    for i in 0..5 {
        let _: () = cmd("SET").arg("k").arg(i).query(&mut t).unwrap();
    }
    // A refused command is not metered.
    assert!(cmd("NOSUCHCOMMAND").query::<()>(&mut t).is_err());
    assert_eq!(processed(&mut a), base + 5);
}

fn err_text(c: &mut Connection, command: &redis::Cmd) -> String {
    match command.query::<Value>(c) {
        Err(e) => common::error_text(&e),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

#[test]
fn smove_to_a_new_set_counts_against_the_key_limit() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let s = tenant(&mut a, "acme", &["KEYS", "2"]);
    let mut t = connect(&srv, "acme", &s).unwrap();
    let _: i64 = cmd("SADD")
        .arg(&["src", "a", "b", "c"])
        .query(&mut t)
        .unwrap();
    let _: i64 = cmd("SADD").arg(&["dst", "z"]).query(&mut t).unwrap();
    // Redis does not flag SMOVE denyoom, yet it can make a key: at the limit it must not.
    assert_eq!(
        err_text(&mut t, cmd("SMOVE").arg(&["src", "new", "a"])),
        "OOM tenant 'acme' reached its key limit (2)"
    );
    let moved: i64 = cmd("SMOVE")
        .arg(&["src", "dst", "a"])
        .query(&mut t)
        .unwrap();
    assert_eq!(moved, 1);
    let keys: i64 = cmd("DBSIZE").query(&mut t).unwrap();
    assert_eq!(keys, 2);
}

#[test]
fn renaming_to_a_longer_name_counts_against_the_memory_limit() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let s = tenant(
        &mut a,
        "acme",
        &["MEMORY", "256kb", "EVICTION", "noeviction"],
    );
    let mut t = connect(&srv, "acme", &s).unwrap();
    for k in ["k1", "k2"] {
        let _: () = cmd("SET").arg(k).arg("v").query(&mut t).unwrap();
    }
    let _: () = cmd("SET")
        .arg("filler")
        .arg(vec![b'f'; 100 * 1024])
        .query(&mut t)
        .unwrap();
    // Under the request limit (the memory limit), over what the data leaves.
    let huge = "n".repeat(200 * 1024);
    let oom = "OOM command not allowed when used memory > 'maxmemory' for tenant 'acme'";
    assert_eq!(err_text(&mut t, cmd("RENAME").arg("k1").arg(&huge)), oom);
    assert_eq!(err_text(&mut t, cmd("RENAMENX").arg("k1").arg(&huge)), oom);
    // Shorter or equal names always fit, even at the limit.
    let _: () = cmd("RENAME").arg(&["k1", "k3"]).query(&mut t).unwrap();
    let used = common::tenant_info_int(&mut a, "acme", "memory_used");
    assert!(used < 256 * 1024, "memory_used {used}");
}

#[test]
fn a_tenants_queued_transactions_count_against_its_memory_limit() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let s = tenant(&mut a, "acme", &["MEMORY", "1mb", "EVICTION", "noeviction"]);
    let value = "v".repeat(200 * 1024);
    let mut conns: Vec<Connection> = (0..3).map(|_| connect(&srv, "acme", &s).unwrap()).collect();
    let oom = "OOM command not allowed when used memory > 'maxmemory' for tenant 'acme'";
    // Two connections queue 400 KB each: 800 KB of the 1 MB.
    for c in &mut conns[..2] {
        let _: () = cmd("MULTI").query(c).unwrap();
        for k in ["a", "b"] {
            let q: String = cmd("SET").arg(k).arg(&value).query(c).unwrap();
            assert_eq!(q, "QUEUED");
        }
    }
    // A third cannot queue past the limit: its transaction is doomed.
    let c = &mut conns[2];
    let _: () = cmd("MULTI").query(c).unwrap();
    let q: String = cmd("SET").arg("c").arg(&value).query(c).unwrap();
    assert_eq!(q, "QUEUED");
    assert_eq!(err_text(c, cmd("SET").arg("d").arg(&value)), oom);
    assert!(err_text(c, &cmd("EXEC")).starts_with("EXECABORT"));
    // Queues given back (EXEC, DISCARD) free the room for others.
    let _: () = cmd("DISCARD").query(&mut conns[0]).unwrap();
    let replies: Vec<String> = cmd("EXEC").query(&mut conns[1]).unwrap();
    assert_eq!(replies, ["OK", "OK"]);
    let c = &mut conns[2];
    let _: () = cmd("MULTI").query(c).unwrap();
    let q: String = cmd("SET").arg("c").arg(&value).query(c).unwrap();
    assert_eq!(q, "QUEUED");
    let replies: Vec<String> = cmd("EXEC").query(c).unwrap();
    assert_eq!(replies, ["OK"]);
}

#[test]
fn copy_counts_what_it_copies_where_it_lands() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let s = tenant(
        &mut a,
        "acme",
        &[
            "KEYS",
            "3",
            "DATABASES",
            "2",
            "MEMORY",
            "256kb",
            "EVICTION",
            "noeviction",
        ],
    );
    let mut t = connect(&srv, "acme", &s).unwrap();
    let _: () = cmd("SET")
        .arg("big")
        .arg(vec![b'x'; 150 * 1024])
        .query(&mut t)
        .unwrap();
    for k in ["k1", "k2"] {
        let _: () = cmd("SET").arg(k).arg("v").query(&mut t).unwrap();
    }
    // At the key limit, k1 exists here but not in database 1: the copy would make a key.
    assert_eq!(
        err_text(&mut t, cmd("COPY").arg(&["k2", "k1", "DB", "1"])),
        "OOM tenant 'acme' reached its key limit (3)"
    );
    // A copy that adds no key but a 150 KB value past the memory limit.
    assert_eq!(
        err_text(&mut t, cmd("COPY").arg(&["big", "k1", "REPLACE"])),
        "OOM command not allowed when used memory > 'maxmemory' for tenant 'acme'"
    );
    // Overwriting a same-size value fits.
    let copied: i64 = cmd("COPY")
        .arg(&["k2", "k1", "REPLACE"])
        .query(&mut t)
        .unwrap();
    assert_eq!(copied, 1);
    // A copy of nothing adds nothing, at the key limit too: Redis's 0, not a refusal.
    let copied: i64 = cmd("COPY")
        .arg(&["nosuch", "k9", "DB", "1"])
        .query(&mut t)
        .unwrap();
    assert_eq!(copied, 0);
    assert_eq!(common::tenant_info_int(&mut a, "acme", "keys"), 3);
    assert!(common::tenant_info_int(&mut a, "acme", "memory_used") <= 256 * 1024);
}

#[test]
fn restore_is_admitted_on_what_the_payload_decodes_to() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    // A list of 100 000 empty strings: a small payload, megabytes once stored.
    for chunk in 0..10 {
        let _: i64 = cmd("RPUSH")
            .arg("list")
            .arg(vec![""; 10_000])
            .query(&mut a)
            .unwrap_or_else(|e| panic!("chunk {chunk}: {e}"));
    }
    let payload: Vec<u8> = cmd("DUMP").arg("list").query(&mut a).unwrap();
    // The payload alone fits the limit; what it decodes to does not.
    assert!(
        payload.len() < 900 * 1024,
        "payload {} bytes",
        payload.len()
    );
    let s = tenant(&mut a, "acme", &["MEMORY", "1mb", "EVICTION", "noeviction"]);
    let mut t = connect(&srv, "acme", &s).unwrap();
    assert_eq!(
        err_text(&mut t, cmd("RESTORE").arg("l").arg(0).arg(&payload)),
        "OOM command not allowed when used memory > 'maxmemory' for tenant 'acme'"
    );
    assert!(common::tenant_info_int(&mut a, "acme", "memory_used") <= 1024 * 1024);
}

#[test]
fn restore_is_admitted_on_what_it_adds_not_on_its_payload() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let s = tenant(
        &mut a,
        "acme",
        &["KEYS", "2", "MEMORY", "256kb", "EVICTION", "noeviction"],
    );
    let mut t = connect(&srv, "acme", &s).unwrap();
    let big = vec![b'x'; 150 * 1024];
    let _: () = cmd("SET").arg("big").arg(&big).query(&mut t).unwrap();
    let payload: Vec<u8> = cmd("DUMP").arg("big").query(&mut t).unwrap();
    // Replacing a value by one of the same size adds nothing, though its 150 KB payload
    // beside the 150 KB stored would pass the limit.
    let _: () = cmd("RESTORE")
        .arg("big")
        .arg(0)
        .arg(&payload)
        .arg("REPLACE")
        .query(&mut t)
        .unwrap();
    // A second copy of it does not fit.
    assert_eq!(
        err_text(&mut t, cmd("RESTORE").arg("big2").arg(0).arg(&payload)),
        "OOM command not allowed when used memory > 'maxmemory' for tenant 'acme'"
    );
    // The key limit: a new key is refused there, an existing one is replaced.
    let _: () = cmd("SET").arg("small").arg("v").query(&mut t).unwrap();
    let small: Vec<u8> = cmd("DUMP").arg("small").query(&mut t).unwrap();
    assert_eq!(
        err_text(&mut t, cmd("RESTORE").arg("other").arg(0).arg(&small)),
        "OOM tenant 'acme' reached its key limit (2)"
    );
    let _: () = cmd("RESTORE")
        .arg("small")
        .arg(0)
        .arg(&small)
        .arg("REPLACE")
        .query(&mut t)
        .unwrap();
    assert_eq!(common::tenant_info_int(&mut a, "acme", "keys"), 2);
    assert!(common::tenant_info_int(&mut a, "acme", "memory_used") <= 256 * 1024);
}

#[test]
fn one_command_of_many_small_elements_is_admitted_on_what_they_cost_stored() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let s = tenant(
        &mut a,
        "acme",
        &["MEMORY", "1mb", "EVICTION", "noeviction", "REQUEST", "4mb"],
    );
    let mut t = connect(&srv, "acme", &s).unwrap();
    // 30 000 members of ~6 bytes: under the request limit, more than 1 MB once stored.
    let members: Vec<String> = (0..30_000).map(|i| format!("m{i}")).collect();
    assert_eq!(
        err_text(&mut t, cmd("SADD").arg("s").arg(&members)),
        "OOM command not allowed when used memory > 'maxmemory' for tenant 'acme'"
    );
    let fields: Vec<String> = (0..50_000)
        .flat_map(|i| [format!("f{i}"), "v".into()])
        .collect();
    assert_eq!(
        err_text(&mut t, cmd("HSET").arg("h").arg(&fields)),
        "OOM command not allowed when used memory > 'maxmemory' for tenant 'acme'"
    );
    assert!(common::tenant_info_int(&mut a, "acme", "memory_used") <= 1024 * 1024);
}

#[test]
fn without_a_request_limit_a_tenants_requests_are_capped_at_its_memory_limit() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let s = tenant(&mut a, "acme", &["MEMORY", "256kb"]);
    let mut t = connect(&srv, "acme", &s).unwrap();
    // A value that could never be stored is not buffered either.
    assert_eq!(
        err_text(&mut t, cmd("SET").arg("k").arg(vec![b'x'; 300 * 1024])),
        "ERR max request size exceeded for tenant 'acme' (262144 bytes)"
    );
    // One under it, arriving over several reads, is taken; the connection stays usable.
    let _: () = cmd("SET")
        .arg("k")
        .arg(vec![b'x'; 200 * 1024])
        .query(&mut t)
        .unwrap();
    assert_eq!(common::get(&mut t, "k").map(|v| v.len()), Some(200 * 1024));
    // An explicit limit still wins.
    let _: () = cmd("TENANT.LIMITS.SET")
        .arg(&["acme", "REQUEST", "1mb"])
        .query(&mut a)
        .unwrap();
    assert_eq!(
        err_text(&mut t, cmd("SET").arg("k2").arg(vec![b'x'; 300 * 1024])),
        "OOM command not allowed when used memory > 'maxmemory' for tenant 'acme'"
    );
}

#[test]
fn subscriptions_and_watched_keys_count_against_the_tenants_memory() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let s = tenant(&mut a, "acme", &["MEMORY", "1mb", "OPS", "0"]);
    let oom = "OOM command not allowed when used memory > 'maxmemory' for tenant 'acme'";
    let names = |prefix: &str, batch: usize| -> Vec<String> {
        (0..2000)
            .map(|i| format!("{prefix}-{batch}-{i:0>44}"))
            .collect()
    };
    // 2000 channels of 50 bytes hold some 400 KB: the third batch passes 1 MB. Raw, to read
    // the 2000 confirmations or the refusal as they come.
    let mut sub = srv.raw();
    sub.request(format!("AUTH acme {s}\r\n").as_bytes());
    let subscribe = |sub: &mut common::Raw, batch: usize| -> String {
        let mut req = format!("*{}\r\n$9\r\nSUBSCRIBE\r\n", 2001);
        for n in names("ch", batch) {
            req.push_str(&format!("${}\r\n{n}\r\n", n.len()));
        }
        sub.send(req.as_bytes());
        let first = String::from_utf8_lossy(&sub.read_reply()).to_string();
        if !first.starts_with('-') {
            for _ in 1..2000 {
                sub.read_reply();
            }
        }
        first
    };
    assert!(subscribe(&mut sub, 0).contains("subscribe"));
    assert!(subscribe(&mut sub, 1).contains("subscribe"));
    assert_eq!(subscribe(&mut sub, 2), format!("-{oom}\r\n"));
    // TENANT.INFO shows what the connections hold: two batches, each name twice plus 96.
    let batch: usize = names("ch", 0).iter().map(|n| 2 * n.len() + 96).sum();
    let held = common::tenant_info_int(&mut a, "acme", "memory_held");
    assert_eq!(held, 2 * batch as i64, "memory_held");
    // Another connection of the tenant is refused too: the room is the tenant's.
    let mut w = connect(&srv, "acme", &s).unwrap();
    assert_eq!(err_text(&mut w, cmd("WATCH").arg(names("k", 0))), oom);
    // Closing the subscriber gives the room back.
    drop(sub);
    common::eventually("the subscriber's bytes given back", || {
        cmd("WATCH").arg(names("k", 0)).query::<()>(&mut w).is_ok()
    });
    let _: () = cmd("WATCH").arg(names("k", 1)).query(&mut w).unwrap();
    assert_eq!(err_text(&mut w, cmd("WATCH").arg(names("k", 2))), oom);
    let _: () = cmd("UNWATCH").query(&mut w).unwrap();
    let _: () = cmd("WATCH").arg(names("k", 2)).query(&mut w).unwrap();
    // Closing the last connection gives everything back.
    drop(w);
    common::eventually("memory_held back to 0", || {
        common::tenant_info_int(&mut a, "acme", "memory_held") == 0
    });
}

/// A raw connection logged in as `id`.
fn raw_as(srv: &TestServer, id: &str, secret: &str) -> common::Raw {
    let mut r = srv.raw();
    assert_eq!(
        r.request(format!("AUTH {id} {secret}\r\n").as_bytes()),
        b"+OK\r\n"
    );
    r
}

/// A RESP request of `args`.
fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

#[test]
fn data_and_what_connections_hold_share_the_memory_limit() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let s = tenant(&mut a, "acme", &["MEMORY", "100000", "OPS", "0"]);
    // 100 channels of 400 bytes: 100 x (2 x 400 + 96) = 89 600 bytes held.
    let mut sub = raw_as(&srv, "acme", &s);
    let names: Vec<String> = (0..100).map(|i| format!("{i:0>400}")).collect();
    let mut req = vec!["SUBSCRIBE"];
    req.extend(names.iter().map(String::as_str));
    sub.send(&resp(&req));
    for _ in 0..100 {
        sub.read_reply();
    }
    assert_eq!(
        common::tenant_info_int(&mut a, "acme", "memory_held"),
        89_600
    );
    // A 20 KB write fits the limit alone, not beside what is held.
    let mut t = connect(&srv, "acme", &s).unwrap();
    assert_eq!(
        err_text(&mut t, cmd("SET").arg("k").arg(vec![b'x'; 20_000])),
        "OOM command not allowed when used memory > 'maxmemory' for tenant 'acme'"
    );
    let _: () = cmd("SET")
        .arg("k")
        .arg(vec![b'x'; 5_000])
        .query(&mut t)
        .unwrap();
}

#[test]
fn subscribing_again_to_the_same_channel_costs_nothing_more() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let s = tenant(&mut a, "acme", &["MEMORY", "100000", "OPS", "0"]);
    let mut sub = raw_as(&srv, "acme", &s);
    let name = "c".repeat(1006);
    // Sixty times in one batch: one subscription held, sixty confirmations, no refusal.
    let one = resp(&["SUBSCRIBE", &name]);
    sub.send(&one.repeat(60));
    for i in 0..60 {
        let r = sub.read_reply();
        assert!(
            !r.starts_with(b"-"),
            "SUBSCRIBE {i}: {}",
            String::from_utf8_lossy(&r)
        );
    }
    assert_eq!(
        common::tenant_info_int(&mut a, "acme", "memory_held"),
        2 * 1006 + 96
    );
}

#[test]
fn watched_keys_are_left_behind_when_the_connection_moves_to_another_tenant() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let sa = tenant(&mut a, "ta", &["MEMORY", "200000", "OPS", "0"]);
    let sb = tenant(&mut a, "tb", &["MEMORY", "200000", "OPS", "0"]);
    let mut c = raw_as(&srv, "ta", &sa);
    let keys: Vec<String> = (0..500).map(|i| format!("{i:0>110}")).collect();
    let mut req = vec!["WATCH"];
    req.extend(keys.iter().map(String::as_str));
    assert_eq!(c.request(&resp(&req)), b"+OK\r\n");
    assert_eq!(
        common::tenant_info_int(&mut a, "ta", "memory_held"),
        500 * (220 + 96)
    );
    assert_eq!(
        c.request(format!("AUTH tb {sb}\r\n").as_bytes()),
        b"+OK\r\n"
    );
    c.request(&resp(&["SUBSCRIBE", "x"]));
    // ta's watches are gone with the move, and tb holds only its own subscription.
    common::eventually("ta's watches given back", || {
        common::tenant_info_int(&mut a, "ta", "memory_held") == 0
    });
    assert_eq!(common::tenant_info_int(&mut a, "tb", "memory_held"), 2 + 96);
}

#[test]
fn a_suspended_tenants_connection_that_left_its_channels_stays_open() {
    let srv = TestServer::start();
    let mut a = admin(&srv);
    let s = tenant(&mut a, "acme", &["OPS", "0"]);
    let mut c = raw_as(&srv, "acme", &s);
    c.request(&resp(&["UNSUBSCRIBE"]));
    let _: () = cmd("TENANT.SUSPEND").arg("acme").query(&mut a).unwrap();
    assert_eq!(c.request(b"PING\r\n"), b"+PONG\r\n");
    assert_eq!(c.request(b"PING\r\n"), b"+PONG\r\n");
}
