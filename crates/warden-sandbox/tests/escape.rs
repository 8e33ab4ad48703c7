//! Escape tests: each runs the real sandbox (through the `warden-sandbox-run`
//! helper binary) on a shell command or a single system call, and checks both
//! that the attempt failed inside and that nothing changed outside. Where it
//! proves the test could fail, the same attempt is first shown to work outside.
//!
//! Needs: Linux with user namespaces, Landlock and seccomp (the tests fail, not
//! skip, when the kernel lacks them), `bash`, `getent`, `unshare`, `mount`,
//! `sleep`, `id` (coreutils, util-linux, libc-bin). Run as root or as a user.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_warden-sandbox-run");
const KEY: &str = "-----BEGIN FAKE OPENSSH PRIVATE KEY----- abc123";
const DOTENV: &str = "DB_PASSWORD=fake-dotenv-secret";
const ORIGINAL: &str = "original outside content\n";

struct Fixture {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    proj: PathBuf,
    outside: PathBuf,
    target: PathBuf,
    audit: PathBuf,
    policy: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        // Not under /tmp: the sandbox gives the program a private /tmp, and the
        // "outside" files must stay visible (read-only) inside.
        let tmp = tempfile::Builder::new()
            .prefix("warden-sandbox-test-")
            .tempdir_in("/var/tmp")
            .unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let home = root.join("home");
        let proj = home.join("project");
        let outside = root.join("outside");
        for d in [
            home.join(".ssh"),
            proj.join(".warden"),
            outside.clone(),
            home.join(".local/share/warden"),
        ] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(home.join(".ssh/id_rsa"), KEY).unwrap();
        std::fs::write(proj.join(".env"), DOTENV).unwrap();
        std::fs::write(proj.join("README"), "hello\n").unwrap();
        let policy = proj.join(".warden/policy.toml");
        std::fs::write(&policy, "default = \"deny\"\n").unwrap();
        let audit = home.join(".local/share/warden/audit.db");
        std::fs::write(&audit, "AUDIT-CHAIN").unwrap();
        let target = outside.join("target.txt");
        std::fs::write(&target, ORIGINAL).unwrap();
        Fixture {
            _tmp: tmp,
            home,
            proj,
            outside,
            target,
            audit,
            policy,
        }
    }

    fn args(&self, extra: &[&str]) -> Vec<OsString> {
        let bindir = Path::new(BIN).parent().unwrap();
        let mut a: Vec<OsString> = vec![
            "--workdir".into(),
            self.proj.clone().into(),
            "--writable".into(),
            self.proj.clone().into(),
            "--hidden".into(),
            self.home.join(".ssh").into(),
            "--hidden".into(),
            self.proj.join(".env").into(),
            "--protected".into(),
            self.proj.join(".warden").into(),
            "--protected".into(),
            self.audit.clone().into(),
            "--readonly".into(),
            bindir.into(),
            "--set".into(),
            format!("HOME={}", self.home.display()).into(),
            "--set".into(),
            format!("OUT={}", self.outside.display()).into(),
            "--set".into(),
            format!("PROJ={}", self.proj.display()).into(),
        ];
        a.extend(extra.iter().map(OsString::from));
        a
    }

    /// Run `sh -c script` in the sandbox.
    fn sh(&self, extra: &[&str], script: &str) -> Output {
        let mut a = self.args(extra);
        a.extend(["--".into(), "/bin/sh".into(), "-c".into(), script.into()]);
        run(a, None)
    }

    /// Run the helper's `--attempt WHAT ARG` in the sandbox.
    fn attempt(&self, extra: &[&str], what: &str, arg: Option<&str>) -> Output {
        let mut a = self.args(extra);
        a.extend(["--".into(), BIN.into(), "--attempt".into(), what.into()]);
        if let Some(x) = arg {
            a.push(x.into());
        }
        run(a, None)
    }

    fn target_unchanged(&self) {
        assert_eq!(std::fs::read_to_string(&self.target).unwrap(), ORIGINAL);
    }
}

fn run(args: Vec<OsString>, stdin: Option<&str>) -> Output {
    let mut c = Command::new(BIN);
    c.args(&args)
        .env("GITHUB_TOKEN", "ghp_thisisafaketokenvalue0000")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn helper");
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() != Some(125) && !err.contains("warden-sandbox-run:"),
        "the sandbox did not start: {err}"
    );
    out
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn denied(o: &Output) {
    let t = text(o);
    assert_eq!(o.status.code(), Some(1), "expected DENIED, got: {t}");
    assert!(t.contains("DENIED"), "{t}");
}

