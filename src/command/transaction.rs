//! Transactions (Redis's `multi.c`): MULTI queues, EXEC runs the queue atomically, DISCARD
//! drops it, WATCH makes EXEC conditional on keys staying untouched.
//!
//! Queueing happens at the dispatch point (`dispatch::queue`): each command is checked as it
//! arrives (lookup, arity, authentication, role, tenant state, ops/s limit), and a refusal
//! dooms the transaction (EXECABORT), as in Redis. EXEC holds its store's `exec_gate`
//! exclusively while the queue runs, and every other connection working in that store holds it
//! shared for each batch of commands: so EXEC is atomic with respect to the tenant's other
//! clients, and never waits for, nor delays, another tenant's.
//!
//! WATCH registers the connection's signal in the keyspace (`storage::watch`); every change
//! storage makes to the key (write, delete, expiry, eviction, FLUSHDB, RENAME) fires it.

use super::dispatch::{self, Ctx};
use super::spec::{cmd, flags::*, key_flags::*, CommandSpec, KeySpec};
use crate::protocol::{CmdError, Reply};
use crate::server::session::{Multi, Watched};
use bytes::Bytes;
use std::sync::atomic::Ordering::Relaxed;

const T: &[&str] = &["@fast", "@transaction"];
const G: &str = "transactions";

#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[
    cmd("multi", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, T, &[], multi, "Starts a transaction.", "1.2.0", G, "O(1)"),
    cmd("exec", 1, NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG, &["@slow", "@transaction"], &[], exec, "Executes all commands in a transaction.", "1.2.0", G, "Depends on commands in the transaction"),
    cmd("discard", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, T, &[], discard, "Discards a transaction.", "2.0.0", G, "O(N), when N is the number of queued commands"),
    cmd("watch", -2, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, T, &[KeySpec::range(1, -1, 1, RO)], watch, "Monitors changes to keys to determine the execution of a transaction.", "2.2.0", G, "O(1) for every key.").args("key [key ...]"),
    cmd("unwatch", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, T, &[], unwatch, "Forgets about watched keys of a transaction.", "2.2.0", G, "O(1)"),
];

/// What one WATCHed key costs beyond its name's two copies: the connection's entry and the
/// keyspace's watcher slot.
const WATCH_OVERHEAD: usize = 96;

/// MULTI
fn multi(ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    if ctx.session.multi.is_some() {
        return Err(CmdError::err("ERR MULTI calls can not be nested"));
    }
    ctx.session.multi = Some(Multi::default());
    Ok(Reply::Ok)
}

/// DISCARD
fn discard(ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    if ctx.session.multi.take().is_none() {
        return Err(CmdError::err("ERR DISCARD without MULTI"));
    }
    ctx.session.unwatch_all();
    Ok(Reply::Ok)
}

/// EXEC
fn exec(ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    let Some(multi) = ctx.session.multi.take() else {
        return Err(CmdError::err("ERR EXEC without MULTI"));
    };
    let now = ctx.now;
    let s = &mut *ctx.session;
    let touched = s.watch_signal.fired()
        || s.watched
            .iter()
            .any(|w| w.expire_at != 0 && w.expire_at <= now);
    s.unwatch_all();
    if multi.aborted {
        return Err(CmdError::err(
            "EXECABORT Transaction discarded because of previous errors.",
        ));
    }
    if touched {
        return Ok(Reply::NilArray);
    }
    // Exclusive for the whole queue. The shared hold this batch took is released first: a
    // connection never waits for a gate while holding one.
    s.release_gate();
    let store = s.store.clone();
    let _exclusive = store.exec_gate.write();
    s.in_exec = true;
    // Every command runs as the connection that queued it: once that changes (a token
    // revoked meanwhile unbinds it), the rest is refused, never run as someone else.
    let identity = s.identity();
    // The queue's bytes become the commands' own (checked by the memory quota as they run).
    let Multi { queue, charge, .. } = multi;
    drop(charge);
    // CLIENT LIST's `cmd=` names EXEC once it has run, not the last command it queued.
    let exec_id = ctx.session.handle.last_cmd.load(Relaxed);
    let replies = queue
        .into_iter()
        .map(|(id, args)| {
            if ctx.session.identity() != identity {
                return Reply::Error(CmdError::NoAuth);
            }
            let mark = ctx
                .session
                .pubsub
                .as_ref()
                .map_or(0, |p| p.sub.queued_len());
            let reply = dispatch::run_queued(ctx.server, ctx.session, id, args);
            let no_reply = std::mem::take(&mut ctx.session.no_reply);
            // (UN)SUBSCRIBE's confirmations are its element of EXEC's reply. Messages a
            // command publishes to its own connection (or keyspace events of its writes)
            // stay queued until EXEC has replied, as Redis 7.2 postpones them: inside the
            // array they would break it.
            match ctx.session.pubsub.as_ref() {
                Some(p) if no_reply => Reply::Encoded(p.sub.split_from(mark)),
                _ => reply,
            }
        })
        .collect();
    ctx.session.in_exec = false;
    ctx.session.handle.last_cmd.store(exec_id, Relaxed);
    Ok(Reply::Array(replies))
}

/// WATCH key [key ...]
fn watch(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if ctx.session.multi.is_some() {
        return Err(CmdError::err("ERR WATCH inside MULTI is not allowed"));
    }
    // A watched key's name is held for the connection (and by the keyspace's watchers).
    let cost = |k: &[u8]| 2 * k.len() + WATCH_OVERHEAD;
    ctx.session
        .admit_state(a[1..].iter().map(|k| cost(k)).sum())?;
    let ks = ctx.db().clone();
    let signal = ctx.session.watch_signal.clone();
    let mut t = ks.txn(ctx.now, &a[1..]);
    for key in &a[1..] {
        let expire_at = t.peek(key).map_or(0, |e| e.expire_at);
        // Registered under the key's shard lock: no write can land between the look and the
        // registration unseen. A key already watched is registered once: finding it there
        // costs what its few watchers cost, not the connection's whole watch list.
        if !ks.watchers.register(key, &signal) {
            continue;
        }
        ctx.session.add_watched_bytes(cost(key));
        ctx.session.watched.push(Watched {
            keyspace: ks.clone(),
            key: Bytes::copy_from_slice(key),
            expire_at,
        });
    }
    drop(t);
    let n = ctx.session.watched.len() as u32;
    ctx.session.handle.state.watched.store(n, Relaxed);
    // Keys already watched were admitted again above: charge what is held.
    ctx.session.settle_state_charge();
    Ok(Reply::Ok)
}

/// UNWATCH
fn unwatch(ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    ctx.session.unwatch_all();
    Ok(Reply::Ok)
}
