//! Walks the bash syntax tree, evaluates words, unwraps wrappers and emits normalised
//! simple commands. Every nested source (`bash -c`, `eval`, `$(...)`, `ssh host cmd`,
//! heredocs fed to shells) is parsed again, with a depth limit.

use std::borrow::Cow;

use brush_parser::ast;
use brush_parser::ParserOptions;
use compact_str::CompactString;

use crate::effects;
use crate::model::{
    Analysis, Effect, EffectKind, Redirect, RedirectKind, SimpleCommand, Unresolved,
};
use crate::opts;
use crate::words::{self, Value};

/// Nested re-parses (`bash -c` inside `eval` inside `$(...)`...) beyond this are unresolved.
pub const MAX_DEPTH: usize = 12;
/// Longest source text analysed; longer text is unresolved.
pub const MAX_INPUT_BYTES: usize = 64 * 1024;
/// Deepest syntactic nesting of brackets accepted before parsing (guards the parser's stack).
pub const MAX_NESTING: usize = 48;
/// Most simple commands collected from one command line.
pub const MAX_COMMANDS: usize = 2_000;

#[derive(Clone, Default)]
struct Ctx {
    depth: usize,
    wrappers: Vec<String>,
    inherited: Vec<Effect>,
    redirects: Vec<Redirect>,
}

impl Ctx {
    fn nested(&self, wrapper: impl Into<String>) -> Ctx {
        let mut c = self.clone();
        c.depth += 1;
        c.wrappers.push(wrapper.into());
        c
    }

    fn wrapped(&self, wrapper: impl Into<String>) -> Ctx {
        let mut c = self.clone();
        c.wrappers.push(wrapper.into());
        c
    }
}

/// What flows into a command's standard input.
#[derive(Clone, Default, Debug)]
pub(crate) struct Stdin {
    /// The program piping into it.
    pub from: Option<String>,
    /// Literal text known to arrive (heredoc, here-string, `echo` output).
    pub literal: Vec<String>,
}

/// What a command writes to its standard output, as far as it is known: a command of the
/// analysis (by index; its program and any literal output are read from it when a pipe
/// needs them), a compound command, or nothing known.
#[derive(Clone, Copy, Default, Debug)]
enum Output {
    #[default]
    Unknown,
    Command(usize),
    Group,
}

pub(crate) struct Walker {
    opts: ParserOptions,
    pub out: Analysis,
    truncated: bool,
    /// Whether sources made only of plain words skip the parser ([`plain_words`]).
    fast: bool,
}

impl Walker {
    pub fn new() -> Self {
        Walker {
            opts: words::options(),
            out: Analysis::default(),
            truncated: false,
            fast: true,
        }
    }

    /// A walker that sends every source through the parser (to test the fast path against).
    pub fn without_fast_path() -> Self {
        Walker {
            fast: false,
            ..Walker::new()
        }
    }

    fn unresolved(&mut self, reason: impl Into<String>, text: &str, ctx: &Ctx) {
        let mut shown: String = text.chars().take(200).collect();
        if shown.len() < text.len() {
            shown.push('…');
        }
        self.out.unresolved.push(Unresolved {
            reason: reason.into(),
            text: shown,
            wrappers: ctx.wrappers.clone(),
        });
    }

    pub fn analyze_top(&mut self, src: &str) {
        self.source(src, &Ctx::default(), &Stdin::default());
    }

    fn source(&mut self, src: &str, ctx: &Ctx, stdin: &Stdin) {
        if ctx.depth > MAX_DEPTH {
            self.unresolved("nesting limit reached", src, ctx);
            return;
        }
        if src.len() > MAX_INPUT_BYTES {
            self.unresolved(
                format!("text longer than {MAX_INPUT_BYTES} bytes"),
                src,
                ctx,
            );
            return;
        }
        if self.fast {
            if let Some(words) = plain_words(src) {
                // What the parser would give: one list, one pipeline, one simple command
                // whose words are the plain words themselves (see `plain_words`). Plain
                // words hold no brackets, so the nesting limit below cannot apply.
                self.plain_command(src, words, ctx, stdin);
                return;
            }
        }
        if bracket_depth(src) > MAX_NESTING {
            self.unresolved("brackets nested too deeply", src, ctx);
            return;
        }
        let mut parser =
            brush_parser::Parser::new(std::io::BufReader::new(src.as_bytes()), &self.opts);
        match parser.parse_program() {
            Ok(program) => {
                for list in &program.complete_commands {
                    self.compound_list(list, ctx, stdin);
                }
            }
            Err(e) => self.unresolved(format!("cannot parse: {e}"), src, ctx),
        }
    }

    fn compound_list(&mut self, list: &ast::CompoundList, ctx: &Ctx, stdin: &Stdin) {
        for item in &list.0 {
            let and_or = &item.0;
            self.pipeline(&and_or.first, ctx, stdin);
            for next in &and_or.additional {
                match next {
                    ast::AndOr::And(p) | ast::AndOr::Or(p) => self.pipeline(p, ctx, stdin),
                }
            }
        }
    }

    fn pipeline(&mut self, p: &ast::Pipeline, ctx: &Ctx, stdin: &Stdin) {
        let mut input = std::borrow::Cow::Borrowed(stdin);
        for (i, cmd) in p.seq.iter().enumerate() {
            let out = self.command(cmd, ctx, &input);
            if i + 1 < p.seq.len() {
                input = std::borrow::Cow::Owned(self.piped(out));
            }
        }
    }

    /// What a command's output gives the next command of a pipeline.
    fn piped(&self, out: Output) -> Stdin {
        match out {
            Output::Command(i) => {
                let c = &self.out.commands[i];
                Stdin {
                    from: Some(c.program.as_str().to_owned()),
                    literal: effects::literal_output(c).into_iter().collect(),
                }
            }
            Output::Group => Stdin {
                from: Some("(group)".to_owned()),
                literal: Vec::new(),
            },
            Output::Unknown => Stdin::default(),
        }
    }

