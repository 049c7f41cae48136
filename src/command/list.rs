//! List commands (Redis's `t_list.c`). Variants share one body where Redis does:
//! LPUSH/RPUSH/LPUSHX/RPUSHX go through `push_generic`, LPOP/RPOP through `pop_generic`,
//! LMOVE/RPOPLPUSH through `move_generic`.
//!
//! The pop and move steps are `pub(crate)` functions over a `Txn` (`pop_first`, `move_one`)
//! with their keyspace events in `notify_popped`/`notify_moved`, so the blocking variants can
//! run exactly the same step when a key they wait on is pushed to.
//!
//! Each handler checks its arguments in Redis's order (some parse numbers before looking the key
//! up, some after), because that order decides which error a client sees.

use super::blocking;
use super::dispatch::Ctx;
use super::spec::{cmd, flags::*, key_flags::*, CommandSpec, KeySpec};
use crate::config::params::{NOTIFY_GENERIC, NOTIFY_LIST};
use crate::protocol::{args, CmdError, Reply};
use crate::storage::keyspace::Txn;
use crate::storage::value::{EncodingLimits, List, Member, Value};

const L: &[&str] = &["@list"];
const G: &str = "list";
const K1_RO: &[KeySpec] = &[KeySpec::single(1, RO)];
const K1_RO_ACC: &[KeySpec] = &[KeySpec::single(1, RO | ACCESS)];
const K1_INS: &[KeySpec] = &[KeySpec::single(1, RW | INSERT)];
const K1_POP: &[KeySpec] = &[KeySpec::single(1, RW | ACCESS | DELETE)];
const K1_DEL: &[KeySpec] = &[KeySpec::single(1, RW | DELETE)];
const K_MOVE: &[KeySpec] = &[
    KeySpec::single(1, RW | ACCESS | DELETE),
    KeySpec::single(2, RW | INSERT),
];
const K_MPOP: &[KeySpec] = &[KeySpec::keynum(1, RW | ACCESS | DELETE)];
/// BLMPOP's keys: as LMPOP's, one argument later (after the timeout).
const K_BMPOP: &[KeySpec] = &[KeySpec::keynum(2, RW | ACCESS | DELETE)];
const PUSH_COST: &str =
    "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.";

