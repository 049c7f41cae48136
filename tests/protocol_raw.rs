//! Byte-exact protocol tests over raw TCP sockets: inline commands and their quoting,
//! pipelining, requests split across many writes, RESP2 vs RESP3 reply shapes, binary-safe
//! values, and every framing error Redis closes the connection for (with its exact text),
//! including the limits (`proto-max-bulk-len`, the 64 KiB inline limit, the unauthenticated
//! limits and `client-query-buffer-limit`).
//!
//! Every malformed-frame test also checks that the server keeps serving other clients.
mod common;

use common::{assert_alive, Raw, TestServer};
use std::io::Write;
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A fresh connection still gets answers: the server survived whatever the test did.
/// (On a server with `requirepass`, NOAUTH is the answer a fresh connection gets.)
fn assert_server_serves(srv: &TestServer) {
    let mut raw = srv.raw();
    raw.send(b"PING\r\n");
    let line = raw.read_line();
    if line == b"-NOAUTH Authentication required.\r\n" {
        return;
    }
    assert_eq!(String::from_utf8_lossy(&line), "+PONG\r\n");
    assert_alive(&mut srv.client());
}

/// Sends `request`, expects exactly `reply`, then the server closing the connection.
fn assert_error_then_closed(srv: &TestServer, request: &[u8], reply: &[u8]) {
    let mut raw = srv.raw();
    raw.send(request);
    let got = raw.read_all();
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(reply),
        "reply to {:?}",
        String::from_utf8_lossy(&request[..request.len().min(60)])
    );
    assert_server_serves(srv);
}

/// Switches a raw connection to RESP3 and discards HELLO's reply.
fn hello3(raw: &mut Raw) {
    raw.send(b"HELLO 3\r\n");
    let reply = raw.read_reply();
    assert!(
        reply.starts_with(b"%7\r\n"),
        "{:?}",
        String::from_utf8_lossy(&reply)
    );
}

/// A multibulk request from arguments.
fn multibulk(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Resident set size of this process (the server runs in it), in bytes.
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

// ---------------------------------------------------------------------------------------------
// Inline commands
// ---------------------------------------------------------------------------------------------

#[test]
fn inline_ping_with_crlf_or_bare_lf() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
    raw.roundtrip(b"PING\n", b"+PONG\r\n");
    raw.roundtrip(b"ping  hello  \r\n", b"$5\r\nhello\r\n");
}

#[test]
fn inline_double_quotes_keep_spaces() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"SET a \"b c\"\r\n", b"+OK\r\n");
    raw.roundtrip(b"GET a\r\n", b"$3\r\nb c\r\n");
    raw.roundtrip(b"SET \"key with space\" \"\"\r\n", b"+OK\r\n");
    raw.roundtrip(b"STRLEN \"key with space\"\r\n", b":0\r\n");
}

#[test]
fn inline_hex_and_c_escapes_in_double_quotes() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"SET a \"\\x41\\x42\\n\\t\\\"q\\\\\"\r\n", b"+OK\r\n");
    raw.roundtrip(b"GET a\r\n", b"$7\r\nAB\n\t\"q\\\r\n");
    // Invalid hex digits are taken literally.
    raw.roundtrip(b"SET b \"\\xZZ\"\r\n", b"+OK\r\n");
    raw.roundtrip(b"GET b\r\n", b"$4\r\n\\xZZ\r\n");
}

#[test]
fn inline_single_quotes_only_escape_the_quote() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"SET a 'x y'\r\n", b"+OK\r\n");
    raw.roundtrip(b"GET a\r\n", b"$3\r\nx y\r\n");
    raw.roundtrip(b"SET b 'c\\'d\\n'\r\n", b"+OK\r\n");
    raw.roundtrip(b"GET b\r\n", b"$5\r\nc'd\\n\r\n");
}

#[test]
fn inline_unbalanced_quotes_reply_error_and_close() {
    let srv = TestServer::start();
    assert_error_then_closed(
        &srv,
        b"SET a \"b\r\n",
        b"-ERR Protocol error: unbalanced quotes in request\r\n",
    );
    assert_error_then_closed(
        &srv,
        b"SET a 'b\r\n",
        b"-ERR Protocol error: unbalanced quotes in request\r\n",
    );
    // A closing quote must be followed by a space or the end of the line.
    assert_error_then_closed(
        &srv,
        b"SET a \"b\"c\r\n",
        b"-ERR Protocol error: unbalanced quotes in request\r\n",
    );
}

