//! COMMAND and its subcommands against the real server: COUNT, LIST (with FILTERBY), INFO
//! (arity, flags, legacy key range, ACL categories, tips, key specs, subcommands), DOCS,
//! GETKEYS, GETKEYSANDFLAGS and HELP.
//!
//! Expected replies are Redis 7.2's (checked against a real `redis-server`); byte-exact
//! shapes go through raw sockets, structure through the `redis` crate in RESP2 and RESP3.
mod common;

use common::{assert_err_exact, TestServer};
use redis::Value;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A string-ish value (bulk, simple or verbatim string) as text.
fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).unwrap(),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".into(),
        Value::VerbatimString { text, .. } => text.clone(),
        other => panic!("not a string: {other:?}"),
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        other => panic!("not an integer: {other:?}"),
    }
}

/// Elements of an array or set.
fn items(v: &Value) -> &[Value] {
    match v {
        Value::Array(a) | Value::Set(a) => a,
        other => panic!("not an array or set: {other:?}"),
    }
}

/// The strings of an array or set, in reply order.
fn strings(v: &Value) -> Vec<String> {
    items(v).iter().map(text).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Key/value pairs of a RESP3 map or a RESP2 flat array.
fn pairs(v: &Value) -> Vec<(String, &Value)> {
    match v {
        Value::Map(m) => m.iter().map(|(k, v)| (text(k), v)).collect(),
        Value::Array(a) => {
            assert_eq!(a.len() % 2, 0, "flat map of odd length: {a:?}");
            a.chunks(2).map(|p| (text(&p[0]), &p[1])).collect()
        }
        other => panic!("not a map: {other:?}"),
    }
}

fn get<'a>(map: &'a Value, key: &str) -> &'a Value {
    pairs(map)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {key:?} in {map:?}"))
}

fn keys_of(map: &Value) -> Vec<String> {
    pairs(map).into_iter().map(|(k, _)| k).collect()
}

fn command_info(con: &mut redis::Connection, names: &[&str]) -> Vec<Value> {
    let v: Value = redis::cmd("COMMAND")
        .arg("INFO")
        .arg(names)
        .query(con)
        .unwrap();
    items(&v).to_vec()
}

fn one_info(con: &mut redis::Connection, name: &str) -> Vec<Value> {
    let all = command_info(con, &[name]);
    assert_eq!(all.len(), 1);
    items(&all[0]).to_vec()
}

fn command_list(con: &mut redis::Connection, args: &[&str]) -> Vec<String> {
    redis::cmd("COMMAND")
        .arg("LIST")
        .arg(args)
        .query(con)
        .unwrap()
}

fn getkeys(con: &mut redis::Connection, cmd: &[&str]) -> Vec<String> {
    redis::cmd("COMMAND")
        .arg("GETKEYS")
        .arg(cmd)
        .query(con)
        .unwrap()
}

/// GETKEYSANDFLAGS as (key, flags) pairs.
fn getkeysandflags(con: &mut redis::Connection, cmd: &[&str]) -> Vec<(String, Vec<String>)> {
    let v: Value = redis::cmd("COMMAND")
        .arg("GETKEYSANDFLAGS")
        .arg(cmd)
        .query(con)
        .unwrap();
    items(&v)
        .iter()
        .map(|e| {
            let e = items(e);
            assert_eq!(e.len(), 2);
            (text(&e[0]), strings(&e[1]))
        })
        .collect()
}

