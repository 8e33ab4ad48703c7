//! Human approval of agent actions: when a decision is "ask" and nobody
//! sits at the agent's terminal, the action waits for a person, who answers
//! from the command line or a web page.
//!
//! The parts, from the hook down:
//!
//! - [`request_and_wait`]: the hook side. If a session rule already allows
//!   exactly this action, it answers at once; otherwise it stores an
//!   [`ApprovalRequest`], fires the webhook ([`notify`]), and polls until a
//!   person decides or the timeout (default 10 minutes) passes. Denied,
//!   timed out, or any error: the caller denies, quoting
//!   [`Outcome::message`].
//! - [`ApprovalStore`]: where requests and session rules live, a trait with
//!   no database types in it, so a PostgreSQL backend can implement it.
//!   [`SqliteApprovals`] keeps them in the audit log's SQLite file
//!   (`.warden/audit.db`) in its own tables (`approval_requests`,
//!   `approval_rules`), WAL mode, bounded busy timeout.
//! - [`cli`]: the logic of `warden approvals [--json]`,
//!   `warden approve ID [--reason ..] [--session-wide]` and
//!   `warden deny ID --reason ..` (clap argument structs included).
//! - [`web`]: `warden serve`, the review web app (token login, CSRF and
//!   Origin checks, live updates, session timelines from the audit log).
//! - [`diff`]: unified diff previews for `Edit` / `MultiEdit` / `Write`.
//!
//! # Binding
//!
//! An approval is bound to one action: the SHA-256 over the canonical
//! `(tool, normalized input, session)` ([`action_hash`]). Approving
//! `psql -f migrate.sql` approves neither `psql -f other.sql` nor the same
//! command in another session. "Approve and allow the same for this
//! session" ([`Scope::SameForSession`]) stores a [`ScopedRule`] keyed by
//! that same hash; [`ApprovalStore::decide`] returns it in [`Decided`] and
//! the waiting hook gets it in [`Outcome::Approved`], so the caller can
//! append it to the audit log.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use serde_json::json;
//! use warden_approvals::{
//!     request_and_wait, ApprovalStore, Decision, NewRequest, Outcome, Scope, SqliteApprovals,
//!     WaitOptions,
//! };
//!
//! # fn main() -> Result<(), warden_approvals::ApprovalError> {
//! # let dir = tempfile::tempdir().unwrap();
//! let db = dir.path().join("audit.db");
//! // A reviewer, elsewhere (here: a thread; in life `warden approve` or the web page).
//! let reviewer = {
//!     let db = db.clone();
//!     std::thread::spawn(move || -> Result<(), warden_approvals::ApprovalError> {
//!         let store = SqliteApprovals::open(&db)?;
//!         loop {
//!             if let Some(req) = store.pending()?.first() {
//!                 let approve = Decision::Approve {
//!                     by: "alice".into(),
//!                     reason: Some("planned migration".into()),
//!                     scope: Scope::ThisAction,
//!                 };
//!                 store.decide(&req.id, approve)?;
//!                 return Ok(());
//!             }
//!             std::thread::sleep(Duration::from_millis(10));
//!         }
//!     })
//! };
//!
//! // The hook.
//! let store = SqliteApprovals::open(&db)?;
//! let req = NewRequest::new(
//!     "session-1",
//!     "Bash",
//!     json!({"command": "psql -f migrate.sql"}),
//!     "ask: database migrations need a person",
//! );
//! let opts = WaitOptions { poll_interval: Duration::from_millis(20), ..WaitOptions::default() };
//! let outcome = request_and_wait(&store, req, &opts)?;
//! assert!(matches!(outcome, Outcome::Approved { .. }));
//! # reviewer.join().unwrap()?;
//! # Ok(()) }
//! ```
//!
//! # What it is not
//!
//! - Not the policy: it does not decide what needs approval, nor detect an
//!   unattended session (`warden run --unattended`, `WARDEN_UNATTENDED=1`);
//!   the hook does, and calls [`request_and_wait`].
//! - Not the audit log: it returns what to log ([`Decided`], [`Outcome`]);
//!   it only reads the audit log (for the web app's timelines).
//! - Not a redactor: the action and diff preview are stored as given, so the
//!   caller passes them through the secret scanner first.
//! - Not an identity provider: the web app has one shared token; reviewers
//!   are told apart only by a short per-login label (`web:ab12cd`).
#![forbid(unsafe_code)]
pub mod cli;
pub mod diff;
mod display;
mod error;
mod hash;
mod ids;
mod model;
pub mod notify;
mod sqlite;
mod store;
mod wait;
pub mod web;

pub use display::summarize;
pub use error::ApprovalError;
pub use hash::{action_hash, canonical_json};
pub use model::*;
pub use sqlite::{SqliteApprovals, DEFAULT_BUSY_TIMEOUT};
pub use store::ApprovalStore;
pub use wait::{request_and_wait, WaitOptions};