#[test]
fn blank_lines_and_empty_multibulk_are_ignored() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"\r\n\r\n   \r\n\nPING\r\n", b"+PONG\r\n");
    raw.roundtrip(b"*0\r\nPING\r\n", b"+PONG\r\n");
    raw.roundtrip(b"*-1\r\nPING\r\n", b"+PONG\r\n");
    raw.send(b"*0\r\n\r\n");
    assert!(raw.nothing_arrives(Duration::from_millis(200)));
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn inline_line_over_64k_without_newline_is_too_big() {
    let srv = TestServer::start();
    let line = vec![b'a'; 70_000];
    assert_error_then_closed(
        &srv,
        &line,
        b"-ERR Protocol error: too big inline request\r\n",
    );
}

#[test]
fn inline_line_under_64k_is_accepted() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let value = "v".repeat(60_000);
    raw.send(format!("SET k {value}\r\n").as_bytes());
    assert_eq!(raw.read_line(), b"+OK\r\n");
    raw.roundtrip(b"STRLEN k\r\n", b":60000\r\n");
}

// ---------------------------------------------------------------------------------------------
// Pipelining and fragmented requests
// ---------------------------------------------------------------------------------------------

#[test]
fn pipeline_of_100_commands_in_one_write_replies_in_order() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let mut req = Vec::new();
    let mut want = Vec::new();
    for i in 1..=100 {
        if i % 2 == 0 {
            req.extend(multibulk(&[b"INCR", b"counter"]));
        } else {
            req.extend_from_slice(b"INCR counter\r\n");
        }
        want.extend(format!(":{i}\r\n").as_bytes());
    }
    raw.send(&req);
    let got = raw.read_n(want.len());
    assert_eq!(
        String::from_utf8(got).unwrap(),
        String::from_utf8(want).unwrap()
    );
    assert!(raw.nothing_arrives(Duration::from_millis(100)));
}

#[test]
fn pipeline_mixes_replies_and_errors_in_order() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(
        b"SET k v\r\nGET k\r\nGET\r\nECHO x\r\nnosuch\r\nGET missing\r\n",
        b"+OK\r\n$1\r\nv\r\n-ERR wrong number of arguments for 'get' command\r\n$1\r\nx\r\n-ERR unknown command 'nosuch', with args beginning with: \r\n$-1\r\n",
    );
}

#[test]
fn replies_before_a_malformed_frame_are_sent_and_the_rest_is_dropped() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.send(b"PING\r\n*abc\r\nSET dropped 1\r\n");
    assert_eq!(
        raw.read_all(),
        b"+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n"
    );
    let mut other = srv.raw();
    other.roundtrip(b"EXISTS dropped\r\n", b":0\r\n");
}

#[test]
fn request_arriving_one_byte_per_write_is_executed_once() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let req = multibulk(&[b"SET", b"k", b"hello"]);
    for b in &req {
        raw.send(&[*b]);
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(raw.read_line(), b"+OK\r\n");
    for b in b"GET k\r\n" {
        raw.send(&[*b]);
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(raw.read_n(11), b"$5\r\nhello\r\n");
    assert!(raw.nothing_arrives(Duration::from_millis(100)));
}

#[test]
fn large_bulk_split_across_writes_round_trips() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let value: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let req = multibulk(&[b"SET", b"big", &value]);
    for chunk in req.chunks(100_003) {
        raw.send(chunk);
    }
    assert_eq!(raw.read_line(), b"+OK\r\n");
    raw.send(&multibulk(&[b"GET", b"big"]));
    assert_eq!(raw.read_line(), b"$3000000\r\n");
    let got = raw.read_n(value.len() + 2);
    assert!(got[..value.len()] == value[..], "payload differs");
    assert_eq!(&got[value.len()..], b"\r\n");
}

// ---------------------------------------------------------------------------------------------
// Binary safety
// ---------------------------------------------------------------------------------------------

