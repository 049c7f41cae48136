//! A connection's rights change under it: logins refused or queued inside MULTI, EXEC after
//! the tenant was suspended, made read-only or given fewer databases, and subscribers whose
//! token is revoked or expires, or whose tenant is suspended, while they wait for messages.
//! Each is a path by which a connection could act as, or hear from, someone it no longer is.
mod common;

use common::{create_tenant, error_text, get_str, set, TestServer};
use redis::{cmd, Connection, Value};
use std::time::Duration;

/// A token of `tenant` with `opts`: (id, secret).
fn token(admin: &mut Connection, tenant: &str, opts: &[&str]) -> (String, String) {
    let v: Vec<String> = cmd("TENANT.TOKEN.CREATE")
        .arg(tenant)
        .arg(opts)
        .query(admin)
        .unwrap();
    let field = |name: &str| v[v.iter().position(|f| f == name).unwrap() + 1].clone();
    (field("id"), field("secret"))
}

fn connect(srv: &TestServer, id: &str, secret: &str) -> Connection {
    common::connect_tenant(srv, id, secret).unwrap()
}

fn ok(c: &mut Connection, command: &mut redis::Cmd) {
    let _: () = command.query(c).unwrap();
}

fn err(c: &mut Connection, command: &redis::Cmd) -> String {
    match command.query::<Value>(c) {
        Err(e) => error_text(&e),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

/// The replies of an EXEC, each error as its text.
fn exec(c: &mut Connection) -> Vec<String> {
    // Through a pipeline that keeps errors as values: a plain query turns the first error
    // inside the array into the whole reply's.
    let mut replies: Vec<Value> = redis::pipe().cmd("EXEC").ignore_errors().query(c).unwrap();
    match replies.remove(0) {
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::ServerError(e) => {
                    format!("{} {}", e.code(), e.details().unwrap_or_default())
                }
                other => format!("{other:?}"),
            })
            .collect(),
        other => panic!("EXEC: {other:?}"),
    }
}

fn current(c: &mut Connection) -> Option<String> {
    cmd("TENANT.CURRENT").query(c).unwrap()
}

#[test]
fn logins_are_refused_inside_multi_and_doom_the_transaction() {
    let srv = TestServer::start();
    let mut admin = srv.client();
    let a = create_tenant(&mut admin, "a", &[]);
    let b = create_tenant(&mut admin, "b", &[]);
    let mut conn = connect(&srv, "a", &a);
    ok(&mut conn, &mut cmd("MULTI"));
    assert_eq!(
        err(&mut conn, cmd("AUTH").arg("b").arg(&b)),
        "ERR AUTH inside MULTI is not allowed"
    );
    assert_eq!(
        err(&mut conn, cmd("HELLO").arg(&["3", "AUTH", "b", &b])),
        "ERR HELLO inside MULTI is not allowed"
    );
    let queued: String = cmd("SET").arg("k").arg("v").query(&mut conn).unwrap();
    assert_eq!(queued, "QUEUED");
    assert_eq!(
        err(&mut conn, &cmd("EXEC")),
        "EXECABORT Transaction discarded because of previous errors."
    );
    // Nothing ran, and the connection is still a's.
    assert_eq!(current(&mut conn).as_deref(), Some("a"));
    assert_eq!(get_str(&mut conn, "k"), None);

    // An admin cannot step into a tenant, or out of one, inside a transaction either.
    ok(&mut admin, &mut cmd("MULTI"));
    assert_eq!(
        err(&mut admin, cmd("TENANT.USE").arg("b")),
        "ERR TENANT.USE inside MULTI is not allowed"
    );
    ok(&mut admin, &mut cmd("DISCARD"));
    ok(&mut admin, cmd("TENANT.USE").arg("b"));
    ok(&mut admin, &mut cmd("MULTI"));
    assert_eq!(
        err(&mut admin, &cmd("TENANT.EXIT")),
        "ERR TENANT.EXIT inside MULTI is not allowed"
    );
    ok(&mut admin, &mut cmd("DISCARD"));
    assert_eq!(current(&mut admin).as_deref(), Some("b"));
}

