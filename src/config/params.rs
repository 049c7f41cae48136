//! The one table of runtime parameters behind CONFIG GET and CONFIG SET.
//!
//! [`PARAMS`] has one row per parameter: its name, its Redis 7 alias if it has one, how values
//! are parsed and validated, its Redis 7.0 default, and whether CONFIG SET may change it.
//! [`Params`] holds the live values for one server.
//!
//! Values are stored as canonical strings, exactly as CONFIG GET reports them (`1gb` is stored
//! as `1073741824`, `KEA` as `AKE`), so CONFIG GET is a copy and every validation rule lives in
//! one place: the parse from user text to canonical text. The few values read on every request
//! batch are mirrored into atomics so that the hot path never takes the lock.
//!
//! Many rows only tune Redis internals that tenantkv does not have (replication, AOF, active
//! defrag, the cluster bus, ...). They are kept, validated and stored anyway, because clients,
//! tools and test suites read and set them and expect Redis's answers; the row comment says
//! when a parameter has no effect in tenantkv.
//!
//! CONFIG SET follows Redis 7.0's `configSetCommand`: names are checked first and the first
//! unknown, immutable, protected or duplicate name decides the error; only then are values
//! validated, in order, and nothing is applied unless all of them pass.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::OnceLock;

use parking_lot::RwLock;

use crate::protocol::CmdError;
use crate::util::glob;

/// Whether CONFIG SET may change a parameter. The startup path ([`Params::set_initial`]) may
/// set all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Mutable,
    /// Only settable at startup: `can't set immutable config`.
    Immutable,
    /// Settable only when `enable-protected-configs` allows it, because changing it lets a
    /// client choose where the server writes files: `can't set protected config`.
    Protected,
    /// Where the server listens, bound once at startup: CONFIG SET accepts the current value
    /// (nothing to do) and fails any other as Redis does when it cannot listen there, rather
    /// than answering OK without listening.
    Listener(&'static str),
}

/// How values of a parameter are parsed, validated and reported.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// `yes` / `no`, any case; reported lowercase.
    Bool,
    /// A strict integer (Redis's `string2ll`: no sign `+`, no leading zeros, no spaces).
    /// Bounds are `i128` so unsigned 64-bit Redis bounds are written as Redis prints them.
    Int { min: i128, max: i128 },
    /// A byte count in `memtoull` syntax (`1gb`, `100mb`, `512kb`, `10k`, `4096`), reported as
    /// plain bytes.
    Memory { min: i128, max: i128 },
    /// A byte count, or a percentage `N%` kept as `-N` as Redis does (`maxmemory-clients`).
    MemoryOrPercent { min: i128, max: i128 },
    /// An octal number, reported in octal (`unixsocketperm`).
    Octal { min: i128, max: i128 },
    /// One of a fixed set of names, any case. Names sharing an id are synonyms; the first one
    /// is what CONFIG GET reports (`oom-score-adj relative` reads back as `yes`).
    Enum(&'static [(&'static str, u32)]),
    /// Free text with an optional check.
    Str(StrRule),
    /// A parameter with its own syntax.
    Special(Special),
}

/// Checks Redis applies to some string parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrRule {
    Any,
    /// `dbfilename`: no `/` or `\`.
    FileName,
    /// `appendfilename`: not empty, no path.
    AofFileName,
    /// `appenddirname`: not empty, no path.
    AofDirName,
    /// `cluster-announce-hostname`: letters, digits, `-` and `.`, under 256 bytes.
    Hostname,
    /// `proc-title-template`: known `{variables}` only, and not blank once expanded.
    ProcTitle,
}

/// Parameters whose syntax is their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// A directory; reported as an absolute path, like Redis's `getcwd()`.
    Dir,
    /// `seconds changes [seconds changes ...]`, or empty.
    Save,
    /// `class hard soft seconds [...]`; classes not named keep their limits.
    ClientOutputBufferLimit,
    /// Three integers in -2000..=2000.
    OomScoreAdjValues,
    /// Event class letters, normalised as Redis's `keyspaceEventsFlagsToString` does.
    NotifyKeyspaceEvents,
    /// Up to 16 space-separated addresses.
    Bind,
    /// `host port` or `no one`.
    ReplicaOf,
    /// Space-separated percentiles in 0..=100.
    LatencyPercentiles,
    /// A set of shutdown flags (`default`, `save`, `nosave`, `now`, `force`).
    ShutdownFlags,
}

/// One runtime parameter.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    pub name: &'static str,
    /// The other name Redis 7 accepts and reports (`hash-max-ziplist-entries`, `slaveof`, ...).
    pub alias: Option<&'static str>,
    pub kind: Kind,
    /// The Redis 7.0 default, in canonical form. `dir` is the exception: its default is the
    /// working directory at startup, as on Redis.
    pub default: &'static str,
    pub access: Access,
    /// The value is a secret: the command layer should redact it from SLOWLOG and MONITOR.
    pub sensitive: bool,
    /// Redis's `HIDDEN_CONFIG` (debugging knobs): answered when asked for by name, never
    /// listed by a glob such as `CONFIG GET *`.
    pub hidden: bool,
}

const fn row(name: &'static str, kind: Kind, default: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        alias: None,
        kind,
        default,
        access: Access::Mutable,
        sensitive: false,
        hidden: false,
    }
}

const fn yes_no(name: &'static str, default: bool) -> ParamSpec {
    row(name, Kind::Bool, if default { "yes" } else { "no" })
}

const fn int(name: &'static str, min: i128, max: i128, default: &'static str) -> ParamSpec {
    row(name, Kind::Int { min, max }, default)
}

const fn mem(name: &'static str, min: i128, max: i128, default: &'static str) -> ParamSpec {
    row(name, Kind::Memory { min, max }, default)
}

const fn string(name: &'static str, default: &'static str) -> ParamSpec {
    row(name, Kind::Str(StrRule::Any), default)
}

const fn one_of(
    name: &'static str,
    values: &'static [(&'static str, u32)],
    default: &'static str,
) -> ParamSpec {
    row(name, Kind::Enum(values), default)
}

const fn special(name: &'static str, kind: Special, default: &'static str) -> ParamSpec {
    row(name, Kind::Special(kind), default)
}

impl ParamSpec {
    const fn with_alias(self, alias: &'static str) -> ParamSpec {
        ParamSpec {
            alias: Some(alias),
            ..self
        }
    }

    const fn immutable(self) -> ParamSpec {
        ParamSpec {
            access: Access::Immutable,
            ..self
        }
    }

    const fn listener(self, failure: &'static str) -> ParamSpec {
        ParamSpec {
            access: Access::Listener(failure),
            ..self
        }
    }

    const fn protected(self) -> ParamSpec {
        ParamSpec {
            access: Access::Protected,
            ..self
        }
    }

    const fn sensitive(self) -> ParamSpec {
        ParamSpec {
            sensitive: true,
            ..self
        }
    }

    const fn hidden(self) -> ParamSpec {
        ParamSpec {
            hidden: true,
            ..self
        }
    }

    const fn rule(self, rule: StrRule) -> ParamSpec {
        ParamSpec {
            kind: Kind::Str(rule),
            ..self
        }
    }
}

// The C types' limits, so that range errors print the numbers Redis prints.
const INT_MIN: i128 = i32::MIN as i128;
const INT_MAX: i128 = i32::MAX as i128;
const UINT_MAX: i128 = u32::MAX as i128;
const LONG_MAX: i128 = i64::MAX as i128;
const LLONG_MAX: i128 = i64::MAX as i128;
const ULLONG_MAX: i128 = u64::MAX as i128;
const SSIZE_MAX: i128 = i64::MAX as i128;

