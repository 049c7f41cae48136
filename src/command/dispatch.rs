//! The single command path. Network commands (and later MULTI queues and Lua's `redis.call`)
//! all enter `dispatch`, which checks, in Redis's `processCommand` order: lookup, arity,
//! authentication, then tenancy (tenant deleted, token revoked, role, tenant state; see
//! `tenancy`), resolves `__tenant:` key names for admins, and runs the handler, counting it in
//! `INFO commandstats`.

use super::registry::REGISTRY;
use super::spec::{flags, CommandSpec};
use super::{quota, tenancy};
use crate::config::params::{COB_PUBSUB, NOTIFY_KEYEVENT, NOTIFY_KEYSPACE};
use crate::protocol::{args, CmdError, Proto, Reply};
use crate::server::pubsub::OutputLimit;
use crate::server::session::Session;
use crate::server::Server;
use crate::storage::keyspace::Keyspace;
use crate::storage::TenantData;
use crate::tenant::Tenant;
use bytes::Bytes;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// What a handler can reach: the server, its own session, and the command's start time.
pub struct Ctx<'a> {
    pub server: &'a Arc<Server>,
    pub session: &'a mut Session,
    /// Unix milliseconds when the command started; expiry decisions use this one clock.
    pub now: u64,
    pub spec: &'static CommandSpec,
    /// The tenant this command's keys resolved to, when not the session's own (an admin
    /// naming `__tenant:<id>:` keys from the global context).
    pub resolved: Option<Arc<Tenant>>,
}

impl Ctx<'_> {
    /// The store the command acts on.
    pub fn store(&self) -> &Arc<TenantData> {
        self.resolved
            .as_ref()
            .map_or(&self.session.store, |t| &t.data)
    }

    /// The tenant whose data the command acts on (None: the global context's).
    pub fn tenant(&self) -> Option<&Arc<Tenant>> {
        self.resolved
            .as_ref()
            .or(self.session.tenant.as_ref().map(|b| &b.tenant))
    }

    /// The databases this command may address (SELECT, COPY DB, MOVE).
    pub fn db_limit(&self) -> usize {
        match &self.resolved {
            Some(t) => t.db_limit().min(t.data.databases()),
            None => self.session.db_limit(),
        }
    }

    /// The selected database of the command's store.
    pub fn db(&self) -> &Arc<Keyspace> {
        self.store().db(self.session.db)
    }

    /// Raises a keyspace event (Redis's `notifyKeyspaceEvent`): `class` is one of the
    /// `config::params::NOTIFY_*` type bits, `event` the event name (`lpush`, `hset`, `del`...),
    /// `key` the key as the caller named it inside its tenant. Cheap when notifications are
    /// off, which is the default: one atomic load. Takes `&self` so it can be raised while the
    /// command still holds its keys (events of one key then arrive in the order of its writes).
    pub fn notify(&self, class: u32, event: &'static str, key: &[u8]) {
        self.notify_db(class, event, key, self.session.db);
    }

    /// `notify` for a key in database `db` (MOVE and COPY ... DB raise their `*_to` events in
    /// the target database).
    pub fn notify_db(&self, class: u32, event: &'static str, key: &[u8], db: usize) {
        // The event belongs to the tenant whose data changed: an admin naming
        // `__tenant:<id>:` keys raises it in that tenant's namespace.
        let ns = match &self.resolved {
            Some(t) => t.id.as_str(),
            None => self.session.namespace(),
        };
        raise_keyspace_event(self.server, ns, class, event, db, key);
    }

    /// Counts a key lookup for `keyspace_hits` / `keyspace_misses`.
    pub fn count_lookup(&mut self, hit: bool) {
        let c = &mut self.session.counters;
        if hit {
            c.hits += 1;
        } else {
            c.misses += 1;
        }
    }
}

