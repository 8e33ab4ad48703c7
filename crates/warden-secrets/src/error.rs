use thiserror::Error;

/// Everything that can go wrong while loading rules or scanning.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SecretsError {
    /// A rule's regex (or an allowlist regex) does not compile.
    #[error("rule `{rule}`: invalid {what} regex: {source}")]
    Regex {
        rule: String,
        what: &'static str,
        #[source]
        source: Box<regex::Error>,
    },
    /// A rule is malformed (no id, neither regex nor path, bad secret group, ...).
    #[error("rule `{rule}`: {reason}")]
    InvalidRule { rule: String, reason: String },
    /// A rules file (built-in pack, gitleaks TOML, policy rules) is not valid TOML for its schema.
    #[error("cannot parse {what}: {source}")]
    Toml {
        what: String,
        #[source]
        source: Box<toml::de::Error>,
    },
    /// The keyword prefilter could not be built.
    #[error("cannot build the keyword prefilter: {0}")]
    Prefilter(String),
    /// Reading a file, a directory or standard input failed.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// `git diff` could not be run or failed.
    #[error("git diff {base}: {reason}")]
    Git { base: String, reason: String },
    /// Writing the report failed.
    #[error("cannot write the report: {0}")]
    Output(String),
}
