//! Per-program option syntax: which short options cluster, which take a value, which long
//! spellings mean the same thing. One table per program, all `static` (no start-up cost).

/// The option syntax of one program (or one git subcommand).
#[derive(Debug)]
pub(crate) struct Spec {
    /// Short option letters that take a value (`-n 5`, `-n5`).
    pub short_val: &'static str,
    /// Long options that take a value in the next word when not written `--opt=value`.
    pub long_val: &'static [&'static str],
    /// Spelling (with dashes) to canonical names. One spelling can mean several flags
    /// (`git branch -D` is `--delete --force`).
    pub aliases: &'static [(&'static str, &'static [&'static str])],
    /// Options end at the first operand (POSIX utilities, `ssh`, `xargs`...), instead of
    /// GNU-style permutation.
    pub posix_stop: bool,
}

pub(crate) const GENERIC: Spec = Spec {
    short_val: "",
    long_val: &[],
    aliases: &[],
    posix_stop: false,
};

/// Arguments split into canonical flags and operands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// Canonical flag names with their value, in order of appearance.
    pub flags: Vec<(String, Option<String>)>,
    /// Operands, in order.
    pub operands: Vec<String>,
    /// True when `--` was seen.
    pub double_dash: bool,
}

impl Parsed {
    pub fn has(&self, name: &str) -> bool {
        self.flags.iter().any(|(f, _)| f == name)
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|(f, _)| f == name)
            .and_then(|(_, v)| v.as_deref())
    }
}

fn push_canonical(spec: &Spec, spelling: &str, value: Option<String>, out: &mut Parsed) {
    if let Some((_, names)) = spec.aliases.iter().find(|(s, _)| *s == spelling) {
        for n in names.iter() {
            out.flags.push(((*n).to_owned(), value.clone()));
        }
        return;
    }
    // GNU getopt accepts any unambiguous prefix of a long option.
    if let Some(stripped) = spelling.strip_prefix("--") {
        let mut found: Option<&'static [&'static str]> = None;
        let mut count = 0;
        for (s, names) in spec.aliases {
            if let Some(long) = s.strip_prefix("--") {
                if long.starts_with(stripped) && !stripped.is_empty() {
                    count += 1;
                    found = Some(names);
                }
            }
        }
        if count == 1 {
            if let Some(names) = found {
                for n in names.iter() {
                    out.flags.push(((*n).to_owned(), value.clone()));
                }
                return;
            }
        }
        out.flags.push((stripped.to_owned(), value));
        return;
    }
    let bare = spelling.trim_start_matches('-');
    out.flags.push((bare.to_owned(), value));
}

fn long_takes_value(spec: &Spec, spelling: &str) -> bool {
    spec.long_val.contains(&spelling)
}

/// Whether [`parse`] reads `arg` as an operand wherever it stands (`-` or a word that does
/// not start with a dash).
pub(crate) fn is_operand(arg: &str) -> bool {
    arg == "-" || !arg.starts_with('-') || arg.len() < 2
}

