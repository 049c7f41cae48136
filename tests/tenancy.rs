//! Tenancy end to end, as issue 3 specifies it: the TENANT.* administration commands (create,
//! update, list, info, suspend, activate, delete, tokens, use/current/exit), tenant
//! authentication (AUTH, HELLO 3 AUTH, a `redis://<tenant>:<secret>@host/` URL), roles and
//! tenant states acting on live connections, tenant-scoped keyless commands (CLIENT LIST/KILL,
//! SELECT, FLUSHALL, INFO), `__tenant:<id>:<key>` global names for admins, and a registry that
//! survives a restart.
//!
//! Every test runs the real server in-process on an ephemeral port and talks to it with the
//! `redis` crate (raw sockets only where a closed connection has to be observed). Error texts are
//! Redis's where Redis has one (WRONGPASS, NOAUTH, NOPERM, DB index) and otherwise tenantkv's own
//! (`TenantError`, `SUSPENDED`, `READONLY`, the global-name errors).
mod common;

use common::{
    arity, assert_alive, assert_err_exact, error_text, eventually, get_str, info, set, val,
    TestServer,
};
use redis::{cmd, Cmd, Connection, RedisResult, Value};
use std::collections::BTreeMap;
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// Expected texts
// ---------------------------------------------------------------------------------------------

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
const NOAUTH: &str = "NOAUTH Authentication required.";
const SAME_TENANT: &str = "ERR keys of one command must all belong to the same tenant";
const PASS_CONFIG: &str = "[auth]\nrequirepass = \"pw\"\n";

const MB: i64 = 1024 * 1024;
const GB: i64 = 1024 * MB;

fn invalid_id(id: &str) -> String {
    format!(
        "ERR invalid tenant id '{id}': use 1 to 64 characters a-z 0-9 . _ -, starting with a letter or digit"
    )
}

fn no_such_tenant(id: &str) -> String {
    format!("ERR no such tenant '{id}'")
}

fn noperm(tenant: &str, command: &str) -> String {
    format!("NOPERM User {tenant} has no permissions to run the '{command}' command")
}

fn suspended(id: &str) -> String {
    format!("SUSPENDED tenant '{id}' is suspended")
}

fn read_only(id: &str) -> String {
    format!("READONLY tenant '{id}' is read-only")
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A command from its words.
fn mk(words: &[&str]) -> Cmd {
    let mut c = Cmd::new();
    for w in words {
        c.arg(*w);
    }
    c
}

/// Runs `c` and asserts the reply is `+OK`.
fn ok(con: &mut Connection, c: &mut Cmd) {
    assert_eq!(val(con, c), Value::Okay);
}

/// Runs `c` and returns its error text (code and message); panics on a success reply.
fn err_of(con: &mut Connection, c: &mut Cmd) -> String {
    let r: RedisResult<Value> = c.query(con);
    match r {
        Ok(v) => panic!("expected an error reply, got {v:?}"),
        Err(e) => error_text(&e),
    }
}

/// Runs `c` and asserts exactly `text`, without the liveness PING of `assert_err_exact` (for
/// connections on which PING itself is refused).
fn assert_err_only(con: &mut Connection, c: &mut Cmd, text: &str) {
    assert_eq!(err_of(con, c), text);
}

/// TENANT.CREATE `id` `opts...`, asserting OK.
fn create(con: &mut Connection, id: &str, opts: &[&str]) {
    ok(con, cmd("TENANT.CREATE").arg(id).arg(opts));
}

/// A string-ish reply as text.
fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).expect("utf8"),
        Value::SimpleString(s) => s.clone(),
        Value::VerbatimString { text, .. } => text.clone(),
        Value::Okay => "OK".into(),
        other => panic!("expected a string reply, got {other:?}"),
    }
}

/// An integer reply.
fn num(v: &Value) -> i64 {
    match v {
        Value::Int(n) => *n,
        other => panic!("expected an integer reply, got {other:?}"),
    }
}

/// A map reply: a RESP3 map, or a RESP2 flat array of alternating names and values.
/// Panics on any other shape and on duplicate names.
fn fields(v: &Value) -> BTreeMap<String, Value> {
    let pairs: Vec<(Value, Value)> = match v {
        Value::Map(p) => p.clone(),
        Value::Array(items) => {
            assert!(items.len() % 2 == 0, "odd flat map: {items:?}");
            items
                .chunks_exact(2)
                .map(|p| (p[0].clone(), p[1].clone()))
                .collect()
        }
        other => panic!("expected a map reply, got {other:?}"),
    };
    let mut out = BTreeMap::new();
    for (k, v) in pairs {
        let k = text(&k);
        assert!(out.insert(k.clone(), v).is_none(), "duplicate field {k}");
    }
    out
}

/// TENANT.INFO `id` as fields.
fn tenant_info(con: &mut Connection, id: &str) -> BTreeMap<String, Value> {
    fields(&val(con, cmd("TENANT.INFO").arg(id)))
}

/// One integer field of TENANT.INFO.
fn info_num(con: &mut Connection, id: &str, field: &str) -> i64 {
    num(&tenant_info(con, id)[field])
}

/// TENANT.LIST `opts...` as ids.
fn list(con: &mut Connection, opts: &[&str]) -> Vec<String> {
    cmd("TENANT.LIST")
        .arg(opts)
        .query(con)
        .expect("TENANT.LIST")
}

/// A token as TENANT.TOKEN.CREATE returns it.
#[derive(Debug, Clone)]
struct Token {
    id: String,
    secret: String,
    role: String,
}

/// TENANT.TOKEN.CREATE `tenant` `opts...`.
fn token(con: &mut Connection, tenant: &str, opts: &[&str]) -> Token {
    let m = fields(&val(con, cmd("TENANT.TOKEN.CREATE").arg(tenant).arg(opts)));
    assert_eq!(
        m.keys().map(String::as_str).collect::<Vec<_>>(),
        ["id", "role", "secret"],
        "TENANT.TOKEN.CREATE reply fields"
    );
    Token {
        id: text(&m["id"]),
        secret: text(&m["secret"]),
        role: text(&m["role"]),
    }
}

/// Creates tenant `id` (with `opts`) and a token of `role` for it.
fn tenant_with_token(con: &mut Connection, id: &str, opts: &[&str], role: &str) -> Token {
    create(con, id, opts);
    token(con, id, &["ROLE", role])
}

/// A RESP2 connection authenticated as `tenant` through the URL's user and password.
fn connect_as(srv: &TestServer, tenant: &str, secret: &str) -> Connection {
    try_connect_as(srv, tenant, secret, "").expect("tenant connects")
}

/// Connects with `redis://<tenant>:<secret>@addr/<suffix>`.
fn try_connect_as(
    srv: &TestServer,
    tenant: &str,
    secret: &str,
    suffix: &str,
) -> RedisResult<Connection> {
    let url = format!("redis://{tenant}:{secret}@{}/{suffix}", srv.addr);
    redis::Client::open(url)?.get_connection()
}

/// TENANT.CURRENT: the bound tenant or None.
fn current(con: &mut Connection) -> Option<String> {
    cmd("TENANT.CURRENT").query(con).expect("TENANT.CURRENT")
}

fn client_id(con: &mut Connection) -> i64 {
    cmd("CLIENT").arg("ID").query(con).expect("CLIENT ID")
}

/// The value of `name=` in a CLIENT LIST / INFO line.
fn field<'a>(line: &'a str, name: &str) -> &'a str {
    let prefix = format!("{name}=");
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
}

/// The ids CLIENT LIST shows to `con`, sorted.
fn listed_ids(con: &mut Connection) -> Vec<i64> {
    let out: String = cmd("CLIENT").arg("LIST").query(con).expect("CLIENT LIST");
    let mut ids: Vec<i64> = out
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| field(l, "id").parse().unwrap())
        .collect();
    ids.sort();
    ids
}

/// KEYS `pattern`, sorted.
fn keys(con: &mut Connection, pattern: &str) -> Vec<String> {
    let mut k: Vec<String> = cmd("KEYS").arg(pattern).query(con).expect("KEYS");
    k.sort();
    k
}

