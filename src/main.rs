//! The `partnership-badges` binary: read the settings file, parse the command line, set up
//! logging and run the command.

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    // Before any thread exists: the settings file is applied as environment defaults.
    let args: Vec<_> = std::env::args_os().collect();
    if let Err(e) = partnership_badges::config::apply_config_file(&args) {
        eprintln!("error: {e:#}");
        return std::process::ExitCode::FAILURE;
    }
    let cli = partnership_badges::cli::Cli::parse();
    partnership_badges::telemetry::init(&cli.settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(partnership_badges::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
