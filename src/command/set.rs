//! Sets (Redis's `t_set.c`). SINTER/SMEMBERS/SINTERSTORE/SINTERCARD share `inter`;
//! SUNION/SDIFF and their STORE forms share `union_diff`, as Redis's generic commands do,
//! including how a stored result's encoding is chosen. Multi-key commands lock all their keys
//! in one transaction.

use super::dispatch::Ctx;
use super::hash::{
    check_random_limit, member, parse_cursor, parse_scan_opts, random_count, sample_unique,
    scan_reply, scan_step, ScanOf,
};
use super::spec::{cmd, flags::*, key_flags::*, CommandSpec, KeySpec};
use crate::config::params::{NOTIFY_GENERIC, NOTIFY_SET};
use crate::protocol::{args, CmdError, Reply};
use crate::storage::keyspace::Txn;
use crate::storage::set::SetEncoding;
use crate::storage::value::{EncodingLimits, IndexedMember, SetValue, Value};

const S: &[&str] = &["@set"];
const G: &str = "set";
const K1_RO: &[KeySpec] = &[KeySpec::single(1, RO)];
const K1_RO_ACC: &[KeySpec] = &[KeySpec::single(1, RO | ACCESS)];
const KALL_RO_ACC: &[KeySpec] = &[KeySpec::range(1, -1, 1, RO | ACCESS)];
const STORE_OW: &[KeySpec] = &[
    KeySpec::single(1, OW | UPDATE),
    KeySpec::range(2, -1, 1, RO | ACCESS),
];
const INTER: &str =
    "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.";
const TOTAL: &str = "O(N) where N is the total number of elements in all given sets.";
const SCAN_CPLX: &str = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.";
const ORDER: &[&str] = &["nondeterministic_output_order"];

#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[
    cmd("sadd", -3, WRITE | DENYOOM | FAST, S, &[KeySpec::single(1, RW | INSERT)], sadd, "Adds one or more members to a set. Creates the key if it doesn't exist.", "1.0.0", G,
        "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.").args("key member [member ...]"),
    cmd("srem", -3, WRITE | FAST, S, &[KeySpec::single(1, RW | DELETE)], srem, "Removes one or more members from a set. Deletes the set if the last member was removed.", "1.0.0", G, "O(N) where N is the number of members to be removed.").args("key member [member ...]"),
    cmd("smembers", 2, READONLY, S, K1_RO_ACC, smembers, "Returns all members of a set.", "1.0.0", G, "O(N) where N is the set cardinality.").args("key").tips(ORDER),
    cmd("sismember", 3, READONLY | FAST, S, K1_RO, sismember, "Determines whether a member belongs to a set.", "1.0.0", G, "O(1)").args("key member"),
    cmd("smismember", -3, READONLY | FAST, S, K1_RO_ACC, smismember, "Determines whether multiple members belong to a set.", "6.2.0", G, "O(N) where N is the number of elements being checked for membership").args("key member [member ...]"),
    cmd("scard", 2, READONLY | FAST, S, K1_RO, scard, "Returns the number of members in a set.", "1.0.0", G, "O(1)").args("key"),
    cmd("spop", -2, WRITE | FAST, S, &[KeySpec::single(1, RW | ACCESS | DELETE)], spop, "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", "1.0.0", G,
        "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.").args("key [count]").tips(&["nondeterministic_output"]),
    cmd("srandmember", -2, READONLY, S, K1_RO_ACC, srandmember, "Get one or multiple random members from a set", "1.0.0", G,
        "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.").args("key [count]").tips(&["nondeterministic_output"]),
    cmd("smove", 4, WRITE | FAST | GROWS, S, &[KeySpec::single(1, RW | ACCESS | DELETE), KeySpec::single(2, RW | INSERT)], smove, "Moves a member from one set to another.", "1.0.0", G, "O(1)").args("source destination member"),
    cmd("sinter", -2, READONLY, S, KALL_RO_ACC, sinter, "Returns the intersect of multiple sets.", "1.0.0", G, INTER).args("key [key ...]").tips(ORDER),
    cmd("sintercard", -3, READONLY, S, &[KeySpec::keynum(1, RO | ACCESS)], sintercard,
        "Returns the number of members of the intersect of multiple sets.", "7.0.0", G, INTER).args("numkeys key [key ...] [LIMIT limit]"),
    cmd("sinterstore", -3, WRITE | DENYOOM, S, &[KeySpec::single(1, RW | UPDATE), KeySpec::range(2, -1, 1, RO | ACCESS)], sinterstore, "Stores the intersect of multiple sets in a key.", "1.0.0", G, INTER).args("destination key [key ...]"),
    cmd("sunion", -2, READONLY, S, KALL_RO_ACC, sunion, "Returns the union of multiple sets.", "1.0.0", G, TOTAL).args("key [key ...]").tips(ORDER),
    cmd("sunionstore", -3, WRITE | DENYOOM, S, STORE_OW, sunionstore, "Stores the union of multiple sets in a key.", "1.0.0", G, TOTAL).args("destination key [key ...]"),
    cmd("sdiff", -2, READONLY, S, KALL_RO_ACC, sdiff, "Returns the difference of multiple sets.", "1.0.0", G, TOTAL).args("key [key ...]").tips(ORDER),
    cmd("sdiffstore", -3, WRITE | DENYOOM, S, STORE_OW, sdiffstore, "Stores the difference of multiple sets in a key.", "1.0.0", G, TOTAL).args("destination key [key ...]"),
    cmd("sscan", -3, READONLY, S, K1_RO_ACC, sscan, "Iterates over members of a set.", "2.8.0", G, SCAN_CPLX).args("key cursor [MATCH pattern] [COUNT count]").tips(&["nondeterministic_output"]),
];

