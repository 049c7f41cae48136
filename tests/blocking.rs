//! Blocking commands end to end: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN BZPOPMAX BZMPOP
//! wake when another client pushes (or creates the key by RENAME or EXEC), time out with
//! Redis's nil shapes (fractional timeouts included), serve waiters first come first served,
//! never block inside MULTI, keep later pipelined commands waiting, and never wake for another
//! tenant's writes.
mod common;

use common::{
    connect_tenant, create_tenant, error_text, eventually, info, info_fields, TestServer,
};
use redis::{cmd, Connection, Value};
use std::thread;
use std::time::{Duration, Instant};

fn q(c: &mut Connection, args: &[&str]) -> Value {
    let mut command = cmd(args[0]);
    for a in &args[1..] {
        command.arg(*a);
    }
    command.query(c).unwrap()
}

fn err(c: &mut Connection, args: &[&str]) -> String {
    let mut command = cmd(args[0]);
    for a in &args[1..] {
        command.arg(*a);
    }
    error_text(&command.query::<Value>(c).unwrap_err())
}

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

/// Runs `args` on a fresh connection in a thread; returns its reply and how long it took.
fn spawn(srv: &TestServer, args: &'static [&'static str]) -> thread::JoinHandle<(Value, Duration)> {
    let mut c = srv.client();
    thread::spawn(move || {
        let t = Instant::now();
        let v = q(&mut c, args);
        (v, t.elapsed())
    })
}

/// `spawn` for arguments built at run time.
fn spawn_owned(srv: &TestServer, args: Vec<String>) -> thread::JoinHandle<(Value, Duration)> {
    let mut c = srv.client();
    thread::spawn(move || {
        let t = Instant::now();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let v = q(&mut c, &args);
        (v, t.elapsed())
    })
}

/// Waits until `n` clients are blocked (CLIENT LIST shows their last command).
fn wait_blocked(c: &mut Connection, cmd_name: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let list: String = cmd("CLIENT").arg("LIST").query(c).unwrap();
        let blocked = list
            .lines()
            .filter(|l| l.contains(&format!("cmd={cmd_name}")))
            .count();
        if blocked >= n {
            // The command is running; give it a moment to register its wait.
            thread::sleep(Duration::from_millis(30));
            return;
        }
        assert!(Instant::now() < deadline, "clients never blocked: {list}");
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn blpop_answers_at_once_when_data_is_there() {
    let srv = TestServer::start();
    let mut c = srv.client();
    q(&mut c, &["RPUSH", "b", "1", "2"]);
    assert_eq!(
        q(&mut c, &["BLPOP", "a", "b", "0"]),
        Value::Array(vec![bulk("b"), bulk("1")])
    );
    assert_eq!(
        q(&mut c, &["BRPOP", "a", "b", "0"]),
        Value::Array(vec![bulk("b"), bulk("2")])
    );
    assert_eq!(q(&mut c, &["EXISTS", "b"]), Value::Int(0));
}

#[test]
fn blpop_wakes_when_another_client_pushes() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let h = spawn(&srv, &["BLPOP", "q", "0"]);
    wait_blocked(&mut c, "blpop", 1);
    q(&mut c, &["RPUSH", "q", "job"]);
    let (v, _) = h.join().unwrap();
    assert_eq!(v, Value::Array(vec![bulk("q"), bulk("job")]));
    assert_eq!(q(&mut c, &["EXISTS", "q"]), Value::Int(0));
}

#[test]
fn fractional_timeouts_end_with_redis_nil_shapes() {
    let srv = TestServer::start();
    let mut r = srv.raw();
    let t = Instant::now();
    r.roundtrip(b"BLPOP nothing 0.2\r\n", b"*-1\r\n");
    assert!(
        t.elapsed() >= Duration::from_millis(190),
        "{:?}",
        t.elapsed()
    );
    r.roundtrip(b"BLMOVE nothing dst LEFT RIGHT 0.05\r\n", b"$-1\r\n");
    r.roundtrip(b"BZPOPMIN nothing 0.05\r\n", b"*-1\r\n");
    let mut r3 = srv.raw();
    r3.send(b"HELLO 3\r\n");
    let _ = r3.read_reply();
    r3.roundtrip(b"BRPOP nothing 0.05\r\n", b"_\r\n");
}

