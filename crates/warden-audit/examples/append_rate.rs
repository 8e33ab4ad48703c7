//! Sustained append rate of one process at the default durability, with
//! checkpoints on (every 128 events, signed, witness written).
//!
//! `cargo run --release -p warden-audit --example append_rate -- [N] [ROUNDS] [no-checkpoints]`
//!
//! Appends N events (default 20,000) one `append` call at a time to a fresh
//! log, ROUNDS times (default 3), and prints events per second for each
//! round (closing the store, which waits for the last witness, included),
//! the median round, and the per-append latencies of the best round.

// `u64::is_multiple_of` is newer than the workspace's rust-version.
#![allow(unknown_lints, clippy::manual_is_multiple_of)]

use std::time::{Duration, Instant};

use warden_audit::{AuditStore, SqliteStore, StoreOptions};

#[path = "../benches/support/event.rs"]
mod support;
use support::event;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let checkpoints = args.next().as_deref() != Some("no-checkpoints");
    let mut best: Option<(f64, Vec<Duration>)> = None;
    let mut rates = Vec::new();
    for round in 0..rounds {
        let dir = tempfile::tempdir()?;
        let mut o = StoreOptions::default();
        o.checkpoints.key_path = Some(dir.path().join("keys/audit-signing.key"));
        o.checkpoints.enabled = checkpoints;
        let store = SqliteStore::open(&dir.path().join("audit.db"), o)?;
        let mut lat = Vec::with_capacity(n as usize);
        let t0 = Instant::now();
        for i in 1..=n {
            let t = Instant::now();
            store.append(event(i))?;
            lat.push(t.elapsed());
        }
        store.close()?;
        let rate = n as f64 / t0.elapsed().as_secs_f64();
        println!("round {round}: {n} appends, {rate:.0} events/s");
        rates.push(rate);
        if best.as_ref().is_none_or(|(r, _)| rate > *r) {
            best = Some((rate, lat));
        }
    }
    rates.sort_by(f64::total_cmp);
    println!("median round: {:.0} events/s", rates[rates.len() / 2]);
    if let Some((rate, mut lat)) = best {
        lat.sort();
        let slow: Vec<_> = lat.iter().filter(|d| d.as_micros() > 300).collect();
        println!(
            "slow (>300us): {} totalling {:?}; all {:?}",
            slow.len(),
            slow.iter().copied().sum::<Duration>(),
            lat.iter().sum::<Duration>()
        );
        println!(
            "best: {rate:.0} events/s; per append median {:?}, p90 {:?}, p99 {:?}",
            lat[lat.len() / 2],
            lat[lat.len() * 9 / 10],
            lat[lat.len() * 99 / 100]
        );
    }
    Ok(())
}
