//! Transactions end to end: MULTI/EXEC/DISCARD with Redis's queue-time and run-time error
//! rules, WATCH broken by every kind of change (write, delete, expiry, FLUSHDB, RENAME, another
//! client's transaction) and not by others' tenants, EXEC's atomicity against a concurrent
//! reader, and the RESP3 shapes.
mod common;

use common::{error_text, get_str, set, set_px, TestServer};
use redis::{cmd, Connection, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn q(c: &mut Connection, args: &[&str]) -> Value {
    let mut command = cmd(args[0]);
    for a in &args[1..] {
        command.arg(*a);
    }
    command
        .query(c)
        .unwrap_or_else(|e| Value::SimpleString(format!("ERR:{}", error_text(&e))))
}

fn queued() -> Value {
    Value::SimpleString("QUEUED".into())
}

fn err(c: &mut Connection, args: &[&str]) -> String {
    match q(c, args) {
        Value::SimpleString(s) if s.starts_with("ERR:") => s[4..].to_string(),
        other => panic!("{args:?}: expected an error, got {other:?}"),
    }
}

fn exec(c: &mut Connection) -> Value {
    q(c, &["EXEC"])
}

#[test]
fn multi_exec_runs_the_queue_in_order_with_run_time_errors_in_place() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "s", "text");
    // The reply byte for byte (the client library turns an array holding an error into an
    // error of its own).
    let mut r = srv.raw();
    r.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    r.roundtrip(b"SET a 1\r\n", b"+QUEUED\r\n");
    r.roundtrip(b"INCR a\r\n", b"+QUEUED\r\n");
    r.roundtrip(b"INCR s\r\n", b"+QUEUED\r\n");
    r.roundtrip(b"GET a\r\n", b"+QUEUED\r\n");
    r.roundtrip(
        b"EXEC\r\n",
        b"*4\r\n+OK\r\n:2\r\n-ERR value is not an integer or out of range\r\n$1\r\n2\r\n",
    );
    // The connection is out of MULTI again.
    r.roundtrip(b"GET a\r\n", b"$1\r\n2\r\n");
    assert_eq!(get_str(&mut c, "a").as_deref(), Some("2"));
}

#[test]
fn an_exec_refused_at_the_door_discards_the_transaction_as_redis_does() {
    let srv = TestServer::start();
    let mut c = srv.client();
    set(&mut c, "w", "0");
    q(&mut c, &["WATCH", "w"]);
    q(&mut c, &["MULTI"]);
    assert_eq!(q(&mut c, &["SET", "a", "1"]), queued());
    assert_eq!(
        err(&mut c, &["EXEC", "now"]),
        "EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command"
    );
    assert_eq!(err(&mut c, &["EXEC"]), "ERR EXEC without MULTI");
    assert_eq!(get_str(&mut c, "a"), None, "nothing of the queue ran");
    // The WATCH went with it: a change to the key no longer fails the next transaction.
    let mut other = srv.client();
    set(&mut other, "w", "1");
    q(&mut c, &["MULTI"]);
    assert_eq!(q(&mut c, &["SET", "a", "2"]), queued());
    assert_eq!(exec(&mut c), Value::Array(vec![Value::Okay]));
    // Outside MULTI too: a refused EXEC answers EXECABORT and drops the WATCHed keys (Redis's
    // `rejectCommand` aborts any EXEC it refuses).
    q(&mut c, &["WATCH", "w"]);
    assert_eq!(
        err(&mut c, &["EXEC", "now"]),
        "EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command"
    );
    set(&mut other, "w", "2");
    q(&mut c, &["MULTI"]);
    assert_eq!(q(&mut c, &["SET", "a", "3"]), queued());
    assert_eq!(exec(&mut c), Value::Array(vec![Value::Okay]));
}

#[test]
fn a_queue_time_error_aborts_the_whole_transaction() {
    let srv = TestServer::start();
    let mut c = srv.client();
    q(&mut c, &["MULTI"]);
    assert_eq!(q(&mut c, &["SET", "a", "1"]), queued());
    assert_eq!(
        err(&mut c, &["NOSUCHCMD", "x"]),
        "ERR unknown command 'NOSUCHCMD', with args beginning with: 'x' "
    );
    assert_eq!(
        err(&mut c, &["GET"]),
        "ERR wrong number of arguments for 'get' command"
    );
    assert_eq!(
        err(&mut c, &["EXEC"]),
        "EXECABORT Transaction discarded because of previous errors."
    );
    assert_eq!(get_str(&mut c, "a"), None, "nothing of the queue ran");
}

