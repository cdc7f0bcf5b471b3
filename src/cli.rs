//! The command line: `serve` (the default), `migrate`, `keygen`, `token create|list|revoke`,
//! `verify FILE`, `import KIND FILE`, `issue --from FILE`, `backup DEST` and `restore SRC`.
//! Every option is also an environment variable.

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
    /// Generate the signing key. With `--rotate`, add a new key that signs from the next
    /// start; older keys stay published so the badges they signed keep verifying.
    Keygen {
        /// Make a new active key even though keys exist.
        #[arg(long)]
        rotate: bool,
    },
    /// Inspect the configuration.
    Config {
        /// Config action.
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Manage admin API tokens.
    Token {
        /// Token action.
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Manage staff accounts of the console.
    User {
        /// User action.
        #[command(subcommand)]
        action: UserAction,
    },
    /// Verify a credential file offline: proof, issuer key, validity dates, status.
    Verify {
        /// Path to the credential JSON, or a baked PNG or SVG badge image.
        file: PathBuf,
    },
    /// Import mentors, people or closings from a CSV file (or a JSON array); re-running
    /// the same file creates nothing twice. See the README, "Import".
    Import {
        /// What the file holds.
        #[arg(value_enum)]
        kind: crate::import::Kind,
        /// The file: CSV with a header row, or JSON (`--json` or a `.json` name).
        file: PathBuf,
        /// Read the file as a JSON array of objects, whatever its name.
        #[arg(long)]
        json: bool,
    },
    /// Issue badges in bulk from a CSV (or JSON) file; re-running issues nothing twice.
    Issue {
        /// The file of badges to issue. See the README, "Import".
        #[arg(long)]
        from: PathBuf,
        /// Read the file as a JSON array of objects, whatever its name.
        #[arg(long)]
        json: bool,
    },
    /// Copy the live SQLite database to DEST (a new file) while the service runs.
    Backup {
        /// Where to write the copy; must not exist.
        dest: PathBuf,
    },
    /// Replace the SQLite database with the backup SRC (stop the service first).
    Restore {
        /// The backup to restore.
        src: PathBuf,
    },
}

/// Config actions.
#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print the effective settings (secrets redacted) and fail on a bad value.
    Check,
}

/// Token actions.
#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token; prints it alone on the last line (it is shown only once).
    Create {
        /// Who or what will use it (unique).
        #[arg(long)]
        name: String,
        /// What it may do, comma-separated: issue (records and issuing), revoke, read
        /// (GET routes), admin (everything, plus tokens and the audit log). Without it, the
        /// first token gets admin (so a fresh install can start); once an active admin
        /// token exists, --scope is required.
        #[arg(long, value_name = "SCOPES")]
        scope: Option<String>,
        /// Lifetime, such as 90d, 12h or 2w (default: no expiry).
        #[arg(long, value_name = "LIFETIME", conflicts_with = "expires_at")]
        expires_in: Option<String>,
        /// Expiry as an RFC 3339 time, such as 2027-06-30T00:00:00Z.
        #[arg(long, value_name = "TIME")]
        expires_at: Option<String>,
    },
    /// List tokens: id, name, scopes, status, expiry (never a secret).
    List,
    /// Revoke the token with this name.
    Revoke {
        /// The token's name.
        #[arg(long)]
        name: String,
    },
}

/// Staff account actions.
#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create a staff account; prints a one-time link (valid 24 hours) that sets its
    /// password. With OpenID Connect configured, the account may also sign in there.
    Create {
        /// Their email: how they sign in.
        #[arg(long)]
        email: String,
        /// What they may do: admin (everything), issuer (records, awarding, revoking),
        /// reviewer (reads, revokes), reader (reads).
        #[arg(long, value_parser = ["admin", "issuer", "reviewer", "reader"])]
        role: String,
    },
    /// Print a new one-time link that sets (or resets) an account's password.
    Link {
        /// The account's email.
        #[arg(long)]
        email: String,
    },
    /// List staff accounts: email, role, whether a password is set.
    List,
}

