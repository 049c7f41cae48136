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
//! The program uses only `std`, so it can also be compiled on its own with
//! `rustc --edition 2021 -O benches/loadbench.rs`.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Errors are reported to a person and end the run, so a message is enough.
type Result<T> = std::result::Result<T, String>;

const HOST: &str = "127.0.0.1";
const DEFAULT_TESTS: &[&str] = &["SET", "GET", "INCR", "MSET"];
const DEFAULT_DEPTHS: &[u32] = &[1, 16];
const DEFAULT_ROUNDS: usize = 3;
const DEFAULT_CLIENTS: u32 = 50;
const DEFAULT_KEYSPACE: u64 = 100_000;
const DEFAULT_MEMORY_KEYS: u64 = 1_000_000;
/// Commands per write in the memory loader: large enough to amortise the
/// round trip, small enough that the replies fit in the socket buffers.
const LOADER_BATCH: u64 = 1_000;
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
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
        },
        ServerSpec {
            name: "tenantkv",
            kind: ServerKind::Tenantkv,
            program: tenantkv_bin,
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

/// Where the project and its build output live. `cargo bench` runs benches
/// from the package root, but the paths are resolved explicitly so the
/// program also works when started from elsewhere.
struct Paths {
    manifest_dir: PathBuf,
    target_dir: PathBuf,
}

impl Paths {
    fn discover() -> Paths {
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .or_else(|| option_env!("CARGO_MANIFEST_DIR").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("."));
        let target_dir = match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
            Some(dir) if dir.is_absolute() => dir,
            Some(dir) => manifest_dir.join(dir),
            None => manifest_dir.join("target"),
        };
        Paths {
            manifest_dir,
            target_dir,
        }
    }

    fn log_dir(&self) -> PathBuf {
        self.target_dir.join("loadbench-logs")
    }
}

struct RedisTools {
    server: PathBuf,
    benchmark: PathBuf,
}

impl RedisTools {
    /// Finds `redis-server` and `redis-benchmark` on `PATH`, installing the
    /// Debian packages first if either is missing (the benchmark machines
    /// run as root and reach Debian's package archive).
    fn locate_or_install() -> Result<RedisTools> {
        if let Some(tools) = Self::locate() {
            return Ok(tools);
        }
        println!("redis-server or redis-benchmark not found on PATH; installing them:");
        run_visible(Command::new("apt-get").arg("update"))?;
        run_visible(Command::new("apt-get").args([
            "install",
            "-y",
            "redis-server",
            "redis-tools",
        ]))?;
        Self::locate().ok_or_else(|| {
            "redis-server/redis-benchmark still not on PATH after apt-get install".to_string()
        })
    }

    fn locate() -> Option<RedisTools> {
        Some(RedisTools {
            server: find_in_path("redis-server")?,
            benchmark: find_in_path("redis-benchmark")?,
        })
    }

    fn server_version(&self) -> String {
        Command::new(&self.server)
            .arg("--version")
            .output()
            .ok()
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
            .unwrap_or_else(|| "unknown".into())
    }
}

