//! List commands end to end: LPUSH RPUSH LPUSHX RPUSHX, LPOP RPOP (with count), LLEN LRANGE
//! LINDEX LSET LINSERT LREM LTRIM LPOS, LMOVE RPOPLPUSH LMPOP, and OBJECT ENCODING of lists
//! (listpack, quicklist, and back at half the limit).
//!
//! Every test starts the real server in-process and talks to it with the `redis` crate, or a
//! raw socket where the exact RESP2/RESP3 bytes matter (nil shapes). The expected replies and
//! error texts are Redis 7.2's, byte for byte (checked against a real redis-server where 7.0
//! and 7.2 agree); every error case also checks that the connection stays usable.
mod common;

use common::{
    arity, assert_err_exact as err, bulk, dbsize, exists, int, pttl, set, val, TestServer,
};
use redis::{cmd, Connection, Value};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_INT: &str = "ERR value is not an integer or out of range";

/// LRANGE key 0 -1 as strings.
fn all(c: &mut Connection, key: &str) -> Vec<String> {
    cmd("LRANGE")
        .arg(key)
        .arg(0)
        .arg(-1)
        .query(c)
        .expect("LRANGE")
}

fn rpush(c: &mut Connection, key: &str, items: &[&str]) -> i64 {
    int(c, cmd("RPUSH").arg(key).arg(items))
}

fn encoding(c: &mut Connection, key: &str) -> String {
    cmd("OBJECT")
        .arg("ENCODING")
        .arg(key)
        .query(c)
        .expect("OBJECT ENCODING")
}

fn config_set(c: &mut Connection, name: &str, value: &str) {
    let r: Value = cmd("CONFIG")
        .arg("SET")
        .arg(name)
        .arg(value)
        .query(c)
        .unwrap();
    assert_eq!(r, Value::Okay);
}

fn bulks(items: &[&str]) -> Value {
    Value::Array(items.iter().map(bulk).collect())
}

// ---------------------------------------------------------------------------------------------
// Arity and types, for every command
// ---------------------------------------------------------------------------------------------

#[test]
fn every_command_checks_arity() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let cases: &[(&str, &[&str])] = &[
        ("LPUSH", &["k"]),
        ("RPUSH", &["k"]),
        ("LPUSHX", &["k"]),
        ("RPUSHX", &["k"]),
        ("LPOP", &[]),
        ("LPOP", &["k", "1", "2"]),
        ("RPOP", &["k", "1", "2"]),
        ("LLEN", &[]),
        ("LLEN", &["k", "x"]),
        ("LRANGE", &["k", "0"]),
        ("LINDEX", &["k"]),
        ("LSET", &["k", "0"]),
        ("LINSERT", &["k", "BEFORE", "p"]),
        ("LREM", &["k", "0"]),
        ("LTRIM", &["k", "0"]),
        ("LPOS", &["k"]),
        ("LMOVE", &["a", "b", "LEFT"]),
        ("RPOPLPUSH", &["a"]),
        ("LMPOP", &["1", "k"]),
    ];
    for (name, args) in cases {
        err(
            &mut c,
            cmd(name).arg(*args),
            &arity(&name.to_ascii_lowercase()),
        );
    }
    assert_eq!(dbsize(&mut c), 0);
}

#[test]
fn every_command_refuses_other_types_and_leaves_them_alone() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "s", "v");
    let cases: &[(&str, &[&str])] = &[
        ("LPUSH", &["s", "a"]),
        ("RPUSH", &["s", "a"]),
        ("LPUSHX", &["s", "a"]),
        ("RPUSHX", &["s", "a"]),
        ("LPOP", &["s"]),
        ("LPOP", &["s", "0"]),
        ("RPOP", &["s", "2"]),
        ("LLEN", &["s"]),
        ("LRANGE", &["s", "0", "-1"]),
        ("LINDEX", &["s", "0"]),
        // The index is parsed after the type check.
        ("LINDEX", &["s", "x"]),
        ("LSET", &["s", "0", "a"]),
        ("LSET", &["s", "x", "a"]),
        ("LINSERT", &["s", "BEFORE", "a", "b"]),
        ("LREM", &["s", "0", "a"]),
        ("LTRIM", &["s", "0", "1"]),
        ("LPOS", &["s", "a"]),
        ("LMOVE", &["s", "d", "LEFT", "RIGHT"]),
        ("RPOPLPUSH", &["s", "d"]),
        ("LMPOP", &["1", "s", "LEFT"]),
        ("LMPOP", &["2", "missing", "s", "RIGHT", "COUNT", "3"]),
    ];
    for (name, args) in cases {
        err(&mut c, cmd(name).arg(*args), WRONGTYPE);
    }
    assert_eq!(common::get_str(&mut c, "s").as_deref(), Some("v"));
    assert_eq!(exists(&mut c, "d"), 0);
    assert_eq!(dbsize(&mut c), 1);
}

