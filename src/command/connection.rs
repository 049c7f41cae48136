//! Connection commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET and CLIENT.

use super::dispatch::Ctx;
use super::spec::{cmd, container, flags::*, CommandSpec};
use crate::protocol::{args, CmdError, Proto, Reply};
use crate::server::session::{ClientHandle, ReplyMode, CLIENT_PUBSUB};
use crate::server::REDIS_COMPAT_VERSION;
use crate::tenant::credentials::{self, constant_time_eq};
use crate::tenant::quota::Refusal;
use crate::tenant::State;
use bytes::Bytes;
use std::sync::atomic::Ordering::Relaxed;

const C: &[&str] = &["@connection"];
const G: &str = "connection";
const SESSION: u32 = NOSCRIPT | LOADING | STALE;

#[rustfmt::skip]
const CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    cmd("id", 2, SESSION, C, &[], client_id, "Returns the unique client ID of the connection.", "5.0.0", G, "O(1)").tips(&["nondeterministic_output"]),
    cmd("setname", 3, SESSION | RATE_EXEMPT, C, &[], client_setname, "Sets the connection name.", "2.6.9", G, "O(1)").args("connection-name"),
    cmd("getname", 2, SESSION, C, &[], client_getname, "Returns the name of the connection.", "2.6.9", G, "O(1)"),
    cmd("list", -2, ADMIN | TENANT_SCOPED | SESSION, C, &[], client_list, "Lists open connections.", "2.4.0", G, "O(N) where N is the number of client connections").args("[TYPE <NORMAL | MASTER | REPLICA | PUBSUB>] [ID client-id [client-id ...]]").tips(&["nondeterministic_output"]),
    cmd("info", 2, SESSION, C, &[], client_info, "Returns information about the connection.", "6.2.0", G, "O(1)").tips(&["nondeterministic_output"]),
    cmd("kill", -3, ADMIN | TENANT_SCOPED | SESSION, C, &[], client_kill, "Terminates open connections.", "2.4.0", G, "O(N) where N is the number of client connections").args("<ip:port | [ID client-id] [TYPE <NORMAL | MASTER | SLAVE | REPLICA | PUBSUB>] [USER username] [ADDR ip:port] [LADDR ip:port] [SKIPME <YES | NO>] [MAXAGE maxage]>"),
    cmd("unblock", -3, ADMIN | TENANT_SCOPED | LOADING | STALE, C, &[], client_unblock, "Unblocks a client blocked by a blocking command from a different connection.", "5.0.0", G, "O(log N) where N is the number of client connections").args("client-id [TIMEOUT | ERROR]"),
    cmd("setinfo", 4, SESSION | RATE_EXEMPT, C, &[], client_setinfo, "Sets information specific to the client or connection.", "7.2.0", G, "O(1)").args("<LIB-NAME libname | LIB-VER libver>"),
    cmd("reply", 3, SESSION, C, &[], client_reply, "Instructs the server whether to reply to commands.", "3.2.0", G, "O(1)").args("<ON | OFF | SKIP>"),
    cmd("help", 2, LOADING | STALE, C, &[], client_help, "Returns helpful text about the different subcommands.", "5.0.0", G, "O(1)"),
];

#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[
    cmd("ping", -1, FAST | SENTINEL | RATE_EXEMPT | SUBSCRIBED_OK, C, &[], ping, "Returns the server's liveliness response.", "1.0.0", G, "O(1)").args("[message]").tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    cmd("echo", 2, FAST, C, &[], echo, "Returns the given string.", "1.0.0", G, "O(1)").args("message"),
    cmd("hello", -1, SESSION | REBINDS | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY, C, &[], hello, "Handshakes with the Redis server.", "6.0.0", G, "O(1)").args("[protover [AUTH username password] [SETNAME clientname]]"),
    cmd("auth", -2, SESSION | REBINDS | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY, C, &[], auth, "Authenticates the connection.", "1.0.0", G, "O(N) where N is the number of passwords defined for the user").args("[username] password"),
    cmd("select", 2, LOADING | STALE | FAST | RATE_EXEMPT, C, &[], select, "Changes the selected database.", "1.0.0", G, "O(1)").args("index"),
    cmd("quit", -1, SESSION | FAST | NO_AUTH | ALLOW_BUSY | SUBSCRIBED_OK, C, &[], quit, "Closes the connection.", "1.0.0", G, "O(1)"),
    cmd("reset", 1, SESSION | FAST | NO_AUTH | ALLOW_BUSY | SUBSCRIBED_OK, C, &[], reset, "Resets the connection.", "6.2.0", G, "O(1)"),
    container("client", -2, SENTINEL, CLIENT_SUBCOMMANDS, "A container for client connection commands.", "2.4.0", G),
];

