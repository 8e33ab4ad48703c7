//! Minimal front end to `warden_sandbox::run`, used by the crate's escape tests
//! and benchmarks. The real command is `warden sandbox` in the CLI crate.
//!
//! ```text
//! warden-sandbox-run [--workdir P] [--writable P]... [--readonly P]... [--hidden P]...
//!     [--protected P]... [--shared-tmp] [--net none|host|allow:a,b] [--restrict-ports] [--loopback-port N]...
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

/// `--attempt WHAT [ARG]`: try one thing an escaping program would try, print
/// `ALLOWED` (exit 0) or `DENIED: <error>` (exit 1). Run *inside* the sandbox by
/// the escape tests, so that each test exercises the real system call.
fn attempt(what: &str, arg: Option<String>) -> ! {
    let pid = || -> i32 {
        arg.as_deref()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| die("this attempt needs a pid"))
    };
    let errno = |r: libc::c_long| -> Result<(), std::io::Error> {
        if r < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(())
        }
    };
    let result: Result<(), std::io::Error> = match what {
        // SAFETY (all blocks below): plain system calls with integer or valid
        // NUL-terminated string arguments; failure is the expected outcome.
        "ptrace" => errno(unsafe {
            libc::ptrace(
                libc::PTRACE_ATTACH,
                pid(),
                std::ptr::null_mut::<libc::c_void>(),
                std::ptr::null_mut::<libc::c_void>(),
            )
        }),
        "ptrace-own-child" => {
            let mut child = std::process::Command::new("sleep")
                .arg("5")
                .spawn()
                .unwrap_or_else(|e| die(&format!("spawn sleep: {e}")));
            let id = i32::try_from(child.id()).unwrap_or(0);
            let r = errno(unsafe {
                libc::ptrace(
                    libc::PTRACE_ATTACH,
                    id,
                    std::ptr::null_mut::<libc::c_void>(),
                    std::ptr::null_mut::<libc::c_void>(),
                )
            });
            let _ = child.kill();
            let _ = child.wait();
            r
        }
        "kill" => errno(unsafe { libc::kill(pid(), libc::SIGKILL) }.into()),
        "mount" => errno(
            unsafe {
                libc::mount(
                    c"none".as_ptr(),
                    c"/mnt".as_ptr(),
                    c"tmpfs".as_ptr(),
                    0,
                    std::ptr::null(),
                )
            }
            .into(),
        ),
        "umount-root" => errno(unsafe { libc::umount2(c"/".as_ptr(), libc::MNT_DETACH) }.into()),
        "userns" => errno(unsafe { libc::unshare(libc::CLONE_NEWUSER) }.into()),
        "clone-userns" => {
            // SAFETY: a raw clone without a new stack behaves like fork; the child exits at once.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_clone,
                    (libc::CLONE_NEWUSER | libc::SIGCHLD) as libc::c_ulong,
                    0,
                    0,
                    0,
                    0,
                )
            };
            if r == 0 {
                unsafe { libc::_exit(0) };
            }
            if r > 0 {
                let mut st = 0;
                unsafe { libc::waitpid(r as i32, &mut st, 0) };
            }
            errno(r)
        }
        "raw-socket" => {
            errno(unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP) }.into())
        }
        "packet-socket" => {
            errno(unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0) }.into())
        }
        "keyctl" => errno(unsafe {
            libc::syscall(libc::SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0)
        }),
        "bpf" => errno(unsafe { libc::syscall(libc::SYS_bpf, 0, 0, 0) }),
        "tiocsti" => {
            let c: libc::c_char = b'x' as libc::c_char;
            errno(unsafe { libc::ioctl(0, libc::TIOCSTI, &c as *const libc::c_char) }.into())
        }
        "connect" => {
            let a = arg.unwrap_or_else(|| die("connect needs HOST:PORT"));
            std::net::ToSocketAddrs::to_socket_addrs(&a.as_str())
                .and_then(|mut it| it.next().ok_or_else(|| std::io::Error::other("no address")))
                .and_then(|sa| std::net::TcpStream::connect_timeout(&sa, Duration::from_secs(3)))
                .map(|_| ())
        }
        "serve-and-connect" => std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| {
            let addr = l.local_addr()?;
            let _c = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(3))?;
            l.accept().map(|_| ())
        }),
        "resolve" => {
            let a = arg.unwrap_or_else(|| die("resolve needs a name"));
            std::net::ToSocketAddrs::to_socket_addrs(&(a.as_str(), 443)).map(|_| ())
        }
        other => die(&format!("unknown attempt {other}")),
    };
    match result {
        Ok(()) => {
            println!("ALLOWED");
            std::process::exit(0)
        }
        Err(e) => {
            println!("DENIED: {e}");
            std::process::exit(1)
        }
    }
}