const MAXMEMORY_POLICIES: &[(&str, u32)] = &[
    ("volatile-lru", 0),
    ("volatile-lfu", 1),
    ("volatile-random", 2),
    ("volatile-ttl", 3),
    ("allkeys-lru", 4),
    ("allkeys-lfu", 5),
    ("allkeys-random", 6),
    ("noeviction", 7),
];
const LOGLEVELS: &[(&str, u32)] = &[("debug", 0), ("verbose", 1), ("notice", 2), ("warning", 3)];
const APPENDFSYNC: &[(&str, u32)] = &[("everysec", 0), ("always", 1), ("no", 2)];
const SUPERVISED: &[(&str, u32)] = &[("upstart", 0), ("systemd", 1), ("auto", 2), ("no", 3)];
const SYSLOG_FACILITIES: &[(&str, u32)] = &[
    ("user", 0),
    ("local0", 1),
    ("local1", 2),
    ("local2", 3),
    ("local3", 4),
    ("local4", 5),
    ("local5", 6),
    ("local6", 7),
    ("local7", 8),
];
const REPL_DISKLESS_LOAD: &[(&str, u32)] = &[("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)];
const OOM_SCORE_ADJ: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)];
const ACL_PUBSUB_DEFAULT: &[(&str, u32)] = &[("allchannels", 0), ("resetchannels", 1)];
const SANITIZE_DUMP_PAYLOAD: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("clients", 2)];
const PROTECTED_ACTION: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("local", 2)];
const ENDPOINT_TYPES: &[(&str, u32)] = &[("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)];
const PROPAGATION_ERROR_BEHAVIOR: &[(&str, u32)] =
    &[("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)];
/// Bit values as in Redis's `shutdown_on_sig_enum`, whose order CONFIG GET follows.
const SHUTDOWN_FLAGS: &[(&str, u32)] = &[
    ("default", 0),
    ("save", 1),
    ("nosave", 2),
    ("now", 4),
    ("force", 8),
];

/// Every runtime parameter. Rows are grouped by topic; CONFIG GET with a pattern reports them
/// in this order (Redis's order is its hash table's, i.e. arbitrary).
pub static PARAMS: &[ParamSpec] = &[
    // ---- Network and clients ----
    // Set at startup (config file, --port): tenantkv binds its listener once, so CONFIG SET
    // accepts only the current value and fails any other, rather than answering OK and not
    // listening there.
    int("port", 0, 65535, "6379").listener("Unable to listen on this port"),
    // As `port`.
    special("bind", Special::Bind, "* -::*").listener("Failed to bind to specified addresses"),
    // No effect in tenantkv: the listen backlog is fixed by the runtime.
    int("tcp-backlog", 0, INT_MAX, "511").immutable(),
    // No effect in tenantkv (no unix socket listener).
    string("unixsocket", "").immutable(),
    row("unixsocketperm", Kind::Octal { min: 0, max: 0o777 }, "0").immutable(),
    // No effect in tenantkv (outgoing connections are replication's).
    string("bind-source-addr", ""),
    yes_no("protected-mode", true),
    // Seconds of idleness before a client is closed; 0 disables. Hot: see `Params::timeout`.
    int("timeout", 0, INT_MAX, "0"),
    int("tcp-keepalive", 0, INT_MAX, "300"),
    // Hot: see `Params::maxclients`. Redis's bounds are those of an unsigned int.
    int("maxclients", 1, UINT_MAX, "10000"),
    // Hot: both framing limits are checked while parsing every request.
    mem("proto-max-bulk-len", 1024 * 1024, LONG_MAX, "536870912"),
    mem(
        "client-query-buffer-limit",
        1024 * 1024,
        LONG_MAX,
        "1073741824",
    ),
    special(
        "client-output-buffer-limit",
        Special::ClientOutputBufferLimit,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
    ),
    row(
        "maxmemory-clients",
        Kind::MemoryOrPercent {
            min: -100,
            max: SSIZE_MAX,
        },
        "0",
    ),
    int("tracking-table-max-keys", 0, LONG_MAX, "1000000"),
    // No effect in tenantkv: its runtime sizes its own thread pool.
    int("io-threads", 1, 128, "1").immutable(),
    yes_no("io-threads-do-reads", false).immutable(),
    // ---- Memory and eviction ----
    // Redis's bound is ULLONG_MAX; the hot atomic saturates at i64::MAX, i.e. "no limit" too.
    mem("maxmemory", 0, ULLONG_MAX, "0"),
    one_of("maxmemory-policy", MAXMEMORY_POLICIES, "noeviction"),
    int("maxmemory-samples", 1, INT_MAX, "5"),
    int("maxmemory-eviction-tenacity", 0, 100, "10"),
    int("lfu-log-factor", 0, INT_MAX, "10"),
    int("lfu-decay-time", 0, INT_MAX, "1"),
    // The lazyfree switches only choose whether Redis frees memory on a background thread;
    // they are stored for compatibility and have no effect in tenantkv.
    yes_no("lazyfree-lazy-eviction", false),
    yes_no("lazyfree-lazy-expire", false),
    yes_no("lazyfree-lazy-server-del", false),
    yes_no("lazyfree-lazy-user-del", false),
    yes_no("lazyfree-lazy-user-flush", false),
    // No effect in tenantkv (no replicas).
    yes_no("replica-ignore-maxmemory", true).with_alias("slave-ignore-maxmemory"),
    // ---- Compact encodings: the thresholds OBJECT ENCODING answers depend on ----
    int("hash-max-listpack-entries", 0, LONG_MAX, "512").with_alias("hash-max-ziplist-entries"),
    mem("hash-max-listpack-value", 0, LONG_MAX, "64").with_alias("hash-max-ziplist-value"),
    int("zset-max-listpack-entries", 0, LONG_MAX, "128").with_alias("zset-max-ziplist-entries"),
    mem("zset-max-listpack-value", 0, LONG_MAX, "64").with_alias("zset-max-ziplist-value"),
    int("list-max-listpack-size", INT_MIN, INT_MAX, "-2").with_alias("list-max-ziplist-size"),
    int("list-compress-depth", 0, INT_MAX, "0"),
    int("set-max-intset-entries", 0, LONG_MAX, "512"),
    // The set listpack encoding arrived in Redis 7.2; kept because 7.2-era clients set them.
    int("set-max-listpack-entries", 0, LONG_MAX, "128"),
    mem("set-max-listpack-value", 0, LONG_MAX, "64"),
    mem("stream-node-max-bytes", 0, LONG_MAX, "4096"),
    int("stream-node-max-entries", 0, LLONG_MAX, "100"),
    mem("hll-sparse-max-bytes", 0, LONG_MAX, "3000"),
    // ---- Keyspace and background work ----
    int("databases", 1, INT_MAX, "16").immutable(),
    // Accepts 0..INT_MAX but is clamped to 1..=500 like Redis's updateHZ, and reads back
    // clamped. Hot: see `Params::hz`.
    int("hz", 0, INT_MAX, "10"),
    yes_no("dynamic-hz", true),
    // No effect in tenantkv: its tables rehash on their own schedule.
    yes_no("activerehashing", true),
    int("active-expire-effort", 1, 10, "1"),
    special("notify-keyspace-events", Special::NotifyKeyspaceEvents, ""),
    int("busy-reply-threshold", 0, LONG_MAX, "5000").with_alias("lua-time-limit"),
    // ---- Persistence ----
    special("save", Special::Save, "3600 1 300 100 60 10000"),
    // tenantkv never changes its working directory; `dir` is where it writes files.
    special("dir", Special::Dir, "").protected(),
    string("dbfilename", "dump.rdb")
        .rule(StrRule::FileName)
        .protected(),
    yes_no("rdbcompression", true),
    yes_no("rdbchecksum", true).immutable(),
    yes_no("rdb-del-sync-files", false),
    yes_no("stop-writes-on-bgsave-error", true),
    yes_no("rdb-save-incremental-fsync", true),
    one_of("sanitize-dump-payload", SANITIZE_DUMP_PAYLOAD, "no"),
    // The AOF rows are stored for compatibility; tenantkv has no append-only file.
    yes_no("appendonly", false),
    string("appendfilename", "appendonly.aof")
        .rule(StrRule::AofFileName)
        .immutable(),
    string("appenddirname", "appendonlydir")
        .rule(StrRule::AofDirName)
        .immutable(),
    one_of("appendfsync", APPENDFSYNC, "everysec"),
    yes_no("no-appendfsync-on-rewrite", false),
    int("auto-aof-rewrite-percentage", 0, INT_MAX, "100"),
    mem("auto-aof-rewrite-min-size", 0, LLONG_MAX, "67108864"),
    yes_no("aof-load-truncated", true),
    yes_no("aof-use-rdb-preamble", true),
    yes_no("aof-rewrite-incremental-fsync", true),
    yes_no("aof-timestamp-enabled", false),
    // ---- Replication: stored for compatibility; tenantkv does not replicate ----
    special("replicaof", Special::ReplicaOf, "")
        .with_alias("slaveof")
        .immutable(),
    string("masterauth", "").sensitive(),
    string("masteruser", "").sensitive(),
    yes_no("replica-read-only", true).with_alias("slave-read-only"),
    yes_no("replica-serve-stale-data", true).with_alias("slave-serve-stale-data"),
    yes_no("replica-lazy-flush", false).with_alias("slave-lazy-flush"),
    int("replica-priority", 0, INT_MAX, "100").with_alias("slave-priority"),
    yes_no("replica-announced", true),
    string("replica-announce-ip", "").with_alias("slave-announce-ip"),
    int("replica-announce-port", 0, 65535, "0").with_alias("slave-announce-port"),
    yes_no("replica-ignore-disk-write-errors", false),
    int("min-replicas-to-write", 0, INT_MAX, "0").with_alias("min-slaves-to-write"),
    int("min-replicas-max-lag", 0, INT_MAX, "10").with_alias("min-slaves-max-lag"),
    mem("repl-backlog-size", 1, LLONG_MAX, "1048576"),
    int("repl-backlog-ttl", 0, LONG_MAX, "3600"),
    int("repl-timeout", 1, INT_MAX, "60"),
    int("repl-ping-replica-period", 1, INT_MAX, "10").with_alias("repl-ping-slave-period"),
    yes_no("repl-diskless-sync", true),
    int("repl-diskless-sync-delay", 0, INT_MAX, "5"),
    int("repl-diskless-sync-max-replicas", 0, INT_MAX, "0"),
    one_of("repl-diskless-load", REPL_DISKLESS_LOAD, "disabled"),
    yes_no("repl-disable-tcp-nodelay", false),
    one_of(
        "propagation-error-behavior",
        PROPAGATION_ERROR_BEHAVIOR,
        "ignore",
    ),
    // ---- Security ----
    string("requirepass", "").sensitive(),
    string("aclfile", "").immutable(),
    int("acllog-max-len", 0, LONG_MAX, "128"),
    one_of("acl-pubsub-default", ACL_PUBSUB_DEFAULT, "resetchannels"),
    one_of("enable-protected-configs", PROTECTED_ACTION, "no").immutable(),
    one_of("enable-debug-command", PROTECTED_ACTION, "no").immutable(),
    one_of("enable-module-command", PROTECTED_ACTION, "no").immutable(),
    // ---- Logging and monitoring ----
    one_of("loglevel", LOGLEVELS, "notice"),
    string("logfile", "").immutable(),
    // No effect in tenantkv (no syslog output).
    yes_no("syslog-enabled", false).immutable(),
    string("syslog-ident", "redis").immutable(),
    one_of("syslog-facility", SYSLOG_FACILITIES, "local0").immutable(),
    int("slowlog-log-slower-than", -1, LLONG_MAX, "10000"),
    int("slowlog-max-len", 0, LONG_MAX, "128"),
    int("latency-monitor-threshold", 0, LLONG_MAX, "0"),
    yes_no("latency-tracking", true),
    special(
        "latency-tracking-info-percentiles",
        Special::LatencyPercentiles,
        "50 99 99.9",
    ),
    // No effect in tenantkv: Rust panics are not C crash reports.
    yes_no("crash-log-enabled", true),
    yes_no("crash-memcheck-enabled", true),
    yes_no("always-show-logo", false).immutable(),
    // ---- Process: stored for compatibility; tenantkv leaves these to its supervisor ----
    yes_no("daemonize", false).immutable(),
    one_of("supervised", SUPERVISED, "no").immutable(),
    string("pidfile", "").immutable(),
    yes_no("set-proc-title", true).immutable(),
    string("proc-title-template", "{title} {listen-addr} {server-mode}").rule(StrRule::ProcTitle),
    one_of("oom-score-adj", OOM_SCORE_ADJ, "no"),
    special(
        "oom-score-adj-values",
        Special::OomScoreAdjValues,
        "0 200 800",
    ),
    yes_no("disable-thp", true).immutable(),
    yes_no("jemalloc-bg-thread", true),
    string("server_cpulist", "").immutable(),
    string("bio_cpulist", "").immutable(),
    string("aof_rewrite_cpulist", "").immutable(),
    string("bgsave_cpulist", "").immutable(),
    string("ignore-warnings", ""),
    int("shutdown-timeout", 0, INT_MAX, "10"),
    special("shutdown-on-sigint", Special::ShutdownFlags, "default"),
    special("shutdown-on-sigterm", Special::ShutdownFlags, "default"),
    // ---- Active defragmentation: stored for compatibility; tenantkv has no defragmenter ----
    // Accepts `yes` (a Redis built without jemalloc refuses it) so that suites which enable it
    // and then read it back pass.
    yes_no("activedefrag", false),
    mem("active-defrag-ignore-bytes", 1, LLONG_MAX, "104857600"),
    int("active-defrag-threshold-lower", 0, 1000, "10"),
    int("active-defrag-threshold-upper", 0, 1000, "100"),
    int("active-defrag-cycle-min", 1, 99, "1"),
    int("active-defrag-cycle-max", 1, 99, "25"),
    int("active-defrag-max-scan-fields", 1, LONG_MAX, "1000"),
    // ---- Cluster: stored for compatibility; tenantkv has no cluster mode ----
    yes_no("cluster-enabled", false).immutable(),
    string("cluster-config-file", "nodes.conf").immutable(),
    int("cluster-port", 0, 65535, "0").immutable(),
    int("cluster-node-timeout", 0, LLONG_MAX, "15000"),
    int("cluster-replica-validity-factor", 0, INT_MAX, "10")
        .with_alias("cluster-slave-validity-factor"),
    int("cluster-migration-barrier", 0, INT_MAX, "1"),
    yes_no("cluster-allow-replica-migration", true),
    yes_no("cluster-require-full-coverage", true),
    yes_no("cluster-replica-no-failover", false).with_alias("cluster-slave-no-failover"),
    yes_no("cluster-allow-reads-when-down", false),
    yes_no("cluster-allow-pubsubshard-when-down", true),
    mem("cluster-link-sendbuf-limit", 0, ULLONG_MAX, "0"),
    string("cluster-announce-ip", ""),
    string("cluster-announce-hostname", "").rule(StrRule::Hostname),
    int("cluster-announce-port", 0, 65535, "0"),
    int("cluster-announce-bus-port", 0, 65535, "0"),
    int("cluster-announce-tls-port", 0, 65535, "0"),
    one_of("cluster-preferred-endpoint-type", ENDPOINT_TYPES, "ip"),
    // Debugging knobs Redis hides from globs; test suites set and read them by name. They
    // slow loading and saving in Redis, which tenantkv does not do, so they tune nothing here.
    int("key-load-delay", INT_MIN, INT_MAX, "0").hidden(),
    int("rdb-key-save-delay", INT_MIN, INT_MAX, "0").hidden(),
    int(
        "loading-process-events-interval-bytes",
        1024,
        INT_MAX,
        "2097152",
    )
    .hidden(),
    int("watchdog-period", 0, INT_MAX, "0").hidden(),
    yes_no("use-exit-on-panic", false).hidden(),
];

/// Classes of [`Params::output_buffer_limit`], in `client-output-buffer-limit` order.
pub const COB_NORMAL: usize = 0;
pub const COB_PUBSUB: usize = 2;

/// Keyspace-event class bits, as in Redis's `server.h`; [`Params::notify_keyspace_events`]
/// returns a combination of them.
pub const NOTIFY_KEYSPACE: u32 = 1 << 0;
pub const NOTIFY_KEYEVENT: u32 = 1 << 1;
pub const NOTIFY_GENERIC: u32 = 1 << 2;
pub const NOTIFY_STRING: u32 = 1 << 3;
pub const NOTIFY_LIST: u32 = 1 << 4;
pub const NOTIFY_SET: u32 = 1 << 5;
pub const NOTIFY_HASH: u32 = 1 << 6;
pub const NOTIFY_ZSET: u32 = 1 << 7;
pub const NOTIFY_EXPIRED: u32 = 1 << 8;
pub const NOTIFY_EVICTED: u32 = 1 << 9;
pub const NOTIFY_STREAM: u32 = 1 << 10;
/// Excluded from `A` on purpose, as in Redis: misses are noisy.
pub const NOTIFY_KEY_MISS: u32 = 1 << 11;
pub const NOTIFY_MODULE: u32 = 1 << 13;
/// Excluded from `A`, as in Redis 7.0.
pub const NOTIFY_NEW: u32 = 1 << 14;
pub const NOTIFY_ALL: u32 = NOTIFY_GENERIC
    | NOTIFY_STRING
    | NOTIFY_LIST
    | NOTIFY_SET
    | NOTIFY_HASH
    | NOTIFY_ZSET
    | NOTIFY_EXPIRED
    | NOTIFY_EVICTED
    | NOTIFY_STREAM
    | NOTIFY_MODULE;

/// Lowercase name (and alias) -> row index.
fn name_index() -> &'static HashMap<&'static str, usize> {
    static INDEX: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut map = HashMap::with_capacity(PARAMS.len() * 2);
        for (i, p) in PARAMS.iter().enumerate() {
            map.insert(p.name, i);
            if let Some(a) = p.alias {
                map.insert(a, i);
            }
        }
        map
    })
}

/// Finds a row by name or alias, any case. Also returns the name as registered, which is what
/// Redis reports in value errors (the alias when the alias was used).
fn find(name: &[u8]) -> Option<(usize, &'static str)> {
    let lower = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
    let &idx = name_index().get(lower.as_str())?;
    let spec = &PARAMS[idx];
    let registered = if spec.name == lower {
        spec.name
    } else {
        spec.alias.unwrap_or(spec.name)
    };
    Some((idx, registered))
}

/// The row for a name or alias, any case.
pub fn lookup(name: &[u8]) -> Option<&'static ParamSpec> {
    find(name).map(|(i, _)| &PARAMS[i])
}

/// The live parameter values of one server.
pub struct Params {
    values: RwLock<Vec<String>>,
    proto_max_bulk_len: AtomicI64,
    client_query_buffer_limit: AtomicI64,
    maxmemory: AtomicI64,
    maxclients: AtomicI64,
    timeout: AtomicI64,
    hz: AtomicI64,
    notify_keyspace_events: AtomicU32,
    /// `client-output-buffer-limit` as (hard, soft, seconds) per class, in `COB_*` order.
    output_limits: [[AtomicU64; 3]; 3],
    /// The collection encoding thresholds, in `ENCODING_PARAMS` order.
    encoding: [AtomicI64; ENCODING_PARAMS.len()],
}

/// The parameters behind `EncodingLimits`, mirrored for lock-free reads on every write.
const ENCODING_PARAMS: [&str; 8] = [
    "hash-max-listpack-entries",
    "hash-max-listpack-value",
    "zset-max-listpack-entries",
    "zset-max-listpack-value",
    "set-max-intset-entries",
    "set-max-listpack-entries",
    "set-max-listpack-value",
    "list-max-listpack-size",
];

impl Default for Params {
    fn default() -> Self {
        Self::new()
    }
}

impl Params {
    /// All parameters at their Redis 7.0 defaults.
    pub fn new() -> Params {
        let values: Vec<String> = PARAMS
            .iter()
            .map(|p| match p.kind {
                Kind::Special(Special::Dir) => std::env::current_dir()
                    .ok()
                    .and_then(|d| d.to_str().map(str::to_string))
                    .unwrap_or_default(),
                _ => p.default.to_string(),
            })
            .collect();
        let params = Params {
            values: RwLock::new(Vec::new()),
            proto_max_bulk_len: AtomicI64::new(0),
            client_query_buffer_limit: AtomicI64::new(0),
            maxmemory: AtomicI64::new(0),
            maxclients: AtomicI64::new(0),
            timeout: AtomicI64::new(0),
            hz: AtomicI64::new(0),
            notify_keyspace_events: AtomicU32::new(0),
            output_limits: Default::default(),
            encoding: Default::default(),
        };
        for (i, v) in values.iter().enumerate() {
            params.sync_hot(i, v, v.as_bytes());
        }
        *params.values.write() = values;
        params
    }

    /// Applies one value from the startup configuration. Immutable and protected parameters
    /// are allowed here: startup is where they get their values.
    pub fn set_initial(&self, name: &str, value: &str) -> Result<(), CmdError> {
        let Some((idx, registered)) = find(name.as_bytes()) else {
            return Err(CmdError::err(format!(
                "ERR Bad directive or wrong number of arguments - '{name}'"
            )));
        };
        let mut values = self.values.write();
        let canon = canonicalize(&PARAMS[idx], value.as_bytes(), &values[idx])
            .map_err(|e| CmdError::err(format!("ERR Invalid argument for '{registered}' - {e}")))?;
        self.sync_hot(idx, &canon, value.as_bytes());
        values[idx] = canon;
        Ok(())
    }

    /// CONFIG GET: every parameter whose name or alias matches one of the glob `patterns`
    /// (any case), once each, as `(name, value)`. A name matched through its alias is reported
    /// under the alias, and a pattern that matches both reports both, as Redis 7 does.
    pub fn get_matching(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let values = self.values.read();
        let mut out: Vec<(String, String)> = Vec::new();
        let seen = |out: &[(String, String)], name: &[u8]| {
            out.iter()
                .any(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
        };
        for &pattern in patterns {
            if !pattern.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
                // Redis answers an exact name under the spelling it was asked with.
                if seen(&out, pattern) {
                    continue;
                }
                if let Some((idx, _)) = find(pattern) {
                    let name = String::from_utf8_lossy(pattern).into_owned();
                    out.push((name, values[idx].clone()));
                }
                continue;
            }
            for (idx, spec) in PARAMS.iter().enumerate().filter(|(_, s)| !s.hidden) {
                for name in std::iter::once(spec.name).chain(spec.alias) {
                    if glob::matches(pattern, name.as_bytes(), true) && !seen(&out, name.as_bytes())
                    {
                        out.push((name.to_string(), values[idx].clone()));
                    }
                }
            }
        }
        out
    }

    /// CONFIG SET name value [name value ...], all or nothing, with Redis 7.0's errors.
    /// Protected parameters are refused unless `enable-protected-configs` is `yes`; use
    /// [`Params::set_many_from`] to honour its `local` setting.
    pub fn set_many(&self, pairs: &[(&[u8], &[u8])]) -> Result<(), CmdError> {
        self.set_many_from(pairs, false)
    }

    /// [`Params::set_many`] for a client that is (`local_client`) or is not connected over
    /// loopback or a unix socket, which `enable-protected-configs local` distinguishes.
    pub fn set_many_from(
        &self,
        pairs: &[(&[u8], &[u8])],
        local_client: bool,
    ) -> Result<(), CmdError> {
        // The write lock is held from the first check to the last store, so no other CONFIG
        // SET interleaves and readers see all of the new values or none of them.
        let mut values = self.values.write();

        // Names first. Redis keeps scanning after an error only to redact secrets; the first
        // error is the one reported.
        let mut chosen: Vec<(usize, &'static str)> = Vec::with_capacity(pairs.len());
        for &(name, _) in pairs {
            let Some((idx, registered)) = find(name) else {
                return Err(CmdError::err(format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                    String::from_utf8_lossy(name)
                )));
            };
            let refusal = match PARAMS[idx].access {
                Access::Mutable | Access::Listener(_) => None,
                Access::Immutable => Some("can't set immutable config"),
                Access::Protected => {
                    let allowed = match values[protected_setting_index()].as_str() {
                        "yes" => true,
                        "local" => local_client,
                        _ => false,
                    };
                    (!allowed).then_some("can't set protected config")
                }
            };
            // Redis compares table entries, and an alias is an entry of its own: naming a
            // parameter and its alias in one call is not a duplicate, the later one wins.
            let reason = refusal.or_else(|| {
                chosen
                    .iter()
                    .any(|&(_, r)| r == registered)
                    .then_some("duplicate parameter")
            });
            if let Some(reason) = reason {
                return Err(CmdError::err(format!(
                    "ERR CONFIG SET failed (possibly related to argument '{}') - {reason}",
                    String::from_utf8_lossy(name)
                )));
            }
            chosen.push((idx, registered));
        }

        // Then values, in order; each one sees the ones before it, as Redis's sequential sets
        // do (client-output-buffer-limit merges into the current value).
        let mut staged: Vec<(usize, String)> = Vec::with_capacity(pairs.len());
        for (&(idx, registered), &(_, raw)) in chosen.iter().zip(pairs) {
            let current = staged
                .iter()
                .rev()
                .find(|(i, _)| *i == idx)
                .map_or(values[idx].as_str(), |(_, v)| v.as_str());
            match canonicalize(&PARAMS[idx], raw, current) {
                Ok(canon) => {
                    if let Access::Listener(failure) = PARAMS[idx].access {
                        if canon != values[idx] {
                            return Err(CmdError::err(format!(
                                "ERR CONFIG SET failed (possibly related to argument '{registered}') - {failure}: tenantkv binds its listener at startup only"
                            )));
                        }
                    }
                    staged.push((idx, canon))
                }
                Err(reason) => {
                    return Err(CmdError::err(format!(
                        "ERR CONFIG SET failed (possibly related to argument '{registered}') - {reason}"
                    )))
                }
            }
        }

        for ((idx, canon), &(_, raw)) in staged.into_iter().zip(pairs) {
            self.sync_hot(idx, &canon, raw);
            values[idx] = canon;
        }
        Ok(())
    }

    /// The current value of a parameter, by name or alias, any case.
    pub fn get(&self, name: &str) -> Option<String> {
        let (idx, _) = find(name.as_bytes())?;
        Some(self.values.read()[idx].clone())
    }

    /// The current value as a number: integers and byte counts as such (saturating at the
    /// i64 range), booleans as 1/0, octal values decoded, and percentages negative, the way
    /// Redis stores them (`maxmemory-clients 10%` is -10). `None` for text-valued parameters.
    pub fn get_i64(&self, name: &str) -> Option<i64> {
        let (idx, _) = find(name.as_bytes())?;
        let values = self.values.read();
        let v = values[idx].as_str();
        match PARAMS[idx].kind {
            Kind::Bool => Some(i64::from(v == "yes")),
            Kind::Int { .. } | Kind::Memory { .. } => Some(saturate(v.parse().ok()?)),
            Kind::MemoryOrPercent { .. } => match v.strip_suffix('%') {
                Some(p) => Some(-saturate(p.parse().ok()?)),
                None => Some(saturate(v.parse().ok()?)),
            },
            Kind::Octal { .. } => i64::from_str_radix(v, 8).ok(),
            Kind::Enum(_) | Kind::Str(_) | Kind::Special(_) => None,
        }
    }

    /// Every name CONFIG GET can report: each parameter's name, followed by its alias if any.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        PARAMS
            .iter()
            .flat_map(|p| std::iter::once(p.name).chain(p.alias))
    }

    /// `proto-max-bulk-len`: the largest bulk string a request may carry.
    pub fn proto_max_bulk_len(&self) -> i64 {
        self.proto_max_bulk_len.load(Ordering::Relaxed)
    }

    /// `client-query-buffer-limit`: the largest unparsed request a connection may buffer.
    pub fn client_query_buffer_limit(&self) -> i64 {
        self.client_query_buffer_limit.load(Ordering::Relaxed)
    }

    /// `maxmemory` in bytes; 0 means no limit.
    pub fn maxmemory(&self) -> i64 {
        self.maxmemory.load(Ordering::Relaxed)
    }

    /// `maxclients`.
    pub fn maxclients(&self) -> i64 {
        self.maxclients.load(Ordering::Relaxed)
    }

    /// `timeout` in seconds; 0 means idle clients are never closed.
    pub fn timeout(&self) -> i64 {
        self.timeout.load(Ordering::Relaxed)
    }

    /// `hz`, already clamped to 1..=500.
    pub fn hz(&self) -> i64 {
        self.hz.load(Ordering::Relaxed)
    }

    /// The collection encoding thresholds (`*-max-listpack-*`, `set-max-intset-entries`).
    pub fn encoding_limits(&self) -> crate::storage::value::EncodingLimits {
        let get = |i: usize| self.encoding[i].load(Ordering::Relaxed);
        let size = |i: usize| get(i).max(0) as usize;
        crate::storage::value::EncodingLimits {
            hash_entries: size(0),
            hash_value: size(1),
            zset_entries: size(2),
            zset_value: size(3),
            set_intset_entries: size(4),
            set_listpack_entries: size(5),
            set_listpack_value: size(6),
            list_size: get(7),
        }
    }

    /// `notify-keyspace-events` as `NOTIFY_*` bits, checked on every write. It can hold more
    /// than CONFIG GET shows: Redis prints `A` without the `n` it also set with `An`.
    pub fn notify_keyspace_events(&self) -> u32 {
        self.notify_keyspace_events.load(Ordering::Relaxed)
    }

    /// `client-output-buffer-limit` of class `COB_NORMAL` or `COB_PUBSUB`: (hard bytes, soft
    /// bytes, soft seconds), 0 meaning off. Read lock-free: publishers check it per message.
    pub fn output_buffer_limit(&self, class: usize) -> (u64, u64, u64) {
        let [h, s, t] = &self.output_limits[class];
        (
            h.load(Ordering::Relaxed),
            s.load(Ordering::Relaxed),
            t.load(Ordering::Relaxed),
        )
    }

    /// Mirrors a newly stored value into its atomic, for the parameters read without the lock.
    /// `raw` is what the user wrote, because the keyspace-event flags are not all recoverable
    /// from the canonical text.
    fn sync_hot(&self, idx: usize, canon: &str, raw: &[u8]) {
        let as_i64 = || saturate(canon.parse().unwrap_or(0));
        match PARAMS[idx].name {
            "proto-max-bulk-len" => self.proto_max_bulk_len.store(as_i64(), Ordering::Relaxed),
            "client-query-buffer-limit" => self
                .client_query_buffer_limit
                .store(as_i64(), Ordering::Relaxed),
            "maxmemory" => self.maxmemory.store(as_i64(), Ordering::Relaxed),
            "maxclients" => self.maxclients.store(as_i64(), Ordering::Relaxed),
            "timeout" => self.timeout.store(as_i64(), Ordering::Relaxed),
            "hz" => self.hz.store(as_i64(), Ordering::Relaxed),
            "client-output-buffer-limit" => {
                for (class, (h, s, t)) in parse_cob(canon).into_iter().enumerate() {
                    let slot = &self.output_limits[class];
                    slot[0].store(h, Ordering::Relaxed);
                    slot[1].store(s, Ordering::Relaxed);
                    slot[2].store(t.max(0) as u64, Ordering::Relaxed);
                }
            }
            "notify-keyspace-events" => self.notify_keyspace_events.store(
                keyspace_events_to_flags(raw).unwrap_or(0),
                Ordering::Relaxed,
            ),
            name => {
                if let Some(i) = ENCODING_PARAMS.iter().position(|p| *p == name) {
                    self.encoding[i].store(as_i64(), Ordering::Relaxed);
                }
            }
        }
    }
}

