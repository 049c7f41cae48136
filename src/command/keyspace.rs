//! Generic key commands (Redis's `db.c` and `expire.c`): existence, deletion, types, renames,
//! copies between databases, expiry, iteration (KEYS, SCAN, RANDOMKEY), OBJECT and DUMP/RESTORE.

use super::dispatch::Ctx;
use super::hash::{parse_cursor, parse_scan_opts, ScanOf, ScanOpts};
use super::spec::{cmd, container, flags::*, key_flags::*, CommandSpec, KeySpec};
use super::{quota, tenancy};
use crate::config::params::NOTIFY_GENERIC;
use crate::protocol::{args, CmdError, Reply};
use crate::storage::dump::{self, DumpError};
use crate::storage::keyspace::{Keyspace, Txn};
use crate::storage::value::{Entry, ENTRY_OVERHEAD};
use crate::util::glob;
use bytes::Bytes;
use std::sync::Arc;

const KS: &[&str] = &["@keyspace"];
const G: &str = "generic";
const K1_RW_UPD: &[KeySpec] = &[KeySpec::single(1, RW | UPDATE)];
const K1_RO_ACC: &[KeySpec] = &[KeySpec::single(1, RO | ACCESS)];
const K2_RO: &[KeySpec] = &[KeySpec::single(2, RO)];

#[rustfmt::skip]
const OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    cmd("encoding", 3, READONLY, KS, K2_RO, object_encoding, "Returns the internal encoding of an object.", "2.2.3", G, "O(1)").args("key"),
    cmd("freq", 3, READONLY, KS, K2_RO, object_freq, "Returns the logarithmic access frequency counter of an object.", "4.0.0", G, "O(1)").args("key").tips(&["nondeterministic_output"]),
    cmd("idletime", 3, READONLY, KS, K2_RO, object_idletime, "Returns the time since the last access to an object.", "2.2.3", G, "O(1)").args("key").tips(&["nondeterministic_output"]),
    cmd("refcount", 3, READONLY, KS, K2_RO, object_refcount, "Returns the reference count of a value of a key.", "2.2.3", G, "O(1)").args("key"),
    cmd("help", 2, LOADING | STALE, KS, &[], object_help, "Returns helpful text about the different subcommands.", "6.2.0", G, "O(1)"),
];