/// The 1-minute load average, from `/proc/loadavg`.
fn load_average() -> Option<f64> {
    fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// On a 2-core machine another build running alongside cuts throughput by
/// several times, far more than the differences being measured, so say so.
fn warn_if_busy() {
    if let Some(load) = load_average().filter(|&load| load > 0.5) {
        println!(
            "warning: load average is {load:.2}; other work on this machine will \
             make the throughput numbers noisy"
        );
    }
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs a setup command with its output shown, so the person running the
/// benchmark sees what is being installed or built.
fn run_visible(cmd: &mut Command) -> Result<()> {
    println!("+ {}", describe(cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {}: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed: {status}", describe(cmd)))
    }
}

fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|s| s.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The tenantkv binary, in order of preference: `$TENANTKV_BIN`; the binary
/// cargo builds alongside this bench (always up to date under `cargo bench`);
/// `target/release/tenantkv`, built with `cargo build --release` if absent.
fn locate_or_build_tenantkv(paths: &Paths) -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os("TENANTKV_BIN") {
        let bin = PathBuf::from(bin);
        return if is_executable(&bin) {
            Ok(bin)
        } else {
            Err(format!(
                "TENANTKV_BIN={} is not an executable",
                bin.display()
            ))
        };
    }
    if let Some(bin) = option_env!("CARGO_BIN_EXE_tenantkv").map(PathBuf::from) {
        if is_executable(&bin) {
            return Ok(bin);
        }
    }
    let bin = paths.target_dir.join("release").join("tenantkv");
    if !is_executable(&bin) {
        println!("{} not found; building it:", bin.display());
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        run_visible(
            Command::new(cargo)
                .args(["build", "--release", "--bin", "tenantkv"])
                .current_dir(&paths.manifest_dir),
        )?;
        if !is_executable(&bin) {
            return Err(format!("cargo build did not produce {}", bin.display()));
        }
    }
    Ok(bin)
}

// ---------------------------------------------------------------------------
// Server processes
// ---------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum ServerKind {
    Redis,
    Tenantkv,
}

/// How to start one server.
struct ServerSpec {
    name: &'static str,
    kind: ServerKind,
    program: PathBuf,
}

impl ServerSpec {
    fn args(&self, port: u16) -> Vec<String> {
        let port = port.to_string();
        match self.kind {
            // No persistence: snapshots or an AOF would add disk I/O that
            // tenantkv does not do, and skew both throughput and memory.
            ServerKind::Redis => vec![
                "--port".into(),
                port,
                "--bind".into(),
                HOST.into(),
                "--save".into(),
                String::new(),
                "--appendonly".into(),
                "no".into(),
            ],
            ServerKind::Tenantkv => vec!["--bind".into(), HOST.into(), "--port".into(), port],
        }
    }
}

/// Tenant used by the tenant-mode target.
const BENCH_TENANT: &str = "loadbench";

/// Sends one command as RESP and returns the bulk strings of the (flat or nested) reply.
fn command(port: u16, args: &[&str]) -> Result<Vec<String>> {
    let mut stream = connect(port, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    let mut req = format!("*{}\r\n", args.len());
    for a in args {
        req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    stream
        .write_all(req.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut reader = std::io::BufReader::new(stream);
    let mut out = Vec::new();
    let mut pending = 1usize;
    while pending > 0 {
        pending -= 1;
        let mut line = String::new();
        reader.read_line(&mut line).map_err(|e| e.to_string())?;
        let line = line.trim_end();
        match line.as_bytes().first() {
            Some(b'-') => return Err(format!("{args:?}: {line}")),
            Some(b'*') | Some(b'%') => {
                let n: usize = line[1..].parse().map_err(|_| line.to_string())?;
                pending += if line.starts_with('%') { 2 * n } else { n };
            }
            Some(b'$') => {
                let n: usize = line[1..].parse().map_err(|_| line.to_string())?;
                let mut buf = vec![0u8; n + 2];
                reader.read_exact(&mut buf).map_err(|e| e.to_string())?;
                out.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
            _ => out.push(line[1..].to_string()),
        }
    }
    Ok(out)
}

/// Creates the benchmark tenant (enterprise tier, so its ops limit is far above the load)
/// and a readwrite token; returns the token's secret.
fn tenant_secret(port: u16) -> Result<String> {
    // A registry left by an earlier run may already hold the tenant.
    let _ = command(port, &["TENANT.DELETE", BENCH_TENANT, "FORCE"]);
    command(port, &["TENANT.CREATE", BENCH_TENANT, "TIER", "enterprise"])?;
    let reply = command(
        port,
        &["TENANT.TOKEN.CREATE", BENCH_TENANT, "ROLE", "readwrite"],
    )?;
    reply
        .iter()
        .position(|f| f == "secret")
        .and_then(|i| reply.get(i + 1).cloned())
        .ok_or_else(|| format!("no secret in TENANT.TOKEN.CREATE reply {reply:?}"))
}

/// A started server. Dropping it kills the process, so no server outlives
/// the benchmark, also when it fails or panics. (On Ctrl-C the terminal
/// signals the whole foreground process group, children included.)
struct RunningServer {
    name: &'static str,
    port: u16,
    child: Child,
    log: PathBuf,
}

impl RunningServer {
    fn start(spec: &ServerSpec, log_dir: &Path) -> Result<RunningServer> {
        fs::create_dir_all(log_dir)
            .map_err(|e| format!("cannot create {}: {e}", log_dir.display()))?;
        let log = log_dir.join(format!("{}.log", spec.name));
        let log_file =
            File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let log_err = log_file
            .try_clone()
            .map_err(|e| format!("cannot reopen {}: {e}", log.display()))?;
        let port = free_port()?;
        let mut cmd = Command::new(&spec.program);
        cmd.args(spec.args(port))
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", describe(&cmd)))?;
        // From here on the guard owns the child: an early return kills it.
        let mut server = RunningServer {
            name: spec.name,
            port,
            child,
            log,
        };
        server.wait_until_ready(STARTUP_TIMEOUT)?;
        println!(
            "started {} (pid {}) on {HOST}:{port}",
            server.name,
            server.pid()
        );
        Ok(server)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Polls with PING until the server answers `+PONG`, failing early if
    /// the process has already exited (bad flags, port taken, ...).
    fn wait_until_ready(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited during startup ({status}); log {}:\n{}",
                    self.name,
                    self.log.display(),
                    log_tail(&self.log)
                ));
            }
            if ping(self.port).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{} did not answer PING on port {} within {timeout:?}; log {}:\n{}",
                    self.name,
                    self.port,
                    self.log.display(),
                    log_tail(&self.log)
                ));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        // Nothing is persisted, so an immediate kill loses nothing.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn log_tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Asks the OS for a free port by binding port 0. The listener is dropped
/// before the server binds, which leaves a small race that is harmless on a
/// benchmark machine.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| format!("cannot bind a free port: {e}"))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|e| format!("cannot read the free port: {e}"))
}

fn connect(port: u16, timeout: Duration) -> std::io::Result<TcpStream> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

fn ping(port: u16) -> Result<()> {
    let mut stream = connect(port, Duration::from_millis(500)).map_err(|e| e.to_string())?;
    stream
        .write_all(b"*1\r\n$4\r\nPING\r\n")
        .map_err(|e| e.to_string())?;
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply).map_err(|e| e.to_string())?;
    if &reply == b"+PONG\r\n" {
        Ok(())
    } else {
        Err(format!(
            "unexpected PING reply {:?}",
            String::from_utf8_lossy(&reply)
        ))
    }
}

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
    extra_args: Vec<String>,
}