/// Splits `args` into flags and operands according to `spec`.
pub(crate) fn parse<S: AsRef<str>>(spec: &Spec, args: &[S]) -> Parsed {
    let mut out = Parsed::default();
    let mut i = 0;
    let mut only_operands = false;
    let text = |i: usize| args.get(i).map(|a| a.as_ref().to_owned());
    while i < args.len() {
        let a = args[i].as_ref();
        i += 1;
        if only_operands || is_operand(a) {
            out.operands.push(a.to_owned());
            if spec.posix_stop {
                only_operands = true;
            }
            continue;
        }
        if a == "--" {
            out.double_dash = true;
            only_operands = true;
            continue;
        }
        if a.starts_with("--") {
            if let Some((name, value)) = a.split_once('=') {
                push_canonical(spec, name, Some(value.to_owned()), &mut out);
            } else if long_takes_value(spec, a) {
                let v = text(i);
                if v.is_some() {
                    i += 1;
                }
                push_canonical(spec, a, v, &mut out);
            } else {
                push_canonical(spec, a, None, &mut out);
            }
            continue;
        }
        // A short cluster: `-rf`, `-n5`, `-uf`.
        let body = &a[1..];
        for (pos, c) in body.char_indices() {
            let mut buf = [0u8; 5];
            buf[0] = b'-';
            let len = 1 + c.encode_utf8(&mut buf[1..]).len();
            let spelling = std::str::from_utf8(&buf[..len]).unwrap_or("-");
            if spec.short_val.contains(c) {
                let rest = &body[pos + c.len_utf8()..];
                let v = if rest.is_empty() {
                    let v = text(i);
                    if v.is_some() {
                        i += 1;
                    }
                    v
                } else {
                    Some(rest.to_owned())
                };
                push_canonical(spec, spelling, v, &mut out);
                break;
            }
            push_canonical(spec, spelling, None, &mut out);
        }
    }
    out
}

macro_rules! spec {
    ($short:expr, [$($lv:expr),* $(,)?], [$($sp:expr => [$($n:expr),* $(,)?]),* $(,)?]) => {
        Spec { short_val: $short, long_val: &[$($lv),*], aliases: &[$(($sp, &[$($n),*])),*], posix_stop: false }
    };
    (posix $short:expr, [$($lv:expr),* $(,)?], [$($sp:expr => [$($n:expr),* $(,)?]),* $(,)?]) => {
        Spec { short_val: $short, long_val: &[$($lv),*], aliases: &[$(($sp, &[$($n),*])),*], posix_stop: true }
    };
}

pub(crate) static RM: Spec = spec!("", [], [
    "-r" => ["recursive"], "-R" => ["recursive"], "--recursive" => ["recursive"],
    "-f" => ["force"], "--force" => ["force"],
    "-d" => ["dir"], "--dir" => ["dir"],
    "-i" => ["interactive"], "-I" => ["interactive-once"], "--interactive" => ["interactive"],
    "-v" => ["verbose"], "--verbose" => ["verbose"],
    "--no-preserve-root" => ["no-preserve-root"], "--preserve-root" => ["preserve-root"],
    "--one-file-system" => ["one-file-system"],
]);

pub(crate) static RMDIR: Spec = spec!("", [], [
    "-p" => ["parents"], "--parents" => ["parents"], "-v" => ["verbose"], "--verbose" => ["verbose"],
    "--ignore-fail-on-non-empty" => ["ignore-fail-on-non-empty"],
]);

pub(crate) static CP_MV: Spec = spec!("tS", ["--target-directory", "--suffix"], [
    "-r" => ["recursive"], "-R" => ["recursive"], "--recursive" => ["recursive"],
    "-f" => ["force"], "--force" => ["force"], "-t" => ["target-directory"],
    "--target-directory" => ["target-directory"], "-T" => ["no-target-directory"],
    "-a" => ["archive"], "--archive" => ["archive"], "-n" => ["no-clobber"], "--no-clobber" => ["no-clobber"],
    "-u" => ["update"], "-v" => ["verbose"], "-i" => ["interactive"], "-b" => ["backup"],
]);

pub(crate) static CHMOD: Spec = spec!("", ["--reference"], [
    "-R" => ["recursive"], "--recursive" => ["recursive"], "-v" => ["verbose"], "-c" => ["changes"],
    "-f" => ["silent"], "--silent" => ["silent"], "--quiet" => ["silent"],
]);

pub(crate) static CHOWN: Spec = spec!("", ["--reference", "--from"], [
    "-R" => ["recursive"], "--recursive" => ["recursive"], "-h" => ["no-dereference"],
    "-v" => ["verbose"], "-c" => ["changes"], "-f" => ["silent"],
]);