/// Checks one key spec: flags, `index` begin search and `range` find keys.
fn assert_index_range_spec(
    spec: &Value,
    flags: &[&str],
    index: i64,
    lastkey: i64,
    keystep: i64,
    limit: i64,
) {
    assert_eq!(strings(get(spec, "flags")), flags, "{spec:?}");
    let begin = get(spec, "begin_search");
    assert_eq!(text(get(begin, "type")), "index");
    assert_eq!(keys_of(get(begin, "spec")), ["index"]);
    assert_eq!(int(get(get(begin, "spec"), "index")), index);
    let find = get(spec, "find_keys");
    assert_eq!(text(get(find, "type")), "range");
    let fs = get(find, "spec");
    assert_eq!(keys_of(fs), ["lastkey", "keystep", "limit"]);
    assert_eq!(int(get(fs, "lastkey")), lastkey);
    assert_eq!(int(get(fs, "keystep")), keystep);
    assert_eq!(int(get(fs, "limit")), limit);
}

// ---------------------------------------------------------------------------------------------
// COMMAND / COMMAND COUNT / COMMAND LIST
// ---------------------------------------------------------------------------------------------

#[test]
fn command_count_equals_command_list_and_command_lengths() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let count: i64 = redis::cmd("COMMAND").arg("COUNT").query(&mut c).unwrap();
    let list = command_list(&mut c, &[]);
    let all: Value = redis::cmd("COMMAND").query(&mut c).unwrap();
    assert!(count > 50, "{count}");
    // COMMAND COUNT counts top-level commands; COMMAND LIST names subcommands too.
    let top = list.iter().filter(|n| !n.contains('|')).count();
    assert_eq!(top as i64, count);
    assert_eq!(items(&all).len() as i64, count);
    let info_all: Value = redis::cmd("COMMAND").arg("INFO").query(&mut c).unwrap();
    assert_eq!(items(&info_all).len() as i64, count);
}

#[test]
fn command_list_has_every_name_once() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let list = command_list(&mut c, &[]);
    let mut dedup = list.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), list.len(), "duplicates in {list:?}");
    for name in [
        "get", "set", "ping", "echo", "hello", "auth", "select", "quit", "reset", "client",
        "config", "info", "command", "dbsize", "flushdb", "flushall", "time", "memory", "shutdown",
    ] {
        assert!(list.iter().any(|n| n == name), "{name} missing");
    }
    // Subcommands are listed too, by full name, as Redis 7's `commandListWithoutFilter` does.
    for name in ["client|list", "config|get", "object|encoding"] {
        assert!(list.iter().any(|n| n == name), "{name} missing");
    }
    // COMMAND's entries are the same top-level commands.
    let all: Value = redis::cmd("COMMAND").query(&mut c).unwrap();
    let names = sorted(items(&all).iter().map(|e| text(&items(e)[0])).collect());
    let top: Vec<String> = list.into_iter().filter(|n| !n.contains('|')).collect();
    assert_eq!(names, sorted(top));
    for e in items(&all) {
        assert_eq!(items(e).len(), 10, "{e:?}");
    }
}

#[test]
fn command_list_filterby_pattern_includes_subcommands() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let clients = command_list(&mut c, &["FILTERBY", "PATTERN", "client*"]);
    for name in [
        "client",
        "client|id",
        "client|list",
        "client|kill",
        "client|setname",
        "client|getname",
        "client|info",
        "client|reply",
        "client|setinfo",
        "client|help",
    ] {
        assert!(clients.iter().any(|n| n == name), "{name}: {clients:?}");
    }
    assert!(clients.iter().all(|n| n.starts_with("client")));
    assert_eq!(
        command_list(&mut c, &["FILTERBY", "PATTERN", "g?t"]),
        ["get"]
    );
    assert_eq!(
        command_list(&mut c, &["FILTERBY", "PATTERN", "nosuch*"]),
        Vec::<String>::new()
    );
}