/// Raises a keyspace event of `class` in namespace `ns`, if `notify-keyspace-events` asks for
/// it: one atomic load when notifications are off, the default.
pub fn raise_keyspace_event(
    server: &Server,
    ns: &str,
    class: u32,
    event: &str,
    db: usize,
    key: &[u8],
) {
    if keyspace_events_wanted(server, class) {
        let flags = server.params.notify_keyspace_events();
        keyspace_event(server, ns, flags, db, event, key);
    }
}

/// Whether `notify-keyspace-events` asks for `class` at all (one atomic load).
pub fn keyspace_events_wanted(server: &Server, class: u32) -> bool {
    let flags = server.params.notify_keyspace_events();
    flags & class != 0 && flags & (NOTIFY_KEYSPACE | NOTIFY_KEYEVENT) != 0
}

/// Publishes one keyspace event in namespace `ns`: `__keyspace@<db>__:<key>` → event and
/// `__keyevent@<db>__:<event>` → key, as `flags` (K, E) ask. Returns at once when nobody at
/// all is subscribed, so enabling notifications costs little until someone listens.
fn keyspace_event(server: &Server, ns: &str, flags: u32, db: usize, event: &str, key: &[u8]) {
    let hub = &server.pubsub;
    if hub.is_idle() {
        return;
    }
    let limit = OutputLimit::of(&server.params, COB_PUBSUB);
    let mut db_text = itoa::Buffer::new();
    let db_text = db_text.format(db).as_bytes();
    let mut chan = Vec::with_capacity(16 + db_text.len() + key.len().max(event.len()));
    if flags & NOTIFY_KEYSPACE != 0 {
        chan.extend_from_slice(b"__keyspace@");
        chan.extend_from_slice(db_text);
        chan.extend_from_slice(b"__:");
        chan.extend_from_slice(key);
        hub.publish(ns, &chan, event.as_bytes(), limit);
    }
    if flags & NOTIFY_KEYEVENT != 0 {
        chan.clear();
        chan.extend_from_slice(b"__keyevent@");
        chan.extend_from_slice(db_text);
        chan.extend_from_slice(b"__:");
        chan.extend_from_slice(event.as_bytes());
        hub.publish(ns, &chan, key, limit);
    }
}

