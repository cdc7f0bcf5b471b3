//! Storage: the [`Store`] trait, its records, and the choice of backend from the database URL.
//!
//! Two implementations: [`sqlite`] (the embedded default, one file in WAL mode) and
//! [`postgres`] (for several service instances on one database). Both run the same
//! migrations (same version and name, per-backend SQL) and enforce the program's uniqueness
//! rules with constraints, so concurrent requests cannot break them.

pub mod group_commit;
pub mod postgres;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::tokens::Scopes;

/// Which uniqueness rule a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    /// One active Partnership Closed per closing record.
    ClosedPerClosing,
    /// One active Partnership Certified per person.
    CertifiedPerPerson,
    /// An Idempotency-Key names one issuance.
    IdempotencyKey,
    /// A status-list bit belongs to one credential.
    StatusIndex,
    /// Token names are unique.
    TokenName,
    /// A person is identified by their (normalised) email.
    PersonEmail,
    /// A mentor is identified by their (normalised) email.
    MentorEmail,
    /// Any other unique constraint.
    Other,
}

/// Storage errors.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The row does not exist.
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write.
    #[error("conflict: {0:?}")]
    Conflict(Constraint),
    /// The transaction lost a race with another (PostgreSQL: deadlock or serialization
    /// failure) and was rolled back whole; running it again may succeed.
    #[error("transaction lost a race with another: {0}")]
    Contention(anyhow::Error),
    /// Anything else (connection, I/O, a bug).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Result alias for store methods.
pub type DbResult<T> = Result<T, DbError>;

/// An admin API token; only the SHA-256 of the secret is stored.
#[derive(Debug, Clone)]
pub struct ApiToken {
    /// Token id (the API's handle: `/api/v1/tokens/{id}`).
    pub id: Uuid,
    /// Human name (who or what uses it).
    pub name: String,
    /// The lookup key inside `pb_<public id>_<secret>`; `None` for tokens made before
    /// public ids, which are looked up by `token_hash`.
    pub public_id: Option<String>,
    /// Hex SHA-256 of the secret part (of the whole token for the older kind).
    pub token_hash: String,
    /// What it may do.
    pub scopes: Scopes,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One request to an admin route, as the audit log keeps it: never a secret or a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When the request was answered.
    pub at: DateTime<Utc>,
    /// The token whose secret matched (even if expired or revoked); `None` when none did.
    pub token_id: Option<Uuid>,
    /// That token's name.
    pub token_name: Option<String>,
    /// Method and route template: `POST /api/v1/credentials/{id}/revoke`.
    pub action: String,
    /// The `{id}` of the path, when the route has one.
    pub target: Option<String>,
    /// The HTTP status answered.
    pub status: u16,
    /// The request's `x-request-id`.
    pub request_id: Option<String>,
}

/// One write of the group committer ([`group_commit`]): what requests store durably before
/// they are answered.
#[derive(Debug, Clone)]
pub enum Write {
    /// An issued credential.
    Credential(CredentialRecord),
    /// An audit log entry.
    Audit(AuditEntry),
}

/// A stored audit entry with its position in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Increasing with every entry: the log's order.
    pub id: i64,
    /// The entry.
    pub entry: AuditEntry,
}

/// Filters and cursor for reading the audit log (newest first).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only entries of this token id.
    pub token_id: Option<Uuid>,
    /// Only entries of the token with this name.
    pub token_name: Option<String>,
    /// Only this action (`METHOD /route/template`).
    pub action: Option<String>,
    /// Only entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only entries older than this position.
    pub before: Option<i64>,
    /// Page size.
    pub limit: i64,
}

/// A mentor who can be CC'd on closings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mentor {
    /// Id.
    pub id: Uuid,
    /// Full name.
    pub name: String,
    /// Email (never published).
    pub email: String,
    /// Public profile URL.
    pub url: Option<String>,
    /// When recorded.
    pub created_at: DateTime<Utc>,
}

/// A program participant (a badge recipient).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// Id.
    pub id: Uuid,
    /// Full name.
    pub name: String,
    /// Email; only its salted hash goes into credentials.
    pub email: String,
    /// City.
    pub city: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// Public profile URL.
    pub url: Option<String>,
    /// Consent to appear in the public registry.
    pub listed_in_registry: bool,
    /// When recorded.
    pub created_at: DateTime<Utc>,
}

/// Dates on which a partnership reached each of its five stages: each from 1900-01-01 to
/// the closing day, in this order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Stages {
    /// Lead identified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead: Option<NaiveDate>,
    /// First conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<NaiveDate>,
    /// Shaping the partnership.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shaping: Option<NaiveDate>,
    /// The work itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work: Option<NaiveDate>,
    /// Transition and close.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition: Option<NaiveDate>,
}

