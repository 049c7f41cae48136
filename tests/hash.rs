//! Hash commands end to end: HSET/HMSET/HSETNX, HGET/HMGET/HGETALL/HKEYS/HVALS (RESP2 and
//! RESP3 shapes), HDEL (deleting emptied keys), HEXISTS/HLEN/HSTRLEN, HINCRBY/HINCRBYFLOAT
//! (INCRBYFLOAT's formatting), HRANDFIELD (every count form), HSCAN (cursor guarantee under
//! deletes) and OBJECT ENCODING's listpack → hashtable rule.
//!
//! Replies and error texts are Redis 7's, checked against a real redis-server.
mod common;

use common::{arity, assert_err_exact as err, bulk, exists, int, val, TestServer};
use redis::{cmd, Connection, Value};
use std::collections::{HashMap, HashSet};

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

fn encoding(c: &mut Connection, key: &str) -> String {
    cmd("OBJECT").arg("ENCODING").arg(key).query(c).unwrap()
}

fn hgetall(c: &mut Connection, key: &str) -> HashMap<String, String> {
    cmd("HGETALL").arg(key).query(c).unwrap()
}

#[test]
fn hset_hget_hmget_and_counts_of_new_fields() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(
        int(
            &mut c,
            cmd("HSET").arg("h").arg("a").arg("1").arg("b").arg("2")
        ),
        2
    );
    assert_eq!(
        int(
            &mut c,
            cmd("HSET").arg("h").arg("a").arg("x").arg("c").arg("3")
        ),
        1
    );
    assert_eq!(val(&mut c, cmd("HGET").arg("h").arg("a")), bulk("x"));
    assert_eq!(val(&mut c, cmd("HGET").arg("h").arg("zz")), Value::Nil);
    assert_eq!(val(&mut c, cmd("HGET").arg("nokey").arg("a")), Value::Nil);
    assert_eq!(
        val(&mut c, cmd("HMGET").arg("h").arg("a").arg("nope").arg("c")),
        Value::Array(vec![bulk("x"), Value::Nil, bulk("3")])
    );
    assert_eq!(
        val(&mut c, cmd("HMGET").arg("nokey").arg("a").arg("b")),
        Value::Array(vec![Value::Nil, Value::Nil])
    );
    assert_eq!(
        val(&mut c, cmd("HMSET").arg("h").arg("d").arg("4")),
        Value::Okay
    );
    assert_eq!(int(&mut c, cmd("HLEN").arg("h")), 4);
    assert_eq!(int(&mut c, cmd("HLEN").arg("nokey")), 0);
    // Binary-safe fields and values, and empty ones.
    let f: &[u8] = b"f\0\r\n";
    assert_eq!(int(&mut c, cmd("HSET").arg("h").arg(f).arg(b"")), 1);
    assert_eq!(val(&mut c, cmd("HGET").arg("h").arg(f)), bulk(""));
    assert_eq!(int(&mut c, cmd("HSTRLEN").arg("h").arg(f)), 0);
}

#[test]
fn hsetnx_only_sets_missing_fields() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(int(&mut c, cmd("HSETNX").arg("h").arg("f").arg("1")), 1);
    assert_eq!(int(&mut c, cmd("HSETNX").arg("h").arg("f").arg("2")), 0);
    assert_eq!(val(&mut c, cmd("HGET").arg("h").arg("f")), bulk("1"));
}

