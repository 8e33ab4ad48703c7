//! The compiled policy and its decision procedure.
//!
//! Semantics (ARCHITECTURE.md states them for people):
//! 1. Every check yields reasons, each with a decision. *Hard* reasons come from the policy's
//!    rules, the built-in destructive-command packs' denies, self-protection, secret files and
//!    commands the analyser cannot resolve. *Soft* reasons come from the packs' "ask" effects
//!    and the default posture.
//! 2. A hard deny anywhere wins. Then a hard ask. Then an allow rule (for a shell command, only
//!    when every command in it is allowed). Then the strongest soft reason. Nothing matched:
//!    the default posture.
//! 3. So adding an allow rule never turns a deny into an allow, and adding a deny rule always
//!    denies what it matches.

use crate::action::Action;
use crate::bash::CommandRule;
use crate::config::{
    discover, load_file, ConfigError, Decision, FastHash, Layer, LoadedFile, PolicyFile,
};
use crate::paths::{Anchors, PathPattern, PatternBase};
use crate::rule::{domain_matches, Origin, Rule, RuleList, RuleTarget};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use warden_shell::CompactString;

/// What kind of check produced a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReasonKind {
    /// A rule in a policy file.
    Rule,
    /// A built-in destructive-command pack.
    Pack,
    /// warden's own files (policy, hook settings, audit store) are not the agent's to change.
    SelfProtection,
    /// A secret file.
    SecretFile,
    /// The shell analyser could not resolve part of a command.
    Unresolved,
    /// The default posture.
    Default,
    /// A finding of another check plugged in by the caller (secrets, taint, drift).
    Check,
}

/// One reason behind a decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    pub kind: ReasonKind,
    pub decision: Decision,
    /// What happened, for people (fixed texts are not copied).
    pub message: Cow<'static, str>,
    /// The rule text or pack rule id, shared with the policy's rule (copying a verdict copies
    /// no rule text).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_shared"
    )]
    pub rule: Option<Arc<str>>,
    /// Where the rule was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// Whether an allow rule may override it (packs' "ask" and the default posture).
    #[serde(skip)]
    pub soft: bool,
}

fn serialize_shared<S: serde::Serializer>(
    text: &Option<Arc<str>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    text.as_deref().serialize(s)
}

impl Reason {
    fn hard(kind: ReasonKind, decision: Decision, message: impl Into<Cow<'static, str>>) -> Reason {
        Reason {
            kind,
            decision,
            message: message.into(),
            rule: None,
            origin: None,
            soft: false,
        }
    }

    fn soft(kind: ReasonKind, decision: Decision, message: impl Into<Cow<'static, str>>) -> Reason {
        Reason {
            soft: true,
            ..Reason::hard(kind, decision, message)
        }
    }

    fn from_rule(rule: &Rule, decision: Decision, message: String) -> Reason {
        Reason {
            kind: ReasonKind::Rule,
            decision,
            message: Cow::Owned(message),
            rule: Some(Arc::clone(&rule.text)),
            origin: Some(rule.origin.clone()),
            soft: false,
        }
    }

    /// A reason from a check outside the policy (secret scan, taint, drift).
    pub fn check(
        decision: Decision,
        rule: impl Into<Arc<str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Reason {
        Reason {
            rule: Some(rule.into()),
            ..Reason::hard(ReasonKind::Check, decision, message)
        }
    }

    /// One line for people: `deny: <message> [rule at file:line]`.
    pub fn describe(&self) -> String {
        let mut text = self.message.to_string();
        if let Some(rule) = &self.rule {
            text.push_str(&format!(" [{rule}"));
            if let Some(origin) = &self.origin {
                text.push_str(&format!(" at {origin}"));
            }
            text.push(']');
        }
        text
    }
}

/// The engine's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub decision: Decision,
    /// The reason that decided.
    pub decided_by: Reason,
    /// Every reason found, strongest first.
    pub reasons: Vec<Reason>,
    /// For shell commands: what the analyser saw.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis: Option<CommandTree>,
}

/// What the shell analyser saw, for people (`warden check`). An analyser may hand it over
/// built or as a function that builds it: then it is built only when it is read
/// ([`CommandTree::to_value`]) or serialized, not on every decision.
#[derive(Clone, Default)]
pub struct CommandTree(TreeSource);

#[derive(Clone)]
enum TreeSource {
    Built(serde_json::Value),
    Deferred(Arc<dyn DeferredTree>),
}

/// Something that builds a [`CommandTree`] when it is read (an analyser's own record of a
/// command).
pub trait DeferredTree: Send + Sync {
    /// The tree as JSON.
    fn build(&self) -> serde_json::Value;
}

impl Default for TreeSource {
    fn default() -> Self {
        TreeSource::Built(serde_json::Value::Null)
    }
}

impl CommandTree {
    /// A tree built already.
    pub fn new(value: serde_json::Value) -> CommandTree {
        CommandTree(TreeSource::Built(value))
    }

    /// A tree built by `source` each time it is read.
    pub fn deferred(source: Arc<dyn DeferredTree>) -> CommandTree {
        CommandTree(TreeSource::Deferred(source))
    }

    /// The tree as JSON.
    pub fn to_value(&self) -> serde_json::Value {
        match &self.0 {
            TreeSource::Built(v) => v.clone(),
            TreeSource::Deferred(source) => source.build(),
        }
    }
}

