//! Effect classification: per-program knowledge of what a normalised command does.

use crate::model::{Effect, EffectKind, RedirectKind, SimpleCommand};
use crate::opts::{self, Parsed};
use std::borrow::Cow;

/// Programs that download data from the network to stdout.
pub(crate) fn is_downloader(p: &str) -> bool {
    matches!(
        p,
        "curl" | "wget" | "fetch" | "http" | "https" | "xh" | "aria2c" | "nc" | "ncat" | "socat"
    )
}

/// Programs that decode or decompress data (`base64 -d | sh` hides code).
pub(crate) fn is_decoder(p: &str) -> bool {
    matches!(
        p,
        "base64"
            | "base32"
            | "xxd"
            | "openssl"
            | "gunzip"
            | "zcat"
            | "gzip"
            | "bzip2"
            | "bzcat"
            | "xz"
            | "xzcat"
            | "uudecode"
            | "rev"
            | "tr"
            | "zstd"
            | "zstdcat"
            | "unzip"
    )
}

/// The shells, whose `-c` code and scripts the walker reads as shell again.
pub(crate) fn is_shell(p: &str) -> bool {
    matches!(
        p,
        "sh" | "bash"
            | "zsh"
            | "dash"
            | "ksh"
            | "mksh"
            | "ash"
            | "fish"
            | "rbash"
            | "yash"
            | "csh"
            | "tcsh"
    )
}

/// Literal text a command writes to stdout, when it is known statically.
pub(crate) fn literal_output(cmd: &SimpleCommand) -> Option<String> {
    match cmd.program.as_str() {
        "echo" => {
            let args: Vec<&str> = cmd
                .args
                .iter()
                .map(String::as_str)
                .skip_while(|a| matches!(*a, "-n" | "-e" | "-E" | "-ne" | "-en"))
                .collect();
            Some(args.join(" "))
        }
        "printf" => Some(cmd.args.join(" ")),
        "cat" if cmd.args.is_empty() && !cmd.inputs.is_empty() => Some(cmd.inputs.join("\n")),
        _ => None,
    }
}

fn push(
    cmd: &mut SimpleCommand,
    kind: EffectKind,
    target: Option<&str>,
    detail: impl Into<Cow<'static, str>>,
) {
    cmd.effects.push(Effect::new(kind, target, detail));
}

fn reads(cmd: &mut SimpleCommand, paths: &[String]) {
    for p in paths {
        if p != "-" {
            push(cmd, EffectKind::ReadPath, Some(p), "");
        }
    }
}

fn writes(cmd: &mut SimpleCommand, paths: &[String], detail: &str) {
    for p in paths {
        if p != "-" {
            push(cmd, EffectKind::WritePath, Some(p), detail.to_owned());
        }
    }
}

fn deletes(cmd: &mut SimpleCommand, paths: &[String], detail: &str) {
    for p in paths {
        push(cmd, EffectKind::DeletePath, Some(p), detail.to_owned());
    }
}

fn parse(spec: &opts::Spec, cmd: &SimpleCommand) -> Parsed {
    opts::parse(spec, &cmd.args)
}

/// Read-only programs whose operands are all paths they read.
fn is_reader(p: &str) -> bool {
    matches!(
        p,
        "cat"
            | "tac"
            | "less"
            | "more"
            | "wc"
            | "sort"
            | "uniq"
            | "diff"
            | "cmp"
            | "file"
            | "stat"
            | "ls"
            | "tree"
            | "du"
            | "nl"
            | "od"
            | "hexdump"
            | "strings"
            | "md5sum"
            | "sha1sum"
            | "sha256sum"
            | "sha512sum"
            | "b2sum"
            | "cksum"
            | "bat"
            | "realpath"
            | "readlink"
            | "basename"
            | "dirname"
            | "column"
            | "fold"
            | "paste"
            | "comm"
            | "lsattr"
    )
}

/// Programs without file or other side effects worth reporting.
fn is_inert(p: &str) -> bool {
    matches!(
        p,
        "echo"
            | "printf"
            | "true"
            | "false"
            | ":"
            | "pwd"
            | "whoami"
            | "id"
            | "date"
            | "uname"
            | "hostname"
            | "printenv"
            | "which"
            | "type"
            | "test"
            | "["
            | "seq"
            | "sleep"
            | "cd"
            | "pushd"
            | "popd"
            | "export"
            | "set"
            | "unset"
            | "exit"
            | "return"
            | "read"
            | "wait"
            | "jobs"
            | "history"
            | "shift"
            | "local"
            | "declare"
            | "alias"
            | "clear"
            | "tput"
            | "expr"
            | "let"
            | "cut"
            | "tr"
            | "yes"
            | "uptime"
            | "nproc"
            | "whereis"
            | "hash"
            | "umask"
            | "getopts"
            | "break"
            | "continue"
            | "trap"
            | "times"
            | "ulimit"
    )
}

/// Classifies the effects of `cmd` (appends to `cmd.effects`, sets `known_program`).
pub(crate) fn classify(cmd: &mut SimpleCommand) {
    // The program is lent out while the effects are pushed (nothing below reads
    // `cmd.program`), instead of copied.
    let program = std::mem::take(&mut cmd.program);
    classify_program(cmd, &program);
    cmd.program = program;
}