#[test]
fn errors_arity_and_wrongtype() {
    let srv = TestServer::start();
    let mut c = srv.client();
    err(&mut c, cmd("HSET").arg("h").arg("a"), &arity("hset"));
    err(
        &mut c,
        cmd("HSET").arg("h").arg("a").arg("1").arg("b"),
        &arity("hset"),
    );
    err(
        &mut c,
        cmd("HMSET").arg("h").arg("a").arg("1").arg("b"),
        &arity("hmset"),
    );
    err(&mut c, cmd("HGET").arg("h"), &arity("hget"));
    err(&mut c, cmd("HSETNX").arg("h").arg("f"), &arity("hsetnx"));
    err(&mut c, cmd("HDEL").arg("h"), &arity("hdel"));
    err(&mut c, &mut cmd("HGETALL"), &arity("hgetall"));
    err(&mut c, cmd("HINCRBY").arg("h").arg("f"), &arity("hincrby"));
    err(&mut c, cmd("HSCAN").arg("h"), &arity("hscan"));
    err(&mut c, &mut cmd("HRANDFIELD"), &arity("hrandfield"));
    assert_eq!(exists(&mut c, "h"), 0);

    let _: () = cmd("SET").arg("s").arg("v").query(&mut c).unwrap();
    for mut bad in [
        cmd("HSET").arg("s").arg("f").arg("v").clone(),
        cmd("HSETNX").arg("s").arg("f").arg("v").clone(),
        cmd("HMSET").arg("s").arg("f").arg("v").clone(),
        cmd("HGET").arg("s").arg("f").clone(),
        cmd("HMGET").arg("s").arg("f").clone(),
        cmd("HGETALL").arg("s").clone(),
        cmd("HKEYS").arg("s").clone(),
        cmd("HVALS").arg("s").clone(),
        cmd("HDEL").arg("s").arg("f").clone(),
        cmd("HEXISTS").arg("s").arg("f").clone(),
        cmd("HLEN").arg("s").clone(),
        cmd("HSTRLEN").arg("s").arg("f").clone(),
        cmd("HINCRBY").arg("s").arg("f").arg("1").clone(),
        cmd("HINCRBYFLOAT").arg("s").arg("f").arg("1").clone(),
        cmd("HRANDFIELD").arg("s").clone(),
        cmd("HRANDFIELD").arg("s").arg("2").clone(),
        cmd("HSCAN").arg("s").arg("0").clone(),
    ] {
        err(&mut c, &mut bad, WRONGTYPE);
    }
    assert_eq!(val(&mut c, cmd("GET").arg("s")), bulk("v"));
}

#[test]
fn hgetall_hkeys_hvals_in_both_protocols() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let _: i64 = cmd("HSET")
        .arg("h")
        .arg("a")
        .arg("1")
        .arg("b")
        .arg("2")
        .arg("c")
        .arg("3")
        .query(&mut c)
        .unwrap();
    // A listpack hash lists fields in insertion order, and a delete keeps that order.
    let _: i64 = cmd("HDEL").arg("h").arg("b").query(&mut c).unwrap();
    assert_eq!(
        val(&mut c, cmd("HGETALL").arg("h")),
        Value::Array(vec![bulk("a"), bulk("1"), bulk("c"), bulk("3")])
    );
    assert_eq!(strings(val(&mut c, cmd("HKEYS").arg("h"))), ["a", "c"]);
    assert_eq!(strings(val(&mut c, cmd("HVALS").arg("h"))), ["1", "3"]);
    assert_eq!(
        val(&mut c, cmd("HGETALL").arg("nokey")),
        Value::Array(vec![])
    );
    assert_eq!(val(&mut c, cmd("HKEYS").arg("nokey")), Value::Array(vec![]));

    let mut c3 = srv.client_resp3();
    assert_eq!(
        val(&mut c3, cmd("HGETALL").arg("h")),
        Value::Map(vec![(bulk("a"), bulk("1")), (bulk("c"), bulk("3"))])
    );
    assert_eq!(
        val(&mut c3, cmd("HGETALL").arg("nokey")),
        Value::Map(vec![])
    );
    assert_eq!(
        val(&mut c3, cmd("HKEYS").arg("h")),
        Value::Array(vec![bulk("a"), bulk("c")])
    );
}

#[test]
fn hdel_counts_and_deletes_the_emptied_key() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let _: i64 = cmd("HSET")
        .arg("h")
        .arg("a")
        .arg("1")
        .arg("b")
        .arg("2")
        .query(&mut c)
        .unwrap();
    assert_eq!(
        int(&mut c, cmd("HDEL").arg("h").arg("a").arg("a").arg("zz")),
        1
    );
    assert_eq!(int(&mut c, cmd("HEXISTS").arg("h").arg("a")), 0);
    assert_eq!(int(&mut c, cmd("HEXISTS").arg("h").arg("b")), 1);
    assert_eq!(int(&mut c, cmd("HEXISTS").arg("nokey").arg("b")), 0);
    assert_eq!(int(&mut c, cmd("HDEL").arg("h").arg("b")), 1);
    assert_eq!(exists(&mut c, "h"), 0);
    assert_eq!(int(&mut c, cmd("HDEL").arg("h").arg("b")), 0);
    assert_eq!(int(&mut c, &mut cmd("DBSIZE")), 0);
}