/// Reads a set for a command: None when missing, WRONGTYPE for other types.
fn read_set<'t>(t: &'t mut Txn<'_>, key: &[u8]) -> Result<Option<&'t SetValue>, CmdError> {
    match t.get(key) {
        None => Ok(None),
        Some(e) => e.value.as_set().map(Some).ok_or(CmdError::WrongType),
    }
}

/// The live set at `key`, already type-checked by the caller (no second access-clock touch).
fn peek_set<'t>(t: &'t mut Txn<'_>, key: &[u8]) -> Option<&'t SetValue> {
    t.peek(key).and_then(|e| e.value.as_set())
}

fn limits(ctx: &Ctx<'_>) -> EncodingLimits {
    ctx.server.params.encoding_limits()
}

fn set_reply<'a>(members: impl Iterator<Item = &'a IndexedMember>) -> Reply {
    Reply::Set(members.map(member).collect())
}

/// SADD key member [member ...]
fn sadd(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let l = limits(ctx);
    let hint = a.len() - 2;
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let added = t
        .write_if(
            a[1],
            || Some(Value::Set(Box::new(SetValue::for_first(a[2], hint, &l)))),
            |v| {
                let s = v.as_set_mut().ok_or(CmdError::WrongType)?;
                // Only a set just created is empty; an existing one may need converting first.
                if !s.is_empty() {
                    s.maybe_convert(hint, &l);
                }
                Ok::<_, CmdError>(a[2..].iter().filter(|m| s.add(m, &l)).count() as i64)
            },
            |r| matches!(r, Ok(n) if *n > 0),
        )
        .expect("created when missing")?;
    drop(t);
    if added > 0 {
        ctx.notify(NOTIFY_SET, "sadd", a[1]);
    }
    Ok(Reply::Int(added))
}

/// SREM key member [member ...]
fn srem(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let r = t.write_if(
        a[1],
        || None,
        |v| {
            let s = v.as_set_mut().ok_or(CmdError::WrongType)?;
            let mut deleted = 0;
            for m in &a[2..] {
                if s.remove(m) {
                    deleted += 1;
                    if s.is_empty() {
                        break;
                    }
                }
            }
            Ok::<_, CmdError>((deleted, s.is_empty()))
        },
        |r| matches!(r, Ok((n, _)) if *n > 0),
    );
    drop(t);
    let (deleted, emptied) = r.unwrap_or(Ok((0, false)))?;
    if deleted > 0 {
        ctx.notify(NOTIFY_SET, "srem", a[1]);
        if emptied {
            ctx.notify(NOTIFY_GENERIC, "del", a[1]);
        }
    }
    Ok(Reply::Int(deleted))
}