#[test]
fn a_refused_login_leaves_the_connection_as_it_was() {
    let srv = TestServer::start();
    let mut admin = srv.client();
    let a = create_tenant(&mut admin, "a", &[]);
    let b = create_tenant(&mut admin, "b", &["CONNECTIONS", "1"]);
    set(&mut admin, "global", "admin-only");
    let _b_conn = connect(&srv, "b", &b);
    let mut conn = connect(&srv, "a", &a);
    set(&mut conn, "k", "a's");
    assert_eq!(
        err(&mut conn, cmd("AUTH").arg("b").arg(&b)),
        "ERR max number of connections for tenant 'b' reached (1)"
    );
    // Still a's connection: not unbound into the global context, where an open server would
    // make it an admin.
    assert_eq!(current(&mut conn).as_deref(), Some("a"));
    assert_eq!(get_str(&mut conn, "k").as_deref(), Some("a's"));
    assert_eq!(get_str(&mut conn, "global"), None);
    // A global name means nothing inside a tenant: it is a key of a's own, not b's.
    assert_eq!(get_str(&mut conn, "__tenant:b:k"), None);
    // And it still holds its own slot: a's count is one (this connection), b's still one.
    assert_eq!(common::tenant_info_int(&mut admin, "a", "connections"), 1);
    assert_eq!(common::tenant_info_int(&mut admin, "b", "connections"), 1);
    // Logging in again to its own tenant keeps its slot, even at the limit.
    ok(
        &mut admin,
        cmd("TENANT.LIMITS.SET").arg(&["a", "CONNECTIONS", "1"]),
    );
    ok(&mut conn, cmd("AUTH").arg("a").arg(&a));
    assert_eq!(common::tenant_info_int(&mut admin, "a", "connections"), 1);
}

#[test]
fn exec_checks_each_queued_command_against_the_tenant_as_it_is_now() {
    let srv = TestServer::start();
    let mut admin = srv.client();
    let a = create_tenant(&mut admin, "a", &["DATABASES", "4"]);
    let mut conn = connect(&srv, "a", &a);
    set(&mut conn, "k", "before");

    // Suspended between MULTI and EXEC: nothing reads or writes.
    ok(&mut conn, &mut cmd("MULTI"));
    for c in [cmd("SET").arg("k").arg("after"), cmd("GET").arg("k")] {
        let _: String = c.query(&mut conn).unwrap();
    }
    ok(&mut admin, cmd("TENANT.SUSPEND").arg("a"));
    let suspended = "SUSPENDED tenant 'a' is suspended";
    assert_eq!(exec(&mut conn), [suspended, suspended]);
    ok(&mut admin, cmd("TENANT.ACTIVATE").arg("a"));
    assert_eq!(get_str(&mut conn, "k").as_deref(), Some("before"));

    // Made read-only: the write is refused, the read runs.
    ok(&mut conn, &mut cmd("MULTI"));
    for c in [cmd("SET").arg("k").arg("after"), cmd("GET").arg("k")] {
        let _: String = c.query(&mut conn).unwrap();
    }
    ok(
        &mut admin,
        cmd("TENANT.UPDATE").arg(&["a", "STATE", "readonly"]),
    );
    assert_eq!(
        exec(&mut conn),
        [
            "READONLY tenant 'a' is read-only",
            "bulk-string('\"before\"')"
        ]
    );
    ok(&mut admin, cmd("TENANT.ACTIVATE").arg("a"));

    // Its databases lowered under the selected one.
    ok(&mut conn, cmd("SELECT").arg(3));
    ok(&mut conn, &mut cmd("MULTI"));
    let _: String = cmd("SET").arg("k").arg("db3").query(&mut conn).unwrap();
    ok(
        &mut admin,
        cmd("TENANT.UPDATE").arg(&["a", "DATABASES", "2"]),
    );
    assert_eq!(exec(&mut conn), ["ERR DB index is out of range"]);
    ok(
        &mut admin,
        cmd("TENANT.UPDATE").arg(&["a", "DATABASES", "4"]),
    );
    assert_eq!(get_str(&mut conn, "k"), None);
}