#[test]
fn misuse_gets_redis_errors_and_leaves_the_transaction_usable() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(err(&mut c, &["EXEC"]), "ERR EXEC without MULTI");
    assert_eq!(err(&mut c, &["DISCARD"]), "ERR DISCARD without MULTI");
    assert_eq!(
        err(&mut c, &["WATCH"]),
        "ERR wrong number of arguments for 'watch' command"
    );
    q(&mut c, &["MULTI"]);
    assert_eq!(err(&mut c, &["MULTI"]), "ERR MULTI calls can not be nested");
    assert_eq!(
        err(&mut c, &["WATCH", "k"]),
        "ERR WATCH inside MULTI is not allowed"
    );
    assert_eq!(q(&mut c, &["SET", "k", "v"]), queued());
    // Neither refusal above doomed the transaction.
    assert_eq!(exec(&mut c), Value::Array(vec![Value::Okay]));
}

#[test]
fn discard_drops_the_queue_and_the_watches() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let mut other = srv.client();
    q(&mut c, &["WATCH", "w"]);
    q(&mut c, &["MULTI"]);
    q(&mut c, &["SET", "a", "1"]);
    assert_eq!(q(&mut c, &["DISCARD"]), Value::Okay);
    assert_eq!(get_str(&mut c, "a"), None);
    // The watch went with it: a change now does not break the next transaction.
    set(&mut other, "w", "changed");
    q(&mut c, &["MULTI"]);
    q(&mut c, &["SET", "a", "2"]);
    assert_eq!(exec(&mut c), Value::Array(vec![Value::Okay]));
}

#[test]
fn watch_is_broken_by_another_clients_write_and_not_otherwise() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let mut other = srv.client();
    set(&mut c, "w", "1");
    // Untouched: runs.
    q(&mut c, &["WATCH", "w"]);
    q(&mut c, &["MULTI"]);
    q(&mut c, &["SET", "w", "2"]);
    assert_eq!(exec(&mut c), Value::Array(vec![Value::Okay]));
    // Touched by another client between WATCH and EXEC: nil, and nothing ran.
    q(&mut c, &["WATCH", "w"]);
    set(&mut other, "w", "other");
    q(&mut c, &["MULTI"]);
    q(&mut c, &["SET", "w", "mine"]);
    assert_eq!(exec(&mut c), Value::Nil);
    assert_eq!(get_str(&mut c, "w").as_deref(), Some("other"));
    // EXEC forgot the watch: the next transaction runs.
    set(&mut other, "w", "again");
    q(&mut c, &["MULTI"]);
    q(&mut c, &["SET", "w", "mine"]);
    assert_eq!(exec(&mut c), Value::Array(vec![Value::Okay]));
    // UNWATCH forgets it too.
    q(&mut c, &["WATCH", "w"]);
    q(&mut c, &["UNWATCH"]);
    set(&mut other, "w", "x");
    q(&mut c, &["MULTI"]);
    q(&mut c, &["GET", "w"]);
    assert_eq!(
        exec(&mut c),
        Value::Array(vec![Value::BulkString(b"x".to_vec())])
    );
    // A change to another key does not count.
    q(&mut c, &["WATCH", "w"]);
    set(&mut other, "unrelated", "x");
    q(&mut c, &["MULTI"]);
    q(&mut c, &["GET", "w"]);
    assert_eq!(
        exec(&mut c),
        Value::Array(vec![Value::BulkString(b"x".to_vec())])
    );
}

