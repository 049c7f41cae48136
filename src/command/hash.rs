//! Hashes (Redis's `t_hash.c`). HSET/HMSET share `hset_generic`; HKEYS/HVALS/HGETALL share
//! `getall`. Also home of the pieces the collection families share: the `*SCAN` cursor walk
//! and option parser, and the random-count rules of HRANDFIELD/SRANDMEMBER.

use super::dispatch::Ctx;
use super::spec::{cmd, flags::*, key_flags::*, CommandSpec, KeySpec};
use crate::config::params::{NOTIFY_GENERIC, NOTIFY_HASH};
use crate::protocol::{args, CmdError, Proto, Reply};
use crate::storage::keyspace::Txn;
use crate::storage::value::{EncodingLimits, HashValue, Member, Value};
use crate::util::glob;
use crate::util::long_double::LongDouble;

const H: &[&str] = &["@hash"];
const G: &str = "hash";
const K1_RO: &[KeySpec] = &[KeySpec::single(1, RO)];
const K1_RO_ACC: &[KeySpec] = &[KeySpec::single(1, RO | ACCESS)];
const K1_RW_UPD: &[KeySpec] = &[KeySpec::single(1, RW | UPDATE)];
const K1_RW_ACC_UPD: &[KeySpec] = &[KeySpec::single(1, RW | ACCESS | UPDATE)];
const ALL: &str = "O(N) where N is the size of the hash.";
const SCAN_CPLX: &str = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.";

#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[
    cmd("hset", -4, WRITE | DENYOOM | FAST, H, K1_RW_UPD, hset, "Creates or modifies the value of a field in a hash.", "2.0.0", G,
        "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.").args("key field value [field value ...]"),
    cmd("hsetnx", 4, WRITE | DENYOOM | FAST, H, &[KeySpec::single(1, RW | INSERT)], hsetnx, "Sets the value of a field in a hash only when the field doesn't exist.", "2.0.0", G, "O(1)").args("key field value"),
    cmd("hget", 3, READONLY | FAST, H, K1_RO_ACC, hget, "Returns the value of a field in a hash.", "2.0.0", G, "O(1)").args("key field"),
    cmd("hmget", -3, READONLY | FAST, H, K1_RO_ACC, hmget, "Returns the values of all fields in a hash.", "2.0.0", G, "O(N) where N is the number of fields being requested.").args("key field [field ...]"),
    cmd("hmset", -4, WRITE | DENYOOM | FAST, H, K1_RW_UPD, hmset, "Sets the values of multiple fields.", "2.0.0", G, "O(N) where N is the number of fields being set.").args("key field value [field value ...]"),
    cmd("hgetall", 2, READONLY, H, K1_RO_ACC, hgetall, "Returns all fields and values in a hash.", "2.0.0", G, ALL).args("key").tips(&["nondeterministic_output_order"]),
    cmd("hdel", -3, WRITE | FAST, H, &[KeySpec::single(1, RW | DELETE)], hdel, "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", "2.0.0", G, "O(N) where N is the number of fields to be removed.").args("key field [field ...]"),
    cmd("hexists", 3, READONLY | FAST, H, K1_RO, hexists, "Determines whether a field exists in a hash.", "2.0.0", G, "O(1)").args("key field"),
    cmd("hlen", 2, READONLY | FAST, H, K1_RO, hlen, "Returns the number of fields in a hash.", "2.0.0", G, "O(1)").args("key"),
    cmd("hkeys", 2, READONLY, H, K1_RO_ACC, hkeys, "Returns all fields in a hash.", "2.0.0", G, ALL).args("key").tips(&["nondeterministic_output_order"]),
    cmd("hvals", 2, READONLY, H, K1_RO_ACC, hvals, "Returns all values in a hash.", "2.0.0", G, ALL).args("key").tips(&["nondeterministic_output_order"]),
    cmd("hincrby", 4, WRITE | DENYOOM | FAST, H, K1_RW_ACC_UPD, hincrby, "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.", "2.0.0", G, "O(1)").args("key field increment"),
    cmd("hincrbyfloat", 4, WRITE | DENYOOM | FAST, H, K1_RW_ACC_UPD, hincrbyfloat, "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.", "2.6.0", G, "O(1)").args("key field increment"),
    cmd("hstrlen", 3, READONLY | FAST, H, K1_RO, hstrlen, "Returns the length of the value of a field.", "3.2.0", G, "O(1)").args("key field"),
    cmd("hrandfield", -2, READONLY, H, K1_RO_ACC, hrandfield, "Returns one or more random fields from a hash.", "6.2.0", G, "O(N) where N is the number of fields returned").args("key [count [WITHVALUES]]").tips(&["nondeterministic_output"]),
    cmd("hscan", -3, READONLY, H, K1_RO_ACC, hscan, "Iterates over fields and values of a hash.", "2.8.0", G, SCAN_CPLX).args("key cursor [MATCH pattern] [COUNT count] [NOVALUES]").tips(&["nondeterministic_output"]),
];

