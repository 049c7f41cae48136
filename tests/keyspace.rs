//! Generic key commands end to end: DEL UNLINK EXISTS TOUCH TYPE, RENAME RENAMENX, COPY and MOVE
//! across databases, KEYS glob patterns, SCAN (MATCH COUNT TYPE and full iteration), RANDOMKEY,
//! EXPIRE PEXPIRE EXPIREAT PEXPIREAT with NX XX GT LT, TTL PTTL EXPIRETIME PEXPIRETIME PERSIST,
//! OBJECT (ENCODING FREQ IDLETIME REFCOUNT HELP), DUMP/RESTORE, and DBSIZE after each change.
//!
//! Every test starts the real server in-process and talks to it with the `redis` crate. The
//! expected replies and error texts are Redis 7's, byte for byte (checked against a real
//! redis-server 7.0); every error case also checks that the connection stays usable.
mod common;

use common::{
    arity, assert_err_exact as err, bulk, dbsize, exists, get_str, int, now_ms, pttl, select, set,
    set_px, ttl, val, TestServer,
};
use redis::{cmd, Connection, Value};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

fn status(s: &str) -> Value {
    Value::SimpleString(s.to_string())
}

const NOT_INT: &str = "ERR value is not an integer or out of range";

// ---------------------------------------------------------------------------------------------
// DEL / UNLINK / EXISTS / TOUCH / TYPE / DBSIZE
// ---------------------------------------------------------------------------------------------

#[test]
fn del_counts_each_removed_key_once() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(
        val(
            &mut c,
            cmd("MSET").arg("a").arg(1).arg("b").arg(2).arg("c").arg(3)
        ),
        Value::Okay
    );
    assert_eq!(dbsize(&mut c), 3);
    assert_eq!(
        int(&mut c, cmd("DEL").arg("a").arg("a").arg("b").arg("missing")),
        2
    );
    assert_eq!(dbsize(&mut c), 1);
    assert_eq!(exists(&mut c, "a"), 0);
    assert_eq!(int(&mut c, cmd("DEL").arg("missing")), 0);
    assert_eq!(int(&mut c, cmd("DEL").arg("c")), 1);
    assert_eq!(dbsize(&mut c), 0);
}

#[test]
fn unlink_removes_keys_like_del() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "a", "1");
    set(&mut c, "big", vec![b'x'; 1024 * 1024]);
    set(&mut c, &b"bin\0\r\n"[..], "v");
    assert_eq!(
        int(
            &mut c,
            cmd("UNLINK").arg("a").arg("a").arg("big").arg("missing")
        ),
        2
    );
    assert_eq!(dbsize(&mut c), 1);
    assert_eq!(int(&mut c, cmd("UNLINK").arg(&b"bin\0\r\n"[..])), 1);
    assert_eq!(dbsize(&mut c), 0);
    assert_eq!(val(&mut c, cmd("GET").arg("big")), Value::Nil);
}

#[test]
fn del_unlink_exists_touch_type_dbsize_reject_wrong_arity() {
    let srv = TestServer::start();
    let mut c = srv.client();
    for name in ["DEL", "UNLINK", "EXISTS", "TOUCH", "TYPE"] {
        err(&mut c, &mut cmd(name), &arity(&name.to_lowercase()));
    }
    err(&mut c, cmd("TYPE").arg("a").arg("b"), &arity("type"));
    err(&mut c, cmd("DBSIZE").arg("x"), &arity("dbsize"));
}

#[test]
fn exists_counts_duplicates() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "c", "3");
    set(&mut c, "", "empty key");
    assert_eq!(
        int(
            &mut c,
            cmd("EXISTS").arg("c").arg("c").arg("c").arg("missing")
        ),
        3
    );
    assert_eq!(int(&mut c, cmd("EXISTS").arg("missing")), 0);
    assert_eq!(int(&mut c, cmd("EXISTS").arg("")), 1);
    assert_eq!(dbsize(&mut c), 2);
}

#[test]
fn touch_counts_existing_keys_and_resets_idle_time() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "src", "v");
    let payload: Vec<u8> = cmd("DUMP").arg("src").query(&mut c).unwrap();
    assert_eq!(
        val(
            &mut c,
            cmd("RESTORE")
                .arg("t")
                .arg(0)
                .arg(&payload[..])
                .arg("IDLETIME")
                .arg(1000)
        ),
        Value::Okay
    );
    // Reads that do not count as an access leave the idle time alone.
    assert_eq!(exists(&mut c, "t"), 1);
    assert_eq!(ttl(&mut c, "t"), -1);
    assert_eq!(val(&mut c, cmd("TYPE").arg("t")), status("string"));
    assert!(int(&mut c, cmd("OBJECT").arg("IDLETIME").arg("t")) >= 1000);
    assert_eq!(
        int(&mut c, cmd("TOUCH").arg("t").arg("t").arg("missing")),
        2
    );
    assert!(int(&mut c, cmd("OBJECT").arg("IDLETIME").arg("t")) <= 1);
    assert_eq!(int(&mut c, cmd("TOUCH").arg("missing")), 0);
    assert_eq!(dbsize(&mut c), 2);
}

#[test]
fn type_reports_string_or_none() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "s", "v");
    set(&mut c, "n", 42);
    assert_eq!(val(&mut c, cmd("TYPE").arg("s")), status("string"));
    assert_eq!(val(&mut c, cmd("TYPE").arg("n")), status("string"));
    assert_eq!(val(&mut c, cmd("TYPE").arg("missing")), status("none"));
}

#[test]
fn dbsize_follows_every_keyspace_change() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(dbsize(&mut c), 0);
    set(&mut c, "a", "1");
    assert_eq!(dbsize(&mut c), 1);
    set(&mut c, "a", "2");
    assert_eq!(dbsize(&mut c), 1);
    assert_eq!(int(&mut c, cmd("INCR").arg("n")), 1);
    assert_eq!(dbsize(&mut c), 2);
    assert_eq!(int(&mut c, cmd("COPY").arg("a").arg("b")), 1);
    assert_eq!(dbsize(&mut c), 3);
    assert_eq!(val(&mut c, cmd("RENAME").arg("b").arg("c")), Value::Okay);
    assert_eq!(dbsize(&mut c), 3);
    assert_eq!(int(&mut c, cmd("MOVE").arg("c").arg(1)), 1);
    assert_eq!(dbsize(&mut c), 2);
    select(&mut c, 1);
    assert_eq!(dbsize(&mut c), 1);
    select(&mut c, 0);
    assert_eq!(int(&mut c, cmd("DEL").arg("a").arg("n")), 2);
    assert_eq!(dbsize(&mut c), 0);
}

// ---------------------------------------------------------------------------------------------
// RENAME / RENAMENX
// ---------------------------------------------------------------------------------------------

