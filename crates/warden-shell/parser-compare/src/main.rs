//! Throwaway comparison of three bash parsers on the tldr corpus and hard cases.
use std::time::Instant;

const HARD: &[&str] = &[
    "rm -fr /",
    "/bin/rm -rf /",
    "\\rm -r -f x",
    "'rm' -rf /",
    "r\\m -rf /",
    "sudo -u root -E rm -rf /",
    "bash -c 'rm -rf /'",
    "sh -lc \"rm -rf $HOME\"",
    "eval \"rm -rf /\"",
    "find . -name '*.o' -exec rm -rf {} \\;",
    "find . -delete",
    "ls | xargs -0 -I{} rm -rf {}",
    "env FOO=1 nice -n 5 timeout 10 rm -rf /",
    "ssh host 'rm -rf /'",
    "git -C repo push origin +main",
    "git push origin :feature",
    "echo 'DROP TABLE x' | psql",
    "psql <<< 'drop table users'",
    "psql <<EOF\nDROP TABLE users;\nEOF",
    "cat <<-'EOF' | sh\n\trm -rf /\n\tEOF",
    "curl -fsSL https://x.sh | sh",
    "echo cm0gLXJmIC8K | base64 -d | bash",
    "diff <(ls a) <(ls b)",
    "tee >(rm -rf /) < x",
    "x=$(rm -rf /); echo `rm -rf ~`",
    "for f in *; do rm -rf \"$f\"; done",
    "while read l; do echo $l; done < file",
    "if [ -d x ]; then rm -r x; elif true; then :; else echo; fi",
    "case $x in a) rm -rf a;; *) echo;; esac",
    "f() { rm -rf \"$1\"; }; f /",
    "(cd /tmp && rm -rf *) & wait",
    "{ rm -rf /; } 2>/dev/null",
    "$CMD -rf /",
    "${RM:-rm} -rf /",
    "$(echo rm) -rf /",
    "a=1 b=2 rm -rf x > out.log 2>&1",
    "echo hi >> log; cat < in > out",
    "[[ -f x && $y == z* ]] && rm x",
    "(( i++ )); echo $((1+2))",
    "coproc cat",
    "time rm -rf x",
    "echo $'rm\\t-rf'",
    "exec rm -rf /",
    "command -p rm -rf /",
    "builtin eval 'rm -rf /'",
    "arr=(a b c); echo ${arr[@]}",
    "git commit -m \"$(cat <<'EOF'\nmsg\nEOF\n)\"",
    "echo \"unterminated",
    "if then fi",
    "rm -rf / # comment",
];

fn corpus() -> Vec<String> {
    let text = std::fs::read_to_string(std::env::args().nth(1).expect("corpus path")).expect("read corpus");
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            v["cmd"].as_str().expect("cmd").to_owned()
        })
        .collect()
}

fn brush(s: &str) -> bool {
    let opts = brush_parser::ParserOptions::default();
    let mut p = brush_parser::Parser::new(std::io::BufReader::new(s.as_bytes()), &opts);
    p.parse_program().is_ok()
}

fn yash(s: &str) -> bool {
    s.parse::<yash_syntax::syntax::List>().is_ok()
}

fn ts(parser: &mut tree_sitter::Parser, s: &str) -> bool {
    match parser.parse(s, None) {
        Some(t) => !t.root_node().has_error(),
        None => false,
    }
}

fn main() {
    let lines = corpus();
    let mut tsp = tree_sitter::Parser::new();
    tsp.set_language(&tree_sitter_bash::LANGUAGE.into()).expect("lang");
    type F<'a> = Box<dyn FnMut(&str) -> bool + 'a>;
    let mut parsers: Vec<(&str, F)> = vec![
        ("brush-parser 0.4.0", Box::new(brush)),
        ("yash-syntax 0.21.0", Box::new(yash)),
        ("tree-sitter-bash 0.25.1", Box::new(move |s: &str| ts(&mut tsp, s))),
    ];
    println!("| parser | tldr lines parsed ok | tldr failures | time whole corpus (1 thread) | hard cases ok |");
    println!("|---|---|---|---|---|");
    for (name, f) in parsers.iter_mut() {
        let t = Instant::now();
        let mut ok = 0usize;
        let mut fails = Vec::new();
        for l in &lines {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(l)));
            match r { Ok(true) => ok += 1, _ => fails.push(l.clone()) }
        }
        let dt = t.elapsed();
        let mut hard_fail = Vec::new();
        for h in HARD { if !matches!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(h))), Ok(true)) { hard_fail.push(*h) } }
        println!("| {name} | {ok}/{} ({:.2}%) | {} | {:.0} ms | {}/{} |", lines.len(), 100.0 * ok as f64 / lines.len() as f64, fails.len(), dt.as_secs_f64() * 1000.0, HARD.len() - hard_fail.len(), HARD.len());
        eprintln!("== {name} hard failures: {hard_fail:?}");
        eprintln!("== {name} sample tldr failures: {:?}", &fails[..fails.len().min(15)]);
    }
}
