//! The HTML. Every value spliced with `( )` is escaped by maud; nothing
//! from the agent is ever inserted with `PreEscaped`.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};

use super::audit_view::{EventRow, SessionRow};
use super::auth::Login;
use super::LogFilter;
use crate::display::{human_duration, summarize};
use crate::model::{ApprovalRequest, Scope, ScopedRule, Status};
use crate::ApprovalError;

/// Percent-encodes one URL path segment (agent-controlled session ids can
/// hold `/`, `?`, `#`).
fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn when(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn layout(title: &str, login: Option<&Login>, live: Option<(&str, u64)>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · warden" }
                link rel="stylesheet" href="/static/style.css";
                script src="/static/app.js" defer {}
            }
            body {
                header.top {
                    span.brand { "warden" }
                    @if login.is_some() {
                        nav {
                            a href="/" { "Approvals" }
                            a href="/sessions" { "Sessions" }
                            a href="/log" { "Audit log" }
                        }
                        span #live-status { @if live.is_some() { "connecting" } }
                    }
                    @if let Some(l) = login {
                        form method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(l.csrf);
                            button type="submit" { "Log out" }
                        }
                    }
                }
                main data-live=[live.map(|l| l.0)] data-rev=[live.map(|l| l.1)] {
                    (body)
                }
            }
        }
    }
}

pub(crate) fn message_page(status: StatusCode, msg: &str, login: Option<&Login>) -> Markup {
    layout(
        status.canonical_reason().unwrap_or("Error"),
        login,
        None,
        html! {
            h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) }
            p.error { (msg) }
            @if login.is_some() { p { a href="/" { "Back to the approvals" } } }
        },
    )
}

pub(crate) fn login_page(next: &str, error: Option<&str>) -> Markup {
    layout(
        "Log in",
        None,
        None,
        html! {
            h1 { "Log in" }
            p { "Open the login link that " code { "warden serve" } " printed when it started, or paste its token here." }
            @if let Some(e) = error { p.error { (e) } }
            form method="get" action="/login" {
                input type="hidden" name="next" value=(next);
                input type="password" name="token" placeholder="token" autocomplete="off" required;
                " "
                button type="submit" { "Log in" }
            }
        },
    )
}

/// A page, not a redirect: the cookie is `SameSite=Strict`, and a redirect
/// that began on another site (a chat link) would not carry it.
pub(crate) fn logged_in_page(next: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="refresh" content=(format!("0;url={next}"));
                title { "Logged in · warden" }
                link rel="stylesheet" href="/static/style.css";
            }
            body { main { p { "Logged in. " a href=(next) { "Continue" } } } }
        }
    }
}

fn status_badge(s: &Status) -> Markup {
    let label = match s {
        Status::Pending => "waiting",
        Status::Approved { .. } => "approved",
        Status::Denied { .. } => "denied",
        Status::TimedOut => "timed out",
    };
    html! { span class=(format!("badge {}", s.name())) { (label) } }
}

fn diff_view(diff: &str) -> Markup {
    html! {
        pre.diff {
            @for line in diff.lines() {
                @let class = if line.starts_with("+++") || line.starts_with("---") { "file" }
                    else if line.starts_with('+') { "add" }
                    else if line.starts_with('-') { "del" }
                    else if line.starts_with("@@") { "hunk" }
                    else { "ctx" };
                span class=(class) { (line) } "\n"
            }
        }
    }
}

fn decision_line(r: &ApprovalRequest) -> Markup {
    html! {
        @match &r.status {
            Status::Pending => {}
            Status::Approved { by, reason, scope } => p.approved {
                "Approved by " (by)
                @if *scope == Scope::SameForSession { " — the same action is allowed for the rest of this session" }
                @if let Some(reason) = reason { ": " (reason) }
                @if let Some(t) = &r.decided_at { " (" (when(t)) ")" }
            },
            Status::Denied { by, reason } => p.denied {
                "Denied by " (by) ": " (reason)
                @if let Some(t) = &r.decided_at { " (" (when(t)) ")" }
            },
            Status::TimedOut => p.timed_out { "Nobody decided in time; the action was denied." },
        }
    }
}

