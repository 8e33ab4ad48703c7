//! Policy files: the TOML format, Claude Code `settings.json` permissions, and layering.
//!
//! Layers, weakest first: user (`$XDG_CONFIG_HOME/warden/policy.toml`, else
//! `~/.config/warden/policy.toml`), project (`warden.toml` or `.warden/policy.toml`, plus the
//! permissions of `.claude/settings.json`), local (`warden.local.toml`,
//! `.warden/policy.local.toml`, `.claude/settings.local.json`). Rules of every layer are pooled,
//! so a deny in any layer wins; scalar settings of a later layer replace earlier ones.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};

/// A decision an agent's action can get.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allow,
    Ask,
    Deny,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Ask => "ask",
            Decision::Deny => "deny",
        }
    }
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which layer a file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// Built into warden.
    Builtin,
    User,
    Project,
    Local,
    /// A file named on the command line (`--policy`).
    Explicit,
}

/// The warden policy file (`warden.toml`). Every section is optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyFile {
    /// Claude Code permission rules: `Bash(npm test*)`, `Read(./src/**)`, `Edit(./infra/**)`,
    /// `WebFetch(domain:example.com)`, `mcp__server__tool`. deny > ask > allow.
    pub permissions: Permissions,
    /// What happens when no rule decides.
    pub defaults: Defaults,
    /// Where the agent may read and write without asking, and which files hold secrets.
    pub scope: Scope,
    /// Semantic shell analysis and the built-in destructive-command packs.
    pub shell: ShellSettings,
    /// Secret scanning of actions and tool output.
    pub secrets: SecretsSettings,
    /// The audit log.
    pub audit: AuditSettings,
    /// Human approval of "ask" decisions in unattended sessions.
    pub approvals: ApprovalSettings,
    /// Untrusted content and session taint.
    pub taint: TaintSettings,
    /// The OS sandbox (`warden sandbox`, `warden run`).
    pub sandbox: SandboxSettings,
    /// `warden run`: gates and publishing.
    pub run: RunSettings,
}

/// The keys [`Permissions`] reads, as written in a file (a test holds them to the schema).
const PERMISSION_KEYS: &[&str] = &[
    "deny",
    "ask",
    "allow",
    "defaultMode",
    "additionalDirectories",
];

/// `[permissions]`.
// serde accepts any key here (Claude Code's own block holds more); the schema editors check
// warden.toml against refuses unknown ones, as `parse_text` does for TOML.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
pub struct Permissions {
    pub deny: Vec<String>,
    pub ask: Vec<String>,
    pub allow: Vec<String>,
    /// Accepted for compatibility with Claude Code's `permissions` block; warden does not use it.
    #[serde(rename = "defaultMode", skip_serializing_if = "Option::is_none")]
    pub default_mode: Option<String>,
    /// Accepted for compatibility with Claude Code's `permissions` block. Extra directories
    /// are added to the read scope.
    #[serde(
        rename = "additionalDirectories",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub additional_directories: Vec<String>,
}

/// `[defaults]`: the posture where no rule matches.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Defaults {
    /// A tool warden does not know.
    pub unknown_tool: Decision,
    /// A shell command no rule decides and whose effects are not all known to be safe.
    pub bash: Decision,
    /// Reading outside `scope.read`.
    pub read_outside_scope: Decision,
    /// Writing outside `scope.write`.
    pub write_outside_allowlist: Decision,
    /// Reading a secret file (`.env*`, keys, cloud credentials) not allowed by name.
    pub secret_read: Decision,
    /// An MCP tool.
    pub mcp: Decision,
    /// A WebFetch.
    pub web_fetch: Decision,
    /// A WebSearch.
    pub web_search: Decision,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            unknown_tool: Decision::Deny,
            bash: Decision::Ask,
            read_outside_scope: Decision::Ask,
            write_outside_allowlist: Decision::Ask,
            secret_read: Decision::Deny,
            mcp: Decision::Ask,
            web_fetch: Decision::Ask,
            web_search: Decision::Ask,
        }
    }
}

/// `[scope]`. Patterns follow the rule syntax's path conventions (`./src/**`, `~/x`, `//abs`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Scope {
    /// Where reads are allowed without asking.
    pub read: Vec<String>,
    /// The write allowlist: where edits are allowed without asking.
    pub write: Vec<String>,
    /// Secret files in addition to the built-in list.
    pub secret_files: Vec<String>,
    /// Secret files the agent may read anyway, by name (`.env.test`).
    pub allow_secret_files: Vec<String>,
}