#[test]
fn hstrlen_counts_bytes() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let _: i64 = cmd("HSET")
        .arg("h")
        .arg("f")
        .arg("héllo")
        .arg("n")
        .arg("-123")
        .query(&mut c)
        .unwrap();
    assert_eq!(int(&mut c, cmd("HSTRLEN").arg("h").arg("f")), 6);
    assert_eq!(int(&mut c, cmd("HSTRLEN").arg("h").arg("n")), 4);
    assert_eq!(int(&mut c, cmd("HSTRLEN").arg("h").arg("x")), 0);
    assert_eq!(int(&mut c, cmd("HSTRLEN").arg("nokey").arg("x")), 0);
}

#[test]
fn hincrby_creates_increments_and_refuses_bad_input() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(int(&mut c, cmd("HINCRBY").arg("h").arg("n").arg("5")), 5);
    assert_eq!(int(&mut c, cmd("HINCRBY").arg("h").arg("n").arg("-7")), -2);
    err(
        &mut c,
        cmd("HINCRBY").arg("h").arg("n").arg("x"),
        "ERR value is not an integer or out of range",
    );
    err(
        &mut c,
        cmd("HINCRBY").arg("h").arg("n").arg("1.5"),
        "ERR value is not an integer or out of range",
    );
    let _: i64 = cmd("HSET")
        .arg("h")
        .arg("s")
        .arg("abc")
        .arg("big")
        .arg("9223372036854775807")
        .query(&mut c)
        .unwrap();
    err(
        &mut c,
        cmd("HINCRBY").arg("h").arg("s").arg("1"),
        "ERR hash value is not an integer",
    );
    err(
        &mut c,
        cmd("HINCRBY").arg("h").arg("big").arg("1"),
        "ERR increment or decrement would overflow",
    );
    assert_eq!(
        val(&mut c, cmd("HGET").arg("h").arg("big")),
        bulk("9223372036854775807")
    );
    // A failed increment on a missing key leaves nothing behind.
    err(
        &mut c,
        cmd("HINCRBY").arg("new").arg("f").arg("x"),
        "ERR value is not an integer or out of range",
    );
    assert_eq!(exists(&mut c, "new"), 0);
}

#[test]
fn hincrbyfloat_formats_like_incrbyfloat() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(
        val(&mut c, cmd("HINCRBYFLOAT").arg("h").arg("f").arg("10.5")),
        bulk("10.5")
    );
    assert_eq!(
        val(&mut c, cmd("HINCRBYFLOAT").arg("h").arg("f").arg("0.1")),
        bulk("10.6")
    );
    assert_eq!(
        val(&mut c, cmd("HINCRBYFLOAT").arg("h").arg("f").arg("-5.6")),
        bulk("5")
    );
    assert_eq!(
        val(&mut c, cmd("HINCRBYFLOAT").arg("h").arg("f").arg("5.0e3")),
        bulk("5005")
    );
    assert_eq!(
        val(&mut c, cmd("HINCRBYFLOAT").arg("h").arg("g").arg("3.1")),
        bulk("3.1")
    );
    assert_eq!(
        val(&mut c, cmd("HINCRBYFLOAT").arg("h").arg("g").arg("0.2")),
        bulk("3.3")
    );
    err(
        &mut c,
        cmd("HINCRBYFLOAT").arg("h").arg("f").arg("abc"),
        "ERR value is not a valid float",
    );
    err(
        &mut c,
        cmd("HINCRBYFLOAT").arg("h").arg("f").arg("inf"),
        "ERR value is NaN or Infinity",
    );
    let _: i64 = cmd("HSET")
        .arg("h")
        .arg("s")
        .arg("abc")
        .arg("m")
        .arg("1.7e308")
        .query(&mut c)
        .unwrap();
    err(
        &mut c,
        cmd("HINCRBYFLOAT").arg("h").arg("s").arg("1"),
        "ERR hash value is not a float",
    );
    // Redis adds in long double: past a double's range is still a number...
    let sum = val(&mut c, cmd("HINCRBYFLOAT").arg("h").arg("m").arg("1.7e308"));
    assert_eq!(
        sum,
        bulk("340000000000000000006273556050395193590540427779388267466087171526404912102411641988123739177800600673957047683771263425322806997836001586961457274820033393094901317200013624802610872515245814124760542925564488876540887382670905522638137419003805178364056052028734561012664811529831035124023358619554802565120")
    );
    // ...and past a long double's is not.
    let _: i64 = cmd("HSET")
        .arg(&["h", "n", "1e4932"])
        .query(&mut c)
        .unwrap();
    err(
        &mut c,
        cmd("HINCRBYFLOAT").arg("h").arg("n").arg("1e4932"),
        "ERR increment would produce NaN or Infinity",
    );
    err(
        &mut c,
        cmd("HINCRBYFLOAT").arg("h").arg("n").arg("1e4933"),
        "ERR value is not a valid float",
    );
    assert_eq!(val(&mut c, cmd("HGET").arg("h").arg("f")), bulk("5005"));
}