// ---------------------------------------------------------------------------------------------
// Push
// ---------------------------------------------------------------------------------------------

#[test]
fn lpush_prepends_in_argument_order_and_rpush_appends() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(
        int(&mut c, cmd("LPUSH").arg("l").arg("a").arg("b").arg("c")),
        3
    );
    assert_eq!(all(&mut c, "l"), ["c", "b", "a"]);
    assert_eq!(rpush(&mut c, "l", &["x", "y"]), 5);
    assert_eq!(all(&mut c, "l"), ["c", "b", "a", "x", "y"]);
    assert_eq!(int(&mut c, cmd("LLEN").arg("l")), 5);
    assert_eq!(int(&mut c, cmd("LLEN").arg("missing")), 0);
    let t: String = cmd("TYPE").arg("l").query(&mut c).unwrap();
    assert_eq!(t, "list");
}

#[test]
fn pushx_only_pushes_onto_existing_lists() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(int(&mut c, cmd("LPUSHX").arg("l").arg("a")), 0);
    assert_eq!(int(&mut c, cmd("RPUSHX").arg("l").arg("a").arg("b")), 0);
    assert_eq!(exists(&mut c, "l"), 0);
    rpush(&mut c, "l", &["m"]);
    assert_eq!(int(&mut c, cmd("LPUSHX").arg("l").arg("a").arg("b")), 3);
    assert_eq!(int(&mut c, cmd("RPUSHX").arg("l").arg("z")), 4);
    assert_eq!(all(&mut c, "l"), ["b", "a", "m", "z"]);
}

#[test]
fn pushing_keeps_the_ttl_of_an_existing_list() {
    let srv = TestServer::start();
    let mut c = srv.client();
    rpush(&mut c, "l", &["a"]);
    assert_eq!(int(&mut c, cmd("PEXPIRE").arg("l").arg(100_000)), 1);
    rpush(&mut c, "l", &["b"]);
    int(&mut c, cmd("LPUSHX").arg("l").arg("c"));
    assert!(pttl(&mut c, "l") > 90_000);
}

#[test]
fn elements_are_binary_safe_and_long_ones_survive_ranges() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let long = vec![b'L'; 5000];
    let items: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\0\r\n".to_vec(),
        (0..=255u8).collect(),
        long.clone(),
        b"exactly-22-bytes-long!".to_vec(),
        b"twenty-three-bytes-long".to_vec(),
        b"12345".to_vec(),
    ];
    for i in &items {
        int(&mut c, cmd("RPUSH").arg("l").arg(&i[..]));
    }
    let got: Vec<Vec<u8>> = cmd("LRANGE").arg("l").arg(0).arg(-1).query(&mut c).unwrap();
    assert_eq!(got, items);
    let got: Vec<Vec<u8>> = cmd("LRANGE").arg("l").arg(2).arg(4).query(&mut c).unwrap();
    assert_eq!(got, items[2..=4].to_vec());
    assert_eq!(val(&mut c, cmd("LINDEX").arg("l").arg(3)), bulk(&long));
    let popped: Vec<Vec<u8>> = cmd("RPOP").arg("l").arg(4).query(&mut c).unwrap();
    let want: Vec<Vec<u8>> = items[3..].iter().rev().cloned().collect();
    assert_eq!(popped, want);
}

// ---------------------------------------------------------------------------------------------
// LRANGE LINDEX LLEN
// ---------------------------------------------------------------------------------------------

#[test]
fn lrange_handles_negative_and_out_of_range_indexes() {
    let srv = TestServer::start();
    let mut c = srv.client();
    rpush(&mut c, "l", &["a", "b", "c", "d"]);
    let r = |c: &mut Connection, s: i64, e: i64| -> Vec<String> {
        cmd("LRANGE").arg("l").arg(s).arg(e).query(c).unwrap()
    };
    assert_eq!(r(&mut c, 0, 1), ["a", "b"]);
    assert_eq!(r(&mut c, -2, -1), ["c", "d"]);
    assert_eq!(r(&mut c, -100, 100), ["a", "b", "c", "d"]);
    assert_eq!(r(&mut c, 1, -2), ["b", "c"]);
    assert!(r(&mut c, 2, 1).is_empty());
    assert!(r(&mut c, 4, 10).is_empty());
    assert!(r(&mut c, 0, -5).is_empty());
    assert!(r(&mut c, i64::MIN, i64::MIN).is_empty());
    assert_eq!(r(&mut c, i64::MIN, i64::MAX).len(), 4);
    assert_eq!(
        val(&mut c, cmd("LRANGE").arg("missing").arg(0).arg(-1)),
        Value::Array(vec![])
    );
    // Indexes are parsed before the key is looked up.
    err(&mut c, cmd("LRANGE").arg("l").arg("x").arg(1), NOT_INT);
    err(
        &mut c,
        cmd("LRANGE").arg("missing").arg(0).arg("1.5"),
        NOT_INT,
    );
}