fn protected_setting_index() -> usize {
    name_index()["enable-protected-configs"]
}

fn saturate(v: i128) -> i64 {
    v.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

type Reason = Cow<'static, str>;

/// Parses a user-supplied value into the text CONFIG GET will report, or says why not, in
/// Redis 7.0's words. `current` is the value being replaced.
fn canonicalize(spec: &ParamSpec, raw: &[u8], current: &str) -> Result<String, Reason> {
    let text = String::from_utf8_lossy(raw);
    let s: &str = &text;
    match spec.kind {
        Kind::Bool => {
            if s.eq_ignore_ascii_case("yes") {
                Ok("yes".into())
            } else if s.eq_ignore_ascii_case("no") {
                Ok("no".into())
            } else {
                Err("argument must be 'yes' or 'no'".into())
            }
        }
        Kind::Int { min, max } => {
            let v = string2ll(s).ok_or("argument couldn't be parsed into an integer")?;
            check_range(v.into(), min, max)?;
            if spec.name == "hz" {
                // Redis takes hz as a hint and clamps it rather than refusing it.
                return Ok(v.clamp(1, 500).to_string());
            }
            Ok(v.to_string())
        }
        Kind::Memory { min, max } => {
            let v = memtoull(s).ok_or("argument must be a memory value")?;
            check_range(v.into(), min, max)?;
            Ok(v.to_string())
        }
        Kind::MemoryOrPercent { min, max } => {
            let v: i128 = match memtoull(s) {
                Some(v) => v.into(),
                None => match s.strip_suffix('%').and_then(string2ll) {
                    // Redis keeps a percentage as its negation.
                    Some(p) if p >= 0 && s.len() > 1 => -i128::from(p),
                    _ => return Err("argument must be a memory or percent value".into()),
                },
            };
            if v < 0 {
                if v < min {
                    return Err(
                        format!("percentage argument must be less or equal to {}", -min).into(),
                    );
                }
                return Ok(format!("{}%", -v));
            }
            check_range(v, min, max)?;
            Ok(v.to_string())
        }
        Kind::Octal { min, max } => {
            let v = strtoll(s, 8).ok_or("argument couldn't be parsed as an octal number")?;
            if i128::from(v) < min || i128::from(v) > max {
                return Err(
                    format!("argument must be between {min:o} and {max:o} inclusive").into(),
                );
            }
            Ok(format!("{v:o}"))
        }
        Kind::Enum(choices) => choices
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s))
            .map(|&(_, id)| {
                let first = choices.iter().find(|&&(_, i)| i == id);
                first.map_or("", |&(n, _)| n).to_string()
            })
            .ok_or_else(|| enum_error(choices)),
        Kind::Str(rule) => {
            let s = std::str::from_utf8(raw)
                .map_err(|_| Reason::from("argument must be valid UTF-8"))?;
            check_string(rule, s)?;
            Ok(s.to_string())
        }
        Kind::Special(which) => canonicalize_special(which, raw, s, current),
    }
}

