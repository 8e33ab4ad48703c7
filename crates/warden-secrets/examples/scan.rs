//! `warden scan` without the rest of warden: the benchmark drives this, and it shows how a
//! binary wires [`warden_secrets::cli`].
//!
//! cargo run --release -p warden-secrets --example scan -- [PATH|-] [--json|--format sarif] [--threads N]

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use warden_secrets::cli::{run, ScanArgs, EXIT_ERROR};
use warden_secrets::ScanConfig;

#[derive(Parser)]
#[command(
    name = "warden-scan",
    about = "Find secrets in files, a directory, a git diff or stdin"
)]
struct Cli {
    #[command(flatten)]
    args: ScanArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let color = stdout.is_terminal();
    let mut out = stdout.lock();
    let config = ScanConfig {
        use_builtin: true,
        ..ScanConfig::default()
    };
    match run(&cli.args, config, &mut out, color) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(2)),
        Err(e) => {
            eprintln!("warden scan: {e}");
            ExitCode::from(EXIT_ERROR as u8)
        }
    }
}
