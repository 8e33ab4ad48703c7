//! Environment scrubbing: credential-looking variables never reach the sandbox
//! unless the policy passes them by name.

use crate::EnvPolicy;

/// A variable that was dropped, and why (the value is never kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrubbedVar {
    /// The variable's name.
    pub name: String,
    /// Why it was dropped.
    pub why: String,
}

/// Exact names that carry credentials or point at them.
const EXACT: &[&str] = &[
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "GITLAB_TOKEN",
    "DATABASE_URL",
    "REDIS_URL",
    "MONGODB_URI",
    "MONGO_URL",
    "AMQP_URL",
    "SENTRY_DSN",
    "NPM_TOKEN",
    "NETRC",
    "KUBECONFIG",
    "DOCKER_AUTH_CONFIG",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "SSH_AUTH_SOCK",
    "GPG_AGENT_INFO",
    "VAULT_TOKEN",
    "PGPASSWORD",
    "MYSQL_PWD",
    "HEROKU_API_KEY",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
];

/// Prefixes of cloud-provider variables (every one of them is dropped).
const PREFIXES: &[&str] = &[
    "AWS_",
    "AZURE_",
    "ARM_CLIENT",
    "GCP_",
    "GOOGLE_CLOUD_",
    "DIGITALOCEAN_",
];

/// Suffixes of credential names.
const SUFFIXES: &[&str] = &[
    "_TOKEN",
    "_KEY",
    "_PASSWORD",
    "_PASSWD",
    "_PASS",
    "_PWD",
    "_CREDENTIALS",
    "_CREDENTIAL",
    "_DSN",
    "_CONNECTION_STRING",
    "_AUTH",
    "_COOKIE",
];

/// Substrings of credential names.
const INFIXES: &[&str] = &[
    "SECRET",
    "PRIVATE_KEY",
    "API_KEY",
    "ACCESS_KEY",
    "AUTH_TOKEN",
];

/// Value prefixes of well-known credential formats (checked whatever the name).
const VALUE_PREFIXES: &[(&str, &str)] = &[
    ("ghp_", "GitHub personal access token"),
    ("gho_", "GitHub OAuth token"),
    ("ghs_", "GitHub app token"),
    ("github_pat_", "GitHub fine-grained token"),
    ("glpat-", "GitLab token"),
    ("sk-ant-", "Anthropic API key"),
    ("sk_live_", "Stripe live key"),
    ("rk_live_", "Stripe restricted live key"),
    ("xoxb-", "Slack bot token"),
    ("xoxp-", "Slack user token"),
    ("AKIA", "AWS access key id"),
    ("ASIA", "AWS temporary access key id"),
    ("npm_", "npm token"),
    ("-----BEGIN", "PEM key material"),
];

/// Why `name=value` looks like a credential, or `None`.
fn credential_reason(name: &str, value: &str) -> Option<String> {
    let upper = name.to_ascii_uppercase();
    if EXACT.contains(&upper.as_str()) {
        return Some(format!("{name} is a known credential variable"));
    }
    if let Some(p) = PREFIXES.iter().find(|p| upper.starts_with(**p)) {
        return Some(format!("name starts with {p}"));
    }
    if let Some(s) = SUFFIXES.iter().find(|s| upper.ends_with(**s)) {
        return Some(format!("name ends with {s}"));
    }
    if let Some(s) = INFIXES.iter().find(|s| upper.contains(**s)) {
        return Some(format!("name contains {s}"));
    }
    if let Some((_, what)) = VALUE_PREFIXES
        .iter()
        .find(|(p, _)| value.starts_with(p) && value.len() >= p.len() + 8)
    {
        return Some(format!("value looks like a {what}"));
    }
    if url_has_password(value) {
        return Some("value is a URL with a password".into());
    }
    None
}

/// `scheme://user:password@host...`
fn url_has_password(value: &str) -> bool {
    let Some((_, rest)) = value.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    match authority.rsplit_once('@') {
        Some((userinfo, _)) => userinfo.split_once(':').is_some_and(|(_, p)| !p.is_empty()),
        None => false,
    }
}

/// Scrub an environment: drop credential-looking variables unless `policy.pass`
/// names them, then apply `policy.set`. Returns the variables to pass and the
/// dropped ones with the reason (names only, never values).
///
/// Also dropped: proxy variables (the sandbox sets its own), `LD_PRELOAD`-style
/// loader variables, and variables with an empty or `=`-containing name.
pub fn scrub_env(
    vars: impl Iterator<Item = (String, String)>,
    policy: &EnvPolicy,
) -> (Vec<(String, String)>, Vec<ScrubbedVar>) {
    let mut kept: Vec<(String, String)> = Vec::new();
    let mut dropped = Vec::new();
    for (name, value) in vars {
        if name.is_empty() || name.contains('=') || name.contains('\0') || value.contains('\0') {
            dropped.push(ScrubbedVar {
                name,
                why: "malformed name or value".into(),
            });
            continue;
        }
        if policy.pass.contains(&name) {
            kept.push((name, value));
            continue;
        }
        let upper = name.to_ascii_uppercase();
        if matches!(
            upper.as_str(),
            "HTTP_PROXY" | "HTTPS_PROXY" | "ALL_PROXY" | "NO_PROXY" | "FTP_PROXY"
        ) {
            dropped.push(ScrubbedVar {
                name,
                why: "proxy settings come from the sandbox's network policy".into(),
            });
            continue;
        }
        if upper.starts_with("LD_") {
            dropped.push(ScrubbedVar {
                name,
                why: "dynamic loader variable".into(),
            });
            continue;
        }
        match credential_reason(&name, &value) {
            Some(why) => dropped.push(ScrubbedVar { name, why }),
            None => kept.push((name, value)),
        }
    }
    for (name, value) in &policy.set {
        kept.retain(|(n, _)| n != name);
        kept.push((name.clone(), value.clone()));
    }
    (kept, dropped)
}

