//! Sorted sets (Redis's `t_zset.c`). Variants share one body where Redis does: ZADD/ZINCRBY
//! go through `zadd_generic`, the ZRANGE family (ZRANGE, ZRANGESTORE, ZREVRANGE, ZRANGEBYSCORE,
//! ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX) through `zrange_generic`, ZUNION/ZINTER/ZDIFF,
//! their STORE forms and ZINTERCARD through `setop_generic`, ZPOPMIN/ZPOPMAX/ZMPOP through
//! `pop_first` (which the blocking variants reuse).
//!
//! Scores reach clients as Redis 7.2 sends them: RESP3 doubles, RESP2 bulk strings formatted by
//! `protocol::reply::format_double`.

use super::blocking;
use super::dispatch::Ctx;
use super::hash::{parse_cursor, parse_scan_opts, scan_reply, ScanOf, ScanOpts};
use super::spec::{cmd, flags::*, key_flags::*, CommandSpec, KeySpec};
use crate::config::params::{NOTIFY_GENERIC, NOTIFY_ZSET};
use crate::protocol::reply::format_double as format_score;
use crate::protocol::{args, CmdError, Proto, Reply};
use crate::storage::keyspace::Txn;
use crate::storage::value::{EncodingLimits, Member, Value, ZSet};
use crate::storage::zset::cmp_entry;
use crate::util::glob;

const Z: &[&str] = &["@sortedset"];
const G: &str = "sorted-set";
const RO_1: &[KeySpec] = &[KeySpec::single(1, RO | ACCESS)];
const RW_DEL: &[KeySpec] = &[KeySpec::single(1, RW | DELETE)];
const POP: &[KeySpec] = &[KeySpec::single(1, RW | ACCESS | DELETE)];

/// `numkeys key [key ...]` from argument `at`.
const RO_KEYNUM: &[KeySpec] = &[KeySpec::keynum(1, RO | ACCESS)];
const STORE_KEYNUM: &[KeySpec] = &[
    KeySpec::single(1, OW | UPDATE),
    KeySpec::keynum(2, RO | ACCESS),
];

const LEX_COMPLEXITY: &str = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).";
const REM_COMPLEXITY: &str = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.";
const RANGE_COMPLEXITY: &str = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.";
const POP_COMPLEXITY: &str = "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.";
const INTER_COMPLEXITY: &str = "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.";
const DIFF_COMPLEXITY: &str = "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.";