fn check_range(v: i128, min: i128, max: i128) -> Result<(), Reason> {
    if v < min || v > max {
        return Err(format!("argument must be between {min} and {max} inclusive").into());
    }
    Ok(())
}

fn enum_error(choices: &[(&str, u32)]) -> Reason {
    let names: Vec<&str> = choices.iter().map(|&(n, _)| n).collect();
    format!(
        "argument(s) must be one of the following: {}",
        names.join(", ")
    )
    .into()
}

fn check_string(rule: StrRule, s: &str) -> Result<(), Reason> {
    let is_path = s.contains('/') || s.contains('\\');
    let err = match rule {
        StrRule::Any => return Ok(()),
        StrRule::FileName if is_path => "dbfilename can't be a path, just a filename",
        StrRule::AofFileName if s.is_empty() => "appendfilename can't be empty",
        StrRule::AofFileName if is_path => "appendfilename can't be a path, just a filename",
        StrRule::AofDirName if s.is_empty() => "appenddirname can't be empty",
        StrRule::AofDirName if is_path => "appenddirname can't be a path, just a dirname",
        StrRule::Hostname if s.len() >= 256 => "Hostnames must be less than 256 characters",
        StrRule::Hostname
            if !s
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.') =>
        {
            "Hostnames may only contain alphanumeric characters, hyphens or dots"
        }
        StrRule::ProcTitle if !valid_proc_title(s) => {
            "template format is invalid or contains unknown variables"
        }
        _ => return Ok(()),
    };
    Err(err.into())
}

