//! `warden sandbox`: the mapping from the policy file to an OS sandbox, in one place.

use anyhow::{bail, Context, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use warden_policy::Policy;
use warden_sandbox::{EnvPolicy, Limits, NetworkPolicy, SandboxSpec};

#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// Run even when the kernel lacks a mechanism (each missing one is named). Never silent.
    #[arg(long)]
    pub allow_degraded: bool,
    /// Network: none (loopback only), allowlist (the policy's [sandbox] allow_domains through
    /// warden's proxy) or host. Default: the policy's [sandbox] network.
    #[arg(long, value_parser = ["none", "allowlist", "host"])]
    pub network: Option<String>,
    /// Allow this domain (repeatable; implies --network allowlist).
    #[arg(long = "allow-domain", value_name = "DOMAIN")]
    pub allow_domains: Vec<String>,
    /// Make this path writable too (repeatable).
    #[arg(long, value_name = "PATH")]
    pub write: Vec<PathBuf>,
    /// Pass this environment variable even though it looks like a credential (repeatable).
    #[arg(long = "pass-env", value_name = "NAME")]
    pub pass_env: Vec<String>,
    /// Print what the kernel offers and what the sandbox would use, then exit.
    #[arg(long)]
    pub probe: bool,
    /// The command and its arguments.
    #[arg(last = true, required_unless_present = "probe")]
    pub command: Vec<OsString>,
}

/// Known agents and the API host each needs.
fn agent_api_host(program: &Path) -> Option<(&'static str, &'static str)> {
    match program.file_name()?.to_str()? {
        "claude" => Some(("api.anthropic.com", "ANTHROPIC_API_KEY")),
        "codex" => Some(("api.openai.com", "OPENAI_API_KEY")),
        "gemini" => Some(("generativelanguage.googleapis.com", "GEMINI_API_KEY")),
        _ => None,
    }
}

/// The sandbox's network and the credential variables passed in, from `[sandbox]` and the
/// program: a known agent gets its API host allowlisted (and its key passed) by default, so
/// `network = "none"` means "nothing but the agent's own API".
pub fn network_for(
    settings: &warden_policy::config::SandboxSettings,
    program: Option<&Path>,
) -> Result<(NetworkPolicy, Vec<String>)> {
    let mut domains = settings.allow_domains.clone();
    let mut pass = settings.pass_env.clone();
    let agent = program.and_then(agent_api_host);
    if let Some((host, key)) = agent {
        domains.push(host.to_string());
        pass.push(key.to_string());
    }
    let network = match (settings.network.as_str(), agent) {
        ("none", Some(_)) => NetworkPolicy::AllowDomains(domains),
        ("none", None) => NetworkPolicy::None,
        ("allowlist", _) => NetworkPolicy::AllowDomains(domains),
        ("host", _) => NetworkPolicy::Host,
        (other, _) => bail!("[sandbox] network = {other:?}: expected none, allowlist or host"),
    };
    Ok((network, pass))
}

/// Directories the sandboxed side must still reach when they live under the host's `/tmp`,
/// which the sandbox replaces with its own: warden itself (the hooks inside run it, or relay
/// through it) and the program, both as named and as its link resolves (a package's
/// `node_modules/.bin/claude` points into the package, so the whole `node_modules` is kept).
fn programs_to_keep(program: Option<&Path>, workdir: &Path) -> Vec<PathBuf> {
    let mut keep = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        keep.push(dir);
    }
    let located = program.and_then(|p| {
        if p.components().count() > 1 {
            Some(workdir.join(p))
        } else {
            std::env::var_os("PATH").and_then(|path| {
                std::env::split_paths(&path)
                    .map(|d| d.join(p))
                    .find(|c| c.is_file())
            })
        }
    });
    if let Some(path) = located {
        keep.extend(path.parent().map(Path::to_path_buf));
        if let Ok(real) = path.canonicalize() {
            let node_modules = real
                .ancestors()
                .find(|a| a.file_name().is_some_and(|n| n == "node_modules"))
                .map(Path::to_path_buf);
            keep.extend(node_modules.or_else(|| real.parent().map(Path::to_path_buf)));
        }
    }
    keep.retain(|d| d.is_dir());
    keep.sort();
    keep.dedup();
    keep
}

/// The program as the sandbox should exec it: a path with directories gets them resolved
/// (`a/../b/.bin/claude` becomes `/abs/b/.bin/claude`) because only the directories kept
/// visible exist inside; the program's own name, a link perhaps, is kept. A bare name is
/// looked up on `PATH` inside.
pub fn exec_path(program: &std::ffi::OsStr) -> OsString {
    let path = Path::new(program);
    if path.components().count() < 2 {
        return program.to_os_string();
    }
    match (path.parent().map(Path::canonicalize), path.file_name()) {
        (Some(Ok(dir)), Some(name)) => dir.join(name).into_os_string(),
        _ => program.to_os_string(),
    }
}

