//! The registry's in-memory response cache.
//!
//! The registry changes only when a badge is issued, revoked or re-dated, when a person's
//! public fields or consent change, or when a badge expires. The first three bump a
//! `version` row in the database (triggers, same transaction as the change), so every
//! instance sharing the database sees them; expiry is time-based, so the cache also keeps
//! the earliest upcoming `valid_until` and treats itself as stale once it has passed.
//!
//! Requests answer from memory (body and ETag) while the cache is *fresh*: checked against
//! the database less than the recheck interval ago, no write seen by this instance since,
//! and the next expiry not yet reached. Otherwise one request probes the version (a single
//! round trip of indexed lookups, [`crate::db::Store::registry_probe`]) and clears the
//! entries if anything changed. A write through this instance marks the cache dirty, so it
//! shows at once here; another instance's write shows within the recheck interval.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderValue;
use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

use crate::db::{DbResult, Store};

/// Most bytes of bodies kept; past it the entries are dropped (keeps memory bounded
/// whatever mix of filters and cursors clients ask for).
const MAX_BYTES: usize = 16 * 1024 * 1024;

/// One cached response body.
#[derive(Debug)]
pub struct Cached {
    /// The body.
    pub body: Bytes,
    /// Strong ETag, quoted: a hash of the body, so instances agree on it.
    pub etag: String,
    /// The same, ready to send.
    pub etag_header: HeaderValue,
}

impl Cached {
    /// Wraps a body, computing its ETag.
    pub fn new(body: impl Into<Bytes>) -> Self {
        let body = body.into();
        let digest = Sha256::digest(&body);
        let etag = format!("\"{}\"", hex::encode(&digest[..16]));
        Cached {
            etag_header: HeaderValue::from_str(&etag).expect("hex in quotes is a header value"),
            etag,
            body,
        }
    }
}

/// What a fresh cache says about the registry: the generation entries belong to, and when
/// the registry last changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation {
    /// Bumped each time the entries are cleared; a body built under an older generation is
    /// not stored.
    pub epoch: u64,
    /// When the registry last changed (a write, or the latest expiry), whole seconds.
    pub last_modified: DateTime<Utc>,
}

#[derive(Debug)]
struct Snapshot {
    version: Option<i64>,
    epoch: u64,
    last_modified: DateTime<Utc>,
    next_expiry: Option<DateTime<Utc>>,
    checked_at: Option<Instant>,
    /// The write counter when the last probe started: the snapshot is fresh only while it
    /// is unchanged (a write since then forces a probe).
    seen_writes: u64,
    entries: HashMap<String, Arc<Cached>>,
    bytes: usize,
}

/// The cache; one per process, shared by every request.
#[derive(Debug)]
pub struct RegistryCache {
    snapshot: RwLock<Snapshot>,
    /// One probe at a time; the others wait and reuse its answer.
    refresh: tokio::sync::Mutex<()>,
    /// Writes seen through this instance.
    writes: AtomicU64,
    recheck_ms: AtomicU64,
}

impl RegistryCache {
    /// A cold cache that re-probes the database at most every `recheck`.
    pub fn new(recheck: Duration) -> Self {
        RegistryCache {
            snapshot: RwLock::new(Snapshot {
                version: None,
                epoch: 0,
                last_modified: DateTime::<Utc>::UNIX_EPOCH,
                next_expiry: None,
                checked_at: None,
                seen_writes: 0,
                entries: HashMap::new(),
                bytes: 0,
            }),
            refresh: tokio::sync::Mutex::new(()),
            writes: AtomicU64::new(0),
            recheck_ms: AtomicU64::new(recheck.as_millis() as u64),
        }
    }

    /// Changes the recheck interval (tests use zero: every request probes the version).
    pub fn set_recheck_interval(&self, recheck: Duration) {
        self.recheck_ms
            .store(recheck.as_millis() as u64, Ordering::Relaxed);
    }

    /// Notes a write through this instance: the next request probes the database.
    pub fn mark_dirty(&self) {
        self.writes.fetch_add(1, Ordering::AcqRel);
    }

    fn fresh(&self, s: &Snapshot, now: DateTime<Utc>) -> Option<Generation> {
        let recheck = Duration::from_millis(self.recheck_ms.load(Ordering::Relaxed));
        let checked = s.checked_at?;
        if self.writes.load(Ordering::Acquire) != s.seen_writes
            || checked.elapsed() >= recheck
            || s.next_expiry.is_some_and(|t| t <= now)
        {
            return None;
        }
        Some(Generation {
            epoch: s.epoch,
            last_modified: s.last_modified,
        })
    }

    /// The current generation, probing the database only when the cache is not fresh.
    pub async fn current(&self, store: &dyn Store) -> DbResult<Generation> {
        if let Some(g) = self.fresh(&self.read(), Utc::now()) {
            return Ok(g);
        }
        let _one = self.refresh.lock().await;
        if let Some(g) = self.fresh(&self.read(), Utc::now()) {
            return Ok(g);
        }
        // Read before the probe: a write landing during it leaves the snapshot stale. The
        // old snapshot stays unfresh until the probe's answer is in, so no request serves
        // it meanwhile.
        let writes = self.writes.load(Ordering::Acquire);
        let now = crate::program::now();
        let probe = store.registry_probe(now).await?;
        let mut s = self.snapshot.write().unwrap_or_else(|e| e.into_inner());
        let expired = s.next_expiry.is_some_and(|t| t <= now);
        if s.version != Some(probe.version) || expired {
            s.entries.clear();
            s.bytes = 0;
            s.epoch += 1;
            s.version = Some(probe.version);
        }
        let changed = crate::program::truncate(probe.changed_at);
        s.last_modified = probe.last_expired.map_or(changed, |t| t.max(changed));
        s.next_expiry = probe.next_expiry;
        s.checked_at = Some(Instant::now());
        s.seen_writes = writes;
        Ok(Generation {
            epoch: s.epoch,
            last_modified: s.last_modified,
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Snapshot> {
        self.snapshot.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached body under `key` in generation `g`.
    pub fn get(&self, g: Generation, key: &str) -> Option<Arc<Cached>> {
        let s = self.read();
        if s.epoch != g.epoch {
            return None;
        }
        s.entries.get(key).cloned()
    }

    /// Stores a body built in generation `g` (dropped if the registry moved on meanwhile).
    pub fn put(&self, g: Generation, key: String, value: Arc<Cached>) {
        let mut s = self.snapshot.write().unwrap_or_else(|e| e.into_inner());
        if s.epoch != g.epoch {
            return;
        }
        let key_len = key.len();
        let len = value.body.len() + key_len;
        if s.bytes + len > MAX_BYTES {
            s.entries.clear();
            s.bytes = 0;
        }
        s.bytes += len;
        if let Some(old) = s.entries.insert(key, value) {
            s.bytes = s.bytes.saturating_sub(old.body.len() + key_len);
        }
    }
}

impl Default for RegistryCache {
    /// Rechecks every second.
    fn default() -> Self {
        RegistryCache::new(Duration::from_secs(1))
    }
}