/// Words in a name or value that mark a production environment.
const PROD_MARKERS: &[&str] = &["PROD", "PRODUCTION", "LIVE"];

/// Warnings about production-looking credentials in warden's own environment
/// (never the values). A person should not run an agent with these loaded.
pub fn production_credential_warnings(vars: impl Iterator<Item = (String, String)>) -> Vec<String> {
    let mut out = Vec::new();
    for (name, value) in vars {
        let Some(reason) = credential_reason(&name, &value) else {
            continue;
        };
        let upper = name.to_ascii_uppercase();
        let name_words: Vec<&str> = upper.split(|c: char| !c.is_ascii_alphanumeric()).collect();
        let prod_name = PROD_MARKERS.iter().any(|m| name_words.contains(m));
        let live_value = value.starts_with("sk_live_") || value.starts_with("rk_live_");
        let long_term_aws = upper == "AWS_ACCESS_KEY_ID" && value.starts_with("AKIA");
        let remote_db = matches!(upper.as_str(), "DATABASE_URL" | "REDIS_URL" | "MONGODB_URI")
            && !is_local_url(&value);
        let prod_value = value
            .to_ascii_lowercase()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| w == "prod" || w == "production");
        if prod_name || live_value || long_term_aws || remote_db || prod_value {
            let what = if live_value {
                "a live payment key".to_string()
            } else if long_term_aws {
                "a long-term AWS access key".to_string()
            } else if remote_db {
                "a connection string to a non-local database".to_string()
            } else {
                "a production-looking credential".to_string()
            };
            out.push(format!(
                "{name} holds {what} ({reason}); it is scrubbed from the sandbox, but consider not exporting it where agents run"
            ));
        }
    }
    out
}

fn is_local_url(value: &str) -> bool {
    let Some((_, rest)) = value.split_once("://") else {
        return true; // not a URL: a socket path or a DSN without host
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(stripped) = host_port.strip_prefix('[') {
        stripped.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    matches!(host, "" | "localhost" | "127.0.0.1" | "::1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn drops_credentials_keeps_the_rest() {
        let (kept, dropped) = scrub_env(
            v(&[
                ("PATH", "/usr/bin"),
                ("HOME", "/home/me"),
                ("GITHUB_TOKEN", "x"),
                ("AWS_REGION", "eu-west-1"),
                ("MY_SERVICE_SECRET_VALUE", "x"),
                ("STRIPE_KEY", "x"),
                ("DATABASE_URL", "postgres://localhost/db"),
                ("FOO", "ghp_0123456789abcdef0123"),
                ("BAR", "https://user:hunter2@example.com/"),
                ("LANG", "C.UTF-8"),
            ])
            .into_iter(),
            &EnvPolicy::default(),
        );
        let names: Vec<&str> = kept.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["PATH", "HOME", "LANG"]);
        assert_eq!(dropped.len(), 7);
        assert!(dropped.iter().all(|d| !d.why.contains("hunter2")));
    }

    #[test]
    fn pass_by_name_and_set_win() {
        let policy = EnvPolicy {
            pass: vec!["ANTHROPIC_API_KEY".into()],
            set: vec![("PATH".into(), "/bin".into()), ("NEW".into(), "1".into())],
        };
        let (kept, dropped) = scrub_env(
            v(&[
                ("ANTHROPIC_API_KEY", "sk-ant-xxxxxxxxxxxx"),
                ("PATH", "/usr/bin"),
            ])
            .into_iter(),
            &policy,
        );
        assert!(dropped.is_empty());
        assert_eq!(
            kept,
            v(&[
                ("ANTHROPIC_API_KEY", "sk-ant-xxxxxxxxxxxx"),
                ("PATH", "/bin"),
                ("NEW", "1")
            ])
        );
    }

    #[test]
    fn proxy_and_loader_vars_are_dropped() {
        let (kept, dropped) = scrub_env(
            v(&[("https_proxy", "http://evil"), ("LD_PRELOAD", "/x.so")]).into_iter(),
            &EnvPolicy::default(),
        );
        assert!(kept.is_empty());
        assert_eq!(dropped.len(), 2);
    }

    #[test]
    fn production_warnings() {
        let w = production_credential_warnings(
            v(&[
                ("PROD_DB_PASSWORD", "x"),
                ("STRIPE_API_KEY", "sk_live_abcdefghijklmnop"),
                ("AWS_ACCESS_KEY_ID", "AKIAABCDEFGHIJKLMNOP"),
                ("DATABASE_URL", "postgres://u:p@db.internal:5432/app"),
                ("DEV_TOKEN", "x"),
                ("PATH", "/usr/bin"),
                ("REDIS_URL", "redis://localhost:6379"),
            ])
            .into_iter(),
        );
        assert_eq!(w.len(), 4, "{w:?}");
        assert!(w.iter().all(|l| !l.contains("sk_live_abc")));
    }

    proptest! {
        // Whatever the input, no dropped variable is also kept, and the kept list
        // never holds a name that looks like a credential unless passed by name.
        #[test]
        fn scrub_is_a_partition(vars in proptest::collection::vec(("[A-Za-z_]{1,12}", "[ -~]{0,20}"), 0..20)) {
            let (kept, dropped) = scrub_env(vars.clone().into_iter(), &EnvPolicy::default());
            prop_assert_eq!(kept.len() + dropped.len(), vars.len());
            for (n, val) in &kept {
                prop_assert!(credential_reason(n, val).is_none());
            }
        }
    }
}
