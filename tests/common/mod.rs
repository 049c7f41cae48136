//! Shared test harness: starts the real server in-process on an ephemeral port (its own tokio
//! runtime on a background thread) and hands out real clients that talk to it over TCP.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use tenantkv::config::Config;
use tenantkv::server::{self, RunningServer};

/// A running server; shut down when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    server: std::sync::Arc<server::Server>,
    _runtime: tokio::runtime::Runtime,
}

impl TestServer {
    /// Starts a server with the embedded defaults plus `overrides` (TOML, merged key by key
    /// like a `--config` file), always on an ephemeral port.
    pub fn start_with(overrides: &str) -> TestServer {
        let mut config = Config::load(Some(overrides)).expect("test config");
        config.server.port = 0;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let running: RunningServer = runtime
            .block_on(server::start(config))
            .expect("server starts");
        TestServer {
            addr: running.addr,
            server: running.server.clone(),
            _runtime: runtime,
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
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.set_nodelay(true).unwrap();
        Raw(s)
    }

    pub fn server(&self) -> &server::Server {
        &self.server
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.shutdown();
    }
}

/// A raw TCP connection: write bytes, read exactly what the server sends.
pub struct Raw(pub TcpStream);

impl Raw {
    pub fn send(&mut self, bytes: &[u8]) {
        self.0.write_all(bytes).expect("write");
    }

    /// Reads until `expected.len()` bytes arrived (or the connection closed) and returns them.
    pub fn read_n(&mut self, n: usize) -> Vec<u8> {
        let mut out = vec![0u8; n];
        let mut got = 0;
        while got < n {
            match self.0.read(&mut out[got..]) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(e) => panic!("read failed after {got} bytes: {e}"),
            }
        }
        out.truncate(got);
        out
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

    /// True when the server closed the connection (read returns EOF).
    pub fn is_closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.0.read(&mut b), Ok(0))
    }
}

/// Runs a command and expects an error whose text starts with `prefix`.
pub fn expect_err(con: &mut redis::Connection, cmd: &mut redis::Cmd, prefix: &str) {
    let r: redis::RedisResult<redis::Value> = cmd.query(con);
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