#[test]
fn bad_timeouts_get_redis_errors() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(
        err(&mut c, &["BLPOP", "k", "-1"]),
        "ERR timeout is negative"
    );
    assert_eq!(
        err(&mut c, &["BLPOP", "k", "soon"]),
        "ERR timeout is not a float or out of range"
    );
    // Finite for Redis's long double, but past LLONG_MAX milliseconds; `strtold` reads hex
    // and infinities too, and refuses what overflows even a long double.
    for t in ["1e400", "0x7FFFFFFFFFFFFF", "inf", "9223372036854775"] {
        assert_eq!(
            err(&mut c, &["BZPOPMAX", "k", t]),
            "ERR timeout is out of range",
            "{t}"
        );
    }
    for t in ["1e5000", "nan", ".", "0x"] {
        assert_eq!(
            err(&mut c, &["BLPOP", "k", t]),
            "ERR timeout is not a float or out of range",
            "{t}"
        );
    }
    assert_eq!(
        err(&mut c, &["BLPOP", "k", "-inf"]),
        "ERR timeout is negative"
    );
    // 0x0.1 seconds is 62.5 ms: a hex timeout times out like any other.
    assert_eq!(q(&mut c, &["BLPOP", "k", "0x0.1"]), Value::Nil);
    assert_eq!(
        err(&mut c, &["BLPOP", "k"]),
        "ERR wrong number of arguments for 'blpop' command"
    );
    q(&mut c, &["SET", "s", "x"]);
    assert!(err(&mut c, &["BLPOP", "s", "0"]).starts_with("WRONGTYPE"));
}

#[test]
fn waiters_are_served_first_come_first_served() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let first = spawn(&srv, &["BLPOP", "q", "0"]);
    wait_blocked(&mut c, "blpop", 1);
    let second = spawn(&srv, &["BLPOP", "q", "0"]);
    wait_blocked(&mut c, "blpop", 2);
    let third = spawn(&srv, &["BLPOP", "q", "0"]);
    wait_blocked(&mut c, "blpop", 3);
    q(&mut c, &["RPUSH", "q", "a", "b", "c"]);
    assert_eq!(
        first.join().unwrap().0,
        Value::Array(vec![bulk("q"), bulk("a")])
    );
    assert_eq!(
        second.join().unwrap().0,
        Value::Array(vec![bulk("q"), bulk("b")])
    );
    assert_eq!(
        third.join().unwrap().0,
        Value::Array(vec![bulk("q"), bulk("c")])
    );
}

/// Redis serves a blocked client as soon as the command that fed it ends, before the feeder's
/// next command (Redis's "Unblock fairness is kept while pipelining"): a pipelined push then
/// pop leaves the pushed element to the client that was waiting for it.
#[test]
fn a_pipelined_pop_after_a_push_leaves_the_element_to_the_waiter() {
    let srv = TestServer::start();
    let mut c = srv.client();
    for (block, feed_then_pop, want_pop) in [
        ("BLPOP", "RPUSH q x\r\nBLPOP q 0.2\r\n", "*-1\r\n"),
        ("BLPOP", "RPUSH q x\r\nLPOP q\r\n", "$-1\r\n"),
        ("BZPOPMIN", "ZADD q 1 x\r\nZPOPMIN q\r\n", "*0\r\n"),
    ] {
        let waiter = spawn_owned(&srv, vec![block.into(), "q".into(), "0".into()]);
        wait_blocked(&mut c, &block.to_lowercase(), 1);
        let mut feeder = srv.raw();
        feeder.send(feed_then_pop.as_bytes());
        assert_eq!(feeder.read_reply(), b":1\r\n");
        assert_eq!(
            String::from_utf8(feeder.read_reply()).unwrap(),
            want_pop,
            "{feed_then_pop:?}"
        );
        let (got, _) = waiter.join().unwrap();
        assert!(
            matches!(&got, Value::Array(v) if v.len() >= 2 && v[1] == bulk("x")),
            "{block}: the waiter got {got:?}"
        );
        q(&mut c, &["DEL", "q"]);
    }
}

