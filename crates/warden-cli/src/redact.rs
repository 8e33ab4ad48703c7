//! The secret scanner for a policy, and the redactor every audit event passes through.

use std::borrow::Cow;
use std::sync::Arc;
use warden_audit::Redactor;
use warden_policy::Policy;
use warden_secrets::Scanner;

/// The scanner a policy asks for: the built-in pack, minus disabled rules, plus a gitleaks
/// config. A config that cannot be read falls back to the built-in pack and says so on stderr:
/// fewer rules is safer than none.
pub fn scanner(policy: &Policy) -> Scanner {
    let settings = &policy.settings().secrets;
    let mut config = warden_secrets::ScanConfig {
        use_builtin: true,
        disabled: settings.disable.clone(),
        ..Default::default()
    };
    if let Some(path) = &settings.gitleaks_config {
        let path = policy.root().join(path);
        match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| Scanner::from_gitleaks_toml(&t).map_err(|e| e.to_string()))
        {
            Ok(extra) => {
                config.rules = extra.rules;
                config.allowlists = extra.allowlists;
            }
            Err(e) => eprintln!("warden: ignoring gitleaks config {}: {e}", path.display()),
        }
    }
    if config.rules.is_empty() && config.disabled.is_empty() && config.allowlists.is_empty() {
        return Scanner::builtin();
    }
    Scanner::from_config(config).unwrap_or_else(|_| Scanner::builtin())
}

struct SecretRedactor(Scanner);

impl Redactor for SecretRedactor {
    fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self.0.redact(text).0
    }
}

/// The redactor for a policy: secrets never reach the audit store.
pub fn redactor(policy: &Policy) -> Arc<dyn Redactor> {
    Arc::new(SecretRedactor(scanner(policy)))
}
