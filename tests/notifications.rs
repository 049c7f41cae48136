//! Keyspace notifications: `notify-keyspace-events` classes, the `__keyspace@<db>__:<key>` and
//! `__keyevent@<db>__:<event>` channels, the events string and generic key commands raise
//! (where Redis's `notifyKeyspaceEvent` calls are), and their tenant scoping: events reach only
//! subscribers of the tenant whose data changed.

mod common;

use common::*;
use redis::{cmd, Connection};
use std::time::Duration;

fn req(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

fn bulk_bytes(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}

fn pmessage(resp3: bool, pattern: &str, channel: &str, payload: &str) -> String {
    let head = if resp3 { '>' } else { '*' };
    format!(
        "{head}4\r\n{}{}{}{}",
        bulk_bytes("pmessage"),
        bulk_bytes(pattern),
        bulk_bytes(channel),
        bulk_bytes(payload)
    )
}

/// Runs a command that must succeed; its reply is not needed.
fn q(c: &mut Connection, args: &[&str]) {
    let _: redis::Value = cmd(args[0]).arg(&args[1..]).query(c).unwrap();
}

fn config_set(con: &mut Connection, name: &str, value: &str) {
    let _: () = cmd("CONFIG")
        .arg("SET")
        .arg(name)
        .arg(value)
        .query(con)
        .unwrap();
}

/// A raw subscriber to every keyevent channel: each event arrives as (event, key).
struct Events(Raw);

impl Events {
    fn new(mut r: Raw) -> Events {
        r.send(&req(&["PSUBSCRIBE", "__keyevent@*"]));
        r.read_reply();
        Events(r)
    }

    /// The next event as (channel, key).
    fn next(&mut self) -> (String, String) {
        let frame = String::from_utf8(self.0.read_reply()).unwrap();
        let parts: Vec<&str> = frame.split("\r\n").collect();
        // *4 $8 pmessage $n pattern $n channel $n key
        (parts[6].to_string(), parts[8].to_string())
    }

    fn expect(&mut self, db: usize, events: &[(&str, &str)]) {
        for (event, key) in events {
            assert_eq!(
                self.next(),
                (format!("__keyevent@{db}__:{event}"), key.to_string())
            );
        }
    }

    fn quiet(&mut self) {
        assert!(self.0.nothing_arrives(Duration::from_millis(100)));
    }
}

#[test]
fn off_by_default_then_both_channel_kinds() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let mut sub = srv.raw();
    sub.send(&req(&["PSUBSCRIBE", "__key*__:*"]));
    sub.read_reply();
    set(&mut c, "foo", "1");
    assert!(sub.nothing_arrives(Duration::from_millis(100)));

    config_set(&mut c, "notify-keyspace-events", "KEA");
    set(&mut c, "foo", "2");
    let expected = pmessage(false, "__key*__:*", "__keyspace@0__:foo", "set")
        + &pmessage(false, "__key*__:*", "__keyevent@0__:set", "foo");
    assert_eq!(
        String::from_utf8(sub.read_n(expected.len())).unwrap(),
        expected
    );
    // K only: the keyspace channel alone; the database number is the selected one.
    config_set(&mut c, "notify-keyspace-events", "K$");
    select(&mut c, 3);
    set(&mut c, "bar", "1");
    assert_eq!(
        String::from_utf8(sub.read_reply()).unwrap(),
        pmessage(false, "__key*__:*", "__keyspace@3__:bar", "set")
    );
    assert!(sub.nothing_arrives(Duration::from_millis(100)));
    // A class that is not enabled raises nothing: DEL is generic (g).
    let _: i64 = cmd("DEL").arg("bar").query(&mut c).unwrap();
    assert!(sub.nothing_arrives(Duration::from_millis(100)));
    // K and E both off: nothing, whatever the classes.
    config_set(&mut c, "notify-keyspace-events", "A");
    set(&mut c, "bar", "1");
    assert!(sub.nothing_arrives(Duration::from_millis(100)));
}