impl Default for Scope {
    fn default() -> Self {
        Scope {
            read: vec!["./**".into()],
            write: Vec::new(),
            secret_files: Vec::new(),
            allow_secret_files: Vec::new(),
        }
    }
}

/// `[shell]`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ShellSettings {
    /// Built-in packs to enable (`all`, or pack names such as `core.filesystem`).
    pub packs: Vec<String>,
    /// Pack rules to switch off by id (`core.git:force-push`).
    pub disable: Vec<String>,
}

impl Default for ShellSettings {
    fn default() -> Self {
        ShellSettings {
            packs: vec!["all".into()],
            disable: Vec::new(),
        }
    }
}

/// `[secrets]`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SecretsSettings {
    /// Scan outgoing actions and tool output.
    pub enabled: bool,
    /// A gitleaks TOML config whose rules are added (relative to the project root).
    pub gitleaks_config: Option<String>,
    /// Built-in rule ids to switch off.
    pub disable: Vec<String>,
}

impl Default for SecretsSettings {
    fn default() -> Self {
        SecretsSettings {
            enabled: true,
            gitleaks_config: None,
            disable: Vec::new(),
        }
    }
}

/// `[audit]`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AuditSettings {
    /// The SQLite audit database, relative to the project root.
    pub path: String,
    /// Bytes of each tool result kept in the log (the length and hash of the whole are kept too).
    pub max_result_bytes: usize,
    /// How long a hook waits for a locked database before failing closed, in milliseconds.
    pub busy_timeout_ms: u64,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings {
            path: ".warden/audit.db".into(),
            max_result_bytes: 64 * 1024,
            busy_timeout_ms: 2000,
        }
    }
}

/// `[approvals]`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ApprovalSettings {
    /// Treat every session as unattended: "ask" waits for a person instead of prompting.
    pub unattended: bool,
    /// How long an unattended "ask" waits before it is denied, in seconds.
    pub timeout_secs: u64,
    /// A webhook told when a request waits.
    pub webhook: Option<String>,
    /// Send the webhook in Slack's `{"text": ...}` shape.
    pub webhook_slack: bool,
    /// The base URL of `warden serve`, for links in notifications.
    pub base_url: Option<String>,
    /// A fixed token for `warden serve` (default: random at each start).
    pub token: Option<String>,
}

impl Default for ApprovalSettings {
    fn default() -> Self {
        ApprovalSettings {
            unattended: false,
            timeout_secs: 600,
            webhook: None,
            webhook_slack: false,
            base_url: None,
            token: None,
        }
    }
}

/// `[taint]`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TaintSettings {
    /// Track untrusted content and narrow tainted sessions.
    pub enabled: bool,
    /// Extra paths whose content is untrusted.
    pub untrusted_paths: Vec<String>,
    /// MCP servers or tools whose output is untrusted (`mcp__server` or `mcp__server__tool`).
    pub untrusted_mcp: Vec<String>,
    /// Halt a session whose actions drift far from its task.
    pub drift_halt: bool,
}

impl Default for TaintSettings {
    fn default() -> Self {
        TaintSettings {
            enabled: true,
            untrusted_paths: Vec::new(),
            untrusted_mcp: Vec::new(),
            drift_halt: true,
        }
    }
}

/// `[sandbox]`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SandboxSettings {
    /// `none` (loopback only), `allowlist` (domains below, through warden's proxy) or `host`.
    pub network: String,
    /// Domains reachable when `network = "allowlist"`.
    pub allow_domains: Vec<String>,
    /// Extra writable paths.
    pub writable: Vec<String>,
    /// Extra paths hidden inside the sandbox.
    pub hidden: Vec<String>,
    /// Environment variables passed through even though they look like credentials.
    pub pass_env: Vec<String>,
    /// Limits.
    pub max_processes: Option<u64>,
    pub max_memory_mb: Option<u64>,
    pub max_file_size_mb: Option<u64>,
    pub timeout_secs: Option<u64>,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        SandboxSettings {
            network: "none".into(),
            allow_domains: Vec::new(),
            writable: Vec::new(),
            hidden: Vec::new(),
            pass_env: Vec::new(),
            max_processes: None,
            max_memory_mb: None,
            max_file_size_mb: None,
            timeout_secs: None,
        }
    }
}