pub(crate) static SHRED: Spec = spec!("nsx", ["--iterations", "--size", "--random-source"], [
    "-u" => ["remove"], "--remove" => ["remove"], "-z" => ["zero"], "--zero" => ["zero"],
    "-f" => ["force"], "--force" => ["force"], "-n" => ["iterations"], "--iterations" => ["iterations"],
    "-v" => ["verbose"],
]);

pub(crate) static TRUNCATE: Spec = spec!("sr", ["--size", "--reference"], [
    "-s" => ["size"], "--size" => ["size"], "-r" => ["reference"], "--reference" => ["reference"],
    "-c" => ["no-create"], "--no-create" => ["no-create"],
]);

pub(crate) static TEE: Spec = spec!("", ["--output-error"], [
    "-a" => ["append"], "--append" => ["append"], "-i" => ["ignore-interrupts"],
    "-p" => ["diagnose"],
]);

pub(crate) static SED: Spec = spec!("efl", ["--expression", "--file", "--line-length"], [
    "-i" => ["in-place"], "--in-place" => ["in-place"], "-e" => ["expression"],
    "--expression" => ["expression"], "-f" => ["file"], "--file" => ["file"],
    "-n" => ["quiet"], "-E" => ["regexp-extended"], "-r" => ["regexp-extended"],
]);

pub(crate) static HEAD_TAIL: Spec = spec!(
    "ncs",
    ["--lines", "--bytes", "--sleep-interval", "--pid"],
    []
);

pub(crate) static GREP: Spec = spec!("efmABCd", [
    "--regexp", "--file", "--max-count", "--after-context", "--before-context", "--context",
    "--include", "--exclude", "--exclude-dir", "--color", "--colour", "--label", "--directories",
    "--devices", "--binary-files", "--type", "--glob", "-g", "-t", "-T", "--type-not",
], [
    "-e" => ["regexp"], "--regexp" => ["regexp"], "-f" => ["file"], "--file" => ["file"],
    "-r" => ["recursive"], "-R" => ["recursive"],
]);

pub(crate) static CURL: Spec = spec!("dDeEFHKoOTuUwxXAbcmrYyzCPQt", [
    "--data", "--data-raw", "--data-binary", "--data-urlencode", "--form", "--header",
    "--output", "--upload-file", "--user", "--request", "--user-agent", "--cookie",
    "--cookie-jar", "--max-time", "--proxy", "--config", "--cert", "--key", "--cacert",
    "--connect-timeout", "--retry", "--referer", "--range", "--url", "--json", "--oauth2-bearer",
    "--resolve", "--write-out", "--limit-rate", "--dump-header", "--unix-socket", "--form-string",
], [
    "-o" => ["output"], "--output" => ["output"], "-T" => ["upload-file"], "--upload-file" => ["upload-file"],
    "-d" => ["data"], "--data" => ["data"], "--data-binary" => ["data"], "--data-raw" => ["data-raw"],
    "--data-urlencode" => ["data"], "-F" => ["form"], "--form" => ["form"], "-X" => ["request"],
    "--request" => ["request"], "-O" => ["remote-name"], "--remote-name" => ["remote-name"],
    "-K" => ["config"], "--config" => ["config"], "--json" => ["data"], "--url" => ["url"],
]);

pub(crate) static WGET: Spec = spec!("OoaPeUTtiQlABDIXw", [
    "--output-document", "--output-file", "--directory-prefix", "--user-agent", "--header",
    "--post-data", "--post-file", "--body-file", "--method", "--user", "--password", "--timeout",
    "--tries", "--level", "--input-file", "--accept", "--reject", "--domains", "--limit-rate",
    "--execute", "--body-data",
], [
    "-O" => ["output-document"], "--output-document" => ["output-document"],
    "-P" => ["directory-prefix"], "--directory-prefix" => ["directory-prefix"],
    "--post-file" => ["post-file"], "--body-file" => ["post-file"], "-i" => ["input-file"],
]);