#[test]
fn string_command_events() {
    let srv = TestServer::start();
    let mut c = srv.client();
    config_set(&mut c, "notify-keyspace-events", "E$g");
    let mut ev = Events::new(srv.raw());
    q(&mut c, &["SET", "s", "1", "EX", "100"]);
    ev.expect(0, &[("set", "s"), ("expire", "s")]);
    q(&mut c, &["SET", "s", "1", "NX"]);
    q(&mut c, &["SETNX", "s", "2"]);
    ev.quiet();
    q(&mut c, &["SETEX", "s", "10", "v"]);
    ev.expect(0, &[("set", "s"), ("expire", "s")]);
    q(&mut c, &["GETSET", "s", "5"]);
    ev.expect(0, &[("set", "s")]);
    q(&mut c, &["INCR", "s"]);
    q(&mut c, &["DECRBY", "s", "2"]);
    q(&mut c, &["INCRBYFLOAT", "s", "1.5"]);
    ev.expect(0, &[("incrby", "s"), ("incrby", "s"), ("incrbyfloat", "s")]);
    q(&mut c, &["APPEND", "s", "x"]);
    q(&mut c, &["APPEND", "new", "x"]);
    q(&mut c, &["SETRANGE", "s", "0", "ab"]);
    q(&mut c, &["SETRANGE", "s", "0", ""]);
    ev.expect(0, &[("append", "s"), ("append", "new"), ("setrange", "s")]);
    q(&mut c, &["MSET", "a", "1", "b", "2"]);
    ev.expect(0, &[("set", "a"), ("set", "b")]);
    q(&mut c, &["MSETNX", "a", "1", "z", "2"]);
    ev.quiet();
    q(&mut c, &["GETEX", "a", "PX", "100000"]);
    q(&mut c, &["GETEX", "a", "PERSIST"]);
    q(&mut c, &["GETEX", "a", "PERSIST"]);
    q(&mut c, &["GETEX", "b", "PXAT", "1"]);
    q(&mut c, &["GETDEL", "new"]);
    q(&mut c, &["GETDEL", "new"]);
    ev.expect(
        0,
        &[
            ("expire", "a"),
            ("persist", "a"),
            ("del", "b"),
            ("del", "new"),
        ],
    );
    // Errors raise nothing.
    let _: redis::RedisResult<i64> = cmd("INCR").arg("s").query(&mut c);
    ev.quiet();
}

/// Redis 7's `n` class: `new` when a key comes into existence, whichever command made it,
/// before the command's own event; never for an overwrite; not part of `A`.
#[test]
fn new_key_events() {
    let srv = TestServer::start();
    let mut c = srv.client();
    config_set(&mut c, "notify-keyspace-events", "En$l");
    let mut ev = Events::new(srv.raw());
    q(&mut c, &["SET", "foo", "bar"]);
    q(&mut c, &["SET", "foo", "baz"]);
    q(&mut c, &["SET", "bar", "bar"]);
    ev.expect(
        0,
        &[
            ("new", "foo"),
            ("set", "foo"),
            ("set", "foo"),
            ("new", "bar"),
            ("set", "bar"),
        ],
    );
    q(&mut c, &["RPUSH", "list", "a"]);
    q(&mut c, &["RPUSH", "list", "b"]);
    q(&mut c, &["RENAME", "list", "moved"]);
    ev.expect(
        0,
        &[
            ("new", "list"),
            ("rpush", "list"),
            ("rpush", "list"),
            ("new", "moved"),
        ],
    );
    config_set(&mut c, "notify-keyspace-events", "EA");
    q(&mut c, &["SET", "fresh", "1"]);
    ev.expect(0, &[("set", "fresh")]);
    config_set(&mut c, "notify-keyspace-events", "En");
    q(&mut c, &["SET", "fresh", "2"]);
    ev.quiet();
}