struct ThroughputRow {
    test: String,
    depth: u32,
    /// Median ops/s, one per target, in target order.
    median_ops: Vec<f64>,
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
    let mut targets: Vec<Target> = running
        .iter()
        .map(|server| Target {
            name: server.name.to_string(),
            port: server.port,
            extra_args: Vec::new(),
        })
        .collect();
    // Tenant mode: the same tenantkv server, every connection authenticated as a tenant
    // (`redis-benchmark --user <tenant> -a <secret>`), so keys resolve in its keyspaces.
    if let Some(tk) = running.iter().find(|s| s.name == "tenantkv") {
        let secret = tenant_secret(tk.port)?;
        targets.push(Target {
            name: "tenantkv-tenant".to_string(),
            port: tk.port,
            extra_args: vec!["--user".into(), BENCH_TENANT.into(), "-a".into(), secret],
        });
    }

    let mut rows = Vec::new();
    for &depth in &opts.depths {
        for test in &opts.tests {
            let mut samples = vec![Vec::with_capacity(opts.rounds); targets.len()];
            for round in 0..opts.rounds {
                // Rotate which target goes first each round, so that neither
                // server always runs on a machine warmed (or heated) by the
                // other.
                for k in 0..targets.len() {
                    let index = (k + round) % targets.len();
                    let target = &targets[index];
                    let ops = run_redis_benchmark(tools, target, test, depth, opts)?;
                    println!(
                        "round {}/{}  {test:<12} -P {depth:<3} {:<20} {:>12.0} ops/s",
                        round + 1,
                        opts.rounds,
                        target.name,
                        ops
                    );
                    samples[index].push(ops);
                }
            }
            rows.push(ThroughputRow {
                test: test.clone(),
                depth,
                median_ops: samples.iter_mut().map(|s| median(s)).collect(),
            });
        }
    }
    Ok(ThroughputResults {
        targets: targets.into_iter().map(|t| t.name).collect(),
        rows,
    })
}

fn run_redis_benchmark(
    tools: &RedisTools,
    target: &Target,
    test: &str,
    depth: u32,
    opts: &Options,
) -> Result<f64> {
    let mut cmd = Command::new(&tools.benchmark);
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

struct CapturedOutput {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Like `Command::output`, but kills the command after `timeout`.
fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Result<CapturedOutput> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", describe(cmd)))?;
    // Drain both pipes on threads so the child never blocks on a full pipe
    // while we poll for its exit.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{} timed out after {timeout:?}", describe(cmd)));
            }
            Err(e) => return Err(format!("waiting for {}: {e}", describe(cmd))),
        }
    };
    Ok(CapturedOutput {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    })
}