/// Redis serves a blocked client inside the command that fed it, so no other client's command
/// can run between the push and the waiter's pop: a third client whose LPOP arrives right
/// behind the push finds the list already empty, however the two requests are scheduled.
#[test]
fn a_third_clients_pop_right_behind_the_push_never_takes_the_waiters_element() {
    let srv = TestServer::start_current_thread("");
    let mut c = srv.client();
    // A slow KEYS keeps the server busy while the push and the pop arrive, so both are read
    // in one poll of the sockets, the push first: the pop's connection is then ready to run
    // before the woken waiter is.
    fill_for_slow_keys(&mut c);
    for round in 0..20 {
        let waiter = spawn(&srv, &["BLPOP", "q", "0"]);
        wait_blocked(&mut c, "blpop", 1);
        let (mut busy, mut feeder, mut third) = (srv.raw(), srv.raw(), srv.raw());
        busy.send(b"KEYS nomatch*\r\n");
        thread::sleep(Duration::from_millis(1));
        feeder.send(b"RPUSH q x\r\n");
        third.send(b"LPOP q\r\n");
        assert_eq!(busy.read_reply(), b"*0\r\n");
        assert_eq!(feeder.read_reply(), b":1\r\n");
        assert_eq!(
            third.read_reply(),
            b"$-1\r\n",
            "round {round}: the third client took x"
        );
        let (got, _) = waiter.join().unwrap();
        assert_eq!(
            got,
            Value::Array(vec![bulk("q"), bulk("x")]),
            "round {round}"
        );
    }
}

/// Fills the keyspace so `KEYS nomatch*` keeps the server busy for a while (milliseconds):
/// requests sent meanwhile are read together in its next poll of the sockets.
fn fill_for_slow_keys(c: &mut Connection) {
    for chunk in 0..20 {
        let mut mset = cmd("MSET");
        for i in 0..10_000 {
            mset.arg(format!("filler:{chunk}:{i}")).arg("v");
        }
        mset.query::<()>(c).unwrap();
    }
}

/// The waiter is handed the key from the moment it blocks, not from when its connection gets
/// round to waiting: a push read in the same poll as the blocking command, with a pop
/// pipelined behind it, still leaves the element to the waiter.
#[test]
fn a_push_right_after_the_block_is_handed_to_the_waiter() {
    let srv = TestServer::start_current_thread("");
    let mut c = srv.client();
    fill_for_slow_keys(&mut c);
    for round in 0..10 {
        let (mut waiter, mut feeder) = (srv.raw(), srv.raw());
        // The waiter's slow KEYS runs first; the push arrives meanwhile.
        waiter.send(b"KEYS nomatch*\r\nBLPOP q 0\r\n");
        thread::sleep(Duration::from_millis(1));
        feeder.send(b"RPUSH q x\r\nLPOP q\r\n");
        assert_eq!(waiter.read_reply(), b"*0\r\n");
        assert_eq!(feeder.read_reply(), b":1\r\n");
        assert_eq!(
            feeder.read_reply(),
            b"$-1\r\n",
            "round {round}: the feeder took x"
        );
        assert_eq!(waiter.read_reply(), b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n");
    }
}

/// A blocked client woken for nothing it can take (the key became another type, or was
/// flushed) waits on in its old place, as in Redis: the next push still goes to it.
#[test]
fn a_waiter_woken_for_nothing_keeps_its_place() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let first = spawn(&srv, &["BLPOP", "k1", "k2", "5"]);
    wait_blocked(&mut c, "blpop", 1);
    let second = spawn(&srv, &["BLPOP", "k2", "5"]);
    wait_blocked(&mut c, "blpop", 2);
    q(&mut c, &["SET", "k1", "not a list"]);
    q(&mut c, &["FLUSHDB"]);
    q(&mut c, &["RPUSH", "k2", "a"]);
    assert_eq!(
        first.join().unwrap().0,
        Value::Array(vec![bulk("k2"), bulk("a")])
    );
    q(&mut c, &["RPUSH", "k2", "b"]);
    assert_eq!(
        second.join().unwrap().0,
        Value::Array(vec![bulk("k2"), bulk("b")])
    );
}

