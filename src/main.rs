//! The `partnership-badges` binary: parse the command line and run it.

use clap::Parser as _;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    partnership_badges::telemetry::init();
    let cli = partnership_badges::cli::Cli::parse();
    match partnership_badges::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