#[test]
fn rename_moves_the_value_and_its_ttl() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set_px(&mut c, "s", "v", 100_000);
    assert_eq!(val(&mut c, cmd("RENAME").arg("s").arg("d")), Value::Okay);
    assert_eq!(exists(&mut c, "s"), 0);
    assert_eq!(get_str(&mut c, "d").as_deref(), Some("v"));
    let p = pttl(&mut c, "d");
    assert!((99_000..=100_000).contains(&p), "pttl {p}");
    assert_eq!(dbsize(&mut c), 1);
    // Binary names.
    assert_eq!(
        val(&mut c, cmd("RENAME").arg("d").arg(&b"\0\r\n"[..])),
        Value::Okay
    );
    assert_eq!(exists(&mut c, &b"\0\r\n"[..]), 1);
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn rename_overwrites_the_destination_and_its_ttl() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set_px(&mut c, "o", "old", 100_000);
    set(&mut c, "p", "new");
    assert_eq!(val(&mut c, cmd("RENAME").arg("p").arg("o")), Value::Okay);
    assert_eq!(get_str(&mut c, "o").as_deref(), Some("new"));
    assert_eq!(ttl(&mut c, "o"), -1);
    set_px(&mut c, "q", "newer", 50_000);
    assert_eq!(val(&mut c, cmd("RENAME").arg("q").arg("o")), Value::Okay);
    assert_eq!(get_str(&mut c, "o").as_deref(), Some("newer"));
    let p = pttl(&mut c, "o");
    assert!((49_000..=50_000).contains(&p), "pttl {p}");
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn rename_to_the_same_name_keeps_the_key_and_ttl() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set_px(&mut c, "k", "v", 100_000);
    assert_eq!(val(&mut c, cmd("RENAME").arg("k").arg("k")), Value::Okay);
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("v"));
    assert_eq!(ttl(&mut c, "k"), 100);
    assert_eq!(int(&mut c, cmd("RENAMENX").arg("k").arg("k")), 0);
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("v"));
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn rename_and_renamenx_of_a_missing_key_are_errors() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "x", "v");
    for name in ["RENAME", "RENAMENX"] {
        err(&mut c, cmd(name).arg("missing").arg("x"), "ERR no such key");
        err(&mut c, cmd(name).arg("missing").arg("y"), "ERR no such key");
        err(
            &mut c,
            cmd(name).arg("missing").arg("missing"),
            "ERR no such key",
        );
        err(&mut c, cmd(name).arg("x"), &arity(&name.to_lowercase()));
        err(
            &mut c,
            cmd(name).arg("x").arg("y").arg("z"),
            &arity(&name.to_lowercase()),
        );
    }
    assert_eq!(get_str(&mut c, "x").as_deref(), Some("v"));
    assert_eq!(exists(&mut c, "y"), 0);
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn renamenx_only_renames_onto_a_missing_key() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "o", "other");
    set_px(&mut c, "q", "1", 100_000);
    assert_eq!(int(&mut c, cmd("RENAMENX").arg("q").arg("o")), 0);
    assert_eq!(get_str(&mut c, "o").as_deref(), Some("other"));
    assert_eq!(get_str(&mut c, "q").as_deref(), Some("1"));
    assert_eq!(int(&mut c, cmd("RENAMENX").arg("q").arg("new")), 1);
    assert_eq!(exists(&mut c, "q"), 0);
    assert_eq!(get_str(&mut c, "new").as_deref(), Some("1"));
    assert_eq!(ttl(&mut c, "new"), 100);
    assert_eq!(dbsize(&mut c), 2);
}

// ---------------------------------------------------------------------------------------------
// COPY / MOVE
// ---------------------------------------------------------------------------------------------

#[test]
fn copy_duplicates_the_value_and_ttl() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set_px(&mut c, "vol", "x", 50_000);
    assert_eq!(int(&mut c, cmd("COPY").arg("vol").arg("vol2")), 1);
    assert_eq!(get_str(&mut c, "vol2").as_deref(), Some("x"));
    let p = pttl(&mut c, "vol2");
    assert!((49_000..=50_000).contains(&p), "pttl {p}");
    // The copy is independent of its source.
    assert_eq!(int(&mut c, cmd("APPEND").arg("vol2").arg("y")), 2);
    assert_eq!(get_str(&mut c, "vol").as_deref(), Some("x"));
    set(&mut c, "plain", "p");
    assert_eq!(int(&mut c, cmd("COPY").arg("plain").arg("plain2")), 1);
    assert_eq!(ttl(&mut c, "plain2"), -1);
    assert_eq!(dbsize(&mut c), 4);
}

#[test]
fn copy_needs_replace_to_overwrite() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "src", "new");
    set_px(&mut c, "dst", "old", 100_000);
    assert_eq!(int(&mut c, cmd("COPY").arg("src").arg("dst")), 0);
    assert_eq!(get_str(&mut c, "dst").as_deref(), Some("old"));
    assert_eq!(
        int(&mut c, cmd("COPY").arg("src").arg("dst").arg("REPLACE")),
        1
    );
    assert_eq!(get_str(&mut c, "dst").as_deref(), Some("new"));
    assert_eq!(ttl(&mut c, "dst"), -1);
    assert_eq!(
        int(
            &mut c,
            cmd("COPY")
                .arg("src")
                .arg("dst")
                .arg("replace")
                .arg("REPLACE")
        ),
        1
    );
    assert_eq!(int(&mut c, cmd("COPY").arg("missing").arg("dst")), 0);
    assert_eq!(
        int(&mut c, cmd("COPY").arg("missing").arg("x").arg("REPLACE")),
        0
    );
    assert_eq!(exists(&mut c, "x"), 0);
    assert_eq!(get_str(&mut c, "dst").as_deref(), Some("new"));
    assert_eq!(dbsize(&mut c), 2);
}

#[test]
fn copy_into_another_database() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set_px(&mut c, "k", "v", 100_000);
    // The same name is fine across databases.
    assert_eq!(
        int(&mut c, cmd("COPY").arg("k").arg("k").arg("DB").arg(1)),
        1
    );
    assert_eq!(
        int(&mut c, cmd("COPY").arg("k").arg("k2").arg("db").arg(1)),
        1
    );
    assert_eq!(
        int(&mut c, cmd("COPY").arg("k").arg("k").arg("DB").arg(1)),
        0
    );
    assert_eq!(dbsize(&mut c), 1);
    select(&mut c, 1);
    assert_eq!(dbsize(&mut c), 2);
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("v"));
    let p = pttl(&mut c, "k");
    assert!((99_000..=100_000).contains(&p), "pttl {p}");
    set(&mut c, "k", "changed in 1");
    // From database 1 back to 0, with REPLACE.
    assert_eq!(
        int(
            &mut c,
            cmd("COPY")
                .arg("k")
                .arg("k")
                .arg("DB")
                .arg(0)
                .arg("REPLACE")
        ),
        1
    );
    select(&mut c, 0);
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("changed in 1"));
    assert_eq!(ttl(&mut c, "k"), -1);
}