/// An admin writing a tenant's keys by their global names is held back like the tenant's own
/// clients: its pipelined pop cannot take what its push handed to the tenant's waiter.
#[test]
fn an_admins_pop_by_global_name_leaves_the_element_to_the_tenants_waiter() {
    let srv = TestServer::start_current_thread("");
    let mut admin = srv.client();
    let secret = create_tenant(&mut admin, "acme", &[]);
    let mut tenant = connect_tenant(&srv, "acme", &secret).unwrap();
    let waiter = thread::spawn(move || q(&mut tenant, &["BLPOP", "q", "5"]));
    wait_blocked(&mut admin, "blpop", 1);
    let mut raw = srv.raw();
    raw.send(b"RPUSH __tenant:acme:q x\r\nLPOP __tenant:acme:q\r\n");
    assert_eq!(raw.read_reply(), b":1\r\n");
    assert_eq!(raw.read_reply(), b"$-1\r\n");
    assert_eq!(
        waiter.join().unwrap(),
        Value::Array(vec![bulk("q"), bulk("x")])
    );
}

/// A client blocked on two keys is served once: when one transaction fills both, the second
/// key goes to the next client waiting on it (Redis serves the ready keys in turn, each to the
/// clients still blocked on it), not to the one already served.
#[test]
fn a_waiter_on_two_keys_is_served_once_and_leaves_the_other_key_to_the_next() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let both = spawn(&srv, &["BLPOP", "k1", "k2", "0"]);
    wait_blocked(&mut c, "blpop", 1);
    let second = spawn(&srv, &["BLPOP", "k2", "5"]);
    wait_blocked(&mut c, "blpop", 2);
    let mut feeder = srv.raw();
    feeder.send(b"MULTI\r\nRPUSH k1 x\r\nRPUSH k2 y\r\nEXEC\r\n");
    for want in [
        "+OK\r\n",
        "+QUEUED\r\n",
        "+QUEUED\r\n",
        "*2\r\n:1\r\n:1\r\n",
    ] {
        assert_eq!(String::from_utf8(feeder.read_reply()).unwrap(), want);
    }
    assert_eq!(
        both.join().unwrap().0,
        Value::Array(vec![bulk("k1"), bulk("x")])
    );
    let (got, took) = second.join().unwrap();
    assert_eq!(got, Value::Array(vec![bulk("k2"), bulk("y")]));
    assert!(
        took < Duration::from_secs(4),
        "the second waiter slept to its timeout"
    );
}

/// A command that blocked counts once in INFO commandstats: when it is served, or when it
/// times out; the try that found nothing is not a call of its own.
#[test]
fn a_blocked_command_counts_once_in_commandstats() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let calls = |c: &mut Connection| -> String {
        let f = info_fields(&info(c, &["commandstats"]));
        f.get("cmdstat_blpop")
            .and_then(|v| v.split(',').next().map(str::to_string))
            .unwrap_or_default()
    };
    let waiter = spawn(&srv, &["BLPOP", "q", "0"]);
    wait_blocked(&mut c, "blpop", 1);
    assert_eq!(calls(&mut c), "", "not yet a call while it waits");
    q(&mut c, &["RPUSH", "q", "x"]);
    waiter.join().unwrap();
    eventually("the served call", || calls(&mut c) == "calls=1");
    let timed_out = spawn(&srv, &["BLPOP", "q", "0.05"]);
    assert_eq!(timed_out.join().unwrap().0, Value::Nil);
    eventually("the timed-out call", || calls(&mut c) == "calls=2");
}

