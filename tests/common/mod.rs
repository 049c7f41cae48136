//! Shared test harness: starts the real server in-process on an ephemeral port (its own tokio
//! runtime on a background thread) and hands out real clients that talk to it over TCP.
#![allow(dead_code)]

use redis::{cmd, Cmd, Connection, Value};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tenantkv::config::Config;
use tenantkv::server::{self, RunningServer};

/// A running server; shut down when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    server: std::sync::Arc<server::Server>,
    driver: Option<Driver>,
}

/// What runs the server's tasks.
enum Driver {
    /// A multi-threaded runtime whose workers run them.
    Pool(tokio::runtime::Runtime, RunningServer),
    /// A thread driving a current-thread runtime until the server shuts down.
    Thread(std::thread::JoinHandle<()>),
}

impl TestServer {
    /// Starts a server with the embedded defaults plus `overrides` (TOML, merged key by key
    /// like a `--config` file), always on an ephemeral port.
    pub fn start_with(overrides: &str) -> TestServer {
        Self::start_on(2, overrides)
    }

    /// `start_with` on a runtime of `workers` threads. Two by default, so cross-thread races
    /// stay tested; one runs commands strictly one at a time, as the binary does on two cores.
    pub fn start_on(workers: usize, overrides: &str) -> TestServer {
        let config = test_config(overrides);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .expect("runtime");
        let running: RunningServer = runtime
            .block_on(server::start(config))
            .expect("server starts");
        TestServer {
            addr: running.addr,
            server: running.server.clone(),
            driver: Some(Driver::Pool(runtime, running)),
        }
    }

    /// `start_with` on a current-thread runtime, the one the binary runs on two cores: tasks
    /// woken run in the order they were woken, with no slot that lets the latest run first.
    pub fn start_current_thread(overrides: &str) -> TestServer {
        let config = test_config(overrides);
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let running = server::start(config).await.expect("server starts");
                tx.send((running.addr, running.server.clone())).unwrap();
                running.wait().await;
            });
        });
        let (addr, server) = rx.recv().expect("server starts");
        TestServer {
            addr,
            server,
            driver: Some(Driver::Thread(thread)),
        }
    }

    pub fn start() -> TestServer {
        Self::start_with("")
    }

    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    /// A synchronous `redis` crate connection (RESP2).
    pub fn client(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .expect("client")
            .get_connection()
            .expect("connect")
    }

    /// A `redis` crate connection speaking RESP3.
    pub fn client_resp3(&self) -> redis::Connection {
        let url = format!("redis://{}/?protocol=resp3", self.addr);
        redis::Client::open(url)
            .expect("client")
            .get_connection()
            .expect("connect")
    }

    /// A raw socket for byte-exact protocol tests.
    pub fn raw(&self) -> Raw {
        let s = TcpStream::connect(self.addr).expect("connect");
        s.set_read_timeout(Some(RAW_READ_TIMEOUT)).unwrap();
        s.set_nodelay(true).unwrap();
        Raw {
            stream: s,
            pending: Vec::new(),
        }
    }

    pub fn server(&self) -> &server::Server {
        &self.server
    }
}

impl TestServer {
    /// Shuts the server down gracefully and waits until it has stopped (connections closed,
    /// tenant registry written), as a restart would.
    pub fn stop(mut self) {
        self.server.shutdown();
        match self.driver.take() {
            Some(Driver::Pool(runtime, running)) => runtime.block_on(running.wait()),
            Some(Driver::Thread(thread)) => thread.join().expect("server thread"),
            None => {}
        }
    }
}

/// The embedded defaults plus `overrides`, on an ephemeral port.
fn test_config(overrides: &str) -> Config {
    let mut config = Config::load(Some(overrides)).expect("test config");
    config.server.port = 0;
    // Tests never write the default registry file into the working directory.
    if !overrides.contains("registry_path") {
        config.tenancy.registry_path = String::new();
    }
    config
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.shutdown();
    }
}