#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[
    cmd("del", -2, WRITE, KS, &[KeySpec::range(1, -1, 1, RM | DELETE)], del, "Deletes one or more keys.", "1.0.0", G, "O(N) where N is the number of keys that will be removed.").args("key [key ...]").tips(&["request_policy:multi_shard", "response_policy:agg_sum"]),
    cmd("unlink", -2, WRITE | FAST, KS, &[KeySpec::range(1, -1, 1, RM | DELETE)], del, "Asynchronously deletes one or more keys.", "4.0.0", G, "O(1) for each key removed regardless of its size.").args("key [key ...]").tips(&["request_policy:multi_shard", "response_policy:agg_sum"]),
    cmd("exists", -2, READONLY | FAST, KS, &[KeySpec::range(1, -1, 1, RO)], exists, "Determines whether one or more keys exist.", "1.0.0", G, "O(N) where N is the number of keys to check.").args("key [key ...]").tips(&["request_policy:multi_shard", "response_policy:agg_sum"]),
    cmd("touch", -2, READONLY | FAST, KS, &[KeySpec::range(1, -1, 1, RO)], touch, "Returns the number of existing keys out of those specified after updating the time they were last accessed.", "3.2.1", G, "O(N) where N is the number of keys that will be touched.").args("key [key ...]").tips(&["request_policy:multi_shard", "response_policy:agg_sum"]),
    cmd("type", 2, READONLY | FAST, KS, &[KeySpec::single(1, RO)], type_, "Determines the type of value stored at a key.", "1.0.0", G, "O(1)").args("key"),
    cmd("rename", 3, WRITE | RENAMES, KS, &[KeySpec::single(1, RW | ACCESS | DELETE), KeySpec::single(2, OW | UPDATE)], rename, "Renames a key and overwrites the destination.", "1.0.0", G, "O(1)").args("key newkey"),
    cmd("renamenx", 3, WRITE | FAST | RENAMES, KS, &[KeySpec::single(1, RW | ACCESS | DELETE), KeySpec::single(2, OW | INSERT)], renamenx, "Renames a key only when the target key name doesn't exist.", "1.0.0", G, "O(1)").args("key newkey"),
    cmd("copy", -3, WRITE | DENYOOM | ADMITS_ITSELF, KS, &[KeySpec::single(1, RO | ACCESS), KeySpec::single(2, OW | UPDATE)], copy, "Copies the value of a key to a new key.", "6.2.0", G, "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.").args("source destination [DB destination-db] [REPLACE]"),
    cmd("move", 3, WRITE | FAST, KS, &[KeySpec::single(1, RW | ACCESS | DELETE)], move_, "Moves a key to another database.", "1.0.0", G, "O(1)").args("key db"),
    cmd("keys", 2, READONLY, &["@keyspace", "@dangerous"], &[], keys, "Returns all key names that match a pattern.", "1.0.0", G, "O(N) with N being the number of keys in the database.").args("pattern").tips(&["request_policy:all_shards", "nondeterministic_output_order"]),
    cmd("scan", -2, READONLY, KS, &[], scan, "Iterates over the key names in the database.", "2.8.0", G, "O(1) for every call. O(N) for a complete iteration.").args("cursor [MATCH pattern] [COUNT count] [TYPE type]").tips(&["nondeterministic_output", "request_policy:special", "response_policy:special"]),
    cmd("randomkey", 1, READONLY, KS, &[], randomkey, "Returns a random key name from the database.", "1.0.0", G, "O(1)").tips(&["request_policy:all_shards", "response_policy:special", "nondeterministic_output"]),
    cmd("expire", -3, WRITE | FAST, KS, K1_RW_UPD, expire, "Sets the expiration time of a key in seconds.", "1.0.0", G, "O(1)").args("key seconds [NX | XX | GT | LT]"),
    cmd("pexpire", -3, WRITE | FAST, KS, K1_RW_UPD, pexpire, "Sets the expiration time of a key in milliseconds.", "2.6.0", G, "O(1)").args("key milliseconds [NX | XX | GT | LT]"),
    cmd("expireat", -3, WRITE | FAST, KS, K1_RW_UPD, expireat, "Sets the expiration time of a key to a Unix timestamp.", "1.2.0", G, "O(1)").args("key unix-time-seconds [NX | XX | GT | LT]"),
    cmd("pexpireat", -3, WRITE | FAST, KS, K1_RW_UPD, pexpireat, "Sets the expiration time of a key to a Unix milliseconds timestamp.", "2.6.0", G, "O(1)").args("key unix-time-milliseconds [NX | XX | GT | LT]"),
    cmd("ttl", 2, READONLY | FAST, KS, K1_RO_ACC, ttl, "Returns the expiration time in seconds of a key.", "1.0.0", G, "O(1)").args("key").tips(&["nondeterministic_output"]),
    cmd("pttl", 2, READONLY | FAST, KS, K1_RO_ACC, pttl, "Returns the expiration time in milliseconds of a key.", "2.6.0", G, "O(1)").args("key").tips(&["nondeterministic_output"]),
    cmd("expiretime", 2, READONLY | FAST, KS, K1_RO_ACC, expiretime, "Returns the expiration time of a key as a Unix timestamp.", "7.0.0", G, "O(1)").args("key"),
    cmd("pexpiretime", 2, READONLY | FAST, KS, K1_RO_ACC, pexpiretime, "Returns the expiration time of a key as a Unix milliseconds timestamp.", "7.0.0", G, "O(1)").args("key"),
    cmd("persist", 2, WRITE | FAST, KS, K1_RW_UPD, persist, "Removes the expiration time of a key.", "2.2.0", G, "O(1)").args("key"),
    container("object", -2, 0, OBJECT_SUBCOMMANDS, "A container for object introspection commands.", "2.2.3", G),
    cmd("dump", 2, READONLY, KS, K1_RO_ACC, dump_, "Returns a serialized representation of the value stored at a key.", "2.6.0", G, "O(1) to access the key and additional O(N*M) to serialize it.").args("key").tips(&["nondeterministic_output"]),
    cmd("restore", -4, WRITE | DENYOOM | ADMITS_ITSELF, &["@keyspace", "@dangerous"], &[KeySpec::single(1, OW | UPDATE)], restore, "Creates a key from the serialized representation of a value.", "2.6.0", G, "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value.").args("key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]"),
];