fn classify_program(cmd: &mut SimpleCommand, p: &str) {
    redirect_effects(cmd);
    let mut known = true;
    match p {
        _ if is_inert(p) => {}
        _ if is_reader(p) => {
            let parsed = parse(&opts::GENERIC, cmd);
            reads(cmd, &parsed.operands);
        }
        "head" | "tail" => {
            let parsed = parse(&opts::HEAD_TAIL, cmd);
            reads(cmd, &parsed.operands);
        }
        "grep" | "egrep" | "fgrep" | "rg" | "ag" | "ack" => {
            let parsed = parse(&opts::GREP, cmd);
            let skip = usize::from(!parsed.has("regexp") && !parsed.has("file"));
            let files: Vec<String> = parsed.operands.iter().skip(skip).cloned().collect();
            reads(cmd, &files);
        }
        "jq" | "yq" => {
            let parsed = parse(&opts::GENERIC, cmd);
            let files: Vec<String> = parsed.operands.iter().skip(1).cloned().collect();
            reads(cmd, &files);
        }
        "rm" | "unlink" => {
            let parsed = parse(&opts::RM, cmd);
            let detail = if parsed.has("recursive") {
                "recursive delete"
            } else {
                "delete"
            };
            deletes(cmd, &parsed.operands, detail);
        }
        "rmdir" => {
            let parsed = parse(&opts::RMDIR, cmd);
            deletes(cmd, &parsed.operands, "remove directory");
        }
        "shred" => {
            let parsed = parse(&opts::SHRED, cmd);
            writes(cmd, &parsed.operands, "overwrite");
            deletes(cmd, &parsed.operands, "shred");
            for o in parsed.operands.clone() {
                push(
                    cmd,
                    EffectKind::DestructiveData,
                    Some(&o),
                    "shred overwrites data irrecoverably",
                );
            }
        }
        "truncate" => {
            let parsed = parse(&opts::TRUNCATE, cmd);
            writes(cmd, &parsed.operands, "truncate");
            if parsed.value("size").is_some_and(|s| s == "0") {
                for o in parsed.operands.clone() {
                    push(
                        cmd,
                        EffectKind::DestructiveData,
                        Some(&o),
                        "truncates to zero bytes",
                    );
                }
            }
        }
        "cp" | "mv" | "install" | "ln" => {
            let parsed = parse(&opts::CP_MV, cmd);
            let mut ops = parsed.operands.clone();
            let dest = match parsed.value("target-directory") {
                Some(t) => Some(t.to_owned()),
                None if ops.len() >= 2 => ops.pop(),
                None => None,
            };
            if let Some(d) = dest {
                writes(cmd, std::slice::from_ref(&d), p);
                if d.starts_with("/dev/") && p == "mv" {
                    push(
                        cmd,
                        EffectKind::DestructiveData,
                        Some(&d),
                        "moves files onto a device",
                    );
                }
            }
            match p {
                "mv" => deletes(cmd, &ops, "moved away"),
                "ln" => {}
                _ => reads(cmd, &ops),
            }
        }
        "tee" => {
            let parsed = parse(&opts::TEE, cmd);
            let detail = if parsed.has("append") {
                "append"
            } else {
                "write"
            };
            writes(cmd, &parsed.operands, detail);
        }
        "touch" | "mkdir" | "mkfifo" | "mknod" => {
            let parsed = parse(&opts::GENERIC, cmd);
            writes(cmd, &parsed.operands, p);
        }
        "sed" => {
            let parsed = parse(&opts::SED, cmd);
            let skip = usize::from(!parsed.has("expression") && !parsed.has("file"));
            let files: Vec<String> = parsed.operands.iter().skip(skip).cloned().collect();
            if parsed.has("in-place") {
                writes(cmd, &files, "sed -i");
            } else {
                reads(cmd, &files);
            }
        }
        "chmod" | "chown" | "chgrp" | "chattr" | "setfacl" => chmod(cmd, p),
        "dd" => {
            for a in cmd.args.clone() {
                if let Some(f) = a.strip_prefix("if=") {
                    push(cmd, EffectKind::ReadPath, Some(f), "dd input");
                } else if let Some(f) = a.strip_prefix("of=") {
                    push(cmd, EffectKind::WritePath, Some(f), "dd output");
                    if is_device(f) {
                        push(
                            cmd,
                            EffectKind::DestructiveData,
                            Some(f),
                            "dd writes to a raw device",
                        );
                    }
                }
            }
        }
        _ if p.starts_with("mkfs")
            || matches!(p, "mke2fs" | "mkswap" | "wipefs" | "blkdiscard") =>
        {
            let parsed = parse(&opts::GENERIC, cmd);
            // `wipefs DEV` without `-a` only lists signatures; `-n` is a dry run.
            let wipefs_harmless = p == "wipefs"
                && (!parsed
                    .flags
                    .iter()
                    .any(|(f, _)| f == "a" || f == "all" || f == "o" || f == "offset")
                    || parsed.flags.iter().any(|(f, _)| f == "n" || f == "no-act"));
            let devices: Vec<String> = if wipefs_harmless {
                Vec::new()
            } else {
                parsed
                    .operands
                    .iter()
                    .filter(|o| o.starts_with("/dev/"))
                    .cloned()
                    .collect()
            };
            for d in devices {
                push(
                    cmd,
                    EffectKind::DestructiveData,
                    Some(&d),
                    "formats or wipes a device",
                );
            }
            push(cmd, EffectKind::Privilege, None, "device administration");
        }
        "parted" | "fdisk" | "sfdisk" | "sgdisk" | "gdisk" | "cfdisk" => {
            // Listing and dumping are harmless; these subcommands and flags rewrite the table.
            let writes_table = cmd.args.iter().any(|a| {
                matches!(
                    a.as_str(),
                    "mklabel"
                        | "mktable"
                        | "mkpart"
                        | "rm"
                        | "resizepart"
                        | "--delete"
                        | "-Z"
                        | "--zap-all"
                        | "-z"
                        | "--zap"
                        | "-o"
                        | "--clear"
                        | "-d"
                        | "-n"
                        | "--new"
                ) && !(p == "sfdisk" && a == "-d")
            }) || (p == "sfdisk"
                && cmd
                    .redirects
                    .iter()
                    .any(|r| r.kind == RedirectKind::Read || r.kind == RedirectKind::HereDoc));
            let device = cmd.args.iter().find(|a| a.starts_with("/dev/")).cloned();
            if writes_table {
                push(
                    cmd,
                    EffectKind::DestructiveData,
                    device.as_deref(),
                    "repartitions a device",
                );
            }
            push(cmd, EffectKind::Privilege, None, "device administration");
        }
        "tar" => tar(cmd),
        "curl" | "wget" | "http" | "https" | "xh" | "aria2c" => downloader(cmd, p),
        "nc" | "ncat" | "netcat" | "socat" | "telnet" | "ftp" | "sftp" | "mosh" => {
            let parsed = parse(&opts::NC, cmd);
            let host = parsed.operands.first().cloned();
            push(cmd, EffectKind::Network, host.as_deref(), p.to_owned());
            if parsed.has("e") || parsed.has("c") {
                push(
                    cmd,
                    EffectKind::DynamicCode,
                    None,
                    "netcat runs a program for the connection",
                );
            }
        }
        "ssh" => {
            let parsed = parse(&opts::SSH, cmd);
            let host = parsed.operands.first().cloned();
            push(cmd, EffectKind::Network, host.as_deref(), "ssh");
        }
        "scp" => {
            let parsed = parse(&opts::SCP, cmd);
            remote_copy(cmd, &parsed.operands, "scp");
        }
        "rsync" => {
            let parsed = parse(&opts::RSYNC, cmd);
            remote_copy(cmd, &parsed.operands, "rsync");
            if parsed.has("delete") || parsed.has("remove-source-files") {
                if let Some(d) = parsed.operands.last().cloned() {
                    push(
                        cmd,
                        EffectKind::DeletePath,
                        Some(&d),
                        "rsync --delete removes files at the destination",
                    );
                }
            }
        }
        "git" => git(cmd),
        "psql" | "mysql" | "mariadb" | "sqlite3" | "sqlite" | "duckdb" | "clickhouse-client"
        | "clickhouse" | "cockroach" | "sqlcmd" | "snowsql" | "mysqlsh" | "pgcli" | "mycli"
        | "litecli" | "usql" | "bq" => sql_client(cmd, p),
        "dropuser" => push(cmd, EffectKind::Privilege, None, "drops a database role"),
        "dropdb" => {
            let target = cmd.args.last().cloned();
            push(
                cmd,
                EffectKind::DestructiveData,
                target.as_deref(),
                "drops a database",
            );
        }
        "mysqladmin" => {
            if cmd.args.iter().any(|a| a.eq_ignore_ascii_case("drop")) {
                push(cmd, EffectKind::DestructiveData, None, "mysqladmin drop");
            }
        }
        "redis-cli" | "valkey-cli" => {
            if cmd.texts().any(|t| {
                let u = t.to_ascii_uppercase();
                u.contains("FLUSHALL") || u.contains("FLUSHDB")
            }) {
                push(
                    cmd,
                    EffectKind::DestructiveData,
                    None,
                    "redis FLUSHALL/FLUSHDB",
                );
            }
            push(cmd, EffectKind::Network, None, p.to_owned());
        }
        "mongo" | "mongosh" => {
            if cmd.texts().any(|t| {
                t.contains("dropDatabase") || t.contains(".drop(") || t.contains("deleteMany({})")
            }) {
                push(
                    cmd,
                    EffectKind::DestructiveData,
                    None,
                    "drops a MongoDB collection or database",
                );
            }
            push(cmd, EffectKind::Network, None, p.to_owned());
        }
        "rails" | "rake" => rails(cmd),
        "prisma" => prisma(cmd),
        "alembic" => alembic(cmd),
        "knex" => {
            let a = cmd.args.join(" ");
            if a.contains("migrate:rollback") && (a.contains("--all") || a.contains("-a")) {
                push(
                    cmd,
                    EffectKind::DestructiveData,
                    None,
                    "knex rolls back every migration",
                );
            } else if a.contains("migrate:") || a.contains("seed:run") {
                push(cmd, EffectKind::Migration, None, "knex migration");
            }
        }
        "sequelize" | "sequelize-cli" => {
            let a = cmd.args.join(" ");
            if a.contains("db:migrate:undo:all")
                || a.contains("db:drop")
                || a.contains("db:seed:undo:all")
            {
                push(
                    cmd,
                    EffectKind::DestructiveData,
                    None,
                    "sequelize drops data or undoes every migration",
                );
            } else if a.contains("db:") {
                push(cmd, EffectKind::Migration, None, "sequelize migration");
            }
        }
        "typeorm" | "typeorm-ts-node-commonjs" | "typeorm-ts-node-esm" => {
            let a = cmd.args.join(" ");
            if a.contains("schema:drop") {
                push(
                    cmd,
                    EffectKind::DestructiveData,
                    None,
                    "typeorm schema:drop",
                );
            } else if a.contains("migration:") || a.contains("schema:sync") {
                push(cmd, EffectKind::Migration, None, "typeorm migration");
            }
        }
        "flyway" => {
            if cmd.args.iter().any(|a| a == "clean") {
                push(
                    cmd,
                    EffectKind::DestructiveData,
                    None,
                    "flyway clean drops every object",
                );
            } else if cmd.args.iter().any(|a| a == "migrate" || a == "undo") {
                push(cmd, EffectKind::Migration, None, "flyway migration");
            }
        }
        "liquibase" => {
            if cmd
                .args
                .iter()
                .any(|a| a.eq_ignore_ascii_case("dropAll") || a == "drop-all")
            {
                push(cmd, EffectKind::DestructiveData, None, "liquibase dropAll");
            } else if cmd
                .args
                .iter()
                .any(|a| a == "update" || a.starts_with("rollback"))
            {
                push(cmd, EffectKind::Migration, None, "liquibase migration");
            }
        }
        "django-admin" => django(cmd, 0),
        "python" | "python2" | "python3" | "pypy" | "pypy3" | "node" | "nodejs" | "deno"
        | "bun" | "perl" | "ruby" | "php" | "lua" | "Rscript" | "osascript" | "pwsh"
        | "powershell" => {
            known = interpreter(cmd, p);
        }
        "source" | "." => {
            let f = cmd.args.first().cloned();
            push(cmd, EffectKind::ReadPath, f.as_deref(), "sourced script");
            push(
                cmd,
                EffectKind::DynamicCode,
                f.as_deref(),
                "sources a script into the shell",
            );
        }
        "eval" => push(cmd, EffectKind::DynamicCode, None, "eval"),
        _ if is_shell(p) => {}
        "terraform" | "tofu" | "terragrunt" => terraform(cmd),
        "pulumi" => {
            if cmd.args.iter().any(|a| a == "destroy") {
                push(
                    cmd,
                    EffectKind::Infrastructure,
                    None,
                    "delete: pulumi destroy",
                );
            } else if cmd
                .args
                .iter()
                .any(|a| a == "up" || a == "update" || a == "refresh")
            {
                push(cmd, EffectKind::Infrastructure, None, "change: pulumi up");
            }
        }
        "kubectl" | "oc" | "k" => kubectl(cmd),
        "helm" => helm(cmd),
        "aws" | "gcloud" | "gsutil" | "az" | "doctl" | "heroku" | "flyctl" | "fly" | "vercel"
        | "netlify" | "firebase" | "gh" | "serverless" | "sls" | "eksctl" | "linode-cli" => {
            cloud(cmd, p)
        }
        "docker" | "podman" | "nerdctl" => docker(cmd, p),
        "docker-compose" => compose(cmd, &cmd.args.clone()),
        "npm" | "yarn" | "pnpm" | "bun " => package_manager(cmd, p),
        "cargo" => {
            if cmd.args.first().is_some_and(|a| a == "publish")
                && !cmd.args.iter().any(|a| a == "--dry-run" || a == "-n")
            {
                push(cmd, EffectKind::Publish, None, "cargo publish");
                push(cmd, EffectKind::Network, Some("crates.io"), "cargo publish");
            } else if cmd
                .args
                .first()
                .is_some_and(|a| a == "yank" || a == "owner")
            {
                push(cmd, EffectKind::Publish, None, "changes a published crate");
            }
            known = false;
        }
        "twine" | "gem" | "poetry" | "flit" | "hatch" | "pdm" | "uv" => {
            let publish = cmd
                .args
                .iter()
                .any(|a| a == "upload" || a == "publish" || a == "push");
            if publish && !(p == "gem" && cmd.args.first().is_some_and(|a| a != "push")) {
                push(
                    cmd,
                    EffectKind::Publish,
                    None,
                    format!("{p} publishes a package"),
                );
                push(cmd, EffectKind::Network, None, "package registry");
            }
            known = false;
        }
        "sudo" | "su" | "doas" | "pkexec" | "passwd" | "visudo" | "usermod" | "useradd"
        | "userdel" | "groupadd" | "chpasswd" | "setcap" | "mount" | "umount" | "insmod"
        | "rmmod" | "modprobe" | "sysctl" => {
            push(
                cmd,
                EffectKind::Privilege,
                None,
                format!("{p}: system administration"),
            );
        }
        "shutdown" | "reboot" | "poweroff" | "halt" | "init" | "telinit" => {
            push(
                cmd,
                EffectKind::Privilege,
                None,
                "shuts down or restarts the machine",
            );
        }
        "crontab" => {
            if cmd.args.iter().any(|a| a == "-r") {
                push(
                    cmd,
                    EffectKind::DestructiveData,
                    None,
                    "crontab -r removes every cron job",
                );
            } else {
                push(
                    cmd,
                    EffectKind::WritePath,
                    Some("crontab"),
                    "edits scheduled jobs",
                );
            }
        }
        "kill" | "pkill" | "killall" => {
            if cmd.args.iter().any(|a| a == "1" || a == "-1") {
                push(
                    cmd,
                    EffectKind::Privilege,
                    None,
                    "signals init or every process",
                );
            }
        }
        _ => known = false,
    }
    if p.ends_with(".py") || p == "manage.py" {
        django(cmd, usize::MAX);
    }
    cmd.known_program = known;
}

