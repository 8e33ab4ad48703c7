//! What the running kernel offers, and what a spec would lose without it.

use std::fmt;
use std::path::Path;

use crate::{NetworkPolicy, SandboxSpec};

/// Whether one mechanism is available.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Support {
    /// Usable.
    Available,
    /// Not usable, with the reason a person can act on.
    Missing(String),
}

impl Support {
    /// Whether the mechanism is usable.
    pub fn is_available(&self) -> bool {
        matches!(self, Support::Available)
    }
}

/// The kernel mechanisms the sandbox uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// User namespaces.
    UserNamespace,
    /// Mount namespaces.
    MountNamespace,
    /// PID namespaces.
    PidNamespace,
    /// IPC namespaces.
    IpcNamespace,
    /// UTS namespaces.
    UtsNamespace,
    /// Network namespaces.
    NetNamespace,
    /// `mount_setattr(2)` (recursive read-only remounts, Linux 5.12).
    MountSetattr,
    /// seccomp-bpf filters.
    Seccomp,
    /// Landlock LSM.
    Landlock,
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mechanism::UserNamespace => "user namespaces",
            Mechanism::MountNamespace => "mount namespaces",
            Mechanism::PidNamespace => "PID namespaces",
            Mechanism::IpcNamespace => "IPC namespaces",
            Mechanism::UtsNamespace => "UTS namespaces",
            Mechanism::NetNamespace => "network namespaces",
            Mechanism::MountSetattr => "mount_setattr(2)",
            Mechanism::Seccomp => "seccomp filters",
            Mechanism::Landlock => "Landlock",
        })
    }
}

/// What the kernel offers. Built by [`probe`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelSupport {
    /// One entry per mechanism, in [`Mechanism`] order.
    pub mechanisms: Vec<(Mechanism, Support)>,
    /// The kernel's Landlock ABI version (0 when Landlock is missing).
    pub landlock_abi: u32,
    /// Whether a `pids` cgroup can be created for the sandbox (process limit for uid 0).
    pub cgroup_pids: bool,
    /// Whether a `memory` cgroup can be created for the sandbox.
    pub cgroup_memory: bool,
}

impl KernelSupport {
    /// The support line of one mechanism.
    pub fn get(&self, m: Mechanism) -> &Support {
        self.mechanisms
            .iter()
            .find(|(k, _)| *k == m)
            .map(|(_, s)| s)
            .unwrap_or(&MISSING_UNKNOWN)
    }

    /// Human-readable summary, one mechanism per line.
    pub fn summary(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .mechanisms
            .iter()
            .map(|(m, s)| match s {
                Support::Available if *m == Mechanism::Landlock => {
                    format!("{m}: available (ABI {})", self.landlock_abi)
                }
                Support::Available => format!("{m}: available"),
                Support::Missing(why) => format!("{m}: MISSING ({why})"),
            })
            .collect();
        out.push(format!(
            "cgroups: pids {}, memory {}",
            if self.cgroup_pids {
                "usable"
            } else {
                "not usable"
            },
            if self.cgroup_memory {
                "usable"
            } else {
                "not usable"
            }
        ));
        out
    }
}

static MISSING_UNKNOWN: Support = Support::Missing(String::new());

/// Landlock ABI from which truncation is handled (below it, `O_TRUNC` outside the
/// allowlist is only stopped by the read-only mounts).
pub(crate) const LANDLOCK_ABI_TRUNCATE: u32 = 3;
/// Landlock ABI from which TCP bind/connect are handled.
pub(crate) const LANDLOCK_ABI_NET: u32 = 4;
/// Landlock ABI from which signals and abstract unix sockets are scoped.
pub(crate) const LANDLOCK_ABI_SCOPE: u32 = 6;

