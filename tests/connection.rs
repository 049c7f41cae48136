//! Connection commands against the real server: PING, ECHO, SELECT, QUIT, RESET, HELLO, AUTH
//! and the CLIENT family (ID, SETNAME/GETNAME, LIST, INFO, KILL, SETINFO, REPLY, HELP).
//!
//! Expected replies and error texts are Redis 7.2's (checked against a real `redis-server`);
//! byte-exact shapes go through raw sockets, semantics through the `redis` crate. Every error
//! case also checks that the connection is still usable afterwards.
mod common;

use common::{assert_alive, assert_err_exact, eventually, expect_err, Raw, TestServer};
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The CLIENT ID of a raw connection.
fn raw_client_id(raw: &mut Raw) -> i64 {
    let line = raw.request(b"CLIENT ID\r\n");
    std::str::from_utf8(&line[1..line.len() - 2])
        .unwrap()
        .parse()
        .unwrap()
}

/// The value of `name=` in a CLIENT LIST / CLIENT INFO line.
fn field<'a>(line: &'a str, name: &str) -> &'a str {
    let prefix = format!("{name}=");
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
}

fn client_info(con: &mut redis::Connection) -> String {
    redis::cmd("CLIENT").arg("INFO").query(con).unwrap()
}

fn client_list(con: &mut redis::Connection, args: &[&str]) -> String {
    redis::cmd("CLIENT")
        .arg("LIST")
        .arg(args)
        .query(con)
        .unwrap()
}

fn client_id(con: &mut redis::Connection) -> i64 {
    redis::cmd("CLIENT").arg("ID").query(con).unwrap()
}

/// True when the connection's next command fails because the server closed it.
fn next_command_fails(con: &mut redis::Connection) -> bool {
    let r: redis::RedisResult<String> = redis::cmd("PING").query(con);
    r.is_err()
}

/// The exact RESP2 bytes of a HELLO reply with protocol `proto` for client `id`.
fn hello_resp2(proto: u8, id: i64) -> Vec<u8> {
    format!(
        "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.2.4\r\n$5\r\nproto\r\n:{proto}\r\n$2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
    )
    .into_bytes()
}

/// The exact RESP3 bytes of `HELLO 3` for client `id`.
fn hello_resp3(id: i64) -> Vec<u8> {
    format!(
        "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.2.4\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
    )
    .into_bytes()
}

const PASS_CONFIG: &str = "[auth]\nrequirepass = \"secret\"\n";

// ---------------------------------------------------------------------------------------------
// PING / ECHO
// ---------------------------------------------------------------------------------------------

#[test]
fn ping_without_message_replies_pong_status() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n");
    raw.roundtrip(b"ping\r\n", b"+PONG\r\n");
    let mut c = srv.client();
    assert_alive(&mut c);
}

#[test]
fn ping_with_message_replies_bulk_copy() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"*2\r\n$4\r\nPING\r\n$5\r\nhello\r\n", b"$5\r\nhello\r\n");
    raw.roundtrip(b"*2\r\n$4\r\nPING\r\n$0\r\n\r\n", b"$0\r\n\r\n");
    let mut c = srv.client();
    let v: Vec<u8> = redis::cmd("PING")
        .arg(&b"a\r\nb\0"[..])
        .query(&mut c)
        .unwrap();
    assert_eq!(v, b"a\r\nb\0");
}

#[test]
fn ping_with_two_arguments_is_an_arity_error() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(
        b"PING a b\r\n",
        b"-ERR wrong number of arguments for 'ping' command\r\n",
    );
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn echo_returns_its_argument() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let v: String = redis::cmd("ECHO").arg("hello world").query(&mut c).unwrap();
    assert_eq!(v, "hello world");
    let mut raw = srv.raw();
    raw.roundtrip(b"*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\n", b"$3\r\nabc\r\n");
    raw.roundtrip(b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", b"$0\r\n\r\n");
}

#[test]
fn echo_with_wrong_arity_is_an_error() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(
        b"ECHO\r\n",
        b"-ERR wrong number of arguments for 'echo' command\r\n",
    );
    raw.roundtrip(
        b"ECHO a b\r\n",
        b"-ERR wrong number of arguments for 'echo' command\r\n",
    );
    raw.roundtrip(b"ECHO ok\r\n", b"$2\r\nok\r\n");
}

#[test]
fn unknown_command_error_lists_the_first_arguments() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(
        b"foo a b\r\n",
        b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n",
    );
    raw.roundtrip(
        b"nosuch\r\n",
        b"-ERR unknown command 'nosuch', with args beginning with: \r\n",
    );
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

// ---------------------------------------------------------------------------------------------
// SELECT
// ---------------------------------------------------------------------------------------------

#[test]
fn select_switches_database_and_keys_are_per_database() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("zero")
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("SELECT").arg(5).query(&mut c).unwrap();
    let v: Option<String> = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    assert_eq!(v, None, "db 5 does not see db 0's key");
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("five")
        .query(&mut c)
        .unwrap();
    assert_eq!(field(&client_info(&mut c), "db"), "5");
    let _: () = redis::cmd("SELECT").arg(0).query(&mut c).unwrap();
    let v: String = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    assert_eq!(v, "zero");
    let _: () = redis::cmd("SELECT").arg(15).query(&mut c).unwrap();
    assert_eq!(field(&client_info(&mut c), "db"), "15");
}

#[test]
fn select_rejects_non_integer_index() {
    let srv = TestServer::start();
    let mut c = srv.client();
    for bad in ["x", "1.5", "", " 1", "01"] {
        assert_err_exact(
            &mut c,
            redis::cmd("SELECT").arg(bad),
            "ERR value is not an integer or out of range",
        );
    }
}

#[test]
fn select_rejects_index_out_of_range() {
    let srv = TestServer::start();
    let mut c = srv.client();
    for bad in ["16", "-1", "9223372036854775807"] {
        assert_err_exact(
            &mut c,
            redis::cmd("SELECT").arg(bad),
            "ERR DB index is out of range",
        );
    }
    assert_eq!(field(&client_info(&mut c), "db"), "0", "db unchanged");
}