/// The record of a closed partnership: the evidence behind the badges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Closing {
    /// Id.
    pub id: Uuid,
    /// The person who closed it.
    pub closer_id: Uuid,
    /// The mentor CC'd on the closing communications.
    pub mentor_id: Uuid,
    /// When the mentor was CC'd.
    pub mentor_cc_at: DateTime<Utc>,
    /// A reference to the CC'd message (e.g. a message id).
    pub mentor_cc_ref: Option<String>,
    /// Partner organisation.
    pub partner_name: String,
    /// Partner web site.
    pub partner_url: Option<String>,
    /// Partner city.
    pub partner_city: Option<String>,
    /// Partner country.
    pub partner_country: Option<String>,
    /// Stage dates.
    pub stages: Stages,
    /// Day the partnership closed.
    pub closed_on: NaiveDate,
    /// Outcome, in a few sentences.
    pub summary: String,
    /// When recorded.
    pub created_at: DateTime<Utc>,
}

/// A stored, signed credential and its status. The document never changes after insert.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialRecord {
    /// Id (also the last path segment of the credential URL).
    pub id: Uuid,
    /// Achievement slug.
    pub achievement: String,
    /// Recipient.
    pub person_id: Uuid,
    /// The closing a Partnership Closed was issued for.
    pub closing_id: Option<Uuid>,
    /// Status list number.
    pub status_list: i64,
    /// Bit index in that list.
    pub status_index: i64,
    /// Issue time (= `validFrom`).
    pub issued_at: DateTime<Utc>,
    /// Expiry (= `validUntil`).
    pub valid_until: Option<DateTime<Utc>>,
    /// The signed credential, byte for byte as issued.
    pub document: String,
    /// The Idempotency-Key it was issued under.
    pub idempotency_key: Option<String>,
    /// SHA-256 of the issuing request, to tell a retry from a reuse of the key.
    pub request_hash: Option<String>,
    /// Revocation time.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Revocation reason.
    pub revocation_reason: Option<String>,
}

impl CredentialRecord {
    /// `valid`, `revoked` or `expired`, at `now`.
    pub fn status_at(&self, now: DateTime<Utc>) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.valid_until.is_some_and(|t| t <= now) {
            "expired"
        } else {
            "valid"
        }
    }
}

/// The holder of a credential, as far as its public page needs: the name, and whether the
/// holder agreed to be public (only then is the name shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Full name.
    pub name: String,
    /// Consent to appear in public (the registry, and by name on badge pages).
    pub listed_in_registry: bool,
}

/// Filters and cursor for listing credentials (newest first).
#[derive(Debug, Clone, Default)]
pub struct CredentialFilter {
    /// Only this recipient.
    pub person_id: Option<Uuid>,
    /// Only this achievement slug.
    pub achievement: Option<String>,
    /// Only `valid`, `revoked` or `expired` ones.
    pub status: Option<String>,
    /// Start after this `(issued_at, id)` position.
    pub after: Option<(DateTime<Utc>, Uuid)>,
    /// Page size.
    pub limit: i64,
    /// The time `status` is judged at.
    pub now: DateTime<Utc>,
}

/// A block of status-list positions reserved for one instance: counters `start..start+len`
/// of list `list`, turned into bit indices by [`crate::program::status_index`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusBlock {
    /// List number.
    pub list: i64,
    /// First counter.
    pub start: i64,
    /// Number of counters.
    pub len: i64,
}

/// What `revoke_credential` did.
#[derive(Debug, Clone, PartialEq)]
pub enum RevokeOutcome {
    /// Revoked now.
    Revoked(CredentialRecord),
    /// It was already revoked (the record shows when and why).
    AlreadyRevoked(CredentialRecord),
}

/// The public registry's state, read to validate in-memory caches: one cheap round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryProbe {
    /// Bumped (by triggers) in the same transaction as every change that can alter the
    /// registry: issue, revocation, re-dating of a badge; a person's public fields or consent.
    pub version: i64,
    /// When `version` last changed.
    pub changed_at: DateTime<Utc>,
    /// The latest `valid_until` at or before the probe time, of an unrevoked badge: expiry
    /// changes the registry without any write.
    pub last_expired: Option<DateTime<Utc>>,
    /// The earliest `valid_until` after the probe time, of an unrevoked badge: until then,
    /// an unchanged `version` means an unchanged registry.
    pub next_expiry: Option<DateTime<Utc>>,
}

