//! Settings, from flags or environment variables (clap). Secrets never reach `Debug` output.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// Settings shared by every command that touches the database or the keys.
#[derive(Clone, Args)]
pub struct Settings {
    /// A TOML file of settings (keys are the long flag names with `_`, e.g. `database_url`).
    /// Precedence: flags, then environment variables, then this file, then defaults.
    #[arg(long = "config", env = "CONFIG_FILE")]
    pub config_file: Option<PathBuf>,

    /// Log format: `text` for people, `json` for log collectors.
    #[arg(long, env = "LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,

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

    /// The issuer id of new credentials: `https` (`{base}/issuer`, the default) or `did-web`
    /// (`did:web:{host}`, its DID document at `/.well-known/did.json`, or `/did.json` when the
    /// base URL has a path). Credentials issued under either
    /// keep verifying; the OB 2.0 views always name the https Profile.
    #[arg(long, env = "ISSUER_ID", value_enum, default_value_t = IssuerIdForm::Https)]
    pub issuer_id: IssuerIdForm,

    /// How long a wallet exchange (`POST /api/v1/credentials/{id}/exchanges`, or "Add to
    /// wallet" on the holder's page) stays open, in seconds.
    #[arg(long, env = "EXCHANGE_TTL_SECS", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub exchange_ttl_secs: u64,

    /// Issuer web site.
    #[arg(long, env = "ISSUER_URL")]
    pub issuer_url: Option<String>,

