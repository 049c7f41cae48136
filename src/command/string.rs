//! String commands (Redis's `t_string.c`). Variants share one body where Redis does:
//! SET/SETNX/SETEX/PSETEX/GETSET go through `set_generic`, INCR/DECR/INCRBY/DECRBY through
//! `incr_by`, GETRANGE/SUBSTR through `getrange`.

use super::dispatch::Ctx;
use super::keyspace::{deadline, Unit};
use super::spec::{cmd, flags::*, key_flags::*, CommandSpec, KeySpec};
use crate::config::params::{NOTIFY_GENERIC, NOTIFY_STRING};
use crate::protocol::{args, CmdError, Reply};
use crate::storage::keyspace::Txn;
use crate::storage::value::{Entry, Str, Value};
use crate::util::long_double::LongDouble;
use bytes::{Bytes, BytesMut};

const S: &[&str] = &["@string"];
const G: &str = "string";
const K1_RO: &[KeySpec] = &[KeySpec::single(1, RO | ACCESS)];
const K1_RW: &[KeySpec] = &[KeySpec::single(1, RW | ACCESS | UPDATE)];

#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[
    cmd("get", 2, READONLY | FAST, S, K1_RO, get, "Returns the string value of a key.", "1.0.0", G, "O(1)").args("key"),
    cmd("set", -3, WRITE | DENYOOM, S, &[KeySpec::single(1, RW | ACCESS | UPDATE | VARIABLE_FLAGS).notes("RW and ACCESS due to the optional `GET` argument")], set,
        "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", "1.0.0", G, "O(1)").args("key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]").key_flags(set_key_flags),
    cmd("setnx", 3, WRITE | DENYOOM | FAST, S, &[KeySpec::single(1, OW | INSERT)], setnx,
        "Set the string value of a key only when the key doesn't exist.", "1.0.0", G, "O(1)").args("key value"),
    cmd("setex", 4, WRITE | DENYOOM, S, &[KeySpec::single(1, OW | UPDATE)], setex,
        "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", "2.0.0", G, "O(1)").args("key seconds value"),
    cmd("psetex", 4, WRITE | DENYOOM, S, &[KeySpec::single(1, OW | UPDATE)], psetex,
        "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", "2.6.0", G, "O(1)").args("key milliseconds value"),
    cmd("getex", -2, WRITE | FAST, S, &[KeySpec::single(1, RW | ACCESS | UPDATE).notes("RW and UPDATE because it changes the TTL")], getex,
        "Returns the string value of a key after setting its expiration time.", "6.2.0", G, "O(1)").args("key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]"),
    cmd("getdel", 2, WRITE | FAST, S, &[KeySpec::single(1, RW | ACCESS | DELETE)], getdel,
        "Returns the string value of a key after deleting the key.", "6.2.0", G, "O(1)").args("key"),
    cmd("getset", 3, WRITE | DENYOOM | FAST, S, K1_RW, getset,
        "Returns the previous string value of a key after setting it to a new value.", "1.0.0", G, "O(1)").args("key value"),
    cmd("mget", -2, READONLY | FAST, S, &[KeySpec::range(1, -1, 1, RO | ACCESS)], mget,
        "Atomically returns the string values of one or more keys.", "1.0.0", G, "O(N) where N is the number of keys to retrieve.").args("key [key ...]").tips(&["request_policy:multi_shard"]),
    cmd("mset", -3, WRITE | DENYOOM, S, &[KeySpec::range(1, -1, 2, OW | UPDATE)], mset,
        "Atomically creates or modifies the string values of one or more keys.", "1.0.1", G, "O(N) where N is the number of keys to set.").args("key value [key value ...]").tips(&["request_policy:multi_shard", "response_policy:all_succeeded"]),
    cmd("msetnx", -3, WRITE | DENYOOM, S, &[KeySpec::range(1, -1, 2, OW | INSERT)], msetnx,
        "Atomically modifies the string values of one or more keys only when all keys don't exist.", "1.0.1", G, "O(N) where N is the number of keys to set.").args("key value [key value ...]").tips(&["request_policy:multi_shard", "response_policy:agg_min"]),
    cmd("incr", 2, WRITE | DENYOOM | FAST, S, K1_RW, incr,
        "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "1.0.0", G, "O(1)").args("key"),
    cmd("decr", 2, WRITE | DENYOOM | FAST, S, K1_RW, decr,
        "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "1.0.0", G, "O(1)").args("key"),
    cmd("incrby", 3, WRITE | DENYOOM | FAST, S, K1_RW, incrby,
        "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "1.0.0", G, "O(1)").args("key increment"),
    cmd("decrby", 3, WRITE | DENYOOM | FAST, S, K1_RW, decrby,
        "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", "1.0.0", G, "O(1)").args("key decrement"),
    cmd("incrbyfloat", 3, WRITE | DENYOOM | FAST, S, K1_RW, incrbyfloat,
        "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "2.6.0", G, "O(1)").args("key increment"),
    cmd("append", 3, WRITE | DENYOOM | FAST, S, &[KeySpec::single(1, RW | INSERT)], append,
        "Appends a string to the value of a key. Creates the key if it doesn't exist.", "2.0.0", G, "O(1)").args("key value"),
    cmd("strlen", 2, READONLY | FAST, S, &[KeySpec::single(1, RO)], strlen,
        "Returns the length of a string value.", "2.2.0", G, "O(1)").args("key"),
    cmd("getrange", 4, READONLY, S, K1_RO, getrange,
        "Returns a substring of the string stored at a key.", "2.4.0", G, "O(N) where N is the length of the returned string.").args("key start end"),
    cmd("substr", 4, READONLY, S, K1_RO, getrange,
        "Returns a substring from a string value.", "1.0.0", G, "O(N) where N is the length of the returned string.").args("key start end"),
    cmd("setrange", 4, WRITE | DENYOOM, S, &[KeySpec::single(1, RW | UPDATE)], setrange,
        "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", "2.2.0", G, "O(1)").args("key offset value").writes(setrange_writes),
    cmd("lcs", -3, READONLY, S, &[KeySpec::range(1, 1, 1, RO | ACCESS)], lcs,
        "Finds the longest common substring.", "7.0.0", G, "O(N*M) where N and M are the lengths of s1 and s2, respectively").args("key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]"),
];

/// SET's key flags for one call: a plain SET only overwrites; with GET it also reads.
fn set_key_flags(args: &[&[u8]], _spec: usize) -> u32 {
    if args.iter().skip(3).any(|a| args::is(a, "GET")) {
        RW | ACCESS | UPDATE
    } else {
        OW | UPDATE
    }
}

/// Redis's limit on the size a string may grow to by APPEND/SETRANGE.
/// Takes the size as `offset` + `extra` so an overflowing sum is refused, not wrapped.
fn check_size(ctx: &Ctx<'_>, offset: usize, extra: usize) -> Result<(), CmdError> {
    let total = offset.checked_add(extra).map_or(u64::MAX, |t| t as u64);
    if total > ctx.server.params.proto_max_bulk_len().max(0) as u64 {
        return Err(CmdError::err(
            "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
        ));
    }
    Ok(())
}

/// A stored string as a bulk reply: heap strings share their buffer, short ones are inlined.
pub fn str_reply(s: &Str) -> Reply {
    match s.shared() {
        Some(b) => Reply::Bulk(b.clone()),
        None => s.with_bytes(Reply::bulk_from),
    }
}

/// Reads a string for a command: None when missing, WRONGTYPE for other types.
fn read_str<'t>(t: &'t mut Txn<'_>, key: &[u8]) -> Result<Option<&'t Str>, CmdError> {
    match t.get(key) {
        None => Ok(None),
        Some(e) => e.value.as_str().map(Some).ok_or(CmdError::WrongType),
    }
}

/// GET key
fn get(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let v = read_str(&mut t, a[1])?.map(str_reply);
    drop(t);
    ctx.count_lookup(v.is_some());
    Ok(v.unwrap_or(Reply::Nil))
}

#[derive(PartialEq, Clone, Copy)]
enum Cond {
    Always,
    Nx,
    Xx,
}

#[derive(Clone, Copy)]
enum Ttl {
    /// Clear any TTL (plain SET).
    Clear,
    Keep,
    At(u64),
}

/// The shared body of SET and its variants (`setGenericCommand`).
fn set_generic(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    value: &[u8],
    cond: Cond,
    ttl: Ttl,
    get_old: bool,
) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, [key]);
    let old = match t.get(key) {
        None => None,
        Some(e) => match e.value.as_str() {
            Some(s) => Some((s.to_bytes(), e.expire_at)),
            // GET needs a string; plain SET overwrites any type.
            None if get_old => return Err(CmdError::WrongType),
            None => Some((Bytes::new(), e.expire_at)),
        },
    };
    let refused = match cond {
        Cond::Nx => old.is_some(),
        Cond::Xx => old.is_none(),
        Cond::Always => false,
    };
    let old_reply = |old: Option<(Bytes, u64)>| Reply::opt_bulk(old.map(|(v, _)| v));
    if refused {
        return Ok(if get_old { old_reply(old) } else { Reply::Nil });
    }
    let expire_at = match ttl {
        Ttl::Clear => 0,
        Ttl::Keep => old.as_ref().map_or(0, |(_, e)| *e),
        Ttl::At(at) => at,
    };
    if expire_at != 0 && expire_at <= t.now {
        // A deadline already past: the key ends up deleted, as in Redis.
        t.remove(key);
    } else {
        t.set(key, Value::Str(Str::from_slice(value)), expire_at);
    }
    ctx.notify(NOTIFY_STRING, "set", key);
    if matches!(ttl, Ttl::At(_)) {
        ctx.notify(NOTIFY_GENERIC, "expire", key);
    }
    Ok(if get_old { old_reply(old) } else { Reply::Ok })
}

/// The expiry option of SET and GETEX. Repeating the same option is allowed (the last value
/// wins), mixing two different ones is a syntax error, as in Redis.
#[derive(Clone, Copy, PartialEq)]
enum TtlOpt {
    At(Unit),
    KeepTtl,
    Persist,
}

/// Recognises an expiry option; `keep_or_persist` is the flag-only option the command allows.
fn ttl_opt(opt: &[u8], keep_or_persist: TtlOpt) -> Option<TtlOpt> {
    let unit = if args::is(opt, "EX") {
        Unit::Seconds
    } else if args::is(opt, "PX") {
        Unit::Millis
    } else if args::is(opt, "EXAT") {
        Unit::UnixSeconds
    } else if args::is(opt, "PXAT") {
        Unit::UnixMillis
    } else if (keep_or_persist == TtlOpt::KeepTtl && args::is(opt, "KEEPTTL"))
        || (keep_or_persist == TtlOpt::Persist && args::is(opt, "PERSIST"))
    {
        return Some(keep_or_persist);
    } else {
        return None;
    };
    Some(TtlOpt::At(unit))
}

/// An expiry option and its argument.
type TtlChoice<'a> = Option<(TtlOpt, Option<&'a [u8]>)>;