#[test]
fn lindex_reads_by_position_from_either_end() {
    let srv = TestServer::start();
    let mut c = srv.client();
    rpush(&mut c, "l", &["a", "b", "c"]);
    assert_eq!(val(&mut c, cmd("LINDEX").arg("l").arg(0)), bulk("a"));
    assert_eq!(val(&mut c, cmd("LINDEX").arg("l").arg(-1)), bulk("c"));
    assert_eq!(val(&mut c, cmd("LINDEX").arg("l").arg(-3)), bulk("a"));
    assert_eq!(val(&mut c, cmd("LINDEX").arg("l").arg(3)), Value::Nil);
    assert_eq!(val(&mut c, cmd("LINDEX").arg("l").arg(-4)), Value::Nil);
    assert_eq!(
        val(&mut c, cmd("LINDEX").arg("l").arg(i64::MIN)),
        Value::Nil
    );
    assert_eq!(val(&mut c, cmd("LINDEX").arg("missing").arg(0)), Value::Nil);
    // A missing key answers nil before the index is parsed, as in Redis.
    assert_eq!(
        val(&mut c, cmd("LINDEX").arg("missing").arg("x")),
        Value::Nil
    );
    err(&mut c, cmd("LINDEX").arg("l").arg("x"), NOT_INT);
}

// ---------------------------------------------------------------------------------------------
// LPOP RPOP
// ---------------------------------------------------------------------------------------------

#[test]
fn pops_take_from_each_end_and_delete_the_emptied_list() {
    let srv = TestServer::start();
    let mut c = srv.client();
    rpush(&mut c, "l", &["a", "b", "c"]);
    assert_eq!(val(&mut c, cmd("LPOP").arg("l")), bulk("a"));
    assert_eq!(val(&mut c, cmd("RPOP").arg("l")), bulk("c"));
    assert_eq!(val(&mut c, cmd("RPOP").arg("l")), bulk("b"));
    assert_eq!(exists(&mut c, "l"), 0);
    assert_eq!(val(&mut c, cmd("LPOP").arg("l")), Value::Nil);
    assert_eq!(val(&mut c, cmd("RPOP").arg("l")), Value::Nil);
}

#[test]
fn pops_with_count_return_arrays_in_pop_order() {
    let srv = TestServer::start();
    let mut c = srv.client();
    rpush(&mut c, "l", &["a", "b", "c", "d", "e"]);
    assert_eq!(val(&mut c, cmd("LPOP").arg("l").arg(2)), bulks(&["a", "b"]));
    assert_eq!(val(&mut c, cmd("RPOP").arg("l").arg(2)), bulks(&["e", "d"]));
    assert_eq!(
        val(&mut c, cmd("LPOP").arg("l").arg(0)),
        Value::Array(vec![])
    );
    assert_eq!(val(&mut c, cmd("LPOP").arg("l").arg(1)), bulks(&["c"]));
    assert_eq!(exists(&mut c, "l"), 0);
    rpush(&mut c, "l", &["a", "b"]);
    assert_eq!(
        val(&mut c, cmd("RPOP").arg("l").arg(i64::MAX)),
        bulks(&["b", "a"])
    );
    assert_eq!(exists(&mut c, "l"), 0);
}

#[test]
fn pop_count_errors_come_before_the_key_lookup() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let msg = "ERR value is out of range, must be positive";
    for bad in ["-1", "x", "1.0", ""] {
        err(&mut c, cmd("LPOP").arg("missing").arg(bad), msg);
        err(&mut c, cmd("RPOP").arg("missing").arg(bad), msg);
    }
    set(&mut c, "s", "v");
    err(&mut c, cmd("LPOP").arg("s").arg("-1"), msg);
}

#[test]
fn pop_nil_shapes_are_exact_in_resp2_and_resp3() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"LPOP missing\r\n", b"$-1\r\n");
    raw.roundtrip(b"RPOP missing 1\r\n", b"*-1\r\n");
    raw.roundtrip(b"LPOP missing 0\r\n", b"*-1\r\n");
    raw.roundtrip(b"RPUSH l a\r\n", b":1\r\n");
    raw.roundtrip(b"LPOP l 0\r\n", b"*0\r\n");
    raw.roundtrip(b"LPOP l 5\r\n", b"*1\r\n$1\r\na\r\n");
    raw.roundtrip(b"LMPOP 1 l LEFT\r\n", b"*-1\r\n");
    raw.roundtrip(b"LMOVE l d LEFT LEFT\r\n", b"$-1\r\n");
    raw.roundtrip(b"LPOS l a\r\n", b"$-1\r\n");
    raw.roundtrip(b"LPOS l a COUNT 0\r\n", b"*0\r\n");
    raw.request(b"HELLO 3\r\n");
    raw.roundtrip(b"LPOP missing\r\n", b"_\r\n");
    raw.roundtrip(b"RPOP missing 2\r\n", b"_\r\n");
    raw.roundtrip(b"LINDEX missing 0\r\n", b"_\r\n");
    raw.roundtrip(b"LMPOP 2 a b RIGHT\r\n", b"_\r\n");
    raw.roundtrip(b"RPOPLPUSH a b\r\n", b"_\r\n");
    raw.roundtrip(b"RPUSH l a\r\n", b":1\r\n");
    raw.roundtrip(
        b"LMPOP 1 l RIGHT COUNT 3\r\n",
        b"*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n",
    );
}

