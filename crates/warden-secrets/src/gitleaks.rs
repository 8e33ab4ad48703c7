//! Loading an existing gitleaks configuration (v8 TOML) as it is.
//!
//! Read: `[[rules]]` with `id`, `description`, `regex`, `secretGroup`, `entropy`,
//! `keywords`, `path`; per-rule allowlists in both spellings (`[rules.allowlist]` and
//! `[[rules.allowlists]]`) with `regexes`, `regexTarget`, `paths`, `stopwords`, `condition`;
//! global allowlists (`[allowlist]`, `[[allowlists]]` with `targetRules`); and
//! `[extend] useDefault = true / disabledRules`, where warden's built-in pack stands in for
//! gitleaks' default one.
//!
//! Not applied: `commits` in allowlists (warden scans texts and diffs, not history: the list
//! is accepted and ignored), `tags`, `skipReport`, and `[[rules.required]]` composite rules
//! (their primary rule reports on its own: more findings, never fewer). `[extend] path` is
//! refused, since the extended file's rules would silently be missing.

use serde::Deserialize;

use crate::rule::{AllowlistSpec, Condition, RegexTarget, RuleSpec};
use crate::scanner::ScanConfig;
use crate::SecretsError;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Config {
    #[serde(default)]
    extend: Option<Extend>,
    #[serde(default)]
    rules: Vec<GlRule>,
    #[serde(default)]
    allowlist: Option<GlAllowlist>,
    #[serde(default)]
    allowlists: Vec<GlAllowlist>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Extend {
    #[serde(default)]
    use_default: bool,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    disabled_rules: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GlRule {
    id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    secret_group: Option<usize>,
    #[serde(default)]
    entropy: Option<f64>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    allowlist: Option<GlAllowlist>,
    #[serde(default)]
    allowlists: Vec<GlAllowlist>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GlAllowlist {
    #[serde(default)]
    description: String,
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    regex_target: Option<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    target_rules: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    commits: Vec<String>,
}

fn allowlist(a: GlAllowlist, owner: &str) -> Result<AllowlistSpec, SecretsError> {
    let condition = match a
        .condition
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None | Some("") | Some("OR") => Condition::Or,
        Some("AND") => Condition::And,
        Some(other) => {
            return Err(SecretsError::InvalidRule {
                rule: owner.to_string(),
                reason: format!("allowlist condition `{other}` (expected OR or AND)"),
            })
        }
    };
    let regex_target = match a
        .regex_target
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("") | Some("secret") => RegexTarget::Secret,
        Some("match") => RegexTarget::Match,
        Some("line") => RegexTarget::Line,
        Some(other) => {
            return Err(SecretsError::InvalidRule {
                rule: owner.to_string(),
                reason: format!("allowlist regexTarget `{other}` (expected secret, match or line)"),
            })
        }
    };
    Ok(AllowlistSpec {
        description: a.description,
        condition,
        regexes: a.regexes,
        regex_target,
        paths: a.paths,
        stopwords: a.stopwords,
        target_rules: a.target_rules,
    })
}

/// Parses a gitleaks TOML config into a [`ScanConfig`] (pass it to
/// [`crate::Scanner::from_config`]).
pub fn parse(text: &str) -> Result<ScanConfig, SecretsError> {
    let cfg: Config = toml::from_str(text).map_err(|e| SecretsError::Toml {
        what: "gitleaks config".into(),
        source: Box::new(e),
    })?;
    let (use_builtin, disabled) = match cfg.extend {
        Some(ext) => {
            if let Some(p) = ext.path.or(ext.url) {
                return Err(SecretsError::InvalidRule {
                    rule: "extend".into(),
                    reason: format!("`[extend] path/url = {p:?}` is not supported: merge that file into this one"),
                });
            }
            (ext.use_default, ext.disabled_rules)
        }
        None => (false, Vec::new()),
    };
    let mut rules = Vec::with_capacity(cfg.rules.len());
    for r in cfg.rules {
        let mut allowlists = Vec::new();
        for a in r.allowlist.into_iter().chain(r.allowlists) {
            allowlists.push(allowlist(a, &r.id)?);
        }
        rules.push(RuleSpec {
            description: r.description,
            regex: r.regex,
            secret_group: r.secret_group,
            entropy: r.entropy.map(|e| e as f32),
            keywords: r.keywords.iter().map(|k| k.to_ascii_lowercase()).collect(),
            path: r.path,
            generic: r.id.starts_with("generic"),
            line_local: false,
            confidence: None,
            allowlists,
            id: r.id,
        });
    }
    let mut allowlists = Vec::new();
    for a in cfg.allowlist.into_iter().chain(cfg.allowlists) {
        allowlists.push(allowlist(a, "global allowlist")?);
    }
    Ok(ScanConfig {
        use_builtin,
        rules,
        allowlists,
        disabled,
    })
}