#[test]
fn copy_rejects_bad_arguments() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "v");
    let same = "ERR source and destination objects are the same";
    err(&mut c, cmd("COPY").arg("k").arg("k"), same);
    err(&mut c, cmd("COPY").arg("k").arg("k").arg("DB").arg(0), same);
    err(&mut c, cmd("COPY").arg("k").arg("k").arg("REPLACE"), same);
    let range = "ERR DB index is out of range";
    err(
        &mut c,
        cmd("COPY").arg("k").arg("c").arg("DB").arg(16),
        range,
    );
    err(
        &mut c,
        cmd("COPY").arg("k").arg("c").arg("DB").arg(-1),
        range,
    );
    err(
        &mut c,
        cmd("COPY").arg("k").arg("c").arg("DB").arg("abc"),
        NOT_INT,
    );
    err(
        &mut c,
        cmd("COPY").arg("k").arg("c").arg("FOO"),
        "ERR syntax error",
    );
    err(
        &mut c,
        cmd("COPY").arg("k").arg("c").arg("DB"),
        "ERR syntax error",
    );
    err(&mut c, &mut cmd("COPY"), &arity("copy"));
    err(&mut c, cmd("COPY").arg("k"), &arity("copy"));
    select(&mut c, 1);
    set(&mut c, "k", "v1");
    err(&mut c, cmd("COPY").arg("k").arg("k").arg("DB").arg(1), same);
    select(&mut c, 0);
    assert_eq!(exists(&mut c, "c"), 0);
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn copy_and_move_db_index_must_fit_a_32_bit_integer() {
    // Redis reads the index with getIntFromObjectOrReply.
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "v");
    let e = "ERR value is out of range, value must between -2147483648 and 2147483647";
    err(
        &mut c,
        cmd("COPY")
            .arg("k")
            .arg("c")
            .arg("DB")
            .arg(4_294_967_296i64),
        e,
    );
    err(&mut c, cmd("MOVE").arg("k").arg(4_294_967_296i64), e);
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn move_transfers_a_key_to_another_database_with_its_ttl() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set_px(&mut c, "mv", "1", 100_000);
    assert_eq!(int(&mut c, cmd("MOVE").arg("mv").arg(1)), 1);
    assert_eq!(exists(&mut c, "mv"), 0);
    assert_eq!(dbsize(&mut c), 0);
    select(&mut c, 1);
    assert_eq!(get_str(&mut c, "mv").as_deref(), Some("1"));
    let p = pttl(&mut c, "mv");
    assert!((99_000..=100_000).contains(&p), "pttl {p}");
    assert_eq!(dbsize(&mut c), 1);
    // And back from database 1 to 15 then 0.
    assert_eq!(int(&mut c, cmd("MOVE").arg("mv").arg(15)), 1);
    select(&mut c, 15);
    assert_eq!(int(&mut c, cmd("MOVE").arg("mv").arg(0)), 1);
    select(&mut c, 0);
    assert_eq!(get_str(&mut c, "mv").as_deref(), Some("1"));
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn move_does_nothing_when_the_target_exists_or_the_key_is_missing() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "db0");
    select(&mut c, 1);
    set(&mut c, "k", "db1");
    select(&mut c, 0);
    assert_eq!(int(&mut c, cmd("MOVE").arg("k").arg(1)), 0);
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("db0"));
    assert_eq!(int(&mut c, cmd("MOVE").arg("missing").arg(1)), 0);
    select(&mut c, 1);
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("db1"));
    assert_eq!(exists(&mut c, "missing"), 0);
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn move_rejects_bad_arguments() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "v");
    let same = "ERR source and destination objects are the same";
    err(&mut c, cmd("MOVE").arg("k").arg(0), same);
    err(&mut c, cmd("MOVE").arg("missing").arg(0), same);
    let range = "ERR DB index is out of range";
    err(&mut c, cmd("MOVE").arg("k").arg(16), range);
    err(&mut c, cmd("MOVE").arg("k").arg(-1), range);
    err(&mut c, cmd("MOVE").arg("k").arg("abc"), NOT_INT);
    err(&mut c, cmd("MOVE").arg("k").arg("1.5"), NOT_INT);
    err(&mut c, cmd("MOVE").arg("k"), &arity("move"));
    err(&mut c, cmd("MOVE").arg("k").arg(1).arg(2), &arity("move"));
    select(&mut c, 3);
    err(&mut c, cmd("MOVE").arg("k").arg(3), same);
    select(&mut c, 0);
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("v"));
    assert_eq!(dbsize(&mut c), 1);
}

// ---------------------------------------------------------------------------------------------
// KEYS
// ---------------------------------------------------------------------------------------------

fn keys(con: &mut Connection, pattern: &str) -> BTreeSet<String> {
    let v: Vec<String> = cmd("KEYS").arg(pattern).query(con).expect("KEYS");
    let n = v.len();
    let set: BTreeSet<String> = v.into_iter().collect();
    assert_eq!(set.len(), n, "KEYS {pattern} returned a key twice");
    set
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn keys_matches_glob_patterns() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let all = [
        "hello", "hallo", "hxllo", "hbllo", "hllo", "heeeello", "h*llo", "h?llo", "h[a]llo",
        "h\\llo", "ha", "",
    ];
    let mut ms = cmd("MSET");
    for k in all {
        ms.arg(k).arg(1);
    }
    assert_eq!(val(&mut c, &mut ms), Value::Okay);
    let cases: &[(&str, &[&str])] = &[
        ("*", &all),
        (
            "h?llo",
            &[
                "hello", "hallo", "hxllo", "hbllo", "h*llo", "h?llo", "h\\llo",
            ],
        ),
        (
            "h*llo",
            &[
                "hello", "hallo", "hxllo", "hbllo", "hllo", "heeeello", "h*llo", "h?llo",
                "h[a]llo", "h\\llo",
            ],
        ),
        ("h[ae]llo", &["hello", "hallo"]),
        (
            "h[^e]llo",
            &["hallo", "hxllo", "hbllo", "h*llo", "h?llo", "h\\llo"],
        ),
        ("h[a-b]llo", &["hallo", "hbllo"]),
        // A reversed range still matches.
        ("h[b-a]llo", &["hallo", "hbllo"]),
        ("h\\*llo", &["h*llo"]),
        ("h\\?llo", &["h?llo"]),
        ("h\\[a\\]llo", &["h[a]llo"]),
        ("h\\\\llo", &["h\\llo"]),
        // The empty pattern matches only the empty key.
        ("", &[""]),
        ("nothing*", &[]),
        ("hello", &["hello"]),
        // Unterminated classes behave as Redis's matcher does.
        ("h[a", &["ha"]),
        ("h[\\a]", &["ha"]),
        ("?", &[]),
        ("??", &["ha"]),
        ("*o", &all[..10]),
    ];
    for (pattern, want) in cases {
        assert_eq!(keys(&mut c, pattern), names(want), "KEYS {pattern:?}");
    }
    // Matching is case-sensitive.
    assert_eq!(keys(&mut c, "HELLO"), names(&[]));
    err(&mut c, &mut cmd("KEYS"), &arity("keys"));
    err(&mut c, cmd("KEYS").arg("a").arg("b"), &arity("keys"));
    assert_eq!(dbsize(&mut c), all.len() as i64);
}

#[test]
fn keys_only_sees_the_selected_database_and_live_keys() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "a", "1");
    set_px(&mut c, "gone", "1", 10);
    select(&mut c, 1);
    set(&mut c, "b", "1");
    assert_eq!(keys(&mut c, "*"), names(&["b"]));
    select(&mut c, 0);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(keys(&mut c, "*"), names(&["a"]));
}

// ---------------------------------------------------------------------------------------------
// SCAN
// ---------------------------------------------------------------------------------------------

/// Runs one SCAN call with extra arguments and returns (next cursor, keys).
fn scan_step(con: &mut Connection, cursor: &str, extra: &[&str]) -> (String, Vec<String>) {
    let mut c = cmd("SCAN");
    c.arg(cursor);
    for e in extra {
        c.arg(*e);
    }
    c.query(con).expect("SCAN")
}

/// Iterates SCAN to cursor 0 and returns how often each key was returned.
fn scan_all(con: &mut Connection, extra: &[&str]) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    let mut cursor = "0".to_string();
    for _ in 0..100_000 {
        let (next, batch) = scan_step(con, &cursor, extra);
        for k in batch {
            *seen.entry(k).or_insert(0) += 1;
        }
        if next == "0" {
            return seen;
        }
        cursor = next;
    }
    panic!("SCAN never returned cursor 0");
}