/// Redis's `validateProcTitleTemplate`: `{{` is a literal brace, variables must be known, and
/// the title must not be blank. `{title}`, `{server-mode}`, `{unixsocket}` and
/// `{config-file}` may expand to nothing, so they alone do not make a title.
fn valid_proc_title(template: &str) -> bool {
    let mut visible = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        visible.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        if after.is_empty() {
            return false;
        }
        if let Some(tail) = after.strip_prefix('{') {
            visible.push('{');
            rest = tail;
            continue;
        }
        let Some(close) = after.find('}') else {
            return false;
        };
        match &after[..close] {
            "title" | "server-mode" | "unixsocket" | "config-file" => {}
            "listen-addr" | "port" | "tls-port" => visible.push('x'),
            _ => return false,
        }
        rest = &after[close + 1..];
    }
    visible.push_str(rest);
    !visible.trim_matches(' ').is_empty()
}

/// Redis splits multi-argument values on single spaces (`sdssplitlen`), so doubled spaces give
/// empty arguments, and an empty value gives none.
fn split_args(s: &str) -> Vec<&str> {
    if s.is_empty() {
        Vec::new()
    } else {
        s.split(' ').collect()
    }
}

fn canonicalize_special(
    which: Special,
    raw: &[u8],
    s: &str,
    current: &str,
) -> Result<String, Reason> {
    match which {
        Special::Dir => {
            let s = std::str::from_utf8(raw)
                .map_err(|_| Reason::from("argument must be valid UTF-8"))?;
            let path = std::fs::canonicalize(s).map_err(|e| Reason::from(io_reason(&e)))?;
            if !path.is_dir() {
                return Err("Not a directory".into());
            }
            path.to_str()
                .map(str::to_string)
                .ok_or_else(|| "argument must be valid UTF-8".into())
        }
        Special::Save => {
            let args = split_args(s);
            if args.len() % 2 == 1 {
                return Err("Invalid save parameters".into());
            }
            let mut out = Vec::with_capacity(args.len());
            for pair in args.chunks(2) {
                let seconds = strtoll(pair[0], 10).filter(|&v| v >= 1);
                let changes = strtoll(pair[1], 10).filter(|&v| v >= 0);
                let (Some(seconds), Some(changes)) = (seconds, changes) else {
                    return Err("Invalid save parameters".into());
                };
                // Redis keeps `changes` in an int.
                out.push(format!("{seconds} {}", changes as i32));
            }
            Ok(out.join(" "))
        }
        Special::ClientOutputBufferLimit => {
            let args = split_args(s);
            if !args.len().is_multiple_of(4) {
                return Err("Wrong number of arguments in buffer limit configuration.".into());
            }
            let mut limits = parse_cob(current);
            for chunk in args.chunks(4) {
                let class = match chunk[0].to_ascii_lowercase().as_str() {
                    "normal" => 0,
                    "slave" | "replica" => 1,
                    "pubsub" => 2,
                    _ => {
                        return Err(
                            "Invalid client class specified in buffer limit configuration.".into(),
                        )
                    }
                };
                let hard = memtoull(chunk[1]);
                let soft = memtoull(chunk[2]);
                // Redis keeps the seconds in an int, so huge values wrap negative and fail.
                let seconds = strtoll(chunk[3], 10).map(|v| v as i32).filter(|&v| v >= 0);
                let (Some(hard), Some(soft), Some(seconds)) = (hard, soft, seconds) else {
                    return Err(
                        "Error in hard, soft or soft_seconds setting in buffer limit \
                                configuration."
                            .into(),
                    );
                };
                limits[class] = (hard, soft, i64::from(seconds));
            }
            let names = ["normal", "slave", "pubsub"];
            Ok(names
                .iter()
                .zip(limits)
                .map(|(n, (h, s, t))| format!("{n} {h} {s} {t}"))
                .collect::<Vec<_>>()
                .join(" "))
        }
        Special::OomScoreAdjValues => {
            let args = split_args(s);
            if args.len() != 3 {
                return Err("wrong number of arguments".into());
            }
            let mut out = Vec::with_capacity(3);
            for a in args {
                match strtoll(a, 10) {
                    Some(v) if (-2000..=2000).contains(&v) => out.push(v.to_string()),
                    _ => {
                        return Err("Invalid oom-score-adj-values, elements must be between \
                                    -2000 and 2000."
                            .into())
                    }
                }
            }
            Ok(out.join(" "))
        }
        Special::NotifyKeyspaceEvents => keyspace_events_to_flags(raw)
            .map(keyspace_flags_to_string)
            .ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into()),
        Special::Bind => {
            let args = split_args(s);
            if args.len() > 16 {
                return Err("Too many bind addresses specified.".into());
            }
            Ok(args.join(" "))
        }
        Special::ReplicaOf => {
            let args = split_args(s);
            if args.len() != 2 {
                return Err("wrong number of arguments".into());
            }
            if args[0].eq_ignore_ascii_case("no") && args[1].eq_ignore_ascii_case("one") {
                return Ok(String::new());
            }
            match strtoll(args[1], 10) {
                Some(port) if (0..=65535).contains(&port) => Ok(format!("{} {port}", args[0])),
                _ => Err("Invalid master port".into()),
            }
        }
        Special::LatencyPercentiles => {
            let args = split_args(s);
            let mut out = Vec::with_capacity(args.len());
            for a in args {
                // Redis's string2d: strtod syntax, no leading space, no NaN.
                let v: f64 = a
                    .parse()
                    .ok()
                    .filter(|v: &f64| !v.is_nan() && !a.starts_with(char::is_whitespace))
                    .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
                if !(0.0..=100.0).contains(&v) {
                    return Err("latency-tracking-info-percentiles parameters should sit \
                                between [0.0,100.0]"
                        .into());
                }
                out.push(trim_double(&format!("{v:.6}")));
            }
            Ok(out.join(" "))
        }
        Special::ShutdownFlags => {
            let args = split_args(s);
            let mut bits = 0u32;
            for a in &args {
                let hit = SHUTDOWN_FLAGS
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(a));
                bits |= hit.ok_or_else(|| enum_error(SHUTDOWN_FLAGS))?.1;
            }
            if args.is_empty() {
                return Err(enum_error(SHUTDOWN_FLAGS));
            }
            if bits & 1 != 0 && bits & 2 != 0 {
                return Err("shutdown can't have both 'save' and 'nosave' flags".into());
            }
            Ok(shutdown_flags_to_string(bits))
        }
    }
}

