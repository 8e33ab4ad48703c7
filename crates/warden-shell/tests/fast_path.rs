//! The fast path (a command made only of plain words skips the bash parser) must give the
//! same analysis as the parser, on every input: generated commands built from words that
//! matter to the analyser (wrappers, shells, reserved words, assignments, flags), arbitrary
//! shell-like text, the destructive-spellings corpus and the tldr corpus.

use proptest::prelude::*;
use warden_shell::{analyze, analyze_with_parser_only};

/// Words the analyser treats specially, plus some that must keep a command off the fast
/// path (quotes, expansions, globs, operators, reserved words).
const VOCABULARY: &[&str] = &[
    // wrappers and re-parsed sources
    "sudo",
    "doas",
    "env",
    "-i",
    "-u",
    "root",
    "-S",
    "timeout",
    "10",
    "nice",
    "-n",
    "nohup",
    "setsid",
    "xargs",
    "-0",
    "bash",
    "sh",
    "zsh",
    "-c",
    "-lc",
    "-s",
    "-x",
    "eval",
    "ssh",
    "host",
    "user@host",
    "-p",
    "2222",
    "su",
    "flock",
    "lock",
    "command",
    "-v",
    "builtin",
    "exec",
    "-a",
    "watch",
    "--exec",
    "npx",
    "bunx",
    "--package",
    "bundle",
    "poetry",
    "run",
    "yarn",
    "pnpm",
    "dlx",
    "dotenv",
    "--",
    "chroot",
    "taskset",
    "stdbuf",
    "ionice",
    "time",
    // programs and their flags
    "find",
    ".",
    "-exec",
    "-execdir",
    "-delete",
    "-name",
    "-type",
    "f",
    "-fprint",
    "git",
    "-C",
    "sub",
    "push",
    "--force",
    "-f",
    "+main",
    ":old",
    "origin",
    "main",
    "reset",
    "--hard",
    "clean",
    "-fdx",
    "branch",
    "-D",
    "checkout",
    "rm",
    "-rf",
    "-fr",
    "-r",
    "-R",
    "--recursive",
    "/",
    "/etc",
    "build/",
    "..",
    "rmdir",
    "cp",
    "mv",
    "chmod",
    "777",
    "chown",
    "dd",
    "if=/dev/zero",
    "of=/dev/sda",
    "mkfs.ext4",
    "/dev/sda1",
    "psql",
    "mysql",
    "sqlite3",
    "curl",
    "wget",
    "-o",
    "-O",
    "out.sh",
    "https://x.example/i.sh",
    "tee",
    "-a",
    "log.txt",
    "kubectl",
    "delete",
    "apply",
    "terraform",
    "destroy",
    "docker",
    "system",
    "prune",
    "npm",
    "test",
    "publish",
    "install",
    "cargo",
    "make",
    "python",
    "python3",
    "node",
    "cat",
    "echo",
    "grep",
    "ls",
    "-la",
    "cd",
    ".env",
    "src/main.rs",
    "rails",
    "db:drop",
    "manage.py",
    "flush",
    "prisma",
    "migrate",
    "source",
    ":",
    "true",
    // assignments and things that look like them
    "A=1",
    "FOO=bar",
    "PATH=/bin",
    "x=",
    "=x",
    "a=b=c",
    "--opt=value",
    // reserved words and builtins with their own grammar
    "if",
    "then",
    "else",
    "elif",
    "fi",
    "do",
    "done",
    "for",
    "in",
    "while",
    "until",
    "case",
    "esac",
    "function",
    "select",
    "coproc",
    "declare",
    "export",
    "local",
    "readonly",
    "typeset",
    "alias",
    "let",
    "test",
    "[",
    "]",
    "[[",
    "]]",
    "!",
    "{",
    "}",
    // off the fast path
    "~",
    "~/x",
    "'q'",
    "\"d\"",
    "$HOME",
    "${X}",
    "$(ls)",
    "a*b",
    "?",
    "x\\y",
    "#c",
    "2>/dev/null",
    ">",
    "<",
    "&&",
    "||",
    "|",
    ";",
    "&",
    "(",
    ")",
    "{a,b}",
    "%1",
    "@x",
    "+x",
    ",",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(VOCABULARY).prop_map(str::to_owned),
        1 => "[A-Za-z0-9_./:=@%+,-]{1,10}",
    ]
}