fn redirect_effects(cmd: &mut SimpleCommand) {
    // Lent out while effects are pushed (`push` does not read them).
    let reds = std::mem::take(&mut cmd.redirects);
    for r in &reds {
        match r.kind {
            RedirectKind::Read => {
                if !r.target.starts_with("<(") {
                    push(cmd, EffectKind::ReadPath, Some(&r.target), "< redirection");
                }
            }
            RedirectKind::Write | RedirectKind::Append | RedirectKind::ReadWrite => {
                if matches!(
                    r.target.as_str(),
                    "/dev/null" | "/dev/stdout" | "/dev/stderr" | "/dev/tty"
                ) {
                    continue;
                }
                let detail = if r.kind == RedirectKind::Append {
                    ">> redirection"
                } else {
                    "> redirection"
                };
                push(cmd, EffectKind::WritePath, Some(&r.target), detail);
                if is_device(&r.target) {
                    push(
                        cmd,
                        EffectKind::DestructiveData,
                        Some(&r.target),
                        "writes to a raw device",
                    );
                }
            }
            RedirectKind::Duplicate | RedirectKind::HereDoc | RedirectKind::HereString => {}
        }
    }
    cmd.redirects = reds;
}

pub(crate) fn is_device(path: &str) -> bool {
    let Some(dev) = path.strip_prefix("/dev/") else {
        return false;
    };
    [
        "sd", "hd", "vd", "xvd", "nvme", "mmcblk", "disk", "md", "dm-", "mapper/", "loop", "sr",
        "mem", "kmem", "port",
    ]
    .iter()
    .any(|p| dev.starts_with(p))
}

