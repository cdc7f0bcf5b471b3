//! The sender: one task per instance that claims due outbox rows, sends them, and marks
//! them sent, to be retried (exponential back-off) or failed.
//!
//! Claims are leases: a claimed row is pushed past `MAIL_LEASE_SECS`, so a sender that dies
//! mid-send leaves nothing stuck, and on PostgreSQL `for update skip locked` keeps two
//! instances from claiming the same row. The task wakes when this instance queues a message
//! (`Outbox::wake`) and every `MAIL_POLL_MS` for the rest (other instances, retries).

use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt as _;
use lettre::message::Mailbox;

use super::letter::{BadgeFacts, Letter, Occasion};
use super::{Delivery, Mailer};
use crate::db::{message_kind, OutboxMessage, SendOutcome};
use crate::program::achievements;
use crate::state::AppState;
use uuid::Uuid;

/// Rows claimed per round.
const CLAIM_BATCH: i64 = 32;
/// Messages of a round in flight at once.
const IN_FLIGHT: usize = 8;

/// Starts the sender of `state`'s outbox; it stops when `stop` resolves.
pub fn spawn(
    state: AppState,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let host = host_of(state.issuer.base());
    let mailer = Mailer::from_settings(&state.settings, &host)?;
    let from = super::from_address(&state.settings, &host)?;
    match &mailer {
        Mailer::Smtp(_) => tracing::info!("sending holder mail over SMTP"),
        Mailer::Files(dir) => tracing::info!(
            dir = %dir.display(),
            "no SMTP_URL set: holder mail is written as .eml files in this directory"
        ),
    }
    let sender = Sender {
        state,
        mailer,
        from,
        host,
    };
    Ok(tokio::spawn(async move {
        tokio::select! {
            () = sender.run() => {}
            () = stop => {}
        }
    }))
}

/// The host part of the base URL (for `Message-ID`s and the SMTP greeting).
pub fn host_of(base: &str) -> String {
    let rest = base.split_once("://").map_or(base, |(_, r)| r);
    rest.split(['/', ':'])
        .next()
        .unwrap_or("localhost")
        .to_owned()
}

/// The `Message-ID` of an outbox row: the same on every attempt.
pub fn message_id(row: Uuid, host: &str) -> String {
    format!("<{row}@{host}>")
}

struct Sender {
    state: AppState,
    mailer: Mailer,
    from: Mailbox,
    host: String,
}