// ---------------------------------------------------------------------------------------------
// Raw sockets
// ---------------------------------------------------------------------------------------------

/// How long a raw socket read waits before it fails (the default read timeout of [`Raw`]).
const RAW_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// A raw TCP connection: write bytes, read exactly what the server sends.
///
/// Bytes read from the socket but not yet handed out (read ahead while framing a reply) wait
/// in `pending`; every read, including the [`Read`] impl, takes from there first.
pub struct Raw {
    stream: TcpStream,
    pending: Vec<u8>,
}

impl Raw {
    /// The underlying socket, for timeouts and writes that may fail. Reading from it directly
    /// would skip bytes already buffered here: read through `Raw` instead.
    pub fn stream(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    /// Writes all of `bytes`, panicking if the write fails.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Reads whatever the socket has next (blocking up to the read timeout) into `pending`;
    /// returns how many bytes arrived (0 at EOF).
    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 64 * 1024];
        let n = self.stream.read(&mut chunk)?;
        self.pending.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Like [`Raw::fill`], but panics (naming `what` was being read) on EOF or a read error.
    fn fill_or_panic(&mut self, what: &str) {
        match self.fill() {
            Ok(0) => panic!(
                "connection closed while reading {what}; got {:?}",
                String::from_utf8_lossy(&self.pending)
            ),
            Ok(_) => {}
            Err(e) => panic!(
                "read failed while reading {what} after {:?}: {e}",
                String::from_utf8_lossy(&self.pending)
            ),
        }
    }

    /// Reads until `n` bytes arrived (or the connection closed) and returns them.
    pub fn read_n(&mut self, n: usize) -> Vec<u8> {
        while self.pending.len() < n {
            match self.fill() {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => panic!("read failed after {} bytes: {e}", self.pending.len()),
            }
        }
        let n = n.min(self.pending.len());
        self.pending.drain(..n).collect()
    }

    /// Reads one line, up to and including its CRLF; panics if the connection closes first.
    pub fn read_line(&mut self) -> Vec<u8> {
        loop {
            if let Some(i) = self.pending.windows(2).position(|w| w == b"\r\n") {
                return self.pending.drain(..i + 2).collect();
            }
            self.fill_or_panic("a line");
        }
    }

    /// Reads exactly one complete RESP2/RESP3 reply and returns its bytes; what arrived after
    /// it stays buffered for the next read.
    ///
    /// Framing is `redis-protocol`'s: its RESP3 decoder, which also covers RESP2 except for the
    /// RESP2 nulls (`$-1`, `*-1`, which it rejects), so its RESP2 decoder decides when the
    /// RESP3 one refuses the bytes.
    pub fn read_reply(&mut self) -> Vec<u8> {
        use redis_protocol::{resp2, resp3};
        loop {
            let framed = match resp3::decode::complete::decode(&self.pending) {
                Ok(found) => found.map(|(_, used)| used),
                Err(e3) => match resp2::decode::decode(&self.pending) {
                    Ok(found) => found.map(|(_, used)| used),
                    Err(e2) => panic!(
                        "not a RESP reply ({e3:?}; as RESP2: {e2:?}): {:?}",
                        String::from_utf8_lossy(&self.pending)
                    ),
                },
            };
            if let Some(used) = framed {
                return self.pending.drain(..used).collect();
            }
            self.fill_or_panic("a reply");
        }
    }

    /// Sends `req` and returns the one reply it produces.
    pub fn request(&mut self, req: &[u8]) -> Vec<u8> {
        self.send(req);
        self.read_reply()
    }