pub(crate) static SSH: Spec = spec!(posix "BbcDEeFIiJLlmOopQRSWw", [], []);

pub(crate) static SCP: Spec = spec!("cFiJloPSDX", [], []);

pub(crate) static RSYNC: Spec = spec!("eBfT", [
    "--rsh", "--exclude", "--include", "--filter", "--exclude-from", "--include-from",
    "--files-from", "--temp-dir", "--partial-dir", "--backup-dir", "--suffix", "--chmod",
    "--chown", "--password-file", "--log-file", "--rsync-path", "--port", "--bwlimit",
    "--timeout", "--compare-dest", "--copy-dest", "--link-dest", "--max-size", "--min-size",
], [
    "--delete" => ["delete"], "--delete-before" => ["delete"], "--delete-after" => ["delete"],
    "--delete-during" => ["delete"], "--delete-delay" => ["delete"], "--delete-excluded" => ["delete"],
    "--del" => ["delete"], "--remove-source-files" => ["remove-source-files"],
]);

pub(crate) static NC: Spec = spec!("eIOiPpqsTVwXxc", [], []);

pub(crate) static XARGS: Spec = spec!(posix "adEeIiLlnPs", [
    "--arg-file", "--delimiter", "--eof", "--max-lines", "--max-args", "--max-procs",
    "--max-chars", "--process-slot-var",
], []);

pub(crate) static SUDO: Spec = spec!(posix "CDghpRrTtUu", [
    "--close-from", "--chdir", "--group", "--host", "--prompt", "--chroot", "--role",
    "--type", "--command-timeout", "--other-user", "--user",
], []);

pub(crate) static ENV: Spec = spec!(posix "uCS", ["--unset", "--chdir", "--split-string"], [
    "-S" => ["split-string"], "--split-string" => ["split-string"],
]);

pub(crate) static NICE: Spec = spec!(posix "n", ["--adjustment"], []);
pub(crate) static TIMEOUT: Spec = spec!(posix "ks", ["--kill-after", "--signal"], []);
pub(crate) static TIME: Spec = spec!(posix "fo", ["--format", "--output"], []);
pub(crate) static STDBUF: Spec = spec!(posix "ioe", ["--input", "--output", "--error"], []);
pub(crate) static IONICE: Spec = spec!(posix "cnpPu", ["--class", "--classdata", "--pid"], []);
pub(crate) static WATCH: Spec = spec!(posix "nqd", ["--interval", "--differences"], [
    "-x" => ["exec"], "--exec" => ["exec"],
]);
pub(crate) static NO_OPTS: Spec = spec!(posix "", [], []);
pub(crate) static DOAS: Spec = spec!(posix "uC", [], []);
pub(crate) static SU: Spec = spec!(posix "cgGsw", ["--command", "--group", "--shell", "--supp-group"], [
    "-c" => ["command"], "--command" => ["command"],
]);
pub(crate) static FLOCK: Spec = spec!(posix "wEc", ["--timeout", "--conflict-exit-code", "--command"], [
    "-c" => ["command"], "--command" => ["command"],
]);

pub(crate) static GIT_GLOBAL: Spec = spec!(posix "Cc", [
    "--git-dir", "--work-tree", "--namespace", "--exec-path", "--config-env", "--super-prefix",
], []);

pub(crate) static GIT_PUSH: Spec = spec!("o", ["--push-option", "--repo", "--receive-pack", "--exec"], [
    "-f" => ["force"], "--force" => ["force"],
    "--force-with-lease" => ["force", "force-with-lease"],
    "--force-if-includes" => ["force", "force-if-includes"],
    "-d" => ["delete"], "--delete" => ["delete"], "--mirror" => ["mirror", "force"],
    "--prune" => ["prune"], "-u" => ["set-upstream"], "--set-upstream" => ["set-upstream"],
    "-n" => ["dry-run"], "--dry-run" => ["dry-run"], "--all" => ["all"], "--tags" => ["tags"],
    "-v" => ["verbose"], "-q" => ["quiet"],
]);

