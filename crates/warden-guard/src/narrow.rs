//! Taint narrowing: what a session that has read untrusted content may no longer do.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::state::SessionState;

/// A class of effect a pending action has. The caller derives them from the action (and,
/// for commands, from the shell analysis); [`crate::ActionSummary::from_tool_call`] gives a
/// light derivation for callers without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Read a file inside the project.
    ReadProject,
    /// Read a file outside the project.
    ReadOutsideProject,
    /// Read a secret file (`.env*`, keys, cloud credentials).
    ReadSecretFile,
    /// Write inside the declared scope.
    WriteInScope,
    /// Write outside the declared scope.
    WriteOutsideScope,
    /// Send anything to the network.
    NetworkEgress,
    /// Run code that is not fixed in advance (`eval`, `bash -c "$x"`, `python -c`, a
    /// script the session just wrote).
    DynamicCode,
    /// Add, remove or upgrade dependencies.
    InstallDependency,
    /// Change CI, deployment or infrastructure configuration.
    ModifyInfra,
    /// Push to a remote.
    GitPush,
    /// Delete files or data.
    Delete,
    /// Gain privilege (`sudo`, `chmod u+s`).
    Privilege,
}

impl Capability {
    /// A short phrase for reasons ("network egress").
    pub fn describe(self) -> &'static str {
        match self {
            Capability::ReadProject => "reading project files",
            Capability::ReadOutsideProject => "reading files outside the project",
            Capability::ReadSecretFile => "reading a secret file",
            Capability::WriteInScope => "writing inside the declared scope",
            Capability::WriteOutsideScope => "writing outside the declared scope",
            Capability::NetworkEgress => "network egress",
            Capability::DynamicCode => "dynamic code execution",
            Capability::InstallDependency => "changing dependencies",
            Capability::ModifyInfra => "changing CI or infrastructure configuration",
            Capability::GitPush => "pushing to a remote",
            Capability::Delete => "deleting files",
            Capability::Privilege => "gaining privilege",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// How a narrowing rule answers. Narrowing only ever tightens: there is no "allow".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Ask a person.
    Ask,
    /// Refuse.
    Deny,
}

/// Which capabilities are narrowed, and how, once a session is tainted or has seen a
/// secret. Policy-file shape: `{"tainted": {"network_egress": "deny", ...},
/// "secret_seen": {...}}`; a map given in the policy replaces the default map whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaintConfig {
    /// Rules for a session that has read untrusted content.
    pub tainted: BTreeMap<Capability, Effect>,
    /// Rules for a session that has seen a secret in a tool result (untainted or not).
    pub secret_seen: BTreeMap<Capability, Effect>,
}

impl Default for TaintConfig {
    fn default() -> Self {
        use Capability::*;
        TaintConfig {
            tainted: BTreeMap::from([
                (NetworkEgress, Effect::Deny),
                (ReadSecretFile, Effect::Deny),
                (WriteOutsideScope, Effect::Ask),
                (DynamicCode, Effect::Ask),
                (GitPush, Effect::Ask),
                (Privilege, Effect::Ask),
            ]),
            secret_seen: BTreeMap::from([(NetworkEgress, Effect::Ask)]),
        }
    }
}

/// The answer of [`narrow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NarrowDecision {
    /// The session state does not change the policy's answer.
    NoChange,
    /// Ask a person, whatever the policy said.
    Ask,
    /// Deny, whatever the policy said.
    Deny,
}

/// A narrowed verdict with the reason a person (and the agent) reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Narrowing {
    /// The decision; combine with the policy's as deny > ask > allow.
    pub decision: NarrowDecision,
    /// Why, naming the taint source; `None` for [`NarrowDecision::NoChange`].
    pub reason: Option<String>,
    /// The capabilities that were narrowed.
    pub capabilities: Vec<Capability>,
}

impl Narrowing {
    fn no_change() -> Self {
        Narrowing {
            decision: NarrowDecision::NoChange,
            reason: None,
            capabilities: Vec::new(),
        }
    }
}

/// Narrows the verdict for an action needing `caps` in a session in `state`.
///
/// A halted session denies everything. A tainted session applies `cfg.tainted`; a session
/// that has seen a secret applies `cfg.secret_seen`; the strictest effect wins and the
/// reason lists every narrowed capability and the taint source.
pub fn narrow(state: &SessionState, caps: &[Capability], cfg: &TaintConfig) -> Narrowing {
    if let Some(why) = &state.halted {
        return Narrowing {
            decision: NarrowDecision::Deny,
            reason: Some(format!("the session was halted: {why}")),
            capabilities: caps.to_vec(),
        };
    }
    let mut worst = NarrowDecision::NoChange;
    let mut reasons = Vec::new();
    let mut narrowed = Vec::new();
    let mut apply = |rules: &BTreeMap<Capability, Effect>, why: &str| {
        let mut hit: Vec<(Capability, Effect)> = caps
            .iter()
            .filter_map(|c| rules.get(c).map(|e| (*c, *e)))
            .collect();
        hit.sort();
        hit.dedup();
        if hit.is_empty() {
            return;
        }
        let mut denied = Vec::new();
        let mut asked = Vec::new();
        for (c, e) in &hit {
            if !narrowed.contains(c) {
                narrowed.push(*c);
            }
            match e {
                Effect::Deny => {
                    worst = worst.max(NarrowDecision::Deny);
                    denied.push(c.describe());
                }
                Effect::Ask => {
                    worst = worst.max(NarrowDecision::Ask);
                    asked.push(c.describe());
                }
            }
        }
        let mut s = why.to_string();
        if !denied.is_empty() {
            s.push_str(&format!(": {} denied", denied.join(" and ")));
        }
        if !asked.is_empty() {
            s.push_str(if denied.is_empty() { ": " } else { "; " });
            s.push_str(&format!("{} needs approval", asked.join(" and ")));
        }
        reasons.push(s);
    };
    if let Some(t) = &state.tainted {
        let id = t
            .tool_use_id
            .as_deref()
            .map(|i| format!(", tool call {i}"))
            .unwrap_or_default();
        apply(
            &cfg.tainted,
            &format!("the session is tainted by {}{id}", t.source),
        );
    }
    if state.saw_secret {
        apply(&cfg.secret_seen, "the session has seen a secret");
    }
    if worst == NarrowDecision::NoChange {
        return Narrowing::no_change();
    }
    Narrowing {
        decision: worst,
        reason: Some(reasons.join("; ")),
        capabilities: narrowed,
    }
}
