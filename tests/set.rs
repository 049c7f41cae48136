//! Set commands end to end: SADD/SREM/SMEMBERS (RESP3 sets), SISMEMBER/SMISMEMBER/SCARD,
//! SPOP and SRANDMEMBER with every count form, SMOVE, the SINTER/SUNION/SDIFF families with
//! their STORE forms and SINTERCARD LIMIT, SSCAN (cursor guarantee under deletes) and OBJECT
//! ENCODING's intset → listpack → hashtable rules, including the encoding of stored results.
//!
//! Replies and error texts are Redis 7's, checked against a real redis-server.
mod common;

use common::{arity, assert_err_exact as err, bulk, exists, int, val, TestServer};
use redis::{cmd, Connection, Value};
use std::collections::HashSet;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn strings(v: Value) -> Vec<String> {
    match v {
        Value::Array(items) | Value::Set(items) => items
            .into_iter()
            .map(|i| match i {
                Value::BulkString(b) => String::from_utf8(b).unwrap(),
                other => panic!("not a bulk: {other:?}"),
            })
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

fn sorted(v: Value) -> Vec<String> {
    let mut s = strings(v);
    s.sort();
    s
}

fn sadd(c: &mut Connection, key: &str, members: &[&str]) -> i64 {
    cmd("SADD").arg(key).arg(members).query(c).unwrap()
}

fn members(c: &mut Connection, key: &str) -> Vec<String> {
    sorted(val(c, cmd("SMEMBERS").arg(key)))
}

fn encoding(c: &mut Connection, key: &str) -> String {
    cmd("OBJECT").arg("ENCODING").arg(key).query(c).unwrap()
}

fn config(c: &mut Connection, name: &str, value: &str) {
    let _: () = cmd("CONFIG")
        .arg("SET")
        .arg(name)
        .arg(value)
        .query(c)
        .unwrap();
}

#[test]
fn sadd_srem_smembers_and_membership() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(sadd(&mut c, "s", &["a", "b", "a", "c"]), 3);
    assert_eq!(sadd(&mut c, "s", &["a", "d"]), 1);
    assert_eq!(int(&mut c, cmd("SCARD").arg("s")), 4);
    assert_eq!(int(&mut c, cmd("SCARD").arg("nokey")), 0);
    assert_eq!(members(&mut c, "s"), ["a", "b", "c", "d"]);
    assert_eq!(
        val(&mut c, cmd("SMEMBERS").arg("nokey")),
        Value::Array(vec![])
    );
    assert_eq!(int(&mut c, cmd("SISMEMBER").arg("s").arg("a")), 1);
    assert_eq!(int(&mut c, cmd("SISMEMBER").arg("s").arg("z")), 0);
    assert_eq!(int(&mut c, cmd("SISMEMBER").arg("nokey").arg("z")), 0);
    assert_eq!(
        val(
            &mut c,
            cmd("SMISMEMBER").arg("s").arg("a").arg("z").arg("d")
        ),
        Value::Array(vec![Value::Int(1), Value::Int(0), Value::Int(1)])
    );
    assert_eq!(
        val(&mut c, cmd("SMISMEMBER").arg("nokey").arg("a").arg("b")),
        Value::Array(vec![Value::Int(0), Value::Int(0)])
    );
    assert_eq!(
        int(&mut c, cmd("SREM").arg("s").arg("a").arg("a").arg("zz")),
        1
    );
    assert_eq!(int(&mut c, cmd("SREM").arg("nokey").arg("a")), 0);
    assert_eq!(
        int(&mut c, cmd("SREM").arg("s").arg("b").arg("c").arg("d")),
        3
    );
    assert_eq!(exists(&mut c, "s"), 0);
    // Binary-safe members.
    let m: &[u8] = b"\0\r\n\xff";
    assert_eq!(int(&mut c, cmd("SADD").arg("b").arg(m)), 1);
    assert_eq!(
        val(&mut c, cmd("SMEMBERS").arg("b")),
        Value::Array(vec![bulk(m)])
    );
}

#[test]
fn resp3_replies_are_sets_where_redis_sends_sets() {
    let srv = TestServer::start();
    let mut c = srv.client_resp3();
    let _: i64 = cmd("SADD").arg("s").arg("x").query(&mut c).unwrap();
    let _: i64 = cmd("SADD").arg("t").arg("x").query(&mut c).unwrap();
    for mut q in [
        cmd("SMEMBERS").arg("s").clone(),
        cmd("SINTER").arg("s").arg("t").clone(),
        cmd("SUNION").arg("s").arg("t").clone(),
        cmd("SDIFF").arg("s").arg("nokey").clone(),
    ] {
        assert_eq!(val(&mut c, &mut q), Value::Set(vec![bulk("x")]));
    }
    assert_eq!(
        val(&mut c, cmd("SMEMBERS").arg("nokey")),
        Value::Set(vec![])
    );
    assert_eq!(
        val(&mut c, cmd("SINTER").arg("s").arg("nokey")),
        Value::Set(vec![])
    );
    assert_eq!(
        val(&mut c, cmd("SPOP").arg("nokey").arg(2)),
        Value::Set(vec![])
    );
    assert_eq!(
        val(&mut c, cmd("SPOP").arg("s").arg(5)),
        Value::Set(vec![bulk("x")])
    );
    assert_eq!(
        val(&mut c, cmd("SRANDMEMBER").arg("t").arg(5)),
        Value::Array(vec![bulk("x")])
    );
    assert_eq!(val(&mut c, cmd("SRANDMEMBER").arg("nokey")), Value::Nil);
}

#[test]
fn errors_arity_and_wrongtype() {
    let srv = TestServer::start();
    let mut c = srv.client();
    err(&mut c, cmd("SADD").arg("s"), &arity("sadd"));
    err(&mut c, cmd("SREM").arg("s"), &arity("srem"));
    err(&mut c, &mut cmd("SMEMBERS"), &arity("smembers"));
    err(&mut c, cmd("SISMEMBER").arg("s"), &arity("sismember"));
    err(&mut c, cmd("SMOVE").arg("a").arg("b"), &arity("smove"));
    err(&mut c, &mut cmd("SINTER"), &arity("sinter"));
    err(&mut c, cmd("SINTERSTORE").arg("d"), &arity("sinterstore"));
    err(&mut c, cmd("SINTERCARD").arg("1"), &arity("sintercard"));
    err(&mut c, cmd("SSCAN").arg("s"), &arity("sscan"));
    err(
        &mut c,
        cmd("SPOP").arg("s").arg("1").arg("2"),
        "ERR syntax error",
    );
    err(
        &mut c,
        cmd("SRANDMEMBER").arg("s").arg("1").arg("2"),
        "ERR syntax error",
    );

    let _: () = cmd("SET").arg("str").arg("v").query(&mut c).unwrap();
    sadd(&mut c, "s", &["a"]);
    for mut bad in [
        cmd("SADD").arg("str").arg("m").clone(),
        cmd("SREM").arg("str").arg("m").clone(),
        cmd("SMEMBERS").arg("str").clone(),
        cmd("SISMEMBER").arg("str").arg("m").clone(),
        cmd("SMISMEMBER").arg("str").arg("m").clone(),
        cmd("SCARD").arg("str").clone(),
        cmd("SPOP").arg("str").clone(),
        cmd("SPOP").arg("str").arg("2").clone(),
        cmd("SRANDMEMBER").arg("str").clone(),
        cmd("SRANDMEMBER").arg("str").arg("-2").clone(),
        cmd("SMOVE").arg("str").arg("s").arg("a").clone(),
        cmd("SMOVE").arg("s").arg("str").arg("a").clone(),
        // WRONGTYPE wins over a missing key that comes first.
        cmd("SINTER").arg("nokey").arg("str").clone(),
        cmd("SINTERSTORE").arg("d").arg("s").arg("str").clone(),
        cmd("SINTERCARD").arg("2").arg("s").arg("str").clone(),
        cmd("SUNION").arg("s").arg("str").clone(),
        cmd("SUNIONSTORE").arg("d").arg("str").clone(),
        cmd("SDIFF").arg("nokey").arg("str").clone(),
        cmd("SDIFFSTORE").arg("d").arg("s").arg("str").clone(),
        cmd("SSCAN").arg("str").arg("0").clone(),
    ] {
        err(&mut c, &mut bad, WRONGTYPE);
    }
    assert_eq!(exists(&mut c, "d"), 0);
    assert_eq!(members(&mut c, "s"), ["a"]);
    // A missing source answers 0 before the destination's type is looked at.
    assert_eq!(
        int(&mut c, cmd("SMOVE").arg("nokey").arg("str").arg("a")),
        0
    );
}

#[test]
fn spop_single_and_counted() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(val(&mut c, cmd("SPOP").arg("nokey")), Value::Nil);
    assert_eq!(
        val(&mut c, cmd("SPOP").arg("nokey").arg(3)),
        Value::Array(vec![])
    );
    let all: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    sadd(&mut c, "s", &refs);
    err(
        &mut c,
        cmd("SPOP").arg("s").arg("-1"),
        "ERR value is out of range, must be positive",
    );
    err(
        &mut c,
        cmd("SPOP").arg("s").arg("x"),
        "ERR value is not an integer or out of range",
    );
    assert_eq!(
        val(&mut c, cmd("SPOP").arg("s").arg(0)),
        Value::Array(vec![])
    );
    let one: String = cmd("SPOP").arg("s").query(&mut c).unwrap();
    let mut popped: HashSet<String> = HashSet::from([one]);
    for n in [5, 40] {
        let got = strings(val(&mut c, cmd("SPOP").arg("s").arg(n)));
        assert_eq!(got.len(), n);
        for g in got {
            assert!(popped.insert(g), "popped twice");
        }
    }
    assert_eq!(int(&mut c, cmd("SCARD").arg("s")), 4);
    let rest = strings(val(&mut c, cmd("SPOP").arg("s").arg(100)));
    assert_eq!(rest.len(), 4);
    popped.extend(rest);
    assert_eq!(popped, all.into_iter().collect());
    assert_eq!(exists(&mut c, "s"), 0);
    sadd(&mut c, "t", &["only"]);
    assert_eq!(val(&mut c, cmd("SPOP").arg("t")), bulk("only"));
    assert_eq!(exists(&mut c, "t"), 0);
}