#[test]
fn watch_is_broken_by_delete_creation_rename_expire_and_flushdb() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let mut other = srv.client();
    let broken = |c: &mut Connection, other: &mut Connection, setup: &[&str], change: &[&str]| {
        q(other, &["FLUSHDB"]);
        if !setup.is_empty() {
            q(other, setup);
        }
        q(c, &["WATCH", "w"]);
        q(other, change);
        q(c, &["MULTI"]);
        q(c, &["PING"]);
        exec(c) == Value::Nil
    };
    assert!(
        broken(&mut c, &mut other, &["SET", "w", "1"], &["DEL", "w"]),
        "DEL"
    );
    assert!(
        broken(&mut c, &mut other, &[], &["SET", "w", "new"]),
        "creation"
    );
    assert!(
        broken(
            &mut c,
            &mut other,
            &["SET", "w", "1"],
            &["RENAME", "w", "z"]
        ),
        "RENAME away"
    );
    assert!(
        broken(
            &mut c,
            &mut other,
            &["SET", "z", "1"],
            &["RENAME", "z", "w"]
        ),
        "RENAME onto"
    );
    assert!(
        broken(
            &mut c,
            &mut other,
            &["SET", "w", "1"],
            &["EXPIRE", "w", "100"]
        ),
        "EXPIRE"
    );
    assert!(
        broken(&mut c, &mut other, &["SET", "w", "1"], &["FLUSHDB"]),
        "FLUSHDB of an existing key"
    );
    // FLUSHDB of a database where the watched key did not exist leaves it alone (Redis).
    assert!(
        !broken(&mut c, &mut other, &["SET", "y", "1"], &["FLUSHDB"]),
        "FLUSHDB of a missing key"
    );
    // Expiry: the key's TTL passes between WATCH and EXEC, read by no one.
    q(&mut other, &["FLUSHDB"]);
    set_px(&mut other, "w", "1", 50);
    q(&mut c, &["WATCH", "w"]);
    std::thread::sleep(std::time::Duration::from_millis(120));
    q(&mut c, &["MULTI"]);
    q(&mut c, &["PING"]);
    assert_eq!(exec(&mut c), Value::Nil, "expiry");
}

/// Redis signals only modified keys: a write that changes nothing, or fails on the key's
/// type, does not break a WATCH; the same command changing something does.
#[test]
fn watch_survives_no_op_and_failed_writes() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let mut other = srv.client();
    for setup in [
        &["RPUSH", "l", "a", "b"][..],
        &["SADD", "s", "m"],
        &["SADD", "s2", "m"],
        &["HSET", "h", "f", "v"],
        &["ZADD", "z", "1", "m"],
        &["SET", "str", "v"],
    ] {
        q(&mut c, setup);
    }
    let watch_then = |c: &mut Connection, other: &mut Connection, key: &str, cmd: &[&str]| {
        q(c, &["WATCH", key]);
        let _ = cmd_value(other, cmd);
        q(c, &["MULTI"]);
        q(c, &["PING"]);
        exec(c)
    };
    let ran = Value::Array(vec![Value::SimpleString("PONG".into())]);
    let no_ops: &[(&str, &[&str])] = &[
        ("s", &["SADD", "s", "m"]),
        ("s", &["SREM", "s", "absent"]),
        ("h", &["HDEL", "h", "absent"]),
        ("z", &["ZADD", "z", "1", "m"]),
        ("z", &["ZADD", "z", "NX", "5", "m"]),
        ("l", &["LREM", "l", "0", "absent"]),
        ("l", &["LINSERT", "l", "BEFORE", "absent", "x"]),
        ("str", &["LPUSH", "str", "x"]),
        ("str", &["SADD", "str", "x"]),
        ("str", &["HSET", "str", "f", "v"]),
        ("str", &["ZADD", "str", "1", "x"]),
        ("str", &["ZREM", "str", "x"]),
        ("z", &["ZREM", "z", "absent"]),
        ("h", &["HSETNX", "h", "f", "other"]),
        ("s", &["SMOVE", "s", "s2", "absent"]),
        ("str", &["SPOP", "str"]),
        ("l", &["LSET", "l", "99", "x"]),
        ("str", &["LSET", "str", "0", "x"]),
        ("str", &["LMPOP", "1", "str", "LEFT"]),
        ("z", &["ZREMRANGEBYSCORE", "z", "100", "200"]),
        ("str", &["LTRIM", "str", "0", "1"]),
        // The source changes; the destination already had the member.
        ("s2", &["SMOVE", "s", "s2", "m"]),
    ];
    for (key, cmd) in no_ops {
        assert_eq!(watch_then(&mut c, &mut other, key, cmd), ran, "{cmd:?}");
    }
    let changes: &[(&str, &[&str])] = &[
        ("s", &["SADD", "s", "new"]),
        ("s", &["SREM", "s", "new"]),
        ("h", &["HSET", "h", "f", "v"]),
        ("z", &["ZADD", "z", "2", "m"]),
        ("z", &["ZREM", "z", "m"]),
        ("l", &["LINSERT", "l", "BEFORE", "a", "x"]),
        ("l", &["LREM", "l", "0", "x"]),
        ("l", &["LTRIM", "l", "0", "-1"]),
    ];
    for (key, cmd) in changes {
        assert_eq!(
            watch_then(&mut c, &mut other, key, cmd),
            Value::Nil,
            "{cmd:?}"
        );
    }
}