/// The order of a registry query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryOrder {
    /// By lower-cased name, then the id of the active Certified (the directory,
    /// cursor-paged): both public, so a cursor holding them reveals no internal id. A
    /// person keeps their place while their name and badge stay; a renewal (a new badge id)
    /// can move them within the people of the same name.
    Name,
    /// Newest active certification first, then credential id (the feeds).
    Newest,
}

/// A query of the registry: listed people with a valid Partnership Certified at `now`.
#[derive(Debug, Clone)]
pub struct RegistryQuery {
    /// Only this country (case-insensitive equality).
    pub country: Option<String>,
    /// Only names starting with this (case-insensitive).
    pub prefix: Option<String>,
    /// [`RegistryOrder::Name`] only: start after this `(name key, credential id)`.
    pub after: Option<(String, Uuid)>,
    /// Order.
    pub order: RegistryOrder,
    /// Most rows returned.
    pub limit: i64,
    /// The time validity is judged at.
    pub now: DateTime<Utc>,
}

/// One listed person with their active Partnership Certified.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryRow {
    /// Person id (internal; never published).
    pub person_id: Uuid,
    /// Name.
    pub name: String,
    /// The backend's lower-cased name: the sort key the cursor carries.
    pub name_key: String,
    /// City.
    pub city: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// Public profile URL.
    pub url: Option<String>,
    /// The active Partnership Certified.
    pub credential_id: Uuid,
    /// Its issue time.
    pub issued_at: DateTime<Utc>,
    /// Its expiry.
    pub valid_until: Option<DateTime<Utc>>,
}

/// An unrevoked badge's dates, for "certified since" and the count of closed partnerships.
#[derive(Debug, Clone, PartialEq)]
pub struct BadgeDates {
    /// Holder.
    pub person_id: Uuid,
    /// Achievement slug.
    pub achievement: String,
    /// Issue time.
    pub issued_at: DateTime<Utc>,
    /// Expiry.
    pub valid_until: Option<DateTime<Utc>>,
}