    /// True (and recorded once) when the analysis already holds [`MAX_COMMANDS`] commands.
    fn at_command_limit(&mut self, ctx: &Ctx) -> bool {
        if self.out.commands.len() >= MAX_COMMANDS {
            if !self.truncated {
                self.truncated = true;
                self.unresolved(format!("more than {MAX_COMMANDS} commands"), "", ctx);
            }
            return true;
        }
        false
    }

    /// The fast path's equivalent of `compound_list` > `pipeline` > `command` > `simple` for
    /// one simple command made of plain words, no assignment prefix and no redirection.
    fn plain_command<'s>(
        &mut self,
        src: &'s str,
        words: impl Iterator<Item = &'s str>,
        ctx: &Ctx,
        stdin: &Stdin,
    ) {
        if self.at_command_limit(ctx) {
            return;
        }
        let mut words = words;
        let Some(first) = words.next() else {
            return;
        };
        let program = program_base(first);
        if !handled_by_name(program) {
            // What `normalize` does with a program it does not handle by name: emit it as
            // it is, without building the words' values first.
            let args: Vec<String> = words.map(str::to_owned).collect();
            // Plain words need no quoting (their alphabet is inside `quote`'s), and they are
            // separated by single spaces: the text is the source with the program's name.
            // Both are kept inline when short (no allocation).
            let rest = &src[first.len()..];
            let mut text = words::ShortText::with_capacity(program.len() + rest.len());
            words::Out::push_str(&mut text, program);
            words::Out::push_str(&mut text, rest);
            let text = text.finish();
            let program = CompactString::new(program);
            self.emit_text(
                program,
                args,
                text,
                Vec::new(),
                ctx.redirects.clone(),
                stdin,
                ctx,
            );
            return;
        }
        if program == "git" {
            // What `normalize` does with `git`, without the words' values.
            let args = words.map(str::to_owned).collect();
            self.git(
                program.to_owned(),
                args,
                Vec::new(),
                ctx.redirects.clone(),
                stdin,
                ctx,
            );
            return;
        }
        // `normalize` takes the program's name of the first word again, which leaves a name
        // as it is.
        let value = |text: String| Value {
            text,
            literal: true,
            substitutions: Vec::new(),
        };
        let wordv: Vec<Value> = std::iter::once(value(program.to_owned()))
            .chain(words.map(|w| value(w.to_owned())))
            .collect();
        self.normalize(wordv, Vec::new(), ctx.redirects.clone(), stdin, ctx);
    }

    fn command(&mut self, c: &ast::Command, ctx: &Ctx, stdin: &Stdin) -> Output {
        if self.at_command_limit(ctx) {
            return Output::default();
        }
        match c {
            ast::Command::Simple(sc) => self.simple(sc, ctx, stdin),
            ast::Command::Compound(cc, redirects) => {
                let mut inner = ctx.clone();
                let mut inputs = stdin.clone();
                if let Some(list) = redirects {
                    for r in &list.0 {
                        let (red, lit) = self.redirect(r, ctx);
                        inner.redirects.push(red);
                        inputs.literal.extend(lit);
                    }
                }
                self.compound(cc, &inner, &inputs);
                Output::Group
            }
            ast::Command::Function(f) => {
                let name = f.fname.value.clone();
                let inner = ctx.wrapped(format!("function {name}"));
                self.compound(&f.body.0, &inner, &Stdin::default());
                Output::default()
            }
            ast::Command::ExtendedTest(t, _) => {
                self.extended_test(&t.expr, ctx);
                Output::default()
            }
        }
    }

    fn compound(&mut self, cc: &ast::CompoundCommand, ctx: &Ctx, stdin: &Stdin) {
        match cc {
            ast::CompoundCommand::Arithmetic(a) => self.text_substitutions(&a.expr.value, ctx),
            ast::CompoundCommand::ArithmeticForClause(f) => {
                for e in [&f.initializer, &f.condition, &f.updater]
                    .into_iter()
                    .flatten()
                {
                    self.text_substitutions(&e.value, ctx);
                }
                self.compound_list(&f.body.list, ctx, stdin);
            }
            ast::CompoundCommand::BraceGroup(g) => self.compound_list(&g.list, ctx, stdin),
            ast::CompoundCommand::Subshell(s) => self.compound_list(&s.list, ctx, stdin),
            ast::CompoundCommand::ForClause(f) => {
                for w in f.values.iter().flatten() {
                    self.word(&w.value, ctx);
                }
                self.compound_list(&f.body.list, ctx, stdin);
            }
            ast::CompoundCommand::CaseClause(c) => {
                self.word(&c.value.value, ctx);
                for item in &c.cases {
                    for p in &item.patterns {
                        self.word(&p.value, ctx);
                    }
                    if let Some(list) = &item.cmd {
                        self.compound_list(list, ctx, stdin);
                    }
                }
            }
            ast::CompoundCommand::IfClause(i) => {
                self.compound_list(&i.condition, ctx, stdin);
                self.compound_list(&i.then, ctx, stdin);
                for e in i.elses.iter().flatten() {
                    if let Some(c) = &e.condition {
                        self.compound_list(c, ctx, stdin);
                    }
                    self.compound_list(&e.body, ctx, stdin);
                }
            }
            ast::CompoundCommand::WhileClause(w) | ast::CompoundCommand::UntilClause(w) => {
                self.compound_list(&w.0, ctx, stdin);
                self.compound_list(&w.1.list, ctx, stdin);
            }
            ast::CompoundCommand::Coprocess(c) => {
                let inner = ctx.wrapped("coproc");
                self.command(&c.body, &inner, stdin);
            }
        }
    }

    fn extended_test(&mut self, e: &ast::ExtendedTestExpr, ctx: &Ctx) {
        match e {
            ast::ExtendedTestExpr::And(a, b) | ast::ExtendedTestExpr::Or(a, b) => {
                self.extended_test(a, ctx);
                self.extended_test(b, ctx);
            }
            ast::ExtendedTestExpr::Not(a) | ast::ExtendedTestExpr::Parenthesized(a) => {
                self.extended_test(a, ctx)
            }
            ast::ExtendedTestExpr::UnaryTest(_, w) => {
                self.word(&w.value, ctx);
            }
            ast::ExtendedTestExpr::BinaryTest(_, a, b) => {
                self.word(&a.value, ctx);
                self.word(&b.value, ctx);
            }
        }
    }

    /// Command substitutions hidden in text that is not a word (arithmetic).
    fn text_substitutions(&mut self, text: &str, ctx: &Ctx) {
        if text.contains("$(") || text.contains('`') {
            self.word(text, ctx);
        }
    }

    /// Evaluates a word and analyses the command substitutions inside it.
    fn word(&mut self, raw: &str, ctx: &Ctx) -> Value {
        let v = words::evaluate(raw, &self.opts);
        for sub in &v.substitutions {
            let inner = ctx.nested("$(...)");
            self.source(sub, &inner, &Stdin::default());
        }
        v
    }

    fn redirect(&mut self, r: &ast::IoRedirect, ctx: &Ctx) -> (Redirect, Option<String>) {
        match r {
            ast::IoRedirect::File(fd, kind, target) => {
                let (target_text, dup) = match target {
                    ast::IoFileRedirectTarget::Filename(w) => {
                        (self.word(&w.value, ctx).text, false)
                    }
                    ast::IoFileRedirectTarget::Fd(n) => (n.to_string(), true),
                    ast::IoFileRedirectTarget::Duplicate(w) => {
                        (self.word(&w.value, ctx).text, true)
                    }
                    ast::IoFileRedirectTarget::ProcessSubstitution(k, sub) => {
                        let label = match k {
                            ast::ProcessSubstitutionKind::Read => "<(...)",
                            ast::ProcessSubstitutionKind::Write => ">(...)",
                        };
                        let inner = ctx.wrapped(label);
                        self.compound_list(&sub.list, &inner, &Stdin::default());
                        (label.to_owned(), true)
                    }
                };
                let kind = match kind {
                    _ if dup => RedirectKind::Duplicate,
                    ast::IoFileRedirectKind::Read => RedirectKind::Read,
                    ast::IoFileRedirectKind::Write | ast::IoFileRedirectKind::Clobber => {
                        RedirectKind::Write
                    }
                    ast::IoFileRedirectKind::Append => RedirectKind::Append,
                    ast::IoFileRedirectKind::ReadAndWrite => RedirectKind::ReadWrite,
                    ast::IoFileRedirectKind::DuplicateInput
                    | ast::IoFileRedirectKind::DuplicateOutput => {
                        // `>&file` with a non-numeric word writes to a file.
                        RedirectKind::Write
                    }
                };
                let kind = if kind == RedirectKind::Write
                    && matches!(target_text.as_str(), "-" | "0" | "1" | "2")
                {
                    RedirectKind::Duplicate
                } else {
                    kind
                };
                (
                    Redirect {
                        fd: *fd,
                        kind,
                        target: target_text,
                    },
                    None,
                )
            }
            ast::IoRedirect::OutputAndError(w, append) => {
                let t = self.word(&w.value, ctx).text;
                (
                    Redirect {
                        fd: None,
                        kind: if *append {
                            RedirectKind::Append
                        } else {
                            RedirectKind::Write
                        },
                        target: t,
                    },
                    None,
                )
            }
            ast::IoRedirect::HereDocument(fd, doc) => {
                let body = doc.doc.value.clone();
                if doc.requires_expansion {
                    for sub in words::heredoc_substitutions(&body, &self.opts) {
                        let inner = ctx.nested("$(...)");
                        self.source(&sub, &inner, &Stdin::default());
                    }
                }
                (
                    Redirect {
                        fd: *fd,
                        kind: RedirectKind::HereDoc,
                        target: doc.here_end.value.clone(),
                    },
                    Some(body),
                )
            }
            ast::IoRedirect::HereString(fd, w) => {
                let v = self.word(&w.value, ctx);
                (
                    Redirect {
                        fd: *fd,
                        kind: RedirectKind::HereString,
                        target: v.text.clone(),
                    },
                    Some(v.text),
                )
            }
        }
    }

    fn simple(&mut self, sc: &ast::SimpleCommand, ctx: &Ctx, stdin: &Stdin) -> Output {
        let mut assigns = Vec::new();
        let mut wordv: Vec<Value> = Vec::new();
        let mut redirects = ctx.redirects.clone();
        let mut input = stdin.clone();
        let items = sc
            .prefix
            .iter()
            .flat_map(|p| p.0.iter().map(Item::Affix))
            .chain(sc.word_or_name.iter().map(Item::Name))
            .chain(sc.suffix.iter().flat_map(|s| s.0.iter().map(Item::Affix)));
        for item in items {
            match item {
                Item::Name(w) | Item::Affix(ast::CommandPrefixOrSuffixItem::Word(w)) => {
                    wordv.push(self.word(&w.value, ctx));
                }
                // After the program name, `if=/dev/zero` is an argument, not an assignment.
                Item::Affix(ast::CommandPrefixOrSuffixItem::AssignmentWord(_, w))
                    if !wordv.is_empty() =>
                {
                    wordv.push(self.word(&w.value, ctx));
                }
                Item::Affix(ast::CommandPrefixOrSuffixItem::IoRedirect(r)) => {
                    let (red, lit) = self.redirect(r, ctx);
                    if lit.is_some() {
                        // A heredoc or here-string replaces the piped input.
                        input.from = None;
                        input.literal.clear();
                    }
                    input.literal.extend(lit);
                    redirects.push(red);
                }
                Item::Affix(ast::CommandPrefixOrSuffixItem::AssignmentWord(a, w)) => {
                    match &a.value {
                        ast::AssignmentValue::Scalar(v) => {
                            self.word(&v.value, ctx);
                        }
                        ast::AssignmentValue::Array(items) => {
                            for (k, v) in items {
                                if let Some(k) = k {
                                    self.word(&k.value, ctx);
                                }
                                self.word(&v.value, ctx);
                            }
                        }
                    }
                    assigns.push(w.value.clone());
                }
                Item::Affix(ast::CommandPrefixOrSuffixItem::ProcessSubstitution(kind, sub)) => {
                    let label = match kind {
                        ast::ProcessSubstitutionKind::Read => "<(...)",
                        ast::ProcessSubstitutionKind::Write => ">(...)",
                    };
                    let inner = ctx.wrapped(label);
                    self.compound_list(&sub.list, &inner, &Stdin::default());
                    wordv.push(Value {
                        text: label.to_owned(),
                        literal: false,
                        substitutions: Vec::new(),
                    });
                }
            }
        }
        if wordv.is_empty() {
            if redirects.len() > ctx.redirects.len() {
                // `> file` on its own truncates the file: keep it visible as `:`.
                return self.emit(":".to_owned(), Vec::new(), assigns, redirects, &input, ctx);
            }
            return Output::default();
        }
        self.normalize(wordv, assigns, redirects, &input, ctx)
    }

    /// Resolves the program and unwraps wrappers, then emits the innermost command(s).
    fn normalize(
        &mut self,
        mut wordv: Vec<Value>,
        mut assigns: Vec<String>,
        redirects: Vec<Redirect>,
        stdin: &Stdin,
        ctx: &Ctx,
    ) -> Output {
        // Copied only when a wrapper changes them.
        let mut ctx = Cow::Borrowed(ctx);
        let mut stdin = Cow::Borrowed(stdin);
        loop {
            if wordv.is_empty() {
                return Output::default();
            }
            // The program word is taken out; what is left are its arguments.
            let first = wordv.remove(0);
            let mut rest = wordv;
            if !first.literal {
                self.unresolved("program name is computed at run time", &first.text, &ctx);
                let out = self.emit(first.text, rest, assigns, redirects, &stdin, &ctx);
                if let Some(c) = self.out.commands.last_mut() {
                    c.known_program = false;
                }
                return out;
            }
            let program = program_name(first.text);
            if !handled_by_name(&program) {
                return self.emit(program, rest, assigns, redirects, &stdin, &ctx);
            }
            match program.as_str() {
                "command" => {
                    let mut i = 0;
                    let mut lookup = false;
                    while i < rest.len() && rest[i].text.starts_with('-') && rest[i].text != "--" {
                        if rest[i].text.contains('v') || rest[i].text.contains('V') {
                            lookup = true;
                        }
                        i += 1;
                    }
                    if i < rest.len() && rest[i].text == "--" {
                        i += 1;
                    }
                    if lookup || i >= rest.len() {
                        return self.emit(program, rest, assigns, redirects, &stdin, &ctx);
                    }
                    rest.drain(..i);
                    wordv = rest;
                }
                "builtin" | "nohup" | "setsid" | "unbuffer" | "busybox" | "catchsegv" => {
                    let mut i = 0;
                    while i < rest.len() && rest[i].text.starts_with('-') {
                        i += 1;
                    }
                    if i >= rest.len() {
                        return self.emit(program, rest, assigns, redirects, &stdin, &ctx);
                    }
                    if program != "builtin" {
                        ctx.to_mut().wrappers.push(program);
                    }
                    rest.drain(..i);
                    wordv = rest;
                }
                "exec" => {
                    let mut i = 0;
                    while i < rest.len() && rest[i].text.starts_with('-') {
                        if rest[i].text == "-a" {
                            i += 1;
                        }
                        i += 1;
                    }
                    if i >= rest.len() {
                        return self.emit(program, rest, assigns, redirects, &stdin, &ctx);
                    }
                    rest.drain(..i);
                    wordv = rest;
                }
                "sudo" | "doas" | "nice" | "timeout" | "time" | "stdbuf" | "ionice" | "taskset"
                | "chroot" | "flock" | "env" | "xargs" | "su" | "runuser" | "pkexec" | "chrt" => {
                    match self.unwrap_wrapper(
                        &program,
                        &rest,
                        &mut assigns,
                        ctx.to_mut(),
                        stdin.to_mut(),
                    ) {
                        Unwrap::Inner(inner) => wordv = inner,
                        Unwrap::From(start) => {
                            rest.drain(..start);
                            wordv = rest;
                        }
                        Unwrap::Done(out) => return out,
                        Unwrap::Emit => {
                            return self.emit(program, rest, assigns, redirects, &stdin, &ctx)
                        }
                    }
                }
                shell if crate::effects::is_shell(shell) => {
                    return self.shell(&program, rest, assigns, redirects, &stdin, &ctx);
                }
                "eval" => {
                    let (source, literal) = join(&rest);
                    let out = self.emit(program, rest, assigns, redirects, &stdin, &ctx);
                    if literal {
                        let inner = ctx.nested("eval");
                        self.source(&source, &inner, &Stdin::default());
                    } else {
                        self.unresolved("eval of a string computed at run time", &source, &ctx);
                    }
                    return out;
                }
                "watch" => {
                    let (start, exec) = {
                        let texts: Vec<&str> = rest.iter().map(|v| v.text.as_str()).collect();
                        let parsed = opts::parse(&opts::WATCH, &texts);
                        (
                            texts.len().saturating_sub(parsed.operands.len()),
                            parsed.has("exec"),
                        )
                    };
                    if start >= rest.len() {
                        return self.emit(program, rest, assigns, redirects, &stdin, &ctx);
                    }
                    if exec {
                        ctx.to_mut().wrappers.push("watch".to_owned());
                        rest.drain(..start);
                        wordv = rest;
                    } else {
                        let (source, literal) = join(&rest[start..]);
                        if !literal {
                            self.unresolved(
                                "watch of a string computed at run time",
                                &source,
                                &ctx,
                            );
                        }
                        let inner = ctx.nested("watch");
                        self.source(&source, &inner, &Stdin::default());
                        return Output::default();
                    }
                }
                "npx" | "bunx" | "pnpx" => {
                    let mut i = 0;
                    while i < rest.len() && rest[i].text.starts_with('-') {
                        if matches!(rest[i].text.as_str(), "-p" | "--package" | "-c" | "--call") {
                            i += 1;
                        }
                        i += 1;
                    }
                    if i >= rest.len() {
                        return self.emit(program, rest, assigns, redirects, &stdin, &ctx);
                    }
                    ctx.to_mut().wrappers.push(program);
                    rest.drain(..i);
                    wordv = rest;
                }
                "bundle" | "poetry" | "uv" | "pipenv" | "pdm" | "hatch" | "pnpm" | "yarn"
                | "dotenv"
                    if rest
                        .first()
                        .is_some_and(|s| s.text == "exec" || s.text == "run" || s.text == "--")
                        && !(program == "yarn" || program == "pnpm")
                        || (matches!(program.as_str(), "yarn" | "pnpm")
                            && rest
                                .first()
                                .is_some_and(|s| s.text == "exec" || s.text == "dlx")) =>
                {
                    if rest.len() < 2 {
                        return self.emit(program, rest, assigns, redirects, &stdin, &ctx);
                    }
                    let sub = rest.remove(0);
                    ctx.to_mut()
                        .wrappers
                        .push(format!("{program} {}", sub.text));
                    wordv = rest;
                }
                "ssh" => return self.ssh(program, rest, assigns, redirects, &stdin, &ctx),
                "find" => return self.find(program, rest, assigns, redirects, &stdin, &ctx),
                "git" => {
                    let args = rest.into_iter().map(|v| v.text).collect();
                    return self.git(program, args, assigns, redirects, &stdin, &ctx);
                }
                _ => return self.emit(program, rest, assigns, redirects, &stdin, &ctx),
            }
        }
    }

    fn unwrap_wrapper(
        &mut self,
        program: &str,
        rest: &[Value],
        assigns: &mut Vec<String>,
        ctx: &mut Ctx,
        stdin: &mut Stdin,
    ) -> Unwrap {
        let texts: Vec<&str> = rest.iter().map(|v| v.text.as_str()).collect();
        let spec = match program {
            "sudo" => &opts::SUDO,
            "doas" => &opts::DOAS,
            "nice" => &opts::NICE,
            "timeout" => &opts::TIMEOUT,
            "time" => &opts::TIME,
            "stdbuf" => &opts::STDBUF,
            "ionice" => &opts::IONICE,
            "env" => &opts::ENV,
            "xargs" => &opts::XARGS,
            "su" | "runuser" => &opts::SU,
            "flock" => &opts::FLOCK,
            _ => &opts::NO_OPTS,
        };
        let parsed = opts::parse(spec, &texts);
        let mut start = texts.len() - parsed.operands.len();
        match program {
            "sudo" | "doas" | "su" | "runuser" | "pkexec" => {
                ctx.inherited.push(Effect::new(
                    EffectKind::Privilege,
                    None,
                    format!("runs as another user via {program}"),
                ));
            }
            "xargs" => {
                // xargs turns stdin into arguments; the inner command gets no stdin.
                *stdin = Stdin::default();
            }
            _ => {}
        }
        if program == "su" || program == "runuser" || program == "flock" {
            if let Some(cmd) = parsed.value("command") {
                let source = cmd.to_owned();
                let inner = ctx.nested(format!("{program} -c"));
                self.source(&source, &inner, &Stdin::default());
                return Unwrap::Done(Output::default());
            }
            if program != "flock" {
                return Unwrap::Emit;
            }
            // flock FILE cmd...
            start += 1;
        }
        if program == "env" {
            if let Some(split) = parsed.value("split-string") {
                let source = format!("{} {}", split, shell_join(&texts[start..]));
                let inner = ctx.nested("env -S");
                self.source(&source, &inner, stdin);
                return Unwrap::Done(Output::default());
            }
        }
        // Operands that the wrapper consumes before the command.
        match program {
            "timeout" | "chroot" | "taskset" | "chrt" => start += 1,
            _ => {}
        }
        // `sudo FOO=1 cmd`, `env A=1 B=2 cmd`
        while start < rest.len() && is_assignment(&rest[start].text) {
            assigns.push(rest[start].text.clone());
            start += 1;
        }
        if start >= rest.len() {
            if program == "xargs" {
                ctx.wrappers.push("xargs".to_owned());
                return Unwrap::Inner(vec![Value {
                    text: "echo".to_owned(),
                    literal: true,
                    substitutions: Vec::new(),
                }]);
            }
            return Unwrap::Emit;
        }
        ctx.wrappers.push(program.to_owned());
        Unwrap::From(start)
    }

    fn shell(
        &mut self,
        program: &str,
        rest: Vec<Value>,
        assigns: Vec<String>,
        redirects: Vec<Redirect>,
        stdin: &Stdin,
        ctx: &Ctx,
    ) -> Output {
        let mut i = 0;
        let mut command_mode = false;
        let mut stdin_mode = false;
        let mut flags = String::new();
        while i < rest.len() {
            let t = &rest[i].text;
            if t == "--" || t == "-" {
                i += 1;
                break;
            }
            if !(t.starts_with('-') || t.starts_with('+')) || t.len() < 2 {
                break;
            }
            if t.starts_with("--") {
                if matches!(t.as_str(), "--rcfile" | "--init-file") {
                    i += 1;
                }
                i += 1;
                continue;
            }
            let body = &t[1..];
            if body.contains('c') {
                command_mode = true;
            }
            if body.contains('s') {
                stdin_mode = true;
            }
            flags.push_str(body);
            if body.contains('o') || body.contains('O') {
                i += 1;
            }
            i += 1;
        }
        let wrapper = if flags.is_empty() {
            program.to_owned()
        } else {
            format!("{program} -{flags}")
        };
        let rest_after = rest.get(i..).map(<[Value]>::to_vec).unwrap_or_default();
        if command_mode {
            let Some(code) = rest_after.first() else {
                return self.emit(program.to_owned(), rest, assigns, redirects, stdin, ctx);
            };
            if !code.literal {
                self.unresolved("shell -c of a string computed at run time", &code.text, ctx);
                let out = self.emit(
                    program.to_owned(),
                    rest.clone(),
                    assigns,
                    redirects,
                    stdin,
                    ctx,
                );
                if let Some(c) = self.out.commands.last_mut() {
                    c.effects.push(Effect::new(
                        EffectKind::DynamicCode,
                        None,
                        "shell -c of a computed string",
                    ));
                }
                return out;
            }
            let mut inner = ctx.nested(wrapper);
            inner.redirects.extend(redirects);
            let code = code.text.clone();
            self.source(&code, &inner, &Stdin::default());
            return Output::default();
        }
        if !stdin_mode {
            if let Some(script) = rest_after.first() {
                // `bash script.sh`: runs code we cannot see here.
                let script = script.text.clone();
                let out = self.emit(
                    program.to_owned(),
                    rest.clone(),
                    assigns,
                    redirects,
                    stdin,
                    ctx,
                );
                if let Some(c) = self.out.commands.last_mut() {
                    c.effects.push(Effect::new(
                        EffectKind::ReadPath,
                        Some(&script),
                        "shell script",
                    ));
                    c.effects.push(Effect::new(
                        EffectKind::DynamicCode,
                        Some(&script),
                        "runs a shell script file",
                    ));
                }
                return out;
            }
        }
        // The shell reads its program from stdin.
        let out = self.emit(
            program.to_owned(),
            rest,
            assigns,
            redirects.clone(),
            stdin,
            ctx,
        );
        let from = stdin.from.clone();
        if let Some(c) = self.out.commands.last_mut() {
            let detail = match &from {
                Some(p) if effects::is_downloader(p) => {
                    format!("shell runs code downloaded by {p}")
                }
                Some(p) if effects::is_decoder(p) => format!("shell runs code decoded by {p}"),
                Some(p) => format!("shell runs code piped from {p}"),
                None if !stdin.literal.is_empty() => "shell runs literal stdin".to_owned(),
                None => "shell reads commands from stdin".to_owned(),
            };
            c.effects.push(Effect::new(
                EffectKind::DynamicCode,
                from.as_deref(),
                detail,
            ));
        }
        if !stdin.literal.is_empty() {
            let inner = {
                let mut c = ctx.nested(format!("{program} <stdin"));
                c.redirects.extend(redirects);
                c
            };
            for code in stdin.literal.clone() {
                self.source(&code, &inner, &Stdin::default());
            }
        } else if from.is_some() || rest_after_is_interactive(&redirects) {
            // Unknown code arrives on stdin.
            self.unresolved(
                "shell reads commands from a pipe or file the analyser cannot see",
                program,
                ctx,
            );
        }
        out
    }

    fn ssh(
        &mut self,
        program: String,
        rest: Vec<Value>,
        assigns: Vec<String>,
        redirects: Vec<Redirect>,
        stdin: &Stdin,
        ctx: &Ctx,
    ) -> Output {
        let mut rest = rest;
        let texts: Vec<&str> = rest.iter().map(|v| v.text.as_str()).collect();
        let parsed = opts::parse(&opts::SSH, &texts);
        let start = texts.len() - parsed.operands.len();
        if parsed.operands.len() <= 1 {
            return self.emit(program, rest, assigns, redirects, stdin, ctx);
        }
        let host = parsed.operands[0].clone();
        let remote = rest.split_off(start + 1);
        let (source, literal) = join(&remote);
        let out = self.emit(program, rest, assigns, redirects, stdin, ctx);
        if !literal {
            self.unresolved("remote command computed at run time", &source, ctx);
        }
        let mut inner = ctx.nested(format!("ssh {host}"));
        inner.inherited.push(Effect::new(
            EffectKind::Network,
            Some(&host),
            "runs on a remote host over ssh",
        ));
        self.source(&source, &inner, stdin);
        out
    }

    fn find(
        &mut self,
        program: String,
        rest: Vec<Value>,
        assigns: Vec<String>,
        redirects: Vec<Redirect>,
        stdin: &Stdin,
        ctx: &Ctx,
    ) -> Output {
        let mut i = 0;
        while i < rest.len() && matches!(rest[i].text.as_str(), "-H" | "-L" | "-P" | "-D" | "-O") {
            if rest[i].text == "-D" {
                i += 1;
            }
            i += 1;
        }
        let mut starts = Vec::new();
        while i < rest.len() {
            let t = &rest[i].text;
            if t.starts_with('-') || t == "(" || t == "!" || t == ")" || t == "," {
                break;
            }
            starts.push(t.clone());
            i += 1;
        }
        if starts.is_empty() {
            starts.push(".".to_owned());
        }
        let mut extra = Vec::new();
        let mut execs = Vec::new();
        let mut filtered = false;
        while i < rest.len() {
            let t = rest[i].text.as_str();
            if t.starts_with('-')
                && !matches!(
                    t,
                    "-maxdepth"
                        | "-mindepth"
                        | "-xdev"
                        | "-mount"
                        | "-depth"
                        | "-follow"
                        | "-noleaf"
                        | "-exec"
                        | "-execdir"
                        | "-ok"
                        | "-okdir"
                        | "-delete"
                        | "-print"
                        | "-print0"
                )
                && !t.chars().nth(1).is_some_and(|c| c.is_ascii_digit())
            {
                filtered = true;
            }
            match t {
                "-exec" | "-execdir" | "-ok" | "-okdir" => {
                    let mut j = i + 1;
                    while j < rest.len() && rest[j].text != ";" && rest[j].text != "+" {
                        j += 1;
                    }
                    execs.push((t.to_owned(), rest[i + 1..j].to_vec()));
                    i = j + 1;
                    continue;
                }
                "-delete" => {
                    for s in &starts {
                        extra.push(Effect::new(EffectKind::DeletePath, Some(s), "find -delete"));
                    }
                }
                "-fprint" | "-fprint0" | "-fls" | "-fprintf" => {
                    if let Some(f) = rest.get(i + 1) {
                        extra.push(Effect::new(
                            EffectKind::WritePath,
                            Some(&f.text),
                            t.to_owned(),
                        ));
                    }
                }
                _ => {}
            }
            i += 1;
        }
        let out = self.emit(program, rest, assigns, redirects, stdin, ctx);
        if let Some(c) = self.out.commands.last_mut() {
            for s in &starts {
                c.effects.push(Effect::new(
                    EffectKind::ReadPath,
                    Some(s),
                    "find start path",
                ));
            }
            c.effects.extend(extra);
        }
        for (how, mut cmd) in execs {
            if cmd.is_empty() {
                continue;
            }
            // With no test before the action, the first path find hands to the command is
            // the start path itself: `find / -exec rm -rf {} \;` removes `/`.
            if !filtered && starts.len() == 1 {
                for w in cmd.iter_mut().skip(1) {
                    if w.text == "{}" {
                        w.text = starts[0].clone();
                    }
                }
            }
            let inner = ctx.wrapped(format!("find {how}"));
            self.normalize(cmd, Vec::new(), Vec::new(), &Stdin::default(), &inner);
        }
        out
    }

    /// `git` with its arguments' texts (git's own options are all it reads).
    fn git(
        &mut self,
        program: String,
        rest: Vec<String>,
        assigns: Vec<String>,
        redirects: Vec<Redirect>,
        stdin: &Stdin,
        ctx: &Ctx,
    ) -> Output {
        let mut rest = rest;
        // Global options end at the first operand (the subcommand): when the first word is
        // one, there are none, and nothing needs parsing.
        let (start, flags) = if rest.first().is_none_or(|a| opts::is_operand(a)) {
            (0, Vec::new())
        } else {
            let parsed = opts::parse(&opts::GIT_GLOBAL, &rest);
            (rest.len() - parsed.operands.len(), parsed.flags)
        };
        let mut extra = Vec::new();
        for (flag, value) in &flags {
            if flag != "c" {
                continue;
            }
            let Some(v) = value else { continue };
            let Some((key, val)) = v.split_once('=') else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            if key.starts_with("alias.") {
                if let Some(code) = val.strip_prefix('!') {
                    let inner = ctx.nested("git alias");
                    self.source(code, &inner, &Stdin::default());
                }
            } else if matches!(
                key.as_str(),
                "core.sshcommand"
                    | "core.pager"
                    | "core.editor"
                    | "core.fsmonitor"
                    | "core.hookspath"
                    | "core.gitproxy"
                    | "diff.external"
                    | "credential.helper"
                    | "sequence.editor"
            ) {
                extra.push(Effect::new(
                    EffectKind::DynamicCode,
                    None,
                    format!("git -c {key} runs a configured program"),
                ));
            }
        }
        rest.drain(..start);
        let out = self.emit_args(program, rest, assigns, redirects, stdin, ctx);
        if let Some(c) = self.out.commands.last_mut() {
            c.effects.extend(extra);
        }
        out
    }

    /// Builds the normalised command, classifies its effects and records it.
    fn emit(
        &mut self,
        program: String,
        args: Vec<Value>,
        assignments: Vec<String>,
        redirects: Vec<Redirect>,
        stdin: &Stdin,
        ctx: &Ctx,
    ) -> Output {
        let args: Vec<String> = args.into_iter().map(|v| v.text).collect();
        self.emit_args(program, args, assignments, redirects, stdin, ctx)
    }

    /// [`Walker::emit`] with the arguments' texts.
    fn emit_args(
        &mut self,
        program: String,
        args: Vec<String>,
        assignments: Vec<String>,
        redirects: Vec<Redirect>,
        stdin: &Stdin,
        ctx: &Ctx,
    ) -> Output {
        // Plain words (the usual case) are written as they are: one allocation in all, none
        // when the text is short enough to be kept inline.
        let mut text = words::ShortText::with_capacity(
            program.len() + args.iter().map(|a| a.len() + 1).sum::<usize>(),
        );
        words::quote_into(&mut text, &program);
        for a in &args {
            words::Out::push(&mut text, ' ');
            words::quote_into(&mut text, a);
        }
        let text = text.finish();
        self.emit_text(program, args, text, assignments, redirects, stdin, ctx)
    }

    /// [`Walker::emit_args`] with the normalised text written already.
    #[allow(clippy::too_many_arguments)]
    fn emit_text(
        &mut self,
        program: impl Into<CompactString>,
        args: Vec<String>,
        text: CompactString,
        assignments: Vec<String>,
        redirects: Vec<Redirect>,
        stdin: &Stdin,
        ctx: &Ctx,
    ) -> Output {
        let mut cmd = SimpleCommand {
            program: program.into(),
            args,
            assignments,
            wrappers: ctx.wrappers.clone(),
            redirects,
            inputs: stdin.literal.clone(),
            stdin_from: stdin.from.clone(),
            effects: ctx.inherited.clone(),
            known_program: false,
            text,
        };
        effects::classify(&mut cmd);
        self.out.commands.push(cmd);
        Output::Command(self.out.commands.len() - 1)
    }
}