/// PING [message]
fn ping(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if ctx.session.proto == Proto::Resp2 && ctx.session.subscribed() && a.len() <= 2 {
        // A RESP2 subscriber reads every frame as a message: PING answers in that shape.
        let msg = a.get(1).copied().unwrap_or_default();
        return Ok(Reply::Array(vec![
            Reply::bulk("pong"),
            Reply::bulk_copy(msg),
        ]));
    }
    match a.len() {
        1 => Ok(Reply::status("PONG")),
        2 => Ok(Reply::bulk_copy(a[1])),
        _ => Err(CmdError::WrongArity(ctx.spec.name.into())),
    }
}

/// ECHO message
fn echo(_ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(Reply::bulk_copy(a[1]))
}

/// Authenticates `user`/`pass` and binds the connection accordingly: the built-in `default`
/// admin (`requirepass`), a configured `[[auth.admins]]` entry, or a tenant and one of its
/// tokens. Any failure is Redis's WRONGPASS, so a probe learns nothing about which part failed.
fn authenticate(ctx: &mut Ctx<'_>, user: &[u8], pass: &[u8]) -> Result<(), CmdError> {
    let admin = if user == b"default" {
        // `default` is the requirepass user; with no requirepass it exists only on an open
        // server (where any password works, as Redis's nopass user), never beside
        // [[auth.admins]].
        let required = ctx.server.params.get("requirepass").unwrap_or_default();
        if required.is_empty() {
            !ctx.server.auth_required()
        } else {
            constant_time_eq(pass, required.as_bytes())
        }
    } else {
        ctx.server
            .config
            .auth
            .admins
            .iter()
            .find(|a| a.name.as_bytes() == user)
            .is_some_and(|a| credentials::verify(pass, &a.password_hash))
    };
    if admin {
        ctx.session.unbind();
        ctx.session.authenticated = true;
        ctx.session.server_admin = true;
        ctx.session.admin_user = args::text(user);
        *ctx.session.handle.user.lock() = args::text(user);
        return Ok(());
    }
    let Some((tenant, grant)) = ctx.server.tenants.authenticate(user, pass) else {
        return Err(CmdError::WrongPass);
    };
    // A suspended tenant cannot log in: like any AUTH failure, Redis's WRONGPASS.
    if matches!(tenant.state(), State::Suspended | State::Deleting) {
        return Err(CmdError::WrongPass);
    }
    let id = tenant.id.clone();
    if let Err(e) = ctx.session.bind(tenant, Some(grant)) {
        // Like any failed AUTH, the connection stays as it was.
        return Err(CmdError::err(Refusal(&id, &e).to_string()));
    }
    ctx.session.authenticated = true;
    ctx.session.server_admin = false;
    Ok(())
}