fn request_card(r: &ApprovalRequest, login: &Login, open_action: bool) -> Markup {
    let action_json =
        serde_json::to_string_pretty(&r.action).unwrap_or_else(|_| r.action.to_string());
    html! {
        article.request id=(format!("req-{}", r.id)) data-id=(r.id) data-status=(r.status.name()) {
            h2 {
                (status_badge(&r.status)) " "
                a href=(format!("/requests/{}", seg(&r.id))) { (r.tool) } ": "
                code { (summarize(&r.tool, &r.action, 160)) }
            }
            dl.meta {
                dt { "Why" } dd.reason { (r.reason) }
                dt { "Session" } dd { a href=(format!("/sessions/{}", seg(&r.session_id))) { (r.session_id) } }
                @if let Some(task) = &r.task { dt { "Task" } dd { (task) } }
                dt { "Requested" } dd { (when(&r.created_at)) }
                @if r.status.is_pending() {
                    dt { "Expires" } dd { (when(&r.expires_at)) " (in " (human_duration((r.expires_at - Utc::now()).num_seconds())) ")" }
                }
                dt { "Request" } dd { code { (r.id) } " · action hash " code { (&r.action_hash[..16.min(r.action_hash.len())]) } }
            }
            details open[open_action] {
                summary { "Full action" }
                pre.action { (action_json) }
            }
            @if let Some(diff) = &r.diff_preview {
                details open {
                    summary { "Diff preview" }
                    (diff_view(diff))
                }
            }
            (decision_line(r))
            @if r.status.is_pending() {
                div.actions {
                    form.approve method="post" action=(format!("/requests/{}/approve", seg(&r.id))) {
                        input type="hidden" name="csrf" value=(login.csrf);
                        input type="text" name="reason" placeholder="reason (optional)" maxlength="2000";
                        label { input type="checkbox" name="scope" value="session"; " allow the same action for this session" }
                        button.approve type="submit" { "Approve" }
                    }
                    form.deny method="post" action=(format!("/requests/{}/deny", seg(&r.id))) {
                        input type="hidden" name="csrf" value=(login.csrf);
                        input type="text" name="reason" placeholder="reason (required, the agent reads it)" required maxlength="2000";
                        button.deny type="submit" { "Deny" }
                    }
                }
            }
        }
    }
}

pub(crate) fn pending_list(pending: &[ApprovalRequest], login: &Login) -> Markup {
    html! {
        @if pending.is_empty() {
            p.empty { "Nothing waits for a decision." }
        }
        @for r in pending { (request_card(r, login, true)) }
    }
}

fn approvals_table(list: &[ApprovalRequest]) -> Markup {
    html! {
        table.approvals {
            thead { tr { th { "Requested" } th { "Request" } th { "Session" } th { "Tool" } th { "Action" } th { "Status" } } }
            tbody {
                @for r in list {
                    tr {
                        td { (when(&r.created_at)) }
                        td { a href=(format!("/requests/{}", seg(&r.id))) { code { (r.id) } } }
                        td { a href=(format!("/sessions/{}", seg(&r.session_id))) { (r.session_id) } }
                        td { (r.tool) }
                        td.summary { (summarize(&r.tool, &r.action, 120)) }
                        td { (status_badge(&r.status)) }
                    }
                }
            }
        }
    }
}

pub(crate) fn index(
    pending: &[ApprovalRequest],
    recent: &[ApprovalRequest],
    rev: u64,
    login: &Login,
) -> Markup {
    let decided: Vec<ApprovalRequest> = recent
        .iter()
        .filter(|r| !r.status.is_pending())
        .cloned()
        .collect();
    layout(
        "Approvals",
        Some(login),
        Some(("pending", rev)),
        html! {
            h1 { "Waiting for a decision" }
            div #pending { (pending_list(pending, login)) }
            h2 { "Latest decisions" }
            @if decided.is_empty() { p { "None yet." } } @else { (approvals_table(&decided)) }
        },
    )
}

fn audit_unavailable() -> Markup {
    html! {
        div.placeholder #audit-placeholder {
            strong { "Audit timeline not connected." }
            " This server was started without an audit log reader, so only approval requests are shown here. "
            "Use " code { "warden log show SESSION" } " in a terminal for the full timeline."
        }
    }
}

fn timeline(events: Option<Result<Vec<EventRow>, ApprovalError>>) -> Markup {
    html! {
        @match events {
            None => (audit_unavailable()),
            Some(Err(e)) => p.error { "Cannot read the audit log: " (e.to_string()) },
            Some(Ok(list)) if list.is_empty() => p { "No audit events match." },
            Some(Ok(list)) => table.timeline {
                thead { tr { th { "#" } th { "Time" } th { "Session" } th { "Event" } th { "Tool" } th { "Decision" } th { "Detail" } } }
                tbody {
                    @for e in &list {
                        tr {
                            td { (e.seq) }
                            td { (when(&e.at)) }
                            td { a href=(format!("/sessions/{}", seg(&e.session_id))) { (crate::display::truncate(&e.session_id, 14)) } }
                            td { (e.kind) }
                            td { (e.tool.as_deref().unwrap_or("")) }
                            td { @if let Some(d) = &e.decision { span class=(format!("badge {}", if d == "deny" { "denied" } else if d == "allow" { "approved" } else { "pending" })) { (d) } } }
                            td.summary {
                                (crate::display::truncate(&e.summary, 400))
                                @if !e.reasons.is_empty() { br; small { (e.reasons.join("; ")) } }
                            }
                        }
                    }
                }
            },
        }
    }
}