/// How an expiry argument is expressed.
#[derive(Clone, Copy, PartialEq)]
pub enum Unit {
    Seconds,
    Millis,
    UnixSeconds,
    UnixMillis,
}

/// Converts an expiry argument to an absolute Unix-ms deadline. With `positive` (SET, GETEX,
/// SETEX) zero and negative values are refused, as Redis does; EXPIRE allows them (they delete).
/// Overflow is refused with `invalid expire time in '<cmd>' command` either way.
pub fn deadline(
    arg: &[u8],
    unit: Unit,
    now: u64,
    cmd: &'static str,
    positive: bool,
) -> Result<u64, CmdError> {
    let v = args::int(arg)?;
    let invalid = CmdError::InvalidExpire(cmd);
    if positive && v <= 0 {
        return Err(invalid);
    }
    let ms = match unit {
        Unit::Seconds | Unit::UnixSeconds => v.checked_mul(1000).ok_or(invalid.clone())?,
        Unit::Millis | Unit::UnixMillis => v,
    };
    let abs = match unit {
        Unit::Seconds | Unit::Millis => ms.checked_add(now as i64).ok_or(invalid)?,
        Unit::UnixSeconds | Unit::UnixMillis => ms,
    };
    // A deadline at or before the epoch is "already expired"; 0 would mean "no TTL".
    Ok(abs.max(1) as u64)
}

/// DEL key [key ...] (and UNLINK: values are freed when dropped, with no blocking work)
fn del(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let keys = &a[1..];
    let mut t = ctx.db().txn(ctx.now, keys);
    let mut n = 0;
    for k in keys {
        if t.remove(k).is_some() {
            ctx.notify(NOTIFY_GENERIC, "del", k);
            n += 1;
        }
    }
    Ok(Reply::Int(n))
}

/// EXISTS key [key ...]
fn exists(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let keys = &a[1..];
    let mut t = ctx.db().txn(ctx.now, keys);
    let n = keys.iter().filter(|k| t.exists(k)).count();
    Ok(Reply::Int(n as i64))
}

/// TOUCH key [key ...]
fn touch(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let keys = &a[1..];
    let mut t = ctx.db().txn(ctx.now, keys);
    let n = keys.iter().filter(|k| t.get(k).is_some()).count();
    Ok(Reply::Int(n as i64))
}

/// TYPE key
fn type_(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let name = t.peek(a[1]).map_or("none", |e| e.value.type_name());
    Ok(Reply::status(name))
}

/// The shared body of RENAME and RENAMENX. The destination inherits the source's TTL.
fn rename_generic(ctx: &mut Ctx<'_>, a: &[&[u8]], nx: bool) -> Result<Reply, CmdError> {
    let (src, dst) = (&a[1], &a[2]);
    let mut t = ctx.db().txn(ctx.now, &a[1..3]);
    if !t.exists(src) {
        return Err(CmdError::NoSuchKey);
    }
    if src == dst {
        return Ok(if nx { Reply::Int(0) } else { Reply::Ok });
    }
    if nx && t.exists(dst) {
        return Ok(Reply::Int(0));
    }
    let e = t.remove(src).expect("checked live");
    t.set(dst, e.value, e.expire_at);
    ctx.notify(NOTIFY_GENERIC, "rename_from", src);
    ctx.notify(NOTIFY_GENERIC, "rename_to", dst);
    Ok(if nx { Reply::Int(1) } else { Reply::Ok })
}

/// RENAME key newkey
fn rename(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    rename_generic(ctx, a, false)
}