    /// Sends `request` and asserts the reply is exactly `expected`.
    pub fn roundtrip(&mut self, request: &[u8], expected: &[u8]) {
        self.send(request);
        let got = self.read_n(expected.len());
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(expected),
            "reply to {:?}",
            String::from_utf8_lossy(request)
        );
    }

    /// Reads until the server closes the connection (EOF or reset) and returns all bytes.
    /// Panics if the connection stays open (read timeout).
    pub fn read_all(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.pending);
        let mut buf = [0u8; 4096];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return out,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return out,
                Err(e) => panic!(
                    "connection not closed ({e}); got so far {:?}",
                    String::from_utf8_lossy(&out)
                ),
            }
        }
    }

    /// True when nothing at all arrives within `wait` (panics if bytes arrive or the
    /// connection closes). Restores the default read timeout afterwards.
    pub fn nothing_arrives(&mut self, wait: Duration) -> bool {
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let mut b = [0u8; 64];
        let r = self.read(&mut b);
        self.stream
            .set_read_timeout(Some(RAW_READ_TIMEOUT))
            .unwrap();
        match r {
            Ok(0) => panic!("connection closed"),
            Ok(n) => panic!("unexpected bytes {:?}", String::from_utf8_lossy(&b[..n])),
            Err(_) => true,
        }
    }

    /// True when the server closed the connection (read returns EOF).
    pub fn is_closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.read(&mut b), Ok(0))
    }
}