#[test]
fn resp3_clients_get_the_same_values() {
    let srv = TestServer::start();
    let mut c = srv.client_resp3();
    rpush(&mut c, "l", &["a", "b"]);
    assert_eq!(val(&mut c, cmd("LPOP").arg("missing")), Value::Nil);
    assert_eq!(val(&mut c, cmd("LPOP").arg("missing").arg(2)), Value::Nil);
    assert_eq!(val(&mut c, cmd("LPOP").arg("l").arg(1)), bulks(&["a"]));
    assert_eq!(val(&mut c, cmd("LPOS").arg("l").arg("b")), Value::Int(0));
}

// ---------------------------------------------------------------------------------------------
// LSET LINSERT LREM LTRIM
// ---------------------------------------------------------------------------------------------

#[test]
fn lset_replaces_by_index() {
    let srv = TestServer::start();
    let mut c = srv.client();
    rpush(&mut c, "l", &["a", "b", "c"]);
    assert_eq!(
        val(&mut c, cmd("LSET").arg("l").arg(0).arg("A")),
        Value::Okay
    );
    assert_eq!(
        val(&mut c, cmd("LSET").arg("l").arg(-1).arg("C")),
        Value::Okay
    );
    assert_eq!(all(&mut c, "l"), ["A", "b", "C"]);
    let range = "ERR index out of range";
    err(&mut c, cmd("LSET").arg("l").arg(3).arg("x"), range);
    err(&mut c, cmd("LSET").arg("l").arg(-4).arg("x"), range);
    err(&mut c, cmd("LSET").arg("l").arg(i64::MIN).arg("x"), range);
    err(&mut c, cmd("LSET").arg("l").arg("x").arg("x"), NOT_INT);
    // A missing key is reported before the index is parsed.
    err(
        &mut c,
        cmd("LSET").arg("missing").arg("x").arg("v"),
        "ERR no such key",
    );
    err(
        &mut c,
        cmd("LSET").arg("missing").arg(0).arg("v"),
        "ERR no such key",
    );
    assert_eq!(all(&mut c, "l"), ["A", "b", "C"]);
    assert_eq!(exists(&mut c, "missing"), 0);
}

#[test]
fn linsert_places_around_the_first_pivot() {
    let srv = TestServer::start();
    let mut c = srv.client();
    rpush(&mut c, "l", &["a", "p", "b", "p"]);
    let ins = |c: &mut Connection, w: &str, p: &str, e: &str| -> i64 {
        int(c, cmd("LINSERT").arg("l").arg(w).arg(p).arg(e))
    };
    assert_eq!(ins(&mut c, "BEFORE", "p", "x"), 5);
    assert_eq!(ins(&mut c, "after", "p", "y"), 6);
    assert_eq!(all(&mut c, "l"), ["a", "x", "p", "y", "b", "p"]);
    assert_eq!(ins(&mut c, "AFTER", "zz", "y"), -1);
    assert_eq!(ins(&mut c, "Before", "a", "first"), 7);
    assert_eq!(ins(&mut c, "AFTER", "p", "last"), 8);
    assert_eq!(
        int(
            &mut c,
            cmd("LINSERT")
                .arg("missing")
                .arg("BEFORE")
                .arg("a")
                .arg("b")
        ),
        0
    );
    assert_eq!(exists(&mut c, "missing"), 0);
    err(
        &mut c,
        cmd("LINSERT").arg("l").arg("MIDDLE").arg("a").arg("b"),
        "ERR syntax error",
    );
    err(
        &mut c,
        cmd("LINSERT")
            .arg("missing")
            .arg("MIDDLE")
            .arg("a")
            .arg("b"),
        "ERR syntax error",
    );
}