/// Parses the expiry options starting at `a[from]`, calling `other` for anything else.
/// Returns the chosen option and its argument.
fn parse_ttl_opts<'a>(
    a: &[&'a [u8]],
    from: usize,
    flag_opt: TtlOpt,
    mut other: impl FnMut(&[u8]) -> bool,
) -> Result<TtlChoice<'a>, CmdError> {
    let mut chosen: TtlChoice<'a> = None;
    let mut i = from;
    while i < a.len() {
        match ttl_opt(a[i], flag_opt) {
            Some(o) if chosen.is_none_or(|(c, _)| c == o) => {
                if let TtlOpt::At(_) = o {
                    let value = a.get(i + 1).ok_or(CmdError::Syntax)?;
                    chosen = Some((o, Some(*value)));
                    i += 1;
                } else {
                    chosen = Some((o, None));
                }
            }
            Some(_) => return Err(CmdError::Syntax),
            None if other(a[i]) => {}
            None => return Err(CmdError::Syntax),
        }
        i += 1;
    }
    Ok(chosen)
}

/// SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds |
/// PXAT unix-time-milliseconds | KEEPTTL]
fn set(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (mut cond, mut get_old, mut conflict) = (Cond::Always, false, false);
    let chosen = parse_ttl_opts(a, 3, TtlOpt::KeepTtl, |opt| {
        if args::is(opt, "NX") {
            conflict |= cond == Cond::Xx;
            cond = Cond::Nx;
        } else if args::is(opt, "XX") {
            conflict |= cond == Cond::Nx;
            cond = Cond::Xx;
        } else if args::is(opt, "GET") {
            get_old = true;
        } else {
            return false;
        }
        true
    })?;
    if conflict {
        return Err(CmdError::Syntax);
    }
    let ttl = match chosen {
        None => Ttl::Clear,
        Some((TtlOpt::At(unit), Some(v))) => Ttl::At(deadline(v, unit, ctx.now, "set", true)?),
        Some(_) => Ttl::Keep,
    };
    set_generic(ctx, a[1], a[2], cond, ttl, get_old)
}