/// Marker printed after the attempt, proving the script ran to the end.
const DONE: &str = "; echo SCRIPT-DONE";

fn ran(o: &Output) -> String {
    let t = text(o);
    assert!(
        t.contains("SCRIPT-DONE"),
        "script did not run to the end: {t}"
    );
    t
}

// ---------------------------------------------------------------- writes

#[test]
fn write_outside_allowlist_directly_is_blocked() {
    let f = Fixture::new();
    let t = ran(&f.sh(
        &[],
        &format!("echo pwned > '{}' && echo WROTE{DONE}", f.target.display()),
    ));
    assert!(!t.contains("WROTE"), "{t}");
    f.target_unchanged();
    // The home directory (outside the allowlist) is read-only too.
    let t = ran(&f.sh(
        &[],
        &format!("touch '{}/newfile' && echo WROTE{DONE}", f.home.display()),
    ));
    assert!(!t.contains("WROTE"), "{t}");
    assert!(!f.home.join("newfile").exists());
}

#[test]
fn write_through_symlink_is_blocked() {
    let f = Fixture::new();
    let t = ran(&f.sh(
        &[],
        &format!(
            "ln -s '{}' link && echo LINKED; echo pwned > link && echo WROTE{DONE}",
            f.target.display()
        ),
    ));
    assert!(t.contains("LINKED"), "{t}");
    assert!(!t.contains("WROTE"), "{t}");
    f.target_unchanged();
}

#[test]
fn write_through_dotdot_is_blocked() {
    let f = Fixture::new();
    let t = ran(&f.sh(
        &[],
        &format!("echo pwned > ../../outside/target.txt && echo WROTE{DONE}"),
    ));
    assert!(!t.contains("WROTE"), "{t}");
    f.target_unchanged();
}

#[test]
fn write_through_proc_self_root_is_blocked() {
    let f = Fixture::new();
    let t = ran(&f.sh(
        &[],
        &format!(
            "echo pwned > /proc/self/root'{}' && echo WROTE{DONE}",
            f.target.display()
        ),
    ));
    assert!(!t.contains("WROTE"), "{t}");
    f.target_unchanged();
}

#[test]
fn write_through_hard_link_is_blocked() {
    let f = Fixture::new();
    // Outside the sandbox the hard link works (same filesystem): the test could fail.
    let probe = f.outside.join("hl-outside");
    std::fs::hard_link(&f.target, &probe).unwrap();
    std::fs::remove_file(&probe).unwrap();
    let t = ran(&f.sh(
        &[],
        &format!(
            "ln '{}' hl && echo LINKED; echo pwned >> hl && echo WROTE{DONE}",
            f.target.display()
        ),
    ));
    assert!(!t.contains("LINKED"), "{t}");
    f.target_unchanged();
}

#[test]
fn write_inside_allowlist_works() {
    let f = Fixture::new();
    let o = f.sh(&[], "echo made > new.txt && mkdir -p sub/dir && echo deep > sub/dir/f && mv new.txt moved.txt && cat README");
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(f.proj.join("moved.txt")).unwrap(),
        "made\n"
    );
    assert_eq!(
        std::fs::read_to_string(f.proj.join("sub/dir/f")).unwrap(),
        "deep\n"
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout), "hello\n");
}

#[test]
fn a_writable_file_is_writable_and_only_it() {
    // An agent keeps state in one file beside the project (Claude Code's ~/.claude.json):
    // the sandbox must accept a single writable file and not widen it to its directory.
    let f = Fixture::new();
    let state = f.outside.join("agent-state.json");
    std::fs::write(&state, "{}").unwrap();
    let state_arg = state.display().to_string();
    let o = f.sh(
        &["--writable", &state_arg],
        "echo '{\"n\":1}' > \"$OUT/agent-state.json\" && cat \"$OUT/agent-state.json\"",
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&state).unwrap(), "{\"n\":1}\n");
    let o = f.sh(
        &["--writable", &state_arg],
        "echo changed > \"$OUT/target.txt\"",
    );
    assert!(!o.status.success(), "{}", text(&o));
    f.target_unchanged();
}