#[test]
fn spop_of_most_of_a_large_set_rebuilds_a_compact_one() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let all: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    sadd(&mut c, "s", &refs);
    assert_eq!(encoding(&mut c, "s"), "hashtable");
    let _: Vec<String> = cmd("SPOP").arg("s").arg(290).query(&mut c).unwrap();
    assert_eq!(encoding(&mut c, "s"), "listpack");
    assert_eq!(int(&mut c, cmd("SCARD").arg("s")), 10);
}

#[test]
fn srandmember_every_count_form() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(val(&mut c, cmd("SRANDMEMBER").arg("nokey")), Value::Nil);
    assert_eq!(
        val(&mut c, cmd("SRANDMEMBER").arg("nokey").arg(-5)),
        Value::Array(vec![])
    );
    for (key, n) in [("small", 20), ("large", 500)] {
        let all: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        sadd(&mut c, key, &refs);
        let all: HashSet<String> = all.into_iter().collect();
        let one: String = cmd("SRANDMEMBER").arg(key).query(&mut c).unwrap();
        assert!(all.contains(&one));
        assert_eq!(
            val(&mut c, cmd("SRANDMEMBER").arg(key).arg(0)),
            Value::Array(vec![])
        );
        for count in [1, 7, n / 2, n - 1] {
            let got = strings(val(&mut c, cmd("SRANDMEMBER").arg(key).arg(count)));
            assert_eq!(got.len(), count);
            assert_eq!(got.iter().collect::<HashSet<_>>().len(), count, "distinct");
            assert!(got.iter().all(|m| all.contains(m)));
        }
        let every = strings(val(&mut c, cmd("SRANDMEMBER").arg(key).arg(n * 2)));
        assert_eq!(every.into_iter().collect::<HashSet<_>>(), all);
        let rep = strings(val(
            &mut c,
            cmd("SRANDMEMBER").arg(key).arg(-(n as i64) * 2),
        ));
        assert_eq!(rep.len(), n * 2);
        assert!(rep.iter().all(|m| all.contains(m)));
        assert_eq!(int(&mut c, cmd("SCARD").arg(key)), n as i64);
    }
    err(
        &mut c,
        cmd("SRANDMEMBER").arg("small").arg("-9223372036854775808"),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
    );
    err(
        &mut c,
        cmd("SRANDMEMBER").arg("small").arg("1.5"),
        "ERR value is not an integer or out of range",
    );
    common::expect_err(
        &mut c,
        cmd("SRANDMEMBER").arg("small").arg("-9223372036854775807"),
        "ERR count is too large",
    );
}

