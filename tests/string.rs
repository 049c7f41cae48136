//! String commands end to end: GET/SET with every option (NX XX GET EX PX EXAT PXAT KEEPTTL),
//! SETNX SETEX PSETEX, GETEX GETDEL GETSET, MGET MSET MSETNX, the INCR/DECR family, INCRBYFLOAT
//! and its number formatting, APPEND, STRLEN, GETRANGE/SUBSTR, SETRANGE and LCS.
//!
//! Every test starts the real server in-process and talks to it with the `redis` crate. The
//! expected replies and error texts are Redis 7's, byte for byte (checked against a real
//! redis-server 7.0); every error case also checks that the connection stays usable.
mod common;

use common::{
    arity, assert_err_exact as err, bulk, dbsize, exists, get, get_str, int, now_ms, pttl, set,
    ttl, val, TestServer,
};
use redis::{cmd, Connection, Value};

// ---------------------------------------------------------------------------------------------
// GET / SET
// ---------------------------------------------------------------------------------------------

#[test]
fn get_missing_is_nil_and_set_then_get_round_trips() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(val(&mut c, cmd("GET").arg("k")), Value::Nil);
    assert_eq!(dbsize(&mut c), 0);
    assert_eq!(val(&mut c, cmd("SET").arg("k").arg("v")), Value::Okay);
    assert_eq!(val(&mut c, cmd("GET").arg("k")), bulk("v"));
    set(&mut c, "k", "v2");
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("v2"));
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn get_and_set_reject_wrong_arity() {
    let srv = TestServer::start();
    let mut c = srv.client();
    err(&mut c, &mut cmd("GET"), &arity("get"));
    err(&mut c, cmd("GET").arg("a").arg("b"), &arity("get"));
    err(&mut c, &mut cmd("SET"), &arity("set"));
    err(&mut c, cmd("SET").arg("k"), &arity("set"));
    assert_eq!(dbsize(&mut c), 0);
}

#[test]
fn set_and_get_are_binary_safe() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let all_bytes: Vec<u8> = (0..=255u8).collect();
    let values: Vec<&[u8]> = vec![
        b"",
        b"\0",
        b"\r\n",
        b"a\r\nb\0c",
        b"$-1\r\n*1\r\n",
        "h\u{e9}llo \u{1f600}".as_bytes(),
        &all_bytes,
    ];
    for (i, v) in values.iter().enumerate() {
        let key = format!("k\0\r\n{i}").into_bytes();
        set(&mut c, &key[..], *v);
        assert_eq!(get(&mut c, &key[..]).as_deref(), Some(*v), "value #{i}");
        assert_eq!(int(&mut c, cmd("STRLEN").arg(&key[..])), v.len() as i64);
    }
    // An empty value is a real key, distinct from a missing one.
    set(&mut c, "empty", "");
    assert_eq!(exists(&mut c, "empty"), 1);
    assert_eq!(val(&mut c, cmd("GET").arg("empty")), bulk(""));
    assert_eq!(dbsize(&mut c), values.len() as i64 + 1);
}

#[test]
fn set_and_get_one_megabyte_value() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let big: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
    set(&mut c, "big", &big[..]);
    assert_eq!(get(&mut c, "big").as_deref(), Some(&big[..]));
    assert_eq!(int(&mut c, cmd("STRLEN").arg("big")), 1024 * 1024);
    let tail: Vec<u8> = cmd("GETRANGE")
        .arg("big")
        .arg(-3)
        .arg(-1)
        .query(&mut c)
        .unwrap();
    assert_eq!(tail, big[big.len() - 3..]);
    assert_eq!(
        int(&mut c, cmd("APPEND").arg("big").arg("!")),
        1024 * 1024 + 1
    );
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn set_nx_and_xx_are_conditional() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(
        val(&mut c, cmd("SET").arg("k").arg("v").arg("NX")),
        Value::Okay
    );
    assert_eq!(
        val(&mut c, cmd("SET").arg("k").arg("v2").arg("nx")),
        Value::Nil
    );
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("v"));
    assert_eq!(
        val(&mut c, cmd("SET").arg("new").arg("v").arg("XX")),
        Value::Nil
    );
    assert_eq!(exists(&mut c, "new"), 0);
    assert_eq!(
        val(&mut c, cmd("SET").arg("k").arg("v3").arg("xx")),
        Value::Okay
    );
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("v3"));
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn set_get_option_returns_the_old_value() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(
        val(&mut c, cmd("SET").arg("k").arg("v1").arg("GET")),
        Value::Nil
    );
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("v1"));
    assert_eq!(
        val(&mut c, cmd("SET").arg("k").arg("v2").arg("get")),
        bulk("v1")
    );
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("v2"));
    // NX + GET: refused, but still answers the current value.
    assert_eq!(
        val(&mut c, cmd("SET").arg("k").arg("v3").arg("NX").arg("GET")),
        bulk("v2")
    );
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("v2"));
    // XX + GET on a missing key: nil and nothing created.
    assert_eq!(
        val(&mut c, cmd("SET").arg("m").arg("x").arg("XX").arg("GET")),
        Value::Nil
    );
    assert_eq!(exists(&mut c, "m"), 0);
    assert_eq!(
        val(&mut c, cmd("SET").arg("k").arg("v4").arg("GET").arg("XX")),
        bulk("v2")
    );
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("v4"));
    // GET with a TTL option.
    assert_eq!(
        val(
            &mut c,
            cmd("SET").arg("k").arg("v5").arg("GET").arg("EX").arg(100)
        ),
        bulk("v4")
    );
    assert_eq!(ttl(&mut c, "k"), 100);
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn set_ex_and_px_set_a_relative_ttl() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set_opts(&mut c, "k", &["EX", "100"]);
    assert_eq!(ttl(&mut c, "k"), 100);
    let p = pttl(&mut c, "k");
    assert!((99_000..=100_000).contains(&p), "pttl {p}");
    set_opts(&mut c, "k", &["px", "5000"]);
    let p = pttl(&mut c, "k");
    assert!((4_000..=5_000).contains(&p), "pttl {p}");
    assert_eq!(ttl(&mut c, "k"), 5);
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("v"));
    assert_eq!(dbsize(&mut c), 1);
}

fn set_opts(con: &mut Connection, key: &str, opts: &[&str]) {
    let mut c = cmd("SET");
    c.arg(key).arg("v");
    for o in opts {
        c.arg(*o);
    }
    assert_eq!(val(con, &mut c), Value::Okay, "SET {key} v {opts:?}");
}

#[test]
fn set_exat_and_pxat_set_an_absolute_expiry() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let at_ms = now_ms() + 100_000;
    set_opts(&mut c, "p", &["PXAT", &at_ms.to_string()]);
    assert_eq!(int(&mut c, cmd("PEXPIRETIME").arg("p")), at_ms);
    let p = pttl(&mut c, "p");
    assert!((99_000..=100_000).contains(&p), "pttl {p}");
    let at_s = now_ms() / 1000 + 200;
    set_opts(&mut c, "e", &["exat", &at_s.to_string()]);
    assert_eq!(int(&mut c, cmd("EXPIRETIME").arg("e")), at_s);
    assert_eq!(int(&mut c, cmd("PEXPIRETIME").arg("e")), at_s * 1000);
    let t = ttl(&mut c, "e");
    assert!((198..=200).contains(&t), "ttl {t}");
    assert_eq!(dbsize(&mut c), 2);
}

