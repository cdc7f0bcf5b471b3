//! The command line: `serve` (the default), `migrate`, `keygen`, `token create|revoke`
//! and `verify FILE`. Every option is also an environment variable.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::config::Settings;
use crate::issuer::Issuer;
use crate::keys::KeyRing;
use crate::state::AppState;

/// Partnership Badges: issue and verify Open Badges 3.0 credentials.
#[derive(Debug, Parser)]
#[command(name = "partnership-badges", version, about)]
pub struct Cli {
    /// Settings shared by all commands.
    #[command(flatten)]
    pub settings: Settings,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (generates a signing key on first run).
    Serve,
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Generate a new signing key; it becomes the active key, older ones stay published.
    Keygen,
    /// Manage admin API tokens.
    Token {
        /// Token action.
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Verify a credential file offline: proof, issuer key, validity dates, status.
    Verify {
        /// Path to the credential JSON.
        file: PathBuf,
    },
}

/// Token actions.
#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token; prints it alone on the last line (it is shown only once).
    Create {
        /// Who or what will use it.
        #[arg(long)]
        name: String,
    },
    /// Revoke the token with this name.
    Revoke {
        /// The token's name.
        #[arg(long)]
        name: String,
    },
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.settings;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate => {
            let store =
                crate::db::connect(&settings.database_url, &settings.sqlite_synchronous).await?;
            println!("database is up to date ({})", store.backend());
            Ok(())
        }
        Command::Keygen => {
            let (kid, path) = KeyRing::generate(&settings.keys_dir)?;
            println!(
                "generated key {kid} at {}; it signs from the next start",
                path.display()
            );
            Ok(())
        }
        Command::Token { action } => {
            let store =
                crate::db::connect(&settings.database_url, &settings.sqlite_synchronous).await?;
            match action {
                TokenAction::Create { name } => {
                    let secret = crate::tokens::create(&*store, &name).await?;
                    println!("created token {name:?}; it is shown once, keep it safe:");
                    println!("{secret}");
                }
                TokenAction::Revoke { name } => {
                    let done = store.revoke_token(&name, crate::program::now()).await?;
                    anyhow::ensure!(done, "no active token named {name:?}");
                    println!("revoked token {name:?}");
                }
            }
            store.close().await;
            Ok(())
        }
        Command::Verify { file } => verify_file(settings, &file).await,
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let (keys, generated) = KeyRing::load_or_generate(&settings.keys_dir)?;
    if let Some(path) = generated {
        tracing::info!(path = %path.display(), "generated a new signing key; back it up");
    }
    let store = crate::db::connect(&settings.database_url, &settings.sqlite_synchronous).await?;
    let listener = TcpListener::bind(settings.bind_addr)
        .await
        .with_context(|| format!("binding {}", settings.bind_addr))?;
    let issuer = Issuer::new(&settings, keys);
    tracing::info!(
        addr = %listener.local_addr()?,
        base = issuer.base(),
        database = store.backend(),
        key = issuer.keys.active_kid(),
        "serving"
    );
    let state = AppState::new(store, issuer, settings);
    crate::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn verify_file(settings: Settings, file: &std::path::Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let doc: serde_json::Value = serde_json::from_str(&text).context("the file is not JSON")?;
    let keys = KeyRing::load(&settings.keys_dir)?.unwrap_or_else(|| {
        // No local keys: only did:key credentials can verify.
        KeyRing::single("none", ed25519_dalek::SigningKey::from_bytes(&[0; 32]))
    });
    let store = crate::db::connect(&settings.database_url, &settings.sqlite_synchronous).await?;
    let state = AppState::new(store, Issuer::new(&settings, keys), settings);
    let report = crate::verify::verify_with_state(&state, &doc).await;
    println!("{}", serde_json::to_string_pretty(&report)?);
    state.store.close().await;
    anyhow::ensure!(report.verified, "the credential did not verify");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
