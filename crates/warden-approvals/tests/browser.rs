//! The web app in a real browser: Debian's chromium, headless, driven over
//! the DevTools protocol. A hook thread waits in `request_and_wait`; the
//! browser logs in with the printed link, sees the request appear live,
//! approves it (and denies another, with a reason), and the waiting calls
//! return what was clicked.
//!
//! Needs chromium: `apt-get install -y chromium` (or set WARDEN_CHROMIUM to
//! another Chromium binary). Without it this test fails; it never skips.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::json;
use warden_approvals::web::{self, ServeOptions};
use warden_approvals::{
    diff, request_and_wait, ApprovalStore, NewRequest, Outcome, SqliteApprovals, WaitOptions,
};

fn chromium() -> PathBuf {
    let path = std::env::var_os("WARDEN_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "chromium not found at {}: install it with `apt-get install -y chromium` \
         (Debian package `chromium`), or set WARDEN_CHROMIUM to a Chromium binary",
        path.display()
    );
    path
}

fn launch(profile: &std::path::Path) -> Browser {
    let args: Vec<&OsStr> = [
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    let opts = LaunchOptions::default_builder()
        .path(Some(chromium()))
        .headless(true)
        .sandbox(false)
        .user_data_dir(Some(profile.to_path_buf()))
        .args(args)
        .idle_browser_timeout(Duration::from_secs(120))
        .build()
        .expect("launch options");
    Browser::new(opts).expect("chromium starts")
}

fn wait_pending(store: &SqliteApprovals, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let p = store.pending().unwrap();
        if p.len() >= n {
            return p.into_iter().map(|r| r.id).collect();
        }
        assert!(
            Instant::now() < deadline,
            "the hook's request never appeared"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

fn text_of(tab: &Tab, selector: &str) -> String {
    tab.wait_for_element(selector)
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .get_inner_text()
        .unwrap()
}

#[test]
fn approve_and_deny_from_a_real_browser_release_the_waiting_hooks() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("audit.db");
    let project = dir.path().join("project");
    std::fs::create_dir_all(project.join("infra")).unwrap();
    std::fs::write(
        project.join("infra/main.tf"),
        "resource \"db\" \"main\" {\n  replicas = 3\n}\n",
    )
    .unwrap();

    let mut opts = ServeOptions::new(&db);
    opts.bind = "127.0.0.1:0".parse().unwrap();
    opts.poll_interval = Duration::from_millis(100);
    let server = web::start(opts).unwrap();
    let base_url = server.base_url().to_string();

    let profile = dir.path().join("chromium-profile");
    let browser = launch(&profile);
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(20));

    // Log in with the printed link; nothing waits yet.
    tab.navigate_to(&server.login_url()).unwrap();
    tab.wait_for_element("main#pending, div#pending").unwrap();
    assert!(text_of(&tab, "div#pending").contains("Nothing waits"));
    // A marker that a page reload would wipe: the request must arrive live.
    tab.evaluate("window.__wardenMarker = 42; true", false)
        .unwrap();

    // The hook: an Edit under infra/ waits for a person.
    let edit = json!({
        "file_path": "infra/main.tf",
        "old_string": "replicas = 3",
        "new_string": "replicas = 0",
    });
    let preview = diff::preview("Edit", &edit, Some(&project));
    let wait = WaitOptions {
        timeout: Duration::from_secs(90),
        poll_interval: Duration::from_millis(50),
        base_url: Some(base_url.clone()),
        ..WaitOptions::default()
    };
    let (db2, wait2) = (db.clone(), wait.clone());
    let hook = thread::spawn(move || {
        let store = SqliteApprovals::open(&db2).unwrap();
        let req = NewRequest::new(
            "session-e2e",
            "Edit",
            edit,
            "ask: writes under infra/ need a person",
        )
        .with_task("scale the database down")
        .with_diff_preview(preview);
        request_and_wait(&store, req, &wait2).unwrap()
    });

    let store = SqliteApprovals::open(&db).unwrap();
    let id = wait_pending(&store, 1).remove(0);
    let card = format!("article[data-id='{id}']");
    // Arrives through server-sent events, without a reload.
    let diff_text = text_of(&tab, &format!("{card} pre.diff"));
    assert!(diff_text.contains("-  replicas = 3"), "{diff_text}");
    assert!(diff_text.contains("+  replicas = 0"), "{diff_text}");
    let marker = tab.evaluate("window.__wardenMarker", false).unwrap().value;
    assert_eq!(
        marker,
        Some(json!(42)),
        "the page reloaded instead of updating live"
    );
    assert!(text_of(&tab, &format!("{card} dd.reason")).contains("writes under infra/"));

    tab.wait_for_element(&format!("{card} form.approve button.approve"))
        .unwrap()
        .click()
        .unwrap();
    let outcome = hook.join().unwrap();
    match &outcome {
        Outcome::Approved { by, request, .. } => {
            assert!(by.starts_with("web:"), "{by}");
            assert_eq!(request.as_ref().map(|r| r.id.as_str()), Some(id.as_str()));
        }
        other => panic!("expected approval, got {other:?}"),
    }
    // The browser lands on the request page showing the decision.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !tab.get_url().contains(&format!("/requests/{id}")) {
        assert!(Instant::now() < deadline, "no redirect after approving");
        thread::sleep(Duration::from_millis(50));
    }
    assert!(text_of(&tab, "p.approved").contains("Approved by web:"));

    // A second hook call: denied with a reason typed in the page.
    let (db3, wait3) = (db.clone(), wait.clone());
    let hook = thread::spawn(move || {
        let store = SqliteApprovals::open(&db3).unwrap();
        let req = NewRequest::new(
            "session-e2e",
            "Bash",
            json!({"command": "terraform apply -auto-approve"}),
            "ask: deploy",
        );
        request_and_wait(&store, req, &wait3).unwrap()
    });
    let id2 = wait_pending(&store, 1).remove(0);
    tab.navigate_to(&format!("{base_url}/requests/{id2}"))
        .unwrap();
    let card = format!("article[data-id='{id2}']");
    // An empty reason: the browser refuses to submit, nothing is decided.
    tab.wait_for_element(&format!("{card} form.deny button.deny"))
        .unwrap()
        .click()
        .unwrap();
    thread::sleep(Duration::from_millis(500));
    assert!(store.get(&id2).unwrap().unwrap().status.is_pending());
    tab.wait_for_element(&format!("{card} form.deny input[name=reason]"))
        .unwrap()
        .click()
        .unwrap()
        .type_into("no deploys on Friday")
        .unwrap();
    tab.wait_for_element(&format!("{card} form.deny button.deny"))
        .unwrap()
        .click()
        .unwrap();
    match hook.join().unwrap() {
        Outcome::Denied { reason, by, .. } => {
            assert_eq!(reason, "no deploys on Friday");
            assert!(by.starts_with("web:"), "{by}");
        }
        other => panic!("expected denial, got {other:?}"),
    }
    drop(tab);
    drop(browser);
    server.shutdown().unwrap();
}