/// The storage interface both backends implement.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;
    /// A cheap round trip, for readiness.
    async fn ping(&self) -> DbResult<()>;
    /// Closes the pool (graceful shutdown).
    async fn close(&self);

    /// Stores a new token.
    async fn insert_token(&self, token: &ApiToken) -> DbResult<()>;
    /// Finds a token by the hash of its secret (tokens made before public ids only).
    async fn token_by_hash(&self, token_hash: &str) -> DbResult<Option<ApiToken>>;
    /// Finds a token by its public id.
    async fn token_by_public_id(&self, public_id: &str) -> DbResult<Option<ApiToken>>;
    /// Reads a token.
    async fn token(&self, id: Uuid) -> DbResult<Option<ApiToken>>;
    /// Every token, oldest first.
    async fn list_tokens(&self) -> DbResult<Vec<ApiToken>>;
    /// Revokes the unrevoked token with this name; false if there was none.
    async fn revoke_token(&self, name: &str, at: DateTime<Utc>) -> DbResult<bool>;
    /// Revokes the token with this id unless it already is; returns it, `None` if absent.
    async fn revoke_token_by_id(&self, id: Uuid, at: DateTime<Utc>) -> DbResult<Option<ApiToken>>;

    /// Audit entries matching a filter, newest first, at most `filter.limit`.
    async fn list_audit(&self, filter: &AuditFilter) -> DbResult<Vec<AuditRecord>>;

    /// Stores a mentor.
    async fn insert_mentor(&self, mentor: &Mentor) -> DbResult<()>;
    /// Reads a mentor.
    async fn mentor(&self, id: Uuid) -> DbResult<Option<Mentor>>;
    /// Stores a person.
    async fn insert_person(&self, person: &Person) -> DbResult<()>;
    /// Reads a person.
    async fn person(&self, id: Uuid) -> DbResult<Option<Person>>;
    /// Stores a closing record.
    async fn insert_closing(&self, closing: &Closing) -> DbResult<()>;
    /// Reads a closing record.
    async fn closing(&self, id: Uuid) -> DbResult<Option<Closing>>;
    /// Reads a closing record with its mentor, in one round trip (issuance reads both).
    /// The default makes two reads; both backends override it with a join.
    async fn closing_with_mentor(&self, id: Uuid) -> DbResult<Option<(Closing, Mentor)>> {
        let Some(closing) = self.closing(id).await? else {
            return Ok(None);
        };
        let mentor = self
            .mentor(closing.mentor_id)
            .await?
            .ok_or(DbError::NotFound)?;
        Ok(Some((closing, mentor)))
    }
    /// Finds a mentor by normalised email (the natural key imports use).
    async fn mentor_by_email(&self, email: &str) -> DbResult<Option<Mentor>>;
    /// Finds a person by normalised email (the natural key imports use).
    async fn person_by_email(&self, email: &str) -> DbResult<Option<Person>>;
    /// The oldest closing of `closer_id` with this partner (compared trimmed and
    /// case-insensitively) closed on `closed_on`: a closing's natural key for imports.
    async fn closing_by_natural_key(
        &self,
        closer_id: Uuid,
        partner_name: &str,
        closed_on: NaiveDate,
    ) -> DbResult<Option<Closing>>;

    /// Reserves `len` consecutive status-list counters, opening a new list when one is full.
    async fn reserve_status_block(&self, len: i64, list_size: i64) -> DbResult<StatusBlock>;
    /// Inserts a signed credential. For a Partnership Certified it first retires the
    /// person's expired, unrevoked Certified, so the one-active rule frees its slot.
    /// Unique violations come back as [`DbError::Conflict`].
    async fn insert_credential(&self, record: &CredentialRecord) -> DbResult<()> {
        let mut results = self
            .write_batch(&[Write::Credential(record.clone())])
            .await?;
        results.pop().unwrap_or(Err(DbError::NotFound))
    }
    /// Stores several writes in one transaction (one commit, one disk flush), in order. A
    /// credential is stored as [`Store::insert_credential`] would, behind its own savepoint:
    /// a rule it breaks gets its own `Err` in the returned list (same order) and the others
    /// are still stored. The outer `Err` means nothing was stored.
    async fn write_batch(&self, writes: &[Write]) -> DbResult<Vec<DbResult<()>>>;
    /// Reads a credential.
    async fn credential(&self, id: Uuid) -> DbResult<Option<CredentialRecord>>;
    /// Reads a credential with what its public page may say about the holder, in one
    /// round trip (the badge page is the hottest public route). The default makes two reads;
    /// both backends override it with a join.
    async fn credential_with_holder(
        &self,
        id: Uuid,
    ) -> DbResult<Option<(CredentialRecord, Holder)>> {
        let Some(record) = self.credential(id).await? else {
            return Ok(None);
        };
        let person = self
            .person(record.person_id)
            .await?
            .ok_or(DbError::NotFound)?;
        Ok(Some((
            record,
            Holder {
                name: person.name,
                listed_in_registry: person.listed_in_registry,
            },
        )))
    }
    /// Finds the credential issued under an Idempotency-Key.
    async fn credential_by_idempotency_key(&self, key: &str) -> DbResult<Option<CredentialRecord>>;
    /// All credentials of a person, oldest first.
    async fn credentials_of_person(&self, person_id: Uuid) -> DbResult<Vec<CredentialRecord>>;
    /// Credentials matching a filter, newest first, at most `filter.limit`.
    async fn list_credentials(&self, filter: &CredentialFilter) -> DbResult<Vec<CredentialRecord>>;
    /// Revokes a credential, once.
    async fn revoke_credential(
        &self,
        id: Uuid,
        reason: &str,
        at: DateTime<Utc>,
    ) -> DbResult<RevokeOutcome>;
    /// The revoked bit indices of a status list; `None` if the list does not exist.
    async fn revoked_indices(&self, list: i64) -> DbResult<Option<Vec<i64>>>;

    /// Replaces a person's editable fields (all but id and created_at); `NotFound` if absent.
    async fn update_person(&self, person: &Person) -> DbResult<()>;
    /// The registry's version, last change and expiry bounds at `now` (one round trip of
    /// indexed lookups).
    async fn registry_probe(&self, now: DateTime<Utc>) -> DbResult<RegistryProbe>;
    /// A page of the registry.
    async fn registry_page(&self, query: &RegistryQuery) -> DbResult<Vec<RegistryRow>>;
    /// Every unrevoked badge of these people (either achievement), for the entries' details.
    async fn registry_badges(&self, people: &[Uuid]) -> DbResult<Vec<BadgeDates>>;
}

/// Connects to the database the URL names (`sqlite:` or `postgres:`), creating a SQLite
/// file if missing, and runs migrations.
pub async fn connect(url: &str, sqlite_synchronous: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(
            sqlite::SqliteStore::connect(url, sqlite_synchronous).await?,
        ))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(postgres::PgStore::connect(url).await?))
    } else {
        anyhow::bail!("DATABASE_URL must start with sqlite: or postgres:")
    }
}
