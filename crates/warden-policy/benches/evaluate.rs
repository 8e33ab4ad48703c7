//! In-process decision throughput on a 200-rule policy.
//!
//! `cargo bench -p warden-policy --bench evaluate`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use warden_policy::{policy_from_toml, Action, EvalContext};

/// A 200-rule policy shaped like a real one: many Bash rules, some path rules, a few fetches.
pub fn two_hundred_rules() -> String {
    let programs = [
        "npm",
        "cargo",
        "git",
        "make",
        "docker",
        "kubectl",
        "terraform",
        "python",
        "node",
        "go",
    ];
    let verbs = [
        "test", "build", "run", "push", "deploy", "install", "publish", "apply", "delete", "exec",
    ];
    let mut deny = Vec::new();
    let mut ask = Vec::new();
    let mut allow = Vec::new();
    for (i, p) in programs.iter().enumerate() {
        for (j, v) in verbs.iter().enumerate() {
            let rule = format!("Bash({p} {v}*)");
            match (i + j) % 3 {
                0 => deny.push(rule),
                1 => ask.push(rule),
                _ => allow.push(rule),
            }
        }
    }
    for i in 0..40 {
        allow.push(format!("Read(./src/module{i}/**)"));
        ask.push(format!("Edit(./infra/env{i}/**)"));
    }
    for i in 0..20 {
        allow.push(format!("WebFetch(domain:docs{i}.example.com)"));
    }
    let list = |v: &[String]| {
        v.iter()
            .map(|r| format!("{r:?}"))
            .collect::<Vec<_>>()
            .join(",\n  ")
    };
    format!("[permissions]\ndeny = [\n  {}\n]\nask = [\n  {}\n]\nallow = [\n  {}\n]\n[scope]\nwrite = [\"./src/**\"]\n", list(&deny), list(&ask), list(&allow))
}

fn bench(c: &mut Criterion) {
    let root = std::env::temp_dir();
    let text = two_hundred_rules();
    let policy = policy_from_toml(&root, None, &text).expect("bench policy compiles");
    assert_eq!(policy.rules().len(), 200);
    let actions = [
        Action::Exec {
            command: "npm test -- --watch".into(),
        },
        Action::Exec {
            command: "git push origin main".into(),
        },
        Action::Read {
            tool: "Read".into(),
            path: "src/module3/lib.rs".into(),
        },
        Action::Edit {
            tool: "Edit".into(),
            path: "infra/env7/main.tf".into(),
            new_text: "x".into(),
        },
        Action::Fetch {
            url: "https://docs4.example.com/page".into(),
        },
    ];
    let ctx = EvalContext::default();
    let mut group = c.benchmark_group("evaluate_200_rules");
    group.throughput(Throughput::Elements(actions.len() as u64));
    group.bench_function("mixed_actions", |b| {
        b.iter(|| {
            for a in &actions {
                black_box(policy.evaluate(black_box(a), &ctx));
            }
        })
    });
    group.finish();

    // The case, "PreToolUse on a Bash call": the two Bash actions of the mix alone,
    // and, for contrast, a compound command that needs the full bash parser.
    let bash = &actions[..2];
    let mut group = c.benchmark_group("evaluate_200_rules_bash");
    group.throughput(Throughput::Elements(bash.len() as u64));
    group.bench_function("two_bash_calls", |b| {
        b.iter(|| {
            for a in bash {
                black_box(policy.evaluate(black_box(a), &ctx));
            }
        })
    });
    let compound = Action::Exec {
        command:
            "cd /repo && git -C sub push origin +main && sudo rm -rf build/ 2>/dev/null | tee log.txt"
                .into(),
    };
    group.throughput(Throughput::Elements(1));
    group.bench_function("compound_command", |b| {
        b.iter(|| black_box(policy.evaluate(black_box(&compound), &ctx)))
    });
    group.finish();

    // Each Bash decision of the mix by itself (one decision per iteration).
    let mut group = c.benchmark_group("evaluate_200_rules_bash_each");
    group.throughput(Throughput::Elements(1));
    for (name, action) in [
        ("npm_test_watch", &bash[0]),
        ("git_push_origin_main", &bash[1]),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| black_box(policy.evaluate(black_box(action), &ctx)))
        });
    }
    group.finish();

    // What resolving a path costs by itself (system calls: the floor of a Read or an Edit).
    let tree = tempfile::tempdir().expect("temporary directory");
    let real = tree
        .path()
        .canonicalize()
        .expect("temporary directory resolves");
    std::fs::create_dir_all(real.join("src/module3")).expect("bench tree");
    std::fs::write(real.join("src/module3/lib.rs"), "").expect("bench file");
    std::os::unix::fs::symlink(real.join("src"), real.join("linked")).expect("bench link");
    let anchors = warden_policy::paths::Anchors::at_root(&real, None);
    let mut group = c.benchmark_group("resolve_path");
    for (name, path) in [
        ("missing", "nothing/here/lib.rs"),
        ("existing", "src/module3/lib.rs"),
        ("through_a_symlink", "linked/module3/lib.rs"),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| anchors.resolve(black_box(std::path::Path::new(path))))
        });
    }
    group.finish();

    c.bench_function("compile_200_rule_policy", |b| {
        b.iter(|| policy_from_toml(&root, None, black_box(&text)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
