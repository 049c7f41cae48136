//! The registry: every family's table joined into one lookup, with per-command statistics.
//!
//! Built once on first use. Top-level commands are found by lowercase name; subcommands of
//! container commands (CLIENT, CONFIG, ...) by `(parent, name)`. Each entry, subcommands
//! included, has an id; each server keeps its `INFO commandstats` counters in a slice indexed
//! by that id (`CommandStats`), so servers sharing a process (tests) do not share statistics.

use super::spec::CommandSpec;
use super::{
    connection, hash, introspection, keyspace, list, pubsub, server, set, string, tenant,
    transaction, zset,
};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::LazyLock;

#[derive(Default)]
pub struct CommandStats {
    pub calls: AtomicU64,
    pub usec: AtomicU64,
    pub rejected: AtomicU64,
    pub failed: AtomicU64,
}

impl CommandStats {
    pub fn reset(&self) {
        for c in [&self.calls, &self.usec, &self.rejected, &self.failed] {
            c.store(0, Relaxed);
        }
    }
}

pub struct Entry {
    pub spec: &'static CommandSpec,
    /// `get`, or `client|list` for a subcommand (Redis's fullname).
    pub fullname: String,
}

pub struct Registry {
    pub entries: Vec<Entry>,
    // Byte keys and foldhash: this lookup runs for every command.
    top: foldhash::HashMap<&'static [u8], usize>,
    subs: foldhash::HashMap<(usize, &'static [u8]), usize>,
}

/// All family tables, in the order `COMMAND` lists them.
fn tables() -> [&'static [CommandSpec]; 12] {
    [
        connection::COMMANDS,
        server::COMMANDS,
        introspection::COMMANDS,
        string::COMMANDS,
        keyspace::COMMANDS,
        list::COMMANDS,
        hash::COMMANDS,
        set::COMMANDS,
        zset::COMMANDS,
        transaction::COMMANDS,
        pubsub::COMMANDS,
        tenant::COMMANDS,
    ]
}

impl Registry {
    fn build() -> Registry {
        let mut r = Registry {
            entries: Vec::new(),
            top: Default::default(),
            subs: Default::default(),
        };
        for table in tables() {
            for spec in table {
                let id = r.entries.len();
                r.entries.push(Entry {
                    spec,
                    fullname: spec.name.to_string(),
                });
                let dup = r.top.insert(spec.name.as_bytes(), id);
                assert!(dup.is_none(), "command {} declared twice", spec.name);
                for sub in spec.subcommands {
                    let sid = r.entries.len();
                    r.entries.push(Entry {
                        spec: sub,
                        fullname: format!("{}|{}", spec.name, sub.name),
                    });
                    r.subs.insert((id, sub.name.as_bytes()), sid);
                }
            }
        }
        r
    }

    /// A top-level command by name, any case.
    pub fn find(&self, name: &[u8]) -> Option<usize> {
        let mut buf = [0u8; 32];
        let lower = lowercase(name, &mut buf)?;
        self.top.get(lower).copied()
    }

    /// A subcommand of the command with id `parent`, any case.
    pub fn find_sub(&self, parent: usize, name: &[u8]) -> Option<usize> {
        let mut buf = [0u8; 32];
        let lower = lowercase(name, &mut buf)?;
        self.subs.get(&(parent, lower)).copied()
    }

    /// Top-level commands (no subcommands), for COMMAND / COMMAND LIST / COMMAND COUNT.
    pub fn top_level(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| !e.fullname.contains('|'))
    }
}

fn lowercase<'b>(name: &[u8], buf: &'b mut [u8; 32]) -> Option<&'b [u8]> {
    if name.len() > buf.len() {
        return None;
    }
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    Some(&buf[..name.len()])
}

pub static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::build);

/// The spec of a top-level command by name (tests and tools).
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    REGISTRY.find(name).map(|i| REGISTRY.entries[i].spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::spec::{flags, key_flags, Begin};

    /// The table is the single source of truth, so it is validated as data.
    #[test]
    fn table_is_consistent() {
        let r = &*REGISTRY;
        assert!(r.entries.len() > 80);
        for e in &r.entries {
            let s = e.spec;
            assert_eq!(s.name, s.name.to_ascii_lowercase(), "{}", e.fullname);
            assert!(s.arity != 0, "{} has arity 0", e.fullname);
            assert!(
                s.is_container() || s.handler.is_some(),
                "{} has no handler",
                e.fullname
            );
            assert!(
                !(s.has(flags::WRITE) && s.has(flags::READONLY)),
                "{} is both write and readonly",
                e.fullname
            );
            assert!(!s.doc.summary.is_empty(), "{} lacks a summary", e.fullname);
            // Commands with mandatory arguments document them (COMMAND DOCS `arguments`).
            let base = if e.fullname.contains('|') { 2 } else { 1 };
            if !s.is_container() && (s.arity > base || s.arity < -base) {
                assert!(
                    !s.syntax.is_empty(),
                    "{} lacks its argument syntax",
                    e.fullname
                );
            }
            // Not-key specs may name optional arguments (SUNSUBSCRIBE's channels).
            for ks in s.keys.iter().filter(|k| k.flags & key_flags::NOT_KEY == 0) {
                if let Begin::Index(i) = ks.begin {
                    assert!(i >= 1, "{}: key index {i}", e.fullname);
                    // The first key must be within the arguments every call has.
                    let min_args = s.arity.unsigned_abs() as i32;
                    assert!(i < min_args, "{}: key index {i} beyond arity", e.fullname);
                }
            }
            // A write that can create keys or replace values (key flags INSERT or OW) can grow
            // memory, so quotas must see it: `denyoom`, or one of our flags where Redis's
            // table has none (SMOVE; RENAME's new name).
            let creates = s
                .keys
                .iter()
                .any(|k| k.flags & (key_flags::INSERT | key_flags::OW) != 0);
            if s.has(flags::WRITE) && creates {
                assert!(
                    s.has(flags::DENYOOM | flags::GROWS | flags::RENAMES),
                    "{} can grow memory but quotas do not check it",
                    e.fullname
                );
            }
        }
        assert!(r.find(b"GeT").is_some());
        assert!(r.find(b"nosuchcommand").is_none());
        let client = r.find(b"client").unwrap();
        assert!(r.find_sub(client, b"LIST").is_some());
    }
}