    /// Issuer contact email.
    #[arg(long, env = "ISSUER_EMAIL")]
    pub issuer_email: Option<String>,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 256 * 1024)]
    pub max_body_bytes: usize,

    /// Largest body `POST /verify` accepts, in bytes: room for a baked badge image (its
    /// embedded credential alone may be 1 MiB). Larger bodies are answered `413`, at once
    /// when `Content-Length` says so, else as soon as the limit is passed.
    #[arg(long, env = "MAX_VERIFY_BODY_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_verify_body_bytes: usize,

    /// On SIGTERM, how long in-flight requests may take to finish before the process exits.
    #[arg(long, env = "SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,

    /// Most items accepted in one batch issuance.
    #[arg(long, env = "MAX_BATCH_ITEMS", default_value_t = 500)]
    pub max_batch_items: usize,

    /// Origins allowed to read the public registry feeds from browsers (CORS on
    /// `/registry.json`, its schema and the feeds; GET, HEAD, OPTIONS): `*` for any, or a
    /// comma-separated list such as `https://webmaker.org,https://www.webmaker.org`.
    #[arg(
        long,
        env = "REGISTRY_ALLOWED_ORIGINS",
        default_value = "*",
        value_delimiter = ','
    )]
    pub registry_allowed_origins: Vec<String>,

    /// Sites allowed to frame `/registry/embed`: the CSP `frame-ancestors` source list, e.g.
    /// `*` (any) or `https://webmaker.org https://*.webmaker.org`. Other pages are never framed.
    #[arg(long, env = "REGISTRY_FRAME_ANCESTORS", default_value = "*")]
    pub registry_frame_ancestors: String,

    /// How often, in milliseconds, an instance re-reads the registry version from the
    /// database before answering from its in-memory cache: the longest a change made through
    /// another instance takes to show here (changes through this instance show at once).
    #[arg(long, env = "REGISTRY_RECHECK_MS", default_value_t = 1000)]
    pub registry_recheck_ms: u64,

    /// How long, in seconds, an instance answers the program's figures (the dashboard,
    /// `GET /api/v1/stats`) from memory: the longest a change made elsewhere (another
    /// instance, the mail sender) takes to show. Writes through this instance show at once.
    /// 0 computes them on every request.
    #[arg(long, env = "STATS_CACHE_SECS", default_value_t = 10)]
    pub stats_cache_secs: u64,

    /// Longest a request may take, in seconds, from its arrival to the start of the answer
    /// (reading the body included). A request whose body is still arriving then is answered
    /// `408 Request Timeout` (the client is slow); one whose body has arrived `503 Service
    /// Unavailable` with `Retry-After` (the service is slow). Either way the work is dropped.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_secs: u64,

    /// `POST /verify` requests one client may make per minute (0: no limit). Verification is
    /// the costliest public operation (JSON-LD expansion, canonicalisation, signature check),
    /// so one client cannot take all the CPU. Over the limit: `429` with `Retry-After`.
    #[arg(long, env = "VERIFY_RATE_PER_MINUTE", default_value_t = 60)]
    pub verify_rate_per_minute: u32,

    /// `POST /verify` requests one client may make at once before the per-minute rate
    /// applies (a person checking a handful of badges in a row is never slowed down).
    #[arg(long, env = "VERIFY_RATE_BURST", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub verify_rate_burst: u32,

    /// Failed admin authentications (`401` on `/api/v1/…`) one client may have per
    /// `AUTH_FAILURE_WINDOW_SECS` (0: no limit). Past it, every admin request from that
    /// client is answered `429` with `Retry-After` before its token is even looked at, which
    /// makes guessing tokens hopeless; failures free up one by one over the window.
    #[arg(long, env = "AUTH_FAILURE_LIMIT", default_value_t = 10)]
    pub auth_failure_limit: u32,

    /// The window of `AUTH_FAILURE_LIMIT`, in seconds.
    #[arg(long, env = "AUTH_FAILURE_WINDOW_SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub auth_failure_window_secs: u64,

    /// Take the client address for the limits above from `X-Forwarded-For` instead of the
    /// connection. Turn on only behind a load balancer or reverse proxy (then every
    /// connection comes from the proxy, and all clients would share one limit) that appends
    /// the address it sees to `X-Forwarded-For`: the right-most address is used, because the
    /// ones left of it are whatever the client chose to send. Off, the header is ignored.
    #[arg(long, env = "TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// Other issuers whose credential URLs `POST /verify` may name (comma-separated origins,
    /// URL prefixes or host names). Remote fetching is not enabled yet: listed issuers get a
    /// report saying so, others "issuer not resolvable here".
    #[arg(long, env = "VERIFY_ALLOWED_ISSUERS", value_delimiter = ',')]
    pub verify_allowed_issuers: Vec<String>,

    /// The mail server that sends holders their messages: `smtp://host:587?tls=required`
    /// (STARTTLS, insisted on), `?tls=opportunistic` (STARTTLS when offered), `smtps://host:465`
    /// (TLS from the start), or plain `smtp://host:25` (a relay on the same machine only);
    /// with `user:password@` for authentication. Unset: every message is written as an
    /// `.eml` file under `OUTBOX_DIR` instead, and nothing needs a mail server.
    #[arg(long, env = "SMTP_URL")]
    pub smtp_url: Option<String>,

    /// The `From` of every message (default: the issuer's name at `ISSUER_EMAIL`, else
    /// `no-reply@` the public host).
    #[arg(long, env = "MAIL_FROM")]
    pub mail_from: Option<String>,

    /// Where messages are written as `.eml` files when `SMTP_URL` is unset.
    #[arg(long, env = "OUTBOX_DIR", default_value = "data/outbox")]
    pub outbox_dir: PathBuf,

    /// Send attempts per message before it is marked `failed` (a permanent refusal from
    /// the mail server, a 5xx, fails it at once).
    #[arg(long, env = "MAIL_MAX_ATTEMPTS", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub mail_max_attempts: u32,

    /// The wait after a message's first failed attempt, in milliseconds; it doubles with
    /// every further failure (30 s, 1 min, 2 min, … by default, about two hours in all).
    #[arg(long, env = "MAIL_RETRY_BASE_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub mail_retry_base_ms: u64,

    /// How long a sender holds the messages it has claimed, in seconds: should it die
    /// mid-send, they come due again after this, for this or another instance.
    #[arg(long, env = "MAIL_LEASE_SECS", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub mail_lease_secs: u64,

    /// How often, in milliseconds, the sender looks for due messages written by other
    /// instances or due for a retry (messages this instance writes wake it at once).
    #[arg(long, env = "MAIL_POLL_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(10..))]
    pub mail_poll_ms: u64,

    /// Holder sign-in link lifetime, in days.
    #[arg(long, env = "HOLDER_LINK_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=365))]
    pub holder_link_days: u32,

    /// Holder session lifetime, in hours (then the holder signs in again with a link).
    #[arg(long, env = "HOLDER_SESSION_HOURS", default_value_t = 168,
          value_parser = clap::value_parser!(u32).range(1..=8760))]
    pub holder_session_hours: u32,

    /// Sign-in links `/me/login` sends one address per hour (more requests are answered
    /// alike, and send nothing).
    #[arg(long, env = "LOGIN_LINKS_PER_HOUR", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub login_links_per_hour: u32,

    /// `/me/login` requests one client may make per hour; past it, `429`.
    #[arg(long, env = "LOGIN_RATE_PER_HOUR", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub login_rate_per_hour: u32,

    /// Minutes a staff console session survives without a request.
    #[arg(long, env = "STAFF_IDLE_MINUTES", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub staff_idle_minutes: u32,

    /// Hours a staff console session lasts at most, however active.
    #[arg(long, env = "STAFF_SESSION_HOURS", default_value_t = 12,
          value_parser = clap::value_parser!(u32).range(1..=168))]
    pub staff_session_hours: u32,

    /// Wrong passwords an account may get per 15 minutes before its sign-in is refused
    /// for a while (every failure is answered slowly); a client gets four times as many.
    #[arg(long, env = "STAFF_SIGN_IN_FAILURES", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub staff_sign_in_failures: u32,

    /// The OpenID Connect provider staff may sign in with (its issuer URL, discovered at
    /// `{issuer}/.well-known/openid-configuration`). Unset: passwords only.
    #[arg(long, env = "OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,

    /// This service's client id at the OpenID Connect provider.
    #[arg(long, env = "OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,

    /// This service's client secret at the OpenID Connect provider (never logged).
    #[arg(long, env = "OIDC_CLIENT_SECRET")]
    pub oidc_client_secret: Option<String>,
}