#[test]
fn binary_values_with_crlf_and_nul_round_trip() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let value: &[u8] = b"a\r\nb\0c\xff\r\n";
    raw.roundtrip(&multibulk(&[b"SET", b"bin\0key\r\n", value]), b"+OK\r\n");
    let mut want = format!("${}\r\n", value.len()).into_bytes();
    want.extend_from_slice(value);
    want.extend_from_slice(b"\r\n");
    raw.roundtrip(&multibulk(&[b"GET", b"bin\0key\r\n"]), &want);
    raw.roundtrip(&multibulk(&[b"ECHO", b"\0"]), b"$1\r\n\0\r\n");
    let mut c = srv.client();
    let v: Vec<u8> = redis::cmd("GET")
        .arg(&b"bin\0key\r\n"[..])
        .query(&mut c)
        .unwrap();
    assert_eq!(v, value);
}

// ---------------------------------------------------------------------------------------------
// RESP2 / RESP3 shapes
// ---------------------------------------------------------------------------------------------

#[test]
fn resp2_missing_value_is_null_bulk() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"GET missing\r\n", b"$-1\r\n");
    raw.roundtrip(b"CLIENT GETNAME\r\n", b"$-1\r\n");
}

#[test]
fn resp3_missing_value_is_null() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    hello3(&mut raw);
    raw.roundtrip(b"GET missing\r\n", b"_\r\n");
    raw.roundtrip(b"CLIENT GETNAME\r\n", b"_\r\n");
    raw.roundtrip(b"MEMORY USAGE missing\r\n", b"_\r\n");
    // Simple types are unchanged.
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
    raw.roundtrip(b"SET k v\r\n", b"+OK\r\n");
    raw.roundtrip(b"STRLEN k\r\n", b":1\r\n");
}

#[test]
fn resp3_maps_are_native_and_resp2_maps_are_flat() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(
        b"CONFIG GET maxmemory\r\n",
        b"*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n",
    );
    hello3(&mut raw);
    raw.roundtrip(
        b"CONFIG GET maxmemory\r\n",
        b"%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n",
    );
    raw.roundtrip(b"CONFIG GET nosuch\r\n", b"%0\r\n");
}

#[test]
fn resp3_doubles_and_resp2_double_as_bulk() {
    // MEMORY STATS has double fields (dataset.percentage, ...): `,` in RESP3, bulk in RESP2.
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let r2 = String::from_utf8(raw.request(b"MEMORY STATS\r\n")).unwrap();
    assert!(r2.starts_with('*'), "{r2:?}");
    assert!(r2.contains("$18\r\ndataset.percentage\r\n$"), "{r2:?}");
    hello3(&mut raw);
    let r3 = String::from_utf8(raw.request(b"MEMORY STATS\r\n")).unwrap();
    assert!(r3.starts_with('%'), "{r3:?}");
    assert!(r3.contains("$18\r\ndataset.percentage\r\n,"), "{r3:?}");
}

#[test]
fn resp3_verbatim_and_sets() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    hello3(&mut raw);
    let info = raw.request(b"INFO server\r\n");
    assert!(
        info.starts_with(b"="),
        "{:?}",
        String::from_utf8_lossy(&info)
    );
    let header_end = info.iter().position(|&b| b == b'\n').unwrap() + 1;
    assert!(info[header_end..].starts_with(b"txt:# Server\r\n"));
    // COMMAND INFO reports flags as a set.
    let ci = String::from_utf8(raw.request(b"COMMAND INFO get\r\n")).unwrap();
    assert!(ci.contains("~2\r\n+readonly\r\n+fast\r\n"), "{ci:?}");
}

// ---------------------------------------------------------------------------------------------
// Malformed multibulk frames: exact error, then the connection closes
// ---------------------------------------------------------------------------------------------

#[test]
fn non_numeric_multibulk_length_is_invalid() {
    let srv = TestServer::start();
    for req in [&b"*abc\r\n"[..], b"*01\r\n", b"*+1\r\n", b"*1x\r\n"] {
        assert_error_then_closed(
            &srv,
            req,
            b"-ERR Protocol error: invalid multibulk length\r\n",
        );
    }
}

#[test]
fn multibulk_length_above_int_max_is_invalid() {
    let srv = TestServer::start();
    assert_error_then_closed(
        &srv,
        b"*3000000000\r\n",
        b"-ERR Protocol error: invalid multibulk length\r\n",
    );
}