#[test]
fn generic_command_events() {
    let srv = TestServer::start();
    let mut c = srv.client();
    config_set(&mut c, "notify-keyspace-events", "Eg");
    let mut ev = Events::new(srv.raw());
    for k in ["a", "b", "c"] {
        set(&mut c, k, "v");
    }
    ev.quiet(); // strings are not enabled
    q(&mut c, &["DEL", "a", "nosuch", "b"]);
    ev.expect(0, &[("del", "a"), ("del", "b")]);
    q(&mut c, &["UNLINK", "c"]);
    ev.expect(0, &[("del", "c")]);
    set(&mut c, "k", "v");
    q(&mut c, &["EXPIRE", "k", "100"]);
    q(&mut c, &["EXPIRE", "k", "100", "NX"]);
    q(&mut c, &["PERSIST", "k"]);
    q(&mut c, &["PERSIST", "k"]);
    q(&mut c, &["PEXPIREAT", "nosuch", "1"]);
    ev.expect(0, &[("expire", "k"), ("persist", "k")]);
    q(&mut c, &["RENAME", "k", "k2"]);
    ev.expect(0, &[("rename_from", "k"), ("rename_to", "k2")]);
    q(&mut c, &["RENAMENX", "k2", "k2"]);
    ev.quiet();
    q(&mut c, &["COPY", "k2", "k3"]);
    ev.expect(0, &[("copy_to", "k3")]);
    q(&mut c, &["COPY", "k2", "k3"]);
    ev.quiet();
    q(&mut c, &["COPY", "k2", "k3", "DB", "2"]);
    ev.expect(2, &[("copy_to", "k3")]);
    q(&mut c, &["MOVE", "k3", "1"]);
    assert_eq!(ev.next(), ("__keyevent@0__:move_from".into(), "k3".into()));
    assert_eq!(ev.next(), ("__keyevent@1__:move_to".into(), "k3".into()));
    let payload: Vec<u8> = cmd("DUMP").arg("k2").query(&mut c).unwrap();
    let _: () = cmd("RESTORE")
        .arg("r")
        .arg(0)
        .arg(&payload)
        .query(&mut c)
        .unwrap();
    ev.expect(0, &[("restore", "r")]);
    let _: () = cmd("RESTORE")
        .arg("r")
        .arg(1)
        .arg(&payload)
        .arg("REPLACE")
        .arg("ABSTTL")
        .query(&mut c)
        .unwrap();
    ev.expect(0, &[("del", "r")]);
    q(&mut c, &["EXPIRE", "k2", "-1"]);
    ev.expect(0, &[("del", "k2")]);
}

#[test]
fn events_stay_in_the_tenant() {
    let srv = TestServer::start();
    let mut admin = srv.client();
    config_set(&mut admin, "notify-keyspace-events", "KEA");
    let mut secrets = Vec::new();
    for id in ["acme", "beta"] {
        let _: () = cmd("TENANT.CREATE").arg(id).query(&mut admin).unwrap();
        let v: Vec<redis::Value> = cmd("TENANT.TOKEN.CREATE")
            .arg(id)
            .arg("ROLE")
            .arg("readwrite")
            .query(&mut admin)
            .unwrap();
        let pos = v.iter().position(|x| *x == bulk("secret")).unwrap();
        let redis::Value::BulkString(s) = &v[pos + 1] else {
            panic!()
        };
        secrets.push(String::from_utf8(s.clone()).unwrap());
    }
    let raw_as = |id: &str, secret: &str| {
        let mut r = srv.raw();
        r.roundtrip(&req(&["AUTH", id, secret]), b"+OK\r\n");
        r
    };
    let mut ev_a = Events::new(raw_as("acme", &secrets[0]));
    let mut ev_b = Events::new(raw_as("beta", &secrets[1]));
    let mut ev_global = Events::new(srv.raw());

    let mut a = srv.client();
    let _: () = cmd("AUTH")
        .arg("acme")
        .arg(&secrets[0])
        .query(&mut a)
        .unwrap();
    set(&mut a, "k", "v");
    ev_a.expect(0, &[("set", "k")]);
    ev_b.quiet();
    ev_global.quiet();

    // An admin writing a tenant's key by its global name raises the event in that tenant,
    // with the key as the tenant names it.
    set(&mut admin, "__tenant:beta:x", "1");
    ev_b.expect(0, &[("set", "x")]);
    ev_a.quiet();
    ev_global.quiet();

    // The global context's own writes stay in the global namespace.
    set(&mut admin, "g", "1");
    ev_global.expect(0, &[("set", "g")]);
    ev_a.quiet();
    ev_b.quiet();

    // `new`, raised by storage itself, stays in the creating tenant too.
    config_set(&mut admin, "notify-keyspace-events", "KEAn");
    set(&mut a, "fresh", "v");
    ev_a.expect(0, &[("new", "fresh"), ("set", "fresh")]);
    ev_b.quiet();
    ev_global.quiet();
}

