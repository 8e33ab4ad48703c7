//! `warden demo --json`: the scripted agent goes through the real hook, the gates discard the
//! broken run, and the audit log verifies.

use serde_json::Value;
use std::process::Command;
use std::time::Instant;

fn step<'a>(summary: &'a Value, title: &str) -> &'a Value {
    summary["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["title"] == title)
        .unwrap_or_else(|| panic!("no step {title:?} in {summary:#}"))
}

#[test]
fn demo_denies_asks_discards_and_verifies() {
    let home = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["demo", "--json"])
        // No user policy or settings from the machine running the tests.
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env_remove("WARDEN_PROJECT_ROOT")
        .env_remove("WARDEN_POLICY")
        .output()
        .unwrap();
    let wall = started.elapsed();
    eprintln!("warden demo --json took {:.2} s", wall.as_secs_f64());
    assert!(
        out.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).expect("JSON summary");

    // Destructive command, both spellings, denied.
    assert_eq!(
        step(&summary, "clean the build directory")["decision"],
        "deny"
    );
    assert_eq!(
        step(&summary, "the same, spelled differently")["decision"],
        "deny"
    );
    // The secret file is never read.
    let env_read = step(&summary, "read .env");
    assert_eq!(env_read["decision"], "deny");
    assert_eq!(env_read["performed"], false);
    // Writing outside the scope is not silently allowed.
    let overreach = step(&summary, "edit outside the task's scope");
    assert_ne!(overreach["decision"], "allow");
    assert_eq!(overreach["performed"], false);
    // The exfiltration attempt after the planted instruction never runs.
    assert_ne!(
        step(&summary, "follow the planted instruction")["decision"],
        "allow"
    );
    // The breaking change is allowed by the policy (inside src/) and caught by the test gate.
    assert_eq!(step(&summary, "change the greeting")["decision"], "allow");
    let tests = summary["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["gate"] == "tests")
        .expect("tests gate");
    assert_eq!(tests["status"], "failed", "{summary:#}");
    assert_eq!(summary["outcome"], "discarded");
    let kept = summary["kept_ref"].as_str().expect("kept ref");
    assert!(kept.starts_with("refs/warden/discarded/"), "{kept}");
    // The audit log holds the run and its chain verifies.
    assert_eq!(summary["audit"]["ok"], true, "{summary:#}");
    assert!(summary["audit"]["run_events"].as_u64().unwrap() >= 10);
    // The throwaway repository is gone without --keep.
    assert!(!std::path::Path::new(summary["repo"].as_str().unwrap()).exists());
    assert!(wall.as_secs() < 30, "demo took {wall:?}");
}

/// Defenses the hook already has: when these hold, the demo shows them.
#[test]
fn demo_reports_secret_writes_and_taint_as_the_hook_answers() {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["demo", "--json"])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env_remove("WARDEN_PROJECT_ROOT")
        .env_remove("WARDEN_POLICY")
        .output()
        .unwrap();
    assert!(out.status.success());
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = step(&summary, "hard-code a cloud key");
    assert_eq!(key["decision"], "deny", "{key:#}");
    assert!(key["reason"].as_str().unwrap().contains("secrets:aws"));
    let readme = step(&summary, "read the README");
    assert_eq!(readme["performed"], true);
    assert!(
        readme["post"]
            .as_str()
            .unwrap_or_default()
            .contains("untrusted"),
        "{readme:#}"
    );
}

#[test]
fn demo_keep_leaves_the_repository_with_its_kept_ref() {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["demo", "--json", "--keep"])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env_remove("WARDEN_PROJECT_ROOT")
        .env_remove("WARDEN_POLICY")
        .output()
        .unwrap();
    assert!(out.status.success());
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let repo = std::path::PathBuf::from(summary["repo"].as_str().unwrap());
    let kept = summary["kept_ref"].as_str().unwrap();
    let show = Command::new("git")
        .args(["show", &format!("{kept}:src/greeting.txt")])
        .current_dir(&repo)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&show.stdout), "hello, moon\n");
    // The user's checkout itself was never touched.
    assert_eq!(
        std::fs::read_to_string(repo.join("src/greeting.txt")).unwrap(),
        "hello, world\n"
    );
    if let Some(base) = repo.parent() {
        std::fs::remove_dir_all(base).unwrap();
    }
}