#[test]
fn smove_between_sets() {
    let srv = TestServer::start();
    let mut c = srv.client();
    sadd(&mut c, "src", &["a", "b"]);
    sadd(&mut c, "dst", &["b"]);
    assert_eq!(int(&mut c, cmd("SMOVE").arg("src").arg("dst").arg("a")), 1);
    assert_eq!(members(&mut c, "src"), ["b"]);
    assert_eq!(members(&mut c, "dst"), ["a", "b"]);
    assert_eq!(int(&mut c, cmd("SMOVE").arg("src").arg("dst").arg("zz")), 0);
    // Already in the destination: still a move (the source loses it), and an emptied source
    // is deleted.
    assert_eq!(int(&mut c, cmd("SMOVE").arg("src").arg("dst").arg("b")), 1);
    assert_eq!(exists(&mut c, "src"), 0);
    // Into a new key; onto itself.
    assert_eq!(int(&mut c, cmd("SMOVE").arg("dst").arg("new").arg("7")), 0);
    assert_eq!(int(&mut c, cmd("SMOVE").arg("dst").arg("new").arg("a")), 1);
    assert_eq!(members(&mut c, "new"), ["a"]);
    assert_eq!(int(&mut c, cmd("SMOVE").arg("dst").arg("dst").arg("b")), 1);
    assert_eq!(int(&mut c, cmd("SMOVE").arg("dst").arg("dst").arg("zz")), 0);
    assert_eq!(members(&mut c, "dst"), ["b"]);
}

