//! Side-by-side load benchmark: tenantkv against a stock `redis-server`.
//!
//! # What it measures
//!
//! * **Throughput.** For every pipeline depth (default `1` and `16`) and every
//!   test (default `SET GET INCR MSET`) it runs the stock `redis-benchmark`
//!   tool (`-c 50 -r 100000 --csv -q`) against `redis-server` and tenantkv in
//!   alternation, for several rounds, and reports the median ops/s per
//!   (server, test, depth) plus the ratio tenantkv/redis. Both servers run on
//!   this machine, on loopback, started by this program.
//! * **Memory per key.** Each server is started afresh, its `VmRSS` is read
//!   from `/proc/<pid>/status`, one million 16-byte keys (`key:%012d`) with the
//!   3-byte value `xxx` are loaded through a pipelined RESP loader built into
//!   this program, `DBSIZE` is checked and `VmRSS` is read again. The growth
//!   divided by the key count is the cost of one small key.
//!
//! The table is printed and also written as Markdown to
//! `target/loadbench-results.md`.
//!
//! # How to run
//!
//! ```text
//! cargo build --release
//! cargo bench --bench loadbench -- [options]
//! ```
//!
//! Options (see `--help`): `--tests SET,GET,...`, `--depths 1,16`,
//! `--rounds N`, `--requests N`, `--clients N`, `--keyspace N`, `--memory`
//! (memory only), `--no-memory`, `--keys N`, `--timeout SECS`.
//!
//! `redis-server` and `redis-benchmark` are taken from `PATH` and installed
//! with `apt-get` if missing. The tenantkv binary is `$TENANTKV_BIN` if set,
//! otherwise the one cargo built for this bench, otherwise
//! `target/release/tenantkv` (built with `cargo build --release` if absent).
//!
//! The program uses only `std` (with the shared `benches/support`), so it can also be
//! compiled on its own with `rustc --edition 2021 -O benches/loadbench.rs`.

use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::thread;
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;

/// Tenant used by the tenant-mode target (enterprise tier: every quota enforced, none hit).
const BENCH_TENANT: &str = "loadbench";
/// Tenant with every quota off, for the quota-overhead comparison.
const UNLIMITED_TENANT: &str = "loadbench-noquota";

use support::*;

const DEFAULT_TESTS: &[&str] = &["SET", "GET", "INCR", "MSET"];
const DEFAULT_DEPTHS: &[u32] = &[1, 16];
const DEFAULT_ROUNDS: usize = 3;
const DEFAULT_CLIENTS: u32 = 50;
const DEFAULT_KEYSPACE: u64 = 100_000;
const DEFAULT_MEMORY_KEYS: u64 = 1_000_000;
/// Commands per write in the memory loader: large enough to amortise the
/// round trip, small enough that the replies fit in the socket buffers.
const LOADER_BATCH: u64 = 1_000;
const DEFAULT_RUN_TIMEOUT: Duration = Duration::from_secs(600);