#[test]
fn set_clears_the_ttl_unless_keepttl() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set_opts(&mut c, "k", &["EX", "100"]);
    set(&mut c, "k", "plain");
    assert_eq!(ttl(&mut c, "k"), -1);

    set_opts(&mut c, "k", &["EX", "100"]);
    assert_eq!(
        val(&mut c, cmd("SET").arg("k").arg("kept").arg("KEEPTTL")),
        Value::Okay
    );
    assert_eq!(ttl(&mut c, "k"), 100);
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("kept"));
    assert_eq!(
        val(
            &mut c,
            cmd("SET").arg("k").arg("again").arg("keepttl").arg("GET")
        ),
        bulk("kept")
    );
    assert_eq!(ttl(&mut c, "k"), 100);
    // NX/XX do not disturb the TTL either.
    assert_eq!(
        val(&mut c, cmd("SET").arg("k").arg("x").arg("XX")),
        Value::Okay
    );
    assert_eq!(ttl(&mut c, "k"), -1);

    // KEEPTTL on a missing key creates it without a TTL.
    assert_eq!(
        val(&mut c, cmd("SET").arg("fresh").arg("v").arg("KEEPTTL")),
        Value::Okay
    );
    assert_eq!(ttl(&mut c, "fresh"), -1);
    assert_eq!(dbsize(&mut c), 2);
}

#[test]
fn set_with_an_expiry_in_the_past_deletes_the_key() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "old");
    set_opts(&mut c, "k", &["EXAT", "1"]);
    assert_eq!(exists(&mut c, "k"), 0);
    assert_eq!(get(&mut c, "k"), None);
    assert_eq!(dbsize(&mut c), 0);

    set(&mut c, "k", "old");
    assert_eq!(
        val(
            &mut c,
            cmd("SET").arg("k").arg("new").arg("PXAT").arg(1).arg("GET")
        ),
        bulk("old")
    );
    assert_eq!(exists(&mut c, "k"), 0);

    let past = (now_ms() - 5_000).to_string();
    set_opts(&mut c, "missing", &["PXAT", &past]);
    assert_eq!(exists(&mut c, "missing"), 0);
    assert_eq!(dbsize(&mut c), 0);
}

#[test]
fn set_invalid_option_combinations_are_syntax_errors() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "orig");
    let bad: &[&[&str]] = &[
        &["NX", "XX"],
        &["XX", "NX"],
        &["NX", "XX", "NX"],
        &["GET", "NX", "XX"],
        &["EX", "10", "PX", "10"],
        &["PX", "100", "EX", "20"],
        &["EX", "10", "KEEPTTL"],
        &["KEEPTTL", "EX", "10"],
        &["KEEPTTL", "PXAT", "10"],
        &["EXAT", "1", "PX", "100"],
        &["EXAT", "1", "PXAT", "1"],
        &["EX"],
        &["PX"],
        &["EXAT"],
        &["PXAT"],
        &["GET", "EX"],
        &["FOO"],
        &["EX", "10", "FOO"],
        &["PERSIST"],
        &[""],
    ];
    for opts in bad {
        let mut cm = cmd("SET");
        cm.arg("k").arg("new");
        for o in *opts {
            cm.arg(*o);
        }
        err(&mut c, &mut cm, "ERR syntax error");
        assert_eq!(get_str(&mut c, "k").as_deref(), Some("orig"), "{opts:?}");
    }
    assert_eq!(ttl(&mut c, "k"), -1);
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn set_accepts_a_repeated_option() {
    // Redis only refuses *conflicting* options: repeating one is fine and the last value wins.
    let srv = TestServer::start();
    let mut c = srv.client();
    set_opts(&mut c, "k", &["NX", "NX"]);
    set_opts(&mut c, "k", &["XX", "XX"]);
    set_opts(&mut c, "k", &["EX", "10", "EX", "20"]);
    assert_eq!(ttl(&mut c, "k"), 20);
    set_opts(&mut c, "k", &["PX", "100000", "PX", "200000"]);
    let p = pttl(&mut c, "k");
    assert!((199_000..=200_000).contains(&p), "pttl {p}");
    set_opts(&mut c, "k", &["KEEPTTL", "KEEPTTL"]);
    let p = pttl(&mut c, "k");
    assert!((199_000..=200_000).contains(&p), "pttl {p}");
    assert_eq!(
        val(&mut c, cmd("SET").arg("k").arg("w").arg("GET").arg("GET")),
        bulk("v")
    );
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn set_rejects_invalid_expire_times() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "orig");
    let invalid = "ERR invalid expire time in 'set' command";
    for unit in ["EX", "PX", "EXAT", "PXAT"] {
        for t in ["0", "-1", "-9223372036854775808"] {
            err(
                &mut c,
                cmd("SET").arg("k").arg("v").arg(unit).arg(t),
                invalid,
            );
            err(
                &mut c,
                cmd("SET").arg("new").arg("v").arg(unit).arg(t),
                invalid,
            );
        }
    }
    // Overflow when converted to milliseconds or added to the current time.
    for (unit, t) in [
        ("EX", "9223372036854775807"),
        ("EX", "9223372036854775"),
        ("PX", "9223372036854775807"),
        ("PX", "9223372036854775000"),
        ("EXAT", "9223372036854776"),
    ] {
        err(
            &mut c,
            cmd("SET").arg("k").arg("v").arg(unit).arg(t),
            invalid,
        );
    }
    let nan = "ERR value is not an integer or out of range";
    for t in ["abc", "1.5", "", " 10", "10 ", "9223372036854775808"] {
        err(&mut c, cmd("SET").arg("k").arg("v").arg("EX").arg(t), nan);
    }
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("orig"));
    assert_eq!(ttl(&mut c, "k"), -1);
    assert_eq!(exists(&mut c, "new"), 0);
    // The largest EXAT that still fits in milliseconds is accepted.
    set_opts(&mut c, "k", &["EXAT", "9223372036854775"]);
    assert_eq!(
        int(&mut c, cmd("EXPIRETIME").arg("k")),
        9_223_372_036_854_775
    );
    assert_eq!(dbsize(&mut c), 1);
}

// ---------------------------------------------------------------------------------------------
// SETNX / SETEX / PSETEX
// ---------------------------------------------------------------------------------------------

#[test]
fn setnx_sets_only_a_missing_key() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(int(&mut c, cmd("SETNX").arg("k").arg("v")), 1);
    assert_eq!(int(&mut c, cmd("SETNX").arg("k").arg("v2")), 0);
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("v"));
    assert_eq!(ttl(&mut c, "k"), -1);
    let e = "ERR wrong number of arguments for 'setnx' command";
    err(&mut c, cmd("SETNX").arg("k"), e);
    err(&mut c, cmd("SETNX").arg("k").arg("v").arg("x"), e);
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn setex_and_psetex_set_value_and_ttl() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(
        val(&mut c, cmd("SETEX").arg("k").arg(100).arg("v")),
        Value::Okay
    );
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("v"));
    assert_eq!(ttl(&mut c, "k"), 100);
    // Overwrites both value and TTL.
    assert_eq!(
        val(&mut c, cmd("SETEX").arg("k").arg(50).arg("v2")),
        Value::Okay
    );
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("v2"));
    assert_eq!(ttl(&mut c, "k"), 50);
    assert_eq!(
        val(&mut c, cmd("PSETEX").arg("p").arg(5000).arg("pv")),
        Value::Okay
    );
    assert_eq!(get_str(&mut c, "p").as_deref(), Some("pv"));
    let p = pttl(&mut c, "p");
    assert!((4_000..=5_000).contains(&p), "pttl {p}");
    assert_eq!(dbsize(&mut c), 2);
}