/// The error of a command a RESP2 connection may not run while subscribed.
fn subscribed_context_error(fullname: &str) -> CmdError {
    CmdError::err(format!(
        "ERR Can't execute '{fullname}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    ))
}

/// Resolves a command (and subcommand) to its registry id, or the Redis error for it.
pub fn resolve(args: &[&[u8]]) -> Result<usize, CmdError> {
    let Some(id) = REGISTRY.find(args[0]) else {
        return Err(unknown_command(args));
    };
    let spec = REGISTRY.entries[id].spec;
    if !spec.is_container() || args.len() < 2 {
        return Ok(id);
    }
    REGISTRY
        .find_sub(id, args[1])
        .ok_or_else(|| CmdError::UnknownSubcommand {
            sub: args::text(args[1]),
            container: spec.name.to_string(),
        })
}

/// A connection's last command name, exactly as the client spelled it, and its id: a client
/// repeats one command (a pipeline of SETs) far more often than not, and comparing a few bytes
/// is cheaper than lowercasing and hashing the name again (~2% of server time at `-P 16`).
/// Containers are not remembered: their id depends on the subcommand.
#[derive(Debug, Default)]
pub struct RecentCommand {
    name: [u8; 16],
    len: u8,
    id: Option<usize>,
}

impl RecentCommand {
    /// [`resolve`], through the remembered name when it matches.
    pub fn resolve(&mut self, args: &[&[u8]]) -> Result<usize, CmdError> {
        if let Some(id) = self.id {
            if args[0] == &self.name[..usize::from(self.len)] {
                return Ok(id);
            }
        }
        let id = resolve(args)?;
        let name = args[0];
        let entry = &REGISTRY.entries[id];
        // A container, or one of its subcommands: the id depends on more than the name.
        let top_level = !entry.spec.is_container() && !entry.fullname.contains('|');
        if name.len() <= self.name.len() && top_level {
            self.name[..name.len()].copy_from_slice(name);
            self.len = name.len() as u8;
            self.id = Some(id);
        }
        Ok(id)
    }
}

fn unknown_command(args: &[&[u8]]) -> CmdError {
    let mut list = String::new();
    for a in &args[1..] {
        if list.len() >= 128 {
            break;
        }
        let room = 128 - list.len();
        let t = args::text(a);
        let cut: String = t.chars().take(room).collect();
        list.push_str(&format!("'{cut}' "));
    }
    CmdError::UnknownCommand {
        name: args::text(args[0]),
        args: list,
    }
}

/// Runs one command for a session and returns its reply. `args` borrow the read buffer;
/// a command kept past its request (queued in MULTI) copies them.
pub fn dispatch(server: &Arc<Server>, session: &mut Session, args: &[&[u8]]) -> Reply {
    session.counters.commands += 1;
    // One clock for the checks and the command.
    let now = session.clock.now_ms();
    let reply = match check(server, session, args, now) {
        Ok(id) if session.multi.is_some() && !controls_transaction(id) => {
            queue(server, session, id, args)
        }
        Ok(id) => run(server, session, id, args, now),
        Err((id, e)) => {
            if let Some(id) = id {
                server.command_stats[id].rejected.fetch_add(1, Relaxed);
            }
            // A command refused while queueing dooms the transaction (Redis's
            // `flagTransaction`); a refused EXEC, in MULTI or not, discards it and the WATCHed
            // keys then and there, so nothing the queue holds outlives the refusal (Redis's
            // `execCommandAbort`).
            match session.multi.as_mut() {
                _ if id.is_some_and(|id| REGISTRY.entries[id].spec.name == "exec") => {
                    session.multi = None;
                    session.unwatch_all();
                    Reply::Error(exec_abort(&e))
                }
                Some(m) => {
                    m.aborted = true;
                    Reply::Error(e)
                }
                None => Reply::Error(e),
            }
        }
    };
    if let Reply::Error(e) = &reply {
        count_error(session, e);
    }
    reply
}

/// A refused EXEC's error, as Redis words it: the refusal's own text, without the generic
/// `ERR` code (Redis formats those refusals without one).
fn exec_abort(e: &CmdError) -> CmdError {
    let text = e.text();
    let why = text.strip_prefix("ERR ").unwrap_or(&text);
    CmdError::err(format!("EXECABORT Transaction discarded because of: {why}"))
}

/// Commands that run at once inside MULTI rather than being queued (as in Redis's
/// `processCommand`).
fn controls_transaction(id: usize) -> bool {
    matches!(
        REGISTRY.entries[id].spec.name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// Queues a checked command inside MULTI.
fn queue(server: &Server, session: &mut Session, id: usize, args: &[&[u8]]) -> Reply {
    let spec = REGISTRY.entries[id].spec;
    let refusal = if spec.has(flags::NO_MULTI) {
        Some(CmdError::err(
            "ERR Command not allowed inside a transaction",
        ))
    } else if spec.has(flags::REBINDS) {
        // A transaction runs as the identity that queued it, in the data it was queued
        // against (and holds that data's gate): a login queued in it could not be honoured.
        Some(CmdError::err(format!(
            "ERR {} inside MULTI is not allowed",
            REGISTRY.entries[id].fullname.to_uppercase()
        )))
    } else if session.tenant.is_none()
        && !matches!(
            tenancy::resolve_global_names(server, spec, args, session.db),
            Ok(None)
        )
    {
        // EXEC holds one store's gate; a command reaching into another tenant's data could
        // not be made atomic with it.
        Some(CmdError::err(
            "ERR tenant global names (__tenant:<id>:) cannot be used inside MULTI",
        ))
    } else {
        None
    };
    let multi = session.multi.as_mut().expect("queueing inside MULTI");
    let refusal = match (refusal, &session.tenant) {
        (None, Some(b)) => {
            quota::charge_held(&b.tenant, &mut multi.charge, quota::queued_size(args)).err()
        }
        (refusal, _) => refusal,
    };
    match refusal {
        Some(e) => {
            multi.aborted = true;
            count_error(session, &e);
            Reply::Error(e)
        }
        None => {
            multi.queue.push((id, args::to_owned(args)));
            Reply::Status("QUEUED".into())
        }
    }
}

/// Runs one command of an EXEC. It was checked when queued; what may have changed since
/// (a revoked or expired token, the tenant's state or databases, a role) is checked again, as
/// Redis re-checks ACLs at EXEC, and refuses the command alone.
pub fn run_queued(
    server: &Arc<Server>,
    session: &mut Session,
    id: usize,
    args: Vec<Bytes>,
) -> Reply {
    session.counters.commands += 1;
    let now = session.clock.now_ms();
    let entry = &REGISTRY.entries[id];
    let checked = if session.tenant.is_some() {
        tenancy::check_access(server, session, entry.spec, &entry.fullname, now)
    } else if !session.authenticated {
        Err(CmdError::NoAuth)
    } else {
        Ok(())
    };
    let reply = match checked {
        Ok(()) => run(server, session, id, &args::borrowed(&args), now),
        Err(e) => {
            server.command_stats[id].rejected.fetch_add(1, Relaxed);
            Reply::Error(e)
        }
    };
    if let Reply::Error(e) = &reply {
        count_error(session, e);
    }
    reply
}

/// The checks before a handler runs. On refusal, returns the command id when known (so the
/// refusal counts as `rejected_calls`).
fn check(
    server: &Server,
    session: &mut Session,
    args: &[&[u8]],
    now: u64,
) -> Result<usize, (Option<usize>, CmdError)> {
    let id = session
        .recent_command
        .resolve(args)
        .map_err(|e| (None, e))?;
    let entry = &REGISTRY.entries[id];
    let spec = entry.spec;
    if !spec.arity_ok(args.len()) {
        return Err((Some(id), CmdError::WrongArity(entry.fullname.clone())));
    }
    if spec.handler.is_none() {
        // A bare container (CLIENT with no subcommand) is an arity error above, and an unknown
        // subcommand is caught by `resolve`: nothing reaches here, but never run a non-handler.
        return Err((Some(id), CmdError::Syntax));
    }
    if !session.authenticated && !spec.has(flags::NO_AUTH) {
        return Err((Some(id), CmdError::NoAuth));
    }
    if session.tenant.is_some() {
        tenancy::check_bound(server, session, spec, &entry.fullname, now)
            .map_err(|e| (Some(id), e))?;
    }
    // RESP2 multiplexes nothing: a subscribed connection only manages its subscriptions.
    // RESP3 pushes are told apart from replies, so any command may run there.
    if session.proto == Proto::Resp2 && session.subscribed() && !spec.has(flags::SUBSCRIBED_OK) {
        return Err((Some(id), subscribed_context_error(&entry.fullname)));
    }
    Ok(id)
}

fn run(server: &Arc<Server>, session: &mut Session, id: usize, args: &[&[u8]], now: u64) -> Reply {
    let entry = &REGISTRY.entries[id];
    // Admins in the global context may name tenant keys by their global names.
    let rewritten;
    let (resolved, args) = if session.tenant.is_none() {
        match tenancy::resolve_global_names(server, entry.spec, args, session.db) {
            Ok(Some((store, a))) => {
                rewritten = a;
                (Some(store), &rewritten[..])
            }
            Ok(None) => (None, args),
            Err(e) => return Reply::Error(e),
        }
    } else {
        (None, args)
    };
    let handler = entry
        .spec
        .handler
        .expect("non-container commands have handlers");
    // EXEC of another connection on this data must not interleave with this command.
    session.hold_gate(resolved.as_ref().map(|t| &t.data));
    // Memory and key quotas of the tenant whose data the command writes (held until the
    // command has finished).
    let _reservation = {
        let tenant = resolved
            .as_ref()
            .or(session.tenant.as_ref().map(|b| &b.tenant));
        match quota::admit(server, tenant, entry.spec, args, session.db, now) {
            Err(e) => {
                server.command_stats[id].rejected.fetch_add(1, Relaxed);
                return Reply::Error(e);
            }
            Ok(r) => r,
        }
    };
    session.handle.last_cmd.store(id, Relaxed);
    session.handle.last_ms.store(now, Relaxed);
    let mut ctx = Ctx {
        server,
        session,
        now,
        spec: entry.spec,
        resolved,
    };
    let reply = handler(&mut ctx, args).unwrap_or_else(Reply::Error);
    // A tenant's own connections settle its memory once per batch (`Session::settle_memory`);
    // an admin writing by global names does here.
    if ctx.resolved.is_some()
        && entry
            .spec
            .has(flags::DENYOOM | flags::GROWS | flags::RENAMES)
    {
        quota::settle(ctx.resolved.as_ref(), now);
    }
    let usec = ctx.session.clock.lap_us();
    // A command that blocked counts once, when it is served or times out (Redis's
    // `updateStatsOnUnblock`), not also for the try that found nothing.
    if ctx.session.blocked.is_none() {
        ctx.session.counters.record_call(id, usec, reply.is_error());
    }
    if ctx.session.tenant.is_some() {
        ctx.session.counters.tenant_commands += 1;
    } else if let Some(t) = &ctx.resolved {
        t.warn_on_crossing();
    }
    reply
}

/// Counts an error reply on the connection; added to the server's totals once per batch, so
/// a client drawing refusals by the thousand (rate limits) never contends on a shared lock.
fn count_error(session: &mut Session, e: &CmdError) {
    let code = e.code();
    let errs = &mut session.counters.errors;
    match errs.iter_mut().find(|(c, _)| *c == code) {
        Some((_, n)) => *n += 1,
        None => errs.push((code, 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_command_answers_as_the_registry_does() {
        let mut recent = RecentCommand::default();
        let find = |n: &[u8]| REGISTRY.find(n).unwrap();
        let get = find(b"get");
        assert_eq!(recent.resolve(&[b"GET", b"k"]).unwrap(), get);
        assert_eq!(recent.resolve(&[b"GET", b"k"]).unwrap(), get);
        // Another spelling or another command is looked up, never taken for the last one.
        assert_eq!(recent.resolve(&[b"get", b"k"]).unwrap(), get);
        assert_eq!(
            recent.resolve(&[b"GETSET", b"k", b"v"]).unwrap(),
            find(b"getset")
        );
        assert_eq!(
            recent.resolve(&[b"GE", b"k"]).unwrap_err().to_string(),
            "ERR unknown command 'GE', with args beginning with: 'k' "
        );
        assert_eq!(
            recent.resolve(&[b"getset", b"k", b"v"]).unwrap(),
            find(b"getset")
        );
        // An empty name is unknown, whatever was remembered.
        assert!(recent.resolve(&[b""]).is_err());
        // Containers are resolved by their subcommand every time.
        let client = find(b"client");
        let list = REGISTRY.find_sub(client, b"list").unwrap();
        let info = REGISTRY.find_sub(client, b"info").unwrap();
        assert_eq!(recent.resolve(&[b"CLIENT", b"LIST"]).unwrap(), list);
        assert_eq!(recent.resolve(&[b"CLIENT", b"INFO"]).unwrap(), info);
        // Names too long to remember still resolve.
        let long = b"x".repeat(40);
        assert!(recent.resolve(&[&long]).is_err());
    }
}