/// Redis's "BRPOPLPUSH with multiple blocked clients": the first waiter's destination has the
/// wrong type, so it gets WRONGTYPE and takes nothing; the element goes to the next waiter.
#[test]
fn a_waiter_served_with_an_error_passes_the_wake_up_on() {
    let srv = TestServer::start();
    let mut c = srv.client();
    q(&mut c, &["SET", "target1", "nolist"]);
    let mut first = srv.client();
    let first = thread::spawn(move || {
        cmd("BRPOPLPUSH")
            .arg("blist")
            .arg("target1")
            .arg("0")
            .query::<Value>(&mut first)
            .map_err(|e| error_text(&e))
    });
    wait_blocked(&mut c, "brpoplpush", 1);
    // Bounded, so a lost wake-up fails the test (a nil after 5 s) instead of hanging it.
    let second = spawn(&srv, &["BRPOPLPUSH", "blist", "target2", "5"]);
    wait_blocked(&mut c, "brpoplpush", 2);
    q(&mut c, &["LPUSH", "blist", "foo"]);
    assert!(first.join().unwrap().unwrap_err().starts_with("WRONGTYPE"));
    assert_eq!(second.join().unwrap().0, bulk("foo"));
    assert_eq!(
        q(&mut c, &["LRANGE", "target2", "0", "-1"]),
        Value::Array(vec![bulk("foo")])
    );
}

/// Redis's "LPUSH + DEL + SET should not awake blocked client": a waiter woken while its key
/// holds another type keeps waiting (the first call would answer WRONGTYPE), for lists, sorted
/// sets and a move's source.
#[test]
fn a_key_of_another_type_does_not_serve_a_waiter() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let cases: [(&'static [&'static str], &[&str], &str); 4] = [
        (&["BLPOP", "k", "5"], &["LPUSH", "k", "a"], "blpop"),
        (
            &["BLMPOP", "5", "1", "k", "LEFT"],
            &["LPUSH", "k", "a"],
            "blmpop",
        ),
        (
            &["BZPOPMIN", "k", "5"],
            &["ZADD", "k", "1", "a"],
            "bzpopmin",
        ),
        (
            &["BLMOVE", "k", "dst", "LEFT", "LEFT", "5"],
            &["LPUSH", "k", "a"],
            "blmove",
        ),
    ];
    for (wait, push, name) in cases {
        q(&mut c, &["DEL", "k", "dst"]);
        let waiter = spawn(&srv, wait);
        wait_blocked(&mut c, name, 1);
        q(&mut c, &["MULTI"]);
        q(&mut c, push);
        q(&mut c, &["DEL", "k"]);
        q(&mut c, &["SET", "k", "foo"]);
        q(&mut c, &["EXEC"]);
        thread::sleep(Duration::from_millis(50));
        q(&mut c, &["DEL", "k"]);
        let mut push_b = push.to_vec();
        *push_b.last_mut().unwrap() = "b";
        q(&mut c, &push_b);
        let (reply, _) = waiter.join().unwrap();
        let text = format!("{reply:?}");
        assert!(
            text.contains("\"b\""),
            "{name}: expected the member b, got {text}"
        );
    }
    // The first call still answers WRONGTYPE.
    q(&mut c, &["SET", "s", "x"]);
    assert!(err(&mut c, &["BLPOP", "s", "1"]).starts_with("WRONGTYPE"));
}

#[test]
fn creating_the_key_by_rename_or_exec_wakes_the_waiter() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let h = spawn(&srv, &["BLPOP", "q", "5"]);
    wait_blocked(&mut c, "blpop", 1);
    q(&mut c, &["RPUSH", "tmp", "renamed"]);
    q(&mut c, &["RENAME", "tmp", "q"]);
    assert_eq!(
        h.join().unwrap().0,
        Value::Array(vec![bulk("q"), bulk("renamed")])
    );

    let h = spawn(&srv, &["BRPOP", "q", "5"]);
    wait_blocked(&mut c, "brpop", 1);
    q(&mut c, &["MULTI"]);
    q(&mut c, &["RPUSH", "q", "x", "y"]);
    q(&mut c, &["RPOP", "q"]);
    q(&mut c, &["EXEC"]);
    // The waiter sees EXEC's result whole: only `x` is left.
    assert_eq!(
        h.join().unwrap().0,
        Value::Array(vec![bulk("q"), bulk("x")])
    );
}