#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[
    cmd("zadd", -4, WRITE | DENYOOM | FAST, Z, &[KeySpec::single(1, RW | UPDATE)], zadd,
        "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", "1.2.0", G, "O(log(N)) for each item added, where N is the number of elements in the sorted set.").args("key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]"),
    cmd("zincrby", 4, WRITE | DENYOOM | FAST, Z, &[KeySpec::single(1, RW | ACCESS | UPDATE)], zincrby,
        "Increments the score of a member in a sorted set.", "1.2.0", G, "O(log(N)) where N is the number of elements in the sorted set.").args("key increment member"),
    cmd("zrem", -3, WRITE | FAST, Z, RW_DEL, zrem,
        "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", "1.2.0", G, "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.").args("key member [member ...]"),
    cmd("zcard", 2, READONLY | FAST, Z, &[KeySpec::single(1, RO)], zcard,
        "Returns the number of members in a sorted set.", "1.2.0", G, "O(1)").args("key"),
    cmd("zcount", 4, READONLY | FAST, Z, RO_1, zcount,
        "Returns the count of members in a sorted set that have scores within a range.", "2.0.0", G, "O(log(N)) with N being the number of elements in the sorted set.").args("key min max"),
    cmd("zscore", 3, READONLY | FAST, Z, RO_1, zscore,
        "Returns the score of a member in a sorted set.", "1.2.0", G, "O(1)").args("key member"),
    cmd("zmscore", -3, READONLY | FAST, Z, RO_1, zmscore,
        "Returns the score of one or more members in a sorted set.", "6.2.0", G, "O(N) where N is the number of members being requested.").args("key member [member ...]"),
    cmd("zrank", -3, READONLY | FAST, Z, RO_1, zrank,
        "Returns the index of a member in a sorted set ordered by ascending scores.", "2.0.0", G, "O(log(N))").args("key member [WITHSCORE]"),
    cmd("zrevrank", -3, READONLY | FAST, Z, RO_1, zrevrank,
        "Returns the index of a member in a sorted set ordered by descending scores.", "2.0.0", G, "O(log(N))").args("key member [WITHSCORE]"),
    cmd("zrange", -4, READONLY, Z, RO_1, zrange,
        "Returns members in a sorted set within a range of indexes.", "1.2.0", G, RANGE_COMPLEXITY).args("key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]"),
    cmd("zrangestore", -5, WRITE | DENYOOM, Z, &[KeySpec::single(1, OW | UPDATE), KeySpec::single(2, RO | ACCESS)], zrangestore,
        "Stores a range of members from sorted set in a key.", "6.2.0", G, "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.").args("dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]"),
    cmd("zrevrange", -4, READONLY, Z, RO_1, zrevrange,
        "Returns members in a sorted set within a range of indexes in reverse order.", "1.2.0", G, RANGE_COMPLEXITY).args("key start stop [WITHSCORES]"),
    cmd("zrangebyscore", -4, READONLY, Z, RO_1, zrangebyscore,
        "Returns members in a sorted set within a range of scores.", "1.0.5", G, LEX_COMPLEXITY).args("key min max [WITHSCORES] [LIMIT offset count]"),
    cmd("zrevrangebyscore", -4, READONLY, Z, RO_1, zrevrangebyscore,
        "Returns members in a sorted set within a range of scores in reverse order.", "2.2.0", G, LEX_COMPLEXITY).args("key max min [WITHSCORES] [LIMIT offset count]"),
    cmd("zrangebylex", -4, READONLY, Z, RO_1, zrangebylex,
        "Returns members in a sorted set within a lexicographical range.", "2.8.9", G, LEX_COMPLEXITY).args("key min max [LIMIT offset count]"),
    cmd("zrevrangebylex", -4, READONLY, Z, RO_1, zrevrangebylex,
        "Returns members in a sorted set within a lexicographical range in reverse order.", "2.8.9", G, LEX_COMPLEXITY).args("key max min [LIMIT offset count]"),
    cmd("zlexcount", 4, READONLY | FAST, Z, RO_1, zlexcount,
        "Returns the number of members in a sorted set within a lexicographical range.", "2.8.9", G, "O(log(N)) with N being the number of elements in the sorted set.").args("key min max"),
    cmd("zpopmin", -2, WRITE | FAST, Z, POP, zpopmin,
        "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "5.0.0", G, POP_COMPLEXITY).args("key [count]"),
    cmd("zpopmax", -2, WRITE | FAST, Z, POP, zpopmax,
        "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "5.0.0", G, POP_COMPLEXITY).args("key [count]"),
    cmd("zmpop", -4, WRITE, Z, &[KeySpec::keynum(1, RW | ACCESS | DELETE)], zmpop,
        "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.", "7.0.0", G, "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.").args("numkeys key [key ...] <MIN | MAX> [COUNT count]"),
    cmd("bzpopmin", -3, WRITE | FAST | BLOCKING, Z, &[KeySpec::range(1, -2, 1, RW | ACCESS | DELETE)], bzpopmin,
        "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", "5.0.0", G, "O(log(N)) with N being the number of elements in the sorted set.").args("key [key ...] timeout"),
    cmd("bzpopmax", -3, WRITE | FAST | BLOCKING, Z, &[KeySpec::range(1, -2, 1, RW | ACCESS | DELETE)], bzpopmax,
        "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise. Deletes the sorted set if the last element was popped.", "5.0.0", G, "O(log(N)) with N being the number of elements in the sorted set.").args("key [key ...] timeout"),
    cmd("bzmpop", -5, WRITE | BLOCKING, Z, &[KeySpec::keynum(2, RW | ACCESS | DELETE)], bzmpop,
        "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", "7.0.0", G, "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.").args("timeout numkeys key [key ...] <MIN | MAX> [COUNT count]"),
    cmd("zremrangebyrank", 4, WRITE, Z, RW_DEL, zremrangebyrank,
        "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.", "2.0.0", G, REM_COMPLEXITY).args("key start stop"),
    cmd("zremrangebyscore", 4, WRITE, Z, RW_DEL, zremrangebyscore,
        "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.", "1.2.0", G, REM_COMPLEXITY).args("key min max"),
    cmd("zremrangebylex", 4, WRITE, Z, RW_DEL, zremrangebylex,
        "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.", "2.8.9", G, REM_COMPLEXITY).args("key min max"),
    cmd("zunion", -3, READONLY, Z, RO_KEYNUM, zunion,
        "Returns the union of multiple sorted sets.", "6.2.0", G, "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.").args("numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>] [WITHSCORES]"),
    cmd("zinter", -3, READONLY, Z, RO_KEYNUM, zinter,
        "Returns the intersect of multiple sorted sets.", "6.2.0", G, INTER_COMPLEXITY).args("numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>] [WITHSCORES]"),
    cmd("zdiff", -3, READONLY, Z, RO_KEYNUM, zdiff,
        "Returns the difference between multiple sorted sets.", "6.2.0", G, DIFF_COMPLEXITY).args("numkeys key [key ...] [WITHSCORES]"),
    cmd("zunionstore", -4, WRITE | DENYOOM, Z, STORE_KEYNUM, zunionstore,
        "Stores the union of multiple sorted sets in a key.", "2.0.0", G, "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.").args("destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>]"),
    cmd("zinterstore", -4, WRITE | DENYOOM, Z, STORE_KEYNUM, zinterstore,
        "Stores the intersect of multiple sorted sets in a key.", "2.0.0", G, INTER_COMPLEXITY).args("destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>]"),
    cmd("zdiffstore", -4, WRITE | DENYOOM, Z, STORE_KEYNUM, zdiffstore,
        "Stores the difference of multiple sorted sets in a key.", "6.2.0", G, DIFF_COMPLEXITY).args("destination numkeys key [key ...]"),
    cmd("zintercard", -3, READONLY, Z, RO_KEYNUM, zintercard,
        "Returns the number of members of the intersect of multiple sorted sets.", "7.0.0", G, "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.").args("numkeys key [key ...] [LIMIT limit]"),
    cmd("zrandmember", -2, READONLY, Z, RO_1, zrandmember,
        "Returns one or more random members from a sorted set.", "6.2.0", G, "O(N) where N is the number of elements returned").args("key [count [WITHSCORES]]").tips(&["nondeterministic_output"]),
    cmd("zscan", -3, READONLY, Z, RO_1, zscan,
        "Iterates over members and scores of a sorted set.", "2.8.0", G, "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..").args("key cursor [MATCH pattern] [COUNT count]").tips(&["nondeterministic_output"]),
];

// ---------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------

/// A score as Redis 7.2 replies with one (`addReplyDouble`).
fn score_reply(proto: Proto, d: f64) -> Reply {
    match proto {
        Proto::Resp3 => Reply::Double(d),
        Proto::Resp2 => Reply::bulk_from(format_score(d).as_bytes()),
    }
}

/// Appends a member (and its score) in the WITHSCORES shape: flat in RESP2, a [member, score]
/// pair in RESP3.
fn push_entry(out: &mut Vec<Reply>, proto: Proto, m: &[u8], score: Option<f64>) {
    match score {
        None => out.push(Reply::bulk_from(m)),
        Some(s) if proto == Proto::Resp3 => {
            out.push(Reply::Array(vec![Reply::bulk_from(m), Reply::Double(s)]))
        }
        Some(s) => {
            out.push(Reply::bulk_from(m));
            out.push(score_reply(proto, s));
        }
    }
}

/// Reads a sorted set: None when missing, WRONGTYPE for other types.
fn read<'t>(t: &'t mut Txn<'_>, key: &[u8]) -> Result<Option<&'t ZSet>, CmdError> {
    match t.get(key) {
        None => Ok(None),
        Some(e) => e.value.as_zset().map(Some).ok_or(CmdError::WrongType),
    }
}

/// Mutates an existing sorted set; `f` also learns nothing when the key is missing (None).
/// Returns `f`'s result and whether the set was left empty (and so deleted). `changed` says
/// from the result whether anything changed, so a no-op signals no watcher.
fn modify<R>(
    t: &mut Txn<'_>,
    key: &[u8],
    f: impl FnOnce(&mut ZSet) -> R,
    changed: impl FnOnce(&R) -> bool,
) -> Result<Option<(R, bool)>, CmdError> {
    t.write_if(
        key,
        || None,
        |v| match v.as_zset_mut() {
            Some(z) => {
                let r = f(z);
                Ok((r, z.is_empty()))
            }
            None => Err(CmdError::WrongType),
        },
        |r| matches!(r, Ok((r, _)) if changed(r)),
    )
    .transpose()
}

/// Replaces `dst` with a sorted set built from `items` (sorted, unique), or deletes it when
/// there are none. Returns true when it stored, false when it deleted something, None when
/// there was nothing to delete.
fn store(
    t: &mut Txn<'_>,
    dst: &[u8],
    items: Vec<(Member, f64)>,
    l: &EncodingLimits,
) -> Option<bool> {
    if items.is_empty() {
        return t.remove(dst).map(|_| false);
    }
    t.set(dst, Value::ZSet(Box::new(ZSet::from_sorted(items, l))), 0);
    Some(true)
}

/// A score range bound: `(x` exclusive, `x` inclusive, `-inf`/`+inf`.
#[derive(Clone, Copy)]
struct ScoreBound {
    value: f64,
    exclusive: bool,
}

fn score_bound(arg: &[u8]) -> Result<ScoreBound, CmdError> {
    let bad = || CmdError::err("ERR min or max is not a float");
    let (exclusive, num) = match arg.first() {
        Some(b'(') => (true, &arg[1..]),
        _ => (false, arg),
    };
    let value = args::parse_f64(num).ok_or_else(bad)?;
    Ok(ScoreBound { value, exclusive })
}

/// The positions `start..end` of the sorted order whose scores lie in `[min, max]`.
fn score_span(z: &ZSet, min: ScoreBound, max: ScoreBound) -> (usize, usize) {
    let start = if min.exclusive {
        z.rank_by(|s, _| s <= min.value)
    } else {
        z.rank_by(|s, _| s < min.value)
    };
    let end = if max.exclusive {
        z.rank_by(|s, _| s < max.value)
    } else {
        z.rank_by(|s, _| s <= max.value)
    };
    (start, end.max(start))
}

/// A lexicographic range bound: `-`, `+`, `[x` inclusive, `(x` exclusive.
#[derive(Clone, Copy)]
enum LexBound<'a> {
    Min,
    Max,
    In(&'a [u8]),
    Ex(&'a [u8]),
}

fn lex_bound(arg: &[u8]) -> Result<LexBound<'_>, CmdError> {
    match arg.first() {
        Some(b'-') if arg.len() == 1 => Ok(LexBound::Min),
        Some(b'+') if arg.len() == 1 => Ok(LexBound::Max),
        Some(b'[') => Ok(LexBound::In(&arg[1..])),
        Some(b'(') => Ok(LexBound::Ex(&arg[1..])),
        _ => Err(CmdError::err("ERR min or max not valid string range item")),
    }
}

/// Members before a lex bound taken as a range start (`lower`) or end.
fn lex_rank(z: &ZSet, b: LexBound<'_>, lower: bool) -> usize {
    match (b, lower) {
        (LexBound::Min, _) => 0,
        (LexBound::Max, _) => z.len(),
        (LexBound::In(x), true) | (LexBound::Ex(x), false) => z.rank_by(|_, m| m < x),
        (LexBound::Ex(x), true) | (LexBound::In(x), false) => z.rank_by(|_, m| m <= x),
    }
}

fn lex_span(z: &ZSet, min: LexBound<'_>, max: LexBound<'_>) -> (usize, usize) {
    let start = lex_rank(z, min, true);
    (start, lex_rank(z, max, false).max(start))
}

/// Redis's rank-range normalisation (negative indexes from the end); None when empty.
fn rank_span(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 {
        (start + len).max(0)
    } else {
        start
    };
    let end = if end < 0 { end + len } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize + 1))
}

