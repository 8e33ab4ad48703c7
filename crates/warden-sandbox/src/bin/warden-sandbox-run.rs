//! Minimal front end to `warden_sandbox::run`, used by the crate's escape tests
//! and benchmarks. The real command is `warden sandbox` in the CLI crate.
//!
//! ```text
//! warden-sandbox-run [--workdir P] [--writable P]... [--readonly P]... [--hidden P]...
//!     [--protected P]... [--shared-tmp] [--net none|host|allow:a,b] [--loopback-port N]...
//!     [--pass VAR]... [--set K=V]... [--max-procs N] [--mem BYTES] [--fsize BYTES]
//!     [--timeout-ms N] [--proxy-log FILE] [--allow-degraded] [--probe] -- PROGRAM [ARGS...]
//! ```
//! Exits with the program's status (128+signal when killed, 124 on timeout) or
//! 125 when the sandbox could not start.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use warden_sandbox::{proxy::ProxyAttempt, NetworkPolicy, SandboxSpec};

fn die(msg: &str) -> ! {
    eprintln!("warden-sandbox-run: {msg}");
    std::process::exit(125)
}

fn num(v: Option<OsString>, what: &str) -> u64 {
    v.and_then(|s| s.into_string().ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| die(&format!("{what} needs a number")))
}

fn main() {
    let mut args = std::env::args_os().skip(1);
    let cwd = std::env::current_dir().unwrap_or_else(|e| die(&format!("cwd: {e}")));
    let mut spec = SandboxSpec::new(cwd);
    let mut log: Option<PathBuf> = None;
    let mut rest = Vec::new();
    while let Some(a) = args.next() {
        let s = a.to_string_lossy().into_owned();
        let mut path = || PathBuf::from(args.next().unwrap_or_else(|| die(&format!("{s} needs a path"))));
        match s.as_str() {
            "--workdir" => spec.workdir = path(),
            "--writable" => spec.writable.push(path()),
            "--readonly" => spec.readonly.push(path()),
            "--hidden" => spec.hidden.push(path()),
            "--protected" => spec.protected.push(path()),
            "--proxy-log" => log = Some(path()),
            "--shared-tmp" => spec.private_tmp = false,
            "--allow-degraded" => spec.allow_degraded = true,
            "--probe" => {
                for l in warden_sandbox::probe().summary() {
                    println!("{l}");
                }
                return;
            }
            "--net" => {
                let v = args.next().and_then(|v| v.into_string().ok()).unwrap_or_default();
                spec.network = match v.as_str() {
                    "none" => NetworkPolicy::None,
                    "host" => NetworkPolicy::Host,
                    _ => match v.strip_prefix("allow:") {
                        Some(list) => NetworkPolicy::AllowDomains(list.split(',').map(str::to_string).collect()),
                        None => die("--net none|host|allow:a,b"),
                    },
                }
            }
            "--loopback-port" => {
                let n = num(args.next(), &s);
                spec.loopback_ports.push(u16::try_from(n).unwrap_or_else(|_| die("port out of range")));
            }
            "--pass" => spec.env.pass.push(args.next().and_then(|v| v.into_string().ok()).unwrap_or_else(|| die("--pass VAR"))),
            "--set" => {
                let kv = args.next().and_then(|v| v.into_string().ok()).unwrap_or_default();
                let (k, v) = kv.split_once('=').unwrap_or_else(|| die("--set K=V"));
                spec.env.set.push((k.to_string(), v.to_string()));
            }
            "--max-procs" => spec.limits.max_processes = Some(num(args.next(), &s)),
            "--mem" => spec.limits.memory_bytes = Some(num(args.next(), &s)),
            "--fsize" => spec.limits.file_size_bytes = Some(num(args.next(), &s)),
            "--timeout-ms" => spec.limits.wall_time = Some(Duration::from_millis(num(args.next(), &s))),
            "--" => {
                rest.extend(args.by_ref());
                break;
            }
            other => die(&format!("unknown option {other}")),
        }
    }
    let Some(program) = rest.first().cloned() else {
        die("usage: warden-sandbox-run [OPTIONS] -- PROGRAM [ARGS...]")
    };
    let file = log.map(|p| {
        Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&p)
                .unwrap_or_else(|e| die(&format!("{}: {e}", p.display()))),
        )
    });
    let file = Arc::new(file);
    let observer = Arc::new(move |a: &ProxyAttempt| {
        if let Some(f) = file.as_ref() {
            if let Ok(mut f) = f.lock() {
                let _ = writeln!(f, "{} {}:{} allowed={} {}", a.method, a.host, a.port, a.allowed, a.detail);
            }
        }
    });
    match warden_sandbox::run_with_observer(&spec, &program, &rest[1..], observer) {
        Ok(st) => std::process::exit(st.shell_code()),
        Err(e) => die(&e.to_string()),
    }
}
