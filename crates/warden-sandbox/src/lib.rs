//! warden-sandbox: run a command, and every process it starts, in a Linux sandbox.
//!
//! A rule on tool calls can be sidestepped: the agent writes a script and runs it.
//! This crate is the layer that holds anyway. Given a plain [`SandboxSpec`] (the
//! mapping from warden's policy file to a spec lives in the CLI), [`run`] starts
//! the program with:
//!
//! - **namespaces**: user (root inside is not root outside), mount, PID, IPC, UTS
//!   and network (only loopback, unless [`NetworkPolicy::Host`]);
//! - **filesystem**: the whole system bound read-only, `nosuid` and `nodev`; the
//!   write allowlist bound read-write; hidden paths masked (an empty, mode-000
//!   tmpfs over directories, an empty mode-000 file over files); protected paths
//!   re-bound read-only after the writable ones; a private `/tmp`, a minimal
//!   `/dev` with a fresh `devpts`, and a fresh `/proc` for the new PID namespace;
//! - **Landlock** as a second layer: reads allowed everywhere except the hidden
//!   paths, writes only under the allowlist,
//!   signals and abstract unix sockets scoped to the sandbox (ABI ≥ 6);
//!   TCP ports restricted (ABI ≥ 4) when [`SandboxSpec::loopback_ports`] is set;
//! - a **seccomp** filter answering `EPERM` to what an agent never needs
//!   (ptrace, mount, kexec, bpf, keyctl, new user namespaces, raw sockets, ...);
//! - **capabilities** dropped and `no_new_privs` set, so setuid binaries give nothing;
//! - **network**: none (loopback only), or a domain allowlist enforced by the
//!   [`proxy`] that runs *outside* the sandbox and is reached from inside through a
//!   listening socket created in the sandbox's network namespace;
//! - a **scrubbed environment** ([`scrub_env`]) and **limits** ([`Limits`]).
//!
//! Exit status and death-by-signal pass through ([`ExitStatusLike`]); stdin, stdout,
//! stderr and the controlling terminal are the caller's own, so interactive
//! programs work.
//!
//! If the kernel lacks a mechanism, [`run`] refuses with
//! [`SandboxError::Unsupported`] naming what is missing, unless
//! [`SandboxSpec::allow_degraded`] is set. It never pretends to isolate.
//!
//! # Example
//!
//! ```no_run
//! use std::ffi::{OsStr, OsString};
//! use warden_sandbox::{run, SandboxSpec, NetworkPolicy};
//!
//! let mut spec = SandboxSpec::new("/home/me/project");
//! spec.writable.push("/home/me/project".into());
//! spec.hidden.push("/home/me/.ssh".into());
//! spec.network = NetworkPolicy::None;
//! let status = run(&spec, OsStr::new("sh"), &[OsString::from("-c"), OsString::from("make test")])?;
//! std::process::exit(status.shell_code());
//! # Ok::<(), warden_sandbox::SandboxError>(())
//! ```
//!
//! # What it is not
//!
//! - Not a policy engine: it does not read warden's policy file; the CLI maps the
//!   policy to a [`SandboxSpec`].
//! - Not portable: Linux only (macOS/Windows sandboxes would be their own crates).
//! - Not a container runtime: no images, no overlay filesystems, no cgroup
//!   management beyond the optional process and memory caps of [`Limits`].
//! - Not a defence against kernel bugs: it narrows the kernel surface with
//!   seccomp, it does not remove it.

mod child;
mod env;
mod fsplan;
mod limits;
mod probe;
pub mod proxy;
mod seccomp;

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use env::{production_credential_warnings, scrub_env, ScrubbedVar};
pub use probe::{probe, KernelSupport, Mechanism, Support};