#[test]
fn select_range_follows_configured_databases() {
    // The harness puts overrides right after its own `[server]` header (a second `[server]`
    // table would be a TOML duplicate), so a bare key lands in `[server]`.
    let srv = TestServer::start_with("[server]\ndatabases = 4\n");
    let mut c = srv.client();
    let _: () = redis::cmd("SELECT").arg(3).query(&mut c).unwrap();
    assert_err_exact(
        &mut c,
        redis::cmd("SELECT").arg(4),
        "ERR DB index is out of range",
    );
}

#[test]
fn select_with_wrong_arity_is_an_error() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(
        b"SELECT\r\n",
        b"-ERR wrong number of arguments for 'select' command\r\n",
    );
    raw.roundtrip(
        b"SELECT 0 1\r\n",
        b"-ERR wrong number of arguments for 'select' command\r\n",
    );
    raw.roundtrip(b"SELECT 1\r\n", b"+OK\r\n");
}

// ---------------------------------------------------------------------------------------------
// QUIT / RESET
// ---------------------------------------------------------------------------------------------

#[test]
fn quit_replies_ok_then_closes_the_connection() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    // The PING pipelined after QUIT is never answered.
    raw.send(b"QUIT\r\nPING\r\n");
    assert_eq!(raw.read_n(5), b"+OK\r\n");
    assert!(raw.is_closed(), "QUIT closes the connection");
    let mut c = srv.client();
    assert_alive(&mut c);
}

#[test]
fn quit_ignores_extra_arguments() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"QUIT now\r\n", b"+OK\r\n");
    assert!(raw.is_closed());
}

#[test]
fn reset_replies_reset_and_returns_to_db0_and_resp2() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let id = raw_client_id(&mut raw);
    raw.roundtrip(b"HELLO 3\r\n", &hello_resp3(id));
    raw.roundtrip(b"SELECT 7\r\n", b"+OK\r\n");
    raw.roundtrip(b"GET missing\r\n", b"_\r\n");
    raw.roundtrip(b"RESET\r\n", b"+RESET\r\n");
    raw.roundtrip(b"GET missing\r\n", b"$-1\r\n");
    let info = raw.request(b"CLIENT INFO\r\n");
    let info = String::from_utf8(info).unwrap();
    assert!(info.starts_with('$'), "RESP2 bulk, not verbatim: {info:?}");
    assert!(info.contains(" db=0 "), "{info}");
    assert!(info.contains(" resp=2 "), "{info}");
    assert_eq!(raw_client_id(&mut raw), id, "RESET keeps the connection");
}

#[test]
fn reset_turns_client_reply_back_on() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.send(b"CLIENT REPLY OFF\r\nPING\r\nRESET\r\nPING\r\n");
    assert_eq!(raw.read_n(15), b"+RESET\r\n+PONG\r\n");
}

#[test]
fn reset_clears_the_client_name() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"CLIENT SETNAME foo\r\n", b"+OK\r\n");
    raw.roundtrip(b"RESET\r\n", b"+RESET\r\n");
    raw.roundtrip(b"CLIENT GETNAME\r\n", b"$-1\r\n");
}

#[test]
fn reset_deauthenticates_when_a_password_is_required() {
    let srv = TestServer::start_with(PASS_CONFIG);
    let mut raw = srv.raw();
    raw.roundtrip(b"AUTH secret\r\n", b"+OK\r\n");
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
    raw.roundtrip(b"RESET\r\n", b"+RESET\r\n");
    raw.roundtrip(b"PING\r\n", b"-NOAUTH Authentication required.\r\n");
}

#[test]
fn reset_with_arguments_is_an_arity_error() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(
        b"RESET x\r\n",
        b"-ERR wrong number of arguments for 'reset' command\r\n",
    );
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

// ---------------------------------------------------------------------------------------------
// HELLO
// ---------------------------------------------------------------------------------------------

#[test]
fn hello_without_arguments_reports_current_protocol() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let id = raw_client_id(&mut raw);
    raw.roundtrip(b"HELLO\r\n", &hello_resp2(2, id));
}

#[test]
fn hello_2_replies_with_flat_map() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let id = raw_client_id(&mut raw);
    raw.roundtrip(b"HELLO 2\r\n", &hello_resp2(2, id));
    raw.roundtrip(b"GET missing\r\n", b"$-1\r\n");
}

#[test]
fn hello_3_replies_with_map_and_switches_to_resp3() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let id = raw_client_id(&mut raw);
    raw.roundtrip(b"HELLO 3\r\n", &hello_resp3(id));
    raw.roundtrip(b"GET missing\r\n", b"_\r\n");
    // And back again.
    raw.roundtrip(b"HELLO 2\r\n", &hello_resp2(2, id));
    raw.roundtrip(b"GET missing\r\n", b"$-1\r\n");
}

#[test]
fn hello_fields_through_resp3_client() {
    let srv = TestServer::start();
    let mut c = srv.client_resp3();
    let id = client_id(&mut c);
    let v: redis::Value = redis::cmd("HELLO").arg(3).query(&mut c).unwrap();
    let redis::Value::Map(pairs) = v else {
        panic!("HELLO 3 is a map: {v:?}");
    };
    let keys: Vec<String> = pairs
        .iter()
        .map(|(k, _)| redis::from_redis_value_ref(k).unwrap())
        .collect();
    assert_eq!(
        keys,
        ["server", "version", "proto", "id", "mode", "role", "modules"]
    );
    assert_eq!(pairs[2].1, redis::Value::Int(3));
    assert_eq!(pairs[3].1, redis::Value::Int(id));
    assert_eq!(pairs[6].1, redis::Value::Array(vec![]));
}

#[test]
fn hello_4_is_an_unsupported_protocol() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"HELLO 4\r\n", b"-NOPROTO unsupported protocol version\r\n");
    raw.roundtrip(b"HELLO 1\r\n", b"-NOPROTO unsupported protocol version\r\n");
    // The failed HELLO did not change the protocol.
    raw.roundtrip(b"GET missing\r\n", b"$-1\r\n");
}

