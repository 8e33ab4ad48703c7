//! The `warden` binary: wires the capability crates into commands and agent hooks.
//!
//! It is for parsing arguments, finding the project and its policy, calling the libraries and
//! printing. It is not where decisions are made (warden-policy), commands understood
//! (warden-shell), secrets found (warden-secrets) or events stored (warden-audit).
#![forbid(unsafe_code)]

mod analysis;
mod approve;
mod broker;
mod check;
mod claude;
mod demo;
mod guard;
mod hook;
mod init;
mod policy_cmd;
mod project;
mod record;
mod redact;
mod replay;
mod run_cmd;
mod sandbox_cmd;
mod term;

use clap::{Parser, Subcommand};
use std::io::Write;

const EXIT_CODES: &str = "\
Exit status:
  0  success; `check`: allow
  1  `check`: deny; `policy lint`: errors found
  2  usage error, unreadable input or a broken policy
  3  `check`: ask
  `hook claude` always answers in Claude Code's protocol: exit 0 with a JSON decision, or exit 2
  (blocking) when the payload itself cannot be read.";

/// warden: a containment harness for AI coding agents.
#[derive(Debug, Parser)]
#[command(name = "warden", version, about, after_long_help = EXIT_CODES, after_help = "Exit status: 0 ok/allow, 1 deny or findings, 2 error, 3 ask (see --help)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a starter policy and install warden's hooks in .claude/settings.json.
    Init(init::InitArgs),
    /// Explain how the policy decides an action, without any agent.
    Check(check::CheckArgs),
    /// Work with policy files: import, lint, schema.
    Policy {
        #[command(subcommand)]
        command: policy_cmd::PolicyCommand,
    },
    /// Read, verify and export the audit log.
    Log(warden_audit::cli::LogArgs),
    /// Re-decide a recorded session with the current (or another) policy; show what changes.
    Replay(replay::ReplayArgs),
    /// Scan files, a directory, a git diff or stdin for secrets.
    Scan(warden_secrets::cli::ScanArgs),
    /// Run a command in an OS sandbox built from the policy.
    Sandbox(sandbox_cmd::SandboxArgs),
    /// List the actions waiting for a person's approval.
    Approvals(warden_approvals::cli::ApprovalsArgs),
    /// Approve a waiting action.
    Approve(warden_approvals::cli::ApproveArgs),
    /// Deny a waiting action (a reason is required).
    Deny(warden_approvals::cli::DenyArgs),
    /// The approval web app: waiting actions, sessions and the audit log, on 127.0.0.1.
    Serve(approve::ServeArgs),
    /// Run an agent on a disposable branch, in the sandbox, then gate its work.
    Run(run_cmd::RunArgs),
    /// List past runs and their outcomes.
    Runs(run_cmd::RunsArgs),
    /// Remove what a run left (worktree, branch, kept ref).
    Discard(run_cmd::DiscardArgs),
    /// Show warden stopping a scripted agent in a throwaway repository.
    Demo(demo::DemoArgs),
    /// The command agent hooks run (reads the hook JSON on stdin).
    Hook {
        #[command(subcommand)]
        agent: HookAgent,
    },
}

#[derive(Debug, Subcommand)]
enum HookAgent {
    /// Claude Code's hook protocol (PreToolUse, PostToolUse, UserPromptSubmit, SessionStart, SessionEnd).
    Claude,
    /// Answer hook calls relayed over a Unix socket (started by `warden run` and `warden
    /// sandbox` outside the sandbox; hooks inside find it through $WARDEN_HOOK_SOCKET). Runs
    /// until its stdin closes.
    Serve(broker::ServeArgs),
}

fn log_command(args: &warden_audit::cli::LogArgs, out: &mut dyn Write) -> anyhow::Result<i32> {
    let root = project::project_root(&project::current_dir()?);
    let policy = project::load_policy(&root, None)?;
    let store = record::open_for_reading(&root, &policy.settings().audit)?;
    match warden_audit::cli::run(args, &store, out, term::stdout_color()) {
        Ok(code) => Ok(code),
        Err(e) => {
            eprintln!("warden: error: {e}");
            Ok(warden_audit::cli::exit_code_for(&e))
        }
    }
}

fn scan_command(args: &warden_secrets::cli::ScanArgs, out: &mut dyn Write) -> anyhow::Result<i32> {
    let mut config = warden_secrets::ScanConfig {
        use_builtin: true,
        ..Default::default()
    };
    if let Ok(cwd) = project::current_dir() {
        let root = project::project_root(&cwd);
        if warden_policy::config::has_warden_policy(&root) {
            if let Ok(policy) = project::load_policy(&root, None) {
                config.disabled = policy.settings().secrets.disable.clone();
            }
        }
    }
    Ok(warden_secrets::cli::run(
        args,
        config,
        out,
        term::stdout_color(),
    )?)
}

/// `warden hook claude` exactly, as the installed hooks call it.
fn is_plain_hook_call() -> bool {
    let mut args = std::env::args_os().skip(1);
    matches!(
        (args.next(), args.next(), args.next()),
        (Some(a), Some(b), None) if a == "hook" && b == "claude"
    )
}

fn main() {
    // The hook runs for every tool call: answer it without building the whole command-line
    // parser first (clap would construct every subcommand's arguments).
    if is_plain_hook_call() {
        let code = hook::run(std::io::stdin().lock(), std::io::stdout().lock());
        std::process::exit(code);
    }
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = match &cli.command {
        Command::Hook {
            agent: HookAgent::Claude,
        } => {
            let code = hook::run(std::io::stdin().lock(), &mut out);
            std::process::exit(code);
        }
        Command::Hook {
            agent: HookAgent::Serve(args),
        } => broker::serve(args, &mut out),
        Command::Init(args) => init::run(args, &mut out),
        Command::Check(args) => check::run(args, &mut out),
        Command::Policy { command } => policy_cmd::run(command, &mut out),
        Command::Log(args) => log_command(args, &mut out),
        Command::Replay(args) => replay::run(args, &mut out),
        Command::Run(args) => run_cmd::run(args, &mut out),
        Command::Runs(args) => run_cmd::runs(args, &mut out),
        Command::Discard(args) => run_cmd::discard(args, &mut out),
        Command::Demo(args) => demo::run(args, &mut out),
        Command::Scan(args) => scan_command(args, &mut out),
        Command::Sandbox(args) => sandbox_cmd::run(args, &mut out),
        Command::Approvals(args) => approve::run_list(args, &mut out),
        Command::Approve(args) => approve::run_approve(args, &mut out),
        Command::Deny(args) => approve::run_deny(args, &mut out),
        Command::Serve(args) => approve::run_serve(args, &mut out),
    };
    let _ = out.flush();
    match result {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            // `warden log show | head` closing the pipe is not an error worth a message.
            let broken_pipe = err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                std::process::exit(0);
            }
            let paint = term::Paint {
                on: term::stderr_color(),
            };
            eprintln!("{} {err:#}", paint.red("warden: error:"));
            std::process::exit(2);
        }
    }
}
