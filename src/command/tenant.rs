//! TENANT.* commands: the tenant registry for server admins, and each tenant's own tokens and
//! info for its admin role. Replies that are maps are RESP3 maps (flat arrays in RESP2).

use super::dispatch::Ctx;
use super::spec::{cmd, flags::*, CommandSpec};
use crate::config::parse_size;
use crate::protocol::{args, CmdError, Reply};
use crate::tenant::manager::{Changes, TenantError};
use crate::tenant::quota::{Refusal, Resource};
use crate::tenant::{Role, State, Tenant};
use crate::util::glob;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

const T: &[&str] = &["@admin", "@dangerous"];
const G: &str = "tenant";
const SERVER_ADMIN: u32 = ADMIN | NOSCRIPT | LOADING | STALE;
const OWN_TENANT: u32 = ADMIN | TENANT_ADMIN | NOSCRIPT | LOADING | STALE;

#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[
    cmd("tenant.create", -2, SERVER_ADMIN, T, &[], create, "Creates a tenant with limits from its tier and the given overrides.", "0.1.0", G, "O(1)").args("id [NAME name] [TIER tier] [MEMORY bytes] [KEYS count] [OPS count] [CONNECTIONS count] [DATABASES count] [EVICTION policy]"),
    cmd("tenant.update", -3, SERVER_ADMIN, T, &[], update, "Changes a tenant's name, tier, state or limits.", "0.1.0", G, "O(1)").args("id [NAME name] [TIER tier] [STATE <ACTIVE | SUSPENDED | READONLY>] [MEMORY bytes] [KEYS count] [OPS count] [CONNECTIONS count] [DATABASES count] [EVICTION policy]"),
    cmd("tenant.delete", -2, SERVER_ADMIN, T, &[], delete, "Deletes a tenant, its data and its credentials.", "0.1.0", G, "O(1), data is freed in the background").args("id [FORCE]"),
    cmd("tenant.list", -1, SERVER_ADMIN, T, &[], list, "Lists tenant ids, optionally filtered by state, tier or glob.", "0.1.0", G, "O(N) where N is the number of tenants").args("[STATE state] [TIER tier] [MATCH pattern]"),
    cmd("tenant.info", 2, OWN_TENANT, T, &[], info, "Returns a tenant's settings, limits and usage.", "0.1.0", G, "O(1)").args("id"),
    cmd("tenant.suspend", -2, SERVER_ADMIN, T, &[], suspend, "Suspends a tenant: its data commands are refused.", "0.1.0", G, "O(1)").args("id [REASON text]"),
    cmd("tenant.activate", 2, SERVER_ADMIN, T, &[], activate, "Returns a suspended or read-only tenant to active.", "0.1.0", G, "O(1)").args("id"),
    cmd("tenant.token.create", -2, OWN_TENANT, T, &[], token_create, "Creates an access token; its secret is shown only once.", "0.1.0", G, "O(1)").args("id [ROLE <ADMIN | READWRITE | READONLY>] [NAME label] [TTL seconds]"),
    cmd("tenant.token.list", 2, OWN_TENANT, T, &[], token_list, "Lists a tenant's tokens (never their secrets).", "0.1.0", G, "O(N) where N is the number of tokens").args("id"),
    cmd("tenant.token.revoke", 3, OWN_TENANT, T, &[], token_revoke, "Revokes a token; connections using it lose access at their next command.", "0.1.0", G, "O(N) where N is the number of tokens").args("id token-id"),
    cmd("tenant.limits.set", -4, SERVER_ADMIN, T, &[], limits_set, "Changes a tenant's limits; live connections see them at their next command.", "0.1.0", G, "O(N) where N is the number of limits given").args("id <MEMORY | KEYS | OPS | CONNECTIONS | DATABASES | REQUEST> value [...]"),
    cmd("tenant.limits.get", 2, OWN_TENANT, T, &[], limits_get, "Returns a tenant's limits.", "0.1.0", G, "O(1)").args("id"),
    cmd("tenant.quota", 2, OWN_TENANT, T, &[], quota, "Returns, per resource, a tenant's usage, limit and percentage used.", "0.1.0", G, "O(1)").args("id"),
    cmd("tenant.use", 2, SERVER_ADMIN | REBINDS, T, &[], use_, "Binds this admin connection to a tenant.", "0.1.0", G, "O(1)").args("id"),
    cmd("tenant.current", 1, FAST | LOADING | STALE, &["@connection"], &[], current, "Returns the tenant this connection is bound to, or nil.", "0.1.0", G, "O(1)"),
    cmd("tenant.exit", 1, REBINDS | FAST | LOADING | STALE, &["@connection"], &[], exit, "Returns an admin connection from a tenant to the global context.", "0.1.0", G, "O(1)"),
];

