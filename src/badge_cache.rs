//! Badge pages from memory, with live status on every instance.
//!
//! Every shared badge link and every link-preview crawler opens `/credentials/{id}`, so its
//! page is rendered once and then served from memory, without a database read. What a page
//! shows changes only when its badge is revoked, re-dated or erased, when its holder's name
//! or consent changes (each bumps the `badge_state` version in the same transaction, by
//! trigger), or when it expires (each entry remembers when).
//!
//! Status stays live across instances with a lease and a wait:
//! - each instance's watcher ([`spawn_watcher`]) polls the version every [`POLL`]; on a change
//!   it drops its pages, and only then acknowledges the version in `cache_instances` (at
//!   least every [`ACK_EVERY`]), at the database's clock;
//! - an instance serves from memory only within [`LEASE`] of the start of its last
//!   acknowledged poll; past that (the database unreachable, the watcher stuck) it reads;
//! - a write that changes a page ([`BadgeCache::changed`]) drops this instance's pages and
//!   answers only once every instance that acknowledged within the lease has caught up
//!   with it; one that has not is past its lease by the time the wait ends.
//!
//! So the request after a revocation's answer, on any instance, shows the revocation; the
//! write waits a poll interval at most while other instances are live, and not at all when
//! this one is alone.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::{DbResult, Store};

/// How often the watcher reads the version.
pub const POLL: Duration = Duration::from_millis(50);
/// How often the watcher acknowledges when nothing changed.
pub const ACK_EVERY: Duration = Duration::from_secs(1);
/// How long an acknowledgement lets an instance serve from memory.
pub const LEASE: Duration = Duration::from_secs(3);
/// Most bytes of pages kept; past it the entries are dropped.
const MAX_BYTES: usize = 32 * 1024 * 1024;

/// Marks where the page shows the time its status was checked: rendered into the page once,
/// replaced by the time of each request when it is served.
pub const CHECKED_ISO: &str = "\u{1}checked-iso\u{1}";
/// See [`CHECKED_ISO`]: the human-readable form.
pub const CHECKED_HUMAN: &str = "\u{1}checked-human\u{1}";

/// A rendered badge page, split where the request's time goes.
#[derive(Debug)]
pub struct CachedPage {
    parts: [Box<str>; 3],
    /// When the page stops being true without any write: the badge's expiry.
    stale_at: Option<DateTime<Utc>>,
}

impl CachedPage {
    /// Splits a page rendered with [`CHECKED_ISO`] and [`CHECKED_HUMAN`] (in that order, once
    /// each); `None` for any other page.
    pub fn new(body: &str, stale_at: Option<DateTime<Utc>>) -> Option<Self> {
        let (head, rest) = body.split_once(CHECKED_ISO)?;
        let (mid, tail) = rest.split_once(CHECKED_HUMAN)?;
        if tail.contains(CHECKED_ISO) || tail.contains(CHECKED_HUMAN) || mid.contains(CHECKED_ISO) {
            return None;
        }
        Some(CachedPage {
            parts: [head, mid, tail].map(Box::from),
            stale_at,
        })
    }

    /// The page with `iso` and `human` as the time its status was checked.
    pub fn body(&self, iso: &str, human: &str) -> String {
        let [head, mid, tail] = &self.parts;
        let mut out = String::with_capacity(self.len() + iso.len() + human.len());
        for (part, time) in [(head, iso), (mid, human), (tail, "")] {
            out.push_str(part);
            out.push_str(time);
        }
        out
    }

    fn len(&self) -> usize {
        self.parts.iter().map(|p| p.len()).sum()
    }
}

/// Which generation of the cache a page was built in: it is kept only if no change was seen
/// meanwhile.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

#[derive(Debug, Default)]
struct Pages {
    epoch: u64,
    entries: HashMap<Uuid, Arc<CachedPage>>,
    bytes: usize,
}

/// The cache of one instance.
#[derive(Debug)]
pub struct BadgeCache {
    /// This instance, as `cache_instances` names it.
    instance: Uuid,
    pages: RwLock<Pages>,
    /// The badge version the pages are current with (0: none yet).
    applied: AtomicI64,
    /// Milliseconds after `origin` until which memory may answer (0: not yet).
    trusted_until_ms: AtomicU64,
    origin: Instant,
}

impl Default for BadgeCache {
    fn default() -> Self {
        BadgeCache::new()
    }
}

impl BadgeCache {
    /// An empty cache, not trusted until its watcher has acknowledged a version.
    pub fn new() -> Self {
        BadgeCache {
            instance: Uuid::new_v4(),
            pages: RwLock::default(),
            applied: AtomicI64::new(0),
            trusted_until_ms: AtomicU64::new(0),
            origin: Instant::now(),
        }
    }

    fn trusted(&self) -> bool {
        let until = self.trusted_until_ms.load(Ordering::Acquire);
        until != 0 && (self.origin.elapsed().as_millis() as u64) < until
    }