/// Requests per `redis-benchmark` run unless `--requests` is given.
/// Pipelined runs are much faster, so they get more requests to last about
/// as long as the unpipelined ones.
fn default_requests(depth: u32) -> u64 {
    if depth <= 1 {
        200_000
    } else {
        1_000_000
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("loadbench: error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the whole benchmark. Every server it starts is owned by a
/// [`RunningServer`] inside this function, so they are all stopped before
/// `main` returns, whether it succeeds, fails or panics.
fn run() -> Result<()> {
    let Some(opts) = Options::parse(std::env::args().skip(1))? else {
        return Ok(());
    };
    let paths = Paths::discover();
    let tools = RedisTools::locate_or_install()?;
    let tenantkv_bin = locate_or_build_tenantkv(&paths)?;
    println!("redis-server:    {}", tools.server.display());
    println!("redis-benchmark: {}", tools.benchmark.display());
    println!("tenantkv:        {}", tenantkv_bin.display());
    warn_if_busy();

    let servers = [
        ServerSpec {
            name: "redis",
            kind: ServerKind::Redis,
            program: tools.server.clone(),
            extra: Vec::new(),
        },
        ServerSpec {
            name: "tenantkv",
            kind: ServerKind::Tenantkv,
            program: tenantkv_bin,
            extra: Vec::new(),
        },
    ];

    let mut report = Report::new(&paths, &opts, &tools);
    if opts.throughput {
        let results = run_throughput(&opts, &servers, &tools, &paths)?;
        println!();
        print!("{}", results.text_table());
        print!("{}", results.verdicts());
        report.add_section(&results.markdown());
        report.write()?;
    }
    if opts.memory {
        let results = run_memory(&opts, &servers, &paths)?;
        println!();
        print!("{}", memory_text_table(&results));
        report.add_section(&memory_markdown(&results, opts.memory_keys));
        report.write()?;
    }
    println!("\nMarkdown written to {}", report.path.display());
    Ok(())
}

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

struct Options {
    tests: Vec<String>,
    depths: Vec<u32>,
    rounds: usize,
    /// Overrides [`default_requests`] for every depth.
    requests: Option<u64>,
    clients: u32,
    keyspace: u64,
    throughput: bool,
    memory: bool,
    memory_keys: u64,
    /// Upper bound for one `redis-benchmark` run, so a server that stops
    /// answering cannot hang the benchmark forever.
    run_timeout: Duration,
    /// Servers on CPU 1, redis-benchmark on CPU 0 (`taskset`).
    pin: bool,
}

const USAGE: &str = "\
usage: cargo bench --bench loadbench -- [options]

Throughput (redis-benchmark, median of rounds) and memory per key of
tenantkv side by side with redis-server.

options:
  --tests LIST     comma-separated redis-benchmark tests (default SET,GET,INCR,MSET),
                   e.g. LPUSH,LPOP,RPOP,SADD,SPOP,HSET,ZADD,LRANGE_100,LRANGE_600
  --depths LIST    comma-separated pipeline depths (default 1,16)
  --rounds N       rounds per (test, depth); the median is reported (default 3)
  --requests N     requests per run (default 200000 at depth 1, 1000000 deeper)
  --clients N      parallel connections, redis-benchmark -c (default 50)
  --keyspace N     random key space, redis-benchmark -r (default 100000)
  --memory         only measure memory per key (skip throughput)
  --no-memory      skip the memory measurement
  --keys N         keys loaded for the memory measurement (default 1000000)
  --timeout SECS   limit for one redis-benchmark run (default 600)
  --pin            run the servers on CPU 1 and redis-benchmark on CPU 0 (taskset), so
                   they never share a core; the servers' CPU per request then decides
                   less and the client more (at -P 1 it is the bottleneck)
  -h, --help       show this help

environment:
  TENANTKV_BIN     tenantkv binary to run (default: the one cargo built,
                   else target/release/tenantkv, built if missing)
";

impl Options {
    /// Returns `None` when only the help was asked for.
    fn parse(args: impl Iterator<Item = String>) -> Result<Option<Options>> {
        let mut opts = Options {
            tests: DEFAULT_TESTS.iter().map(|t| t.to_string()).collect(),
            depths: DEFAULT_DEPTHS.to_vec(),
            rounds: DEFAULT_ROUNDS,
            requests: None,
            clients: DEFAULT_CLIENTS,
            keyspace: DEFAULT_KEYSPACE,
            throughput: true,
            memory: true,
            memory_keys: DEFAULT_MEMORY_KEYS,
            run_timeout: DEFAULT_RUN_TIMEOUT,
            pin: false,
        };
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            // Accept both `--opt value` and `--opt=value`.
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (arg.clone(), None),
            };
            let mut value = || -> Result<String> {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{flag} needs a value"))
            };
            match flag.as_str() {
                "-h" | "--help" => {
                    print!("{USAGE}");
                    return Ok(None);
                }
                // `cargo bench` passes `--bench` to every bench binary.
                "--bench" => {}
                "--tests" => {
                    opts.tests = split_list(&value()?)
                        .map(|t| t.to_ascii_uppercase())
                        .collect();
                }
                "--depths" => {
                    opts.depths = split_list(&value()?)
                        .map(|d| parse_number("--depths", d))
                        .collect::<Result<_>>()?;
                }
                "--rounds" => opts.rounds = parse_number("--rounds", &value()?)?,
                "--requests" => opts.requests = Some(parse_number("--requests", &value()?)?),
                "--clients" => opts.clients = parse_number("--clients", &value()?)?,
                "--keyspace" => opts.keyspace = parse_number("--keyspace", &value()?)?,
                "--keys" => opts.memory_keys = parse_number("--keys", &value()?)?,
                "--timeout" => {
                    opts.run_timeout = Duration::from_secs(parse_number("--timeout", &value()?)?)
                }
                "--memory" => {
                    opts.memory = true;
                    opts.throughput = false;
                }
                "--no-memory" => opts.memory = false,
                "--pin" => opts.pin = true,
                _ => return Err(format!("unknown argument {arg:?}\n\n{USAGE}")),
            }
        }
        if opts.tests.is_empty() || opts.depths.is_empty() {
            return Err("--tests and --depths need at least one entry".into());
        }
        if opts.rounds == 0 || opts.depths.contains(&0) || opts.memory_keys == 0 {
            return Err("--rounds, --depths and --keys must be positive".into());
        }
        // The loader's keys are `key:` plus 12 digits: 16 bytes each.
        if opts.memory_keys > 1_000_000_000_000 {
            return Err("--keys must be at most 10^12 (keys are key:%012d)".into());
        }
        Ok(Some(opts))
    }

    fn requests_for(&self, depth: u32) -> u64 {
        self.requests.unwrap_or_else(|| default_requests(depth))
    }
}

fn split_list(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn parse_number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T> {
    text.parse()
        .map_err(|_| format!("{flag}: {text:?} is not a valid number"))
}

// ---------------------------------------------------------------------------
// Locating (and if need be installing or building) the binaries
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// Throughput
// ---------------------------------------------------------------------------

/// One way of driving a server with `redis-benchmark`. Several targets may
/// share a server: a tenant-mode target would reuse tenantkv's port with
/// `extra_args: vec!["--user".into(), tenant, "-a".into(), secret]`.
/// The first target is the baseline the others are compared with.
struct Target {
    name: String,
    port: u16,
    /// The server process, whose CPU time each run is charged.
    pid: u32,
    extra_args: Vec<String>,
}

struct ThroughputRow {
    test: String,
    depth: u32,
    /// Median ops/s, one per target, in target order.
    median_ops: Vec<f64>,
    /// Ops/s of every round, one list per target, in round order.
    rounds_ops: Vec<Vec<f64>>,
    /// Median server CPU time (user + system) per request, µs, one per target.
    cpu_us: Vec<f64>,
}

struct ThroughputResults {
    targets: Vec<String>,
    rows: Vec<ThroughputRow>,
}

fn run_throughput(
    opts: &Options,
    servers: &[ServerSpec],
    tools: &RedisTools,
    paths: &Paths,
) -> Result<ThroughputResults> {
    let running = servers
        .iter()
        .map(|spec| RunningServer::start(spec, &paths.log_dir()))
        .collect::<Result<Vec<_>>>()?;
    if opts.pin {
        for server in &running {
            pin(server.child.id(), SERVER_CPU)?;
        }
    }
    let mut targets: Vec<Target> = running
        .iter()
        .map(|server| Target {
            name: server.name.to_string(),
            port: server.port,
            pid: server.child.id(),
            extra_args: Vec::new(),
        })
        .collect();
    // Tenant mode: the same tenantkv server, every connection authenticated as a tenant
    // (`redis-benchmark --user <tenant> -a <secret>`), so keys resolve in its keyspaces.
    if let Some(tk) = running.iter().find(|s| s.name == "tenantkv") {
        // Enterprise tier: its ops limit is far above the load.
        let secret = tenant_secret(tk.port, BENCH_TENANT, &["TIER", "enterprise"])?;
        targets.push(Target {
            name: "tenantkv-tenant".to_string(),
            port: tk.port,
            pid: tk.child.id(),
            extra_args: vec!["--user".into(), BENCH_TENANT.into(), "-a".into(), secret],
        });
        // The same tenant workload with every quota off (0 = unlimited): what enforcing
        // memory, key, ops and connection limits on every command costs.
        let unlimited = ["MEMORY", "0", "KEYS", "0", "OPS", "0", "CONNECTIONS", "0"];
        let secret = tenant_secret(tk.port, UNLIMITED_TENANT, &unlimited)?;
        targets.push(Target {
            name: "tenantkv-noquota".to_string(),
            port: tk.port,
            pid: tk.child.id(),
            extra_args: vec![
                "--user".into(),
                UNLIMITED_TENANT.into(),
                "-a".into(),
                secret,
            ],
        });
    }

    let mut rows = Vec::new();
    for &depth in &opts.depths {
        for test in &opts.tests {
            let mut samples = vec![Vec::with_capacity(opts.rounds); targets.len()];
            let mut cpu = vec![Vec::with_capacity(opts.rounds); targets.len()];
            for round in 0..opts.rounds {
                // Rotate which target goes first each round, so that neither
                // server always runs on a machine warmed (or heated) by the
                // other.
                for k in 0..targets.len() {
                    let index = (k + round) % targets.len();
                    let target = &targets[index];
                    let before = cpu_seconds(target.pid);
                    let ops = run_redis_benchmark(tools, target, test, depth, opts)?;
                    let used = cpu_seconds(target.pid) - before;
                    let us = used * 1e6 / opts.requests_for(depth) as f64;
                    println!(
                        "round {}/{}  {test:<12} -P {depth:<3} {:<20} {:>12.0} ops/s {:>7.2} µs CPU/req",
                        round + 1,
                        opts.rounds,
                        target.name,
                        ops,
                        us
                    );
                    samples[index].push(ops);
                    cpu[index].push(us);
                }
            }
            rows.push(ThroughputRow {
                test: test.clone(),
                depth,
                median_ops: samples.iter().map(|s| median(&mut s.clone())).collect(),
                rounds_ops: samples,
                cpu_us: cpu.iter_mut().map(|s| median(s)).collect(),
            });
        }
    }
    Ok(ThroughputResults {
        targets: targets.into_iter().map(|t| t.name).collect(),
        rows,
    })
}

/// With `--pin`: where the servers run, and where redis-benchmark does.
const SERVER_CPU: &str = "1";
const CLIENT_CPU: &str = "0";

/// Moves every thread of process `pid` onto `cpu`.
fn pin(pid: u32, cpu: &str) -> Result<()> {
    let out = Command::new("taskset")
        .args(["-a", "-p", "-c", cpu, &pid.to_string()])
        .output()
        .map_err(|e| format!("--pin needs taskset (util-linux): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "taskset could not pin pid {pid} to CPU {cpu}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

fn run_redis_benchmark(
    tools: &RedisTools,
    target: &Target,
    test: &str,
    depth: u32,
    opts: &Options,
) -> Result<f64> {
    let mut cmd = if opts.pin {
        let mut c = Command::new("taskset");
        c.args(["-c", CLIENT_CPU]).arg(&tools.benchmark);
        c
    } else {
        Command::new(&tools.benchmark)
    };
    cmd.args(["-h", HOST, "-p", &target.port.to_string()])
        .args(["-c", &opts.clients.to_string()])
        .args(["-n", &opts.requests_for(depth).to_string()])
        .args(["-r", &opts.keyspace.to_string()])
        .args(["-P", &depth.to_string()])
        .args(["-t", test, "--csv", "-q"])
        .args(&target.extra_args);
    let output = run_with_timeout(&mut cmd, opts.run_timeout)?;
    if !output.status.success() {
        return Err(format!(
            "{} failed ({}):\n{}{}",
            describe(&cmd),
            output.status,
            output.stdout,
            output.stderr
        ));
    }
    parse_csv_rps(&output.stdout, test).ok_or_else(|| {
        format!(
            "no result for {test} in the output of {}:\n{}{}",
            describe(&cmd),
            output.stdout,
            output.stderr
        )
    })
}

/// CPU time (user + system) a process has used so far, in seconds, from `/proc/<pid>/stat`
/// (fields 14 and 15, in clock ticks of 1/100 s, Linux's `USER_HZ` on every common
/// architecture). NaN when unreadable, so a missing figure never passes for a small one.
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return f64::NAN;
    };
    // The command name (field 2) may contain spaces; the fields after it never do.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return f64::NAN;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    // `rest` starts at field 3 (state): utime is field 14, stime field 15.
    match (ticks(11), ticks(12)) {
        (Some(u), Some(s)) => (u + s) as f64 / 100.0,
        _ => f64::NAN,
    }
}

impl ThroughputRow {
    /// The median over rounds of target `a`'s ops/s divided by target `b`'s in the same
    /// round. The machine's speed drifts between rounds; a ratio taken within one round
    /// cancels what both runs of that round shared.
    fn paired(&self, a: usize, b: usize) -> f64 {
        let mut ratios: Vec<f64> = self.rounds_ops[a]
            .iter()
            .zip(&self.rounds_ops[b])
            .map(|(x, y)| x / y)
            .collect();
        median(&mut ratios)
    }
}

impl ThroughputResults {
    fn header(&self) -> Vec<String> {
        let mut header = vec!["test".to_string(), "depth".to_string()];
        header.extend(self.targets.iter().map(|t| format!("{t} ops/s")));
        header.extend(self.compared().map(|t| format!("{t}/{}", self.targets[0])));
        header
    }

    /// The targets compared against the baseline (the first one).
    fn compared(&self) -> impl Iterator<Item = &String> {
        self.targets.iter().skip(1)
    }

    fn cells(&self, row: &ThroughputRow) -> Vec<String> {
        let mut cells = vec![row.test.clone(), row.depth.to_string()];
        cells.extend(row.median_ops.iter().map(|ops| format!("{ops:.0}")));
        cells.extend(
            row.median_ops
                .iter()
                .skip(1)
                .map(|ops| format!("{:.2}", ops / row.median_ops[0])),
        );
        cells
    }

    fn text_table(&self) -> String {
        let rows: Vec<Vec<String>> = self.rows.iter().map(|r| self.cells(r)).collect();
        let paired: Vec<Vec<String>> = self.rows.iter().map(|r| self.paired_cells(r)).collect();
        format!(
            "{}\n{}",
            text_table(&self.header(), &rows),
            text_table(&self.paired_header(), &paired)
        )
    }

    fn markdown(&self) -> String {
        let rows: Vec<Vec<String>> = self.rows.iter().map(|r| self.cells(r)).collect();
        let paired: Vec<Vec<String>> = self.rows.iter().map(|r| self.paired_cells(r)).collect();
        format!(
            "## Throughput (median ops/s)\n\n{}\n## Paired ratios (median of per-round ratios) and server CPU per request\n\n{}",
            markdown_table(&self.header(), &rows),
            markdown_table(&self.paired_header(), &paired)
        )
    }

    fn paired_header(&self) -> Vec<String> {
        let mut header = vec!["test".to_string(), "depth".to_string()];
        header.extend(
            self.compared()
                .map(|t| format!("{t}/{} paired", self.targets[0])),
        );
        header.extend(self.targets.iter().map(|t| format!("{t} µs CPU/req")));
        header
    }

    fn paired_cells(&self, row: &ThroughputRow) -> Vec<String> {
        let mut cells = vec![row.test.clone(), row.depth.to_string()];
        cells.extend((1..self.targets.len()).map(|t| format!("{:.2}", row.paired(t, 0))));
        cells.extend(row.cpu_us.iter().map(|us| format!("{us:.2}")));
        cells
    }

    /// One line per (compared target, test): is it at least as fast as the
    /// baseline at every depth? Plus tenant mode against global mode (target 0.95).
    fn verdicts(&self) -> String {
        let mut out = self.tenant_verdicts();
        let tests = unique_in_order(self.rows.iter().map(|r| r.test.as_str()));
        for (i, target) in self.compared().enumerate() {
            let _ = writeln!(out, "\n{target}/{} >= 1.0:", self.targets[0]);
            for test in &tests {
                let ratios: Vec<(u32, f64, f64)> = self
                    .rows
                    .iter()
                    .filter(|r| r.test == *test)
                    .map(|r| {
                        (
                            r.depth,
                            r.median_ops[i + 1] / r.median_ops[0],
                            r.paired(i + 1, 0),
                        )
                    })
                    .collect();
                let all_ok = ratios.iter().all(|&(_, ratio, _)| ratio >= 1.0);
                let detail: Vec<String> = ratios
                    .iter()
                    .map(|(depth, ratio, paired)| {
                        format!("-P {depth}: {ratio:.2}, paired {paired:.2}")
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "  {test:<12} {}  ({})",
                    if all_ok { "yes" } else { "NO " },
                    detail.join(", ")
                );
            }
        }
        out
    }
}

impl ThroughputResults {
    fn tenant_verdicts(&self) -> String {
        let mut out = String::new();
        let (Some(global), Some(tenant)) = (
            self.targets.iter().position(|t| t == "tenantkv"),
            self.targets.iter().position(|t| t == "tenantkv-tenant"),
        ) else {
            return out;
        };
        let _ = writeln!(out, "\ntenant mode / global mode >= 0.95:");
        for r in &self.rows {
            let ratio = r.median_ops[tenant] / r.median_ops[global];
            let _ = writeln!(
                out,
                "  {:<12} -P {:<3} {}  ({ratio:.2}, paired {:.2}, CPU per request {:.2}x)",
                r.test,
                r.depth,
                if ratio >= 0.95 { "yes" } else { "NO " },
                r.paired(tenant, global),
                r.cpu_us[tenant] / r.cpu_us[global]
            );
        }
        if let Some(off) = self.targets.iter().position(|t| t == "tenantkv-noquota") {
            let _ = writeln!(out, "\nquotas enforced / quotas off >= 0.95:");
            for r in &self.rows {
                let ratio = r.median_ops[tenant] / r.median_ops[off];
                let _ = writeln!(
                    out,
                    "  {:<12} -P {:<3} {}  ({ratio:.2}, paired {:.2}, CPU per request {:.2}x)",
                    r.test,
                    r.depth,
                    if ratio >= 0.95 { "yes" } else { "NO " },
                    r.paired(tenant, off),
                    r.cpu_us[tenant] / r.cpu_us[off]
                );
            }
        }
        out
    }
}

fn unique_in_order<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut unique = Vec::new();
    for item in items {
        if !unique.contains(&item) {
            unique.push(item);
        }
    }
    unique
}

// ---------------------------------------------------------------------------
// Memory per key
// ---------------------------------------------------------------------------

struct MemoryResult {
    name: &'static str,
    rss_before: u64,
    rss_after: u64,
    keys: u64,
}

impl MemoryResult {
    fn bytes_per_key(&self) -> f64 {
        self.rss_after.saturating_sub(self.rss_before) as f64 / self.keys as f64
    }
}

/// Measures each server on its own, freshly started, so its RSS holds
/// nothing but the loaded keys and neither competes with the other for CPU.
fn run_memory(opts: &Options, servers: &[ServerSpec], paths: &Paths) -> Result<Vec<MemoryResult>> {
    servers
        .iter()
        .map(|spec| measure_memory(spec, opts.memory_keys, paths))
        .collect()
}

fn measure_memory(spec: &ServerSpec, keys: u64, paths: &Paths) -> Result<MemoryResult> {
    let server = RunningServer::start(spec, &paths.log_dir())?;
    // Let start-up work (thread pools, lazy allocations) finish first, so
    // it is not counted as the cost of the keys.
    thread::sleep(Duration::from_millis(500));
    let rss_before = read_vm_rss(server.pid())?;
    let started = Instant::now();
    load_keys(server.port, keys)?;
    let elapsed = started.elapsed();
    let dbsize = query_dbsize(server.port)?;
    if dbsize != keys {
        return Err(format!(
            "{}: DBSIZE is {dbsize} after loading {keys} keys",
            spec.name
        ));
    }
    let rss_after = read_vm_rss(server.pid())?;
    let result = MemoryResult {
        name: spec.name,
        rss_before,
        rss_after,
        keys,
    };
    println!(
        "{}: loaded {keys} keys in {:.2}s, RSS {} -> {} KiB, {:.1} bytes/key",
        spec.name,
        elapsed.as_secs_f64(),
        rss_before / 1024,
        rss_after / 1024,
        result.bytes_per_key()
    );
    Ok(result)
}

/// Loads `key:%012d` -> `xxx` for 0..keys over one connection, writing
/// batches of SET commands and then reading their replies. Pipelining keeps
/// the load fast without needing redis-benchmark to produce exact key names.
fn load_keys(port: u16, keys: u64) -> Result<()> {
    let stream = connect(port, Duration::from_secs(30)).map_err(|e| format!("connect: {e}"))?;
    let mut writer = stream
        .try_clone()
        .map_err(|e| format!("clone socket: {e}"))?;
    let mut replies = BufReader::with_capacity(64 * 1024, stream);
    let mut batch = Vec::with_capacity(LOADER_BATCH as usize * 48);
    let mut next = 0;
    while next < keys {
        let end = keys.min(next + LOADER_BATCH);
        batch.clear();
        for i in next..end {
            append_set_command(&mut batch, i);
        }
        writer
            .write_all(&batch)
            .map_err(|e| format!("writing SET batch at key {next}: {e}"))?;
        expect_ok_replies(&mut replies, end - next)?;
        next = end;
    }
    Ok(())
}

/// Appends `SET key:%012d xxx` in RESP. The key is always 16 bytes.
fn append_set_command(buf: &mut Vec<u8>, i: u64) {
    buf.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$16\r\n");
    // Writing into a Vec cannot fail.
    let _ = write!(buf, "key:{i:012}");
    buf.extend_from_slice(b"\r\n$3\r\nxxx\r\n");
}

/// Reads `count` replies, each of which must be `+OK`. Replies are read
/// line by line so that an error reply of any length is reported instead of
/// stalling the loader.
fn expect_ok_replies(replies: &mut impl BufRead, count: u64) -> Result<()> {
    let mut line = Vec::with_capacity(64);
    for _ in 0..count {
        line.clear();
        replies
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("reading SET reply: {e}"))?;
        if line != b"+OK\r\n" {
            return Err(format!(
                "unexpected SET reply {:?}",
                String::from_utf8_lossy(&line)
            ));
        }
    }
    Ok(())
}

fn query_dbsize(port: u16) -> Result<u64> {
    let stream = connect(port, Duration::from_secs(10)).map_err(|e| format!("connect: {e}"))?;
    let mut writer = stream
        .try_clone()
        .map_err(|e| format!("clone socket: {e}"))?;
    writer
        .write_all(b"*1\r\n$6\r\nDBSIZE\r\n")
        .map_err(|e| format!("writing DBSIZE: {e}"))?;
    let mut line = String::new();
    BufReader::new(stream)
        .read_line(&mut line)
        .map_err(|e| format!("reading DBSIZE reply: {e}"))?;
    line.strip_prefix(':')
        .and_then(|n| n.trim_end().parse().ok())
        .ok_or_else(|| format!("unexpected DBSIZE reply {line:?}"))
}

fn memory_rows(results: &[MemoryResult]) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "server",
        "RSS before (KiB)",
        "RSS after (KiB)",
        "bytes/key",
        "ratio",
    ]
    .map(String::from)
    .to_vec();
    let baseline = results.first().map(MemoryResult::bytes_per_key);
    let rows = results
        .iter()
        .map(|r| {
            vec![
                r.name.to_string(),
                (r.rss_before / 1024).to_string(),
                (r.rss_after / 1024).to_string(),
                format!("{:.1}", r.bytes_per_key()),
                baseline.map_or_else(String::new, |b| format!("{:.2}", r.bytes_per_key() / b)),
            ]
        })
        .collect();
    (header, rows)
}

