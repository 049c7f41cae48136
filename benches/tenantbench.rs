//! Tenancy benchmarks: what per-tenant limits buy under load, side by side with `redis-server`.
//!
//! # Scenarios
//!
//! * **noisy** (noisy neighbour). Victim tenant V runs a steady latency probe (one GET every
//!   millisecond on its own connection) for `--seconds`, first alone, then while aggressor
//!   tenant A floods with 50 connections of 16 pipelined GETs each (redis-benchmark's
//!   `-P 16 -c 50 -t get` shape; redis-benchmark itself exits at the first error reply). A's ops/s limit is a twentieth
//!   of what that flood achieves unlimited (measured first, on an unlimited tenant), so the
//!   flood asks for 20× its limit. Reported: V's p50/p99 alone and under attack, and A's
//!   accepted ops/s (its `commands_processed` in TENANT.INFO over the window) against its limit.
//!   Then the same probe and flood on a plain `redis-server`, where nothing protects V.
//!   Targets: V's p99 under attack ≤ 2× alone; A's accepted rate within ±10% of its limit.
//! * **scale** (tenant scale). Creates `--tenants` tenants (default 100,000) one after another
//!   on one admin connection, timing each TENANT.CREATE, while a tenant's latency probe keeps
//!   running, with the registry persisted to disk as in production. Reported: TENANT.CREATE
//!   p50/p99/max, the probe's p50/p99 before and during, and the server's resident memory
//!   growth per tenant. Targets: p99 ≤ 1 ms; ≤ 2 KiB per empty tenant.
//!
//! Results are printed and appended as Markdown to `target/tenantbench-results.md`.
//!
//! # How to run
//!
//! ```text
//! cargo build --release
//! cargo bench --bench tenantbench -- [noisy|scale|all] [--seconds S] [--tenants N]
//!                                     [--ops-limit N] [--flood-rate N]
//! ```
//!
//! Run it on an otherwise idle machine: on two cores, any other work (a build) moves the
//! latency percentiles more than what is being measured.

#[path = "support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use support::*;

struct Options {
    noisy: bool,
    scale: bool,
    seconds: u64,
    tenants: u64,
    ops_limit: Option<u64>,
    flood_rate: Option<u64>,
}

const USAGE: &str = "\
usage: cargo bench --bench tenantbench -- [noisy|scale|all] [options]
  --seconds S     length of each latency window (default 10)
  --tenants N     tenants created by the scale scenario (default 100000)
  --ops-limit N   the aggressor's ops/s limit (default: a twentieth of its unlimited rate)
  --flood-rate N  pace the flood itself to N ops/s, evenly spread (default: as fast as
                  replies come back). With --ops-limit above N, this measures the floor:
                  the same accepted load sent by a well-behaved client, nothing refused
";

