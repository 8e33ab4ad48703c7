//! Webhook notifications: when a request starts waiting, POST a JSON body
//! that carries the link to its page.
//!
//! Two body shapes: [`WebhookFormat::Json`] (every field, for your own
//! automation) and [`WebhookFormat::Slack`] (`{"text": ...}`, what Slack,
//! Mattermost and most chat "incoming webhooks" accept).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::display::summarize;
use crate::model::ApprovalRequest;
use crate::ApprovalError;

/// The body shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    #[default]
    Json,
    Slack,
}

/// Where and how to notify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    pub url: String,
    pub format: WebhookFormat,
    /// Whole-request bound (connect, send, read); default 5 s.
    pub timeout: Duration,
}

impl WebhookConfig {
    pub fn new(url: impl Into<String>, format: WebhookFormat) -> Self {
        WebhookConfig {
            url: url.into(),
            format,
            timeout: Duration::from_secs(5),
        }
    }
}

/// The link to a request's page in `warden serve`.
pub fn request_url(base_url: &str, id: &str) -> String {
    format!("{}/requests/{id}", base_url.trim_end_matches('/'))
}

/// Escapes the three characters Slack's mrkdwn treats as control.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The body sent for a waiting request.
pub fn pending_payload(
    format: WebhookFormat,
    req: &ApprovalRequest,
    base_url: Option<&str>,
) -> Value {
    let url = base_url.map(|b| request_url(b, &req.id));
    match format {
        WebhookFormat::Json => json!({
            "event": "approval.pending",
            "id": req.id,
            "session_id": req.session_id,
            "task": req.task,
            "tool": req.tool,
            "action": req.action,
            "action_hash": req.action_hash,
            "reason": req.reason,
            "created_at": req.created_at,
            "expires_at": req.expires_at,
            "url": url,
            "approve_command": format!("warden approve {}", req.id),
            "deny_command": format!("warden deny {} --reason \"...\"", req.id),
        }),
        WebhookFormat::Slack => {
            let summary = slack_escape(&summarize(&req.tool, &req.action, 200));
            let reason = slack_escape(&summarize("", &Value::String(req.reason.clone()), 300));
            let link = match &url {
                Some(u) => format!("<{}|Open the request>", slack_escape(u)),
                None => format!("`warden approve {}`", req.id),
            };
            json!({
                "text": format!(
                    "warden: approval needed in session {} for {} `{}`\nWhy: {}\n{} (expires {})",
                    slack_escape(&req.session_id),
                    slack_escape(&req.tool),
                    summary.replace('`', "'"),
                    reason,
                    link,
                    req.expires_at.format("%H:%M:%S UTC"),
                )
            })
        }
    }
}

/// Sends the notification for a waiting request, within the config's
/// timeout. A non-2xx answer is an error.
pub fn send_pending(
    config: &WebhookConfig,
    req: &ApprovalRequest,
    base_url: Option<&str>,
) -> Result<(), ApprovalError> {
    let body = pending_payload(config.format, req, base_url);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(config.timeout))
        .build()
        .into();
    agent
        .post(&config.url)
        .header("User-Agent", "warden-approvals")
        .send_json(&body)
        .map(|_| ())
        .map_err(|e| ApprovalError::Notify {
            url: config.url.clone(),
            detail: e.to_string(),
        })
}

/// Fire and forget: the wait never depends on the receiver.
pub(crate) fn spawn_pending(config: WebhookConfig, req: &ApprovalRequest, base_url: Option<&str>) {
    let req = req.clone();
    let base = base_url.map(str::to_string);
    let spawned = std::thread::Builder::new()
        .name("warden-webhook".into())
        .spawn(move || {
            if let Err(e) = send_pending(&config, &req, base.as_deref()) {
                tracing::warn!(error = %e, request = %req.id, "approval webhook not delivered");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the webhook thread");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_escaping_neutralises_links_and_mentions() {
        assert_eq!(
            slack_escape("<!channel> & <http://x|y>"),
            "&lt;!channel&gt; &amp; &lt;http://x|y&gt;"
        );
    }
}