/// SETNX key value
fn setnx(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let r = set_generic(ctx, a[1], a[2], Cond::Nx, Ttl::Clear, false)?;
    Ok(Reply::Int((r == Reply::Ok) as i64))
}

/// SETEX key seconds value
fn setex(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let at = deadline(a[2], Unit::Seconds, ctx.now, "setex", true)?;
    set_generic(ctx, a[1], a[3], Cond::Always, Ttl::At(at), false)
}

/// PSETEX key milliseconds value
fn psetex(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let at = deadline(a[2], Unit::Millis, ctx.now, "psetex", true)?;
    set_generic(ctx, a[1], a[3], Cond::Always, Ttl::At(at), false)
}

/// GETSET key value
fn getset(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    set_generic(ctx, a[1], a[2], Cond::Always, Ttl::Clear, true)
}

/// GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
/// PXAT unix-time-milliseconds | PERSIST]
fn getex(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let chosen = parse_ttl_opts(a, 2, TtlOpt::Persist, |_| false)?;
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let Some(v) = read_str(&mut t, a[1])?.map(Str::to_bytes) else {
        // As Redis: a missing key answers nil before the time argument is validated.
        return Ok(Reply::Nil);
    };
    match chosen {
        None => {}
        Some((TtlOpt::At(unit), Some(arg))) => {
            let at = deadline(arg, unit, t.now, "getex", true)?;
            if at <= t.now {
                t.remove(a[1]);
                ctx.notify(NOTIFY_GENERIC, "del", a[1]);
            } else {
                t.set_expire(a[1], at);
                ctx.notify(NOTIFY_GENERIC, "expire", a[1]);
            }
        }
        // PERSIST: an event only when there was a TTL to remove, as Redis.
        Some(_) if t.peek(a[1]).is_some_and(|e| e.expire_at != 0) => {
            t.set_expire(a[1], 0);
            ctx.notify(NOTIFY_GENERIC, "persist", a[1]);
        }
        Some(_) => {}
    }
    Ok(Reply::Bulk(v))
}