#[test]
fn hello_with_non_integer_protover_is_an_error() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(
        b"HELLO x\r\n",
        b"-ERR Protocol version is not an integer or out of range\r\n",
    );
    raw.roundtrip(
        b"HELLO 3.0\r\n",
        b"-ERR Protocol version is not an integer or out of range\r\n",
    );
    raw.roundtrip(b"GET missing\r\n", b"$-1\r\n");
}

#[test]
fn hello_setname_sets_the_client_name() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let id = raw_client_id(&mut raw);
    raw.roundtrip(b"HELLO 3 SETNAME myconn\r\n", &hello_resp3(id));
    raw.roundtrip(b"CLIENT GETNAME\r\n", b"$6\r\nmyconn\r\n");
}

#[test]
fn hello_setname_rejects_invalid_names_and_changes_nothing() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(
        b"HELLO 3 SETNAME \"a b\"\r\n",
        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
    );
    raw.roundtrip(b"GET missing\r\n", b"$-1\r\n");
    raw.roundtrip(b"CLIENT GETNAME\r\n", b"$-1\r\n");
}

#[test]
fn hello_rejects_unknown_or_incomplete_options() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(
        b"HELLO 3 x\r\n",
        b"-ERR Syntax error in HELLO option 'x'\r\n",
    );
    raw.roundtrip(
        b"HELLO 3 SETNAME\r\n",
        b"-ERR Syntax error in HELLO option 'SETNAME'\r\n",
    );
    raw.roundtrip(
        b"HELLO 3 AUTH default\r\n",
        b"-ERR Syntax error in HELLO option 'AUTH'\r\n",
    );
    raw.roundtrip(b"GET missing\r\n", b"$-1\r\n");
}

#[test]
fn hello_requires_authentication_when_password_is_set() {
    let srv = TestServer::start_with(PASS_CONFIG);
    let mut raw = srv.raw();
    raw.roundtrip(
        b"HELLO 3\r\n",
        b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n",
    );
    raw.roundtrip(
        b"HELLO 3 AUTH default wrong\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    raw.roundtrip(b"GET missing\r\n", b"-NOAUTH Authentication required.\r\n");
}

#[test]
fn hello_auth_authenticates_and_switches_protocol() {
    let srv = TestServer::start_with(PASS_CONFIG);
    let mut raw = srv.raw();
    // CLIENT ID needs authentication: learn the id from HELLO's reply shape instead.
    raw.send(b"HELLO 3 AUTH default secret\r\n");
    let reply = raw.read_reply();
    let text = String::from_utf8(reply).unwrap();
    assert!(
        text.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"),
        "{text:?}"
    );
    assert!(text.contains("$5\r\nproto\r\n:3\r\n"), "{text:?}");
    raw.roundtrip(b"GET missing\r\n", b"_\r\n");
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn hello_auth_and_setname_together() {
    let srv = TestServer::start_with(PASS_CONFIG);
    let mut raw = srv.raw();
    raw.send(b"HELLO 2 AUTH default secret SETNAME named\r\n");
    let reply = String::from_utf8(raw.read_reply()).unwrap();
    assert!(reply.starts_with("*14\r\n"), "{reply:?}");
    raw.roundtrip(b"CLIENT GETNAME\r\n", b"$5\r\nnamed\r\n");
}

#[test]
fn hello_auth_without_configured_password() {
    // The default user has no password: HELLO AUTH default <anything> succeeds, other
    // users do not exist.
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let id = raw_client_id(&mut raw);
    raw.roundtrip(b"HELLO 2 AUTH default whatever\r\n", &hello_resp2(2, id));
    raw.roundtrip(
        b"HELLO 3 AUTH foo bar\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    raw.roundtrip(b"GET missing\r\n", b"$-1\r\n");
}

#[test]
fn resp3_client_from_redis_crate_connects_with_hello() {
    let srv = TestServer::start();
    let mut c = srv.client_resp3();
    let info = client_info(&mut c);
    assert_eq!(field(&info, "resp"), "3");
    let v: redis::Value = redis::cmd("GET").arg("missing").query(&mut c).unwrap();
    assert_eq!(v, redis::Value::Nil);
}

// ---------------------------------------------------------------------------------------------
// AUTH
// ---------------------------------------------------------------------------------------------

#[test]
fn commands_before_auth_get_noauth() {
    let srv = TestServer::start_with(PASS_CONFIG);
    let mut raw = srv.raw();
    raw.roundtrip(b"PING\r\n", b"-NOAUTH Authentication required.\r\n");
    raw.roundtrip(b"GET k\r\n", b"-NOAUTH Authentication required.\r\n");
    raw.roundtrip(b"CLIENT ID\r\n", b"-NOAUTH Authentication required.\r\n");
    // Lookup and arity are checked before authentication, as in Redis.
    raw.roundtrip(
        b"foo a\r\n",
        b"-ERR unknown command 'foo', with args beginning with: 'a' \r\n",
    );
    raw.roundtrip(
        b"GET\r\n",
        b"-ERR wrong number of arguments for 'get' command\r\n",
    );
}

#[test]
fn auth_with_wrong_password_is_wrongpass() {
    let srv = TestServer::start_with(PASS_CONFIG);
    let mut raw = srv.raw();
    raw.roundtrip(
        b"AUTH wrong\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    raw.roundtrip(
        b"AUTH default wrong\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    raw.roundtrip(
        b"AUTH nobody secret\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    raw.roundtrip(b"PING\r\n", b"-NOAUTH Authentication required.\r\n");
}

#[test]
fn auth_with_password_authenticates() {
    let srv = TestServer::start_with(PASS_CONFIG);
    let mut raw = srv.raw();
    raw.roundtrip(b"AUTH secret\r\n", b"+OK\r\n");
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn auth_with_default_user_and_password_authenticates() {
    let srv = TestServer::start_with(PASS_CONFIG);
    let mut raw = srv.raw();
    raw.roundtrip(b"AUTH default secret\r\n", b"+OK\r\n");
    raw.roundtrip(b"SET k v\r\n", b"+OK\r\n");
    raw.roundtrip(b"GET k\r\n", b"$1\r\nv\r\n");
}

#[test]
fn auth_with_wrong_arity() {
    let srv = TestServer::start_with(PASS_CONFIG);
    let mut raw = srv.raw();
    raw.roundtrip(
        b"AUTH\r\n",
        b"-ERR wrong number of arguments for 'auth' command\r\n",
    );
    raw.roundtrip(b"AUTH a b c\r\n", b"-ERR syntax error\r\n");
    raw.roundtrip(b"AUTH secret\r\n", b"+OK\r\n");
}

#[test]
fn redis_crate_authenticates_with_password_in_url() {
    let srv = TestServer::start_with(PASS_CONFIG);
    let url = format!("redis://:secret@{}/", srv.addr);
    let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
    assert_alive(&mut c);
    let url = format!("redis://default:secret@{}/?protocol=resp3", srv.addr);
    let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
    assert_eq!(field(&client_info(&mut c), "resp"), "3");
    let url = format!("redis://:wrong@{}/", srv.addr);
    assert!(redis::Client::open(url).unwrap().get_connection().is_err());
}

#[test]
fn auth_without_configured_password_is_an_error() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_err_exact(
        &mut c,
        redis::cmd("AUTH").arg("x"),
        "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
    );
    // The default user has no password: any password works with the explicit user name.
    let _: () = redis::cmd("AUTH")
        .arg("default")
        .arg("whatever")
        .query(&mut c)
        .unwrap();
    assert_err_exact(
        &mut c,
        redis::cmd("AUTH").arg("nobody").arg("x"),
        "WRONGPASS invalid username-password pair or user is disabled.",
    );
}

// ---------------------------------------------------------------------------------------------
// CLIENT ID / SETNAME / GETNAME
// ---------------------------------------------------------------------------------------------

#[test]
fn client_id_is_unique_and_matches_hello_and_client_info() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let mut b = srv.client();
    let (ia, ib) = (client_id(&mut a), client_id(&mut b));
    assert!(ia > 0 && ib > ia, "ids increase: {ia} {ib}");
    assert_eq!(client_id(&mut a), ia, "stable for a connection");
    assert_eq!(field(&client_info(&mut a), "id"), ia.to_string());
    let hello: redis::Value = redis::cmd("HELLO").query(&mut a).unwrap();
    let redis::Value::Array(items) = hello else {
        panic!("{hello:?}");
    };
    assert_eq!(items[7], redis::Value::Int(ia));
}

#[test]
fn client_id_with_arguments_is_an_arity_error() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_err_exact(
        &mut c,
        redis::cmd("CLIENT").arg("ID").arg("x"),
        "ERR wrong number of arguments for 'client|id' command",
    );
}

#[test]
fn client_setname_and_getname_round_trip() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"CLIENT GETNAME\r\n", b"$-1\r\n");
    raw.roundtrip(b"CLIENT SETNAME worker-1\r\n", b"+OK\r\n");
    raw.roundtrip(b"CLIENT GETNAME\r\n", b"$8\r\nworker-1\r\n");
    // An empty name clears it.
    raw.roundtrip(b"CLIENT SETNAME \"\"\r\n", b"+OK\r\n");
    raw.roundtrip(b"CLIENT GETNAME\r\n", b"$-1\r\n");
}