#[test]
fn lrem_removes_by_count_from_either_end() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let fresh = |c: &mut Connection| {
        let _: () = cmd("DEL").arg("l").query(c).unwrap();
        rpush(c, "l", &["x", "a", "x", "b", "x", "c", "x"]);
    };
    fresh(&mut c);
    assert_eq!(int(&mut c, cmd("LREM").arg("l").arg(2).arg("x")), 2);
    assert_eq!(all(&mut c, "l"), ["a", "b", "x", "c", "x"]);
    fresh(&mut c);
    assert_eq!(int(&mut c, cmd("LREM").arg("l").arg(-3).arg("x")), 3);
    assert_eq!(all(&mut c, "l"), ["x", "a", "b", "c"]);
    fresh(&mut c);
    assert_eq!(int(&mut c, cmd("LREM").arg("l").arg(0).arg("x")), 4);
    assert_eq!(all(&mut c, "l"), ["a", "b", "c"]);
    assert_eq!(int(&mut c, cmd("LREM").arg("l").arg(0).arg("nope")), 0);
    assert_eq!(int(&mut c, cmd("LREM").arg("l").arg(i64::MIN).arg("a")), 1);
    assert_eq!(int(&mut c, cmd("LREM").arg("missing").arg(1).arg("a")), 0);
    // Removing every element deletes the key.
    assert_eq!(int(&mut c, cmd("LREM").arg("l").arg(0).arg("b")), 1);
    assert_eq!(int(&mut c, cmd("LREM").arg("l").arg(0).arg("c")), 1);
    assert_eq!(exists(&mut c, "l"), 0);
    err(
        &mut c,
        cmd("LREM").arg("missing").arg("x").arg("a"),
        NOT_INT,
    );
}

#[test]
fn ltrim_keeps_a_range_and_deletes_when_nothing_is_left() {
    let srv = TestServer::start();
    let mut c = srv.client();
    rpush(&mut c, "l", &["a", "b", "c", "d", "e"]);
    assert_eq!(
        val(&mut c, cmd("LTRIM").arg("l").arg(1).arg(-2)),
        Value::Okay
    );
    assert_eq!(all(&mut c, "l"), ["b", "c", "d"]);
    assert_eq!(
        val(&mut c, cmd("LTRIM").arg("l").arg(-100).arg(100)),
        Value::Okay
    );
    assert_eq!(all(&mut c, "l"), ["b", "c", "d"]);
    assert_eq!(
        val(&mut c, cmd("LTRIM").arg("l").arg(1).arg(1)),
        Value::Okay
    );
    assert_eq!(all(&mut c, "l"), ["c"]);
    assert_eq!(
        val(&mut c, cmd("LTRIM").arg("l").arg(2).arg(1)),
        Value::Okay
    );
    assert_eq!(exists(&mut c, "l"), 0);
    assert_eq!(
        val(&mut c, cmd("LTRIM").arg("missing").arg(0).arg(1)),
        Value::Okay
    );
    assert_eq!(exists(&mut c, "missing"), 0);
    err(&mut c, cmd("LTRIM").arg("missing").arg(0).arg("y"), NOT_INT);
}

// ---------------------------------------------------------------------------------------------
// LPOS
// ---------------------------------------------------------------------------------------------

#[test]
fn lpos_finds_matches_by_rank_count_and_maxlen() {
    let srv = TestServer::start();
    let mut c = srv.client();
    rpush(&mut c, "l", &["a", "b", "c", "1", "2", "3", "c", "c"]);
    let q = |c: &mut Connection, opts: &[&str]| val(c, cmd("LPOS").arg("l").arg("c").arg(opts));
    let ints = |v: &[i64]| Value::Array(v.iter().map(|i| Value::Int(*i)).collect());
    assert_eq!(q(&mut c, &[]), Value::Int(2));
    assert_eq!(q(&mut c, &["RANK", "2"]), Value::Int(6));
    assert_eq!(q(&mut c, &["RANK", "-1"]), Value::Int(7));
    assert_eq!(q(&mut c, &["RANK", "-3"]), Value::Int(2));
    assert_eq!(q(&mut c, &["RANK", "4"]), Value::Nil);
    assert_eq!(q(&mut c, &["COUNT", "2"]), ints(&[2, 6]));
    assert_eq!(q(&mut c, &["COUNT", "0"]), ints(&[2, 6, 7]));
    assert_eq!(q(&mut c, &["COUNT", "0", "RANK", "2"]), ints(&[6, 7]));
    assert_eq!(q(&mut c, &["COUNT", "0", "RANK", "-1"]), ints(&[7, 6, 2]));
    assert_eq!(q(&mut c, &["COUNT", "1", "RANK", "-2"]), ints(&[6]));
    assert_eq!(q(&mut c, &["RANK", "9", "COUNT", "0"]), ints(&[]));
    assert_eq!(q(&mut c, &["MAXLEN", "2"]), Value::Nil);
    assert_eq!(q(&mut c, &["MAXLEN", "3"]), Value::Int(2));
    assert_eq!(q(&mut c, &["COUNT", "0", "MAXLEN", "7"]), ints(&[2, 6]));
    assert_eq!(q(&mut c, &["RANK", "-1", "MAXLEN", "1"]), Value::Int(7));
    assert_eq!(q(&mut c, &["RANK", "-1", "RANK", "1"]), Value::Int(2));
    assert_eq!(val(&mut c, cmd("LPOS").arg("missing").arg("c")), Value::Nil);
    assert_eq!(
        val(
            &mut c,
            cmd("LPOS").arg("missing").arg("c").arg("COUNT").arg(1)
        ),
        ints(&[])
    );
}

