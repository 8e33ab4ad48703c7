//! Whether a place in a program's source is a comment or a documentation block, and which
//! files are programs of which language (by suffix, or by the `#!` line of a script).
//!
//! A value a by-value rule finds there (`uri.password = "V3ry_S3nsit1ve"` in a Ruby doc
//! comment, a password in a Perl SYNOPSIS, sample output in a Python docstring) is written
//! to show how something is used: the confidence rules rate it low, as they rate a value in
//! a documentation file. Only programming languages are read this way, known by the file's
//! suffix or, for a script installed without one, by the interpreter on its `#!` line: in a
//! configuration file (`.env`, `.ini`, YAML) or a shell script a commented-out line is often
//! a real value set aside, so it keeps its rating.
//!
//! Not a parser: a comment is a line that starts with the language's comment mark, or a
//! mark outside quotes before the value on its line; documentation blocks are Perl's POD and
//! Python's triple-quoted strings, walked once per text. A misreading costs one confidence
//! level, never a finding: the hook acts on findings of every confidence.

use crate::confidence::{file_suffix, has_suffix, inside_quotes, C_FAMILY_SUFFIXES};

/// How one programming language writes comments and documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocSyntax {
    /// What a comment starts with: the first thing on a comment line, or a mark outside
    /// quotes later on a line.
    comment_marks: &'static [&'static str],
    /// A comment line may also start with `* ` (the inside of a `/** ... */` block).
    star_lines: bool,
    /// Perl's POD blocks (`=head1` ... `=cut`).
    pod: bool,
    /// Python's triple-quoted strings: docstrings, and the YAML documentation and sample
    /// output Ansible modules keep in them.
    triple_quoted: bool,
}

const C_LIKE: DocSyntax = DocSyntax {
    comment_marks: &["//", "/*"],
    star_lines: true,
    pod: false,
    triple_quoted: false,
};

const fn marks(comment_marks: &'static [&'static str]) -> DocSyntax {
    DocSyntax {
        comment_marks,
        star_lines: false,
        pod: false,
        triple_quoted: false,
    }
}

/// The languages read by their comments, by file suffix (matched without case). Shell
/// scripts are left out: they are as often configuration (`export TOKEN=...`) as code.
const LANGUAGES: &[(&[&str], DocSyntax)] = &[
    (C_FAMILY_SUFFIXES, C_LIKE),
    (
        &["php", "inc"],
        DocSyntax {
            comment_marks: &["//", "/*", "#"],
            ..C_LIKE
        },
    ),
    (
        &["py", "pyi"],
        DocSyntax {
            triple_quoted: true,
            ..marks(&["#"])
        },
    ),
    (
        &["pl", "pm"],
        DocSyntax {
            pod: true,
            ..marks(&["#"])
        },
    ),
    (
        &[
            "rb", "rake", "gemspec", "r", "jl", "nim", "tcl", "ex", "exs",
        ],
        marks(&["#"]),
    ),
    (&["lua", "sql", "hs"], marks(&["--"])),
    (
        &[
            "lisp", "lsp", "cl", "asd", "el", "clj", "cljs", "scm", "ss", "rkt",
        ],
        marks(&[";"]),
    ),
    (&["erl", "hrl"], marks(&["%"])),
];

/// The comment syntax of the programming language `path` is written in, if it is one: by
/// the file's suffix, else, for a script installed without one (`/usr/bin/tool`,
/// `index.cgi`), by the interpreter its `#!` line names in `text`.
pub fn doc_syntax(path: &str, text: &[u8]) -> Option<DocSyntax> {
    file_suffix(path).and_then(syntax_by_suffix).or_else(|| {
        interpreter(text)
            .and_then(suffix_of_interpreter)
            .and_then(syntax_by_suffix)
    })
}

/// Suffixes of shell scripts, and the shells a `#!` line may name.
const SHELLS: &[&str] = &["sh", "bash", "dash", "ksh", "mksh", "zsh", "ash", "busybox"];