/// SMEMBERS key
fn smembers(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let s = read_set(&mut t, a[1])?;
    let found = s.is_some();
    let r = s.map_or(Reply::Set(Vec::new()), |s| set_reply(s.ordered()));
    drop(t);
    ctx.count_lookup(found);
    Ok(r)
}

/// SISMEMBER key member
fn sismember(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let s = read_set(&mut t, a[1])?;
    let found = s.is_some();
    let r = s.is_some_and(|s| s.contains(a[2]));
    drop(t);
    ctx.count_lookup(found);
    Ok(Reply::Int(r as i64))
}

/// SMISMEMBER key member [member ...]
fn smismember(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let s = read_set(&mut t, a[1])?;
    let found = s.is_some();
    let out = a[2..]
        .iter()
        .map(|m| Reply::Int(s.is_some_and(|s| s.contains(m)) as i64))
        .collect();
    drop(t);
    ctx.count_lookup(found);
    Ok(Reply::Array(out))
}

/// SCARD key
fn scard(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let s = read_set(&mut t, a[1])?;
    let found = s.is_some();
    let n = s.map_or(0, SetValue::len);
    drop(t);
    ctx.count_lookup(found);
    Ok(Reply::Int(n as i64))
}

/// SPOP key [count]
fn spop(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    match a.len() {
        2 => spop_one(ctx, a[1]),
        3 => spop_count(ctx, a[1], a[2]),
        _ => Err(CmdError::Syntax),
    }
}

fn spop_one(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, [key]);
    let r = t.write_if(
        key,
        || None,
        |v| {
            let s = v.as_set_mut().ok_or(CmdError::WrongType)?;
            let m = s
                .remove_index(fastrand::usize(..s.len()))
                .expect("non-empty");
            Ok::<_, CmdError>((member(&m), s.is_empty()))
        },
        Result::is_ok,
    );
    drop(t);
    let Some(r) = r else {
        return Ok(Reply::Nil);
    };
    let (m, emptied) = r?;
    ctx.notify(NOTIFY_SET, "spop", key);
    if emptied {
        ctx.notify(NOTIFY_GENERIC, "del", key);
    }
    Ok(m)
}

/// How much larger than what stays a pop must be for SPOP to rebuild the set from what
/// stays (Redis's `SPOP_MOVE_STRATEGY_MUL`); the rebuild is what changes the encoding.
const SPOP_MOVE_STRATEGY_MUL: u64 = 5;

fn spop_count(ctx: &mut Ctx<'_>, key: &[u8], count: &[u8]) -> Result<Reply, CmdError> {
    let count = match args::int(count)? {
        c if c < 0 => return Err(CmdError::err("ERR value is out of range, must be positive")),
        c => c as u64,
    };
    let l = limits(ctx);
    let mut t = ctx.db().txn(ctx.now, [key]);
    let size = match t.get(key) {
        None => return Ok(Reply::Set(Vec::new())),
        Some(e) => e.value.as_set().ok_or(CmdError::WrongType)?.len() as u64,
    };
    if count == 0 {
        return Ok(Reply::Set(Vec::new()));
    }
    let whole = count >= size;
    let out = if whole {
        let e = t.remove(key).expect("live key");
        set_reply(e.value.as_set().expect("checked set").ordered())
    } else {
        t.write(
            key,
            || None,
            |v| {
                let s = v.as_set_mut().expect("checked set");
                let rebuild = (size - count) * SPOP_MOVE_STRATEGY_MUL <= count;
                let mut out = Vec::with_capacity(count as usize);
                for _ in 0..count {
                    let m = s
                        .remove_index(fastrand::usize(..s.len()))
                        .expect("count < size");
                    out.push(member(&m));
                }
                if rebuild && s.current_encoding() == SetEncoding::Hashtable {
                    // Redis rebuilds what stays into a new listpack, member by member.
                    s.settle_listpack_or_hashtable(&l);
                }
                Reply::Set(out)
            },
        )
        .expect("live key")
    };
    drop(t);
    ctx.notify(NOTIFY_SET, "spop", key);
    if whole {
        ctx.notify(NOTIFY_GENERIC, "del", key);
    }
    Ok(out)
}

