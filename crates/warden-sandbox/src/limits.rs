//! Process and memory caps through a cgroup when one can be made (v2, or the v1
//! `pids`/`memory` hierarchies), otherwise rlimits; file size through `RLIMIT_FSIZE`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::Limits;

const V2_ROOT: &str = "/sys/fs/cgroup";
const V1_PIDS: &str = "/sys/fs/cgroup/pids";
const V1_MEMORY: &str = "/sys/fs/cgroup/memory";

fn v2_controllers() -> Option<String> {
    std::fs::read_to_string(Path::new(V2_ROOT).join("cgroup.controllers")).ok()
}

fn writable_dir(p: &Path) -> bool {
    nix::unistd::access(p, nix::unistd::AccessFlags::W_OK).is_ok()
}

/// (pids usable, memory usable).
pub(crate) fn cgroup_usable() -> (bool, bool) {
    if let Some(c) = v2_controllers() {
        let w = writable_dir(Path::new(V2_ROOT));
        let has = |name: &str| c.split_whitespace().any(|x| x == name);
        return (w && has("pids"), w && has("memory"));
    }
    (
        Path::new(V1_PIDS).join("cgroup.procs").exists() && writable_dir(Path::new(V1_PIDS)),
        Path::new(V1_MEMORY).join("memory.limit_in_bytes").exists()
            && writable_dir(Path::new(V1_MEMORY)),
    )
}

/// Cgroup directories made for one run; removed on drop.
#[derive(Debug, Default)]
pub(crate) struct Cgroups {
    dirs: Vec<PathBuf>,
    /// Which caps the cgroups enforce (the rest falls back to rlimits).
    pub pids: bool,
    pub memory: bool,
}

static SEQ: AtomicU64 = AtomicU64::new(0);

fn make_dir(base: &Path) -> std::io::Result<PathBuf> {
    let name = format!(
        "warden-sandbox-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    let d = base.join(name);
    std::fs::create_dir(&d)?;
    Ok(d)
}

impl Cgroups {
    /// Make the cgroups `limits` asks for, where possible. Failing to make one is
    /// not an error here: the caller falls back to rlimits (and [`crate::probe`]
    /// already reported what that loses).
    pub(crate) fn create(limits: &Limits) -> Cgroups {
        let mut cg = Cgroups::default();
        if limits.max_processes.is_none() && limits.memory_bytes.is_none() {
            return cg;
        }
        if let Some(ctrl) = v2_controllers() {
            let has = |name: &str| ctrl.split_whitespace().any(|x| x == name);
            if let Ok(d) = make_dir(Path::new(V2_ROOT)) {
                if let (Some(n), true) = (limits.max_processes, has("pids")) {
                    cg.pids = std::fs::write(d.join("pids.max"), n.to_string()).is_ok();
                }
                if let (Some(m), true) = (limits.memory_bytes, has("memory")) {
                    cg.memory = std::fs::write(d.join("memory.max"), m.to_string()).is_ok();
                    // Without swap accounting the file is absent; memory.max still holds.
                    let _ = std::fs::write(d.join("memory.swap.max"), "0");
                }
                cg.dirs.push(d);
            }
            return cg;
        }
        if let Some(n) = limits.max_processes {
            if let Ok(d) = make_dir(Path::new(V1_PIDS)) {
                cg.pids = std::fs::write(d.join("pids.max"), n.to_string()).is_ok();
                cg.dirs.push(d);
            }
        }
        if let Some(m) = limits.memory_bytes {
            if let Ok(d) = make_dir(Path::new(V1_MEMORY)) {
                cg.memory = std::fs::write(d.join("memory.limit_in_bytes"), m.to_string()).is_ok();
                let _ = std::fs::write(d.join("memory.memsw.limit_in_bytes"), m.to_string());
                cg.dirs.push(d);
            }
        }
        cg
    }

    /// Move `pid` (before it starts the sandbox) into every cgroup.
    pub(crate) fn add(&self, pid: i32) -> std::io::Result<()> {
        for d in &self.dirs {
            std::fs::write(d.join("cgroup.procs"), pid.to_string())?;
        }
        Ok(())
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        for d in &self.dirs {
            // The sandbox's processes may take a moment to be reaped after the
            // PID namespace's init exits.
            for _ in 0..50 {
                if std::fs::remove_dir(d).is_ok() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        }
    }
}

/// rlimits to set in the child before exec: (resource, value).
pub(crate) fn rlimits(limits: &Limits, cg: &Cgroups) -> Vec<(nix::sys::resource::Resource, u64)> {
    use nix::sys::resource::Resource;
    let mut out = Vec::new();
    if let (Some(n), false) = (limits.max_processes, cg.pids) {
        out.push((Resource::RLIMIT_NPROC, n));
    }
    if let (Some(m), false) = (limits.memory_bytes, cg.memory) {
        out.push((Resource::RLIMIT_AS, m));
    }
    if let Some(f) = limits.file_size_bytes {
        out.push((Resource::RLIMIT_FSIZE, f));
    }
    out
}