fn rules_list(rules: &[ScopedRule]) -> Markup {
    html! {
        @if !rules.is_empty() {
            h2 { "Session rules" }
            ul.rules {
                @for r in rules {
                    li { code { (r.id) } ": " (r.tool) " " code { (summarize(&r.tool, &r.action, 160)) } " — allowed by " (r.created_by) " at " (when(&r.created_at)) }
                }
            }
        }
    }
}

pub(crate) fn request_page(
    req: &ApprovalRequest,
    siblings: &[ApprovalRequest],
    rules: &[ScopedRule],
    events: Option<Result<Vec<EventRow>, ApprovalError>>,
    rev: u64,
    login: &Login,
) -> Markup {
    let live = req.status.is_pending().then_some(("reload", rev));
    layout(
        &format!("Request {}", req.id),
        Some(login),
        live,
        html! {
            h1 { "Approval request " code { (req.id) } }
            (request_card(req, login, true))
            h2 { "This session's approval requests" }
            (approvals_table(siblings))
            (rules_list(rules))
            h2 { "Session timeline so far" }
            (timeline(events))
        },
    )
}

pub(crate) fn sessions_page(
    approvals: &[ApprovalRequest],
    sessions: Option<Result<Vec<SessionRow>, ApprovalError>>,
    login: &Login,
) -> Markup {
    let mut with_approvals: Vec<(&str, usize, usize)> = Vec::new();
    for r in approvals {
        match with_approvals
            .iter_mut()
            .find(|(s, _, _)| *s == r.session_id)
        {
            Some(e) => {
                e.1 += 1;
                e.2 += usize::from(r.status.is_pending());
            }
            None => with_approvals.push((&r.session_id, 1, usize::from(r.status.is_pending()))),
        }
    }
    layout(
        "Sessions",
        Some(login),
        None,
        html! {
            h1 { "Sessions" }
            @match sessions {
                None => (audit_unavailable()),
                Some(Err(e)) => p.error { "Cannot read the audit log: " (e.to_string()) },
                Some(Ok(list)) => table.sessions {
                    thead { tr { th { "Session" } th { "Started" } th { "Task" } th { "Tool calls" } th { "Denied" } th { "Asked" } } }
                    tbody {
                        @for s in &list {
                            tr {
                                td { a href=(format!("/sessions/{}", seg(&s.session_id))) { (s.session_id) } }
                                td { (s.started.as_ref().map(when).unwrap_or_default()) }
                                td { (s.task.as_deref().unwrap_or("")) }
                                td { (s.tool_calls) } td { (s.denied) } td { (s.asked) }
                            }
                        }
                    }
                },
            }
            h2 { "Sessions with approval requests" }
            @if with_approvals.is_empty() { p { "None." } } @else {
                table {
                    thead { tr { th { "Session" } th { "Requests" } th { "Waiting" } } }
                    tbody {
                        @for (s, n, p) in &with_approvals {
                            tr { td { a href=(format!("/sessions/{}", seg(s))) { (s) } } td { (n) } td { (p) } }
                        }
                    }
                }
            }
        },
    )
}

pub(crate) fn session_page(
    id: &str,
    approvals: &[ApprovalRequest],
    rules: &[ScopedRule],
    events: Option<Result<Vec<EventRow>, ApprovalError>>,
    rev: u64,
    login: &Login,
) -> Markup {
    layout(
        &format!("Session {id}"),
        Some(login),
        Some(("reload", rev)),
        html! {
            h1 { "Session " code { (id) } }
            p { a href=(format!("/log?session={}", seg(id))) { "Filter the audit log to this session" } }
            h2 { "Approval requests" }
            @if approvals.is_empty() { p { "None." } } @else { (approvals_table(approvals)) }
            (rules_list(rules))
            h2 { "Timeline" }
            (timeline(events))
        },
    )
}

pub(crate) fn log_page(
    f: &LogFilter,
    events: Option<Result<Vec<EventRow>, ApprovalError>>,
    login: &Login,
) -> Markup {
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let decision = v(&f.decision);
    layout(
        "Audit log",
        Some(login),
        None,
        html! {
            h1 { "Audit log" }
            form.filters method="get" action="/log" {
                label { "Session" input type="text" name="session" value=(v(&f.session)); }
                label { "Tool" input type="text" name="tool" value=(v(&f.tool)) placeholder="Bash"; }
                label { "Decision"
                    select name="decision" {
                        @for d in ["", "allow", "ask", "deny"] {
                            option value=(d) selected[decision == d] { @if d.is_empty() { "any" } @else { (d) } }
                        }
                    }
                }
                label { "Since" input type="text" name="since" value=(v(&f.since)) placeholder="7d, 12h, RFC 3339"; }
                button type="submit" { "Filter" }
            }
            (timeline(events))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(seg("abc-1_2.x~"), "abc-1_2.x~");
        assert_eq!(seg("a/b?c#d e"), "a%2Fb%3Fc%23d%20e");
        assert_eq!(seg("é"), "%C3%A9");
    }
}
