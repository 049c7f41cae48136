//! COMMAND and its subcommands: everything they report is read from the command table.

use super::dispatch::Ctx;
use super::keys::{key_positions, visit_keys_checked};
use super::registry::{Entry, REGISTRY};
use super::spec::{cmd, flags, flags::*, key_flags, Begin, CommandSpec, Doc, Find, KeySpec};
use crate::protocol::{args, CmdError, Reply};
use crate::util::glob;

const G: &str = "server";
const CN: &[&str] = &["@connection"];

#[rustfmt::skip]
const COMMAND_SUBCOMMANDS: &[CommandSpec] = &[
    cmd("count", 2, LOADING | STALE, CN, &[], command_count, "Returns a count of commands.", "2.8.13", G, "O(1)"),
    cmd("info", -2, LOADING | STALE, CN, &[], command_info, "Returns information about one, multiple or all commands.", "2.8.13", G, "O(N) where N is the number of commands to look up").args("[command-name [command-name ...]]"),
    cmd("docs", -2, LOADING | STALE, CN, &[], command_docs, "Returns documentary information about one, multiple or all commands.", "7.0.0", G, "O(N) where N is the number of commands to look up").args("[command-name [command-name ...]]"),
    cmd("list", -2, LOADING | STALE, CN, &[], command_list, "Returns a list of command names.", "7.0.0", G, "O(N) where N is the total number of Redis commands").args("[FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]"),
    cmd("getkeys", -3, LOADING | STALE, CN, &[], command_getkeys, "Extracts the key names from an arbitrary command.", "2.8.13", G, "O(N) where N is the number of arguments to the command").args("command [arg [arg ...]]"),
    cmd("getkeysandflags", -3, LOADING | STALE, CN, &[], command_getkeysandflags, "Extracts the key names and access flags for an arbitrary command.", "7.0.0", G, "O(N) where N is the number of arguments to the command").args("command [arg [arg ...]]"),
    cmd("help", 2, LOADING | STALE, CN, &[], command_help, "Returns helpful text about the different subcommands.", "5.0.0", G, "O(1)"),
];

pub const COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "command",
    arity: -1,
    flags: LOADING | STALE | SENTINEL,
    acl: CN,
    keys: &[],
    subcommands: COMMAND_SUBCOMMANDS,
    handler: Some(command_all),
    doc: Doc {
        summary: "Returns detailed information about all commands.",
        since: "2.8.13",
        group: G,
        complexity: "O(N) where N is the total number of Redis commands",
    },
    tips: &["nondeterministic_output_order"],
    syntax: "",
    key_flags: None,
    writes: None,
}];