fn chmod(cmd: &mut SimpleCommand, p: &str) {
    let spec = if p == "chmod" {
        &opts::CHMOD
    } else {
        &opts::CHOWN
    };
    // Modes like `-x` or `-w` look like options to a generic parser.
    let parsed = opts::parse(spec, &cmd.args);
    let mut ops = parsed.operands.clone();
    let mut mode = None;
    if parsed.value("reference").is_none() && !ops.is_empty() {
        mode = Some(ops.remove(0));
    }
    if p == "chmod" && mode.is_none() {
        if let Some((f, _)) = parsed
            .flags
            .iter()
            .find(|(f, _)| f.len() == 1 && "rwxXst".contains(f.as_str()))
        {
            mode = Some(format!("-{f}"));
        }
    }
    writes(cmd, &ops, &format!("{p} changes metadata"));
    let recursive = parsed.has("recursive");
    let mode = mode.unwrap_or_default();
    for o in ops {
        if is_system_path(&o) {
            push(
                cmd,
                EffectKind::Privilege,
                Some(&o),
                format!("{p} on a system path"),
            );
        }
        if recursive && (o == "/" || o == "~" || o == "$HOME") {
            push(
                cmd,
                EffectKind::DestructiveData,
                Some(&o),
                format!("recursive {p} of the whole tree"),
            );
        }
    }
    if p == "chmod"
        && (mode.contains('s')
            || (mode.len() == 4
                && (mode.starts_with('4') || mode.starts_with('2') || mode.starts_with('6'))))
    {
        push(
            cmd,
            EffectKind::Privilege,
            None,
            "sets the setuid or setgid bit",
        );
    }
    if p == "chmod" && recursive && mode.ends_with("777") {
        push(
            cmd,
            EffectKind::Privilege,
            None,
            "recursive world-writable permissions",
        );
    }
}

/// Paths owned by the system rather than the user.
pub(crate) fn is_system_path(p: &str) -> bool {
    let p = p.trim_end_matches('/');
    if p.is_empty() {
        return true;
    }
    const SYSTEM: &[&str] = &[
        "/bin",
        "/boot",
        "/dev",
        "/etc",
        "/lib",
        "/lib32",
        "/lib64",
        "/libx32",
        "/opt",
        "/proc",
        "/root",
        "/run",
        "/sbin",
        "/srv",
        "/sys",
        "/usr",
        "/var",
        "/home",
        "/mnt",
        "/media",
        "/System",
        "/Library",
        "/Applications",
        "/Users",
        "/private",
    ];
    SYSTEM
        .iter()
        .any(|s| p == *s || p.starts_with(&format!("{s}/")))
}

fn tar(cmd: &mut SimpleCommand) {
    let first = cmd.args.first().cloned().unwrap_or_default();
    let letters: String = if first.starts_with('-') {
        String::new()
    } else {
        first.clone()
    };
    let has = |c: char| {
        letters.contains(c)
            || cmd
                .args
                .iter()
                .any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains(c))
    };
    let extract = has('x') || cmd.args.iter().any(|a| a == "--extract" || a == "--get");
    let create = has('c') || cmd.args.iter().any(|a| a == "--create");
    let mut file = None;
    let mut dir = None;
    let args = cmd.args.clone();
    for (i, a) in args.iter().enumerate() {
        if a == "-C" || a == "--directory" {
            dir = args.get(i + 1).cloned();
        } else if let Some(d) = a.strip_prefix("--directory=") {
            dir = Some(d.to_owned());
        } else if let Some(f) = a.strip_prefix("--file=") {
            file = Some(f.to_owned());
        } else if a.starts_with('-') && !a.starts_with("--") && a.ends_with('f') || a == "--file" {
            file = args.get(i + 1).cloned();
        }
    }
    if file.is_none() && letters.contains('f') {
        file = args.get(1).cloned();
    }
    if create {
        if let Some(f) = file {
            push(cmd, EffectKind::WritePath, Some(&f), "tar archive");
        }
    } else if extract {
        if let Some(f) = file {
            push(cmd, EffectKind::ReadPath, Some(&f), "tar archive");
        }
        let d = dir.unwrap_or_else(|| ".".to_owned());
        push(cmd, EffectKind::WritePath, Some(&d), "tar extracts here");
    } else if let Some(f) = file {
        push(cmd, EffectKind::ReadPath, Some(&f), "tar archive");
    }
}

