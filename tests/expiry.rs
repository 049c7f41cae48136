//! Key expiry end to end: lazy expiry (an expired key is gone for every command that reads it,
//! and INFO `expired_keys` counts it once) and active expiry (100,000 keys with a short TTL
//! that nobody reads are reclaimed, keys and accounted memory alike, by the background sweep).
//!
//! Every test starts the real server in-process and talks to it with the `redis` crate.
mod common;

use common::{dbsize, info, info_fields, int, set_px, val, TestServer};
use redis::{cmd, Connection, Value};
use std::time::{Duration, Instant};

/// One `field:value` line of `INFO <section>`, parsed as an integer.
fn info_int(con: &mut Connection, section: &str, field: &str) -> i64 {
    let text = info(con, &[section]);
    info_fields(&text)
        .get(field)
        .unwrap_or_else(|| panic!("INFO {section} has no {field}:\n{text}"))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("INFO {field} is not an integer: {e}"))
}

fn expired_keys(con: &mut Connection) -> i64 {
    info_int(con, "stats", "expired_keys")
}

/// `dataset.bytes` from MEMORY STATS (a flat name/value array in RESP2).
fn memory_stats_dataset(con: &mut Connection) -> i64 {
    let Value::Array(items) = val(con, cmd("MEMORY").arg("STATS")) else {
        panic!("MEMORY STATS is not an array");
    };
    let pos = items
        .iter()
        .position(|v| matches!(v, Value::BulkString(b) if b == b"dataset.bytes"))
        .expect("MEMORY STATS has dataset.bytes");
    match &items[pos + 1] {
        Value::Int(n) => *n,
        other => panic!("dataset.bytes is {other:?}"),
    }
}

#[test]
fn a_lazily_expired_key_is_gone_when_read() {
    // hz = 1: the background sweep runs once a second, so the read below is what finds the key
    // expired (the assertions hold either way).
    let srv = TestServer::start_with("[server]\nhz = 1\n");
    let mut c = srv.client();
    assert_eq!(expired_keys(&mut c), 0);
    set_px(&mut c, "k", "v", 10);
    assert_eq!(
        val(&mut c, cmd("GET").arg("k")),
        Value::BulkString(b"v".to_vec())
    );
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(val(&mut c, cmd("GET").arg("k")), Value::Nil);
    assert_eq!(int(&mut c, cmd("EXISTS").arg("k")), 0);
    assert_eq!(int(&mut c, cmd("TTL").arg("k")), -2);
    assert_eq!(dbsize(&mut c), 0);
    assert_eq!(expired_keys(&mut c), 1);
}

#[test]
fn a_key_lives_until_its_deadline() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set_px(&mut c, "k", "v", 2_000);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        val(&mut c, cmd("GET").arg("k")),
        Value::BulkString(b"v".to_vec())
    );
    let p = int(&mut c, cmd("PTTL").arg("k"));
    assert!((1..2_000).contains(&p), "pttl {p}");
    assert_eq!(expired_keys(&mut c), 0);
}

#[test]
fn expired_keys_counts_each_expired_key_once() {
    let srv = TestServer::start();
    let mut c = srv.client();
    for i in 0..5 {
        set_px(&mut c, &format!("k{i}"), "v", 10);
    }
    assert_eq!(val(&mut c, cmd("SET").arg("keep").arg("v")), Value::Okay);
    std::thread::sleep(Duration::from_millis(50));
    // Each key is read (some several times) after its deadline.
    for i in 0..5 {
        let k = format!("k{i}");
        assert_eq!(val(&mut c, cmd("GET").arg(&k)), Value::Nil);
        assert_eq!(int(&mut c, cmd("EXISTS").arg(&k)), 0);
        assert_eq!(int(&mut c, cmd("STRLEN").arg(&k)), 0);
    }
    assert_eq!(expired_keys(&mut c), 5);
    assert_eq!(dbsize(&mut c), 1);
}

