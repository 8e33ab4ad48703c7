//! Terminal styling: colour only when the stream is a terminal and `NO_COLOR` is unset.

use std::io::IsTerminal;

/// Whether stdout should get colour.
pub fn stdout_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

/// Whether stderr should get colour.
pub fn stderr_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

#[derive(Debug, Clone, Copy)]
pub struct Paint {
    pub on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    pub fn red(&self, t: &str) -> String {
        self.wrap("1;31", t)
    }
    pub fn yellow(&self, t: &str) -> String {
        self.wrap("1;33", t)
    }
    pub fn green(&self, t: &str) -> String {
        self.wrap("1;32", t)
    }
    pub fn dim(&self, t: &str) -> String {
        self.wrap("2", t)
    }
    pub fn bold(&self, t: &str) -> String {
        self.wrap("1", t)
    }
    /// A decision word in its colour.
    pub fn decision(&self, d: warden_policy::Decision) -> String {
        match d {
            warden_policy::Decision::Allow => self.green("allow"),
            warden_policy::Decision::Ask => self.yellow("ask"),
            warden_policy::Decision::Deny => self.red("deny"),
        }
    }
}

/// A spinner on stderr for a step that can take seconds (a project's tests), shown only on a
/// terminal; `None` elsewhere, so logs and pipes stay clean.
pub fn spinner(message: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(message.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}