/// Every key a full SCAN with `MATCH pattern` returns, sorted and deduplicated.
fn scan_all(con: &mut Connection, pattern: &str) -> Vec<String> {
    let mut cursor = "0".to_string();
    let mut out = Vec::new();
    loop {
        let (next, batch): (String, Vec<String>) = cmd("SCAN")
            .arg(&cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(10)
            .query(con)
            .expect("SCAN");
        out.extend(batch);
        if next == "0" {
            break;
        }
        cursor = next;
    }
    out.sort();
    out.dedup();
    out
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A fresh directory under the system temp dir, unique to this process and `tag`.
fn temp_dir(tag: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "tenantkv-tenancy-{tag}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

// ---------------------------------------------------------------------------------------------
// TENANT.CREATE
// ---------------------------------------------------------------------------------------------

#[test]
fn create_with_every_option_is_reported_by_info() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let before = common::now_ms();
    create(
        &mut a,
        "acme",
        &[
            "NAME",
            "Acme Corp",
            "TIER",
            "basic",
            "MEMORY",
            "1gb",
            "KEYS",
            "500",
            "OPS",
            "20",
            "CONNECTIONS",
            "3",
            "DATABASES",
            "2",
            "EVICTION",
            "allkeys-lfu",
        ],
    );
    let after = common::now_ms();
    let i = tenant_info(&mut a, "acme");
    assert_eq!(text(&i["id"]), "acme");
    assert_eq!(text(&i["name"]), "Acme Corp");
    assert_eq!(text(&i["tier"]), "basic");
    assert_eq!(text(&i["state"]), "active");
    let created = num(&i["created_at"]);
    assert!(
        (before..=after).contains(&created),
        "created_at {created} not in [{before}, {after}]"
    );
    assert_eq!(num(&i["memory_limit"]), GB);
    assert_eq!(num(&i["key_limit"]), 500);
    assert_eq!(num(&i["ops_limit"]), 20);
    assert_eq!(num(&i["connection_limit"]), 3);
    assert_eq!(num(&i["databases"]), 2);
    assert_eq!(text(&i["eviction"]), "allkeys-lfu");
    assert_eq!(num(&i["memory_used"]), 0);
    assert_eq!(num(&i["keys"]), 0);
    assert_eq!(num(&i["connections"]), 0);
    // Options are case-insensitive, sizes accept every unit form, plain bytes too.
    create(
        &mut a,
        "beta",
        &["memory", "64mb", "tier", "pro", "eviction", "volatile-ttl"],
    );
    let i = tenant_info(&mut a, "beta");
    assert_eq!(num(&i["memory_limit"]), 64 * MB);
    assert_eq!(text(&i["tier"]), "pro");
    assert_eq!(text(&i["name"]), "beta", "name defaults to the id");
    assert_eq!(text(&i["eviction"]), "volatile-ttl");
    create(&mut a, "gamma", &["MEMORY", "12345"]);
    assert_eq!(info_num(&mut a, "gamma", "memory_limit"), 12345);
}

#[test]
fn create_without_tier_gets_free_tier_limits_and_every_tier_reports_its_limits() {
    let srv = TestServer::start();
    let mut a = srv.client();
    create(&mut a, "plain", &[]);
    // (tier, memory, keys, ops, connections, databases, eviction)
    let tiers: [(&str, i64, i64, i64, i64, i64, &str); 4] = [
        ("free", 64 * MB, 10_000, 100, 10, 1, "noeviction"),
        ("basic", 512 * MB, 100_000, 1_000, 50, 4, "allkeys-lru"),
        ("pro", 4 * GB, 10_000_000, 50_000, 500, 16, "allkeys-lru"),
        (
            "enterprise",
            64 * GB,
            1_000_000_000,
            1_000_000,
            10_000,
            16,
            "allkeys-lru",
        ),
    ];
    for (tier, memory, keys, ops, conns, dbs, eviction) in tiers {
        let id = format!("t-{tier}");
        create(&mut a, &id, &["TIER", tier]);
        let mut ids = vec![id.as_str()];
        if tier == "free" {
            ids.push("plain");
        }
        for id in ids {
            let i = tenant_info(&mut a, id);
            assert_eq!(text(&i["tier"]), tier, "{id}");
            assert_eq!(num(&i["memory_limit"]), memory, "{id} memory");
            assert_eq!(num(&i["key_limit"]), keys, "{id} keys");
            assert_eq!(num(&i["ops_limit"]), ops, "{id} ops");
            assert_eq!(num(&i["connection_limit"]), conns, "{id} connections");
            assert_eq!(num(&i["databases"]), dbs, "{id} databases");
            assert_eq!(text(&i["eviction"]), eviction, "{id} eviction");
        }
    }
}

#[test]
fn create_rejects_existing_and_invalid_ids() {
    let srv = TestServer::start();
    let mut a = srv.client();
    create(&mut a, "acme", &[]);
    assert_err_exact(
        &mut a,
        cmd("TENANT.CREATE").arg("acme"),
        "ERR tenant 'acme' already exists",
    );
    let long = "a".repeat(65);
    for bad in [
        "Acme",
        "ac:me",
        "",
        long.as_str(),
        "-acme",
        ".acme",
        "_acme",
        "a b",
        "é",
    ] {
        assert_err_exact(&mut a, cmd("TENANT.CREATE").arg(bad), &invalid_id(bad));
    }
    // The edges of the grammar are accepted: 64 characters, digits first, . _ - inside.
    create(&mut a, &"b".repeat(64), &[]);
    create(&mut a, "0-a.b_c", &[]);
    let mut expected = strings(&["0-a.b_c", "acme"]);
    expected.push("b".repeat(64));
    assert_eq!(list(&mut a, &[]), expected);
}

#[test]
fn create_rejects_bad_options_without_creating_anything() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let cases: &[(&[&str], &str)] = &[
        (&["TIER", "gold"], "ERR unknown tier 'gold'"),
        (&["MEMORY", "12xb"], "ERR invalid memory size '12xb'"),
        (&["MEMORY", "-1"], "ERR invalid memory size '-1'"),
        (&["KEYS", "many"], "ERR invalid key limit 'many'"),
        (&["KEYS", "-5"], "ERR invalid key limit '-5'"),
        (&["OPS", "1.5"], "ERR invalid ops limit '1.5'"),
        (&["CONNECTIONS", "x"], "ERR invalid connection limit 'x'"),
        (&["DATABASES", "0"], "ERR invalid databases '0'"),
        (&["DATABASES", "17"], "ERR invalid databases '17'"),
        (&["DATABASES", "two"], "ERR invalid databases 'two'"),
        (
            &["EVICTION", "sometimes"],
            "ERR invalid eviction policy 'sometimes'",
        ),
        // Odd option lists and unknown options are syntax errors.
        (&["NAME"], "ERR syntax error"),
        (&["NAME", "x", "TIER"], "ERR syntax error"),
        (&["COLOR", "red"], "ERR syntax error"),
        // STATE belongs to TENANT.UPDATE only.
        (&["STATE", "active"], "ERR syntax error"),
    ];
    for (opts, expected) in cases {
        assert_err_exact(
            &mut a,
            cmd("TENANT.CREATE").arg("acme").arg(*opts),
            expected,
        );
    }
    assert_err_exact(&mut a, &mut cmd("TENANT.CREATE"), &arity("tenant.create"));
    assert_eq!(list(&mut a, &[]), Vec::<String>::new());
    create(&mut a, "acme", &[]);
}

#[test]
fn create_refuses_beyond_max_tenants() {
    let srv = TestServer::start_with("[tenancy]\nmax_tenants = 2\n");
    let mut a = srv.client();
    create(&mut a, "a1", &[]);
    create(&mut a, "a2", &[]);
    assert_err_exact(
        &mut a,
        cmd("TENANT.CREATE").arg("a3"),
        "ERR max number of tenants reached (2)",
    );
    assert_eq!(list(&mut a, &[]), strings(&["a1", "a2"]));
    ok(&mut a, cmd("TENANT.DELETE").arg("a1"));
    create(&mut a, "a3", &[]);
    assert_eq!(list(&mut a, &[]), strings(&["a2", "a3"]));
}

// ---------------------------------------------------------------------------------------------
// TENANT.UPDATE / LIST / INFO
// ---------------------------------------------------------------------------------------------

#[test]
fn update_changes_name_tier_state_and_limits() {
    let srv = TestServer::start();
    let mut a = srv.client();
    create(&mut a, "acme", &[]);
    let created = info_num(&mut a, "acme", "created_at");
    ok(
        &mut a,
        cmd("TENANT.UPDATE")
            .arg("acme")
            .arg(&["NAME", "Acme Inc", "TIER", "pro"]),
    );
    let i = tenant_info(&mut a, "acme");
    assert_eq!(text(&i["name"]), "Acme Inc");
    assert_eq!(text(&i["tier"]), "pro");
    assert_eq!(
        num(&i["memory_limit"]),
        4 * GB,
        "a new tier brings its limits"
    );
    assert_eq!(num(&i["key_limit"]), 10_000_000);
    assert_eq!(num(&i["databases"]), 16);
    assert_eq!(num(&i["created_at"]), created, "created_at never changes");

    ok(
        &mut a,
        cmd("TENANT.UPDATE").arg("acme").arg(&[
            "MEMORY",
            "100mb",
            "KEYS",
            "7",
            "OPS",
            "8",
            "CONNECTIONS",
            "9",
            "DATABASES",
            "3",
            "EVICTION",
            "volatile-lru",
        ]),
    );
    let i = tenant_info(&mut a, "acme");
    assert_eq!(num(&i["memory_limit"]), 100 * MB);
    assert_eq!(num(&i["key_limit"]), 7);
    assert_eq!(num(&i["ops_limit"]), 8);
    assert_eq!(num(&i["connection_limit"]), 9);
    assert_eq!(num(&i["databases"]), 3);
    assert_eq!(text(&i["eviction"]), "volatile-lru");
    assert_eq!(text(&i["tier"]), "pro");
    assert_eq!(
        text(&i["name"]),
        "Acme Inc",
        "unmentioned settings are kept"
    );

    // An explicit limit wins over the tier given in the same command, whatever the order.
    ok(
        &mut a,
        cmd("TENANT.UPDATE")
            .arg("acme")
            .arg(&["KEYS", "5", "TIER", "basic"]),
    );
    let i = tenant_info(&mut a, "acme");
    assert_eq!(text(&i["tier"]), "basic");
    assert_eq!(num(&i["key_limit"]), 5);
    assert_eq!(num(&i["memory_limit"]), 512 * MB);

    for state in ["readonly", "suspended", "active"] {
        ok(
            &mut a,
            cmd("TENANT.UPDATE").arg("acme").arg(&["STATE", state]),
        );
        assert_eq!(text(&tenant_info(&mut a, "acme")["state"]), state);
    }
}

#[test]
fn update_errors() {
    let srv = TestServer::start();
    let mut a = srv.client();
    create(&mut a, "acme", &[]);
    let cases: &[(&[&str], &str)] = &[
        (&["STATE", "deleting"], "ERR invalid state 'deleting'"),
        (&["STATE", "asleep"], "ERR invalid state 'asleep'"),
        (&["TIER", "gold"], "ERR unknown tier 'gold'"),
        (&["MEMORY", "12xb"], "ERR invalid memory size '12xb'"),
        (&["KEYS", "x"], "ERR invalid key limit 'x'"),
        (&["DATABASES", "0"], "ERR invalid databases '0'"),
        (&["NAME"], "ERR syntax error"),
        (&["COLOR", "red"], "ERR syntax error"),
    ];
    for (opts, expected) in cases {
        assert_err_exact(
            &mut a,
            cmd("TENANT.UPDATE").arg("acme").arg(*opts),
            expected,
        );
    }
    assert_err_exact(
        &mut a,
        cmd("TENANT.UPDATE").arg("nope").arg(&["NAME", "x"]),
        &no_such_tenant("nope"),
    );
    // A failed update changes nothing.
    let i = tenant_info(&mut a, "acme");
    assert_eq!(text(&i["tier"]), "free");
    assert_eq!(text(&i["state"]), "active");
    assert_eq!(num(&i["key_limit"]), 10_000);
}

#[test]
fn list_filters_by_state_tier_and_glob_sorted() {
    let srv = TestServer::start();
    let mut a = srv.client();
    for (id, tier) in [
        ("zeta", "free"),
        ("acme", "pro"),
        ("acme-eu", "pro"),
        ("beta", "basic"),
        ("10x", "free"),
    ] {
        create(&mut a, id, &["TIER", tier]);
    }
    ok(&mut a, cmd("TENANT.SUSPEND").arg("beta"));
    ok(
        &mut a,
        cmd("TENANT.UPDATE").arg("zeta").arg(&["STATE", "readonly"]),
    );
    assert_eq!(
        list(&mut a, &[]),
        strings(&["10x", "acme", "acme-eu", "beta", "zeta"])
    );
    assert_eq!(list(&mut a, &["STATE", "suspended"]), strings(&["beta"]));
    assert_eq!(list(&mut a, &["STATE", "readonly"]), strings(&["zeta"]));
    assert_eq!(
        list(&mut a, &["STATE", "active"]),
        strings(&["10x", "acme", "acme-eu"])
    );
    assert_eq!(
        list(&mut a, &["TIER", "pro"]),
        strings(&["acme", "acme-eu"])
    );
    assert_eq!(list(&mut a, &["TIER", "free"]), strings(&["10x", "zeta"]));
    assert_eq!(list(&mut a, &["TIER", "enterprise"]), Vec::<String>::new());
    assert_eq!(
        list(&mut a, &["MATCH", "acme*"]),
        strings(&["acme", "acme-eu"])
    );
    assert_eq!(list(&mut a, &["MATCH", "?eta"]), strings(&["beta", "zeta"]));
    assert_eq!(list(&mut a, &["MATCH", "[0-9]*"]), strings(&["10x"]));
    assert_eq!(
        list(&mut a, &["TIER", "pro", "MATCH", "*-eu", "STATE", "active"]),
        strings(&["acme-eu"])
    );
    assert_eq!(
        list(&mut a, &["STATE", "suspended", "TIER", "pro"]),
        Vec::<String>::new()
    );
    assert_err_exact(
        &mut a,
        cmd("TENANT.LIST").arg(&["STATE", "sleepy"]),
        "ERR invalid state 'sleepy'",
    );
    assert_err_exact(&mut a, cmd("TENANT.LIST").arg("STATE"), "ERR syntax error");
    assert_err_exact(
        &mut a,
        cmd("TENANT.LIST").arg(&["SORT", "asc"]),
        "ERR syntax error",
    );
}

/// The fields TENANT.INFO must carry (issue 3), in the order the issue lists them.
const INFO_FIELDS: [&str; 14] = [
    "id",
    "name",
    "tier",
    "state",
    "created_at",
    "memory_used",
    "memory_limit",
    "keys",
    "key_limit",
    "ops_limit",
    "connections",
    "connection_limit",
    "databases",
    "eviction",
];

#[test]
fn info_is_a_map_in_resp3_and_a_flat_array_in_resp2() {
    let srv = TestServer::start();
    let mut a = srv.client();
    create(&mut a, "acme", &["NAME", "Acme"]);

    let mut a3 = srv.client_resp3();
    let v = val(&mut a3, cmd("TENANT.INFO").arg("acme"));
    let Value::Map(pairs) = &v else {
        panic!("RESP3 TENANT.INFO is not a map: {v:?}");
    };
    let names3: Vec<String> = pairs.iter().map(|(k, _)| text(k)).collect();
    for f in INFO_FIELDS {
        assert!(names3.iter().any(|n| n == f), "RESP3 lacks {f}: {names3:?}");
    }

    let v = val(&mut a, cmd("TENANT.INFO").arg("acme"));
    let Value::Array(items) = &v else {
        panic!("RESP2 TENANT.INFO is not an array: {v:?}");
    };
    assert_eq!(items.len() % 2, 0);
    let names2: Vec<String> = items.iter().step_by(2).map(text).collect();
    assert_eq!(names2, names3, "same fields, same order in both protocols");
    let m = fields(&v);
    for f in ["id", "name", "tier", "state", "eviction"] {
        assert!(matches!(m[f], Value::BulkString(_)), "{f} is a string");
    }
    for f in [
        "created_at",
        "memory_used",
        "memory_limit",
        "keys",
        "key_limit",
        "ops_limit",
        "connections",
        "connection_limit",
        "databases",
    ] {
        assert!(
            matches!(m[f], Value::Int(_)),
            "{f} is an integer: {:?}",
            m[f]
        );
    }
    assert_eq!(text(&m["id"]), "acme");
    assert_eq!(text(&m["name"]), "Acme");

    assert_err_exact(
        &mut a,
        cmd("TENANT.INFO").arg("nope"),
        &no_such_tenant("nope"),
    );
    assert_err_exact(&mut a, &mut cmd("TENANT.INFO"), &arity("tenant.info"));
}

#[test]
fn info_counts_keys_memory_and_connections() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let tok = tenant_with_token(&mut a, "acme", &[], "readwrite");
    let mut t1 = connect_as(&srv, "acme", &tok.secret);
    let t2 = connect_as(&srv, "acme", &tok.secret);
    set(&mut t1, "k1", "v".repeat(100));
    set(&mut t1, "k2", "v");
    let i = tenant_info(&mut a, "acme");
    assert_eq!(num(&i["keys"]), 2);
    assert!(
        num(&i["memory_used"]) > 100,
        "memory_used {:?}",
        i["memory_used"]
    );
    assert_eq!(num(&i["connections"]), 2);
    drop(t2);
    eventually("the closed connection to be uncounted", || {
        info_num(&mut a, "acme", "connections") == 1
    });
    assert_eq!(common::int(&mut t1, cmd("DEL").arg("k1")), 1);
    assert_eq!(info_num(&mut a, "acme", "keys"), 1);
}