#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[
    cmd("lpush", -3, WRITE | DENYOOM | FAST, L, K1_INS, lpush, "Prepends one or more elements to a list. Creates the key if it doesn't exist.", "1.0.0", G, PUSH_COST).args("key element [element ...]"),
    cmd("rpush", -3, WRITE | DENYOOM | FAST, L, K1_INS, rpush, "Appends one or more elements to a list. Creates the key if it doesn't exist.", "1.0.0", G, PUSH_COST).args("key element [element ...]"),
    cmd("lpushx", -3, WRITE | DENYOOM | FAST, L, K1_INS, lpushx, "Prepends one or more elements to a list only when the list exists.", "2.2.0", G, PUSH_COST).args("key element [element ...]"),
    cmd("rpushx", -3, WRITE | DENYOOM | FAST, L, K1_INS, rpushx, "Appends one or more elements to a list only when the list exists.", "2.2.0", G, PUSH_COST).args("key element [element ...]"),
    cmd("lpop", -2, WRITE | FAST, L, K1_POP, lpop, "Returns and removes one or more elements from the beginning of a list. Deletes the list if the last element was popped.", "1.0.0", G, "O(N) where N is the number of elements returned").args("key [count]"),
    cmd("rpop", -2, WRITE | FAST, L, K1_POP, rpop, "Returns and removes the last elements of a list or up to count elements if the optional count argument is provided. Deletes the list if the last element was popped.", "1.0.0", G, "O(N) where N is the number of elements returned").args("key [count]"),
    cmd("llen", 2, READONLY | FAST, L, K1_RO, llen, "Returns the length of a list.", "1.0.0", G, "O(1)").args("key"),
    cmd("lrange", 4, READONLY, L, K1_RO_ACC, lrange, "Returns a range of elements from a list.", "1.0.0", G, "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.").args("key start stop"),
    cmd("lindex", 3, READONLY, L, K1_RO_ACC, lindex, "Returns an element from a list by its index.", "1.0.0", G, "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).").args("key index"),
    cmd("lset", 4, WRITE | DENYOOM, L, &[KeySpec::single(1, RW | UPDATE)], lset, "Sets the value of an element in a list by its index.", "1.0.0", G, "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).").args("key index element"),
    cmd("linsert", 5, WRITE | DENYOOM, L, K1_INS, linsert, "Inserts an element before or after another element in a list.", "2.2.0", G, "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).").args("key <BEFORE | AFTER> pivot element"),
    cmd("lrem", 4, WRITE, L, K1_DEL, lrem, "Removes elements from a list. Deletes the list if the last element was removed.", "1.0.0", G, "O(N+M) where N is the length of the list and M is the number of elements removed.").args("key count element"),
    cmd("ltrim", 4, WRITE, L, K1_DEL, ltrim, "Removes elements from both ends of a list. Deletes the list if all elements were trimmed.", "1.0.0", G, "O(N) where N is the number of elements to be removed by the operation.").args("key start stop"),
    cmd("lpos", -3, READONLY, L, K1_RO_ACC, lpos, "Returns the index of matching elements in a list.", "6.0.6", G, "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.").args("key element [RANK rank] [COUNT num-matches] [MAXLEN len]"),
    cmd("lmove", 5, WRITE | DENYOOM, L, K_MOVE, lmove, "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.", "6.2.0", G, "O(1)").args("source destination <LEFT | RIGHT> <LEFT | RIGHT>"),
    cmd("rpoplpush", 3, WRITE | DENYOOM, L, K_MOVE, rpoplpush, "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.", "1.2.0", G, "O(1)").args("source destination"),
    cmd("lmpop", -4, WRITE, L, K_MPOP, lmpop, "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.", "7.0.0", G, "O(N+M) where N is the number of provided keys and M is the number of elements returned.").args("numkeys key [key ...] <LEFT | RIGHT> [COUNT count]"),
    cmd("blpop", -3, WRITE | BLOCKING, L, &[KeySpec::range(1, -2, 1, RW | ACCESS | DELETE)], blpop, "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "2.0.0", G, "O(N) where N is the number of provided keys.").args("key [key ...] timeout"),
    cmd("brpop", -3, WRITE | BLOCKING, L, &[KeySpec::range(1, -2, 1, RW | ACCESS | DELETE)], brpop, "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "2.0.0", G, "O(N) where N is the number of provided keys.").args("key [key ...] timeout"),
    cmd("blmove", 6, WRITE | DENYOOM | BLOCKING, L, K_MOVE, blmove, "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.", "6.2.0", G, "O(1)").args("source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout"),
    cmd("brpoplpush", 4, WRITE | DENYOOM | BLOCKING, L, K_MOVE, brpoplpush, "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.", "2.2.0", G, "O(1)").args("source destination timeout"),
    cmd("blmpop", -5, WRITE | BLOCKING, L, K_BMPOP, blmpop, "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "7.0.0", G, "O(N+M) where N is the number of provided keys and M the number of elements returned.").args("timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count]"),
];

/// The list of a live key for writing, or WRONGTYPE.
fn list_mut(v: &mut Value) -> Result<&mut List, CmdError> {
    v.as_list_mut().ok_or(CmdError::WrongType)
}

/// Reads a list for a command: None when missing, WRONGTYPE for other types.
fn read_list<'t>(t: &'t mut Txn<'_>, key: &[u8]) -> Result<Option<&'t List>, CmdError> {
    match t.get(key) {
        None => Ok(None),
        Some(e) => e.value.as_list().map(Some).ok_or(CmdError::WrongType),
    }
}

fn new_list() -> Option<Value> {
    Some(Value::List(Box::default()))
}

/// Members as an array of bulk strings.
pub(crate) fn members_reply<'a, I>(members: I) -> Reply
where
    I: Iterator<Item = &'a Member> + Clone,
{
    Reply::bulk_array(members.map(Member::as_bytes))
}

/// Redis's LEFT/RIGHT argument: true for LEFT (the head).
fn parse_end(arg: &[u8]) -> Result<bool, CmdError> {
    if args::is(arg, "LEFT") {
        Ok(true)
    } else if args::is(arg, "RIGHT") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

fn pop_event(front: bool) -> &'static str {
    if front {
        "lpop"
    } else {
        "rpop"
    }
}

fn push_event(front: bool) -> &'static str {
    if front {
        "lpush"
    } else {
        "rpush"
    }
}

