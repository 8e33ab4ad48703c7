//! Starting the sandbox: three processes.
//!
//! ```text
//! caller (P) --fork--> A --unshare(user, mnt, pid, ipc, uts, net)--fork--> B (PID 1) --fork--> C --execve--> program
//! ```
//!
//! - **P** (the caller) prepares everything that allocates or may fail (paths,
//!   argv, environment, seccomp programs, cgroups) before forking, then waits on
//!   a report pipe, runs the proxy on the listening socket A hands out, and
//!   enforces the wall-clock limit by killing A.
//! - **A** is a fresh single-threaded child (so `unshare(CLONE_NEWUSER)` is
//!   allowed even if P has threads); it enters the new namespaces, maps its uid
//!   and gid, brings loopback up, creates the proxy's listener inside the new
//!   network namespace and sends it to P, then forks B.
//! - **B** is PID 1 of the new PID namespace: it builds the filesystem view,
//!   drops capabilities, applies Landlock and seccomp, forks C, reaps orphans and
//!   reports C's status. When B exits, the kernel kills everything left in the
//!   namespace, so nothing the program started outlives it.
//! - **C** resets signal dispositions, sets rlimits and execs the program.
//!
//! Every child sets `PR_SET_PDEATHSIG(SIGKILL)`: if P dies, the tree dies.
//! Children end in `execve` or `_exit`, never by returning into the caller.

use std::ffi::{CString, OsStr, OsString};
use std::io::IoSlice;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use landlock::{
    Access, AccessFs, AccessNet, NetPort, PathBeneath, PathFd, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetStatus, Scope, ABI,
};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nix::sys::signal::{kill, SigHandler, Signal};
use nix::sys::socket::{
    recvmsg, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags,
    SockFlag, SockType,
};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};
use seccompiler::BpfProgram;

use crate::fsplan::{OpKind, Plan};
use crate::limits::{rlimits, Cgroups};
use crate::probe::{Mechanism, LANDLOCK_ABI_NET, LANDLOCK_ABI_SCOPE, LANDLOCK_ABI_TRUNCATE};
use crate::{
    proxy, scrub_env, ExitStatusLike, KernelSupport, NetworkPolicy, ProxyObserver, SandboxError,
    SandboxSpec,
};

/// Where the new root is assembled (a tmpfs mounted over `/tmp` inside the new
/// mount namespace; the host's `/tmp` is untouched).
const BASE: &str = "/tmp";

/// Everything the children need, prepared in the parent.
struct Prepared {
    plan: Plan,
    namespaces: bool,
    netns: bool,
    proxy: bool,
    uid: u32,
    gid: u32,
    prog: CString,
    argv: Vec<CString>,
    env: Vec<CString>,
    seccomp: Vec<BpfProgram>,
    landlock_abi: u32,
    loopback_ports: Option<Vec<u16>>,
    rlimits: Vec<(nix::sys::resource::Resource, u64)>,
}

fn cstr(b: &[u8], what: &str) -> Result<CString, SandboxError> {
    CString::new(b).map_err(|_| SandboxError::InvalidSpec(format!("{what} contains a NUL byte")))
}

fn resolve_program(program: &OsStr, env: &[(String, String)]) -> Result<PathBuf, SandboxError> {
    let executable =
        |p: &Path| p.is_file() && nix::unistd::access(p, nix::unistd::AccessFlags::X_OK).is_ok();
    let raw = Path::new(program);
    if program.as_bytes().contains(&b'/') {
        return if executable(raw) {
            Ok(raw.to_path_buf())
        } else {
            Err(SandboxError::ProgramNotFound(raw.display().to_string()))
        };
    }
    let path = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_str())
        .unwrap_or("/usr/local/bin:/usr/bin:/bin");
    for dir in path.split(':').filter(|d| !d.is_empty()) {
        let cand = Path::new(dir).join(program);
        if executable(&cand) {
            return Ok(cand);
        }
    }
    Err(SandboxError::ProgramNotFound(format!(
        "{} (searched PATH={path})",
        raw.display()
    )))
}

/// Ignores SIGINT and SIGQUIT in the caller while the sandbox runs, like system(3).
struct SignalGuard {
    old: Vec<(Signal, nix::sys::signal::SigAction)>,
}

