//! Which tool results count as untrusted content.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::GuardError;

/// Where untrusted content came from. Small and serializable: it is kept in
/// [`crate::SessionState`] and written to the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaintSource {
    /// A tool whose every result is untrusted (WebFetch, WebSearch).
    Tool {
        /// The tool name.
        name: String,
    },
    /// The output of a command that fetches from the network.
    NetworkCommand {
        /// The command words that matched (`curl`, `gh issue view`).
        command: String,
    },
    /// A file read from outside the project or from a dependency / vendored tree.
    Path {
        /// The path as the agent gave it.
        path: String,
        /// Why it is untrusted ("outside the project", "matches node_modules/**").
        reason: String,
    },
    /// An MCP tool the policy marks untrusted.
    Mcp {
        /// The tool name (`mcp__server__tool`).
        name: String,
    },
    /// Injection signals in a tool result, whatever its source.
    Injection {
        /// The tool whose result carried them.
        tool: String,
        /// The summary from [`crate::summarize`].
        summary: String,
    },
}

impl fmt::Display for TaintSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaintSource::Tool { name } => write!(f, "a {name} result"),
            TaintSource::NetworkCommand { command } => write!(f, "the output of `{command}`"),
            TaintSource::Path { path, reason } => write!(f, "a read of {path} ({reason})"),
            TaintSource::Mcp { name } => write!(f, "a result of the untrusted MCP tool {name}"),
            TaintSource::Injection { tool, summary } => {
                write!(f, "injection signals in a {tool} result: {summary}")
            }
        }
    }
}

/// Policy-file shape of [`UntrustedSources`]. Every field is optional; a missing field keeps
/// the default list, so a policy can add one glob without restating the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UntrustedSourcesConfig {
    /// Tools whose results are always untrusted.
    pub tools: Vec<String>,
    /// Commands whose output is untrusted: a program name (`curl`) or a program with its
    /// leading subcommand words (`gh issue view`).
    pub network_commands: Vec<String>,
    /// Globs over project-relative paths (and absolute paths) whose content is untrusted.
    pub paths: Vec<String>,
    /// Whether reads outside the project root are untrusted.
    pub outside_project: bool,
    /// Globs over MCP tool names (`mcp__github__*`) whose results are untrusted.
    pub mcp_tools: Vec<String>,
    /// Programs that print file contents; their path arguments are classified like a Read.
    pub read_programs: Vec<String>,
}

impl Default for UntrustedSourcesConfig {
    fn default() -> Self {
        let s = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        UntrustedSourcesConfig {
            tools: s(&["WebFetch", "WebSearch"]),
            network_commands: s(&[
                "curl",
                "wget",
                "http",
                "https",
                "xh",
                "aria2c",
                "lynx",
                "w3m",
                "links",
                "elinks",
                "nc",
                "ncat",
                "socat",
                "telnet",
                "ftp",
                "sftp",
                "scp",
                "rsync",
                "gh issue view",
                "gh issue list",
                "gh pr view",
                "gh pr diff",
                "gh pr list",
                "gh pr checks",
                "gh api",
                "gh release view",
                "gh repo view",
                "gh run view",
                "gh search",
                "gh gist view",
                "glab issue view",
                "glab mr view",
                "glab api",
                "hub issue",
                "npm view",
                "npm info",
                "pip download",
                "git clone",
                "git fetch",
                "git pull",
            ]),
            paths: s(&[
                "**/node_modules/**",
                "**/vendor/**",
                "**/.venv/**",
                "**/venv/**",
                "**/site-packages/**",
                "**/target/**",
                "**/third_party/**",
                "**/.cargo/registry/**",
                "**/.cargo/git/**",
                "**/go/pkg/mod/**",
                "**/bower_components/**",
                "**/Pods/**",
                "**/.gradle/caches/**",
                "**/.m2/repository/**",
            ]),
            outside_project: true,
            mcp_tools: s(&[
                "mcp__*fetch*",
                "mcp__*browser*",
                "mcp__*puppeteer*",
                "mcp__*playwright*",
                "mcp__*github*",
                "mcp__*gitlab*",
                "mcp__*search*",
                "mcp__*slack*",
                "mcp__*email*",
                "mcp__*gmail*",
            ]),
            read_programs: s(&[
                "cat", "head", "tail", "less", "more", "bat", "batcat", "grep", "egrep", "fgrep",
                "rg", "ag", "sed", "awk", "jq", "yq", "strings", "xxd", "od", "nl", "tac", "sort",
                "uniq", "cut", "diff", "view", "vim", "nano",
            ]),
        }
    }
}