#[test]
fn setex_and_psetex_reject_bad_times_and_arity() {
    let srv = TestServer::start();
    let mut c = srv.client();
    for (name, lower) in [("SETEX", "setex"), ("PSETEX", "psetex")] {
        let invalid = format!("ERR invalid expire time in '{lower}' command");
        for t in ["0", "-1", "9223372036854775807"] {
            err(&mut c, cmd(name).arg("k").arg(t).arg("v"), &invalid);
        }
        err(
            &mut c,
            cmd(name).arg("k").arg("abc").arg("v"),
            "ERR value is not an integer or out of range",
        );
        err(
            &mut c,
            cmd(name).arg("k").arg("1.5").arg("v"),
            "ERR value is not an integer or out of range",
        );
        let wrong_arity = arity(lower);
        err(&mut c, cmd(name).arg("k").arg("10"), &wrong_arity);
        err(
            &mut c,
            cmd(name).arg("k").arg("10").arg("v").arg("x"),
            &wrong_arity,
        );
    }
    err(
        &mut c,
        cmd("SETEX").arg("k").arg("9223372036854775").arg("v"),
        "ERR invalid expire time in 'setex' command",
    );
    assert_eq!(dbsize(&mut c), 0);
}

// ---------------------------------------------------------------------------------------------
// GETEX / GETDEL / GETSET
// ---------------------------------------------------------------------------------------------

#[test]
fn getex_without_options_leaves_the_ttl() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set_opts(&mut c, "k", &["EX", "100"]);
    assert_eq!(val(&mut c, cmd("GETEX").arg("k")), bulk("v"));
    assert_eq!(ttl(&mut c, "k"), 100);
    set(&mut c, "n", "v");
    assert_eq!(val(&mut c, cmd("GETEX").arg("n")), bulk("v"));
    assert_eq!(ttl(&mut c, "n"), -1);
    assert_eq!(val(&mut c, cmd("GETEX").arg("missing")), Value::Nil);
    assert_eq!(dbsize(&mut c), 2);
}

#[test]
fn getex_sets_and_persists_the_ttl() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "v");
    assert_eq!(
        val(&mut c, cmd("GETEX").arg("k").arg("EX").arg(100)),
        bulk("v")
    );
    assert_eq!(ttl(&mut c, "k"), 100);
    assert_eq!(
        val(&mut c, cmd("GETEX").arg("k").arg("px").arg(20_000)),
        bulk("v")
    );
    let p = pttl(&mut c, "k");
    assert!((19_000..=20_000).contains(&p), "pttl {p}");
    let at_s = now_ms() / 1000 + 300;
    assert_eq!(
        val(&mut c, cmd("GETEX").arg("k").arg("EXAT").arg(at_s)),
        bulk("v")
    );
    assert_eq!(int(&mut c, cmd("EXPIRETIME").arg("k")), at_s);
    let at_ms = now_ms() + 400_000;
    assert_eq!(
        val(&mut c, cmd("GETEX").arg("k").arg("PXAT").arg(at_ms)),
        bulk("v")
    );
    assert_eq!(int(&mut c, cmd("PEXPIRETIME").arg("k")), at_ms);
    assert_eq!(val(&mut c, cmd("GETEX").arg("k").arg("PERSIST")), bulk("v"));
    assert_eq!(ttl(&mut c, "k"), -1);
    // PERSIST on a key without TTL is harmless.
    assert_eq!(val(&mut c, cmd("GETEX").arg("k").arg("persist")), bulk("v"));
    assert_eq!(ttl(&mut c, "k"), -1);
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn getex_with_a_past_time_returns_the_value_and_deletes_the_key() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set_opts(&mut c, "k", &["EX", "100"]);
    assert_eq!(
        val(&mut c, cmd("GETEX").arg("k").arg("EXAT").arg(1)),
        bulk("v")
    );
    assert_eq!(exists(&mut c, "k"), 0);
    set(&mut c, "k", "v2");
    assert_eq!(
        val(
            &mut c,
            cmd("GETEX").arg("k").arg("PXAT").arg(now_ms() - 1000)
        ),
        bulk("v2")
    );
    assert_eq!(exists(&mut c, "k"), 0);
    assert_eq!(dbsize(&mut c), 0);
}

#[test]
fn getex_rejects_bad_options_and_times() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "v");
    let invalid = "ERR invalid expire time in 'getex' command";
    for unit in ["EX", "PX", "EXAT", "PXAT"] {
        for t in ["0", "-1"] {
            err(&mut c, cmd("GETEX").arg("k").arg(unit).arg(t), invalid);
        }
    }
    err(
        &mut c,
        cmd("GETEX").arg("k").arg("EX").arg("9223372036854775807"),
        invalid,
    );
    err(
        &mut c,
        cmd("GETEX").arg("k").arg("EX").arg("abc"),
        "ERR value is not an integer or out of range",
    );
    let bad: &[&[&str]] = &[
        &["EX", "10", "PX", "10"],
        &["PERSIST", "EX", "10"],
        &["EX", "10", "PERSIST"],
        &["KEEPTTL"],
        &["NX"],
        &["GET"],
        &["FOO"],
        &["EX"],
        &["PXAT"],
    ];
    for opts in bad {
        let mut cm = cmd("GETEX");
        cm.arg("k");
        for o in *opts {
            cm.arg(*o);
        }
        err(&mut c, &mut cm, "ERR syntax error");
    }
    err(
        &mut c,
        cmd("GETEX").arg("missing").arg("FOO"),
        "ERR syntax error",
    );
    err(
        &mut c,
        &mut cmd("GETEX"),
        "ERR wrong number of arguments for 'getex' command",
    );
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("v"));
    assert_eq!(ttl(&mut c, "k"), -1);
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn getex_accepts_a_repeated_option() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set_opts(&mut c, "k", &["EX", "100"]);
    assert_eq!(
        val(&mut c, cmd("GETEX").arg("k").arg("PERSIST").arg("PERSIST")),
        bulk("v")
    );
    assert_eq!(ttl(&mut c, "k"), -1);
    assert_eq!(
        val(
            &mut c,
            cmd("GETEX").arg("k").arg("EX").arg(10).arg("EX").arg(20)
        ),
        bulk("v")
    );
    assert_eq!(ttl(&mut c, "k"), 20);
}

#[test]
fn getex_on_a_missing_key_is_nil_before_the_time_is_validated() {
    // Redis looks the key up before it validates the expire time.
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(
        val(&mut c, cmd("GETEX").arg("missing").arg("EX").arg(0)),
        Value::Nil
    );
    assert_eq!(
        val(&mut c, cmd("GETEX").arg("missing").arg("EX").arg("abc")),
        Value::Nil
    );
    assert_eq!(dbsize(&mut c), 0);
}

#[test]
fn getdel_returns_the_value_and_deletes_the_key() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "v");
    set_opts(&mut c, "vol", &["PX", "100000"]);
    assert_eq!(val(&mut c, cmd("GETDEL").arg("k")), bulk("v"));
    assert_eq!(exists(&mut c, "k"), 0);
    assert_eq!(val(&mut c, cmd("GETDEL").arg("k")), Value::Nil);
    assert_eq!(val(&mut c, cmd("GETDEL").arg("vol")), bulk("v"));
    assert_eq!(ttl(&mut c, "vol"), -2);
    set(&mut c, "n", 12345);
    assert_eq!(val(&mut c, cmd("GETDEL").arg("n")), bulk("12345"));
    let e = "ERR wrong number of arguments for 'getdel' command";
    err(&mut c, &mut cmd("GETDEL"), e);
    err(&mut c, cmd("GETDEL").arg("a").arg("b"), e);
    assert_eq!(dbsize(&mut c), 0);
}