/// SRANDMEMBER key [count]
fn srandmember(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if a.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let counted = if a.len() == 3 {
        Some(random_count(a[2])?)
    } else {
        None
    };
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let s = read_set(&mut t, a[1])?;
    let Some((count, uniq)) = counted else {
        return Ok(s.map_or(Reply::Nil, |s| {
            member(s.get_index(fastrand::usize(..s.len())).expect("non-empty"))
        }));
    };
    let Some(s) = s else {
        return Ok(Reply::Array(Vec::new()));
    };
    let size = s.len();
    let at = |i: usize| member(s.get_index(i).expect("position below len"));
    let out = if count == 0 {
        Vec::new()
    } else if !uniq || count == 1 {
        check_random_limit(count)?;
        (0..count).map(|_| at(fastrand::usize(..size))).collect()
    } else if count as usize >= size {
        s.ordered().map(member).collect()
    } else {
        sample_unique(size, count as usize)
            .into_iter()
            .map(at)
            .collect()
    };
    Ok(Reply::Array(out))
}

/// SMOVE source destination member
fn smove(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (src, dst, m) = (&a[1], &a[2], &a[3]);
    let l = limits(ctx);
    let mut t = ctx.db().txn(ctx.now, &a[1..3]);
    // As Redis: a missing source answers 0 before the destination's type is looked at.
    let Some(_) = read_set(&mut t, src)? else {
        return Ok(Reply::Int(0));
    };
    if let Some(e) = t.get(dst) {
        if e.value.as_set().is_none() {
            return Err(CmdError::WrongType);
        }
    }
    if src == dst {
        let has = peek_set(&mut t, src).is_some_and(|s| s.contains(m));
        return Ok(Reply::Int(has as i64));
    }
    let emptied = t
        .write_if(
            src,
            || None,
            |v| {
                let s = v.as_set_mut().expect("checked set");
                s.remove(m).then_some(s.is_empty())
            },
            Option::is_some,
        )
        .expect("live key");
    let Some(emptied) = emptied else {
        return Ok(Reply::Int(0));
    };
    // A member the destination already has leaves it unchanged: no touch (WATCH survives).
    let added = t
        .write_if(
            dst,
            || Some(Value::Set(Box::new(SetValue::for_first(m, 1, &l)))),
            |v| v.as_set_mut().expect("checked set").add(m, &l),
            |added| *added,
        )
        .expect("created when missing");
    drop(t);
    ctx.notify(NOTIFY_SET, "srem", src);
    if emptied {
        ctx.notify(NOTIFY_GENERIC, "del", src);
    }
    if added {
        ctx.notify(NOTIFY_SET, "sadd", dst);
    }
    Ok(Reply::Int(1))
}

/// Looks up every source set in argument order: their sizes (None for missing keys), or
/// WRONGTYPE for the first key of another type, which Redis reports even after a missing key.
fn source_sizes(t: &mut Txn<'_>, keys: &[&[u8]]) -> Result<Vec<Option<usize>>, CmdError> {
    keys.iter()
        .map(|k| read_set(t, k).map(|s| s.map(SetValue::len)))
        .collect()
}

/// Replaces `dst` with a set-operation result, or deletes it when the result is empty.
/// Returns the reply (the result's size) and whether the old key was deleted.
fn store(t: &mut Txn<'_>, dst: &[u8], result: SetValue) -> (i64, bool) {
    let n = result.len() as i64;
    if n == 0 {
        return (0, t.remove(dst).is_some());
    }
    t.set(dst, Value::Set(Box::new(result)), 0);
    (n, false)
}

/// After a STORE: the event Redis raises for the destination.
fn notify_store(ctx: &mut Ctx<'_>, event: &'static str, dst: &[u8], n: i64, deleted: bool) {
    if n > 0 {
        ctx.notify(NOTIFY_SET, event, dst);
    } else if deleted {
        ctx.notify(NOTIFY_GENERIC, "del", dst);
    }
}

/// What `inter` produces.
enum InterOut {
    Members,
    Card(u64),
    Store,
}