/// GETDEL key
fn getdel(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let Some(v) = read_str(&mut t, a[1])?.map(Str::to_bytes) else {
        return Ok(Reply::Nil);
    };
    t.remove(a[1]);
    ctx.notify(NOTIFY_GENERIC, "del", a[1]);
    Ok(Reply::Bulk(v))
}

/// MGET key [key ...]
fn mget(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let keys = &a[1..];
    let mut t = ctx.db().txn(ctx.now, keys);
    let out = keys
        .iter()
        .map(|k| match t.get(k) {
            // MGET answers nil for keys of other types rather than failing.
            Some(Entry {
                value: Value::Str(s),
                ..
            }) => str_reply(s),
            _ => Reply::Nil,
        })
        .collect();
    Ok(Reply::Array(out))
}

fn pairs(a: &[&[u8]], ctx: &Ctx<'_>) -> Result<(), CmdError> {
    if !(a.len() - 1).is_multiple_of(2) {
        return Err(CmdError::WrongArity(ctx.spec.name.to_string()));
    }
    Ok(())
}

/// MSET key value [key value ...]
fn mset(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    pairs(a, ctx)?;
    let mut t = ctx.db().txn(ctx.now, a[1..].iter().step_by(2));
    for kv in a[1..].chunks_exact(2) {
        t.set(kv[0], Value::Str(Str::from_slice(kv[1])), 0);
        ctx.notify(NOTIFY_STRING, "set", kv[0]);
    }
    Ok(Reply::Ok)
}