#[test]
fn getset_returns_the_old_value_and_clears_the_ttl() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(val(&mut c, cmd("GETSET").arg("k").arg("a")), Value::Nil);
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("a"));
    assert_eq!(val(&mut c, cmd("GETSET").arg("k").arg("b")), bulk("a"));
    set_opts(&mut c, "k", &["EX", "100"]);
    assert_eq!(val(&mut c, cmd("GETSET").arg("k").arg("c")), bulk("v"));
    assert_eq!(ttl(&mut c, "k"), -1);
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("c"));
    let e = "ERR wrong number of arguments for 'getset' command";
    err(&mut c, cmd("GETSET").arg("k"), e);
    err(&mut c, cmd("GETSET").arg("k").arg("v").arg("x"), e);
    assert_eq!(dbsize(&mut c), 1);
}

// ---------------------------------------------------------------------------------------------
// MGET / MSET / MSETNX
// ---------------------------------------------------------------------------------------------

#[test]
fn mget_returns_values_in_order_with_nil_for_missing() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "a", "1");
    set(&mut c, "b", &b"\0\r\n"[..]);
    assert_eq!(
        val(
            &mut c,
            cmd("MGET").arg("a").arg("missing").arg("b").arg("a")
        ),
        Value::Array(vec![bulk("1"), Value::Nil, bulk("\0\r\n"), bulk("1")])
    );
    assert_eq!(
        val(&mut c, cmd("MGET").arg("x")),
        Value::Array(vec![Value::Nil])
    );
    err(
        &mut c,
        &mut cmd("MGET"),
        "ERR wrong number of arguments for 'mget' command",
    );
    assert_eq!(dbsize(&mut c), 2);
}

#[test]
fn mset_sets_every_pair_and_clears_ttls() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set_opts(&mut c, "a", &["EX", "100"]);
    assert_eq!(
        val(&mut c, cmd("MSET").arg("a").arg("1").arg("b").arg("2")),
        Value::Okay
    );
    assert_eq!(
        val(&mut c, cmd("MGET").arg("a").arg("b")),
        Value::Array(vec![bulk("1"), bulk("2")])
    );
    assert_eq!(ttl(&mut c, "a"), -1);
    // The last occurrence of a repeated key wins.
    assert_eq!(
        val(&mut c, cmd("MSET").arg("z").arg("1").arg("z").arg("2")),
        Value::Okay
    );
    assert_eq!(get_str(&mut c, "z").as_deref(), Some("2"));
    assert_eq!(dbsize(&mut c), 3);
}

#[test]
fn mset_and_msetnx_reject_odd_arguments() {
    let srv = TestServer::start();
    let mut c = srv.client();
    for (name, lower) in [("MSET", "mset"), ("MSETNX", "msetnx")] {
        let e = arity(lower);
        err(&mut c, &mut cmd(name), &e);
        err(&mut c, cmd(name).arg("a"), &e);
        err(&mut c, cmd(name).arg("a").arg("1").arg("b"), &e);
    }
    // Nothing of a refused MSET was written.
    assert_eq!(exists(&mut c, "a"), 0);
    assert_eq!(dbsize(&mut c), 0);
}

#[test]
fn msetnx_is_all_or_nothing() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(
        int(&mut c, cmd("MSETNX").arg("x").arg("1").arg("y").arg("2")),
        1
    );
    assert_eq!(
        val(&mut c, cmd("MGET").arg("x").arg("y")),
        Value::Array(vec![bulk("1"), bulk("2")])
    );
    assert_eq!(
        int(&mut c, cmd("MSETNX").arg("new").arg("n").arg("x").arg("9")),
        0
    );
    assert_eq!(exists(&mut c, "new"), 0);
    assert_eq!(get_str(&mut c, "x").as_deref(), Some("1"));
    assert_eq!(
        int(&mut c, cmd("MSETNX").arg("z").arg("1").arg("z").arg("2")),
        1
    );
    assert_eq!(get_str(&mut c, "z").as_deref(), Some("2"));
    assert_eq!(dbsize(&mut c), 3);
}

// ---------------------------------------------------------------------------------------------
// INCR / DECR / INCRBY / DECRBY
// ---------------------------------------------------------------------------------------------

#[test]
fn incr_family_counts_from_zero_on_missing_keys() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(int(&mut c, cmd("INCR").arg("a")), 1);
    assert_eq!(int(&mut c, cmd("INCR").arg("a")), 2);
    assert_eq!(int(&mut c, cmd("DECR").arg("b")), -1);
    assert_eq!(int(&mut c, cmd("INCRBY").arg("c").arg(10)), 10);
    assert_eq!(int(&mut c, cmd("INCRBY").arg("c").arg(-15)), -5);
    assert_eq!(int(&mut c, cmd("DECRBY").arg("d").arg(7)), -7);
    assert_eq!(int(&mut c, cmd("DECRBY").arg("d").arg(-10)), 3);
    set(&mut c, "n", "10");
    assert_eq!(int(&mut c, cmd("INCR").arg("n")), 11);
    assert_eq!(int(&mut c, cmd("DECR").arg("n")), 10);
    assert_eq!(int(&mut c, cmd("INCRBY").arg("n").arg(5)), 15);
    assert_eq!(int(&mut c, cmd("DECRBY").arg("n").arg(3)), 12);
    assert_eq!(get_str(&mut c, "n").as_deref(), Some("12"));
    set(&mut c, "neg", "-5");
    assert_eq!(int(&mut c, cmd("INCR").arg("neg")), -4);
    assert_eq!(ttl(&mut c, "a"), -1);
    assert_eq!(dbsize(&mut c), 6);
}

#[test]
fn incr_family_keeps_the_ttl() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(
        val(&mut c, cmd("SET").arg("n").arg(5).arg("EX").arg(100)),
        Value::Okay
    );
    assert_eq!(int(&mut c, cmd("INCR").arg("n")), 6);
    assert_eq!(ttl(&mut c, "n"), 100);
    assert_eq!(int(&mut c, cmd("DECRBY").arg("n").arg(2)), 4);
    assert_eq!(int(&mut c, cmd("INCRBY").arg("n").arg(2)), 6);
    assert_eq!(int(&mut c, cmd("DECR").arg("n")), 5);
    assert_eq!(ttl(&mut c, "n"), 100);
}

#[test]
fn incr_rejects_values_that_are_not_canonical_integers() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let e = "ERR value is not an integer or out of range";
    for bad in [
        "abc",
        "",
        " 1",
        "1 ",
        "01",
        "+1",
        "-0",
        "1.5",
        "1e3",
        "0x10",
        "99999999999999999999",
        "9223372036854775808",
        "1\0",
    ] {
        set(&mut c, "s", bad);
        err(&mut c, cmd("INCR").arg("s"), e);
        err(&mut c, cmd("DECR").arg("s"), e);
        err(&mut c, cmd("INCRBY").arg("s").arg(1), e);
        err(&mut c, cmd("DECRBY").arg("s").arg(1), e);
        assert_eq!(get_str(&mut c, "s").as_deref(), Some(bad));
    }
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn incrby_rejects_increments_that_are_not_integers() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "n", "1");
    let e = "ERR value is not an integer or out of range";
    for bad in [
        "abc",
        "1.5",
        "",
        " 1",
        "9223372036854775808",
        "-9223372036854775809",
    ] {
        err(&mut c, cmd("INCRBY").arg("n").arg(bad), e);
        err(&mut c, cmd("DECRBY").arg("n").arg(bad), e);
        err(&mut c, cmd("INCRBY").arg("missing").arg(bad), e);
    }
    assert_eq!(get_str(&mut c, "n").as_deref(), Some("1"));
    assert_eq!(exists(&mut c, "missing"), 0);
}

