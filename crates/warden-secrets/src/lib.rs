//! Secret scanning for warden: find credentials in what an agent sends and reads.
//!
//! A [`Scanner`] holds a rule pack (over 100 built-in rules for the credentials people
//! actually leak, plus the user's own rules or an existing gitleaks config) and finds
//! secrets in a text, reporting the rule, the line and column, and a redacted preview (the
//! first four characters, then `***`). It never hands the secret itself back.
//!
//! How a scan runs, and why it is cheap enough for a hook that starts once per tool call:
//! 1. one Aho-Corasick pass over the text looks for every rule's keywords at once
//!    (`ghp_`, `akia`, `private key`, `password`, ...);
//! 2. only the rules whose keywords occur run their regex, and a regex is compiled the
//!    first time its rule runs, so a process pays only for the rules its texts trigger;
//! 3. matches go through filters: an entropy floor, placeholders (`EXAMPLE`, `xxxx`,
//!    `your-api-key`, `${VAR}`, `<token>`), code-like values for assignment rules, the rule's
//!    and the global allowlists, and the inline markers `warden:allow-secret` and
//!    `gitleaks:allow` on the line;
//! 4. where two rules claim the same bytes, a specific rule beats a generic one.
//!
//! ```
//! use warden_secrets::Scanner;
//!
//! let scanner = Scanner::builtin();
//! let text = "export GITHUB_TOKEN=ghp_4kT9zQ2mW8rL1xV7bN3cF6hJ0pS5dG2aY8eU\n";
//! let findings = scanner.scan(text);
//! assert_eq!(findings[0].rule_id, "github-pat");
//! assert_eq!((findings[0].line, findings[0].column), (1, 21));
//! assert_eq!(findings[0].preview, "ghp_***");
//!
//! let (clean, _) = scanner.redact(text);
//! assert_eq!(clean, "export GITHUB_TOKEN=[REDACTED:github-pat]\n");
//!
//! // Paths that are secret by nature, whatever they hold:
//! use std::path::Path;
//! use warden_secrets::secret_files::is_secret_path;
//! assert_eq!(is_secret_path(Path::new("app/.env"), None), Some(".env"));
//! assert_eq!(is_secret_path(Path::new("app/.env.example"), None), None);
//! ```
//!
//! The public surface:
//! - [`Scanner`]: [`Scanner::builtin`], [`Scanner::with_rules`] (user rules add to the pack
//!   or replace a rule of the same id; ids can be disabled), [`Scanner::from_config`],
//!   [`Scanner::from_gitleaks_toml`]; [`Scanner::scan`], [`Scanner::scan_path_hint`],
//!   [`Scanner::redact`].
//! - [`Finding`] (serialisable; holds no secret), [`RuleSpec`], [`AllowlistSpec`],
//!   [`ScanConfig`], [`SecretsError`].
//! - [`secret_files`]: `.env`, keys, `~/.ssh`, `~/.aws`, ... for the Read guard.
//! - [`cli`] (feature `cli`, on by default): the engine of `warden scan` over files,
//!   directories, git diffs and stdin, with human, JSON and SARIF output.
//!
//! What it is NOT for: it does not check whether a secret is live (no network calls), does
//! not scan git history (only texts, trees and diffs), and does not decode containers
//! (archives, base64 blobs other than the formats a rule names). It is a pattern scanner:
//! a secret in a format no rule knows, or split across a concatenation, gets through; the
//! sandbox and the secret-file guard are the layers behind it.

#![forbid(unsafe_code)]

pub mod builtin;
#[cfg(feature = "cli")]
pub mod cli;
mod confidence;
mod doc_context;
mod entropy;
mod error;
mod filters;
pub mod gitleaks;
mod rule;
mod scanner;
pub mod secret_files;

pub use confidence::{
    is_example_path, is_source_path, path_inside, value_confidence, Confidence, RuleConfidence,
};
pub use entropy::shannon as entropy;
pub use error::SecretsError;
pub use rule::{AllowlistSpec, Condition, RegexTarget, RuleSpec};
pub use scanner::{Finding, ScanConfig, Scanner, ALLOW_MARKERS};