/// `[run]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RunSettings {
    /// The project's test command, run as a gate (`cargo test`, `npm test`).
    pub test_command: Option<String>,
    /// Seconds the test gate may take.
    pub test_timeout_secs: Option<u64>,
    /// Fail the overreach gate above this many changed files.
    pub max_files_changed: Option<usize>,
    /// Fail the overreach gate above this many changed lines.
    pub max_lines_changed: Option<usize>,
    /// Changes here need a person's approval before merge (auth, migrations, infra).
    pub sensitive_paths: Vec<String>,
    /// The remote to push passing runs to (default: `origin` when it exists).
    pub remote: Option<String>,
    /// The forge: `github` (default), `gitlab`, `gitea`.
    pub forge: Option<String>,
    /// The forge's API base URL (GitHub Enterprise, self-hosted GitLab or Gitea).
    pub forge_api: Option<String>,
    /// The environment variable holding the forge token.
    pub forge_token_env: Option<String>,
    /// `owner/repo` on the forge (GitLab: `group/project`) when the remote URL does not say
    /// it (a local mirror, an SSH alias).
    pub forge_repo: Option<String>,
    /// Where run worktrees go (default: `$XDG_STATE_HOME/warden/worktrees/<repo>/`). Not
    /// inside the checkout, and not under `.git`, where agents refuse to edit.
    pub worktrees_dir: Option<String>,
    /// A webhook alerted when a run's gates fail.
    pub alert_webhook: Option<String>,
}

/// The parts of a Claude Code `settings.json` warden reads.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ClaudeSettings {
    #[serde(default)]
    pub permissions: Permissions,
    /// Hooks, either in Claude Code's full form or as shorthand strings
    /// (`"PreToolUse": "scripts/scan.sh"`, meaning: run that command for every call of that event).
    #[serde(default)]
    pub hooks: BTreeMap<String, serde_json::Value>,
}

/// A hook entry read from a settings file, described for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HookNote {
    pub event: String,
    pub command: String,
    pub shorthand: bool,
}

impl ClaudeSettings {
    /// The hooks this settings file declares, shorthand strings included.
    pub fn hook_notes(&self) -> Vec<HookNote> {
        let mut notes = Vec::new();
        for (event, value) in &self.hooks {
            match value {
                serde_json::Value::String(cmd) => notes.push(HookNote {
                    event: event.clone(),
                    command: cmd.clone(),
                    shorthand: true,
                }),
                serde_json::Value::Array(groups) => {
                    for group in groups {
                        let hooks = group.get("hooks").and_then(|h| h.as_array());
                        for hook in hooks.into_iter().flatten() {
                            if let Some(cmd) = hook.get("command").and_then(|c| c.as_str()) {
                                notes.push(HookNote {
                                    event: event.clone(),
                                    command: cmd.to_string(),
                                    shorthand: false,
                                });
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        notes
    }
}

/// A policy source that was read.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    pub path: PathBuf,
    pub layer: Layer,
    pub text: String,
    pub format: FileFormat,
    pub policy: PolicyFile,
    /// Hooks found in a Claude settings file.
    pub hooks: Vec<HookNote>,
    /// The top-level sections a TOML file sets (`defaults`, `scope`, ...), in file order.
    pub sections: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Toml,
    ClaudeSettingsJson,
}

/// Why a policy file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read policy file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("policy file {path} is not valid TOML:\n{message}")]
    Toml {
        path: PathBuf,
        message: String,
        line: Option<usize>,
        column: Option<usize>,
    },
    #[error("settings file {path} is not valid JSON: {message} (line {line}, column {column})")]
    Json {
        path: PathBuf,
        message: String,
        line: usize,
        column: usize,
    },
    #[error("policy file {path}: rule {rule:?} (line {line}): {message}")]
    Rule {
        path: PathBuf,
        rule: String,
        line: usize,
        message: String,
    },
}

impl ConfigError {
    /// The 1-based line and column the error points at, when known.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            ConfigError::Toml {
                line: Some(l),
                column: Some(c),
                ..
            } => Some((*l, *c)),
            ConfigError::Json { line, column, .. } => Some((*line, *column)),
            ConfigError::Rule { line, .. } if *line > 0 => Some((*line, 1)),
            _ => None,
        }
    }
}

/// Read one policy source. `.json` files are read as Claude Code settings, anything else as
/// warden TOML.
pub fn load_file(path: &Path, layer: Layer) -> Result<LoadedFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_text(path, layer, text)
}