/// An integer argument in `min..=max`, with Redis's `getRangeLongFromObjectOrReply` errors:
/// `msg` for both a non-number and an out-of-range one when given.
fn ranged(arg: &[u8], min: i64, max: i64, msg: Option<&'static str>) -> Result<i64, CmdError> {
    let fail = || match msg {
        Some(m) => CmdError::err(m),
        None => CmdError::NotInteger,
    };
    let v = args::int(arg).map_err(|_| fail())?;
    if v < min || v > max {
        return Err(match msg {
            Some(m) => CmdError::err(m),
            None => CmdError::err(format!(
                "ERR value is out of range, value must between {min} and {max}"
            )),
        });
    }
    Ok(v)
}

/// Converts LRANGE/LTRIM indexes (negative from the end) into a clamped inclusive range, or
/// None when it selects nothing.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { start + len } else { start }.max(0);
    let end = if end < 0 { end + len } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

/// A LINDEX/LSET index (negative from the end) as a position, if inside the list.
fn position(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 {
        index.checked_add(len as i64)?
    } else {
        index
    };
    (0..len as i64).contains(&i).then_some(i as usize)
}

// ---------------------------------------------------------------------------------------------
// Push
// ---------------------------------------------------------------------------------------------

/// The shared body of LPUSH/RPUSH/LPUSHX/RPUSHX; `xx` pushes only onto an existing list.
fn push_generic(ctx: &mut Ctx<'_>, a: &[&[u8]], front: bool, xx: bool) -> Result<Reply, CmdError> {
    let limits = ctx.server.params.encoding_limits();
    let (key, elems) = (&a[1], &a[2..]);
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let create = || if xx { None } else { new_list() };
    let len = t.write_if(
        key,
        create,
        |v| -> Result<_, CmdError> {
            let l = list_mut(v)?;
            l.grow(&limits, elems.iter().map(|e| e.len()).sum(), elems.len());
            for e in elems {
                l.push(front, e);
            }
            Ok(l.len())
        },
        Result::is_ok,
    );
    drop(t);
    let Some(len) = len else {
        return Ok(Reply::Int(0));
    };
    let len = len?;
    ctx.notify(NOTIFY_LIST, push_event(front), key);
    Ok(Reply::Int(len as i64))
}

/// LPUSH key element [element ...]
fn lpush(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    push_generic(ctx, a, true, false)
}

/// RPUSH key element [element ...]
fn rpush(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    push_generic(ctx, a, false, false)
}

/// LPUSHX key element [element ...]
fn lpushx(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    push_generic(ctx, a, true, true)
}

/// RPUSHX key element [element ...]
fn rpushx(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    push_generic(ctx, a, false, true)
}

// ---------------------------------------------------------------------------------------------
// Pop
// ---------------------------------------------------------------------------------------------

/// Raises the events of a pop from `key` (Redis's `listElementsRemoved`): `lpop`/`rpop`, then
/// `del` when the pop emptied the list.
pub(crate) fn notify_popped(ctx: &mut Ctx<'_>, key: &[u8], front: bool, deleted: bool) {
    ctx.notify(NOTIFY_LIST, pop_event(front), key);
    if deleted {
        ctx.notify(NOTIFY_GENERIC, "del", key);
    }
}

/// The shared body of LPOP and RPOP.
fn pop_generic(ctx: &mut Ctx<'_>, a: &[&[u8]], front: bool) -> Result<Reply, CmdError> {
    if a.len() > 3 {
        return Err(CmdError::WrongArity(ctx.spec.name.to_string()));
    }
    let count = match a.get(2) {
        Some(c) => Some(ranged(
            c,
            0,
            i64::MAX,
            Some("ERR value is out of range, must be positive"),
        )? as usize),
        None => None,
    };
    let limits = ctx.server.params.encoding_limits();
    let key = &a[1];
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let r = t.write_if(
        key,
        || None,
        |v| -> Result<_, CmdError> {
            let l = list_mut(v)?;
            let reply = match count {
                None => Reply::bulk_from(l.pop(front).expect("lists are never empty").as_bytes()),
                // Nothing popped, nothing changed: no events either.
                Some(0) => return Ok(None),
                Some(n) => members_reply(l.pop_many(front, n).iter()),
            };
            l.shrunk(&limits);
            Ok(Some((reply, l.is_empty())))
        },
        |r| matches!(r, Ok(Some(_))),
    );
    drop(t);
    match r.transpose()? {
        None if count.is_some() => Ok(Reply::NilArray),
        None => Ok(Reply::Nil),
        Some(None) => Ok(Reply::Array(Vec::new())),
        Some(Some((reply, deleted))) => {
            notify_popped(ctx, key, front, deleted);
            Ok(reply)
        }
    }
}