/// Reads buffered bytes first, then the socket.
impl Read for Raw {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pending.is_empty() {
            return self.stream.read(buf);
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

// ---------------------------------------------------------------------------------------------
// Errors and liveness
// ---------------------------------------------------------------------------------------------

/// Runs a command and expects an error whose text starts with `prefix`.
pub fn expect_err(con: &mut Connection, cmd: &mut Cmd, prefix: &str) {
    let r: redis::RedisResult<Value> = cmd.query(con);
    let e = r.expect_err("expected an error reply");
    let text = error_text(&e);
    assert!(
        text.starts_with(prefix),
        "expected error starting with {prefix:?}, got {text:?}"
    );
}

/// The full Redis error text (code and message) of a redis-crate error.
pub fn error_text(e: &redis::RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        (Some(code), None) => code.to_string(),
        _ => e.to_string(),
    }
}

/// Asserts the connection still answers PING with PONG.
pub fn assert_alive(con: &mut Connection) {
    let pong: String = cmd("PING").query(con).expect("connection still usable");
    assert_eq!(pong, "PONG");
}

/// Runs `c` and asserts it fails with exactly `text` (code and message), then that the
/// connection still answers PING.
pub fn assert_err_exact(con: &mut Connection, c: &mut Cmd, text: &str) {
    let r: redis::RedisResult<Value> = c.query(con);
    match r {
        Ok(v) => panic!("expected error {text:?}, got {v:?}"),
        Err(e) => assert_eq!(error_text(&e), text),
    }
    assert_alive(con);
}

/// Redis's error text for a call to `name` (lower case, `container|sub` for a subcommand)
/// with the wrong number of arguments.
pub fn arity(name: &str) -> String {
    format!("ERR wrong number of arguments for '{name}' command")
}

/// Polls `pred` every 20 ms until it holds, for what the server does asynchronously; panics
/// naming `what` after 8 seconds.
pub fn eventually(what: &str, mut pred: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(8);
    while !pred() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------------------------
// Commands through the `redis` crate
// ---------------------------------------------------------------------------------------------

/// Runs `c` and returns its reply, panicking on an error reply.
pub fn val(con: &mut Connection, c: &mut Cmd) -> Value {
    c.query(con).expect("command succeeds")
}

/// Runs `c` and returns its integer reply, panicking on an error or another reply type.
pub fn int(con: &mut Connection, c: &mut Cmd) -> i64 {
    c.query(con).expect("integer reply")
}

/// A bulk string reply holding `s`.
pub fn bulk(s: impl AsRef<[u8]>) -> Value {
    Value::BulkString(s.as_ref().to_vec())
}

/// GET `key`: the value's bytes, or None when the key is missing.
pub fn get(con: &mut Connection, key: impl redis::ToRedisArgs) -> Option<Vec<u8>> {
    cmd("GET").arg(key).query(con).expect("GET")
}

/// GET `key` as UTF-8 text, or None when the key is missing.
pub fn get_str(con: &mut Connection, key: impl redis::ToRedisArgs) -> Option<String> {
    get(con, key).map(|v| String::from_utf8(v).expect("utf8 value"))
}

/// SET `key` `value`, asserting the reply is OK.
pub fn set(con: &mut Connection, key: impl redis::ToRedisArgs, value: impl redis::ToRedisArgs) {
    assert_eq!(val(con, cmd("SET").arg(key).arg(value)), Value::Okay);
}

/// SET `key` `value` PX `px`, asserting the reply is OK.
pub fn set_px(con: &mut Connection, key: &str, value: &str, px: i64) {
    assert_eq!(
        val(con, cmd("SET").arg(key).arg(value).arg("PX").arg(px)),
        Value::Okay
    );
}

/// EXISTS `key`: how many of the given keys exist.
pub fn exists(con: &mut Connection, key: impl redis::ToRedisArgs) -> i64 {
    int(con, cmd("EXISTS").arg(key))
}

/// TTL `key` in seconds (-1 persistent, -2 missing).
pub fn ttl(con: &mut Connection, key: &str) -> i64 {
    int(con, cmd("TTL").arg(key))
}

/// PTTL `key` in milliseconds (-1 persistent, -2 missing).
pub fn pttl(con: &mut Connection, key: &str) -> i64 {
    int(con, cmd("PTTL").arg(key))
}

/// DBSIZE of the selected database.
pub fn dbsize(con: &mut Connection) -> i64 {
    int(con, &mut cmd("DBSIZE"))
}

/// SELECT database `db`, asserting the reply is OK.
pub fn select(con: &mut Connection, db: i64) {
    assert_eq!(val(con, cmd("SELECT").arg(db)), Value::Okay);
}

/// The current Unix time in milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

// ---------------------------------------------------------------------------------------------
// INFO
// ---------------------------------------------------------------------------------------------

/// The text of `INFO <sections...>`.
pub fn info(con: &mut Connection, sections: &[&str]) -> String {
    cmd("INFO").arg(sections).query(con).expect("INFO")
}

/// The `field:value` lines of an INFO reply, by field name.
pub fn info_fields(info: &str) -> HashMap<String, String> {
    info.lines()
        .filter_map(|l| l.trim_end().split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Tenants
// ---------------------------------------------------------------------------------------------

/// Creates tenant `id` with TENANT.CREATE `opts` and returns a readwrite token's secret.
pub fn create_tenant(admin: &mut Connection, id: &str, opts: &[&str]) -> String {
    let _: () = cmd("TENANT.CREATE").arg(id).arg(opts).query(admin).unwrap();
    let v: Vec<String> = cmd("TENANT.TOKEN.CREATE")
        .arg(id)
        .arg(&["ROLE", "readwrite"])
        .query(admin)
        .unwrap();
    v[v.iter().position(|f| f == "secret").unwrap() + 1].clone()
}

/// A connection authenticated as tenant `id` through the URL, as users connect.
pub fn connect_tenant(srv: &TestServer, id: &str, secret: &str) -> redis::RedisResult<Connection> {
    redis::Client::open(format!("redis://{id}:{secret}@{}/", srv.addr))?.get_connection()
}

/// One integer field of TENANT.INFO `id`.
pub fn tenant_info_int(admin: &mut Connection, id: &str, field: &str) -> i64 {
    let v: Vec<Value> = cmd("TENANT.INFO").arg(id).query(admin).unwrap();
    let i = v
        .iter()
        .position(|x| matches!(x, Value::BulkString(b) if b == field.as_bytes()))
        .unwrap_or_else(|| panic!("TENANT.INFO has no {field}"));
    redis::from_redis_value(v[i + 1].clone()).unwrap()
}

/// This process's resident memory (the in-process server's included).
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb * 1024
}
