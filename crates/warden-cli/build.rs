//! Link flags for the `warden` binary, which Claude Code starts for every tool call.
//!
//! The rule pack and the injection detector are compiled into static tables full of pointers;
//! in a position-independent executable each pointer is a relocation the dynamic loader
//! applies at every start (about 29,000 of them). Packed relative relocations (`DT_RELR`,
//! glibc 2.36 and binutils 2.38 or later) keep ASLR and shrink that table from ~690 KB to a few
//! KB, so a hook process reads and processes far less before `main`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let native = std::env::var("HOST").ok() == std::env::var("TARGET").ok();
    if native
        && target_os == "linux"
        && target_env == "gnu"
        && linker_supports_relr()
        && glibc_supports_relr()
    {
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