    fn trust_until(&self, t: Instant) {
        let ms = t.saturating_duration_since(self.origin).as_millis() as u64;
        self.trusted_until_ms.fetch_max(ms.max(1), Ordering::AcqRel);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Pages> {
        self.pages.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Pages> {
        self.pages.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The page of badge `id` if memory may answer at `now`.
    pub fn get(&self, id: Uuid, now: DateTime<Utc>) -> Option<Arc<CachedPage>> {
        if !self.trusted() {
            return None;
        }
        let page = self.read().entries.get(&id).cloned()?;
        page.stale_at.is_none_or(|t| now < t).then_some(page)
    }

    /// Take before reading what a page is built from.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.read().epoch)
    }

    /// Keeps a page built under `ticket`, unless a change was seen since.
    pub fn put(&self, ticket: Ticket, id: Uuid, page: CachedPage) {
        let mut pages = self.write();
        if pages.epoch != ticket.0 {
            return;
        }
        let len = page.len();
        if pages.bytes + len > MAX_BYTES {
            pages.entries.clear();
            pages.bytes = 0;
        }
        pages.bytes += len;
        if let Some(old) = pages.entries.insert(id, Arc::new(page)) {
            pages.bytes -= old.len();
        }
    }

    /// Drops every page (a change was made or seen).
    pub fn clear(&self) {
        let mut pages = self.write();
        pages.entries.clear();
        pages.bytes = 0;
        pages.epoch += 1;
    }

    /// After a write that may change badge pages (a revocation, an erasure, a holder's name
    /// or consent): drops this instance's pages, then waits until every other live instance
    /// has dropped its own, at most [`LEASE`] and a little more.
    pub async fn changed(&self, store: &dyn Store) -> DbResult<()> {
        self.clear();
        wait_for_instances(store, self.instance).await
    }

    /// One poll of the watcher, started at `started`: drops the pages if the version moved,
    /// acknowledges if it moved or `ack` asks, and extends the lease by an acknowledgement.
    async fn poll(&self, store: &dyn Store, started: Instant, ack: bool) -> DbResult<bool> {
        let version = store.badge_version().await?;
        let moved = self.applied.load(Ordering::Acquire) != version;
        if moved {
            // Dropped before the acknowledgement, so a writer that sees it finds them gone.
            self.clear();
            self.applied.store(version, Ordering::Release);
        }
        if moved || ack {
            store.ack_badge_version(self.instance, version).await?;
            self.trust_until(started + LEASE);
            return Ok(true);
        }
        Ok(false)
    }
}

/// Waits until no instance but `except` that acknowledged within the lease is behind the
/// current badge version.
async fn wait_for_instances(store: &dyn Store, except: Uuid) -> DbResult<()> {
    let version = store.badge_version().await?;
    let deadline = Instant::now() + LEASE + POLL;
    let lease_ms = LEASE.as_millis() as i64;
    let mut pause = Duration::from_millis(2);
    while store.instances_behind(version, except, lease_ms).await? > 0 {
        if Instant::now() >= deadline {
            // Whoever has not caught up has stopped serving from memory by now.
            tracing::warn!("an instance did not acknowledge a badge change within its lease");
            break;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(POLL / 2);
    }
    Ok(())
}

/// Runs this instance's watcher until `shutdown`, then leaves `cache_instances`.
pub fn spawn_watcher(
    cache: Arc<BadgeCache>,
    store: Arc<dyn Store>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut last_ack: Option<Instant> = None;
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tick.tick() => {}
            }
            let started = Instant::now();
            let ack = last_ack.is_none_or(|t| started.duration_since(t) >= ACK_EVERY);
            match cache.poll(&*store, started, ack).await {
                Ok(true) => last_ack = Some(started),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "badge cache: reading the badge version failed")
                }
            }
        }
        if let Err(e) = store.leave_badge_cache(cache.instance).await {
            tracing::warn!(error = %e, "badge cache: leaving cache_instances failed");
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_split_at_the_checked_time() {
        let body = format!("<p>a <time datetime=\"{CHECKED_ISO}\">{CHECKED_HUMAN}</time> b</p>");
        let page = CachedPage::new(&body, None).unwrap();
        assert_eq!(
            page.body("2026-12-04T10:00:00Z", "4 December 2026, 10:00 UTC"),
            "<p>a <time datetime=\"2026-12-04T10:00:00Z\">4 December 2026, 10:00 UTC</time> b</p>"
        );
        assert!(CachedPage::new("<p>no marks</p>", None).is_none());
        let twice = format!("{CHECKED_ISO}{CHECKED_HUMAN}{CHECKED_ISO}");
        assert!(CachedPage::new(&twice, None).is_none());
    }

    #[test]
    fn untrusted_expired_and_outdated_pages_are_not_served() {
        let cache = BadgeCache::new();
        let id = Uuid::new_v4();
        let now = Utc::now();
        let page = || CachedPage::new(&format!("{CHECKED_ISO}{CHECKED_HUMAN}"), None).unwrap();
        let t = cache.ticket();
        cache.put(t, id, page());
        assert!(cache.get(id, now).is_none(), "no lease yet");
        cache.trust_until(Instant::now() + LEASE);
        assert!(cache.get(id, now).is_some());

        // A page built before a change is not kept.
        let t = cache.ticket();
        cache.clear();
        cache.put(t, id, page());
        assert!(cache.get(id, now).is_none());

        // A page past its badge's expiry is not served.
        let expiring = CachedPage::new(
            &format!("{CHECKED_ISO}{CHECKED_HUMAN}"),
            Some(now + chrono::Duration::seconds(1)),
        )
        .unwrap();
        cache.put(cache.ticket(), id, expiring);
        assert!(cache.get(id, now).is_some());
        assert!(cache.get(id, now + chrono::Duration::seconds(1)).is_none());
    }
}
