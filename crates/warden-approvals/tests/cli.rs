//! `warden approvals / approve / deny`, through the library functions the
//! binary calls.

use clap::Parser;
use serde_json::{json, Value};
use warden_approvals::cli::{
    run_approvals, run_approve, run_deny, ApprovalsArgs, ApproveArgs, DenyArgs,
};
use warden_approvals::{ApprovalError, ApprovalStore, NewRequest, SqliteApprovals, Status};

fn store_with_one() -> (tempfile::TempDir, SqliteApprovals, String) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteApprovals::open(&dir.path().join("audit.db")).unwrap();
    let id = s
        .create(NewRequest::new(
            "s1",
            "Bash",
            // An escape sequence that would rewrite the terminal.
            json!({"command": "psql -f migrate.sql \u{1b}[2J\u{1b}]0;owned\u{7}"}),
            "ask: migration\u{1b}[31m",
        ))
        .unwrap()
        .id;
    (dir, s, id)
}

fn text(buf: Vec<u8>) -> String {
    String::from_utf8(buf).unwrap()
}

#[test]
fn approvals_json_is_an_array_of_requests_with_ids() {
    let (_d, s, id) = store_with_one();
    let mut out = Vec::new();
    let args = ApprovalsArgs {
        json: true,
        all: false,
    };
    assert_eq!(
        run_approvals(&args, &s, &mut out, false).unwrap().exit_code,
        0
    );
    let v: Value = serde_json::from_slice(&out).unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 1);
    assert_eq!(arr[0]["id"], id);
    assert_eq!(arr[0]["status"]["state"], "pending");
    assert!(arr[0]["action"]["command"].as_str().unwrap().len() > 10);
}

#[test]
fn approvals_text_strips_terminal_escapes_from_agent_text() {
    let (_d, s, id) = store_with_one();
    let mut out = Vec::new();
    run_approvals(&ApprovalsArgs::default(), &s, &mut out, false).unwrap();
    let t = text(out);
    assert!(t.contains(&id) && t.contains("psql -f migrate.sql"), "{t}");
    assert!(!t.contains('\u{1b}') && !t.contains('\u{7}'), "{t:?}");
    // With colour on, only our own escapes appear, and none from the agent.
    let mut out = Vec::new();
    run_approvals(&ApprovalsArgs::default(), &s, &mut out, true).unwrap();
    let t = text(out);
    assert!(
        !t.contains("\u{1b}[2J") && !t.contains("\u{1b}]0;"),
        "{t:?}"
    );
}

#[test]
fn approve_session_wide_returns_the_rule_to_log() {
    let (_d, s, id) = store_with_one();
    let mut out = Vec::new();
    let args = ApproveArgs {
        id: id.clone(),
        reason: Some("planned".into()),
        session_wide: true,
    };
    let res = run_approve(&args, &s, &mut out, false).unwrap();
    let decided = res.decided.unwrap();
    let rule = decided.rule.expect("rule");
    assert_eq!(rule.session_id, "s1");
    assert!(text(out).contains(&format!("session rule {}", rule.id)));
    assert!(matches!(
        s.get(&id).unwrap().unwrap().status,
        Status::Approved { .. }
    ));
    // Approving again is an error, not a silent success.
    let again = run_approve(&args, &s, &mut Vec::new(), false);
    assert!(matches!(again, Err(ApprovalError::NotPending { .. })));
}

#[test]
fn deny_requires_a_reason_on_the_command_line_and_in_the_store() {
    #[derive(Parser)]
    struct Deny {
        #[command(flatten)]
        args: DenyArgs,
    }
    assert!(
        Deny::try_parse_from(["deny", "abc"]).is_err(),
        "--reason is required"
    );
    let parsed = Deny::try_parse_from(["deny", "abc", "--reason", "no"]).unwrap();
    assert_eq!(parsed.args.reason, "no");

    let (_d, s, id) = store_with_one();
    let blank = DenyArgs {
        id: id.clone(),
        reason: " ".into(),
    };
    assert!(matches!(
        run_deny(&blank, &s, &mut Vec::new(), false),
        Err(ApprovalError::Invalid(_))
    ));
    let ok = DenyArgs {
        id: id.clone(),
        reason: "not now".into(),
    };
    run_deny(&ok, &s, &mut Vec::new(), false).unwrap();
    assert!(
        matches!(s.get(&id).unwrap().unwrap().status, Status::Denied { reason, .. } if reason == "not now")
    );
    let unknown = DenyArgs {
        id: "zzzzzzzzzzzz".into(),
        reason: "x".into(),
    };
    assert!(matches!(
        run_deny(&unknown, &s, &mut Vec::new(), false),
        Err(ApprovalError::NotFound { .. })
    ));
}
