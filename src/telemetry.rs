//! Logging setup: `tracing` to stderr, filtered by `RUST_LOG` (default `info`).
//!
//! Request spans carry the method and route template only; keys, tokens, emails and
//! request bodies are never logged.

use tracing_subscriber::{fmt, EnvFilter};

/// Installs the global subscriber; later calls are no-ops (tests call it repeatedly).
pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let _ = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