/// The intersection of the sets at `keys` (`sinterGenericCommand`): the members, their count
/// (up to `limit`, 0 = all), or a set stored at `dst`.
fn inter(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    dst: Option<&[u8]>,
    card: Option<u64>,
) -> Result<Reply, CmdError> {
    let l = limits(ctx);
    let mut t = ctx
        .db()
        .txn(ctx.now, dst.into_iter().chain(keys.iter().copied()));
    let sizes = source_sizes(&mut t, keys)?;
    let mode = match (dst, card) {
        (Some(_), _) => InterOut::Store,
        (None, Some(limit)) => InterOut::Card(limit),
        (None, None) => InterOut::Members,
    };
    if sizes.iter().any(Option::is_none) {
        return Ok(match mode {
            InterOut::Members => Reply::Set(Vec::new()),
            InterOut::Card(_) => Reply::Int(0),
            InterOut::Store => {
                let dst = dst.expect("store mode");
                let deleted = t.remove(dst).is_some();
                drop(t);
                notify_store(ctx, "sinterstore", dst, 0, deleted);
                Reply::Int(0)
            }
        });
    }
    // Smallest set first, as Redis orders them: fewer candidates to test.
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| sizes[i].expect("all present"));
    let first = keys[order[0]];
    let others: Vec<&[u8]> = order[1..]
        .iter()
        .map(|&i| keys[i])
        .filter(|k| *k != first)
        .collect();
    // Candidates come from the smallest set; each other set is then probed once per survivor.
    let (mut candidates, first_enc): (Vec<IndexedMember>, SetEncoding) = {
        let s = peek_set(&mut t, first).expect("present");
        (s.ordered().cloned().collect(), s.current_encoding())
    };
    let limit = match mode {
        InterOut::Card(limit) if limit > 0 => limit as usize,
        _ => usize::MAX,
    };
    for k in &others {
        let s = peek_set(&mut t, k).expect("present");
        candidates.retain(|m| s.contains(m.as_bytes()));
        if candidates.is_empty() {
            break;
        }
    }
    match mode {
        InterOut::Members => Ok(set_reply(candidates.iter())),
        InterOut::Card(_) => Ok(Reply::Int(candidates.len().min(limit) as i64)),
        InterOut::Store => {
            let dst = dst.expect("store mode");
            // Redis starts from the smallest set's compact encoding and may end as an intset.
            let mut result = SetValue::with_encoding(match first_enc {
                SetEncoding::Intset => SetEncoding::Intset,
                _ => SetEncoding::Listpack,
            });
            let mut only_ints = true;
            for m in &candidates {
                only_ints &= crate::protocol::request::parse_i64(m.as_bytes()).is_some();
                result.add(m.as_bytes(), &l);
            }
            if only_ints {
                result.maybe_to_intset(&l);
            }
            let (n, deleted) = store(&mut t, dst, result);
            drop(t);
            notify_store(ctx, "sinterstore", dst, n, deleted);
            Ok(Reply::Int(n))
        }
    }
}

/// SINTER key [key ...]
fn sinter(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    inter(ctx, &a[1..], None, None)
}