fn parse_options() -> Result<Options> {
    let mut o = Options {
        noisy: false,
        scale: false,
        seconds: 10,
        tenants: 100_000,
        ops_limit: None,
        flood_rate: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| -> Result<u64> {
            args.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number\n{USAGE}"))
        };
        match a.as_str() {
            "--bench" => {}
            "noisy" => o.noisy = true,
            "scale" => o.scale = true,
            "all" => (o.noisy, o.scale) = (true, true),
            "--seconds" => o.seconds = value("--seconds")?.max(1),
            "--tenants" => o.tenants = value("--tenants")?.max(1),
            "--ops-limit" => o.ops_limit = Some(value("--ops-limit")?.max(1)),
            "--flood-rate" => o.flood_rate = Some(value("--flood-rate")?.max(1)),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if !o.noisy && !o.scale {
        (o.noisy, o.scale) = (true, true);
    }
    Ok(o)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tenantbench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let opts = parse_options()?;
    let paths = Paths::discover();
    let tools = RedisTools::locate_or_install()?;
    let tenantkv = locate_or_build_tenantkv(&paths)?;
    println!("redis-server: {}", tools.server_version());
    warn_if_busy();
    let mut report = String::new();
    if opts.noisy {
        report += &noisy_neighbour(&opts, &tools, &tenantkv, &paths)?;
    }
    if opts.scale {
        report += &tenant_scale(&opts, &tenantkv, &paths)?;
    }
    println!("\n{report}");
    let out = paths.target_dir.join("tenantbench-results.md");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&out)
        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    let _ = writeln!(f, "{report}");
    println!("appended to {}", out.display());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Latency probe
// ---------------------------------------------------------------------------------------------

/// A connection, optionally authenticated as a tenant, that answers one command at a time.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn open(port: u16, auth: Option<(&str, &str)>) -> Result<Client> {
        let s = connect(port, Duration::from_secs(10)).map_err(|e| e.to_string())?;
        let mut c = Client {
            reader: BufReader::new(s.try_clone().map_err(|e| e.to_string())?),
            writer: s,
        };
        if let Some((user, secret)) = auth {
            let reply = c.call(&["AUTH", user, secret])?;
            if reply != "+OK" {
                return Err(format!("AUTH {user}: {reply}"));
            }
        }
        Ok(c)
    }

    /// Sends a command and returns the first line of its reply (enough for status, error,
    /// integer and bulk replies of the commands used here).
    fn call(&mut self, args: &[&str]) -> Result<String> {
        let mut req = format!("*{}\r\n", args.len());
        for a in args {
            let _ = write!(req, "${}\r\n{a}\r\n", a.len());
        }
        self.writer
            .write_all(req.as_bytes())
            .map_err(|e| e.to_string())?;
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        if let Some(n) = line
            .strip_prefix('$')
            .and_then(|n| n.trim().parse::<usize>().ok())
        {
            let mut body = vec![0u8; n + 2];
            std::io::Read::read_exact(&mut self.reader, &mut body).map_err(|e| e.to_string())?;
        }
        Ok(line.trim_end().to_string())
    }
}

/// Runs a paced probe (one GET per millisecond) until `stop`, returning each latency in µs.
fn probe(
    port: u16,
    auth: Option<(String, String)>,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<Result<Vec<f64>>> {
    thread::spawn(move || {
        let auth = auth.as_ref().map(|(u, s)| (u.as_str(), s.as_str()));
        let mut c = Client::open(port, auth)?;
        c.call(&["SET", "probe", "value"])?;
        let mut samples = Vec::new();
        let mut next = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            let t = Instant::now();
            let reply = c.call(&["GET", "probe"])?;
            samples.push(t.elapsed().as_secs_f64() * 1e6);
            if reply.starts_with('-') {
                return Err(format!("probe GET: {reply}"));
            }
            next += Duration::from_millis(1);
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                thread::sleep(wait);
            } else {
                next = Instant::now();
            }
        }
        Ok(samples)
    })
}

/// Probes for `secs` seconds and returns (p50, p99) in µs.
fn probe_window(port: u16, auth: Option<(String, String)>, secs: u64) -> Result<(f64, f64)> {
    let stop = Arc::new(AtomicBool::new(false));
    let h = probe(port, auth, stop.clone());
    thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    let mut s = h.join().map_err(|_| "probe panicked".to_string())??;
    Ok((percentile(&mut s, 50.0), percentile(&mut s, 99.0)))
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(f64::total_cmp);
    let i = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
    samples[i]
}

// ---------------------------------------------------------------------------------------------
// Noisy neighbour
// ---------------------------------------------------------------------------------------------

/// The aggressor's flood: 50 connections, each sending pipelines of 16 GETs as fast as the
/// replies come back, all driven by one thread's event loop as `redis-benchmark -P 16 -c 50
/// -t get` drives them (a thread per connection would spend the two cores on the client's
/// own context switches). Not redis-benchmark itself: it exits at the first error reply, and
/// a rate-limited tenant gets RATELIMIT.
struct Flood {
    stop: Arc<AtomicBool>,
    /// Replies received (accepted and refused): what the flood attempted.
    replies: Arc<AtomicU64>,
    thread: thread::JoinHandle<Result<()>>,
}

