//! Logging setup: `tracing` to stderr as text or JSON, filtered by `RUST_LOG` (default
//! `info`).
//!
//! Request spans carry the method, route template and request id only; keys, tokens,
//! emails and request bodies are never logged.

use tracing_subscriber::{fmt, EnvFilter};

/// Installs the global subscriber (`format` is `text` or `json`); later calls are no-ops
/// (tests call it repeatedly).
pub fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    // Colours only on a terminal: logs sent to a file or a collector stay plain text that
    // tools can search.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let _ = if format == "json" {
        builder.json().with_current_span(true).try_init()
    } else {
        builder.try_init()
    };
}
