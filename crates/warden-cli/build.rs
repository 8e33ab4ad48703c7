//! Link flags for the `warden` binary, which Claude Code starts for every tool call.
//!
//! The rule pack and the injection detector are compiled into static tables full of pointers;
//! in a position-independent executable each pointer is a relocation the dynamic loader
//! applies at every start (about 29,000 of them), and every page it writes to is copied for the
//! process. Linked as a fixed-address executable (`-no-pie`) the linker resolves them all once,
//! the tables stay shared, read-only pages of the file, and a hook process starts about 0.9 ms
//! sooner on our bench machine (BENCHMARKS.md). The price is that the `warden` image itself is
//! not placed at a random address (the C library, heap, stack and mappings still are), as with
//! most Go binaries. A build that wants full ASLR sets `WARDEN_PIE=1`: it gets a PIE with packed
//! relative relocations (`DT_RELR`, glibc 2.36 and binutils 2.38 or later), which keeps most of
//! the gain in file size but not in start-up time.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=WARDEN_PIE");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let native = std::env::var("HOST").ok() == std::env::var("TARGET").ok();
    if !(native && target_os == "linux" && target_env == "gnu") {
        return;
    }
    let want_pie = std::env::var("WARDEN_PIE").is_ok_and(|v| !v.is_empty() && v != "0");
    if !want_pie {
        println!("cargo:rustc-link-arg-bin=warden=-no-pie");
    } else if linker_supports_relr() && glibc_supports_relr() {
        println!("cargo:rustc-link-arg-bin=warden=-Wl,-z,pack-relative-relocs");
    }
}

/// Older toolchains reject the flag: probe the system linker rather than fail the build.
fn linker_supports_relr() -> bool {
    let Ok(out) = std::process::Command::new("ld").arg("--help").output() else {
        return false;
    };
    String::from_utf8_lossy(&out.stdout).contains("pack-relative-relocs")
}

/// A binary with packed relocations needs glibc 2.36 or later to start at all: enable them only
/// when the C library this machine runs is that new (builds for other machines go without).
fn glibc_supports_relr() -> bool {
    let Ok(out) = std::process::Command::new("ldd").arg("--version").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(version) = text
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().last())
    else {
        return false;
    };
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    matches!((parts.next(), parts.next()), (Some(Some(major)), Some(Some(minor))) if (major, minor) >= (2, 36))
}