#[test]
fn private_tmp_is_writable_and_private() {
    let f = Fixture::new();
    let marker = format!("/tmp/warden-sandbox-private-{}", std::process::id());
    let o = f.sh(
        &[],
        &format!("echo x > {marker} && cat {marker} && ls /tmp | wc -l"),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        !Path::new(&marker).exists(),
        "private /tmp leaked to the host"
    );
}

// ---------------------------------------------------------------- reads

#[test]
fn reading_ssh_key_is_blocked() {
    let f = Fixture::new();
    let key = f.home.join(".ssh/id_rsa");
    let t = ran(&f.sh(
        &[],
        &format!(
            "cat '{}'; ls -a '{}'; cat ~/.ssh/*{DONE}",
            key.display(),
            f.home.join(".ssh").display()
        ),
    ));
    assert!(!t.contains("FAKE OPENSSH"), "{t}");
    assert!(!t.contains("id_rsa\n"), "listing shows the key file: {t}");
}

#[test]
fn reading_project_dotenv_is_blocked() {
    let f = Fixture::new();
    let t = ran(&f.sh(
        &[],
        &format!(
            "cat .env; cat '{}/.env'; grep -r fake-dotenv . {DONE}",
            f.proj.display()
        ),
    ));
    assert!(!t.contains("fake-dotenv-secret"), "{t}");
    // ... and it cannot be replaced or removed either.
    let t = ran(&f.sh(&[], &format!("rm -f .env; echo X=1 > .env{DONE}")));
    assert!(t.contains("SCRIPT-DONE"));
    assert_eq!(
        std::fs::read_to_string(f.proj.join(".env")).unwrap(),
        DOTENV
    );
}

// ---------------------------------------------------------------- protected

#[test]
fn changing_the_policy_file_is_blocked() {
    let f = Fixture::new();
    let t = ran(&f.sh(
        &[],
        &format!(
            "echo 'default = \"allow\"' > '{p}' && echo WROTE; rm -f '{p}' && echo REMOVED; mv '{p}' /tmp/x && echo MOVED; mv .warden .w2 && echo DIRMOVED; cat '{p}'{DONE}",
            p = f.policy.display()
        ),
    ));
    for bad in ["WROTE", "REMOVED", "MOVED", "DIRMOVED"] {
        assert!(!t.contains(bad), "{bad}: {t}");
    }
    assert!(
        t.contains("default = \"deny\""),
        "policy should stay readable: {t}"
    );
    assert_eq!(
        std::fs::read_to_string(&f.policy).unwrap(),
        "default = \"deny\"\n"
    );
}

#[test]
fn changing_the_audit_store_is_blocked() {
    let f = Fixture::new();
    let t = ran(&f.sh(
        &[],
        &format!(
            "echo tampered > '{a}' && echo WROTE; truncate -s 0 '{a}' && echo TRUNCATED; rm -f '{a}' && echo REMOVED{DONE}",
            a = f.audit.display()
        ),
    ));
    for bad in ["WROTE", "TRUNCATED", "REMOVED"] {
        assert!(!t.contains(bad), "{bad}: {t}");
    }
    assert_eq!(std::fs::read_to_string(&f.audit).unwrap(), "AUDIT-CHAIN");
}

#[test]
fn protected_path_that_could_be_created_inside_is_refused() {
    let f = Fixture::new();
    let mut a = f.args(&[
        "--protected",
        f.proj.join(".claude/settings.local.json").to_str().unwrap(),
    ]);
    a.extend(["--".into(), "true".into()]);
    let o = Command::new(BIN).args(&a).output().unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&o.stderr).contains("could be created from inside"));
}

// ---------------------------------------------------------------- network

#[test]
fn connecting_to_a_loopback_service_outside_is_blocked() {
    let f = Fixture::new();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    l.set_nonblocking(true).unwrap();
    let o = f.attempt(&[], "connect", Some(&format!("127.0.0.1:{port}")));
    denied(&o);
    // Nobody reached the listener.
    assert!(l.accept().is_err());
    // Same with the proxy network mode.
    let o = f.attempt(
        &["--net", "allow:localhost"],
        "connect",
        Some(&format!("127.0.0.1:{port}")),
    );
    denied(&o);
    assert!(l.accept().is_err());
}