impl From<serde_json::Value> for CommandTree {
    fn from(value: serde_json::Value) -> CommandTree {
        CommandTree::new(value)
    }
}

impl Serialize for CommandTree {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            TreeSource::Built(v) => v.serialize(serializer),
            TreeSource::Deferred(source) => source.build().serialize(serializer),
        }
    }
}

impl std::fmt::Debug for CommandTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            TreeSource::Built(v) => v.fmt(f),
            TreeSource::Deferred(source) => source.build().fmt(f),
        }
    }
}

impl Verdict {
    /// A verdict from a failure before evaluation: always deny.
    pub fn failure(message: impl Into<Cow<'static, str>>) -> Verdict {
        let reason = Reason::hard(ReasonKind::Check, Decision::Deny, message);
        Verdict {
            decision: Decision::Deny,
            decided_by: reason.clone(),
            reasons: vec![reason],
            analysis: None,
        }
    }

    /// Add a reason from another check and recombine.
    pub fn with_reason(mut self, reason: Reason) -> Verdict {
        self.reasons.push(reason);
        let allowed = self
            .reasons
            .iter()
            .any(|r| r.kind == ReasonKind::Rule && r.decision == Decision::Allow);
        combine(
            std::mem::take(&mut self.reasons),
            allowed,
            self.analysis.take(),
        )
    }
}

/// What the shell analyser makes of a command line, in the terms the engine needs.
#[derive(Debug, Clone, Default)]
pub struct CommandView {
    /// Every simple command rules are matched against.
    pub parts: Vec<CommandPart>,
    /// Why part of the command could not be resolved (forces "ask").
    pub unresolved: Vec<String>,
    /// Hits of the built-in packs.
    pub pack_hits: Vec<PackHit>,
    /// Paths read, written (or deleted), as written in the command.
    pub reads: Vec<String>,
    pub writes: Vec<String>,
    /// Effects other than file access that keep the posture from allowing (network, privilege,
    /// dynamic code...), for people.
    pub other_effects: Vec<String>,
    /// Whether every effect of every part is known, so the posture may allow it.
    pub effects_known: bool,
    /// A description of the tree for `warden check`.
    pub tree: CommandTree,
}

/// One simple command.
#[derive(Debug, Clone)]
pub struct CommandPart {
    /// The command as text (normalized by the analyser); kept inline when short, so that a
    /// copy of the analyser's costs no allocation.
    pub text: CompactString,
    /// The resolved program name (inline when short, as `text`).
    pub program: CompactString,
    /// The programs of the wrappers that reached it (`sudo`, `bash`...), outermost first:
    /// with `program`, what rules are found by.
    pub wrappers: Vec<String>,
    /// Index into the analyser's own records, for semantic rule matching.
    pub index: usize,
}

/// A built-in pack's finding.
#[derive(Debug, Clone)]
pub struct PackHit {
    pub rule_id: Cow<'static, str>,
    pub decision: Decision,
    pub reason: Cow<'static, str>,
    pub command: String,
}

/// The shell analyser the engine uses for `Bash` actions.
pub trait CommandAnalyzer: Send + Sync {
    /// Analyse a command line. Never panics.
    fn analyze(&self, command: &str, enabled_packs: &PackSelection) -> AnalyzedCommand;
}

/// Whether a rule matches one part of an analysed command; the flag is true for allow rules.
/// Any `Fn(&CommandRule, &CommandPart, bool) -> bool` is one.
pub trait MatchRule: Send + Sync {
    /// Whether `rule` matches `part`; `for_allow` is true for allow rules.
    fn matches(&self, rule: &CommandRule, part: &CommandPart, for_allow: bool) -> bool;
}

impl<F: Fn(&CommandRule, &CommandPart, bool) -> bool + Send + Sync> MatchRule for F {
    fn matches(&self, rule: &CommandRule, part: &CommandPart, for_allow: bool) -> bool {
        self(rule, part, for_allow)
    }
}

/// A rule matcher bound to an analysed command. Shared, so that an analyser can hand out the
/// record it keeps of the command itself (no separate allocation).
pub type RuleMatcher = Arc<dyn MatchRule>;

/// An analysed command: the view the engine reads plus a matcher bound to it.
pub struct AnalyzedCommand {
    pub view: CommandView,
    /// Whether a rule matches one part (by `CommandPart::index`).
    /// The flag is true for allow rules, which must match the command itself, never only a
    /// wrapper that reached it.
    pub matcher: RuleMatcher,
}

/// Which pack rules are on.
#[derive(Debug, Clone, Default)]
pub struct PackSelection {
    pub packs: Vec<String>,
    pub disabled: Vec<String>,
}

/// Claude Code's own text matching, used when no semantic analyser is installed.
#[derive(Debug, Default)]
pub struct TextAnalyzer;

impl CommandAnalyzer for TextAnalyzer {
    fn analyze(&self, command: &str, _packs: &PackSelection) -> AnalyzedCommand {
        let parts: Vec<CommandPart> = crate::bash::split_compound(command)
            .into_iter()
            .enumerate()
            .map(|(index, text)| {
                let program = CompactString::new(text.split_whitespace().next().unwrap_or(""));
                CommandPart {
                    wrappers: Vec::new(),
                    program,
                    text: text.into(),
                    index,
                }
            })
            .collect();
        let tree = CommandTree::new(
            serde_json::json!({ "analyser": "text", "commands": parts.iter().map(|p| p.text.as_str()).collect::<Vec<_>>() }),
        );
        AnalyzedCommand {
            view: CommandView {
                parts,
                tree,
                ..CommandView::default()
            },
            matcher: Arc::new(|rule: &CommandRule, part: &CommandPart, _: bool| {
                rule.matches_text(&part.text)
            }),
        }
    }
}