fn flood(port: u16, auth: Option<(&str, &str)>, rate: Option<u64>) -> Result<Flood> {
    const CONNECTIONS: usize = 50;
    const DEPTH: usize = 16;
    let stop = Arc::new(AtomicBool::new(false));
    let replies = Arc::new(AtomicU64::new(0));
    let auth = auth.map(|(u, s)| (u.to_string(), s.to_string()));
    let (stop2, replies2) = (stop.clone(), replies.clone());
    let thread = thread::spawn(move || -> Result<()> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async move {
            let mut tasks = Vec::new();
            for c in 0..CONNECTIONS {
                let (stop, replies, auth) = (stop2.clone(), replies2.clone(), auth.clone());
                let mut batch = String::new();
                for i in 0..DEPTH {
                    let key = format!("key:{:06}", (c * DEPTH + i) % 100_000);
                    let _ = write!(batch, "*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len());
                }
                let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .map_err(|e| e.to_string())?;
                stream.set_nodelay(true).map_err(|e| e.to_string())?;
                // Each connection's share of the rate, one batch per gap.
                let gap =
                    rate.map(|r| Duration::from_secs_f64((CONNECTIONS * DEPTH) as f64 / r as f64));
                tasks.push(tokio::spawn(flood_connection(
                    stream, auth, batch, DEPTH, gap, stop, replies,
                )));
            }
            for t in tasks {
                t.await.map_err(|e| e.to_string())??;
            }
            Ok(())
        })
    });
    Ok(Flood {
        stop,
        replies,
        thread,
    })
}

/// One flooding connection: AUTH, then pipelines of `depth` commands until `stop`.
async fn flood_connection(
    stream: tokio::net::TcpStream,
    auth: Option<(String, String)>,
    batch: String,
    depth: usize,
    gap: Option<Duration>,
    stop: Arc<AtomicBool>,
    replies: Arc<AtomicU64>,
) -> Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let (r, mut w) = stream.into_split();
    let mut r = tokio::io::BufReader::new(r);
    let mut line = String::new();
    if let Some((user, secret)) = auth {
        let req = format!(
            "*3\r\n$4\r\nAUTH\r\n${}\r\n{user}\r\n${}\r\n{secret}\r\n",
            user.len(),
            secret.len()
        );
        w.write_all(req.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        r.read_line(&mut line).await.map_err(|e| e.to_string())?;
        if line.trim_end() != "+OK" {
            return Err(format!("AUTH {user}: {line}"));
        }
    }
    // Paced connections start at random phases, so the batches spread over each gap.
    let mut next =
        tokio::time::Instant::now() + gap.map_or(Duration::ZERO, |g| g.mul_f64(fastrand::f64()));
    while !stop.load(Ordering::Relaxed) {
        if let Some(g) = gap {
            tokio::time::sleep_until(next).await;
            next += g;
        }
        if w.write_all(batch.as_bytes()).await.is_err() {
            return Ok(());
        }
        // Every reply here is one line: a nil, or an error.
        for _ in 0..depth {
            line.clear();
            if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                return Ok(());
            }
        }
        replies.fetch_add(depth as u64, Ordering::Relaxed);
    }
    Ok(())
}

/// Stops the flood and waits for its thread.
fn stop(f: Flood) -> Result<()> {
    f.stop.store(true, Ordering::Relaxed);
    f.thread.join().map_err(|_| "flood panicked".to_string())?
}

/// A tenant's `commands_processed`, as the admin sees it.
fn commands_processed(port: u16, id: &str) -> Result<u64> {
    let info = command(port, &["TENANT.INFO", id])?;
    info.iter()
        .position(|f| f == "commands_processed")
        .and_then(|i| info.get(i + 1))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no commands_processed in {info:?}"))
}

struct NoisyRow {
    server: &'static str,
    alone: (f64, f64),
    attacked: (f64, f64),
    /// The flood's attempted ops/s during the attack window (accepted and refused).
    attempted: f64,
    accepted: Option<f64>,
    limit: Option<u64>,
}