// ---------------------------------------------------------------------------------------------
// TENANT.SUSPEND / ACTIVATE / readonly state
// ---------------------------------------------------------------------------------------------

#[test]
fn suspend_refuses_auth_and_data_commands_of_live_connections_until_activate() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let tok = tenant_with_token(&mut a, "acme", &[], "readwrite");
    let mut t = connect_as(&srv, "acme", &tok.secret);
    set(&mut t, "k", "v");

    ok(
        &mut a,
        cmd("TENANT.SUSPEND").arg(&["acme", "REASON", "unpaid invoice"]),
    );
    let i = tenant_info(&mut a, "acme");
    assert_eq!(text(&i["state"]), "suspended");
    assert_eq!(text(&i["suspend_reason"]), "unpaid invoice");
    assert_eq!(list(&mut a, &["STATE", "suspended"]), strings(&["acme"]));

    // Data commands are refused on the live connection; PING and connection commands still work.
    assert_err_exact(&mut t, cmd("GET").arg("k"), &suspended("acme"));
    assert_err_exact(&mut t, cmd("SET").arg("k").arg("w"), &suspended("acme"));
    assert_err_exact(&mut t, &mut cmd("DBSIZE"), &suspended("acme"));
    assert_alive(&mut t);
    assert_eq!(current(&mut t).as_deref(), Some("acme"));

    // New authentications fail with Redis's AUTH failure text, and leave the connection unbound.
    let mut fresh = srv.client();
    let e = err_of(&mut fresh, cmd("AUTH").arg("acme").arg(&tok.secret));
    assert_eq!(
        e,
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    assert_eq!(current(&mut fresh), None);
    assert!(try_connect_as(&srv, "acme", &tok.secret, "").is_err());

    // The admin still sees the data through the global name.
    assert_eq!(get_str(&mut a, "__tenant:acme:k").as_deref(), Some("v"));

    ok(&mut a, cmd("TENANT.ACTIVATE").arg("acme"));
    let i = tenant_info(&mut a, "acme");
    assert_eq!(text(&i["state"]), "active");
    assert!(!i.contains_key("suspend_reason"), "reason cleared: {i:?}");
    assert_eq!(get_str(&mut t, "k").as_deref(), Some("v"));
    set(&mut t, "k", "w");
    let mut again = connect_as(&srv, "acme", &tok.secret);
    assert_eq!(get_str(&mut again, "k").as_deref(), Some("w"));

    // Without a reason; errors.
    ok(&mut a, cmd("TENANT.SUSPEND").arg("acme"));
    assert_err_exact(&mut t, cmd("GET").arg("k"), &suspended("acme"));
    ok(&mut a, cmd("TENANT.ACTIVATE").arg("acme"));
    assert_err_exact(
        &mut a,
        cmd("TENANT.SUSPEND").arg(&["acme", "REASON"]),
        "ERR syntax error",
    );
    assert_err_exact(
        &mut a,
        cmd("TENANT.SUSPEND").arg(&["acme", "BECAUSE", "x"]),
        "ERR syntax error",
    );
    assert_err_exact(
        &mut a,
        cmd("TENANT.SUSPEND").arg("nope"),
        &no_such_tenant("nope"),
    );
    assert_err_exact(
        &mut a,
        cmd("TENANT.ACTIVATE").arg("nope"),
        &no_such_tenant("nope"),
    );
}

#[test]
fn readonly_state_refuses_writes_allows_reads_until_activate() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let tok = tenant_with_token(&mut a, "acme", &[], "admin");
    let mut t = connect_as(&srv, "acme", &tok.secret);
    set(&mut t, "k", "v");
    ok(
        &mut a,
        cmd("TENANT.UPDATE").arg(&["acme", "STATE", "readonly"]),
    );
    assert_err_exact(&mut t, cmd("SET").arg("k").arg("w"), &read_only("acme"));
    assert_err_exact(&mut t, cmd("DEL").arg("k"), &read_only("acme"));
    assert_err_exact(&mut t, &mut cmd("FLUSHALL"), &read_only("acme"));
    assert_eq!(get_str(&mut t, "k").as_deref(), Some("v"));
    assert_eq!(common::dbsize(&mut t), 1);
    // Authentication still works for a read-only tenant.
    let mut other = connect_as(&srv, "acme", &tok.secret);
    assert_eq!(get_str(&mut other, "k").as_deref(), Some("v"));
    ok(&mut a, cmd("TENANT.ACTIVATE").arg("acme"));
    assert_eq!(text(&tenant_info(&mut a, "acme")["state"]), "active");
    set(&mut t, "k", "w");
    assert_eq!(get_str(&mut other, "k").as_deref(), Some("w"));
}

// ---------------------------------------------------------------------------------------------
// TENANT.DELETE
// ---------------------------------------------------------------------------------------------

#[test]
fn delete_refuses_with_keys_unless_force() {
    let srv = TestServer::start();
    let mut a = srv.client();
    create(&mut a, "acme", &[]);
    set(&mut a, "__tenant:acme:k1", "v");
    set(&mut a, "__tenant:acme:k2", "v");
    assert_err_exact(
        &mut a,
        cmd("TENANT.DELETE").arg("acme"),
        "ERR tenant 'acme' still has 2 keys; use TENANT.DELETE acme FORCE to delete them",
    );
    assert_eq!(list(&mut a, &[]), strings(&["acme"]));
    assert_eq!(get_str(&mut a, "__tenant:acme:k1").as_deref(), Some("v"));
    assert_err_exact(
        &mut a,
        cmd("TENANT.DELETE").arg(&["acme", "NOW"]),
        "ERR syntax error",
    );
    ok(&mut a, cmd("TENANT.DELETE").arg(&["acme", "force"]));
    assert_eq!(list(&mut a, &[]), Vec::<String>::new());

    // An empty tenant needs no FORCE.
    create(&mut a, "empty", &[]);
    ok(&mut a, cmd("TENANT.DELETE").arg("empty"));
    assert_err_exact(
        &mut a,
        cmd("TENANT.DELETE").arg("empty"),
        &no_such_tenant("empty"),
    );
}

