//! Claude Code rule bodies matched by meaning, not by text.

use proptest::prelude::*;
use warden_shell::{analyze, CommandPattern, PreparedCommand};

fn any_match(pattern: &str, command: &str) -> bool {
    let p = CommandPattern::parse(pattern).expect("pattern parses");
    analyze(command).commands.iter().any(|c| p.matches(c))
}

#[test]
fn rm_rf_matches_every_spelling() {
    for cmd in [
        "rm -rf /",
        "rm -fr /",
        "/bin/rm -rf /",
        "sudo rm -rf /",
        "bash -c 'rm -rf /'",
        "\\rm -r -f x",
        "rm --recursive --force x",
        "rm -R --force x",
        "'rm' -rf x",
        "r\\m -rf x",
        "command rm -rf x",
        "xargs rm -rf",
        "find . -exec rm -rf {} \\;",
        "eval \"rm -rf /\"",
        "ssh host rm -rf /",
        "env FOO=1 nice -n 5 timeout 10 rm -rf /",
        "cd /tmp && (rm -rf x)",
        "echo $(rm -rf x)",
        "rm -rfv x",
        "rm -r -f -- x",
    ] {
        assert!(any_match("rm -rf*", cmd), "rm -rf* should match {cmd:?}");
    }
}

#[test]
fn rm_rf_does_not_match_look_alikes() {
    for cmd in [
        "rm -r x",
        "rm -f x",
        "rm x",
        "echo \"never rm -rf /\"",
        "grep -rn 'rm -rf' .",
        "rm -- -rf",
        "git rm -rf x",
    ] {
        assert!(
            !any_match("rm -rf*", cmd),
            "rm -rf* should not match {cmd:?}"
        );
    }
}

#[test]
fn git_push_force_matches_every_spelling() {
    for cmd in [
        "git push --force",
        "git push -f",
        "git push origin main -f",
        "git -C repo push origin +main",
        "git push --force-with-lease",
        "git push --force-with-lease=main origin main",
        "git -c x=y push --force origin main",
        "sudo git push -f",
        "git push --mirror",
    ] {
        assert!(any_match("git push --force*", cmd), "should match {cmd:?}");
    }
    for cmd in [
        "git push origin feature",
        "git push",
        "git log --grep='force push'",
        "echo git push --force",
        "git commit -m 'push --force'",
    ] {
        assert!(
            !any_match("git push --force*", cmd),
            "should not match {cmd:?}"
        );
    }
}

#[test]
fn prefix_form_and_exact_form() {
    assert!(any_match("git push:*", "git push origin main"));
    assert!(any_match("git push:*", "git -C x push"));
    assert!(!any_match("git push:*", "git pull"));
    assert!(any_match("npm test*", "npm test"));
    assert!(any_match("npm test*", "npm test -- --watch"));
    assert!(!any_match("npm test*", "npm install"));
    // Without a star the command must be exactly that (flags as a set).
    assert!(any_match("git status", "git status"));
    assert!(!any_match("git status", "git status --short"));
    assert!(any_match("rm -rf x", "rm -fr x"));
    assert!(!any_match("rm -rf x", "rm -rf x y"));
    // A star glued to an operand is a prefix of that operand.
    assert!(any_match("git checkout feat*", "git checkout feature/x"));
    assert!(!any_match("git checkout feat*", "git checkout main"));
}

#[test]
fn branch_delete_flags_fold() {
    assert!(any_match("git branch -D*", "git branch --delete --force x"));
    assert!(any_match("git branch -D*", "git branch -d -f x"));
    assert!(!any_match("git branch -D*", "git branch -d x"));
}

#[test]
fn text_patterns_reach_strings_heredocs_and_pipes() {
    let p = CommandPattern::parse("*DROP TABLE*").unwrap();
    assert!(!p.is_semantic());
    for cmd in [
        "psql -c \"drop table x\"",
        "echo 'DROP TABLE x' | psql",
        "psql <<< 'Drop Table x'",
        "psql <<EOF\ndrop table x;\nEOF",
        "bash -c \"psql -c 'DROP TABLE x'\"",
    ] {
        assert!(
            analyze(cmd).commands.iter().any(|c| p.matches(c)),
            "should match {cmd:?}"
        );
    }
    assert!(!analyze("psql -c 'select 1'")
        .commands
        .iter()
        .any(|c| p.matches(c)));
}

#[test]
fn semantic_patterns_say_so() {
    assert!(CommandPattern::parse("rm -rf*").unwrap().is_semantic());
    assert!(CommandPattern::parse("git push:*").unwrap().is_semantic());
    assert!(!CommandPattern::parse("*migrate*").unwrap().is_semantic());
    assert!(CommandPattern::parse("").is_err());
    assert!(CommandPattern::parse("git:* push").is_err());
}

#[test]
fn wrapper_patterns_match_through_wrappers_only_when_asked() {
    let p = CommandPattern::parse("sudo:*").unwrap();
    let a = analyze("sudo rm -rf x");
    let rm = &a.commands[0];
    assert!(!p.matches(rm));
    assert!(p.matches_via_wrapper(rm));
}

fn pattern_body() -> impl Strategy<Value = String> {
    let words = prop::collection::vec(
        prop::sample::select(vec![
            "rm",
            "-rf",
            "-r",
            "-f",
            "--force",
            "git",
            "push",
            "-f",
            "--force-with-lease",
            "origin",
            "main",
            "+main",
            "reset",
            "--hard",
            "npm",
            "test",
            "run",
            "curl",
            "-o",
            "x",
            "/",
            "sudo",
            "DROP",
            "TABLE",
            "--",
            "-C",
            "sub",
            "chmod",
            "777",
            "-R",
        ]),
        1..5,
    );
    (
        words,
        prop::sample::select(vec!["", "*", ":*", " *"]),
        any::<bool>(),
    )
        .prop_map(|(w, tail, text)| format!("{}{}{tail}", if text { "*" } else { "" }, w.join(" ")))
}

fn command_line() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "rm",
            "-rf",
            "-fr",
            "-r",
            "-f",
            "--force",
            "--recursive",
            "git",
            "push",
            "-f",
            "--force",
            "origin",
            "main",
            "+main",
            ":old",
            "reset",
            "--hard",
            "npm",
            "test",
            "curl",
            "-o",
            "x",
            "/",
            "sudo",
            "DROP",
            "TABLE",
            "drop",
            "table",
            "--",
            "-C",
            "sub",
            "chmod",
            "777",
            "-R",
            "&&",
            "|",
            "psql",
            "'a b'",
            "-c",
            "bash",
        ]),
        1..8,
    )
    .prop_map(|w| w.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Matching a prepared command (canonical arguments and lower-cased texts computed once)
    /// gives the same answer as matching the command, for every pattern in any order.
    #[test]
    fn prepared_matching_is_the_same(
        bodies in prop::collection::vec(pattern_body(), 1..6),
        line in command_line(),
    ) {
        let patterns: Vec<CommandPattern> =
            bodies.iter().filter_map(|b| CommandPattern::parse(b).ok()).collect();
        for cmd in analyze(&line).commands {
            let plain: Vec<bool> = patterns.iter().map(|p| p.matches(&cmd)).collect();
            let prepared = PreparedCommand::new(cmd);
            for _ in 0..2 {
                let got: Vec<bool> = patterns.iter().map(|p| p.matches_prepared(&prepared)).collect();
                prop_assert_eq!(&got, &plain, "{:?} on {:?}", bodies, line);
            }
        }
    }
}