#[test]
fn command_list_filterby_aclcat() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let conn = command_list(&mut c, &["FILTERBY", "ACLCAT", "connection"]);
    for name in [
        "ping",
        "echo",
        "hello",
        "auth",
        "select",
        "quit",
        "reset",
        "client|list",
        "client|id",
        "command|count",
    ] {
        assert!(conn.iter().any(|n| n == name), "{name}: {conn:?}");
    }
    assert!(!conn.iter().any(|n| n == "get"));
    let strings = command_list(&mut c, &["FILTERBY", "ACLCAT", "STRING"]);
    for name in ["get", "set", "mset", "incr", "append"] {
        assert!(strings.iter().any(|n| n == name), "{name}: {strings:?}");
    }
    assert!(!strings.iter().any(|n| n == "ping"));
    assert_eq!(
        command_list(&mut c, &["FILTERBY", "ACLCAT", "nosuch"]),
        Vec::<String>::new()
    );
    assert_eq!(
        command_list(&mut c, &["FILTERBY", "MODULE", "foo"]),
        Vec::<String>::new()
    );
}

#[test]
fn command_list_syntax_errors() {
    let srv = TestServer::start();
    let mut c = srv.client();
    for args in [
        vec!["foo"],
        vec!["FILTERBY", "foo", "x"],
        vec!["FILTERBY", "PATTERN"],
        vec!["FILTERBY", "PATTERN", "a", "b"],
    ] {
        assert_err_exact(
            &mut c,
            redis::cmd("COMMAND").arg("LIST").arg(&args),
            "ERR syntax error",
        );
    }
}

#[test]
fn command_count_arity_and_unknown_subcommand() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(
        b"COMMAND COUNT x\r\n",
        b"-ERR wrong number of arguments for 'command|count' command\r\n",
    );
    raw.roundtrip(
        b"COMMAND foo\r\n",
        b"-ERR unknown subcommand 'foo'. Try COMMAND HELP.\r\n",
    );
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

// ---------------------------------------------------------------------------------------------
// COMMAND INFO
// ---------------------------------------------------------------------------------------------

#[test]
fn command_info_get_structure() {
    let srv = TestServer::start();
    let mut c = srv.client_resp3();
    let e = one_info(&mut c, "get");
    assert_eq!(e.len(), 10);
    assert_eq!(text(&e[0]), "get");
    assert_eq!(int(&e[1]), 2);
    assert_eq!(sorted(strings(&e[2])), ["fast", "readonly"]);
    assert_eq!((int(&e[3]), int(&e[4]), int(&e[5])), (1, 1, 1));
    assert_eq!(sorted(strings(&e[6])), ["@fast", "@read", "@string"]);
    assert!(items(&e[7]).is_empty(), "no tips");
    let specs = items(&e[8]);
    assert_eq!(specs.len(), 1);
    assert_eq!(keys_of(&specs[0]), ["flags", "begin_search", "find_keys"]);
    assert_index_range_spec(&specs[0], &["RO", "access"], 1, 0, 1, 0);
    assert!(items(&e[9]).is_empty(), "no subcommands");
}

#[test]
fn command_info_get_exact_resp2_bytes() {
    // Byte for byte what Redis 7.2 sends, including the order of flags and ACL categories.
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(
        b"COMMAND INFO get\r\n",
        b"*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n",
    );
}

#[test]
fn command_info_set_structure() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let e = one_info(&mut c, "set");
    assert_eq!(text(&e[0]), "set");
    assert_eq!(int(&e[1]), -3);
    assert_eq!(sorted(strings(&e[2])), ["denyoom", "write"]);
    assert_eq!((int(&e[3]), int(&e[4]), int(&e[5])), (1, 1, 1));
    assert_eq!(sorted(strings(&e[6])), ["@slow", "@string", "@write"]);
    let specs = items(&e[8]);
    assert_eq!(specs.len(), 1);
    assert_index_range_spec(
        &specs[0],
        &["RW", "access", "update", "variable_flags"],
        1,
        0,
        1,
        0,
    );
}