#[test]
fn incr_family_reports_overflow_and_keeps_the_value() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let e = "ERR increment or decrement would overflow";
    set(&mut c, "max", i64::MAX);
    err(&mut c, cmd("INCR").arg("max"), e);
    err(&mut c, cmd("INCRBY").arg("max").arg(1), e);
    err(&mut c, cmd("DECRBY").arg("max").arg(-1), e);
    assert_eq!(get_str(&mut c, "max"), Some(i64::MAX.to_string()));
    set(&mut c, "min", i64::MIN);
    err(&mut c, cmd("DECR").arg("min"), e);
    err(&mut c, cmd("DECRBY").arg("min").arg(1), e);
    err(&mut c, cmd("INCRBY").arg("min").arg(-1), e);
    assert_eq!(get_str(&mut c, "min"), Some(i64::MIN.to_string()));
    // Reaching the limits exactly is fine.
    set(&mut c, "n", i64::MAX - 1);
    assert_eq!(int(&mut c, cmd("INCR").arg("n")), i64::MAX);
    set(&mut c, "n", 1);
    assert_eq!(
        int(&mut c, cmd("INCRBY").arg("n").arg(i64::MIN)),
        i64::MIN + 1
    );
    assert_eq!(dbsize(&mut c), 3);
}

#[test]
fn decrby_the_minimum_integer_is_refused() {
    // Negating i64::MIN overflows: Redis refuses it up front, whatever the stored value.
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "n", 5);
    err(
        &mut c,
        cmd("DECRBY").arg("n").arg(i64::MIN),
        "ERR decrement would overflow",
    );
    err(
        &mut c,
        cmd("DECRBY").arg("missing").arg(i64::MIN),
        "ERR decrement would overflow",
    );
    assert_eq!(get_str(&mut c, "n").as_deref(), Some("5"));
    assert_eq!(exists(&mut c, "missing"), 0);
    set(&mut c, "one", 1);
    err(
        &mut c,
        cmd("DECRBY").arg("one").arg(-i64::MAX),
        "ERR increment or decrement would overflow",
    );
}

#[test]
fn incr_family_rejects_wrong_arity() {
    let srv = TestServer::start();
    let mut c = srv.client();
    err(&mut c, &mut cmd("INCR"), &arity("incr"));
    err(&mut c, cmd("INCR").arg("a").arg("b"), &arity("incr"));
    err(&mut c, &mut cmd("DECR"), &arity("decr"));
    err(&mut c, cmd("DECR").arg("a").arg("b"), &arity("decr"));
    err(&mut c, cmd("INCRBY").arg("a"), &arity("incrby"));
    err(
        &mut c,
        cmd("INCRBY").arg("a").arg(1).arg(2),
        &arity("incrby"),
    );
    err(&mut c, cmd("DECRBY").arg("a"), &arity("decrby"));
    err(&mut c, cmd("INCRBYFLOAT").arg("a"), &arity("incrbyfloat"));
    err(&mut c, &mut cmd("INCRBYFLOAT"), &arity("incrbyfloat"));
    assert_eq!(dbsize(&mut c), 0);
}

// ---------------------------------------------------------------------------------------------
// INCRBYFLOAT
// ---------------------------------------------------------------------------------------------

fn incrbyfloat(con: &mut Connection, key: &str, by: &str) -> String {
    cmd("INCRBYFLOAT")
        .arg(key)
        .arg(by)
        .query(con)
        .unwrap_or_else(|e| panic!("INCRBYFLOAT {key} {by}: {e}"))
}

#[test]
fn incrbyfloat_formats_results_like_redis() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "f", "10.5");
    assert_eq!(incrbyfloat(&mut c, "f", "0.1"), "10.6");
    assert_eq!(get_str(&mut c, "f").as_deref(), Some("10.6"));
    // Exponent inputs, integral results without a fraction.
    set(&mut c, "e", "5.0e3");
    assert_eq!(incrbyfloat(&mut c, "e", "2.0e2"), "5200");
    assert_eq!(incrbyfloat(&mut c, "e", "-5200"), "0");
    assert_eq!(incrbyfloat(&mut c, "e", "1.5"), "1.5");
    assert_eq!(incrbyfloat(&mut c, "e", "-1.5"), "0");
    // A missing key starts at 0.
    assert_eq!(incrbyfloat(&mut c, "m", "3"), "3");
    assert_eq!(get_str(&mut c, "m").as_deref(), Some("3"));
    assert_eq!(incrbyfloat(&mut c, "m", "-3.25"), "-0.25");
    // Incomplete forms strtold accepts.
    set(&mut c, "d", "1.");
    assert_eq!(incrbyfloat(&mut c, "d", ".5"), "1.5");
    // Large magnitudes print in plain notation, never with an exponent.
    assert_eq!(incrbyfloat(&mut c, "big", "1e20"), "100000000000000000000");
    assert_eq!(incrbyfloat(&mut c, "big", "-1e20"), "0");
    assert_eq!(ttl(&mut c, "f"), -1);
}

#[test]
fn incrbyfloat_prints_small_magnitudes_in_plain_notation() {
    // %.17Lf: up to 17 decimals, trailing zeros trimmed, no exponent.
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(incrbyfloat(&mut c, "a", "1.5e-5"), "0.000015");
    assert_eq!(incrbyfloat(&mut c, "b", "0.000001"), "0.000001");
    assert_eq!(incrbyfloat(&mut c, "c", "1e-7"), "0.0000001");
    assert_eq!(incrbyfloat(&mut c, "d", "-2.5e-10"), "-0.00000000025");
    // Below 17 decimals the value rounds to zero.
    assert_eq!(incrbyfloat(&mut c, "e", "1e-20"), "0");
    assert_eq!(get_str(&mut c, "c").as_deref(), Some("0.0000001"));
}

#[test]
fn incrbyfloat_never_produces_negative_zero() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(incrbyfloat(&mut c, "z", "-0.0"), "0");
    set(&mut c, "one", "1");
    assert_eq!(incrbyfloat(&mut c, "one", "-1"), "0");
    let x = format!("{}", 1.0f64 / 41.0);
    incrbyfloat(&mut c, "q", &x);
    assert_eq!(incrbyfloat(&mut c, "q", &format!("-{x}")), "0");
    assert_eq!(get_str(&mut c, "q").as_deref(), Some("0"));
}

#[test]
fn incrbyfloat_uses_extended_precision_like_redis() {
    // Redis adds in `long double` and prints with %.17Lf, so decimal inputs accumulate without
    // visible binary noise: 3 + 0.1 + 0.2 is "3.3", not "3.3000000000000003".
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(incrbyfloat(&mut c, "f", "3"), "3");
    assert_eq!(incrbyfloat(&mut c, "f", "0.1"), "3.1");
    assert_eq!(incrbyfloat(&mut c, "f", "0.2"), "3.3");
    set(&mut c, "g", "0");
    assert_eq!(incrbyfloat(&mut c, "g", "1.1"), "1.1");
    assert_eq!(incrbyfloat(&mut c, "g", "2.2"), "3.3");
}

#[test]
fn incrbyfloat_accepts_hexadecimal_like_strtold() {
    // Redis parses the increment with strtold, which reads hexadecimal floats.
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "f", "1");
    assert_eq!(incrbyfloat(&mut c, "f", "0x10"), "17");
}