/// Per-evaluation facts from the caller.
#[derive(Debug, Clone, Default)]
pub struct EvalContext {
    /// The agent's working directory (relative paths resolve against it); default: the root.
    pub cwd: Option<PathBuf>,
}

/// A compiled, layered policy.
pub struct Policy {
    anchors: Anchors,
    settings: PolicyFile,
    files: Vec<LoadedFile>,
    rules: Vec<Rule>,
    by_tool: ByTool,
    /// Keyed by program name with the cheap hash of [`crate::config::FastHash`]: looked up for
    /// every part of every command.
    command_rules_by_program: HashMap<String, Vec<usize>, BuildHasherDefault<FastHash>>,
    command_rules_any: Vec<usize>,
    read_scope: Vec<PathPattern>,
    write_scope: Vec<PathPattern>,
    secret_files: Vec<PathPattern>,
    secret_exceptions: Vec<PathPattern>,
    allow_secret_files: Vec<PathPattern>,
    protected: Vec<PathPattern>,
    packs: PackSelection,
    analyzer: Box<dyn CommandAnalyzer>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("root", &self.anchors.root)
            .field("rules", &self.rules.len())
            .finish()
    }
}

/// Rule indexes by the tool they apply to, each list in rule order. A policy names a handful
/// of tools, so the index is a short list searched in order: building it hashes nothing and
/// allocates one list per tool.
#[derive(Debug, Default)]
struct ByTool(Vec<(Box<str>, Vec<usize>)>);

impl ByTool {
    fn get(&self, tool: &str) -> Option<&Vec<usize>> {
        self.0
            .iter()
            .find(|(t, _)| &**t == tool)
            .map(|(_, list)| list)
    }

    fn push(&mut self, tool: &str, rule: usize) {
        match self.0.iter_mut().find(|(t, _)| &**t == tool) {
            Some((_, list)) => list.push(rule),
            None => self.0.push((tool.into(), vec![rule])),
        }
    }
}

/// Secret files known to warden. `~/` patterns are in the user's home.
pub const BUILTIN_SECRET_FILES: &[&str] = &[
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".netrc",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    "credentials.json",
    "service-account*.json",
    "~/.ssh/**",
    "~/.aws/**",
    "~/.config/gcloud/**",
    "~/.azure/**",
    "~/.kube/config",
    "~/.docker/config.json",
    "~/.gnupg/**",
    "~/.config/gh/hosts.yml",
];

/// Names that look like secret files but by convention hold none.
pub const BUILTIN_SECRET_EXCEPTIONS: &[&str] = &[
    ".env.example",
    ".env.sample",
    ".env.template",
    ".env.dist",
    "*.pub",
];