#[test]
fn delete_drops_data_and_credentials_and_closes_live_connections() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let tok = tenant_with_token(&mut a, "acme", &["TIER", "basic"], "readwrite");
    let other = tenant_with_token(&mut a, "beta", &[], "readwrite");
    let mut t = connect_as(&srv, "acme", &tok.secret);
    set(&mut t, "k", "v");
    common::select(&mut t, 2);
    set(&mut t, "k2", "v");
    let mut b = connect_as(&srv, "beta", &other.secret);
    set(&mut b, "k", "beta's");
    // A raw connection shows the server closing the socket by itself.
    let mut raw = srv.raw();
    let req = format!(
        "*3\r\n$4\r\nAUTH\r\n$4\r\nacme\r\n${}\r\n{}\r\n",
        tok.secret.len(),
        tok.secret
    );
    assert_eq!(raw.request(req.as_bytes()), b"+OK\r\n");

    ok(&mut a, cmd("TENANT.DELETE").arg(&["acme", "FORCE"]));

    let rest = raw.read_all();
    assert!(
        rest.is_empty(),
        "closed without a reply: {:?}",
        String::from_utf8_lossy(&rest)
    );
    let r: RedisResult<Option<String>> = cmd("GET").arg("k").query(&mut t);
    assert!(
        r.is_err(),
        "the deleted tenant's connection still works: {r:?}"
    );

    assert_err_exact(
        &mut a,
        cmd("TENANT.INFO").arg("acme"),
        &no_such_tenant("acme"),
    );
    assert_err_exact(
        &mut a,
        cmd("GET").arg("__tenant:acme:k"),
        &no_such_tenant("acme"),
    );
    let mut fresh = srv.client();
    assert_err_exact(
        &mut fresh,
        cmd("AUTH").arg("acme").arg(&tok.secret),
        WRONGPASS,
    );
    assert!(try_connect_as(&srv, "acme", &tok.secret, "").is_err());

    // A new tenant with the same id starts empty, and the old token does not open it.
    create(&mut a, "acme", &["TIER", "basic"]);
    assert_eq!(info_num(&mut a, "acme", "keys"), 0);
    assert_eq!(get_str(&mut a, "__tenant:acme:k"), None);
    assert_err_exact(
        &mut fresh,
        cmd("AUTH").arg("acme").arg(&tok.secret),
        WRONGPASS,
    );
    let tok2 = token(&mut a, "acme", &[]);
    let mut t2 = connect_as(&srv, "acme", &tok2.secret);
    assert_eq!(common::dbsize(&mut t2), 0);
    common::select(&mut t2, 2);
    assert_eq!(
        common::dbsize(&mut t2),
        0,
        "db 2 of the old tenant is gone too"
    );
    let tokens = val(&mut a, cmd("TENANT.TOKEN.LIST").arg("acme"));
    assert_eq!(
        tokens.as_sequence().map(|s| s.len()),
        Some(1),
        "only the new token: {tokens:?}"
    );

    // Other tenants are untouched.
    assert_eq!(get_str(&mut b, "k").as_deref(), Some("beta's"));
}

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

#[test]
fn token_create_returns_id_secret_role_for_every_role() {
    let srv = TestServer::start();
    let mut a = srv.client();
    create(&mut a, "acme", &[]);
    let default = token(&mut a, "acme", &[]);
    assert_eq!(default.role, "readwrite", "the default role");
    assert!(!default.id.is_empty());
    assert!(
        default.secret.len() >= 32,
        "a long secret: {}",
        default.secret
    );
    assert_ne!(default.secret, default.id);
    for role in ["admin", "readwrite", "readonly"] {
        let t = token(&mut a, "acme", &["ROLE", role, "NAME", "ci"]);
        assert_eq!(t.role, role);
        let mut c = connect_as(&srv, "acme", &t.secret);
        assert_eq!(current(&mut c).as_deref(), Some("acme"));
    }
    let mixed = token(&mut a, "acme", &["role", "READONLY"]);
    assert_eq!(mixed.role, "readonly");

    // RESP3: a real map with the same three fields.
    let mut a3 = srv.client_resp3();
    let v = val(
        &mut a3,
        cmd("TENANT.TOKEN.CREATE").arg(&["acme", "ROLE", "admin"]),
    );
    let Value::Map(pairs) = &v else {
        panic!("RESP3 TENANT.TOKEN.CREATE is not a map: {v:?}");
    };
    let names: Vec<String> = pairs.iter().map(|(k, _)| text(k)).collect();
    assert_eq!(names, ["id", "secret", "role"]);

    // Ids and secrets are unique.
    let t1 = token(&mut a, "acme", &[]);
    let t2 = token(&mut a, "acme", &[]);
    assert_ne!(t1.id, t2.id);
    assert_ne!(t1.secret, t2.secret);

    let cases: &[(&[&str], &str)] = &[
        (&["ROLE", "root"], "ERR invalid role 'root'"),
        (&["TTL", "0"], "ERR invalid TTL '0'"),
        (&["TTL", "-3"], "ERR invalid TTL '-3'"),
        (&["TTL", "soon"], "ERR invalid TTL 'soon'"),
        (&["ROLE"], "ERR syntax error"),
        (&["SCOPE", "all"], "ERR syntax error"),
    ];
    for (opts, expected) in cases {
        assert_err_exact(
            &mut a,
            cmd("TENANT.TOKEN.CREATE").arg("acme").arg(*opts),
            expected,
        );
    }
    assert_err_exact(
        &mut a,
        cmd("TENANT.TOKEN.CREATE").arg("nope"),
        &no_such_tenant("nope"),
    );
}

#[test]
fn token_with_ttl_stops_authenticating_after_it_expires() {
    let srv = TestServer::start();
    let mut a = srv.client();
    create(&mut a, "acme", &[]);
    let short = token(&mut a, "acme", &["TTL", "1", "NAME", "short"]);
    let long = token(&mut a, "acme", &["TTL", "3600"]);
    let mut c = srv.client();
    ok(&mut c, cmd("AUTH").arg("acme").arg(&short.secret));
    assert_eq!(current(&mut c).as_deref(), Some("acme"));
    std::thread::sleep(Duration::from_millis(1200));
    let mut fresh = srv.client();
    assert_err_exact(
        &mut fresh,
        cmd("AUTH").arg("acme").arg(&short.secret),
        WRONGPASS,
    );
    assert_eq!(current(&mut fresh), None);
    assert!(try_connect_as(&srv, "acme", &short.secret, "").is_err());
    // A token with a longer TTL still works.
    ok(&mut fresh, cmd("AUTH").arg("acme").arg(&long.secret));
    assert_eq!(current(&mut fresh).as_deref(), Some("acme"));
}

#[test]
fn token_list_shows_metadata_but_never_secrets_or_hashes() {
    let srv = TestServer::start();
    let mut a = srv.client();
    create(&mut a, "acme", &[]);
    let before = common::now_ms();
    let t1 = token(&mut a, "acme", &["ROLE", "admin", "NAME", "deploy-bot"]);
    let t2 = token(&mut a, "acme", &["ROLE", "readonly", "TTL", "600"]);
    let _c = connect_as(&srv, "acme", &t1.secret);

    let v = val(&mut a, cmd("TENANT.TOKEN.LIST").arg("acme"));
    let entries: Vec<BTreeMap<String, Value>> = v
        .as_sequence()
        .expect("an array of tokens")
        .iter()
        .map(fields)
        .collect();
    assert_eq!(entries.len(), 2);
    let by_id = |id: &str| {
        entries
            .iter()
            .find(|e| text(&e["id"]) == id)
            .unwrap_or_else(|| panic!("token {id} not listed: {entries:?}"))
            .clone()
    };
    let e1 = by_id(&t1.id);
    assert_eq!(text(&e1["name"]), "deploy-bot");
    assert_eq!(text(&e1["role"]), "admin");
    assert!(num(&e1["created_at"]) >= before);
    assert!(
        num(&e1["last_used"]) >= num(&e1["created_at"]),
        "used by AUTH"
    );
    assert_eq!(num(&e1["expires_at"]), 0, "no TTL: never expires");
    let e2 = by_id(&t2.id);
    assert_eq!(text(&e2["role"]), "readonly");
    assert_eq!(num(&e2["last_used"]), 0, "never used");
    let exp = num(&e2["expires_at"]);
    let created = num(&e2["created_at"]);
    assert!(
        (created + 599_000..=created + 601_000).contains(&exp),
        "expires_at {exp} vs created_at {created}"
    );

    // Nothing secret anywhere in the reply, in either protocol.
    let mut a3 = srv.client_resp3();
    for reply in [v, val(&mut a3, cmd("TENANT.TOKEN.LIST").arg("acme"))] {
        let dump = format!("{reply:?}");
        for t in [&t1, &t2] {
            assert!(!dump.contains(&t.secret), "secret leaked: {dump}");
            let random_part = t.secret.rsplit('_').next().unwrap();
            assert!(!dump.contains(random_part), "secret part leaked: {dump}");
        }
        assert!(!dump.contains("sha256"), "hash leaked: {dump}");
        for e in &entries {
            assert!(!e.contains_key("secret") && !e.contains_key("hash"));
        }
    }

    assert_err_exact(
        &mut a,
        cmd("TENANT.TOKEN.LIST").arg("nope"),
        &no_such_tenant("nope"),
    );
    create(&mut a, "empty", &[]);
    assert_eq!(
        val(&mut a, cmd("TENANT.TOKEN.LIST").arg("empty")),
        Value::Array(vec![])
    );
}

#[test]
fn token_revoke_takes_effect_on_live_connections_at_their_next_command() {
    let srv = TestServer::start();
    let mut a = srv.client();
    create(&mut a, "acme", &[]);
    let doomed = token(&mut a, "acme", &[]);
    let kept = token(&mut a, "acme", &[]);
    let mut t = connect_as(&srv, "acme", &doomed.secret);
    let mut k = connect_as(&srv, "acme", &kept.secret);
    set(&mut t, "k", "v");

    assert_err_exact(
        &mut a,
        cmd("TENANT.TOKEN.REVOKE").arg(&["acme", "zzzzzz"]),
        "ERR no such token 'zzzzzz'",
    );
    assert_err_exact(
        &mut a,
        cmd("TENANT.TOKEN.REVOKE").arg(&["nope", &doomed.id]),
        &no_such_tenant("nope"),
    );
    ok(
        &mut a,
        cmd("TENANT.TOKEN.REVOKE").arg("acme").arg(&doomed.id),
    );
    assert_err_only(&mut t, cmd("GET").arg("k"), NOAUTH);
    // It is no longer in the tenant: whatever it runs next does not reach acme's data.
    let r: RedisResult<Option<String>> = cmd("GET").arg("k").query(&mut t);
    assert!(
        !matches!(&r, Ok(Some(v)) if v == "v"),
        "the revoked connection still reads the tenant's data: {r:?}"
    );
    // The other token's connection is unaffected.
    assert_eq!(get_str(&mut k, "k").as_deref(), Some("v"));
    // The revoked secret no longer authenticates; revoking twice is an unknown token.
    let mut fresh = srv.client();
    assert_err_exact(
        &mut fresh,
        cmd("AUTH").arg("acme").arg(&doomed.secret),
        WRONGPASS,
    );
    assert_err_exact(
        &mut a,
        cmd("TENANT.TOKEN.REVOKE").arg("acme").arg(&doomed.id),
        &format!("ERR no such token '{}'", doomed.id),
    );
    let listed = format!("{:?}", val(&mut a, cmd("TENANT.TOKEN.LIST").arg("acme")));
    assert!(
        !listed.contains(&doomed.id),
        "revoked token listed: {listed}"
    );
    assert!(listed.contains(&kept.id));
}