fn cmd_value(c: &mut Connection, args: &[&str]) -> redis::RedisResult<Value> {
    redis::cmd(args[0]).arg(&args[1..]).query(c)
}

#[test]
fn exec_aborted_by_watch_is_a_resp3_null() {
    let srv = TestServer::start();
    let mut c = srv.client_resp3();
    let mut other = srv.client();
    q(&mut c, &["WATCH", "w"]);
    set(&mut other, "w", "1");
    q(&mut c, &["MULTI"]);
    q(&mut c, &["PING"]);
    // Checked byte-exactly on a raw RESP3 connection.
    let mut r = srv.raw();
    r.send(b"HELLO 3\r\n");
    let _ = r.read_reply();
    r.roundtrip(b"WATCH w\r\n", b"+OK\r\n");
    set(&mut other, "w", "2");
    r.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    r.roundtrip(b"PING\r\n", b"+QUEUED\r\n");
    r.roundtrip(b"EXEC\r\n", b"_\r\n");
    assert_eq!(exec(&mut c), Value::Nil);
}

#[test]
fn exec_is_atomic_for_a_concurrent_reader() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let mut reader = srv.client();
    set(&mut c, "x", "0");
    let stop = Arc::new(AtomicBool::new(false));
    let seen = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let v: i64 = cmd("GET").arg("x").query(&mut reader).unwrap();
                seen.push(v);
            }
            seen
        })
    };
    const STEP: i64 = 200;
    for _ in 0..30 {
        q(&mut c, &["MULTI"]);
        for _ in 0..STEP {
            q(&mut c, &["INCR", "x"]);
        }
        let Value::Array(r) = exec(&mut c) else {
            panic!("EXEC failed")
        };
        assert_eq!(r.len(), STEP as usize);
    }
    stop.store(true, Ordering::Relaxed);
    let seen = seen.join().unwrap();
    assert!(!seen.is_empty());
    let torn: Vec<i64> = seen.into_iter().filter(|v| v % STEP != 0).collect();
    assert!(
        torn.is_empty(),
        "a reader saw a transaction half done: {torn:?}"
    );
    assert_eq!(get_str(&mut c, "x"), Some((30 * STEP).to_string()));
}

#[test]
fn reset_leaves_multi_and_forgets_watches() {
    let srv = TestServer::start();
    let mut c = srv.client();
    q(&mut c, &["MULTI"]);
    q(&mut c, &["SET", "a", "1"]);
    assert_eq!(q(&mut c, &["RESET"]), Value::SimpleString("RESET".into()));
    assert_eq!(err(&mut c, &["EXEC"]), "ERR EXEC without MULTI");
    assert_eq!(get_str(&mut c, "a"), None);
}

// ---------------------------------------------------------------------------------------------
// Tenancy
// ---------------------------------------------------------------------------------------------

fn tenant(a: &mut Connection, id: &str, role: &str) -> String {
    let _ = cmd("TENANT.CREATE").arg(id).query::<Value>(a);
    let v: Vec<String> = cmd("TENANT.TOKEN.CREATE")
        .arg(id)
        .arg(&["ROLE", role])
        .query(a)
        .unwrap();
    v[v.iter().position(|f| f == "secret").unwrap() + 1].clone()
}

fn login(srv: &TestServer, id: &str, secret: &str) -> Connection {
    redis::Client::open(format!("redis://{id}:{secret}@{}/", srv.addr))
        .unwrap()
        .get_connection()
        .unwrap()
}

#[test]
fn another_tenants_write_to_the_same_name_does_not_break_a_watch() {
    let srv = TestServer::start();
    let mut admin = srv.client();
    let sa = tenant(&mut admin, "ta", "readwrite");
    let sb = tenant(&mut admin, "tb", "readwrite");
    let mut a = login(&srv, "ta", &sa);
    let mut b = login(&srv, "tb", &sb);
    set(&mut a, "w", "a");
    q(&mut a, &["WATCH", "w"]);
    set(&mut b, "w", "b");
    q(&mut b, &["FLUSHALL"]);
    q(&mut a, &["MULTI"]);
    q(&mut a, &["SET", "w", "a2"]);
    assert_eq!(exec(&mut a), Value::Array(vec![Value::Okay]));
    // And the same tenant's other connection does break it.
    let mut a2 = login(&srv, "ta", &sa);
    q(&mut a, &["WATCH", "w"]);
    set(&mut a2, "w", "a3");
    q(&mut a, &["MULTI"]);
    q(&mut a, &["SET", "w", "a4"]);
    assert_eq!(exec(&mut a), Value::Nil);
}

