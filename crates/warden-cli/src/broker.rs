//! The hook broker: answers hook calls for an agent that runs inside warden's sandbox.
//!
//! Inside the sandbox the audit log is read-only (an agent must not rewrite its own record) and
//! the signing key is hidden, so a hook process there cannot do its job. `warden run` and
//! `warden sandbox` therefore start `warden hook serve` *outside* the sandbox on a Unix socket
//! in a directory the agent can reach but not change, and pass its path to the agent as
//! `$WARDEN_HOOK_SOCKET`. The hook process that Claude Code starts inside reads its payload,
//! relays it here, and prints the answer; a broker it cannot reach is a deny.
//!
//! It is not a policy of its own: every payload is answered by exactly the code a hook process
//! runs ([`crate::hook::answer_payload`]). The socket trusts whoever can connect, as a hook
//! process trusts its stdin; what the sandboxed side can gain by speaking to it directly is a
//! decision it could also get from a hook, plus events in its own run's log.

use crate::hook::{self, Failure, HookAnswer, MAX_PAYLOAD_BYTES};
use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable that points a hook process at its broker.
pub const SOCKET_ENV: &str = "WARDEN_HOOK_SOCKET";

/// `sun_path` holds 108 bytes with the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The Unix socket to listen on (created; its directory is created 0700).
    #[arg(long, value_name = "PATH")]
    pub socket: PathBuf,
}

/// The broker's socket, when this hook process runs under one.
pub fn socket_from_env() -> Option<PathBuf> {
    std::env::var_os(SOCKET_ENV)
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
}

fn check_socket_path(path: &Path) -> Result<()> {
    let len = path.as_os_str().len();
    if len > MAX_SOCKET_PATH {
        bail!(
            "the hook socket path {} is {len} bytes, longer than the {MAX_SOCKET_PATH} a Unix socket allows; move the repository or set [run] worktrees_dir to a shorter path",
            path.display()
        );
    }
    Ok(())
}

fn bind(path: &Path) -> Result<UnixListener> {
    check_socket_path(path)?;
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    // A socket left by a broker that was killed; anything else at that path is not ours.
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            bail!(
                "{} exists and is not a socket; refusing to replace it",
                path.display()
            );
        }
        std::fs::remove_file(path).with_context(|| format!("cannot remove {}", path.display()))?;
    }
    let listener =
        UnixListener::bind(path).with_context(|| format!("cannot listen on {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot restrict {}", path.display()))?;
    Ok(listener)
}

/// `warden hook serve`: prints `ready` once listening, answers until its stdin closes.
pub fn serve(args: &ServeArgs, out: &mut dyn Write) -> Result<i32> {
    let listener = bind(&args.socket)?;
    writeln!(out, "ready")?;
    out.flush()?;
    let socket = args.socket.clone();
    // Whoever started the broker holds its stdin: when that closes (the run ended, or the
    // starter died), the broker goes too and takes its socket with it.
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = std::fs::remove_file(&socket);
        std::process::exit(0);
    });
    for conn in listener.incoming() {
        match conn {
            Ok(stream) => {
                std::thread::spawn(move || answer_connection(stream));
            }
            Err(e) => eprintln!("warden hook serve: accept failed: {e}"),
        }
    }
    Ok(0)
}

fn answer_connection(mut stream: UnixStream) {
    let started = Instant::now();
    let mut raw = Vec::new();
    let read = (&mut stream)
        .take(MAX_PAYLOAD_BYTES + 1)
        .read_to_end(&mut raw);
    let answer = match read {
        Err(e) => Failure::new(None, format!("cannot read the relayed payload: {e}")).answer(),
        Ok(n) if n as u64 > MAX_PAYLOAD_BYTES => Failure::new(
            hook::sniff_event(&String::from_utf8_lossy(&raw[..4096.min(raw.len())])),
            format!("the hook payload is larger than {MAX_PAYLOAD_BYTES} bytes"),
        )
        .answer(),
        Ok(_) => match String::from_utf8(raw) {
            Ok(text) => hook::answer_payload(&text, started),
            Err(e) => Failure::new(None, format!("the hook payload is not UTF-8: {e}")).answer(),
        },
    };
    // The hook process on the other side fails closed if this never arrives.
    if let Ok(text) = serde_json::to_vec(&answer) {
        let _ = stream.write_all(&text);
    }
}