fn downloader(cmd: &mut SimpleCommand, p: &str) {
    let spec = if p == "wget" {
        &opts::WGET
    } else {
        &opts::CURL
    };
    let parsed = parse(spec, cmd);
    let hosts: Vec<String> = parsed
        .operands
        .iter()
        .chain(parsed.value("url").map(str::to_owned).iter())
        .map(|u| host_of(u))
        .collect();
    if hosts.is_empty() {
        push(cmd, EffectKind::Network, None, p.to_owned());
    }
    for h in hosts {
        push(cmd, EffectKind::Network, Some(&h), p.to_owned());
    }
    for name in ["output", "output-document"] {
        if let Some(o) = parsed.value(name) {
            let o = o.to_owned();
            push(cmd, EffectKind::WritePath, Some(&o), "download target");
        }
    }
    if let Some(dir) = parsed.value("directory-prefix") {
        let d = dir.to_owned();
        push(cmd, EffectKind::WritePath, Some(&d), "download directory");
    }
    if parsed.has("remote-name") {
        push(
            cmd,
            EffectKind::WritePath,
            Some("."),
            "download into the current directory",
        );
    }
    if p == "wget" && parsed.value("output-document").is_none() && !parsed.operands.is_empty() {
        push(
            cmd,
            EffectKind::WritePath,
            Some("."),
            "download into the current directory",
        );
    }
    for name in ["upload-file", "post-file", "config", "input-file"] {
        if let Some(f) = parsed.value(name) {
            let f = f.to_owned();
            push(
                cmd,
                EffectKind::ReadPath,
                Some(&f),
                "sent or read by the client",
            );
        }
    }
    for (name, value) in &parsed.flags {
        if !(name == "data" || name == "form") {
            continue;
        }
        if let Some(v) = value {
            if let Some(at) = v.find('@') {
                let f = v[at + 1..].split(';').next().unwrap_or("").to_owned();
                if !f.is_empty() && (name == "data" && at == 0 || name == "form") {
                    push(cmd, EffectKind::ReadPath, Some(&f), "file uploaded");
                }
            }
        }
    }
}

/// `https://user@host:8080/x` -> `host`.
pub(crate) fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split(']')
            .next()
            .map_or(host, |h| h.trim_start_matches('['))
    } else {
        host.split(':').next().unwrap_or(host)
    };
    host.to_owned()
}

fn remote_copy(cmd: &mut SimpleCommand, operands: &[String], what: &str) {
    let n = operands.len();
    for (i, o) in operands.iter().enumerate() {
        let remote = o.starts_with("rsync://")
            || o.split_once(':')
                .is_some_and(|(h, _)| !h.is_empty() && !h.contains('/'));
        let last = i + 1 == n && n > 1;
        if remote {
            let host = if o.starts_with("rsync://") {
                host_of(o)
            } else {
                host_of(o.split(':').next().unwrap_or(o))
            };
            push(cmd, EffectKind::Network, Some(&host), what.to_owned());
        } else if last {
            push(cmd, EffectKind::WritePath, Some(o), what.to_owned());
        } else {
            push(cmd, EffectKind::ReadPath, Some(o), what.to_owned());
        }
    }
}

fn git(cmd: &mut SimpleCommand) {
    // The arguments are lent out while the effects are pushed (nothing below reads
    // `cmd.args`), instead of copied.
    let args = std::mem::take(&mut cmd.args);
    if let Some((sub, rest)) = args.split_first() {
        git_subcommand(cmd, sub, rest);
    }
    cmd.args = args;
}

fn vcs(cmd: &mut SimpleCommand, detail: impl Into<Cow<'static, str>>) {
    push(cmd, EffectKind::DestructiveVcs, None, detail);
}

fn git_subcommand(cmd: &mut SimpleCommand, sub: &str, rest: &[String]) {
    match sub {
        "push" => {
            // Arguments that are all operands parse to themselves and no flags: they are
            // read as they are.
            let parsed = (!rest.iter().all(|a| opts::is_operand(a)))
                .then(|| opts::parse(&opts::GIT_PUSH, rest));
            let operands = parsed.as_ref().map_or(rest, |p| &p.operands[..]);
            let has = |flag: &str| parsed.as_ref().is_some_and(|p| p.has(flag));
            let remote = operands.first().map(String::as_str);
            push(cmd, EffectKind::Network, remote, "git push");
            let refspecs = operands.get(1..).unwrap_or_default();
            if has("force") || refspecs.iter().any(|r| r.starts_with('+')) {
                vcs(cmd, "force push");
            }
            if has("delete") || refspecs.iter().any(|r| r.starts_with(':') && r.len() > 1) {
                vcs(cmd, "deletes a remote branch");
            }
            if has("mirror") {
                vcs(cmd, "mirror push overwrites every remote ref");
            }
            if has("prune") {
                vcs(cmd, "push --prune deletes remote branches");
            }
        }
        "fetch" | "pull" | "clone" | "ls-remote" | "remote" | "submodule" => {
            if sub != "remote" || rest.first().is_some_and(|r| r == "update" || r == "prune") {
                push(cmd, EffectKind::Network, None, format!("git {sub}"));
            }
            if sub == "clone" {
                let parsed = opts::parse(&opts::GIT_GENERIC, rest);
                if let Some(d) = parsed.operands.get(1) {
                    push(cmd, EffectKind::WritePath, Some(d), "clone target");
                }
            }
            if sub == "pull" {
                push(
                    cmd,
                    EffectKind::WritePath,
                    Some("."),
                    "git pull updates the work tree",
                );
            }
        }
        "reset" => {
            let parsed = opts::parse(&opts::GIT_RESET, rest);
            if parsed.has("hard") || parsed.has("merge") || parsed.has("keep") {
                vcs(cmd, "reset --hard discards uncommitted work");
            }
            push(cmd, EffectKind::WritePath, Some("."), "git reset");
        }
        "clean" => {
            let parsed = opts::parse(&opts::GIT_CLEAN, rest);
            if parsed.has("force") && !parsed.has("dry-run") {
                vcs(cmd, "clean -f deletes untracked files");
                deletes(cmd, &[".".to_owned()], "git clean");
            }
        }
        "branch" => {
            let parsed = opts::parse(&opts::GIT_BRANCH, rest);
            if parsed.has("delete") && parsed.has("force") {
                vcs(cmd, "branch -D deletes unmerged work");
            } else if (parsed.has("move") || parsed.has("copy")) && parsed.has("force") {
                vcs(cmd, "branch -M/-C overwrites a branch");
            } else if parsed.has("force") && !parsed.operands.is_empty() {
                vcs(cmd, "branch -f moves a branch");
            }
        }
        "checkout" | "restore" => {
            let parsed = opts::parse(&opts::GIT_CHECKOUT, rest);
            // `git restore --staged` alone only touches the index.
            let staged_only = sub == "restore"
                && parsed.flags.iter().any(|(f, _)| f == "S" || f == "staged")
                && !parsed
                    .flags
                    .iter()
                    .any(|(f, _)| f == "W" || f == "worktree");
            let discards = parsed.double_dash
                && parsed
                    .operands
                    .iter()
                    .any(|o| matches!(o.as_str(), "." | "*" | ":/" | "./"))
                || (sub == "restore"
                    && !staged_only
                    && parsed.operands.iter().any(|o| o == "." || o == ":/"))
                || (sub == "checkout" && parsed.has("force"));
            if discards {
                vcs(cmd, format!("{sub} discards uncommitted changes"));
            }
            push(cmd, EffectKind::WritePath, Some("."), format!("git {sub}"));
        }
        "stash" => match rest.first().map(String::as_str) {
            Some("clear") => vcs(cmd, "stash clear deletes every stash"),
            Some("drop") => vcs(cmd, "stash drop deletes a stash"),
            _ => push(cmd, EffectKind::WritePath, Some("."), "git stash"),
        },
        "filter-branch" | "filter-repo" => vcs(cmd, "rewrites history"),
        "reflog" if rest.first().is_some_and(|r| r == "expire" || r == "delete") => {
            vcs(cmd, "expires reflog entries (unrecoverable)");
        }
        "update-ref" if rest.iter().any(|r| r == "-d" || r == "--stdin") => {
            vcs(cmd, "update-ref -d deletes a ref")
        }
        "gc" if rest
            .iter()
            .any(|r| r.starts_with("--prune=now") || r == "--prune=all") =>
        {
            vcs(cmd, "gc --prune=now drops unreachable objects");
        }
        "rebase" | "commit" | "merge" | "cherry-pick" | "revert" | "am" | "apply" | "add"
        | "rm" | "mv" | "switch" | "tag" | "init" | "config" | "worktree" => {
            if sub == "commit" && rest.iter().any(|r| r == "--amend") {
                push(
                    cmd,
                    EffectKind::WritePath,
                    Some(".git"),
                    "amends the last commit",
                );
            }
            if sub == "rm" {
                let parsed = opts::parse(&opts::GIT_GENERIC, rest);
                deletes(cmd, &parsed.operands, "git rm");
            }
            push(cmd, EffectKind::WritePath, Some("."), format!("git {sub}"));
        }
        _ => {}
    }
}

