//! Commands: the table (`spec`), the key-spec interpreter (`keys`), the registry, the single
//! dispatch path, and one module per command family with its table and handlers.

pub mod blocking;
pub mod connection;
pub mod dispatch;
pub mod hash;
pub mod introspection;
pub mod keys;
pub mod keyspace;
pub mod list;
pub mod pubsub;
pub mod quota;
pub mod registry;
pub mod server;
pub mod set;
pub mod spec;
pub mod string;
pub mod syntax;
pub mod tenancy;
pub mod tenant;
pub mod transaction;
pub mod zset;

use crate::protocol::Reply;

/// The reply of `<CONTAINER> HELP`, in Redis's `addReplyHelp` shape.
pub fn help_reply(container: &str, lines: &[&str]) -> Reply {
    let mut out = vec![Reply::Status(
        format!("{container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:").into(),
    )];
    out.extend(lines.iter().map(|l| Reply::Status(l.to_string().into())));
    out.push(Reply::status("HELP"));
    // Redis 7.2's wording (7.0 says "Prints").
    out.push(Reply::status("    Print this help."));
    Reply::Array(out)
}