fn mset_many(con: &mut Connection, keys: impl Iterator<Item = String>) {
    let mut c = cmd("MSET");
    for k in keys {
        c.arg(k).arg("v");
    }
    assert_eq!(val(con, &mut c), Value::Okay);
}

#[test]
fn scan_full_iteration_returns_every_key() {
    let srv = TestServer::start();
    let mut c = srv.client();
    mset_many(&mut c, (0..1000).map(|i| format!("key:{i}")));
    assert_eq!(dbsize(&mut c), 1000);
    for extra in [
        &[][..],
        &["COUNT", "7"],
        &["COUNT", "1"],
        &["COUNT", "100000"],
    ] {
        let seen = scan_all(&mut c, extra);
        assert_eq!(seen.len(), 1000, "SCAN {extra:?}");
        for i in 0..1000 {
            assert!(
                seen.contains_key(&format!("key:{i}")),
                "SCAN {extra:?} missed key:{i}"
            );
        }
    }
    // An empty database is one call answering cursor 0.
    assert_eq!(val(&mut c, &mut cmd("FLUSHDB")), Value::Okay);
    assert_eq!(scan_step(&mut c, "0", &[]), ("0".to_string(), vec![]));
}

#[test]
fn scan_returns_keys_present_throughout_despite_concurrent_changes() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let mut other = srv.client();
    mset_many(&mut c, (0..1000).map(|i| format!("stable:{i}")));
    mset_many(&mut c, (0..500).map(|i| format!("doomed:{i}")));
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_string();
    let mut round = 0;
    loop {
        let (next, batch) = scan_step(&mut c, &cursor, &["COUNT", "20"]);
        seen.extend(batch);
        // Another client deletes and adds keys between calls.
        let _: i64 = cmd("DEL")
            .arg(format!("doomed:{round}"))
            .query(&mut other)
            .unwrap();
        set(&mut other, format!("added:{round}"), "v");
        round += 1;
        if next == "0" {
            break;
        }
        assert!(round < 10_000, "SCAN does not terminate");
        cursor = next;
    }
    for i in 0..1000 {
        assert!(seen.contains(&format!("stable:{i}")), "missed stable:{i}");
    }
}

#[test]
fn scan_match_filters_keys() {
    let srv = TestServer::start();
    let mut c = srv.client();
    mset_many(&mut c, (0..300).map(|i| format!("user:{i}")));
    mset_many(&mut c, (0..300).map(|i| format!("item:{i}")));
    let seen = scan_all(&mut c, &["MATCH", "user:*"]);
    assert_eq!(seen.len(), 300);
    assert!(seen.keys().all(|k| k.starts_with("user:")));
    let seen = scan_all(&mut c, &["MATCH", "item:1?", "COUNT", "50"]);
    let want: BTreeSet<String> = (10..20).map(|i| format!("item:{i}")).collect();
    assert_eq!(seen.keys().cloned().collect::<BTreeSet<_>>(), want);
    assert!(scan_all(&mut c, &["MATCH", "nomatch*"]).is_empty());
    let seen = scan_all(&mut c, &["match", "*", "count", "1000"]);
    assert_eq!(seen.len(), 600);
}

#[test]
fn scan_type_filters_by_value_type() {
    let srv = TestServer::start();
    let mut c = srv.client();
    mset_many(&mut c, (0..50).map(|i| format!("s:{i}")));
    assert_eq!(scan_all(&mut c, &["TYPE", "string"]).len(), 50);
    assert_eq!(
        scan_all(&mut c, &["type", "STRING", "COUNT", "5"]).len(),
        50
    );
    assert!(scan_all(&mut c, &["TYPE", "list"]).is_empty());
    assert!(scan_all(&mut c, &["TYPE", "hash"]).is_empty());
    // An unknown type name matches nothing in Redis 7.
    assert!(scan_all(&mut c, &["TYPE", "nosuchtype"]).is_empty());
    let seen = scan_all(&mut c, &["MATCH", "s:1*", "TYPE", "string"]);
    assert_eq!(seen.len(), 11);
}

#[test]
fn scan_rejects_bad_cursors_and_options() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "v");
    for bad in ["abc", " 0", "0 ", "0x10", "1.5", "18446744073709551616"] {
        err(&mut c, cmd("SCAN").arg(bad), "ERR invalid cursor");
    }
    let syntax = "ERR syntax error";
    for extra in [
        &["COUNT", "0"][..],
        &["COUNT", "-1"],
        &["MATCH"],
        &["COUNT"],
        &["TYPE"],
        &["FOO", "bar"],
        &["MATCH", "*", "COUNT"],
    ] {
        let mut cm = cmd("SCAN");
        cm.arg(0);
        for e in extra {
            cm.arg(*e);
        }
        err(&mut c, &mut cm, syntax);
    }
    err(&mut c, cmd("SCAN").arg(0).arg("COUNT").arg("abc"), NOT_INT);
    err(&mut c, &mut cmd("SCAN"), &arity("scan"));
    // The largest cursor is valid (and simply finishes the iteration).
    let (next, _) = scan_step(&mut c, "18446744073709551615", &[]);
    assert_eq!(next, "0");
}

// ---------------------------------------------------------------------------------------------
// RANDOMKEY
// ---------------------------------------------------------------------------------------------

#[test]
fn randomkey_returns_an_existing_key_or_nil() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(val(&mut c, &mut cmd("RANDOMKEY")), Value::Nil);
    set(&mut c, "only", "v");
    assert_eq!(val(&mut c, &mut cmd("RANDOMKEY")), bulk("only"));
    mset_many(&mut c, (0..20).map(|i| format!("k{i}")));
    let mut seen = BTreeSet::new();
    for _ in 0..200 {
        let k: String = cmd("RANDOMKEY").query(&mut c).unwrap();
        assert!(k == "only" || k.starts_with('k'), "unexpected key {k}");
        seen.insert(k);
    }
    assert!(seen.len() > 1, "RANDOMKEY always returned {seen:?}");
    assert_eq!(val(&mut c, &mut cmd("FLUSHDB")), Value::Okay);
    assert_eq!(val(&mut c, &mut cmd("RANDOMKEY")), Value::Nil);
    err(&mut c, cmd("RANDOMKEY").arg("x"), &arity("randomkey"));
}

#[test]
fn randomkey_never_returns_an_expired_key() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set_px(&mut c, "gone", "v", 10);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(val(&mut c, &mut cmd("RANDOMKEY")), Value::Nil);
    set(&mut c, "live", "v");
    set_px(&mut c, "gone2", "v", 10);
    std::thread::sleep(Duration::from_millis(50));
    for _ in 0..20 {
        assert_eq!(val(&mut c, &mut cmd("RANDOMKEY")), bulk("live"));
    }
}

// ---------------------------------------------------------------------------------------------
// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT
// ---------------------------------------------------------------------------------------------

