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
