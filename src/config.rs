//! Settings, from flags or environment variables (clap). Secrets never reach `Debug` output.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// Settings shared by every command that touches the database or the keys.
#[derive(Clone, Args)]
pub struct Settings {
    /// Database URL: `sqlite://PATH` (created if missing) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/badges.db")]
    pub database_url: String,

    /// SQLite `synchronous` mode: `full` makes every acknowledged issuance survive power loss;
    /// `normal` is faster and survives process crashes only.
    #[arg(long, env = "SQLITE_SYNCHRONOUS", default_value = "full")]
    pub sqlite_synchronous: String,

    /// Directory of the Ed25519 signing keys (files mode 0600).
    #[arg(long, env = "KEYS_DIR", default_value = "keys")]
    pub keys_dir: PathBuf,

    /// Address to listen on.
    #[arg(long = "bind", env = "BIND_ADDR", default_value = "127.0.0.1:8080")]
    pub bind_addr: SocketAddr,

    /// Public base URL of the service, used in every id it issues (default: `http://` + bind).
    #[arg(long, env = "PUBLIC_BASE_URL")]
    pub public_base_url: Option<String>,

    /// Issuer name shown in credentials.
    #[arg(
        long,
        env = "ISSUER_NAME",
        default_value = "Partnership Training Program"
    )]
    pub issuer_name: String,

    /// Issuer web site.
    #[arg(long, env = "ISSUER_URL")]
    pub issuer_url: Option<String>,

    /// Issuer contact email.
    #[arg(long, env = "ISSUER_EMAIL")]
    pub issuer_email: Option<String>,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 256 * 1024)]
    pub max_body_bytes: usize,

    /// Most items accepted in one batch issuance.
    #[arg(long, env = "MAX_BATCH_ITEMS", default_value_t = 500)]
    pub max_batch_items: usize,
}

impl Settings {
    /// The public base URL without a trailing slash.
    pub fn base_url(&self) -> String {
        match &self.public_base_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.bind_addr),
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database_url))
            .field("sqlite_synchronous", &self.sqlite_synchronous)
            .field("keys_dir", &self.keys_dir)
            .field("bind_addr", &self.bind_addr)
            .field("public_base_url", &self.public_base_url)
            .field("issuer_name", &self.issuer_name)
            .field("issuer_url", &self.issuer_url)
            .field("issuer_email", &self.issuer_email)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_batch_items", &self.max_batch_items)
            .finish()
    }
}

/// Hides the password of a database URL (`postgres://user:secret@host` → `user:***@host`).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/badges"),
            "postgres://app:***@db:5432/badges"
        );
        assert_eq!(
            redact_url("sqlite://data/badges.db"),
            "sqlite://data/badges.db"
        );
    }
}