#[test]
fn command_info_set_key_spec_has_notes() {
    // Redis documents why SET's key spec is RW+access: a `notes` entry first in the map.
    let srv = TestServer::start();
    let mut c = srv.client();
    let e = one_info(&mut c, "set");
    let spec = &items(&e[8])[0];
    assert_eq!(
        keys_of(spec),
        ["notes", "flags", "begin_search", "find_keys"]
    );
    assert_eq!(
        text(get(spec, "notes")),
        "RW and ACCESS due to the optional `GET` argument"
    );
}

#[test]
fn command_info_mset_structure() {
    let srv = TestServer::start();
    let mut c = srv.client_resp3();
    let e = one_info(&mut c, "mset");
    assert_eq!(text(&e[0]), "mset");
    assert_eq!(int(&e[1]), -3);
    assert_eq!(sorted(strings(&e[2])), ["denyoom", "write"]);
    assert_eq!((int(&e[3]), int(&e[4]), int(&e[5])), (1, -1, 2));
    assert_eq!(sorted(strings(&e[6])), ["@slow", "@string", "@write"]);
    let specs = items(&e[8]);
    assert_eq!(specs.len(), 1);
    assert_index_range_spec(&specs[0], &["OW", "update"], 1, -1, 2, 0);
}

#[test]
fn command_info_mset_has_cluster_tips() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let e = one_info(&mut c, "mset");
    assert_eq!(
        strings(&e[7]),
        [
            "request_policy:multi_shard",
            "response_policy:all_succeeded"
        ]
    );
}

#[test]
fn command_info_rename_has_two_key_specs() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let e = one_info(&mut c, "rename");
    assert_eq!(int(&e[1]), 3);
    assert_eq!((int(&e[3]), int(&e[4]), int(&e[5])), (1, 2, 1));
    let specs = items(&e[8]);
    assert_eq!(specs.len(), 2);
    assert_index_range_spec(&specs[0], &["RW", "access", "delete"], 1, 0, 1, 0);
    assert_index_range_spec(&specs[1], &["OW", "update"], 2, 0, 1, 0);
}

#[test]
fn command_info_client_list_subcommand() {
    let srv = TestServer::start();
    let mut c = srv.client_resp3();
    let e = one_info(&mut c, "client|list");
    assert_eq!(text(&e[0]), "client|list");
    assert_eq!(int(&e[1]), -2);
    assert_eq!(
        sorted(strings(&e[2])),
        ["admin", "loading", "noscript", "stale"]
    );
    assert_eq!((int(&e[3]), int(&e[4]), int(&e[5])), (0, 0, 0));
    assert_eq!(
        sorted(strings(&e[6])),
        ["@admin", "@connection", "@dangerous", "@slow"]
    );
    assert!(items(&e[8]).is_empty());
    assert!(items(&e[9]).is_empty());
    // Case-insensitive lookup of both parts.
    let upper = one_info(&mut c, "CLIENT|LIST");
    assert_eq!(text(&upper[0]), "client|list");
}

#[test]
fn command_info_client_list_has_nondeterministic_output_tip() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let e = one_info(&mut c, "client|list");
    assert_eq!(strings(&e[7]), ["nondeterministic_output"]);
}

#[test]
fn command_info_container_lists_its_subcommands() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let e = one_info(&mut c, "client");
    assert_eq!(text(&e[0]), "client");
    assert_eq!(int(&e[1]), -2);
    assert_eq!((int(&e[3]), int(&e[4]), int(&e[5])), (0, 0, 0));
    let subs: Vec<String> = items(&e[9])
        .iter()
        .map(|s| {
            assert_eq!(items(s).len(), 10);
            text(&items(s)[0])
        })
        .collect();
    for name in ["client|id", "client|list", "client|kill", "client|setinfo"] {
        assert!(subs.iter().any(|s| s == name), "{name}: {subs:?}");
    }
}

#[test]
fn command_info_is_case_insensitive() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let e = one_info(&mut c, "GeT");
    assert_eq!(text(&e[0]), "get");
}