impl From<TenantError> for CmdError {
    fn from(e: TenantError) -> Self {
        CmdError::err(e.to_string())
    }
}

fn id_arg(a: &[u8]) -> String {
    args::text(a)
}

/// For TENANT_ADMIN commands run by a tenant's admin role: only its own tenant.
fn own_tenant_only(ctx: &Ctx<'_>, id: &str) -> Result<(), CmdError> {
    match (&ctx.session.tenant, ctx.session.server_admin) {
        (_, true) | (None, _) => Ok(()),
        (Some(b), false) if b.tenant.id == id => Ok(()),
        (Some(b), false) => Err(CmdError::err(format!(
            "NOPERM User {} has no permissions to manage tenant '{id}'",
            b.tenant.id
        ))),
    }
}

fn size_arg(what: &'static str, v: &[u8]) -> Result<u64, CmdError> {
    let text = args::text(v);
    parse_size(&text).ok_or_else(|| TenantError::Invalid { what, value: text }.into())
}

fn count_arg(what: &'static str, v: &[u8]) -> Result<u64, CmdError> {
    args::uint(v).map_err(|_| {
        TenantError::Invalid {
            what,
            value: args::text(v),
        }
        .into()
    })
}

/// Parses `[NAME n] [TIER t] [STATE s] [MEMORY m] [KEYS n] [OPS n] [CONNECTIONS n]
/// [DATABASES n] [EVICTION p]`; `allow_state` only for TENANT.UPDATE.
fn parse_changes(opts: &[&[u8]], allow_state: bool) -> Result<Changes, CmdError> {
    let mut c = Changes::default();
    if !opts.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    for pair in opts.chunks_exact(2) {
        let (k, v) = (&pair[0], &pair[1]);
        if args::is(k, "NAME") {
            c.name = Some(label("name", v)?);
        } else if args::is(k, "TIER") {
            c.tier = Some(args::text(v));
        } else if args::is(k, "STATE") && allow_state {
            let s = args::text(v);
            c.state = Some(State::parse(&s).ok_or(TenantError::Invalid {
                what: "state",
                value: s,
            })?);
        } else if args::is(k, "MEMORY") {
            c.memory = Some(size_arg("memory size", v)?);
        } else if args::is(k, "KEYS") {
            c.keys = Some(count_arg("key limit", v)?);
        } else if args::is(k, "OPS") {
            c.ops = Some(count_arg("ops limit", v)?);
        } else if args::is(k, "CONNECTIONS") {
            c.connections = Some(count_arg("connection limit", v)?);
        } else if args::is(k, "DATABASES") {
            c.databases = Some(count_arg("databases", v)?);
        } else if args::is(k, "EVICTION") {
            c.eviction = Some(args::text(v));
        } else if args::is(k, "REQUEST") {
            c.request = Some(size_arg("request size", v)?);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(c)
}

/// TENANT.CREATE id [NAME name] [TIER tier] [MEMORY bytes] [KEYS n] [OPS n] [CONNECTIONS n]
/// [DATABASES n] [EVICTION policy]
fn create(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let c = parse_changes(&a[2..], false)?;
    ctx.server.tenants.create(&id_arg(a[1]), &c)?;
    Ok(Reply::Ok)
}

/// TENANT.UPDATE id [NAME name] [TIER tier] [STATE active|suspended|readonly] [limits...]
fn update(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let c = parse_changes(&a[2..], true)?;
    ctx.server.tenants.update(&id_arg(a[1]), &c, None)?;
    Ok(Reply::Ok)
}

/// Closes every live connection bound to `t` (after its current reply).
fn kill_connections(ctx: &mut Ctx<'_>, t: &Tenant) {
    let me = ctx.session.id();
    for c in ctx.server.clients.iter() {
        let id = Some(t.id.as_str());
        if c.id != me && (c.tenant.lock().as_deref() == id || c.inside.lock().as_deref() == id) {
            c.kill();
        }
    }
}

/// Longest name or reason the registry keeps: each is stored, journaled and listed.
pub const MAX_LABEL: usize = 256;

/// A free-text label (a tenant's or token's NAME, a suspension's REASON), bounded.
fn label(what: &'static str, v: &[u8]) -> Result<String, TenantError> {
    if v.len() > MAX_LABEL {
        return Err(TenantError::TooLong {
            what,
            max: MAX_LABEL,
        });
    }
    Ok(args::text(v))
}

/// TENANT.DELETE id [FORCE]
fn delete(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let force = match a.len() {
        2 => false,
        3 if args::is(a[2], "FORCE") => true,
        _ => return Err(CmdError::Syntax),
    };
    let t = ctx.server.tenants.delete(&id_arg(a[1]), force)?;
    kill_connections(ctx, &t);
    if ctx.session.tenant_id() == Some(t.id.as_str()) {
        ctx.session.unbind();
    }
    Ok(Reply::Ok)
}

/// TENANT.LIST [STATE state] [TIER tier] [MATCH pattern]
fn list(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (mut state, mut tier, mut pattern) = (None, None, None);
    if !(a.len() - 1).is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    for pair in a[1..].chunks_exact(2) {
        if args::is(pair[0], "STATE") {
            let s = args::text(pair[1]);
            state = Some(State::parse(&s).ok_or(TenantError::Invalid {
                what: "state",
                value: s,
            })?);
        } else if args::is(pair[0], "TIER") {
            tier = Some(args::text(pair[1]));
        } else if args::is(pair[0], "MATCH") {
            pattern = Some(pair[1]);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let ids = ctx
        .server
        .tenants
        .list()
        .into_iter()
        .filter(|t| state.is_none_or(|s| t.state() == s))
        .filter(|t| tier.as_ref().is_none_or(|x| t.record().tier == *x))
        .filter(|t| {
            pattern
                .as_ref()
                .is_none_or(|p| glob::matches(p, t.id.as_bytes(), false))
        })
        .map(|t| Reply::bulk(t.id.clone()))
        .collect();
    Ok(Reply::Array(ids))
}

fn info_map(t: &Arc<Tenant>) -> Reply {
    let r = t.record();
    let l = r.limits;
    let keys: i64 = t.data.usage.keys.load(Relaxed).max(0);
    let mut pairs = vec![
        ("id", Reply::bulk(r.id.clone())),
        ("name", Reply::bulk(r.name.clone())),
        ("tier", Reply::bulk(r.tier.clone())),
        ("state", Reply::bulk(t.state().name())),
        ("created_at", Reply::Int(r.created_at as i64)),
        ("updated_at", Reply::Int(r.updated_at as i64)),
        (
            "memory_used",
            Reply::Int(t.data.usage.bytes.load(Relaxed).max(0)),
        ),
        ("memory_limit", Reply::Int(l.memory as i64)),
        // What its connections hold outside its data (MULTI queues, subscriptions, WATCHed
        // keys), counted against the same limit.
        ("memory_held", Reply::Int(t.held_bytes.load(Relaxed).max(0))),
        ("keys", Reply::Int(keys)),
        ("key_limit", Reply::Int(l.keys as i64)),
        ("ops_limit", Reply::Int(l.ops as i64)),
        (
            "connections",
            Reply::Int(t.connections.load(Relaxed) as i64),
        ),
        ("connection_limit", Reply::Int(l.connections as i64)),
        ("databases", Reply::Int(l.databases as i64)),
        ("eviction", Reply::bulk(r.eviction.clone())),
        ("tokens", Reply::Int(r.tokens.len() as i64)),
        (
            "commands_processed",
            Reply::Int(t.commands.load(Relaxed) as i64),
        ),
        (
            "evicted_keys",
            Reply::Int(t.data.usage.evicted.load(Relaxed) as i64),
        ),
        (
            "limit_warnings",
            Reply::Int(t.warnings.count.load(Relaxed) as i64),
        ),
    ];
    let rejected: Vec<String> = Resource::ALL
        .iter()
        .map(|res| format!("rejected_{}", res.name()))
        .collect();
    for (res, name) in Resource::ALL.iter().zip(&rejected) {
        pairs.push((name.as_str(), Reply::Int(t.rejections.get(*res) as i64)));
    }
    if let Some(reason) = r.suspend_reason {
        pairs.push(("suspend_reason", Reply::bulk(reason)));
    }
    Reply::map_str(pairs)
}

/// TENANT.INFO id
fn info(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let id = id_arg(a[1]);
    own_tenant_only(ctx, &id)?;
    let t = ctx.server.tenants.find(&id)?;
    Ok(info_map(&t))
}

/// TENANT.SUSPEND id [REASON text]
fn suspend(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let reason = match a.len() {
        2 => None,
        4 if args::is(a[2], "REASON") => Some(label("reason", a[3])?),
        _ => return Err(CmdError::Syntax),
    };
    let c = Changes {
        state: Some(State::Suspended),
        ..Changes::default()
    };
    ctx.server.tenants.update(&id_arg(a[1]), &c, reason)?;
    Ok(Reply::Ok)
}

/// TENANT.ACTIVATE id
fn activate(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let c = Changes {
        state: Some(State::Active),
        ..Changes::default()
    };
    ctx.server.tenants.update(&id_arg(a[1]), &c, None)?;
    Ok(Reply::Ok)
}

/// TENANT.TOKEN.CREATE id [ROLE admin|readwrite|readonly] [NAME label] [TTL seconds]
fn token_create(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let id = id_arg(a[1]);
    own_tenant_only(ctx, &id)?;
    let (mut role, mut name, mut ttl) = (Role::Readwrite, None, None);
    if !(a.len() - 2).is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    for pair in a[2..].chunks_exact(2) {
        if args::is(pair[0], "ROLE") {
            let r = args::text(pair[1]);
            role = Role::parse(&r).ok_or(TenantError::Invalid {
                what: "role",
                value: r,
            })?;
        } else if args::is(pair[0], "NAME") {
            name = Some(label("name", pair[1])?);
        } else if args::is(pair[0], "TTL") {
            match args::int(pair[1]) {
                Ok(s) if s > 0 => ttl = Some(s as u64),
                _ => {
                    return Err(TenantError::Invalid {
                        what: "TTL",
                        value: args::text(pair[1]),
                    }
                    .into())
                }
            }
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let (token_id, secret) = ctx.server.tenants.create_token(&id, role, name, ttl)?;
    Ok(Reply::map_str(vec![
        ("id", Reply::bulk(token_id)),
        ("secret", Reply::bulk(secret)),
        ("role", Reply::bulk(role.name())),
    ]))
}

/// TENANT.TOKEN.LIST id
fn token_list(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let id = id_arg(a[1]);
    own_tenant_only(ctx, &id)?;
    let t = ctx.server.tenants.find(&id)?;
    let tokens = t
        .record()
        .tokens
        .into_iter()
        .map(|k| {
            Reply::map_str(vec![
                ("id", Reply::bulk(k.id)),
                ("name", Reply::bulk(k.name)),
                ("role", Reply::bulk(k.role.name())),
                ("created_at", Reply::Int(k.created_at as i64)),
                ("last_used", Reply::Int(k.last_used as i64)),
                ("expires_at", Reply::Int(k.expires_at as i64)),
            ])
        })
        .collect();
    Ok(Reply::Array(tokens))
}

/// TENANT.TOKEN.REVOKE id token-id
fn token_revoke(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let id = id_arg(a[1]);
    own_tenant_only(ctx, &id)?;
    ctx.server.tenants.revoke_token(&id, &args::text(a[2]))?;
    Ok(Reply::Ok)
}

/// TENANT.LIMITS.SET id <MEMORY | KEYS | OPS | CONNECTIONS | DATABASES | REQUEST> value [...]
fn limits_set(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if !(a.len() - 2).is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    let mut c = Changes::default();
    for pair in a[2..].chunks_exact(2) {
        let (k, v) = (&pair[0], &pair[1]);
        let Some(r) = Resource::parse(k) else {
            return Err(CmdError::err(format!(
                "ERR unknown limit '{}': use MEMORY, KEYS, OPS, CONNECTIONS, DATABASES or REQUEST",
                args::text(k)
            )));
        };
        match r {
            Resource::Memory => c.memory = Some(size_arg("memory size", v)?),
            Resource::Request => c.request = Some(size_arg("request size", v)?),
            Resource::Keys => c.keys = Some(count_arg("key limit", v)?),
            Resource::Ops => c.ops = Some(count_arg("ops limit", v)?),
            Resource::Connections => c.connections = Some(count_arg("connection limit", v)?),
            Resource::Databases => c.databases = Some(count_arg("databases", v)?),
        }
    }
    ctx.server.tenants.update(&id_arg(a[1]), &c, None)?;
    Ok(Reply::Ok)
}

/// TENANT.LIMITS.GET id
fn limits_get(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let id = id_arg(a[1]);
    own_tenant_only(ctx, &id)?;
    let l = ctx.server.tenants.find(&id)?.limits();
    Ok(Reply::map_str(vec![
        ("memory", Reply::Int(l.memory as i64)),
        ("keys", Reply::Int(l.keys as i64)),
        ("ops", Reply::Int(l.ops as i64)),
        ("connections", Reply::Int(l.connections as i64)),
        ("databases", Reply::Int(l.databases as i64)),
        ("request", Reply::Int(l.request as i64)),
    ]))
}

/// TENANT.QUOTA id
fn quota(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let id = id_arg(a[1]);
    own_tenant_only(ctx, &id)?;
    let t = ctx.server.tenants.find(&id)?;
    let l = t.limits();
    let now_ns = ctx.server.started.elapsed().as_nanos() as u64;
    let used_dbs = t.data.existing().filter(|ks| !ks.is_empty()).count() as u64;
    let row = |used: u64, limit: u64| {
        let percent = if limit == 0 {
            0.0
        } else {
            used as f64 * 100.0 / limit as f64
        };
        Reply::map_str(vec![
            ("used", Reply::Int(used as i64)),
            ("limit", Reply::Int(limit as i64)),
            ("percent", Reply::Double((percent * 100.0).round() / 100.0)),
        ])
    };
    // REQUEST caps each request rather than accumulating use, so it is in LIMITS.GET only.
    Ok(Reply::map_str(vec![
        (
            "memory",
            row(t.data.usage.bytes.load(Relaxed).max(0) as u64, l.memory),
        ),
        (
            "keys",
            row(t.data.usage.keys.load(Relaxed).max(0) as u64, l.keys),
        ),
        ("ops", row(t.meter.per_second(now_ns), l.ops)),
        (
            "connections",
            row(t.connections.load(Relaxed), l.connections),
        ),
        ("databases", row(used_dbs, l.databases)),
    ]))
}

/// TENANT.USE id
fn use_(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let t = ctx.server.tenants.find(&id_arg(a[1]))?;
    ctx.session
        .bind(t.clone(), None)
        .map_err(|e| CmdError::err(Refusal(&t.id, &e).to_string()))?;
    Ok(Reply::Ok)
}

/// TENANT.CURRENT
fn current(ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(ctx
        .session
        .tenant_id()
        .map_or(Reply::Nil, |id| Reply::bulk(id.to_string())))
}

/// TENANT.EXIT
fn exit(ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    if !ctx.session.server_admin {
        return Err(CmdError::err(
            "ERR a connection authenticated as a tenant cannot leave it",
        ));
    }
    ctx.session.unbind();
    Ok(Reply::Ok)
}