#[test]
fn blocking_commands_do_not_block_inside_multi() {
    let srv = TestServer::start();
    let mut r = srv.raw();
    r.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    r.roundtrip(b"BLPOP q 0\r\n", b"+QUEUED\r\n");
    r.roundtrip(b"BLMOVE q d LEFT LEFT 0\r\n", b"+QUEUED\r\n");
    r.roundtrip(b"BZPOPMIN z 0\r\n", b"+QUEUED\r\n");
    r.roundtrip(b"EXEC\r\n", b"*3\r\n*-1\r\n$-1\r\n*-1\r\n");
}

#[test]
fn pipelined_commands_after_a_blocked_one_wait_for_it() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let mut r = srv.raw();
    r.send(b"BLPOP q 0\r\nSET after 1\r\n");
    wait_blocked(&mut c, "blpop", 1);
    assert_eq!(q(&mut c, &["EXISTS", "after"]), Value::Int(0));
    q(&mut c, &["LPUSH", "q", "v"]);
    assert_eq!(
        r.read_n(b"*2\r\n$1\r\nq\r\n$1\r\nv\r\n+OK\r\n".len()),
        b"*2\r\n$1\r\nq\r\n$1\r\nv\r\n+OK\r\n"
    );
    assert_eq!(q(&mut c, &["EXISTS", "after"]), Value::Int(1));
}

#[test]
fn blmove_brpoplpush_blmpop_and_zset_variants_wake_and_move() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let h = spawn(&srv, &["BLMOVE", "src", "dst", "RIGHT", "LEFT", "5"]);
    wait_blocked(&mut c, "blmove", 1);
    q(&mut c, &["RPUSH", "src", "m"]);
    assert_eq!(h.join().unwrap().0, bulk("m"));
    assert_eq!(
        q(&mut c, &["LRANGE", "dst", "0", "-1"]),
        Value::Array(vec![bulk("m")])
    );

    let h = spawn(&srv, &["BRPOPLPUSH", "src", "dst", "5"]);
    wait_blocked(&mut c, "brpoplpush", 1);
    q(&mut c, &["RPUSH", "src", "n"]);
    assert_eq!(h.join().unwrap().0, bulk("n"));

    let h = spawn(
        &srv,
        &["BLMPOP", "5", "2", "l1", "l2", "LEFT", "COUNT", "2"],
    );
    wait_blocked(&mut c, "blmpop", 1);
    q(&mut c, &["RPUSH", "l2", "a", "b", "c"]);
    assert_eq!(
        h.join().unwrap().0,
        Value::Array(vec![bulk("l2"), Value::Array(vec![bulk("a"), bulk("b")])])
    );

    let h = spawn(&srv, &["BZPOPMAX", "z", "5"]);
    wait_blocked(&mut c, "bzpopmax", 1);
    q(&mut c, &["ZADD", "z", "1", "low", "2", "high"]);
    assert_eq!(
        h.join().unwrap().0,
        Value::Array(vec![bulk("z"), bulk("high"), bulk("2")])
    );

    let h = spawn(&srv, &["BZMPOP", "5", "1", "z2", "MIN"]);
    wait_blocked(&mut c, "bzmpop", 1);
    q(&mut c, &["ZADD", "z2", "3", "x"]);
    assert_eq!(
        h.join().unwrap().0,
        Value::Array(vec![
            bulk("z2"),
            Value::Array(vec![Value::Array(vec![bulk("x"), bulk("3")])])
        ])
    );
}