/// Build the sandbox for a project from its policy. `project` is the tree the agent's
/// relative paths name (the checkout, or a run's worktree); `workdir` is where it starts. The
/// audit log stays where the policy's own root puts it.
pub fn spec_from_policy(
    policy: &Policy,
    project: &Path,
    workdir: &Path,
    program: Option<&Path>,
) -> Result<SandboxSpec> {
    let settings = &policy.settings().sandbox;
    let root = policy.root().to_path_buf();
    let mut trees = vec![root.clone(), project.to_path_buf(), workdir.to_path_buf()];
    trees.sort();
    trees.dedup();
    let home = crate::project::home_dir();
    let abs = |p: &str| -> Option<PathBuf> {
        let path = if let Some(rest) = p.strip_prefix("~/") {
            home.as_ref()?.join(rest)
        } else if Path::new(p).is_absolute() {
            PathBuf::from(p)
        } else {
            project.join(p.trim_start_matches("./"))
        };
        Some(path)
    };
    let mut spec = SandboxSpec::new(workdir);
    spec.writable.push(workdir.to_path_buf());
    if spec.private_tmp {
        spec.readonly.extend(
            programs_to_keep(program, workdir)
                .into_iter()
                .filter(|p| p.starts_with("/tmp")),
        );
    }
    if let Some(home) = &home {
        for agent_state in [
            ".claude",
            ".claude.json",
            ".cache",
            ".npm",
            ".config/claude",
        ] {
            let p = home.join(agent_state);
            if p.exists() {
                spec.writable.push(p);
            }
        }
        for secret in [
            ".ssh",
            ".aws",
            ".config/gcloud",
            ".azure",
            ".kube",
            ".netrc",
            ".docker",
            ".gnupg",
            ".git-credentials",
            ".config/gh",
        ] {
            let p = home.join(secret);
            if p.exists() {
                spec.hidden.push(p);
            }
        }
        // warden's own signing key and user policy stay out of the agent's reach.
        if let Some(dir) = warden_policy::config::user_config_dir(Some(home)) {
            if dir.exists() {
                spec.hidden.push(dir);
            }
        }
    }
    spec.writable
        .extend(settings.writable.iter().filter_map(|p| abs(p)));
    spec.hidden
        .extend(settings.hidden.iter().filter_map(|p| abs(p)));
    for dir in &trees {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with(".env") && policy.secret_file(&entry.path()).is_some() {
                    spec.hidden.push(entry.path());
                }
            }
        }
    }
    for rel in [
        "warden.toml",
        "warden.local.toml",
        ".warden",
        ".claude/settings.json",
        ".claude/settings.local.json",
    ] {
        for dir in &trees {
            let p = dir.join(rel);
            if p.exists() {
                spec.protected.push(p);
            }
        }
    }
    let store = crate::record::store_path(&root, &policy.settings().audit);
    if store.exists() && !spec.protected.iter().any(|p| store.starts_with(p)) {
        spec.protected
            .push(crate::record::staging_path_for_protection(&store));
        spec.protected.push(store);
    }
    spec.hidden.sort();
    spec.hidden.dedup();
    spec.protected.sort();
    spec.protected.dedup();
    let (network, pass) = network_for(&policy.settings().sandbox, program)?;
    spec.network = network;
    spec.env = EnvPolicy {
        pass,
        set: Vec::new(),
    };
    spec.limits = Limits {
        max_processes: settings.max_processes,
        memory_bytes: settings.max_memory_mb.map(|m| m * 1024 * 1024),
        file_size_bytes: settings.max_file_size_mb.map(|m| m * 1024 * 1024),
        wall_time: settings.timeout_secs.map(Duration::from_secs),
    };
    Ok(spec)
}

/// Create the protected files that are missing, so the agent cannot create them from inside
/// (a new `.claude/settings.local.json` could drop warden's hooks).
pub fn ensure_protected_exist(workdir: &Path) -> Result<()> {
    let local = workdir.join(".claude/settings.local.json");
    if !local.exists() {
        if let Some(dir) = local.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&local, "{}\n")
            .with_context(|| format!("cannot create {}", local.display()))?;
    }
    Ok(())
}