/// Which id the issuer of a credential has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum IssuerIdForm {
    /// `{base}/issuer`, a hosted Profile.
    Https,
    /// `did:web:{host}`, a DID document at `/.well-known/did.json` (`/did.json` under a base
    /// URL with a path).
    DidWeb,
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
            .field("config_file", &self.config_file)
            .field("log_format", &self.log_format)
            .field("database_url", &redact_url(&self.database_url))
            .field("sqlite_synchronous", &self.sqlite_synchronous)
            .field("keys_dir", &self.keys_dir)
            .field("bind_addr", &self.bind_addr)
            .field("public_base_url", &self.public_base_url)
            .field("issuer_name", &self.issuer_name)
            .field("issuer_id", &self.issuer_id)
            .field("exchange_ttl_secs", &self.exchange_ttl_secs)
            .field("issuer_url", &self.issuer_url)
            .field("issuer_email", &self.issuer_email)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_verify_body_bytes", &self.max_verify_body_bytes)
            .field("max_batch_items", &self.max_batch_items)
            .field("shutdown_grace_secs", &self.shutdown_grace_secs)
            .field("registry_allowed_origins", &self.registry_allowed_origins)
            .field("registry_frame_ancestors", &self.registry_frame_ancestors)
            .field("registry_recheck_ms", &self.registry_recheck_ms)
            .field("stats_cache_secs", &self.stats_cache_secs)
            .field("verify_allowed_issuers", &self.verify_allowed_issuers)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("verify_rate_per_minute", &self.verify_rate_per_minute)
            .field("verify_rate_burst", &self.verify_rate_burst)
            .field("auth_failure_limit", &self.auth_failure_limit)
            .field("auth_failure_window_secs", &self.auth_failure_window_secs)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("mail_from", &self.mail_from)
            .field("outbox_dir", &self.outbox_dir)
            .field("mail_max_attempts", &self.mail_max_attempts)
            .field("mail_retry_base_ms", &self.mail_retry_base_ms)
            .field("mail_lease_secs", &self.mail_lease_secs)
            .field("mail_poll_ms", &self.mail_poll_ms)
            .field("holder_link_days", &self.holder_link_days)
            .field("holder_session_hours", &self.holder_session_hours)
            .field("login_links_per_hour", &self.login_links_per_hour)
            .field("login_rate_per_hour", &self.login_rate_per_hour)
            .field("staff_idle_minutes", &self.staff_idle_minutes)
            .field("staff_session_hours", &self.staff_session_hours)
            .field("staff_sign_in_failures", &self.staff_sign_in_failures)
            .field("oidc_issuer", &self.oidc_issuer)
            .field("oidc_client_id", &self.oidc_client_id)
            .field(
                "oidc_client_secret",
                &self.oidc_client_secret.as_ref().map(|_| "***"),
            )
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

