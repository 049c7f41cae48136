//! Tenancy at the dispatch point: the checks a bound connection passes before any handler runs
//! (tenant deleted, token revoked, role, tenant state), and the resolution of `__tenant:<id>:`
//! key names for admins in the global context. Keys are found by the command table's key specs
//! (`keys::key_positions`) and nowhere else, so every command, present and future, is covered.

use super::keys::key_positions;
use super::spec::{flags, CommandSpec};
use crate::protocol::{CmdError, Reply};
use crate::server::session::Session;
use crate::server::Server;
use crate::storage::TenantData;
use crate::tenant::quota::{QuotaError, Refusal, Resource};
use crate::tenant::{Role, State, Tenant};
use bytes::Bytes;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The tenant and the command's arguments with global names resolved to plain keys.
pub type Resolved<'a> = (Arc<Tenant>, Vec<&'a [u8]>);
/// A tenant's store, the pattern to match in it, and the prefix to put back on listed keys.
pub type PatternScope = (Arc<TenantData>, Bytes, Vec<u8>);

/// The global name prefix of tenant keys.
pub const PREFIX: &[u8] = b"__tenant:";

/// Splits `__tenant:<id>:<key>` into (id, key). None if the name has no such prefix.
pub fn split_global_name(name: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = name.strip_prefix(PREFIX)?;
    let colon = rest.iter().position(|&c| c == b':')?;
    Some((&rest[..colon], &rest[colon + 1..]))
}

/// Whether a bound connection's role allows a command, decided from its flags alone.
pub fn role_allows(role: Role, spec: &CommandSpec) -> bool {
    use flags::*;
    let admin = spec.has(ADMIN);
    match role {
        // Read-only tokens run read commands only: no scoped administration either.
        Role::Readonly => !admin && !spec.has(WRITE),
        _ if admin && spec.has(TENANT_SCOPED) => true,
        Role::Admin => !admin || spec.has(TENANT_ADMIN),
        Role::Readwrite => !admin,
    }
}

#[cold]
#[inline(never)]
fn noperm(user: &str, fullname: &str) -> CmdError {
    CmdError::err(format!(
        "NOPERM User {user} has no permissions to run the '{fullname}' command"
    ))
}

/// Checks a tenant-bound connection before the command runs. For `no_auth` commands (AUTH,
/// HELLO, QUIT, RESET) only the credential is re-checked, so a revoked connection loses its
/// binding before, say, HELLO can report on it, while AUTH can still log in again. Inline,
/// with every refusal out of line: this runs before each command of every tenant.
#[inline]
pub fn check_bound(
    server: &Server,
    session: &mut Session,
    spec: &CommandSpec,
    fullname: &str,
    now: u64,
) -> Result<(), CmdError> {
    if spec.has(flags::NO_AUTH) {
        // The outcome is in the session's state (unbound, or closing); the command runs.
        let _ = refresh(server, session, now);
        return Ok(());
    }
    check_access(server, session, spec, fullname, now)?;
    let Some(b) = session.tenant.as_ref() else {
        return Ok(());
    };
    let t = &b.tenant;
    // The ops/s quota: charged to tenant credentials, not to an admin looking in.
    if !session.server_admin && !spec.has(flags::RATE_EXEMPT) {
        let ops = t.ops_limit();
        if ops > 0 {
            let now_ns = session.clock.since_start_ns();
            let burst = server.tenants.burst(ops);
            if let Err(retry_ms) = t.limiter.admit(now_ns, ops, burst, server.workers == 1) {
                return Err(rate_limited(session, now_ns, ops, retry_ms));
            }
            session.counters.metered += 1;
            session.ops_admitted = session.ops_admitted.saturating_add(1);
        }
    }
    Ok(())
}

/// `check_bound` without charging the ops/s limit: the credential, role, database and tenant
/// state, as EXEC re-checks each queued command (already charged when it was queued) before
/// running it, since any of them may have changed meanwhile.
#[inline]
pub fn check_access(
    server: &Server,
    session: &mut Session,
    spec: &CommandSpec,
    fullname: &str,
    now: u64,
) -> Result<(), CmdError> {
    refresh(server, session, now)?;
    // Borrowed, not cloned: an Arc clone per command would bounce the refcount's cache line
    // between every connection of the tenant.
    let Some(b) = session.tenant.as_ref() else {
        return Ok(());
    };
    let t = &b.tenant;
    if !session.server_admin && !role_allows(b.role, spec) {
        return Err(noperm(&t.id, fullname));
    }
    let data_command = spec.has(flags::WRITE) || spec.has(flags::READONLY);
    // The tenant's databases may have been lowered under a connection that had selected one.
    if data_command && session.db >= t.db_limit() {
        return Err(CmdError::DbIndexOutOfRange);
    }
    match t.state() {
        // A suspended tenant neither touches its data nor talks over Pub/Sub.
        State::Suspended | State::Deleting if data_command || spec.has(flags::PUBSUB) => {
            Err(suspended(t))
        }
        State::ReadOnly if spec.has(flags::WRITE) => Err(read_only(t)),
        _ => Ok(()),
    }
}