#[test]
fn exec_after_the_token_was_revoked_runs_nothing() {
    let srv = TestServer::start();
    let mut admin = srv.client();
    create_tenant(&mut admin, "a", &[]);
    let (id, secret) = token(&mut admin, "a", &["ROLE", "readwrite"]);
    let mut conn = connect(&srv, "a", &secret);
    ok(&mut conn, &mut cmd("MULTI"));
    let _: String = cmd("SET").arg("k").arg("v").query(&mut conn).unwrap();
    let _: String = cmd("FLUSHALL").query(&mut conn).unwrap();
    ok(&mut admin, cmd("TENANT.TOKEN.REVOKE").arg("a").arg(&id));
    set(&mut admin, "global", "kept");
    assert!(common::tenant_info_int(&mut admin, "a", "memory_held") > 0);
    // Refused as Redis refuses an EXEC it may not run: the transaction is discarded with it.
    assert_eq!(
        err(&mut conn, &cmd("EXEC")),
        "EXECABORT Transaction discarded because of: NOAUTH Authentication required."
    );
    // Neither in the tenant nor (unbound, on this open server) in the global context.
    assert_eq!(get_str(&mut admin, "global").as_deref(), Some("kept"));
    assert_eq!(get_str(&mut admin, "__tenant:a:k"), None);
    // Nothing of the queue is held for the tenant any more, while the connection lives on.
    assert_eq!(common::tenant_info_int(&mut admin, "a", "memory_held"), 0);
    assert_eq!(err(&mut conn, &cmd("EXEC")), "ERR EXEC without MULTI");
}

/// A connection of `tenant`, to subscribe with, reading with a timeout.
fn listener(srv: &TestServer, tenant: &str, secret: &str) -> Connection {
    let c = connect(srv, tenant, secret);
    c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    c
}

/// The next message on a subscriber: Some(payload), or None when the connection was closed
/// (or nothing came in time, which the callers tell apart by what they publish).
fn next_message(ps: &mut redis::PubSub<'_>) -> Option<String> {
    ps.get_message().ok().map(|m| m.get_payload().unwrap())
}

fn publish(c: &mut Connection, channel: &str, msg: &str) -> i64 {
    cmd("PUBLISH").arg(channel).arg(msg).query(c).unwrap()
}

#[test]
fn a_subscriber_hears_nothing_more_once_its_token_is_revoked() {
    let srv = TestServer::start();
    let mut admin = srv.client();
    let other = create_tenant(&mut admin, "a", &[]);
    let (id, secret) = token(&mut admin, "a", &["ROLE", "readonly"]);
    let mut conn = listener(&srv, "a", &secret);
    let mut sub = conn.as_pubsub();
    sub.subscribe("news").unwrap();
    let mut publisher = connect(&srv, "a", &other);
    publish(&mut publisher, "news", "before");
    assert_eq!(next_message(&mut sub).as_deref(), Some("before"));
    ok(&mut admin, cmd("TENANT.TOKEN.REVOKE").arg("a").arg(&id));
    publish(&mut publisher, "news", "secret");
    assert_eq!(
        next_message(&mut sub),
        None,
        "a revoked subscriber got a message"
    );
    // It was closed, not left waiting.
    assert!(sub.ping::<String>().is_err());
}

#[test]
fn a_subscriber_hears_nothing_after_its_token_expires() {
    let srv = TestServer::start();
    let mut admin = srv.client();
    let other = create_tenant(&mut admin, "a", &[]);
    let (_, secret) = token(&mut admin, "a", &["ROLE", "readonly", "TTL", "1"]);
    let mut conn = listener(&srv, "a", &secret);
    let mut sub = conn.as_pubsub();
    sub.subscribe("news").unwrap();
    let mut publisher = connect(&srv, "a", &other);
    std::thread::sleep(Duration::from_millis(1200));
    publish(&mut publisher, "news", "secret");
    assert_eq!(
        next_message(&mut sub),
        None,
        "an expired subscriber got a message"
    );
}