#[test]
fn expire_commands_set_the_ttl_in_their_unit() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "v");
    assert_eq!(int(&mut c, cmd("EXPIRE").arg("k").arg(100)), 1);
    assert_eq!(ttl(&mut c, "k"), 100);
    assert_eq!(int(&mut c, cmd("PEXPIRE").arg("k").arg(5000)), 1);
    let p = pttl(&mut c, "k");
    assert!((4_000..=5_000).contains(&p), "pttl {p}");
    let at_s = now_ms() / 1000 + 200;
    assert_eq!(int(&mut c, cmd("EXPIREAT").arg("k").arg(at_s)), 1);
    assert_eq!(int(&mut c, cmd("EXPIRETIME").arg("k")), at_s);
    assert_eq!(int(&mut c, cmd("PEXPIRETIME").arg("k")), at_s * 1000);
    let at_ms = now_ms() + 300_000;
    assert_eq!(int(&mut c, cmd("PEXPIREAT").arg("k").arg(at_ms)), 1);
    assert_eq!(int(&mut c, cmd("PEXPIRETIME").arg("k")), at_ms);
    // The value is untouched, and the largest representable deadline is accepted.
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("v"));
    assert_eq!(int(&mut c, cmd("PEXPIREAT").arg("k").arg(i64::MAX)), 1);
    assert_eq!(int(&mut c, cmd("PEXPIRETIME").arg("k")), i64::MAX);
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn expire_commands_on_a_missing_key_return_zero() {
    let srv = TestServer::start();
    let mut c = srv.client();
    for (name, t) in [
        ("EXPIRE", 100),
        ("PEXPIRE", 100_000),
        ("EXPIREAT", now_ms() / 1000 + 100),
        ("PEXPIREAT", now_ms() + 100_000),
        ("EXPIRE", -1),
        ("PEXPIREAT", 1),
    ] {
        assert_eq!(int(&mut c, cmd(name).arg("missing").arg(t)), 0, "{name}");
    }
    assert_eq!(dbsize(&mut c), 0);
}

#[test]
fn expire_nx_xx_gt_lt_follow_redis_rules() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "v");
    let exp = |c: &mut Connection, t: i64, opt: &str| -> i64 {
        int(c, cmd("EXPIRE").arg("k").arg(t).arg(opt))
    };
    // No TTL yet: XX and GT refuse (no TTL counts as infinite), LT sets it.
    assert_eq!(exp(&mut c, 100, "XX"), 0);
    assert_eq!(exp(&mut c, 100, "GT"), 0);
    assert_eq!(ttl(&mut c, "k"), -1);
    assert_eq!(exp(&mut c, 100, "LT"), 1);
    assert_eq!(ttl(&mut c, "k"), 100);
    // With a TTL: NX refuses.
    assert_eq!(exp(&mut c, 200, "NX"), 0);
    assert_eq!(ttl(&mut c, "k"), 100);
    assert_eq!(exp(&mut c, 200, "gt"), 1);
    assert_eq!(ttl(&mut c, "k"), 200);
    assert_eq!(exp(&mut c, 50, "GT"), 0);
    assert_eq!(exp(&mut c, 300, "LT"), 0);
    assert_eq!(exp(&mut c, 50, "lt"), 1);
    assert_eq!(ttl(&mut c, "k"), 50);
    assert_eq!(exp(&mut c, 60, "xx"), 1);
    assert_eq!(ttl(&mut c, "k"), 60);
    // An equal deadline is neither greater nor less.
    let at = now_ms() + 500_000;
    assert_eq!(int(&mut c, cmd("PEXPIREAT").arg("k").arg(at)), 1);
    for opt in ["GT", "LT"] {
        assert_eq!(
            int(&mut c, cmd("PEXPIREAT").arg("k").arg(at).arg(opt)),
            0,
            "{opt}"
        );
    }
    // XX combined with GT / LT.
    assert_eq!(
        int(
            &mut c,
            cmd("PEXPIREAT").arg("k").arg(at + 1).arg("XX").arg("GT")
        ),
        1
    );
    assert_eq!(int(&mut c, cmd("PEXPIRETIME").arg("k")), at + 1);
    // Repeating an option is accepted.
    assert_eq!(
        int(&mut c, cmd("EXPIRE").arg("k").arg(10).arg("LT").arg("LT")),
        1
    );
    set(&mut c, "n", "v");
    assert_eq!(
        int(&mut c, cmd("EXPIRE").arg("n").arg(100).arg("NX").arg("NX")),
        1
    );
    assert_eq!(int(&mut c, cmd("PEXPIRE").arg("n").arg(100).arg("NX")), 0);
    assert_eq!(int(&mut c, cmd("PEXPIRE").arg("n").arg(100).arg("GT")), 0);
    assert_eq!(dbsize(&mut c), 2);
}

#[test]
fn expire_option_conflicts_are_errors() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "v");
    let nx = "ERR NX and XX, GT or LT options at the same time are not compatible";
    let gtlt = "ERR GT and LT options at the same time are not compatible";
    for name in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
        for key in ["k", "missing"] {
            for (opts, e) in [
                (&["NX", "XX"][..], nx),
                (&["XX", "NX"], nx),
                (&["NX", "GT"], nx),
                (&["NX", "LT"], nx),
                (&["GT", "LT"], gtlt),
                (&["XX", "GT", "LT"], gtlt),
            ] {
                let mut cm = cmd(name);
                cm.arg(key).arg(100_000_000_000i64);
                for o in opts {
                    cm.arg(*o);
                }
                err(&mut c, &mut cm, e);
            }
            err(
                &mut c,
                cmd(name).arg(key).arg(100).arg("FOO"),
                "ERR Unsupported option FOO",
            );
            err(
                &mut c,
                cmd(name).arg(key).arg(100).arg("nx").arg("bar"),
                "ERR Unsupported option bar",
            );
        }
    }
    // Options are checked before the time.
    err(
        &mut c,
        cmd("EXPIRE").arg("k").arg("abc").arg("FOO"),
        "ERR Unsupported option FOO",
    );
    assert_eq!(ttl(&mut c, "k"), -1);
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn expire_with_a_non_positive_or_past_time_deletes_the_key() {
    let srv = TestServer::start();
    let mut c = srv.client();
    for (name, t) in [
        ("EXPIRE", 0),
        ("EXPIRE", -1),
        ("PEXPIRE", 0),
        ("PEXPIRE", -100),
        ("PEXPIRE", i64::MIN),
        ("EXPIREAT", 1),
        ("EXPIREAT", 0),
        ("EXPIREAT", now_ms() / 1000 - 10),
        ("PEXPIREAT", 1),
        ("PEXPIREAT", now_ms() - 1000),
        ("PEXPIREAT", i64::MIN),
    ] {
        set(&mut c, "k", "v");
        assert_eq!(int(&mut c, cmd(name).arg("k").arg(t)), 1, "{name} k {t}");
        assert_eq!(exists(&mut c, "k"), 0, "{name} k {t}");
        assert_eq!(dbsize(&mut c), 0, "{name} k {t}");
    }
}