/// Whether a subscribed connection may still be sent its messages: checked before each
/// delivery, so a subscriber whose token was revoked or has expired, or whose tenant was
/// suspended or deleted, receives nothing more (it is then closed, as Redis disconnects a
/// subscriber whose channel permissions are taken away).
pub fn may_receive(server: &Server, session: &mut Session, now: u64) -> bool {
    let Some(b) = session.tenant.as_ref() else {
        return true;
    };
    let bound_to = b.tenant.clone();
    if refresh(server, session, now).is_err() || session.closing {
        return false;
    }
    // Still bound to the same tenant (a refresh that unbinds also leaves its channels).
    let same = session
        .tenant
        .as_ref()
        .is_some_and(|b| Arc::ptr_eq(&b.tenant, &bound_to));
    same && !matches!(bound_to.state(), State::Suspended | State::Deleting)
}

#[cold]
#[inline(never)]
fn suspended(t: &Tenant) -> CmdError {
    CmdError::err(format!("SUSPENDED tenant '{}' is suspended", t.id))
}

#[cold]
#[inline(never)]
fn read_only(t: &Tenant) -> CmdError {
    CmdError::err(format!("READONLY tenant '{}' is read-only", t.id))
}

/// Refuses a command over the tenant's ops/s rate. A refused connection waits its turn in the
/// tenant's queue: the time the rate needs to admit every command its batch sent, admitted or
/// refused, after the turns already taken. So a pipelining flood comes back spread evenly
/// over the rate instead of costing the server (and the tenant's neighbours) a refusal for
/// most of what it sends. At least the bucket's own retry time, at most a second.
#[cold]
#[inline(never)]
fn rate_limited(session: &mut Session, now_ns: u64, ops: u64, retry_ms: u64) -> CmdError {
    let t = &session.tenant.as_ref().expect("bound").tenant;
    t.rejections.count(Resource::Ops);
    let sent = 1 + u64::from(session.ops_admitted);
    let turn = take_turn(t, session, now_ns, ops, sent);
    let e = QuotaError::RateLimited {
        limit: ops,
        retry_ms,
    };
    let refusal = CmdError::err(Refusal(&t.id, &e).to_string());
    let now = session.clock.last();
    let until = turn
        .max(now + Duration::from_millis(retry_ms.max(1)))
        .max(session.throttle_until.unwrap_or(now));
    session.throttle_until = Some(until);
    session.paced_until_ns = now_ns.saturating_add(PACED_FOR_NS);
    session.ops_admitted = 0;
    refusal
}

/// After a batch served without refusal: a connection refused in the last second takes its
/// turn in the tenant's pacer for what the batch ran before reading the next one. Without this a
/// flooding connection alternates between an admitted batch and a refused one (its next batch
/// finds the bucket drained), so half of what it sends is refused work; paced, its next batch
/// arrives when the rate has room for it. A client that stays under the rate reserves from now
/// on and waits only for what it ran.
pub fn pace_admitted(session: &mut Session) {
    if session.paced_until_ns == 0 || session.ops_admitted == 0 || session.throttle_until.is_some()
    {
        return;
    }
    let Some(b) = session.tenant.as_ref() else {
        return;
    };
    let now_ns = session.clock.since_start_ns();
    if now_ns >= session.paced_until_ns {
        session.paced_until_ns = 0;
        return;
    }
    let ops = b.tenant.ops_limit();
    if ops == 0 {
        return;
    }
    let admitted = u64::from(session.ops_admitted);
    session.throttle_until = Some(take_turn(&b.tenant, session, now_ns, ops, admitted));
}

/// How long after its last refusal a connection's admitted batches still take turns.
const PACED_FOR_NS: u64 = 1_000_000_000;

/// How far ahead of now a turn may end: a paced connection never waits longer than this.
const TURN_HORIZON_NS: u64 = 1_000_000_000;

/// Reserves the tenant's next turn for `commands` commands at `ops` per second; returns the
/// instant it ends, when the connection may read again.
fn take_turn(t: &Tenant, session: &Session, now_ns: u64, ops: u64, commands: u64) -> Instant {
    let cost_ns = commands.saturating_mul(1_000_000_000 / ops.max(1));
    let end_ns = t.pacer.reserve(now_ns, cost_ns, TURN_HORIZON_NS);
    session.clock.last() + Duration::from_nanos(end_ns.saturating_sub(now_ns))
}

/// Re-checks a bound connection's standing: its tenant still exists, and its token is still
/// valid (not revoked: the tenant's credential epoch moved; not expired). A lost credential
/// unbinds the connection, which is then no longer authenticated. Inline: per command, this
/// is three loads and compares; the rest is out of line.
#[inline]
fn refresh(server: &Server, session: &mut Session, now: u64) -> Result<(), CmdError> {
    let Some(b) = session.tenant.as_ref() else {
        return Ok(());
    };
    let expired = b.expires_at != 0 && now >= b.expires_at;
    if !b.tenant.is_deleted() && b.tenant.epoch() == b.epoch && !expired {
        return Ok(());
    }
    refresh_changed(server, session, now)
}