/// A policy that could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl Policy {
    /// Load every layer that applies to `root` and compile it.
    pub fn load(root: &Path, home: Option<&Path>) -> Result<Policy, PolicyError> {
        let mut files = Vec::new();
        for (path, layer) in discover(root, home) {
            files.push(load_file(&path, layer)?);
        }
        Policy::from_files(root, home, files)
    }

    /// Compile already-read files (weakest layer first).
    pub fn from_files(
        root: &Path,
        home: Option<&Path>,
        files: Vec<LoadedFile>,
    ) -> Result<Policy, PolicyError> {
        let anchors = Anchors::at_root(root, home.map(Path::to_path_buf));
        let base = Arc::new(PatternBase::of(&anchors));
        let mut settings = PolicyFile::default();
        let mut rules = Vec::with_capacity(
            files
                .iter()
                .map(|f| {
                    let p = &f.policy.permissions;
                    p.deny.len() + p.ask.len() + p.allow.len()
                })
                .sum(),
        );
        let mut read_scope_src: Vec<String> = Vec::new();
        let mut scope_seen = false;
        for file in &files {
            let p = &file.policy;
            if file.format == crate::config::FileFormat::Toml {
                let has = |section: &str| file.sections.iter().any(|s| s == section);
                if has("defaults") {
                    settings.defaults = p.defaults.clone();
                }
                if has("scope") {
                    if !scope_seen {
                        read_scope_src.clear();
                        scope_seen = true;
                    }
                    read_scope_src.extend(p.scope.read.iter().cloned());
                    settings.scope.write.extend(p.scope.write.iter().cloned());
                    settings
                        .scope
                        .secret_files
                        .extend(p.scope.secret_files.iter().cloned());
                    settings
                        .scope
                        .allow_secret_files
                        .extend(p.scope.allow_secret_files.iter().cloned());
                }
                if has("shell") {
                    settings.shell.packs = p.shell.packs.clone();
                    settings
                        .shell
                        .disable
                        .extend(p.shell.disable.iter().cloned());
                }
                if has("secrets") {
                    settings.secrets = p.secrets.clone();
                }
                if has("audit") {
                    settings.audit = p.audit.clone();
                }
                if has("approvals") {
                    settings.approvals = p.approvals.clone();
                }
                if has("taint") {
                    settings.taint = p.taint.clone();
                }
                if has("sandbox") {
                    settings.sandbox = p.sandbox.clone();
                }
                if has("run") {
                    settings.run = p.run.clone();
                }
            }
            for dir in &p.permissions.additional_directories {
                read_scope_src.push(format!("{}/**", dir.trim_end_matches('/')));
            }
            let quoted = crate::config::QuotedLines::of(&file.text);
            let file_path: Arc<Path> = Arc::from(file.path.as_path());
            for (list, texts) in [
                (RuleList::Deny, &p.permissions.deny),
                (RuleList::Ask, &p.permissions.ask),
                (RuleList::Allow, &p.permissions.allow),
            ] {
                let lines = quoted.lines_of_list(&file.text, texts);
                for (text, line) in texts.iter().zip(lines) {
                    let origin = Origin {
                        file: Arc::clone(&file_path),
                        line,
                        layer: file.layer,
                    };
                    let rule = Rule::compile_with(text, list, origin, &base).map_err(|e| {
                        ConfigError::Rule {
                            path: file.path.clone(),
                            rule: text.clone(),
                            line,
                            message: e.0,
                        }
                    })?;
                    rules.push(rule);
                }
            }
        }
        if !scope_seen {
            read_scope_src.extend(PolicyFile::default().scope.read);
        }
        settings.scope.read = read_scope_src;
        Policy::compile(anchors, base, settings, files, rules)
    }

    fn compile(
        anchors: Anchors,
        base: Arc<PatternBase>,
        settings: PolicyFile,
        files: Vec<LoadedFile>,
        rules: Vec<Rule>,
    ) -> Result<Policy, PolicyError> {
        // Patterns are only checked here; each is made absolute and compiled on first use.
        let compile_all = |patterns: &mut dyn Iterator<Item = Cow<'static, str>>,
                           what: &str|
         -> Result<Vec<PathPattern>, PolicyError> {
            patterns
                .map(|p| {
                    // Only a pattern with classes, alternations or escapes can be refused.
                    let shown = crate::paths::has_classes_alternations_or_escapes(&p)
                        .then(|| p.to_string());
                    PathPattern::with_base(p, &base).map_err(|e| {
                        PolicyError::Config(ConfigError::Rule {
                            path: PathBuf::from(what),
                            rule: shown.unwrap_or_default(),
                            line: 0,
                            message: e.to_string(),
                        })
                    })
                })
                .collect()
        };
        let owned = |list: &[String]| -> Vec<Cow<'static, str>> {
            list.iter().map(|p| Cow::Owned(p.clone())).collect()
        };
        const PROTECTED: &[&str] = &[
            "./warden.toml",
            "./warden.local.toml",
            "./.warden/**",
            "./.claude/settings.json",
            "./.claude/settings.local.json",
            "~/.claude/settings.json",
            "~/.claude/settings.local.json",
        ];
        let audit = format!("./{}", settings.audit.path.trim_start_matches("./"));
        // The staging file beside the log holds events not yet folded into it.
        let audit_staged = format!("{audit}-staged");
        let user_dir = crate::config::user_config_dir(anchors.home.as_deref()).map(|dir| {
            // The directory is a path, not a pattern: escaped, so that a home directory
            // with `[` or `{` in its name does not make every policy fail to load.
            let dir = crate::paths::globset_escape(&dir.to_string_lossy());
            format!("//{}/**", dir.trim_start_matches('/'))
        });
        let protected = compile_all(
            &mut PROTECTED
                .iter()
                .map(|p| Cow::Borrowed(*p))
                .chain([Cow::Owned(audit), Cow::Owned(audit_staged)])
                .chain(user_dir.map(Cow::Owned)),
            "built-in protected paths",
        )?;

        let mut by_tool = ByTool::default();
        let mut command_rules_by_program: HashMap<
            String,
            Vec<usize>,
            BuildHasherDefault<FastHash>,
        > = HashMap::default();
        let mut command_rules_any = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            let tools: &[&str] = match &rule.target {
                RuleTarget::WholeTool(t) => {
                    by_tool.push(t, i);
                    continue;
                }
                RuleTarget::Command(cmd) => {
                    match cmd.program() {
                        Some(program) if !cmd.is_text_search() => {
                            match command_rules_by_program.get_mut(program) {
                                Some(list) => list.push(i),
                                None => {
                                    command_rules_by_program.insert(program.to_string(), vec![i]);
                                }
                            }
                        }
                        _ => command_rules_any.push(i),
                    }
                    continue;
                }
                RuleTarget::ReadPath(_) => crate::rule::READ_TOOLS,
                RuleTarget::ModifyPath(_) => crate::rule::MODIFY_TOOLS,
                RuleTarget::FetchDomain(_) => &["WebFetch"],
                RuleTarget::Mcp { .. } => &["mcp"],
                RuleTarget::Uninterpreted { .. } => continue,
            };
            for tool in tools {
                by_tool.push(tool, i);
            }
        }
        let packs = PackSelection {
            packs: settings.shell.packs.clone(),
            disabled: settings.shell.disable.clone(),
        };
        Ok(Policy {
            read_scope: compile_all(&mut owned(&settings.scope.read).into_iter(), "[scope] read")?,
            write_scope: compile_all(
                &mut owned(&settings.scope.write).into_iter(),
                "[scope] write",
            )?,
            secret_files: compile_all(
                &mut BUILTIN_SECRET_FILES
                    .iter()
                    .map(|p| Cow::Borrowed(*p))
                    .chain(owned(&settings.scope.secret_files)),
                "[scope] secret_files",
            )?,
            secret_exceptions: compile_all(
                &mut BUILTIN_SECRET_EXCEPTIONS.iter().map(|p| Cow::Borrowed(*p)),
                "built-in secret exceptions",
            )?,
            allow_secret_files: compile_all(
                &mut owned(&settings.scope.allow_secret_files).into_iter(),
                "[scope] allow_secret_files",
            )?,
            protected,
            anchors,
            settings,
            files,
            rules,
            by_tool,
            command_rules_by_program,
            command_rules_any,
            packs,
            analyzer: Box::new(crate::semantic::SemanticAnalyzer),
        })
    }

    /// Use a semantic shell analyser instead of Claude Code's text matching.
    pub fn with_analyzer(mut self, analyzer: Box<dyn CommandAnalyzer>) -> Policy {
        self.analyzer = analyzer;
        self
    }

    /// The merged settings (scalar sections from the strongest layer that sets them).
    pub fn settings(&self) -> &PolicyFile {
        &self.settings
    }

    /// The files this policy was built from.
    pub fn files(&self) -> &[LoadedFile] {
        &self.files
    }

    /// Every rule, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The project root.
    pub fn root(&self) -> &Path {
        &self.anchors.root
    }

    /// The anchors used to resolve paths.
    pub fn anchors(&self) -> &Anchors {
        &self.anchors
    }

    /// Whether a resolved path is one of warden's own files.
    pub fn is_protected(&self, path: &Path) -> bool {
        self.protected.iter().any(|p| p.matches(path))
    }

    /// The secret-file pattern a resolved path matches, unless allowed by name.
    pub fn secret_file(&self, path: &Path) -> Option<&str> {
        if self.secret_exceptions.iter().any(|p| p.matches(path))
            || self.allow_secret_files.iter().any(|p| p.matches(path))
        {
            return None;
        }
        self.secret_files
            .iter()
            .find(|p| p.matches(path))
            .map(|p| p.source())
    }

    /// Whether a resolved path is inside the read scope.
    pub fn in_read_scope(&self, path: &Path) -> bool {
        self.read_scope.iter().any(|p| p.matches(path))
    }

    /// Whether a resolved path is inside the write allowlist.
    pub fn in_write_scope(&self, path: &Path) -> bool {
        self.write_scope.iter().any(|p| p.matches(path))
    }

    /// Decide one action.
    pub fn evaluate(&self, action: &Action, ctx: &EvalContext) -> Verdict {
        let anchors = match &ctx.cwd {
            Some(cwd) => {
                let cwd = crate::paths::resolve_existing(cwd);
                if cwd == self.anchors.cwd {
                    Cow::Borrowed(&self.anchors)
                } else {
                    Cow::Owned(Anchors {
                        cwd,
                        root: self.anchors.root.clone(),
                        home: self.anchors.home.clone(),
                    })
                }
            }
            None => Cow::Borrowed(&self.anchors),
        };
        let mut reasons = Vec::new();
        let mut allowed_by_rule = false;
        let mut analysis = None;
        let defaults = &self.settings.defaults;
        match action {
            Action::Read { tool, path } => {
                let path = anchors.resolve(path);
                allowed_by_rule = self.path_rules(tool, &path, true, &mut reasons);
                self.secret_check(&path, &mut reasons);
                reasons.push(if self.in_read_scope(&path) {
                    Reason::soft(
                        ReasonKind::Default,
                        Decision::Allow,
                        format!("{} is inside the read scope", path.display()),
                    )
                } else {
                    Reason::soft(
                        ReasonKind::Default,
                        defaults.read_outside_scope,
                        format!("{} is outside the read scope", path.display()),
                    )
                });
            }
            Action::Write { tool, path, .. } | Action::Edit { tool, path, .. } => {
                let path = anchors.resolve(path);
                if self.is_protected(&path) {
                    reasons.push(Reason::hard(
                        ReasonKind::SelfProtection,
                        Decision::Deny,
                        format!("{} is one of warden's own files (policy, hook settings or audit log); the agent may not change it", path.display()),
                    ));
                }
                allowed_by_rule = self.path_rules(tool, &path, false, &mut reasons);
                reasons.push(if self.in_write_scope(&path) {
                    Reason::soft(
                        ReasonKind::Default,
                        Decision::Allow,
                        format!("{} is inside the write allowlist", path.display()),
                    )
                } else {
                    Reason::soft(
                        ReasonKind::Default,
                        defaults.write_outside_allowlist,
                        format!("{} is outside the write allowlist", path.display()),
                    )
                });
            }
            Action::Exec { command } => {
                let (allowed, tree) = self.exec_reasons(command, &anchors, &mut reasons);
                allowed_by_rule = allowed;
                analysis = Some(tree);
            }
            Action::Fetch { url } => {
                let host = url_host(url);
                for i in self.indexes("WebFetch") {
                    let rule = &self.rules[i];
                    let hit = match &rule.target {
                        RuleTarget::FetchDomain(d) => {
                            host.as_deref().is_some_and(|h| domain_matches(d, h))
                        }
                        RuleTarget::WholeTool(_) => true,
                        _ => false,
                    };
                    if hit {
                        allowed_by_rule |= push_rule(rule, &mut reasons, &["fetching ", url]);
                    }
                }
                if host.is_none() {
                    reasons.push(Reason::hard(
                        ReasonKind::Unresolved,
                        Decision::Ask,
                        format!("cannot tell the host of URL {url:?}"),
                    ));
                }
                reasons.push(Reason::soft(
                    ReasonKind::Default,
                    defaults.web_fetch,
                    "network fetches need a rule that allows the domain",
                ));
            }
            Action::WebSearch { .. } => {
                allowed_by_rule = self.whole_tool_rules("WebSearch", &mut reasons);
                reasons.push(Reason::soft(
                    ReasonKind::Default,
                    defaults.web_search,
                    "web searches send the query off this machine",
                ));
            }
            Action::Mcp { server, tool, .. } => {
                for i in self.indexes("mcp") {
                    let rule = &self.rules[i];
                    if let RuleTarget::Mcp { server: s, tool: t } = &rule.target {
                        let full = format!("mcp__{s}__{}", t.as_deref().unwrap_or(""));
                        if s == server && t.as_deref().is_none_or(|t| tool == t || tool == &full) {
                            allowed_by_rule |= push_rule(rule, &mut reasons, &["MCP tool ", tool]);
                        }
                    }
                }
                reasons.push(Reason::soft(
                    ReasonKind::Default,
                    defaults.mcp,
                    format!("MCP tool {tool} is not covered by an allow rule"),
                ));
            }
            Action::Inert { tool } => {
                allowed_by_rule = self.whole_tool_rules(tool, &mut reasons);
                reasons.push(Reason::soft(
                    ReasonKind::Default,
                    Decision::Allow,
                    format!("{tool} changes nothing outside the agent"),
                ));
            }
            Action::Unknown { tool, .. } => {
                allowed_by_rule = self.whole_tool_rules(tool, &mut reasons);
                reasons.push(Reason::hard(
                    ReasonKind::Default,
                    defaults.unknown_tool,
                    format!("warden does not know the tool {tool:?}, so it cannot tell what it touches; defaults.unknown_tool decides"),
                ));
                // An explicit allow rule for the tool is the policy "saying otherwise".
                if allowed_by_rule {
                    if let Some(last) = reasons.last_mut() {
                        last.soft = true;
                    }
                }
            }
        }
        combine(reasons, allowed_by_rule, analysis)
    }

    fn indexes(&self, tool: &str) -> impl Iterator<Item = usize> + '_ {
        self.by_tool.get(tool).into_iter().flatten().copied()
    }

    fn whole_tool_rules(&self, tool: &str, reasons: &mut Vec<Reason>) -> bool {
        let mut allowed = false;
        for i in self.indexes(tool) {
            let rule = &self.rules[i];
            if matches!(&rule.target, RuleTarget::WholeTool(t) if t == tool) {
                allowed |= push_rule(rule, reasons, &["every ", tool, " call"]);
            }
        }
        allowed
    }

    fn path_rules(&self, tool: &str, path: &Path, read: bool, reasons: &mut Vec<Reason>) -> bool {
        let mut allowed = false;
        for i in self.indexes(tool) {
            let rule = &self.rules[i];
            let hit = match &rule.target {
                RuleTarget::ReadPath(p) if read => p.matches(path),
                RuleTarget::ModifyPath(p) if !read => p.matches(path),
                RuleTarget::WholeTool(t) => t == tool,
                _ => false,
            };
            if hit {
                allowed |= push_rule(rule, reasons, &[tool, " ", &path.to_string_lossy()]);
            }
        }
        allowed
    }

    fn secret_check(&self, path: &Path, reasons: &mut Vec<Reason>) {
        if let Some(pattern) = self.secret_file(path) {
            reasons.push(Reason {
                rule: Some(Arc::from(pattern)),
                ..Reason::hard(
                    ReasonKind::SecretFile,
                    self.settings.defaults.secret_read,
                    format!("{} is a secret file ({pattern}); its contents must not reach the agent. Allow it by name in [scope] allow_secret_files if it holds no real secrets", path.display()),
                )
            });
        }
    }

    /// Reasons for a shell command; returns whether allow rules cover every part, and the tree.
    fn exec_reasons(
        &self,
        command: &str,
        anchors: &Anchors,
        reasons: &mut Vec<Reason>,
    ) -> (bool, CommandTree) {
        let mut analyzed = self.analyzer.analyze(command, &self.packs);
        let pack_hits = std::mem::take(&mut analyzed.view.pack_hits);
        let view = &analyzed.view;
        let mut every_part_allowed = !view.parts.is_empty();
        let bash_rules = self.by_tool.get("Bash").map_or(&[][..], Vec::as_slice);
        let mut merged = Vec::new();
        for part in &view.parts {
            let mut part_allowed = false;
            for &i in self.command_candidates(part, &mut merged) {
                let rule = &self.rules[i];
                let RuleTarget::Command(cmd) = &rule.target else {
                    continue;
                };
                let for_allow = rule.list == RuleList::Allow;
                let hit = analyzed.matcher.matches(cmd, part, for_allow);
                if hit {
                    part_allowed |= push_rule(rule, reasons, &["command `", &part.text, "`"]);
                }
            }
            for &i in bash_rules {
                let rule = &self.rules[i];
                if matches!(&rule.target, RuleTarget::WholeTool(_)) {
                    part_allowed |= push_rule(rule, reasons, &["every Bash command"]);
                }
            }
            every_part_allowed &= part_allowed;
        }
        for hit in pack_hits {
            let soft = hit.decision != Decision::Deny;
            let mut message = String::with_capacity(hit.reason.len() + hit.command.len() + 4);
            message.push_str(&hit.reason);
            message.push_str(" (`");
            message.push_str(&hit.command);
            message.push_str("`)");
            reasons.push(Reason {
                kind: ReasonKind::Pack,
                decision: hit.decision,
                message: Cow::Owned(message),
                rule: Some(Arc::from(&*hit.rule_id)),
                origin: None,
                soft,
            });
        }
        for why in &view.unresolved {
            reasons.push(Reason::hard(
                ReasonKind::Unresolved,
                Decision::Ask,
                why.clone(),
            ));
            every_part_allowed = false;
        }
        let mut posture_allows = view.effects_known && !view.parts.is_empty();
        for raw in &view.reads {
            let path = anchors.resolve(Path::new(raw));
            self.secret_check(&path, reasons);
            if !self.in_read_scope(&path) {
                posture_allows = false;
                reasons.push(Reason::soft(
                    ReasonKind::Default,
                    self.settings.defaults.read_outside_scope,
                    format!("reads {} outside the read scope", path.display()),
                ));
            }
        }
        for raw in &view.writes {
            let path = anchors.resolve(Path::new(raw));
            if self.is_protected(&path) {
                reasons.push(Reason::hard(
                    ReasonKind::SelfProtection,
                    Decision::Deny,
                    format!(
                        "changes {}, one of warden's own files; the agent may not change it",
                        path.display()
                    ),
                ));
            }
            if !self.in_write_scope(&path) {
                posture_allows = false;
                reasons.push(Reason::soft(
                    ReasonKind::Default,
                    self.settings.defaults.write_outside_allowlist,
                    format!("writes {} outside the write allowlist", path.display()),
                ));
            }
        }
        if !view.other_effects.is_empty() {
            posture_allows = false;
        }
        reasons.push(if posture_allows {
            Reason::soft(ReasonKind::Default, Decision::Allow, "every command only reads inside the read scope or writes inside the write allowlist")
        } else {
            const NOT_SAFE: &str =
                "no rule allows this command and its effects are not all known to be safe";
            let mut message = String::with_capacity(
                NOT_SAFE.len()
                    + view
                        .other_effects
                        .iter()
                        .map(|e| e.len() + 2)
                        .sum::<usize>()
                    + 3,
            );
            message.push_str(NOT_SAFE);
            for (n, effect) in view.other_effects.iter().enumerate() {
                message.push_str(if n == 0 { " (" } else { "; " });
                message.push_str(effect);
            }
            if !view.other_effects.is_empty() {
                message.push(')');
            }
            Reason::soft(ReasonKind::Default, self.settings.defaults.bash, message)
        });
        (every_part_allowed, std::mem::take(&mut analyzed.view.tree))
    }

    /// The command rules that may match a part: those indexed by its program or by the
    /// program of a wrapper that reached it, and those about any program, each once, in rule order.
    /// Each index list is in rule order already, so a single list is used as it is; only
    /// several lists are merged (into `merged`).
    fn command_candidates<'a>(
        &'a self,
        part: &CommandPart,
        merged: &'a mut Vec<usize>,
    ) -> &'a [usize] {
        let mut lists = std::iter::once(part.program.as_str())
            .chain(part.wrappers.iter().map(String::as_str))
            .filter_map(|p| self.command_rules_by_program.get(p))
            .map(Vec::as_slice)
            .chain(std::iter::once(self.command_rules_any.as_slice()))
            .filter(|list| !list.is_empty());
        let Some(first) = lists.next() else {
            return &[];
        };
        let Some(second) = lists.next() else {
            debug_assert!(first.windows(2).all(|w| w[0] < w[1]));
            return first;
        };
        merged.clear();
        merged.extend_from_slice(first);
        merged.extend_from_slice(second);
        for list in lists {
            merged.extend_from_slice(list);
        }
        merged.sort_unstable();
        merged.dedup();
        merged
    }
}

