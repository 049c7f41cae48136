//! Pub/Sub end to end: SUBSCRIBE / UNSUBSCRIBE / PSUBSCRIBE / PUNSUBSCRIBE / PUBLISH / PUBSUB and
//! sharded Pub/Sub (SSUBSCRIBE / SUNSUBSCRIBE / SPUBLISH / PUBSUB SHARDCHANNELS / SHARDNUMSUB)
//! byte for byte as Redis 7.2 sends them (RESP2 arrays, RESP3 pushes), RESP2 subscribed-mode
//! rules, tenant scoping of channels, patterns and shard channels (and what a rebind does to
//! them), and `client-output-buffer-limit` against subscribers that never read.

mod common;

use common::*;
use redis::{cmd, Connection, Value};
use std::io::Read;
use std::time::{Duration, Instant};

/// Tests here share one process, so the memory test measures RSS with the others held off.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const SUBSCRIBED_ONLY: &str =
    "only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context";

/// A request in RESP.
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

/// A three-element frame: `*3` in RESP2, `>3` in RESP3.
fn frame3(resp3: bool, kind: &str, name: Option<&str>, last: &str) -> Vec<u8> {
    let head = if resp3 { '>' } else { '*' };
    let name = match name {
        Some(n) => bulk_bytes(n),
        None if resp3 => "_\r\n".to_string(),
        None => "$-1\r\n".to_string(),
    };
    format!("{head}3\r\n{}{name}{last}", bulk_bytes(kind)).into_bytes()
}

fn confirm(resp3: bool, kind: &str, name: Option<&str>, count: i64) -> Vec<u8> {
    frame3(resp3, kind, name, &format!(":{count}\r\n"))
}

fn message(resp3: bool, channel: &str, payload: &str) -> Vec<u8> {
    frame3(resp3, "message", Some(channel), &bulk_bytes(payload))
}

fn pmessage(resp3: bool, pattern: &str, channel: &str, payload: &str) -> Vec<u8> {
    let head = if resp3 { '>' } else { '*' };
    format!(
        "{head}4\r\n{}{}{}{}",
        bulk_bytes("pmessage"),
        bulk_bytes(pattern),
        bulk_bytes(channel),
        bulk_bytes(payload)
    )
    .into_bytes()
}

/// Reads one frame and compares it with `expected`, as text for readable failures.
fn expect_frame(r: &mut Raw, expected: &[u8]) {
    let got = r.read_reply();
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(expected)
    );
}

fn publish(con: &mut Connection, channel: &str, msg: &str) -> i64 {
    int(con, cmd("PUBLISH").arg(channel).arg(msg))
}

/// A raw connection switched to RESP3 (its HELLO reply consumed).
fn raw3(srv: &TestServer) -> Raw {
    let mut r = srv.raw();
    r.request(&req(&["HELLO", "3"]));
    r
}

/// Creates tenant `id` with a readwrite token; returns the token's secret.
fn tenant(admin: &mut Connection, id: &str) -> String {
    let _: () = cmd("TENANT.CREATE").arg(id).query(admin).expect("create");
    let v = val(
        admin,
        cmd("TENANT.TOKEN.CREATE")
            .arg(id)
            .arg("ROLE")
            .arg("readwrite"),
    );
    let items = match v {
        Value::Array(items) => items,
        Value::Map(pairs) => pairs.into_iter().flat_map(|(k, v)| [k, v]).collect(),
        other => panic!("token reply {other:?}"),
    };
    let pos = items
        .iter()
        .position(|x| *x == bulk("secret"))
        .expect("secret field");
    match &items[pos + 1] {
        Value::BulkString(b) => String::from_utf8(b.clone()).unwrap(),
        other => panic!("secret {other:?}"),
    }
}

/// A raw connection authenticated as tenant `id`.
fn raw_as(srv: &TestServer, id: &str, secret: &str) -> Raw {
    let mut r = srv.raw();
    r.roundtrip(&req(&["AUTH", id, secret]), b"+OK\r\n");
    r
}

/// A client connection authenticated as tenant `id`.
fn client_as(srv: &TestServer, id: &str, secret: &str) -> Connection {
    let mut c = srv.client();
    let _: () = cmd("AUTH").arg(id).arg(secret).query(&mut c).expect("auth");
    c
}

