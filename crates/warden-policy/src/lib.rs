//! warden's policy engine: what an agent may do, decided before it does it.
//!
//! This crate turns policy files into a compiled [`Policy`] and decides typed [`Action`]s
//! against it. It owns:
//! - the action model ([`Action`]): reads, writes, edits, shell commands, fetches, MCP calls;
//! - Claude Code's permission rule syntax (`Bash(npm test*)`, `Read(./src/**)`,
//!   `Edit(./infra/**)`, `WebFetch(domain:example.com)`, `mcp__server__tool`);
//! - path resolution (relative, `~`, `..`, symlinks) before any rule is matched;
//! - the layered policy files (user, project, local; warden TOML and Claude Code's
//!   `settings.json`), their JSON Schema, import and lint;
//! - the decision procedure: deny > ask > allow, then the default posture.
//!
//! It does not parse shell (a [`CommandAnalyzer`] does; the semantic one lives in
//! `warden-shell`), scan for secrets, keep session state, or talk any agent's wire protocol.
//!
//! ```
//! use warden_policy::{policy_from_toml, Action, Decision, EvalContext};
//! let root = std::env::temp_dir();
//! let policy = policy_from_toml(&root, None, r#"
//!     [permissions]
//!     deny = ["Bash(git push --force*)"]
//!     allow = ["Bash(npm test*)"]
//! "#).unwrap();
//! let push = Action::Exec { command: "git push --force origin main".into() };
//! assert_eq!(policy.evaluate(&push, &EvalContext::default()).decision, Decision::Deny);
//! let test = Action::Exec { command: "npm test".into() };
//! assert_eq!(policy.evaluate(&test, &EvalContext::default()).decision, Decision::Allow);
//! ```
#![forbid(unsafe_code)]

pub mod action;
pub mod bash;
pub mod config;
pub mod engine;
pub mod lint;
pub mod paths;
pub mod rule;
pub mod semantic;

pub use action::Action;
pub use config::{Decision, Layer, PolicyFile};
pub use engine::{
    policy_from_toml, AnalyzedCommand, CommandAnalyzer, CommandPart, CommandTree, CommandView,
    DeferredTree, EvalContext, MatchRule, PackHit, PackSelection, Policy, PolicyError, Reason,
    ReasonKind, Verdict,
};
pub use rule::{Origin, Rule, RuleList};