/// LPOP key [count]
fn lpop(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    pop_generic(ctx, a, true)
}

/// RPOP key [count]
fn rpop(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    pop_generic(ctx, a, false)
}

/// What `pop_first` took.
pub(crate) struct Popped {
    /// Index into the keys passed in of the key popped from.
    pub key: usize,
    /// The members, in the order they were popped.
    pub items: Vec<Member>,
    /// The pop emptied the list, so the key is gone.
    pub deleted: bool,
}

/// Pops up to `count` members from the head (`front`) or tail of the first of `keys` that holds
/// a list (LMPOP; BLPOP, BRPOP and BLMPOP when woken). Missing keys are skipped; a key of
/// another type met first is WRONGTYPE, unless `rewoken` (a parked client run again: such a
/// key is skipped too). None when no key holds a list. The caller raises the events
/// (`notify_popped`) once the transaction is released.
pub(crate) fn pop_first(
    t: &mut Txn<'_>,
    keys: &[&[u8]],
    front: bool,
    count: usize,
    limits: &EncodingLimits,
    rewoken: bool,
) -> Result<Option<Popped>, CmdError> {
    for (i, key) in keys.iter().enumerate() {
        let r = t.write_if(
            key,
            || None,
            |v| -> Result<_, CmdError> {
                let l = list_mut(v)?;
                let items = l.pop_many(front, count);
                l.shrunk(limits);
                Ok((items, l.is_empty()))
            },
            Result::is_ok,
        );
        if let Some(r) = r {
            let (items, deleted) = match r {
                Err(CmdError::WrongType) if rewoken => continue,
                r => r?,
            };
            return Ok(Some(Popped {
                key: i,
                items,
                deleted,
            }));
        }
    }
    Ok(None)
}

/// LMPOP numkeys key [key ...] <LEFT | RIGHT> [COUNT count]
fn lmpop(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    mpop_generic(ctx, a, 1, None)
}

/// BLMPOP timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count]
fn blmpop(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let timeout = blocking::timeout_arg(a[1])?;
    mpop_generic(ctx, a, 2, Some(timeout))
}

/// The shared body of LMPOP and BLMPOP: `first` is numkeys' position; `timeout` is set for
/// the blocking variant.
fn mpop_generic(
    ctx: &mut Ctx<'_>,
    a: &[&[u8]],
    first: usize,
    timeout: Option<Option<std::time::Duration>>,
) -> Result<Reply, CmdError> {
    let m = blocking::multi_pop_args(a, first, ["LEFT", "RIGHT"])?;
    let (front, count) = (m.first_end, m.count);
    let limits = ctx.server.params.encoding_limits();
    let keys = &a[m.keys];
    let ks = ctx.db().clone();
    let mut t = ks.txn(ctx.now, keys);
    let popped = pop_first(&mut t, keys, front, count, &limits, ctx.session.rewoken)?;
    let Some(p) = popped else {
        return Ok(match timeout {
            Some(timeout) => blocking::block(ctx, &ks, keys, timeout, a, Reply::NilArray),
            None => Reply::NilArray,
        });
    };
    drop(t);
    let key = &keys[p.key];
    notify_popped(ctx, key, front, p.deleted);
    Ok(Reply::Array(vec![
        Reply::bulk_copy(key),
        members_reply(p.items.iter()),
    ]))
}

/// BLPOP key [key ...] timeout
fn blpop(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    bpop_generic(ctx, a, true)
}

/// BRPOP key [key ...] timeout
fn brpop(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    bpop_generic(ctx, a, false)
}

/// The shared body of BLPOP and BRPOP (Redis's `blockingPopGenericCommand`): the timeout is
/// checked first, then the keys in order; the first non-empty list is popped.
fn bpop_generic(ctx: &mut Ctx<'_>, a: &[&[u8]], front: bool) -> Result<Reply, CmdError> {
    let timeout = blocking::timeout_arg(a[a.len() - 1])?;
    let keys = &a[1..a.len() - 1];
    let limits = ctx.server.params.encoding_limits();
    let ks = ctx.db().clone();
    let mut t = ks.txn(ctx.now, keys);
    let Some(p) = pop_first(&mut t, keys, front, 1, &limits, ctx.session.rewoken)? else {
        return Ok(blocking::block(ctx, &ks, keys, timeout, a, Reply::NilArray));
    };
    drop(t);
    let key = &keys[p.key];
    notify_popped(ctx, key, front, p.deleted);
    let item = p.items.into_iter().next().expect("popped one");
    Ok(Reply::Array(vec![
        Reply::bulk_copy(key),
        Reply::bulk_from(item.as_bytes()),
    ]))
}

