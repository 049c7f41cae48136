//! Startup configuration: one serde struct per TOML section, defaults in one place.
//!
//! `config/default.toml` is compiled into the binary and parsed first; a file given with
//! `--config` is then merged over it key by key, and command-line flags override both. Values
//! that Redis clients can also read or change at runtime are fed into `params` (CONFIG GET/SET).

pub mod params;

use serde::Deserialize;

/// The embedded default configuration (every key documented there).
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerSection,
    pub limits: LimitsSection,
    pub memory: MemorySection,
    pub auth: AuthSection,
    pub log: LogSection,
    pub tenancy: TenancySection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    pub bind: String,
    pub port: u16,
    pub databases: usize,
    pub maxclients: u64,
    /// Close idle connections after this many seconds (0 = never).
    pub timeout: u64,
    /// Background task frequency (active expiry cycles per second), as Redis's `hz`.
    pub hz: u64,
    /// Worker threads serving connections; 0 = one per core less one, at least one.
    pub threads: usize,
    /// How long a lone worker keeps polling for I/O after the last request before it sleeps
    /// (`server::busy_poll`), in microseconds; 0 = never poll.
    pub busy_poll_us: u64,
}

impl ServerSection {
    /// The worker threads to run: `threads`, or for 0 one per core less one (left to the
    /// kernel's network processing and to clients on the same machine), at least one.
    pub fn worker_threads(&self) -> usize {
        if self.threads > 0 {
            return self.threads;
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        cores.saturating_sub(1).max(1)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    pub proto_max_bulk_len: ByteSize,
    pub client_query_buffer_limit: ByteSize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemorySection {
    pub maxmemory: ByteSize,
    pub maxmemory_policy: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    /// Password of the default admin; empty means no authentication is required.
    pub requirepass: String,
    /// Further server admins, each with a salted hash from `tenantkv --hash-password`.
    #[serde(default)]
    pub admins: Vec<AdminSection>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSection {
    pub name: String,
    pub password_hash: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenancySection {
    pub enabled: bool,
    pub max_tenants: usize,
    pub default_tier: String,
    /// Where the tenant registry is kept; empty keeps it in memory only.
    pub registry_path: String,
    /// A tenant may burst to this many seconds' worth of its ops/s limit at once.
    pub ops_burst_seconds: f64,
    pub tiers: std::collections::BTreeMap<String, TierSection>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSection {
    pub memory: ByteSize,
    pub keys: u64,
    pub ops: u64,
    pub connections: u64,
    pub databases: u64,
    pub eviction: String,
    /// Largest request in bytes (all arguments); absent = only `proto_max_bulk_len`.
    #[serde(default)]
    pub request: Option<ByteSize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    pub level: String,
}

/// A byte count written as an integer or with a unit (`512mb`, `1gb`, `64k`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(n) => Ok(ByteSize(n)),
            Raw::Text(s) => parse_size(&s)
                .map(ByteSize)
                .ok_or_else(|| serde::de::Error::custom(format!("invalid size '{s}'"))),
        }
    }
}

/// Parses `123`, `64k`, `64kb`, `512mb`, `4gb` (Redis's units: `k` = 1000, `kb` = 1024), the
/// same parser CONFIG SET uses; unlike it, a size here must start with a digit.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    if !s.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    params::memtoull(s)
}

#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Merges `over` into `base` key by key (tables recursively, everything else replaced).
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

impl Config {
    /// The embedded defaults, optionally overlaid with a user file's contents.
    pub fn load(user_toml: Option<&str>) -> Result<Config, ConfigError> {
        let mut table: toml::Table = DEFAULT_TOML
            .parse()
            .map_err(|e| ConfigError(format!("embedded default config: {e}")))?;
        if let Some(text) = user_toml {
            let user: toml::Table = text
                .parse()
                .map_err(|e| ConfigError(format!("config file: {e}")))?;
            merge(&mut table, user);
        }
        let cfg: Config = table
            .try_into()
            .map_err(|e| ConfigError(format!("config: {e}")))?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.server.databases == 0 || self.server.databases > 1024 {
            return Err(ConfigError("server.databases must be 1..=1024".into()));
        }
        if self.server.hz == 0 || self.server.hz > 500 {
            return Err(ConfigError("server.hz must be 1..=500".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_threads_default_leaves_a_core_and_honours_a_setting() {
        let mut c = Config::load(None).unwrap();
        assert_eq!(c.server.threads, 0);
        let cores = std::thread::available_parallelism().unwrap().get();
        assert_eq!(c.server.worker_threads(), (cores - 1).max(1));
        c = Config::load(Some("[server]\nthreads = 3\n")).unwrap();
        assert_eq!(c.server.worker_threads(), 3);
    }

    #[test]
    fn embedded_default_parses() {
        let c = Config::load(None).unwrap();
        assert_eq!(c.server.port, 6379);
        assert_eq!(c.limits.proto_max_bulk_len.0, 512 * 1024 * 1024);
    }

    #[test]
    fn user_file_overrides_key_by_key() {
        let c = Config::load(Some("[server]\nport = 7000\n")).unwrap();
        assert_eq!(c.server.port, 7000);
        assert_eq!(c.server.bind, "127.0.0.1");
        assert!(Config::load(Some("[server]\nnope = 1\n")).is_err());
        assert!(Config::load(Some("[limits]\nproto_max_bulk_len = \"12xb\"\n")).is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64kb"), Some(65536));
        assert_eq!(parse_size("1gb"), Some(1 << 30));
        assert_eq!(parse_size("10k"), Some(10_000));
        assert_eq!(parse_size("x"), None);
    }
}
