//! Step 5's alert: a JSON webhook telling someone a run was discarded (or waits for approval).
//!
//! The body is plain JSON with a `text` field too, so chat webhooks that show `text` (Slack,
//! Mattermost, Rocket.Chat) display a readable line without any adapter.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::finalize::RunSummary;
use crate::gates::{GateReport, GateStatus};
use crate::Workspace;

/// One gate that blocked the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertGate {
    pub gate: String,
    pub status: GateStatus,
    pub summary: String,
}

/// The webhook's JSON body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// `warden.run.discarded` or `warden.run.needs-approval`.
    pub event: String,
    pub run_id: String,
    /// The repository's top directory on the machine that ran the agent.
    pub repo: String,
    pub task: Option<String>,
    pub branch: String,
    /// Where the discarded work is kept (`refs/warden/discarded/<id>`), when it was discarded.
    pub kept_ref: Option<String>,
    pub failed_gates: Vec<AlertGate>,
    /// `warden log show <session>`, when the audit session is known.
    pub audit: Option<String>,
    /// One human-readable line.
    pub text: String,
}

impl Alert {
    /// The alert for a run whose gates blocked it. `kept_ref` is what [`crate::discard`]
    /// returned, if the run was discarded.
    pub fn new(
        ws: &Workspace,
        summary: &RunSummary,
        report: &GateReport,
        kept_ref: Option<&str>,
    ) -> Alert {
        let failed_gates: Vec<AlertGate> = report
            .blocking()
            .map(|r| AlertGate {
                gate: r.gate.name().to_string(),
                status: r.status,
                summary: r.summary.clone(),
            })
            .collect();
        let discarded = kept_ref.is_some();
        let names: Vec<&str> = failed_gates.iter().map(|g| g.gate.as_str()).collect();
        let task = summary
            .task
            .as_deref()
            .map(|t| format!(" ({})", first_line(t, 80)))
            .unwrap_or_default();
        let text = if discarded {
            format!(
                "warden: run {}{task} discarded, gates failed: {}. Work kept at {}.",
                ws.run_id,
                names.join(", "),
                kept_ref.unwrap_or_default()
            )
        } else {
            format!(
                "warden: run {}{task} needs approval before merge: {}.",
                ws.run_id,
                names.join(", ")
            )
        };
        Alert {
            event: if discarded {
                "warden.run.discarded"
            } else {
                "warden.run.needs-approval"
            }
            .to_string(),
            run_id: ws.run_id.to_string(),
            repo: ws.repo_root.display().to_string(),
            task: summary.task.clone(),
            branch: ws.branch.clone(),
            kept_ref: kept_ref.map(str::to_string),
            failed_gates,
            audit: summary
                .audit_session
                .as_ref()
                .map(|s| format!("warden log show {s}")),
            text,
        }
    }
}

fn first_line(s: &str, max: usize) -> String {
    let line = s.lines().next().unwrap_or("").trim();
    if line.chars().count() > max {
        format!("{}…", line.chars().take(max).collect::<String>())
    } else {
        line.to_string()
    }
}

/// What went wrong delivering an alert.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AlertError {
    #[error("webhook URL {url} is not http(s)")]
    BadUrl { url: String },
    #[error("webhook {url} answered {status}")]
    Rejected { url: String, status: u16 },
    #[error("could not deliver the alert to {url}: {detail}")]
    Transport { url: String, detail: String },
}

/// POSTs the alert as JSON to `url`, giving up after `timeout` (the whole exchange).
pub fn send(url: &str, alert: &Alert, timeout: Duration) -> Result<(), AlertError> {
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(AlertError::BadUrl {
            url: url.to_string(),
        });
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .user_agent(concat!("warden/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let response = agent
        .post(url)
        .send_json(alert)
        .map_err(|e| AlertError::Transport {
            url: url.to_string(),
            detail: e.to_string(),
        })?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(AlertError::Rejected {
            url: url.to_string(),
            status,
        })
    }
}
