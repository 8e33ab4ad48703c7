//! How long the git side of a run takes: what `warden run` and `warden demo` add on top of the
//! agent itself. Real git on a temporary repository of 200 files.

use std::path::Path;
use std::process::Command;

use criterion::{criterion_group, criterion_main, Criterion};
use warden_session::{
    create_workspace, discard, run_gates, snapshot, GateConfig, GateFinding, RunId,
    WorkspaceOptions,
};

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=b", "-c", "user.email=b@example.com"])
        .args(args)
        .status()
        .expect("git runs")
        .success();
    assert!(ok, "git {args:?}");
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    git(dir.path(), &["init", "-q", "-b", "main"]);
    for i in 0..200 {
        let p = dir.path().join(format!("src/m{}/f{i}.rs", i % 10));
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, format!("pub fn f{i}() -> u32 {{ {i} }}\n").repeat(20)).expect("write");
    }
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "init"]);
    dir
}

fn no_secrets(_: &str, _: &str) -> Vec<GateFinding> {
    Vec::new()
}

fn bench(c: &mut Criterion) {
    let dir = repo();
    let root = dir.path();
    let cfg = GateConfig {
        scope: vec!["src".into()],
        ..GateConfig::default()
    };

    let id = RunId::generate().expect("id");
    let ws = create_workspace(root, &id, &WorkspaceOptions::default()).expect("workspace");
    for i in 0..5 {
        std::fs::write(
            ws.worktree.join(format!("src/m0/new{i}.rs")),
            "pub fn n() {}\n".repeat(30),
        )
        .expect("write");
    }
    c.bench_function("snapshot (200 files, 5 new)", |b| {
        b.iter(|| snapshot(&ws).expect("snapshot"))
    });
    c.bench_function("run_gates without tests (200 files, 5 new)", |b| {
        b.iter(|| run_gates(&ws, &cfg, &no_secrets).expect("gates"))
    });
    discard(&ws, "bench").expect("discard");

    let mut n = 0u32;
    c.bench_function("create_workspace + edit + gates + discard", |b| {
        b.iter(|| {
            n += 1;
            let id = RunId::parse(&format!("bench-{n}")).expect("id");
            let ws = create_workspace(root, &id, &WorkspaceOptions::default()).expect("workspace");
            std::fs::write(ws.worktree.join("src/m1/f1.rs"), "pub fn changed() {}\n")
                .expect("write");
            let report = run_gates(&ws, &cfg, &no_secrets).expect("gates");
            discard(&ws, "bench").expect("discard");
            report
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