enum Item<'a> {
    Name(&'a ast::Word),
    Affix(&'a ast::CommandPrefixOrSuffixItem),
}

enum Unwrap {
    /// Go on with these words.
    Inner(Vec<Value>),
    /// Go on with the wrapper's arguments from this one on.
    From(usize),
    Done(Output),
    Emit,
}

/// The programs [`Walker::normalize`] treats by name (wrappers it unwraps, shells and `eval`
/// whose code it parses again, programs whose arguments it reads: `ssh`, `find`, `git`);
/// any other program is emitted as it is. `normalize` asks this before its `match`, so the
/// list and the match cannot disagree about a program missing here.
fn handled_by_name(program: &str) -> bool {
    crate::effects::is_shell(program)
        || matches!(
            program,
            "command"
                | "builtin"
                | "nohup"
                | "setsid"
                | "unbuffer"
                | "busybox"
                | "catchsegv"
                | "exec"
                | "sudo"
                | "doas"
                | "nice"
                | "timeout"
                | "time"
                | "stdbuf"
                | "ionice"
                | "taskset"
                | "chroot"
                | "flock"
                | "env"
                | "xargs"
                | "su"
                | "runuser"
                | "pkexec"
                | "chrt"
                | "eval"
                | "watch"
                | "npx"
                | "bunx"
                | "pnpx"
                | "bundle"
                | "poetry"
                | "uv"
                | "pipenv"
                | "pdm"
                | "hatch"
                | "pnpm"
                | "yarn"
                | "dotenv"
                | "ssh"
                | "find"
                | "git"
        )
}

fn rest_after_is_interactive(redirects: &[Redirect]) -> bool {
    redirects.iter().any(|r| r.kind == RedirectKind::Read)
}

/// `/usr/bin/rm` is `rm`.
/// [`program_name`] of a borrowed word.
fn program_base(text: &str) -> &str {
    match text.rsplit_once('/') {
        Some((_, base)) if !base.is_empty() => base,
        _ => text,
    }
}

pub(crate) fn program_name(text: String) -> String {
    match text.rsplit_once('/') {
        Some((_, base)) if !base.is_empty() => base.to_owned(),
        _ => text,
    }
}

fn is_assignment(text: &str) -> bool {
    match text.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !name.as_bytes()[0].is_ascii_digit()
        }
        None => false,
    }
}