fn sql_client(cmd: &mut SimpleCommand, p: &str) {
    let spec = match p {
        "psql" | "pgcli" => &opts::PSQL,
        "mysql" | "mariadb" | "mycli" => &opts::MYSQL,
        _ => &opts::SQLITE,
    };
    let parsed = parse(spec, cmd);
    if let Some(f) = parsed.value("file") {
        let f = f.to_owned();
        push(cmd, EffectKind::ReadPath, Some(&f), "SQL script");
    }
    let mut hits = Vec::new();
    // The joined arguments too: `ssh db psql -c "drop table x"` reaches the remote shell as
    // separate words.
    let joined = cmd.args.join(" ");
    let texts: Vec<String> = cmd
        .args
        .iter()
        .chain(cmd.inputs.iter())
        .chain(std::iter::once(&joined))
        .cloned()
        .collect();
    for t in &texts {
        if let Some(h) = destructive_sql(t) {
            hits.push(h);
        }
    }
    hits.sort();
    hits.dedup();
    for h in hits {
        push(
            cmd,
            EffectKind::DestructiveData,
            None,
            format!("{h} reaching {p}"),
        );
    }
    if matches!(
        p,
        "psql"
            | "mysql"
            | "mariadb"
            | "pgcli"
            | "mycli"
            | "clickhouse-client"
            | "cockroach"
            | "sqlcmd"
            | "snowsql"
            | "bq"
            | "mysqlsh"
            | "usql"
    ) {
        push(
            cmd,
            EffectKind::Network,
            parsed.value("host"),
            "database connection",
        );
    }
}

/// Finds a destructive SQL statement in `text`: DROP, TRUNCATE, DELETE or UPDATE without WHERE.
pub(crate) fn destructive_sql(text: &str) -> Option<String> {
    for stmt in text.split(';') {
        let tokens: Vec<String> = stmt
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|t| !t.is_empty())
            .map(str::to_ascii_uppercase)
            .collect();
        let has = |w: &str| tokens.iter().any(|t| t == w);
        for (i, t) in tokens.iter().enumerate() {
            let next = tokens.get(i + 1).map(String::as_str);
            match (t.as_str(), next) {
                (
                    "DROP",
                    Some(
                        obj @ ("TABLE" | "DATABASE" | "SCHEMA" | "VIEW" | "INDEX" | "USER" | "ROLE"
                        | "COLUMN" | "COLLECTION" | "KEYSPACE" | "OWNED"),
                    ),
                ) => {
                    return Some(format!("DROP {obj}"));
                }
                ("TRUNCATE", Some(_))
                    if i == 0 || tokens.get(i.wrapping_sub(1)).is_some_and(|p| p != "NO") =>
                {
                    return Some("TRUNCATE".to_owned());
                }
                ("DELETE", Some("FROM")) if !has("WHERE") => {
                    return Some("DELETE without WHERE".to_owned())
                }
                ("UPDATE", Some(_)) if i == 0 && has("SET") && !has("WHERE") => {
                    return Some("UPDATE without WHERE".to_owned());
                }
                _ => {}
            }
        }
    }
    None
}

fn rails(cmd: &mut SimpleCommand) {
    for a in cmd.args.clone() {
        let a = a.as_str();
        if matches!(
            a,
            "db:drop"
                | "db:reset"
                | "db:purge"
                | "db:schema:load"
                | "db:migrate:reset"
                | "db:truncate_all"
                | "db:structure:load"
                | "db:drop:all"
                | "db:test:purge"
        ) {
            push(
                cmd,
                EffectKind::DestructiveData,
                None,
                format!("rails {a} drops or reloads the database"),
            );
        } else if a.starts_with("db:migrate")
            || a == "db:rollback"
            || a == "db:setup"
            || a == "db:seed"
        {
            push(cmd, EffectKind::Migration, None, format!("rails {a}"));
        }
    }
}

fn django(cmd: &mut SimpleCommand, start: usize) {
    // `python manage.py flush` arrives with args ["manage.py", "flush"]; `./manage.py flush`
    // with args ["flush"]; `django-admin flush` with args ["flush"].
    let args: Vec<String> = if start == usize::MAX {
        cmd.args.clone()
    } else {
        cmd.args.iter().skip(start).cloned().collect()
    };
    let Some(sub) = args.iter().find(|a| !a.starts_with('-')) else {
        return;
    };
    match sub.as_str() {
        "flush" | "reset_db" | "sqlflush" | "reset" | "drop_test_database" => {
            push(
                cmd,
                EffectKind::DestructiveData,
                None,
                format!("django {sub} deletes database data"),
            );
        }
        "migrate" => {
            if args.iter().any(|a| a == "zero") {
                push(
                    cmd,
                    EffectKind::DestructiveData,
                    None,
                    "django migrate zero unapplies every migration",
                );
            } else {
                push(cmd, EffectKind::Migration, None, "django migrate");
            }
        }
        _ => {}
    }
}