#[test]
fn connecting_to_an_outside_address_is_blocked() {
    let f = Fixture::new();
    // Any routable address: the sandbox has no route at all.
    denied(&f.attempt(&[], "connect", Some("1.1.1.1:443")));
    denied(&f.attempt(
        &["--net", "allow:one.one.one.one"],
        "connect",
        Some("1.1.1.1:443"),
    ));
}

#[test]
fn resolving_dns_fails() {
    let f = Fixture::new();
    denied(&f.attempt(&[], "resolve", Some("example.com")));
    let t = ran(&f.sh(
        &["--net", "allow:example.com"],
        &format!("getent hosts example.com && echo RESOLVED{DONE}"),
    ));
    assert!(!t.contains("RESOLVED"), "{t}");
}

/// A one-shot HTTP server on the host's loopback.
fn http_server(body: &'static str) -> (u16, std::thread::JoinHandle<usize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let mut served = 0;
        l.set_nonblocking(false).unwrap();
        if let Ok((mut s, _)) = l.accept() {
            let mut buf = [0u8; 2048];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            served += 1;
        }
        served
    });
    (port, h)
}

/// Speak HTTP to the proxy from inside with bash's /dev/tcp (no curl needed).
fn via_proxy(request: &str) -> String {
    format!(
        "p=${{HTTP_PROXY##*:}}; exec 3<>/dev/tcp/127.0.0.1/$p || exit 9; printf '{request}' >&3; cat <&3"
    )
}

#[test]
fn allowlisted_domain_goes_through_the_proxy() {
    let f = Fixture::new();
    let (port, server) = http_server("hello-from-allowlisted-host");
    let log = f.outside.join("proxy.log");
    let req =
        format!("GET http://localhost:{port}/ HTTP/1.1\\r\\nHost: localhost:{port}\\r\\n\\r\\n");
    let mut a = f.args(&[
        "--net",
        "allow:localhost",
        "--proxy-log",
        log.to_str().unwrap(),
    ]);
    a.extend([
        "--".into(),
        "bash".into(),
        "-c".into(),
        via_proxy(&req).into(),
    ]);
    let o = run(a, None);
    let t = text(&o);
    assert!(t.contains("hello-from-allowlisted-host"), "{t}");
    assert_eq!(server.join().unwrap(), 1);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains(&format!("GET localhost:{port} allowed=true")),
        "{logged}"
    );
}

#[test]
fn denied_domain_is_refused_by_the_proxy_and_logged() {
    let f = Fixture::new();
    let log = f.outside.join("proxy.log");
    let mut a = f.args(&[
        "--net",
        "allow:localhost",
        "--proxy-log",
        log.to_str().unwrap(),
    ]);
    a.extend([
        "--".into(),
        "bash".into(),
        "-c".into(),
        via_proxy("CONNECT example.com:443 HTTP/1.1\\r\\nHost: example.com:443\\r\\n\\r\\n").into(),
    ]);
    let t = text(&run(a, None));
    assert!(t.contains("403 Forbidden"), "{t}");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("CONNECT example.com:443 allowed=false"),
        "{logged}"
    );
}

#[test]
fn loopback_inside_the_sandbox_works_by_default() {
    let f = Fixture::new();
    let o = f.attempt(&[], "serve-and-connect", None);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn landlock_restricts_tcp_ports_when_asked() {
    let f = Fixture::new();
    let o = f.attempt(&["--restrict-ports"], "serve-and-connect", None);
    denied(&o);
    assert!(text(&o).contains("Permission denied"), "{}", text(&o));
    // The proxy's port stays reachable.
    let log = f.outside.join("proxy.log");
    let mut a = f.args(&[
        "--restrict-ports",
        "--net",
        "allow:localhost",
        "--proxy-log",
        log.to_str().unwrap(),
    ]);
    a.extend([
        "--".into(),
        "bash".into(),
        "-c".into(),
        via_proxy("CONNECT example.com:443 HTTP/1.1\\r\\n\\r\\n").into(),
    ]);
    let t = text(&run(a, None));
    assert!(t.contains("403 Forbidden"), "{t}");
}

#[test]
fn raw_and_packet_sockets_are_refused() {
    let f = Fixture::new();
    denied(&f.attempt(&[], "raw-socket", None));
    denied(&f.attempt(&[], "packet-socket", None));
}

// ---------------------------------------------------------------- processes

struct Sleeper(std::process::Child);
impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
fn sleeper() -> Sleeper {
    Sleeper(Command::new("sleep").arg("60").spawn().unwrap())
}

#[test]
fn ptrace_of_a_process_outside_is_blocked() {
    let f = Fixture::new();
    let mut s = sleeper();
    denied(&f.attempt(&[], "ptrace", Some(&s.0.id().to_string())));
    // Even inside, ptrace is refused by seccomp (EPERM), not only hidden by the PID namespace.
    let o = f.attempt(&[], "ptrace-own-child", None);
    denied(&o);
    assert!(text(&o).contains("Operation not permitted"), "{}", text(&o));
    assert!(
        s.0.try_wait().unwrap().is_none(),
        "the outside process was disturbed"
    );
}

#[test]
fn killing_a_process_outside_is_blocked() {
    let f = Fixture::new();
    let mut s = sleeper();
    let pid = s.0.id().to_string();
    denied(&f.attempt(&[], "kill", Some(&pid)));
    let t = ran(&f.sh(
        &[],
        &format!("kill -9 {pid} && echo KILLED; pkill -9 sleep; kill -9 -1{DONE}"),
    ));
    assert!(!t.contains("KILLED"), "{t}");
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        s.0.try_wait().unwrap().is_none(),
        "the outside process was killed"
    );
}