#[test]
fn subscribe_publish_resp2_byte_exact() {
    let _alone = serial();
    let srv = TestServer::start();
    let mut sub = srv.raw();
    sub.send(&req(&["SUBSCRIBE", "news", "sport"]));
    expect_frame(&mut sub, &confirm(false, "subscribe", Some("news"), 1));
    expect_frame(&mut sub, &confirm(false, "subscribe", Some("sport"), 2));
    // Subscribing again to a channel keeps the count and still confirms.
    sub.send(&req(&["SUBSCRIBE", "news"]));
    expect_frame(&mut sub, &confirm(false, "subscribe", Some("news"), 2));

    let mut p = srv.client();
    assert_eq!(publish(&mut p, "news", "hello"), 1);
    expect_frame(&mut sub, &message(false, "news", "hello"));
    assert_eq!(publish(&mut p, "weather", "rain"), 0);
    // Binary-safe payloads and empty messages.
    assert_eq!(publish(&mut p, "sport", ""), 1);
    expect_frame(&mut sub, &message(false, "sport", ""));
    let bin = b"a\r\nb\x00c";
    let n: i64 = cmd("PUBLISH")
        .arg("sport")
        .arg(&bin[..])
        .query(&mut p)
        .unwrap();
    assert_eq!(n, 1);
    let mut expected = b"*3\r\n$7\r\nmessage\r\n$5\r\nsport\r\n$6\r\n".to_vec();
    expected.extend_from_slice(bin);
    expected.extend_from_slice(b"\r\n");
    expect_frame(&mut sub, &expected);
    assert!(sub.nothing_arrives(Duration::from_millis(100)));

    sub.send(&req(&["UNSUBSCRIBE", "news", "nosuch"]));
    expect_frame(&mut sub, &confirm(false, "unsubscribe", Some("news"), 1));
    expect_frame(&mut sub, &confirm(false, "unsubscribe", Some("nosuch"), 1));
    assert_eq!(publish(&mut p, "news", "x"), 0);
    sub.send(&req(&["UNSUBSCRIBE"]));
    expect_frame(&mut sub, &confirm(false, "unsubscribe", Some("sport"), 0));
    // Out of subscribed mode: ordinary commands work again.
    sub.roundtrip(&req(&["PING"]), b"+PONG\r\n");
    // UNSUBSCRIBE with nothing subscribed: one frame with a null name.
    sub.roundtrip(
        &req(&["UNSUBSCRIBE"]),
        &confirm(false, "unsubscribe", None, 0),
    );
    sub.roundtrip(
        &req(&["PUNSUBSCRIBE"]),
        &confirm(false, "punsubscribe", None, 0),
    );
}

#[test]
fn patterns_and_counts() {
    let _alone = serial();
    let srv = TestServer::start();
    let mut sub = srv.raw();
    sub.send(&req(&["PSUBSCRIBE", "news.*", "h?llo", "[ab]x"]));
    expect_frame(&mut sub, &confirm(false, "psubscribe", Some("news.*"), 1));
    expect_frame(&mut sub, &confirm(false, "psubscribe", Some("h?llo"), 2));
    expect_frame(&mut sub, &confirm(false, "psubscribe", Some("[ab]x"), 3));
    sub.send(&req(&["SUBSCRIBE", "news.it"]));
    expect_frame(&mut sub, &confirm(false, "subscribe", Some("news.it"), 4));

    let mut p = srv.client();
    // Subscribed by channel and by pattern: delivered (and counted) twice.
    assert_eq!(publish(&mut p, "news.it", "m1"), 2);
    expect_frame(&mut sub, &message(false, "news.it", "m1"));
    expect_frame(&mut sub, &pmessage(false, "news.*", "news.it", "m1"));
    assert_eq!(publish(&mut p, "hello", "m2"), 1);
    expect_frame(&mut sub, &pmessage(false, "h?llo", "hello", "m2"));
    assert_eq!(publish(&mut p, "bx", "m3"), 1);
    expect_frame(&mut sub, &pmessage(false, "[ab]x", "bx", "m3"));
    assert_eq!(publish(&mut p, "cx", "m4"), 0);
    assert_eq!(publish(&mut p, "news", "m5"), 0);

    assert_eq!(int(&mut p, cmd("PUBSUB").arg("NUMPAT")), 3);
    let mut other = srv.raw();
    other.send(&req(&["PSUBSCRIBE", "news.*"]));
    expect_frame(&mut other, &confirm(false, "psubscribe", Some("news.*"), 1));
    // NUMPAT counts distinct patterns, not subscriptions.
    assert_eq!(int(&mut p, cmd("PUBSUB").arg("NUMPAT")), 3);

    sub.send(&req(&["PUNSUBSCRIBE", "h?llo"]));
    expect_frame(&mut sub, &confirm(false, "punsubscribe", Some("h?llo"), 3));
    assert_eq!(publish(&mut p, "hello", "x"), 0);
    sub.send(&req(&["PUNSUBSCRIBE"]));
    expect_frame(&mut sub, &confirm(false, "punsubscribe", Some("news.*"), 2));
    expect_frame(&mut sub, &confirm(false, "punsubscribe", Some("[ab]x"), 1));
    assert_eq!(int(&mut p, cmd("PUBSUB").arg("NUMPAT")), 1);
    // Still subscribed to the channel: still in subscribed mode.
    sub.roundtrip(
        &req(&["GET", "k"]),
        format!("-ERR Can't execute 'get': {SUBSCRIBED_ONLY}\r\n").as_bytes(),
    );
}

