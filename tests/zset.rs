//! Sorted-set commands end to end: ZADD (NX XX GT LT CH INCR), ZINCRBY, ZREM, ZCARD, ZCOUNT,
//! ZSCORE, ZMSCORE, ZRANK/ZREVRANK (WITHSCORE), the ZRANGE family (BYSCORE BYLEX REV LIMIT
//! WITHSCORES, ZRANGESTORE and the deprecated variants), ZLEXCOUNT, ZPOPMIN/ZPOPMAX/ZMPOP,
//! ZREMRANGEBY*, ZUNION/ZINTER/ZDIFF and their STORE forms, ZINTERCARD, ZRANDMEMBER, ZSCAN,
//! the listpack → skiplist conversion, and RESP3 reply shapes byte for byte.
//!
//! Expected replies and error texts are Redis 7.2's (checked against a real redis-server 7.0
//! where the two agree; score formatting and ZRANK WITHSCORE follow 7.2's source).
mod common;

use common::{arity, assert_err_exact, dbsize, exists, TestServer};
use redis::{Cmd, Connection, Value};

/// Builds a command from a space-separated line.
fn c(line: &str) -> Cmd {
    let mut parts = line.split(' ');
    let mut cmd = redis::cmd(parts.next().expect("name"));
    for p in parts {
        cmd.arg(p);
    }
    cmd
}

fn q(con: &mut Connection, line: &str) -> Value {
    c(line).query(con).unwrap_or_else(|e| panic!("{line}: {e}"))
}

fn n(con: &mut Connection, line: &str) -> i64 {
    c(line).query(con).unwrap_or_else(|e| panic!("{line}: {e}"))
}

/// A reply flattened to strings (nested arrays inlined, nil as "(nil)").
fn s(v: Value) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(v: Value, out: &mut Vec<String>) {
        match v {
            Value::BulkString(b) => out.push(String::from_utf8(b).expect("utf8")),
            Value::SimpleString(t) => out.push(t),
            Value::Int(i) => out.push(i.to_string()),
            Value::Double(d) => out.push(format!("d:{d}")),
            Value::Nil => out.push("(nil)".into()),
            Value::Array(items) | Value::Set(items) => items.into_iter().for_each(|i| walk(i, out)),
            other => panic!("unexpected {other:?}"),
        }
    }
    walk(v, &mut out);
    out
}

fn sq(con: &mut Connection, line: &str) -> Vec<String> {
    s(q(con, line))
}

