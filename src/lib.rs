//! # tenantkv
//!
//! A Redis-protocol (RESP2/RESP3) key-value server whose first-class concept is the tenant:
//! one process hosts many customers, each of which sees what looks like a private Redis.
//!
//! ## Layout
//!
//! - `server/`: the TCP listener, one task per connection (`connection`), per-connection state
//!   (`session`), background tasks (active expiry) and graceful shutdown.
//! - `protocol/`: request framing (`request`: one header walk that enforces Redis's limits and
//!   yields arguments borrowed from the read buffer; `redis-protocol` is its test oracle), the typed `Reply` and its
//!   RESP2/RESP3 encoder, argument parsing helpers, and the error texts (`error`).
//! - `command/`: the command table (`spec`, with each row's docs syntax parsed by `syntax`),
//!   the key-spec interpreter (`keys`), the `registry` joining all family tables, the single
//!   `dispatch` path with its tenancy checks (`tenancy`) and memory/key quotas (`quota`), and
//!   one module per family: `connection`, `server`, `introspection` (COMMAND), `string`,
//!   `keyspace`, `tenant` (TENANT.*).
//! - `tenant/`: the tenant registry (`manager`), credentials, the registry file (`registry`)
//!   and the request-path quotas (`quota`: rate limiter, rejection counters).
//! - `storage/`: tenant-shaped data. A `TenantData` owns one `Keyspace` per logical database;
//!   a keyspace is sharded and accounts its own bytes and keys; `value` holds the compact value
//!   layout; `dump` the DUMP/RESTORE format.
//! - `config/`: the TOML configuration (embedded default, file overrides) and `params`, the
//!   runtime parameters behind CONFIG GET/SET.
//! - `util/`: Redis glob matching.
//!
//! ## Data flow
//!
//! ```text
//! socket → connection (read buffer) → RequestParser → dispatch (lookup, arity, auth,
//!        tenancy, quotas) → handler (parse args → storage Txn → Reply) → encode (RESP2/3)
//!        → one write per batch (earlier if replies pass 1 MiB)
//! ```

pub mod command;
pub mod config;
pub mod protocol;
pub mod server;
pub mod storage;
pub mod tenant;
pub mod util;