#[test]
fn sinter_sunion_sdiff_and_their_store_forms() {
    let srv = TestServer::start();
    let mut c = srv.client();
    sadd(&mut c, "a", &["1", "2", "3", "x"]);
    sadd(&mut c, "b", &["2", "3", "4", "x", "y"]);
    sadd(&mut c, "c", &["3", "x", "z"]);
    assert_eq!(
        sorted(val(&mut c, cmd("SINTER").arg("a").arg("b").arg("c"))),
        ["3", "x"]
    );
    assert_eq!(
        sorted(val(&mut c, cmd("SINTER").arg("a").arg("a"))),
        ["1", "2", "3", "x"]
    );
    assert_eq!(
        val(&mut c, cmd("SINTER").arg("a").arg("nokey")),
        Value::Array(vec![])
    );
    assert_eq!(
        sorted(val(&mut c, cmd("SUNION").arg("a").arg("nokey").arg("c"))),
        ["1", "2", "3", "x", "z"]
    );
    assert_eq!(sorted(val(&mut c, cmd("SDIFF").arg("a").arg("b"))), ["1"]);
    assert_eq!(
        sorted(val(&mut c, cmd("SDIFF").arg("b").arg("a").arg("c"))),
        ["4", "y"]
    );
    assert_eq!(
        sorted(val(&mut c, cmd("SDIFF").arg("a").arg("nokey"))),
        ["1", "2", "3", "x"]
    );
    assert_eq!(
        val(&mut c, cmd("SDIFF").arg("nokey").arg("a")),
        Value::Array(vec![])
    );
    assert_eq!(
        val(&mut c, cmd("SDIFF").arg("a").arg("b").arg("a")),
        Value::Array(vec![])
    );

    assert_eq!(
        int(&mut c, cmd("SINTERSTORE").arg("d").arg("a").arg("b")),
        3
    );
    assert_eq!(members(&mut c, "d"), ["2", "3", "x"]);
    assert_eq!(
        int(&mut c, cmd("SUNIONSTORE").arg("d").arg("a").arg("c")),
        5
    );
    assert_eq!(members(&mut c, "d"), ["1", "2", "3", "x", "z"]);
    assert_eq!(int(&mut c, cmd("SDIFFSTORE").arg("d").arg("d").arg("b")), 2);
    assert_eq!(members(&mut c, "d"), ["1", "z"]);
    // A destination of another type is replaced, and its TTL goes with it.
    let _: () = cmd("SET")
        .arg("str")
        .arg("v")
        .arg("EX")
        .arg(100)
        .query(&mut c)
        .unwrap();
    assert_eq!(int(&mut c, cmd("SUNIONSTORE").arg("str").arg("c")), 3);
    assert_eq!(int(&mut c, cmd("TTL").arg("str")), -1);
    // An empty result deletes the destination.
    for mut q in [
        cmd("SINTERSTORE").arg("d").arg("a").arg("nokey").clone(),
        cmd("SDIFFSTORE").arg("str").arg("c").arg("c").clone(),
        cmd("SUNIONSTORE").arg("new").arg("nokey").clone(),
    ] {
        assert_eq!(int(&mut c, &mut q), 0);
    }
    assert_eq!(
        exists(&mut c, "d") + exists(&mut c, "str") + exists(&mut c, "new"),
        0
    );
    sadd(&mut c, "d", &["q"]);
    assert_eq!(
        int(&mut c, cmd("SINTERSTORE").arg("d").arg("a").arg("c")),
        2
    );
    assert_eq!(members(&mut c, "d"), ["3", "x"]);
    assert_eq!(
        int(
            &mut c,
            cmd("SINTERSTORE").arg("d").arg("a").arg("b").arg("z")
        ),
        0
    );
    assert_eq!(exists(&mut c, "d"), 0);
}