/// True when `path` is a shell script: by its suffix, else, when the suffix names no other
/// language, by the shell its `#!` line names in `text`.
pub fn is_shell_script(path: &str, text: &[u8]) -> bool {
    match file_suffix(path) {
        Some(suffix) if has_suffix(SHELLS, suffix) => true,
        Some(suffix) if syntax_by_suffix(suffix).is_some() => false,
        _ => interpreter(text).is_some_and(|program| SHELLS.contains(&program)),
    }
}

fn syntax_by_suffix(suffix: &str) -> Option<DocSyntax> {
    LANGUAGES
        .iter()
        .find(|(suffixes, _)| has_suffix(suffixes, suffix))
        .map(|&(_, syntax)| syntax)
}

/// The program a `#!` line runs, without its directory or version (`perl` of
/// `#!/usr/bin/perl -w`, `python` of `#!/usr/bin/env python3.11`).
fn interpreter(text: &[u8]) -> Option<&str> {
    let rest = text.strip_prefix(b"#!")?;
    // A `#!` line longer than this is not one a kernel would run.
    let line = &rest[..rest.len().min(256)];
    let line = &line[..memchr::memchr(b'\n', line).unwrap_or(line.len())];
    let mut words = std::str::from_utf8(line).ok()?.split_ascii_whitespace();
    let mut program = words.next()?.rsplit('/').next()?;
    if program == "env" {
        // `env -S perl -w`, `env LC_ALL=C python3`: the first word that is neither.
        program = words.find(|w| !w.starts_with('-') && !w.contains('='))?;
    }
    Some(program.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.'))
}

/// The suffix of the language an interpreter runs. Shells are left out, as `.sh` is.
fn suffix_of_interpreter(program: &str) -> Option<&'static str> {
    Some(match program {
        "perl" => "pl",
        "python" | "pypy" => "py",
        "ruby" => "rb",
        "php" | "php-cgi" => "php",
        "tclsh" | "wish" | "expect" => "tcl",
        "lua" | "luajit" => "lua",
        "Rscript" => "r",
        "julia" => "jl",
        "node" | "nodejs" | "gjs" | "deno" => "js",
        "escript" => "erl",
        "guile" | "racket" | "csi" => "scm",
        "sbcl" | "clisp" | "ecl" => "lisp",
        "runghc" | "runhaskell" => "hs",
        _ => return None,
    })
}

/// Answers, for places met in increasing order in one text, whether each is in a comment
/// or a documentation block. Walks the text once however many places are asked about.
pub struct DocContext<'a> {
    syntax: DocSyntax,
    text: &'a [u8],
    /// How far the block walkers have read.
    walked: usize,
    /// The quote byte of the triple-quoted string open at `walked`, if one is.
    open_triple: Option<u8>,
    /// A POD block is open at `walked`.
    in_pod: bool,
}

impl<'a> DocContext<'a> {
    pub fn new(syntax: DocSyntax, text: &'a [u8]) -> Self {
        DocContext {
            syntax,
            text,
            walked: 0,
            open_triple: None,
            in_pod: false,
        }
    }

    /// True when the value at `start`, on the line that begins at `line_start`, is in a
    /// comment or a documentation block. `start` must not go back between calls.
    pub fn is_documentation(&mut self, line_start: usize, start: usize) -> bool {
        let line_before = &self.text[line_start..start];
        let inside_block = self.walk_to(line_start, start);
        inside_block || self.in_comment(line_before)
    }

    fn in_comment(&self, line_before: &[u8]) -> bool {
        let indent = line_before
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
        let rest = &line_before[indent..];
        if self.syntax.star_lines && (rest == b"*" || rest.starts_with(b"* ")) {
            return true;
        }
        self.syntax.comment_marks.iter().any(|mark| {
            memchr::memmem::find_iter(rest, mark.as_bytes()).any(|at| !inside_quotes(&rest[..at]))
        })
    }