#[test]
fn client_setname_is_visible_in_client_list() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let mut b = srv.client();
    let _: () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("alpha")
        .query(&mut a)
        .unwrap();
    let ida = client_id(&mut a);
    let list = client_list(&mut b, &[]);
    let line = list
        .lines()
        .find(|l| field(l, "id") == ida.to_string())
        .expect("a is listed");
    assert_eq!(field(line, "name"), "alpha");
}

#[test]
fn client_setname_rejects_spaces_newlines_and_special_characters() {
    let srv = TestServer::start();
    let mut c = srv.client();
    for bad in ["a b", "a\nb", "a\u{7f}", "tab\there"] {
        assert_err_exact(
            &mut c,
            redis::cmd("CLIENT").arg("SETNAME").arg(bad),
            "ERR Client names cannot contain spaces, newlines or special characters.",
        );
    }
    let name: Option<String> = redis::cmd("CLIENT").arg("GETNAME").query(&mut c).unwrap();
    assert_eq!(name, None, "rejected names are not stored");
}

#[test]
fn client_setname_and_getname_arity() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_err_exact(
        &mut c,
        redis::cmd("CLIENT").arg("SETNAME"),
        "ERR wrong number of arguments for 'client|setname' command",
    );
    assert_err_exact(
        &mut c,
        redis::cmd("CLIENT").arg("SETNAME").arg("a").arg("b"),
        "ERR wrong number of arguments for 'client|setname' command",
    );
    assert_err_exact(
        &mut c,
        redis::cmd("CLIENT").arg("GETNAME").arg("x"),
        "ERR wrong number of arguments for 'client|getname' command",
    );
}

// ---------------------------------------------------------------------------------------------
// CLIENT LIST / INFO
// ---------------------------------------------------------------------------------------------

#[test]
fn client_list_line_has_redis_fields_in_order() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let id = client_id(&mut c);
    let list = client_list(&mut c, &[]);
    assert!(list.ends_with('\n'), "{list:?}");
    let line = list
        .lines()
        .find(|l| field(l, "id") == id.to_string())
        .expect("own connection listed");
    let names: Vec<&str> = line
        .split(' ')
        .map(|kv| kv.split('=').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "id",
            "addr",
            "laddr",
            "fd",
            "name",
            "age",
            "idle",
            "flags",
            "db",
            "sub",
            "psub",
            "ssub",
            "multi",
            "watch",
            "qbuf",
            "qbuf-free",
            "argv-mem",
            "multi-mem",
            "rbs",
            "rbp",
            "obl",
            "oll",
            "omem",
            "tot-mem",
            "events",
            "cmd",
            "user",
            "redir",
            "resp",
            "lib-name",
            "lib-ver"
        ]
    );
    assert_eq!(field(line, "laddr"), srv.addr.to_string());
    assert!(field(line, "addr").starts_with("127.0.0.1:"), "{line}");
    assert_eq!(field(line, "db"), "0");
    assert_eq!(field(line, "cmd"), "client|list");
    assert_eq!(field(line, "user"), "default");
    assert_eq!(field(line, "resp"), "2");
    assert_eq!(field(line, "name"), "");
    // The redis crate announces itself with CLIENT SETINFO on connect.
    assert_eq!(field(line, "lib-name"), "redis-rs");
}