#[test]
fn hrandfield_every_count_form() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(val(&mut c, cmd("HRANDFIELD").arg("nokey")), Value::Nil);
    assert_eq!(
        val(&mut c, cmd("HRANDFIELD").arg("nokey").arg("3")),
        Value::Array(vec![])
    );
    assert_eq!(
        val(
            &mut c,
            cmd("HRANDFIELD").arg("nokey").arg("-3").arg("WITHVALUES")
        ),
        Value::Array(vec![])
    );
    let fields: Vec<String> = (0..20).map(|i| format!("f{i}")).collect();
    let mut hset = cmd("HSET");
    hset.arg("h");
    for f in &fields {
        hset.arg(f).arg(format!("v{}", &f[1..]));
    }
    let _: i64 = hset.query(&mut c).unwrap();
    let all: HashSet<String> = fields.iter().cloned().collect();

    let one: String = cmd("HRANDFIELD").arg("h").query(&mut c).unwrap();
    assert!(all.contains(&one));
    assert_eq!(
        val(&mut c, cmd("HRANDFIELD").arg("h").arg("0")),
        Value::Array(vec![])
    );
    // Positive: distinct, at most the hash.
    let some = strings(val(&mut c, cmd("HRANDFIELD").arg("h").arg("7")));
    assert_eq!(some.len(), 7);
    assert_eq!(some.iter().collect::<HashSet<_>>().len(), 7);
    assert!(some.iter().all(|f| all.contains(f)));
    let every = strings(val(&mut c, cmd("HRANDFIELD").arg("h").arg("100")));
    assert_eq!(every.iter().cloned().collect::<HashSet<_>>(), all);
    // Negative: exactly |count|, repeats allowed.
    let many = strings(val(&mut c, cmd("HRANDFIELD").arg("h").arg("-100")));
    assert_eq!(many.len(), 100);
    assert!(many.iter().all(|f| all.contains(f)));
    // WITHVALUES: flat pairs in RESP2, each value the field's.
    let pairs = strings(val(
        &mut c,
        cmd("HRANDFIELD").arg("h").arg("-5").arg("withvalues"),
    ));
    assert_eq!(pairs.len(), 10);
    for p in pairs.chunks(2) {
        assert_eq!(p[1], format!("v{}", &p[0][1..]));
    }
    let mut c3 = srv.client_resp3();
    match val(
        &mut c3,
        cmd("HRANDFIELD").arg("h").arg("3").arg("WITHVALUES"),
    ) {
        Value::Array(items) => {
            assert_eq!(items.len(), 3);
            for i in items {
                let p = strings(i);
                assert_eq!(p[1], format!("v{}", &p[0][1..]));
            }
        }
        other => panic!("{other:?}"),
    }
    // Errors, in Redis's order: count first, then the option, then the range with values.
    err(
        &mut c,
        cmd("HRANDFIELD").arg("h").arg("x"),
        "ERR value is not an integer or out of range",
    );
    err(
        &mut c,
        cmd("HRANDFIELD").arg("h").arg("1").arg("withvalue"),
        "ERR syntax error",
    );
    err(
        &mut c,
        cmd("HRANDFIELD")
            .arg("h")
            .arg("1")
            .arg("withvalues")
            .arg("x"),
        "ERR syntax error",
    );
    err(
        &mut c,
        cmd("HRANDFIELD").arg("h").arg("-9223372036854775808"),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
    );
    err(
        &mut c,
        cmd("HRANDFIELD")
            .arg("h")
            .arg("-9223372036854775807")
            .arg("withvalues"),
        "ERR value is out of range",
    );
    // A repeated-sample reply is bounded (Redis would stream it).
    expect_prefix(
        &mut c,
        cmd("HRANDFIELD").arg("h").arg("-9223372036854775807"),
        "ERR count is too large",
    );
}