#[test]
fn token_revoke_with_requirepass_leaves_the_connection_unauthenticated() {
    let srv = TestServer::start_with(PASS_CONFIG);
    let mut a = srv.client();
    ok(&mut a, cmd("AUTH").arg("pw"));
    create(&mut a, "acme", &[]);
    let doomed = token(&mut a, "acme", &[]);
    let kept = token(&mut a, "acme", &[]);
    let mut t = connect_as(&srv, "acme", &doomed.secret);
    set(&mut t, "k", "v");
    ok(
        &mut a,
        cmd("TENANT.TOKEN.REVOKE").arg("acme").arg(&doomed.id),
    );
    assert_err_only(&mut t, cmd("GET").arg("k"), NOAUTH);
    assert_err_only(&mut t, cmd("GET").arg("k"), NOAUTH);
    assert_err_only(&mut t, &mut cmd("TENANT.CURRENT"), NOAUTH);
    assert_err_only(
        &mut t,
        cmd("AUTH").arg("acme").arg(&doomed.secret),
        WRONGPASS,
    );
    ok(&mut t, cmd("AUTH").arg("acme").arg(&kept.secret));
    assert_eq!(get_str(&mut t, "k").as_deref(), Some("v"));
}

// ---------------------------------------------------------------------------------------------
// TENANT.USE / CURRENT / EXIT
// ---------------------------------------------------------------------------------------------

#[test]
fn use_current_exit_for_admins() {
    let srv = TestServer::start();
    let mut a = srv.client();
    create(&mut a, "acme", &[]);
    create(&mut a, "beta", &[]);
    set(&mut a, "k", "global");
    assert_eq!(current(&mut a), None);
    ok(&mut a, cmd("TENANT.USE").arg("acme"));
    assert_eq!(current(&mut a).as_deref(), Some("acme"));
    assert_eq!(get_str(&mut a, "k"), None, "acme's k, not the global one");
    set(&mut a, "k", "acme");
    ok(&mut a, cmd("TENANT.USE").arg("beta"));
    assert_eq!(current(&mut a).as_deref(), Some("beta"));
    set(&mut a, "k", "beta");
    // An admin inside a tenant keeps admin powers.
    assert_eq!(info_num(&mut a, "acme", "keys"), 1);
    ok(&mut a, &mut cmd("TENANT.EXIT"));
    assert_eq!(current(&mut a), None);
    assert_eq!(get_str(&mut a, "k").as_deref(), Some("global"));
    assert_eq!(get_str(&mut a, "__tenant:acme:k").as_deref(), Some("acme"));
    assert_eq!(get_str(&mut a, "__tenant:beta:k").as_deref(), Some("beta"));
    // EXIT in the global context is harmless.
    ok(&mut a, &mut cmd("TENANT.EXIT"));
    assert_eq!(current(&mut a), None);
    assert_err_exact(
        &mut a,
        cmd("TENANT.USE").arg("nope"),
        &no_such_tenant("nope"),
    );
    assert_eq!(current(&mut a), None);
    assert_err_exact(&mut a, &mut cmd("TENANT.USE"), &arity("tenant.use"));
}

#[test]
fn tenant_connection_cannot_exit_or_use() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let tok = tenant_with_token(&mut a, "acme", &[], "admin");
    create(&mut a, "beta", &[]);
    set(&mut a, "k", "global");
    let mut t = connect_as(&srv, "acme", &tok.secret);
    assert_eq!(current(&mut t).as_deref(), Some("acme"));
    assert_err_exact(
        &mut t,
        &mut cmd("TENANT.EXIT"),
        "ERR a connection authenticated as a tenant cannot leave it",
    );
    assert_eq!(current(&mut t).as_deref(), Some("acme"));
    assert_eq!(get_str(&mut t, "k"), None, "still inside acme");
    assert_err_exact(
        &mut t,
        cmd("TENANT.USE").arg("beta"),
        &noperm("acme", "tenant.use"),
    );
    assert_eq!(current(&mut t).as_deref(), Some("acme"));
}

// ---------------------------------------------------------------------------------------------
// AUTH / HELLO binding
// ---------------------------------------------------------------------------------------------

#[test]
fn auth_binds_the_connection_to_the_tenant() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let tok = tenant_with_token(&mut a, "acme", &[], "readwrite");
    set(&mut a, "k", "global");
    let mut c = srv.client();
    ok(&mut c, cmd("AUTH").arg("acme").arg(&tok.secret));
    assert_eq!(current(&mut c).as_deref(), Some("acme"));
    assert_eq!(get_str(&mut c, "k"), None);
    set(&mut c, "k", "mine");
    set(&mut c, "other", "x");
    assert_eq!(info_num(&mut a, "acme", "keys"), 2);
    assert_eq!(get_str(&mut a, "__tenant:acme:k").as_deref(), Some("mine"));
    assert_eq!(get_str(&mut a, "k").as_deref(), Some("global"));
    let info: String = cmd("CLIENT").arg("INFO").query(&mut c).unwrap();
    assert_eq!(field(&info, "user"), "acme");
    // The URL form authenticates the same way.
    let mut u = connect_as(&srv, "acme", &tok.secret);
    assert_eq!(get_str(&mut u, "k").as_deref(), Some("mine"));
}

#[test]
fn hello_3_auth_binds_the_connection_to_the_tenant() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let tok = tenant_with_token(&mut a, "acme", &[], "readwrite");
    let mut c = srv.client();
    let v = val(
        &mut c,
        cmd("HELLO").arg(&["3", "AUTH", "acme"]).arg(&tok.secret),
    );
    let m = fields(&v);
    assert_eq!(num(&m["proto"]), 3);
    assert_eq!(text(&m["server"]), "redis");
    assert_eq!(current(&mut c).as_deref(), Some("acme"));
    ok(&mut c, cmd("SET").arg("k").arg("v"));
    assert_eq!(info_num(&mut a, "acme", "keys"), 1);
    assert_eq!(get_str(&mut a, "__tenant:acme:k").as_deref(), Some("v"));
    // A RESP3 URL connection (the crate sends HELLO 3 AUTH).
    let url = format!("redis://acme:{}@{}/?protocol=resp3", tok.secret, srv.addr);
    let mut r3 = redis::Client::open(url).unwrap().get_connection().unwrap();
    assert_eq!(current(&mut r3).as_deref(), Some("acme"));
    assert_eq!(get_str(&mut r3, "k").as_deref(), Some("v"));
}

#[test]
fn auth_failures_are_wrongpass() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let tok = tenant_with_token(&mut a, "acme", &[], "readwrite");
    let beta = tenant_with_token(&mut a, "beta", &[], "readwrite");
    // Same token id, wrong random part.
    let (head, tail) = tok.secret.rsplit_once('_').unwrap();
    let flipped: String = tail
        .chars()
        .map(|c| if c == '0' { '1' } else { '0' })
        .collect();
    let wrong = format!("{head}_{flipped}");
    let cases: Vec<(&str, String)> = vec![
        ("acme", wrong.clone()),
        ("acme", beta.secret.clone()),
        ("nope", tok.secret.clone()),
        ("acme", "hunter2".into()),
        ("acme", "tkv_".into()),
        ("acme", format!("tkv_{}", tok.id)),
        ("acme", String::new()),
        ("ACME", tok.secret.clone()),
        ("acme ", tok.secret.clone()),
    ];
    let mut c = srv.client();
    for (user, pass) in &cases {
        let e = err_of(&mut c, cmd("AUTH").arg(*user).arg(pass));
        assert_eq!(e, WRONGPASS, "AUTH {user} {pass}");
        assert_eq!(current(&mut c), None, "AUTH {user} {pass}");
        assert_err_exact(
            &mut c,
            cmd("HELLO").arg(&["3", "AUTH", user]).arg(pass),
            WRONGPASS,
        );
        assert_eq!(current(&mut c), None, "HELLO AUTH {user} {pass}");
        if !pass.is_empty() && !user.contains(' ') {
            assert!(
                try_connect_as(&srv, user, pass, "").is_err(),
                "URL {user}:{pass} connected"
            );
        }
    }
    // The right pair still works afterwards.
    ok(&mut c, cmd("AUTH").arg("acme").arg(&tok.secret));
    assert_eq!(current(&mut c).as_deref(), Some("acme"));
}

#[test]
fn requirepass_demands_auth_before_commands() {
    let srv = TestServer::start_with(PASS_CONFIG);
    let mut a = srv.client();
    for words in [
        &["GET", "k"][..],
        &["SET", "k", "v"],
        &["TENANT.CURRENT"],
        &["TENANT.CREATE", "x"],
        &["TENANT.INFO", "x"],
        &["PING"],
    ] {
        assert_err_only(&mut a, &mut mk(words), NOAUTH);
    }
    assert_err_only(&mut a, cmd("AUTH").arg("wrong"), WRONGPASS);
    ok(&mut a, cmd("AUTH").arg("pw"));
    let tok = tenant_with_token(&mut a, "acme", &[], "readwrite");

    let mut t = srv.client();
    assert_err_only(&mut t, cmd("GET").arg("k"), NOAUTH);
    assert_err_only(&mut t, cmd("AUTH").arg("acme").arg("nope"), WRONGPASS);
    assert_err_only(&mut t, cmd("GET").arg("k"), NOAUTH);
    ok(&mut t, cmd("AUTH").arg("acme").arg(&tok.secret));
    set(&mut t, "k", "v");
    assert_eq!(get_str(&mut a, "__tenant:acme:k").as_deref(), Some("v"));
    assert_eq!(get_str(&mut a, "k"), None);

    let mut h = srv.client();
    assert_err_only(&mut h, cmd("GET").arg("k"), NOAUTH);
    val(
        &mut h,
        cmd("HELLO").arg(&["2", "AUTH", "acme"]).arg(&tok.secret),
    );
    assert_eq!(get_str(&mut h, "k").as_deref(), Some("v"));
    let mut u = connect_as(&srv, "acme", &tok.secret);
    assert_eq!(get_str(&mut u, "k").as_deref(), Some("v"));
}

