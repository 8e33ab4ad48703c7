//! Startup cost of the sandbox, and the cost of its pure parts.
//!
//! `run_true` starts the real sandbox (namespaces, mounts, Landlock, seccomp) on
//! `/bin/true` from the library, so it needs the same kernel support as the tests.

use std::ffi::OsStr;

use criterion::{criterion_group, criterion_main, Criterion};
use warden_sandbox::{proxy::Allowlist, run, scrub_env, EnvPolicy, SandboxSpec};

fn fixture() -> (tempfile::TempDir, SandboxSpec) {
    let t = tempfile::Builder::new()
        .prefix("warden-sandbox-bench-")
        .tempdir_in("/var/tmp")
        .expect("tempdir");
    let home = t.path().join("home");
    let proj = home.join("proj");
    std::fs::create_dir_all(home.join(".ssh")).expect("mkdir");
    std::fs::create_dir_all(&proj).expect("mkdir");
    std::fs::write(home.join(".ssh/id_rsa"), "k").expect("write");
    std::fs::write(proj.join(".env"), "S=1").expect("write");
    let mut spec = SandboxSpec::new(&proj);
    spec.writable.push(proj.clone());
    spec.hidden.push(home.join(".ssh"));
    spec.hidden.push(proj.join(".env"));
    (t, spec)
}

fn bench(c: &mut Criterion) {
    let (_t, spec) = fixture();
    c.bench_function("run_true", |b| {
        b.iter(|| {
            let st = run(&spec, OsStr::new("/bin/true"), &[]).expect("sandbox run");
            assert!(st.success());
        })
    });
    let vars: Vec<(String, String)> = (0..60)
        .map(|i| (format!("VAR_{i}"), format!("value-{i}")))
        .chain([
            ("GITHUB_TOKEN".to_string(), "ghp_x".to_string()),
            ("AWS_SECRET_ACCESS_KEY".to_string(), "x".to_string()),
        ])
        .collect();
    c.bench_function("scrub_env_62_vars", |b| {
        b.iter(|| scrub_env(vars.clone().into_iter(), &EnvPolicy::default()))
    });
    let allow = Allowlist::new(&[
        "api.anthropic.com".to_string(),
        "*.github.com".to_string(),
        ".pypi.org".to_string(),
        "registry.npmjs.org".to_string(),
    ])
    .expect("allowlist");
    c.bench_function("allowlist_check", |b| {
        b.iter(|| allow.allows(std::hint::black_box("files.pythonhosted.example.pypi.org")))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