#[test]
fn an_expired_key_behaves_as_missing_for_every_command() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let keys = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    for k in keys {
        set_px(&mut c, k, "v", 10);
    }
    std::thread::sleep(Duration::from_millis(50));
    let nil_array = Value::Array(vec![Value::Nil, Value::Nil]);
    assert_eq!(val(&mut c, cmd("MGET").arg("a").arg("b")), nil_array);
    let keys_reply: Vec<String> = cmd("KEYS").arg("*").query(&mut c).unwrap();
    assert!(keys_reply.is_empty(), "KEYS {keys_reply:?}");
    let (cursor, found): (String, Vec<String>) = cmd("SCAN")
        .arg(0)
        .arg("COUNT")
        .arg(1000)
        .query(&mut c)
        .unwrap();
    assert_eq!((cursor.as_str(), found.len()), ("0", 0));
    assert_eq!(val(&mut c, &mut cmd("RANDOMKEY")), Value::Nil);
    assert_eq!(
        val(&mut c, cmd("TYPE").arg("c")),
        Value::SimpleString("none".into())
    );
    assert_eq!(int(&mut c, cmd("INCR").arg("d")), 1);
    assert_eq!(int(&mut c, cmd("TTL").arg("d")), -1);
    assert_eq!(int(&mut c, cmd("APPEND").arg("e").arg("x")), 1);
    assert_eq!(int(&mut c, cmd("TTL").arg("e")), -1);
    assert_eq!(int(&mut c, cmd("SETNX").arg("f").arg("new")), 1);
    assert_eq!(
        val(&mut c, cmd("SET").arg("g").arg("x").arg("XX")),
        Value::Nil
    );
    assert_eq!(int(&mut c, cmd("EXPIRE").arg("h").arg(100)), 0);
    assert_eq!(int(&mut c, cmd("PERSIST").arg("h")), 0);
    let e: redis::RedisResult<Value> = cmd("RENAME").arg("i").arg("z").query(&mut c);
    assert_eq!(common::error_text(&e.unwrap_err()), "ERR no such key");
    assert_eq!(int(&mut c, cmd("COPY").arg("j").arg("z")), 0);
    assert_eq!(val(&mut c, cmd("DUMP").arg("j")), Value::Nil);
    assert_eq!(int(&mut c, cmd("DEL").arg("a").arg("b")), 0);
    // Only the keys recreated above remain.
    assert_eq!(dbsize(&mut c), 3);
}

#[test]
fn active_expiry_reclaims_unread_keys_and_their_memory() {
    const KEYS: usize = 100_000;
    const BATCH: usize = 1_000;
    let srv = TestServer::start();
    let mut c = srv.client();
    // One persistent key, part of the baseline, must survive the sweep.
    assert_eq!(
        val(&mut c, cmd("SET").arg("keep").arg("forever")),
        Value::Okay
    );
    let base_info = info_int(&mut c, "memory", "used_memory_dataset");
    let base_stats = memory_stats_dataset(&mut c);
    assert!(base_info > 0 && base_stats > 0);

    let mut peak_keys = 0;
    for b in 0..KEYS / BATCH {
        let mut p = redis::pipe();
        for i in b * BATCH..(b + 1) * BATCH {
            p.cmd("SET")
                .arg(format!("volatile:{i:06}"))
                .arg("some value of a few dozen bytes, never read")
                .arg("PX")
                .arg(200)
                .ignore();
        }
        // Counted right after the batch, which is (almost entirely) still in the keyspace.
        p.cmd("DBSIZE");
        let (n,): (i64,) = p.query(&mut c).expect("pipeline");
        assert!(n > (BATCH / 2) as i64, "DBSIZE {n} after batch {b}");
        peak_keys = peak_keys.max(n);
    }
    assert!(peak_keys > (BATCH / 2) as i64);

    // Only DBSIZE, INFO and MEMORY STATS from here on: nothing reads the keys.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut keys, mut info, mut stats);
    loop {
        keys = dbsize(&mut c);
        info = info_int(&mut c, "memory", "used_memory_dataset");
        stats = memory_stats_dataset(&mut c);
        if (keys == 1 && info == base_info && stats == base_stats) || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(keys, 1, "DBSIZE after waiting for active expiry");
    assert_eq!(info, base_info, "used_memory_dataset back to the baseline");
    assert_eq!(
        stats, base_stats,
        "MEMORY STATS dataset.bytes back to the baseline"
    );
    assert_eq!(expired_keys(&mut c), KEYS as i64);
    assert_eq!(
        val(&mut c, cmd("GET").arg("keep")),
        Value::BulkString(b"forever".to_vec())
    );
}