pub fn run(args: &SandboxArgs, out: &mut dyn std::io::Write) -> Result<i32> {
    let cwd = crate::project::current_dir()?;
    let root = crate::project::project_root(&cwd);
    let policy = crate::project::load_policy(&root, None)?;
    let support = warden_sandbox::probe();
    let program = args.command.first().map(PathBuf::from);
    let mut spec = spec_from_policy(&policy, &root, &cwd, program.as_deref())?;
    spec.allow_degraded = args.allow_degraded;
    spec.writable.extend(args.write.iter().cloned());
    spec.env.pass.extend(args.pass_env.iter().cloned());
    let network = args
        .network
        .clone()
        .or_else(|| (!args.allow_domains.is_empty()).then(|| "allowlist".to_string()));
    match network.as_deref() {
        Some("none") => spec.network = NetworkPolicy::None,
        Some("host") => spec.network = NetworkPolicy::Host,
        Some("allowlist") => {
            let mut domains = match &spec.network {
                NetworkPolicy::AllowDomains(d) => d.clone(),
                _ => policy.settings().sandbox.allow_domains.clone(),
            };
            domains.extend(args.allow_domains.iter().cloned());
            spec.network = NetworkPolicy::AllowDomains(domains);
        }
        _ => {}
    }
    for warning in warden_sandbox::production_credential_warnings(std::env::vars()) {
        eprintln!("warden: warning: {warning}");
    }
    let missing = warden_sandbox::missing_mechanisms(&spec, &support);
    if args.probe {
        for line in support.summary() {
            writeln!(out, "{line}")?;
        }
        if missing.is_empty() {
            writeln!(
                out,
                "every mechanism this policy's sandbox uses is available"
            )?;
        }
        for m in &missing {
            writeln!(out, "missing: {m}")?;
        }
        return Ok(if missing.is_empty() { 0 } else { 1 });
    }
    if !missing.is_empty() {
        for m in &missing {
            eprintln!("warden: the kernel lacks: {m}");
        }
        if !args.allow_degraded {
            bail!("refusing to run with weaker isolation than the policy asks for; pass --allow-degraded to run anyway");
        }
    }
    ensure_protected_exist(&cwd)?;
    let (cmd, rest) = args
        .command
        .split_first()
        .context("no command given: warden sandbox -- CMD ARGS...")?;
    let session = std::env::var("WARDEN_RUN_ID")
        .unwrap_or_else(|_| format!("sandbox-{}", std::process::id()));
    // Hooks that run inside (an agent's) cannot write the audit log: they relay to a broker
    // out here, in a directory the sandbox sees read-only.
    let socket = hook_socket_dir(&root).join(format!("{session}.sock"));
    let broker = crate::broker::Broker::start(&socket, &[])?;
    if let Some(dir) = socket.parent() {
        spec.protected.push(dir.to_path_buf());
    }
    spec.env.set.push((
        crate::broker::SOCKET_ENV.to_string(),
        broker.socket().to_string_lossy().into_owned(),
    ));
    let observer = proxy_logger(&root, &policy, session);
    let status = warden_sandbox::run_with_observer(&spec, &exec_path(cmd), rest, observer);
    drop(broker);
    Ok(status?.shell_code())
}

/// Where `warden sandbox` puts its hook broker's socket: inside the repository's `.git` (or
/// the project's `.warden/`), which the sandbox keeps read-only.
fn hook_socket_dir(root: &Path) -> PathBuf {
    let git = root.join(".git");
    if git.is_dir() {
        git.join("warden").join("hook")
    } else {
        root.join(".warden").join("hook")
    }
}

/// Every proxy attempt goes to the audit log under `session` (best effort: the proxy must not
/// stall on it).
pub fn proxy_logger(
    root: &Path,
    policy: &Policy,
    session: String,
) -> warden_sandbox::ProxyObserver {
    let store = crate::record::open_for_append(
        root,
        &policy.settings().audit,
        crate::redact::redactor(policy),
    )
    .ok();
    let store = store.map(std::sync::Mutex::new);
    Arc::new(move |attempt: &warden_sandbox::proxy::ProxyAttempt| {
        let Some(store) = &store else { return };
        let mut ev = warden_audit::NewEvent::new(
            session.clone(),
            "warden-sandbox",
            warden_audit::EventKind::Network,
        );
        ev.input = serde_json::json!({ "method": attempt.method, "host": attempt.host, "port": attempt.port });
        ev.decision = Some(if attempt.allowed {
            warden_audit::Decision::Allow
        } else {
            warden_audit::Decision::Deny
        });
        ev.reasons = vec![attempt.detail.clone()];
        if let Ok(store) = store.lock() {
            let _ = warden_audit::AuditStore::append(&*store, ev);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_path_resolves_directories_and_keeps_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::create_dir_all(root.join("b/.bin")).unwrap();
        std::fs::write(root.join("b/real"), "").unwrap();
        std::os::unix::fs::symlink("../real", root.join("b/.bin/tool")).unwrap();
        let given = root.join("a/../b/.bin/tool");
        assert_eq!(
            PathBuf::from(exec_path(given.as_os_str())),
            root.join("b/.bin/tool")
        );
        assert_eq!(exec_path(std::ffi::OsStr::new("sh")), "sh");
    }

    #[test]
    fn a_program_under_node_modules_keeps_the_whole_tree() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let package = root.join("node_modules/@scope/cli/bin");
        std::fs::create_dir_all(&package).unwrap();
        std::fs::create_dir_all(root.join("node_modules/.bin")).unwrap();
        std::fs::write(package.join("cli"), "").unwrap();
        std::os::unix::fs::symlink("../@scope/cli/bin/cli", root.join("node_modules/.bin/cli"))
            .unwrap();
        let keep = programs_to_keep(Some(&root.join("node_modules/.bin/cli")), &root);
        assert!(keep.contains(&root.join("node_modules/.bin")), "{keep:?}");
        assert!(keep.contains(&root.join("node_modules")), "{keep:?}");
    }
}
