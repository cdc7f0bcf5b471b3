//! Group commit for issued credentials: concurrent issuances queue their signed records,
//! and one writer task stores whatever has queued in a single transaction.
//!
//! A durable commit costs a disk flush (SQLite `synchronous=full`, PostgreSQL's WAL
//! flush), and SQLite admits one writer at a time, so one commit per badge caps issuance
//! at the disk's flush rate. Here a burst of N requests costs one flush instead of N, and
//! nobody is answered before the transaction holding their credential has committed: a
//! crash loses only unacknowledged work. Each record keeps its own result (a savepoint per
//! record, see [`Store::insert_credentials`]), so one broken rule fails only its request.

use std::sync::{Arc, OnceLock};

use tokio::sync::{mpsc, oneshot};

use super::{CredentialRecord, DbError, DbResult, Store};

/// The most records one transaction stores. Bounds the latency a queued request waits for
/// the batch ahead of it, and the size of one transaction.
pub const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<(CredentialRecord, DbResult<()>)>;

/// The handle issuers queue records on. Cheap to clone; the writer task starts on first use
/// (so building an [`crate::AppState`] needs no runtime) and ends when every handle is gone.
#[derive(Clone)]
pub struct GroupCommit {
    store: Arc<dyn Store>,
    queue: Arc<OnceLock<mpsc::Sender<(CredentialRecord, Reply)>>>,
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

    /// Stores `record` durably, together with whatever else is queued; returns it once its
    /// transaction has committed, or the error that kept it out.
    pub async fn insert(&self, record: CredentialRecord) -> DbResult<CredentialRecord> {
        let queue = self.queue.get_or_init(|| {
            // Bounded: under overload, requests wait here instead of growing memory.
            let (tx, rx) = mpsc::channel(MAX_BATCH * 4);
            tokio::spawn(writer(self.store.clone(), rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        queue
            .send((record, reply))
            .await
            .map_err(|_| writer_gone())?;
        let (record, result) = answer.await.map_err(|_| writer_gone())?;
        result.map(|()| record)
    }
}

fn writer_gone() -> DbError {
    DbError::Other(anyhow::anyhow!("the credential writer has stopped"))
}

/// The writer: takes the first queued record, then everything else already queued (up to
/// [`MAX_BATCH`]), stores them in one transaction and answers each.
async fn writer(store: Arc<dyn Store>, mut rx: mpsc::Receiver<(CredentialRecord, Reply)>) {
    let mut queued = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut queued, MAX_BATCH).await > 0 {
        let (records, replies): (Vec<CredentialRecord>, Vec<Reply>) = queued.drain(..).unzip();
        let results = match store.insert_credentials(&records).await {
            Ok(results) => results,
            Err(e) => {
                // Nothing of this batch was stored: every request gets the error.
                let detail = e.to_string();
                records
                    .iter()
                    .map(|_| Err(DbError::Other(anyhow::anyhow!("{detail}"))))
                    .collect()
            }
        };
        for ((record, result), reply) in records.into_iter().zip(results).zip(replies) {
            // A request that gave up (client gone) no longer listens; its record stays
            // stored, and a retry with its Idempotency-Key finds it.
            let _ = reply.send((record, result));
        }
    }
}