    /// Advances the block walkers: POD to `line_start` (a directive opens or closes a block
    /// for the lines after it), triple quotes to `start`. True when `start` is in a block.
    fn walk_to(&mut self, line_start: usize, start: usize) -> bool {
        let from = self.walked.min(start);
        if self.syntax.pod {
            self.walk_pod(from, line_start);
        }
        if self.syntax.triple_quoted {
            self.walk_triple_quotes(from, start);
        }
        self.walked = self.walked.max(start);
        self.in_pod || self.open_triple.is_some()
    }

    fn walk_pod(&mut self, from: usize, to: usize) {
        if to < from {
            return;
        }
        let text = &self.text[..to];
        let directive = |at: usize| -> Option<bool> {
            let rest = &text[at..];
            (rest.len() >= 2 && rest[0] == b'=' && rest[1].is_ascii_alphabetic())
                .then(|| !rest.starts_with(b"=cut"))
        };
        if from == 0 {
            if let Some(open) = directive(0) {
                self.in_pod = open;
            }
        }
        let search_from = from.saturating_sub(1);
        for nl in memchr::memchr_iter(b'\n', &text[search_from..]) {
            let at = search_from + nl + 1;
            if at >= to {
                break;
            }
            if let Some(open) = directive(at) {
                self.in_pod = open;
            }
        }
    }

