//! Errors of this crate.

/// What can go wrong building guard configuration. Scanning and classifying never fail:
/// they take any input and answer.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    /// A glob in the untrusted-source or scope configuration does not compile.
    #[error("invalid {what} glob `{glob}`: {source}")]
    Glob {
        /// Which list it came from.
        what: &'static str,
        /// The glob as written.
        glob: String,
        /// The parser's complaint.
        #[source]
        source: globset::Error,
    },
    /// Stored session state could not be read back.
    #[error("unreadable session state: {0}")]
    State(#[from] serde_json::Error),
}