#[test]
fn resp2_subscribed_mode_rules() {
    let _alone = serial();
    let srv = TestServer::start();
    let mut sub = srv.raw();
    sub.send(&req(&["SUBSCRIBE", "c"]));
    expect_frame(&mut sub, &confirm(false, "subscribe", Some("c"), 1));
    for (args, name) in [
        (vec!["GET", "k"], "get"),
        (vec!["PUBLISH", "c", "x"], "publish"),
        (vec!["CLIENT", "LIST"], "client|list"),
        (vec!["PUBSUB", "NUMPAT"], "pubsub|numpat"),
        (vec!["SELECT", "1"], "select"),
    ] {
        sub.roundtrip(
            &req(&args),
            format!("-ERR Can't execute '{name}': {SUBSCRIBED_ONLY}\r\n").as_bytes(),
        );
    }
    // Unknown commands and arity errors come first, as in Redis.
    sub.roundtrip(
        &req(&["NOSUCH"]),
        b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n",
    );
    sub.roundtrip(
        &req(&["PING", "a", "b"]),
        b"-ERR wrong number of arguments for 'ping' command\r\n",
    );
    // PING answers in the message shape.
    sub.roundtrip(&req(&["PING"]), b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    sub.roundtrip(&req(&["PING", "hi"]), b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");
    // Messages keep flowing between refused commands.
    let mut p = srv.client();
    assert_eq!(publish(&mut p, "c", "still"), 1);
    expect_frame(&mut sub, &message(false, "c", "still"));
    // RESET leaves every subscription (no confirmations) and ends subscribed mode.
    sub.roundtrip(&req(&["RESET"]), b"+RESET\r\n");
    assert_eq!(publish(&mut p, "c", "gone"), 0);
    sub.roundtrip(&req(&["GET", "k"]), b"$-1\r\n");
    // QUIT is allowed while subscribed.
    let mut q = srv.raw();
    q.send(&req(&["PSUBSCRIBE", "*"]));
    expect_frame(&mut q, &confirm(false, "psubscribe", Some("*"), 1));
    q.roundtrip(&req(&["QUIT"]), b"+OK\r\n");
    assert!(q.is_closed());
    eventually("the closed subscriber is gone", || {
        int(&mut p, cmd("PUBSUB").arg("NUMPAT")) == 0
    });
}

#[test]
fn resp3_pushes_and_normal_commands() {
    let _alone = serial();
    let srv = TestServer::start();
    let mut sub = raw3(&srv);
    sub.send(&req(&["SUBSCRIBE", "a", "b"]));
    expect_frame(&mut sub, &confirm(true, "subscribe", Some("a"), 1));
    expect_frame(&mut sub, &confirm(true, "subscribe", Some("b"), 2));
    // Any command works while subscribed in RESP3, PING included (a plain PONG).
    sub.roundtrip(&req(&["SET", "k", "v"]), b"+OK\r\n");
    sub.roundtrip(&req(&["GET", "k"]), b"$1\r\nv\r\n");
    sub.roundtrip(&req(&["PING"]), b"+PONG\r\n");
    // Its own PUBLISH: the push comes after the reply, as Redis 7.2 postpones it.
    sub.send(&req(&["PUBLISH", "a", "self"]));
    expect_frame(&mut sub, b":1\r\n");
    expect_frame(&mut sub, &message(true, "a", "self"));
    sub.send(&req(&["PSUBSCRIBE", "*"]));
    expect_frame(&mut sub, &confirm(true, "psubscribe", Some("*"), 3));
    let mut p = srv.client();
    assert_eq!(publish(&mut p, "b", "x"), 2);
    expect_frame(&mut sub, &message(true, "b", "x"));
    expect_frame(&mut sub, &pmessage(true, "*", "b", "x"));
    sub.send(&req(&["UNSUBSCRIBE"]));
    expect_frame(&mut sub, &confirm(true, "unsubscribe", Some("a"), 2));
    expect_frame(&mut sub, &confirm(true, "unsubscribe", Some("b"), 1));
    sub.send(&req(&["PUNSUBSCRIBE"]));
    expect_frame(&mut sub, &confirm(true, "punsubscribe", Some("*"), 0));
    sub.roundtrip(
        &req(&["UNSUBSCRIBE"]),
        &confirm(true, "unsubscribe", None, 0),
    );
    // CLIENT REPLY OFF does not silence pushes.
    sub.send(&req(&["CLIENT", "REPLY", "OFF"]));
    sub.send(&req(&["SUBSCRIBE", "z"]));
    expect_frame(&mut sub, &confirm(true, "subscribe", Some("z"), 1));
    sub.send(&req(&["GET", "k"]));
    assert!(sub.nothing_arrives(Duration::from_millis(100)));
}

#[test]
fn redis_crate_subscriber() {
    let _alone = serial();
    let srv = TestServer::start();
    let mut p = srv.client();
    let mut sub = srv.client();
    let mut ps = sub.as_pubsub();
    ps.subscribe("ch").unwrap();
    ps.psubscribe("c*").unwrap();
    assert_eq!(publish(&mut p, "ch", "hi"), 2);
    let m = ps.get_message().unwrap();
    assert_eq!(m.get_channel_name(), "ch");
    assert_eq!(m.get_payload::<String>().unwrap(), "hi");
    assert!(!m.from_pattern());
    let m = ps.get_message().unwrap();
    assert_eq!(m.get_pattern::<String>().unwrap(), "c*");
}

fn smessage(resp3: bool, channel: &str, payload: &str) -> Vec<u8> {
    frame3(resp3, "smessage", Some(channel), &bulk_bytes(payload))
}

/// Sharded Pub/Sub, byte for byte as Redis 7.2 (checked against redis-server 7.0.15): shard
/// channels are names of their own (SPUBLISH reaches no SUBSCRIBE or PSUBSCRIBE subscriber,
/// PUBLISH no SSUBSCRIBE one), their confirmations count shard channels alone, and any
/// subscription keeps a RESP2 connection in subscribed mode.
#[test]
fn sharded_pubsub_byte_exact() {
    let _alone = serial();
    let srv = TestServer::start();
    let mut sub = srv.raw();
    sub.send(&req(&["SSUBSCRIBE", "x", "y"]));
    expect_frame(&mut sub, &confirm(false, "ssubscribe", Some("x"), 1));
    expect_frame(&mut sub, &confirm(false, "ssubscribe", Some("y"), 2));
    // Again: confirmed, not counted twice.
    sub.roundtrip(
        &req(&["SSUBSCRIBE", "x"]),
        &confirm(false, "ssubscribe", Some("x"), 2),
    );
    sub.roundtrip(
        &req(&["GET", "k"]),
        format!("-ERR Can't execute 'get': {SUBSCRIBED_ONLY}\r\n").as_bytes(),
    );
    // Channel and pattern confirmations count channels and patterns only.
    sub.roundtrip(
        &req(&["SUBSCRIBE", "x"]),
        &confirm(false, "subscribe", Some("x"), 1),
    );
    sub.roundtrip(
        &req(&["PSUBSCRIBE", "*"]),
        &confirm(false, "psubscribe", Some("*"), 2),
    );

    let mut p = srv.client();
    assert_eq!(
        int(&mut p, cmd("SPUBLISH").arg("x").arg("hello")),
        1,
        "patterns never see shard channels"
    );
    expect_frame(&mut sub, &smessage(false, "x", "hello"));
    assert!(sub.nothing_arrives(Duration::from_millis(50)));
    assert_eq!(publish(&mut p, "y", "plain"), 1, "only the pattern hears y");
    expect_frame(&mut sub, &pmessage(false, "*", "y", "plain"));
    assert_eq!(int(&mut p, cmd("SPUBLISH").arg("nobody").arg("m")), 0);

    let stats = info_fields(&info(&mut p, &["stats"]));
    assert_eq!(stats["pubsubshard_channels"], "2");
    assert_eq!(stats["pubsub_channels"], "1");
    let mut chans: Vec<String> = cmd("PUBSUB").arg("SHARDCHANNELS").query(&mut p).unwrap();
    chans.sort();
    assert_eq!(chans, ["x", "y"]);
    let chans: Vec<String> = cmd("PUBSUB")
        .arg("SHARDCHANNELS")
        .arg("y*")
        .query(&mut p)
        .unwrap();
    assert_eq!(chans, ["y"]);
    assert_eq!(
        val(&mut p, cmd("PUBSUB").arg("SHARDNUMSUB").arg("x").arg("zz")),
        Value::Array(vec![bulk("x"), Value::Int(1), bulk("zz"), Value::Int(0)])
    );
    assert_eq!(
        val(&mut p, cmd("PUBSUB").arg("SHARDNUMSUB")),
        Value::Array(vec![])
    );
    // Shard channels are not channels, and the other way round.
    assert_eq!(
        val(&mut p, cmd("PUBSUB").arg("NUMSUB").arg("y")),
        Value::Array(vec![bulk("y"), Value::Int(0)])
    );
    let list: String = cmd("CLIENT").arg("LIST").query(&mut p).unwrap();
    assert!(
        list.contains("flags=P db=0 sub=1 psub=1 ssub=2 "),
        "CLIENT LIST: {list}"
    );

    sub.roundtrip(
        &req(&["SUNSUBSCRIBE", "x"]),
        &confirm(false, "sunsubscribe", Some("x"), 1),
    );
    sub.roundtrip(
        &req(&["SUNSUBSCRIBE"]),
        &confirm(false, "sunsubscribe", Some("y"), 0),
    );
    sub.roundtrip(
        &req(&["SUNSUBSCRIBE"]),
        &confirm(false, "sunsubscribe", None, 0),
    );
    sub.roundtrip(
        &req(&["SUNSUBSCRIBE", "never"]),
        &confirm(false, "sunsubscribe", Some("never"), 0),
    );
    // Still subscribed to a channel and a pattern: still in subscribed mode.
    sub.roundtrip(
        &req(&["GET", "k"]),
        format!("-ERR Can't execute 'get': {SUBSCRIBED_ONLY}\r\n").as_bytes(),
    );
    sub.roundtrip(
        &req(&["UNSUBSCRIBE"]),
        &confirm(false, "unsubscribe", Some("x"), 1),
    );
    sub.roundtrip(
        &req(&["PUNSUBSCRIBE"]),
        &confirm(false, "punsubscribe", Some("*"), 0),
    );
    sub.roundtrip(&req(&["GET", "k"]), b"$-1\r\n");
    // A shard subscription alone enters subscribed mode too; RESET leaves it.
    sub.roundtrip(
        &req(&["SSUBSCRIBE", "z"]),
        &confirm(false, "ssubscribe", Some("z"), 1),
    );
    sub.roundtrip(&req(&["PING"]), b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    sub.roundtrip(&req(&["RESET"]), b"+RESET\r\n");
    assert_eq!(int(&mut p, cmd("SPUBLISH").arg("z").arg("gone")), 0);

    // RESP3: pushes, and commands run while subscribed.
    let mut s3 = raw3(&srv);
    s3.roundtrip(
        &req(&["SSUBSCRIBE", "q"]),
        &confirm(true, "ssubscribe", Some("q"), 1),
    );
    s3.roundtrip(&req(&["GET", "k"]), b"_\r\n");
    s3.send(&req(&["SPUBLISH", "q", "self"]));
    expect_frame(&mut s3, b":1\r\n");
    expect_frame(&mut s3, &smessage(true, "q", "self"));
    s3.roundtrip(
        &req(&["SUNSUBSCRIBE"]),
        &confirm(true, "sunsubscribe", Some("q"), 0),
    );
    s3.roundtrip(
        &req(&["SUNSUBSCRIBE"]),
        &confirm(true, "sunsubscribe", None, 0),
    );
}

/// SSUBSCRIBE is refused inside a transaction, where SUBSCRIBE is allowed (Redis keeps that
/// only for backward compatibility); arity errors and COMMAND's view of shard channels.
#[test]
fn sharded_pubsub_errors_and_introspection() {
    let _alone = serial();
    let srv = TestServer::start();
    let mut r = srv.raw();
    r.roundtrip(&req(&["MULTI"]), b"+OK\r\n");
    r.roundtrip(&req(&["SSUBSCRIBE", "a"]), b"+QUEUED\r\n");
    r.roundtrip(&req(&["SUBSCRIBE", "b"]), b"+QUEUED\r\n");
    r.roundtrip(
        &req(&["EXEC"]),
        b"*2\r\n-ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:1\r\n",
    );
    r.roundtrip(
        &req(&["SUNSUBSCRIBE"]),
        &confirm(false, "sunsubscribe", None, 0),
    );
    r.roundtrip(
        &req(&["UNSUBSCRIBE"]),
        &confirm(false, "unsubscribe", Some("b"), 0),
    );
    for (args, name) in [
        (vec!["SSUBSCRIBE"], "ssubscribe"),
        (vec!["SPUBLISH", "a"], "spublish"),
        (vec!["SPUBLISH", "a", "b", "c"], "spublish"),
    ] {
        r.roundtrip(
            &req(&args),
            format!("-ERR wrong number of arguments for '{name}' command\r\n").as_bytes(),
        );
    }
    r.roundtrip(
        &req(&["PUBSUB", "SHARDCHANNELS", "a", "b"]),
        b"-ERR unknown subcommand or wrong number of arguments for 'SHARDCHANNELS'. Try PUBSUB HELP.\r\n",
    );
    // Shard channels are `not_key` key specs: COMMAND shows them, key lookups skip them.
    for args in [
        vec!["COMMAND", "GETKEYS", "SSUBSCRIBE", "a"],
        vec!["COMMAND", "GETKEYS", "SPUBLISH", "a", "m"],
        vec!["COMMAND", "GETKEYS", "SPUBLISH", "a"],
    ] {
        r.roundtrip(&req(&args), b"-ERR The command has no key arguments\r\n");
    }
    let mut p = srv.client();
    let info = val(&mut p, cmd("COMMAND").arg("INFO").arg("ssubscribe"));
    let Value::Array(rows) = info else {
        panic!("COMMAND INFO {info:?}")
    };
    let Value::Array(row) = &rows[0] else {
        panic!("row {rows:?}")
    };
    assert_eq!(&row[3..6], &[Value::Int(1), Value::Int(-1), Value::Int(1)]);
    assert!(format!("{:?}", row[8]).contains("not_key"), "{:?}", row[8]);
}

#[test]
fn pubsub_introspection() {
    let _alone = serial();
    let srv = TestServer::start();
    let mut p = srv.client();
    let mut s1 = srv.raw();
    s1.send(&req(&["SUBSCRIBE", "news.it", "news.fr", "misc"]));
    for _ in 0..3 {
        s1.read_reply();
    }
    let mut s2 = srv.raw();
    s2.send(&req(&["SUBSCRIBE", "news.it"]));
    s2.read_reply();
    s2.send(&req(&["PSUBSCRIBE", "x*"]));
    s2.read_reply();

    // INFO stats counts channels and patterns with subscribers (news.it, news.fr, misc; x*).
    let stats = info_fields(&info(&mut p, &["stats"]));
    assert_eq!(
        (
            stats["pubsub_channels"].as_str(),
            stats["pubsub_patterns"].as_str()
        ),
        ("3", "1")
    );

    let mut chans: Vec<String> = cmd("PUBSUB").arg("CHANNELS").query(&mut p).unwrap();
    chans.sort();
    assert_eq!(chans, ["misc", "news.fr", "news.it"]);
    let mut chans: Vec<String> = cmd("PUBSUB")
        .arg("CHANNELS")
        .arg("news.*")
        .query(&mut p)
        .unwrap();
    chans.sort();
    assert_eq!(chans, ["news.fr", "news.it"]);
    let none: Vec<String> = cmd("PUBSUB")
        .arg("CHANNELS")
        .arg("zz*")
        .query(&mut p)
        .unwrap();
    assert!(none.is_empty());
    assert_eq!(
        val(
            &mut p,
            cmd("PUBSUB")
                .arg("NUMSUB")
                .arg("news.it")
                .arg("misc")
                .arg("nope")
        ),
        Value::Array(vec![
            bulk("news.it"),
            Value::Int(2),
            bulk("misc"),
            Value::Int(1),
            bulk("nope"),
            Value::Int(0)
        ])
    );
    assert_eq!(
        val(&mut p, cmd("PUBSUB").arg("NUMSUB")),
        Value::Array(vec![])
    );
    assert_eq!(int(&mut p, cmd("PUBSUB").arg("NUMPAT")), 1);
    // NUMSUB stays an array in RESP3, as in Redis.
    let mut p3 = srv.client_resp3();
    assert_eq!(
        val(&mut p3, cmd("PUBSUB").arg("NUMSUB").arg("misc")),
        Value::Array(vec![bulk("misc"), Value::Int(1)])
    );
    // Closing a connection removes its subscriptions.
    drop(s1);
    eventually("closed subscriber's channels are gone", || {
        let c: Vec<String> = cmd("PUBSUB").arg("CHANNELS").query(&mut p).unwrap();
        c == ["news.it"]
    });

    let help = val(&mut p, cmd("PUBSUB").arg("HELP"));
    let Value::Array(lines) = help else {
        panic!("help {help:?}")
    };
    assert_eq!(
        lines[0],
        Value::SimpleString(
            "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into()
        )
    );
    assert!(lines.contains(&Value::SimpleString("NUMPAT".into())));
}

#[test]
fn bad_input() {
    let _alone = serial();
    let srv = TestServer::start();
    let mut p = srv.client();
    assert_err_exact(&mut p, &mut cmd("SUBSCRIBE"), &arity("subscribe"));
    assert_err_exact(&mut p, &mut cmd("PSUBSCRIBE"), &arity("psubscribe"));
    assert_err_exact(&mut p, cmd("PUBLISH").arg("c"), &arity("publish"));
    assert_err_exact(
        &mut p,
        cmd("PUBLISH").arg("c").arg("m").arg("x"),
        &arity("publish"),
    );
    assert_err_exact(&mut p, &mut cmd("PUBSUB"), &arity("pubsub"));
    assert_err_exact(
        &mut p,
        cmd("PUBSUB").arg("NUMPAT").arg("x"),
        &arity("pubsub|numpat"),
    );
    assert_err_exact(
        &mut p,
        cmd("PUBSUB").arg("HELP").arg("x"),
        &arity("pubsub|help"),
    );
    assert_err_exact(
        &mut p,
        cmd("PUBSUB").arg("CHANNELS").arg("a").arg("b"),
        "ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.",
    );
    // The subcommand as the client spelled it, as Redis echoes it.
    assert_err_exact(
        &mut p,
        cmd("PUBSUB").arg("Channels").arg("a").arg("b"),
        "ERR unknown subcommand or wrong number of arguments for 'Channels'. Try PUBSUB HELP.",
    );
    assert_err_exact(
        &mut p,
        cmd("PUBSUB").arg("FOO"),
        "ERR unknown subcommand 'FOO'. Try PUBSUB HELP.",
    );
    assert_alive(&mut p);
}

#[test]
fn channels_are_scoped_to_the_tenant() {
    let _alone = serial();
    let srv = TestServer::start();
    let mut admin = srv.client();
    let sa = tenant(&mut admin, "acme");
    let sb = tenant(&mut admin, "beta");

    let mut sub_a = raw_as(&srv, "acme", &sa);
    sub_a.send(&req(&["SUBSCRIBE", "orders"]));
    expect_frame(&mut sub_a, &confirm(false, "subscribe", Some("orders"), 1));
    let mut sub_b = raw_as(&srv, "beta", &sb);
    sub_b.send(&req(&["SUBSCRIBE", "orders"]));
    expect_frame(&mut sub_b, &confirm(false, "subscribe", Some("orders"), 1));
    sub_b.send(&req(&["PSUBSCRIBE", "*"]));
    expect_frame(&mut sub_b, &confirm(false, "psubscribe", Some("*"), 2));
    let mut sub_global = srv.raw();
    sub_global.send(&req(&["PSUBSCRIBE", "*"]));
    expect_frame(&mut sub_global, &confirm(false, "psubscribe", Some("*"), 1));

    let mut pa = client_as(&srv, "acme", &sa);
    assert_eq!(publish(&mut pa, "orders", "for-acme"), 1);
    expect_frame(&mut sub_a, &message(false, "orders", "for-acme"));
    assert!(sub_b.nothing_arrives(Duration::from_millis(100)));
    assert!(sub_global.nothing_arrives(Duration::from_millis(50)));

    // Counts are the caller's tenant's only.
    let chans: Vec<String> = cmd("PUBSUB").arg("CHANNELS").query(&mut pa).unwrap();
    assert_eq!(chans, ["orders"]);
    assert_eq!(int(&mut pa, cmd("PUBSUB").arg("NUMPAT")), 0);
    let mut pb = client_as(&srv, "beta", &sb);
    assert_eq!(int(&mut pb, cmd("PUBSUB").arg("NUMPAT")), 1);
    assert_eq!(
        val(&mut pb, cmd("PUBSUB").arg("NUMSUB").arg("orders")),
        Value::Array(vec![bulk("orders"), Value::Int(1)])
    );
    // The global context is a namespace of its own.
    let chans: Vec<String> = cmd("PUBSUB").arg("CHANNELS").query(&mut admin).unwrap();
    assert!(chans.is_empty());
    assert_eq!(int(&mut admin, cmd("PUBSUB").arg("NUMPAT")), 1);
    assert_eq!(publish(&mut admin, "orders", "global"), 1);
    expect_frame(&mut sub_global, &pmessage(false, "*", "orders", "global"));
    assert!(sub_a.nothing_arrives(Duration::from_millis(50)));
    // Global names do not reach into a tenant's channels either.
    assert_eq!(publish(&mut admin, "__tenant:acme:orders", "x"), 1);
    sub_global.read_reply();
    assert!(sub_a.nothing_arrives(Duration::from_millis(50)));

    // B's publish reaches B's channel and pattern subscribers, nobody else.
    assert_eq!(publish(&mut pb, "orders", "for-beta"), 2);
    expect_frame(&mut sub_b, &message(false, "orders", "for-beta"));
    expect_frame(&mut sub_b, &pmessage(false, "*", "orders", "for-beta"));
    assert!(sub_a.nothing_arrives(Duration::from_millis(50)));
    assert!(sub_global.nothing_arrives(Duration::from_millis(50)));

    // An admin acting inside a tenant (TENANT.USE) shares the tenant's namespace.
    let mut inside = srv.client();
    let _: () = cmd("TENANT.USE").arg("acme").query(&mut inside).unwrap();
    assert_eq!(publish(&mut inside, "orders", "via-use"), 1);
    expect_frame(&mut sub_a, &message(false, "orders", "via-use"));
}

#[test]
fn shard_channels_are_scoped_to_the_tenant() {
    let _alone = serial();
    let srv = TestServer::start();
    let mut admin = srv.client();
    let sa = tenant(&mut admin, "acme");
    let sb = tenant(&mut admin, "beta");
    let mut sub_a = raw_as(&srv, "acme", &sa);
    sub_a.roundtrip(
        &req(&["SSUBSCRIBE", "orders"]),
        &confirm(false, "ssubscribe", Some("orders"), 1),
    );
    let mut sub_global = srv.raw();
    sub_global.roundtrip(
        &req(&["SSUBSCRIBE", "orders", "__tenant:acme:orders"]),
        &[
            confirm(false, "ssubscribe", Some("orders"), 1),
            confirm(false, "ssubscribe", Some("__tenant:acme:orders"), 2),
        ]
        .concat(),
    );
    let mut pb = client_as(&srv, "beta", &sb);
    for ch in ["orders", "__tenant:acme:orders"] {
        assert_eq!(int(&mut pb, cmd("SPUBLISH").arg(ch).arg("from-b")), 0);
    }
    assert!(sub_a.nothing_arrives(Duration::from_millis(100)));
    assert!(sub_global.nothing_arrives(Duration::from_millis(50)));
    let none: Vec<String> = cmd("PUBSUB").arg("SHARDCHANNELS").query(&mut pb).unwrap();
    assert!(none.is_empty(), "b sees a's shard channels: {none:?}");
    assert_eq!(
        val(&mut pb, cmd("PUBSUB").arg("SHARDNUMSUB").arg("orders")),
        Value::Array(vec![bulk("orders"), Value::Int(0)])
    );
    let mut pa = client_as(&srv, "acme", &sa);
    assert_eq!(int(&mut pa, cmd("SPUBLISH").arg("orders").arg("for-a")), 1);
    expect_frame(&mut sub_a, &smessage(false, "orders", "for-a"));
    assert!(sub_global.nothing_arrives(Duration::from_millis(50)));
    let chans: Vec<String> = cmd("PUBSUB").arg("SHARDCHANNELS").query(&mut pa).unwrap();
    assert_eq!(chans, ["orders"]);
    // The global context's shard channels are its own, prefixed names included.
    assert_eq!(
        int(
            &mut admin,
            cmd("SPUBLISH").arg("__tenant:acme:orders").arg("g")
        ),
        1
    );
    sub_global.read_reply();
    assert!(sub_a.nothing_arrives(Duration::from_millis(50)));
}

#[test]
fn rebinding_drops_subscriptions() {
    let _alone = serial();
    let srv = TestServer::start();
    let mut admin = srv.client();
    let sa = tenant(&mut admin, "acme");
    let sb = tenant(&mut admin, "beta");
    let mut pa = client_as(&srv, "acme", &sa);

    // TENANT.USE then TENANT.EXIT (RESP3, where those run while subscribed).
    let mut s = raw3(&srv);
    s.roundtrip(&req(&["TENANT.USE", "acme"]), b"+OK\r\n");
    s.send(&req(&["SUBSCRIBE", "orders"]));
    expect_frame(&mut s, &confirm(true, "subscribe", Some("orders"), 1));
    assert_eq!(publish(&mut pa, "orders", "1"), 1);
    expect_frame(&mut s, &message(true, "orders", "1"));
    s.roundtrip(&req(&["TENANT.EXIT"]), b"+OK\r\n");
    assert_eq!(publish(&mut pa, "orders", "2"), 0);
    assert!(s.nothing_arrives(Duration::from_millis(100)));
    // Back in the global context, it subscribes afresh there.
    s.send(&req(&["SUBSCRIBE", "orders"]));
    expect_frame(&mut s, &confirm(true, "subscribe", Some("orders"), 1));
    assert_eq!(publish(&mut admin, "orders", "g"), 1);
    expect_frame(&mut s, &message(true, "orders", "g"));

    // AUTH as another tenant.
    let mut t = raw3(&srv);
    t.roundtrip(&req(&["AUTH", "acme", &sa]), b"+OK\r\n");
    t.send(&req(&["PSUBSCRIBE", "*"]));
    expect_frame(&mut t, &confirm(true, "psubscribe", Some("*"), 1));
    t.roundtrip(&req(&["AUTH", "acme", &sa]), b"+OK\r\n");
    // Re-authenticating as the same tenant keeps the namespace and the subscriptions.
    assert_eq!(publish(&mut pa, "x", "same"), 1);
    expect_frame(&mut t, &pmessage(true, "*", "x", "same"));
    t.roundtrip(
        &req(&["SSUBSCRIBE", "x"]),
        &confirm(true, "ssubscribe", Some("x"), 1),
    );
    t.roundtrip(&req(&["AUTH", "beta", &sb]), b"+OK\r\n");
    assert_eq!(publish(&mut pa, "x", "old"), 0);
    assert_eq!(int(&mut pa, cmd("SPUBLISH").arg("x").arg("old")), 0);
    assert!(t.nothing_arrives(Duration::from_millis(100)));
    assert_eq!(int(&mut pa, cmd("PUBSUB").arg("NUMPAT")), 0);
    let mut pb = client_as(&srv, "beta", &sb);
    assert_eq!(publish(&mut pb, "x", "new"), 0);

    // RESET (RESP2, subscribed mode) leaves its subscriptions too.
    let mut r = raw_as(&srv, "acme", &sa);
    r.send(&req(&["SUBSCRIBE", "orders"]));
    expect_frame(&mut r, &confirm(false, "subscribe", Some("orders"), 1));
    r.roundtrip(&req(&["RESET"]), b"+RESET\r\n");
    assert_eq!(publish(&mut pa, "orders", "after-reset"), 0);
}

#[test]
fn deleting_a_tenant_closes_its_subscribers() {
    let _alone = serial();
    let srv = TestServer::start();
    let mut admin = srv.client();
    let sa = tenant(&mut admin, "acme");
    let mut s = raw_as(&srv, "acme", &sa);
    s.send(&req(&["SUBSCRIBE", "c"]));
    s.read_reply();
    let _: () = cmd("TENANT.DELETE")
        .arg("acme")
        .arg("FORCE")
        .query(&mut admin)
        .unwrap();
    assert!(s.is_closed());
    // A tenant of the same name created later starts with no subscribers.
    let sa2 = tenant(&mut admin, "acme");
    let mut pa = client_as(&srv, "acme", &sa2);
    eventually("the old subscriber is gone", || {
        publish(&mut pa, "c", "x") == 0
    });
}

/// Process RSS in bytes (the server runs in this process).
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

#[test]
fn slow_subscriber_is_disconnected_at_the_output_limit() {
    let _alone = serial();
    let srv = TestServer::start();
    let mut p = srv.client();
    let _: () = cmd("CONFIG")
        .arg("SET")
        .arg("client-output-buffer-limit")
        .arg("pubsub 1mb 256kb 60")
        .query(&mut p)
        .unwrap();

    // A subscriber that never reads, with the smallest socket buffer the kernel allows.
    let mut slow = srv.raw();
    slow.send(&req(&["SUBSCRIBE", "firehose"]));
    expect_frame(&mut slow, &confirm(false, "subscribe", Some("firehose"), 1));

    // A subscriber that reads everything, on its own thread.
    let mut fast = srv.raw();
    fast.send(&req(&["SUBSCRIBE", "firehose"]));
    expect_frame(&mut fast, &confirm(false, "subscribe", Some("firehose"), 1));
    const N: usize = 4000;
    let payload = "x".repeat(16 * 1024);
    let one = message(false, "firehose", &payload).len();
    let reader = std::thread::spawn(move || {
        let total = one * N;
        let mut got = 0;
        let mut buf = vec![0u8; 256 * 1024];
        let deadline = Instant::now() + Duration::from_secs(60);
        while got < total && Instant::now() < deadline {
            match fast.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(_) => break,
            }
        }
        (got == total, fast)
    });

    let before = rss();
    let started = Instant::now();
    let mut receivers = Vec::with_capacity(N);
    for _ in 0..N {
        receivers.push(publish(&mut p, "firehose", &payload));
    }
    // 64 MB published while one subscriber reads nothing: the publisher never waited on it.
    assert!(started.elapsed() < Duration::from_secs(30));
    let grown = rss().saturating_sub(before);
    assert!(
        grown < 24 * 1024 * 1024,
        "memory grew by {grown} bytes for a subscriber that never reads"
    );
    let (complete, _fast) = reader.join().unwrap();
    assert!(complete, "the reading subscriber got everything");
    // Only the reader is left, and the slow one's socket was closed.
    assert_eq!(*receivers.last().unwrap(), 1);
    assert_eq!(
        val(&mut p, cmd("PUBSUB").arg("NUMSUB").arg("firehose")),
        Value::Array(vec![bulk("firehose"), Value::Int(1)])
    );
    slow.stream()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let drained = slow.read_all();
    assert!(
        drained.len() < one * N / 4,
        "the slow subscriber was cut off"
    );
    assert_alive(&mut p);
}

#[test]
fn normal_class_limit_applies_to_replies() {
    let _alone = serial();
    let srv = TestServer::start();
    let mut p = srv.client();
    let big = "v".repeat(3 * 1024 * 1024);
    set(&mut p, "big", &big);
    // Unlimited by default.
    assert_eq!(get_str(&mut p, "big").unwrap().len(), big.len());
    let _: () = cmd("CONFIG")
        .arg("SET")
        .arg("client-output-buffer-limit")
        .arg("normal 1mb 0 0")
        .query(&mut p)
        .unwrap();
    let mut r = srv.raw();
    r.send(&req(&["GET", "big"]));
    let got = r.read_all();
    assert!(got.is_empty(), "the oversized reply is not sent");
    // Small replies are fine, and the limit can be lifted again.
    assert_eq!(get_str(&mut p, "nosuch"), None);
    let _: () = cmd("CONFIG")
        .arg("SET")
        .arg("client-output-buffer-limit")
        .arg("normal 0 0 0")
        .query(&mut p)
        .unwrap();
    let mut c = srv.client();
    assert_eq!(get_str(&mut c, "big").unwrap().len(), big.len());
}
