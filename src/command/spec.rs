//! The shape of a command table row. Every command is declared once, in its family's table;
//! the dispatcher, tenancy key resolution, roles, `COMMAND` and scripting all read these rows.

use super::dispatch::Ctx;
use crate::protocol::{CmdError, Reply};

/// A handler: parse arguments, run the storage operation, build the reply. `args[0]` is the
/// command name (and `args[1]` the subcommand for container commands), as in Redis's argv.
pub type Handler = fn(&mut Ctx<'_>, &[&[u8]]) -> Result<Reply, CmdError>;

/// Command flags, with the names `COMMAND INFO` reports.
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const NO_MULTI: u32 = 1 << 14;
    pub const ALLOW_BUSY: u32 = 1 << 15;
    pub const SENTINEL: u32 = 1 << 16;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 17;
    /// tenantkv: an `ADMIN` command a tenant's own admin role may run on its own tenant
    /// (TENANT.INFO, TENANT.TOKEN.*). Not reported by COMMAND INFO.
    pub const TENANT_ADMIN: u32 = 1 << 24;
    /// tenantkv: an `ADMIN` command any tenant connection may run because its handler scopes
    /// it to the caller's tenant (CLIENT LIST, CLIENT KILL). Not reported by COMMAND INFO.
    pub const TENANT_SCOPED: u32 = 1 << 25;
    /// tenantkv: not charged to a tenant's ops/s limit: what clients send while connecting
    /// (SELECT, CLIENT SETNAME/SETINFO) and PING, so a rate-limited client can still connect
    /// and check liveness. `no_auth` commands (AUTH, HELLO, QUIT, RESET) are never charged.
    pub const RATE_EXEMPT: u32 = 1 << 26;
    /// tenantkv: allowed on a subscribed RESP2 connection ((P)(UN)SUBSCRIBE, PING, QUIT, RESET).
    pub const SUBSCRIBED_OK: u32 = 1 << 27;
    /// tenantkv: changes who the connection is (AUTH, HELLO, TENANT.USE, TENANT.EXIT). Refused
    /// inside MULTI: a transaction runs as one identity, in the data it was queued against.
    pub const REBINDS: u32 = 1 << 28;
    /// tenantkv: checked by the memory and key quotas as a `denyoom` command is, though Redis
    /// does not flag it so (SMOVE can make its destination set).
    pub const GROWS: u32 = 1 << 29;
    /// tenantkv: gives an existing key a new name (RENAME, RENAMENX): it adds no key, but the
    /// new name's bytes are checked against the memory quotas.
    pub const RENAMES: u32 = 1 << 30;
    /// tenantkv: a `denyoom` command whose growth its arguments do not show (COPY's value and
    /// target database, RESTORE's decoded value): its handler admits it by the quotas once it
    /// knows (`quota::admit_growth`), and the dispatch point's estimate is skipped, so it can
    /// never refuse what the command would not add.
    pub const ADMITS_ITSELF: u32 = 1 << 31;

    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
    ];
}

/// Key-spec flags (Redis's `CMD_KEY_*`), reported by `COMMAND INFO`.
pub mod key_flags {
    pub const RO: u32 = 1 << 0;
    pub const RW: u32 = 1 << 1;
    pub const OW: u32 = 1 << 2;
    pub const RM: u32 = 1 << 3;
    pub const ACCESS: u32 = 1 << 4;
    pub const UPDATE: u32 = 1 << 5;
    pub const INSERT: u32 = 1 << 6;
    pub const DELETE: u32 = 1 << 7;
    pub const NOT_KEY: u32 = 1 << 8;
    pub const INCOMPLETE: u32 = 1 << 9;
    pub const VARIABLE_FLAGS: u32 = 1 << 10;

    pub const NAMES: &[(u32, &str)] = &[
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];
}

/// Where the search for a spec's first key begins.
#[derive(Debug, Clone, Copy)]
pub enum Begin {
    /// At a fixed argument index (1 = first argument after the name).
    Index(i32),
    /// After the first occurrence of `keyword`, searching from `start_from` (negative: from the
    /// end, backwards).
    Keyword {
        keyword: &'static str,
        start_from: i32,
    },
}

/// How to find the keys once the first is located.
#[derive(Debug, Clone, Copy)]
pub enum Find {
    /// Keys from the first to `last_key` (relative; negative counts from the end) every `step`
    /// arguments; with `limit` > 1, only 1/limit of the remaining arguments.
    Range {
        last_key: i32,
        step: i32,
        limit: i32,
    },
    /// The number of keys is an argument at `keynum_idx` (relative to the begin); keys start
    /// `first_key` after it.
    Keynum {
        keynum_idx: i32,
        first_key: i32,
        step: i32,
    },
}

#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    pub flags: u32,
    pub begin: Begin,
    pub find: Find,
    /// Redis's `notes` for the spec (empty: none).
    pub notes: &'static str,
}

impl KeySpec {
    /// One key at `index`.
    pub const fn single(index: i32, flags: u32) -> KeySpec {
        KeySpec {
            flags,
            begin: Begin::Index(index),
            find: Find::Range {
                last_key: 0,
                step: 1,
                limit: 0,
            },
            notes: "",
        }
    }

    pub const fn notes(mut self, notes: &'static str) -> KeySpec {
        self.notes = notes;
        self
    }

    /// Keys from `index` to `last_key` (negative: from the end) every `step` arguments.
    /// Keys counted by the argument at `index`, the keys following it (EVAL, LMPOP, ZUNION...).
    pub const fn keynum(index: i32, flags: u32) -> KeySpec {
        KeySpec {
            flags,
            begin: Begin::Index(index),
            find: Find::Keynum {
                keynum_idx: 0,
                first_key: 1,
                step: 1,
            },
            notes: "",
        }
    }