/// `user create|link|list`.
async fn user_command(settings: &Settings, action: UserAction) -> anyhow::Result<()> {
    let store = crate::db::connect(&settings.database_url, &settings.sqlite_synchronous).await?;
    let now = crate::program::now();
    let base = settings.base_url();
    let done = async {
        match action {
            UserAction::Create { email, role } => {
                let role = crate::scopes::Role::from_name(&role)
                    .ok_or_else(|| anyhow::anyhow!("--role: unknown role {role:?}"))?;
                let (staff, token) = crate::staff::create_account(&*store, &email, role, now)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!(
                    "created {} ({}); this link sets their password, works once, within {} hours:",
                    staff.email,
                    staff.role,
                    crate::staff::LINK_HOURS
                );
                println!("{}", crate::staff::link_url(&base, &token));
            }
            UserAction::Link { email } => {
                let email = crate::program::normalise_email(&email);
                let staff = store
                    .staff_by_email(&email)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("no staff account for {email}"))?;
                let token = crate::staff::new_link(&*store, staff.id, now)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!(
                    "this link sets the password of {}, works once, within {} hours:",
                    staff.email,
                    crate::staff::LINK_HOURS
                );
                println!("{}", crate::staff::link_url(&base, &token));
            }
            UserAction::List => {
                for s in store.list_staff().await? {
                    let password = if s.password_hash.is_some() {
                        "password set"
                    } else {
                        "no password yet"
                    };
                    println!("{}\t{}\t{password}", s.email, s.role);
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    store.close().await;
    done
}

/// `token create`: the scopes asked for, or admin for the first token.
async fn create_token(
    store: &dyn crate::db::Store,
    name: String,
    scope: Option<String>,
    expires_in: Option<String>,
    expires_at: Option<String>,
) -> anyhow::Result<()> {
    use crate::tokens::{Scope, Scopes};
    let now = crate::program::now();
    let scopes = match scope {
        Some(list) => Scopes::parse_list(&list).map_err(|e| anyhow::anyhow!("--scope: {e}"))?,
        None => {
            let tokens = store.list_tokens().await?;
            let admin_exists = tokens.iter().any(|t| {
                t.scopes.contains(Scope::Admin) && crate::tokens::usable_at(t, now).is_ok()
            });
            anyhow::ensure!(
                !admin_exists,
                "pass --scope with what this token may do: issue, revoke, read, admin \
                 (comma-separated); only the first token defaults to admin"
            );
            Scopes::only(Scope::Admin)
        }
    };
    let expires_at = crate::tokens::expiry(expires_in.as_deref(), expires_at.as_deref(), now)
        .map_err(|e| anyhow::anyhow!("expiry: {e}"))?;
    let created = crate::tokens::create(
        store,
        crate::tokens::NewToken {
            name,
            scopes,
            expires_at,
        },
    )
    .await?;
    let t = &created.token;
    let until = t
        .expires_at
        .map(|e| format!(", expires {}", crate::program::format_time(e)))
        .unwrap_or_default();
    println!(
        "created token {:?} (id {}, scopes {}{until}); it is shown once, keep it safe:",
        t.name, t.id, t.scopes
    );
    println!("{}", created.secret);
    Ok(())
}

/// `token list`: one line per token.
async fn list_tokens(store: &dyn crate::db::Store) -> anyhow::Result<()> {
    let now = crate::program::now();
    for t in store.list_tokens().await? {
        let status = match crate::tokens::usable_at(&t, now) {
            Ok(()) => "active",
            Err(_) if t.revoked_at.is_some() => "revoked",
            Err(_) => "expired",
        };
        let expires = t
            .expires_at
            .map(crate::program::format_time)
            .unwrap_or_else(|| "never".to_owned());
        println!(
            "{}  {:<24} {:<22} {status:<8} expires {expires}",
            t.id, t.name, t.scopes
        );
    }
    Ok(())
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.settings;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Config {
            action: ConfigAction::Check,
        } => {
            println!("{settings:#?}");
            let problems = crate::config::check(&settings);
            for p in &problems {
                eprintln!("bad setting: {p}");
            }
            anyhow::ensure!(problems.is_empty(), "{} bad setting(s)", problems.len());
            println!("configuration OK");
            Ok(())
        }
        Command::Migrate => {
            let store =
                crate::db::connect(&settings.database_url, &settings.sqlite_synchronous).await?;
            println!("database is up to date ({})", store.backend());
            Ok(())
        }
        Command::Keygen { rotate } => {
            if let Some(ring) = KeyRing::load(&settings.keys_dir)? {
                anyhow::ensure!(
                    rotate,
                    "{} already holds key {}; pass --rotate to make a new active key",
                    settings.keys_dir.display(),
                    ring.active_kid()
                );
            }
            let (kid, path) = KeyRing::generate(&settings.keys_dir)?;
            println!(
                "generated key {kid} at {}; it signs from the next start (restart every \
                 instance); older keys stay published",
                path.display()
            );
            Ok(())
        }
        Command::Token { action } => {
            let store =
                crate::db::connect(&settings.database_url, &settings.sqlite_synchronous).await?;
            let done = match action {
                TokenAction::Create {
                    name,
                    scope,
                    expires_in,
                    expires_at,
                } => create_token(&*store, name, scope, expires_in, expires_at).await,
                TokenAction::List => list_tokens(&*store).await,
                TokenAction::Revoke { name } => {
                    match store.revoke_token(&name, crate::program::now()).await {
                        Ok(true) => {
                            println!("revoked token {name:?}");
                            Ok(())
                        }
                        Ok(false) => Err(anyhow::anyhow!("no active token named {name:?}")),
                        Err(e) => Err(e.into()),
                    }
                }
            };
            store.close().await;
            done
        }
        Command::User { action } => user_command(&settings, action).await,
        Command::Verify { file } => verify_file(settings, &file).await,
        Command::Import { kind, file, json } => {
            let store =
                crate::db::connect(&settings.database_url, &settings.sqlite_synchronous).await?;
            let options = import_options(&file, json);
            let report = crate::import::run(&*store, kind, &file, options).await;
            store.close().await;
            import_done(report?)
        }
        Command::Issue { from, json } => issue_from(settings, &from, json).await,
        Command::Backup { dest } => {
            let done = crate::backup::backup(&settings.database_url, &dest).await?;
            println!(
                "backed up {} credentials to {} ({} bytes, {:.2?})",
                done.credentials,
                done.path.display(),
                done.bytes,
                done.elapsed
            );
            Ok(())
        }
        Command::Restore { src } => {
            let done = crate::backup::restore(&src, &settings.database_url).await?;
            if let Some(kept) = &done.replaced {
                println!("kept the replaced database as {}", kept.display());
            }
            println!(
                "restored {} credentials from {} to {} ({:.2?})",
                done.credentials,
                src.display(),
                done.path.display(),
                done.elapsed
            );
            Ok(())
        }
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
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    // A baked PNG or SVG (by its magic bytes / `<svg`) or credential JSON.
    let input = crate::verify::file_input(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let keys = KeyRing::load(&settings.keys_dir)?.unwrap_or_else(|| {
        // No local keys: only did:key credentials can verify.
        KeyRing::single("none", ed25519_dalek::SigningKey::from_bytes(&[0; 32]))
    });
    let store = crate::db::connect(&settings.database_url, &settings.sqlite_synchronous).await?;
    let state = AppState::new(store, Issuer::new(&settings, keys), settings);
    let report = crate::verify::verify_input(&state, input).await;
    state.store.close().await;
    let report = report.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    anyhow::ensure!(report.verified, "the credential did not verify");
    Ok(())
}

fn import_options(file: &std::path::Path, json: bool) -> crate::import::Options {
    crate::import::Options {
        format: crate::import::Format::detect(file, json),
        progress: crate::import::ProgressMode::Auto,
    }
}

/// Prints an import's summary; an error (exit status 1) if any row failed.
fn import_done(report: crate::import::Report) -> anyhow::Result<()> {
    println!("{}", report.summary());
    anyhow::ensure!(
        report.is_ok(),
        "{} row(s) failed; fix them and re-run the same file (imported rows are skipped)",
        report.failed.len()
    );
    Ok(())
}

/// `issue --from`: needs the signing keys and the public base URL, like the service.
async fn issue_from(settings: Settings, file: &std::path::Path, json: bool) -> anyhow::Result<()> {
    // Signed ids cannot be changed later: refuse to guess the base from the bind address.
    anyhow::ensure!(
        settings.public_base_url.is_some(),
        "issue --from needs PUBLIC_BASE_URL (--public-base-url), the base the service is \
         reached at, so the credentials' ids resolve"
    );
    let keys = KeyRing::load(&settings.keys_dir)?.with_context(|| {
        format!(
            "no signing key in {}; run `partnership-badges keygen` (or start the service once)",
            settings.keys_dir.display()
        )
    })?;
    let store = crate::db::connect(&settings.database_url, &settings.sqlite_synchronous).await?;
    let state = AppState::new(store, Issuer::new(&settings, keys), settings);
    let report = crate::import::issue_from(&state, file, import_options(file, json)).await;
    state.store.close().await;
    import_done(report?)
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
