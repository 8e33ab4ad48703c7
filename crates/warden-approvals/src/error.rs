use std::path::PathBuf;

/// Every way approval handling can fail. The hook treats any of these as
/// "deny" (fail closed); the messages name the thing that failed so that a
/// person can act on them.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// The store could not be opened (missing directory, unreadable or
    /// corrupt file, not a database).
    #[error("cannot open the approval store {path}: {detail}")]
    Open { path: PathBuf, detail: String },

    /// A query or write failed (locked past the busy timeout, disk full, ...).
    #[error("approval store error while {context}: {detail}")]
    Store {
        context: &'static str,
        detail: String,
    },

    /// A stored row does not read back as a valid request or rule.
    #[error("approval store holds a malformed {what} {id}: {detail}")]
    Corrupt {
        what: &'static str,
        id: String,
        detail: String,
    },

    /// No request with this id.
    #[error("no approval request with id {id}")]
    NotFound { id: String },

    /// The request was already approved, denied or timed out.
    #[error("approval request {id} is no longer pending (it is {status})")]
    NotPending { id: String, status: &'static str },

    /// The request, or the decision for it, is not well formed.
    #[error("invalid approval input: {0}")]
    Invalid(String),

    /// `warden serve` was asked to listen beyond loopback without the flag.
    #[error("refusing to listen on {addr}: it is not a loopback address; pass the explicit non-loopback option to allow it")]
    NonLoopback { addr: std::net::SocketAddr },

    /// The web server could not start or failed while running.
    #[error("web server: {context}: {source}")]
    Serve {
        context: String,
        #[source]
        source: std::io::Error,
    },

    /// Writing command output failed.
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),

    /// A webhook could not be delivered.
    #[error("webhook to {url} failed: {detail}")]
    Notify { url: String, detail: String },

    /// The audit log could not be read for the web app's timeline.
    #[error("cannot read the audit log: {0}")]
    Audit(String),
}

impl ApprovalError {
    pub(crate) fn store(context: &'static str, err: impl std::fmt::Display) -> Self {
        ApprovalError::Store {
            context,
            detail: err.to_string(),
        }
    }
}