/// Record a matched rule; returns true when it is an allow rule. The message is `what` (its
/// pieces joined), the verb and the rule.
fn push_rule(rule: &Rule, reasons: &mut Vec<Reason>, what: &[&str]) -> bool {
    let decision = match rule.list {
        RuleList::Deny => Decision::Deny,
        RuleList::Ask => Decision::Ask,
        RuleList::Allow => Decision::Allow,
    };
    let verb = match rule.list {
        RuleList::Deny => "denied",
        RuleList::Ask => "needs approval",
        RuleList::Allow => "allowed",
    };
    const BY_RULE: &str = " by rule ";
    let mut message = String::with_capacity(
        what.iter().map(|w| w.len()).sum::<usize>()
            + 1
            + verb.len()
            + BY_RULE.len()
            + rule.text.len(),
    );
    for piece in what {
        message.push_str(piece);
    }
    message.push(' ');
    message.push_str(verb);
    message.push_str(BY_RULE);
    message.push_str(&rule.text);
    reasons.push(Reason::from_rule(rule, decision, message));
    rule.list == RuleList::Allow
}

fn combine(
    mut reasons: Vec<Reason>,
    allowed_by_rule: bool,
    analysis: Option<CommandTree>,
) -> Verdict {
    // Strongest first: hard before soft, then deny > ask > allow, rules before other kinds.
    reasons.sort_by_key(|r| {
        (
            r.soft,
            std::cmp::Reverse(r.decision),
            r.kind != ReasonKind::Rule,
        )
    });
    let first = |pred: &dyn Fn(&Reason) -> bool| reasons.iter().find(|r| pred(r)).cloned();
    let decided_by = first(&|r| !r.soft && r.decision == Decision::Deny)
        .or_else(|| first(&|r| !r.soft && r.decision == Decision::Ask))
        .or_else(|| {
            allowed_by_rule
                .then(|| first(&|r| r.kind == ReasonKind::Rule && r.decision == Decision::Allow))
                .flatten()
        })
        .or_else(|| {
            let strongest = reasons
                .iter()
                .filter(|r| r.soft)
                .map(|r| r.decision)
                .max()?;
            first(&|r| r.soft && r.decision == strongest)
        })
        .unwrap_or_else(|| {
            Reason::soft(
                ReasonKind::Default,
                Decision::Ask,
                "nothing decided this action",
            )
        });
    Verdict {
        decision: decided_by.decision,
        decided_by,
        reasons,
        analysis,
    }
}