/// A raw connection's CLIENT ID.
fn raw_id(r: &mut Raw) -> String {
    let reply = r.request(b"*2\r\n$6\r\nCLIENT\r\n$2\r\nID\r\n");
    String::from_utf8(reply[1..reply.len() - 2].to_vec()).unwrap()
}

/// The CLIENT LIST line of client `id`, once `pred` holds for it.
fn line_when(c: &mut redis::Connection, id: &str, pred: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    for _ in 0..200 {
        let list = client_list(c, &[]);
        if let Some(l) = list.lines().find(|l| field(l, "id") == id) {
            if pred(l) {
                return l.to_string();
            }
            last = l.to_string();
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("client {id} never matched: {last}")
}

#[test]
fn client_list_shows_subscriptions_multi_blocked_and_broken_watch() {
    let srv = TestServer::start();
    let mut a = srv.client();
    // Subscribed: flags=P, its counts, and TYPE pubsub (not normal) lists it.
    let mut sub = srv.raw();
    let sid = raw_id(&mut sub);
    sub.send(b"*3\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n");
    sub.send(b"*2\r\n$10\r\nPSUBSCRIBE\r\n$2\r\np*\r\n");
    let l = line_when(&mut a, &sid, |l| field(l, "psub") == "1");
    assert_eq!(
        (field(&l, "flags"), field(&l, "sub"), field(&l, "multi")),
        ("P", "2", "-1")
    );
    assert!(client_list(&mut a, &["TYPE", "pubsub"]).contains(&format!("id={sid} ")));
    assert!(!client_list(&mut a, &["TYPE", "normal"]).contains(&format!("id={sid} ")));
    // In MULTI with two queued commands, then a watched key written by someone else.
    let mut m = srv.raw();
    let mid = raw_id(&mut m);
    m.roundtrip(b"*2\r\n$5\r\nWATCH\r\n$1\r\nw\r\n", b"+OK\r\n");
    m.roundtrip(b"*1\r\n$5\r\nMULTI\r\n", b"+OK\r\n");
    for _ in 0..2 {
        m.roundtrip(b"*1\r\n$4\r\nPING\r\n", b"+QUEUED\r\n");
    }
    let l = line_when(&mut a, &mid, |l| field(l, "multi") == "2");
    assert_eq!((field(&l, "flags"), field(&l, "watch")), ("x", "1"));
    let _: () = redis::cmd("SET").arg("w").arg("1").query(&mut a).unwrap();
    let l = line_when(&mut a, &mid, |l| field(l, "flags") == "xd");
    assert_eq!(field(&l, "multi"), "2");
    // Blocked: flags=b until served.
    let mut b = srv.raw();
    let bid = raw_id(&mut b);
    b.send(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n");
    line_when(&mut a, &bid, |l| field(l, "flags") == "b");
    let _: () = redis::cmd("RPUSH").arg("q").arg("x").query(&mut a).unwrap();
    b.read_reply();
    line_when(&mut a, &bid, |l| field(l, "flags") == "N");
    // After EXEC: no keys watched, and `cmd` names EXEC, not the last command it ran.
    m.request(b"*1\r\n$4\r\nEXEC\r\n");
    let l = line_when(&mut a, &mid, |l| field(l, "multi") == "-1");
    assert_eq!((field(&l, "watch"), field(&l, "cmd")), ("0", "exec"));
}

#[test]
fn client_list_shows_every_connection_once() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let mut b = srv.client();
    let mut c = srv.client();
    let ids = [client_id(&mut a), client_id(&mut b), client_id(&mut c)];
    let list = client_list(&mut a, &[]);
    for id in ids {
        let n = list
            .lines()
            .filter(|l| field(l, "id") == id.to_string())
            .count();
        assert_eq!(n, 1, "client {id} in {list}");
    }
}

#[test]
fn client_list_type_filter() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let mut b = srv.client();
    let idb = client_id(&mut b);
    let normal = client_list(&mut a, &["TYPE", "normal"]);
    assert!(normal.lines().any(|l| field(l, "id") == idb.to_string()));
    for none in ["pubsub", "master", "replica"] {
        let list = client_list(&mut a, &["TYPE", none]);
        assert_eq!(list, "", "TYPE {none}");
    }
    assert_err_exact(
        &mut a,
        redis::cmd("CLIENT").arg("LIST").arg("TYPE").arg("foo"),
        "ERR Unknown client type 'foo'",
    );
    assert_err_exact(
        &mut a,
        redis::cmd("CLIENT").arg("LIST").arg("TYPE"),
        "ERR syntax error",
    );
}

#[test]
fn client_list_id_filter() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let mut b = srv.client();
    let mut c = srv.client();
    let (ia, ib, ic) = (client_id(&mut a), client_id(&mut b), client_id(&mut c));
    let list = client_list(&mut a, &["ID", &ib.to_string(), &ic.to_string(), "99999"]);
    let ids: Vec<String> = list.lines().map(|l| field(l, "id").to_string()).collect();
    assert_eq!(ids, [ib.to_string(), ic.to_string()]);
    let list = client_list(&mut a, &["ID", &ia.to_string()]);
    assert_eq!(list.lines().count(), 1);
    assert_err_exact(
        &mut a,
        redis::cmd("CLIENT").arg("LIST").arg("ID").arg("abc"),
        "ERR Invalid client ID",
    );
    assert_err_exact(
        &mut a,
        redis::cmd("CLIENT").arg("LIST").arg("ID"),
        "ERR syntax error",
    );
    assert_err_exact(
        &mut a,
        redis::cmd("CLIENT").arg("LIST").arg("foo"),
        "ERR syntax error",
    );
}

#[test]
fn client_list_id_zero_or_negative_matches_nothing() {
    // Redis parses the ids as plain integers: 0 or -5 are valid and simply match no client.
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"CLIENT LIST ID 0\r\n", b"$0\r\n\r\n");
    raw.roundtrip(b"CLIENT LIST ID -5\r\n", b"$0\r\n\r\n");
}