#[test]
fn lpos_rejects_bad_options_before_the_lookup() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let q = |opts: &[&str]| {
        let mut x = cmd("LPOS");
        x.arg("missing").arg("c").arg(opts);
        x
    };
    err(&mut c, &mut q(&["RANK", "0"]), "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
    err(&mut c, &mut q(&["RANK", "x"]), NOT_INT);
    err(
        &mut c,
        &mut q(&["RANK", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
    );
    err(
        &mut c,
        &mut q(&["COUNT", "-1"]),
        "ERR COUNT can't be negative",
    );
    err(
        &mut c,
        &mut q(&["COUNT", "x"]),
        "ERR COUNT can't be negative",
    );
    err(
        &mut c,
        &mut q(&["MAXLEN", "-1"]),
        "ERR MAXLEN can't be negative",
    );
    err(&mut c, &mut q(&["RANK"]), "ERR syntax error");
    err(&mut c, &mut q(&["FOO", "1"]), "ERR syntax error");
    err(
        &mut c,
        &mut q(&["COUNT", "1", "MAXLEN"]),
        "ERR syntax error",
    );
}

// ---------------------------------------------------------------------------------------------
// LMOVE RPOPLPUSH
// ---------------------------------------------------------------------------------------------

#[test]
fn lmove_moves_between_every_pair_of_ends() {
    let srv = TestServer::start();
    let mut c = srv.client();
    rpush(&mut c, "src", &["1", "2", "3", "4"]);
    rpush(&mut c, "dst", &["x"]);
    let mv = |c: &mut Connection, from: &str, to: &str| -> Value {
        val(c, cmd("LMOVE").arg("src").arg("dst").arg(from).arg(to))
    };
    assert_eq!(mv(&mut c, "LEFT", "LEFT"), bulk("1"));
    assert_eq!(mv(&mut c, "right", "right"), bulk("4"));
    assert_eq!(mv(&mut c, "Left", "RIGHT"), bulk("2"));
    assert_eq!(mv(&mut c, "RIGHT", "LEFT"), bulk("3"));
    assert_eq!(all(&mut c, "dst"), ["3", "1", "x", "4", "2"]);
    assert_eq!(exists(&mut c, "src"), 0);
    assert_eq!(mv(&mut c, "LEFT", "LEFT"), Value::Nil);
    err(
        &mut c,
        cmd("LMOVE").arg("a").arg("b").arg("UP").arg("LEFT"),
        "ERR syntax error",
    );
    err(
        &mut c,
        cmd("LMOVE").arg("a").arg("b").arg("LEFT").arg("DOWN"),
        "ERR syntax error",
    );
}

#[test]
fn lmove_creates_the_destination_and_rotates_in_place() {
    let srv = TestServer::start();
    let mut c = srv.client();
    rpush(&mut c, "l", &["a", "b", "c"]);
    int(&mut c, cmd("PEXPIRE").arg("l").arg(100_000));
    assert_eq!(
        val(
            &mut c,
            cmd("LMOVE").arg("l").arg("l").arg("LEFT").arg("RIGHT")
        ),
        bulk("a")
    );
    assert_eq!(all(&mut c, "l"), ["b", "c", "a"]);
    assert_eq!(val(&mut c, cmd("RPOPLPUSH").arg("l").arg("l")), bulk("a"));
    assert_eq!(all(&mut c, "l"), ["a", "b", "c"]);
    // A one-element list rotating onto itself is never deleted and keeps its TTL.
    let _: () = cmd("LTRIM").arg("l").arg(0).arg(0).query(&mut c).unwrap();
    assert_eq!(val(&mut c, cmd("RPOPLPUSH").arg("l").arg("l")), bulk("a"));
    assert_eq!(all(&mut c, "l"), ["a"]);
    assert!(pttl(&mut c, "l") > 90_000);
    // Moving the last element elsewhere deletes the source and creates the destination.
    assert_eq!(val(&mut c, cmd("RPOPLPUSH").arg("l").arg("new")), bulk("a"));
    assert_eq!(exists(&mut c, "l"), 0);
    assert_eq!(all(&mut c, "new"), ["a"]);
    assert_eq!(pttl(&mut c, "new"), -1);
}

#[test]
fn lmove_checks_the_source_before_the_destination() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "s", "v");
    // A missing source answers nil whatever the destination holds.
    assert_eq!(
        val(
            &mut c,
            cmd("LMOVE").arg("missing").arg("s").arg("LEFT").arg("LEFT")
        ),
        Value::Nil
    );
    assert_eq!(
        val(&mut c, cmd("RPOPLPUSH").arg("missing").arg("s")),
        Value::Nil
    );
    rpush(&mut c, "l", &["a"]);
    err(
        &mut c,
        cmd("LMOVE").arg("l").arg("s").arg("LEFT").arg("LEFT"),
        WRONGTYPE,
    );
    err(&mut c, cmd("RPOPLPUSH").arg("l").arg("s"), WRONGTYPE);
    // Nothing moved.
    assert_eq!(all(&mut c, "l"), ["a"]);
    assert_eq!(common::get_str(&mut c, "s").as_deref(), Some("v"));
}