/// Redis's `configEnumGetName` for bit flags: a whole-value match wins, otherwise the names of
/// the set bits in table order.
fn shutdown_flags_to_string(bits: u32) -> String {
    if let Some((n, _)) = SHUTDOWN_FLAGS.iter().find(|&&(_, v)| v == bits) {
        return n.to_string();
    }
    SHUTDOWN_FLAGS
        .iter()
        .filter(|&&(_, v)| v != 0 && bits & v == v)
        .map(|&(n, _)| n)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses our own canonical client-output-buffer-limit text back into (hard, soft, seconds)
/// per class: normal, slave, pubsub.
fn parse_cob(current: &str) -> [(u64, u64, i64); 3] {
    let mut limits = [(0, 0, 0); 3];
    let words: Vec<&str> = current.split(' ').collect();
    for (i, chunk) in words.chunks(4).take(3).enumerate() {
        if let [_, h, s, t] = chunk {
            limits[i] = (
                h.parse().unwrap_or(0),
                s.parse().unwrap_or(0),
                t.parse().unwrap_or(0),
            );
        }
    }
    limits
}

/// `%f` then Redis's trimDoubleString: `99.900000` -> `99.9`, `50.000000` -> `50`.
fn trim_double(s: &str) -> String {
    if !s.contains('.') {
        return s.to_string();
    }
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => "No such file or directory".into(),
        ErrorKind::PermissionDenied => "Permission denied".into(),
        ErrorKind::NotADirectory => "Not a directory".into(),
        _ => e.to_string(),
    }
}

/// Redis's keyspaceEventsStringToFlags.
fn keyspace_events_to_flags(raw: &[u8]) -> Option<u32> {
    let mut flags = 0;
    for &c in raw {
        flags |= match c {
            b'A' => NOTIFY_ALL,
            b'g' => NOTIFY_GENERIC,
            b'$' => NOTIFY_STRING,
            b'l' => NOTIFY_LIST,
            b's' => NOTIFY_SET,
            b'h' => NOTIFY_HASH,
            b'z' => NOTIFY_ZSET,
            b'x' => NOTIFY_EXPIRED,
            b'e' => NOTIFY_EVICTED,
            b'K' => NOTIFY_KEYSPACE,
            b'E' => NOTIFY_KEYEVENT,
            b't' => NOTIFY_STREAM,
            b'm' => NOTIFY_KEY_MISS,
            b'd' => NOTIFY_MODULE,
            b'n' => NOTIFY_NEW,
            _ => return None,
        };
    }
    Some(flags)
}