    pub const fn range(index: i32, last_key: i32, step: i32, flags: u32) -> KeySpec {
        KeySpec {
            flags,
            begin: Begin::Index(index),
            find: Find::Range {
                last_key,
                step,
                limit: 0,
            },
            notes: "",
        }
    }
}

/// Redis's ACL category table order.
pub const ACL_CATEGORY_ORDER: &[&str] = &[
    "@keyspace",
    "@read",
    "@write",
    "@set",
    "@sortedset",
    "@list",
    "@hash",
    "@string",
    "@bitmap",
    "@hyperloglog",
    "@geo",
    "@stream",
    "@pubsub",
    "@admin",
    "@fast",
    "@slow",
    "@blocking",
    "@dangerous",
    "@connection",
    "@transaction",
    "@scripting",
];

/// Documentation reported by `COMMAND DOCS`.
#[derive(Debug, Clone, Copy)]
pub struct Doc {
    pub summary: &'static str,
    pub since: &'static str,
    pub group: &'static str,
    pub complexity: &'static str,
}

/// One command (or subcommand) table row.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    /// Lowercase name (for a subcommand, just the subcommand: `list` under `client`).
    pub name: &'static str,
    /// Redis convention: `n` exactly n arguments including the name, `-n` at least n.
    pub arity: i32,
    pub flags: u32,
    /// ACL categories beyond those implied by flags (e.g. `@string`).
    pub acl: &'static [&'static str],
    pub keys: &'static [KeySpec],
    /// Container commands (CLIENT, CONFIG, ...) dispatch on `args[1]` to these.
    pub subcommands: &'static [CommandSpec],
    pub handler: Option<Handler>,
    pub doc: Doc,
    /// Redis's command tips (`nondeterministic_output`, `request_policy:...`).
    pub tips: &'static [&'static str],
    /// The arguments after the name, in Redis's docs syntax (`key [NX | XX]`); `COMMAND DOCS`
    /// derives its `arguments` from it (see `syntax`).
    pub syntax: &'static str,
    /// For key specs flagged `VARIABLE_FLAGS`: the flags a given call really has
    /// (`COMMAND GETKEYSANDFLAGS`), from the arguments and the spec's index.
    pub key_flags: Option<KeyFlagsFn>,
    /// For writes whose arguments under-state what they store (SETRANGE pads up to its
    /// offset): the bytes a call may write, which memory quotas reserve instead of the
    /// argument bytes when larger.
    pub writes: Option<WritesFn>,
}

/// See [`CommandSpec::key_flags`].
pub type KeyFlagsFn = fn(&[&[u8]], usize) -> u32;

/// See [`CommandSpec::writes`].
pub type WritesFn = fn(&[&[u8]]) -> usize;

impl CommandSpec {
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    pub fn is_container(&self) -> bool {
        !self.subcommands.is_empty()
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a >= 0 && argc == a as usize) || (a < 0 && argc >= (-a) as usize)
    }

    /// ACL categories: the declared ones plus those Redis derives from flags, in the order of
    /// Redis's category table (which is the order `COMMAND INFO` lists them in).
    pub fn acl_categories(&self) -> Vec<&'static str> {
        use flags::*;
        let mut cats: Vec<&'static str> = self.acl.to_vec();
        let derived = [
            (WRITE, "@write"),
            (READONLY, "@read"),
            (ADMIN, "@admin"),
            (PUBSUB, "@pubsub"),
            (BLOCKING, "@blocking"),
        ];
        for (f, c) in derived {
            if self.has(f) && !cats.contains(&c) {
                cats.push(c);
            }
        }
        if self.has(ADMIN) && !cats.contains(&"@dangerous") {
            cats.push("@dangerous");
        }
        cats.push(if self.has(FAST) { "@fast" } else { "@slow" });
        cats.sort_by_key(|c| ACL_CATEGORY_ORDER.iter().position(|o| o == c));
        cats
    }

    pub const fn args(mut self, syntax: &'static str) -> CommandSpec {
        self.syntax = syntax;
        self
    }

    pub const fn tips(mut self, tips: &'static [&'static str]) -> CommandSpec {
        self.tips = tips;
        self
    }

    pub const fn key_flags(mut self, f: KeyFlagsFn) -> CommandSpec {
        self.key_flags = Some(f);
        self
    }

    pub const fn writes(mut self, f: WritesFn) -> CommandSpec {
        self.writes = Some(f);
        self
    }
}

/// Builds a table row; families use this so a row fits on a few lines.
#[allow(clippy::too_many_arguments)]
pub const fn cmd(
    name: &'static str,
    arity: i32,
    flags: u32,
    acl: &'static [&'static str],
    keys: &'static [KeySpec],
    handler: Handler,
    summary: &'static str,
    since: &'static str,
    group: &'static str,
    complexity: &'static str,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        acl,
        keys,
        subcommands: &[],
        handler: Some(handler),
        doc: Doc {
            summary,
            since,
            group,
            complexity,
        },
        tips: &[],
        syntax: "",
        key_flags: None,
        writes: None,
    }
}

/// Builds a container row (CLIENT, CONFIG, ...) whose subcommands carry the handlers.
pub const fn container(
    name: &'static str,
    arity: i32,
    flags: u32,
    subcommands: &'static [CommandSpec],
    summary: &'static str,
    since: &'static str,
    group: &'static str,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        acl: &[],
        keys: &[],
        subcommands,
        handler: None,
        doc: Doc {
            summary,
            since,
            group,
            complexity: "Depends on subcommand.",
        },
        tips: &[],
        syntax: "",
        key_flags: None,
        writes: None,
    }
}