#[test]
fn command_info_unknown_name_is_nil() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let v = command_info(&mut c, &["nosuch", "get", "client|nosuch"]);
    assert_eq!(v.len(), 3);
    assert_eq!(v[0], Value::Nil);
    assert_eq!(text(&items(&v[1])[0]), "get");
    assert_eq!(v[2], Value::Nil);
}

#[test]
fn command_info_unknown_name_is_null_bulk_in_resp2() {
    // Redis uses addReplyNull: `$-1` in RESP2 (not the null array `*-1`), `_` in RESP3.
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"COMMAND INFO nosuch\r\n", b"*1\r\n$-1\r\n");
}

#[test]
fn command_info_unknown_name_is_null_in_resp3() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    // Switch to RESP3 and skip HELLO's reply (the connection tests check its exact bytes).
    raw.request(b"HELLO 3\r\n");
    raw.roundtrip(b"COMMAND INFO nosuch\r\n", b"*1\r\n_\r\n");
}

// ---------------------------------------------------------------------------------------------
// COMMAND DOCS
// ---------------------------------------------------------------------------------------------

#[test]
fn command_docs_get() {
    let srv = TestServer::start();
    let mut c = srv.client_resp3();
    let v: Value = redis::cmd("COMMAND")
        .arg("DOCS")
        .arg("get")
        .query(&mut c)
        .unwrap();
    assert_eq!(keys_of(&v), ["get"]);
    let doc = get(&v, "get");
    assert_eq!(
        text(get(doc, "summary")),
        "Returns the string value of a key."
    );
    assert_eq!(text(get(doc, "since")), "1.0.0");
    assert_eq!(text(get(doc, "group")), "string");
    assert_eq!(text(get(doc, "complexity")), "O(1)");
    // RESP2: the same map flattened.
    let mut c2 = srv.client();
    let flat: Value = redis::cmd("COMMAND")
        .arg("DOCS")
        .arg("GET")
        .query(&mut c2)
        .unwrap();
    assert!(matches!(flat, Value::Array(_)), "{flat:?}");
    assert_eq!(keys_of(&flat), ["get"]);
    assert_eq!(text(get(get(&flat, "get"), "since")), "1.0.0");
}

#[test]
fn command_docs_get_describes_arguments() {
    let srv = TestServer::start();
    let mut c = srv.client_resp3();
    let v: Value = redis::cmd("COMMAND")
        .arg("DOCS")
        .arg("get")
        .query(&mut c)
        .unwrap();
    let doc = get(&v, "get");
    assert_eq!(
        keys_of(doc),
        ["summary", "since", "group", "complexity", "arguments"]
    );
    let args = items(get(doc, "arguments"));
    assert_eq!(args.len(), 1);
    assert_eq!(text(get(&args[0], "name")), "key");
    assert_eq!(text(get(&args[0], "type")), "key");
    assert_eq!(int(get(&args[0], "key_spec_index")), 0);
}

#[test]
fn command_docs_container_has_subcommand_docs() {
    let srv = TestServer::start();
    let mut c = srv.client_resp3();
    let v: Value = redis::cmd("COMMAND")
        .arg("DOCS")
        .arg("client")
        .query(&mut c)
        .unwrap();
    let doc = get(&v, "client");
    assert_eq!(text(get(doc, "complexity")), "Depends on subcommand.");
    let subs = get(doc, "subcommands");
    let names = keys_of(subs);
    assert!(names.iter().any(|n| n == "client|list"), "{names:?}");
    assert_eq!(text(get(get(subs, "client|id"), "since")), "5.0.0");
}

#[test]
fn command_docs_unknown_names_are_skipped() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"COMMAND DOCS nosuch\r\n", b"*0\r\n");
    let mut c = srv.client();
    let v: Value = redis::cmd("COMMAND")
        .arg("DOCS")
        .arg("nosuch")
        .arg("echo")
        .query(&mut c)
        .unwrap();
    assert_eq!(keys_of(&v), ["echo"]);
}