#[test]
fn element_that_is_not_a_bulk_string_is_rejected() {
    let srv = TestServer::start();
    assert_error_then_closed(
        &srv,
        b"*1\r\n+x\r\n",
        b"-ERR Protocol error: expected '$', got '+'\r\n",
    );
    assert_error_then_closed(
        &srv,
        b"*1\r\n:1\r\n",
        b"-ERR Protocol error: expected '$', got ':'\r\n",
    );
    assert_error_then_closed(
        &srv,
        b"*2\r\n$4\r\nECHO\r\n*1\r\n",
        b"-ERR Protocol error: expected '$', got '*'\r\n",
    );
}

#[test]
fn negative_or_non_numeric_bulk_length_is_invalid() {
    let srv = TestServer::start();
    for req in [
        &b"*1\r\n$-5\r\n"[..],
        b"*1\r\n$-1\r\n",
        b"*1\r\n$abc\r\n",
        b"*1\r\n$01\r\n",
    ] {
        assert_error_then_closed(&srv, req, b"-ERR Protocol error: invalid bulk length\r\n");
    }
}

#[test]
fn bulk_length_above_default_proto_max_bulk_len_is_invalid() {
    let srv = TestServer::start();
    assert_error_then_closed(
        &srv,
        b"*1\r\n$536870913\r\n",
        b"-ERR Protocol error: invalid bulk length\r\n",
    );
}

#[test]
fn bulk_length_above_configured_proto_max_bulk_len_is_invalid() {
    // 1mb is the smallest value Redis (and tenantkv) accept for proto-max-bulk-len.
    let srv = TestServer::start_with("[limits]\nproto_max_bulk_len = \"1mb\"\n");
    assert_error_then_closed(
        &srv,
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n",
        b"-ERR Protocol error: invalid bulk length\r\n",
    );
    // Exactly the limit is fine.
    let mut raw = srv.raw();
    let value = vec![b'x'; 1024 * 1024];
    raw.send(&multibulk(&[b"SET", b"k", &value]));
    assert_eq!(raw.read_line(), b"+OK\r\n");
}

#[test]
fn proto_max_bulk_len_set_at_runtime_applies_to_new_requests() {
    let srv = TestServer::start();
    let mut admin = srv.raw();
    admin.roundtrip(b"CONFIG SET proto-max-bulk-len 1mb\r\n", b"+OK\r\n");
    assert_error_then_closed(
        &srv,
        b"*2\r\n$4\r\nECHO\r\n$2000000\r\n",
        b"-ERR Protocol error: invalid bulk length\r\n",
    );
}

#[test]
fn count_strings_over_64k_are_too_big() {
    let srv = TestServer::start();
    let mut mbulk = b"*".to_vec();
    mbulk.extend(vec![b'1'; 70_000]);
    assert_error_then_closed(
        &srv,
        &mbulk,
        b"-ERR Protocol error: too big mbulk count string\r\n",
    );
    let mut bulk = b"*1\r\n$".to_vec();
    bulk.extend(vec![b'1'; 70_000]);
    assert_error_then_closed(
        &srv,
        &bulk,
        b"-ERR Protocol error: too big bulk count string\r\n",
    );
}

#[test]
fn bulk_payload_is_taken_by_length_and_the_two_bytes_after_it_skipped() {
    // Redis does not check that a bulk payload is followed by CRLF: it skips two bytes.
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(
        b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n",
        b"+PONG\r\n+PONG\r\n",
    );
}

// ---------------------------------------------------------------------------------------------
// Limits before authentication
// ---------------------------------------------------------------------------------------------