/// AUTH [username] password
fn auth(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    match a.len() {
        2 => {
            let required = ctx.server.params.get("requirepass").unwrap_or_default();
            if required.is_empty() && !ctx.server.auth_required() {
                return Err(CmdError::err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"));
            }
            authenticate(ctx, b"default", a[1])?;
        }
        3 => authenticate(ctx, a[1], a[2])?,
        _ => return Err(CmdError::Syntax),
    }
    Ok(Reply::Ok)
}

/// Redis's rule for client names and library info: printable, no spaces.
fn valid_name(v: &[u8]) -> bool {
    v.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
fn hello(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut proto = ctx.session.proto;
    if a.len() >= 2 {
        let v = args::int(a[1])
            .map_err(|_| CmdError::err("ERR Protocol version is not an integer or out of range"))?;
        proto = match v {
            2 => Proto::Resp2,
            3 => Proto::Resp3,
            _ => return Err(CmdError::err("NOPROTO unsupported protocol version")),
        };
    }
    let (mut creds, mut name) = (None, None);
    let mut i = 2;
    while i < a.len() {
        let left = a.len() - i - 1;
        if args::is(a[i], "AUTH") && left >= 2 {
            creds = Some((&a[i + 1], &a[i + 2]));
            i += 3;
        } else if args::is(a[i], "SETNAME") && left >= 1 {
            if !valid_name(a[i + 1]) {
                return Err(name_error());
            }
            name = Some(a[i + 1]);
            i += 2;
        } else {
            return Err(CmdError::err(format!(
                "ERR Syntax error in HELLO option '{}'",
                args::text(a[i])
            )));
        }
    }
    if let Some((user, pass)) = creds {
        authenticate(ctx, user, pass)?;
    }
    if !ctx.session.authenticated {
        return Err(CmdError::err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"));
    }
    if let Some(n) = name {
        ctx.session.set_name(Some(Bytes::copy_from_slice(n)));
    }
    ctx.session.set_proto(proto);
    let proto_num = if proto == Proto::Resp3 { 3 } else { 2 };
    Ok(Reply::map_str(vec![
        ("server", Reply::bulk("redis")),
        ("version", Reply::bulk(REDIS_COMPAT_VERSION)),
        ("proto", Reply::Int(proto_num)),
        ("id", Reply::Int(ctx.session.id() as i64)),
        ("mode", Reply::bulk("standalone")),
        ("role", Reply::bulk("master")),
        ("modules", Reply::Array(vec![])),
    ]))
}

/// SELECT index
fn select(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    // Unlike COPY/MOVE, SELECT reports any integer outside the range as out of range.
    let n = args::int(a[1])?;
    if n < 0 || n as usize >= ctx.session.db_limit() {
        return Err(CmdError::DbIndexOutOfRange);
    }
    ctx.session.set_db(n as usize);
    Ok(Reply::Ok)
}

/// QUIT
fn quit(ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    ctx.session.closing = true;
    Ok(Reply::Ok)
}

/// RESET
fn reset(ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    let s = &mut *ctx.session;
    s.set_db(0);
    s.set_proto(Proto::Resp2);
    s.reply_mode = ReplyMode::On;
    s.set_name(None);
    s.multi = None;
    s.unwatch_all();
    // RESET leaves every channel and pattern, without confirmations (as Redis).
    if let Some(p) = &mut s.pubsub {
        p.leave_all();
    }
    s.unbind();
    s.authenticated = !ctx.server.auth_required();
    s.server_admin = s.authenticated;
    Ok(Reply::status("RESET"))
}

fn name_error() -> CmdError {
    CmdError::err("ERR Client names cannot contain spaces, newlines or special characters.")
}

/// CLIENT ID
fn client_id(ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(Reply::Int(ctx.session.id() as i64))
}

/// CLIENT SETNAME connection-name
fn client_setname(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if !valid_name(a[2]) {
        return Err(name_error());
    }
    let name = (!a[2].is_empty()).then(|| Bytes::copy_from_slice(a[2]));
    ctx.session.set_name(name);
    Ok(Reply::Ok)
}

/// CLIENT GETNAME
fn client_getname(ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    let name = ctx.session.handle.name.lock().clone();
    Ok(name.map_or(Reply::Nil, Reply::bulk))
}

/// A client's query buffer as CLIENT LIST shows it: bytes held, room left, and the running
/// command's argument bytes.
#[derive(Clone, Copy)]
pub struct QueryView {
    qbuf: usize,
    qbuf_free: usize,
    argv_mem: usize,
}

impl QueryView {
    /// The asking client, running `a`: its buffer still holds the request being answered, as
    /// Redis's does.
    fn own(ctx: &Ctx<'_>, a: &[&[u8]]) -> QueryView {
        let (qbuf, qbuf_free) = ctx.session.query;
        QueryView {
            qbuf,
            qbuf_free,
            argv_mem: a.iter().map(|x| x.len()).sum(),
        }
    }

    /// Another client, between batches: what it held after its last one, no command running.
    fn published(c: &ClientHandle) -> QueryView {
        QueryView {
            qbuf: c.state.qbuf.load(Relaxed),
            qbuf_free: c.state.qbuf_free.load(Relaxed),
            argv_mem: 0,
        }
    }
}

/// One CLIENT LIST line, with Redis's field names and order.
pub fn client_line(c: &ClientHandle, q: QueryView, now_ms: u64) -> String {
    let cmd = {
        let id = c.last_cmd.load(Relaxed);
        super::registry::REGISTRY
            .entries
            .get(id)
            .map_or("NULL".to_string(), |e| e.fullname.clone())
    };
    let age = now_ms.saturating_sub(c.created_ms) / 1000;
    let idle = now_ms.saturating_sub(c.last_ms.load(Relaxed)) / 1000;
    let QueryView {
        qbuf,
        qbuf_free,
        argv_mem,
    } = q;
    // Replies are written out at the end of every batch, so between batches no output is held.
    let tot_mem =
        std::mem::size_of::<crate::server::session::Session>() + qbuf + qbuf_free + argv_mem;
    format!(
        "id={} addr={} laddr={} fd=-1 name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} watch={} qbuf={qbuf} qbuf-free={qbuf_free} argv-mem={argv_mem} multi-mem=0 rbs={} rbp=0 obl=0 oll=0 omem=0 tot-mem={tot_mem} events=r cmd={} user={} redir=-1 resp={} lib-name={} lib-ver={}",
        c.id,
        c.addr,
        c.laddr,
        c.name.lock().as_deref().unwrap_or(""),
        age,
        idle,
        c.state.flag_letters(),
        c.db.load(Relaxed),
        c.state.sub.load(Relaxed),
        c.state.psub.load(Relaxed),
        c.state.ssub.load(Relaxed),
        c.state.multi.load(Relaxed),
        c.state.watched.load(Relaxed),
        qbuf + qbuf_free,
        cmd,
        c.user.lock(),
        c.resp.load(Relaxed),
        c.lib_name.lock().as_deref().unwrap_or(""),
        c.lib_ver.lock().as_deref().unwrap_or(""),
    )
}

/// CLIENT LIST [TYPE normal|master|replica|pubsub] [ID client-id [client-id ...]]
fn client_list(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut ids: Option<Vec<u64>> = None;
    let mut kind = None;
    let mut i = 2;
    while i < a.len() {
        if args::is(a[i], "TYPE") && i + 1 < a.len() {
            kind = Some(ClientType::parse(a[i + 1])?);
            i += 2;
        } else if args::is(a[i], "ID") && i + 1 < a.len() {
            let mut v = Vec::new();
            for id in &a[i + 1..] {
                // Any integer is accepted; ids that cannot exist simply match nothing.
                match args::int(id) {
                    Ok(n) if n > 0 => v.push(n as u64),
                    Ok(_) => {}
                    Err(_) => return Err(CmdError::err("ERR Invalid client ID")),
                }
            }
            ids = Some(v);
            i = a.len();
        } else {
            return Err(CmdError::Syntax);
        }
    }
    ctx.session.publish_state();
    let scope = ctx.session.tenant_id().map(str::to_string);
    let mut clients: Vec<_> = ctx
        .server
        .clients
        .iter()
        .filter(|c| in_scope(c, scope.as_deref()))
        .map(|c| c.clone())
        .collect();
    clients.sort_by_key(|c| c.id);
    let me = ctx.session.id();
    let own = QueryView::own(ctx, a);
    let mut out = String::new();
    for c in clients {
        if ids.as_ref().is_some_and(|v| !v.contains(&c.id)) || kind.is_some_and(|k| !k.has(&c)) {
            continue;
        }
        let q = if c.id == me {
            own
        } else {
            QueryView::published(&c)
        };
        out.push_str(&client_line(&c, q, ctx.now));
        out.push('\n');
    }
    Ok(Reply::Verbatim(out.into()))
}

/// CLIENT INFO
fn client_info(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    // Its own state as of this command, not as of its last batch.
    ctx.session.publish_state();
    let mut line = client_line(&ctx.session.handle, QueryView::own(ctx, a), ctx.now);
    line.push('\n');
    Ok(Reply::Verbatim(line.into()))
}

/// CLIENT KILL ip:port | CLIENT KILL <filter value> ... (ID, ADDR, LADDR, USER, SKIPME, MAXAGE)
fn client_kill(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let me = ctx.session.id();
    if a.len() == 3 {
        let addr = args::text(a[2]);
        let scope = ctx.session.tenant_id().map(str::to_string);
        let target = ctx
            .server
            .clients
            .iter()
            .find(|c| c.addr == addr && in_scope(c, scope.as_deref()))
            .map(|c| c.clone());
        let Some(c) = target else {
            return Err(CmdError::err("ERR No such client"));
        };
        kill(ctx, &c, me);
        return Ok(Reply::Ok);
    }
    if !a.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    let (mut id, mut addr, mut laddr, mut user, mut maxage) = (None, None, None, None, None);
    let mut kind = None;
    let mut skipme = true;
    for pair in a[2..].chunks_exact(2) {
        let (k, v) = (&pair[0], &pair[1]);
        if args::is(k, "ID") {
            match args::int(v) {
                Ok(n) if n > 0 => id = Some(n as u64),
                _ => return Err(CmdError::err("ERR client-id should be greater than 0")),
            }
        } else if args::is(k, "ADDR") {
            addr = Some(args::text(v));
        } else if args::is(k, "LADDR") {
            laddr = Some(args::text(v));
        } else if args::is(k, "USER") {
            let name = args::text(v);
            // A tenant connection knows of its own tenant only: answering differently for
            // another tenant's id would reveal that it exists.
            let known = match ctx.session.tenant_id() {
                Some(own) => name == own,
                None => {
                    name == "default"
                        || ctx.server.config.auth.admins.iter().any(|a| a.name == name)
                        || ctx.server.tenants.get(&name).is_some()
                }
            };
            if !known {
                return Err(CmdError::err(format!("ERR No such user '{name}'")));
            }
            user = Some(name);
        } else if args::is(k, "MAXAGE") {
            let age = args::int(v)
                .map_err(|_| CmdError::err("ERR maxage is not an integer or out of range"))?;
            if age <= 0 {
                return Err(CmdError::err("ERR maxage should be greater than 0"));
            }
            maxage = Some(age);
        } else if args::is(k, "TYPE") {
            kind = Some(ClientType::parse(v)?);
        } else if args::is(k, "SKIPME") {
            skipme = if args::is(v, "yes") {
                true
            } else if args::is(v, "no") {
                false
            } else {
                return Err(CmdError::Syntax);
            };
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let now = ctx.now;
    let scope = ctx.session.tenant_id().map(str::to_string);
    let victims: Vec<_> = ctx
        .server
        .clients
        .iter()
        .filter(|c| {
            in_scope(c, scope.as_deref())
                && id.is_none_or(|i| c.id == i)
                && addr.as_ref().is_none_or(|x| &c.addr == x)
                && laddr.as_ref().is_none_or(|x| &c.laddr == x)
                && user.as_ref().is_none_or(|u| *c.user.lock() == *u)
                && maxage.is_none_or(|m| now.saturating_sub(c.created_ms) / 1000 >= m as u64)
                && kind.is_none_or(|k| k.has(c))
                && !(skipme && c.id == me)
        })
        .map(|c| c.clone())
        .collect();
    for c in &victims {
        kill(ctx, c, me);
    }
    Ok(Reply::Int(victims.len() as i64))
}

/// Redis's client types, as the TYPE filters of CLIENT LIST and CLIENT KILL name them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    /// Subscribed to a channel, pattern or shard channel.
    Pubsub,
    /// `master`, `replica` (`slave`): replication links, of which there are none.
    Replication,
}

impl ClientType {
    fn parse(v: &[u8]) -> Result<ClientType, CmdError> {
        if args::is(v, "normal") {
            Ok(ClientType::Normal)
        } else if args::is(v, "pubsub") {
            Ok(ClientType::Pubsub)
        } else if ["master", "replica", "slave"]
            .iter()
            .any(|n| args::is(v, n))
        {
            Ok(ClientType::Replication)
        } else {
            Err(CmdError::err(format!(
                "ERR Unknown client type '{}'",
                args::text(v)
            )))
        }
    }

    /// Whether client `c` is of this type (as of its last published state).
    fn has(self, c: &ClientHandle) -> bool {
        let pubsub = c.state.flags.load(Relaxed) & CLIENT_PUBSUB != 0;
        match self {
            ClientType::Normal => !pubsub,
            ClientType::Pubsub => pubsub,
            ClientType::Replication => false,
        }
    }
}

/// A connection bound to a tenant sees and kills only that tenant's connections.
/// Whether client `c` is visible from `scope` (a tenant sees only its own connections).
pub fn in_scope(c: &ClientHandle, scope: Option<&str>) -> bool {
    scope.is_none_or(|t| c.tenant.lock().as_deref() == Some(t))
}

/// CLIENT UNBLOCK client-id [TIMEOUT | ERROR]: 1 when that connection (a tenant's own, for a
/// tenant) was blocked and now is not.
fn client_unblock(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if a.len() > 4 {
        return Err(CmdError::err(format!(
            "ERR unknown subcommand '{}'. Try CLIENT HELP.",
            args::text(a[1])
        )));
    }
    let error = match a.get(3) {
        None => false,
        Some(r) if args::is(r, "TIMEOUT") => false,
        Some(r) if args::is(r, "ERROR") => true,
        Some(_) => {
            return Err(CmdError::err(
                "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ))
        }
    };
    let id = args::int(a[2])?;
    let scope = ctx.session.tenant_id().map(str::to_string);
    let done = u64::try_from(id)
        .ok()
        .and_then(|id| ctx.server.clients.get(&id).map(|c| c.clone()))
        .filter(|c| in_scope(c, scope.as_deref()))
        .is_some_and(|c| c.unblock(error));
    Ok(Reply::Int(done as i64))
}

fn kill(ctx: &mut Ctx<'_>, c: &ClientHandle, me: u64) {
    if c.id == me {
        // Killing yourself: the reply is still written, then the connection closes.
        ctx.session.closing = true;
    } else {
        c.kill();
    }
}

/// CLIENT SETINFO <LIB-NAME libname | LIB-VER libver>
fn client_setinfo(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let attr = &a[2];
    let slot = if args::is(attr, "LIB-NAME") {
        &ctx.session.handle.lib_name
    } else if args::is(attr, "LIB-VER") {
        &ctx.session.handle.lib_ver
    } else {
        return Err(CmdError::err(format!(
            "ERR Unrecognized option '{}'",
            args::text(attr)
        )));
    };
    if !valid_name(a[3]) {
        return Err(CmdError::err(format!(
            "ERR {} cannot contain spaces, newlines or special characters.",
            args::text(attr).to_ascii_lowercase()
        )));
    }
    *slot.lock() = (!a[3].is_empty()).then(|| args::text(a[3]));
    Ok(Reply::Ok)
}

/// CLIENT REPLY <ON | OFF | SKIP>
fn client_reply(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    ctx.session.reply_mode = if args::is(a[2], "ON") {
        ReplyMode::On
    } else if args::is(a[2], "OFF") {
        ReplyMode::Off
    } else if args::is(a[2], "SKIP") {
        ReplyMode::SkipNext
    } else {
        return Err(CmdError::Syntax);
    };
    Ok(Reply::Ok)
}

/// CLIENT HELP
fn client_help(_ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(super::help_reply(
        "CLIENT",
        &[
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "    * ID <client-id>",
            "      Kill connections by client id.",
            "    * MAXAGE <maxage>",
            "      Kill connections older than the specified age.",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "    * ID <client-id> [<client-id> ...]",
            "      Return clients of specified IDs only.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
        ],
    ))
}