pub(crate) static GIT_RESET: Spec = spec!("", [], [
    "--hard" => ["hard"], "--soft" => ["soft"], "--mixed" => ["mixed"], "--keep" => ["keep"],
    "--merge" => ["merge"], "-q" => ["quiet"],
]);

pub(crate) static GIT_CLEAN: Spec = spec!("e", ["--exclude"], [
    "-f" => ["force"], "--force" => ["force"], "-d" => ["d"], "-x" => ["x"], "-X" => ["X"],
    "-n" => ["dry-run"], "--dry-run" => ["dry-run"], "-i" => ["interactive"],
    "--interactive" => ["interactive"], "-q" => ["quiet"],
]);

pub(crate) static GIT_BRANCH: Spec = spec!("tu", ["--set-upstream-to", "--contains", "--merged", "--no-merged", "--sort", "--format", "--points-at"], [
    "-d" => ["delete"], "--delete" => ["delete"], "-D" => ["delete", "force"],
    "-f" => ["force"], "--force" => ["force"], "-m" => ["move"], "--move" => ["move"],
    "-M" => ["move", "force"], "-c" => ["copy"], "-C" => ["copy", "force"],
    "-r" => ["remotes"], "--remotes" => ["remotes"], "-a" => ["all"], "--all" => ["all"],
]);

pub(crate) static GIT_CHECKOUT: Spec = spec!("bB", ["--orphan", "--conflict", "--pathspec-from-file"], [
    "-f" => ["force"], "--force" => ["force"], "-b" => ["b"], "-B" => ["B"],
]);

pub(crate) static GIT_GENERIC: Spec = spec!("", [], [
    "-f" => ["force"], "--force" => ["force"], "-d" => ["delete"], "--delete" => ["delete"],
]);

pub(crate) static PSQL: Spec = spec!("cdfhLoPpTUvFR", [
    "--command", "--dbname", "--file", "--host", "--log-file", "--output", "--port", "--username",
    "--set", "--variable", "--field-separator", "--record-separator", "--pset",
], [
    "-c" => ["command"], "--command" => ["command"], "-f" => ["file"], "--file" => ["file"],
]);

pub(crate) static MYSQL: Spec = spec!("eDhuPpSA", [
    "--execute", "--database", "--host", "--user", "--port", "--socket", "--password",
], [
    "-e" => ["execute"], "--execute" => ["execute"],
]);

pub(crate) static SQLITE: Spec = spec!("", ["-cmd", "-separator", "-newline", "-nullvalue"], []);

pub(crate) static KUBECTL_GLOBAL: Spec = spec!(
    "nsl",
    [
        "--namespace",
        "--context",
        "--cluster",
        "--kubeconfig",
        "--server",
        "--user",
        "--token",
        "--selector",
        "--output",
        "-o",
        "--filename",
        "-f",
        "--field-selector",
        "--as",
        "--timeout",
        "--request-timeout",
        "--grace-period",
        "--certificate-authority",
    ],
    []
);

pub(crate) static HELM_GLOBAL: Spec = spec!(
    "nf",
    [
        "--namespace",
        "--kube-context",
        "--kubeconfig",
        "--values",
        "--set",
        "--version",
        "--repo",
        "--timeout",
        "--output",
        "-o",
    ],
    []
);

pub(crate) static CLOUD_GLOBAL: Spec = spec!(
    "",
    [
        "--region",
        "--profile",
        "--output",
        "--query",
        "--endpoint-url",
        "--project",
        "--zone",
        "--format",
        "--resource-group",
        "--name",
        "--subscription",
        "--location",
        "--account",
        "--configuration",
        "--bucket",
        "--key",
        "--instance-ids",
        "--db-instance-identifier",
        "--function-name",
        "--stack-name",
        "--table-name",
        "--cluster",
        "--service",
        "-g",
        "-n",
    ],
    []
);