/// What the sandboxed program may see, write and reach. Policy-independent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxSpec {
    /// Working directory of the program (must exist).
    pub workdir: PathBuf,
    /// Write allowlist: the project or its worktree, agent state such as `~/.claude`.
    pub writable: Vec<PathBuf>,
    /// Extra read-only paths (the system is read-only by default; this matters for
    /// paths inside a writable directory).
    pub readonly: Vec<PathBuf>,
    /// Not visible at all: `~/.ssh`, `~/.aws`, the project's `.env*`, ...
    /// Paths that do not exist are skipped (there is nothing to hide).
    pub hidden: Vec<PathBuf>,
    /// Policy files, hook settings, the audit store: read-only even inside a
    /// writable directory. A protected path that does not exist but could be
    /// created from inside (its parent is writable) makes [`run`] fail: create it
    /// first, or drop it from the spec.
    pub protected: Vec<PathBuf>,
    /// Give the program its own empty `/tmp`.
    pub private_tmp: bool,
    /// Network reach.
    pub network: NetworkPolicy,
    /// Landlock TCP port rules (Landlock ABI ≥ 4), on top of the network
    /// namespace. `None` (the default): no port rules, the namespace alone is the
    /// boundary, so test servers on the sandbox's own loopback work (binding port
    /// 0 and connecting to it is common in test suites, and Landlock cannot allow
    /// "whatever port was just bound"). `Some(ports)`: bind and connect only to
    /// these ports (and the proxy's); port 0 allows ephemeral binds. Ignored with
    /// [`NetworkPolicy::Host`].
    pub loopback_ports: Option<Vec<u16>>,
    /// Environment scrubbing.
    pub env: EnvPolicy,
    /// Resource limits.
    pub limits: Limits,
    /// Run even when the kernel lacks a mechanism (the missing parts are listed by
    /// [`missing_mechanisms`]); never set it silently. Without user/mount/PID
    /// namespaces the program runs with only Landlock, seccomp, `no_new_privs`,
    /// rlimits and the scrubbed environment: no read-only remount, no masks, no
    /// private `/tmp` (the host's `/tmp` is writable through Landlock), and
    /// without a network namespace the network is the host's.
    pub allow_degraded: bool,
}

impl SandboxSpec {
    /// A spec with the strict defaults: nothing writable, no network, private
    /// `/tmp`, credential-looking variables scrubbed, no limits.
    pub fn new(workdir: impl Into<PathBuf>) -> Self {
        SandboxSpec {
            workdir: workdir.into(),
            writable: Vec::new(),
            readonly: Vec::new(),
            hidden: Vec::new(),
            protected: Vec::new(),
            private_tmp: true,
            network: NetworkPolicy::None,
            loopback_ports: None,
            env: EnvPolicy::default(),
            limits: Limits::default(),
            allow_degraded: false,
        }
    }
}

/// Network reach of the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NetworkPolicy {
    /// A private network namespace with only loopback up. DNS fails.
    #[default]
    None,
    /// Loopback only, plus an HTTP(S) proxy outside the sandbox that lets only
    /// these domains through (see [`proxy::Allowlist`] for the pattern syntax).
    /// `HTTP_PROXY`/`HTTPS_PROXY` (both cases) and `ALL_PROXY` point at it.
    AllowDomains(Vec<String>),
    /// The host's network, unrestricted. Needs an explicit opt-in in the policy.
    Host,
}

/// Which environment variables reach the program.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnvPolicy {
    /// Variables kept by name even if they look like credentials.
    pub pass: Vec<String>,
    /// Variables set (after scrubbing; they win over inherited ones).
    pub set: Vec<(String, String)>,
}

/// Resource limits; `None` means "not limited".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// Processes (and threads) in the sandbox: a `pids` cgroup when one can be
    /// created, else `RLIMIT_NPROC` (which the kernel does not apply to uid 0).
    pub max_processes: Option<u64>,
    /// Memory: a `memory` cgroup when one can be created, else `RLIMIT_AS`.
    pub memory_bytes: Option<u64>,
    /// Largest file the program may write (`RLIMIT_FSIZE`; writes beyond get `EFBIG`).
    pub file_size_bytes: Option<u64>,
    /// Wall-clock time, after which the whole process tree is killed.
    pub wall_time: Option<Duration>,
}