fn prisma(cmd: &mut SimpleCommand) {
    let a = cmd.args.join(" ");
    if a.contains("migrate reset")
        || a.contains("--force-reset")
        || a.contains("--accept-data-loss")
    {
        push(
            cmd,
            EffectKind::DestructiveData,
            None,
            "prisma resets the database",
        );
    } else if a.contains("migrate") || a.contains("db push") {
        push(cmd, EffectKind::Migration, None, "prisma migration");
    }
}

fn alembic(cmd: &mut SimpleCommand) {
    let args = cmd.args.clone();
    if let Some(i) = args.iter().position(|a| a == "downgrade") {
        if args.get(i + 1).is_some_and(|t| t == "base") {
            push(
                cmd,
                EffectKind::DestructiveData,
                None,
                "alembic downgrade base drops every migration",
            );
        } else {
            push(cmd, EffectKind::Migration, None, "alembic downgrade");
        }
    } else if args.iter().any(|a| a == "upgrade" || a == "stamp") {
        push(cmd, EffectKind::Migration, None, "alembic migration");
    }
}

fn interpreter(cmd: &mut SimpleCommand, p: &str) -> bool {
    let args = cmd.args.clone();
    // Find the code option or the script operand.
    let code_flags: &[&str] = match p {
        "python" | "python2" | "python3" | "pypy" | "pypy3" => &["-c"],
        "node" | "nodejs" | "bun" => &["-e", "--eval", "-p", "--print"],
        "deno" => &["eval"],
        "perl" => &["-e", "-E"],
        "ruby" => &["-e"],
        "php" => &["-r"],
        "lua" => &["-e"],
        "Rscript" => &["-e"],
        "osascript" => &["-e"],
        "pwsh" | "powershell" => &["-c", "-Command", "-command"],
        _ => &[],
    };
    for (i, a) in args.iter().enumerate() {
        let cluster_hit = a.starts_with('-')
            && !a.starts_with("--")
            && code_flags
                .iter()
                .any(|f| f.len() == 2 && a.len() > 2 && a[1..].contains(&f[1..]) && p != "node");
        if code_flags.contains(&a.as_str()) || cluster_hit {
            let code = args.get(i + 1).cloned().unwrap_or_default();
            push(
                cmd,
                EffectKind::DynamicCode,
                None,
                format!("{p} {a} runs inline code"),
            );
            let _ = code;
            return true;
        }
        if a == "-m" && p.starts_with("py") {
            return false;
        }
        if !a.starts_with('-') {
            if a.ends_with("manage.py") {
                django(cmd, i + 1);
            }
            push(cmd, EffectKind::ReadPath, Some(a), "script file");
            return false;
        }
    }
    // No code and no script: the interpreter reads its program from stdin.
    let from = cmd.stdin_from.clone();
    if from.is_some() || !cmd.inputs.is_empty() {
        let detail = match &from {
            Some(f) if is_downloader(f) => format!("{p} runs code downloaded by {f}"),
            Some(f) if is_decoder(f) => format!("{p} runs code decoded by {f}"),
            Some(f) => format!("{p} runs code piped from {f}"),
            None => format!("{p} runs code from a heredoc"),
        };
        push(cmd, EffectKind::DynamicCode, from.as_deref(), detail);
    }
    false
}

fn terraform(cmd: &mut SimpleCommand) {
    let parsed = parse(&opts::TERRAFORM, cmd);
    let sub = parsed.operands.first().map(String::as_str).unwrap_or("");
    let second = parsed.operands.get(1).map(String::as_str).unwrap_or("");
    match sub {
        "destroy" => push(
            cmd,
            EffectKind::Infrastructure,
            None,
            "delete: terraform destroy",
        ),
        "apply"
            if parsed.has("destroy")
                || cmd.args.iter().any(|a| a == "-destroy" || a == "--destroy") =>
        {
            push(
                cmd,
                EffectKind::Infrastructure,
                None,
                "delete: terraform apply -destroy",
            )
        }
        "state" if matches!(second, "rm" | "push" | "replace-provider") => {
            push(
                cmd,
                EffectKind::Infrastructure,
                None,
                format!("delete: terraform state {second}"),
            );
        }
        "workspace" if second == "delete" => push(
            cmd,
            EffectKind::Infrastructure,
            None,
            "delete: terraform workspace delete",
        ),
        "apply" | "import" | "taint" | "untaint" | "run-all" => {
            push(
                cmd,
                EffectKind::Infrastructure,
                None,
                format!("change: terraform {sub}"),
            );
        }
        _ => {}
    }
}

fn kubectl(cmd: &mut SimpleCommand) {
    let parsed = opts::parse(&opts::KUBECTL_GLOBAL, &cmd.args);
    let sub = parsed.operands.first().cloned().unwrap_or_default();
    match sub.as_str() {
        "delete" => push(
            cmd,
            EffectKind::Infrastructure,
            parsed.operands.get(1).map(String::as_str),
            "delete: kubectl delete",
        ),
        "drain" | "cordon" | "taint" => push(
            cmd,
            EffectKind::Infrastructure,
            None,
            format!("change: kubectl {sub}"),
        ),
        "apply" | "create" | "replace" | "patch" | "edit" | "scale" | "rollout" | "set"
        | "label" | "annotate" | "expose" | "run" | "autoscale" => {
            let d = if sub == "scale" && cmd.args.iter().any(|a| a == "--replicas=0") {
                "delete: kubectl scale --replicas=0".to_owned()
            } else if sub == "apply" && cmd.args.iter().any(|a| a.starts_with("--prune")) {
                "delete: kubectl apply --prune".to_owned()
            } else {
                format!("change: kubectl {sub}")
            };
            push(cmd, EffectKind::Infrastructure, None, d);
        }
        "exec" | "cp" | "port-forward" | "attach" | "debug" => {
            push(cmd, EffectKind::Network, None, format!("kubectl {sub}"))
        }
        _ => {}
    }
}

fn helm(cmd: &mut SimpleCommand) {
    let parsed = opts::parse(&opts::HELM_GLOBAL, &cmd.args);
    let sub = parsed.operands.first().cloned().unwrap_or_default();
    match sub.as_str() {
        "uninstall" | "delete" | "del" | "un" => push(
            cmd,
            EffectKind::Infrastructure,
            parsed.operands.get(1).map(String::as_str),
            "delete: helm uninstall",
        ),
        "install" | "upgrade" | "rollback" => push(
            cmd,
            EffectKind::Infrastructure,
            None,
            format!("change: helm {sub}"),
        ),
        _ => {}
    }
}

