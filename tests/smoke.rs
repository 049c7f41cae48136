//! The harness itself: a real client reaches the real server.
mod common;

#[test]
fn ping_set_get() {
    let srv = common::TestServer::start();
    let mut c = srv.client();
    let pong: String = redis::cmd("PING").query(&mut c).unwrap();
    assert_eq!(pong, "PONG");
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let v: String = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    assert_eq!(v, "v");
    common::expect_err(
        &mut c,
        redis::cmd("GET").arg("a").arg("b"),
        "ERR wrong number of arguments for 'get' command",
    );
    let mut raw = srv.raw();
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn raw_reads_exactly_one_reply_and_keeps_the_rest() {
    let srv = common::TestServer::start();
    let mut raw = srv.raw();
    // Several replies in one write: each read takes one, the rest stays buffered.
    raw.send(b"SET k v\r\nGET k\r\nGET missing\r\nMGET k missing\r\nPING\r\nPING\r\n");
    assert_eq!(raw.read_reply(), b"+OK\r\n");
    assert_eq!(raw.read_reply(), b"$1\r\nv\r\n");
    assert_eq!(raw.read_reply(), b"$-1\r\n");
    assert_eq!(raw.read_reply(), b"*2\r\n$1\r\nv\r\n$-1\r\n");
    assert_eq!(raw.read_line(), b"+PONG\r\n");
    assert_eq!(raw.read_n(7), b"+PONG\r\n");
    // RESP3 shapes frame the same way.
    let hello = raw.request(b"HELLO 3\r\n");
    assert!(hello.starts_with(b"%7\r\n"), "{hello:?}");
    assert!(hello.ends_with(b"$7\r\nmodules\r\n*0\r\n"), "{hello:?}");
    assert_eq!(raw.request(b"GET missing\r\n"), b"_\r\n");
    raw.send(b"QUIT\r\n");
    assert_eq!(raw.read_all(), b"+OK\r\n");
}