/// Joins words into one source string as `eval` and `ssh` do (with spaces).
fn join(words: &[Value]) -> (String, bool) {
    let literal = words.iter().all(|w| w.literal);
    let s = words
        .iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    (s, literal)
}

fn shell_join(words: &[&str]) -> String {
    words
        .iter()
        .map(|w| words::quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Words that bash treats specially in command position; a source starting with one goes
/// through the parser.
const RESERVED: &[&str] = &[
    "case", "coproc", "do", "done", "elif", "else", "esac", "fi", "for", "function", "if", "in",
    "select", "then", "time", "until", "while",
];

/// The fast path: a source that is one simple command made only of plain words, split on
/// single spaces. Such a source means to bash exactly its space-separated words: every byte
/// is in `[A-Za-z0-9_./:=@%+,-]` or a space, so there is no quoting, escape, expansion
/// (`$`, `` ` ``, `~`, globs `*?[`, braces), comment, history (`!`), redirection, operator,
/// separator or newline; spaces are single, with none leading or trailing; and the first
/// word is neither a reserved word nor contains `=` (an assignment prefix). Anything else
/// returns `None` and goes through the parser. Each word is then what `words::evaluate`
/// gives for it: itself, literal. `tests/fast_path.rs` compares both paths.
pub(crate) fn plain_words(src: &str) -> Option<std::str::SplitAsciiWhitespace<'_>> {
    let bytes = src.as_bytes();
    if bytes.is_empty() || bytes[0] == b' ' || bytes[bytes.len() - 1] == b' ' {
        return None;
    }
    let mut prev_space = false;
    for &b in bytes {
        let ok = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'_' | b'.' | b'/' | b':' | b'=' | b'@' | b'%' | b'+' | b',' | b'-'
            );
        if b == b' ' {
            if prev_space {
                return None;
            }
            prev_space = true;
        } else if ok {
            prev_space = false;
        } else {
            return None;
        }
    }
    // The words are separated by single spaces, with none at either end and no other
    // white space: splitting at ASCII white space gives the same words as splitting at each
    // space, a byte at a time instead of through `memchr` for every word.
    let words = src.split_ascii_whitespace();
    let first = words.clone().next().unwrap_or("");
    if first.contains('=') || RESERVED.contains(&first) {
        return None;
    }
    Some(words)
}

/// Deepest nesting of brackets, ignoring quoting: an over-estimate, which is the safe side.
fn bracket_depth(src: &str) -> usize {
    let mut depth: usize = 0;
    let mut max = 0;
    for b in src.bytes() {
        match b {
            b'(' | b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path writes a plain command's text without quoting: every word `plain_words`
    /// accepts (in any position, a program's name too) is one `quote` leaves as it is.
    #[test]
    fn plain_words_need_no_quoting() {
        for b in 0u8..128 {
            let c = char::from(b);
            for word in [
                format!("{c}"),
                format!("a{c}"),
                format!("{c}a"),
                format!("/{c}"),
            ] {
                if plain_words(&format!("x {word}")).is_some() {
                    assert_eq!(words::quote(&word), word, "{word:?}");
                    let name = program_name(word.clone());
                    assert_eq!(words::quote(&name), name, "{name:?}");
                }
            }
        }
    }
}
