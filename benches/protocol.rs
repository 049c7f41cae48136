//! Criterion micro-benchmarks of the per-command hot path: request framing (header walk +
//! redis-protocol decode), reply encoding, command lookup, and a full dispatch of GET/SET
//! against real storage. Run: `cargo bench --bench protocol`.

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::sync::Arc;
use tenantkv::command::{dispatch, registry::REGISTRY};
use tenantkv::config::Config;
use tenantkv::protocol::request::{unborrow, Limits, Parsed, RequestParser};
use tenantkv::protocol::{encode, Proto, Reply};
use tenantkv::server::session::{ClientHandle, Session};

const LIMITS: Limits = Limits {
    max_bulk_len: 512 * 1024 * 1024,
    authenticated: true,
    max_request: 0,
};

fn pipeline(n: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..n {
        let key = format!("key:{i:012}");
        v.extend_from_slice(
            format!(
                "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n$3\r\nxxx\r\n",
                key.len()
            )
            .as_bytes(),
        );
    }
    v
}

fn parse(c: &mut Criterion) {
    let input = pipeline(16);
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(16));
    g.bench_function("16 pipelined SETs", |b| {
        b.iter(|| {
            let mut buf = BytesMut::from(&input[..]);
            let mut p = RequestParser::default();
            let mut n = 0;
            while let Ok(Parsed::Command) = p.next(&mut buf, LIMITS) {
                // As the connection does: the next request reuses the vector.
                let mut args = p.take_spare();
                p.args(&buf, &mut args);
                n += args.len();
                p.keep_spare(unborrow(args));
                p.consume(&mut buf);
            }
            black_box(n)
        })
    });
    let inline = b"SET greeting \"hello world\"\r\n".repeat(16);
    g.bench_function("16 inline SETs", |b| {
        b.iter(|| {
            let mut buf = BytesMut::from(&inline[..]);
            let mut p = RequestParser::default();
            while let Ok(Parsed::Command) = p.next(&mut buf, LIMITS) {
                let mut args = Vec::new();
                p.args(&buf, &mut args);
                black_box(args);
            }
        })
    });
    g.finish();
}

fn encode_replies(c: &mut Criterion) {
    let bulk = Reply::Bulk(Bytes::from_static(b"some value"));
    let array = Reply::Array(
        (0..100)
            .map(|i| Reply::Bulk(Bytes::from(format!("v{i}"))))
            .collect(),
    );
    let map = Reply::map_str(vec![("a", Reply::Int(1)), ("b", Reply::Double(2.5))]);
    let mut g = c.benchmark_group("encode");
    for (name, r) in [("bulk", &bulk), ("array of 100", &array), ("map", &map)] {
        for proto in [Proto::Resp2, Proto::Resp3] {
            g.bench_function(format!("{name} {proto:?}"), |b| {
                let mut out = BytesMut::with_capacity(4096);
                b.iter(|| {
                    out.clear();
                    encode(black_box(r), proto, &mut out);
                })
            });
        }
    }
    g.finish();
}

fn lookup(c: &mut Criterion) {
    c.bench_function("registry lookup (GET, client|list)", |b| {
        let client = REGISTRY.find(b"client").unwrap();
        b.iter(|| {
            black_box(REGISTRY.find(black_box(b"GET")));
            black_box(REGISTRY.find_sub(client, black_box(b"list")));
        })
    });
}

fn dispatch_bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let config = Config::load(Some("[server]\nport = 0\n")).unwrap();
    let running = rt.block_on(tenantkv::server::start(config)).unwrap();
    let server = running.server.clone();
    let handle = Arc::new(ClientHandle::new(1, "bench".into(), "bench".into(), 0));
    let mut session = Session::new(handle, server.storage.global.clone(), true, server.started);
    let set: [&[u8]; 3] = [b"SET", b"key:000000000042", b"xxx"];
    let get = &set[..2];
    let mut g = c.benchmark_group("dispatch");
    g.bench_function("SET", |b| {
        b.iter(|| black_box(dispatch::dispatch(&server, &mut session, &set)))
    });
    g.bench_function("GET", |b| {
        b.iter(|| black_box(dispatch::dispatch(&server, &mut session, get)))
    });
    g.finish();
    running.shutdown();
}

criterion_group!(benches, parse, encode_replies, lookup, dispatch_bench);
criterion_main!(benches);