/// Probe the running kernel. Cheap (a few `/proc` reads and two syscalls).
pub fn probe() -> KernelSupport {
    let ns = |name: &str, m: Mechanism| {
        let p = format!("/proc/self/ns/{name}");
        if Path::new(&p).exists() {
            (m, Support::Available)
        } else {
            (
                m,
                Support::Missing(format!(
                    "{p} does not exist: the kernel is built without it"
                )),
            )
        }
    };
    let mut mechanisms = vec![
        (Mechanism::UserNamespace, probe_userns()),
        ns("mnt", Mechanism::MountNamespace),
        ns("pid", Mechanism::PidNamespace),
        ns("ipc", Mechanism::IpcNamespace),
        ns("uts", Mechanism::UtsNamespace),
        ns("net", Mechanism::NetNamespace),
        (Mechanism::MountSetattr, probe_mount_setattr()),
        (Mechanism::Seccomp, probe_seccomp()),
    ];
    let abi = landlock_abi();
    let landlock = match abi {
        Ok(v) => (Mechanism::Landlock, Support::Available, v),
        Err(why) => (Mechanism::Landlock, Support::Missing(why), 0),
    };
    mechanisms.push((landlock.0, landlock.1));
    let (cgroup_pids, cgroup_memory) = crate::limits::cgroup_usable();
    KernelSupport {
        mechanisms,
        landlock_abi: landlock.2,
        cgroup_pids,
        cgroup_memory,
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

fn probe_userns() -> Support {
    if !Path::new("/proc/self/ns/user").exists() {
        return Support::Missing("the kernel is built without CONFIG_USER_NS".into());
    }
    if read_trimmed("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        return Support::Missing("sysctl user.max_user_namespaces is 0".into());
    }
    let root = nix::unistd::geteuid().is_root();
    if !root {
        if read_trimmed("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
            return Support::Missing(
                "sysctl kernel.unprivileged_userns_clone is 0 (unprivileged user namespaces disabled)"
                    .into(),
            );
        }
        if read_trimmed("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref()
            == Some("1")
        {
            return Support::Missing(
                "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)"
                    .into(),
            );
        }
    }
    Support::Available
}

fn probe_mount_setattr() -> Support {
    // SAFETY: mount_setattr with a null attr pointer and size 0 only validates its
    // arguments; it touches no memory and changes nothing. ENOSYS means missing.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            -1,
            c"".as_ptr(),
            0,
            std::ptr::null::<u8>(),
            0usize,
        )
    };
    let err = std::io::Error::last_os_error();
    if r == -1 && err.raw_os_error() == Some(libc::ENOSYS) {
        Support::Missing("mount_setattr(2) is not implemented (needs Linux 5.12)".into())
    } else {
        Support::Available
    }
}

fn probe_seccomp() -> Support {
    // SAFETY: PR_GET_SECCOMP only reads the calling thread's seccomp mode.
    let r = unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) };
    if r < 0 {
        return Support::Missing(format!(
            "prctl(PR_GET_SECCOMP) failed: {} (kernel without CONFIG_SECCOMP)",
            std::io::Error::last_os_error()
        ));
    }
    // SECCOMP_GET_ACTION_AVAIL succeeds only with CONFIG_SECCOMP_FILTER.
    let action: u32 = libc::SECCOMP_RET_ERRNO;
    // SAFETY: the kernel reads one u32 from a valid pointer.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_GET_ACTION_AVAIL,
            0,
            &action as *const u32,
        )
    };
    if r != 0 {
        return Support::Missing(format!(
            "seccomp filters unavailable: {} (kernel without CONFIG_SECCOMP_FILTER)",
            std::io::Error::last_os_error()
        ));
    }
    Support::Available
}