#[test]
fn client_info_describes_only_this_connection() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let _other = srv.client();
    let id = client_id(&mut c);
    let _: () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("me")
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("SELECT").arg(3).query(&mut c).unwrap();
    let info = client_info(&mut c);
    assert!(info.ends_with('\n'));
    assert_eq!(info.lines().count(), 1, "{info:?}");
    assert_eq!(field(&info, "id"), id.to_string());
    assert_eq!(field(&info, "name"), "me");
    assert_eq!(field(&info, "db"), "3");
    assert_eq!(field(&info, "cmd"), "client|info");
    assert_eq!(field(&info, "laddr"), srv.addr.to_string());
    // As Redis's introspection test: the query buffer still holds the request being answered
    // (`*2\r\n$6\r\nCLIENT\r\n$4\r\nINFO\r\n`, 26 bytes), its arguments are 10 bytes.
    assert_eq!(field(&info, "qbuf"), "26");
    assert_eq!(field(&info, "argv-mem"), "10");
    let free: usize = field(&info, "qbuf-free").parse().unwrap();
    let rbs: usize = field(&info, "rbs").parse().unwrap();
    assert_eq!(rbs, 26 + free);
    assert!(field(&info, "tot-mem").parse::<usize>().unwrap() > rbs);
    // Another client between batches holds no request.
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut c).unwrap();
    let other = list
        .lines()
        .find(|l| !l.contains(&format!("id={id} ")))
        .unwrap();
    assert_eq!(field(other, "qbuf"), "0");
    assert_eq!(field(other, "argv-mem"), "0");
}

/// An idle connection holds no query buffer (Redis 8's reusable query buffer: `qbuf=0
/// qbuf-free=0`); one holding part of a request keeps it, in a buffer of its own, until the
/// rest arrives.
#[test]
fn only_a_connection_holding_part_of_a_request_holds_a_query_buffer() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let mut raw = srv.raw();
    raw.roundtrip(b"CLIENT SETNAME partial\r\n", b"+OK\r\n");
    let line = |c: &mut redis::Connection| -> String {
        let list: String = redis::cmd("CLIENT").arg("LIST").query(c).unwrap();
        list.lines()
            .find(|l| l.contains(" name=partial "))
            .unwrap()
            .to_string()
    };
    let idle = line(&mut c);
    assert_eq!(
        (field(&idle, "qbuf"), field(&idle, "qbuf-free")),
        ("0", "0"),
        "{idle}"
    );
    raw.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhel");
    eventually("the partial request", || {
        field(&line(&mut c), "qbuf") == "27"
    });
    let holding = line(&mut c);
    assert!(
        field(&holding, "qbuf-free").parse::<usize>().unwrap() > 0,
        "{holding}"
    );
    raw.roundtrip(b"lo\r\n", b"+OK\r\n");
    let got: String = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    assert_eq!(got, "hello");
    let done = line(&mut c);
    assert_eq!(
        (field(&done, "qbuf"), field(&done, "qbuf-free")),
        ("0", "0"),
        "{done}"
    );
}

#[test]
fn query_buffer_is_let_go_after_a_big_request() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let big = vec![b'x'; 8 * 1024 * 1024];
    let _: () = redis::cmd("SET").arg("k").arg(&big).query(&mut c).unwrap();
    let got: Vec<u8> = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    assert_eq!(got.len(), big.len());
    // Requests are read in place: the buffer that held 8 MB goes once it is used up, and
    // later requests (which would reclaim its room) run in a small one.
    for i in 0..2000 {
        let info = client_info(&mut c);
        let rbs: usize = field(&info, "rbs").parse().unwrap();
        assert!(rbs <= 64 * 1024, "request {i}: {info}");
    }
}

#[test]
fn client_info_is_verbatim_in_resp3_and_bulk_in_resp2() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let r2 = String::from_utf8(raw.request(b"CLIENT INFO\r\n")).unwrap();
    assert!(r2.starts_with('$') && r2.ends_with("\n\r\n"), "{r2:?}");
    let id = raw_client_id(&mut raw);
    raw.roundtrip(b"HELLO 3\r\n", &hello_resp3(id));
    let r3 = String::from_utf8(raw.request(b"CLIENT INFO\r\n")).unwrap();
    assert!(r3.starts_with('='), "{r3:?}");
    assert!(r3.contains("\r\ntxt:id="), "{r3:?}");
    assert!(r3.contains(" resp=3 "), "{r3:?}");
}

#[test]
fn client_info_with_arguments_is_an_arity_error() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_err_exact(
        &mut c,
        redis::cmd("CLIENT").arg("INFO").arg("x"),
        "ERR wrong number of arguments for 'client|info' command",
    );
}

// ---------------------------------------------------------------------------------------------
// CLIENT KILL
// ---------------------------------------------------------------------------------------------

/// Waits until client `id` no longer appears in CLIENT LIST.
fn wait_gone(con: &mut redis::Connection, id: i64) {
    eventually("killed client to leave CLIENT LIST", || {
        !client_list(con, &[])
            .lines()
            .any(|l| field(l, "id") == id.to_string())
    });
}

#[test]
fn client_kill_by_address_old_form_replies_ok_and_closes_victim() {
    let srv = TestServer::start();
    let mut killer = srv.client();
    let mut victim = srv.client();
    let vid = client_id(&mut victim);
    let addr = field(&client_info(&mut victim), "addr").to_string();
    let r: String = redis::cmd("CLIENT")
        .arg("KILL")
        .arg(&addr)
        .query(&mut killer)
        .unwrap();
    assert_eq!(r, "OK");
    wait_gone(&mut killer, vid);
    assert!(
        next_command_fails(&mut victim),
        "victim connection was closed"
    );
    assert_alive(&mut killer);
}

#[test]
fn client_kill_old_form_unknown_address_is_no_such_client() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_err_exact(
        &mut c,
        redis::cmd("CLIENT").arg("KILL").arg("1.2.3.4:5"),
        "ERR No such client",
    );
}