#[test]
fn sintercard_with_limit() {
    let srv = TestServer::start();
    let mut c = srv.client();
    sadd(&mut c, "a", &["1", "2", "3", "4"]);
    sadd(&mut c, "b", &["2", "3", "4", "5"]);
    assert_eq!(int(&mut c, cmd("SINTERCARD").arg(2).arg("a").arg("b")), 3);
    assert_eq!(
        int(
            &mut c,
            cmd("SINTERCARD")
                .arg(2)
                .arg("a")
                .arg("b")
                .arg("LIMIT")
                .arg(2)
        ),
        2
    );
    assert_eq!(
        int(
            &mut c,
            cmd("SINTERCARD")
                .arg(2)
                .arg("a")
                .arg("b")
                .arg("limit")
                .arg(0)
        ),
        3
    );
    assert_eq!(int(&mut c, cmd("SINTERCARD").arg(1).arg("a")), 4);
    assert_eq!(
        int(&mut c, cmd("SINTERCARD").arg(2).arg("a").arg("nokey")),
        0
    );
    err(
        &mut c,
        cmd("SINTERCARD").arg(0).arg("a"),
        "ERR numkeys should be greater than 0",
    );
    err(
        &mut c,
        cmd("SINTERCARD").arg("x").arg("a"),
        "ERR numkeys should be greater than 0",
    );
    err(
        &mut c,
        cmd("SINTERCARD").arg(3).arg("a").arg("b"),
        "ERR Number of keys can't be greater than number of args",
    );
    err(
        &mut c,
        cmd("SINTERCARD").arg(1).arg("a").arg("LIMIT").arg(-1),
        "ERR LIMIT can't be negative",
    );
    err(
        &mut c,
        cmd("SINTERCARD").arg(1).arg("a").arg("LIMIT").arg("x"),
        "ERR LIMIT can't be negative",
    );
    err(
        &mut c,
        cmd("SINTERCARD").arg(1).arg("a").arg("LIMIT"),
        "ERR syntax error",
    );
    err(
        &mut c,
        cmd("SINTERCARD").arg(1).arg("a").arg("foo"),
        "ERR syntax error",
    );
}