// ---------------------------------------------------------------------------------------------
// Roles
// ---------------------------------------------------------------------------------------------

#[test]
fn readonly_role_reads_but_cannot_write() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let ro = tenant_with_token(&mut a, "acme", &[], "readonly");
    set(&mut a, "__tenant:acme:k", "v");
    let mut t = connect_as(&srv, "acme", &ro.secret);
    assert_eq!(get_str(&mut t, "k").as_deref(), Some("v"));
    assert_eq!(common::exists(&mut t, "k"), 1);
    assert_eq!(common::dbsize(&mut t), 1);
    assert_eq!(keys(&mut t, "*"), strings(&["k"]));
    assert_eq!(common::ttl(&mut t, "k"), -1);
    for (words, name) in [
        (&["SET", "k", "w"][..], "set"),
        (&["DEL", "k"], "del"),
        (&["INCR", "n"], "incr"),
        (&["EXPIRE", "k", "10"], "expire"),
        (&["FLUSHALL"], "flushall"),
        (&["FLUSHDB"], "flushdb"),
    ] {
        assert_err_exact(&mut t, &mut mk(words), &noperm("acme", name));
    }
    assert_eq!(get_str(&mut a, "__tenant:acme:k").as_deref(), Some("v"));
    assert_err_exact(
        &mut t,
        cmd("TENANT.TOKEN.CREATE").arg("acme"),
        &noperm("acme", "tenant.token.create"),
    );
}

#[test]
fn readwrite_role_runs_data_commands_but_not_tenant_administration() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let rw = tenant_with_token(&mut a, "acme", &[], "readwrite");
    let mut t = connect_as(&srv, "acme", &rw.secret);
    set(&mut t, "k", "v");
    assert_eq!(common::int(&mut t, cmd("INCR").arg("n")), 1);
    assert_eq!(common::int(&mut t, cmd("DEL").arg("n")), 1);
    assert_eq!(get_str(&mut t, "k").as_deref(), Some("v"));
    for (words, name) in [
        (&["TENANT.TOKEN.CREATE", "acme"][..], "tenant.token.create"),
        (&["TENANT.TOKEN.LIST", "acme"], "tenant.token.list"),
        (
            &["TENANT.TOKEN.REVOKE", "acme", rw.id.as_str()],
            "tenant.token.revoke",
        ),
        (&["TENANT.INFO", "acme"], "tenant.info"),
    ] {
        assert_err_exact(&mut t, &mut mk(words), &noperm("acme", name));
    }
    assert_eq!(current(&mut t).as_deref(), Some("acme"));
}

#[test]
fn admin_role_manages_its_own_tenant_only() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let adm = tenant_with_token(&mut a, "acme", &["TIER", "basic"], "admin");
    create(&mut a, "beta", &[]);
    let mut t = connect_as(&srv, "acme", &adm.secret);
    set(&mut t, "k", "v");

    let i = tenant_info(&mut t, "acme");
    assert_eq!(text(&i["id"]), "acme");
    assert_eq!(text(&i["tier"]), "basic");
    assert_eq!(num(&i["keys"]), 1);
    let minted = token(&mut t, "acme", &["ROLE", "readonly", "NAME", "reader"]);
    assert_eq!(minted.role, "readonly");
    let listed = format!("{:?}", val(&mut t, cmd("TENANT.TOKEN.LIST").arg("acme")));
    assert!(listed.contains(&minted.id) && listed.contains(&adm.id));
    let mut reader = connect_as(&srv, "acme", &minted.secret);
    assert_eq!(get_str(&mut reader, "k").as_deref(), Some("v"));
    ok(
        &mut t,
        cmd("TENANT.TOKEN.REVOKE").arg("acme").arg(&minted.id),
    );
    assert_err_only(&mut reader, cmd("GET").arg("k"), NOAUTH);

    // Another tenant, existing or not, is out of reach, with one answer for both.
    for other in ["beta", "nope"] {
        let refusal = format!("NOPERM User acme has no permissions to manage tenant '{other}'");
        assert_err_exact(&mut t, cmd("TENANT.INFO").arg(other), &refusal);
        assert_err_exact(&mut t, cmd("TENANT.TOKEN.CREATE").arg(other), &refusal);
        assert_err_exact(&mut t, cmd("TENANT.TOKEN.LIST").arg(other), &refusal);
        assert_err_exact(
            &mut t,
            cmd("TENANT.TOKEN.REVOKE").arg(other).arg("abc"),
            &refusal,
        );
    }
    assert_eq!(
        val(&mut a, cmd("TENANT.TOKEN.LIST").arg("beta")),
        Value::Array(vec![]),
        "no token minted for beta"
    );
}

#[test]
fn no_tenant_role_runs_server_administration() {
    let srv = TestServer::start();
    let mut a = srv.client();
    create(&mut a, "acme", &[]);
    create(&mut a, "beta", &[]);
    set(&mut a, "global", "g");
    for role in ["admin", "readwrite", "readonly"] {
        let tok = token(&mut a, "acme", &["ROLE", role]);
        let mut t = connect_as(&srv, "acme", &tok.secret);
        let cases: [(&[&str], &str); 14] = [
            (&["CONFIG", "GET", "*"], "config|get"),
            (&["CONFIG", "SET", "maxclients", "1"], "config|set"),
            (&["CONFIG", "RESETSTAT"], "config|resetstat"),
            (&["SHUTDOWN"], "shutdown"),
            (&["SHUTDOWN", "NOSAVE"], "shutdown"),
            (&["TENANT.CREATE", "evil"], "tenant.create"),
            (
                &["TENANT.UPDATE", "acme", "TIER", "enterprise"],
                "tenant.update",
            ),
            (
                &["TENANT.UPDATE", "beta", "STATE", "suspended"],
                "tenant.update",
            ),
            (&["TENANT.LIST"], "tenant.list"),
            (&["TENANT.USE", "beta"], "tenant.use"),
            (&["TENANT.DELETE", "beta", "FORCE"], "tenant.delete"),
            (&["TENANT.DELETE", "acme", "FORCE"], "tenant.delete"),
            (&["TENANT.SUSPEND", "beta"], "tenant.suspend"),
            (&["TENANT.ACTIVATE", "acme"], "tenant.activate"),
        ];
        for (words, name) in cases {
            assert_err_exact(&mut t, &mut mk(words), &noperm("acme", name));
        }
        assert_eq!(current(&mut t).as_deref(), Some("acme"), "{role}");
    }
    // Nothing happened: the server runs, both tenants exist unchanged.
    assert_eq!(list(&mut a, &[]), strings(&["acme", "beta"]));
    assert_eq!(text(&tenant_info(&mut a, "beta")["state"]), "active");
    assert_eq!(text(&tenant_info(&mut a, "acme")["tier"]), "free");
    assert_eq!(get_str(&mut a, "global").as_deref(), Some("g"));
    let maxclients: Vec<String> = cmd("CONFIG")
        .arg(&["GET", "maxclients"])
        .query(&mut a)
        .unwrap();
    assert_eq!(maxclients, strings(&["maxclients", "10000"]));
}

// ---------------------------------------------------------------------------------------------
// Tenant-scoped keyless commands
// ---------------------------------------------------------------------------------------------

#[test]
fn client_list_and_kill_see_only_the_own_tenant() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let ta = tenant_with_token(&mut a, "acme", &[], "admin");
    let tb = tenant_with_token(&mut a, "beta", &[], "admin");
    let mut a1 = connect_as(&srv, "acme", &ta.secret);
    let mut a2 = connect_as(&srv, "acme", &ta.secret);
    let mut b1 = connect_as(&srv, "beta", &tb.secret);
    let (a1_id, a2_id, b1_id, admin_id) = (
        client_id(&mut a1),
        client_id(&mut a2),
        client_id(&mut b1),
        client_id(&mut a),
    );
    let mut acme_ids = vec![a1_id, a2_id];
    acme_ids.sort();
    assert_eq!(listed_ids(&mut a1), acme_ids);
    assert_eq!(listed_ids(&mut b1), vec![b1_id]);
    let all = listed_ids(&mut a);
    for id in [a1_id, a2_id, b1_id, admin_id] {
        assert!(all.contains(&id), "admin sees {id}: {all:?}");
    }
    let filtered: String = cmd("CLIENT")
        .arg(&["LIST", "ID"])
        .arg(b1_id)
        .arg(admin_id)
        .query(&mut a1)
        .unwrap();
    assert_eq!(filtered, "", "ID filter cannot reach outside the tenant");

    // The address of beta's connection, as the admin sees it.
    let line: String = cmd("CLIENT")
        .arg(&["LIST", "ID"])
        .arg(b1_id)
        .query(&mut a)
        .unwrap();
    let b1_addr = field(&line, "addr").to_string();

    assert_eq!(
        common::int(&mut a1, cmd("CLIENT").arg(&["KILL", "ID"]).arg(b1_id)),
        0
    );
    assert_eq!(
        common::int(&mut a1, cmd("CLIENT").arg(&["KILL", "ID"]).arg(admin_id)),
        0
    );
    assert_eq!(
        common::int(&mut a1, cmd("CLIENT").arg(&["KILL", "ADDR"]).arg(&b1_addr)),
        0
    );
    assert_err_exact(
        &mut a1,
        cmd("CLIENT").arg("KILL").arg(&b1_addr),
        "ERR No such client",
    );
    assert_err_exact(
        &mut a1,
        cmd("CLIENT").arg(&["KILL", "USER", "beta"]),
        "ERR No such user 'beta'",
    );
    assert_eq!(
        common::int(&mut a1, cmd("CLIENT").arg(&["KILL", "SKIPME", "yes"])),
        1,
        "only a2 is in reach"
    );
    assert_alive(&mut b1);
    assert_alive(&mut a);
    assert_alive(&mut a1);
    let r: RedisResult<String> = cmd("PING").query(&mut a2);
    assert!(r.is_err(), "a2 (same tenant) was killed");
    assert_eq!(listed_ids(&mut b1), vec![b1_id]);
}

#[test]
fn tenant_cannot_see_or_kill_an_admin_connection_inside_its_tenant() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let ta = tenant_with_token(&mut a, "acme", &[], "admin");
    let mut t = connect_as(&srv, "acme", &ta.secret);
    let mut inspector = srv.client();
    ok(&mut inspector, cmd("TENANT.USE").arg("acme"));
    let inspector_id = client_id(&mut inspector);
    let own = client_id(&mut t);
    assert_eq!(
        listed_ids(&mut t),
        vec![own],
        "the admin's connection is not the tenant's"
    );
    assert_eq!(
        common::int(&mut t, cmd("CLIENT").arg(&["KILL", "ID"]).arg(inspector_id)),
        0
    );
    assert_eq!(
        common::int(&mut t, cmd("CLIENT").arg(&["KILL", "SKIPME", "yes"])),
        0
    );
    assert_alive(&mut inspector);
    assert_eq!(current(&mut inspector).as_deref(), Some("acme"));
}