// ---------------------------------------------------------------------------------------------
// Move
// ---------------------------------------------------------------------------------------------

/// What `move_one` moved.
pub(crate) struct Moved {
    pub value: Member,
    /// The move emptied the source, so that key is gone.
    pub src_deleted: bool,
}

/// Pops one member from `src` (head when `from_front`) and pushes it onto `dst` (head when
/// `to_front`), creating `dst` if needed (LMOVE, RPOPLPUSH; BLMOVE and BRPOPLPUSH when woken).
/// None when `src` is missing, or holds another type and `rewoken` (a parked client run
/// again keeps waiting). As in Redis, `src` is checked before `dst`, and both before anything
/// changes; the caller raises the events (`notify_moved`).
pub(crate) fn move_one(
    t: &mut Txn<'_>,
    src: &[u8],
    dst: &[u8],
    from_front: bool,
    to_front: bool,
    limits: &EncodingLimits,
    rewoken: bool,
) -> Result<Option<Moved>, CmdError> {
    match read_list(t, src) {
        Ok(Some(_)) => {}
        Ok(None) => return Ok(None),
        Err(CmdError::WrongType) if rewoken => return Ok(None),
        Err(e) => return Err(e),
    }
    if src == dst {
        // A rotation: the list is never empty in between, so it keeps its identity and TTL.
        let value = t
            .write(
                src,
                || None,
                |v| {
                    let l = list_mut(v).expect("checked list");
                    let m = l.pop(from_front).expect("lists are never empty");
                    l.grow(limits, m.len(), 1);
                    l.push(to_front, m.as_bytes());
                    l.shrunk(limits);
                    m
                },
            )
            .expect("checked live");
        return Ok(Some(Moved {
            value,
            src_deleted: false,
        }));
    }
    read_list(t, dst)?;
    let (value, src_deleted) = t
        .write(
            src,
            || None,
            |v| {
                let l = list_mut(v).expect("checked list");
                let m = l.pop(from_front).expect("lists are never empty");
                l.shrunk(limits);
                (m, l.is_empty())
            },
        )
        .expect("checked live");
    let reply_copy = value.clone();
    t.write(dst, new_list, |v| {
        let l = list_mut(v).expect("checked list");
        l.grow(limits, value.len(), 1);
        l.push_member(to_front, value);
    });
    Ok(Some(Moved {
        value: reply_copy,
        src_deleted,
    }))
}

/// Raises the events of a move, in Redis's order: the push onto `dst`, then the pop from `src`
/// (and its `del` when emptied).
pub(crate) fn notify_moved(
    ctx: &mut Ctx<'_>,
    src: &[u8],
    dst: &[u8],
    from_front: bool,
    to_front: bool,
    src_deleted: bool,
) {
    ctx.notify(NOTIFY_LIST, push_event(to_front), dst);
    notify_popped(ctx, src, from_front, src_deleted);
}

/// The shared body of LMOVE and RPOPLPUSH, and with a `timeout` of BLMOVE and BRPOPLPUSH.
fn move_generic(
    ctx: &mut Ctx<'_>,
    a: &[&[u8]],
    from_front: bool,
    to_front: bool,
    timeout: Option<Option<std::time::Duration>>,
) -> Result<Reply, CmdError> {
    let limits = ctx.server.params.encoding_limits();
    let (src, dst) = (&a[1], &a[2]);
    let ks = ctx.db().clone();
    let mut t = ks.txn(ctx.now, [src, dst]);
    let moved = move_one(
        &mut t,
        src,
        dst,
        from_front,
        to_front,
        &limits,
        ctx.session.rewoken,
    )?;
    let Some(m) = moved else {
        return Ok(match timeout {
            Some(timeout) => {
                blocking::block(ctx, &ks, std::slice::from_ref(src), timeout, a, Reply::Nil)
            }
            None => Reply::Nil,
        });
    };
    drop(t);
    notify_moved(ctx, src, dst, from_front, to_front, m.src_deleted);
    Ok(Reply::bulk_from(m.value.as_bytes()))
}

/// LMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT>
fn lmove(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let from_front = parse_end(a[3])?;
    let to_front = parse_end(a[4])?;
    move_generic(ctx, a, from_front, to_front, None)
}

/// BLMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout
fn blmove(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let from_front = parse_end(a[3])?;
    let to_front = parse_end(a[4])?;
    let timeout = blocking::timeout_arg(a[5])?;
    move_generic(ctx, a, from_front, to_front, Some(timeout))
}

/// BRPOPLPUSH source destination timeout
fn brpoplpush(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let timeout = blocking::timeout_arg(a[3])?;
    move_generic(ctx, a, false, true, Some(timeout))
}

/// RPOPLPUSH source destination
fn rpoplpush(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    move_generic(ctx, a, false, true, None)
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

/// LLEN key
fn llen(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let len = read_list(&mut t, a[1])?.map(List::len);
    drop(t);
    ctx.count_lookup(len.is_some());
    Ok(Reply::Int(len.unwrap_or(0) as i64))
}

/// LRANGE key start stop
fn lrange(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (start, end) = (args::int(a[2])?, args::int(a[3])?);
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let reply = read_list(&mut t, a[1])?.map(|l| match clamp_range(start, end, l.len()) {
        None => Reply::Array(Vec::new()),
        Some((s, e)) => members_reply(l.range(s, e)),
    });
    drop(t);
    ctx.count_lookup(reply.is_some());
    Ok(reply.unwrap_or_else(|| Reply::Array(Vec::new())))
}

/// LINDEX key index
fn lindex(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let found = read_list(&mut t, a[1])?;
    let hit = found.is_some();
    // As in Redis, the index is parsed only once the key is known to be a list.
    let reply = match found {
        None => Reply::Nil,
        Some(l) => {
            let index = args::int(a[2])?;
            position(index, l.len())
                .and_then(|i| l.get(i))
                .map_or(Reply::Nil, |m| Reply::bulk_from(m.as_bytes()))
        }
    };
    drop(t);
    ctx.count_lookup(hit);
    Ok(reply)
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
fn lpos(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (mut rank, mut count, mut maxlen) = (1i64, None::<u64>, 0u64);
    let mut i = 3;
    while i < a.len() {
        let more = i + 1 < a.len();
        if args::is(a[i], "RANK") && more {
            rank = ranged(a[i + 1], -i64::MAX, i64::MAX, None)?;
            if rank == 0 {
                return Err(CmdError::err(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the \
                     second ... or use negative to start from the end of the list",
                ));
            }
        } else if args::is(a[i], "COUNT") && more {
            count =
                Some(ranged(a[i + 1], 0, i64::MAX, Some("ERR COUNT can't be negative"))? as u64);
        } else if args::is(a[i], "MAXLEN") && more {
            maxlen = ranged(a[i + 1], 0, i64::MAX, Some("ERR MAXLEN can't be negative"))? as u64;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let elem = a[2];
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let Some(l) = read_list(&mut t, a[1])? else {
        drop(t);
        ctx.count_lookup(false);
        return Ok(match count {
            Some(_) => Reply::Array(Vec::new()),
            None => Reply::Nil,
        });
    };
    let n = l.len();
    let scan = if maxlen == 0 {
        n
    } else {
        (maxlen.min(n as u64)) as usize
    };
    let (forward, skip) = (rank > 0, rank.unsigned_abs() - 1);
    let mut matches = 0u64;
    let mut found = Vec::new();
    for step in 0..scan {
        let idx = if forward { step } else { n - 1 - step };
        if l.get(idx).expect("index below len").as_bytes() != elem {
            continue;
        }
        matches += 1;
        if matches <= skip {
            continue;
        }
        found.push(Reply::Int(idx as i64));
        match count {
            None => break,
            Some(c) if c != 0 && found.len() as u64 >= c => break,
            Some(_) => {}
        }
    }
    drop(t);
    ctx.count_lookup(true);
    Ok(match count {
        Some(_) => Reply::Array(found),
        None => found.pop().unwrap_or(Reply::Nil),
    })
}

// ---------------------------------------------------------------------------------------------
// Writes in the middle
// ---------------------------------------------------------------------------------------------

/// LSET key index element
fn lset(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let limits = ctx.server.params.encoding_limits();
    let (key, elem) = (&a[1], &a[3]);
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let r = t.write_if(
        key,
        || None,
        |v| -> Result<_, CmdError> {
            let l = list_mut(v)?;
            let index = args::int(a[2])?;
            // Redis sizes the encoding for the new element before knowing the index is valid.
            l.grow(&limits, elem.len(), 1);
            let i =
                position(index, l.len()).ok_or_else(|| CmdError::err("ERR index out of range"))?;
            l.set(i, elem);
            l.shrunk(&limits);
            Ok(())
        },
        Result::is_ok,
    );
    drop(t);
    r.ok_or(CmdError::NoSuchKey)??;
    ctx.notify(NOTIFY_LIST, "lset", key);
    Ok(Reply::Ok)
}

/// LINSERT key <BEFORE | AFTER> pivot element
fn linsert(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let after = if args::is(a[2], "AFTER") {
        true
    } else if args::is(a[2], "BEFORE") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let limits = ctx.server.params.encoding_limits();
    let (key, pivot, elem) = (&a[1], &a[3], &a[4]);
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let r = t.write_if(
        key,
        || None,
        |v| -> Result<_, CmdError> {
            let l = list_mut(v)?;
            // As Redis: sized for the insert before the pivot is looked for.
            l.grow(&limits, elem.len(), 1);
            Ok(l.position(pivot).map(|i| {
                l.insert(i + after as usize, elem);
                l.len()
            }))
        },
        |r| matches!(r, Ok(Some(_))),
    );
    drop(t);
    match r.transpose()? {
        None => Ok(Reply::Int(0)),
        Some(None) => Ok(Reply::Int(-1)),
        Some(Some(len)) => {
            ctx.notify(NOTIFY_LIST, "linsert", key);
            Ok(Reply::Int(len as i64))
        }
    }
}

/// LREM key count element
fn lrem(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let count = args::int(a[2])?;
    let limits = ctx.server.params.encoding_limits();
    let (key, elem) = (&a[1], &a[3]);
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let r = t.write_if(
        key,
        || None,
        |v| -> Result<_, CmdError> {
            let l = list_mut(v)?;
            let removed = l.remove_matching(elem, count);
            if removed > 0 {
                l.shrunk(&limits);
            }
            Ok((removed, l.is_empty()))
        },
        |r| matches!(r, Ok((n, _)) if *n > 0),
    );
    drop(t);
    let Some(r) = r else {
        return Ok(Reply::Int(0));
    };
    let (removed, deleted) = r?;
    if removed > 0 {
        ctx.notify(NOTIFY_LIST, "lrem", key);
    }
    if deleted {
        ctx.notify(NOTIFY_GENERIC, "del", key);
    }
    Ok(Reply::Int(removed as i64))
}

/// LTRIM key start stop
fn ltrim(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (start, end) = (args::int(a[2])?, args::int(a[3])?);
    let limits = ctx.server.params.encoding_limits();
    let key = &a[1];
    let mut t = ctx.db().txn(ctx.now, &a[1..2]);
    let r = t.write_if(
        key,
        || None,
        |v| -> Result<_, CmdError> {
            let l = list_mut(v)?;
            match clamp_range(start, end, l.len()) {
                Some((s, e)) => l.retain_range(s, e),
                None => l.retain_range(1, 0),
            }
            l.shrunk(&limits);
            Ok(l.is_empty())
        },
        Result::is_ok,
    );
    drop(t);
    let Some(r) = r else {
        return Ok(Reply::Ok);
    };
    let deleted = r?;
    // Redis raises `ltrim` even when nothing was trimmed.
    ctx.notify(NOTIFY_LIST, "ltrim", key);
    if deleted {
        ctx.notify(NOTIFY_GENERIC, "del", key);
    }
    Ok(Reply::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_clamp_like_redis() {
        assert_eq!(clamp_range(0, -1, 3), Some((0, 2)));
        assert_eq!(clamp_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(clamp_range(2, 1, 3), None);
        assert_eq!(clamp_range(3, 5, 3), None);
        assert_eq!(clamp_range(0, -4, 3), None);
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 3), Some((0, 2)));
        assert_eq!(position(-1, 3), Some(2));
        assert_eq!(position(-4, 3), None);
        assert_eq!(position(3, 3), None);
        assert_eq!(position(i64::MIN, 3), None);
    }
}