impl Sender {
    async fn run(&self) {
        let poll = Duration::from_millis(self.state.settings.mail_poll_ms);
        let lease = chrono::Duration::seconds(self.state.settings.mail_lease_secs as i64);
        loop {
            let now = Utc::now();
            let claimed = match self
                .state
                .store
                .claim_messages(now, now + lease, CLAIM_BATCH)
                .await
            {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "could not claim outbox messages");
                    Vec::new()
                }
            };
            let full = claimed.len() as i64 == CLAIM_BATCH;
            if !claimed.is_empty() {
                self.round(claimed).await;
            }
            if !full {
                // Nothing more due now: wait for a new message or the next poll.
                let _ = tokio::time::timeout(poll, self.state.outbox.notified()).await;
            }
        }
    }

    /// One round: compose every claimed message (reads only), store all their sign-in
    /// links in one transaction, send them, several at once, and record every outcome in
    /// one transaction. Two writes per round, not two per message: on SQLite every write
    /// takes the one writer lock and a disk flush that issuance needs too.
    async fn round(&self, claimed: Vec<OutboxMessage>) {
        let links = std::sync::Mutex::new(Vec::with_capacity(claimed.len()));
        let composed: Vec<(OutboxMessage, anyhow::Result<Option<lettre::Message>>)> =
            futures_util::stream::iter(claimed)
                .map(|m| async {
                    let message = self.compose(&m, &links).await;
                    (m, message)
                })
                .buffered(IN_FLIGHT)
                .collect()
                .await;
        let links = links.into_inner().unwrap_or_else(|e| e.into_inner());
        let now = Utc::now();
        let days = chrono::Duration::days(i64::from(self.state.settings.holder_link_days));
        // Without their links stored, the messages must not go out: all are tried again.
        let stored = self
            .state
            .store
            .insert_holder_links(&links, now, now + days)
            .await
            .map_err(|e| format!("storing the sign-in links: {e}"));
        let outcomes: Vec<(Uuid, SendOutcome)> = futures_util::stream::iter(composed)
            .map(|(m, message)| {
                let stored = &stored;
                async move {
                    let outcome = match (stored, message) {
                        (Err(e), _) => self.retry(&m, e.clone()),
                        (Ok(()), Ok(Some(message))) => {
                            match self.mailer.send(&m.id.to_string(), message).await {
                                Delivery::Accepted => SendOutcome::Sent,
                                Delivery::Permanent(e) => SendOutcome::Failed(e),
                                Delivery::Transient(e) => self.retry(&m, e),
                            }
                        }
                        (Ok(()), Ok(None)) => {
                            SendOutcome::Failed("the recipient was erased".into())
                        }
                        (Ok(()), Err(e)) => self.retry(&m, format!("{e:#}")),
                    };
                    self.log(&m, &outcome);
                    (m.id, outcome)
                }
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        if let Err(e) = self
            .state
            .store
            .finish_messages(&outcomes, Utc::now())
            .await
        {
            // The leases run out and the rows come due again: sent at least once.
            tracing::warn!(n = outcomes.len(), error = %e, "could not record send attempts");
        }
    }

    fn log(&self, m: &OutboxMessage, outcome: &SendOutcome) {
        let metric = match outcome {
            SendOutcome::Sent => "sent",
            SendOutcome::Retry(..) => "retry",
            SendOutcome::Failed(_) => "failed",
        };
        match outcome {
            SendOutcome::Sent => tracing::debug!(id = %m.id, kind = %m.kind, "message sent"),
            SendOutcome::Retry(at, e) => {
                tracing::warn!(id = %m.id, attempts = m.attempts, next = %at, error = %e, "message not sent; will retry")
            }
            SendOutcome::Failed(e) => {
                tracing::warn!(id = %m.id, attempts = m.attempts, error = %e, "message failed for good")
            }
        }
        self.state.metrics.mail.with_label_values(&[metric]).inc();
    }

    /// Back-off: the base wait, doubled per failed attempt; past the last attempt, failed.
    fn retry(&self, m: &OutboxMessage, error: String) -> SendOutcome {
        let s = &self.state.settings;
        if m.attempts >= s.mail_max_attempts as i32 {
            return SendOutcome::Failed(error);
        }
        let exp = (m.attempts.max(1) - 1).min(20) as u32;
        let wait = s.mail_retry_base_ms.saturating_mul(1 << exp);
        SendOutcome::Retry(
            Utc::now() + chrono::Duration::milliseconds(wait.min(i64::MAX as u64) as i64),
            error,
        )
    }

    /// The message of an outbox row, read now; `None` if its person was erased. The hash
    /// of its new sign-in link goes into `links`, to be stored before it is sent.
    async fn compose(
        &self,
        m: &OutboxMessage,
        links: &std::sync::Mutex<Vec<(String, Uuid)>>,
    ) -> anyhow::Result<Option<lettre::Message>> {
        let state = &self.state;
        let store = &*state.store;
        let Some(person) = store.person(m.person_id).await? else {
            return Ok(None);
        };
        if person.erased_at.is_some() {
            return Ok(None);
        }
        let (occasion, badge) = match m.kind.as_str() {
            message_kind::ISSUED | message_kind::REVOKED => {
                let id = m
                    .credential_id
                    .ok_or_else(|| anyhow::anyhow!("message {} names no credential", m.id))?;
                let record = store
                    .credential(id)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("credential {id} is gone"))?;
                let a = achievements::by_slug(&record.achievement)
                    .ok_or_else(|| anyhow::anyhow!("unknown achievement {}", record.achievement))?;
                let url = state.issuer.credential_url(id);
                let occasion = if m.kind == message_kind::ISSUED {
                    Occasion::Issued
                } else {
                    Occasion::Revoked
                };
                let badge = BadgeFacts {
                    name: a.name.into(),
                    recognises: a.description.into(),
                    image_url: format!("{url}/badge.png"),
                    url,
                    reason: record.revocation_reason,
                };
                (occasion, Some(badge))
            }
            _ => (Occasion::SignIn, None),
        };
        let days = state.settings.holder_link_days;
        let token = crate::holder::new_token();
        links
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((crate::holder::token_hash(&token), person.id));
        let letter = Letter {
            occasion,
            name: person.name.clone(),
            issuer: state.issuer.name().to_owned(),
            badge,
            me_url: crate::holder::link_url(state.issuer.base(), &token),
            link_days: days,
        };
        let to = Mailbox::new(
            Some(person.name.clone()),
            person
                .email
                .parse()
                .map_err(|e| anyhow::anyhow!("the recipient's address: {e}"))?,
        );
        let message_id = message_id(m.id, &self.host);
        letter.message(&self.from, to, message_id).map(Some)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn host_of_base_urls() {
        assert_eq!(
            super::host_of("https://badges.example.org"),
            "badges.example.org"
        );
        assert_eq!(super::host_of("http://127.0.0.1:8080/x"), "127.0.0.1");
    }
}