fn memory_text_table(results: &[MemoryResult]) -> String {
    let (header, rows) = memory_rows(results);
    text_table(&header, &rows)
}

fn memory_markdown(results: &[MemoryResult], keys: u64) -> String {
    let (header, rows) = memory_rows(results);
    let baseline = results.first().map_or("", |r| r.name);
    format!(
        "## Memory per key\n\n{keys} keys `key:%012d` (16 bytes) with value `xxx`; \
         bytes/key = RSS growth / keys; ratio = bytes/key relative to {baseline}.\n\n{}",
        markdown_table(&header, &rows)
    )
}

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

/// The Markdown results file, rewritten after each phase so that a failure
/// in a later phase does not lose the earlier results.
struct Report {
    path: PathBuf,
    text: String,
}

impl Report {
    fn new(paths: &Paths, opts: &Options, tools: &RedisTools) -> Report {
        let cores = thread::available_parallelism().map_or(0, |n| n.get());
        let load = load_average().map_or_else(|| "unknown".into(), |l| format!("{l:.2}"));
        let depths: Vec<String> = opts.depths.iter().map(u32::to_string).collect();
        let requests: Vec<String> = opts
            .depths
            .iter()
            .map(|&d| format!("{} at -P {d}", opts.requests_for(d)))
            .collect();
        let text = format!(
            "# loadbench results\n\n\
             Generated by `cargo bench --bench loadbench`. Baseline: {}. \
             Machine: {cores} cores, 1-minute load average {load} at the start.\n\n\
             redis-benchmark: `-c {} -r {} --csv -q`, depths {}, {}; \
             median of {} round(s), servers run in alternation{}.\n\n",
            tools.server_version(),
            opts.clients,
            opts.keyspace,
            depths.join(", "),
            requests.join(", "),
            opts.rounds,
            if opts.pin {
                "; servers pinned to CPU 1, redis-benchmark to CPU 0"
            } else {
                ""
            },
        );
        Report {
            path: paths.target_dir.join("loadbench-results.md"),
            text,
        }
    }

    fn add_section(&mut self, section: &str) {
        self.text += section;
        self.text += "\n";
    }

    fn write(&self) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        fs::write(&self.path, &self.text)
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }
}