#[test]
fn another_tenants_push_never_wakes_a_waiter() {
    let srv = TestServer::start();
    let mut admin = srv.client();
    let (sa, sb) = (
        create_tenant(&mut admin, "ta", &[]),
        create_tenant(&mut admin, "tb", &[]),
    );
    let mut a = connect_tenant(&srv, "ta", &sa).unwrap();
    let mut b = connect_tenant(&srv, "tb", &sb).unwrap();
    let t = Instant::now();
    let h = thread::spawn(move || q(&mut a, &["BLPOP", "q", "0.5"]));
    thread::sleep(Duration::from_millis(100));
    q(&mut b, &["RPUSH", "q", "b-secret"]);
    assert_eq!(
        h.join().unwrap(),
        Value::Nil,
        "a waiter saw another tenant's push"
    );
    assert!(t.elapsed() >= Duration::from_millis(450));
    assert_eq!(q(&mut b, &["LLEN", "q"]), Value::Int(1));
}

#[test]
fn info_counts_blocked_clients_within_the_callers_scope() {
    let srv = TestServer::start();
    let mut admin = srv.client();
    let sa = create_tenant(&mut admin, "ta", &[]);
    let sb = create_tenant(&mut admin, "tb", &[]);
    let mut a = connect_tenant(&srv, "ta", &sa).unwrap();
    let mut a2 = connect_tenant(&srv, "ta", &sa).unwrap();
    let mut a3 = connect_tenant(&srv, "ta", &sa).unwrap();
    let mut b = connect_tenant(&srv, "tb", &sb).unwrap();
    // blocked_clients, clients_in_timeout_table (those with a timeout), total_blocking_keys.
    let blocked = |c: &mut Connection| {
        let f = info_fields(&info(c, &["clients"]));
        [
            "blocked_clients",
            "clients_in_timeout_table",
            "total_blocking_keys",
        ]
        .map(|k| f[k].clone())
        .join(" ")
    };
    assert_eq!(blocked(&mut admin), "0 0 0");
    let h = thread::spawn(move || q(&mut a, &["BLPOP", "q", "0"]));
    eventually("the waiter counts as blocked", || {
        blocked(&mut admin) == "1 0 1"
    });
    let h3 = thread::spawn(move || q(&mut a3, &["BLPOP", "q", "r", "5"]));
    eventually("a second waiter, with a timeout", || {
        blocked(&mut admin) == "2 1 2"
    });
    assert_eq!(blocked(&mut a2), "2 1 2");
    assert_eq!(
        blocked(&mut b),
        "0 0 0",
        "another tenant's blocked clients and keys are not counted"
    );
    q(&mut a2, &["RPUSH", "q", "x", "y"]);
    h.join().unwrap();
    h3.join().unwrap();
    eventually("served, no longer blocked", || {
        blocked(&mut admin) == "0 0 0"
    });
}

