//! The only key-spec interpreter: finds which arguments of a command are keys.
//!
//! Tenancy key resolution, `COMMAND GETKEYS`, shard locking and (later) scripting and WATCH all
//! call `key_positions`; nothing else decides what a key is, and no code matches command names.
//! Follows Redis's `getKeysUsingKeySpecs`.

use super::spec::{key_flags::NOT_KEY, Begin, CommandSpec, Find, KeySpec};
use crate::protocol::args::is;

/// Argument indexes that are keys, in spec order. Specs whose begin keyword is absent, or
/// whose key count is malformed, contribute nothing (the handler reports the syntax error).
pub fn key_positions(spec: &CommandSpec, args: &[&[u8]]) -> Vec<usize> {
    let mut out = Vec::new();
    visit_keys(spec, args, |i| out.push(i));
    out
}

/// How many key arguments a call has, without allocating (the quota check runs per write).
#[inline]
pub fn key_count(spec: &CommandSpec, args: &[&[u8]]) -> usize {
    // Most commands name one key at a fixed position: answered without walking the spec.
    if let [KeySpec {
        flags,
        begin: Begin::Index(i),
        find: Find::Range { last_key: 0, .. },
        ..
    }] = spec.keys
    {
        return usize::from(flags & NOT_KEY == 0 && *i > 0 && (*i as usize) < args.len());
    }
    count_walked(spec, args)
}

#[inline(never)]
fn count_walked(spec: &CommandSpec, args: &[&[u8]]) -> usize {
    let mut n = 0;
    visit_keys(spec, args, |_| n += 1);
    n
}

/// Calls `f` with each key argument's index, in spec order. Specs flagged `not_key` (sharded
/// Pub/Sub's channels) name no key, as Redis's default key search has it.
pub fn visit_keys(spec: &CommandSpec, args: &[&[u8]], f: impl FnMut(usize)) {
    visit_keys_checked(spec, args, f);
}

/// `visit_keys`, telling whether every spec's keys lay within the arguments (Redis's
/// `invalid_spec`: a numkeys of zero, or one reaching past the end). Keys within them are
/// visited either way: whoever acts on a call's keys must see every one it could touch.
pub fn visit_keys_checked(spec: &CommandSpec, args: &[&[u8]], mut f: impl FnMut(usize)) -> bool {
    let mut complete = true;
    for ks in spec.keys.iter().filter(|ks| ks.flags & NOT_KEY == 0) {
        complete &= positions_for(ks, args, &mut f);
    }
    complete
}

/// Visits one spec's key positions; false when they do not all lie within `args`.
fn positions_for(ks: &KeySpec, args: &[&[u8]], out: &mut impl FnMut(usize)) -> bool {
    let argc = args.len() as i64;
    let first = match ks.begin {
        Begin::Index(i) => i as i64,
        Begin::Keyword {
            keyword,
            start_from,
        } => {
            let found = if start_from >= 0 {
                (start_from as i64..argc).find(|&i| is(args[i as usize], keyword))
            } else {
                let start = argc + start_from as i64;
                (1..=start).rev().find(|&i| is(args[i as usize], keyword))
            };
            match found {
                Some(i) => i + 1,
                // No keyword, no keys: an optional part left out.
                None => return true,
            }
        }
    };
    if first <= 0 || first >= argc {
        return false;
    }
    let (first, last, step) = match ks.find {
        Find::Range {
            last_key,
            step,
            limit,
        } => {
            let last = if last_key >= 0 {
                first + last_key as i64
            } else if limit <= 1 {
                argc + last_key as i64
            } else {
                first + ((argc - first) / limit as i64 + last_key as i64)
            };
            (first, last, step.max(1) as i64)
        }
        Find::Keynum {
            keynum_idx,
            first_key,
            step,
        } => {
            let idx = first + keynum_idx as i64;
            if idx >= argc {
                return false;
            }
            let Some(n) = crate::protocol::request::parse_i64(args[idx as usize]) else {
                return false;
            };
            if n <= 0 {
                return false;
            }
            let start = first + first_key as i64;
            let span = (n - 1).saturating_mul(step.max(1) as i64);
            (start, start.saturating_add(span), step.max(1) as i64)
        }
    };
    let mut i = first;
    while i <= last && i < argc {
        out(i as usize);
        i += step;
    }
    last < argc && last >= first
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::spec::{key_flags::*, Find};

    fn args(s: &str) -> Vec<&[u8]> {
        s.split(' ').map(str::as_bytes).collect()
    }

    fn spec(keys: &'static [KeySpec]) -> CommandSpec {
        CommandSpec {
            keys,
            ..*crate::command::registry::lookup(b"get").expect("get exists")
        }
    }

    #[test]
    fn index_range_keyword_keynum() {
        static MSET: [KeySpec; 1] = [KeySpec::range(1, -1, 2, OW)];
        assert_eq!(
            key_positions(&spec(&MSET), &args("mset a 1 b 2")),
            vec![1, 3]
        );
        static DEL: [KeySpec; 1] = [KeySpec::range(1, -1, 1, RM)];
        assert_eq!(
            key_positions(&spec(&DEL), &args("del a b c")),
            vec![1, 2, 3]
        );
        static KW: [KeySpec; 1] = [KeySpec {
            flags: RO,
            begin: Begin::Keyword {
                keyword: "STREAMS",
                start_from: 1,
            },
            find: Find::Range {
                last_key: -1,
                step: 1,
                limit: 2,
            },
            notes: "",
        }];
        assert_eq!(
            key_positions(&spec(&KW), &args("xread count 2 streams s1 s2 0 0")),
            vec![4, 5]
        );
        static NUM: [KeySpec; 1] = [KeySpec {
            flags: RO,
            begin: Begin::Index(2),
            find: Find::Keynum {
                keynum_idx: 0,
                first_key: 1,
                step: 1,
            },
            notes: "",
        }];
        assert_eq!(
            key_positions(&spec(&NUM), &args("eval s 2 k1 k2 a1")),
            vec![3, 4]
        );
        // Malformed counts never index past the arguments.
        assert_eq!(key_positions(&spec(&NUM), &args("eval s 9 k1")), vec![3]);
        assert!(key_positions(&spec(&NUM), &args("eval s x k1")).is_empty());
    }

    /// `key_count` (with its fast path for one fixed key) agrees with the full interpreter
    /// for every command in the table, at every argument count up to eight.
    #[test]
    fn key_count_matches_key_positions_for_every_command() {
        for entry in &crate::command::registry::REGISTRY.entries {
            let spec = entry.spec;
            for n in 1..=8 {
                let words: Vec<String> = (1..n).map(|i| i.to_string()).collect();
                let mut a: Vec<&[u8]> = vec![b"cmd"];
                a.extend(words.iter().map(|w| w.as_bytes()));
                assert_eq!(
                    key_count(spec, &a),
                    key_positions(spec, &a).len(),
                    "{} with {n} arguments",
                    entry.fullname
                );
            }
        }
    }
}