/// SINTERSTORE destination key [key ...]
fn sinterstore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    inter(ctx, &a[2..], Some(a[1]), None)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
fn sintercard(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let numkeys = args::int(a[1])
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| CmdError::err("ERR numkeys should be greater than 0"))?;
    if numkeys > (a.len() - 2) as i64 {
        return Err(CmdError::err(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let end = 2 + numkeys as usize;
    let mut limit = 0u64;
    let mut i = end;
    while i < a.len() {
        if args::is(a[i], "LIMIT") && i + 1 < a.len() {
            limit = args::int(a[i + 1])
                .ok()
                .filter(|l| *l >= 0)
                .ok_or_else(|| CmdError::err("ERR LIMIT can't be negative"))?
                as u64;
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    inter(ctx, &a[2..end], None, Some(limit))
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Union,
    Diff,
}

/// The union or difference of the sets at `keys` (`sunionDiffGenericCommand`), replied as a
/// set or stored at `dst`. The result is built as Redis builds it, starting from an empty
/// intset, so a stored result gets the encoding Redis would give it.
fn union_diff(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    dst: Option<&[u8]>,
    op: Op,
) -> Result<Reply, CmdError> {
    let l = limits(ctx);
    let mut t = ctx
        .db()
        .txn(ctx.now, dst.into_iter().chain(keys.iter().copied()));
    let sizes = source_sizes(&mut t, keys)?;
    let mut result = SetValue::new();
    match op {
        Op::Union => {
            for k in keys.iter().zip(&sizes).filter(|(_, s)| s.is_some()) {
                let s = peek_set(&mut t, k.0).expect("present");
                for m in s.ordered() {
                    result.add(m.as_bytes(), &l);
                }
            }
        }
        Op::Diff => diff_into(&mut t, keys, &sizes, &mut result, &l),
    }
    let Some(dst) = dst else {
        return Ok(set_reply(result.ordered()));
    };
    let (n, deleted) = store(&mut t, dst, result);
    drop(t);
    let event = if op == Op::Union {
        "sunionstore"
    } else {
        "sdiffstore"
    };
    notify_store(ctx, event, dst, n, deleted);
    Ok(Reply::Int(n))
}

/// SDIFF's two algorithms, chosen by Redis's estimate of their work: test each member of the
/// first set against the others, or copy the first set and remove the others' members.
fn diff_into(
    t: &mut Txn<'_>,
    keys: &[&[u8]],
    sizes: &[Option<usize>],
    result: &mut SetValue,
    l: &EncodingLimits,
) {
    let Some(first_size) = sizes[0] else {
        return;
    };
    let first = &keys[0];
    if keys[1..].iter().any(|k| k == first) {
        return;
    }
    let present = sizes.iter().filter(|s| s.is_some()).count();
    let algo_one = present * first_size / 2 <= sizes.iter().flatten().sum::<usize>();
    let mut others: Vec<(usize, &[u8])> = keys[1..]
        .iter()
        .zip(&sizes[1..])
        .filter_map(|(&k, s)| s.map(|s| (s, k)))
        .collect();
    if algo_one {
        // Largest first: members are more likely to be found, and dropped, early.
        others.sort_by_key(|o| std::cmp::Reverse(o.0));
        let mut candidates: Vec<IndexedMember> = peek_set(t, first)
            .expect("present")
            .ordered()
            .cloned()
            .collect();
        for (_, k) in &others {
            let s = peek_set(t, k).expect("present");
            candidates.retain(|m| !s.contains(m.as_bytes()));
        }
        for m in &candidates {
            result.add(m.as_bytes(), l);
        }
    } else {
        for m in peek_set(t, first).expect("present").ordered() {
            result.add(m.as_bytes(), l);
        }
        for (_, k) in &others {
            if result.is_empty() {
                break;
            }
            let s = peek_set(t, k).expect("present");
            for m in s.iter() {
                result.remove(m.as_bytes());
            }
        }
    }
}

/// SUNION key [key ...]
fn sunion(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    union_diff(ctx, &a[1..], None, Op::Union)
}

/// SUNIONSTORE destination key [key ...]
fn sunionstore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    union_diff(ctx, &a[2..], Some(a[1]), Op::Union)
}

/// SDIFF key [key ...]
fn sdiff(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    union_diff(ctx, &a[1..], None, Op::Diff)
}

/// SDIFFSTORE destination key [key ...]
fn sdiffstore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    union_diff(ctx, &a[2..], Some(a[1]), Op::Diff)
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
fn sscan(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let cursor = parse_cursor(a[2])?;
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let Some(s) = read_set(&mut t, a[1])? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let opts = parse_scan_opts(a, 3, ScanOf::Set)?;
    let compact = s.current_encoding() != SetEncoding::Hashtable;
    let out = if compact {
        s.ordered()
            .filter(|m| opts.keeps(m.as_bytes()))
            .map(member)
            .collect()
    } else {
        let (next, positions) = scan_step(s.len(), cursor, opts.count, false);
        let out = positions
            .map(|i| s.get_index(i).expect("position below len"))
            .filter(|m| opts.keeps(m.as_bytes()))
            .map(member)
            .collect();
        return Ok(scan_reply(next, out));
    };
    Ok(scan_reply(0, out))
}