#[test]
fn expire_in_the_past_respects_gt_and_lt() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set_px(&mut c, "k", "v", 100_000);
    assert_eq!(int(&mut c, cmd("EXPIRE").arg("k").arg(-1).arg("GT")), 0);
    assert_eq!(exists(&mut c, "k"), 1);
    assert_eq!(int(&mut c, cmd("EXPIRE").arg("k").arg(-1).arg("NX")), 0);
    assert_eq!(exists(&mut c, "k"), 1);
    assert_eq!(int(&mut c, cmd("EXPIRE").arg("k").arg(-1).arg("LT")), 1);
    assert_eq!(exists(&mut c, "k"), 0);
    set(&mut c, "p", "v");
    assert_eq!(int(&mut c, cmd("PEXPIRE").arg("p").arg(-1).arg("XX")), 0);
    assert_eq!(exists(&mut c, "p"), 1);
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn expire_rejects_overflowing_and_non_integer_times() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "v");
    for (name, lower, t) in [
        ("EXPIRE", "expire", "9223372036854775807"),
        ("EXPIRE", "expire", "9223372036854775"),
        ("EXPIRE", "expire", "-9223372036854775808"),
        ("PEXPIRE", "pexpire", "9223372036854775807"),
        ("EXPIREAT", "expireat", "9223372036854775807"),
        ("EXPIREAT", "expireat", "-9223372036854775808"),
    ] {
        err(
            &mut c,
            cmd(name).arg("k").arg(t),
            &format!("ERR invalid expire time in '{lower}' command"),
        );
    }
    for name in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
        for bad in ["abc", "1.5", "", " 1", "9223372036854775808"] {
            err(&mut c, cmd(name).arg("k").arg(bad), NOT_INT);
        }
        err(&mut c, cmd(name).arg("missing").arg("abc"), NOT_INT);
        err(&mut c, cmd(name).arg("k"), &arity(&name.to_lowercase()));
        err(&mut c, &mut cmd(name), &arity(&name.to_lowercase()));
    }
    assert_eq!(ttl(&mut c, "k"), -1);
    assert_eq!(dbsize(&mut c), 1);
}

// ---------------------------------------------------------------------------------------------
// TTL / PTTL / EXPIRETIME / PEXPIRETIME / PERSIST
// ---------------------------------------------------------------------------------------------

#[test]
fn ttl_family_reports_minus_two_for_missing_and_minus_one_for_persistent() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "p", "v");
    for name in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(int(&mut c, cmd(name).arg("missing")), -2, "{name}");
        assert_eq!(int(&mut c, cmd(name).arg("p")), -1, "{name}");
        err(&mut c, &mut cmd(name), &arity(&name.to_lowercase()));
        err(
            &mut c,
            cmd(name).arg("a").arg("b"),
            &arity(&name.to_lowercase()),
        );
    }
}

#[test]
fn ttl_rounds_to_the_nearest_second() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set_px(&mut c, "a", "v", 1_900);
    assert_eq!(ttl(&mut c, "a"), 2);
    set_px(&mut c, "b", "v", 1_400);
    assert_eq!(ttl(&mut c, "b"), 1);
    set_px(&mut c, "c", "v", 100_000);
    assert_eq!(ttl(&mut c, "c"), 100);
}

#[test]
fn expiretime_rounds_to_the_nearest_second() {
    // Redis computes EXPIRETIME as (deadline_ms + 500) / 1000.
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "v");
    assert_eq!(
        int(&mut c, cmd("PEXPIREAT").arg("k").arg(4_102_444_800_600i64)),
        1
    );
    assert_eq!(int(&mut c, cmd("EXPIRETIME").arg("k")), 4_102_444_801);
    assert_eq!(int(&mut c, cmd("PEXPIRETIME").arg("k")), 4_102_444_800_600);
    assert_eq!(
        int(&mut c, cmd("PEXPIREAT").arg("k").arg(4_102_444_800_499i64)),
        1
    );
    assert_eq!(int(&mut c, cmd("EXPIRETIME").arg("k")), 4_102_444_800);
}

#[test]
fn persist_removes_the_ttl() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set_px(&mut c, "k", "v", 100_000);
    assert_eq!(int(&mut c, cmd("PERSIST").arg("k")), 1);
    assert_eq!(ttl(&mut c, "k"), -1);
    assert_eq!(int(&mut c, cmd("PERSIST").arg("k")), 0);
    assert_eq!(int(&mut c, cmd("PERSIST").arg("missing")), 0);
    assert_eq!(get_str(&mut c, "k").as_deref(), Some("v"));
    err(&mut c, &mut cmd("PERSIST"), &arity("persist"));
    err(&mut c, cmd("PERSIST").arg("a").arg("b"), &arity("persist"));
    assert_eq!(dbsize(&mut c), 1);
}

// ---------------------------------------------------------------------------------------------
// OBJECT
// ---------------------------------------------------------------------------------------------

fn encoding(con: &mut Connection, key: &str) -> Option<String> {
    cmd("OBJECT")
        .arg("ENCODING")
        .arg(key)
        .query(con)
        .expect("OBJECT ENCODING")
}

#[test]
fn object_encoding_reports_int_embstr_and_raw() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let emb44 = "0123456789012345678901234567890123456789012a";
    let raw45 = "0123456789012345678901234567890123456789012ab";
    for (value, want) in [
        ("12345", "int"),
        ("-5", "int"),
        ("0", "int"),
        ("9223372036854775807", "int"),
        ("-9223372036854775808", "int"),
        ("hello", "embstr"),
        ("", "embstr"),
        ("012", "embstr"),
        (" 1", "embstr"),
        ("99999999999999999999", "embstr"),
        ("1.5", "embstr"),
        (emb44, "embstr"),
        (raw45, "raw"),
    ] {
        set(&mut c, "k", value);
        assert_eq!(encoding(&mut c, "k").as_deref(), Some(want), "{value:?}");
    }
    assert_eq!(encoding(&mut c, "missing"), None);
    // Commands that build values keep Redis's choice of encoding.
    set(&mut c, "i", 100);
    assert_eq!(int(&mut c, cmd("INCR").arg("i")), 101);
    assert_eq!(encoding(&mut c, "i").as_deref(), Some("int"));
    assert_eq!(int(&mut c, cmd("INCRBY").arg("new").arg(7)), 7);
    assert_eq!(encoding(&mut c, "new").as_deref(), Some("int"));
    assert_eq!(int(&mut c, cmd("SETNX").arg("nx").arg(5)), 1);
    assert_eq!(encoding(&mut c, "nx").as_deref(), Some("int"));
    assert_eq!(
        val(&mut c, cmd("MSET").arg("m").arg(12).arg("m2").arg("x")),
        Value::Okay
    );
    assert_eq!(encoding(&mut c, "m").as_deref(), Some("int"));
    assert_eq!(encoding(&mut c, "m2").as_deref(), Some("embstr"));
}

#[test]
fn object_encoding_of_strings_modified_in_place_is_raw() {
    // APPEND and SETRANGE leave an unshared, growable string: Redis reports `raw` at any size.
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "i", 100);
    assert_eq!(int(&mut c, cmd("APPEND").arg("i").arg(1)), 4);
    assert_eq!(encoding(&mut c, "i").as_deref(), Some("raw"));
    set(&mut c, "s", "abc");
    assert_eq!(int(&mut c, cmd("SETRANGE").arg("s").arg(0).arg("x")), 3);
    assert_eq!(encoding(&mut c, "s").as_deref(), Some("raw"));
    // SETRANGE creating a key also builds a raw string.
    assert_eq!(int(&mut c, cmd("SETRANGE").arg("n").arg(1).arg("x")), 2);
    assert_eq!(encoding(&mut c, "n").as_deref(), Some("raw"));
}

#[test]
fn object_encoding_of_append_to_a_missing_key_is_chosen_like_set() {
    // APPEND to a missing key stores the argument as SET would: int, embstr or raw.
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(int(&mut c, cmd("APPEND").arg("num").arg(5)), 1);
    assert_eq!(encoding(&mut c, "num").as_deref(), Some("int"));
    assert_eq!(int(&mut c, cmd("APPEND").arg("short").arg("x")), 1);
    assert_eq!(encoding(&mut c, "short").as_deref(), Some("embstr"));
    assert_eq!(
        int(&mut c, cmd("APPEND").arg("long").arg("x".repeat(50))),
        50
    );
    assert_eq!(encoding(&mut c, "long").as_deref(), Some("raw"));
}