/// Notifies a removal event and, when the set was emptied, the generic `del`.
fn notify_removed(ctx: &mut Ctx<'_>, event: &'static str, key: &[u8], emptied: bool) {
    ctx.notify(NOTIFY_ZSET, event, key);
    if emptied {
        ctx.notify(NOTIFY_GENERIC, "del", key);
    }
}

// ---------------------------------------------------------------------------------------------
// ZADD / ZINCRBY
// ---------------------------------------------------------------------------------------------

#[derive(Default, Clone, Copy)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]
fn zadd(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut f = AddFlags::default();
    let mut i = 2;
    while i < a.len() {
        let o = &a[i];
        let flag = if args::is(o, "NX") {
            &mut f.nx
        } else if args::is(o, "XX") {
            &mut f.xx
        } else if args::is(o, "GT") {
            &mut f.gt
        } else if args::is(o, "LT") {
            &mut f.lt
        } else if args::is(o, "CH") {
            &mut f.ch
        } else if args::is(o, "INCR") {
            &mut f.incr
        } else {
            break;
        };
        *flag = true;
        i += 1;
    }
    zadd_generic(ctx, a[1], &a[i..], f)
}

/// ZINCRBY key increment member
fn zincrby(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let f = AddFlags {
        incr: true,
        ..AddFlags::default()
    };
    zadd_generic(ctx, a[1], &a[2..], f)
}