#[test]
fn mount_is_refused() {
    let f = Fixture::new();
    let o = f.attempt(&[], "mount", None);
    denied(&o);
    assert!(text(&o).contains("Operation not permitted"));
    denied(&f.attempt(&[], "umount-root", None));
    let t = ran(&f.sh(
        &[],
        &format!("mount -t tmpfs none /mnt && echo MOUNTED{DONE}"),
    ));
    assert!(!t.contains("MOUNTED"), "{t}");
}

#[test]
fn creating_a_user_namespace_is_refused() {
    let f = Fixture::new();
    denied(&f.attempt(&[], "userns", None));
    denied(&f.attempt(&[], "clone-userns", None));
    let t = ran(&f.sh(&[], &format!("unshare -Ur true && echo UNSHARED{DONE}")));
    assert!(!t.contains("UNSHARED"), "{t}");
}

#[test]
fn keyctl_bpf_and_terminal_injection_are_refused() {
    let f = Fixture::new();
    denied(&f.attempt(&[], "keyctl", None));
    denied(&f.attempt(&[], "bpf", None));
    denied(&f.attempt(&[], "tiocsti", None));
}

#[test]
fn setuid_binary_gives_no_rights() {
    let f = Fixture::new();
    // A copy of `id` that is setuid to uid 4242, outside the allowlist.
    let id = ["/usr/bin/id", "/bin/id"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap();
    let suid = f.outside.join("id-suid");
    std::fs::copy(id, &suid).unwrap();
    nix::unistd::chown(&suid, Some(nix::unistd::Uid::from_raw(4242)), None).unwrap();
    std::fs::set_permissions(&suid, std::fs::Permissions::from_mode(0o4755)).unwrap();
    // Outside, it does switch the effective uid (so the test can fail) ...
    let outside = Command::new(&suid).output().unwrap();
    assert!(String::from_utf8_lossy(&outside.stdout).contains("euid=4242"));
    // ... inside it does not; nor do the system's own setuid binaries help.
    let t = ran(&f.sh(
        &[],
        &format!("'{}'; su -c 'echo SU-WORKED' nobody{DONE}", suid.display()),
    ));
    assert!(!t.contains("euid=4242"), "{t}");
    assert!(!t.contains("SU-WORKED"), "{t}");
    let t = ran(&f.sh(
        &[],
        &format!("grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs)' /proc/self/status{DONE}"),
    ));
    assert!(t.contains("CapEff:\t0000000000000000"), "{t}");
    assert!(t.contains("CapBnd:\t0000000000000000"), "{t}");
    assert!(t.contains("NoNewPrivs:\t1"), "{t}");
}

#[test]
fn kernel_knobs_and_devices_stay_out_of_reach() {
    let f = Fixture::new();
    let t = ran(&f.sh(
        &[],
        &format!("echo 1 > /proc/sys/kernel/sysrq && echo SYSCTL; ls /dev; echo x > /dev/null && echo DEVNULL-OK{DONE}"),
    ));
    assert!(!t.contains("SYSCTL"), "{t}");
    assert!(t.contains("DEVNULL-OK"), "{t}");
    assert!(
        !t.contains("vda") && !t.contains("sda") && !t.contains("nvme"),
        "host disks visible: {t}"
    );
}

// ---------------------------------------------------------------- pass-through

#[test]
fn exit_status_passes_through() {
    let f = Fixture::new();
    assert_eq!(f.sh(&[], "exit 42").status.code(), Some(42));
    assert_eq!(f.sh(&[], "true").status.code(), Some(0));
}

#[test]
fn death_by_signal_passes_through() {
    let f = Fixture::new();
    assert_eq!(f.sh(&[], "kill -TERM $$").status.code(), Some(128 + 15));
    assert_eq!(f.sh(&[], "kill -KILL $$").status.code(), Some(128 + 9));
}

#[test]
fn stdin_piping_works() {
    let f = Fixture::new();
    let mut a = f.args(&[]);
    a.extend(["--".into(), "tr".into(), "a-z".into(), "A-Z".into()]);
    let o = run(a, Some("piped through\n"));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "PIPED THROUGH\n");
}