fn flag_names(bits: u32, table: &[(u32, &'static str)]) -> Vec<Reply> {
    table
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| Reply::status(n))
        .collect()
}

/// Redis's legacy (first, last, step) triple, derived from the key specs.
fn legacy_range(spec: &CommandSpec) -> (i64, i64, i64) {
    let Some(first) = spec.keys.first() else {
        return (0, 0, 0);
    };
    match (first.begin, first.find) {
        (Begin::Index(i), Find::Range { last_key, step, .. }) => {
            let mut last = if last_key < 0 { last_key } else { i + last_key };
            // Later index specs (RENAME's destination) extend the range.
            for ks in &spec.keys[1..] {
                if let (Begin::Index(j), Find::Range { last_key: 0, .. }) = (ks.begin, ks.find) {
                    if last >= 0 && j > last {
                        last = j;
                    }
                }
            }
            (i as i64, last as i64, step as i64)
        }
        _ => (0, 0, 0),
    }
}

fn movable(spec: &CommandSpec) -> bool {
    spec.keys
        .iter()
        .any(|k| matches!(k.begin, Begin::Keyword { .. }) || matches!(k.find, Find::Keynum { .. }))
}

fn key_spec_reply(ks: &KeySpec) -> Reply {
    let begin = match ks.begin {
        Begin::Index(i) => Reply::map_str(vec![
            ("type", Reply::bulk("index")),
            (
                "spec",
                Reply::map_str(vec![("index", Reply::Int(i as i64))]),
            ),
        ]),
        Begin::Keyword {
            keyword,
            start_from,
        } => Reply::map_str(vec![
            ("type", Reply::bulk("keyword")),
            (
                "spec",
                Reply::map_str(vec![
                    ("keyword", Reply::bulk(keyword)),
                    ("startfrom", Reply::Int(start_from as i64)),
                ]),
            ),
        ]),
    };
    let find = match ks.find {
        Find::Range {
            last_key,
            step,
            limit,
        } => Reply::map_str(vec![
            ("type", Reply::bulk("range")),
            (
                "spec",
                Reply::map_str(vec![
                    ("lastkey", Reply::Int(last_key as i64)),
                    ("keystep", Reply::Int(step as i64)),
                    ("limit", Reply::Int(limit as i64)),
                ]),
            ),
        ]),
        Find::Keynum {
            keynum_idx,
            first_key,
            step,
        } => Reply::map_str(vec![
            ("type", Reply::bulk("keynum")),
            (
                "spec",
                Reply::map_str(vec![
                    ("keynumidx", Reply::Int(keynum_idx as i64)),
                    ("firstkey", Reply::Int(first_key as i64)),
                    ("keystep", Reply::Int(step as i64)),
                ]),
            ),
        ]),
    };
    let mut pairs = Vec::with_capacity(4);
    if !ks.notes.is_empty() {
        pairs.push(("notes", Reply::bulk(ks.notes)));
    }
    pairs.push(("flags", Reply::Set(flag_names(ks.flags, key_flags::NAMES))));
    pairs.push(("begin_search", begin));
    pairs.push(("find_keys", find));
    Reply::map_str(pairs)
}

fn info_reply(fullname: &str, spec: &CommandSpec) -> Reply {
    let mut flags = flag_names(spec.flags, NAMES);
    if movable(spec) {
        flags.push(Reply::status("movablekeys"));
    }
    let (first, last, step) = legacy_range(spec);
    let subs = spec
        .subcommands
        .iter()
        .map(|s| info_reply(&format!("{}|{}", spec.name, s.name), s))
        .collect();
    Reply::Array(vec![
        Reply::bulk(fullname.to_string()),
        Reply::Int(spec.arity as i64),
        Reply::Set(flags),
        Reply::Int(first),
        Reply::Int(last),
        Reply::Int(step),
        Reply::Set(
            spec.acl_categories()
                .into_iter()
                .map(|c| Reply::Status(c.into()))
                .collect(),
        ),
        Reply::Array(spec.tips.iter().map(|t| Reply::status(t)).collect()),
        Reply::Array(spec.keys.iter().map(key_spec_reply).collect()),
        Reply::Array(subs),
    ])
}

fn docs_reply(spec: &CommandSpec) -> Reply {
    let d = spec.doc;
    let mut pairs = vec![
        ("summary", Reply::bulk(d.summary)),
        ("since", Reply::bulk(d.since)),
        ("group", Reply::bulk(d.group)),
        ("complexity", Reply::bulk(d.complexity)),
    ];
    let args = super::syntax::parse(spec.syntax, spec.keys.len());
    if !args.is_empty() {
        pairs.push((
            "arguments",
            Reply::Array(args.iter().map(super::syntax::reply).collect()),
        ));
    }
    if spec.is_container() {
        pairs.push((
            "subcommands",
            Reply::Map(
                spec.subcommands
                    .iter()
                    .map(|s| {
                        (
                            Reply::bulk(format!("{}|{}", spec.name, s.name)),
                            docs_reply(s),
                        )
                    })
                    .collect(),
            ),
        ));
    }
    Reply::map_str(pairs)
}

/// COMMAND
fn command_all(_ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(Reply::Array(
        REGISTRY
            .top_level()
            .map(|e| info_reply(&e.fullname, e.spec))
            .collect(),
    ))
}

/// COMMAND COUNT
fn command_count(_ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(Reply::Int(REGISTRY.top_level().count() as i64))
}

/// A command or `container|sub` name as COMMAND INFO/DOCS accept them.
fn find_entry(name: &[u8]) -> Option<&'static Entry> {
    let text = String::from_utf8_lossy(name);
    let mut parts = text.splitn(2, '|');
    let top = REGISTRY.find(parts.next()?.as_bytes())?;
    match parts.next() {
        None => Some(&REGISTRY.entries[top]),
        Some(sub) => REGISTRY
            .find_sub(top, sub.as_bytes())
            .map(|i| &REGISTRY.entries[i]),
    }
}

/// COMMAND INFO [command-name [command-name ...]]
fn command_info(_ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if a.len() == 2 {
        return command_all(_ctx, a);
    }
    Ok(Reply::Array(
        a[2..]
            .iter()
            .map(|n| find_entry(n).map_or(Reply::Nil, |e| info_reply(&e.fullname, e.spec)))
            .collect(),
    ))
}

