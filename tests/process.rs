//! The binary as a user runs it: flags, the embedded default config, and graceful shutdown on
//! SIGTERM and SIGINT (connections closed, tenant registry written, exit status 0).
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server; killed if a test panics before it exits, so no run leaves one behind.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts the binary on port 0 and learns the port it bound from its startup log line: a port
/// picked by the test and released before the server binds it can be taken by another test's
/// server in between.
fn start(dir: &std::path::Path) -> Server {
    start_with(dir, "")
}

/// `start` with more configuration (TOML keys of the `[server]` section).
fn start_with(dir: &std::path::Path, server_keys: &str) -> Server {
    let config = dir.join("tenantkv.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\n{server_keys}\n[tenancy]\nregistry_path = \"{}\"\n",
            dir.join("tenants.toml").display()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenantkv"))
        .args(["--port", "0", "--log-level", "info"])
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    // The log goes to stdout. A reader thread hands over the bound port and then keeps
    // draining, so the server never blocks on a full pipe.
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if let Some(port) = listening_port(&line) {
                let _ = tx.send(port);
            }
        }
    });
    let mut server = Server { child, port: 0 };
    server.port = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the server logs where it listens");
    server
}

/// The port in the startup line `... tenantkv listening addr=127.0.0.1:<port>` (plain text:
/// the log is coloured only on a terminal).
fn listening_port(line: &str) -> Option<u16> {
    let rest = &line[line.find("tenantkv listening")?..];
    let addr = rest.split("addr=").nth(1)?.split_whitespace().next()?;
    addr.rsplit(':').next()?.parse().ok()
}

fn connect(port: u16) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => {
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                return s;
            }
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("server did not come up: {e}"),
        }
    }
}

fn request(s: &mut TcpStream, line: &str) -> String {
    s.write_all(format!("{line}\r\n").as_bytes()).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut out = String::new();
    r.read_line(&mut out).unwrap();
    out
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "server did not exit after the signal"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn graceful_on(sig: &str) {
    let dir = std::env::temp_dir().join(format!("tenantkv-process-{sig}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut server = start(&dir);
    let mut c = connect(server.port);
    assert_eq!(request(&mut c, "PING"), "+PONG\r\n");
    assert_eq!(request(&mut c, "TENANT.CREATE acme"), "+OK\r\n");
    signal(&server.child, sig);
    let status = wait_exit(&mut server.child);
    assert!(status.success(), "exit status {status:?}");
    // The open connection was closed by the server, not left hanging.
    let mut buf = [0u8; 1];
    assert!(matches!(c.read(&mut buf), Ok(0) | Err(_)));
    // The registry was written on the way out.
    let registry = std::fs::read_to_string(dir.join("tenants.toml")).expect("registry written");
    assert!(registry.contains("id = \"acme\""), "{registry}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigterm_shuts_down_gracefully() {
    graceful_on("-TERM");
}

#[test]
fn sigint_shuts_down_gracefully() {
    graceful_on("-INT");
}

#[test]
fn bad_config_file_is_refused_with_a_clear_message() {
    let dir = std::env::temp_dir().join(format!("tenantkv-badconfig-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("bad.toml");
    std::fs::write(&config, "[server]\nport = \"not a number\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tenantkv"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("config"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The process's user + system CPU time so far, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// A lone worker polls for requests while they come (`busy_poll_us`), and an idle server
/// sleeps: it must not keep a core busy once its clients stop.
#[test]
fn an_idle_server_stops_polling_and_sleeps() {
    let dir = std::env::temp_dir().join(format!("tenantkv-process-idle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = start_with(&dir, "threads = 1\nbusy_poll_us = 1000");
    let mut c = connect(server.port);
    for _ in 0..500 {
        assert_eq!(request(&mut c, "PING"), "+PONG\r\n");
    }
    std::thread::sleep(Duration::from_millis(100));
    let before = cpu_ticks(server.child.id());
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(server.child.id()) - before;
    // Polling without end would use the whole second (100 ticks); idle, a few at most.
    assert!(used < 30, "{used} ticks of CPU in an idle second");
    assert_eq!(request(&mut c, "PING"), "+PONG\r\n");
    let _ = std::fs::remove_dir_all(&dir);
}