// ---------------------------------------------------------------------------------------------
// Shared with the set family
// ---------------------------------------------------------------------------------------------

/// A stored member as a bulk reply (inline when short: no allocation).
pub(crate) fn member<M: std::borrow::Borrow<[u8]>>(m: &M) -> Reply {
    Reply::bulk_from(m.borrow())
}

/// A `*SCAN` cursor (Redis's `parseScanCursorOrReply`): an unsigned decimal, which `strtoul`
/// lets start with a `+` (a leading blank Redis 7.0 refuses).
pub(crate) fn parse_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    let s = arg.strip_prefix(b"+").unwrap_or(arg);
    std::str::from_utf8(s)
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| CmdError::err("ERR invalid cursor"))
}

/// Which `*SCAN` is parsing its options: each allows one more of its own.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScanOf {
    /// SCAN: `TYPE type`.
    Keys,
    /// HSCAN: `NOVALUES` (Redis 7.4).
    Hash,
    Set,
    Zset,
}

/// `[MATCH pattern] [COUNT count]` and the options of one `*SCAN` (`*` matches everything,
/// so it is dropped).
pub(crate) struct ScanOpts<'a> {
    pub pattern: Option<&'a [u8]>,
    pub count: usize,
    /// SCAN's `TYPE`.
    pub type_name: Option<&'a [u8]>,
    /// HSCAN's `NOVALUES`: fields alone.
    pub no_values: bool,
}

impl ScanOpts<'_> {
    pub fn keeps(&self, m: &[u8]) -> bool {
        self.pattern.is_none_or(|p| glob::matches(p, m, false))
    }
}