#[test]
fn incrbyfloat_rejects_bad_floats_and_keeps_the_value() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "f", "1.5");
    let e = "ERR value is not a valid float";
    for bad in ["abc", "", " 1", "1 ", "nan", "NaN", "1e", "1.5.5", "--1"] {
        err(&mut c, cmd("INCRBYFLOAT").arg("f").arg(bad), e);
    }
    for bad in ["abc", " 1.5", "1.5 ", "1e", "", "nan"] {
        set(&mut c, "s", bad);
        err(&mut c, cmd("INCRBYFLOAT").arg("s").arg("1"), e);
        assert_eq!(get_str(&mut c, "s").as_deref(), Some(bad));
    }
    // A value carrying a NUL after the digits is not a float (Redis's strict length check).
    set(&mut c, "z", "1");
    assert_eq!(int(&mut c, cmd("SETRANGE").arg("z").arg(2).arg("2")), 3);
    err(&mut c, cmd("INCRBYFLOAT").arg("z").arg("1"), e);
    assert_eq!(get_str(&mut c, "f").as_deref(), Some("1.5"));
    assert_eq!(exists(&mut c, "missing"), 0);
}

#[test]
fn incrbyfloat_refuses_nan_and_infinity() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let e = "ERR increment would produce NaN or Infinity";
    set(&mut c, "f", "1");
    for inf in ["inf", "-inf", "+inf", "INF", "infinity"] {
        err(&mut c, cmd("INCRBYFLOAT").arg("f").arg(inf), e);
    }
    err(&mut c, cmd("INCRBYFLOAT").arg("missing").arg("inf"), e);
    assert_eq!(exists(&mut c, "missing"), 0);
    set(&mut c, "i", "inf");
    err(&mut c, cmd("INCRBYFLOAT").arg("i").arg("1"), e);
    assert_eq!(get_str(&mut c, "f").as_deref(), Some("1"));
    // Infinity is where a long double ends, not a double: 1e4932 doubled overflows, and 1e4933
    // is out of range as written.
    set(&mut c, "big", "1e4932");
    err(&mut c, cmd("INCRBYFLOAT").arg("big").arg("1e4932"), e);
    err(
        &mut c,
        cmd("INCRBYFLOAT").arg("big").arg("1e4933"),
        "ERR value is not a valid float",
    );
}

/// Replies of redis-server 7.0.15 on x86-64, whose INCRBYFLOAT adds in the x87 long double
/// and prints with %.17Lf: digits a double does not have, and numbers past a double's range.
#[test]
fn incrbyfloat_adds_in_long_double_as_redis_does() {
    let srv = TestServer::start();
    let mut c = srv.client();
    for (start, by, want) in [
        ("3.1", "1e17", "100000000000000003.1015625"),
        ("1e30", "1", "1000000000000000000024696061952"),
        ("0", "0.000003814697265625", "0.00000381469726562"),
        ("0", "1e-18", "0"),
        ("1.5", "0x10", "17.5"),
    ] {
        set(&mut c, "f", start);
        assert_eq!(incrbyfloat(&mut c, "f", by), want, "{start} + {by}");
        assert_eq!(get_str(&mut c, "f").as_deref(), Some(want));
    }
    let _: () = cmd("DEL").arg("f").query(&mut c).unwrap();
    let huge = incrbyfloat(&mut c, "f", "1e309");
    assert_eq!(huge.len(), 309);
    assert!(
        huge.starts_with("99999999999999999998634942458125645"),
        "{huge}"
    );
}

#[test]
fn incrbyfloat_keeps_the_ttl() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(
        val(&mut c, cmd("SET").arg("f").arg("1.5").arg("EX").arg(100)),
        Value::Okay
    );
    assert_eq!(incrbyfloat(&mut c, "f", "1"), "2.5");
    assert_eq!(ttl(&mut c, "f"), 100);
}

// ---------------------------------------------------------------------------------------------
// APPEND / STRLEN
// ---------------------------------------------------------------------------------------------

#[test]
fn append_creates_and_extends_strings() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(int(&mut c, cmd("APPEND").arg("a").arg("Hello")), 5);
    assert_eq!(int(&mut c, cmd("APPEND").arg("a").arg(" World")), 11);
    assert_eq!(get_str(&mut c, "a").as_deref(), Some("Hello World"));
    assert_eq!(int(&mut c, cmd("APPEND").arg("a").arg("")), 11);
    // Appending nothing to a missing key still creates it, empty.
    assert_eq!(int(&mut c, cmd("APPEND").arg("e").arg("")), 0);
    assert_eq!(exists(&mut c, "e"), 1);
    assert_eq!(val(&mut c, cmd("GET").arg("e")), bulk(""));
    // Binary data.
    assert_eq!(int(&mut c, cmd("APPEND").arg("b").arg(&b"\0\r\n"[..])), 3);
    assert_eq!(int(&mut c, cmd("APPEND").arg("b").arg(&b"\xff\0"[..])), 5);
    assert_eq!(get(&mut c, "b").as_deref(), Some(&b"\0\r\n\xff\0"[..]));
    // Onto an integer-looking value.
    set(&mut c, "n", 5);
    assert_eq!(int(&mut c, cmd("APPEND").arg("n").arg(1)), 2);
    assert_eq!(get_str(&mut c, "n").as_deref(), Some("51"));
    assert_eq!(int(&mut c, cmd("INCR").arg("n")), 52);
    let e = "ERR wrong number of arguments for 'append' command";
    err(&mut c, cmd("APPEND").arg("a"), e);
    err(&mut c, cmd("APPEND").arg("a").arg("b").arg("c"), e);
    assert_eq!(dbsize(&mut c), 4);
}

#[test]
fn append_keeps_the_ttl() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set_opts(&mut c, "k", &["EX", "100"]);
    assert_eq!(int(&mut c, cmd("APPEND").arg("k").arg("w")), 2);
    assert_eq!(ttl(&mut c, "k"), 100);
}

#[test]
fn append_and_setrange_respect_proto_max_bulk_len() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(
        val(
            &mut c,
            cmd("CONFIG")
                .arg("SET")
                .arg("proto-max-bulk-len")
                .arg("1mb")
        ),
        Value::Okay
    );
    let limit = 1024 * 1024;
    let e = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
    set(&mut c, "k", vec![b'a'; limit - 5]);
    assert_eq!(
        int(&mut c, cmd("APPEND").arg("k").arg("12345")),
        limit as i64
    );
    err(&mut c, cmd("APPEND").arg("k").arg("x"), e);
    assert_eq!(int(&mut c, cmd("STRLEN").arg("k")), limit as i64);
    assert_eq!(
        int(&mut c, cmd("SETRANGE").arg("k").arg(limit - 1).arg("x")),
        limit as i64
    );
    err(&mut c, cmd("SETRANGE").arg("k").arg(limit).arg("x"), e);
    err(&mut c, cmd("SETRANGE").arg("new").arg(limit).arg("x"), e);
    assert_eq!(exists(&mut c, "new"), 0);
    // An empty patch never grows anything, so it is not checked.
    assert_eq!(
        int(&mut c, cmd("SETRANGE").arg("k").arg(limit).arg("")),
        limit as i64
    );
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn setrange_with_a_huge_offset_is_refused_and_the_connection_survives() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let e = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
    err(&mut c, cmd("SETRANGE").arg("new").arg(i64::MAX).arg("x"), e);
    set(&mut c, "k", "v");
    err(&mut c, cmd("SETRANGE").arg("k").arg(i64::MAX).arg("x"), e);
    err(
        &mut c,
        cmd("SETRANGE").arg("k").arg(i64::MAX - 1).arg("xyz"),
        e,
    );
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("v"));
    assert_eq!(exists(&mut c, "new"), 0);
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn strlen_counts_bytes() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(int(&mut c, cmd("STRLEN").arg("missing")), 0);
    set(&mut c, "s", "Hello World");
    assert_eq!(int(&mut c, cmd("STRLEN").arg("s")), 11);
    set(&mut c, "n", 12345);
    assert_eq!(int(&mut c, cmd("STRLEN").arg("n")), 5);
    set(&mut c, "neg", -7);
    assert_eq!(int(&mut c, cmd("STRLEN").arg("neg")), 2);
    set(&mut c, "u", "h\u{e9}");
    assert_eq!(int(&mut c, cmd("STRLEN").arg("u")), 3);
    set(&mut c, "e", "");
    assert_eq!(int(&mut c, cmd("STRLEN").arg("e")), 0);
    let e = "ERR wrong number of arguments for 'strlen' command";
    err(&mut c, &mut cmd("STRLEN"), e);
    err(&mut c, cmd("STRLEN").arg("a").arg("b"), e);
    assert_eq!(dbsize(&mut c), 5);
}

