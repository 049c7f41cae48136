//! Storage's byte accounting per value type: for each collection type, in both its compact and
//! its large encoding, load tens of megabytes into one tenant and compare the growth of the
//! tenant's accounted `memory_used` with the process's real heap growth. Phases run one after
//! another in a single tenant (one test per binary, so nothing else allocates meanwhile), so the
//! keyspace's own table doublings land inside phases and must be accounted too.
//!
//! "Real heap growth" is what the allocator has handed out (glibc's `mallinfo2`, chunk headers
//! included), not RSS: a hash table's reserved capacity is allocated memory but only becomes
//! resident as it is written, so RSS under-reports large hash encodings by up to 30% while
//! they are filling. RSS is printed alongside for comparison.
mod common;

use common::{connect_tenant, create_tenant, rss_bytes, tenant_info_int, TestServer};
use redis::{cmd, Connection, Pipeline};

/// Bytes the allocator has handed out, chunk overhead included, summed over all arenas.
fn heap_bytes() -> u64 {
    // SAFETY: mallinfo2 only reads allocator statistics; glibc ≥ 2.33 (Debian 12 has 2.36).
    let m = unsafe { libc::mallinfo2() };
    (m.uordblks + m.hblkhd) as u64
}

fn memory_used(a: &mut Connection) -> i64 {
    tenant_info_int(a, "acme", "memory_used")
}

/// One phase: `keys` keys of one type, each built with `elements` members.
struct Phase {
    name: &'static str,
    encoding: &'static str,
    keys: usize,
    elements: usize,
}

/// Element text of varied length, mostly short as real members are, and all within the
/// 64-byte listpack value limit; some integers so sets exercise their intset encoding.
fn member(rng: &mut fastrand::Rng, i: usize, numeric: bool) -> String {
    if numeric {
        return (i as u64 * 7919 + rng.u64(0..7)).to_string();
    }
    let len = match rng.u32(0..10) {
        0..=5 => rng.usize(4..16),
        6..=8 => rng.usize(16..48),
        _ => rng.usize(48..64),
    };
    let mut s = format!("m{i}:");
    while s.len() < len {
        s.push(char::from(b'a' + rng.u8(0..26)));
    }
    s
}

fn add_key(p: &mut Pipeline, rng: &mut fastrand::Rng, phase: &Phase, n: usize) {
    let key = format!("{}:{n}", phase.name);
    // A few sets of integers only (intset), the rest mixed text.
    let numeric = phase.name == "set" && n.is_multiple_of(4);
    match phase.name {
        "list" => {
            let c = p.cmd("RPUSH").arg(&key);
            for i in 0..phase.elements {
                c.arg(member(rng, i, false));
            }
        }
        "hash" => {
            let c = p.cmd("HSET").arg(&key);
            for i in 0..phase.elements {
                c.arg(format!("f{i}")).arg(member(rng, i, false));
            }
        }
        "set" => {
            let c = p.cmd("SADD").arg(&key);
            for i in 0..phase.elements {
                c.arg(member(rng, i, numeric));
            }
        }
        "zset" => {
            let c = p.cmd("ZADD").arg(&key);
            for i in 0..phase.elements {
                c.arg(rng.f64() * 1000.0).arg(member(rng, i, false));
            }
        }
        other => unreachable!("{other}"),
    }
    p.ignore();
}

#[test]
fn accounted_memory_tracks_heap_growth_for_every_type_and_encoding() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let secret = create_tenant(&mut a, "acme", &["TIER", "enterprise"]);
    let mut t = connect_tenant(&srv, "acme", &secret).unwrap();
    // Warm up allocator arenas and buffers before the first baseline.
    for c in ["RPUSH", "SADD"] {
        let _: i64 = cmd(c).arg("warm").arg("x").query(&mut t).unwrap();
        let _: i64 = cmd("DEL").arg("warm").query(&mut t).unwrap();
    }

    let phases = [
        ("list", "listpack", 40_000, 8),
        ("list", "quicklist", 300, 1_000),
        ("hash", "listpack", 30_000, 8),
        ("hash", "hashtable", 300, 1_000),
        ("set", "listpack/intset", 40_000, 8),
        ("set", "hashtable", 300, 1_000),
        ("zset", "listpack", 30_000, 8),
        ("zset", "skiplist", 300, 1_000),
    ]
    .map(|(name, encoding, keys, elements)| Phase {
        name,
        encoding,
        keys,
        elements,
    });
    let mut rng = fastrand::Rng::with_seed(7);
    let mut failures = Vec::new();
    let mut first_key = 0;
    for phase in &phases {
        let (rss0, heap0, used0) = (rss_bytes(), heap_bytes(), memory_used(&mut a));
        let per_batch = (20_000 / phase.elements).max(1);
        let mut n = 0;
        while n < phase.keys {
            let mut p = redis::pipe();
            for _ in 0..per_batch.min(phase.keys - n) {
                add_key(&mut p, &mut rng, phase, first_key + n);
                n += 1;
            }
            let _: () = p.query(&mut t).unwrap();
        }
        let sample = format!("{}:{first_key}", phase.name);
        let encoding: String = cmd("OBJECT")
            .arg("ENCODING")
            .arg(&sample)
            .query(&mut t)
            .unwrap();
        assert!(
            phase.encoding.split('/').any(|e| e == encoding),
            "{} phase built {encoding}, wanted {}",
            phase.name,
            phase.encoding
        );
        first_key += phase.keys;
        let (rss1, heap1, used1) = (rss_bytes(), heap_bytes(), memory_used(&mut a));
        let rss = rss1.saturating_sub(rss0) as f64;
        let heap = heap1.saturating_sub(heap0) as f64;
        let accounted = (used1 - used0) as f64;
        let ratio = accounted / heap;
        eprintln!(
            "{:>4} {:<16} accounted {accounted:>10} heap {heap:>10} ratio {ratio:.3} (rss {rss:>10}, {:.3})",
            phase.name, phase.encoding, accounted / rss
        );
        if !(0.85..=1.15).contains(&ratio) {
            failures.push(format!(
                "{} ({}): accounted {accounted} vs heap growth {heap}, ratio {ratio:.3}",
                phase.name, phase.encoding
            ));
        }
    }
    assert!(failures.is_empty(), "outside ±15%: {failures:#?}");
}
