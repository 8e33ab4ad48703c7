//! Audit log speed: appends per second, the hook's open+append+close, and
//! verifying a large log.
//!
//! ```text
//! cargo bench -p warden-audit --bench audit
//! WARDEN_AUDIT_BENCH_EVENTS=1000000 cargo bench -p warden-audit --bench audit -- verify
//! ```
//!
//! The large log is generated once into `$TMPDIR/warden-audit-bench-v2-<N>/`
//! (N = `WARDEN_AUDIT_BENCH_EVENTS`, default 1,000,000) and reused. It is
//! written 128 events per transaction, so it holds a signed checkpoint every
//! 128 events (7,813 for a million), as a log written by hooks does.

// `u64::is_multiple_of` is newer than the workspace's rust-version.
#![allow(unknown_lints, clippy::manual_is_multiple_of)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use warden_audit::{AuditStore, Durability, IntegrityCheck, SqliteStore, StoreOptions};

fn opts(dir: &Path, durability: Durability) -> StoreOptions {
    let mut o = StoreOptions {
        durability,
        ..StoreOptions::default()
    };
    o.checkpoints.key_path = Some(dir.join("keys/audit-signing.key"));
    o.checkpoints.witness_dir = Some(dir.join("keys/witness"));
    o
}

#[path = "support/event.rs"]
mod support;
use support::event;

fn append(c: &mut Criterion) {
    let mut g = c.benchmark_group("append");
    g.throughput(Throughput::Elements(1));
    for (name, d, checkpoints) in [
        ("normal", Durability::Normal, true),
        ("normal_no_checkpoints", Durability::Normal, false),
        ("full", Durability::Full, true),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut o = opts(dir.path(), d);
        o.checkpoints.enabled = checkpoints;
        let store = SqliteStore::open(&dir.path().join("audit.db"), o).expect("open");
        let mut i = 0u64;
        g.bench_function(name, |b| {
            b.iter(|| {
                i += 1;
                black_box(store.append(event(i)).expect("append"));
            })
        });
    }
    g.finish();
}

fn hook(c: &mut Criterion) {
    // What one hook process does: open the log, append one event, close.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.db");
    let o = opts(dir.path(), Durability::Normal);
    SqliteStore::open(&path, o.clone())
        .and_then(|s| s.append(event(0)))
        .expect("prime");
    let mut i = 0u64;
    c.bench_function("hook_open_append_close", |b| {
        b.iter_batched(
            || {
                i += 1;
                event(i)
            },
            |ev| {
                let store = SqliteStore::open(&path, o.clone()).expect("open");
                black_box(store.append(ev).expect("append"));
                drop(store);
            },
            BatchSize::SmallInput,
        )
    });
}

fn big_log(n: u64) -> (PathBuf, StoreOptions) {
    let dir = std::env::temp_dir().join(format!("warden-audit-bench-v2-{n}"));
    let path = dir.join("audit.db");
    let mut o = opts(&dir, Durability::Normal);
    let done = dir.join("complete");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("bench dir");
        let store = SqliteStore::open(&path, o.clone()).expect("open");
        let mut next = 1;
        while next <= n {
            // One checkpoint per batch, at its last event: batches of
            // `every` put one every 128 events.
            let end = (next + 128).min(n + 1);
            store
                .append_batch((next..end).map(event).collect())
                .expect("append batch");
            next = end;
        }
        store.checkpoint_now().expect("checkpoint");
        drop(store);
        std::fs::write(&done, b"").expect("mark");
    }
    o.integrity_check = IntegrityCheck::Skip;
    (path, o)
}

fn verify(c: &mut Criterion) {
    let n: u64 = std::env::var("WARDEN_AUDIT_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let (path, o) = big_log(n);
    let mut g = c.benchmark_group("verify");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(n));
    for (name, check) in [
        ("chain_and_checkpoints", IntegrityCheck::Skip),
        ("with_quick_check", IntegrityCheck::Quick),
    ] {
        let mut o = o.clone();
        o.integrity_check = check;
        let store = SqliteStore::open(&path, o).expect("open");
        g.bench_function(format!("{name}/{n}"), |b| {
            b.iter(|| {
                let r = store.verify().expect("verify");
                assert!(r.is_ok(), "{r:?}");
                assert_eq!(r.events, n);
                black_box(r)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, append, hook, verify);
criterion_main!(benches);