// ---------------------------------------------------------------------------------------------
// GETRANGE / SUBSTR / SETRANGE
// ---------------------------------------------------------------------------------------------

fn getrange(con: &mut Connection, name: &str, key: &str, start: &str, end: &str) -> String {
    let v: Vec<u8> = cmd(name)
        .arg(key)
        .arg(start)
        .arg(end)
        .query(con)
        .unwrap_or_else(|e| panic!("{name} {key} {start} {end}: {e}"));
    String::from_utf8(v).unwrap()
}

#[test]
fn getrange_and_substr_handle_every_index_form() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "mykey", "This is a string");
    let cases = [
        // The Redis documentation's examples.
        ("0", "3", "This"),
        ("-3", "-1", "ing"),
        ("0", "-1", "This is a string"),
        ("10", "100", "string"),
        // Single characters and the ends.
        ("0", "0", "T"),
        ("-1", "-1", "g"),
        ("15", "16", "g"),
        ("16", "16", ""),
        ("100", "200", ""),
        // start after end, in either sign.
        ("5", "3", ""),
        ("-1", "-5", ""),
        // Negative indexes beyond the start clamp to 0.
        ("-100", "-1", "This is a string"),
        ("-100", "-99", "T"),
        ("-17", "0", "T"),
        ("0", "-100", "T"),
        // Extreme values.
        ("0", "9223372036854775807", "This is a string"),
        ("-9223372036854775808", "-1", "This is a string"),
        (
            "-9223372036854775808",
            "9223372036854775807",
            "This is a string",
        ),
    ];
    for (start, end, want) in cases {
        assert_eq!(
            getrange(&mut c, "GETRANGE", "mykey", start, end),
            want,
            "GETRANGE mykey {start} {end}"
        );
        assert_eq!(
            getrange(&mut c, "SUBSTR", "mykey", start, end),
            want,
            "SUBSTR mykey {start} {end}"
        );
    }
    // Missing and empty strings give an empty string, never nil.
    assert_eq!(
        val(&mut c, cmd("GETRANGE").arg("missing").arg(0).arg(-1)),
        bulk("")
    );
    set(&mut c, "e", "");
    for (s, e) in [("0", "-1"), ("0", "0"), ("-1", "-1")] {
        assert_eq!(getrange(&mut c, "GETRANGE", "e", s, e), "");
    }
    // Integer-encoded values are ranges of their decimal text.
    set(&mut c, "n", 12345);
    assert_eq!(getrange(&mut c, "GETRANGE", "n", "1", "2"), "23");
    assert_eq!(dbsize(&mut c), 3);
}

#[test]
fn getrange_rejects_bad_indexes_and_arity() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "hello");
    let nan = "ERR value is not an integer or out of range";
    for name in ["GETRANGE", "SUBSTR"] {
        err(&mut c, cmd(name).arg("k").arg("a").arg(1), nan);
        err(&mut c, cmd(name).arg("k").arg(0).arg("1.5"), nan);
        err(&mut c, cmd(name).arg("k").arg(0).arg(""), nan);
        err(
            &mut c,
            cmd(name).arg("k").arg(0).arg("9223372036854775808"),
            nan,
        );
        let wrong_arity = arity(&name.to_lowercase());
        err(&mut c, cmd(name).arg("k").arg(0), &wrong_arity);
        err(
            &mut c,
            cmd(name).arg("k").arg(0).arg(1).arg(2),
            &wrong_arity,
        );
    }
}

#[test]
fn setrange_overwrites_and_pads_with_zero_bytes() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "key1", "Hello World");
    assert_eq!(
        int(&mut c, cmd("SETRANGE").arg("key1").arg(6).arg("Redis")),
        11
    );
    assert_eq!(get_str(&mut c, "key1").as_deref(), Some("Hello Redis"));
    // Missing key: zero-padded up to the offset.
    assert_eq!(
        int(&mut c, cmd("SETRANGE").arg("key2").arg(6).arg("Redis")),
        11
    );
    assert_eq!(
        get(&mut c, "key2").as_deref(),
        Some(&b"\0\0\0\0\0\0Redis"[..])
    );
    // Past the end of an existing string: padded too.
    set(&mut c, "short", "ab");
    assert_eq!(
        int(
            &mut c,
            cmd("SETRANGE").arg("short").arg(4).arg(&b"\r\n"[..])
        ),
        6
    );
    assert_eq!(get(&mut c, "short").as_deref(), Some(&b"ab\0\0\r\n"[..]));
    // Partially overlapping the end.
    set(&mut c, "over", "abc");
    assert_eq!(
        int(&mut c, cmd("SETRANGE").arg("over").arg(2).arg("XYZ")),
        5
    );
    assert_eq!(get_str(&mut c, "over").as_deref(), Some("abXYZ"));
    // Onto an integer value.
    set(&mut c, "n", 12345);
    assert_eq!(int(&mut c, cmd("SETRANGE").arg("n").arg(1).arg("x")), 5);
    assert_eq!(get_str(&mut c, "n").as_deref(), Some("1x345"));
    assert_eq!(dbsize(&mut c), 5);
}

#[test]
fn setrange_with_an_empty_value_changes_nothing() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(int(&mut c, cmd("SETRANGE").arg("m").arg(0).arg("")), 0);
    assert_eq!(int(&mut c, cmd("SETRANGE").arg("m").arg(10).arg("")), 0);
    assert_eq!(exists(&mut c, "m"), 0);
    set(&mut c, "k", "Hello");
    assert_eq!(int(&mut c, cmd("SETRANGE").arg("k").arg(100).arg("")), 5);
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("Hello"));
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn setrange_keeps_the_ttl() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set_opts(&mut c, "k", &["EX", "100"]);
    assert_eq!(int(&mut c, cmd("SETRANGE").arg("k").arg(0).arg("w")), 1);
    assert_eq!(ttl(&mut c, "k"), 100);
}

