//! The hook's budget: scanning a 100 KiB Write must take at most 1 ms, and building the
//! scanner (once per hook process) must stay small.
//!
//! cargo bench -p warden-secrets --bench scan -- --warm-up-time 1 --measurement-time 3

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use warden_secrets::{ScanConfig, Scanner};

/// ~100 KiB of ordinary code with the words that trigger rules (password, token, key,
/// secret, http URLs) and one real-looking secret at the end.
fn write_payload() -> String {
    let block = r#"
import os
from typing import Optional

API_BASE = "https://api.internal.example.org/v2"
TOKEN_HEADER = "Authorization"

class Client:
    def __init__(self, token: Optional[str] = None, password: Optional[str] = None):
        self.token = token or os.environ.get("SERVICE_TOKEN")
        self.password = password
        self.secret_key = settings.SECRET_KEY
        self.session = None

    def headers(self):
        return {TOKEN_HEADER: f"Bearer {self.token}", "Accept": "application/json"}

    def fetch(self, path, retries=3):
        for attempt in range(retries):
            resp = self.session.get(API_BASE + path, headers=self.headers(), timeout=10)
            if resp.status_code == 200:
                return resp.json()
        raise RuntimeError(f"failed after {retries} attempts: {path}")
"#;
    let mut s = String::with_capacity(110 * 1024);
    while s.len() < 100 * 1024 {
        s.push_str(block);
    }
    s.push_str("GITHUB_TOKEN = \"ghp_4kT9zQ2mW8rL1xV7bN3cF6hJ0pS5dG2aY8eU\"\n");
    s
}

fn benches(c: &mut Criterion) {
    let text = write_payload();
    let scanner = Scanner::builtin();
    assert_eq!(scanner.scan(&text).len(), 1);

    let mut g = c.benchmark_group("scan");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("write_100k", |b| b.iter(|| scanner.scan(black_box(&text))));
    g.bench_function("redact_100k", |b| {
        b.iter(|| scanner.redact(black_box(&text)))
    });
    g.finish();

    let mut g = c.benchmark_group("construct");
    // What a hook process pays once: parse the embedded pack, build the prefilter.
    g.bench_function("builtin_uncached", |b| {
        b.iter(|| {
            Scanner::from_config(ScanConfig {
                use_builtin: true,
                ..ScanConfig::default()
            })
        })
    });
    g.bench_function("builtin_cached", |b| b.iter(Scanner::builtin));
    g.finish();
}

criterion_group!(scan, benches);
criterion_main!(scan);
