//! Running a child process with a time limit while keeping only the tail of its output.
//!
//! Test suites and `git push` can hang or print megabytes; the gates need a bounded wait and a
//! bounded memory footprint. The child gets its own process group so that a timeout also stops
//! what it started (a test runner's test binaries, a build script's compiler).

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// What a finished (or stopped) child left behind.
#[derive(Debug)]
pub(crate) struct Finished {
    /// `None` when the child was killed after the time limit.
    pub status: Option<ExitStatus>,
    pub timed_out: bool,
    pub stdout: Tail,
    pub stderr: Tail,
    pub elapsed: Duration,
}

/// The last `keep` bytes of a stream, and whether anything before them was dropped.
#[derive(Debug, Default, Clone)]
pub(crate) struct Tail {
    pub bytes: Vec<u8>,
    pub dropped: bool,
    keep: usize,
}

impl Tail {
    fn new(keep: usize) -> Self {
        Tail {
            bytes: Vec::new(),
            dropped: false,
            keep,
        }
    }

    fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend_from_slice(chunk);
        // Trim in batches so a chatty child does not cost a memmove per read.
        if self.bytes.len() > self.keep.saturating_mul(2).max(64 * 1024) {
            let cut = self.bytes.len() - self.keep;
            self.bytes.drain(..cut);
            self.dropped = true;
        }
    }

    fn finish(mut self) -> Self {
        if self.bytes.len() > self.keep {
            let cut = self.bytes.len() - self.keep;
            self.bytes.drain(..cut);
            self.dropped = true;
        }
        self
    }

    /// The kept bytes as text, invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// Runs `cmd` with stdin closed, stopping its whole process group after `timeout`.
///
/// `keep` bounds the bytes kept from each of stdout and stderr; use `usize::MAX` to keep all.
/// With `stop_group`, whatever the child left running in its process group (a server a test
/// started, a compiler a build script forked) is killed when it exits, so it cannot hold the
/// pipes open or outlive the gate.
pub(crate) fn run_bounded(
    mut cmd: Command,
    input: Option<Vec<u8>>,
    timeout: Option<Duration>,
    keep: usize,
    stop_group: bool,
) -> std::io::Result<Finished> {
    let start = Instant::now();
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .process_group(0);
    let mut child = cmd.spawn()?;
    let writer = match (input, child.stdin.take()) {
        (Some(data), Some(mut stdin)) => Some(std::thread::spawn(move || {
            use std::io::Write;
            // A child that exits without reading its input is not an error of ours.
            let _ = stdin.write_all(&data);
        })),
        _ => None,
    };
    let out = Arc::new(Mutex::new(Tail::new(keep)));
    let err = Arc::new(Mutex::new(Tail::new(keep)));
    let readers = [
        child
            .stdout
            .take()
            .map(|s| spawn_reader(s, Arc::clone(&out))),
        child
            .stderr
            .take()
            .map(|s| spawn_reader(s, Arc::clone(&err))),
    ];

    let (status, timed_out) = if timeout.is_some() || stop_group {
        wait_then_stop_group(&mut child, timeout, stop_group)?
    } else {
        (Some(child.wait()?), false)
    };

    for handle in readers.into_iter().flatten() {
        join_bounded(handle, Duration::from_secs(2));
    }
    if let Some(handle) = writer {
        join_bounded(handle, Duration::from_secs(2));
    }
    let take = |tail: &Arc<Mutex<Tail>>| match tail.lock() {
        Ok(guard) => guard.clone().finish(),
        Err(poisoned) => poisoned.into_inner().clone().finish(),
    };
    Ok(Finished {
        status,
        timed_out,
        stdout: take(&out),
        stderr: take(&err),
        elapsed: start.elapsed(),
    })
}