#[test]
fn select_is_limited_to_the_tenants_databases() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let free = tenant_with_token(&mut a, "acme", &[], "readwrite");
    let basic = tenant_with_token(&mut a, "beta", &["TIER", "basic"], "readwrite");
    let mut t = connect_as(&srv, "acme", &free.secret);
    common::select(&mut t, 0);
    for db in [1, 2, 15, 16, -1] {
        assert_err_exact(
            &mut t,
            cmd("SELECT").arg(db),
            "ERR DB index is out of range",
        );
    }
    assert!(
        try_connect_as(&srv, "acme", &free.secret, "1").is_err(),
        "a URL naming db 1 of a one-database tenant connects"
    );
    let mut b = connect_as(&srv, "beta", &basic.secret);
    common::select(&mut b, 3);
    set(&mut b, "k", "v");
    assert_err_exact(&mut b, cmd("SELECT").arg(4), "ERR DB index is out of range");
    // Raising the limit applies to the live connection.
    ok(
        &mut a,
        cmd("TENANT.UPDATE").arg(&["acme", "DATABASES", "2"]),
    );
    common::select(&mut t, 1);
    // An admin has all of the server's databases.
    common::select(&mut a, 15);
}

#[test]
fn flushall_from_a_tenant_empties_only_that_tenant() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let ta = tenant_with_token(&mut a, "acme", &["TIER", "basic"], "readwrite");
    let tb = tenant_with_token(&mut a, "beta", &["TIER", "basic"], "readwrite");
    set(&mut a, "k", "global");
    let mut t = connect_as(&srv, "acme", &ta.secret);
    let mut b = connect_as(&srv, "beta", &tb.secret);
    set(&mut t, "k", "acme");
    common::select(&mut t, 1);
    set(&mut t, "k1", "acme");
    set(&mut b, "k", "beta");
    common::select(&mut b, 1);
    set(&mut b, "k1", "beta");
    assert_eq!(info_num(&mut a, "acme", "keys"), 2);

    ok(&mut t, &mut cmd("FLUSHALL"));
    assert_eq!(common::dbsize(&mut t), 0);
    common::select(&mut t, 0);
    assert_eq!(common::dbsize(&mut t), 0, "every database of the tenant");
    assert_eq!(info_num(&mut a, "acme", "keys"), 0);

    assert_eq!(get_str(&mut b, "k1").as_deref(), Some("beta"));
    common::select(&mut b, 0);
    assert_eq!(get_str(&mut b, "k").as_deref(), Some("beta"));
    assert_eq!(info_num(&mut a, "beta", "keys"), 2);
    assert_eq!(get_str(&mut a, "k").as_deref(), Some("global"));

    // FLUSHDB likewise.
    ok(&mut b, &mut cmd("FLUSHDB"));
    assert_eq!(info_num(&mut a, "beta", "keys"), 1);
    assert_eq!(get_str(&mut a, "k").as_deref(), Some("global"));
}

#[test]
fn info_from_a_tenant_shows_only_its_keyspace_and_no_server_wide_sections() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let ta = tenant_with_token(&mut a, "acme", &[], "readwrite");
    create(&mut a, "beta", &["TIER", "basic"]);
    for i in 0..5 {
        set(&mut a, format!("__tenant:beta:k{i}"), "v");
        set(&mut a, format!("g{i}"), "v");
    }
    common::select(&mut a, 3);
    set(&mut a, "g-db3", "v");
    let mut t = connect_as(&srv, "acme", &ta.secret);
    set(&mut t, "a", "1");
    common::set_px(&mut t, "b", "2", 100_000);

    let ks = info(&mut t, &["keyspace"]);
    let lines: Vec<&str> = ks.lines().filter(|l| l.starts_with("db")).collect();
    assert_eq!(lines.len(), 1, "{ks}");
    assert!(
        lines[0].starts_with("db0:keys=2,expires=1,"),
        "tenant keyspace: {ks}"
    );

    for sections in [&[][..], &["default"], &["all"], &["everything"]] {
        let text = info(&mut t, sections);
        for hidden in [
            "# Stats",
            "# Commandstats",
            "# Errorstats",
            "# CPU",
            "# Replication",
        ] {
            assert!(
                !text.contains(hidden),
                "INFO {sections:?} from a tenant shows {hidden}: {text}"
            );
        }
        assert!(text.contains("# Keyspace"), "INFO {sections:?}: {text}");
        let dbs: Vec<&str> = text.lines().filter(|l| l.starts_with("db")).collect();
        assert_eq!(dbs.len(), 1, "INFO {sections:?}: {dbs:?}");
        assert!(dbs[0].starts_with("db0:keys=2,"), "{dbs:?}");
    }
    for section in ["stats", "commandstats", "errorstats"] {
        let text = info(&mut t, &[section]);
        assert!(
            text.trim().is_empty(),
            "INFO {section} from a tenant: {text}"
        );
    }
    // Nor how the server runs on its host.
    let server = info(&mut t, &["server"]);
    assert!(server.contains("redis_version:"), "{server}");
    for hidden in ["process_id:", "executable:", "config_file:"] {
        assert!(
            !server.contains(hidden),
            "INFO server shows {hidden}: {server}"
        );
    }
    // The admin's view is the server's.
    let admin_view = info(&mut a, &[]);
    assert!(admin_view.contains("# Stats"));
    assert!(admin_view.contains("process_id:"));
    let admin_all = info(&mut a, &["all"]);
    assert!(admin_all.contains("# Commandstats"));
}

// ---------------------------------------------------------------------------------------------
// Global names
// ---------------------------------------------------------------------------------------------

#[test]
fn admin_global_names_address_tenant_keys() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let ta = tenant_with_token(&mut a, "acme", &[], "readwrite");
    create(&mut a, "beta", &[]);
    set(&mut a, "__tenant:acme:k", "v");
    set(&mut a, "__tenant:acme:k2", "v2");
    set(&mut a, "__tenant:beta:k", "beta");
    set(&mut a, "plain", "global");
    let mut t = connect_as(&srv, "acme", &ta.secret);
    assert_eq!(get_str(&mut t, "k").as_deref(), Some("v"));
    assert_eq!(keys(&mut t, "*"), strings(&["k", "k2"]));
    assert_eq!(info_num(&mut a, "acme", "keys"), 2);
    // The global keyspace did not receive a key with the prefix.
    assert_eq!(keys(&mut a, "*"), strings(&["plain"]));

    assert_eq!(
        keys(&mut a, "__tenant:acme:*"),
        strings(&["__tenant:acme:k", "__tenant:acme:k2"])
    );
    assert_eq!(
        keys(&mut a, "__tenant:acme:k2"),
        strings(&["__tenant:acme:k2"])
    );
    assert_eq!(
        scan_all(&mut a, "__tenant:acme:*"),
        strings(&["__tenant:acme:k", "__tenant:acme:k2"])
    );
    assert_eq!(
        scan_all(&mut a, "__tenant:beta:*"),
        strings(&["__tenant:beta:k"])
    );
    // Enough keys for SCAN to take several cursors; the global keyspace holds none of them.
    create(&mut a, "many", &[]);
    let mut mset = cmd("MSET");
    for i in 0..250 {
        mset.arg(format!("__tenant:many:k{i}")).arg(i);
    }
    ok(&mut a, &mut mset);
    let mut expected: Vec<String> = (0..250).map(|i| format!("__tenant:many:k{i}")).collect();
    expected.sort();
    assert_eq!(scan_all(&mut a, "__tenant:many:*"), expected);
    assert_eq!(keys(&mut a, "__tenant:many:*"), expected);
    let ones: Vec<String> = expected
        .iter()
        .filter(|k| k.starts_with("__tenant:many:k1"))
        .cloned()
        .collect();
    assert_eq!(scan_all(&mut a, "__tenant:many:k1*"), ones);
    assert_eq!(common::dbsize(&mut a), 1, "only `plain` is global");

    // Multi-key commands within one tenant work; mixing places is refused.
    let got: Vec<Option<String>> = cmd("MGET")
        .arg(&["__tenant:acme:k", "__tenant:acme:k2"])
        .query(&mut a)
        .unwrap();
    assert_eq!(got, vec![Some("v".into()), Some("v2".into())]);
    ok(
        &mut a,
        cmd("RENAME").arg(&["__tenant:acme:k2", "__tenant:acme:k3"]),
    );
    assert_eq!(keys(&mut t, "*"), strings(&["k", "k3"]));
    for words in [
        &["RENAME", "__tenant:acme:k", "__tenant:beta:y"][..],
        &["RENAME", "__tenant:acme:k", "y"],
        &["RENAME", "plain", "__tenant:acme:y"],
        &["MGET", "__tenant:acme:k", "__tenant:beta:k"],
        &["MSET", "__tenant:acme:x", "1", "x", "2"],
        &["DEL", "__tenant:beta:k", "plain"],
        &["COPY", "__tenant:beta:k", "__tenant:acme:stolen"],
    ] {
        assert_err_exact(&mut a, &mut mk(words), SAME_TENANT);
    }
    assert_eq!(keys(&mut t, "*"), strings(&["k", "k3"]), "nothing moved");
    assert_eq!(get_str(&mut a, "__tenant:beta:k").as_deref(), Some("beta"));
    assert_eq!(get_str(&mut a, "plain").as_deref(), Some("global"));

    // A name in the tenants' namespace that names no tenant key.
    for words in [&["GET", "__tenant:beta"][..], &["SET", "__tenant:", "v"]] {
        assert_err_exact(
            &mut a,
            &mut mk(words),
            "ERR a key beginning with __tenant: must be __tenant:<id>:<key>",
        );
    }

    // Unknown tenants.
    assert_err_exact(
        &mut a,
        cmd("GET").arg("__tenant:nope:k"),
        &no_such_tenant("nope"),
    );
    assert_err_exact(
        &mut a,
        cmd("SET").arg(&["__tenant:nope:k", "v"]),
        &no_such_tenant("nope"),
    );
    assert_err_exact(
        &mut a,
        cmd("KEYS").arg("__tenant:nope:*"),
        &no_such_tenant("nope"),
    );
    assert_err_exact(
        &mut a,
        cmd("SCAN").arg(&["0", "MATCH", "__tenant:nope:*"]),
        &no_such_tenant("nope"),
    );
    assert_eq!(
        list(&mut a, &[]),
        strings(&["acme", "beta", "many"]),
        "naming an unknown tenant creates nothing"
    );
}