// ---------------------------------------------------------------------------------------------
// LMPOP
// ---------------------------------------------------------------------------------------------

#[test]
fn lmpop_pops_from_the_first_non_empty_list() {
    let srv = TestServer::start();
    let mut c = srv.client();
    rpush(&mut c, "b", &["1", "2", "3"]);
    rpush(&mut c, "c", &["x"]);
    let pair = |k: &str, items: &[&str]| Value::Array(vec![bulk(k), bulks(items)]);
    assert_eq!(
        val(
            &mut c,
            cmd("LMPOP").arg(3).arg("a").arg("b").arg("c").arg("LEFT")
        ),
        pair("b", &["1"])
    );
    assert_eq!(
        val(
            &mut c,
            cmd("LMPOP")
                .arg(2)
                .arg("b")
                .arg("c")
                .arg("right")
                .arg("COUNT")
                .arg(5)
        ),
        pair("b", &["3", "2"])
    );
    assert_eq!(exists(&mut c, "b"), 0);
    assert_eq!(
        val(
            &mut c,
            cmd("LMPOP")
                .arg(2)
                .arg("b")
                .arg("c")
                .arg("LEFT")
                .arg("count")
                .arg(1)
        ),
        pair("c", &["x"])
    );
    assert_eq!(dbsize(&mut c), 0);
    assert_eq!(
        val(&mut c, cmd("LMPOP").arg(2).arg("b").arg("c").arg("LEFT")),
        Value::Nil
    );
    // A list found before a key of another type wins; the other key is not looked at.
    rpush(&mut c, "l", &["v"]);
    set(&mut c, "s", "v");
    assert_eq!(
        val(&mut c, cmd("LMPOP").arg(2).arg("l").arg("s").arg("LEFT")),
        pair("l", &["v"])
    );
}

#[test]
fn lmpop_rejects_malformed_arguments() {
    let srv = TestServer::start();
    let mut c = srv.client();
    rpush(&mut c, "l", &["a"]);
    let numkeys = "ERR numkeys should be greater than 0";
    let count = "ERR count should be greater than 0";
    let syntax = "ERR syntax error";
    let cases: &[(&[&str], &str)] = &[
        (&["0", "l", "LEFT"], numkeys),
        (&["-1", "l", "LEFT"], numkeys),
        (&["x", "l", "LEFT"], numkeys),
        (&["2", "l", "LEFT"], syntax),
        (&["99999999999", "l", "LEFT"], syntax),
        (&["9223372036854775807", "l", "LEFT"], syntax),
        (&["1", "l", "MIDDLE"], syntax),
        (&["1", "l", "LEFT", "COUNT", "0"], count),
        (&["1", "l", "LEFT", "COUNT", "x"], count),
        (&["1", "l", "LEFT", "COUNT", "-3"], count),
        (&["1", "l", "LEFT", "COUNT"], syntax),
        (&["1", "l", "LEFT", "COUNT", "1", "COUNT", "1"], syntax),
        (&["1", "l", "LEFT", "FOO"], syntax),
    ];
    for (args, text) in cases {
        err(&mut c, cmd("LMPOP").arg(*args), text);
    }
    assert_eq!(all(&mut c, "l"), ["a"]);
}

// ---------------------------------------------------------------------------------------------
// OBJECT ENCODING
// ---------------------------------------------------------------------------------------------