/// Redis's keyspaceEventsFlagsToString, quirks included: with `A`, the `n` class is set but
/// not shown.
fn keyspace_flags_to_string(flags: u32) -> String {
    let mut s = String::new();
    if flags & NOTIFY_ALL == NOTIFY_ALL {
        s.push('A');
    } else {
        for (bit, c) in [
            (NOTIFY_GENERIC, 'g'),
            (NOTIFY_STRING, '$'),
            (NOTIFY_LIST, 'l'),
            (NOTIFY_SET, 's'),
            (NOTIFY_HASH, 'h'),
            (NOTIFY_ZSET, 'z'),
            (NOTIFY_EXPIRED, 'x'),
            (NOTIFY_EVICTED, 'e'),
            (NOTIFY_STREAM, 't'),
            (NOTIFY_MODULE, 'd'),
            (NOTIFY_NEW, 'n'),
        ] {
            if flags & bit != 0 {
                s.push(c);
            }
        }
    }
    for (bit, c) in [
        (NOTIFY_KEYSPACE, 'K'),
        (NOTIFY_KEYEVENT, 'E'),
        (NOTIFY_KEY_MISS, 'm'),
    ] {
        if flags & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// Redis's memtoull: digits then an optional unit (`b`, `k`, `kb`, `m`, `mb`, `g`, `gb`, any
/// case; `k` is 1000, `kb` 1024). No sign, no spaces. Like Redis on glibc, no digits at all
/// reads as 0. Overflow is refused (Redis would wrap).
pub(crate) fn memtoull(s: &str) -> Option<u64> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let mul: u64 = match s[digits..].to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    let val: u64 = if digits == 0 {
        0
    } else {
        s[..digits].parse().ok()?
    };
    val.checked_mul(mul)
}

/// Redis's string2ll: optional `-`, then digits without leading zeros, fitting an i64.
fn string2ll(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b == b"0" {
        return Some(0);
    }
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    if !matches!(digits.first(), Some(b'1'..=b'9')) || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Rust's parser accepts exactly this shape once the checks above have passed.
    s.parse().ok()
}

/// `strtoll(s, &end, base)` followed by Redis's `*end == '\0'` check: leading whitespace and a
/// sign are allowed, the whole string must be consumed, overflow saturates, and an empty
/// string reads as 0 (no digits consumed, and the end is the end).
fn strtoll(s: &str, radix: u32) -> Option<i64> {
    let b = s.as_bytes();
    let mut i = b
        .iter()
        .take_while(|c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .count();
    let negative = b.get(i) == Some(&b'-');
    if matches!(b.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let start = i;
    let mut v: i128 = 0;
    while let Some(d) = b.get(i).and_then(|&c| (c as char).to_digit(radix)) {
        v = (v * i128::from(radix) + i128::from(d)).min(1 << 64);
        i += 1;
    }
    if i == start {
        // Nothing converted: strtoll points `end` at the start of the string.
        return b.is_empty().then_some(0);
    }
    if i != b.len() {
        return None;
    }
    Some(saturate(if negative { -v } else { v }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(p: &Params, pairs: &[(&str, &str)]) -> Result<(), String> {
        let pairs: Vec<(&[u8], &[u8])> = pairs
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
            .collect();
        p.set_many(&pairs).map_err(|e| e.text().into_owned())
    }

    fn get(p: &Params, patterns: &[&str]) -> Vec<(String, String)> {
        let patterns: Vec<&[u8]> = patterns.iter().map(|s| s.as_bytes()).collect();
        p.get_matching(&patterns)
    }

    fn names_of(v: &[(String, String)]) -> Vec<&str> {
        v.iter().map(|(n, _)| n.as_str()).collect()
    }

    #[test]
    fn every_default_is_canonical_and_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for spec in PARAMS {
            for name in std::iter::once(spec.name).chain(spec.alias) {
                assert_eq!(name, name.to_ascii_lowercase());
                assert!(seen.insert(name), "duplicate name {name}");
            }
            let input = match spec.kind {
                Kind::Special(Special::Dir) => continue,
                // "No replica" is written `no one` but reads back empty, as on Redis.
                Kind::Special(Special::ReplicaOf) => "no one",
                _ => spec.default,
            };
            let canon = canonicalize(spec, input.as_bytes(), spec.default);
            assert_eq!(
                canon.as_deref(),
                Ok(spec.default),
                "default of {}",
                spec.name
            );
        }
        assert!(PARAMS.len() >= 100, "only {} parameters", PARAMS.len());
    }

    #[test]
    fn encoding_threshold_defaults() {
        let p = Params::new();
        for (name, want) in [
            ("hash-max-listpack-entries", "512"),
            ("hash-max-listpack-value", "64"),
            ("zset-max-listpack-entries", "128"),
            ("zset-max-listpack-value", "64"),
            ("list-max-listpack-size", "-2"),
            ("list-compress-depth", "0"),
            ("set-max-intset-entries", "512"),
            ("set-max-listpack-entries", "128"),
            ("set-max-listpack-value", "64"),
            ("stream-node-max-bytes", "4096"),
            ("stream-node-max-entries", "100"),
            ("hll-sparse-max-bytes", "3000"),
        ] {
            assert_eq!(p.get(name).as_deref(), Some(want), "{name}");
        }
    }

    #[test]
    fn other_defaults() {
        let p = Params::new();
        for (name, want) in [
            ("maxmemory", "0"),
            ("maxmemory-policy", "noeviction"),
            ("maxclients", "10000"),
            ("proto-max-bulk-len", "536870912"),
            ("client-query-buffer-limit", "1073741824"),
            ("busy-reply-threshold", "5000"),
            ("lua-time-limit", "5000"),
            ("hz", "10"),
            ("appendonly", "no"),
            ("save", "3600 1 300 100 60 10000"),
            ("slowlog-log-slower-than", "10000"),
            ("slowlog-max-len", "128"),
            ("notify-keyspace-events", ""),
            ("oom-score-adj-values", "0 200 800"),
            ("latency-tracking-info-percentiles", "50 99 99.9"),
            ("shutdown-on-sigterm", "default"),
            ("unixsocketperm", "0"),
        ] {
            assert_eq!(p.get(name).as_deref(), Some(want), "{name}");
        }
        let dir = p.get("dir").unwrap();
        assert!(std::path::Path::new(&dir).is_absolute(), "dir {dir:?}");
        assert_eq!(p.get("no-such-thing"), None);
        assert_eq!(p.get("MAXMEMORY").as_deref(), Some("0"));
    }

    #[test]
    fn aliases_both_ways() {
        let p = Params::new();
        set(&p, &[("hash-max-ziplist-entries", "100")]).unwrap();
        assert_eq!(p.get("hash-max-listpack-entries").as_deref(), Some("100"));
        set(&p, &[("hash-max-listpack-entries", "200")]).unwrap();
        assert_eq!(p.get("hash-max-ziplist-entries").as_deref(), Some("200"));
        set(&p, &[("lua-time-limit", "100")]).unwrap();
        assert_eq!(p.get("busy-reply-threshold").as_deref(), Some("100"));
        set(&p, &[("slave-read-only", "no")]).unwrap();
        assert_eq!(p.get("replica-read-only").as_deref(), Some("no"));
        set(&p, &[("LIST-MAX-ZIPLIST-SIZE", "-3")]).unwrap();
        assert_eq!(p.get("list-max-listpack-size").as_deref(), Some("-3"));

        // CONFIG GET answers under the name asked for.
        assert_eq!(
            get(&p, &["hash-max-ziplist-entries"]),
            vec![("hash-max-ziplist-entries".to_string(), "200".to_string())]
        );
        let both = get(&p, &["hash-max-*-entries"]);
        assert_eq!(
            names_of(&both),
            ["hash-max-listpack-entries", "hash-max-ziplist-entries"]
        );
        // A value error names the alias when the alias was used.
        assert_eq!(
            set(&p, &[("Lua-Time-Limit", "x")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'lua-time-limit') - \
             argument couldn't be parsed into an integer"
        );
    }

    #[test]
    fn glob_patterns() {
        let p = Params::new();
        let got = get(&p, &["maxmemory*"]);
        let mut names = names_of(&got);
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "maxmemory",
                "maxmemory-clients",
                "maxmemory-eviction-tenacity",
                "maxmemory-policy",
                "maxmemory-samples"
            ]
        );
        // Case-insensitive, several patterns, each parameter once.
        let got = get(&p, &["MAXMEMORY", "maxmemory*", "maxmemory", "hz"]);
        assert_eq!(got.len(), 6);
        assert_eq!(got[0], ("MAXMEMORY".to_string(), "0".to_string()));
        assert_eq!(got.last().unwrap().0, "hz");
        assert!(get(&p, &["nope"]).is_empty());
        assert!(get(&p, &["nope*"]).is_empty());
        assert_eq!(names_of(&get(&p, &["h?"])), ["hz"]);
        let hidden = PARAMS.iter().filter(|s| s.hidden).count();
        assert!(hidden > 0);
        assert_eq!(
            get(&p, &["*"]).len(),
            p.names().count() - hidden,
            "`*` reports every name and alias but the hidden ones"
        );
        // A hidden parameter is answered by name only, under the asked spelling.
        assert!(names_of(&get(&p, &["*"]))
            .iter()
            .all(|n| *n != "key-load-delay"));
        assert!(get(&p, &["key-load-*"]).is_empty());
        assert_eq!(
            get(&p, &["KEY-LOAD-DELAY"]),
            [("KEY-LOAD-DELAY".to_string(), "0".to_string())]
        );
        assert_eq!(names_of(&get(&p, &["[s]ave"])), ["save"]);
    }

    #[test]
    fn memory_units() {
        let p = Params::new();
        for (input, want) in [
            ("1gb", "1073741824"),
            ("1GB", "1073741824"),
            ("100mb", "104857600"),
            ("512kb", "524288"),
            ("10k", "10000"),
            ("2m", "2000000"),
            ("3g", "3000000000"),
            ("123", "123"),
            ("77b", "77"),
            ("0", "0"),
            ("18446744073709551615", "18446744073709551615"),
        ] {
            set(&p, &[("maxmemory", input)]).unwrap();
            assert_eq!(p.get("maxmemory").as_deref(), Some(want), "{input}");
        }
        assert_eq!(p.maxmemory(), i64::MAX, "saturates");
        for bad in [
            "-1",
            "1tb",
            "1.5gb",
            " 1",
            "+1",
            "1 gb",
            "18446744073709551616",
            "20gbx",
        ] {
            assert_eq!(
                set(&p, &[("maxmemory", bad)]).unwrap_err(),
                "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - \
                 argument must be a memory value",
                "{bad}"
            );
        }
        // Memory-typed encoding values take units too.
        set(&p, &[("hash-max-listpack-value", "1kb")]).unwrap();
        assert_eq!(p.get_i64("hash-max-ziplist-value"), Some(1024));
        // Range errors print Redis's bounds.
        assert_eq!(
            set(&p, &[("proto-max-bulk-len", "1k")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - \
             argument must be between 1048576 and 9223372036854775807 inclusive"
        );
        // Percentages.
        set(&p, &[("maxmemory-clients", "10%")]).unwrap();
        assert_eq!(p.get("maxmemory-clients").as_deref(), Some("10%"));
        assert_eq!(p.get_i64("maxmemory-clients"), Some(-10));
        set(&p, &[("maxmemory-clients", "1mb")]).unwrap();
        assert_eq!(p.get("maxmemory-clients").as_deref(), Some("1048576"));
        assert_eq!(
            set(&p, &[("maxmemory-clients", "101%")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - \
             percentage argument must be less or equal to 100"
        );
        assert_eq!(
            set(&p, &[("maxmemory-clients", "x%")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - \
             argument must be a memory or percent value"
        );
    }

    #[test]
    fn integers_and_bools() {
        let p = Params::new();
        for bad in ["1.5", "+5", "05", " 5", "", "-0", "99999999999999999999"] {
            assert_eq!(
                set(&p, &[("maxmemory-samples", bad)]).unwrap_err(),
                "ERR CONFIG SET failed (possibly related to argument 'maxmemory-samples') - \
                 argument couldn't be parsed into an integer",
                "{bad:?}"
            );
        }
        assert_eq!(
            set(&p, &[("maxmemory-samples", "0")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory-samples') - \
             argument must be between 1 and 2147483647 inclusive"
        );
        assert_eq!(
            set(&p, &[("maxclients", "-1")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'maxclients') - \
             argument must be between 1 and 4294967295 inclusive"
        );
        set(&p, &[("slowlog-log-slower-than", "-1")]).unwrap();
        assert_eq!(p.get_i64("slowlog-log-slower-than"), Some(-1));
        set(&p, &[("appendonly", "YES")]).unwrap();
        assert_eq!(p.get("appendonly").as_deref(), Some("yes"));
        assert_eq!(p.get_i64("appendonly"), Some(1));
        assert_eq!(
            set(&p, &[("appendonly", "true")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'appendonly') - \
             argument must be 'yes' or 'no'"
        );
        assert_eq!(p.get_i64("maxmemory-policy"), None);
        assert_eq!(p.get_i64("unknown"), None);
    }

    #[test]
    fn enum_validation() {
        let p = Params::new();
        set(&p, &[("maxmemory-policy", "ALLKEYS-LRU")]).unwrap();
        assert_eq!(p.get("maxmemory-policy").as_deref(), Some("allkeys-lru"));
        assert_eq!(
            set(&p, &[("maxmemory-policy", "lru")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - \
             argument(s) must be one of the following: volatile-lru, volatile-lfu, \
             volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
        );
        assert_eq!(p.get("maxmemory-policy").as_deref(), Some("allkeys-lru"));
        assert_eq!(
            set(&p, &[("loglevel", "test")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'loglevel') - \
             argument(s) must be one of the following: debug, verbose, notice, warning"
        );
        // Synonyms read back under the first name.
        set(&p, &[("oom-score-adj", "relative")]).unwrap();
        assert_eq!(p.get("oom-score-adj").as_deref(), Some("yes"));
        // Multi-flag enums.
        set(&p, &[("shutdown-on-sigint", "now save")]).unwrap();
        assert_eq!(p.get("shutdown-on-sigint").as_deref(), Some("save now"));
        assert_eq!(
            set(&p, &[("shutdown-on-sigint", "save nosave")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigint') - \
             shutdown can't have both 'save' and 'nosave' flags"
        );
        assert!(set(&p, &[("shutdown-on-sigint", "")]).is_err());
    }

    #[test]
    fn multi_set_is_atomic() {
        let p = Params::new();
        let err = set(
            &p,
            &[
                ("maxmemory", "1mb"),
                ("hz", "20"),
                ("maxmemory-policy", "bogus"),
                ("timeout", "5"),
            ],
        )
        .unwrap_err();
        assert!(err.contains("'maxmemory-policy'"), "{err}");
        assert_eq!(p.get("maxmemory").as_deref(), Some("0"));
        assert_eq!(p.get("hz").as_deref(), Some("10"));
        assert_eq!(p.maxmemory(), 0);
        assert_eq!(p.hz(), 10);
        assert_eq!(p.timeout(), 0);

        // An unknown name anywhere stops everything, and is reported before value errors.
        let err = set(&p, &[("maxmemory", "oops"), ("foo", "1")]).unwrap_err();
        assert_eq!(
            err,
            "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
        );
        // The first name error wins.
        let err = set(&p, &[("daemonize", "yes"), ("foo", "1")]).unwrap_err();
        assert!(err.contains("immutable"), "{err}");

        set(&p, &[("maxmemory", "1mb"), ("hz", "20"), ("timeout", "5")]).unwrap();
        assert_eq!(p.get("maxmemory").as_deref(), Some("1048576"));
        assert_eq!((p.maxmemory(), p.hz(), p.timeout()), (1048576, 20, 5));
    }

    #[test]
    fn duplicates() {
        let p = Params::new();
        assert_eq!(
            set(&p, &[("maxmemory", "10000001"), ("MAXMEMORY", "10000002")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'MAXMEMORY') - \
             duplicate parameter"
        );
        assert_eq!(p.get("maxmemory").as_deref(), Some("0"));
        // As on Redis, a name and its alias are separate entries; the later one wins.
        set(
            &p,
            &[
                ("hash-max-ziplist-entries", "1"),
                ("hash-max-listpack-entries", "2"),
            ],
        )
        .unwrap();
        assert_eq!(p.get("hash-max-listpack-entries").as_deref(), Some("2"));
    }

    #[test]
    fn immutable_and_protected() {
        let p = Params::new();
        assert_eq!(
            set(&p, &[("Daemonize", "yes")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'Daemonize') - \
             can't set immutable config"
        );
        assert_eq!(
            set(&p, &[("databases", "32")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'databases') - \
             can't set immutable config"
        );
        assert_eq!(
            set(&p, &[("dbfilename", "x.rdb")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - \
             can't set protected config"
        );
        // Startup may set both kinds.
        p.set_initial("databases", "32").unwrap();
        assert_eq!(p.get("databases").as_deref(), Some("32"));
        p.set_initial("enable-protected-configs", "local").unwrap();
        assert!(set(&p, &[("dbfilename", "x.rdb")]).is_err());
        let pairs: [(&[u8], &[u8]); 1] = [(b"dbfilename", b"x.rdb")];
        p.set_many_from(&pairs, true).unwrap();
        assert_eq!(p.get("dbfilename").as_deref(), Some("x.rdb"));
        p.set_initial("enable-protected-configs", "yes").unwrap();
        assert_eq!(
            set(&p, &[("dbfilename", "a/b.rdb")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - \
             dbfilename can't be a path, just a filename"
        );
        set(&p, &[("dir", "/")]).unwrap();
        assert_eq!(p.get("dir").as_deref(), Some("/"));
        assert_eq!(
            set(&p, &[("dir", "/definitely/not/here")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'dir') - \
             No such file or directory"
        );
        // Startup errors.
        assert!(p.set_initial("nope", "1").is_err());
        assert!(p.set_initial("databases", "0").is_err());
    }

    #[test]
    fn notify_keyspace_events() {
        let p = Params::new();
        for (input, want) in [
            ("KEA", "AKE"),
            ("Kx", "xK"),
            ("Eg$lshzxetd", "AE"),
            ("gK$", "g$K"),
            ("mKA", "AKm"),
            ("nE", "nE"),
            ("", ""),
        ] {
            set(&p, &[("notify-keyspace-events", input)]).unwrap();
            assert_eq!(
                p.get("notify-keyspace-events").as_deref(),
                Some(want),
                "{input}"
            );
        }
        set(&p, &[("notify-keyspace-events", "AnK")]).unwrap();
        assert_eq!(p.get("notify-keyspace-events").as_deref(), Some("AK"));
        assert_eq!(
            p.notify_keyspace_events(),
            NOTIFY_ALL | NOTIFY_NEW | NOTIFY_KEYSPACE,
            "`n` is kept even though CONFIG GET hides it"
        );
        assert_eq!(
            set(&p, &[("notify-keyspace-events", "KEQ")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - \
             Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
        );
        assert_eq!(p.get("notify-keyspace-events").as_deref(), Some("AK"));
    }

    #[test]
    fn hot_atomics() {
        let p = Params::new();
        assert_eq!(p.proto_max_bulk_len(), 512 * 1024 * 1024);
        assert_eq!(p.client_query_buffer_limit(), 1024 * 1024 * 1024);
        assert_eq!(p.maxmemory(), 0);
        assert_eq!(p.maxclients(), 10000);
        assert_eq!(p.timeout(), 0);
        assert_eq!(p.hz(), 10);
        assert_eq!(p.notify_keyspace_events(), 0);
        set(
            &p,
            &[
                ("proto-max-bulk-len", "2mb"),
                ("client-query-buffer-limit", "4mb"),
                ("maxmemory", "100mb"),
                ("maxclients", "50"),
                ("timeout", "30"),
                ("hz", "1000"),
                ("notify-keyspace-events", "Ex"),
            ],
        )
        .unwrap();
        assert_eq!(p.proto_max_bulk_len(), 2 << 20);
        assert_eq!(p.client_query_buffer_limit(), 4 << 20);
        assert_eq!(p.maxmemory(), 100 << 20);
        assert_eq!(p.maxclients(), 50);
        assert_eq!(p.timeout(), 30);
        // hz is clamped like Redis's updateHZ, and reads back clamped.
        assert_eq!(p.hz(), 500);
        assert_eq!(p.get("hz").as_deref(), Some("500"));
        assert_eq!(p.notify_keyspace_events(), NOTIFY_KEYEVENT | NOTIFY_EXPIRED);
        set(&p, &[("hz", "0")]).unwrap();
        assert_eq!(p.hz(), 1);
        p.set_initial("maxclients", "77").unwrap();
        assert_eq!(p.maxclients(), 77);
    }

    #[test]
    fn special_parameters() {
        let p = Params::new();
        set(&p, &[("save", "100 10 20 0")]).unwrap();
        assert_eq!(p.get("save").as_deref(), Some("100 10 20 0"));
        set(&p, &[("save", "")]).unwrap();
        assert_eq!(p.get("save").as_deref(), Some(""));
        for bad in ["100", "0 1", "10 -1", "10 x", "a b"] {
            assert_eq!(
                set(&p, &[("save", bad)]).unwrap_err(),
                "ERR CONFIG SET failed (possibly related to argument 'save') - \
                 Invalid save parameters",
                "{bad}"
            );
        }

        set(&p, &[("client-output-buffer-limit", "pubsub 64mb 16mb 90")]).unwrap();
        assert_eq!(
            p.get("client-output-buffer-limit").as_deref(),
            Some("normal 0 0 0 slave 268435456 67108864 60 pubsub 67108864 16777216 90")
        );
        set(
            &p,
            &[(
                "client-output-buffer-limit",
                "replica 1kb 1k 1 normal 1 2 3",
            )],
        )
        .unwrap();
        assert_eq!(
            p.get("client-output-buffer-limit").as_deref(),
            Some("normal 1 2 3 slave 1024 1000 1 pubsub 67108864 16777216 90")
        );
        assert_eq!(
            set(&p, &[("client-output-buffer-limit", "master 1 1 1")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') \
             - Invalid client class specified in buffer limit configuration."
        );
        assert!(set(&p, &[("client-output-buffer-limit", "normal 1 1")]).is_err());
        assert!(set(&p, &[("client-output-buffer-limit", "normal 1 1 -1")]).is_err());

        set(
            &p,
            &[("latency-tracking-info-percentiles", "50.0 99.99 100")],
        )
        .unwrap();
        assert_eq!(
            p.get("latency-tracking-info-percentiles").as_deref(),
            Some("50 99.99 100")
        );
        assert!(set(&p, &[("latency-tracking-info-percentiles", "101")]).is_err());
        set(&p, &[("oom-score-adj-values", "0 -200 2000")]).unwrap();
        assert!(set(&p, &[("oom-score-adj-values", "0 200")]).is_err());
        p.set_initial("bind", "127.0.0.1 ::1").unwrap();
        assert_eq!(p.get("bind").as_deref(), Some("127.0.0.1 ::1"));
        // Bound at startup: the same addresses are accepted, others fail.
        set(&p, &[("bind", "127.0.0.1 ::1")]).unwrap();
        assert!(set(&p, &[("bind", "127.0.0.1")]).is_err());
        p.set_initial("replicaof", "10.0.0.1 6380").unwrap();
        assert_eq!(p.get("slaveof").as_deref(), Some("10.0.0.1 6380"));
        p.set_initial("replicaof", "no one").unwrap();
        assert_eq!(p.get("replicaof").as_deref(), Some(""));
        p.set_initial("unixsocketperm", "700").unwrap();
        assert_eq!(p.get_i64("unixsocketperm"), Some(0o700));
        assert!(p.set_initial("unixsocketperm", "1777").is_err());
        assert!(set(&p, &[("proc-title-template", "{title}")]).is_err());
        assert!(set(&p, &[("proc-title-template", "{nope} x")]).is_err());
        set(&p, &[("proc-title-template", "{title} {port}")]).unwrap();
        assert!(set(&p, &[("cluster-announce-hostname", "a_b")]).is_err());
    }

    #[test]
    fn names_cover_the_common_set() {
        let p = Params::new();
        let names: std::collections::HashSet<&str> = p.names().collect();
        for want in [
            "maxmemory",
            "maxmemory-policy",
            "maxclients",
            "timeout",
            "tcp-keepalive",
            "port",
            "bind",
            "databases",
            "lua-time-limit",
            "busy-reply-threshold",
            "hash-max-ziplist-entries",
            "zset-max-ziplist-value",
            "list-max-ziplist-size",
            "lazyfree-lazy-user-flush",
            "appendfsync",
            "requirepass",
            "masterauth",
            "slave-read-only",
            "slave-serve-stale-data",
            "latency-monitor-threshold",
            "loglevel",
            "supervised",
            "io-threads",
            "enable-debug-command",
            "enable-module-command",
            "maxmemory-clients",
            "tracking-table-max-keys",
            "cluster-enabled",
            "oom-score-adj",
            "activedefrag",
            "jemalloc-bg-thread",
        ] {
            assert!(names.contains(want), "{want}");
        }
        assert!(lookup(b"REQUIREPASS").unwrap().sensitive);
    }
}