fn noisy_neighbour(
    opts: &Options,
    tools: &RedisTools,
    tenantkv: &std::path::Path,
    paths: &Paths,
) -> Result<String> {
    let secs = opts.seconds;
    let mut rows = Vec::new();

    // tenantkv: V unlimited (enterprise), A limited.
    let spec = ServerSpec {
        name: "tenantkv",
        kind: ServerKind::Tenantkv,
        program: tenantkv.to_path_buf(),
        extra: vec![],
    };
    let srv = RunningServer::start(&spec, &paths.log_dir())?;
    let port = srv.port;
    let v = tenant_secret(port, "victim", &["TIER", "enterprise"])?;
    let demand = {
        let s = tenant_secret(port, "calibrate", &["TIER", "enterprise"])?;
        let f = flood(port, Some(("calibrate", &s)), opts.flood_rate)?;
        thread::sleep(Duration::from_secs(1));
        let before = commands_processed(port, "calibrate")?;
        thread::sleep(Duration::from_secs(3));
        let after = commands_processed(port, "calibrate")?;
        stop(f)?;
        (after - before) as f64 / 3.0
    };
    let limit = opts.ops_limit.unwrap_or(((demand / 20.0) as u64).max(1));
    println!("aggressor's unlimited rate {demand:.0} ops/s; its limit {limit} ops/s");
    let a = tenant_secret(
        port,
        "aggressor",
        &["TIER", "enterprise", "OPS", &limit.to_string()],
    )?;
    let auth_v = Some(("victim".to_string(), v));
    let alone = probe_window(port, auth_v.clone(), secs)?;
    let f = flood(port, Some(("aggressor", &a)), opts.flood_rate)?;
    thread::sleep(Duration::from_secs(1));
    let before = commands_processed(port, "aggressor")?;
    let replies = f.replies.load(Ordering::Relaxed);
    let t = Instant::now();
    let attacked = probe_window(port, auth_v, secs)?;
    let attempted =
        (f.replies.load(Ordering::Relaxed) - replies) as f64 / t.elapsed().as_secs_f64();
    let accepted =
        (commands_processed(port, "aggressor")? - before) as f64 / t.elapsed().as_secs_f64();
    stop(f)?;
    drop(srv);
    rows.push(NoisyRow {
        server: "tenantkv",
        alone,
        attacked,
        attempted,
        accepted: Some(accepted),
        limit: Some(limit),
    });

    // redis-server: the same probe and flood, with nothing to tell them apart.
    let spec = ServerSpec {
        name: "redis",
        kind: ServerKind::Redis,
        program: tools.server.clone(),
        extra: vec![],
    };
    let srv = RunningServer::start(&spec, &paths.log_dir())?;
    let alone = probe_window(srv.port, None, secs)?;
    let f = flood(srv.port, None, opts.flood_rate)?;
    thread::sleep(Duration::from_secs(1));
    let replies = f.replies.load(Ordering::Relaxed);
    let t = Instant::now();
    let attacked = probe_window(srv.port, None, secs)?;
    let attempted =
        (f.replies.load(Ordering::Relaxed) - replies) as f64 / t.elapsed().as_secs_f64();
    stop(f)?;
    drop(srv);
    rows.push(NoisyRow {
        server: "redis-server",
        alone,
        attacked,
        attempted,
        accepted: None,
        limit: None,
    });

    let header: Vec<String> = [
        "server",
        "V p50 alone µs",
        "V p99 alone µs",
        "V p50 attacked µs",
        "V p99 attacked µs",
        "p99 attacked/alone",
        "A attempted ops/s",
        "A accepted ops/s",
        "A limit",
        "accepted/limit",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.server.to_string(),
                format!("{:.0}", r.alone.0),
                format!("{:.0}", r.alone.1),
                format!("{:.0}", r.attacked.0),
                format!("{:.0}", r.attacked.1),
                format!("{:.2}", r.attacked.1 / r.alone.1),
                format!("{:.0}", r.attempted),
                r.accepted.map_or("-".into(), |a| format!("{a:.0}")),
                r.limit.map_or("-".into(), |l| l.to_string()),
                match (r.accepted, r.limit) {
                    (Some(a), Some(l)) => format!("{:.3}", a / l as f64),
                    _ => "-".into(),
                },
            ]
        })
        .collect();
    println!("{}", text_table(&header, &body));
    let pacing = opts.flood_rate.map_or(String::new(), |r| {
        format!(", paced by the client to {r} ops/s")
    });
    Ok(format!(
        "## Noisy neighbour ({secs} s windows; flood: 50 connections x 16 pipelined GETs{pacing}, \
         {demand:.0} ops/s unlimited)\n\n{}\n",
        markdown_table(&header, &body)
    ))
}

