//! Pub/Sub commands (Redis's `pubsub.c`): (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH and
//! PUBSUB.
//!
//! Every name lives in the caller's namespace (its tenant, or the global context); the hub in
//! `server::pubsub` keeps the namespaces apart and delivers. Subscription changes reply with
//! one frame per name, which go out through the connection's outbox in order with the
//! messages, so these handlers set `session.no_reply` instead of returning a reply.
//!
//! Sharded Pub/Sub (SSUBSCRIBE, SPUBLISH) is a separate set of channel names that patterns do
//! not match; with one server holding every slot it is otherwise ordinary Pub/Sub. Its channels
//! are declared as `not_key` key specs, as in Redis, so cluster-aware clients can route them,
//! while key resolution leaves them alone (the hub scopes them by tenant, as every channel).

use super::dispatch::Ctx;
use super::spec::{cmd, container, flags::*, key_flags::NOT_KEY, CommandSpec, KeySpec};
use crate::config::params::COB_PUBSUB;
use crate::protocol::{args, CmdError, Proto, Reply};
use crate::server::pubsub::{Kind, OutputLimit, Subscriptions};

const G: &str = "pubsub";
/// Flags of the subscription commands.
const SUB: u32 = PUBSUB | NOSCRIPT | LOADING | STALE | SENTINEL | SUBSCRIBED_OK;
const PS: u32 = PUBSUB | LOADING | STALE;
/// Flags of the shard-channel subscription commands (no `sentinel`, as in Redis).
const SSUB: u32 = PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBED_OK;
/// Every argument is a shard channel.
const SHARD_CHANNELS: &[KeySpec] = &[KeySpec::range(1, -1, 1, NOT_KEY)];
const SHARD_CHANNEL: &[KeySpec] = &[KeySpec::single(1, NOT_KEY)];

#[rustfmt::skip]
const PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    cmd("channels", -2, PS, &[], &[], channels, "Returns the active channels.", "2.8.0", G, "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)").args("[pattern]"),
    cmd("numsub", -2, PS, &[], &[], numsub, "Returns a count of subscribers to channels.", "2.8.0", G, "O(N) for the NUMSUB subcommand, where N is the number of requested channels").args("[channel [channel ...]]"),
    cmd("numpat", 2, PS, &[], &[], numpat, "Returns a count of unique pattern subscriptions.", "2.8.0", G, "O(1)"),
    cmd("shardchannels", -2, PS, &[], &[], shardchannels, "Returns the active shard channels.", "7.0.0", G, "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).").args("[pattern]"),
    cmd("shardnumsub", -2, PS, &[], &[], shardnumsub, "Returns the count of subscribers of shard channels.", "7.0.0", G, "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels").args("[shardchannel [shardchannel ...]]"),
    cmd("help", 2, LOADING | STALE, &[], &[], help, "Returns helpful text about the different subcommands.", "6.2.0", G, "O(1)"),
];

#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[
    cmd("subscribe", -2, SUB, &[], &[], subscribe, "Listens for messages published to channels.", "2.0.0", G, "O(N) where N is the number of channels to subscribe to.").args("channel [channel ...]"),
    cmd("unsubscribe", -1, SUB, &[], &[], unsubscribe, "Stops listening to messages posted to channels.", "2.0.0", G, "O(N) where N is the number of channels to unsubscribe.").args("[channel [channel ...]]"),
    cmd("psubscribe", -2, SUB, &[], &[], psubscribe, "Listens for messages published to channels that match one or more patterns.", "2.0.0", G, "O(N) where N is the number of patterns to subscribe to.").args("pattern [pattern ...]"),
    cmd("punsubscribe", -1, SUB, &[], &[], punsubscribe, "Stops listening to messages published to channels that match one or more patterns.", "2.0.0", G, "O(N) where N is the number of patterns to unsubscribe.").args("[pattern [pattern ...]]"),
    cmd("ssubscribe", -2, SSUB, &[], SHARD_CHANNELS, ssubscribe, "Listens for messages published to shard channels.", "7.0.0", G, "O(N) where N is the number of shard channels to subscribe to.").args("shardchannel [shardchannel ...]"),
    cmd("sunsubscribe", -1, SSUB, &[], SHARD_CHANNELS, sunsubscribe, "Stops listening to messages posted to shard channels.", "7.0.0", G, "O(N) where N is the number of shard channels to unsubscribe.").args("[shardchannel [shardchannel ...]]"),
    cmd("spublish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE, &[], SHARD_CHANNEL, spublish, "Post a message to a shard channel", "7.0.0", G, "O(N) where N is the number of clients subscribed to the receiving shard channel.").args("shardchannel message"),
    cmd("publish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE | SENTINEL, &[], &[], publish, "Posts a message to a channel.", "2.0.0", G, "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).").args("channel message"),
    container("pubsub", -2, 0, PUBSUB_SUBCOMMANDS, "A container for Pub/Sub commands.", "2.8.0", G),
];

