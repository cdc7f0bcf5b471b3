//! Group commit: concurrent requests queue what they must store durably (issued
//! credentials, audit entries), and one writer task stores whatever has queued in one
//! transaction.
//!
//! A durable commit costs a disk flush (SQLite `synchronous=full`, PostgreSQL's WAL
//! flush), and SQLite admits one writer at a time, so one commit per request caps issuance
//! at the disk's flush rate, and two writers wait on each other's lock. Here a burst of N
//! requests costs one flush instead of N, and nobody is answered before the transaction
//! holding their write has committed: a crash loses only unacknowledged work. Each
//! credential keeps its own result (a savepoint each, see [`Store::write_batch`]), so one
//! broken rule fails only its request.

use std::sync::{Arc, OnceLock};

use tokio::sync::{mpsc, oneshot};

use super::records::{AuditEntry, CredentialRecord, OutboxMessage, Write};
use super::store::{DbError, DbResult, Store};

/// The most writes one transaction stores. Bounds the latency a queued request waits for
/// the batch ahead of it, and the size of one transaction.
pub const MAX_BATCH: usize = 256;

/// Runs of a batch that lost a race with another instance's (see [`DbError::Contention`]).
const MAX_ATTEMPTS: u32 = 5;

type Reply = oneshot::Sender<(Write, DbResult<()>)>;

/// The handle requests queue writes on. Cheap to clone; the writer task starts on first
/// use (so building the application state needs no runtime) and ends when every handle is
/// gone.
#[derive(Clone)]
pub struct GroupCommit {
    store: Arc<dyn Store>,
    queue: Arc<OnceLock<mpsc::Sender<(Write, Reply)>>>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl GroupCommit {
    /// A group committer over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        GroupCommit {
            store,
            queue: Arc::default(),
        }
    }

    /// Stores an issued credential; returns it once its transaction has committed, or the
    /// error (a broken rule: [`DbError::Conflict`]) that kept it out.
    /// `message`, if any, is stored in the same transaction, only with the credential.
    pub async fn insert_credential(
        &self,
        record: CredentialRecord,
        message: Option<Box<OutboxMessage>>,
    ) -> DbResult<CredentialRecord> {
        match self.write(Write::Credential(record, message)).await? {
            Write::Credential(record, _) => Ok(record),
            Write::Audit(_) => unreachable!("the writer answers with the write it was given"),
        }
    }

    /// Appends an audit entry; returns once it is stored.
    pub async fn append_audit(&self, entry: AuditEntry) -> DbResult<()> {
        self.write(Write::Audit(entry)).await.map(drop)
    }

    async fn write(&self, write: Write) -> DbResult<Write> {
        let queue = self.queue.get_or_init(|| {
            // Bounded: under overload, requests wait here instead of growing memory.
            let (tx, rx) = mpsc::channel(MAX_BATCH * 4);
            tokio::spawn(writer(self.store.clone(), rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        queue
            .send((write, reply))
            .await
            .map_err(|_| writer_gone())?;
        let (write, result) = answer.await.map_err(|_| writer_gone())?;
        result.map(|()| write)
    }
}

fn writer_gone() -> DbError {
    DbError::Other(anyhow::anyhow!("the database writer has stopped"))
}

/// The writer: takes the first queued write, then everything else already queued (up to
/// [`MAX_BATCH`]), stores them in one transaction and answers each.
async fn writer(store: Arc<dyn Store>, mut rx: mpsc::Receiver<(Write, Reply)>) {
    let mut queued = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut queued, MAX_BATCH).await > 0 {
        let (writes, replies): (Vec<Write>, Vec<Reply>) = queued.drain(..).unzip();
        let mut attempt = 1;
        let t0 = std::time::Instant::now();
        let results = loop {
            match store.write_batch(&writes).await {
                Ok(results) => break results,
                // Rolled back whole by a race with another instance: run it again.
                Err(DbError::Contention(e)) if attempt < MAX_ATTEMPTS => {
                    tracing::warn!(error = %e, attempt, "retrying a batch that lost a race");
                    attempt += 1;
                }
                Err(e) => {
                    // Nothing of this batch was stored: every request gets the error, of the
                    // same kind (a race lost past the retries stays a 503, not a 500).
                    let contention = matches!(e, DbError::Contention(_));
                    let detail = e.to_string();
                    break writes
                        .iter()
                        .map(|_| {
                            let e = anyhow::anyhow!("{detail}");
                            Err(if contention {
                                DbError::Contention(e)
                            } else {
                                DbError::Other(e)
                            })
                        })
                        .collect();
                }
            }
        };
        tracing::debug!(
            n = writes.len(),
            us = t0.elapsed().as_micros() as u64,
            "group commit"
        );
        for ((write, result), reply) in writes.into_iter().zip(results).zip(replies) {
            // A request that gave up (client gone) no longer listens; its write stays
            // stored, and a retry with its Idempotency-Key finds it.
            let _ = reply.send((write, result));
        }
    }
}