/// Waits for the child without reaping it (`WNOWAIT`), so its pid, which is also the process
/// group id, cannot be handed to another process while the group is signalled; then stops the
/// group (always on timeout, after a normal exit only if `stop_group`), then reaps the child.
fn wait_then_stop_group(
    child: &mut Child,
    timeout: Option<Duration>,
    stop_group: bool,
) -> std::io::Result<(Option<ExitStatus>, bool)> {
    let pid = Pid::from_raw(i32::try_from(child.id()).map_err(std::io::Error::other)?);
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut pause = Duration::from_micros(200);
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT | WaitPidFlag::WNOHANG;
    let timed_out = loop {
        match waitid(Id::Pid(pid), flags) {
            Ok(WaitStatus::StillAlive) => {}
            Ok(_) => break false,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(std::io::Error::from(e)),
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break true;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    };
    if timed_out || stop_group {
        // ESRCH (the group is already empty) is the common, expected case.
        let _ = killpg(pid, Signal::SIGKILL);
    }
    let status = child.wait()?;
    Ok(if timed_out {
        (None, true)
    } else {
        (Some(status), false)
    })
}

fn spawn_reader<R: Read + Send + 'static>(mut stream: R, tail: Arc<Mutex<Tail>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => match tail.lock() {
                    Ok(mut guard) => guard.push(&buf[..n]),
                    Err(_) => break,
                },
            }
        }
    })
}

/// Waits for a helper thread, but not forever: a grandchild that escaped the process group can
/// hold a pipe open indefinitely, and the gate must still return.
fn join_bounded(handle: JoinHandle<()>, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !handle.is_finished() {
        if Instant::now() >= deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = handle.join();
}

/// A readable description of how a child ended.
pub(crate) fn describe(
    status: Option<ExitStatus>,
    timed_out: bool,
    timeout: Option<Duration>,
) -> String {
    use std::os::unix::process::ExitStatusExt;
    if timed_out {
        return match timeout {
            Some(t) => format!("timed out after {}s", t.as_secs_f64()),
            None => "timed out".to_string(),
        };
    }
    match status {
        Some(s) => match (s.code(), s.signal()) {
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(sig)) => format!("killed by signal {sig}"),
            (None, None) => "ended without a status".to_string(),
        },
        None => "ended without a status".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_tail() {
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "i=0; while [ $i -lt 20000 ]; do echo line$i; i=$((i+1)); done",
        ]);
        let done = run_bounded(cmd, None, Some(Duration::from_secs(20)), 100, true).unwrap();
        assert!(done.status.unwrap().success());
        assert!(done.stdout.dropped);
        assert!(done.stdout.bytes.len() <= 100);
        assert!(done.stdout.text().ends_with("line19999\n"));
    }

    #[test]
    fn timeout_stops_the_whole_group() {
        let mut cmd = Command::new("sh");
        // The grandchild `sleep` holds stdout open; without the group kill this would hang.
        cmd.args(["-c", "sleep 30 & sleep 30; echo never"]);
        let start = Instant::now();
        let done = run_bounded(cmd, None, Some(Duration::from_millis(300)), 1024, true).unwrap();
        assert!(done.timed_out);
        assert!(done.status.is_none());
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
        assert!(!done.stdout.text().contains("never"));
    }

    #[test]
    fn leftover_processes_of_a_finished_command_are_stopped() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 30 & echo $!"]);
        let start = Instant::now();
        let done = run_bounded(cmd, None, Some(Duration::from_secs(20)), 1024, true).unwrap();
        assert!(done.status.unwrap().success());
        assert!(start.elapsed() < Duration::from_secs(10));
        let pid: i32 = done.stdout.text().trim().parse().unwrap();
        // Signal 0 probes for existence; the background sleep must be gone (or a zombie
        // awaiting its reaper, which /proc shows as state Z).
        let alive = nix::sys::signal::kill(Pid::from_raw(pid), None).is_ok()
            && std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|s| !s.contains(") Z "))
                .unwrap_or(false);
        assert!(!alive, "background process {pid} survived");
    }

    #[test]
    fn passes_input() {
        let mut cmd = Command::new("cat");
        cmd.arg("-");
        let done = run_bounded(cmd, Some(b"hello".to_vec()), None, usize::MAX, false).unwrap();
        assert_eq!(done.stdout.bytes, b"hello");
    }
}