fn cloud(cmd: &mut SimpleCommand, p: &str) {
    let parsed = opts::parse(&opts::CLOUD_GLOBAL, &cmd.args);
    let ops: Vec<String> = parsed.operands.clone();
    let is_delete = |o: &str| {
        o == "delete"
            || o == "rm"
            || o == "rb"
            || o == "destroy"
            || o == "remove"
            || o == "purge"
            || o.starts_with("delete-")
            || o.starts_with("terminate-")
            || o.starts_with("deregister-")
            || o.starts_with("remove-")
            || o.starts_with("destroy")
            || o == "apps:destroy"
            || o == "pg:reset"
            || o == "apps:delete"
    };
    let read_only = |o: &str| {
        o.starts_with("describe")
            || o.starts_with("list")
            || o.starts_with("get")
            || o == "ls"
            || o == "show"
            || o == "version"
            || o == "help"
            || o == "login"
            || o == "status"
            || o == "whoami"
            || o == "info"
            || o == "logs"
            || o == "view"
            || o == "auth"
            || o == "config"
    };
    let verb = ops.iter().find(|o| is_delete(o));
    if p == "gh" {
        // Only a few gh commands are destructive; most are reads of issues and PRs.
        if ops.len() >= 2 && ops[1] == "delete" && matches!(ops[0].as_str(), "repo") {
            push(
                cmd,
                EffectKind::Infrastructure,
                ops.get(2).map(String::as_str),
                format!("delete: gh {} delete", ops[0]),
            );
        }
        push(cmd, EffectKind::Network, Some("github.com"), "gh");
        return;
    }
    // Deleting a message, a tag or a cache entry is routine; deleting a cluster, a database,
    // a bucket or a resource group is not.
    let light = |o: &str| {
        [
            "message",
            "item",
            "tag",
            "label",
            "cache",
            "lock",
            "alarm",
            "dashboard",
            "blob",
            "entity",
            "rule",
            "variable",
            "gpg-key",
            "ssh-key",
            "auth",
            "membership",
            "remove-value",
            "object",
            "permission",
            "policy-version",
            "key-pair",
            "token",
            "context",
            "release",
            "comment",
        ]
        .iter()
        .any(|w| o.contains(w))
    };
    let words: Vec<&str> = ops
        .iter()
        .map(String::as_str)
        .filter(|o| !o.contains('/') && !o.contains(':') || o.ends_with(":destroy"))
        .take(4)
        .collect();
    let s3_object = p == "aws"
        && ops.first().is_some_and(|s| s == "s3")
        && ops.get(1).is_some_and(|v| v == "rm")
        && !cmd.args.iter().any(|a| a == "--recursive");
    let verb = verb.filter(|_| {
        !s3_object
            && !words.iter().any(|w| light(w))
            && !cmd
                .args
                .iter()
                .any(|a| a == "help" || a == "--dryrun" || a == "--dry-run")
    });
    if s3_object || words.iter().any(|w| light(w)) && ops.iter().any(|o| is_delete(o)) {
        push(
            cmd,
            EffectKind::Infrastructure,
            None,
            format!("change: {p} {} (deletes one item)", words.join(" ")),
        );
    }
    if let Some(v) = verb {
        let v = v.clone();
        let recursive = cmd.args.iter().any(|a| a == "--recursive" || a == "-r");
        let d = if p == "aws" && v == "rm" && !recursive && ops.first().is_some_and(|s| s == "s3") {
            "delete: aws s3 rm".to_owned()
        } else {
            format!(
                "delete: {p} {}",
                ops.iter().take(4).cloned().collect::<Vec<_>>().join(" ")
            )
        };
        push(cmd, EffectKind::Infrastructure, None, d);
    } else if !ops.is_empty() && !ops.iter().any(|o| read_only(o)) {
        push(
            cmd,
            EffectKind::Infrastructure,
            None,
            format!(
                "change: {p} {}",
                ops.iter().take(3).cloned().collect::<Vec<_>>().join(" ")
            ),
        );
    }
    push(cmd, EffectKind::Network, None, p.to_owned());
}

fn docker(cmd: &mut SimpleCommand, p: &str) {
    let parsed = parse(&opts::DOCKER, cmd);
    let ops = parsed.operands.clone();
    let sub = ops.first().cloned().unwrap_or_default();
    let second = ops.get(1).cloned().unwrap_or_default();
    match (sub.as_str(), second.as_str()) {
        ("system", "prune") => push(
            cmd,
            EffectKind::Infrastructure,
            None,
            format!("delete: {p} system prune"),
        ),
        ("volume", "prune" | "rm") => push(
            cmd,
            EffectKind::Infrastructure,
            None,
            format!("delete: {p} volume {second} destroys volume data"),
        ),
        ("compose", _) => {
            let rest: Vec<String> = cmd
                .args
                .iter()
                .skip_while(|a| *a != "compose")
                .skip(1)
                .cloned()
                .collect();
            compose(cmd, &rest);
        }
        ("push", _) => {
            push(
                cmd,
                EffectKind::Publish,
                ops.get(1).map(String::as_str),
                "docker push publishes an image",
            );
            push(cmd, EffectKind::Network, None, "registry");
        }
        ("run" | "create", _)
            if parsed.has("privileged")
                || cmd
                    .args
                    .iter()
                    .any(|a| a.starts_with("/:/") || a.starts_with("/var/run/docker.sock")) =>
        {
            push(
                cmd,
                EffectKind::Privilege,
                None,
                "container with host privileges",
            );
        }
        _ => {}
    }
}

fn compose(cmd: &mut SimpleCommand, rest: &[String]) {
    let parsed = opts::parse(&opts::DOCKER, rest);
    if parsed.operands.first().is_some_and(|s| s == "down") && parsed.has("volumes") {
        push(
            cmd,
            EffectKind::Infrastructure,
            None,
            "delete: compose down -v destroys volumes",
        );
    }
}

fn package_manager(cmd: &mut SimpleCommand, p: &str) {
    let sub = cmd
        .args
        .iter()
        .find(|a| !a.starts_with('-'))
        .map_or("", String::as_str);
    // Copied only when an effect names it.
    let sub = match sub {
        "publish" | "unpublish" | "deprecate" | "dist-tag" => sub.to_owned(),
        _ => return,
    };
    if sub == "publish" && !cmd.args.iter().any(|a| a == "--dry-run") {
        push(cmd, EffectKind::Publish, None, format!("{p} publish"));
        push(
            cmd,
            EffectKind::Network,
            Some("registry.npmjs.org"),
            format!("{p} publish"),
        );
    } else if sub == "unpublish"
        || sub == "deprecate"
        || (sub == "dist-tag" && cmd.args.iter().any(|a| a == "rm"))
    {
        push(
            cmd,
            EffectKind::Publish,
            None,
            format!("{p} {sub} changes a published package"),
        );
    }
}