/// Reads the TOML settings file named by `--config FILE` (or `CONFIG_FILE`) and exports each
/// entry as the environment variable of its setting, unless that variable is already set,
/// so clap then sees flags first, environment second and the file third. Must run before
/// any thread starts (it sets environment variables). An unknown key or a value that is
/// not a string, number or boolean is an error naming it.
pub fn apply_config_file(args: &[std::ffi::OsString]) -> anyhow::Result<Option<PathBuf>> {
    use anyhow::Context as _;
    let mut path = std::env::var_os("CONFIG_FILE").map(PathBuf::from);
    let mut iter = args.iter().skip(1);
    while let Some(a) = iter.next() {
        let a = a.to_string_lossy();
        if a == "--config" {
            path = iter.next().map(PathBuf::from);
        } else if let Some(p) = a.strip_prefix("--config=") {
            path = Some(PathBuf::from(p));
        }
    }
    let Some(path) = path else { return Ok(None) };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading config file {}", path.display()))?;
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let known = setting_env_names();
    for (key, value) in table {
        let env = known
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, e)| e.clone())
            .with_context(|| {
                format!(
                    "{}: unknown setting {key:?}; known: {}",
                    path.display(),
                    known
                        .iter()
                        .map(|(k, _)| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => anyhow::bail!(
                "{}: {key} must be a string, number or boolean, not {}",
                path.display(),
                other.type_str()
            ),
        };
        if std::env::var_os(&env).is_none() {
            std::env::set_var(&env, value);
        }
    }
    Ok(Some(path))
}

/// Every setting as (file key, environment variable), from the clap definition itself so
/// the two can never drift apart.
fn setting_env_names() -> Vec<(String, String)> {
    use clap::Args as _;
    // The settings' own arguments, on an empty command: the command line (`cli`) sits
    // above this module and flattens these same arguments into itself.
    Settings::augment_args(clap::Command::new("settings"))
        .get_arguments()
        .filter_map(|a| {
            let env = a.get_env()?.to_string_lossy().into_owned();
            let key = a.get_long()?.replace('-', "_");
            (key != "config").then_some((key, env))
        })
        .collect()
}

/// Checks the effective settings beyond their types: URLs, modes, the key directory.
/// Returns the problems found, each naming its setting.
pub fn check(settings: &Settings) -> Vec<String> {
    let mut problems = Vec::new();
    let db = &settings.database_url;
    if !(db.starts_with("sqlite:") || db.starts_with("postgres:") || db.starts_with("postgresql:"))
    {
        problems.push(format!(
            "database_url: {:?} must start with sqlite: or postgres:",
            redact_url(db)
        ));
    }
    let oidc = [
        settings.oidc_issuer.is_some(),
        settings.oidc_client_id.is_some(),
        settings.oidc_client_secret.is_some(),
    ];
    if oidc.contains(&true) && oidc.contains(&false) {
        problems.push(
            "oidc_issuer, oidc_client_id and oidc_client_secret: set all three, or none".into(),
        );
    }
    if let Some(issuer) = &settings.oidc_issuer {
        if !(issuer.starts_with("https://") || issuer.starts_with("http://127.0.0.1"))
            || issuer.ends_with('/')
        {
            problems.push(format!(
                "oidc_issuer: {issuer:?} must be the provider's https URL (http only on \
                 127.0.0.1, for tests), without a trailing slash"
            ));
        }
    }
    if !["off", "normal", "full", "extra"].contains(&settings.sqlite_synchronous.as_str()) {
        problems.push(format!(
            "sqlite_synchronous: {:?} must be full or normal",
            settings.sqlite_synchronous
        ));
    }
    let base = settings.base_url();
    let host_ok = base
        .split_once("://")
        .filter(|(scheme, _)| *scheme == "http" || *scheme == "https")
        .map(|(_, rest)| !rest.is_empty() && !rest.contains(['?', '#', ' ']))
        .unwrap_or(false);
    if !host_ok {
        problems.push(format!(
            "public_base_url: {base:?} must be an absolute http(s) URL without query or fragment"
        ));
    }
    if let Err(e) = crate::keys::KeyRing::load(&settings.keys_dir) {
        problems.push(format!("keys_dir: {e:#}"));
    }
    if let Some(url) = &settings.smtp_url {
        if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
            problems.push(format!(
                "smtp_url: {:?} must start with smtp:// or smtps://",
                redact_url(url)
            ));
        }
    }
    if settings.max_body_bytes < 1024 {
        problems.push("max_body_bytes: must be at least 1024".into());
    }
    if settings.max_verify_body_bytes < 1024 {
        problems.push("max_verify_body_bytes: must be at least 1024".into());
    }
    problems
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