#[test]
fn object_encoding_after_incrbyfloat_is_embstr() {
    // INCRBYFLOAT stores its formatted text as a plain string, even when it looks integral.
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "f", "1.5");
    let r: String = cmd("INCRBYFLOAT")
        .arg("f")
        .arg("1.5")
        .query(&mut c)
        .unwrap();
    assert_eq!(r, "3");
    assert_eq!(encoding(&mut c, "f").as_deref(), Some("embstr"));
}

#[test]
fn object_freq_requires_an_lfu_policy() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "v");
    err(
        &mut c,
        cmd("OBJECT").arg("FREQ").arg("k"),
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
    );
    assert_eq!(
        val(
            &mut c,
            cmd("CONFIG")
                .arg("SET")
                .arg("maxmemory-policy")
                .arg("allkeys-lfu")
        ),
        Value::Okay
    );
    let f = int(&mut c, cmd("OBJECT").arg("FREQ").arg("k"));
    assert!((0..=255).contains(&f), "freq {f}");
    assert_eq!(
        val(&mut c, cmd("OBJECT").arg("FREQ").arg("missing")),
        Value::Nil
    );
    err(
        &mut c,
        cmd("OBJECT").arg("IDLETIME").arg("k"),
        "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
    );
    // Accesses raise a fresh key's counter (the first increments are certain).
    set(&mut c, "fresh", "v");
    let before = int(&mut c, cmd("OBJECT").arg("FREQ").arg("fresh"));
    let _: String = cmd("GET").arg("fresh").query(&mut c).unwrap();
    let after = int(&mut c, cmd("OBJECT").arg("FREQ").arg("fresh"));
    assert!(after > before, "freq {before} -> {after}");
}

/// A pipelined batch's keys are looked up ahead of it to warm the cache (`Keyspace::warm`):
/// that look ahead must not count as an access.
#[test]
fn a_pipelines_look_ahead_is_not_an_access() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let _: () = cmd("CONFIG")
        .arg(&["SET", "maxmemory-policy", "allkeys-lfu"])
        .query(&mut c)
        .unwrap();
    set(&mut c, "a", "v");
    set(&mut c, "b", "v");
    let before = (
        int(&mut c, cmd("OBJECT").arg("FREQ").arg("a")),
        int(&mut c, cmd("OBJECT").arg("FREQ").arg("b")),
    );
    // TTL reads a key without touching its counter; fifty of them per batch, alternating keys
    // so the batch has something to warm.
    let mut p = redis::pipe();
    for i in 0..50 {
        p.cmd("TTL").arg(if i % 2 == 0 { "a" } else { "b" });
    }
    for _ in 0..5 {
        let ttls: Vec<i64> = p.query(&mut c).unwrap();
        assert!(ttls.iter().all(|&t| t == -1), "{ttls:?}");
    }
    let after = (
        int(&mut c, cmd("OBJECT").arg("FREQ").arg("a")),
        int(&mut c, cmd("OBJECT").arg("FREQ").arg("b")),
    );
    assert_eq!(before, after);
    // A read does count (the first increments of a fresh key are certain).
    let _: String = cmd("GET").arg("a").query(&mut c).unwrap();
    assert!(int(&mut c, cmd("OBJECT").arg("FREQ").arg("a")) > before.0);
}

#[test]
fn object_idletime_and_refcount() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "v");
    let idle = int(&mut c, cmd("OBJECT").arg("IDLETIME").arg("k"));
    assert!((0..=1).contains(&idle), "idle {idle}");
    assert_eq!(
        val(&mut c, cmd("OBJECT").arg("IDLETIME").arg("missing")),
        Value::Nil
    );
    assert_eq!(int(&mut c, cmd("OBJECT").arg("REFCOUNT").arg("k")), 1);
    assert_eq!(
        val(&mut c, cmd("OBJECT").arg("REFCOUNT").arg("missing")),
        Value::Nil
    );
}

#[test]
fn object_help_lists_the_subcommands() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let lines: Vec<String> = cmd("OBJECT").arg("HELP").query(&mut c).unwrap();
    let want = [
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Print this help.",
    ];
    assert_eq!(lines, want);
    let lower: Vec<String> = cmd("object").arg("help").query(&mut c).unwrap();
    assert_eq!(lower, want);
}

#[test]
fn object_rejects_unknown_subcommands_and_wrong_arity() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "v");
    err(&mut c, &mut cmd("OBJECT"), &arity("object"));
    err(
        &mut c,
        cmd("OBJECT").arg("foo"),
        "ERR unknown subcommand 'foo'. Try OBJECT HELP.",
    );
    err(
        &mut c,
        cmd("OBJECT").arg("foo").arg("k"),
        "ERR unknown subcommand 'foo'. Try OBJECT HELP.",
    );
    for sub in ["encoding", "freq", "idletime", "refcount"] {
        let e = format!("ERR wrong number of arguments for 'object|{sub}' command");
        err(&mut c, cmd("OBJECT").arg(sub), &e);
        err(&mut c, cmd("OBJECT").arg(sub).arg("k").arg("x"), &e);
    }
    err(
        &mut c,
        cmd("OBJECT").arg("HELP").arg("extra"),
        "ERR wrong number of arguments for 'object|help' command",
    );
}

// ---------------------------------------------------------------------------------------------
// DUMP / RESTORE
// ---------------------------------------------------------------------------------------------

fn dump(con: &mut Connection, key: impl redis::ToRedisArgs) -> Vec<u8> {
    let v: Option<Vec<u8>> = cmd("DUMP").arg(key).query(con).expect("DUMP");
    v.expect("DUMP of an existing key")
}

fn restore(con: &mut Connection, key: &str, ttl: i64, payload: &[u8], opts: &[&str]) -> Value {
    let mut c = cmd("RESTORE");
    c.arg(key).arg(ttl).arg(payload);
    for o in opts {
        c.arg(*o);
    }
    val(con, &mut c)
}

#[test]
fn dump_and_restore_round_trip_values() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(val(&mut c, cmd("DUMP").arg("missing")), Value::Nil);
    let big: Vec<u8> = (0..1024 * 1024).map(|i| (i % 253) as u8).collect();
    let values: Vec<(Vec<u8>, &str)> = vec![
        (b"hello".to_vec(), "embstr"),
        (b"12345".to_vec(), "int"),
        (b"-9223372036854775808".to_vec(), "int"),
        (b"".to_vec(), "embstr"),
        (b"\0\r\n\xff binary".to_vec(), "embstr"),
        (vec![b'r'; 100], "raw"),
        (big, "raw"),
    ];
    for (i, (v, enc)) in values.iter().enumerate() {
        let src = format!("src{i}");
        let dst = format!("dst{i}");
        set(&mut c, &src, &v[..]);
        let payload = dump(&mut c, &src);
        assert_eq!(restore(&mut c, &dst, 0, &payload, &[]), Value::Okay);
        let got: Vec<u8> = cmd("GET").arg(&dst).query(&mut c).unwrap();
        assert_eq!(&got, v, "value #{i}");
        assert_eq!(ttl(&mut c, &dst), -1);
        assert_eq!(encoding(&mut c, &dst).as_deref(), Some(*enc), "value #{i}");
        // A dump does not carry the key's TTL.
        set_px(&mut c, &src, "ttl", 100_000);
        let p2 = dump(&mut c, &src);
        assert_eq!(restore(&mut c, &format!("t{i}"), 0, &p2, &[]), Value::Okay);
        assert_eq!(ttl(&mut c, &format!("t{i}")), -1);
    }
    assert_eq!(dbsize(&mut c), 3 * values.len() as i64);
}