/// Send a payload to the broker and return its answer.
pub fn relay(socket: &Path, raw: &str) -> Result<HookAnswer> {
    let mut stream = UnixStream::connect(socket).context("cannot connect")?;
    stream
        .write_all(raw.as_bytes())
        .context("cannot send the payload")?;
    stream
        .shutdown(std::net::Shutdown::Write)
        .context("cannot finish the payload")?;
    let mut reply = String::new();
    stream
        .read_to_string(&mut reply)
        .context("no answer came back")?;
    serde_json::from_str(&reply).context("the answer is not one warden understands")
}

/// A broker started by this process; stopped (and its socket removed) on [`Broker::stop`] or
/// drop.
pub struct Broker {
    child: Option<Child>,
    socket: PathBuf,
}

impl Broker {
    /// Start `warden hook serve` with `env` (the run's own variables, which the hook logic
    /// reads: run id, audit log, unattended) and wait until it listens.
    pub fn start(socket: &Path, env: &[(String, String)]) -> Result<Broker> {
        check_socket_path(socket)?;
        let exe = std::env::current_exe().context("cannot find the warden binary")?;
        let mut child = Command::new(exe)
            .args(["hook", "serve", "--socket"])
            .arg(socket)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env_remove(SOCKET_ENV)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start the hook broker")?;
        let stdout = child
            .stdout
            .take()
            .context("the hook broker has no stdout")?;
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        if line.trim() != "ready" {
            let _ = child.kill();
            let status = child.wait().ok();
            bail!(
                "the hook broker did not start ({})",
                status.map_or("no status".to_string(), |s| s.to_string())
            );
        }
        Ok(Broker {
            child: Some(child),
            socket: socket.to_path_buf(),
        })
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        drop(child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
            }
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_path_too_long_for_the_kernel_is_refused_with_a_reason() {
        let long = PathBuf::from(format!("/tmp/{}/hook.sock", "d".repeat(120)));
        let err = check_socket_path(&long).unwrap_err().to_string();
        assert!(err.contains("longer than the 107"), "{err}");
        assert!(check_socket_path(Path::new("/tmp/w/hook.sock")).is_ok());
    }

    #[test]
    fn bind_refuses_to_replace_a_file_that_is_not_a_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hook.sock");
        std::fs::write(&path, "not a socket").unwrap();
        let err = bind(&path).unwrap_err().to_string();
        assert!(err.contains("not a socket"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a socket");
    }

    #[test]
    fn bind_replaces_a_stale_socket_and_restricts_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("hook.sock");
        drop(bind(&path).unwrap());
        let listener = bind(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
        drop(listener);
    }

    #[test]
    fn relay_carries_a_payload_and_its_answer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hook.sock");
        let listener = bind(&path).unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut got = String::new();
            s.read_to_string(&mut got).unwrap();
            let answer = HookAnswer::json(serde_json::json!({ "echo": got }));
            s.write_all(&serde_json::to_vec(&answer).unwrap()).unwrap();
        });
        let answer = relay(&path, "{\"hook_event_name\":\"SessionStart\"}").unwrap();
        server.join().unwrap();
        assert_eq!(answer.exit_code, 0);
        assert_eq!(
            answer.stdout.unwrap()["echo"],
            "{\"hook_event_name\":\"SessionStart\"}"
        );
    }

    #[test]
    fn relay_to_nothing_is_an_error_not_an_answer() {
        let dir = tempfile::tempdir().unwrap();
        assert!(relay(&dir.path().join("absent.sock"), "{}").is_err());
    }
}