#[test]
fn command_docs_without_names_documents_every_command() {
    let srv = TestServer::start();
    let mut c = srv.client_resp3();
    let count: i64 = redis::cmd("COMMAND").arg("COUNT").query(&mut c).unwrap();
    let v: Value = redis::cmd("COMMAND").arg("DOCS").query(&mut c).unwrap();
    assert_eq!(pairs(&v).len() as i64, count);
}

// ---------------------------------------------------------------------------------------------
// COMMAND GETKEYS / GETKEYSANDFLAGS
// ---------------------------------------------------------------------------------------------

#[test]
fn command_getkeys_extracts_keys() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(getkeys(&mut c, &["mset", "a", "1", "b", "2"]), ["a", "b"]);
    assert_eq!(getkeys(&mut c, &["rename", "a", "b"]), ["a", "b"]);
    assert_eq!(getkeys(&mut c, &["GET", "k"]), ["k"]);
    assert_eq!(getkeys(&mut c, &["set", "k", "v", "EX", "10"]), ["k"]);
    assert_eq!(getkeys(&mut c, &["del", "x", "y", "z"]), ["x", "y", "z"]);
    assert_eq!(getkeys(&mut c, &["memory", "usage", "k"]), ["k"]);
}

#[test]
fn command_getkeys_errors() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_err_exact(
        &mut c,
        redis::cmd("COMMAND").arg("GETKEYS").arg("foo").arg("a"),
        "ERR Invalid command specified",
    );
    assert_err_exact(
        &mut c,
        redis::cmd("COMMAND")
            .arg("GETKEYS")
            .arg("client")
            .arg("foo"),
        "ERR Invalid command specified",
    );
    assert_err_exact(
        &mut c,
        redis::cmd("COMMAND")
            .arg("GETKEYS")
            .arg("get")
            .arg("a")
            .arg("b"),
        "ERR Invalid number of arguments specified for command",
    );
    assert_err_exact(
        &mut c,
        redis::cmd("COMMAND")
            .arg("GETKEYS")
            .arg("client")
            .arg("list"),
        "ERR The command has no key arguments",
    );
    assert_err_exact(
        &mut c,
        redis::cmd("COMMAND")
            .arg("GETKEYS")
            .arg("config")
            .arg("get")
            .arg("x"),
        "ERR The command has no key arguments",
    );
    assert_err_exact(
        &mut c,
        redis::cmd("COMMAND").arg("GETKEYS").arg("set").arg("k"),
        "ERR Invalid number of arguments specified for command",
    );
    assert_err_exact(
        &mut c,
        redis::cmd("COMMAND").arg("GETKEYS"),
        "ERR wrong number of arguments for 'command|getkeys' command",
    );
}

#[test]
fn command_getkeys_checks_for_keys_before_arity() {
    // Redis's getKeysSubcommandImpl: unknown command, then "no key arguments", then arity.
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_err_exact(
        &mut c,
        redis::cmd("COMMAND")
            .arg("GETKEYS")
            .arg("echo")
            .arg("a")
            .arg("b"),
        "ERR The command has no key arguments",
    );
    assert_eq!(getkeys(&mut c, &["mset", "a", "1", "b"]), ["a", "b"]);
}

#[test]
fn command_getkeys_needs_a_command_with_arguments() {
    // COMMAND GETKEYS and GETKEYSANDFLAGS have arity -3 since Redis 7.2 (7.0 had -4): a bare
    // command name passes, and the named command's own arity refuses it.
    let srv = TestServer::start();
    let mut c = srv.client();
    for sub in ["getkeys", "getkeysandflags"] {
        assert_err_exact(
            &mut c,
            redis::cmd("COMMAND").arg(sub).arg("get"),
            "ERR Invalid number of arguments specified for command",
        );
        assert_err_exact(
            &mut c,
            redis::cmd("COMMAND").arg(sub),
            &format!("ERR wrong number of arguments for 'command|{sub}' command"),
        );
        let e = one_info(&mut c, &format!("command|{sub}"));
        assert_eq!(int(&e[1]), -3, "command|{sub} arity");
        // Keys past the arguments (Redis's invalid key spec): a numkeys too large or zero.
        for args in [
            &["zunionstore", "dst", "2", "a"][..],
            &["zinterstore", "zz", "1443677133621497600", "asdf"],
            &["lmpop", "0", "a", "left"],
        ] {
            assert_err_exact(
                &mut c,
                redis::cmd("COMMAND").arg(sub).arg(args),
                "ERR Invalid arguments specified for command",
            );
        }
    }
}