/// Classifies tool calls whose results are untrusted content. Build from
/// [`UntrustedSourcesConfig`] (or `Default` for the built-in lists).
#[derive(Debug, Clone)]
pub struct UntrustedSources {
    tools: Vec<String>,
    // Each command as its words: ["gh", "issue", "view"].
    commands: Vec<Vec<String>>,
    path_globs: Vec<String>,
    paths: GlobSet,
    outside_project: bool,
    mcp_globs: Vec<String>,
    mcp: GlobSet,
    read_programs: Vec<String>,
}

impl Default for UntrustedSources {
    fn default() -> Self {
        // The default lists are constants checked by the tests; compiling them cannot fail
        // on user input.
        Self::new(UntrustedSourcesConfig::default()).expect("default untrusted-source globs")
    }
}

impl<'de> Deserialize<'de> for UntrustedSources {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let cfg = UntrustedSourcesConfig::deserialize(d)?;
        UntrustedSources::new(cfg).map_err(serde::de::Error::custom)
    }
}

fn compile(globs: &[String], what: &'static str) -> Result<GlobSet, GuardError> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        let glob = GlobBuilder::new(g)
            .literal_separator(what == "path")
            .build()
            .map_err(|source| GuardError::Glob {
                what,
                glob: g.clone(),
                source,
            })?;
        b.add(glob);
    }
    b.build().map_err(|source| GuardError::Glob {
        what,
        glob: globs.join(", "),
        source,
    })
}

// Shell words that run the next word as the program.
const WRAPPERS: &[&str] = &[
    "sudo", "doas", "env", "time", "nice", "nohup", "timeout", "command", "exec", "builtin",
    "xargs", "stdbuf", "ionice", "chrt", "setsid", "unbuffer",
];

impl UntrustedSources {
    /// Compiles a configuration; a bad glob is an error naming it.
    pub fn new(cfg: UntrustedSourcesConfig) -> Result<Self, GuardError> {
        let paths = compile(&cfg.paths, "path")?;
        let mcp = compile(&cfg.mcp_tools, "mcp tool")?;
        Ok(UntrustedSources {
            tools: cfg.tools,
            commands: cfg
                .network_commands
                .iter()
                .map(|c| c.split_whitespace().map(str::to_string).collect())
                .filter(|w: &Vec<String>| !w.is_empty())
                .collect(),
            path_globs: cfg.paths,
            paths,
            outside_project: cfg.outside_project,
            mcp_globs: cfg.mcp_tools,
            mcp,
            read_programs: cfg.read_programs,
        })
    }

    /// Whether the result of this tool call is untrusted content, and why.
    ///
    /// `tool_input` is the hook payload's `tool_input`. For `Bash` the command string gets
    /// a light tokenization (quotes, `;`, `|`, `&&`, `$(`); callers with a full shell
    /// analysis should use [`UntrustedSources::classify_argv`] on each simple command.
    pub fn classify(
        &self,
        tool: &str,
        tool_input: &Value,
        project_root: &Path,
    ) -> Option<TaintSource> {
        if self.tools.iter().any(|t| t == tool) {
            return Some(TaintSource::Tool {
                name: tool.to_string(),
            });
        }
        if tool.starts_with("mcp__") && self.mcp.is_match(tool) {
            return Some(TaintSource::Mcp {
                name: tool.to_string(),
            });
        }
        let field = |k: &str| tool_input.get(k).and_then(Value::as_str);
        match tool {
            "Read" | "NotebookRead" => field("file_path")
                .or_else(|| field("notebook_path"))
                .and_then(|p| self.classify_path(p, project_root)),
            "Grep" | "Glob" | "LS" => {
                field("path").and_then(|p| self.classify_path(p, project_root))
            }
            "Bash" => field("command").and_then(|c| self.classify_command(c, project_root)),
            _ => None,
        }
    }

    /// Whether reading `path` (absolute, or relative to `project_root`) takes in untrusted
    /// content. Purely lexical: `..` is resolved, symlinks are not followed.
    pub fn classify_path(&self, path: &str, project_root: &Path) -> Option<TaintSource> {
        let expanded = if let Some(rest) = path.strip_prefix("~/") {
            // `~` is never inside a project in any way that matters here: treat it as
            // outside, under a stable name.
            PathBuf::from("/~").join(rest)
        } else {
            PathBuf::from(path)
        };
        let abs = normalize(&if expanded.is_absolute() {
            expanded
        } else {
            project_root.join(expanded)
        });
        let root = normalize(project_root);
        let inside = abs.strip_prefix(&root).ok();
        let reason = |r: String| {
            Some(TaintSource::Path {
                path: path.to_string(),
                reason: r,
            })
        };
        match inside {
            Some(rel) => {
                if let Some(g) = self.first_glob(rel) {
                    return reason(format!("matches {g}"));
                }
                None
            }
            None => {
                if let Some(g) = self.first_glob(&abs) {
                    return reason(format!("matches {g}"));
                }
                if self.outside_project {
                    return reason("outside the project".to_string());
                }
                None
            }
        }
    }

