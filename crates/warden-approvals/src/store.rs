//! The store interface. It names no database types, so a PostgreSQL
//! backend for teams can implement it beside [`crate::SqliteApprovals`].

use crate::model::{ApprovalRequest, Decided, Decision, NewRequest, ScopedRule};
use crate::ApprovalError;

/// Where approval requests and session rules live.
///
/// Contract every backend keeps (the tests in `tests/store.rs` pin it for
/// SQLite):
/// - a request leaves `Pending` exactly once, atomically: the first of
///   [`decide`](Self::decide) and [`time_out`](Self::time_out) wins and the
///   other sees the result;
/// - a pending request past its expiry reads back as `TimedOut` and cannot
///   be approved;
/// - a session-wide approval stores a [`ScopedRule`] keyed by the action
///   hash, which includes the session, so it never reaches another session
///   or another input.
pub trait ApprovalStore: Send + Sync {
    /// Stores a new pending request and returns it with its id and hash.
    fn create(&self, req: NewRequest) -> Result<ApprovalRequest, ApprovalError>;

    /// One request, or `None` if the id is unknown.
    fn get(&self, id: &str) -> Result<Option<ApprovalRequest>, ApprovalError>;

    /// Requests still waiting (not expired), oldest first.
    fn pending(&self) -> Result<Vec<ApprovalRequest>, ApprovalError>;

    /// The latest requests in any state, newest first.
    fn recent(&self, limit: usize) -> Result<Vec<ApprovalRequest>, ApprovalError>;

    /// Every request of one session, oldest first.
    fn for_session(&self, session_id: &str) -> Result<Vec<ApprovalRequest>, ApprovalError>;

    /// Approves or denies a pending request. Errors with
    /// [`ApprovalError::NotPending`] if it was already decided or expired.
    fn decide(&self, id: &str, decision: Decision) -> Result<Decided, ApprovalError>;

    /// Marks a still-pending request as timed out; returns the request as it
    /// stands afterwards (a decision that won the race is kept).
    fn time_out(&self, id: &str) -> Result<ApprovalRequest, ApprovalError>;

    /// The session rules of one session, oldest first.
    fn session_rules(&self, session_id: &str) -> Result<Vec<ScopedRule>, ApprovalError>;

    /// The session rule that allows exactly this action, if any.
    fn matching_rule(
        &self,
        session_id: &str,
        action_hash: &str,
    ) -> Result<Option<ScopedRule>, ApprovalError>;

    /// A number that grows whenever a request is created or decided; the web
    /// app polls it to push live updates.
    fn revision(&self) -> Result<u64, ApprovalError>;
}
