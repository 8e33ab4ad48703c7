//! Properties: the analyser never panics, stays bounded, and normalisation is idempotent.

use proptest::prelude::*;
use warden_shell::{analyze, CommandPattern};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn analyze_never_panics_on_arbitrary_strings(s in any::<String>()) {
        let _ = analyze(&s);
    }

    #[test]
    fn analyze_never_panics_on_shell_like_text(
        s in proptest::string::string_regex(r#"[a-z \-|&;<>()${}`'"\\\n=*/.~!#0-9]{0,120}"#).unwrap()
    ) {
        let _ = analyze(&s);
    }

    #[test]
    fn pattern_parse_never_panics(s in proptest::string::string_regex(r#"[a-z \-:*'"|/]{0,40}"#).unwrap()) {
        if let Ok(p) = CommandPattern::parse(&s) {
            for c in analyze("rm -rf x; git push -f").commands {
                let _ = p.matches(&c);
            }
        }
    }

    /// Re-analysing a command's normalised text gives the same command.
    #[test]
    fn normalisation_is_idempotent(
        program in prop::sample::select(vec!["rm", "/bin/rm", "\\rm", "'git'", "ls", "psql", "curl", "find"]),
        args in prop::collection::vec(
            proptest::string::string_regex(r#"[a-zA-Z0-9 ./\-_'"=:+]{1,12}"#).unwrap(), 0..6)
    ) {
        let line = std::iter::once(program.to_owned())
            .chain(args.iter().map(|a| format!("'{}'", a.replace('\'', ""))))
            .collect::<Vec<_>>()
            .join(" ");
        let first = analyze(&line);
        prop_assume!(first.unresolved.is_empty() && first.commands.len() == 1);
        let cmd = &first.commands[0];
        let second = analyze(&cmd.text);
        prop_assert_eq!(second.commands.len(), 1, "{:?} -> {:?}", line, cmd.text);
        prop_assert_eq!(&second.commands[0].program, &cmd.program);
        prop_assert_eq!(&second.commands[0].args, &cmd.args);
        prop_assert_eq!(&second.commands[0].text, &cmd.text);
    }

    /// Clustered short flags, separate flags and long forms are the same to a pattern.
    #[test]
    fn rm_flag_spellings_are_equivalent(
        order in prop::sample::select(vec!["-rf", "-fr", "-r -f", "-f -r", "-R -f", "--recursive --force", "--force -R", "-Rf"]),
        target in "[a-z]{1,8}"
    ) {
        let p = CommandPattern::parse("rm -rf*").unwrap();
        let a = analyze(&format!("rm {order} {target}"));
        prop_assert!(a.commands.iter().any(|c| p.matches(c)));
    }
}

#[test]
fn deep_nesting_is_unresolved_not_a_crash() {
    let deep = format!("{}{}", "(".repeat(5_000), ")".repeat(5_000));
    let a = analyze(&deep);
    assert!(!a.unresolved.is_empty());
    let subst = format!("{}x{}", "$(".repeat(200), ")".repeat(200));
    let a = analyze(&format!("echo {subst}"));
    assert!(!a.unresolved.is_empty());
    // Each `eval` re-parses the rest: 40 levels exceed the re-parse depth limit.
    let nested = format!("{}rm -rf /", "eval ".repeat(40));
    let a = analyze(&nested);
    assert!(a.unresolved.iter().any(|u| u.reason.contains("nesting")));
    // Quoting that doubles at each level stays small enough to build up to the limit.
    let mut quoted = String::from("rm -rf /");
    for _ in 0..8 {
        quoted = format!("bash -c {}", shell_quote(&quoted));
    }
    let a = analyze(&quoted);
    assert!(
        a.commands.iter().any(|c| c.program == "rm"),
        "{}",
        a.render()
    );
}

#[test]
fn huge_input_is_unresolved() {
    let big = "echo a; ".repeat(20_000);
    let a = analyze(&big);
    assert!(!a.unresolved.is_empty());
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}