#[test]
fn client_kill_id_filter_kills_one_client() {
    let srv = TestServer::start();
    let mut killer = srv.client();
    let mut victim = srv.client();
    let mut bystander = srv.client();
    let vid = client_id(&mut victim);
    let n: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(vid)
        .query(&mut killer)
        .unwrap();
    assert_eq!(n, 1);
    wait_gone(&mut killer, vid);
    assert!(next_command_fails(&mut victim));
    assert_alive(&mut bystander);
    let n: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(vid)
        .query(&mut killer)
        .unwrap();
    assert_eq!(n, 0, "already gone");
}

#[test]
fn client_kill_addr_filter_kills_matching_client() {
    let srv = TestServer::start();
    let mut killer = srv.client();
    let mut victim = srv.client();
    let vid = client_id(&mut victim);
    let addr = field(&client_info(&mut victim), "addr").to_string();
    let n: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ADDR")
        .arg(&addr)
        .query(&mut killer)
        .unwrap();
    assert_eq!(n, 1);
    wait_gone(&mut killer, vid);
    assert!(next_command_fails(&mut victim));
    let n: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ADDR")
        .arg("1.1.1.1:1")
        .query(&mut killer)
        .unwrap();
    assert_eq!(n, 0);
}

/// TYPE filters kill only clients of that type: `pubsub` the subscribed ones, `normal` the
/// others, `master` and `replica` nobody (there are no replication links).
#[test]
fn client_kill_by_type() {
    let srv = TestServer::start();
    let mut me = srv.client();
    let mut plain = srv.client();
    let plain_id = client_id(&mut plain);
    let mut sub = srv.raw();
    sub.roundtrip(
        b"SSUBSCRIBE ch\r\n",
        b"*3\r\n$10\r\nssubscribe\r\n$2\r\nch\r\n:1\r\n",
    );
    let kill_type = |con: &mut redis::Connection, t: &str| -> i64 {
        redis::cmd("CLIENT")
            .arg("KILL")
            .arg("TYPE")
            .arg(t)
            .query(con)
            .unwrap()
    };
    for t in ["master", "replica", "slave"] {
        assert_eq!(kill_type(&mut me, t), 0, "TYPE {t}");
    }
    assert_alive(&mut plain);
    assert_eq!(kill_type(&mut me, "pubsub"), 1);
    assert!(sub.is_closed());
    assert_alive(&mut plain);
    assert_eq!(kill_type(&mut me, "normal"), 1, "everyone but the caller");
    wait_gone(&mut me, plain_id);
    assert_alive(&mut me);
}

#[test]
fn client_kill_skips_the_caller_by_default() {
    let srv = TestServer::start();
    let mut me = srv.client();
    let mut other = srv.client();
    let my_id = client_id(&mut me);
    let other_id = client_id(&mut other);
    let my_addr = field(&client_info(&mut me), "addr").to_string();
    // Filters matching only the caller kill nobody while SKIPME is yes (the default).
    let n: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(my_id)
        .query(&mut me)
        .unwrap();
    assert_eq!(n, 0);
    let n: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ADDR")
        .arg(&my_addr)
        .arg("SKIPME")
        .arg("yes")
        .query(&mut me)
        .unwrap();
    assert_eq!(n, 0);
    // USER default matches everyone but the caller.
    let n: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("USER")
        .arg("default")
        .query(&mut me)
        .unwrap();
    assert_eq!(n, 1);
    wait_gone(&mut me, other_id);
    assert!(next_command_fails(&mut other));
    assert_alive(&mut me);
}

#[test]
fn client_kill_skipme_no_kills_the_caller_after_replying() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let id = raw_client_id(&mut raw);
    raw.send(format!("CLIENT KILL ID {id} SKIPME no\r\nPING\r\n").as_bytes());
    assert_eq!(raw.read_n(4), b":1\r\n");
    assert!(raw.is_closed(), "the caller's connection is closed");
    let mut c = srv.client();
    assert_alive(&mut c);
}

#[test]
fn client_kill_laddr_filter_kills_every_other_client_on_that_listener() {
    let srv = TestServer::start();
    let mut me = srv.client();
    let mut a = srv.client();
    let mut b = srv.client();
    let (ia, ib) = (client_id(&mut a), client_id(&mut b));
    let n: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("LADDR")
        .arg(srv.addr.to_string())
        .query(&mut me)
        .unwrap();
    assert_eq!(n, 2);
    wait_gone(&mut me, ia);
    wait_gone(&mut me, ib);
    assert!(next_command_fails(&mut a));
    assert!(next_command_fails(&mut b));
    let n: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("LADDR")
        .arg("127.0.0.1:1")
        .query(&mut me)
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn client_kill_old_form_with_own_address_closes_own_connection() {
    // The old `CLIENT KILL ip:port` form does not skip the caller.
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let info = String::from_utf8(raw.request(b"CLIENT INFO\r\n")).unwrap();
    let addr = field(&info, "addr").to_string();
    raw.send(format!("CLIENT KILL {addr}\r\nPING\r\n").as_bytes());
    assert_eq!(raw.read_n(5), b"+OK\r\n");
    assert!(raw.is_closed());
}

#[test]
fn client_kill_unknown_user_is_an_error() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_err_exact(
        &mut c,
        redis::cmd("CLIENT").arg("KILL").arg("USER").arg("nosuch"),
        "ERR No such user 'nosuch'",
    );
}

#[test]
fn client_kill_filter_errors() {
    let srv = TestServer::start();
    let mut c = srv.client();
    for (args, err) in [
        (vec!["ID", "x"], "ERR client-id should be greater than 0"),
        (vec!["ID", "0"], "ERR client-id should be greater than 0"),
        (vec!["ID", "-3"], "ERR client-id should be greater than 0"),
        (vec!["foo", "bar"], "ERR syntax error"),
        (vec!["ID", "1", "x"], "ERR syntax error"),
        (vec!["SKIPME", "maybe"], "ERR syntax error"),
        (vec!["TYPE", "foo"], "ERR Unknown client type 'foo'"),
        (vec!["MAXAGE", "0"], "ERR maxage should be greater than 0"),
        (vec!["MAXAGE", "-1"], "ERR maxage should be greater than 0"),
        (
            vec!["MAXAGE", "x"],
            "ERR maxage is not an integer or out of range",
        ),
    ] {
        assert_err_exact(&mut c, redis::cmd("CLIENT").arg("KILL").arg(&args), err);
    }
    assert_err_exact(
        &mut c,
        redis::cmd("CLIENT").arg("KILL"),
        "ERR wrong number of arguments for 'client|kill' command",
    );
}