// ---------------------------------------------------------------------------------------------
// Tenant scale
// ---------------------------------------------------------------------------------------------

fn tenant_scale(opts: &Options, tenantkv: &std::path::Path, paths: &Paths) -> Result<String> {
    let n = opts.tenants;
    let dir = paths.target_dir.join("tenantbench-scale");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let config = dir.join("tenantkv.toml");
    std::fs::write(
        &config,
        format!(
            "[tenancy]\nmax_tenants = {}\nregistry_path = \"{}\"\n",
            n + 10,
            dir.join("tenants.toml").display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let spec = ServerSpec {
        name: "tenantkv-scale",
        kind: ServerKind::Tenantkv,
        program: tenantkv.to_path_buf(),
        extra: vec!["--config".into(), config.display().to_string()],
    };
    let srv = RunningServer::start(&spec, &paths.log_dir())?;
    let port = srv.port;
    let probe_auth = Some((
        "probe".to_string(),
        tenant_secret(port, "probe", &["TIER", "enterprise"])?,
    ));
    let before_probe = probe_window(port, probe_auth.clone(), opts.seconds.min(5))?;
    thread::sleep(Duration::from_secs(1));
    let rss_before = read_vm_rss(srv.pid())?;

    let stop = Arc::new(AtomicBool::new(false));
    let during = probe(port, probe_auth, stop.clone());
    let mut admin = Client::open(port, None)?;
    let mut lat = Vec::with_capacity(n as usize);
    let started = Instant::now();
    for i in 0..n {
        let id = format!("t{i:06}");
        let t = Instant::now();
        let reply = admin.call(&["TENANT.CREATE", &id])?;
        lat.push(t.elapsed().as_secs_f64() * 1e6);
        if reply != "+OK" {
            return Err(format!("TENANT.CREATE {id}: {reply}"));
        }
    }
    let total = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut during = during.join().map_err(|_| "probe panicked".to_string())??;
    // Let the registry writer finish its appends and any fold before reading memory.
    thread::sleep(Duration::from_secs(3));
    let rss_after = read_vm_rss(srv.pid())?;
    let per_tenant = (rss_after.saturating_sub(rss_before)) as f64 / n as f64;
    let files: u64 = ["tenants.toml", "tenants.toml.journal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum();
    drop(srv);

    let header: Vec<String> = ["measure", "value", "target"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let body = vec![
        vec!["tenants created".into(), n.to_string(), "".into()],
        vec![
            "TENANT.CREATE rate".into(),
            format!("{:.0}/s", n as f64 / total.as_secs_f64()),
            "".into(),
        ],
        vec![
            "TENANT.CREATE p50".into(),
            format!("{:.0} µs", percentile(&mut lat, 50.0)),
            "".into(),
        ],
        vec![
            "TENANT.CREATE p99".into(),
            format!("{:.0} µs", percentile(&mut lat, 99.0)),
            "≤ 1000 µs".into(),
        ],
        vec![
            "TENANT.CREATE max".into(),
            format!("{:.0} µs", percentile(&mut lat, 100.0)),
            "".into(),
        ],
        vec![
            "memory per empty tenant".into(),
            format!("{per_tenant:.0} B"),
            "≤ 2048 B".into(),
        ],
        vec![
            "probe p50 / p99 before".into(),
            format!("{:.0} / {:.0} µs", before_probe.0, before_probe.1),
            "".into(),
        ],
        vec![
            "probe p50 / p99 while creating".into(),
            format!(
                "{:.0} / {:.0} µs",
                percentile(&mut during, 50.0),
                percentile(&mut during, 99.0)
            ),
            "".into(),
        ],
        vec![
            "registry on disk".into(),
            format!("{:.1} MB", files as f64 / 1e6),
            "".into(),
        ],
    ];
    println!("{}", text_table(&header, &body));
    Ok(format!(
        "## Tenant scale\n\n{}\n",
        markdown_table(&header, &body)
    ))
}