fn err(con: &mut Connection, line: &str, text: &str) {
    assert_err_exact(con, &mut c(line), text);
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const SYNTAX: &str = "ERR syntax error";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const NOT_FLOAT: &str = "ERR value is not a valid float";
const MINMAX: &str = "ERR min or max is not a float";
const LEXERR: &str = "ERR min or max not valid string range item";

/// Creates a plain set (the set commands are another family's) by RESTOREing its DUMP.
fn make_set(con: &mut Connection, key: &str, members: &[&str]) {
    use tenantkv::storage::{dump, value};
    let mut set = value::SetValue::new();
    for m in members {
        set.insert(m.as_bytes());
    }
    let payload = dump::serialize(&value::Value::Set(Box::new(set)));
    let _: () = redis::cmd("RESTORE")
        .arg(key)
        .arg(0)
        .arg(payload)
        .query(con)
        .expect("RESTORE");
}

fn setup() -> (TestServer, Connection) {
    let srv = TestServer::start();
    let con = srv.client();
    (srv, con)
}

// ---------------------------------------------------------------------------------------------
// ZADD / ZINCRBY
// ---------------------------------------------------------------------------------------------

#[test]
fn zadd_adds_updates_and_counts() {
    let (_s, mut k) = setup();
    assert_eq!(n(&mut k, "ZADD z 1 a 2 b 3 c"), 3);
    assert_eq!(n(&mut k, "ZADD z 1 a 5 b 4 d"), 1);
    assert_eq!(n(&mut k, "ZADD z CH 1 a 6 b 7 e"), 2);
    assert_eq!(
        sq(&mut k, "ZRANGE z 0 -1 WITHSCORES"),
        ["a", "1", "c", "3", "d", "4", "b", "6", "e", "7"]
    );
    // Equal scores order by member bytes; duplicates in one call: the last wins.
    assert_eq!(n(&mut k, "ZADD y 0 b 0 a 0 c 5 a"), 3);
    assert_eq!(sq(&mut k, "ZRANGE y 0 -1"), ["b", "c", "a"]);
    assert_eq!(q(&mut k, "TYPE z"), Value::SimpleString("zset".into()));
}

#[test]
fn zadd_conditions_nx_xx_gt_lt() {
    let (_s, mut k) = setup();
    n(&mut k, "ZADD z 5 a");
    assert_eq!(n(&mut k, "ZADD z NX 1 a 1 b"), 1);
    assert_eq!(sq(&mut k, "ZSCORE z a"), ["5"]);
    assert_eq!(n(&mut k, "ZADD z XX CH 2 a 2 c"), 1);
    assert_eq!(sq(&mut k, "ZMSCORE z a c"), ["2", "(nil)"]);
    assert_eq!(n(&mut k, "ZADD z GT CH 1 a 3 b"), 1);
    assert_eq!(sq(&mut k, "ZMSCORE z a b"), ["2", "3"]);
    assert_eq!(n(&mut k, "ZADD z LT CH 9 a 0 b 7 new"), 2);
    assert_eq!(sq(&mut k, "ZMSCORE z a b new"), ["2", "0", "7"]);
    // XX on a missing key creates nothing.
    assert_eq!(n(&mut k, "ZADD missing XX 1 a"), 0);
    assert_eq!(exists(&mut k, "missing"), 0);
    assert_eq!(q(&mut k, "ZADD missing XX INCR 1 a"), Value::Nil);
    assert_eq!(exists(&mut k, "missing"), 0);
}

#[test]
fn zadd_incr_and_zincrby() {
    let (_s, mut k) = setup();
    assert_eq!(sq(&mut k, "ZADD z INCR 1.5 a"), ["1.5"]);
    assert_eq!(sq(&mut k, "ZADD z INCR 1.5 a"), ["3"]);
    assert_eq!(sq(&mut k, "ZINCRBY z -0.5 a"), ["2.5"]);
    assert_eq!(sq(&mut k, "ZINCRBY z 10 b"), ["10"]);
    assert_eq!(q(&mut k, "ZADD z NX INCR 1 a"), Value::Nil);
    assert_eq!(q(&mut k, "ZADD z GT INCR -1 a"), Value::Nil);
    assert_eq!(sq(&mut k, "ZADD z GT INCR 1 a"), ["3.5"]);
    assert_eq!(sq(&mut k, "ZINCRBY z 0.1 c"), ["0.1"]);
    assert_eq!(sq(&mut k, "ZINCRBY z 0.2 c"), ["0.30000000000000004"]);
    assert_eq!(sq(&mut k, "ZINCRBY z inf d"), ["inf"]);
    err(
        &mut k,
        "ZINCRBY z -inf d",
        "ERR resulting score is not a number (NaN)",
    );
    assert_eq!(sq(&mut k, "ZSCORE z d"), ["inf"]);
    assert_eq!(
        sq(&mut k, "ZADD z 1e21 e -1.5e-7 f 123456.7890123 g"),
        ["3"]
    );
    assert_eq!(
        sq(&mut k, "ZMSCORE z e f g"),
        ["1e+21", "-1.5e-7", "1.234567890123e+5"]
    );
}

#[test]
fn zadd_rejects_bad_input() {
    let (_s, mut k) = setup();
    err(&mut k, "ZADD z", &arity("zadd"));
    err(&mut k, "ZADD z 1", &arity("zadd"));
    err(&mut k, "ZADD z 1 a 2", SYNTAX);
    err(&mut k, "ZADD z NX 1", SYNTAX);
    err(&mut k, "ZADD z x a", NOT_FLOAT);
    err(&mut k, "ZADD z nan a", NOT_FLOAT);
    err(&mut k, "ZADD z 1 a x b", NOT_FLOAT);
    // Out of a double's range, as Redis's strtod check finds (infinity by name is a score).
    err(&mut k, "ZADD z 1e309 a", NOT_FLOAT);
    err(&mut k, "ZADD z -1e309 a", NOT_FLOAT);
    err(&mut k, "ZADD z 1e-400 a", NOT_FLOAT);
    err(&mut k, "ZADD z INCR 1e309 a", NOT_FLOAT);
    err(&mut k, "ZINCRBY z 1e309 a", NOT_FLOAT);
    err(
        &mut k,
        "ZADD z NX XX 1 a",
        "ERR XX and NX options at the same time are not compatible",
    );
    err(
        &mut k,
        "ZADD z NX GT 1 a",
        "ERR GT, LT, and/or NX options at the same time are not compatible",
    );
    err(
        &mut k,
        "ZADD z GT LT 1 a",
        "ERR GT, LT, and/or NX options at the same time are not compatible",
    );
    err(
        &mut k,
        "ZADD z INCR 1 a 2 b",
        "ERR INCR option supports a single increment-element pair",
    );
    assert_eq!(exists(&mut k, "z"), 0, "a refused ZADD changes nothing");
    assert_eq!(n(&mut k, "ZADD inf +inf a -inf b 1e308 c"), 3);
    q(&mut k, "DEL inf");
    err(&mut k, "ZINCRBY z x a", NOT_FLOAT);
    err(&mut k, "ZINCRBY z 1", &arity("zincrby"));
    q(&mut k, "SET s v");
    err(&mut k, "ZADD s 1 a", WRONGTYPE);
    err(&mut k, "ZINCRBY s 1 a", WRONGTYPE);
}

// ---------------------------------------------------------------------------------------------
// Reads and removals
// ---------------------------------------------------------------------------------------------

#[test]
fn zrem_zcard_zscore_zmscore() {
    let (_s, mut k) = setup();
    n(&mut k, "ZADD z 1 a 2 b 3 c");
    assert_eq!(n(&mut k, "ZCARD z"), 3);
    assert_eq!(n(&mut k, "ZCARD nokey"), 0);
    assert_eq!(n(&mut k, "ZREM z a x a"), 1);
    assert_eq!(n(&mut k, "ZREM nokey a"), 0);
    assert_eq!(q(&mut k, "ZSCORE z a"), Value::Nil);
    assert_eq!(q(&mut k, "ZSCORE nokey a"), Value::Nil);
    assert_eq!(sq(&mut k, "ZMSCORE nokey a b"), ["(nil)", "(nil)"]);
    assert_eq!(n(&mut k, "ZREM z b c"), 2);
    assert_eq!(exists(&mut k, "z"), 0, "emptied sets are deleted");
    q(&mut k, "SET s v");
    for line in ["ZREM s a", "ZCARD s", "ZSCORE s a", "ZMSCORE s a"] {
        err(&mut k, line, WRONGTYPE);
    }
    err(&mut k, "ZREM z", &arity("zrem"));
    err(&mut k, "ZCARD", &arity("zcard"));
    err(&mut k, "ZSCORE z", &arity("zscore"));
    err(&mut k, "ZMSCORE z", &arity("zmscore"));
}

#[test]
fn zcount_and_zlexcount_bounds() {
    let (_s, mut k) = setup();
    n(&mut k, "ZADD z 1 a 2 b 3 c 4 d");
    assert_eq!(n(&mut k, "ZCOUNT z -inf +inf"), 4);
    assert_eq!(n(&mut k, "ZCOUNT z (1 3"), 2);
    assert_eq!(n(&mut k, "ZCOUNT z (1 (3"), 1);
    assert_eq!(n(&mut k, "ZCOUNT z 3 1"), 0);
    assert_eq!(n(&mut k, "ZCOUNT z (2 (2"), 0);
    assert_eq!(n(&mut k, "ZCOUNT nokey 0 1"), 0);
    err(&mut k, "ZCOUNT z x 1", MINMAX);
    err(&mut k, "ZCOUNT z ( 1", MINMAX);
    n(&mut k, "ZADD l 0 a 0 b 0 c 0 d");
    assert_eq!(n(&mut k, "ZLEXCOUNT l - +"), 4);
    assert_eq!(n(&mut k, "ZLEXCOUNT l [b (d"), 2);
    assert_eq!(n(&mut k, "ZLEXCOUNT l (a [c"), 2);
    assert_eq!(n(&mut k, "ZLEXCOUNT l + -"), 0);
    err(&mut k, "ZLEXCOUNT l a +", LEXERR);
    q(&mut k, "SET s v");
    err(&mut k, "ZCOUNT s 0 1", WRONGTYPE);
    err(&mut k, "ZLEXCOUNT s - +", WRONGTYPE);
    err(&mut k, "ZCOUNT z 0", &arity("zcount"));
}

#[test]
fn zrank_zrevrank_with_score() {
    let (_s, mut k) = setup();
    n(&mut k, "ZADD z 1 a 2 b 3.5 c");
    assert_eq!(n(&mut k, "ZRANK z a"), 0);
    assert_eq!(n(&mut k, "ZREVRANK z a"), 2);
    assert_eq!(sq(&mut k, "ZRANK z c WITHSCORE"), ["2", "3.5"]);
    assert_eq!(sq(&mut k, "ZREVRANK z c withscore"), ["0", "3.5"]);
    assert_eq!(q(&mut k, "ZRANK z x"), Value::Nil);
    assert_eq!(q(&mut k, "ZRANK nokey x WITHSCORE"), Value::Nil);
    err(&mut k, "ZRANK z a foo", SYNTAX);
    err(&mut k, "ZRANK z a WITHSCORE x", SYNTAX);
    err(&mut k, "ZRANK z", &arity("zrank"));
    q(&mut k, "SET s v");
    err(&mut k, "ZRANK s a", WRONGTYPE);
    err(&mut k, "ZREVRANK s a", WRONGTYPE);
}

// ---------------------------------------------------------------------------------------------
// The ZRANGE family
// ---------------------------------------------------------------------------------------------

#[test]
fn zrange_by_rank() {
    let (_s, mut k) = setup();
    n(&mut k, "ZADD z 1 a 2 b 3 c 4 d");
    assert_eq!(sq(&mut k, "ZRANGE z 0 -1"), ["a", "b", "c", "d"]);
    assert_eq!(sq(&mut k, "ZRANGE z 1 2 WITHSCORES"), ["b", "2", "c", "3"]);
    assert_eq!(sq(&mut k, "ZRANGE z -2 -1"), ["c", "d"]);
    assert_eq!(sq(&mut k, "ZRANGE z -100 100"), ["a", "b", "c", "d"]);
    assert!(sq(&mut k, "ZRANGE z 3 1").is_empty());
    assert!(sq(&mut k, "ZRANGE z 5 10").is_empty());
    assert_eq!(sq(&mut k, "ZRANGE z 0 1 REV"), ["d", "c"]);
    assert_eq!(sq(&mut k, "ZREVRANGE z 0 0 WITHSCORES"), ["d", "4"]);
    assert_eq!(sq(&mut k, "ZREVRANGE z -1 -1"), ["a"]);
    assert!(sq(&mut k, "ZRANGE nokey 0 -1").is_empty());
    err(&mut k, "ZRANGE z x 1", NOT_INT);
    err(&mut k, "ZRANGE nokey x 1", NOT_INT);
    err(
        &mut k,
        "ZRANGE z 0 1 LIMIT 0 1",
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
    );
    err(
        &mut k,
        "ZREVRANGE z 0 1 LIMIT 0 1",
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
    );
    err(&mut k, "ZRANGE z 0 1 REV REV", SYNTAX);
    err(&mut k, "ZREVRANGE z 0 1 REV", SYNTAX);
    err(&mut k, "ZRANGE z 0 1 foo", SYNTAX);
    err(&mut k, "ZRANGE z 0", &arity("zrange"));
    q(&mut k, "SET s v");
    err(&mut k, "ZRANGE s 0 1", WRONGTYPE);
}

#[test]
fn zrange_by_score_with_limit_and_rev() {
    let (_s, mut k) = setup();
    n(&mut k, "ZADD z 1 a 2 b 3 c 4 d 5 e");
    assert_eq!(sq(&mut k, "ZRANGE z (1 4 BYSCORE"), ["b", "c", "d"]);
    assert_eq!(
        sq(&mut k, "ZRANGE z -inf +inf BYSCORE LIMIT 1 2 WITHSCORES"),
        ["b", "2", "c", "3"]
    );
    assert_eq!(sq(&mut k, "ZRANGE z 4 (1 BYSCORE REV"), ["d", "c", "b"]);
    assert_eq!(
        sq(&mut k, "ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2"),
        ["d", "c"]
    );
    assert_eq!(
        sq(&mut k, "ZRANGE z -inf +inf BYSCORE LIMIT 3 -1"),
        ["d", "e"]
    );
    assert!(sq(&mut k, "ZRANGE z -inf +inf BYSCORE LIMIT -1 2").is_empty());
    assert!(sq(&mut k, "ZRANGE z -inf +inf BYSCORE LIMIT 0 0").is_empty());
    assert!(sq(&mut k, "ZRANGE z 4 1 BYSCORE").is_empty());
    assert_eq!(
        sq(&mut k, "ZRANGEBYSCORE z 2 3 WITHSCORES"),
        ["b", "2", "c", "3"]
    );
    assert_eq!(sq(&mut k, "ZRANGEBYSCORE z 2 +inf LIMIT 1 1"), ["c"]);
    assert_eq!(sq(&mut k, "ZREVRANGEBYSCORE z 3 (1"), ["c", "b"]);
    assert_eq!(
        sq(&mut k, "ZREVRANGEBYSCORE z +inf -inf WITHSCORES LIMIT 0 1"),
        ["e", "5"]
    );
    err(&mut k, "ZRANGE z x 1 BYSCORE", MINMAX);
    err(&mut k, "ZRANGE nokey x 1 BYSCORE", MINMAX);
    err(&mut k, "ZRANGEBYSCORE z 1 2 LIMIT x 1", NOT_INT);
    err(&mut k, "ZRANGEBYSCORE z 1 2 LIMIT 0", SYNTAX);
    err(&mut k, "ZRANGE z 0 1 BYSCORE BYLEX", SYNTAX);
    err(&mut k, "ZRANGEBYSCORE z 1 2 BYSCORE", SYNTAX);
}

#[test]
fn zrange_by_lex() {
    let (_s, mut k) = setup();
    n(&mut k, "ZADD z 0 a 0 b 0 c 0 d 0 e");
    assert_eq!(sq(&mut k, "ZRANGE z [b (e BYLEX"), ["b", "c", "d"]);
    assert_eq!(sq(&mut k, "ZRANGE z - + BYLEX LIMIT 1 2"), ["b", "c"]);
    assert_eq!(sq(&mut k, "ZRANGE z + - BYLEX REV LIMIT 0 2"), ["e", "d"]);
    assert_eq!(sq(&mut k, "ZRANGEBYLEX z (c +"), ["d", "e"]);
    assert_eq!(sq(&mut k, "ZREVRANGEBYLEX z [c -"), ["c", "b", "a"]);
    assert!(sq(&mut k, "ZRANGEBYLEX z + -").is_empty());
    err(
        &mut k,
        "ZRANGE z - + BYLEX WITHSCORES",
        "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
    );
    err(&mut k, "ZRANGEBYLEX z a +", LEXERR);
    err(
        &mut k,
        "ZRANGEBYLEX z - + WITHSCORES",
        "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
    );
}

#[test]
fn zrangestore_stores_or_deletes() {
    let (_s, mut k) = setup();
    n(&mut k, "ZADD z 1 a 2 b 3 c 4 d");
    assert_eq!(n(&mut k, "ZRANGESTORE dst z 1 2"), 2);
    assert_eq!(
        sq(&mut k, "ZRANGE dst 0 -1 WITHSCORES"),
        ["b", "2", "c", "3"]
    );
    assert_eq!(n(&mut k, "ZRANGESTORE dst z 0 1 REV"), 2);
    assert_eq!(sq(&mut k, "ZRANGE dst 0 -1"), ["c", "d"]);
    assert_eq!(
        n(&mut k, "ZRANGESTORE dst z +inf 2 BYSCORE REV LIMIT 0 2"),
        2
    );
    assert_eq!(sq(&mut k, "ZRANGE dst 0 -1"), ["c", "d"]);
    q(&mut k, "SET other v");
    n(&mut k, "EXPIRE dst 100");
    assert_eq!(n(&mut k, "ZRANGESTORE dst z 0 0"), 1);
    assert_eq!(
        n(&mut k, "TTL dst"),
        -1,
        "the destination is replaced, TTL included"
    );
    assert_eq!(n(&mut k, "ZRANGESTORE other z 0 0"), 1);
    assert_eq!(q(&mut k, "TYPE other"), Value::SimpleString("zset".into()));
    assert_eq!(n(&mut k, "ZRANGESTORE dst z 10 20"), 0);
    assert_eq!(exists(&mut k, "dst"), 0);
    assert_eq!(n(&mut k, "ZRANGESTORE dst nokey 0 -1"), 0);
    err(&mut k, "ZRANGESTORE dst z 0 1 WITHSCORES", SYNTAX);
    q(&mut k, "SET s v");
    err(&mut k, "ZRANGESTORE dst s 0 1", WRONGTYPE);
    err(&mut k, "ZRANGESTORE dst z 0", &arity("zrangestore"));
}

// ---------------------------------------------------------------------------------------------
// ZREMRANGEBY*
// ---------------------------------------------------------------------------------------------

#[test]
fn zremrange_by_rank_score_lex() {
    let (_s, mut k) = setup();
    n(&mut k, "ZADD z 1 a 2 b 3 c 4 d 5 e");
    assert_eq!(n(&mut k, "ZREMRANGEBYRANK z 0 1"), 2);
    assert_eq!(n(&mut k, "ZREMRANGEBYRANK z -1 -1"), 1);
    assert_eq!(n(&mut k, "ZREMRANGEBYRANK z 5 9"), 0);
    assert_eq!(sq(&mut k, "ZRANGE z 0 -1"), ["c", "d"]);
    assert_eq!(n(&mut k, "ZREMRANGEBYSCORE z (3 +inf"), 1);
    assert_eq!(n(&mut k, "ZREMRANGEBYSCORE z -inf +inf"), 1);
    assert_eq!(exists(&mut k, "z"), 0);
    n(&mut k, "ZADD l 0 a 0 b 0 c");
    assert_eq!(n(&mut k, "ZREMRANGEBYLEX l [a (c"), 2);
    assert_eq!(sq(&mut k, "ZRANGE l 0 -1"), ["c"]);
    assert_eq!(n(&mut k, "ZREMRANGEBYLEX nokey - +"), 0);
    err(&mut k, "ZREMRANGEBYRANK l x 1", NOT_INT);
    err(&mut k, "ZREMRANGEBYSCORE l x 1", MINMAX);
    err(&mut k, "ZREMRANGEBYLEX l x +", LEXERR);
    err(&mut k, "ZREMRANGEBYLEX l -", &arity("zremrangebylex"));
    q(&mut k, "SET s v");
    err(&mut k, "ZREMRANGEBYRANK s 0 1", WRONGTYPE);
}

// ---------------------------------------------------------------------------------------------
// Pops
// ---------------------------------------------------------------------------------------------

#[test]
fn zpopmin_zpopmax() {
    let (_s, mut k) = setup();
    n(&mut k, "ZADD z 1 a 2 b 3 c 4 d");
    assert_eq!(sq(&mut k, "ZPOPMIN z"), ["a", "1"]);
    assert_eq!(sq(&mut k, "ZPOPMAX z 2"), ["d", "4", "c", "3"]);
    assert!(sq(&mut k, "ZPOPMIN z 0").is_empty());
    assert_eq!(sq(&mut k, "ZPOPMIN z 10"), ["b", "2"]);
    assert_eq!(exists(&mut k, "z"), 0);
    assert!(sq(&mut k, "ZPOPMIN z").is_empty());
    err(
        &mut k,
        "ZPOPMIN z -1",
        "ERR value is out of range, must be positive",
    );
    err(
        &mut k,
        "ZPOPMIN z x",
        "ERR value is out of range, must be positive",
    );
    err(&mut k, "ZPOPMIN z 1 2", SYNTAX);
    err(&mut k, "ZPOPMAX", &arity("zpopmax"));
    q(&mut k, "SET s v");
    err(&mut k, "ZPOPMIN s", WRONGTYPE);
    err(&mut k, "ZPOPMIN s 0", WRONGTYPE);
}

#[test]
fn zmpop_takes_from_the_first_non_empty_key() {
    let (_s, mut k) = setup();
    n(&mut k, "ZADD b 1 x 2 y 3 z");
    assert_eq!(sq(&mut k, "ZMPOP 2 a b MIN"), ["b", "x", "1"]);
    assert_eq!(
        sq(&mut k, "ZMPOP 2 a b MAX COUNT 5"),
        ["b", "z", "3", "y", "2"]
    );
    assert_eq!(exists(&mut k, "b"), 0);
    assert_eq!(q(&mut k, "ZMPOP 2 a b MIN"), Value::Nil);
    err(
        &mut k,
        "ZMPOP 0 a MIN",
        "ERR numkeys should be greater than 0",
    );
    err(
        &mut k,
        "ZMPOP x a MIN",
        "ERR numkeys should be greater than 0",
    );
    err(&mut k, "ZMPOP 2 a MIN", SYNTAX);
    err(&mut k, "ZMPOP 1 a FOO", SYNTAX);
    err(
        &mut k,
        "ZMPOP 1 a MIN COUNT 0",
        "ERR count should be greater than 0",
    );
    err(&mut k, "ZMPOP 1 a MIN COUNT", SYNTAX);
    err(&mut k, "ZMPOP 1 a MIN COUNT 1 COUNT 1", SYNTAX);
    err(&mut k, "ZMPOP 1 a", &arity("zmpop"));
    q(&mut k, "SET s v");
    n(&mut k, "ZADD c 1 m");
    err(&mut k, "ZMPOP 2 s c MIN", WRONGTYPE);
    assert_eq!(sq(&mut k, "ZMPOP 2 c s MIN"), ["c", "m", "1"]);
}

// ---------------------------------------------------------------------------------------------
// Set operations
// ---------------------------------------------------------------------------------------------

#[test]
fn zunion_zinter_zdiff_with_weights_and_aggregates() {
    let (_s, mut k) = setup();
    n(&mut k, "ZADD a 1 x 2 y 3 z");
    n(&mut k, "ZADD b 10 y 20 z 30 w");
    make_set(&mut k, "s", &["x", "w"]);
    assert_eq!(
        sq(&mut k, "ZUNION 2 a b WITHSCORES"),
        ["x", "1", "y", "12", "z", "23", "w", "30"]
    );
    assert_eq!(
        sq(&mut k, "ZUNION 2 a b WEIGHTS 2 1 AGGREGATE MAX WITHSCORES"),
        ["x", "2", "y", "10", "z", "20", "w", "30"]
    );
    assert_eq!(
        sq(&mut k, "ZINTER 2 a b AGGREGATE MIN WITHSCORES"),
        ["y", "2", "z", "3"]
    );
    assert_eq!(sq(&mut k, "ZINTER 2 a b"), ["y", "z"]);
    assert_eq!(sq(&mut k, "ZDIFF 2 a b WITHSCORES"), ["x", "1"]);
    assert_eq!(sq(&mut k, "ZDIFF 3 a nokey b"), ["x"]);
    // Plain sets count with score 1.
    assert_eq!(
        sq(&mut k, "ZUNION 2 a s WITHSCORES"),
        ["w", "1", "x", "2", "y", "2", "z", "3"]
    );
    assert_eq!(sq(&mut k, "ZINTER 2 s b WITHSCORES"), ["w", "31"]);
    assert!(sq(&mut k, "ZINTER 2 a nokey").is_empty());
    // inf weights: 0 × inf is 0, inf + -inf is 0.
    assert_eq!(
        sq(&mut k, "ZUNION 2 a a WEIGHTS inf -inf WITHSCORES"),
        ["x", "0", "y", "0", "z", "0"]
    );
    // Inputs are summed smallest first, as Redis does, which decides what infinities come to
    // (replies checked against redis-server 7.0.15): inf + inf + -inf is inf + -inf = 0.
    n(&mut k, "ZADD pinf inf e1");
    n(&mut k, "ZADD minf -inf e1 0 e2");
    assert_eq!(
        sq(&mut k, "ZUNION 3 pinf minf pinf WITHSCORES"),
        ["e1", "0", "e2", "0"]
    );
    // In an intersection only the first (smallest) input's inf × 0 is cleared to 0; a later
    // one is NaN, and a sum with NaN is 0.
    n(&mut k, "ZADD i1 inf x");
    n(&mut k, "ZADD i2 inf x");
    assert_eq!(
        sq(&mut k, "ZINTER 2 i1 i2 WEIGHTS 1 0 WITHSCORES"),
        ["x", "0"]
    );
    assert_eq!(
        sq(&mut k, "ZINTER 2 i1 i2 WEIGHTS 0 1 WITHSCORES"),
        ["x", "inf"]
    );
    assert_eq!(n(&mut k, "ZINTERCARD 2 a b"), 2);
    assert_eq!(n(&mut k, "ZINTERCARD 2 a b LIMIT 1"), 1);
    assert_eq!(n(&mut k, "ZINTERCARD 2 a b LIMIT 0"), 2);
}

#[test]
fn set_operation_stores() {
    let (_s, mut k) = setup();
    n(&mut k, "ZADD a 1 x 2 y");
    n(&mut k, "ZADD b 3 y 4 z");
    assert_eq!(n(&mut k, "ZUNIONSTORE d 2 a b"), 3);
    assert_eq!(
        sq(&mut k, "ZRANGE d 0 -1 WITHSCORES"),
        ["x", "1", "z", "4", "y", "5"]
    );
    assert_eq!(n(&mut k, "ZINTERSTORE d 2 a b WEIGHTS 1 10"), 1);
    assert_eq!(sq(&mut k, "ZRANGE d 0 -1 WITHSCORES"), ["y", "32"]);
    assert_eq!(n(&mut k, "ZDIFFSTORE d 2 a b"), 1);
    assert_eq!(sq(&mut k, "ZRANGE d 0 -1 WITHSCORES"), ["x", "1"]);
    // A source may be the destination.
    assert_eq!(n(&mut k, "ZUNIONSTORE a 2 a b AGGREGATE MAX"), 3);
    assert_eq!(
        sq(&mut k, "ZRANGE a 0 -1 WITHSCORES"),
        ["x", "1", "y", "3", "z", "4"]
    );
    assert_eq!(n(&mut k, "ZINTERSTORE d 2 a nokey"), 0);
    assert_eq!(exists(&mut k, "d"), 0);
    assert_eq!(dbsize(&mut k), 2);
}

#[test]
fn set_operations_reject_bad_input() {
    let (_s, mut k) = setup();
    n(&mut k, "ZADD z 1 a");
    q(&mut k, "SET s v");
    err(
        &mut k,
        "ZUNION 0 z",
        "ERR at least 1 input key is needed for 'zunion' command",
    );
    err(
        &mut k,
        "ZUNIONSTORE d 0 z",
        "ERR at least 1 input key is needed for 'zunionstore' command",
    );
    err(
        &mut k,
        "ZINTERCARD 0 z",
        "ERR at least 1 input key is needed for 'zintercard' command",
    );
    err(&mut k, "ZUNION x z", NOT_INT);
    err(&mut k, "ZUNION 2 z", SYNTAX);
    err(
        &mut k,
        "ZUNION 1 z WEIGHTS x",
        "ERR weight value is not a float",
    );
    err(
        &mut k,
        "ZUNION 1 z WEIGHTS 1e309",
        "ERR weight value is not a float",
    );
    err(&mut k, "ZUNION 1 z WEIGHTS 1 2", SYNTAX);
    err(&mut k, "ZUNION 1 z AGGREGATE foo", SYNTAX);
    err(&mut k, "ZDIFF 1 z WEIGHTS 1", SYNTAX);
    err(&mut k, "ZUNIONSTORE d 1 z WITHSCORES", SYNTAX);
    err(
        &mut k,
        "ZINTERCARD 1 z LIMIT -1",
        "ERR LIMIT can't be negative",
    );
    err(
        &mut k,
        "ZINTERCARD 1 z LIMIT x",
        "ERR LIMIT can't be negative",
    );
    err(&mut k, "ZINTERCARD 1 z WITHSCORES", SYNTAX);
    // Types are checked before options, as in Redis.
    err(&mut k, "ZUNION 2 z s WEIGHTS 1", WRONGTYPE);
    err(&mut k, "ZINTERSTORE d 1 s", WRONGTYPE);
    err(&mut k, "ZUNION 1", &arity("zunion"));
    err(&mut k, "ZUNIONSTORE d 1", &arity("zunionstore"));
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER, ZSCAN
// ---------------------------------------------------------------------------------------------

#[test]
fn zrandmember_counts() {
    let (_s, mut k) = setup();
    n(&mut k, "ZADD z 1 a 2 b 3 c 4 d 5 e");
    let one = sq(&mut k, "ZRANDMEMBER z");
    assert!(["a", "b", "c", "d", "e"].contains(&one[0].as_str()));
    assert_eq!(q(&mut k, "ZRANDMEMBER nokey"), Value::Nil);
    assert!(sq(&mut k, "ZRANDMEMBER nokey 3").is_empty());
    assert!(sq(&mut k, "ZRANDMEMBER z 0").is_empty());
    for count in [1, 2, 4, 5, 9] {
        let mut got = sq(&mut k, &format!("ZRANDMEMBER z {count}"));
        assert_eq!(got.len(), count.min(5));
        got.sort();
        got.dedup();
        assert_eq!(got.len(), count.min(5), "distinct members");
    }
    assert_eq!(sq(&mut k, "ZRANDMEMBER z -20").len(), 20);
    let pairs = sq(&mut k, "ZRANDMEMBER z -3 WITHSCORES");
    assert_eq!(pairs.len(), 6);
    for p in pairs.chunks(2) {
        let want = (p[0].as_bytes()[0] - b'a' + 1).to_string();
        assert_eq!(p[1], want);
    }
    err(&mut k, "ZRANDMEMBER z x", NOT_INT);
    err(&mut k, "ZRANDMEMBER z 1 foo", SYNTAX);
    err(&mut k, "ZRANDMEMBER z 1 WITHSCORES x", SYNTAX);
    err(&mut k, "ZRANDMEMBER z -9223372036854775808", "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
    err(
        &mut k,
        "ZRANDMEMBER z 9223372036854775807 WITHSCORES",
        "ERR value is out of range",
    );
    q(&mut k, "SET s v");
    err(&mut k, "ZRANDMEMBER s", WRONGTYPE);
    err(&mut k, "ZRANDMEMBER s 1", WRONGTYPE);
}

#[test]
fn zscan_small_and_large() {
    let (_s, mut k) = setup();
    n(&mut k, "ZADD z 1 a 2.5 b 3 c");
    assert_eq!(
        sq(&mut k, "ZSCAN z 0"),
        ["0", "a", "1", "b", "2.5", "c", "3"]
    );
    assert_eq!(sq(&mut k, "ZSCAN z 0 MATCH b*"), ["0", "b", "2.5"]);
    assert_eq!(sq(&mut k, "ZSCAN nokey 0 COUNT x"), ["0"]);
    err(&mut k, "ZSCAN z x", "ERR invalid cursor");
    err(&mut k, "ZSCAN z 0 COUNT 0", SYNTAX);
    err(&mut k, "ZSCAN z 0 TYPE zset", SYNTAX);
    err(&mut k, "ZSCAN z 0 COUNT", SYNTAX);
    err(&mut k, "ZSCAN z", &arity("zscan"));
    // A skiplist set is walked with a cursor; every member comes back, even under removals.
    let mut add = redis::cmd("ZADD");
    add.arg("big");
    for i in 0..500 {
        add.arg(i).arg(format!("m{i}"));
    }
    let _: i64 = add.query(&mut k).unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    let mut round = 0;
    loop {
        let r = sq(&mut k, &format!("ZSCAN big {cursor} COUNT 20"));
        cursor = r[0].clone();
        for p in r[1..].chunks(2) {
            assert_eq!(p[0], format!("m{}", p[1]));
            seen.insert(p[0].clone());
        }
        n(&mut k, &format!("ZREM big m{}", 2 * round + 1));
        round += 1;
        if cursor == "0" {
            break;
        }
    }
    for i in (0..500).step_by(2) {
        assert!(seen.contains(&format!("m{i}")), "m{i} missing");
    }
    q(&mut k, "SET s v");
    err(&mut k, "ZSCAN s 0", WRONGTYPE);
}

// ---------------------------------------------------------------------------------------------
// Encodings, RESP3
// ---------------------------------------------------------------------------------------------

#[test]
fn encoding_converts_past_the_limits_and_stays() {
    let (_s, mut k) = setup();
    n(&mut k, "ZADD z 1 a");
    assert_eq!(sq(&mut k, "OBJECT ENCODING z"), ["listpack"]);
    let long = "x".repeat(65);
    n(&mut k, &format!("ZADD z 2 {long}"));
    assert_eq!(sq(&mut k, "OBJECT ENCODING z"), ["skiplist"]);
    n(&mut k, &format!("ZREM z {long}"));
    assert_eq!(sq(&mut k, "OBJECT ENCODING z"), ["skiplist"], "one-way");
    let mut add = redis::cmd("ZADD");
    add.arg("many");
    for i in 0..129 {
        add.arg(i).arg(i);
    }
    let _: i64 = add.query(&mut k).unwrap();
    assert_eq!(sq(&mut k, "OBJECT ENCODING many"), ["skiplist"]);
    assert_eq!(sq(&mut k, "ZRANGE many 0 2"), ["0", "1", "2"]);
    assert_eq!(n(&mut k, "ZRANK many 100"), 100);
    // A stored result is re-encoded from its content.
    n(&mut k, "ZRANGESTORE small many 0 9");
    assert_eq!(sq(&mut k, "OBJECT ENCODING small"), ["listpack"]);
    // DUMP/RESTORE keeps content and re-derives the encoding.
    let dump: Vec<u8> = redis::cmd("DUMP").arg("many").query(&mut k).unwrap();
    let _: () = redis::cmd("RESTORE")
        .arg("copy")
        .arg(0)
        .arg(dump)
        .query(&mut k)
        .unwrap();
    assert_eq!(sq(&mut k, "OBJECT ENCODING copy"), ["skiplist"]);
    assert_eq!(
        sq(&mut k, "ZRANGE copy 127 -1 WITHSCORES"),
        ["127", "127", "128", "128"]
    );
    q(&mut k, "CONFIG SET zset-max-listpack-entries 0");
    n(&mut k, "ZADD fresh 1 a");
    assert_eq!(sq(&mut k, "OBJECT ENCODING fresh"), ["skiplist"]);
}

#[test]
fn resp3_reply_shapes_are_byte_exact() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.request(b"HELLO 3\r\n");
    raw.roundtrip(b"ZADD z 1 a 2.5 b\r\n", b":2\r\n");
    raw.roundtrip(b"ZSCORE z b\r\n", b",2.5\r\n");
    raw.roundtrip(b"ZSCORE z x\r\n", b"_\r\n");
    raw.roundtrip(b"ZINCRBY z 1 a\r\n", b",2\r\n");
    raw.roundtrip(b"ZMSCORE z a x\r\n", b"*2\r\n,2\r\n_\r\n");
    raw.roundtrip(
        b"ZRANGE z 0 -1 WITHSCORES\r\n",
        b"*2\r\n*2\r\n$1\r\na\r\n,2\r\n*2\r\n$1\r\nb\r\n,2.5\r\n",
    );
    raw.roundtrip(b"ZRANGE z 0 -1\r\n", b"*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    raw.roundtrip(b"ZRANK z b WITHSCORE\r\n", b"*2\r\n:1\r\n,2.5\r\n");
    raw.roundtrip(b"ZRANK z x WITHSCORE\r\n", b"_\r\n");
    raw.roundtrip(
        b"ZUNION 1 z WITHSCORES\r\n",
        b"*2\r\n*2\r\n$1\r\na\r\n,2\r\n*2\r\n$1\r\nb\r\n,2.5\r\n",
    );
    raw.roundtrip(
        b"ZSCAN z 0\r\n",
        b"*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n$3\r\n2.5\r\n",
    );
    raw.roundtrip(b"ZPOPMIN z\r\n", b"*2\r\n$1\r\na\r\n,2\r\n");
    raw.roundtrip(b"ZADD z 3 c\r\n", b":1\r\n");
    raw.roundtrip(b"ZPOPMAX z 1\r\n", b"*1\r\n*2\r\n$1\r\nc\r\n,3\r\n");
    raw.roundtrip(
        b"ZMPOP 1 z MIN\r\n",
        b"*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n",
    );
    raw.roundtrip(b"ZMPOP 1 z MIN\r\n", b"_\r\n");
    raw.roundtrip(b"ZADD n 1.5 a\r\n", b":1\r\n");
    raw.roundtrip(
        b"ZRANDMEMBER n 1 WITHSCORES\r\n",
        b"*1\r\n*2\r\n$1\r\na\r\n,1.5\r\n",
    );
}

#[test]
fn resp2_reply_shapes_are_byte_exact() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"ZADD z 0.1 a -0 b 100000000000000000 c\r\n", b":3\r\n");
    raw.roundtrip(b"ZSCORE z a\r\n", b"$3\r\n0.1\r\n");
    // A small set is a listpack, which keeps -0 as the integer 0 (Redis 7).
    raw.roundtrip(b"ZSCORE z b\r\n", b"$1\r\n0\r\n");
    raw.roundtrip(b"ZSCORE z c\r\n", b"$18\r\n100000000000000000\r\n");
    raw.roundtrip(b"ZRANK z x WITHSCORE\r\n", b"*-1\r\n");
    raw.roundtrip(b"ZMPOP 1 nokey MIN\r\n", b"*-1\r\n");
    raw.roundtrip(
        b"ZPOPMAX z 1\r\n",
        b"*2\r\n$1\r\nc\r\n$18\r\n100000000000000000\r\n",
    );
}

/// Redis's listpack stores a whole score as an integer, so -0 reads back as 0 from a small
/// set; a skiplist keeps the double's sign (replies of redis-server 7.0.15).
#[test]
fn negative_zero_scores_read_back_as_each_encoding_keeps_them() {
    let (_s, mut k) = setup();
    assert_eq!(n(&mut k, "ZADD small -0 a"), 1);
    assert_eq!(
        q(&mut k, "ZSCORE small a"),
        Value::BulkString(b"0".to_vec())
    );
    q(&mut k, "CONFIG SET zset-max-listpack-entries 1");
    assert_eq!(n(&mut k, "ZADD big 1 a -0 b"), 2);
    assert_eq!(
        q(&mut k, "OBJECT ENCODING big"),
        Value::BulkString(b"skiplist".to_vec())
    );
    assert_eq!(q(&mut k, "ZSCORE big b"), Value::BulkString(b"-0".to_vec()));
    q(&mut k, "CONFIG SET zset-max-listpack-entries 128");
    assert_eq!(n(&mut k, "ZRANGESTORE copy big 0 -1"), 2);
    assert_eq!(
        q(&mut k, "OBJECT ENCODING copy"),
        Value::BulkString(b"listpack".to_vec())
    );
    assert_eq!(q(&mut k, "ZSCORE copy b"), Value::BulkString(b"0".to_vec()));
}