#[test]
fn setrange_rejects_bad_offsets_and_arity() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "Hello");
    let range = "ERR offset is out of range";
    err(&mut c, cmd("SETRANGE").arg("k").arg(-1).arg("x"), range);
    err(&mut c, cmd("SETRANGE").arg("k").arg(-1).arg(""), range);
    err(
        &mut c,
        cmd("SETRANGE").arg("missing").arg(-1).arg(""),
        range,
    );
    let nan = "ERR value is not an integer or out of range";
    err(&mut c, cmd("SETRANGE").arg("k").arg("abc").arg("x"), nan);
    err(&mut c, cmd("SETRANGE").arg("k").arg("").arg("x"), nan);
    err(&mut c, cmd("SETRANGE").arg("k").arg("1.5").arg("x"), nan);
    let arity = "ERR wrong number of arguments for 'setrange' command";
    err(&mut c, cmd("SETRANGE").arg("k").arg(1), arity);
    err(
        &mut c,
        cmd("SETRANGE").arg("k").arg(1).arg("x").arg("y"),
        arity,
    );
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("Hello"));
    assert_eq!(exists(&mut c, "missing"), 0);
    assert_eq!(dbsize(&mut c), 1);
}

// ---------------------------------------------------------------------------------------------
// LCS
// ---------------------------------------------------------------------------------------------

fn range(a: i64, b: i64) -> Value {
    Value::Array(vec![Value::Int(a), Value::Int(b)])
}

/// One IDX match: ranges in key1 and key2, and the length when WITHMATCHLEN was given.
fn lcs_match(a: (i64, i64), b: (i64, i64), len: Option<i64>) -> Value {
    let mut m = vec![range(a.0, a.1), range(b.0, b.1)];
    if let Some(l) = len {
        m.push(Value::Int(l));
    }
    Value::Array(m)
}

fn lcs_idx(matches: Vec<Value>, len: i64) -> Value {
    Value::Array(vec![
        bulk("matches"),
        Value::Array(matches),
        bulk("len"),
        Value::Int(len),
    ])
}

#[test]
fn lcs_plain_and_len_match_the_redis_docs() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(
        val(
            &mut c,
            cmd("MSET")
                .arg("key1")
                .arg("ohmytext")
                .arg("key2")
                .arg("mynewtext")
        ),
        Value::Okay
    );
    assert_eq!(
        val(&mut c, cmd("LCS").arg("key1").arg("key2")),
        bulk("mytext")
    );
    assert_eq!(
        val(&mut c, cmd("LCS").arg("key1").arg("key2").arg("LEN")),
        Value::Int(6)
    );
    // LEN wins over the IDX-only modifiers; WITHMATCHLEN alone changes nothing.
    assert_eq!(
        val(
            &mut c,
            cmd("LCS")
                .arg("key1")
                .arg("key2")
                .arg("len")
                .arg("MINMATCHLEN")
                .arg(3)
        ),
        Value::Int(6)
    );
    assert_eq!(
        val(
            &mut c,
            cmd("LCS").arg("key1").arg("key2").arg("WITHMATCHLEN")
        ),
        bulk("mytext")
    );
    // Missing keys count as empty strings.
    assert_eq!(val(&mut c, cmd("LCS").arg("key1").arg("nope")), bulk(""));
    assert_eq!(
        val(&mut c, cmd("LCS").arg("key1").arg("nope").arg("LEN")),
        Value::Int(0)
    );
    // Identical and binary strings.
    set(&mut c, "b1", &b"a\0b\r\nc"[..]);
    set(&mut c, "b2", &b"x\0\r\ny"[..]);
    assert_eq!(val(&mut c, cmd("LCS").arg("b1").arg("b2")), bulk("\0\r\n"));
    assert_eq!(
        val(&mut c, cmd("LCS").arg("key1").arg("key1")),
        bulk("ohmytext")
    );
    assert_eq!(dbsize(&mut c), 4);
}

#[test]
fn lcs_idx_matches_the_redis_docs() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "key1", "ohmytext");
    set(&mut c, "key2", "mynewtext");
    let text = lcs_match((4, 7), (5, 8), None);
    let my = lcs_match((2, 3), (0, 1), None);
    assert_eq!(
        val(&mut c, cmd("LCS").arg("key1").arg("key2").arg("IDX")),
        lcs_idx(vec![text.clone(), my.clone()], 6)
    );
    assert_eq!(
        val(
            &mut c,
            cmd("LCS")
                .arg("key1")
                .arg("key2")
                .arg("IDX")
                .arg("MINMATCHLEN")
                .arg(4)
        ),
        lcs_idx(vec![text], 6)
    );
    assert_eq!(
        val(
            &mut c,
            cmd("LCS")
                .arg("key1")
                .arg("key2")
                .arg("IDX")
                .arg("MINMATCHLEN")
                .arg(4)
                .arg("WITHMATCHLEN")
        ),
        lcs_idx(vec![lcs_match((4, 7), (5, 8), Some(4))], 6)
    );
    assert_eq!(
        val(
            &mut c,
            cmd("LCS")
                .arg("key1")
                .arg("key2")
                .arg("idx")
                .arg("withmatchlen")
        ),
        lcs_idx(
            vec![
                lcs_match((4, 7), (5, 8), Some(4)),
                lcs_match((2, 3), (0, 1), Some(2))
            ],
            6
        )
    );
    // A negative MINMATCHLEN is treated as 0.
    assert_eq!(
        val(
            &mut c,
            cmd("LCS")
                .arg("key1")
                .arg("key2")
                .arg("MINMATCHLEN")
                .arg(-5)
                .arg("IDX")
        ),
        lcs_idx(vec![lcs_match((4, 7), (5, 8), None), my], 6)
    );
    assert_eq!(
        val(&mut c, cmd("LCS").arg("nope1").arg("nope2").arg("IDX")),
        lcs_idx(vec![], 0)
    );
}

#[test]
fn lcs_idx_is_a_map_in_resp3() {
    let srv = TestServer::start();
    let mut c = srv.client_resp3();
    set(&mut c, "key1", "ohmytext");
    set(&mut c, "key2", "mynewtext");
    assert_eq!(
        val(
            &mut c,
            cmd("LCS")
                .arg("key1")
                .arg("key2")
                .arg("IDX")
                .arg("WITHMATCHLEN")
        ),
        Value::Map(vec![
            (
                bulk("matches"),
                Value::Array(vec![
                    lcs_match((4, 7), (5, 8), Some(4)),
                    lcs_match((2, 3), (0, 1), Some(2)),
                ])
            ),
            (bulk("len"), Value::Int(6)),
        ])
    );
}

#[test]
fn lcs_rejects_bad_options_and_arity() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "key1", "ohmytext");
    set(&mut c, "key2", "mynewtext");
    let both = "ERR If you want both the length and indexes, please just use IDX.";
    err(
        &mut c,
        cmd("LCS").arg("key1").arg("key2").arg("LEN").arg("IDX"),
        both,
    );
    err(
        &mut c,
        cmd("LCS").arg("key1").arg("key2").arg("IDX").arg("LEN"),
        both,
    );
    for opts in [
        &["FOO"][..],
        &["MINMATCHLEN"],
        &["IDX", "MINMATCHLEN"],
        &[""],
    ] {
        let mut cm = cmd("LCS");
        cm.arg("key1").arg("key2");
        for o in opts {
            cm.arg(*o);
        }
        err(&mut c, &mut cm, "ERR syntax error");
    }
    err(
        &mut c,
        cmd("LCS")
            .arg("key1")
            .arg("key2")
            .arg("MINMATCHLEN")
            .arg("abc"),
        "ERR value is not an integer or out of range",
    );
    let arity = "ERR wrong number of arguments for 'lcs' command";
    err(&mut c, &mut cmd("LCS"), arity);
    err(&mut c, cmd("LCS").arg("key1"), arity);
    assert_eq!(dbsize(&mut c), 2);
}
