//! Shared application state: the store, the issuer and its keys, settings, the JSON-LD
//! processor (contexts processed once) and the status-list position allocator.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::Mutex;

use crate::config::Settings;
use crate::credential::jsonld::JsonLdProcessor;
use crate::credential::model::OpenBadgeCredential;
use crate::db::{StatusBlock, Store};
use crate::error::{AppError, AppResult};
use crate::issuer::Issuer;
use crate::program::{self, STATUS_LIST_SIZE};
use crate::registry::cache::RegistryCache;

/// Signed status list credentials by issuer form and list number, with the sorted revoked indices each
/// encodes: re-signed only when revocations change.
pub type StatusCache = HashMap<(crate::config::IssuerIdForm, i64), (Vec<i64>, Arc<String>)>;

/// Everything a handler needs, behind one `Arc`: every extractor and middleware layer clones
/// the state, and one shared count to bump per clone (not one per field, on cache lines both
/// cores fight over) took an eighth of a cached page's CPU time.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] holds.
#[derive(Clone)]
pub struct Shared {
    /// The database.
    pub store: Arc<dyn Store>,
    /// The issuer identity and keys.
    pub issuer: Arc<Issuer>,
    /// Settings.
    pub settings: Arc<Settings>,
    /// Strict JSON-LD with the bundled contexts, processed once.
    pub jsonld: Arc<JsonLdProcessor>,
    /// Hands out status-list positions.
    pub status: Arc<StatusAllocator>,
    /// Stores issued credentials, many per commit.
    pub writer: crate::db::group_commit::GroupCommit,
    /// Signed status list credentials, by list, with the revocations they encode.
    pub status_cache: Arc<Mutex<StatusCache>>,
    /// Rendered registry pages and feeds, valid while the registry version is unchanged.
    pub registry: Arc<RegistryCache>,
    /// The program's figures, valid for `STATS_CACHE_SECS` or until this instance writes.
    pub stats: Arc<crate::program::stats::StatsCache>,
    /// Prometheus metrics of this instance.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Rendered badge pages, live across instances ([`crate::badge_cache`]).
    pub badges: Arc<crate::badge_cache::BadgeCache>,
    /// Signed credential documents by id. They never change once stored, so any instance
    /// may serve them from memory; status lives apart, in the status list.
    pub documents: Arc<quick_cache::sync::Cache<uuid::Uuid, axum::body::Bytes>>,
    /// The admin API's audit log (the one way entries are written).
    pub audit: crate::audit::Audit,
    /// Per-client rate limits of this instance.
    pub limits: Arc<crate::limits::Limits>,
    /// Bounds how many verifications (parsing and checking untrusted documents) run at
    /// once on the blocking pool: one per core, so they never take every core from the
    /// async workers ([`AppState::off_workers`]).
    pub verify_slots: Arc<tokio::sync::Semaphore>,
    /// Wakes this instance's mail sender when a message is queued.
    pub outbox: crate::mail::Outbox,
}

impl AppState {
    /// Builds the state.
    pub fn new(store: Arc<dyn Store>, issuer: Issuer, settings: Settings) -> Self {
        let limits = Arc::new(crate::limits::Limits::new(&settings));
        let registry = Arc::new(RegistryCache::new(std::time::Duration::from_millis(
            settings.registry_recheck_ms,
        )));
        let stats = Arc::new(crate::program::stats::StatsCache::new(
            std::time::Duration::from_secs(settings.stats_cache_secs),
        ));
        // One writer for everything requests store durably: one lock holder, one flush.
        let writer = crate::db::group_commit::GroupCommit::new(store.clone());
        AppState(Arc::new(Shared {
            writer: writer.clone(),
            audit: crate::audit::Audit::new(writer),
            store,
            issuer: Arc::new(issuer),
            settings: Arc::new(settings),
            jsonld: Arc::new(JsonLdProcessor::new()),
            status: Arc::new(StatusAllocator::default()),
            status_cache: Arc::default(),
            registry,
            stats,
            metrics: Arc::default(),
            badges: Arc::default(),
            documents: Arc::new(quick_cache::sync::Cache::new(DOCUMENT_CACHE_ENTRIES)),
            limits,
            outbox: Default::default(),
            verify_slots: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
        }))
    }

    /// The same state with other settings (tests of settings that differ per request path).
    pub fn with_settings(&self, settings: Settings) -> AppState {
        let mut shared = Shared::clone(&self.0);
        shared.settings = Arc::new(settings);
        AppState(Arc::new(shared))
    }

    /// Runs CPU-heavy work on untrusted input (parsing, canonicalisation) on the blocking pool,
    /// at most [`Shared::verify_slots`] at once, so the async workers stay free for every
    /// other request however many large bodies arrive.
    pub async fn off_workers<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let permit = self
            .verify_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| {
                AppError::Internal(anyhow::Error::new(e).context("verify slots closed"))
            })?;
        let out = tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await;
        // Only a panic gets here.
        out.map_err(|e| {
            AppError::Internal(anyhow::Error::new(e).context("verification task failed"))
        })
    }

    /// Signs a credential with the active key, its verification method in the configured
    /// issuer form; returns the JSON text to store.
    /// The proof's `created` is the credential's `validFrom`.
    pub fn sign(&self, credential: OpenBadgeCredential) -> AppResult<String> {
        let created = credential.valid_from.clone();
        self.sign_as(credential, self.issuer.form(), &created)
    }

    /// Signs a credential with the active key at `created`, its verification method in `form`
    /// (which must be the form of the credential's issuer id).
    pub fn sign_as(
        &self,
        mut credential: OpenBadgeCredential,
        form: crate::config::IssuerIdForm,
        created: &str,
    ) -> AppResult<String> {
        let keys = &self.issuer.keys;
        let vm = self.issuer.verification_method(form, keys.active_kid());
        let timer = self
            .metrics
            .signing
            .with_label_values(&["fast"])
            .start_timer();
        crate::credential::sign_credential(&mut credential, keys.active_key(), &vm, created)
            .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("signing")))?;
        timer.observe_duration();
        serde_json::to_string(&credential)
            .context("serialising the credential")
            .map_err(AppError::Internal)
    }
}

/// The limits middleware (`crate::limits`) takes only the limits, so that module needs
/// nothing of the state that holds it.
impl axum::extract::FromRef<AppState> for Arc<crate::limits::Limits> {
    fn from_ref(state: &AppState) -> Self {
        Arc::clone(&state.limits)
    }
}

/// Signed documents kept in memory (a few KB each: about 30 MB at most).
const DOCUMENT_CACHE_ENTRIES: usize = 10_000;

/// Status-list positions come from the database in blocks, so most issuances need no
/// extra round trip, and several instances never hand out the same bit.
#[derive(Default)]
pub struct StatusAllocator {
    block: Mutex<Option<(StatusBlock, i64)>>,
}

/// Positions reserved per database round trip.
const BLOCK_LEN: i64 = 64;

impl StatusAllocator {
    /// The next `(list, bit index)`.
    pub async fn next(&self, store: &dyn Store) -> AppResult<(i64, i64)> {
        let mut guard = self.block.lock().await;
        let (block, used) = match guard.take() {
            Some((b, used)) if used < b.len => (b, used),
            _ => (
                store
                    .reserve_status_block(BLOCK_LEN, STATUS_LIST_SIZE)
                    .await?,
                0,
            ),
        };
        *guard = Some((block, used + 1));
        Ok((block.list, program::status_index(block.start + used)))
    }
}