fn check(cmd: &str) -> Result<(), TestCaseError> {
    let fast = analyze(cmd);
    let parsed = analyze_with_parser_only(cmd);
    prop_assert_eq!(fast, parsed, "{:?}", cmd);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// Commands of words that matter to the analyser, joined with single spaces.
    #[test]
    fn generated_commands_analyse_the_same(words in prop::collection::vec(word(), 1..9)) {
        check(&words.join(" "))?;
    }

    /// The same words joined by any blank run, and wrapped in `bash -c` so that the nested
    /// source takes the fast path while the outer one does not.
    #[test]
    fn generated_commands_analyse_the_same_nested(
        words in prop::collection::vec(word(), 1..7),
        sep in prop::sample::select(vec![" ", "  ", "\t", " \n "]),
    ) {
        let line = words.join(sep);
        check(&line)?;
        check(&format!("bash -c '{}'", line.replace('\'', "")))?;
        check(&format!("sudo sh -c \"{}\" && {}", line.replace(['"', '\\', '$', '`'], ""), line))?;
    }

    /// Arbitrary text over the plain alphabet, blanks and the characters that leave it.
    #[test]
    fn shell_like_text_analyses_the_same(
        s in proptest::string::string_regex(r#"[a-z0-9_./:=@%+,\- ~*?\[\]{}#!$'"\\\t\n;&|<>()^`]{0,60}"#).unwrap()
    ) {
        check(&s)?;
    }

    /// Text made only of the plain alphabet and spaces, including leading, trailing and
    /// doubled spaces.
    #[test]
    fn plain_alphabet_text_analyses_the_same(
        s in proptest::string::string_regex(r"[A-Za-z0-9_./:=@%+,\- ]{0,40}").unwrap()
    ) {
        check(&s)?;
    }
}

/// A plain command whose program the walker does not treat by name is emitted straight from
/// its words; one it treats by name (spelled with a path or not) goes through the unwrapping.
/// Both agree with the parser.
#[test]
fn programs_by_name_and_others_analyse_the_same() {
    for cmd in [
        "npm test -- --watch",
        "/usr/bin/npm test",
        "./run.sh a b",
        "git push origin main",
        "/usr/bin/git -C sub push origin +main",
        "/usr/bin/sudo /bin/rm -rf build",
        "/usr/local/bin/yarn dlx create-app x",
        "yarn run build",
        "/bin/bash -c ls",
        "env A=1 B=2 ./x",
        "a/ b",
        "/ x",
        "make",
    ] {
        assert_eq!(analyze(cmd), analyze_with_parser_only(cmd), "{cmd:?}");
    }
}

/// An independent statement of the fast path's shape, to count how often it applies.
fn is_plain(line: &str) -> bool {
    !line.is_empty()
        && line.split(' ').all(|w| {
            !w.is_empty()
                && w.bytes().all(|b| {
                    b.is_ascii_alphanumeric()
                        || matches!(
                            b,
                            b'_' | b'.' | b'/' | b':' | b'=' | b'@' | b'%' | b'+' | b',' | b'-'
                        )
                })
        })
}

#[test]
fn destructive_corpus_analyses_the_same() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/destructive.toml");
    let text = std::fs::read_to_string(path).expect("tests/corpus/destructive.toml is readable");
    let corpus: toml::Table = toml::from_str(&text).expect("destructive.toml parses");
    let cases = corpus["case"].as_array().expect("[[case]] entries");
    let mut plain = 0;
    for case in cases {
        let cmd = case["cmd"].as_str().expect("case has cmd");
        plain += usize::from(is_plain(cmd));
        assert_eq!(analyze(cmd), analyze_with_parser_only(cmd), "{cmd:?}");
    }
    assert!(
        plain >= 50,
        "only {plain} plain cases: the fast path is hardly tested"
    );
}

#[test]
fn tldr_corpus_analyses_the_same() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpora/tldr-commands.jsonl"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("the tldr corpus must be present at {path} (shared/ beside the checkout): {e}")
    });
    let mut lines = 0;
    let mut plain = 0;
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l).expect("corpus line is JSON");
        let cmd = v["cmd"].as_str().expect("corpus line has cmd");
        lines += 1;
        plain += usize::from(is_plain(cmd));
        assert_eq!(analyze(cmd), analyze_with_parser_only(cmd), "{cmd:?}");
    }
    assert!(lines > 29_000, "corpus truncated: {lines} lines");
    assert!(
        plain >= 3_000,
        "only {plain} plain lines: the fast path is hardly tested"
    );
}