fn expect_prefix(c: &mut Connection, command: &mut redis::Cmd, prefix: &str) {
    common::expect_err(c, command, prefix);
    common::assert_alive(c);
}

#[test]
fn hscan_listpack_answers_whole_and_hashtable_pages() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(
        val(
            &mut c,
            cmd("HSCAN").arg("nokey").arg("0").arg("COUNT").arg("0")
        ),
        Value::Array(vec![bulk("0"), Value::Array(vec![])])
    );
    let _: i64 = cmd("HSET")
        .arg("h")
        .arg("a1")
        .arg("1")
        .arg("b1")
        .arg("2")
        .arg("a2")
        .arg("3")
        .query(&mut c)
        .unwrap();
    assert_eq!(
        val(
            &mut c,
            cmd("HSCAN")
                .arg("h")
                .arg("0")
                .arg("MATCH")
                .arg("a*")
                .arg("COUNT")
                .arg("1")
        ),
        Value::Array(vec![
            bulk("0"),
            Value::Array(vec![bulk("a1"), bulk("1"), bulk("a2"), bulk("3")])
        ])
    );
    err(&mut c, cmd("HSCAN").arg("h").arg("x"), "ERR invalid cursor");
    err(
        &mut c,
        cmd("HSCAN").arg("h").arg("-1"),
        "ERR invalid cursor",
    );
    err(
        &mut c,
        cmd("HSCAN").arg("h").arg("0").arg("COUNT").arg("0"),
        "ERR syntax error",
    );
    err(
        &mut c,
        cmd("HSCAN").arg("h").arg("0").arg("COUNT").arg("x"),
        "ERR value is not an integer or out of range",
    );
    err(
        &mut c,
        cmd("HSCAN").arg("h").arg("0").arg("MATCH"),
        "ERR syntax error",
    );
    // NOVALUES (Redis 7.4): fields alone; a flag anywhere among the options. Other scans
    // refuse it by name.
    assert_eq!(
        val(
            &mut c,
            cmd("HSCAN")
                .arg("h")
                .arg("0")
                .arg("NOVALUES")
                .arg("MATCH")
                .arg("a*")
        ),
        Value::Array(vec![bulk("0"), Value::Array(vec![bulk("a1"), bulk("a2")])])
    );
    let _: i64 = cmd("SADD").arg("s").arg("m").query(&mut c).unwrap();
    let _: i64 = cmd("ZADD").arg("z").arg(1).arg("m").query(&mut c).unwrap();
    for mut scan in [
        cmd("SSCAN").arg("s").arg("0").arg("NOVALUES").clone(),
        cmd("ZSCAN").arg("z").arg("0").arg("NOVALUES").clone(),
        cmd("SCAN").arg("0").arg("NOVALUES").clone(),
    ] {
        err(
            &mut c,
            &mut scan,
            "ERR NOVALUES option can only be used in HSCAN",
        );
    }
    // Only SCAN has TYPE; a cursor may carry a `+`, as `strtoull` reads it.
    err(
        &mut c,
        cmd("HSCAN").arg("h").arg("0").arg("TYPE").arg("hash"),
        "ERR syntax error",
    );
    assert_eq!(
        val(&mut c, cmd("ZSCAN").arg("z").arg("+0")),
        Value::Array(vec![bulk("0"), Value::Array(vec![bulk("m"), bulk("1")])])
    );

    // A hashtable hash pages, and fields present throughout are all returned under deletes.
    let mut hset = cmd("HSET");
    hset.arg("big");
    for i in 0..1000 {
        hset.arg(format!("f{i}")).arg(i);
    }
    let _: i64 = hset.query(&mut c).unwrap();
    assert_eq!(encoding(&mut c, "big"), "hashtable");
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let (next, items): (String, Vec<String>) = cmd("HSCAN")
            .arg("big")
            .arg(&cursor)
            .arg("COUNT")
            .arg(20)
            .query(&mut c)
            .unwrap();
        for p in items.chunks(2) {
            assert_eq!(p[0][1..], p[1]);
            seen.insert(p[0].clone());
        }
        let _: i64 = cmd("HDEL")
            .arg("big")
            .arg(format!("f{}", calls * 2 + 1))
            .query(&mut c)
            .unwrap();
        calls += 1;
        if next == "0" {
            break;
        }
        cursor = next;
    }
    assert!(calls > 10, "a hashtable hash pages ({calls} calls)");
    for i in (0..1000).step_by(2) {
        assert!(seen.contains(&format!("f{i}")), "f{i} missing");
    }
}

