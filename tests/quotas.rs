//! Per-tenant quotas enforced on the request path: ops/s (token bucket), connections, limits
//! changed live (TENANT.LIMITS.SET/GET), usage (TENANT.QUOTA) and rejection counters. Memory
//! and key limits and eviction are not enforced yet (issue 4 remains open for them).
mod common;

use common::TestServer;
use redis::{cmd, Connection, Value};
use std::time::{Duration, Instant};

fn admin(srv: &TestServer) -> Connection {
    srv.client()
}

/// Creates tenant `id` with `opts` and returns a readwrite token's secret.
fn tenant(a: &mut Connection, id: &str, opts: &[&str]) -> String {
    let _: () = cmd("TENANT.CREATE").arg(id).arg(opts).query(a).unwrap();
    let v: Vec<String> = cmd("TENANT.TOKEN.CREATE")
        .arg(id)
        .arg(&["ROLE", "readwrite"])
        .query(a)
        .unwrap();
    v[v.iter().position(|f| f == "secret").unwrap() + 1].clone()
}

fn connect(srv: &TestServer, id: &str, secret: &str) -> redis::RedisResult<Connection> {
    redis::Client::open(format!("redis://{id}:{secret}@{}/", srv.addr))?.get_connection()
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

#[test]
fn over_the_ops_limit_commands_get_ratelimit_and_connection_commands_do_not() {
    let srv = TestServer::start();
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

#[test]
fn accepted_rate_stays_within_ten_percent_of_the_limit() {
    let srv = TestServer::start();
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
    assert!(refused > ok, "the offered load was far above the limit");
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