#[test]
fn sscan_compact_answers_whole_and_hashtable_pages_under_deletes() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(
        val(&mut c, cmd("SSCAN").arg("nokey").arg("0").arg("BAD")),
        Value::Array(vec![bulk("0"), Value::Array(vec![])])
    );
    sadd(&mut c, "ints", &["10", "-3", "2"]);
    // An intset scans in ascending order, whole.
    assert_eq!(
        val(
            &mut c,
            cmd("SSCAN").arg("ints").arg("0").arg("COUNT").arg(1)
        ),
        Value::Array(vec![
            bulk("0"),
            Value::Array(vec![bulk("-3"), bulk("2"), bulk("10")])
        ])
    );
    assert_eq!(
        val(
            &mut c,
            cmd("SSCAN").arg("ints").arg("0").arg("MATCH").arg("1*")
        ),
        Value::Array(vec![bulk("0"), Value::Array(vec![bulk("10")])])
    );
    err(
        &mut c,
        cmd("SSCAN").arg("ints").arg("abc"),
        "ERR invalid cursor",
    );
    err(
        &mut c,
        cmd("SSCAN").arg("ints").arg("0").arg("COUNT").arg(0),
        "ERR syntax error",
    );
    err(
        &mut c,
        cmd("SSCAN").arg("ints").arg("0").arg("TYPE").arg("set"),
        "ERR syntax error",
    );

    let all: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    sadd(&mut c, "big", &refs);
    let mut seen = HashSet::new();
    let (mut cursor, mut calls) = ("0".to_string(), 0);
    loop {
        let (next, items): (String, Vec<String>) = cmd("SSCAN")
            .arg("big")
            .arg(&cursor)
            .arg("COUNT")
            .arg(25)
            .query(&mut c)
            .unwrap();
        seen.extend(items);
        let _: i64 = cmd("SREM")
            .arg("big")
            .arg(format!("m{}", calls * 2 + 1))
            .query(&mut c)
            .unwrap();
        calls += 1;
        if next == "0" {
            break;
        }
        cursor = next;
    }
    assert!(calls > 10);
    for i in (0..1000).step_by(2) {
        assert!(seen.contains(&format!("m{i}")), "m{i} missing");
    }
}

