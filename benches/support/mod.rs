//! What the side-by-side benchmarks share: finding or installing `redis-server` and
//! `redis-benchmark`, finding or building tenantkv, starting and stopping servers on free
//! ports, a minimal RESP client for setup commands, running `redis-benchmark` with a timeout
//! and reading its CSV, `/proc` memory readings, medians and tables.
//!
//! Only `std`, like the benches that include it (`#[path = "support/mod.rs"] mod support;`).
//! Each bench uses a different subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::fs::{self, File};
use std::io::{BufRead, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Errors are reported to a person and end the run, so a message is enough.
pub type Result<T> = std::result::Result<T, String>;

pub const HOST: &str = "127.0.0.1";
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// Where the project and its build output live. `cargo bench` runs benches
/// from the package root, but the paths are resolved explicitly so the
/// program also works when started from elsewhere.
pub struct Paths {
    pub manifest_dir: PathBuf,
    pub target_dir: PathBuf,
}

impl Paths {
    pub fn discover() -> Paths {
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

    pub fn log_dir(&self) -> PathBuf {
        self.target_dir.join("bench-logs")
    }
}

pub struct RedisTools {
    pub server: PathBuf,
    pub benchmark: PathBuf,
}

impl RedisTools {
    /// Finds `redis-server` and `redis-benchmark` on `PATH`, installing the
    /// Debian packages first if either is missing (the benchmark machines
    /// run as root and reach Debian's package archive).
    pub fn locate_or_install() -> Result<RedisTools> {
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

    pub fn locate() -> Option<RedisTools> {
        Some(RedisTools {
            server: find_in_path("redis-server")?,
            benchmark: find_in_path("redis-benchmark")?,
        })
    }

    pub fn server_version(&self) -> String {
        Command::new(&self.server)
            .arg("--version")
            .output()
            .ok()
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
            .unwrap_or_else(|| "unknown".into())
    }
}

/// The 1-minute load average, from `/proc/loadavg`.
pub fn load_average() -> Option<f64> {
    fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// On a 2-core machine another build running alongside cuts throughput by
/// several times, far more than the differences being measured, so say so.
pub fn warn_if_busy() {
    if let Some(load) = load_average().filter(|&load| load > 0.5) {
        println!(
            "warning: load average is {load:.2}; other work on this machine will \
             make the throughput numbers noisy"
        );
    }
}

pub fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

pub fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs a setup command with its output shown, so the person running the
/// benchmark sees what is being installed or built.
pub fn run_visible(cmd: &mut Command) -> Result<()> {
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

pub fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|s| s.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The tenantkv binary, in order of preference: `$TENANTKV_BIN`; the binary
/// cargo builds alongside this bench (always up to date under `cargo bench`);
/// `target/release/tenantkv`, built with `cargo build --release` if absent.
pub fn locate_or_build_tenantkv(paths: &Paths) -> Result<PathBuf> {
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
pub enum ServerKind {
    Redis,
    Tenantkv,
}

/// How to start one server.
pub struct ServerSpec {
    pub name: &'static str,
    pub kind: ServerKind,
    pub program: PathBuf,
    /// Further command-line arguments (a `--config` file, Redis directives).
    pub extra: Vec<String>,
}

impl ServerSpec {
    pub fn args(&self, port: u16) -> Vec<String> {
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
        .into_iter()
        .chain(self.extra.iter().cloned())
        .collect()
    }
}

/// Sends one command as RESP and returns the bulk strings of the (flat or nested) reply.
pub fn command(port: u16, args: &[&str]) -> Result<Vec<String>> {
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

/// Creates tenant `id` (replacing one left by an earlier run) with the TENANT.CREATE options
/// `create`, and a readwrite token; returns the token's secret.
pub fn tenant_secret(port: u16, id: &str, create: &[&str]) -> Result<String> {
    let _ = command(port, &["TENANT.DELETE", id, "FORCE"]);
    let mut args = vec!["TENANT.CREATE", id];
    args.extend_from_slice(create);
    command(port, &args)?;
    let reply = command(port, &["TENANT.TOKEN.CREATE", id, "ROLE", "readwrite"])?;
    reply
        .iter()
        .position(|f| f == "secret")
        .and_then(|i| reply.get(i + 1).cloned())
        .ok_or_else(|| format!("no secret in TENANT.TOKEN.CREATE reply {reply:?}"))
}

/// A started server. Dropping it kills the process, so no server outlives
/// the benchmark, also when it fails or panics. (On Ctrl-C the terminal
/// signals the whole foreground process group, children included.)
pub struct RunningServer {
    pub name: &'static str,
    pub port: u16,
    pub child: Child,
    pub log: PathBuf,
}

impl RunningServer {
    pub fn start(spec: &ServerSpec, log_dir: &Path) -> Result<RunningServer> {
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

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Polls with PING until the server answers `+PONG`, failing early if
    /// the process has already exited (bad flags, port taken, ...).
    pub fn wait_until_ready(&mut self, timeout: Duration) -> Result<()> {
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

pub fn log_tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Asks the OS for a free port by binding port 0. The listener is dropped
/// before the server binds, which leaves a small race that is harmless on a
/// benchmark machine.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| format!("cannot bind a free port: {e}"))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|e| format!("cannot read the free port: {e}"))
}

pub fn connect(port: u16, timeout: Duration) -> std::io::Result<TcpStream> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

pub fn ping(port: u16) -> Result<()> {
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

pub struct CapturedOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Like `Command::output`, but kills the command after `timeout`.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Result<CapturedOutput> {
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

pub fn drain(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
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
pub fn parse_csv_rps(output: &str, test: &str) -> Option<f64> {
    output.lines().find_map(|line| {
        let fields = split_csv_line(line);
        let name = fields.first()?;
        let rps: f64 = fields.get(1)?.parse().ok()?;
        let first_word = name.split_whitespace().next()?;
        first_word.eq_ignore_ascii_case(test).then_some(rps)
    })
}

/// Splits one CSV line, removing the double quotes around fields.
pub fn split_csv_line(line: &str) -> Vec<String> {
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
pub fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    match samples.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => samples[n / 2],
        n => (samples[n / 2 - 1] + samples[n / 2]) / 2.0,
    }
}

/// Resident set size of a process in bytes, from `/proc/<pid>/status`.
pub fn read_vm_rss(pid: u32) -> Result<u64> {
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

/// A plain-text table: first column left-aligned, the numbers right-aligned.
pub fn text_table(header: &[String], rows: &[Vec<String>]) -> String {
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

pub fn markdown_table(header: &[String], rows: &[Vec<String>]) -> String {
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
