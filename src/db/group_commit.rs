//! Group commit for issued credentials and audit entries: concurrent requests queue what
//! they write, and one writer task per kind stores whatever has queued in one transaction.
//!
//! A durable commit costs a disk flush (SQLite `synchronous=full`, PostgreSQL's WAL
//! flush), and SQLite admits one writer at a time, so one commit per badge caps issuance
//! at the disk's flush rate. Here a burst of N requests costs one flush instead of N, and
//! nobody is answered before the transaction holding their credential has committed: a
//! crash loses only unacknowledged work. Each record keeps its own result (a savepoint per
//! record, see [`Store::insert_credentials`]), so one broken rule fails only its request.

use std::sync::{Arc, OnceLock};

use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use super::{AuditEntry, CredentialRecord, DbError, DbResult, Store};

/// The most items one transaction stores. Bounds the latency a queued request waits for
/// the batch ahead of it, and the size of one transaction.
pub const MAX_BATCH: usize = 256;

type Reply<T> = oneshot::Sender<(T, DbResult<()>)>;

/// Stores one batch in one transaction: a result per item, in order; the outer `Err`
/// means nothing was stored.
type WriteBatch<T> =
    for<'a> fn(&'a dyn Store, &'a [T]) -> BoxFuture<'a, DbResult<Vec<DbResult<()>>>>;

/// The handle writers queue items on. Cheap to clone; the writer task starts on first use
/// (so building an [`crate::AppState`] needs no runtime) and ends when every handle is gone.
pub struct GroupCommit<T> {
    store: Arc<dyn Store>,
    write: WriteBatch<T>,
    queue: Arc<OnceLock<mpsc::Sender<(T, Reply<T>)>>>,
}

impl<T> Clone for GroupCommit<T> {
    fn clone(&self) -> Self {
        GroupCommit {
            store: self.store.clone(),
            write: self.write,
            queue: self.queue.clone(),
        }
    }
}

impl<T> std::fmt::Debug for GroupCommit<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

/// Issued credentials, a savepoint each ([`Store::insert_credentials`]).
pub fn credentials(store: Arc<dyn Store>) -> GroupCommit<CredentialRecord> {
    GroupCommit {
        store,
        write: |store, records| store.insert_credentials(records),
        queue: Arc::default(),
    }
}

/// Audit entries ([`Store::insert_audit`]): all or nothing.
pub fn audit(store: Arc<dyn Store>) -> GroupCommit<AuditEntry> {
    GroupCommit {
        store,
        write: |store, entries| {
            Box::pin(async move {
                store.insert_audit(entries).await?;
                Ok(entries.iter().map(|_| Ok(())).collect())
            })
        },
        queue: Arc::default(),
    }
}

impl<T: Send + Sync + 'static> GroupCommit<T> {
    /// Stores `item` durably, together with whatever else is queued; returns it once its
    /// transaction has committed, or the error that kept it out.
    pub async fn insert(&self, item: T) -> DbResult<T> {
        let queue = self.queue.get_or_init(|| {
            // Bounded: under overload, requests wait here instead of growing memory.
            let (tx, rx) = mpsc::channel(MAX_BATCH * 4);
            tokio::spawn(writer(self.store.clone(), self.write, rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        queue.send((item, reply)).await.map_err(|_| writer_gone())?;
        let (item, result) = answer.await.map_err(|_| writer_gone())?;
        result.map(|()| item)
    }
}

fn writer_gone() -> DbError {
    DbError::Other(anyhow::anyhow!("the database writer has stopped"))
}

/// The writer: takes the first queued item, then everything else already queued (up to
/// [`MAX_BATCH`]), stores them in one transaction and answers each.
async fn writer<T: Send + Sync + 'static>(
    store: Arc<dyn Store>,
    write: WriteBatch<T>,
    mut rx: mpsc::Receiver<(T, Reply<T>)>,
) {
    let mut queued = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut queued, MAX_BATCH).await > 0 {
        let (items, replies): (Vec<T>, Vec<Reply<T>>) = queued.drain(..).unzip();
        let results = match write(&*store, &items).await {
            Ok(results) => results,
            Err(e) => {
                // Nothing of this batch was stored: every request gets the error.
                let detail = e.to_string();
                items
                    .iter()
                    .map(|_| Err(DbError::Other(anyhow::anyhow!("{detail}"))))
                    .collect()
            }
        };
        for ((item, result), reply) in items.into_iter().zip(results).zip(replies) {
            // A request that gave up (client gone) no longer listens; its item stays
            // stored, and a retry with its Idempotency-Key finds it.
            let _ = reply.send((item, result));
        }
    }
}