#[test]
fn encodings_follow_redis_7_2() {
    let srv = TestServer::start();
    let mut c = srv.client();
    sadd(&mut c, "s", &["1", "2", "-3"]);
    assert_eq!(encoding(&mut c, "s"), "intset");
    assert_eq!(
        strings(val(&mut c, cmd("SMEMBERS").arg("s"))),
        ["-3", "1", "2"]
    );
    sadd(&mut c, "s", &["a"]);
    assert_eq!(encoding(&mut c, "s"), "listpack");
    sadd(&mut c, "s", &[&"x".repeat(65)]);
    assert_eq!(encoding(&mut c, "s"), "hashtable");
    let _: i64 = cmd("SREM")
        .arg("s")
        .arg("x".repeat(65))
        .arg("a")
        .query(&mut c)
        .unwrap();
    assert_eq!(encoding(&mut c, "s"), "hashtable");

    // A listpack keeps insertion order, also across removals.
    sadd(&mut c, "l", &["c", "a", "b"]);
    let _: i64 = cmd("SREM").arg("l").arg("a").query(&mut c).unwrap();
    assert_eq!(strings(val(&mut c, cmd("SMEMBERS").arg("l"))), ["c", "b"]);

    config(&mut c, "set-max-intset-entries", "3");
    config(&mut c, "set-max-listpack-entries", "4");
    sadd(&mut c, "i", &["1", "2", "3"]);
    assert_eq!(encoding(&mut c, "i"), "intset");
    sadd(&mut c, "i", &["4"]);
    assert_eq!(encoding(&mut c, "i"), "hashtable");
    // Creating with more members than a compact encoding holds goes straight to hashtable.
    sadd(&mut c, "many", &["a", "b", "c", "d", "e"]);
    assert_eq!(encoding(&mut c, "many"), "hashtable");
    sadd(&mut c, "lp", &["a", "b"]);
    sadd(&mut c, "lp", &["c", "d", "e"]);
    assert_eq!(encoding(&mut c, "lp"), "hashtable");

    // Stored results: integers only → intset; small → listpack; else hashtable.
    config(&mut c, "set-max-intset-entries", "512");
    config(&mut c, "set-max-listpack-entries", "128");
    sadd(&mut c, "n1", &["1", "2", "3", "a"]);
    sadd(&mut c, "n2", &["1", "2", "3", "b"]);
    assert_eq!(encoding(&mut c, "n1"), "listpack");
    let _: i64 = cmd("SINTERSTORE")
        .arg("d1")
        .arg("n1")
        .arg("n2")
        .query(&mut c)
        .unwrap();
    assert_eq!(encoding(&mut c, "d1"), "intset");
    let _: i64 = cmd("SUNIONSTORE")
        .arg("d2")
        .arg("n1")
        .arg("n2")
        .query(&mut c)
        .unwrap();
    assert_eq!(encoding(&mut c, "d2"), "listpack");
    let _: i64 = cmd("SDIFFSTORE")
        .arg("d3")
        .arg("n1")
        .arg("d2")
        .arg("n2")
        .query(&mut c)
        .unwrap();
    assert_eq!(exists(&mut c, "d3"), 0);
    let _: i64 = cmd("SDIFFSTORE")
        .arg("d3")
        .arg("n1")
        .arg("n2")
        .query(&mut c)
        .unwrap();
    assert_eq!(encoding(&mut c, "d3"), "listpack");
    let _: i64 = cmd("SUNIONSTORE")
        .arg("d4")
        .arg("d1")
        .query(&mut c)
        .unwrap();
    assert_eq!(encoding(&mut c, "d4"), "intset");
    // SMOVE into a new key picks the encoding from the member.
    let _: i64 = cmd("SMOVE")
        .arg("n1")
        .arg("m1")
        .arg("1")
        .query(&mut c)
        .unwrap();
    let _: i64 = cmd("SMOVE")
        .arg("n1")
        .arg("m2")
        .arg("a")
        .query(&mut c)
        .unwrap();
    assert_eq!(encoding(&mut c, "m1"), "intset");
    assert_eq!(encoding(&mut c, "m2"), "listpack");
    // RESTORE re-derives the encoding from the content.
    let dump: Vec<u8> = cmd("DUMP").arg("d1").query(&mut c).unwrap();
    let _: () = cmd("RESTORE")
        .arg("r")
        .arg(0)
        .arg(dump)
        .query(&mut c)
        .unwrap();
    assert_eq!(encoding(&mut c, "r"), "intset");
    assert_eq!(
        strings(val(&mut c, cmd("SMEMBERS").arg("r"))),
        ["1", "2", "3"]
    );
}

#[test]
fn memory_accounting_follows_adds_and_removes() {
    let srv = TestServer::start();
    let mut c = srv.client();
    sadd(&mut c, "s", &["a"]);
    let small = int(&mut c, cmd("MEMORY").arg("USAGE").arg("s"));
    let big: Vec<String> = (0..200)
        .map(|i| format!("member-with-some-length-{i}"))
        .collect();
    let refs: Vec<&str> = big.iter().map(String::as_str).collect();
    sadd(&mut c, "s", &refs);
    let grown = int(&mut c, cmd("MEMORY").arg("USAGE").arg("s"));
    assert!(grown > small + 200 * 24, "{small} -> {grown}");
    let _: i64 = cmd("SREM").arg("s").arg(&refs).query(&mut c).unwrap();
    assert!(int(&mut c, cmd("MEMORY").arg("USAGE").arg("s")) < grown - 200 * 24);
}