/// The host of a URL, lower-cased, without port or credentials.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map(|(_, r)| r)?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Build a policy from TOML text alone (tests, benchmarks, `warden check --policy`).
pub fn policy_from_toml(
    root: &Path,
    home: Option<&Path>,
    text: &str,
) -> Result<Policy, PolicyError> {
    let file =
        crate::config::parse_text(&root.join("warden.toml"), Layer::Project, text.to_string())?;
    Policy::from_files(root, home, vec![file])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The user's configuration directory is protected as a path, not read as a pattern: a
    /// home directory with glob characters in its name loads (it failed, denying everything).
    #[test]
    fn a_home_directory_with_glob_characters_loads() {
        let home = Path::new("/home/a[b{c");
        let policy = Policy::from_files(Path::new("/project"), Some(home), Vec::new())
            .expect("the policy loads");
        let dir = crate::config::user_config_dir(Some(home)).expect("a configuration directory");
        assert!(policy.is_protected(&dir.join("policy.toml")));
        assert!(!policy.is_protected(Path::new("/home/ab/.config/warden/policy.toml")));
    }

    /// Claude Code's text matching, through the matcher a closure gives.
    #[test]
    fn text_analyzer_matches_each_part_by_text() {
        let policy = policy_from_toml(
            &std::env::temp_dir(),
            None,
            "[permissions]\ndeny = [\"Bash(rm -rf*)\"]\nallow = [\"Bash(npm test*)\"]\n",
        )
        .expect("policy compiles")
        .with_analyzer(Box::new(TextAnalyzer));
        let decide = |command: &str| {
            policy
                .evaluate(
                    &Action::Exec {
                        command: command.into(),
                    },
                    &EvalContext::default(),
                )
                .decision
        };
        assert_eq!(decide("npm test -- --watch"), Decision::Allow);
        assert_eq!(decide("npm test && rm -rf /"), Decision::Deny);
        // Text matching does not see through spellings: what the semantic analyser is for.
        assert_ne!(decide("rm -fr /"), Decision::Deny);
    }

    /// The candidates of a part are every rule indexed by one of its programs, and every rule
    /// about any program, once each and in rule order, whether one list holds them or several
    /// are merged.
    #[test]
    fn command_candidates_are_each_indexed_rule_once_in_order() {
        let policy = policy_from_toml(
            &std::env::temp_dir(),
            None,
            r#"[permissions]
deny = ["Bash(rm -rf*)", "Bash(sudo:*)", "Bash(git push --force*)"]
ask = ["Bash(git push:*)", "Bash(rm:*)", "Bash(bash -c*)"]
allow = ["Bash(git status)", "Bash(npm test*)", "Bash(sudo ls*)", "Read(./src/**)"]
"#,
        )
        .expect("policy compiles");
        let with_any = policy_from_toml(
            &std::env::temp_dir(),
            None,
            r#"[permissions]
deny = ["Bash(rm -rf*)", "Bash(*DROP TABLE*)"]
allow = ["Bash(npm test*)", "Bash(*--help)"]
"#,
        )
        .expect("policy compiles");
        let programs: &[&[&str]] = &[
            &[],
            &["ls"],
            &["rm"],
            &["git"],
            &["rm", "sudo"],
            &["rm", "sudo", "bash"],
            &["sudo", "sudo"],
            &["npm", "npm"],
            &["ls", "sudo"],
        ];
        for policy in [&policy, &with_any] {
            for list in programs {
                let part = CommandPart {
                    text: list.join(" ").into(),
                    program: list.first().copied().unwrap_or("").into(),
                    wrappers: list.iter().skip(1).map(|p| (*p).to_owned()).collect(),
                    index: 0,
                };
                let mut expected: Vec<usize> = list
                    .iter()
                    .filter_map(|p| policy.command_rules_by_program.get(*p))
                    .flatten()
                    .chain(policy.command_rules_any.iter())
                    .copied()
                    .collect();
                expected.sort_unstable();
                expected.dedup();
                let mut merged = Vec::new();
                assert_eq!(
                    policy.command_candidates(&part, &mut merged),
                    &expected[..],
                    "{list:?}"
                );
            }
        }
    }
}