#[test]
fn terminal_works_inside() {
    // `script` (util-linux) gives the helper a real pseudo-terminal.
    let f = Fixture::new();
    let inner = format!(
        "{BIN} --workdir '{p}' --writable '{p}' -- sh -c 'test -t 0 && test -t 1 && echo STDIO-IS-TTY; stty size >/dev/null && echo IOCTL-OK; echo via-devtty > /dev/tty && echo DEVTTY-OK'",
        p = f.proj.display()
    );
    let o = Command::new("script")
        .args(["-qec", &inner, "/dev/null"])
        .output()
        .expect("util-linux `script` is needed for this test");
    let t = text(&o);
    for want in ["STDIO-IS-TTY", "IOCTL-OK", "via-devtty", "DEVTTY-OK"] {
        assert!(t.contains(want), "{want} missing: {t}");
    }
    assert!(o.status.success(), "{t}");
}

#[test]
fn credentials_are_scrubbed_from_the_environment() {
    let f = Fixture::new();
    let o = f.sh(&[], "env");
    let t = text(&o);
    assert!(!t.contains("GITHUB_TOKEN"), "{t}");
    assert!(t.contains(&format!("HOME={}", f.home.display())), "{t}");
    let o = f.sh(&["--pass", "GITHUB_TOKEN"], "echo $GITHUB_TOKEN");
    assert!(text(&o).contains("ghp_thisisafaketokenvalue0000"));
}

#[test]
fn wall_time_limit_kills_the_whole_tree() {
    let f = Fixture::new();
    let started = Instant::now();
    let o = f.sh(&["--timeout-ms", "300"], "sleep 30 & sleep 30 & wait");
    assert_eq!(o.status.code(), Some(124));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn file_size_and_process_limits_hold() {
    let f = Fixture::new();
    let o = f.sh(
        &["--fsize", "1000"],
        "head -c 5000 /dev/zero > big; echo rc=$?",
    );
    let size = std::fs::metadata(f.proj.join("big"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert!(size <= 1000, "file grew to {size}: {}", text(&o));
    let script = "for i in $(seq 1 30); do sleep 2 & done; echo ALL-STARTED";
    // Without the limit all thirty start (so the test can fail) ...
    let o = f.sh(&[], script);
    assert!(text(&o).contains("ALL-STARTED"), "{}", text(&o));
    // ... with it, fork fails before the thirtieth.
    let o = f.sh(&["--max-procs", "8"], script);
    let t = text(&o);
    assert!(
        !t.contains("ALL-STARTED"),
        "process limit not enforced: {t}"
    );
    assert!(t.contains("fork"), "{t}");
}

#[test]
fn memory_limit_holds() {
    let f = Fixture::new();
    let script = "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo len=${#x}";
    // Without the limit the shell holds 100 MB (so the test can fail) ...
    let o = f.sh(&[], script);
    assert!(text(&o).contains("len=100000000"), "{}", text(&o));
    // ... with a 30 MB cap it does not get there.
    let o = f.sh(&["--mem", "30000000"], script);
    assert!(!text(&o).contains("len=100000000"), "{}", text(&o));
    assert_ne!(o.status.code(), Some(0));
}

#[test]
fn missing_program_is_a_clear_error() {
    let f = Fixture::new();
    let mut a = f.args(&[]);
    a.extend(["--".into(), "no-such-program-warden".into()]);
    let o = Command::new(BIN).args(&a).output().unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&o.stderr).contains("program not found"));
}