pub(crate) static DOCKER: Spec = spec!("fvepuwlHc", [
    "--filter", "--volume", "--env", "--publish", "--user", "--workdir", "--label", "--name",
    "--network", "--entrypoint", "--host", "--context", "--config", "--mount", "--file",
    "--project-name", "--env-file", "--platform",
], [
    "-f" => ["force"], "--force" => ["force"], "-a" => ["all"], "--all" => ["all"],
    "-v" => ["volumes"], "--volumes" => ["volumes"], "--privileged" => ["privileged"],
]);

pub(crate) static TERRAFORM: Spec = spec!("", ["-var", "-var-file", "-target", "-chdir"], [
    "-destroy" => ["destroy"], "--destroy" => ["destroy"], "-auto-approve" => ["auto-approve"],
    "--auto-approve" => ["auto-approve"],
]);

#[cfg(test)]
mod tests {
    use super::*;

    fn p(spec: &Spec, args: &[&str]) -> Parsed {
        parse(
            spec,
            &args.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
        )
    }

    #[test]
    fn clusters_and_long_forms_agree() {
        let a = p(&RM, &["-rf", "x"]);
        let b = p(&RM, &["--recursive", "--force", "x"]);
        let c = p(&RM, &["-R", "--force", "x"]);
        let d = p(&RM, &["--recur", "--forc", "x"]);
        for q in [&a, &b, &c, &d] {
            assert!(q.has("recursive") && q.has("force"), "{q:?}");
            assert_eq!(q.operands, vec!["x".to_owned()]);
        }
    }

    #[test]
    fn double_dash_ends_options() {
        let a = p(&RM, &["--", "-rf"]);
        assert!(!a.has("recursive"));
        assert_eq!(a.operands, vec!["-rf".to_owned()]);
    }

    #[test]
    fn values_are_consumed() {
        let a = p(&HEAD_TAIL, &["-n", "5", "file"]);
        assert_eq!(a.operands, vec!["file".to_owned()]);
        let a = p(&HEAD_TAIL, &["-n5", "file"]);
        assert_eq!(a.operands, vec!["file".to_owned()]);
    }

    /// Borrowed and owned words parse alike (the walker passes `&str`, matching `String`).
    #[test]
    fn borrowed_words_parse_like_owned_ones() {
        let words = [
            "-C",
            "sub",
            "-c",
            "k=v",
            "--git-dir=x",
            "push",
            "-f",
            "origin",
            "+main",
        ];
        for spec in [&GIT_GLOBAL, &GIT_PUSH, &RM, &SSH, &GENERIC] {
            assert_eq!(parse(spec, &words[..]), p(spec, &words));
        }
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            /// What `walk` relies on to skip parsing git's global options: with a spec whose
            /// options end at the first operand, a list that starts with an operand parses
            /// to no flags and every word an operand.
            #[test]
            fn a_leading_operand_ends_posix_options(
                words in prop::collection::vec(
                    prop_oneof![
                        prop::sample::select(vec![
                            "-", "--", "-C", "-c", "--git-dir", "--git-dir=x", "push", "-f",
                            "x", "", "-rf", "a=b", "-x5",
                        ])
                        .prop_map(str::to_owned),
                        "[-a-z=+:]{0,5}",
                    ],
                    0..6,
                )
            ) {
                prop_assume!(words.first().is_some_and(|w| is_operand(w)));
                for spec in [&GIT_GLOBAL, &SSH] {
                    prop_assert!(spec.posix_stop);
                    let parsed = parse(spec, &words);
                    prop_assert!(parsed.flags.is_empty());
                    prop_assert!(!parsed.double_dash);
                    prop_assert_eq!(&parsed.operands, &words);
                }
            }
        }
    }
}