/// Extracts the requests per second for `test` from `redis-benchmark --csv`.
///
/// redis-benchmark 7 prints a header (`"test","rps","avg_latency_ms",...`)
/// and then rows like `"SET","123456.79",...`; older versions print only
/// `"SET","123456.79"`. Lines whose second field is not a number (the
/// header) are skipped. Some tests carry a description after their name,
/// e.g. `MSET (10 keys)` or `LRANGE_100 (first 100 elements)`, so the first
/// word of the name is compared. This also keeps the `LPUSH (needed to
/// benchmark LRANGE)` warm-up line from matching an LRANGE test.
fn parse_csv_rps(output: &str, test: &str) -> Option<f64> {
    output.lines().find_map(|line| {
        let fields = split_csv_line(line);
        let name = fields.first()?;
        let rps: f64 = fields.get(1)?.parse().ok()?;
        let first_word = name.split_whitespace().next()?;
        first_word.eq_ignore_ascii_case(test).then_some(rps)
    })
}

/// Splits one CSV line, removing the double quotes around fields.
fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field).trim().to_string()),
            _ => field.push(c),
        }
    }
    fields.push(field.trim().to_string());
    fields
}

/// Median of the samples; the mean of the middle two for an even count.
/// Medians resist the odd round disturbed by other work on a small machine.
fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    match samples.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => samples[n / 2],
        n => (samples[n / 2 - 1] + samples[n / 2]) / 2.0,
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
        text_table(&self.header(), &rows)
    }

    fn markdown(&self) -> String {
        let rows: Vec<Vec<String>> = self.rows.iter().map(|r| self.cells(r)).collect();
        format!(
            "## Throughput (median ops/s)\n\n{}",
            markdown_table(&self.header(), &rows)
        )
    }

    /// One line per (compared target, test): is it at least as fast as the
    /// baseline at every depth? Plus tenant mode against global mode (target 0.95).
    fn verdicts(&self) -> String {
        let mut out = self.tenant_verdicts();
        let tests = unique_in_order(self.rows.iter().map(|r| r.test.as_str()));
        for (i, target) in self.compared().enumerate() {
            let _ = writeln!(out, "\n{target}/{} >= 1.0:", self.targets[0]);
            for test in &tests {
                let ratios: Vec<(u32, f64)> = self
                    .rows
                    .iter()
                    .filter(|r| r.test == *test)
                    .map(|r| (r.depth, r.median_ops[i + 1] / r.median_ops[0]))
                    .collect();
                let all_ok = ratios.iter().all(|&(_, ratio)| ratio >= 1.0);
                let detail: Vec<String> = ratios
                    .iter()
                    .map(|(depth, ratio)| format!("-P {depth}: {ratio:.2}"))
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
                "  {:<12} -P {:<3} {}  ({ratio:.2})",
                r.test,
                r.depth,
                if ratio >= 0.95 { "yes" } else { "NO " }
            );
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

/// Resident set size of a process in bytes, from `/proc/<pid>/status`.
fn read_vm_rss(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .ok_or_else(|| format!("no VmRSS line in {path}"))
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

/// A plain-text table: first column left-aligned, the numbers right-aligned.
fn text_table(header: &[String], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].len())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, &w))| {
                if c == 0 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        parts.join("  ") + "\n"
    };
    let mut out = line(header);
    out += &(widths
        .iter()
        .map(|&w| "-".repeat(w))
        .collect::<Vec<_>>()
        .join("  ")
        + "\n");
    for row in rows {
        out += &line(row);
    }
    out
}

fn markdown_table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n", header.join(" | "));
    let align: Vec<&str> = (0..header.len())
        .map(|c| if c == 0 { "---" } else { "---:" })
        .collect();
    out += &format!("| {} |\n", align.join(" | "));
    for row in rows {
        out += &format!("| {} |\n", row.join(" | "));
    }
    out
}

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
             median of {} round(s), servers run in alternation.\n\n",
            tools.server_version(),
            opts.clients,
            opts.keyspace,
            depths.join(", "),
            requests.join(", "),
            opts.rounds,
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