#[test]
fn a_suspended_tenant_neither_publishes_nor_hears_its_keyspace_events() {
    let srv = TestServer::start();
    let mut admin = srv.client();
    ok(
        &mut admin,
        cmd("CONFIG").arg(&["SET", "notify-keyspace-events", "Ex"]),
    );
    let a = create_tenant(&mut admin, "a", &[]);
    let mut conn = connect(&srv, "a", &a);
    let mut listening = listener(&srv, "a", &a);
    let mut sub = listening.as_pubsub();
    sub.subscribe("__keyevent@0__:expired").unwrap();
    ok(&mut conn, cmd("SET").arg(&["soon", "v", "PX", "300"]));
    ok(&mut admin, cmd("TENANT.SUSPEND").arg("a"));
    let suspended = "SUSPENDED tenant 'a' is suspended";
    assert_eq!(
        err(&mut conn, cmd("PUBLISH").arg(&["news", "x"])),
        suspended
    );
    assert_eq!(err(&mut conn, cmd("SUBSCRIBE").arg("news")), suspended);
    assert_eq!(err(&mut conn, cmd("PUBSUB").arg(&["CHANNELS"])), suspended);
    // The key expires while the tenant is suspended: its event is not delivered.
    assert_eq!(
        next_message(&mut sub),
        None,
        "a suspended subscriber got a message"
    );
    assert!(sub.ping::<String>().is_err());
}

#[test]
fn a_blocked_resp3_subscriber_revoked_meanwhile_gets_none_of_what_was_queued_for_it() {
    let srv = TestServer::start();
    let mut admin = srv.client();
    let other = create_tenant(&mut admin, "a", &[]);
    let (id, secret) = token(&mut admin, "a", &["ROLE", "readwrite"]);
    let mut sub = srv.raw();
    sub.request(format!("HELLO 3 AUTH a {secret}\r\n").as_bytes());
    sub.request(b"SUBSCRIBE news\r\n");
    sub.send(b"BLPOP wake 0\r\n");
    let mut publisher = connect(&srv, "a", &other);
    // Parked until the BLPOP wakes: the message waits in its outbox.
    common::eventually("the subscriber is parked", || {
        let list: String = cmd("CLIENT").arg("LIST").query(&mut admin).unwrap();
        list.contains("cmd=blpop")
    });
    ok(&mut admin, cmd("TENANT.TOKEN.REVOKE").arg("a").arg(&id));
    assert_eq!(publish(&mut publisher, "news", "SECRET"), 1);
    let _: i64 = cmd("LPUSH")
        .arg(&["wake", "x"])
        .query(&mut publisher)
        .unwrap();
    let got = String::from_utf8_lossy(&sub.read_all()).to_string();
    assert!(got.contains("NOAUTH"), "{got:?}");
    assert!(!got.contains("SECRET"), "a revoked subscriber got {got:?}");
}

#[test]
fn deleting_a_tenant_closes_the_admin_connections_working_inside_it() {
    let srv = TestServer::start();
    let mut admin = srv.client();
    create_tenant(&mut admin, "gamma", &[]);
    let mut inside = srv.client();
    ok(&mut inside, cmd("TENANT.USE").arg("gamma"));
    let confirmed: Value = cmd("SUBSCRIBE").arg("news").query(&mut inside).unwrap();
    assert!(
        format!("{confirmed:?}").contains("subscribe"),
        "{confirmed:?}"
    );
    ok(&mut admin, cmd("TENANT.DELETE").arg(&["gamma", "FORCE"]));
    let secret = create_tenant(&mut admin, "gamma", &[]);
    let mut fresh = connect(&srv, "gamma", &secret);
    // The new gamma inherits nobody's subscriptions.
    common::eventually("the old subscriber is gone", || {
        let n: Vec<Value> = cmd("PUBSUB")
            .arg(&["NUMSUB", "news"])
            .query(&mut fresh)
            .unwrap();
        n[1] == Value::Int(0)
    });
    assert_eq!(publish(&mut fresh, "news", "hello"), 0);
    assert!(
        cmd("PING").query::<String>(&mut inside).is_err(),
        "still open"
    );
}