#[test]
fn encoding_listpack_until_limits_then_hashtable() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let _: i64 = cmd("HSET")
        .arg("h")
        .arg("f")
        .arg("v")
        .query(&mut c)
        .unwrap();
    assert_eq!(encoding(&mut c, "h"), "listpack");
    // A value longer than hash-max-listpack-value (64).
    let _: i64 = cmd("HSET")
        .arg("h")
        .arg("g")
        .arg("x".repeat(65))
        .query(&mut c)
        .unwrap();
    assert_eq!(encoding(&mut c, "h"), "hashtable");
    let _: i64 = cmd("HDEL").arg("h").arg("g").query(&mut c).unwrap();
    assert_eq!(encoding(&mut c, "h"), "hashtable");

    let _: () = cmd("CONFIG")
        .arg("SET")
        .arg("hash-max-listpack-entries")
        .arg("4")
        .query(&mut c)
        .unwrap();
    let _: i64 = cmd("HSET")
        .arg("s")
        .arg("1")
        .arg("1")
        .arg("2")
        .arg("2")
        .arg("3")
        .arg("3")
        .arg("4")
        .arg("4")
        .query(&mut c)
        .unwrap();
    assert_eq!(encoding(&mut c, "s"), "listpack");
    let _: i64 = cmd("HSET")
        .arg("s")
        .arg("5")
        .arg("5")
        .query(&mut c)
        .unwrap();
    assert_eq!(encoding(&mut c, "s"), "hashtable");
    // More pairs than the limit in one call convert up front, even when they repeat a field.
    let mut many = cmd("HSET");
    many.arg("r");
    for _ in 0..5 {
        many.arg("same").arg("v");
    }
    assert_eq!(int(&mut c, &mut many), 1);
    assert_eq!(encoding(&mut c, "r"), "hashtable");
    // HINCRBYFLOAT's long result counts as a value too.
    let _: () = cmd("CONFIG")
        .arg("SET")
        .arg("hash-max-listpack-value")
        .arg("3")
        .query(&mut c)
        .unwrap();
    let _: String = cmd("HINCRBYFLOAT")
        .arg("n")
        .arg("f")
        .arg("1.25")
        .query(&mut c)
        .unwrap();
    assert_eq!(encoding(&mut c, "n"), "hashtable");
    // RESTORE re-derives the encoding from the content.
    let _: i64 = cmd("HSET")
        .arg("small")
        .arg("a")
        .arg("b")
        .query(&mut c)
        .unwrap();
    let dump: Vec<u8> = cmd("DUMP").arg("small").query(&mut c).unwrap();
    let _: () = cmd("RESTORE")
        .arg("copy")
        .arg(0)
        .arg(dump)
        .query(&mut c)
        .unwrap();
    assert_eq!(encoding(&mut c, "copy"), "listpack");
    assert_eq!(
        hgetall(&mut c, "copy").get("a").map(String::as_str),
        Some("b")
    );
}

#[test]
fn writes_keep_the_ttl_and_memory_accounting_follows() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let _: i64 = cmd("HSET")
        .arg("h")
        .arg("f")
        .arg("v")
        .query(&mut c)
        .unwrap();
    let _: i64 = cmd("EXPIRE").arg("h").arg(100).query(&mut c).unwrap();
    let _: i64 = cmd("HSET")
        .arg("h")
        .arg("g")
        .arg("v")
        .query(&mut c)
        .unwrap();
    let _: i64 = cmd("HINCRBY")
        .arg("h")
        .arg("n")
        .arg(1)
        .query(&mut c)
        .unwrap();
    assert!(int(&mut c, cmd("TTL").arg("h")) > 90);
    let before = int(&mut c, cmd("MEMORY").arg("USAGE").arg("h"));
    let _: i64 = cmd("HSET")
        .arg("h")
        .arg("long")
        .arg("y".repeat(5000))
        .query(&mut c)
        .unwrap();
    let after = int(&mut c, cmd("MEMORY").arg("USAGE").arg("h"));
    assert!(after >= before + 5000, "{before} -> {after}");
    let _: i64 = cmd("HDEL").arg("h").arg("long").query(&mut c).unwrap();
    assert!(int(&mut c, cmd("MEMORY").arg("USAGE").arg("h")) < after - 4000);
}
