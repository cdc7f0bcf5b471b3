//! Mail to badge holders: what a message says ([`letter`]), how it leaves ([`Mailer`]:
//! SMTP through `lettre`, or `.eml` files when no mail server is set), and the sender task
//! that works through the transactional outbox ([`sender`]).
//!
//! Messages are written to the outbox in the transaction that stores what they announce
//! (`db::Write::Credential`, `Store::revoke_credential`), so a badge is never stored
//! without its message, nor a message without its badge. Delivery is at least once: a
//! message the server accepted just before a crash, not yet marked sent, is sent again
//! after the sender's lease runs out, with the same `Message-ID`, which lets mail systems
//! drop the copy.

pub mod letter;
pub mod sender;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use lettre::message::Mailbox;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

use crate::config::Settings;

/// The handle that wakes this instance's sender (cheap to clone; in the state).
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    wake: std::sync::Arc<tokio::sync::Notify>,
}

impl Outbox {
    /// Tells the sender a message is due (after its transaction committed).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Resolves at the next [`Outbox::wake`] (or at once if one came since the last wait).
    pub async fn notified(&self) {
        self.wake.notified().await;
    }
}

/// How one attempt to hand a message over ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Accepted (by the mail server, or written to its file).
    Accepted,
    /// Refused for now (4xx, connection trouble): worth another try later.
    Transient(String),
    /// Refused for good (5xx: no such mailbox, policy): another try would fail alike.
    Permanent(String),
}

/// Where messages go.
pub enum Mailer {
    /// A mail server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in a directory, one per outbox row (named by its id, so a resend
    /// replaces rather than duplicates).
    Files(PathBuf),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mailer::Smtp(_) => f.write_str("Mailer::Smtp"),
            Mailer::Files(dir) => f.debug_tuple("Mailer::Files").field(dir).finish(),
        }
    }
}

impl Mailer {
    /// The mailer the settings ask for. The SMTP connection is opened when the first
    /// message is sent, so a mail server that is down delays mail, never the service.
    pub fn from_settings(settings: &Settings, hello_name: &str) -> anyhow::Result<Mailer> {
        match &settings.smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("smtp_url: {e}"))?
                    .hello_name(ClientId::Domain(hello_name.to_owned()))
                    .timeout(Some(Duration::from_secs(30)))
                    .build();
                Ok(Mailer::Smtp(transport))
            }
            None => {
                std::fs::create_dir_all(&settings.outbox_dir).with_context(|| {
                    format!(
                        "creating the outbox directory {}",
                        settings.outbox_dir.display()
                    )
                })?;
                Ok(Mailer::Files(settings.outbox_dir.clone()))
            }
        }
    }

    /// Hands one message over; `name` names its file in [`Mailer::Files`].
    pub async fn send(&self, name: &str, message: Message) -> Delivery {
        match self {
            Mailer::Smtp(transport) => match transport.send(message).await {
                Ok(_) => Delivery::Accepted,
                Err(e) if e.is_permanent() => Delivery::Permanent(smtp_error(&e)),
                Err(e) => Delivery::Transient(smtp_error(&e)),
            },
            Mailer::Files(dir) => {
                let path = dir.join(format!("{name}.eml"));
                let tmp = dir.join(format!(".{name}.eml.tmp"));
                let bytes = message.formatted();
                // Written whole under a temporary name, then renamed: a reader never sees
                // half a message.
                let written = async {
                    tokio::fs::write(&tmp, &bytes).await?;
                    tokio::fs::rename(&tmp, &path).await
                };
                match written.await {
                    Ok(()) => {
                        tracing::info!(path = %path.display(), "message written (no SMTP_URL set)");
                        Delivery::Accepted
                    }
                    Err(e) => Delivery::Transient(format!("writing {}: {e}", path.display())),
                }
            }
        }
    }
}

/// An SMTP error as the outbox records it: the server's code and words, never credentials.
fn smtp_error(e: &lettre::transport::smtp::Error) -> String {
    let text = e.to_string();
    match e.status() {
        Some(code) => format!("{code} {text}"),
        None => text,
    }
}

/// The `From` of every message: `MAIL_FROM`, else the issuer's name at `ISSUER_EMAIL`, else
/// at `no-reply@` the public host.
pub fn from_address(settings: &Settings, host: &str) -> anyhow::Result<Mailbox> {
    if let Some(from) = &settings.mail_from {
        return from
            .parse()
            .map_err(|e| anyhow::anyhow!("mail_from: {from:?} is not a mailbox: {e}"));
    }
    let email = match &settings.issuer_email {
        Some(e) => e.clone(),
        None => format!("no-reply@{}", host.split(':').next().unwrap_or(host)),
    };
    let address = email
        .parse()
        .map_err(|e| anyhow::anyhow!("issuer_email {email:?} is not an address: {e}"))?;
    Ok(Mailbox::new(Some(settings.issuer_name.clone()), address))
}