// ---------------------------------------------------------------------------------------------
// CLIENT SETINFO
// ---------------------------------------------------------------------------------------------

#[test]
fn client_setinfo_lib_name_and_lib_ver_show_in_client_info() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let info = String::from_utf8(raw.request(b"CLIENT INFO\r\n")).unwrap();
    assert!(info.contains(" lib-name= lib-ver=\n"), "{info:?}");
    raw.roundtrip(b"CLIENT SETINFO LIB-NAME mylib\r\n", b"+OK\r\n");
    raw.roundtrip(b"CLIENT SETINFO lib-ver 1.2.3\r\n", b"+OK\r\n");
    let info = String::from_utf8(raw.request(b"CLIENT INFO\r\n")).unwrap();
    assert!(info.contains(" lib-name=mylib lib-ver=1.2.3\n"), "{info:?}");
}

#[test]
fn client_setinfo_errors_leave_previous_values() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let _: () = redis::cmd("CLIENT")
        .arg("SETINFO")
        .arg("lib-name")
        .arg("redis.py")
        .query(&mut c)
        .unwrap();
    assert_err_exact(
        &mut c,
        redis::cmd("CLIENT")
            .arg("SETINFO")
            .arg("lib-name")
            .arg("redis py"),
        "ERR lib-name cannot contain spaces, newlines or special characters.",
    );
    assert_err_exact(
        &mut c,
        redis::cmd("CLIENT")
            .arg("SETINFO")
            .arg("lib-ver")
            .arg("1.0\n"),
        "ERR lib-ver cannot contain spaces, newlines or special characters.",
    );
    assert_err_exact(
        &mut c,
        redis::cmd("CLIENT")
            .arg("SETINFO")
            .arg("badger")
            .arg("hamster"),
        "ERR Unrecognized option 'badger'",
    );
    assert_err_exact(
        &mut c,
        redis::cmd("CLIENT").arg("SETINFO").arg("lib-name"),
        "ERR wrong number of arguments for 'client|setinfo' command",
    );
    assert_eq!(field(&client_info(&mut c), "lib-name"), "redis.py");
}

// ---------------------------------------------------------------------------------------------
// CLIENT REPLY
// ---------------------------------------------------------------------------------------------

#[test]
fn client_reply_off_sends_nothing_until_on() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    // OFF itself has no reply, nor have the commands after it, errors included.
    raw.send(b"CLIENT REPLY OFF\r\nSET k v\r\nGET k\r\nFOO\r\n");
    assert!(raw.nothing_arrives(Duration::from_millis(300)));
    raw.roundtrip(b"CLIENT REPLY ON\r\n", b"+OK\r\n");
    // The commands ran even though their replies were suppressed.
    raw.roundtrip(b"GET k\r\n", b"$1\r\nv\r\n");
}

#[test]
fn client_reply_skip_suppresses_exactly_the_next_reply() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.send(b"CLIENT REPLY SKIP\r\nECHO a\r\nECHO b\r\nECHO c\r\n");
    assert_eq!(raw.read_n(14), b"$1\r\nb\r\n$1\r\nc\r\n");
    // SKIP after SKIP: the second SKIP is the skipped command, then one more is skipped.
    raw.send(b"CLIENT REPLY SKIP\r\nCLIENT REPLY SKIP\r\nECHO x\r\nECHO y\r\n");
    assert_eq!(raw.read_n(7), b"$1\r\ny\r\n");
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn client_reply_skip_in_separate_writes() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.send(b"CLIENT REPLY SKIP\r\n");
    assert!(raw.nothing_arrives(Duration::from_millis(200)));
    raw.send(b"ECHO skipped\r\n");
    assert!(raw.nothing_arrives(Duration::from_millis(200)));
    raw.roundtrip(b"ECHO shown\r\n", b"$5\r\nshown\r\n");
}

#[test]
fn client_reply_on_replies_ok_and_bad_mode_is_syntax_error() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"CLIENT REPLY ON\r\n", b"+OK\r\n");
    raw.roundtrip(b"CLIENT REPLY maybe\r\n", b"-ERR syntax error\r\n");
    raw.roundtrip(
        b"CLIENT REPLY\r\n",
        b"-ERR wrong number of arguments for 'client|reply' command\r\n",
    );
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

// ---------------------------------------------------------------------------------------------
// CLIENT HELP / container errors
// ---------------------------------------------------------------------------------------------

#[test]
fn client_help_lists_the_subcommands() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let lines: Vec<String> = redis::cmd("CLIENT").arg("HELP").query(&mut c).unwrap();
    assert_eq!(
        lines[0],
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    for sub in [
        "GETNAME",
        "ID",
        "INFO",
        "KILL <ip:port>",
        "LIST [options ...]",
        "REPLY (ON|OFF|SKIP)",
        "SETNAME <name>",
        "HELP",
    ] {
        assert!(lines.iter().any(|l| l == sub), "{sub} missing: {lines:?}");
    }
    let mut raw = srv.raw();
    let reply = String::from_utf8(raw.request(b"CLIENT HELP\r\n")).unwrap();
    assert!(reply.starts_with('*'));
    assert!(
        reply.contains("\r\n+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"),
        "help lines are status replies: {reply:?}"
    );
}

#[test]
fn client_unknown_subcommand_and_bare_client() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(
        b"CLIENT foo\r\n",
        b"-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n",
    );
    raw.roundtrip(
        b"CLIENT\r\n",
        b"-ERR wrong number of arguments for 'client' command\r\n",
    );
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
    let mut c = srv.client();
    expect_err(
        &mut c,
        redis::cmd("CLIENT").arg("x"),
        "ERR unknown subcommand 'x'. Try CLIENT HELP.",
    );
    assert_alive(&mut c);
}