impl SignalGuard {
    fn ignore() -> Result<Self, SandboxError> {
        use nix::sys::signal::{sigaction, SaFlags, SigAction, SigSet};
        let ign = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
        let mut old = Vec::new();
        for s in [Signal::SIGINT, Signal::SIGQUIT] {
            // SAFETY: installing SIG_IGN runs no handler code; the previous action is
            // restored on drop.
            let prev =
                unsafe { sigaction(s, &ign) }.map_err(|e| SandboxError::sys("sigaction", e))?;
            old.push((s, prev));
        }
        Ok(SignalGuard { old })
    }
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        for (s, a) in &self.old {
            // SAFETY: restores the action that was installed before `ignore`.
            let _ = unsafe { nix::sys::signal::sigaction(*s, a) };
        }
    }
}

pub(crate) fn run(
    spec: &SandboxSpec,
    support: &KernelSupport,
    program: &OsStr,
    args: &[OsString],
    observer: ProxyObserver,
) -> Result<ExitStatusLike, SandboxError> {
    let has = |m: Mechanism| support.get(m).is_available();
    let namespaces = [
        Mechanism::UserNamespace,
        Mechanism::MountNamespace,
        Mechanism::PidNamespace,
        Mechanism::IpcNamespace,
        Mechanism::UtsNamespace,
        Mechanism::MountSetattr,
    ]
    .into_iter()
    .all(has);
    let netns = namespaces && spec.network != NetworkPolicy::Host && has(Mechanism::NetNamespace);
    let allowlist = match &spec.network {
        NetworkPolicy::AllowDomains(d) => Some(proxy::Allowlist::new(d)?),
        _ => None,
    };
    let plan = Plan::build(spec)?;
    let vars = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
    let (env, _scrubbed) = scrub_env(vars, &spec.env);
    let prog_path = resolve_program(program, &env)?;
    let mut argv = vec![cstr(program.as_bytes(), "program")?];
    for a in args {
        argv.push(cstr(a.as_bytes(), "an argument")?);
    }
    let env_c = env
        .iter()
        .map(|(k, v)| cstr(format!("{k}={v}").as_bytes(), "an environment variable"))
        .collect::<Result<Vec<_>, _>>()?;
    let seccomp = if has(Mechanism::Seccomp) {
        crate::seccomp::build()?
    } else {
        Vec::new()
    };
    let cgroups = Cgroups::create(&spec.limits);
    let prepared = Prepared {
        plan,
        namespaces,
        netns,
        proxy: allowlist.is_some() && netns,
        uid: nix::unistd::geteuid().as_raw(),
        gid: nix::unistd::getegid().as_raw(),
        prog: cstr(prog_path.as_os_str().as_bytes(), "program path")?,
        argv,
        env: env_c,
        seccomp,
        landlock_abi: if has(Mechanism::Landlock) {
            support.landlock_abi
        } else {
            0
        },
        loopback_ports: spec.loopback_ports.clone(),
        rlimits: rlimits(&spec.limits, &cgroups),
    };

    let (rep_r, rep_w) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| SandboxError::sys("pipe2", e))?;
    let (go_r, go_w) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| SandboxError::sys("pipe2", e))?;
    let fdpass = if prepared.proxy {
        Some(
            socketpair(
                AddressFamily::Unix,
                SockType::SeqPacket,
                None,
                SockFlag::SOCK_CLOEXEC,
            )
            .map_err(|e| SandboxError::sys("socketpair", e))?,
        )
    } else {
        None
    };
    let guard = SignalGuard::ignore()?;
    let parent = nix::unistd::getpid();

    // SAFETY: the child only runs this crate's code on data prepared above and
    // ends in execve or _exit, never returning into the caller. The caller is
    // single-threaded here or its other threads take no lock this path uses
    // (no stdio, no environment access); glibc's fork(3) makes malloc safe to use
    // in the child.
    match unsafe { fork() }.map_err(|e| SandboxError::sys("fork", e))? {
        ForkResult::Child => {
            drop(rep_r);
            drop(go_w);
            let child_end = fdpass.map(|(_, c)| c);
            stage_a(&prepared, go_r, rep_w, child_end, parent)
        }
        ForkResult::Parent { child } => {
            drop(rep_w);
            drop(go_r);
            let parent_end = fdpass.map(|(p, _)| p);
            let out = supervise(
                spec, &cgroups, child, rep_r, go_w, parent_end, allowlist, observer,
            );
            drop(guard);
            out
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn supervise(
    spec: &SandboxSpec,
    cgroups: &Cgroups,
    child: Pid,
    rep_r: OwnedFd,
    go_w: OwnedFd,
    fdpass: Option<OwnedFd>,
    allowlist: Option<proxy::Allowlist>,
    observer: ProxyObserver,
) -> Result<ExitStatusLike, SandboxError> {
    let fail = |e: SandboxError| {
        let _ = kill(child, Signal::SIGKILL);
        let _ = waitpid(child, None);
        e
    };
    if let Err(e) = cgroups.add(child.as_raw()) {
        return Err(fail(SandboxError::sys(
            "moving the sandbox into its cgroup",
            e,
        )));
    }
    if let Err(e) = nix::unistd::write(&go_w, b"g") {
        return Err(fail(SandboxError::sys("starting the sandbox", e)));
    }
    drop(go_w);
    let start = Instant::now();
    let mut proxy_handle = None;
    if let (Some(sock), Some(allow)) = (fdpass, allowlist) {
        if let Some(listener) = recv_listener(&sock) {
            match proxy::spawn(listener, allow, observer) {
                Ok(h) => proxy_handle = Some(h),
                Err(e) => return Err(fail(SandboxError::sys("starting the proxy", e))),
            }
        }
    }
    let mut buf = Vec::new();
    let mut timed_out = false;
    let mut chunk = [0u8; 4096];
    loop {
        let timeout = match spec.limits.wall_time {
            Some(limit) if !timed_out => {
                let left = limit.saturating_sub(start.elapsed());
                if left.is_zero() {
                    timed_out = true;
                    let _ = kill(child, Signal::SIGKILL);
                    continue;
                }
                nix::poll::PollTimeout::try_from(left.as_millis().min(i32::MAX as u128) as i32 + 1)
                    .unwrap_or(nix::poll::PollTimeout::MAX)
            }
            _ => nix::poll::PollTimeout::NONE,
        };
        let mut fds = [nix::poll::PollFd::new(
            std::os::fd::AsFd::as_fd(&rep_r),
            nix::poll::PollFlags::POLLIN,
        )];
        match nix::poll::poll(&mut fds, timeout) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(fail(SandboxError::sys("poll", e))),
        }
        match nix::unistd::read(&rep_r, &mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(fail(SandboxError::sys("reading the sandbox report", e))),
        }
    }
    let a_status = loop {
        match waitpid(child, None) {
            Err(Errno::EINTR) => continue,
            other => break other,
        }
    };
    if let Some(h) = proxy_handle {
        h.stop();
    }
    if timed_out {
        return Ok(ExitStatusLike::TimedOut);
    }
    let mut status = None;
    let mut rest = &buf[..];
    while rest.len() >= 5 {
        let tag = rest[0];
        let len = u32::from_le_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        let Some(body) = rest.get(5..5 + len) else {
            break;
        };
        match tag {
            b'E' => {
                return Err(SandboxError::Setup(
                    String::from_utf8_lossy(body).into_owned(),
                ))
            }
            b'X' if body.len() == 4 => {
                status = Some(ExitStatusLike::Exited(i32::from_le_bytes([
                    body[0], body[1], body[2], body[3],
                ])))
            }
            b'K' if body.len() == 5 => {
                status = Some(ExitStatusLike::Signaled {
                    signal: i32::from_le_bytes([body[0], body[1], body[2], body[3]]),
                    core_dumped: body[4] != 0,
                })
            }
            _ => {}
        }
        rest = &rest[5 + len..];
    }
    status.ok_or_else(|| {
        SandboxError::Setup(format!(
            "the sandbox ended without reporting the program's status (first child: {a_status:?})"
        ))
    })
}

fn recv_listener(sock: &OwnedFd) -> Option<std::net::TcpListener> {
    let mut port = [0u8; 2];
    let mut iov = [std::io::IoSliceMut::new(&mut port)];
    let mut space = nix::cmsg_space!(RawFd);
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .ok()?;
    for c in msg.cmsgs().ok()? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            if let Some(&fd) = fds.first() {
                // SAFETY: the kernel just installed this descriptor for us; we are
                // its only owner.
                return Some(unsafe { std::net::TcpListener::from_raw_fd(fd) });
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------
// In the children. Errors are strings sent to the parent over the report pipe.

fn report(fd: &OwnedFd, tag: u8, body: &[u8]) {
    let mut msg = Vec::with_capacity(5 + body.len());
    msg.push(tag);
    msg.extend_from_slice(&(body.len() as u32).to_le_bytes());
    msg.extend_from_slice(body);
    let mut off = 0;
    while off < msg.len() {
        match nix::unistd::write(fd, &msg[off..]) {
            Ok(n) => off += n,
            Err(Errno::EINTR) => {}
            Err(_) => return,
        }
    }
}

fn exit_now(code: i32) -> ! {
    // SAFETY: _exit ends the process without running the caller's atexit
    // handlers or destructors, which belong to the parent's state.
    unsafe { libc::_exit(code) }
}

fn ctx<T, E: std::fmt::Display>(
    r: Result<T, E>,
    what: impl FnOnce() -> String,
) -> Result<T, String> {
    r.map_err(|e| format!("{}: {e}", what()))
}

fn stage_a(p: &Prepared, go_r: OwnedFd, rep_w: OwnedFd, fdpass: Option<OwnedFd>, parent: Pid) -> ! {
    let res = (|| -> Result<(), String> {
        ctx(nix::sys::prctl::set_pdeathsig(Signal::SIGKILL), || {
            "PR_SET_PDEATHSIG".into()
        })?;
        if nix::unistd::getppid() != parent {
            return Err("the caller exited".into());
        }
        let mut go = [0u8; 1];
        if ctx(nix::unistd::read(&go_r, &mut go), || {
            "waiting for the caller".into()
        })? != 1
        {
            return Err("the caller gave up before the sandbox started".into());
        }
        drop(go_r);
        if p.namespaces {
            let mut flags = CloneFlags::CLONE_NEWUSER
                | CloneFlags::CLONE_NEWNS
                | CloneFlags::CLONE_NEWPID
                | CloneFlags::CLONE_NEWIPC
                | CloneFlags::CLONE_NEWUTS;
            if p.netns {
                flags |= CloneFlags::CLONE_NEWNET;
            }
            ctx(unshare(flags), || {
                "unshare(user, mount, pid, ipc, uts, net namespaces)".into()
            })?;
            // Map only our own ids: root inside is this uid outside, nothing more.
            ctx(std::fs::write("/proc/self/setgroups", "deny"), || {
                "writing /proc/self/setgroups".into()
            })?;
            ctx(
                std::fs::write("/proc/self/uid_map", format!("{0} {0} 1", p.uid)),
                || "writing /proc/self/uid_map".into(),
            )?;
            ctx(
                std::fs::write("/proc/self/gid_map", format!("{0} {0} 1", p.gid)),
                || "writing /proc/self/gid_map".into(),
            )?;
        }
        let mut proxy_port = None;
        if p.netns {
            loopback_up()?;
            if let (true, Some(sock)) = (p.proxy, fdpass.as_ref()) {
                let l = ctx(std::net::TcpListener::bind("127.0.0.1:0"), || {
                    "binding the proxy port on the sandbox's loopback".into()
                })?;
                let port = ctx(l.local_addr(), || "proxy listener address".into())?.port();
                let fds = [l.as_raw_fd()];
                let cm = [ControlMessage::ScmRights(&fds)];
                let pb = port.to_le_bytes();
                ctx(
                    sendmsg::<()>(
                        sock.as_raw_fd(),
                        &[IoSlice::new(&pb)],
                        &cm,
                        MsgFlags::empty(),
                        None,
                    ),
                    || "handing the proxy listener to the caller".into(),
                )?;
                proxy_port = Some(port);
            }
        }
        drop(fdpass);
        let mut env = p.env.clone();
        if let Some(port) = proxy_port {
            let url = format!("http://127.0.0.1:{port}");
            for k in [
                "HTTP_PROXY",
                "HTTPS_PROXY",
                "ALL_PROXY",
                "http_proxy",
                "https_proxy",
                "all_proxy",
            ] {
                env.push(CString::new(format!("{k}={url}")).map_err(|e| e.to_string())?);
            }
        }
        // SAFETY: this process is single-threaded (a fresh fork child); the child
        // ends in execve or _exit.
        match ctx(unsafe { fork() }, || "fork (sandbox init)".into())? {
            ForkResult::Child => stage_b(p, &rep_w, &env, proxy_port),
            ForkResult::Parent { child } => loop {
                match waitpid(child, None) {
                    Ok(WaitStatus::Exited(..)) | Ok(WaitStatus::Signaled(..)) => return Ok(()),
                    Err(Errno::EINTR) | Ok(_) => continue,
                    Err(e) => return Err(format!("waiting for the sandbox init: {e}")),
                }
            },
        }
    })();
    match res {
        Ok(()) => exit_now(0),
        Err(m) => {
            report(&rep_w, b'E', m.as_bytes());
            exit_now(1)
        }
    }
}

fn stage_b(p: &Prepared, rep_w: &OwnedFd, env: &[CString], proxy_port: Option<u16>) -> ! {
    let res = (|| -> Result<Pid, String> {
        ctx(nix::sys::prctl::set_pdeathsig(Signal::SIGKILL), || {
            "PR_SET_PDEATHSIG".into()
        })?;
        if p.namespaces {
            setup_fs(&p.plan)?;
            ctx(nix::unistd::sethostname("warden-sandbox"), || {
                "sethostname".into()
            })?;
        }
        ctx(nix::unistd::chdir(&p.plan.workdir), || {
            format!("chdir {} inside the sandbox", p.plan.workdir.display())
        })?;
        ctx(nix::sys::prctl::set_no_new_privs(), || {
            "PR_SET_NO_NEW_PRIVS".into()
        })?;
        drop_capabilities_bounding(p.namespaces)?;
        if p.landlock_abi > 0 {
            apply_landlock(p, proxy_port)?;
        }
        if !p.seccomp.is_empty() {
            crate::seccomp::install(&p.seccomp)?;
        }
        clear_capabilities(p.namespaces)?;
        // SAFETY: single-threaded; the child ends in execve or _exit.
        match ctx(unsafe { fork() }, || "fork (program)".into())? {
            ForkResult::Child => stage_c(p, rep_w, env),
            ForkResult::Parent { child } => Ok(child),
        }
    })();
    let c = match res {
        Ok(c) => c,
        Err(m) => {
            report(rep_w, b'E', m.as_bytes());
            exit_now(1)
        }
    };
    // PID 1: reap every orphan; report when the program itself ends.
    loop {
        match waitpid(None::<Pid>, None) {
            Ok(WaitStatus::Exited(pid, code)) if pid == c => {
                report(rep_w, b'X', &code.to_le_bytes());
                exit_now(0)
            }
            Ok(WaitStatus::Signaled(pid, sig, core)) if pid == c => {
                let mut b = (sig as i32).to_le_bytes().to_vec();
                b.push(u8::from(core));
                report(rep_w, b'K', &b);
                exit_now(0)
            }
            Err(Errno::ECHILD) => exit_now(0),
            _ => {}
        }
    }
}

fn stage_c(p: &Prepared, rep_w: &OwnedFd, env: &[CString]) -> ! {
    // Dispositions set to "ignore" survive execve; the program must start with
    // the defaults (the caller ignores SIGINT/SIGQUIT, Rust ignores SIGPIPE).
    for s in Signal::iterator() {
        if s != Signal::SIGKILL && s != Signal::SIGSTOP {
            // SAFETY: SIG_DFL installs no handler code.
            let _ = unsafe { nix::sys::signal::signal(s, SigHandler::SigDfl) };
        }
    }
    let _ = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&nix::sys::signal::SigSet::empty()),
        None,
    );
    for (res, v) in &p.rlimits {
        if let Err(e) = nix::sys::resource::setrlimit(*res, *v, *v) {
            report(rep_w, b'E', format!("setrlimit {res:?}: {e}").as_bytes());
            exit_now(127);
        }
    }
    let e = nix::unistd::execve(&p.prog, &p.argv, env).err();
    report(
        rep_w,
        b'E',
        format!(
            "execve {}: {}",
            p.prog.to_string_lossy(),
            e.map_or_else(String::new, |e| e.to_string())
        )
        .as_bytes(),
    );
    exit_now(127)
}

// ---------------------------------------------------------------------------
// Filesystem.

const MOUNT_ATTR_RDONLY: u64 = 0x1;
const MOUNT_ATTR_NOSUID: u64 = 0x2;
const MOUNT_ATTR_NODEV: u64 = 0x4;
const MOUNT_ATTR_NOEXEC: u64 = 0x8;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

fn setattr(path: &Path, recursive: bool, set: u64, clr: u64) -> Result<(), String> {
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|e| e.to_string())?;
    let attr = MountAttr {
        attr_set: set,
        attr_clr: clr,
        propagation: 0,
        userns_fd: 0,
    };
    let flags: libc::c_uint = if recursive {
        libc::AT_RECURSIVE as libc::c_uint
    } else {
        0
    };
    // SAFETY: `c` is a valid NUL-terminated path and `attr` a properly laid out
    // struct mount_attr of the size passed; the kernel only reads them.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            c.as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if r != 0 {
        return Err(format!(
            "mount_setattr {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

fn mnt(
    src: Option<&Path>,
    target: &Path,
    fstype: Option<&str>,
    flags: MsFlags,
    data: Option<&str>,
) -> Result<(), String> {
    mount(src, target, fstype, flags, data).map_err(|e| {
        format!(
            "mount {} on {} ({}): {e}",
            src.map_or("none".into(), |s| s.display().to_string()),
            target.display(),
            fstype.unwrap_or("bind")
        )
    })
}

fn join(root: &str, p: &Path) -> PathBuf {
    Path::new(root).join(p.strip_prefix("/").unwrap_or(p))
}

/// Make sure `target` exists as the same kind of node as `source` (only ever
/// needed inside tmpfs mounts this function's caller made).
fn ensure_mountpoint(target: &Path, dir: bool) -> Result<(), String> {
    if target.symlink_metadata().is_ok() {
        return Ok(());
    }
    if dir {
        ctx(std::fs::create_dir_all(target), || {
            format!("mkdir {}", target.display())
        })
    } else {
        if let Some(parent) = target.parent() {
            ctx(std::fs::create_dir_all(parent), || {
                format!("mkdir {}", parent.display())
            })?;
        }
        ctx(std::fs::File::create(target).map(|_| ()), || {
            format!("create {}", target.display())
        })
    }
}

fn bind(source: &Path, target: &Path) -> Result<(), String> {
    let dir = ctx(std::fs::metadata(source), || {
        format!("stat {}", source.display())
    })?
    .is_dir();
    ensure_mountpoint(target, dir)?;
    mnt(
        Some(source),
        target,
        None,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None,
    )
}

fn setup_fs(plan: &Plan) -> Result<(), String> {
    let nosuid_nodev = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    // Nothing we mount may propagate back to the host.
    mnt(
        None,
        Path::new("/"),
        None,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None,
    )?;
    mnt(
        Some(Path::new("tmpfs")),
        Path::new(BASE),
        Some("tmpfs"),
        nosuid_nodev,
        Some("mode=0700"),
    )?;
    let base = Path::new(BASE);
    for d in ["newroot", "oldroot"] {
        ctx(std::fs::create_dir(base.join(d)), || {
            format!("mkdir {BASE}/{d}")
        })?;
    }
    ctx(std::fs::File::create(base.join("empty")), || {
        "creating the mask file".into()
    })?;
    ctx(
        std::fs::set_permissions(
            base.join("empty"),
            std::os::unix::fs::PermissionsExt::from_mode(0o000),
        ),
        || "chmod mask file".into(),
    )?;
    // The base tmpfs becomes the root; the old root (with the host's real /tmp,
    // no longer covered) moves to /oldroot.
    ctx(nix::unistd::pivot_root(base, &base.join("oldroot")), || {
        "pivot_root (stage 1)".into()
    })?;
    ctx(nix::unistd::chdir("/"), || "chdir /".into())?;
    let newroot = Path::new("/newroot");
    mnt(
        Some(Path::new("/oldroot")),
        newroot,
        None,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None,
    )?;
    setattr(
        newroot,
        true,
        MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
        0,
    )?;

    for op in &plan.ops {
        let src = join("/oldroot", &op.path);
        let dst = join("/newroot", &op.path);
        match op.kind {
            OpKind::Tmpfs => {
                ensure_mountpoint(&dst, true)?;
                mnt(
                    Some(Path::new("tmpfs")),
                    &dst,
                    Some("tmpfs"),
                    nosuid_nodev,
                    Some("mode=1777"),
                )?;
            }
            OpKind::Writable => {
                bind(&src, &dst)?;
                setattr(&dst, true, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0)?;
                setattr(&dst, false, 0, MOUNT_ATTR_RDONLY)?;
            }
            OpKind::Readonly | OpKind::Protected => {
                bind(&src, &dst)?;
                setattr(
                    &dst,
                    true,
                    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                    0,
                )?;
            }
            OpKind::Hidden { dir: true } => {
                ensure_mountpoint(&dst, true)?;
                mnt(
                    Some(Path::new("tmpfs")),
                    &dst,
                    Some("tmpfs"),
                    nosuid_nodev | MsFlags::MS_NOEXEC | MsFlags::MS_RDONLY,
                    Some("mode=000,size=4k,nr_inodes=2"),
                )?;
            }
            OpKind::Hidden { dir: false } => {
                ensure_mountpoint(&dst, false)?;
                mnt(
                    Some(Path::new("/empty")),
                    &dst,
                    None,
                    MsFlags::MS_BIND,
                    None,
                )?;
                setattr(
                    &dst,
                    false,
                    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                    0,
                )?;
            }
        }
    }
    setup_dev(newroot)?;
    setup_proc(newroot)?;

    // Enter the new root and drop the base and the old root entirely.
    ctx(nix::unistd::chdir(newroot), || "chdir /newroot".into())?;
    ctx(nix::unistd::pivot_root(".", "."), || {
        "pivot_root (stage 2)".into()
    })?;
    ctx(umount2(".", MntFlags::MNT_DETACH), || {
        "detaching the old root".into()
    })?;
    ctx(nix::unistd::chdir("/"), || "chdir /".into())?;
    Ok(())
}

fn setup_dev(newroot: &Path) -> Result<(), String> {
    let dev = newroot.join("dev");
    mnt(
        Some(Path::new("tmpfs")),
        &dev,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("mode=0755"),
    )?;
    for n in ["null", "zero", "full", "random", "urandom", "tty"] {
        let dst = dev.join(n);
        ctx(std::fs::File::create(&dst), || {
            format!("create {}", dst.display())
        })?;
        mnt(
            Some(&Path::new("/oldroot/dev").join(n)),
            &dst,
            None,
            MsFlags::MS_BIND,
            None,
        )?;
        setattr(&dst, false, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0)?;
    }
    let pts = dev.join("pts");
    ctx(std::fs::create_dir(&pts), || "mkdir /dev/pts".into())?;
    mnt(
        Some(Path::new("devpts")),
        &pts,
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=620"),
    )?;
    let shm = dev.join("shm");
    ctx(std::fs::create_dir(&shm), || "mkdir /dev/shm".into())?;
    mnt(
        Some(Path::new("tmpfs")),
        &shm,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("mode=1777"),
    )?;
    for (link, target) in [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        ctx(std::os::unix::fs::symlink(target, dev.join(link)), || {
            format!("symlink /dev/{link}")
        })?;
    }
    setattr(&dev, false, MOUNT_ATTR_RDONLY, 0)
}

fn setup_proc(newroot: &Path) -> Result<(), String> {
    let proc_ = newroot.join("proc");
    mnt(
        Some(Path::new("proc")),
        &proc_,
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None,
    )?;
    // Kernel knobs stay read-only even for uid 0 inside.
    for sub in ["sys", "sysrq-trigger", "irq", "bus", "fs"] {
        let p = proc_.join(sub);
        if p.exists() {
            mnt(Some(&p), &p, None, MsFlags::MS_BIND | MsFlags::MS_REC, None)?;
            setattr(
                &p,
                true,
                MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                0,
            )?;
        }
    }
    Ok(())
}

fn loopback_up() -> Result<(), String> {
    let sock = ctx(
        nix::sys::socket::socket(
            AddressFamily::Inet,
            SockType::Datagram,
            SockFlag::SOCK_CLOEXEC,
            None,
        ),
        || "socket for SIOCSIFFLAGS".into(),
    )?;
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (i, b) in b"lo".iter().enumerate() {
        ifr.ifr_name[i] = *b as libc::c_char;
    }
    ifr.ifr_ifru.ifru_flags = (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
    // SAFETY: SIOCSIFFLAGS reads a struct ifreq from a valid pointer.
    let r = unsafe {
        libc::ioctl(
            sock.as_raw_fd(),
            libc::SIOCSIFFLAGS,
            &ifr as *const libc::ifreq,
        )
    };
    if r != 0 {
        return Err(format!(
            "bringing loopback up: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Capabilities.

const SECBIT_NOROOT: libc::c_ulong = 1 << 0;
const SECBIT_NOROOT_LOCKED: libc::c_ulong = 1 << 1;
const SECBIT_NO_CAP_AMBIENT_RAISE: libc::c_ulong = 1 << 6;
const SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED: libc::c_ulong = 1 << 7;

/// Empty the bounding set and make uid 0 gain nothing at execve (the program
/// runs as uid 0 inside when the caller is root outside).
fn drop_capabilities_bounding(required: bool) -> Result<(), String> {
    let last: libc::c_ulong = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(63);
    let mut fail = None;
    for cap in 0..=last {
        // SAFETY: PR_CAPBSET_DROP takes an integer and touches no memory.
        let r = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) };
        if r != 0 && fail.is_none() {
            fail = Some(format!(
                "PR_CAPBSET_DROP {cap}: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    // SAFETY: integer arguments only.
    let r = unsafe {
        libc::prctl(
            libc::PR_SET_SECUREBITS,
            SECBIT_NOROOT
                | SECBIT_NOROOT_LOCKED
                | SECBIT_NO_CAP_AMBIENT_RAISE
                | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
            0,
            0,
            0,
        )
    };
    if r != 0 && fail.is_none() {
        fail = Some(format!(
            "PR_SET_SECUREBITS: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: integer arguments only.
    unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        )
    };
    match fail {
        Some(f) if required => Err(f),
        _ => Ok(()),
    }
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Clear the effective, permitted and inheritable sets.
fn clear_capabilities(required: bool) -> Result<(), String> {
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    let hdr = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [CapData {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: capset reads a v3 header and two data structs from valid pointers.
    let r = unsafe { libc::syscall(libc::SYS_capset, &hdr as *const CapHeader, data.as_ptr()) };
    if r != 0 && required {
        return Err(format!("capset: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Landlock.

fn apply_landlock(p: &Prepared, proxy_port: Option<u16>) -> Result<(), String> {
    let abi = ABI::from(i32::try_from(p.landlock_abi).unwrap_or(i32::MAX));
    let all = AccessFs::from_all(abi);
    let read = AccessFs::from_read(abi);
    let file = AccessFs::from_file(abi);
    let ll = |e: landlock::RulesetError| format!("Landlock: {e}");
    let mut rs = Ruleset::default().handle_access(all).map_err(ll)?;
    let net = p.netns && p.landlock_abi >= LANDLOCK_ABI_NET && p.loopback_ports.is_some();
    if net {
        rs = rs
            .handle_access(AccessNet::BindTcp | AccessNet::ConnectTcp)
            .map_err(ll)?;
    }
    if p.landlock_abi >= LANDLOCK_ABI_SCOPE && p.namespaces {
        rs = rs.scope(Scope::from_all(abi)).map_err(ll)?;
    }
    let mut c = rs.create().map_err(ll)?;
    let add = |c: landlock::RulesetCreated,
               path: &Path,
               access: landlock::BitFlags<AccessFs>,
               must: bool|
     -> Result<landlock::RulesetCreated, String> {
        match PathFd::new(path) {
            Ok(fd) => c.add_rule(PathBeneath::new(fd, access)).map_err(ll),
            Err(e) if must => Err(format!("Landlock rule for {}: {e}", path.display())),
            Err(_) => Ok(c),
        }
    };
    for r in &p.plan.read_rules {
        let access = match (r.full, r.is_dir) {
            (true, true) => read,
            (true, false) => read & file,
            (false, _) => AccessFs::ReadDir.into(),
        };
        c = add(c, &r.path, access, false)?;
    }
    for w in &p.plan.writable {
        // Directory rights on a file make Landlock report the ruleset as only partly
        // enforced, which the check below refuses: a writable file (an agent's
        // `~/.claude.json`) gets the file rights alone.
        let access = if w.is_dir() { all } else { all & file };
        c = add(c, w, access, true)?;
    }
    let mut dev_file = file & !landlock::BitFlags::from(AccessFs::Execute);
    if p.landlock_abi < LANDLOCK_ABI_TRUNCATE {
        dev_file &= !landlock::BitFlags::from(AccessFs::Truncate);
    }
    for d in ["/dev/null", "/dev/zero", "/dev/full", "/dev/tty"] {
        c = add(c, Path::new(d), dev_file, false)?;
    }
    c = add(c, Path::new("/dev/pts"), read | dev_file, false)?;
    c = add(c, Path::new("/dev/shm"), all, false)?;
    if net {
        if let Some(port) = proxy_port {
            c = c
                .add_rule(NetPort::new(port, AccessNet::ConnectTcp))
                .map_err(ll)?;
        }
        for &port in p.loopback_ports.iter().flatten() {
            c = c
                .add_rule(NetPort::new(
                    port,
                    AccessNet::BindTcp | AccessNet::ConnectTcp,
                ))
                .map_err(ll)?;
        }
    }
    let st = c.restrict_self().map_err(ll)?;
    if st.ruleset != RulesetStatus::FullyEnforced {
        return Err(format!("Landlock is only {:?}", st.ruleset));
    }
    Ok(())
}