/// CLIENT UNBLOCK (Redis's "client unblock tests"): ends a wait as a timeout or with
/// Redis's UNBLOCKED error, answers 0 for a connection that is not blocked, and counts the
/// ended command once.
#[test]
fn client_unblock_ends_a_wait_as_timeout_or_error() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let mut w = srv.client();
    let wid: i64 = cmd("CLIENT").arg("ID").query(&mut w).unwrap();
    let h = thread::spawn(move || {
        let first = q(&mut w, &["BLPOP", "q", "0"]);
        let second = cmd("BZPOPMIN").arg("z").arg(0).query::<Value>(&mut w);
        (first, second.map_err(|e| error_text(&e)), w)
    });
    for expect_error in [false, true] {
        wait_blocked(&mut c, if expect_error { "bzpopmin" } else { "blpop" }, 1);
        let mut unblock = cmd("CLIENT");
        unblock.arg("UNBLOCK").arg(wid);
        if expect_error {
            unblock.arg("ERROR");
        }
        assert_eq!(unblock.query::<i64>(&mut c).unwrap(), 1);
    }
    let (first, second, mut w) = h.join().unwrap();
    assert_eq!(first, Value::Nil, "TIMEOUT answers as a timeout");
    assert_eq!(
        second.unwrap_err(),
        "UNBLOCKED client unblocked via CLIENT UNBLOCK"
    );
    // Not blocked (any more, or ever), or no such client: 0.
    for id in [wid.to_string(), "999999".into(), "-1".into()] {
        let n: i64 = cmd("CLIENT").arg("UNBLOCK").arg(&id).query(&mut c).unwrap();
        assert_eq!(n, 0, "{id}");
    }
    // The connection works on, and a push still reaches its next wait.
    let h = thread::spawn(move || q(&mut w, &["BLPOP", "q", "0"]));
    wait_blocked(&mut c, "blpop", 1);
    q(&mut c, &["RPUSH", "q", "x"]);
    assert_eq!(h.join().unwrap(), Value::Array(vec![bulk("q"), bulk("x")]));
    let stats = info_fields(&info(&mut c, &["commandstats"]));
    assert!(
        stats["cmdstat_blpop"].starts_with("calls=2,"),
        "{}",
        stats["cmdstat_blpop"]
    );
    assert!(
        stats["cmdstat_bzpopmin"].contains("failed_calls=1"),
        "{}",
        stats["cmdstat_bzpopmin"]
    );
    // Errors, in Redis's order: the reason first, then the id.
    for (args, want) in [
        (
            &["UNBLOCK", "1", "maybe"][..],
            "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
        ),
        (
            &["UNBLOCK", "x"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["UNBLOCK", "1", "TIMEOUT", "x"],
            "ERR unknown subcommand 'UNBLOCK'. Try CLIENT HELP.",
        ),
        (
            &["UNBLOCK"],
            "ERR wrong number of arguments for 'client|unblock' command",
        ),
    ] {
        let e = cmd("CLIENT").arg(args).query::<Value>(&mut c).unwrap_err();
        assert_eq!(error_text(&e), want, "{args:?}");
    }
}

/// A tenant unblocks only its own connections; the admin, anyone's.
#[test]
fn client_unblock_is_scoped_to_the_tenant() {
    let srv = TestServer::start();
    let mut admin = srv.client();
    let sa = create_tenant(&mut admin, "ta", &[]);
    let sb = create_tenant(&mut admin, "tb", &[]);
    let mut a = connect_tenant(&srv, "ta", &sa).unwrap();
    let mut b = connect_tenant(&srv, "tb", &sb).unwrap();
    let mut b2 = connect_tenant(&srv, "tb", &sb).unwrap();
    let bid: i64 = cmd("CLIENT").arg("ID").query(&mut b).unwrap();
    let h = thread::spawn(move || {
        cmd("BLPOP")
            .arg("q")
            .arg(0)
            .query::<Value>(&mut b)
            .map_err(|e| error_text(&e))
    });
    wait_blocked(&mut admin, "blpop", 1);
    let unblock = |c: &mut Connection| -> i64 {
        cmd("CLIENT")
            .arg("UNBLOCK")
            .arg(bid)
            .arg("ERROR")
            .query(c)
            .unwrap()
    };
    assert_eq!(unblock(&mut a), 0, "another tenant's connection");
    thread::sleep(Duration::from_millis(50));
    assert!(!h.is_finished(), "the waiter was not disturbed");
    assert_eq!(unblock(&mut b2), 1, "its own tenant");
    assert_eq!(
        h.join().unwrap().unwrap_err(),
        "UNBLOCKED client unblocked via CLIENT UNBLOCK"
    );
    let h2 = {
        let mut b = connect_tenant(&srv, "tb", &sb).unwrap();
        let id: i64 = cmd("CLIENT").arg("ID").query(&mut b).unwrap();
        (id, thread::spawn(move || q(&mut b, &["BLPOP", "q", "0"])))
    };
    wait_blocked(&mut admin, "blpop", 1);
    let n: i64 = cmd("CLIENT")
        .arg("UNBLOCK")
        .arg(h2.0)
        .query(&mut admin)
        .unwrap();
    assert_eq!(n, 1, "the admin");
    assert_eq!(h2.1.join().unwrap(), Value::Nil);
}