#[test]
fn inside_a_tenant_global_names_are_literal_keys() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let ta = tenant_with_token(&mut a, "acme", &[], "readwrite");
    create(&mut a, "beta", &[]);
    set(&mut a, "__tenant:beta:x", "beta's secret");
    let mut t = connect_as(&srv, "acme", &ta.secret);
    assert_eq!(get_str(&mut t, "__tenant:beta:x"), None);
    set(&mut t, "__tenant:beta:x", "acme's own");
    set(&mut t, "__tenant:nope:y", "also acme's");
    assert_eq!(
        keys(&mut t, "__tenant:beta:*"),
        strings(&["__tenant:beta:x"]),
        "listed from acme's own keys"
    );
    assert_eq!(
        scan_all(&mut t, "__tenant:*"),
        strings(&["__tenant:beta:x", "__tenant:nope:y"])
    );
    assert_eq!(
        get_str(&mut a, "__tenant:beta:x").as_deref(),
        Some("beta's secret")
    );
    assert_eq!(info_num(&mut a, "beta", "keys"), 1);
    assert_eq!(info_num(&mut a, "acme", "keys"), 2);
    assert_eq!(
        get_str(&mut a, "__tenant:acme:__tenant:beta:x").as_deref(),
        Some("acme's own")
    );
    // Renaming onto another tenant's global name stays inside acme.
    ok(
        &mut t,
        cmd("RENAME").arg(&["__tenant:beta:x", "__tenant:beta:stolen"]),
    );
    assert_eq!(get_str(&mut a, "__tenant:beta:stolen"), None);
    assert_eq!(
        get_str(&mut a, "__tenant:beta:x").as_deref(),
        Some("beta's secret")
    );
}

#[test]
fn tenant_use_by_admin_treats_global_names_as_literal_keys() {
    let srv = TestServer::start();
    let mut a = srv.client();
    create(&mut a, "acme", &[]);
    create(&mut a, "beta", &[]);
    set(&mut a, "__tenant:beta:x", "beta");
    let mut u = srv.client();
    ok(&mut u, cmd("TENANT.USE").arg("acme"));
    assert_eq!(get_str(&mut u, "__tenant:beta:x"), None);
    set(&mut u, "__tenant:beta:x", "acme");
    assert_eq!(get_str(&mut a, "__tenant:beta:x").as_deref(), Some("beta"));
    assert_eq!(info_num(&mut a, "acme", "keys"), 1);
    assert_eq!(
        keys(&mut u, "__tenant:beta:*"),
        strings(&["__tenant:beta:x"])
    );
}

// ---------------------------------------------------------------------------------------------
// Durability of the registry
// ---------------------------------------------------------------------------------------------

#[test]
fn registry_survives_a_restart_without_storing_secrets() {
    let dir = temp_dir("registry");
    let path = dir.join("tenants.toml");
    let config = format!(
        "[tenancy]\nregistry_path = \"{}\"\n",
        path.display().to_string().replace('\\', "\\\\")
    );

    let srv = TestServer::start_with(&config);
    let mut a = srv.client();
    create(
        &mut a,
        "acme",
        &[
            "NAME",
            "Acme Corp",
            "TIER",
            "basic",
            "MEMORY",
            "300mb",
            "KEYS",
            "1234",
            "OPS",
            "55",
            "CONNECTIONS",
            "7",
            "DATABASES",
            "3",
            "EVICTION",
            "volatile-lfu",
        ],
    );
    create(&mut a, "beta", &[]);
    let tok = token(&mut a, "acme", &["ROLE", "admin", "NAME", "ops"]);
    let ro = token(&mut a, "acme", &["ROLE", "readonly"]);
    let gone = token(&mut a, "acme", &[]);
    ok(&mut a, cmd("TENANT.TOKEN.REVOKE").arg("acme").arg(&gone.id));
    ok(
        &mut a,
        cmd("TENANT.SUSPEND").arg(&["beta", "REASON", "audit"]),
    );
    create(&mut a, "temp", &[]);
    ok(&mut a, cmd("TENANT.DELETE").arg("temp"));
    let before = tenant_info(&mut a, "acme");
    // Snapshot plus journal: what a crash right now would leave on disk.
    let journal = dir.join("tenants.toml.journal");
    let on_disk = || {
        let snap = std::fs::read_to_string(&path).unwrap_or_default();
        snap + &std::fs::read_to_string(&journal).unwrap_or_default()
    };
    // Written in the background on every change, before any shutdown.
    eventually("the registry files to hold the last change", || {
        let s = on_disk();
        {
            s.contains(&ro.id)
                && !s.contains(&gone.id)
                && s.contains("audit")
                && s.contains("{\"op\":\"del\",\"id\":\"temp\"}")
        }
    });
    // No secret reaches the journal either.
    let journaled = on_disk();
    for t in [&tok, &ro, &gone] {
        assert!(!journaled.contains(&t.secret), "secret journaled");
    }
    drop(a);
    srv.stop();

    let stored = std::fs::read_to_string(&path).expect("registry written");
    assert!(
        !stored.contains("\"temp\""),
        "a deleted tenant is folded away"
    );
    for t in [&tok, &ro, &gone] {
        assert!(!stored.contains(&t.secret), "secret stored: {stored}");
        let random_part = t.secret.rsplit('_').next().unwrap();
        assert!(!stored.contains(random_part), "secret part stored");
    }
    assert!(stored.contains("acme"));

    let srv = TestServer::start_with(&config);
    let mut a = srv.client();
    assert_eq!(list(&mut a, &[]), strings(&["acme", "beta"]));
    let after = tenant_info(&mut a, "acme");
    for f in [
        "id",
        "name",
        "tier",
        "state",
        "created_at",
        "memory_limit",
        "key_limit",
        "ops_limit",
        "connection_limit",
        "databases",
        "eviction",
    ] {
        assert_eq!(after[f], before[f], "{f} after restart");
    }
    let beta = tenant_info(&mut a, "beta");
    assert_eq!(text(&beta["state"]), "suspended");
    assert_eq!(text(&beta["suspend_reason"]), "audit");

    let mut t = connect_as(&srv, "acme", &tok.secret);
    assert_eq!(current(&mut t).as_deref(), Some("acme"));
    assert_eq!(text(&tenant_info(&mut t, "acme")["name"]), "Acme Corp");
    common::select(&mut t, 2);
    let mut r = connect_as(&srv, "acme", &ro.secret);
    assert_err_exact(&mut r, cmd("SET").arg("k").arg("v"), &noperm("acme", "set"));
    let mut fresh = srv.client();
    assert_err_exact(
        &mut fresh,
        cmd("AUTH").arg("acme").arg(&gone.secret),
        WRONGPASS,
    );
    drop((a, t, r, fresh));
    srv.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_expired_token_stops_working_on_a_live_connection() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let tok = tenant_with_token(&mut a, "acme", &[], "readwrite");
    let short = token(&mut a, "acme", &["ROLE", "readwrite", "TTL", "1"]);
    let mut t = connect_as(&srv, "acme", &short.secret);
    set(&mut t, "k", "v");
    std::thread::sleep(std::time::Duration::from_millis(1200));
    assert_err_only(&mut t, cmd("SET").arg("k").arg("w"), NOAUTH);
    // The long-lived token still works, and the write above did not happen.
    let mut other = connect_as(&srv, "acme", &tok.secret);
    assert_eq!(get_str(&mut other, "k").as_deref(), Some("v"));
}

#[test]
fn lowering_databases_reaches_a_connection_on_a_higher_db() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let tok = tenant_with_token(&mut a, "acme", &["TIER", "pro"], "readwrite");
    let mut t = connect_as(&srv, "acme", &tok.secret);
    ok(&mut t, cmd("SELECT").arg(2));
    set(&mut t, "k", "v");
    ok(
        &mut a,
        cmd("TENANT.UPDATE").arg(&["acme", "DATABASES", "1"]),
    );
    assert_err_only(&mut t, cmd("GET").arg("k"), "ERR DB index is out of range");
    assert_err_only(&mut t, cmd("SELECT").arg(2), "ERR DB index is out of range");
    ok(&mut t, cmd("SELECT").arg(0));
    assert_eq!(get_str(&mut t, "k"), None);
}

#[test]
fn a_readonly_token_cannot_kill_connections() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let rw = tenant_with_token(&mut a, "acme", &[], "readwrite");
    let ro = token(&mut a, "acme", &["ROLE", "readonly"]);
    let mut victim = connect_as(&srv, "acme", &rw.secret);
    let victim_id = client_id(&mut victim);
    let mut r = connect_as(&srv, "acme", &ro.secret);
    assert_err_only(
        &mut r,
        cmd("CLIENT").arg(&["KILL", "ID"]).arg(victim_id),
        &noperm("acme", "client|kill"),
    );
    assert_alive(&mut victim);
}

#[test]
fn admin_user_names_cannot_be_tenant_ids() {
    let hash = tenantkv::tenant::credentials::hash_secret(b"opspw");
    let srv = TestServer::start_with(&format!(
        "[auth]\nrequirepass = \"pw\"\n[[auth.admins]]\nname = \"ops\"\npassword_hash = \"{hash}\"\n"
    ));
    let mut a = srv.client();
    ok(&mut a, cmd("AUTH").arg("pw"));
    for id in ["default", "ops"] {
        assert_err_only(&mut a, cmd("TENANT.CREATE").arg(id), &invalid_id(id));
    }
    // The configured admin logs in with its own password.
    let mut o = srv.client();
    ok(&mut o, cmd("AUTH").arg("ops").arg("opspw"));
    ok(&mut o, cmd("TENANT.CREATE").arg("acme"));
}

#[test]
fn names_and_reasons_are_bounded() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let long = "x".repeat(257);
    let fits = "x".repeat(256);
    assert_err_exact(
        &mut a,
        cmd("TENANT.CREATE").arg(&["acme", "NAME", &long]),
        "ERR name is longer than 256 bytes",
    );
    create(&mut a, "acme", &["NAME", &fits]);
    assert_err_exact(
        &mut a,
        cmd("TENANT.UPDATE").arg(&["acme", "NAME", &long]),
        "ERR name is longer than 256 bytes",
    );
    assert_err_exact(
        &mut a,
        cmd("TENANT.TOKEN.CREATE").arg(&["acme", "NAME", &long]),
        "ERR name is longer than 256 bytes",
    );
    assert_err_exact(
        &mut a,
        cmd("TENANT.SUSPEND").arg(&["acme", "REASON", &long]),
        "ERR reason is longer than 256 bytes",
    );
    // Nothing was changed by the refusals.
    let listed = format!("{:?}", val(&mut a, cmd("TENANT.TOKEN.LIST").arg("acme")));
    assert!(!listed.contains(&long));
    token(&mut a, "acme", &["NAME", &fits]);
    ok(
        &mut a,
        cmd("TENANT.SUSPEND").arg(&["acme", "REASON", &fits]),
    );
}