fn landlock_abi() -> Result<u32, String> {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a null attr, size 0 and the VERSION flag the kernel only returns
    // the ABI version; no memory is read or written.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if v > 0 {
        return u32::try_from(v).map_err(|_| format!("odd Landlock ABI {v}"));
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::EOPNOTSUPP) => Err(
            "Landlock is built in but not enabled at boot (add landlock to the lsm= kernel parameter)"
                .into(),
        ),
        Some(libc::ENOSYS) => Err("the kernel is built without Landlock (needs Linux 5.13+)".into()),
        _ => Err(format!(
            "landlock_create_ruleset failed: {}",
            std::io::Error::last_os_error()
        )),
    }
}

pub(crate) fn missing_for(spec: &SandboxSpec, ks: &KernelSupport) -> Vec<String> {
    let mut out = Vec::new();
    for (m, s) in &ks.mechanisms {
        if *m == Mechanism::NetNamespace && spec.network == NetworkPolicy::Host {
            continue;
        }
        if let Support::Missing(why) = s {
            out.push(format!("{m}: {why}"));
        }
    }
    if ks.get(Mechanism::Landlock).is_available() {
        if ks.landlock_abi < LANDLOCK_ABI_TRUNCATE {
            out.push(format!(
                "Landlock ABI {} < {LANDLOCK_ABI_TRUNCATE}: truncating files is not restricted by Landlock",
                ks.landlock_abi
            ));
        }
        if ks.landlock_abi < LANDLOCK_ABI_NET
            && spec.network != NetworkPolicy::Host
            && spec.loopback_ports.is_some()
        {
            out.push(format!(
                "Landlock ABI {} < {LANDLOCK_ABI_NET}: TCP bind/connect are not restricted by Landlock (only the network namespace isolates)",
                ks.landlock_abi
            ));
        }
        if ks.landlock_abi < LANDLOCK_ABI_SCOPE {
            out.push(format!(
                "Landlock ABI {} < {LANDLOCK_ABI_SCOPE}: signals and abstract unix sockets are not scoped by Landlock (only the PID and network namespaces isolate)",
                ks.landlock_abi
            ));
        }
    }
    let root = nix::unistd::geteuid().is_root();
    if spec.limits.max_processes.is_some() && !ks.cgroup_pids && root {
        out.push(
            "process limit: no pids cgroup can be created and RLIMIT_NPROC does not apply to uid 0"
                .into(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_names_every_mechanism() {
        let ks = probe();
        let s = ks.summary().join("\n");
        for m in [
            "user namespaces",
            "mount namespaces",
            "seccomp",
            "Landlock",
            "network namespaces",
        ] {
            assert!(s.contains(m), "{m} missing from {s}");
        }
    }

    #[test]
    fn missing_landlock_is_reported_with_reason() {
        let mut ks = probe();
        for (m, s) in ks.mechanisms.iter_mut() {
            if *m == Mechanism::Landlock {
                *s = Support::Missing("test: not built".into());
            }
        }
        let spec = SandboxSpec::new("/");
        let missing = missing_for(&spec, &ks);
        assert!(missing.iter().any(|l| l == "Landlock: test: not built"));
    }

    #[test]
    fn old_landlock_abi_is_reported() {
        let mut ks = probe();
        ks.landlock_abi = 2;
        ks.mechanisms = vec![(Mechanism::Landlock, Support::Available)];
        let mut spec = SandboxSpec::new("/");
        spec.loopback_ports = Some(vec![]);
        let missing = missing_for(&spec, &ks);
        assert!(missing.iter().any(|l| l.contains("ABI 2 < 3")));
        assert!(missing.iter().any(|l| l.contains("ABI 2 < 4")));
    }

    #[test]
    fn host_network_does_not_need_netns() {
        let mut ks = probe();
        ks.mechanisms = vec![(Mechanism::NetNamespace, Support::Missing("test".into()))];
        ks.landlock_abi = 7;
        let mut spec = SandboxSpec::new("/");
        spec.network = NetworkPolicy::Host;
        assert!(missing_for(&spec, &ks).is_empty());
        spec.network = NetworkPolicy::None;
        assert_eq!(missing_for(&spec, &ks).len(), 1);
    }
}