/// MSETNX key value [key value ...]
fn msetnx(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    pairs(a, ctx)?;
    let mut t = ctx.db().txn(ctx.now, a[1..].iter().step_by(2));
    if a[1..].iter().step_by(2).any(|k| t.exists(k)) {
        return Ok(Reply::Int(0));
    }
    for kv in a[1..].chunks_exact(2) {
        t.set(kv[0], Value::Str(Str::from_slice(kv[1])), 0);
        ctx.notify(NOTIFY_STRING, "set", kv[0]);
    }
    Ok(Reply::Int(1))
}

/// The shared body of INCR, DECR, INCRBY and DECRBY: one lookup, and an existing key keeps
/// its TTL, as in Redis.
fn incr_by(ctx: &mut Ctx<'_>, key: &[u8], by: i64) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, [key]);
    let reply = t.upsert(key, |v| -> Result<_, CmdError> {
        let cur = match v {
            None => 0,
            Some(v) => {
                let s = v.as_str().ok_or(CmdError::WrongType)?;
                s.as_int().ok_or(CmdError::NotInteger)?
            }
        };
        let new = cur.checked_add(by).ok_or(CmdError::Overflow)?;
        Ok((Reply::Int(new), Value::Str(Str::Int(new))))
    })?;
    ctx.notify(NOTIFY_STRING, "incrby", key);
    Ok(reply)
}

/// INCR key
fn incr(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    incr_by(ctx, a[1], 1)
}

/// DECR key
fn decr(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    incr_by(ctx, a[1], -1)
}

/// INCRBY key increment
fn incrby(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let by = args::int(a[2])?;
    incr_by(ctx, a[1], by)
}

/// DECRBY key decrement
fn decrby(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let by = args::int(a[2])?;
    let neg = by
        .checked_neg()
        .ok_or_else(|| CmdError::err("ERR decrement would overflow"))?;
    incr_by(ctx, a[1], neg)
}

/// INCRBYFLOAT key increment
fn incrbyfloat(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let reply = t.upsert(a[1], |v| -> Result<_, CmdError> {
        // Redis's order: the key's type, then its value, then the increment.
        let cur = match v {
            None => LongDouble::zero(),
            Some(v) => {
                let s = v.as_str().ok_or(CmdError::WrongType)?.to_bytes();
                LongDouble::parse(&s).ok_or(CmdError::NotFloat)?
            }
        };
        let by = LongDouble::parse(a[2]).ok_or(CmdError::NotFloat)?;
        let sum = cur.add(&by);
        if !sum.is_finite() {
            return Err(CmdError::NanOrInfinity);
        }
        let text = sum.to_human();
        // Redis stores the result as a plain string (never the int encoding).
        let value = Value::Str(Str::raw(text.as_bytes()));
        Ok((Reply::bulk(text), value))
    })?;
    ctx.notify(NOTIFY_STRING, "incrbyfloat", a[1]);
    Ok(reply)
}