    fn first_glob(&self, p: &Path) -> Option<&str> {
        self.paths
            .matches(p)
            .first()
            .and_then(|i| self.path_globs.get(*i))
            .map(String::as_str)
    }

    /// Whether any of these programs (names or paths; only the file name counts) fetches
    /// untrusted content. Multi-word entries (`gh issue view`) need their words, so only
    /// single-word entries are matched here; see [`UntrustedSources::classify_argv`].
    pub fn classify_programs(&self, programs: &[&str]) -> Option<TaintSource> {
        programs.iter().find_map(|p| {
            let name = program_name(p);
            self.commands
                .iter()
                .find(|c| c.len() == 1 && c[0] == name)
                .map(|c| TaintSource::NetworkCommand {
                    command: c.join(" "),
                })
        })
    }

    /// Classifies one simple command given as its words (program first, wrappers such as
    /// `sudo` / `env X=1` already removed or not). Matches network commands, including
    /// multi-word ones, and file arguments of programs that print files.
    pub fn classify_argv(&self, argv: &[&str], project_root: &Path) -> Option<TaintSource> {
        let argv = strip_wrappers(argv);
        let (&prog, args) = argv.split_first()?;
        let name = program_name(prog);
        for c in &self.commands {
            if c[0] != name {
                continue;
            }
            // Subcommand words must appear in order among the non-flag arguments.
            let words: Vec<&str> = args
                .iter()
                .copied()
                .filter(|a| !a.starts_with('-'))
                .collect();
            let sub = &c[1..];
            if sub.is_empty()
                || words
                    .windows(sub.len())
                    .any(|w| w.iter().zip(sub).all(|(a, b)| a == b))
            {
                return Some(TaintSource::NetworkCommand {
                    command: c.join(" "),
                });
            }
        }
        if self.read_programs.iter().any(|r| r == name) {
            for a in args {
                if a.starts_with('-') || a.starts_with("/dev/") || a.is_empty() {
                    continue;
                }
                if let Some(t) = self.classify_path(a, project_root) {
                    return Some(t);
                }
            }
        }
        None
    }

    /// Light classification of a shell command line: splits it into simple commands and
    /// classifies each with [`UntrustedSources::classify_argv`].
    pub fn classify_command(&self, command: &str, project_root: &Path) -> Option<TaintSource> {
        split_simple_commands(command).iter().find_map(|words| {
            let refs: Vec<&str> = words.iter().map(String::as_str).collect();
            self.classify_argv(&refs, project_root)
        })
    }

    /// The MCP globs in force (for `warden check` explanations).
    pub fn mcp_globs(&self) -> &[String] {
        &self.mcp_globs
    }
}

fn program_name(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

fn strip_wrappers<'a, 'b>(mut argv: &'b [&'a str]) -> &'b [&'a str] {
    loop {
        let Some((&first, rest)) = argv.split_first() else {
            return argv;
        };
        let name = program_name(first);
        let is_assign = first.contains('=') && !first.starts_with('=') && !first.starts_with('-');
        if is_assign {
            argv = rest;
            continue;
        }
        if WRAPPERS.contains(&name) {
            argv = rest;
            // Flags of the wrapper and a duration for `timeout`.
            while let Some((&a, r)) = argv.split_first() {
                if a.starts_with('-')
                    || (name == "timeout" && a.chars().next().is_some_and(|c| c.is_ascii_digit()))
                    || a.contains('=') && name == "env"
                {
                    argv = r;
                } else {
                    break;
                }
            }
            continue;
        }
        return argv;
    }
}

/// Splits a command line into simple commands' words. Not a shell parser: it honours
/// quotes and the usual separators, which is enough to find program names and file
/// arguments; anything odd falls back to whitespace splitting, which errs toward finding
/// more words, not fewer.
pub(crate) fn split_simple_commands(command: &str) -> Vec<Vec<String>> {
    let mut spaced = String::with_capacity(command.len() + 16);
    let mut quote: Option<char> = None;
    let mut chars = command.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                spaced.push(c);
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    spaced.push(c);
                }
                ';' | '|' | '&' | '\n' | '(' | ')' | '`' | '{' | '}' => spaced.push_str(" \u{0} "),
                '$' if chars.peek() == Some(&'(') => {
                    chars.next();
                    spaced.push_str(" \u{0} ");
                }
                _ => spaced.push(c),
            },
        }
    }
    spaced
        .split('\u{0}')
        .filter_map(|seg| {
            let words = shlex::split(seg)
                .unwrap_or_else(|| seg.split_whitespace().map(str::to_string).collect());
            (!words.is_empty()).then_some(words)
        })
        .collect()
}

/// Lexical normalization: resolves `.` and `..` without touching the file system.
pub(crate) fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}
