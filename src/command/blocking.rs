//! What blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX,
//! BZMPOP) share: their timeout argument, and how a handler that found nothing to pop parks
//! its connection.
//!
//! A handler first tries the non-blocking operation. If nothing was ready it calls `block`
//! while still holding the keys' shard locks, so no push can land unseen between the look and
//! the registration. The connection then stops running its input, waits for the keys'
//! signal (no polling), the timeout, or the client going away, and on a wake-up runs the same
//! command again through dispatch. Wake-ups are first come, first served (`storage::watch`).
//! Inside EXEC a blocking command never blocks: it answers as on timeout, as in Redis.

use super::dispatch::Ctx;
use crate::protocol::{args, CmdError, Reply};
use crate::server::session::Blocked;
use crate::storage::keyspace::Keyspace;
use crate::util::long_double::LongDouble;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;

/// The arguments LMPOP, BLMPOP, ZMPOP and BZMPOP share, from numkeys' position `first`:
/// `numkeys key [key ...] <ends[0] | ends[1]> [COUNT count]`, checked in Redis's order.
pub struct MultiPop {
    /// Positions of the keys in the arguments.
    pub keys: std::ops::Range<usize>,
    /// `ends[0]` (LEFT, MIN) was given rather than `ends[1]`.
    pub first_end: bool,
    pub count: usize,
}

pub fn multi_pop_args(a: &[&[u8]], first: usize, ends: [&str; 2]) -> Result<MultiPop, CmdError> {
    let numkeys = match crate::protocol::request::parse_i64(a[first]) {
        Some(n) if n >= 1 => n as usize,
        _ => return Err(CmdError::err("ERR numkeys should be greater than 0")),
    };
    let end_at = match numkeys.checked_add(first + 1) {
        Some(i) if i < a.len() => i,
        _ => return Err(CmdError::Syntax),
    };
    let first_end = if args::is(a[end_at], ends[0]) {
        true
    } else if args::is(a[end_at], ends[1]) {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let mut count = None;
    let mut i = end_at + 1;
    while i < a.len() {
        if count.is_none() && args::is(a[i], "COUNT") && i + 1 < a.len() {
            match crate::protocol::request::parse_i64(a[i + 1]) {
                Some(n) if n >= 1 => count = Some(n as usize),
                _ => return Err(CmdError::err("ERR count should be greater than 0")),
            }
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(MultiPop {
        keys: first + 1..end_at,
        first_end,
        count: count.unwrap_or(1),
    })
}

/// A blocking command's timeout in seconds (fractions allowed; 0 = forever), parsed as
/// Redis's `getTimeoutFromObjectOrReply`: read as a `long double` (so `0x10` and `inf` are
/// numbers, `1e5000` is not), rounded up to whole milliseconds.
pub fn timeout_arg(a: &[u8]) -> Result<Option<Duration>, CmdError> {
    let not_a_float = || CmdError::err("ERR timeout is not a float or out of range");
    // Plain decimals, nearly every timeout, need no exact parse.
    let plain = !a.is_empty() && a.iter().all(|c| c.is_ascii_digit() || *c == b'.');
    let secs = match std::str::from_utf8(a).ok().filter(|_| plain) {
        Some(s) => s.parse::<f64>().map_err(|_| not_a_float())?,
        None => LongDouble::parse(a).ok_or_else(not_a_float)?.to_f64(),
    };
    let ms = (secs * 1000.0).ceil();
    // Redis adds the clock to it in a signed 64-bit count of milliseconds.
    let now_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_millis() as f64)
    };
    if ms > i64::MAX as f64 || (ms > 1e18 && ms + now_ms() > i64::MAX as f64) {
        return Err(CmdError::err("ERR timeout is out of range"));
    }
    if ms < 0.0 {
        return Err(CmdError::err("ERR timeout is negative"));
    }
    Ok((ms > 0.0).then(|| Duration::from_millis(ms as u64)))
}

/// Parks the connection on `keys` of `ks` until one is written, or `timeout` passes (then it
/// gets `on_timeout`). Call with the keys' shard locks still held. Returns the reply to give
/// now: `on_timeout` inside EXEC (never blocks), else a placeholder the connection discards.
pub fn block(
    ctx: &mut Ctx<'_>,
    ks: &Arc<Keyspace>,
    keys: &[&[u8]],
    timeout: Option<Duration>,
    args: &[&[u8]],
    on_timeout: Reply,
) -> Reply {
    if ctx.session.in_exec {
        return on_timeout;
    }
    let signal = ctx.session.block_signal.clone();
    signal.reset();
    // Parked from now on, its earlier replies not yet written: a key pushed before the
    // connection reaches its wait is handed to it all the same.
    signal.park();
    for k in keys {
        // A client waiting again after a wake-up is still registered, in its old place.
        let _ = ks.watchers.register(k, &signal);
    }
    ctx.session.blocked = Some(Blocked {
        args: args::to_owned(args),
        deadline: timeout.map(|t| ctx.session.clock.last() + t),
        keys: keys
            .iter()
            .map(|k| (ks.clone(), Bytes::copy_from_slice(k)))
            .collect(),
        signal,
        on_timeout,
        served: false,
        waits_again: false,
    });
    Reply::Nil
}