#[test]
fn encoding_by_entry_count_converts_and_converts_back_at_half() {
    let srv = TestServer::start();
    let mut c = srv.client();
    config_set(&mut c, "list-max-listpack-size", "4");
    rpush(&mut c, "l", &["1", "2", "3", "4"]);
    assert_eq!(encoding(&mut c, "l"), "listpack");
    rpush(&mut c, "l", &["5"]);
    assert_eq!(encoding(&mut c, "l"), "quicklist");
    // Shrinking to 3 is not enough (half of 4 is 2).
    val(&mut c, cmd("RPOP").arg("l").arg(2));
    assert_eq!(encoding(&mut c, "l"), "quicklist");
    val(&mut c, cmd("LPOP").arg("l"));
    assert_eq!(encoding(&mut c, "l"), "listpack");
    // One push of several elements is sized as a whole, before it happens.
    rpush(&mut c, "m", &["a", "b", "c", "d", "e"]);
    assert_eq!(encoding(&mut c, "m"), "quicklist");
    int(&mut c, cmd("LREM").arg("m").arg(0).arg("a"));
    int(&mut c, cmd("LREM").arg("m").arg(0).arg("b"));
    assert_eq!(encoding(&mut c, "m"), "quicklist");
    let _: () = cmd("LTRIM").arg("m").arg(0).arg(1).query(&mut c).unwrap();
    assert_eq!(encoding(&mut c, "m"), "listpack");
    // LINSERT sizes for the insert even when the pivot is missing, as Redis does.
    rpush(&mut c, "n", &["a", "b", "c", "d"]);
    assert_eq!(
        int(
            &mut c,
            cmd("LINSERT").arg("n").arg("BEFORE").arg("zz").arg("x")
        ),
        -1
    );
    assert_eq!(encoding(&mut c, "n"), "quicklist");
}

#[test]
fn encoding_by_size_class_follows_element_bytes() {
    let srv = TestServer::start();
    let mut c = srv.client();
    // Default -2: 8 KB.
    let elem = "x".repeat(1000);
    for _ in 0..8 {
        int(&mut c, cmd("RPUSH").arg("l").arg(&elem));
    }
    assert_eq!(encoding(&mut c, "l"), "listpack");
    int(&mut c, cmd("RPUSH").arg("l").arg(&elem));
    assert_eq!(encoding(&mut c, "l"), "quicklist");
    // Back to a listpack at 4 KB.
    val(&mut c, cmd("LPOP").arg("l").arg(4));
    assert_eq!(encoding(&mut c, "l"), "quicklist");
    val(&mut c, cmd("LPOP").arg("l"));
    assert_eq!(encoding(&mut c, "l"), "listpack");
    // One big element converts at once; LSET to a small one converts back.
    int(&mut c, cmd("RPUSH").arg("big").arg("x".repeat(9000)));
    assert_eq!(encoding(&mut c, "big"), "quicklist");
    val(&mut c, cmd("LSET").arg("big").arg(0).arg("small"));
    assert_eq!(encoding(&mut c, "big"), "listpack");
    // A smaller size class (-1: 4 KB) applies to new writes.
    config_set(&mut c, "list-max-listpack-size", "-1");
    int(&mut c, cmd("RPUSH").arg("s").arg("y".repeat(4100)));
    assert_eq!(encoding(&mut c, "s"), "quicklist");
    // LMOVE sizes the destination for the element it receives.
    int(&mut c, cmd("RPUSH").arg("d").arg("small"));
    assert_eq!(encoding(&mut c, "d"), "listpack");
    val(
        &mut c,
        cmd("LMOVE").arg("s").arg("d").arg("LEFT").arg("LEFT"),
    );
    assert_eq!(encoding(&mut c, "d"), "quicklist");
}

#[test]
fn restore_settles_the_encoding_and_keeps_the_elements() {
    let srv = TestServer::start();
    let mut c = srv.client();
    config_set(&mut c, "list-max-listpack-size", "3");
    rpush(&mut c, "l", &["a", "b", "c", "d"]);
    assert_eq!(encoding(&mut c, "l"), "quicklist");
    val(&mut c, cmd("RPOP").arg("l").arg(2));
    // Two elements: above half the limit, so still a quicklist...
    assert_eq!(encoding(&mut c, "l"), "quicklist");
    // ...but a restored copy is judged against the full limit, as Redis does when loading.
    let dump: Vec<u8> = cmd("DUMP").arg("l").query(&mut c).unwrap();
    let r: Value = cmd("RESTORE")
        .arg("copy")
        .arg(0)
        .arg(dump)
        .query(&mut c)
        .unwrap();
    assert_eq!(r, Value::Okay);
    assert_eq!(all(&mut c, "copy"), ["a", "b"]);
    assert_eq!(encoding(&mut c, "copy"), "listpack");
}

#[test]
fn memory_is_given_back_as_lists_shrink() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let usage =
        |c: &mut Connection| -> i64 { cmd("MEMORY").arg("USAGE").arg("l").query(c).unwrap() };
    let elem = "e".repeat(100);
    for _ in 0..100 {
        int(
            &mut c,
            cmd("RPUSH").arg("l").arg(&elem).arg(&elem).arg(&elem),
        );
    }
    let full = usage(&mut c);
    assert!(full > 300 * 100, "usage {full}");
    val(&mut c, cmd("LPOP").arg("l").arg(290));
    let small = usage(&mut c);
    assert!(small < full / 4, "usage {small} after popping from {full}");
    val(&mut c, cmd("LPOP").arg("l").arg(10));
    assert_eq!(dbsize(&mut c), 0);
}