/// How the sandboxed program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatusLike {
    /// Exited with this code.
    Exited(i32),
    /// Killed by this signal.
    Signaled {
        /// Signal number.
        signal: i32,
        /// Whether a core dump was attempted.
        core_dumped: bool,
    },
    /// [`Limits::wall_time`] ran out; the whole tree was killed.
    TimedOut,
}

impl ExitStatusLike {
    /// The exit code a shell would report: the code, 128 + signal, or 124 on
    /// timeout (as `timeout(1)` does).
    pub fn shell_code(&self) -> i32 {
        match *self {
            ExitStatusLike::Exited(c) => c,
            ExitStatusLike::Signaled { signal, .. } => 128 + signal,
            ExitStatusLike::TimedOut => 124,
        }
    }

    /// Whether the program exited with code 0.
    pub fn success(&self) -> bool {
        matches!(self, ExitStatusLike::Exited(0))
    }
}

/// Why the sandbox could not run the program.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The kernel lacks mechanisms the spec needs (and `allow_degraded` is off).
    #[error("the kernel cannot enforce this sandbox: {}", .missing.join("; "))]
    Unsupported {
        /// One line per missing mechanism, saying what and why.
        missing: Vec<String>,
    },
    /// The spec is inconsistent or names paths that cannot be used.
    #[error("invalid sandbox spec: {0}")]
    InvalidSpec(String),
    /// A path in the spec could not be resolved.
    #[error("cannot resolve {path}: {source}")]
    Path {
        /// The path as given.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The program was not found on `PATH` (or is not executable).
    #[error("program not found or not executable: {0}")]
    ProgramNotFound(String),
    /// Setting up the sandbox failed (in the parent or in the child before exec).
    #[error("sandbox setup failed: {0}")]
    Setup(String),
    /// A system call in the parent failed.
    #[error("{what}: {source}")]
    Sys {
        /// What was being done.
        what: &'static str,
        /// The error.
        source: std::io::Error,
    },
}

impl SandboxError {
    fn sys(what: &'static str, e: impl Into<std::io::Error>) -> Self {
        SandboxError::Sys {
            what,
            source: e.into(),
        }
    }
}

/// Observer of every proxy attempt (allowed or denied), e.g. to write it to the
/// audit log. Called from the proxy's threads.
pub type ProxyObserver = Arc<dyn Fn(&proxy::ProxyAttempt) + Send + Sync>;

/// The mechanisms `spec` needs that the kernel does not offer, one line each.
/// Empty means the sandbox is fully enforced.
pub fn missing_mechanisms(spec: &SandboxSpec, support: &KernelSupport) -> Vec<String> {
    probe::missing_for(spec, support)
}

/// Run `program` with `args` in the sandbox described by `spec`; block until it
/// ends. Proxy attempts (with [`NetworkPolicy::AllowDomains`]) are dropped; use
/// [`run_with_observer`] to record them.
///
/// While it waits, the calling process ignores `SIGINT` and `SIGQUIT` (as
/// `system(3)` does) so that Ctrl-C reaches the program and the program decides.
pub fn run(
    spec: &SandboxSpec,
    program: &OsStr,
    args: &[OsString],
) -> Result<ExitStatusLike, SandboxError> {
    run_with_observer(spec, program, args, Arc::new(|_: &proxy::ProxyAttempt| {}))
}

/// [`run`], reporting every proxy attempt to `observer`.
pub fn run_with_observer(
    spec: &SandboxSpec,
    program: &OsStr,
    args: &[OsString],
    observer: ProxyObserver,
) -> Result<ExitStatusLike, SandboxError> {
    let support = probe();
    let missing = missing_mechanisms(spec, &support);
    if !missing.is_empty() && !spec.allow_degraded {
        return Err(SandboxError::Unsupported { missing });
    }
    child::run(spec, &support, program, args, observer)
}