fn main() {
    let mut args = std::env::args_os().skip(1);
    let cwd = std::env::current_dir().unwrap_or_else(|e| die(&format!("cwd: {e}")));
    let spec_cwd = cwd.clone();
    let mut spec = SandboxSpec::new(cwd);
    let mut log: Option<PathBuf> = None;
    let mut rest = Vec::new();
    while let Some(a) = args.next() {
        let s = a.to_string_lossy().into_owned();
        let mut path = || {
            let p = PathBuf::from(
                args.next()
                    .unwrap_or_else(|| die(&format!("{s} needs a path"))),
            );
            if p.is_absolute() {
                p
            } else {
                spec_cwd.join(p)
            }
        };
        match s.as_str() {
            "--workdir" => spec.workdir = path(),
            "--writable" => spec.writable.push(path()),
            "--readonly" => spec.readonly.push(path()),
            "--hidden" => spec.hidden.push(path()),
            "--protected" => spec.protected.push(path()),
            "--proxy-log" => log = Some(path()),
            "--shared-tmp" => spec.private_tmp = false,
            "--restrict-ports" => {
                spec.loopback_ports.get_or_insert_with(Vec::new);
            }
            "--allow-degraded" => spec.allow_degraded = true,
            "--attempt" => {
                let what = args
                    .next()
                    .and_then(|v| v.into_string().ok())
                    .unwrap_or_default();
                attempt(&what, args.next().and_then(|v| v.into_string().ok()))
            }
            "--probe" => {
                for l in warden_sandbox::probe().summary() {
                    println!("{l}");
                }
                return;
            }
            "--net" => {
                let v = args
                    .next()
                    .and_then(|v| v.into_string().ok())
                    .unwrap_or_default();
                spec.network = match v.as_str() {
                    "none" => NetworkPolicy::None,
                    "host" => NetworkPolicy::Host,
                    _ => match v.strip_prefix("allow:") {
                        Some(list) => NetworkPolicy::AllowDomains(
                            list.split(',').map(str::to_string).collect(),
                        ),
                        None => die("--net none|host|allow:a,b"),
                    },
                }
            }
            "--loopback-port" => {
                let n = num(args.next(), &s);
                spec.loopback_ports
                    .get_or_insert_with(Vec::new)
                    .push(u16::try_from(n).unwrap_or_else(|_| die("port out of range")));
            }
            "--pass" => spec.env.pass.push(
                args.next()
                    .and_then(|v| v.into_string().ok())
                    .unwrap_or_else(|| die("--pass VAR")),
            ),
            "--set" => {
                let kv = args
                    .next()
                    .and_then(|v| v.into_string().ok())
                    .unwrap_or_default();
                let (k, v) = kv.split_once('=').unwrap_or_else(|| die("--set K=V"));
                spec.env.set.push((k.to_string(), v.to_string()));
            }
            "--max-procs" => spec.limits.max_processes = Some(num(args.next(), &s)),
            "--mem" => spec.limits.memory_bytes = Some(num(args.next(), &s)),
            "--fsize" => spec.limits.file_size_bytes = Some(num(args.next(), &s)),
            "--timeout-ms" => {
                spec.limits.wall_time = Some(Duration::from_millis(num(args.next(), &s)))
            }
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
                let _ = writeln!(
                    f,
                    "{} {}:{} allowed={} {}",
                    a.method, a.host, a.port, a.allowed, a.detail
                );
            }
        }
    });
    match warden_sandbox::run_with_observer(&spec, &program, &rest[1..], observer) {
        Ok(st) => std::process::exit(st.shell_code()),
        Err(e) => die(&e.to_string()),
    }
}