/// The connection's subscriptions, created on first use.
fn subscriptions<'s>(ctx: &'s mut Ctx<'_>) -> &'s mut Subscriptions {
    let (server, session) = (ctx.server, &mut *ctx.session);
    let resp3 = session.proto == Proto::Resp3;
    session.pubsub.get_or_insert_with(|| {
        Box::new(Subscriptions::new(
            server.pubsub.clone(),
            session.handle.clone(),
            resp3,
        ))
    })
}

fn subscribe_generic(ctx: &mut Ctx<'_>, kind: Kind, names: &[&[u8]]) -> Result<Reply, CmdError> {
    let cost = Subscriptions::cost(ctx.session.pubsub.as_deref(), kind, names);
    ctx.session.admit_state(cost)?;
    let ns = ctx.session.namespace().to_string();
    subscriptions(ctx).subscribe(&ns, kind, names);
    ctx.session.settle_state_charge();
    ctx.session.no_reply = true;
    Ok(Reply::Ok)
}

fn unsubscribe_generic(ctx: &mut Ctx<'_>, kind: Kind, names: &[&[u8]]) -> Result<Reply, CmdError> {
    subscriptions(ctx).unsubscribe(kind, names);
    ctx.session.no_reply = true;
    Ok(Reply::Ok)
}

/// SUBSCRIBE channel [channel ...]
fn subscribe(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    subscribe_generic(ctx, Kind::Channel, &a[1..])
}

/// UNSUBSCRIBE [channel [channel ...]]
fn unsubscribe(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    unsubscribe_generic(ctx, Kind::Channel, &a[1..])
}

/// PSUBSCRIBE pattern [pattern ...]
fn psubscribe(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    subscribe_generic(ctx, Kind::Pattern, &a[1..])
}

/// PUNSUBSCRIBE [pattern [pattern ...]]
fn punsubscribe(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    unsubscribe_generic(ctx, Kind::Pattern, &a[1..])
}

/// SSUBSCRIBE shardchannel [shardchannel ...]
fn ssubscribe(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    // Redis exempts SUBSCRIBE and PSUBSCRIBE inside MULTI for backward compatibility, but not
    // SSUBSCRIBE: a transaction expects one reply per command.
    if ctx.session.in_exec {
        return Err(CmdError::err(
            "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client",
        ));
    }
    subscribe_generic(ctx, Kind::Shard, &a[1..])
}

/// SUNSUBSCRIBE [shardchannel [shardchannel ...]]
fn sunsubscribe(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    unsubscribe_generic(ctx, Kind::Shard, &a[1..])
}

/// SPUBLISH shardchannel message
fn spublish(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    publish_generic(ctx, Kind::Shard, a[1], a[2])
}

/// PUBLISH channel message
fn publish(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    publish_generic(ctx, Kind::Channel, a[1], a[2])
}

fn publish_generic(
    ctx: &mut Ctx<'_>,
    kind: Kind,
    channel: &[u8],
    message: &[u8],
) -> Result<Reply, CmdError> {
    let limit = OutputLimit::of(&ctx.server.params, COB_PUBSUB);
    let (hub, ns) = (&ctx.server.pubsub, ctx.session.namespace());
    let n = match kind {
        Kind::Shard => hub.publish_shard(ns, channel, message, limit),
        Kind::Channel | Kind::Pattern => hub.publish(ns, channel, message, limit),
    };
    Ok(Reply::Int(n as i64))
}

/// PUBSUB CHANNELS [pattern]
fn channels(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    channel_list(ctx, Kind::Channel, a)
}

/// PUBSUB SHARDCHANNELS [pattern]
fn shardchannels(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    channel_list(ctx, Kind::Shard, a)
}

fn channel_list(ctx: &mut Ctx<'_>, kind: Kind, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if a.len() > 3 {
        // Redis checks this in the handler, with its subcommand syntax error.
        return Err(CmdError::err(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
            args::text(a[1]).chars().take(128).collect::<String>()
        )));
    }
    let pattern = a.get(2).map(|p| &p[..]);
    let list = ctx
        .server
        .pubsub
        .channels(ctx.session.namespace(), kind, pattern);
    Ok(Reply::Array(list.into_iter().map(Reply::Bulk).collect()))
}

/// PUBSUB NUMSUB [channel [channel ...]]
fn numsub(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    subscriber_counts(ctx, Kind::Channel, a)
}

/// PUBSUB SHARDNUMSUB [shardchannel [shardchannel ...]]
fn shardnumsub(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> Result<Reply, CmdError> {
    subscriber_counts(ctx, Kind::Shard, a)
}

fn subscriber_counts(ctx: &mut Ctx<'_>, kind: Kind, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let ns = ctx.session.namespace();
    let mut out = Vec::with_capacity((a.len() - 2) * 2);
    for ch in &a[2..] {
        out.push(Reply::bulk_copy(ch));
        out.push(Reply::Int(ctx.server.pubsub.numsub(ns, kind, ch) as i64));
    }
    Ok(Reply::Array(out))
}

/// PUBSUB NUMPAT
fn numpat(ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(Reply::Int(
        ctx.server.pubsub.numpat(ctx.session.namespace()) as i64,
    ))
}

/// PUBSUB HELP
fn help(_ctx: &mut Ctx<'_>, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(super::help_reply(
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    ))
}