#[cold]
#[inline(never)]
fn refresh_changed(server: &Server, session: &mut Session, now: u64) -> Result<(), CmdError> {
    let Some(b) = session.tenant.as_mut() else {
        return Ok(());
    };
    if b.tenant.is_deleted() {
        // The tenant is gone: refuse, and close once this reply is written.
        let e = CmdError::err(format!("ERR tenant '{}' no longer exists", b.tenant.id));
        session.closing = true;
        return Err(e);
    }
    let expired = b.expires_at != 0 && now >= b.expires_at;
    let epoch = b.tenant.epoch();
    if epoch == b.epoch && !expired {
        return Ok(());
    }
    b.epoch = epoch;
    let lost = match &b.token {
        Some(tok) => expired || !b.tenant.token_valid(tok, now),
        None => false,
    };
    if lost {
        // Revoked (or expired): the connection is no longer authenticated. A subscriber is
        // closed after this reply, as Redis disconnects one whose permissions are taken away
        // (unbinding also drops what was published to it meanwhile, unsent).
        if session.subscribed() {
            session.closing = true;
        }
        session.unbind();
        session.authenticated = !server.auth_required();
        session.server_admin = session.authenticated;
        return Err(CmdError::NoAuth);
    }
    Ok(())
}

/// For an admin in the global context: if the command's keys are tenant global names, the
/// tenant's store and the arguments with the names resolved to plain keys. All keys of one
/// command must belong to the same place (one tenant, or the global keyspace).
pub fn resolve_global_names<'a>(
    server: &Server,
    spec: &CommandSpec,
    args: &[&'a [u8]],
    db: usize,
) -> Result<Option<Resolved<'a>>, CmdError> {
    // Cheap test first: this runs for every command in the global context.
    if spec.keys.is_empty() || !args[1..].iter().any(|a| a.starts_with(PREFIX)) {
        return Ok(None);
    }
    let positions = key_positions(spec, args);
    if !positions.iter().any(|&i| args[i].starts_with(PREFIX)) {
        return Ok(None);
    }
    let mut tenant: Option<Arc<Tenant>> = None;
    let mut out = args.to_vec();
    for i in positions {
        let Some((id, key)) = split_global_name(args[i]) else {
            // The prefix is the tenants' namespace: a name in it that names no tenant's key
            // is a mistake, not a global key.
            if args[i].starts_with(PREFIX) {
                return Err(CmdError::err(
                    "ERR a key beginning with __tenant: must be __tenant:<id>:<key>",
                ));
            }
            return Err(CmdError::err(
                "ERR keys of one command must all belong to the same tenant",
            ));
        };
        let id = std::str::from_utf8(id).unwrap_or("");
        match &tenant {
            Some(t) if t.id != id => {
                return Err(CmdError::err(
                    "ERR keys of one command must all belong to the same tenant",
                ))
            }
            Some(_) => {}
            None => {
                let t = server
                    .tenants
                    .get(id)
                    .ok_or_else(|| CmdError::err(format!("ERR no such tenant '{id}'")))?;
                tenant = Some(t);
            }
        }
        out[i] = key;
    }
    let Some(t) = tenant else {
        return Ok(None);
    };
    // The admin's selected database must be one the tenant has.
    if db >= t.limits().databases as usize {
        return Err(CmdError::DbIndexOutOfRange);
    }
    Ok(Some((t, out)))
}

/// For KEYS and SCAN in the global context: a pattern `__tenant:<id>:<rest>` lists tenant
/// `<id>`'s keys matching `<rest>`; replies carry the prefix back (the caller's form).
pub fn pattern_scope(
    server: &Server,
    session: &Session,
    pattern: &[u8],
) -> Result<Option<PatternScope>, CmdError> {
    if session.tenant.is_some() {
        return Ok(None);
    }
    let Some((id, rest)) = split_global_name(pattern) else {
        return Ok(None);
    };
    let id = std::str::from_utf8(id).unwrap_or("");
    if id.contains(['*', '?', '[', '\\']) {
        return Ok(None);
    }
    let t = server
        .tenants
        .get(id)
        .ok_or_else(|| CmdError::err(format!("ERR no such tenant '{id}'")))?;
    let prefix = pattern[..pattern.len() - rest.len()].to_vec();
    Ok(Some((t.data.clone(), Bytes::copy_from_slice(rest), prefix)))
}

/// A key name in the caller's form: with the tenant prefix when listed from the global context.
pub fn caller_form(prefix: &[u8], key: &[u8]) -> Reply {
    if prefix.is_empty() {
        return Reply::bulk_from(key);
    }
    let mut v = Vec::with_capacity(prefix.len() + key.len());
    v.extend_from_slice(prefix);
    v.extend_from_slice(key);
    Reply::bulk(v)
}