/// Parse policy text as if read from `path`.
pub fn parse_text(path: &Path, layer: Layer, text: String) -> Result<LoadedFile, ConfigError> {
    if path.extension().is_some_and(|e| e == "json") {
        let settings: ClaudeSettings =
            serde_json::from_str(&text).map_err(|e| ConfigError::Json {
                path: path.to_path_buf(),
                message: e.to_string(),
                line: e.line(),
                column: e.column(),
            })?;
        let hooks = settings.hook_notes();
        let policy = PolicyFile {
            permissions: settings.permissions,
            ..PolicyFile::default()
        };
        return Ok(LoadedFile {
            path: path.to_path_buf(),
            layer,
            text,
            format: FileFormat::ClaudeSettingsJson,
            policy,
            hooks,
            sections: Vec::new(),
        });
    }
    let toml_error = |e: toml::de::Error| {
        let (line, column) = match e.span() {
            Some(span) => {
                let (l, c) = line_col(&text, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        ConfigError::Toml {
            path: path.to_path_buf(),
            message: e.to_string(),
            line,
            column,
        }
    };
    // One parse serves the settings, the list of sections the file sets (a layer overrides
    // only those) and the check of `[permissions]`' keys: the parsed document is read as it
    // is, then deserialized without building a `toml::Table` in between. A typed error is
    // found again from the text, for its position and its context.
    let document = toml::de::DeTable::parse(&text).map_err(toml_error)?;
    let sections = document
        .get_ref()
        .keys()
        .map(|key| key.get_ref().to_string())
        .collect();
    // `[permissions]` accepts what Claude Code's block may hold, so serde cannot refuse unknown
    // keys there; in warden's own file a misspelt list (`denny = [...]`) would silently drop
    // its rules, so it is an error.
    if let Some(toml::de::DeValue::Table(permissions)) =
        document.get_ref().get("permissions").map(|v| v.get_ref())
    {
        if let Some(unknown) = permissions
            .keys()
            .map(|key| key.get_ref().as_ref())
            .find(|key| !PERMISSION_KEYS.contains(key))
        {
            let (line, column) = key_position(&text, unknown);
            return Err(ConfigError::Toml {
                path: path.to_path_buf(),
                message: format!(
                    "unknown key `{unknown}` in [permissions]; expected one of {}",
                    PERMISSION_KEYS.join(", ")
                ),
                line,
                column,
            });
        }
    }
    let policy = match PolicyFile::deserialize(toml::de::Deserializer::from(document)) {
        Ok(policy) => policy,
        Err(e) => {
            return Err(toml_error(
                toml::from_str::<PolicyFile>(&text).err().unwrap_or(e),
            ))
        }
    };
    Ok(LoadedFile {
        path: path.to_path_buf(),
        layer,
        text,
        format: FileFormat::Toml,
        policy,
        hooks: Vec::new(),
        sections,
    })
}

/// Where a key is written at the start of a line (`key =`, `key.sub =`), for an error that
/// serde gives no position for.
fn key_position(text: &str, key: &str) -> (Option<usize>, Option<usize>) {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let bare = trimmed.strip_prefix(key).is_some_and(|rest| {
            rest.trim_start().starts_with('=') || rest.trim_start().starts_with('.')
        });
        let quoted = trimmed
            .strip_prefix('"')
            .and_then(|rest| rest.strip_prefix(key))
            .is_some_and(|rest| rest.starts_with('"'));
        if bare || quoted {
            let (l, c) = line_col(text, offset + indent);
            return (Some(l), Some(c));
        }
        offset += line.len();
    }
    (None, None)
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The line of every quoted string in a policy file, by its raw text: built in one pass so
/// that placing each of a file's rules is a lookup, not a search of the whole text (which made
/// loading a 200-rule policy quadratic). The strings are kept in file order, those with the
/// same text chained together, and found by a table keyed by a cheap hash of their text: a
/// policy file is not hostile to its own loader, and SipHash cost more than the rest of the
/// index.
pub(crate) struct QuotedLines<'a> {
    /// `(text, line)` of every quoted string, in file order.
    entries: Vec<(&'a str, usize)>,
    /// The next entry with the same text (`u32::MAX`: none).
    next: Vec<u32>,
    /// The first and the last entry of each text.
    ends: HashMap<&'a str, (u32, u32), BuildHasherDefault<FastHash>>,
}

impl<'a> QuotedLines<'a> {
    /// Strings in `"` or `'` that open and close on one line; a `#` outside them ends the
    /// line (a TOML comment; JSON has no `#` outside strings).
    pub(crate) fn of(text: &'a str) -> QuotedLines<'a> {
        let mut entries = Vec::new();
        for (index, line) in text.split('\n').enumerate() {
            let bytes = line.as_bytes();
            let mut at = 0;
            while at < bytes.len() {
                let quote = bytes[at];
                if quote == b'#' {
                    break;
                }
                if quote != b'"' && quote != b'\'' {
                    at += 1;
                    continue;
                }
                let start = at + 1;
                let mut end = start;
                while end < bytes.len() && bytes[end] != quote {
                    // Only basic (double-quoted) strings have escapes.
                    end += if quote == b'"' && bytes[end] == b'\\' {
                        2
                    } else {
                        1
                    };
                }
                if end >= bytes.len() {
                    break;
                }
                entries.push((&line[start..end], index + 1));
                at = end + 1;
            }
        }
        let mut next = vec![u32::MAX; entries.len()];
        // The first and (so far) last entry of each text, to chain the next one to.
        let mut ends: HashMap<&'a str, (u32, u32), BuildHasherDefault<FastHash>> =
            HashMap::with_capacity_and_hasher(entries.len(), Default::default());
        for (i, (text, _)) in entries.iter().enumerate() {
            let i = i as u32;
            match ends.get_mut(text) {
                Some((_, last)) => {
                    next[*last as usize] = i;
                    *last = i;
                }
                None => {
                    ends.insert(text, (i, i));
                }
            }
        }
        QuotedLines {
            entries,
            next,
            ends,
        }
    }

    /// The `nth` (0-based) entry of `rule` in file order.
    fn nth_entry(&self, rule: &str, nth: usize) -> Option<usize> {
        let mut at = self.ends.get(rule)?.0;
        for _ in 0..nth {
            at = self.next[at as usize];
            if at == u32::MAX {
                return None;
            }
        }
        Some(at as usize)
    }

    /// The line of the `nth` (0-based) quoted occurrence of `rule`, falling back to a search
    /// of the text for a rule written in a form the index does not hold (escapes, say).
    pub(crate) fn line(&self, text: &str, rule: &str, nth: usize) -> usize {
        match self.nth_entry(rule, nth) {
            Some(at) => self.entries[at].1,
            None => rule_line(text, rule, nth),
        }
    }

    /// The line of each of `rules`, one list of a file in order: a text written twice in the
    /// list is placed at its first occurrence, then its second, and so on.
    pub(crate) fn lines_of_list(&self, text: &str, rules: &[String]) -> Vec<usize> {
        // The entry each text's next rule takes, by the text's first entry (`u32::MAX`: all
        // taken); `u32::MAX - 1`: not taken yet.
        const FRESH: u32 = u32::MAX - 1;
        let mut cursor = vec![FRESH; self.entries.len()];
        rules
            .iter()
            .enumerate()
            .map(|(i, rule)| match self.ends.get(rule.as_str()) {
                Some(&(head, _)) => {
                    let slot = &mut cursor[head as usize];
                    let at = if *slot == FRESH { head } else { *slot };
                    if at == u32::MAX {
                        // More copies in the list than in the index: count them, and search.
                        let nth = rules[..i].iter().filter(|r| *r == rule).count();
                        return rule_line(text, rule, nth);
                    }
                    *slot = self.next[at as usize];
                    self.entries[at as usize].1
                }
                // Not indexed (rare): count the earlier copies.
                None => {
                    let nth = rules[..i].iter().filter(|r| *r == rule).count();
                    rule_line(text, rule, nth)
                }
            })
            .collect()
    }
}

/// A multiply-rotate hash (the one `rustc` uses for its own tables): a few instructions per
/// eight bytes.
#[derive(Default)]
pub(crate) struct FastHash(u64);

impl Hasher for FastHash {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl FastHash {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// Find the line of the `nth` (0-based) occurrence of a rule's text in its file.
pub(crate) fn rule_line(text: &str, rule: &str, nth: usize) -> usize {
    let mut from = 0;
    let mut seen = 0;
    while let Some(at) = text[from..].find(rule) {
        let absolute = from + at;
        let after = &text[absolute + rule.len()..];
        let quoted = (text[..absolute].ends_with('"') && after.starts_with('"'))
            || (text[..absolute].ends_with('\'') && after.starts_with('\''));
        if quoted {
            if seen == nth {
                return line_col(text, absolute).0;
            }
            seen += 1;
        }
        from = absolute + rule.len().max(1);
    }
    0
}

/// The policy files that apply to a project, in layer order, found on disk.
pub fn discover(root: &Path, home: Option<&Path>) -> Vec<(PathBuf, Layer)> {
    let mut found = Vec::new();
    if let Some(dir) = user_config_dir(home) {
        let user = dir.join("policy.toml");
        if user.is_file() {
            found.push((user, Layer::User));
        }
    }
    for (rel, layer) in [
        (".claude/settings.json", Layer::Project),
        ("warden.toml", Layer::Project),
        (".warden/policy.toml", Layer::Project),
        (".claude/settings.local.json", Layer::Local),
        ("warden.local.toml", Layer::Local),
        (".warden/policy.local.toml", Layer::Local),
    ] {
        let path = root.join(rel);
        if path.is_file() {
            found.push((path, layer));
        }
    }
    found
}

/// warden's per-user configuration directory.
pub fn user_config_dir(home: Option<&Path>) -> Option<PathBuf> {
    match std::env::var_os("XDG_CONFIG_HOME") {
        Some(x) if !x.is_empty() => Some(PathBuf::from(x).join("warden")),
        _ => home.map(|h| h.join(".config/warden")),
    }
}

/// Whether a project has a warden policy of its own (not only Claude settings).
pub fn has_warden_policy(root: &Path) -> bool {
    ["warden.toml", ".warden/policy.toml"]
        .iter()
        .any(|p| root.join(p).is_file())
}

/// The JSON Schema of the policy file, generated from these types.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(PolicyFile);
    serde_json::to_value(schema).unwrap_or(serde_json::Value::Null)
}

/// Turn Claude Code settings into warden TOML, with a header saying where it came from and
/// what its hooks mean.
pub fn import_claude_settings(path: &Path, text: &str) -> Result<String, ConfigError> {
    let loaded = parse_text(path, Layer::Project, text.to_string())?;
    let mut out = String::new();
    out.push_str(&format!(
        "# Imported from {} by `warden policy import`.\n# Rules keep Claude Code's syntax; warden matches Bash rules on the parsed command,\n# so `Bash(rm -rf*)` also stops `rm -fr`, `/bin/rm -rf` and `bash -c 'rm -rf ...'`.\n",
        path.display()
    ));
    for hook in &loaded.hooks {
        out.push_str(&format!(
            "#\n# The settings file also runs `{}` on every {} event{}.\n# warden does not run other hooks; keep them in settings.json next to warden's own.\n",
            hook.command,
            hook.event,
            if hook.shorthand { " (shorthand form: a plain command string)" } else { "" }
        ));
    }
    out.push('\n');
    let permissions = &loaded.policy.permissions;
    out.push_str("[permissions]\n");
    for (name, list) in [
        ("deny", &permissions.deny),
        ("ask", &permissions.ask),
        ("allow", &permissions.allow),
    ] {
        out.push_str(&format!("{name} = [\n"));
        for rule in list {
            out.push_str(&format!("  {},\n", toml_string(rule)));
        }
        out.push_str("]\n");
    }
    if !permissions.additional_directories.is_empty() {
        out.push_str("\n[scope]\nread = [\"./**\"");
        for dir in &permissions.additional_directories {
            out.push_str(&format!(
                ", {}",
                toml_string(&format!("{}/**", dir.trim_end_matches('/')))
            ));
        }
        out.push_str("]\n");
    }
    Ok(out)
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The one-pass index places every rule where the search of the whole text does, on
        /// files of arrays of quoted rules with repeats, both quote styles and comments.
        #[test]
        fn quoted_lines_agree_with_the_search(
            lines in prop::collection::vec(
                (
                    prop::collection::vec(
                        (prop::sample::select(vec!["Bash(npm test*)", "Read(./src/**)", "Bash(git push:*)", "x", ""]),
                         any::<bool>()),
                        0..4,
                    ),
                    prop::sample::select(vec!["", "  # note", "# whole line"]),
                ),
                1..8,
            ),
        ) {
            let text: String = lines
                .iter()
                .map(|(rules, comment)| {
                    let items: Vec<String> = rules
                        .iter()
                        .map(|(r, double)| if *double { format!("\"{r}\"") } else { format!("'{r}'") })
                        .collect();
                    format!("deny = [{}]{comment}\n", items.join(", "))
                })
                .collect();
            let index = QuotedLines::of(&text);
            for rule in ["Bash(npm test*)", "Read(./src/**)", "Bash(git push:*)", "x", "absent"] {
                for nth in 0..6 {
                    prop_assert_eq!(index.line(&text, rule, nth), rule_line(&text, rule, nth), "{} #{}", rule, nth);
                }
            }
            // A list's rules, each placed at its own occurrence in turn.
            let list: Vec<String> = lines
                .iter()
                .flat_map(|(rules, _)| rules.iter().map(|(r, _)| r.to_string()))
                .chain(["absent".to_string(), "x".to_string()])
                .collect();
            let mut seen = std::collections::HashMap::new();
            let expected: Vec<usize> = list
                .iter()
                .map(|r| {
                    let nth: &mut usize = seen.entry(r.as_str()).or_insert(0);
                    *nth += 1;
                    rule_line(&text, r, *nth - 1)
                })
                .collect();
            prop_assert_eq!(index.lines_of_list(&text, &list), expected);
        }
    }

    #[test]
    fn a_misspelt_permissions_list_is_an_error_with_its_line() {
        let text = "[permissions]\ndeny = [\"Bash(rm -rf*)\"]\n  denny = [\"Bash(git push:*)\"]\n";
        let err = parse_text(Path::new("warden.toml"), Layer::Project, text.to_string())
            .expect_err("an unknown key in [permissions] is refused");
        match err {
            ConfigError::Toml {
                message,
                line,
                column,
                ..
            } => {
                assert!(message.contains("unknown key `denny`"), "{message}");
                assert_eq!((line, column), (Some(3), Some(3)));
            }
            other => panic!("{other:?}"),
        }
        // Claude Code's own keys are accepted, in TOML as in its settings.json.
        let claude_keys =
            "[permissions]\ndefaultMode = \"plan\"\nadditionalDirectories = [\"../lib\"]\n";
        parse_text(
            Path::new("warden.toml"),
            Layer::Project,
            claude_keys.to_string(),
        )
        .unwrap();
        let json = r#"{"permissions": {"deny": [], "disableBypassPermissionsMode": "disable"}}"#;
        parse_text(Path::new("settings.json"), Layer::Project, json.to_string()).unwrap();
    }

    #[test]
    fn the_schema_refuses_unknown_permission_keys_too() {
        let schema = json_schema();
        let permissions = &schema["definitions"]["Permissions"];
        assert_eq!(permissions["additionalProperties"], false, "{permissions}");
        let mut in_schema: Vec<&str> = permissions["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        in_schema.sort_unstable();
        let mut checked = PERMISSION_KEYS.to_vec();
        checked.sort_unstable();
        assert_eq!(
            checked, in_schema,
            "the keys parse_text accepts are the schema's"
        );
    }

    #[test]
    fn quoted_lines_skip_comments_and_keep_escaped_rules_findable() {
        let text = "# \"Bash(rm*)\" was here\ndeny = [\"Bash(rm*)\", 'it''s']\nask = [\"Bash(echo \\\"hi\\\")\"]\n";
        let index = QuotedLines::of(text);
        assert_eq!(index.line(text, "Bash(rm*)", 0), 2);
        // Stored with escapes: found by the fallback search, as before.
        assert_eq!(index.line(text, "Bash(echo \\\"hi\\\")", 0), 3);
        assert_eq!(index.line(text, "nowhere", 0), 0);
    }
}