#[test]
fn unauthenticated_multibulk_over_10_is_rejected() {
    let srv = TestServer::start_with("[auth]\nrequirepass = \"secret\"\n");
    assert_error_then_closed(
        &srv,
        b"*11\r\n",
        b"-ERR Protocol error: unauthenticated multibulk length\r\n",
    );
    // Ten arguments are still parsed (and refused with NOAUTH, connection kept).
    let mut raw = srv.raw();
    let mut args: Vec<&[u8]> = vec![b"DEL"];
    args.extend(vec![&b"k"[..]; 9]);
    raw.roundtrip(&multibulk(&args), b"-NOAUTH Authentication required.\r\n");
    raw.roundtrip(b"AUTH secret\r\n", b"+OK\r\n");
    // After AUTH the limit is gone.
    let keys: Vec<Vec<u8>> = (0..20).map(|i| format!("k{i}").into_bytes()).collect();
    let mut all: Vec<&[u8]> = vec![b"DEL"];
    all.extend(keys.iter().map(|k| k.as_slice()));
    raw.roundtrip(&multibulk(&all), b":0\r\n");
    let mut c = redis::Client::open(format!("redis://:secret@{}/", srv.addr))
        .unwrap()
        .get_connection()
        .unwrap();
    let pong: String = redis::cmd("PING").query(&mut c).unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn unauthenticated_bulk_over_16k_is_rejected() {
    let srv = TestServer::start_with("[auth]\nrequirepass = \"secret\"\n");
    assert_error_then_closed(
        &srv,
        b"*2\r\n$4\r\nAUTH\r\n$20000\r\n",
        b"-ERR Protocol error: unauthenticated bulk length\r\n",
    );
    let mut raw = srv.raw();
    raw.roundtrip(b"AUTH secret\r\n", b"+OK\r\n");
    let value = vec![b'v'; 20_000];
    raw.roundtrip(&multibulk(&[b"SET", b"k", &value]), b"+OK\r\n");
}

// ---------------------------------------------------------------------------------------------
// Huge declared sizes and the query buffer limit
// ---------------------------------------------------------------------------------------------

#[test]
fn huge_declared_bulk_without_data_neither_allocates_nor_blocks_others() {
    let srv = TestServer::start();
    let before = rss();
    let mut hogs: Vec<Raw> = (0..8).map(|_| srv.raw()).collect();
    for h in &mut hogs {
        h.send(b"*2\r\n$4\r\nECHO\r\n$536870912\r\n");
        h.send(&[b'x'; 1024]);
    }
    // The server waits for the rest: no reply, no close.
    assert!(hogs[0].nothing_arrives(Duration::from_millis(200)));
    assert_server_serves(&srv);
    let grown = rss().saturating_sub(before);
    assert!(
        grown < 256 * 1024 * 1024,
        "8 declared 512 MiB bulks grew RSS by {grown} bytes"
    );
    // Dropping the connections mid-request is fine.
    drop(hogs);
    assert_server_serves(&srv);
}

#[test]
fn query_buffer_over_client_query_buffer_limit_closes_without_reply() {
    // 1mb is the smallest value Redis (and tenantkv) accept for client-query-buffer-limit.
    let srv = TestServer::start_with("[limits]\nclient_query_buffer_limit = \"1mb\"\n");
    let mut raw = srv.raw();
    let value = vec![b'x'; 2 * 1024 * 1024];
    // The server may close while we are still writing: ignore write errors.
    let _ = raw.stream().write_all(&multibulk(&[b"SET", b"k", &value]));
    let got = raw.read_all();
    assert!(
        got.is_empty(),
        "no reply: {:?}",
        String::from_utf8_lossy(&got)
    );
    assert_server_serves(&srv);
    let mut c = srv.client();
    let exists: i64 = redis::cmd("EXISTS").arg("k").query(&mut c).unwrap();
    assert_eq!(exists, 0, "the request was never executed");
}

#[test]
fn query_buffer_under_client_query_buffer_limit_is_served() {
    let srv = TestServer::start_with("[limits]\nclient_query_buffer_limit = \"1mb\"\n");
    let mut raw = srv.raw();
    let value = vec![b'x'; 900 * 1024];
    raw.send(&multibulk(&[b"SET", b"k", &value]));
    assert_eq!(raw.read_line(), b"+OK\r\n");
    raw.roundtrip(b"STRLEN k\r\n", format!(":{}\r\n", 900 * 1024).as_bytes());
}

#[test]
fn client_query_buffer_limit_below_1mb_is_refused_by_config_set() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(
        b"CONFIG SET client-query-buffer-limit 1kb\r\n",
        b"-ERR CONFIG SET failed (possibly related to argument 'client-query-buffer-limit') - argument must be between 1048576 and 9223372036854775807 inclusive\r\n",
    );
    raw.roundtrip(
        b"CONFIG SET proto-max-bulk-len 1kb\r\n",
        b"-ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive\r\n",
    );
}