/// RENAMENX key newkey
fn renamenx(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    rename_generic(ctx, a, true)
}

/// Parses a database index argument against the store's database count.
fn db_index(ctx: &Ctx<'_>, arg: &[u8]) -> Result<usize, CmdError> {
    let n = args::int32(arg)?;
    if n < 0 || n as usize >= ctx.db_limit() {
        return Err(CmdError::DbIndexOutOfRange);
    }
    Ok(n as usize)
}

/// Locks `src_keys` in `src` and `dst_keys` in `dst` (two databases of one store) in database
/// order, the global lock order that keeps cross-database commands deadlock-free.
fn two_dbs<'a>(
    src: &'a Keyspace,
    dst: &'a Keyspace,
    now: u64,
    src_key: &[u8],
    dst_key: &[u8],
) -> (Txn<'a>, Txn<'a>) {
    if src.index < dst.index {
        let s = src.txn(now, [src_key]);
        (s, dst.txn(now, [dst_key]))
    } else {
        let d = dst.txn(now, [dst_key]);
        (src.txn(now, [src_key]), d)
    }
}

/// COPY source destination [DB destination-db] [REPLACE]
fn copy(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (mut target_db, mut replace) = (ctx.session.db, false);
    let mut i = 3;
    while i < a.len() {
        if args::is(a[i], "REPLACE") {
            replace = true;
        } else if args::is(a[i], "DB") && i + 1 < a.len() {
            target_db = db_index(ctx, a[i + 1])?;
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    let (src, dst) = (&a[1], &a[2]);
    if target_db == ctx.session.db && src == dst {
        return Err(CmdError::err(
            "ERR source and destination objects are the same",
        ));
    }
    let store = ctx.store().clone();
    // What the copy adds, measured before any key is locked (quotas may evict): dispatch saw
    // only the names, not the value or the database it lands in.
    let size = |t: &mut Txn<'_>, k: &[u8]| t.peek(k).map(|e| e.value.heap_size() + k.len());
    let (copied, replaced) = if target_db == ctx.session.db {
        let mut t = store.db(target_db).txn(ctx.now, &a[1..3]);
        (size(&mut t, src), size(&mut t, dst))
    } else {
        let (src_db, dst_db) = (store.db(ctx.session.db), store.db(target_db));
        let (mut s, mut d) = two_dbs(src_db, dst_db, ctx.now, src, dst);
        (size(&mut s, src), size(&mut d, dst))
    };
    let growth = copied.map(|c| match replaced {
        Some(r) if replace => (0, c as i64 - r as i64),
        Some(_) => (0, 0),
        None => (1, (c + ENTRY_OVERHEAD) as i64),
    });
    if let Some((keys, bytes)) = growth {
        quota::admit_growth(ctx.server, ctx.tenant(), keys, bytes, ctx.now)?;
    }
    if target_db == ctx.session.db {
        let mut t = store.db(target_db).txn(ctx.now, &a[1..3]);
        let Some(e) = t.get(src).cloned() else {
            return Ok(Reply::Int(0));
        };
        return Ok(copy_to(ctx, &mut t, dst, e, replace, target_db));
    }
    let (src_db, dst_db) = (store.db(ctx.session.db), store.db(target_db));
    let (mut s, mut d) = two_dbs(src_db, dst_db, ctx.now, src, dst);
    let Some(e) = s.get(src).cloned() else {
        return Ok(Reply::Int(0));
    };
    Ok(copy_to(ctx, &mut d, dst, e, replace, target_db))
}

/// Writes a copied entry (value and TTL) unless the destination exists and REPLACE was not given.
fn copy_to(
    ctx: &Ctx<'_>,
    d: &mut Txn<'_>,
    dst: &[u8],
    e: Entry,
    replace: bool,
    db: usize,
) -> Reply {
    if d.exists(dst) && !replace {
        return Reply::Int(0);
    }
    d.set(dst, e.value, e.expire_at);
    ctx.notify_db(NOTIFY_GENERIC, "copy_to", dst, db);
    Reply::Int(1)
}

/// MOVE key db
fn move_(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let target = db_index(ctx, a[2])?;
    if target == ctx.session.db {
        return Err(CmdError::err(
            "ERR source and destination objects are the same",
        ));
    }
    let store = ctx.store().clone();
    let key = &a[1];
    let (mut s, mut d) = two_dbs(
        store.db(ctx.session.db),
        store.db(target),
        ctx.now,
        key,
        key,
    );
    if !s.exists(key) || d.exists(key) {
        return Ok(Reply::Int(0));
    }
    let e = s.remove(key).expect("checked live");
    d.set(key, e.value, e.expire_at);
    ctx.notify(NOTIFY_GENERIC, "move_from", key);
    ctx.notify_db(NOTIFY_GENERIC, "move_to", key, target);
    Ok(Reply::Int(1))
}

/// (keyspace to list, pattern to match there, prefix for the caller's form of listed keys)
type Listing = (Arc<Keyspace>, Option<Bytes>, Vec<u8>);

/// The keyspace a KEYS/SCAN pattern lists, the pattern to match there, and the prefix that
/// puts listed keys back in the caller's form (`__tenant:<id>:` from the global context).
fn listing_scope(ctx: &Ctx<'_>, pattern: Option<&[u8]>) -> Result<Listing, CmdError> {
    if let Some(p) = pattern {
        if let Some((store, rest, prefix)) = tenancy::pattern_scope(ctx.server, ctx.session, p)? {
            return Ok((store.db(ctx.session.db).clone(), Some(rest), prefix));
        }
    }
    Ok((
        ctx.db().clone(),
        pattern.map(Bytes::copy_from_slice),
        Vec::new(),
    ))
}

/// KEYS pattern
fn keys(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (ks, pattern, prefix) = listing_scope(ctx, Some(a[1]))?;
    let pattern = pattern.unwrap_or_default();
    let all = pattern.as_ref() == b"*";
    let mut out = Vec::new();
    ks.for_each_key(ctx.now, |k, _| {
        if all || glob::matches(&pattern, k, false) {
            out.push(tenancy::caller_form(&prefix, k));
        }
    });
    Ok(Reply::Array(out))
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
fn scan(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let cursor = parse_cursor(a[1])?;
    let ScanOpts {
        pattern,
        count,
        type_name: type_filter,
        ..
    } = parse_scan_opts(a, 2, ScanOf::Keys)?;
    let (ks, pattern, prefix) = listing_scope(ctx, pattern)?;
    let pattern = pattern.filter(|p| p.as_ref() != b"*");
    let (next, found) = ks.scan(cursor, count, ctx.now, |k, e: &Entry| {
        pattern.as_ref().is_none_or(|p| glob::matches(p, k, false))
            && type_filter.is_none_or(|t| args::is(t, e.value.type_name()))
    });
    Ok(Reply::Array(vec![
        Reply::bulk(next.to_string()),
        Reply::Array(
            found
                .iter()
                .map(|k| tenancy::caller_form(&prefix, k))
                .collect(),
        ),
    ]))
}

/// RANDOMKEY
fn randomkey(ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(Reply::opt_bulk(ctx.db().random_key(ctx.now)))
}

/// The shared body of EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT (`expireGenericCommand`):
/// `key time [NX | XX | GT | LT]`.
fn expire_generic(ctx: &mut Ctx<'_>, a: &[&[u8]], unit: Unit) -> Result<Reply, CmdError> {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &a[3..] {
        if args::is(opt, "NX") {
            nx = true;
        } else if args::is(opt, "XX") {
            xx = true;
        } else if args::is(opt, "GT") {
            gt = true;
        } else if args::is(opt, "LT") {
            lt = true;
        } else {
            return Err(CmdError::err(format!(
                "ERR Unsupported option {}",
                args::text(opt)
            )));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(CmdError::err(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(CmdError::err(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    let at = deadline(a[2], unit, ctx.now, ctx.spec.name, false)?;
    let key = &a[1];
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let Some(cur) = t.peek(key).map(|e| e.expire_at) else {
        return Ok(Reply::Int(0));
    };
    // A key without TTL counts as infinite for GT/LT.
    let refused = (nx && cur != 0)
        || (xx && cur == 0)
        || (gt && (cur == 0 || at <= cur))
        || (lt && cur != 0 && at >= cur);
    if refused {
        return Ok(Reply::Int(0));
    }
    if at <= t.now {
        t.remove(key);
        ctx.notify(NOTIFY_GENERIC, "del", key);
    } else {
        t.set_expire(key, at);
        ctx.notify(NOTIFY_GENERIC, "expire", key);
    }
    Ok(Reply::Int(1))
}

/// EXPIRE key seconds [NX | XX | GT | LT]
fn expire(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    expire_generic(ctx, a, Unit::Seconds)
}

/// PEXPIRE key milliseconds [NX | XX | GT | LT]
fn pexpire(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    expire_generic(ctx, a, Unit::Millis)
}

/// EXPIREAT key unix-time-seconds [NX | XX | GT | LT]
fn expireat(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    expire_generic(ctx, a, Unit::UnixSeconds)
}

/// PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]
fn pexpireat(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    expire_generic(ctx, a, Unit::UnixMillis)
}

/// The shared body of TTL, PTTL, EXPIRETIME and PEXPIRETIME: -2 missing, -1 no TTL.
fn ttl_generic(ctx: &mut Ctx<'_>, key: &[u8], f: impl Fn(u64, u64) -> i64) -> Reply {
    let now = ctx.now;
    let mut t = ctx.db().txn(now, [key]);
    match t.peek(key).map(|e| e.expire_at) {
        None => Reply::Int(-2),
        Some(0) => Reply::Int(-1),
        Some(at) => Reply::Int(f(at, now)),
    }
}

/// TTL key
fn ttl(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(ttl_generic(ctx, a[1], |at, now| {
        ((at.saturating_sub(now) + 500) / 1000) as i64
    }))
}

/// PTTL key
fn pttl(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(ttl_generic(ctx, a[1], |at, now| {
        at.saturating_sub(now) as i64
    }))
}

/// EXPIRETIME key
fn expiretime(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    // Rounded to the nearest second, as Redis does.
    Ok(ttl_generic(ctx, a[1], |at, _| ((at + 500) / 1000) as i64))
}

/// PEXPIRETIME key
fn pexpiretime(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(ttl_generic(ctx, a[1], |at, _| at as i64))
}

/// PERSIST key
fn persist(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    match t.peek(a[1]).map(|e| e.expire_at) {
        Some(at) if at != 0 => {
            t.set_expire(a[1], 0);
            ctx.notify(NOTIFY_GENERIC, "persist", a[1]);
            Ok(Reply::Int(1))
        }
        _ => Ok(Reply::Int(0)),
    }
}

fn lfu_selected(ctx: &Ctx<'_>) -> bool {
    ctx.server
        .params
        .get("maxmemory-policy")
        .is_some_and(|p| p.contains("lfu"))
}

/// Reads a key for OBJECT without touching it; nil when missing.
fn object_peek<R>(ctx: &mut Ctx<'_>, key: &[u8], f: impl FnOnce(&Entry) -> R) -> Option<R> {
    let mut t = ctx.db().txn(ctx.now, [key]);
    t.peek(key).map(f)
}

/// OBJECT ENCODING key
fn object_encoding(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let enc = object_peek(ctx, a[2], |e| e.value.encoding());
    Ok(enc.map_or(Reply::Nil, Reply::bulk))
}

/// OBJECT FREQ key
fn object_freq(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if !lfu_selected(ctx) {
        return Err(CmdError::err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    let now = ctx.now;
    let freq = object_peek(ctx, a[2], |e| crate::storage::keyspace::lfu_counter(e, now));
    Ok(freq.map_or(Reply::Nil, |f| Reply::Int(f as i64)))
}

/// OBJECT IDLETIME key
fn object_idletime(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if lfu_selected(ctx) {
        return Err(CmdError::err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    let now = ctx.now;
    let idle = object_peek(ctx, a[2], |e| {
        crate::storage::keyspace::idle_seconds(e, now)
    });
    Ok(idle.map_or(Reply::Nil, |s| Reply::Int(s as i64)))
}

/// OBJECT REFCOUNT key
fn object_refcount(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    // Values are never shared between keys here, so the count is always 1.
    let found = object_peek(ctx, a[2], |_| ());
    Ok(found.map_or(Reply::Nil, |_| Reply::Int(1)))
}

/// OBJECT HELP
fn object_help(_ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(super::help_reply(
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    ))
}

/// DUMP key
fn dump_(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    Ok(t.get(a[1])
        .map_or(Reply::Nil, |e| Reply::bulk(dump::serialize(&e.value))))
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
fn restore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut i = 4;
    while i < a.len() {
        let has_next = i + 1 < a.len();
        if args::is(a[i], "REPLACE") {
            replace = true;
        } else if args::is(a[i], "ABSTTL") {
            absttl = true;
        } else if args::is(a[i], "IDLETIME") && has_next && freq.is_none() {
            let v = args::int(a[i + 1])?;
            if v < 0 {
                return Err(CmdError::err("ERR Invalid IDLETIME value, must be >= 0"));
            }
            idle = Some(v);
            i += 1;
        } else if args::is(a[i], "FREQ") && has_next && idle.is_none() {
            let v = args::int(a[i + 1])?;
            if !(0..=255).contains(&v) {
                return Err(CmdError::err(
                    "ERR Invalid FREQ value, must be >= 0 and <= 255",
                ));
            }
            freq = Some(v);
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    let key = &a[1];
    // Decoded before any key is locked: what the value holds, not the payload's bytes, is
    // what the memory quota must admit (a few bytes can describe a long list of empty
    // strings), and making room may evict. Its errors are reported in Redis's order below.
    let decoded = dump::deserialize(a[3]);
    if let Ok(v) = &decoded {
        let stored = ctx
            .db()
            .txn(ctx.now, &a[1..2])
            .peek(key)
            .map(|e| e.value.heap_size() + key.len());
        let size = v.heap_size() + key.len();
        let growth = match stored {
            None => Some((1, (size + ENTRY_OVERHEAD) as i64)),
            Some(old) if replace => Some((0, size as i64 - old as i64)),
            // BUSYKEY below: nothing is written.
            Some(_) => None,
        };
        if let Some((keys, bytes)) = growth {
            quota::admit_growth(ctx.server, ctx.tenant(), keys, bytes, ctx.now)?;
        }
    }
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    // Redis's order: options, then BUSYKEY, then the TTL, then the payload.
    if !replace && t.exists(key) {
        return Err(CmdError::err("BUSYKEY Target key name already exists."));
    }
    let ttl = args::int(a[2])?;
    if ttl < 0 {
        return Err(CmdError::err("ERR Invalid TTL value, must be >= 0"));
    }
    let mut value = decoded.map_err(|e| match e {
        DumpError::VersionOrChecksum => {
            CmdError::err("ERR DUMP payload version or checksum are wrong")
        }
        DumpError::BadFormat => CmdError::err("ERR Bad data format"),
    })?;
    value.settle_encoding(&ctx.server.params.encoding_limits());
    let expire_at = match (ttl, absttl) {
        (0, _) => 0,
        (v, true) => v as u64,
        (v, false) => (t.now as i64).saturating_add(v) as u64,
    };
    if expire_at != 0 && expire_at <= t.now {
        // Already expired: the key is not created (and a replaced one is gone), as in Redis.
        if t.remove(key).is_some() {
            ctx.notify(NOTIFY_GENERIC, "del", key);
        }
        return Ok(Reply::Ok);
    }
    t.set(key, value, expire_at);
    if let Some(secs) = idle {
        t.set_idle(key, secs as u64);
    }
    if let Some(f) = freq {
        t.set_lfu(key, f as u8);
    }
    ctx.notify(NOTIFY_GENERIC, "restore", key);
    Ok(Reply::Ok)
}
