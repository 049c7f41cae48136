//! Storage's byte accounting against reality: 100k keys of mixed shapes loaded into one tenant;
//! the tenant's accounted `memory_used` must be within ±15% of the process's real heap growth.
//! One test per binary, so nothing else allocates in the process meanwhile.
mod common;

use common::{connect_tenant, create_tenant, rss_bytes, tenant_info_int, TestServer};
use redis::{cmd, Connection};

fn memory_used(a: &mut Connection) -> i64 {
    tenant_info_int(a, "acme", "memory_used")
}

#[test]
fn accounted_memory_tracks_real_heap_growth_within_15_percent() {
    let srv = TestServer::start();
    let mut a = srv.client();
    let secret = create_tenant(&mut a, "acme", &["TIER", "enterprise"]);
    let mut t = connect_tenant(&srv, "acme", &secret).unwrap();
    // Warm up allocator arenas and buffers before the baseline.
    let _: () = cmd("SET").arg("warm").arg("x").query(&mut t).unwrap();
    let _: i64 = cmd("DEL").arg("warm").query(&mut t).unwrap();
    let (rss0, used0) = (rss_bytes(), memory_used(&mut a));

    let mut rng = fastrand::Rng::with_seed(42);
    for batch in 0..100 {
        let mut p = redis::pipe();
        for j in 0..1000 {
            let n = batch * 1000 + j;
            // Keys: mostly short (inline), some long (on the heap).
            let key = if n % 5 == 0 {
                format!("user:session:{n:08}:profile:data")
            } else {
                format!("k:{n}")
            };
            // Values: integers, short strings (inline), medium and large ones (heap).
            let value: Vec<u8> = match rng.u32(0..10) {
                0 | 1 => n.to_string().into_bytes(),
                2..=4 => vec![b'a'; rng.usize(1..14)],
                5..=8 => vec![b'b'; rng.usize(20..200)],
                _ => vec![b'c'; rng.usize(500..2000)],
            };
            p.cmd("SET").arg(key).arg(value).ignore();
        }
        let _: () = p.query(&mut t).unwrap();
    }
    let (rss1, used1) = (rss_bytes(), memory_used(&mut a));
    let real = rss1.saturating_sub(rss0) as f64;
    let accounted = (used1 - used0) as f64;
    let ratio = accounted / real;
    eprintln!("accounted {accounted} bytes, RSS growth {real} bytes, ratio {ratio:.3}");
    assert!(
        (0.85..=1.15).contains(&ratio),
        "accounted {accounted} vs real heap growth {real}: ratio {ratio:.3}"
    );
}