/// APPEND key value
fn append(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (key, extra) = (&a[1], &a[2]);
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let cur_len = match read_str(&mut t, key)? {
        None => {
            t.set(key, Value::Str(Str::from_slice(extra)), 0);
            ctx.notify(NOTIFY_STRING, "append", key);
            return Ok(Reply::Int(extra.len() as i64));
        }
        Some(s) => s.len(),
    };
    check_size(ctx, cur_len, extra.len())?;
    let new_len = t
        .update(key, |v| {
            let s = v.as_str_mut().expect("checked string");
            let mut buf = BytesMut::with_capacity(cur_len + extra.len());
            s.with_bytes(|b| buf.extend_from_slice(b));
            buf.extend_from_slice(extra);
            let len = buf.len();
            *s = Str::modified(&buf);
            len
        })
        .expect("key is live");
    ctx.notify(NOTIFY_STRING, "append", key);
    Ok(Reply::Int(new_len as i64))
}

/// STRLEN key
fn strlen(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let len = read_str(&mut t, a[1])?.map_or(0, Str::len);
    Ok(Reply::Int(len as i64))
}

/// GETRANGE key start end (and SUBSTR)
fn getrange(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (mut start, mut end) = (args::int(a[2])?, args::int(a[3])?);
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let Some(s) = read_str(&mut t, a[1])? else {
        return Ok(Reply::bulk(Bytes::new()));
    };
    let out = s.with_bytes(|b| {
        let len = b.len() as i64;
        if start < 0 && end < 0 && start > end {
            return Bytes::new();
        }
        if start < 0 {
            start += len;
        }
        if end < 0 {
            end += len;
        }
        start = start.max(0);
        end = end.max(0);
        if end >= len {
            end = len - 1;
        }
        if len == 0 || start > end {
            return Bytes::new();
        }
        Bytes::copy_from_slice(&b[start as usize..=end as usize])
    });
    Ok(Reply::Bulk(out))
}

/// SETRANGE key offset value
/// What SETRANGE may write: the string up to the patch's end, zero-padded from the offset.
fn setrange_writes(a: &[&[u8]]) -> usize {
    match (a.get(2), a.get(3)) {
        (Some(offset), Some(patch)) if !patch.is_empty() => {
            let offset = args::int(offset).unwrap_or(0).max(0) as usize;
            offset.saturating_add(patch.len())
        }
        _ => 0,
    }
}