#[test]
fn command_getkeysandflags_reports_key_spec_flags() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        getkeysandflags(&mut c, &["mset", "a", "1", "b", "2"]),
        [
            ("a".to_string(), s(&["OW", "update"])),
            ("b".to_string(), s(&["OW", "update"]))
        ]
    );
    assert_eq!(
        getkeysandflags(&mut c, &["rename", "a", "b"]),
        [
            ("a".to_string(), s(&["RW", "access", "delete"])),
            ("b".to_string(), s(&["OW", "update"]))
        ]
    );
    assert_eq!(
        getkeysandflags(&mut c, &["get", "k"]),
        [("k".to_string(), s(&["RO", "access"]))]
    );
    assert_err_exact(
        &mut c,
        redis::cmd("COMMAND")
            .arg("GETKEYSANDFLAGS")
            .arg("foo")
            .arg("x"),
        "ERR Invalid command specified",
    );
    assert_err_exact(
        &mut c,
        redis::cmd("COMMAND")
            .arg("GETKEYSANDFLAGS")
            .arg("ping")
            .arg("x"),
        "ERR The command has no key arguments",
    );
}

#[test]
fn command_getkeysandflags_resolves_set_variable_flags() {
    // SET's key spec is RW+access+update+variable_flags; Redis's getkeys procedure narrows it
    // to what this call does: OW+update without GET, RW+access+update with GET.
    let srv = TestServer::start();
    let mut c = srv.client();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        getkeysandflags(&mut c, &["set", "k", "v"]),
        [("k".to_string(), s(&["OW", "update"]))]
    );
    assert_eq!(
        getkeysandflags(&mut c, &["set", "k", "v", "GET"]),
        [("k".to_string(), s(&["RW", "access", "update"]))]
    );
}

#[test]
fn command_getkeys_resp3_keys_and_flags_set() {
    let srv = TestServer::start();
    let mut c = srv.client_resp3();
    let v: Value = redis::cmd("COMMAND")
        .arg("GETKEYSANDFLAGS")
        .arg("get")
        .arg("k")
        .query(&mut c)
        .unwrap();
    let e = items(&items(&v)[0]).to_vec();
    assert_eq!(text(&e[0]), "k");
    assert!(matches!(e[1], Value::Set(_)), "flags are a set: {:?}", e[1]);
}

// ---------------------------------------------------------------------------------------------
// COMMAND HELP
// ---------------------------------------------------------------------------------------------

#[test]
fn command_help_lists_subcommands() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let lines: Vec<String> = redis::cmd("COMMAND").arg("HELP").query(&mut c).unwrap();
    assert_eq!(
        lines[0],
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    for sub in [
        "(no subcommand)",
        "COUNT",
        "LIST",
        "INFO [<command-name> ...]",
        "DOCS [<command-name> ...]",
        "GETKEYS <full-command>",
        "GETKEYSANDFLAGS <full-command>",
        "HELP",
    ] {
        assert!(lines.iter().any(|l| l == sub), "{sub}: {lines:?}");
    }
    assert_err_exact(
        &mut c,
        redis::cmd("COMMAND").arg("HELP").arg("x"),
        "ERR wrong number of arguments for 'command|help' command",
    );
}