#[test]
fn a_readonly_token_cannot_sneak_writes_through_multi() {
    let srv = TestServer::start();
    let mut admin = srv.client();
    let ro = tenant(&mut admin, "ta", "readonly");
    let mut r = login(&srv, "ta", &ro);
    assert_eq!(q(&mut r, &["MULTI"]), Value::Okay);
    assert!(err(&mut r, &["SET", "k", "v"]).starts_with("NOPERM"));
    assert_eq!(q(&mut r, &["GET", "k"]), queued());
    assert_eq!(
        err(&mut r, &["EXEC"]),
        "EXECABORT Transaction discarded because of previous errors."
    );
    assert_eq!(q(&mut admin, &["EXISTS", "__tenant:ta:k"]), Value::Int(0));
}

#[test]
fn global_tenant_names_are_refused_inside_multi() {
    let srv = TestServer::start();
    let mut admin = srv.client();
    tenant(&mut admin, "ta", "readwrite");
    q(&mut admin, &["MULTI"]);
    assert_eq!(
        err(&mut admin, &["SET", "__tenant:ta:k", "v"]),
        "ERR tenant global names (__tenant:<id>:) cannot be used inside MULTI"
    );
    assert_eq!(
        err(&mut admin, &["EXEC"]),
        "EXECABORT Transaction discarded because of previous errors."
    );
    assert_eq!(q(&mut admin, &["EXISTS", "__tenant:ta:k"]), Value::Int(0));
}

/// A SUBSCRIBE queued in MULTI: its confirmation is its element of EXEC's reply, byte for
/// byte as redis-server 7.0.15 writes it, in both protocols (the reply was once left out).
#[test]
fn subscribe_queued_in_multi_answers_inside_execs_reply() {
    let srv = TestServer::start();
    let mut r = srv.raw();
    r.send(b"MULTI\r\nSUBSCRIBE ch\r\nSET k v\r\nEXEC\r\n");
    let want: &[u8] =
        b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n+OK\r\n";
    assert_eq!(
        String::from_utf8_lossy(&r.read_n(want.len())),
        String::from_utf8_lossy(want)
    );
    // Subscribed now: RESP2 rules apply.
    let got = r.request(b"GET k\r\n");
    assert!(got.starts_with(b"-ERR Can't execute 'get'"), "{got:?}");

    let mut r3 = srv.raw();
    r3.request(b"HELLO 3\r\n");
    r3.send(b"MULTI\r\nSUBSCRIBE ch\r\nSET k v\r\nEXEC\r\nGET k\r\n");
    let want: &[u8] = b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n>3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n+OK\r\n$1\r\nv\r\n";
    assert_eq!(
        String::from_utf8_lossy(&r3.read_n(want.len())),
        String::from_utf8_lossy(want)
    );
}

/// Several channels, and a message the transaction publishes to itself: where Redis 7.2 (and
/// 8.0.2, checked byte for byte) writes them, in both protocols. Confirmations are their
/// command's element of EXEC's reply; the message waits until EXEC has replied (Redis 7.0
/// wrote it inside the array, which broke it).
#[test]
fn what_a_transaction_sends_itself_follows_execs_reply() {
    let srv = TestServer::start();
    let queue = b"MULTI\r\nSUBSCRIBE a b\r\nPUBLISH a hi\r\nPING\r\nEXEC\r\n";
    let mut r = srv.raw();
    r.send(queue);
    let want: &[u8] = b"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n\
        *3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n\
        :1\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n";
    assert_eq!(
        String::from_utf8_lossy(&r.read_n(want.len())),
        String::from_utf8_lossy(want)
    );

    // The first connection, still subscribed to `a`, is the second receiver.
    let mut r3 = srv.raw();
    r3.request(b"HELLO 3\r\n");
    r3.send(queue);
    let want: &[u8] = b"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n\
        >3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n>3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n\
        :2\r\n+PONG\r\n>3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n";
    assert_eq!(
        String::from_utf8_lossy(&r3.read_n(want.len())),
        String::from_utf8_lossy(want)
    );
}