/// The shared body of ZADD and ZINCRBY (`zaddGenericCommand`): options are checked, then
/// every score, before the key is touched, so a bad pair changes nothing.
fn zadd_generic(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    pairs: &[&[u8]],
    f: AddFlags,
) -> Result<Reply, CmdError> {
    if f.nx && f.xx {
        return Err(CmdError::err(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return Err(CmdError::err(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    if f.incr && pairs.len() > 2 {
        return Err(CmdError::err(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let mut scores = Vec::with_capacity(pairs.len() / 2);
    for p in pairs.chunks_exact(2) {
        scores.push(args::parse_f64_in_range(p[0]).ok_or(CmdError::NotFloat)?);
    }
    let longest = pairs.chunks_exact(2).map(|p| p[1].len()).max().unwrap_or(0);
    let limits = ctx.server.params.encoding_limits();
    let proto = ctx.session.proto;
    let mut t = ctx.db().txn(ctx.now, [key]);
    let create =
        || (!f.xx).then(|| Value::ZSet(Box::new(ZSet::with_hint(scores.len(), longest, &limits))));
    let outcome = t.write_if(
        key,
        create,
        |v| {
            let Some(z) = v.as_zset_mut() else {
                return Err(CmdError::WrongType);
            };
            let (mut added, mut updated, mut last) = (0i64, 0i64, None);
            for (p, &score) in pairs.chunks_exact(2).zip(&scores) {
                let member = &p[1];
                match z.score(member) {
                    Some(cur) => {
                        if f.nx {
                            continue;
                        }
                        let new = if f.incr { cur + score } else { score };
                        if new.is_nan() {
                            return Err(CmdError::err("ERR resulting score is not a number (NaN)"));
                        }
                        if (f.lt && new >= cur) || (f.gt && new <= cur) {
                            continue;
                        }
                        last = Some(new);
                        if new != cur {
                            z.add(member, new, &limits);
                            updated += 1;
                        }
                    }
                    None if f.xx => {}
                    None => {
                        z.add(member, score, &limits);
                        added += 1;
                        last = Some(score);
                    }
                }
            }
            Ok((added, updated, last))
        },
        |r| matches!(r, Ok((added, updated, _)) if added + updated > 0),
    );
    drop(t);
    let (added, updated, last) = match outcome {
        None => (0, 0, None),
        Some(r) => r?,
    };
    if added + updated > 0 {
        let event = if f.incr { "zincr" } else { "zadd" };
        ctx.notify(NOTIFY_ZSET, event, key);
    }
    Ok(if f.incr {
        last.map_or(Reply::Nil, |s| score_reply(proto, s))
    } else {
        Reply::Int(if f.ch { added + updated } else { added })
    })
}

// ---------------------------------------------------------------------------------------------
// Single-key reads and removals
// ---------------------------------------------------------------------------------------------

/// ZREM key member [member ...]
fn zrem(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let r = modify(
        &mut t,
        a[1],
        |z| a[2..].iter().filter(|m| z.remove(m).is_some()).count(),
        |n| *n > 0,
    )?;
    drop(t);
    let Some((n, emptied)) = r else {
        return Ok(Reply::Int(0));
    };
    if n > 0 {
        notify_removed(ctx, "zrem", a[1], emptied);
    }
    Ok(Reply::Int(n as i64))
}

/// ZCARD key
fn zcard(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    Ok(Reply::Int(read(&mut t, a[1])?.map_or(0, ZSet::len) as i64))
}

/// ZCOUNT key min max
fn zcount(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (min, max) = (score_bound(a[2])?, score_bound(a[3])?);
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let n = read(&mut t, a[1])?.map_or(0, |z| {
        let (s, e) = score_span(z, min, max);
        e - s
    });
    Ok(Reply::Int(n as i64))
}

/// ZLEXCOUNT key min max
fn zlexcount(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (min, max) = (lex_bound(a[2])?, lex_bound(a[3])?);
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let n = read(&mut t, a[1])?.map_or(0, |z| {
        let (s, e) = lex_span(z, min, max);
        e - s
    });
    Ok(Reply::Int(n as i64))
}

/// ZSCORE key member
fn zscore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let proto = ctx.session.proto;
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let s = read(&mut t, a[1])?.and_then(|z| z.score(a[2]));
    Ok(s.map_or(Reply::Nil, |s| score_reply(proto, s)))
}

/// ZMSCORE key member [member ...]
fn zmscore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let proto = ctx.session.proto;
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let z = read(&mut t, a[1])?;
    let out = a[2..]
        .iter()
        .map(|m| {
            z.and_then(|z| z.score(m))
                .map_or(Reply::Nil, |s| score_reply(proto, s))
        })
        .collect();
    Ok(Reply::Array(out))
}

/// ZRANK key member [WITHSCORE]
fn zrank(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    rank_generic(ctx, a, false)
}

/// ZREVRANK key member [WITHSCORE]
fn zrevrank(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    rank_generic(ctx, a, true)
}

fn rank_generic(ctx: &mut Ctx<'_>, a: &[&[u8]], rev: bool) -> Result<Reply, CmdError> {
    if a.len() > 4 || (a.len() == 4 && !args::is(a[3], "WITHSCORE")) {
        return Err(CmdError::Syntax);
    }
    let with_score = a.len() == 4;
    let proto = ctx.session.proto;
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let found = read(&mut t, a[1])?.and_then(|z| {
        z.rank(a[2])
            .map(|(r, s)| (if rev { z.len() - 1 - r } else { r }, s))
    });
    Ok(match (found, with_score) {
        (None, true) => Reply::NilArray,
        (None, false) => Reply::Nil,
        (Some((r, _)), false) => Reply::Int(r as i64),
        (Some((r, s)), true) => Reply::Array(vec![Reply::Int(r as i64), score_reply(proto, s)]),
    })
}

// ---------------------------------------------------------------------------------------------
// The ZRANGE family
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum By {
    Auto,
    Rank,
    Score,
    Lex,
}

/// How a ZRANGE-family command was called: its arguments start at `a[first]` (the source key),
/// and the variant fixes the range type and direction, or leaves them to options (ZRANGE).
struct RangeCall {
    first: usize,
    store: bool,
    by: By,
    rev: Option<bool>,
}

/// ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
fn zrange(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let call = RangeCall {
        first: 1,
        store: false,
        by: By::Auto,
        rev: None,
    };
    zrange_generic(ctx, a, call)
}

/// ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]
fn zrangestore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let call = RangeCall {
        first: 2,
        store: true,
        by: By::Auto,
        rev: None,
    };
    zrange_generic(ctx, a, call)
}

/// ZREVRANGE key start stop [WITHSCORES]
fn zrevrange(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let call = RangeCall {
        first: 1,
        store: false,
        by: By::Rank,
        rev: Some(true),
    };
    zrange_generic(ctx, a, call)
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
fn zrangebyscore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let call = RangeCall {
        first: 1,
        store: false,
        by: By::Score,
        rev: Some(false),
    };
    zrange_generic(ctx, a, call)
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
fn zrevrangebyscore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let call = RangeCall {
        first: 1,
        store: false,
        by: By::Score,
        rev: Some(true),
    };
    zrange_generic(ctx, a, call)
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
fn zrangebylex(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let call = RangeCall {
        first: 1,
        store: false,
        by: By::Lex,
        rev: Some(false),
    };
    zrange_generic(ctx, a, call)
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
fn zrevrangebylex(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let call = RangeCall {
        first: 1,
        store: false,
        by: By::Lex,
        rev: Some(true),
    };
    zrange_generic(ctx, a, call)
}

/// A parsed range, ready to resolve against a set.
enum Range<'a> {
    Rank(i64, i64),
    Score(ScoreBound, ScoreBound),
    Lex(LexBound<'a>, LexBound<'a>),
}

/// The shared body of the ZRANGE family (`zrangeGenericCommand`), with Redis's option rules:
/// REV/BYSCORE/BYLEX only where the command leaves them open, each at most once; LIMIT only
/// with a score or lex range; WITHSCORES neither with BYLEX nor when storing.
fn zrange_generic(ctx: &mut Ctx<'_>, a: &[&[u8]], call: RangeCall) -> Result<Reply, CmdError> {
    let key = &a[call.first];
    let (mut by, mut rev) = (call.by, call.rev);
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = call.first + 3;
    while j < a.len() {
        let o = &a[j];
        let left = a.len() - j - 1;
        if !call.store && args::is(o, "WITHSCORES") {
            withscores = true;
        } else if args::is(o, "LIMIT") && left >= 2 {
            offset = args::int(a[j + 1])?;
            limit = args::int(a[j + 2])?;
            j += 2;
        } else if rev.is_none() && args::is(o, "REV") {
            rev = Some(true);
        } else if by == By::Auto && args::is(o, "BYLEX") {
            by = By::Lex;
        } else if by == By::Auto && args::is(o, "BYSCORE") {
            by = By::Score;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    if by == By::Auto {
        by = By::Rank;
    }
    if limit != -1 && by == By::Rank {
        return Err(CmdError::err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && by == By::Lex {
        return Err(CmdError::err(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (mut lo, mut hi) = (&a[call.first + 1], &a[call.first + 2]);
    if rev && by != By::Rank {
        // Score and lex ranges are given as max, min when reversed.
        std::mem::swap(&mut lo, &mut hi);
    }
    let range = match by {
        By::Score => Range::Score(score_bound(lo)?, score_bound(hi)?),
        By::Lex => Range::Lex(lex_bound(lo)?, lex_bound(hi)?),
        _ => Range::Rank(args::int(lo)?, args::int(hi)?),
    };
    let proto = ctx.session.proto;
    let limits = ctx.server.params.encoding_limits();
    let keys: &[&[u8]] = if call.store { &a[1..3] } else { &a[1..2] };
    let mut t = ctx.db().txn(ctx.now, keys);
    let mut items: Vec<(Member, f64)> = Vec::new();
    let mut out: Vec<Reply> = Vec::new();
    if let Some(z) = read(&mut t, key)? {
        let (mut start, mut end) = match range {
            // A reversed rank range counts from the top: map it onto ascending positions.
            Range::Rank(s, e) => match rank_span(s, e, z.len()) {
                Some((s, e)) if rev => (z.len() - e, z.len() - s),
                Some(span) => span,
                None => (0, 0),
            },
            Range::Score(min, max) => score_span(z, min, max),
            Range::Lex(min, max) => lex_span(z, min, max),
        };
        if by != By::Rank {
            // LIMIT: a negative offset matches nothing, a negative count means all.
            let skip = usize::try_from(offset).unwrap_or(usize::MAX);
            let take = usize::try_from(limit).unwrap_or(usize::MAX);
            if rev {
                end = end.saturating_sub(skip).max(start);
                start = start.max(end.saturating_sub(take));
            } else {
                start = start.saturating_add(skip).min(end);
                end = end.min(start.saturating_add(take));
            }
        }
        let n = end - start;
        let from = if rev { end.wrapping_sub(1) } else { start };
        if n > 0 {
            let iter = z.iter_from(from, rev).take(n);
            if call.store {
                items.reserve_exact(n);
                items.extend(iter.map(|(m, s)| (m.clone(), s)));
                if rev {
                    items.reverse();
                }
            } else {
                out.reserve_exact(if withscores && proto == Proto::Resp2 {
                    2 * n
                } else {
                    n
                });
                for (m, s) in iter {
                    push_entry(&mut out, proto, m.as_bytes(), withscores.then_some(s));
                }
            }
        }
    }
    if !call.store {
        return Ok(Reply::Array(out));
    }
    let n = items.len();
    let dst = &a[1];
    let stored = store(&mut t, dst, items, &limits);
    drop(t);
    match stored {
        Some(true) => ctx.notify(NOTIFY_ZSET, "zrangestore", dst),
        Some(false) => ctx.notify(NOTIFY_GENERIC, "del", dst),
        None => {}
    }
    Ok(Reply::Int(n as i64))
}

// ---------------------------------------------------------------------------------------------
// ZREMRANGEBY*
// ---------------------------------------------------------------------------------------------

fn zremrange_generic(
    ctx: &mut Ctx<'_>,
    a: &[&[u8]],
    range: Range<'_>,
    event: &'static str,
) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let r = modify(
        &mut t,
        a[1],
        |z| {
            let (start, end) = match range {
                Range::Rank(s, e) => rank_span(s, e, z.len()).unwrap_or((0, 0)),
                Range::Score(min, max) => score_span(z, min, max),
                Range::Lex(min, max) => lex_span(z, min, max),
            };
            z.remove_range(start, end)
        },
        |n| *n > 0,
    )?;
    drop(t);
    let Some((n, emptied)) = r else {
        return Ok(Reply::Int(0));
    };
    if n > 0 {
        notify_removed(ctx, event, a[1], emptied);
    }
    Ok(Reply::Int(n as i64))
}

/// ZREMRANGEBYRANK key start stop
fn zremrangebyrank(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let range = Range::Rank(args::int(a[2])?, args::int(a[3])?);
    zremrange_generic(ctx, a, range, "zremrangebyrank")
}

/// ZREMRANGEBYSCORE key min max
fn zremrangebyscore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let range = Range::Score(score_bound(a[2])?, score_bound(a[3])?);
    zremrange_generic(ctx, a, range, "zremrangebyscore")
}

/// ZREMRANGEBYLEX key min max
fn zremrangebylex(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let range = Range::Lex(lex_bound(a[2])?, lex_bound(a[3])?);
    zremrange_generic(ctx, a, range, "zremrangebylex")
}

// ---------------------------------------------------------------------------------------------
// Pops
// ---------------------------------------------------------------------------------------------

/// What a pop took: the index (into the keys given) of the set it came from, the entries in
/// pop order, and whether the set was emptied (and deleted).
pub(crate) struct Popped {
    pub key_index: usize,
    pub items: Vec<(Member, f64)>,
    pub emptied: bool,
}

/// Pops up to `count` entries (lowest first, or highest with `max`) from the first of `keys`
/// holding a sorted set, as ZMPOP and the blocking pops do (`genericZpopCommand`). A key of
/// another type met before a sorted set is WRONGTYPE, unless `rewoken` (a parked client run
/// again skips it); missing keys are skipped. Callers raise the notifications (`notify_pop`)
/// once the transaction is dropped.
pub(crate) fn pop_first(
    t: &mut Txn<'_>,
    keys: &[&[u8]],
    max: bool,
    count: usize,
    rewoken: bool,
) -> Result<Option<Popped>, CmdError> {
    for (key_index, key) in keys.iter().enumerate() {
        let r = modify(
            t,
            key,
            |z| {
                let n = count.min(z.len());
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    let i = if max { z.len() - 1 } else { 0 };
                    items.push(z.pop(i).expect("within length"));
                }
                items
            },
            |items| !items.is_empty(),
        );
        let r = match r {
            Err(CmdError::WrongType) if rewoken => continue,
            r => r?,
        };
        if let Some((items, emptied)) = r {
            return Ok(Some(Popped {
                key_index,
                items,
                emptied,
            }));
        }
    }
    Ok(None)
}

/// The keyspace events of a pop (`zpopmin`/`zpopmax`, then `del` if it emptied the set).
pub(crate) fn notify_pop(ctx: &mut Ctx<'_>, key: &[u8], max: bool, p: &Popped) {
    if !p.items.is_empty() {
        notify_removed(ctx, if max { "zpopmax" } else { "zpopmin" }, key, p.emptied);
    }
}

/// The reply of ZMPOP and BZMPOP: `[key, [[member, score], ...]]`.
pub(crate) fn popped_reply(proto: Proto, key: &[u8], p: &Popped) -> Reply {
    let pairs = p
        .items
        .iter()
        .map(|(m, s)| Reply::Array(vec![Reply::bulk_from(m.as_bytes()), score_reply(proto, *s)]))
        .collect();
    Reply::Array(vec![Reply::bulk_from(key), Reply::Array(pairs)])
}

/// ZPOPMIN key [count]
fn zpopmin(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    zpop_generic(ctx, a, false)
}

/// ZPOPMAX key [count]
fn zpopmax(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    zpop_generic(ctx, a, true)
}

fn zpop_generic(ctx: &mut Ctx<'_>, a: &[&[u8]], max: bool) -> Result<Reply, CmdError> {
    if a.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = match a.get(2) {
        None => None,
        Some(c) => match crate::protocol::request::parse_i64(c) {
            Some(n) if n >= 0 => Some(n as usize),
            _ => return Err(CmdError::err("ERR value is out of range, must be positive")),
        },
    };
    let proto = ctx.session.proto;
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    // Redis checks the type before honouring a zero count.
    if count == Some(0) {
        read(&mut t, a[1])?;
        return Ok(Reply::Array(Vec::new()));
    }
    let popped = pop_first(&mut t, &a[1..2], max, count.unwrap_or(1), false)?;
    drop(t);
    let Some(p) = popped else {
        return Ok(Reply::Array(Vec::new()));
    };
    notify_pop(ctx, a[1], max, &p);
    // RESP3 nests pairs only when a count was given.
    let nested = proto == Proto::Resp3 && count.is_some();
    let mut out = Vec::with_capacity(p.items.len() * 2);
    for (m, s) in &p.items {
        if nested {
            push_entry(&mut out, proto, m.as_bytes(), Some(*s));
        } else {
            out.push(Reply::bulk_from(m.as_bytes()));
            out.push(score_reply(proto, *s));
        }
    }
    Ok(Reply::Array(out))
}

/// ZMPOP numkeys key [key ...] <MIN | MAX> [COUNT count]
fn zmpop(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    mpop_generic(ctx, a, 1, None)
}

/// BZMPOP timeout numkeys key [key ...] <MIN | MAX> [COUNT count]
fn bzmpop(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let timeout = blocking::timeout_arg(a[1])?;
    mpop_generic(ctx, a, 2, Some(timeout))
}

/// The shared body of ZMPOP and BZMPOP: `first` is numkeys' position; `timeout` is set for
/// the blocking variant.
fn mpop_generic(
    ctx: &mut Ctx<'_>,
    a: &[&[u8]],
    first: usize,
    timeout: Option<Option<std::time::Duration>>,
) -> Result<Reply, CmdError> {
    let m = blocking::multi_pop_args(a, first, ["MIN", "MAX"])?;
    let (max, count) = (!m.first_end, m.count);
    let keys = &a[m.keys];
    let proto = ctx.session.proto;
    let ks = ctx.db().clone();
    let mut t = ks.txn(ctx.now, keys);
    let popped = pop_first(&mut t, keys, max, count, ctx.session.rewoken)?;
    let Some(p) = popped else {
        return Ok(match timeout {
            Some(timeout) => blocking::block(ctx, &ks, keys, timeout, a, Reply::NilArray),
            None => Reply::NilArray,
        });
    };
    drop(t);
    let key = &keys[p.key_index];
    notify_pop(ctx, key, max, &p);
    Ok(popped_reply(proto, key, &p))
}

/// BZPOPMIN key [key ...] timeout
fn bzpopmin(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    bzpop_generic(ctx, a, false)
}

/// BZPOPMAX key [key ...] timeout
fn bzpopmax(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    bzpop_generic(ctx, a, true)
}

/// The shared body of BZPOPMIN and BZPOPMAX: the first non-empty sorted set's lowest (or
/// highest) member, as `[key, member, score]`.
fn bzpop_generic(ctx: &mut Ctx<'_>, a: &[&[u8]], max: bool) -> Result<Reply, CmdError> {
    let timeout = blocking::timeout_arg(a[a.len() - 1])?;
    let keys = &a[1..a.len() - 1];
    let proto = ctx.session.proto;
    let ks = ctx.db().clone();
    let mut t = ks.txn(ctx.now, keys);
    let popped = pop_first(&mut t, keys, max, 1, ctx.session.rewoken)?;
    let Some(p) = popped.filter(|p| !p.items.is_empty()) else {
        return Ok(blocking::block(ctx, &ks, keys, timeout, a, Reply::NilArray));
    };
    drop(t);
    let key = &keys[p.key_index];
    notify_pop(ctx, key, max, &p);
    let (m, score) = &p.items[0];
    Ok(Reply::Array(vec![
        Reply::bulk_from(key),
        Reply::bulk_from(m.as_bytes()),
        score_reply(proto, *score),
    ]))
}

// ---------------------------------------------------------------------------------------------
// ZUNION / ZINTER / ZDIFF, their STORE forms, ZINTERCARD
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// `zunionInterAggregate`: a sum of opposite infinities is 0, not NaN.
    fn apply(self, acc: &mut f64, v: f64) {
        match self {
            Aggregate::Sum => {
                *acc += v;
                if acc.is_nan() {
                    *acc = 0.0;
                }
            }
            Aggregate::Min => *acc = acc.min(v),
            Aggregate::Max => *acc = acc.max(v),
        }
    }
}

/// How a set-operation command was called.
struct SetOpCall {
    op: SetOp,
    /// Index of `numkeys`.
    numkeys_at: usize,
    store: bool,
    card_only: bool,
}

/// ZUNION numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>]
/// [WITHSCORES]
fn zunion(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    setop_generic(
        ctx,
        a,
        SetOpCall {
            op: SetOp::Union,
            numkeys_at: 1,
            store: false,
            card_only: false,
        },
    )
}

/// ZINTER numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>]
/// [WITHSCORES]
fn zinter(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    setop_generic(
        ctx,
        a,
        SetOpCall {
            op: SetOp::Inter,
            numkeys_at: 1,
            store: false,
            card_only: false,
        },
    )
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
fn zdiff(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    setop_generic(
        ctx,
        a,
        SetOpCall {
            op: SetOp::Diff,
            numkeys_at: 1,
            store: false,
            card_only: false,
        },
    )
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]]
/// [AGGREGATE <SUM | MIN | MAX>]
fn zunionstore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    setop_generic(
        ctx,
        a,
        SetOpCall {
            op: SetOp::Union,
            numkeys_at: 2,
            store: true,
            card_only: false,
        },
    )
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]]
/// [AGGREGATE <SUM | MIN | MAX>]
fn zinterstore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    setop_generic(
        ctx,
        a,
        SetOpCall {
            op: SetOp::Inter,
            numkeys_at: 2,
            store: true,
            card_only: false,
        },
    )
}

/// ZDIFFSTORE destination numkeys key [key ...]
fn zdiffstore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    setop_generic(
        ctx,
        a,
        SetOpCall {
            op: SetOp::Diff,
            numkeys_at: 2,
            store: true,
            card_only: false,
        },
    )
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
fn zintercard(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    setop_generic(
        ctx,
        a,
        SetOpCall {
            op: SetOp::Inter,
            numkeys_at: 1,
            store: false,
            card_only: true,
        },
    )
}

/// One input of a set operation: its length (0 when missing) and weight.
struct Source {
    key_at: usize,
    len: usize,
    weight: f64,
}

/// Calls `f` with each (member, score) of a set-operation input: sorted-set scores, or 1 for
/// each member of a plain set, as Redis's `zuiNext` gives them.
fn for_each_input(t: &mut Txn<'_>, key: &[u8], mut f: impl FnMut(&[u8], f64)) {
    match t.get(key).map(|e| &e.value) {
        Some(Value::ZSet(z)) => z.iter().for_each(|(m, s)| f(m.as_bytes(), s)),
        Some(Value::Set(s)) => s.iter().for_each(|m| f(m.as_bytes(), 1.0)),
        _ => {}
    }
}

fn input_contains(t: &mut Txn<'_>, key: &[u8], m: &[u8]) -> Option<f64> {
    match t.get(key).map(|e| &e.value) {
        Some(Value::ZSet(z)) => z.score(m),
        Some(Value::Set(s)) => s.contains(m).then_some(1.0),
        _ => None,
    }
}

/// `weight × score`, where 0 × inf counts as 0 rather than NaN (every input of a union, the
/// first of an intersection).
fn weighted(score: f64, weight: f64) -> f64 {
    let v = score * weight;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

type Acc = indexmap::IndexMap<Member, f64, foldhash::fast::RandomState>;

/// The shared body of the set operations (`zunionInterDiffGenericCommand`): inputs are looked
/// up and type-checked before the options are parsed, as in Redis.
fn setop_generic(ctx: &mut Ctx<'_>, a: &[&[u8]], call: SetOpCall) -> Result<Reply, CmdError> {
    let name = ctx.spec.name;
    let n = args::int(a[call.numkeys_at])?;
    if n < 1 {
        return Err(CmdError::err(format!(
            "ERR at least 1 input key is needed for '{name}' command"
        )));
    }
    let first = call.numkeys_at + 1;
    if n as u64 > (a.len() - first) as u64 {
        return Err(CmdError::Syntax);
    }
    let n = n as usize;
    let proto = ctx.session.proto;
    let limits = ctx.server.params.encoding_limits();
    let dst = call.store.then(|| &a[1]);
    let mut t = ctx
        .db()
        .txn(ctx.now, dst.into_iter().chain(&a[first..first + n]));
    let mut srcs = Vec::with_capacity(n);
    for (key_at, key) in a.iter().enumerate().skip(first).take(n) {
        let len = match t.peek(key).map(|e| &e.value) {
            None => 0,
            Some(Value::ZSet(z)) => z.len(),
            Some(Value::Set(s)) => s.len(),
            Some(_) => return Err(CmdError::WrongType),
        };
        srcs.push(Source {
            key_at,
            len,
            weight: 1.0,
        });
    }
    let (mut aggregate, mut withscores, mut limit) = (Aggregate::Sum, false, 0usize);
    let mut j = first + n;
    while j < a.len() {
        let left = a.len() - j;
        let o = &a[j];
        if call.op != SetOp::Diff && !call.card_only && left > n && args::is(o, "WEIGHTS") {
            for (k, s) in srcs.iter_mut().enumerate() {
                s.weight = args::parse_f64_in_range(a[j + 1 + k])
                    .ok_or_else(|| CmdError::err("ERR weight value is not a float"))?;
            }
            j += 1 + n;
        } else if call.op != SetOp::Diff && !call.card_only && left >= 2 && args::is(o, "AGGREGATE")
        {
            let v = &a[j + 1];
            aggregate = if args::is(v, "SUM") {
                Aggregate::Sum
            } else if args::is(v, "MIN") {
                Aggregate::Min
            } else if args::is(v, "MAX") {
                Aggregate::Max
            } else {
                return Err(CmdError::Syntax);
            };
            j += 2;
        } else if !call.store && !call.card_only && args::is(o, "WITHSCORES") {
            withscores = true;
            j += 1;
        } else if call.card_only && left >= 2 && args::is(o, "LIMIT") {
            limit = match crate::protocol::request::parse_i64(a[j + 1]) {
                Some(l) if l >= 0 => l as usize,
                _ => return Err(CmdError::err("ERR LIMIT can't be negative")),
            };
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }

    // Redis walks union and intersection inputs from the smallest to the largest: the order
    // of the additions, so what opposite infinities sum to (0) and how sums round.
    if call.op != SetOp::Diff {
        srcs.sort_by_key(|s| s.len);
    }
    let mut acc = Acc::default();
    match call.op {
        SetOp::Union => {
            for s in &srcs {
                for_each_input(&mut t, a[s.key_at], |m, score| {
                    let v = weighted(score, s.weight);
                    match acc.get_mut(m) {
                        Some(cur) => aggregate.apply(cur, v),
                        None => {
                            acc.insert(Member::new(m), v);
                        }
                    }
                });
            }
        }
        SetOp::Inter => {
            // Walk the smallest input, probing the others.
            if srcs[0].len > 0 {
                let mut cands: Vec<(Member, f64)> = Vec::with_capacity(srcs[0].len);
                for_each_input(&mut t, a[srcs[0].key_at], |m, score| {
                    cands.push((Member::new(m), weighted(score, srcs[0].weight)));
                });
                'next: for (m, mut score) in cands {
                    for s in &srcs[1..] {
                        match input_contains(&mut t, a[s.key_at], m.as_bytes()) {
                            // Only the first input's product is cleared of NaN (inf × 0);
                            // a later one reaches the sum, which makes it 0, as in Redis.
                            Some(v) => aggregate.apply(&mut score, v * s.weight),
                            None => continue 'next,
                        }
                    }
                    acc.insert(m, score);
                    if call.card_only && limit != 0 && acc.len() >= limit {
                        break;
                    }
                }
            }
        }
        SetOp::Diff => {
            for_each_input(&mut t, a[srcs[0].key_at], |m, score| {
                acc.insert(Member::new(m), score);
            });
            for s in &srcs[1..] {
                if acc.is_empty() {
                    break;
                }
                for_each_input(&mut t, a[s.key_at], |m, _| {
                    acc.swap_remove(m);
                });
            }
        }
    }
    if call.card_only {
        return Ok(Reply::Int(acc.len() as i64));
    }
    let mut items: Vec<(Member, f64)> = acc.into_iter().collect();
    items.sort_unstable_by(|x, y| cmp_entry(x.1, x.0.as_bytes(), y.1, y.0.as_bytes()));
    if !call.store {
        drop(t);
        let mut out = Vec::with_capacity(if withscores && proto == Proto::Resp2 {
            items.len() * 2
        } else {
            items.len()
        });
        for (m, s) in &items {
            push_entry(&mut out, proto, m.as_bytes(), withscores.then_some(*s));
        }
        return Ok(Reply::Array(out));
    }
    let card = items.len();
    let dst = &a[1];
    let stored = store(&mut t, dst, items, &limits);
    drop(t);
    match stored {
        Some(true) => ctx.notify(NOTIFY_ZSET, store_event(call.op), dst),
        Some(false) => ctx.notify(NOTIFY_GENERIC, "del", dst),
        None => {}
    }
    Ok(Reply::Int(card as i64))
}

fn store_event(op: SetOp) -> &'static str {
    match op {
        SetOp::Union => "zunionstore",
        SetOp::Inter => "zinterstore",
        SetOp::Diff => "zdiffstore",
    }
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER, ZSCAN
// ---------------------------------------------------------------------------------------------

/// ZRANDMEMBER key [count [WITHSCORES]]
fn zrandmember(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let proto = ctx.session.proto;
    if a.len() == 2 {
        let mut t = ctx.db().txn(ctx.now, &a[1..2]);
        let Some(z) = read(&mut t, a[1])? else {
            return Ok(Reply::Nil);
        };
        let (m, _) = z.sample(fastrand::usize(..z.len())).expect("non-empty");
        return Ok(Reply::bulk_from(m.as_bytes()));
    }
    let l = args::int(a[2])?;
    if l == i64::MIN {
        return Err(CmdError::err(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    if a.len() > 4 || (a.len() == 4 && !args::is(a[3], "WITHSCORES")) {
        return Err(CmdError::Syntax);
    }
    let withscores = a.len() == 4;
    if withscores && !(i64::MIN / 2..=i64::MAX / 2).contains(&l) {
        return Err(CmdError::err("ERR value is out of range"));
    }
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let Some(z) = read(&mut t, a[1])? else {
        return Ok(Reply::Array(Vec::new()));
    };
    let size = z.len();
    let (count, uniq) = (l.unsigned_abs() as usize, l >= 0);
    let mut out = Vec::new();
    let emit = |out: &mut Vec<Reply>, i: usize| {
        let (m, s) = z.sample(i).expect("in range");
        push_entry(out, proto, m.as_bytes(), withscores.then_some(s));
    };
    if count == 0 {
        return Ok(Reply::Array(out));
    }
    if !uniq {
        for _ in 0..count {
            emit(&mut out, fastrand::usize(..size));
        }
    } else if count >= size {
        (0..size).for_each(|i| emit(&mut out, i));
    } else if count * 3 > size {
        // Many of the members: shuffle a prefix of the positions.
        let mut pos: Vec<usize> = (0..size).collect();
        for i in 0..count {
            pos.swap(i, fastrand::usize(i..size));
        }
        pos[..count].iter().for_each(|&i| emit(&mut out, i));
    } else {
        let mut seen = std::collections::HashSet::with_capacity(count);
        while seen.len() < count {
            let i = fastrand::usize(..size);
            if seen.insert(i) {
                emit(&mut out, i);
            }
        }
    }
    Ok(Reply::Array(out))
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
fn zscan(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let cursor = parse_cursor(a[2])?;
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let Some(z) = read(&mut t, a[1])? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let ScanOpts { pattern, count, .. } = parse_scan_opts(a, 3, ScanOf::Zset)?;
    let mut out = Vec::new();
    let mut keep = |m: &Member, s: f64| {
        if pattern.is_none_or(|p| glob::matches(p, m.as_bytes(), false)) {
            out.push(Reply::bulk_from(m.as_bytes()));
            out.push(Reply::bulk_from(format_score(s).as_bytes()));
        }
    };
    // Listpacks come back whole in one call; larger sets are walked by position downward, so
    // removals (which move the last entry into the hole) never hide a member from the scan.
    let next = if z.is_compact() {
        z.iter().for_each(|(m, s)| keep(m, s));
        0
    } else {
        let mut p = if cursor == 0 {
            z.len()
        } else {
            (cursor as usize).min(z.len())
        };
        let mut visited = 0;
        while p > 0 && visited < count {
            p -= 1;
            visited += 1;
            let (m, s) = z.sample(p).expect("below len");
            keep(m, s);
        }
        p as u64
    };
    Ok(scan_reply(next, out))
}