/// The options after the cursor, from `a[from]` on, as Redis's `scanGenericCommand` parses
/// them (which, but for SCAN, happens only once the key is known to exist).
pub(crate) fn parse_scan_opts<'a>(
    a: &[&'a [u8]],
    from: usize,
    of: ScanOf,
) -> Result<ScanOpts<'a>, CmdError> {
    let mut opts = ScanOpts {
        pattern: None,
        count: 10,
        type_name: None,
        no_values: false,
    };
    let mut i = from;
    while i < a.len() {
        let pair = i + 1 < a.len();
        if pair && args::is(a[i], "COUNT") {
            let c = args::int(a[i + 1])?;
            if c < 1 {
                return Err(CmdError::Syntax);
            }
            opts.count = c as usize;
        } else if pair && args::is(a[i], "MATCH") {
            opts.pattern = Some(a[i + 1]).filter(|p| *p != b"*");
        } else if pair && of == ScanOf::Keys && args::is(a[i], "TYPE") {
            opts.type_name = Some(a[i + 1]);
        } else if args::is(a[i], "NOVALUES") {
            if of != ScanOf::Hash {
                return Err(CmdError::err(
                    "ERR NOVALUES option can only be used in HSCAN",
                ));
            }
            opts.no_values = true;
            i += 1;
            continue;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    Ok(opts)
}

/// One step of a cursor walk over positions `0..len`: the positions to visit and the next
/// cursor (0 when done). Compact encodings answer whole, as Redis does for listpacks and
/// intsets. Otherwise positions are walked downward from the cursor (0 = from the top):
/// removal moves the last entry into the hole, so an entry only ever moves from above the
/// cursor to below it, and every entry present for the whole scan is returned at least once.
pub(crate) fn scan_step(
    len: usize,
    cursor: u64,
    count: usize,
    compact: bool,
) -> (u64, std::ops::Range<usize>) {
    if compact {
        return (0, 0..len);
    }
    let top = if cursor == 0 {
        len
    } else {
        (cursor.min(len as u64)) as usize
    };
    let low = top.saturating_sub(count);
    (low as u64, low..top)
}

/// The scan reply: the next cursor and the elements found.
pub(crate) fn scan_reply(next: u64, items: Vec<Reply>) -> Reply {
    Reply::Array(vec![Reply::bulk(next.to_string()), Reply::Array(items)])
}

/// Random replies with repetition (negative counts) are built whole before they are sent,
/// unlike Redis, which streams them; bounding them keeps one call from exhausting memory for
/// every tenant.
pub(crate) const RANDOM_REPLY_LIMIT: u64 = 1 << 20;

/// The count argument of HRANDFIELD/SRANDMEMBER (`getRangeLongFromObjectOrReply` over
/// -LONG_MAX..LONG_MAX): the count and whether elements must be unique.
pub(crate) fn random_count(arg: &[u8]) -> Result<(u64, bool), CmdError> {
    let l = args::int(arg)?;
    if l == i64::MIN {
        return Err(CmdError::err(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    Ok((l.unsigned_abs(), l >= 0))
}

/// Refuses a repeated-sample reply beyond `RANDOM_REPLY_LIMIT`.
pub(crate) fn check_random_limit(count: u64) -> Result<(), CmdError> {
    if count > RANDOM_REPLY_LIMIT {
        return Err(CmdError::Other(
            format!("ERR count is too large, at most {RANDOM_REPLY_LIMIT} random elements may be repeated in one reply").into(),
        ));
    }
    Ok(())
}

/// `count` distinct positions out of `0..size` (Floyd's sampling), in ascending order, which
/// is the order Redis's listpack sampling returns them in.
pub(crate) fn sample_unique(size: usize, count: usize) -> Vec<usize> {
    let mut chosen = foldhash::HashSet::with_capacity_and_hasher(count, Default::default());
    for j in size - count..size {
        let t = fastrand::usize(..=j);
        if !chosen.insert(t) {
            chosen.insert(j);
        }
    }
    let mut v: Vec<usize> = chosen.into_iter().collect();
    v.sort_unstable();
    v
}

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

/// Reads a hash for a command: None when missing, WRONGTYPE for other types.
fn read_hash<'t>(t: &'t mut Txn<'_>, key: &[u8]) -> Result<Option<&'t HashValue>, CmdError> {
    match t.get(key) {
        None => Ok(None),
        Some(e) => e.value.as_hash().map(Some).ok_or(CmdError::WrongType),
    }
}

/// Writes a hash in place, creating it when missing (`hashTypeLookupWriteOrCreate`); a hash
/// the operation leaves empty is deleted by the keyspace. `changed` says from `f`'s result
/// whether the hash changed (watchers hear only of real changes and never of an error).
fn write_hash<R>(
    t: &mut Txn<'_>,
    key: &[u8],
    f: impl FnOnce(&mut HashValue) -> Result<R, CmdError>,
    changed: impl FnOnce(&R) -> bool,
) -> Result<R, CmdError> {
    t.write_if(
        key,
        || Some(Value::Hash(Box::new(HashValue::new()))),
        |v| v.as_hash_mut().map_or(Err(CmdError::WrongType), f),
        |r| matches!(r, Ok(r) if changed(r)),
    )
    .expect("created when missing")
}

fn limits(ctx: &Ctx<'_>) -> EncodingLimits {
    ctx.server.params.encoding_limits()
}

/// The shared body of HSET and HMSET.
fn hset_generic(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<i64, CmdError> {
    if !a.len().is_multiple_of(2) {
        return Err(CmdError::WrongArity(ctx.spec.name.to_string()));
    }
    let l = limits(ctx);
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let added = write_hash(
        &mut t,
        a[1],
        |h| {
            h.prepare(&a[2..], &l);
            Ok(a[2..]
                .chunks_exact(2)
                .filter(|kv| h.set(kv[0], kv[1], &l))
                .count() as i64)
        },
        |_| true,
    )?;
    drop(t);
    ctx.notify(NOTIFY_HASH, "hset", a[1]);
    Ok(added)
}

/// HSET key field value [field value ...]
fn hset(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    hset_generic(ctx, a).map(Reply::Int)
}

/// HMSET key field value [field value ...]
fn hmset(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    hset_generic(ctx, a).map(|_| Reply::Ok)
}

/// HSETNX key field value
fn hsetnx(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let l = limits(ctx);
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let set = write_hash(
        &mut t,
        a[1],
        |h| {
            if h.contains(a[2]) {
                return Ok(false);
            }
            h.prepare(&a[2..4], &l);
            Ok(h.set(a[2], a[3], &l))
        },
        |set| *set,
    )?;
    drop(t);
    if set {
        ctx.notify(NOTIFY_HASH, "hset", a[1]);
    }
    Ok(Reply::Int(set as i64))
}

/// HGET key field
fn hget(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let h = read_hash(&mut t, a[1])?;
    let found = h.is_some();
    let r = h.and_then(|h| h.get(a[2])).map_or(Reply::Nil, member);
    drop(t);
    ctx.count_lookup(found);
    Ok(r)
}

/// HMGET key field [field ...]
fn hmget(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let h = read_hash(&mut t, a[1])?;
    let found = h.is_some();
    let out = a[2..]
        .iter()
        .map(|f| h.and_then(|h| h.get(f)).map_or(Reply::Nil, member))
        .collect();
    drop(t);
    ctx.count_lookup(found);
    Ok(Reply::Array(out))
}

#[derive(Clone, Copy, PartialEq)]
enum Part {
    Keys,
    Values,
    Both,
}

/// The shared body of HKEYS, HVALS and HGETALL (`genericHgetallCommand`).
fn getall(ctx: &mut Ctx<'_>, key: &[u8], part: Part) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, [key]);
    let h = read_hash(&mut t, key)?;
    let found = h.is_some();
    let r = match (h, part) {
        (None, Part::Both) => Reply::Map(Vec::new()),
        (None, _) => Reply::Array(Vec::new()),
        (Some(h), Part::Both) => {
            Reply::Map(h.iter().map(|(f, v)| (member(f), member(v))).collect())
        }
        (Some(h), Part::Keys) => Reply::Array(h.iter().map(|(f, _)| member(f)).collect()),
        (Some(h), Part::Values) => Reply::Array(h.iter().map(|(_, v)| member(v)).collect()),
    };
    drop(t);
    ctx.count_lookup(found);
    Ok(r)
}

/// HGETALL key
fn hgetall(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    getall(ctx, a[1], Part::Both)
}

/// HKEYS key
fn hkeys(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    getall(ctx, a[1], Part::Keys)
}

/// HVALS key
fn hvals(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    getall(ctx, a[1], Part::Values)
}

/// HDEL key field [field ...]
fn hdel(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let r = t.write_if(
        a[1],
        || None,
        |v| {
            let h = v.as_hash_mut().ok_or(CmdError::WrongType)?;
            let mut deleted = 0;
            for f in &a[2..] {
                if h.remove(f).is_some() {
                    deleted += 1;
                    if h.is_empty() {
                        break;
                    }
                }
            }
            Ok::<_, CmdError>((deleted, h.is_empty()))
        },
        |r| matches!(r, Ok((n, _)) if *n > 0),
    );
    drop(t);
    let (deleted, emptied) = r.unwrap_or(Ok((0, false)))?;
    if deleted > 0 {
        ctx.notify(NOTIFY_HASH, "hdel", a[1]);
        if emptied {
            ctx.notify(NOTIFY_GENERIC, "del", a[1]);
        }
    }
    Ok(Reply::Int(deleted))
}

/// A single-field read (HEXISTS, HSTRLEN, HLEN).
fn read_one(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(&HashValue) -> i64,
) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, [key]);
    let h = read_hash(&mut t, key)?;
    let found = h.is_some();
    let n = h.map_or(0, f);
    drop(t);
    ctx.count_lookup(found);
    Ok(Reply::Int(n))
}

/// HEXISTS key field
fn hexists(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    read_one(ctx, a[1], |h| h.contains(a[2]) as i64)
}

/// HSTRLEN key field
fn hstrlen(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    read_one(ctx, a[1], |h| h.get(a[2]).map_or(0, Member::len) as i64)
}

/// HLEN key
fn hlen(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    read_one(ctx, a[1], |h| h.len() as i64)
}

/// HINCRBY key field increment
fn hincrby(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let by = args::int(a[3])?;
    let l = limits(ctx);
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let new = write_hash(
        &mut t,
        a[1],
        |h| {
            let cur = match h.get(a[2]) {
                None => 0,
                Some(m) => crate::protocol::request::parse_i64(m.as_bytes())
                    .ok_or_else(|| CmdError::err("ERR hash value is not an integer"))?,
            };
            let new = cur.checked_add(by).ok_or(CmdError::Overflow)?;
            h.set(a[2], itoa::Buffer::new().format(new).as_bytes(), &l);
            Ok(new)
        },
        |_| true,
    )?;
    drop(t);
    ctx.notify(NOTIFY_HASH, "hincrby", a[1]);
    Ok(Reply::Int(new))
}

/// HINCRBYFLOAT key field increment
fn hincrbyfloat(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let by = LongDouble::parse(a[3]).ok_or(CmdError::NotFloat)?;
    if !by.is_finite() {
        return Err(CmdError::err("ERR value is NaN or Infinity"));
    }
    let l = limits(ctx);
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let text = write_hash(
        &mut t,
        a[1],
        |h| {
            let cur = match h.get(a[2]) {
                None => LongDouble::zero(),
                Some(m) => LongDouble::parse(m.as_bytes())
                    .ok_or_else(|| CmdError::err("ERR hash value is not a float"))?,
            };
            let sum = cur.add(&by);
            if !sum.is_finite() {
                return Err(CmdError::NanOrInfinity);
            }
            // INCRBYFLOAT's arithmetic and formatting: Redis's long double.
            let text = sum.to_human();
            h.set(a[2], text.as_bytes(), &l);
            Ok(text)
        },
        |_| true,
    )?;
    drop(t);
    ctx.notify(NOTIFY_HASH, "hincrbyfloat", a[1]);
    Ok(Reply::bulk(text))
}

/// HRANDFIELD key [count [WITHVALUES]]
fn hrandfield(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let resp3 = ctx.session.proto == Proto::Resp3;
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    if a.len() == 2 {
        let Some(h) = read_hash(&mut t, a[1])? else {
            return Ok(Reply::Nil);
        };
        let (f, _) = h.get_index(fastrand::usize(..h.len())).expect("non-empty");
        return Ok(member(f));
    }
    let (count, uniq) = random_count(a[2])?;
    let with_values = match a.len() {
        3 => false,
        4 if args::is(a[3], "WITHVALUES") => true,
        _ => return Err(CmdError::Syntax),
    };
    if with_values && count > (i64::MAX / 2) as u64 {
        return Err(CmdError::err("ERR value is out of range"));
    }
    let Some(h) = read_hash(&mut t, a[1])? else {
        return Ok(Reply::Array(Vec::new()));
    };
    let size = h.len();
    let push = |out: &mut Vec<Reply>, i: usize| {
        let (f, v) = h.get_index(i).expect("position below len");
        match (with_values, resp3) {
            (false, _) => out.push(member(f)),
            (true, true) => out.push(Reply::Array(vec![member(f), member(v)])),
            (true, false) => {
                out.push(member(f));
                out.push(member(v));
            }
        }
    };
    let mut out = Vec::new();
    if count == 0 {
        // Nothing to return.
    } else if !uniq || count == 1 {
        check_random_limit(count)?;
        out.reserve(count as usize * (1 + (with_values && !resp3) as usize));
        for _ in 0..count {
            push(&mut out, fastrand::usize(..size));
        }
    } else if count as usize >= size {
        (0..size).for_each(|i| push(&mut out, i));
    } else {
        for i in sample_unique(size, count as usize) {
            push(&mut out, i);
        }
    }
    Ok(Reply::Array(out))
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]
fn hscan(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let cursor = parse_cursor(a[2])?;
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let Some(h) = read_hash(&mut t, a[1])? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    // As Redis, options are only parsed once the key is known to exist.
    let opts = parse_scan_opts(a, 3, ScanOf::Hash)?;
    let (next, positions) = scan_step(h.len(), cursor, opts.count, h.is_compact());
    let mut out = Vec::new();
    for i in positions {
        let (f, v) = h.get_index(i).expect("position below len");
        if opts.keeps(f.as_bytes()) {
            out.push(member(f));
            if !opts.no_values {
                out.push(member(v));
            }
        }
    }
    Ok(scan_reply(next, out))
}