#[test]
fn restore_refuses_an_existing_key_unless_replace() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "src", "new");
    let payload = dump(&mut c, "src");
    set_px(&mut c, "dst", "old", 100_000);
    err(
        &mut c,
        cmd("RESTORE").arg("dst").arg(0).arg(&payload[..]),
        "BUSYKEY Target key name already exists.",
    );
    assert_eq!(get_str(&mut c, "dst").as_deref(), Some("old"));
    assert_eq!(
        restore(&mut c, "dst", 0, &payload, &["REPLACE"]),
        Value::Okay
    );
    assert_eq!(get_str(&mut c, "dst").as_deref(), Some("new"));
    assert_eq!(ttl(&mut c, "dst"), -1);
    assert_eq!(
        restore(&mut c, "dst", 0, &payload, &["replace", "REPLACE"]),
        Value::Okay
    );
    assert_eq!(dbsize(&mut c), 2);
}

#[test]
fn restore_busykey_is_checked_before_the_ttl() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "k", "v");
    let payload = dump(&mut c, "k");
    let busy = "BUSYKEY Target key name already exists.";
    err(
        &mut c,
        cmd("RESTORE").arg("k").arg(-1).arg(&payload[..]),
        busy,
    );
    err(
        &mut c,
        cmd("RESTORE").arg("k").arg("abc").arg(&payload[..]),
        busy,
    );
    err(&mut c, cmd("RESTORE").arg("k").arg(0).arg("junk"), busy);
}

#[test]
fn restore_applies_relative_and_absolute_ttls() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "src", "v");
    let payload = dump(&mut c, "src");
    assert_eq!(restore(&mut c, "rel", 5000, &payload, &[]), Value::Okay);
    let p = pttl(&mut c, "rel");
    assert!((4_000..=5_000).contains(&p), "pttl {p}");
    let at = now_ms() + 200_000;
    assert_eq!(
        restore(&mut c, "abs", at, &payload, &["ABSTTL"]),
        Value::Okay
    );
    assert_eq!(int(&mut c, cmd("PEXPIRETIME").arg("abs")), at);
    // An absolute TTL in the past: OK, but the key is not created (or is removed with REPLACE).
    assert_eq!(
        restore(&mut c, "past", 1, &payload, &["ABSTTL"]),
        Value::Okay
    );
    assert_eq!(exists(&mut c, "past"), 0);
    set(&mut c, "victim", "old");
    assert_eq!(
        restore(&mut c, "victim", 1, &payload, &["REPLACE", "absttl"]),
        Value::Okay
    );
    assert_eq!(exists(&mut c, "victim"), 0);
    assert_eq!(dbsize(&mut c), 3);
}

#[test]
fn restore_idletime_and_freq_set_the_access_metadata() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "src", "v");
    let payload = dump(&mut c, "src");
    assert_eq!(
        restore(&mut c, "idle", 0, &payload, &["IDLETIME", "1000"]),
        Value::Okay
    );
    let idle = int(&mut c, cmd("OBJECT").arg("IDLETIME").arg("idle"));
    assert!((1000..=1002).contains(&idle), "idle {idle}");
    assert_eq!(
        val(
            &mut c,
            cmd("CONFIG")
                .arg("SET")
                .arg("maxmemory-policy")
                .arg("allkeys-lfu")
        ),
        Value::Okay
    );
    assert_eq!(
        restore(&mut c, "freq", 0, &payload, &["FREQ", "100"]),
        Value::Okay
    );
    assert_eq!(int(&mut c, cmd("OBJECT").arg("FREQ").arg("freq")), 100);
    assert_eq!(
        restore(&mut c, "f0", 0, &payload, &["freq", "0", "REPLACE"]),
        Value::Okay
    );
    assert_eq!(int(&mut c, cmd("OBJECT").arg("FREQ").arg("f0")), 0);
    assert_eq!(
        restore(&mut c, "f255", 0, &payload, &["FREQ", "255"]),
        Value::Okay
    );
    assert_eq!(int(&mut c, cmd("OBJECT").arg("FREQ").arg("f255")), 255);
}

#[test]
fn restore_refuses_corrupted_payloads() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "src", "some value");
    let payload = dump(&mut c, "src");
    let e = "ERR DUMP payload version or checksum are wrong";
    let mut candidates: Vec<Vec<u8>> = vec![
        b"junk".to_vec(),
        Vec::new(),
        payload[..payload.len() - 1].to_vec(),
        payload[..payload.len() / 2].to_vec(),
        payload[2..].to_vec(),
        [&payload[..], b"x"].concat(),
    ];
    for i in 0..payload.len() {
        let mut bad = payload.clone();
        bad[i] ^= 0x01;
        candidates.push(bad);
    }
    for bad in &candidates {
        err(&mut c, cmd("RESTORE").arg("dst").arg(0).arg(&bad[..]), e);
    }
    err(
        &mut c,
        cmd("RESTORE").arg("src").arg(0).arg("junk").arg("REPLACE"),
        e,
    );
    assert_eq!(get_str(&mut c, "src").as_deref(), Some("some value"));
    assert_eq!(exists(&mut c, "dst"), 0);
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn restore_rejects_bad_options_and_arity() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "src", "v");
    let p = dump(&mut c, "src");
    let r = |key: &str, ttl: &str, opts: &[&str]| {
        let mut cm = cmd("RESTORE");
        cm.arg(key).arg(ttl).arg(&p[..]);
        for o in opts {
            cm.arg(*o);
        }
        cm
    };
    err(
        &mut c,
        &mut r("x", "-1", &[]),
        "ERR Invalid TTL value, must be >= 0",
    );
    err(&mut c, &mut r("x", "abc", &[]), NOT_INT);
    err(&mut c, &mut r("x", "0", &["FOO"]), "ERR syntax error");
    err(&mut c, &mut r("x", "0", &["IDLETIME"]), "ERR syntax error");
    err(&mut c, &mut r("x", "0", &["FREQ"]), "ERR syntax error");
    err(
        &mut c,
        &mut r("x", "0", &["IDLETIME", "1", "FREQ", "1"]),
        "ERR syntax error",
    );
    err(
        &mut c,
        &mut r("x", "0", &["FREQ", "1", "IDLETIME", "1"]),
        "ERR syntax error",
    );
    err(
        &mut c,
        &mut r("x", "0", &["IDLETIME", "-1"]),
        "ERR Invalid IDLETIME value, must be >= 0",
    );
    err(&mut c, &mut r("x", "0", &["IDLETIME", "abc"]), NOT_INT);
    for f in ["256", "-1"] {
        err(
            &mut c,
            &mut r("x", "0", &["FREQ", f]),
            "ERR Invalid FREQ value, must be >= 0 and <= 255",
        );
    }
    err(&mut c, &mut r("x", "0", &["FREQ", "abc"]), NOT_INT);
    err(&mut c, cmd("RESTORE").arg("x").arg(0), &arity("restore"));
    err(&mut c, &mut cmd("DUMP"), &arity("dump"));
    err(&mut c, cmd("DUMP").arg("a").arg("b"), &arity("dump"));
    assert_eq!(exists(&mut c, "x"), 0);
    assert_eq!(dbsize(&mut c), 1);
}