#[test]
fn resp3_own_events_follow_the_reply() {
    let srv = TestServer::start();
    let mut c = srv.client();
    config_set(&mut c, "notify-keyspace-events", "E$");
    let mut r = srv.raw();
    r.request(&req(&["HELLO", "3"]));
    r.send(&req(&["SUBSCRIBE", "__keyevent@0__:set"]));
    r.read_reply();
    r.send(&req(&["SET", "mine", "1"]));
    let push = format!(
        ">3\r\n{}{}{}",
        bulk_bytes("message"),
        bulk_bytes("__keyevent@0__:set"),
        bulk_bytes("mine")
    );
    // Redis 7.2 postpones pushes to the client it is serving until its reply is out.
    assert_eq!(r.read_reply(), b"+OK\r\n");
    assert_eq!(String::from_utf8(r.read_reply()).unwrap(), push);
}

#[test]
fn expired_events_from_lazy_and_active_expiry() {
    let srv = TestServer::start();
    let mut c = srv.client();
    config_set(&mut c, "notify-keyspace-events", "E$x");
    let mut ev = Events::new(srv.raw());
    // Lazy: a read finds the key expired; the event comes before the reply.
    set_px(&mut c, "lazy", "v", 30);
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(get(&mut c, "lazy"), None);
    ev.expect(0, &[("set", "lazy"), ("expired", "lazy")]);
    // A write over an expired key: `expired` first, then the write's own event.
    set_px(&mut c, "over", "v", 30);
    std::thread::sleep(Duration::from_millis(60));
    q(&mut c, &["SET", "over", "new"]);
    ev.expect(0, &[("set", "over"), ("expired", "over"), ("set", "over")]);
    ev.quiet();
    // Active: nobody touches the key; the background sweep reclaims it and reports it.
    select(&mut c, 3);
    set_px(&mut c, "swept", "v", 30);
    ev.expect(3, &[("set", "swept"), ("expired", "swept")]);
    // Without the class, nothing.
    config_set(&mut c, "notify-keyspace-events", "Eg");
    q(&mut c, &["SET", "quiet", "v", "PX", "30"]);
    ev.expect(3, &[("expire", "quiet")]);
    std::thread::sleep(Duration::from_millis(300));
    ev.quiet();
}

#[test]
fn evicted_events_reach_only_the_evicting_tenant() {
    let srv = TestServer::start();
    let mut admin = srv.client();
    config_set(&mut admin, "notify-keyspace-events", "Ee");
    let small = create_tenant(
        &mut admin,
        "small",
        &["MEMORY", "200kb", "EVICTION", "allkeys-lru", "OPS", "0"],
    );
    let other = create_tenant(&mut admin, "other", &["OPS", "0"]);
    let raw_as = |id: &str, secret: &str| {
        let mut r = srv.raw();
        r.roundtrip(&req(&["AUTH", id, secret]), b"+OK\r\n");
        r
    };
    let mut ev_small = Events::new(raw_as("small", &small));
    let mut ev_other = Events::new(raw_as("other", &other));
    let mut ev_global = Events::new(srv.raw());

    let mut t = connect_tenant(&srv, "small", &small).unwrap();
    let value = "x".repeat(1000);
    for i in 0..400 {
        set(&mut t, format!("k{i}"), &value);
    }
    let evicted = tenant_info_int(&mut admin, "small", "evicted_keys");
    assert!(evicted > 100, "evicted {evicted}");
    // One `evicted` event per evicted key, naming keys the tenant wrote, inside its namespace.
    for _ in 0..evicted {
        let (channel, key) = ev_small.next();
        assert_eq!(channel, "__keyevent@0__:evicted");
        assert!(key.starts_with('k') && !key.contains("__tenant"), "{key}");
    }
    ev_small.quiet();
    ev_other.quiet();
    ev_global.quiet();
}