/// COMMAND DOCS [command-name [command-name ...]]
fn command_docs(_ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let entries: Vec<&Entry> = if a.len() == 2 {
        REGISTRY.top_level().collect()
    } else {
        a[2..].iter().filter_map(|n| find_entry(n)).collect()
    };
    Ok(Reply::Map(
        entries
            .into_iter()
            .map(|e| (Reply::bulk(e.fullname.clone()), docs_reply(e.spec)))
            .collect(),
    ))
}

/// COMMAND LIST [FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]
fn command_list(_ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    enum Filter<'f> {
        All,
        Module,
        AclCat(String),
        Pattern(&'f [u8]),
    }
    let filter = match a.len() {
        2 => Filter::All,
        5 if args::is(a[2], "FILTERBY") => {
            if args::is(a[3], "MODULE") {
                Filter::Module
            } else if args::is(a[3], "ACLCAT") {
                Filter::AclCat(format!("@{}", args::text(a[4]).to_ascii_lowercase()))
            } else if args::is(a[3], "PATTERN") {
                Filter::Pattern(a[4])
            } else {
                return Err(CmdError::Syntax);
            }
        }
        _ => return Err(CmdError::Syntax),
    };
    let mut names = Vec::new();
    for e in &REGISTRY.entries {
        let keep = match &filter {
            Filter::All => true,
            Filter::Module => false,
            Filter::AclCat(c) => e.spec.acl_categories().iter().any(|x| x == c),
            Filter::Pattern(p) => glob::matches(p, e.fullname.as_bytes(), true),
        };
        if keep {
            names.push(Reply::bulk(e.fullname.clone()));
        }
    }
    Ok(Reply::Array(names))
}

/// Validates the command under COMMAND GETKEYS and returns its spec and key positions.
fn getkeys_common(a: &[&[u8]]) -> Result<(&'static CommandSpec, Vec<usize>), CmdError> {
    let target = &a[2..];
    let id = super::dispatch::resolve(target)
        .map_err(|_| CmdError::err("ERR Invalid command specified"))?;
    let spec = REGISTRY.entries[id].spec;
    // Redis's order: a command without key specs (but `not_key` ones) is refused before its
    // arity is checked.
    if spec
        .keys
        .iter()
        .all(|ks| ks.flags & key_flags::NOT_KEY != 0)
    {
        return Err(CmdError::err("ERR The command has no key arguments"));
    }
    if !spec.arity_ok(target.len()) {
        return Err(CmdError::err(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    // Redis's `getKeysFromCommandWithSpecs`: keys past the arguments (a numkeys too large,
    // or zero) make the call invalid, as does finding none at all, unless the command's keys
    // are optional.
    let mut keys = Vec::new();
    let complete = visit_keys_checked(spec, target, |i| keys.push(i));
    if !complete || (keys.is_empty() && !spec.has(flags::NO_MANDATORY_KEYS)) {
        return Err(CmdError::err("ERR Invalid arguments specified for command"));
    }
    Ok((spec, keys))
}

/// COMMAND GETKEYS command [arg [arg ...]]
fn command_getkeys(_ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (_, keys) = getkeys_common(a)?;
    Ok(Reply::Array(
        keys.into_iter()
            .map(|i| Reply::bulk_copy(a[2 + i]))
            .collect(),
    ))
}

/// COMMAND GETKEYSANDFLAGS command [arg [arg ...]]
fn command_getkeysandflags(_ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (spec, _) = getkeys_common(a)?;
    let target = &a[2..];
    let mut out = Vec::new();
    for (n, ks) in spec.keys.iter().enumerate() {
        let one = CommandSpec {
            keys: std::slice::from_ref(ks),
            ..*spec
        };
        // Variable-flag specs report what this call really does (SET with or without GET).
        let flags = match spec.key_flags {
            Some(f) if ks.flags & key_flags::VARIABLE_FLAGS != 0 => f(target, n),
            _ => ks.flags,
        };
        for i in key_positions(&one, target) {
            out.push(Reply::Array(vec![
                Reply::bulk_copy(target[i]),
                Reply::Set(flag_names(flags, key_flags::NAMES)),
            ]));
        }
    }
    Ok(Reply::Array(out))
}

/// COMMAND HELP
fn command_help(_ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(super::help_reply(
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    ))
}