    fn walk_triple_quotes(&mut self, from: usize, to: usize) {
        let mut at = from;
        while at < to {
            let Some(found) = memchr::memchr2(b'"', b'\'', &self.text[at..to]) else {
                break;
            };
            let q = at + found;
            let quote = self.text[q];
            let triple = self.text.get(q..q + 3) == Some(&[quote, quote, quote][..]);
            if !triple {
                at = q + 1;
                continue;
            }
            match self.open_triple {
                None => self.open_triple = Some(quote),
                Some(open) if open == quote => self.open_triple = None,
                Some(_) => {}
            }
            at = q + 3;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every place of `marker` in `text`, in order, rated.
    fn rate(path: &str, text: &str, marker: &str) -> Vec<bool> {
        let syntax = doc_syntax(path, text.as_bytes()).expect("a language");
        let mut ctx = DocContext::new(syntax, text.as_bytes());
        text.match_indices(marker)
            .map(|(start, _)| {
                let line_start = text[..start].rfind('\n').map_or(0, |n| n + 1);
                ctx.is_documentation(line_start, start)
            })
            .collect()
    }

    #[test]
    fn languages_by_suffix() {
        let code = b"x = 1\n";
        assert!(doc_syntax("lib/uri/generic.rb", code).is_some());
        assert!(doc_syntax("src/App.JAVA", code).is_some());
        assert!(doc_syntax("Finance/Streamer.pm", code).unwrap().pod);
        assert!(
            doc_syntax("plugins/modules/eos.py", code)
                .unwrap()
                .triple_quoted
        );
        for config in [
            ".env",
            "app.yaml",
            "run.sh",
            "settings.ini",
            "Makefile",
            "x/.py",
        ] {
            assert!(doc_syntax(config, code).is_none(), "{config}");
        }
    }

    #[test]
    fn scripts_without_a_suffix_by_their_interpreter() {
        let perl = doc_syntax("usr/bin/log-parser", b"#!/usr/bin/perl -w\n").unwrap();
        assert!(perl.pod);
        let env_python = doc_syntax("bin/tool", b"#!/usr/bin/env python3.11\nx = 1\n").unwrap();
        assert!(env_python.triple_quoted);
        let env_flags = doc_syntax("bin/tool", b"#!/usr/bin/env -S LC_ALL=C ruby -w\n");
        assert_eq!(env_flags, syntax_by_suffix("rb"));
        assert_eq!(
            doc_syntax("www/index.cgi", b"#!/usr/bin/perl\n"),
            Some(perl)
        );
        assert_eq!(
            doc_syntax("bin/t", b"#!/usr/bin/tclsh8.6\n"),
            syntax_by_suffix("tcl")
        );
        // The suffix decides when it names a language.
        assert_eq!(
            doc_syntax("lib/x.rb", b"#!/usr/bin/perl\n"),
            syntax_by_suffix("rb")
        );
        // Shell scripts, unknown interpreters and files that are not scripts: none.
        for text in [
            &b"#!/bin/sh\n"[..],
            b"#!/bin/bash -e\n",
            b"#!/usr/bin/env bash\n",
            b"#!/usr/bin/env\n",
            b"#!/usr/bin/make -f\n",
            b"#!\n",
            b"# !/usr/bin/perl\n",
            b"\xff\xfe#!",
            b"",
        ] {
            assert!(doc_syntax("usr/bin/tool", text).is_none(), "{text:?}");
        }
        for (path, text) in [
            ("deploy/run.sh", &b"x=1\n"[..]),
            ("usr/bin/testssl", b"#!/usr/bin/env bash\n"),
            ("usr/sbin/tool", b"#!/bin/sh -e\n"),
            ("bin/x.cgi", b"#!/bin/dash\n"),
        ] {
            assert!(is_shell_script(path, text), "{path}");
        }
        for (path, text) in [
            ("lib/x.py", &b"#!/bin/sh\n"[..]),
            ("usr/bin/tool", b"#!/usr/bin/perl\n"),
            ("etc/app.conf", b"token=x\n"),
        ] {
            assert!(!is_shell_script(path, text), "{path}");
        }
        let ruby_script = "#!/usr/bin/ruby\n  # token = VALUE\ntoken = VALUE\n";
        assert_eq!(rate("usr/bin/tool", ruby_script, "VALUE"), [true, false]);
    }

    #[test]
    fn comment_lines_and_trailing_comments() {
        let ruby = "x = 1\n  #   uri.password = \"VALUE\"\npassword = \"VALUE\"\n";
        assert_eq!(rate("a.rb", ruby, "VALUE"), [true, false]);
        let java = "/**\n * token: VALUE\n */\nString t = \"VALUE\"; // VALUE\n*p = \"VALUE\";\n";
        assert_eq!(rate("A.java", java, "VALUE"), [true, false, true, false]);
        // A mark inside a string is not a comment.
        let php = "$u = \"http://h/#x\"; $pw = 'VALUE';\n";
        assert_eq!(rate("a.php", php, "VALUE"), [false]);
        let lisp = "(defvar *token* \"VALUE\") ; VALUE\n";
        assert_eq!(rate("a.lisp", lisp, "VALUE"), [false, true]);
    }

    #[test]
    fn pod_blocks() {
        let perl = "=head1 SYNOPSIS\n\n my $pass = 'VALUE';\n\n=cut\n\nmy $pass = 'VALUE';\n\
                    =pod\nVALUE\n";
        assert_eq!(rate("a.pm", perl, "VALUE"), [true, false, true]);
        // `=` inside a line is not a directive.
        let code = "my $x =\n'VALUE';\n";
        assert_eq!(rate("a.pl", code, "VALUE"), [false]);
    }

    #[test]
    fn triple_quoted_strings() {
        let py = "\"\"\"Module.\n\n  passphrase: VALUE\n\"\"\"\nTOKEN = 'VALUE'\n\
                  EXAMPLES = r'''\n- token: VALUE \"\"\" still open\n'''\nKEY = \"VALUE\"\n";
        assert_eq!(rate("m.py", py, "VALUE"), [true, false, true, false]);
        // In Perl, quotes say nothing about documentation.
        assert_eq!(rate("a.pm", "'''\nVALUE\n", "VALUE"), [false]);
    }
}