fn setrange(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let offset = args::int(a[2])?;
    if offset < 0 {
        return Err(CmdError::err("ERR offset is out of range"));
    }
    let (key, patch) = (&a[1], &a[3]);
    let offset = offset as usize;
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let cur_len = read_str(&mut t, key)?.map(Str::len);
    if patch.is_empty() {
        // Nothing to write: report the current length without creating the key.
        return Ok(Reply::Int(cur_len.unwrap_or(0) as i64));
    }
    check_size(ctx, offset, patch.len())?;
    let splice = |old: &[u8]| {
        let mut buf = BytesMut::from(old);
        if buf.len() < offset + patch.len() {
            buf.resize(offset + patch.len(), 0);
        }
        buf[offset..offset + patch.len()].copy_from_slice(patch);
        buf
    };
    let new_len = match cur_len {
        None => {
            let buf = splice(&[]);
            t.set(key, Value::Str(Str::modified(&buf)), 0);
            buf.len()
        }
        Some(_) => t
            .update(key, |v| {
                let s = v.as_str_mut().expect("checked string");
                let buf = s.with_bytes(splice);
                *s = Str::modified(&buf);
                buf.len()
            })
            .expect("key is live"),
    };
    ctx.notify(NOTIFY_STRING, "setrange", key);
    Ok(Reply::Int(new_len as i64))
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]
fn lcs(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (mut want_len, mut want_idx, mut with_len, mut min_len) = (false, false, false, 0i64);
    let mut i = 3;
    while i < a.len() {
        if args::is(a[i], "LEN") {
            want_len = true;
        } else if args::is(a[i], "IDX") {
            want_idx = true;
        } else if args::is(a[i], "WITHMATCHLEN") {
            with_len = true;
        } else if args::is(a[i], "MINMATCHLEN") && i + 1 < a.len() {
            min_len = args::int(a[i + 1])?.max(0);
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if want_len && want_idx {
        return Err(CmdError::err(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    let keys = [&a[1], &a[2]];
    let mut t = ctx.db().txn(ctx.now, keys);
    let mut fetch =
        |k: &[u8]| -> Result<Bytes, CmdError> {
            match t.get(k) {
                None => Ok(Bytes::new()),
                Some(e) => e.value.as_str().map(Str::to_bytes).ok_or_else(|| {
                    CmdError::err("ERR The specified keys must contain string values")
                }),
            }
        };
    let (x, y) = (fetch(keys[0])?, fetch(keys[1])?);
    drop(t);
    let cells = (x.len() + 1)
        .checked_mul(y.len() + 1)
        .filter(|c| c.saturating_mul(4) as i64 <= ctx.server.params.proto_max_bulk_len());
    let Some(cells) = cells else {
        return Err(CmdError::err(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    };
    // dp[i][j] = LCS length of x[..i] and y[..j].
    let w = y.len() + 1;
    let mut dp = vec![0u32; cells];
    for i in 1..=x.len() {
        for j in 1..=y.len() {
            dp[i * w + j] = if x[i - 1] == y[j - 1] {
                dp[(i - 1) * w + j - 1] + 1
            } else {
                dp[(i - 1) * w + j].max(dp[i * w + j - 1])
            };
        }
    }
    let total = dp[x.len() * w + y.len()] as usize;
    if want_len {
        return Ok(Reply::Int(total as i64));
    }
    // Walk back from the end, collecting the common string and the matching ranges.
    let mut common = vec![0u8; total];
    let mut idx = total;
    let (mut i, mut j) = (x.len(), y.len());
    let mut matches = Vec::new();
    let mut range: Option<(usize, usize, usize, usize)> = None; // (a_start, a_end, b_start, b_end)
    let flush = |r: Option<(usize, usize, usize, usize)>, matches: &mut Vec<Reply>| {
        if let Some((as_, ae, bs, be)) = r {
            let mlen = ae - as_ + 1;
            if mlen as i64 >= min_len {
                let mut m = vec![
                    Reply::Array(vec![Reply::Int(as_ as i64), Reply::Int(ae as i64)]),
                    Reply::Array(vec![Reply::Int(bs as i64), Reply::Int(be as i64)]),
                ];
                if with_len {
                    m.push(Reply::Int(mlen as i64));
                }
                matches.push(Reply::Array(m));
            }
        }
    };
    while i > 0 && j > 0 {
        if x[i - 1] == y[j - 1] {
            idx -= 1;
            common[idx] = x[i - 1];
            let (ai, bi) = (i - 1, j - 1);
            range = match range {
                Some((as_, ae, bs, be)) if as_ == ai + 1 && bs == bi + 1 => Some((ai, ae, bi, be)),
                other => {
                    flush(other, &mut matches);
                    Some((ai, ai, bi, bi))
                }
            };
            i -= 1;
            j -= 1;
        } else if dp[(i - 1) * w + j] > dp[i * w + j - 1] {
            i -= 1;
        } else {
            j -= 1;
        }
    }
    flush(range, &mut matches);
    if want_idx {
        return Ok(Reply::map_str(vec![
            ("matches", Reply::Array(matches)),
            ("len", Reply::Int(total as i64)),
        ]));
    }
    Ok(Reply::bulk(common))
}
