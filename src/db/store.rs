//! The [`Store`] trait both backends implement, and its errors.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::records::{
    ApiToken, AuditFilter, AuditRecord, BadgeDates, Closing, ConsentEvent, CredentialFilter,
    CredentialRecord, Erasure, Exchange, ExchangeCopy, Holder, LinkUse, Mentor, MessageFilter,
    OutboxMessage, PartnerFit, Person, RecordFilter, RegistryProbe, RegistryQuery, RegistryRow,
    RevokeOutcome, SendOutcome, StaffMember, StaffSession, StatsRows, StatusBlock, Write,
};

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
    /// A staff account is identified by its (normalised) email.
    StaffEmail,
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
    /// The closings `closer_id` closed, oldest first.
    async fn closings_of_person(&self, closer_id: Uuid) -> DbResult<Vec<Closing>>;
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
            .write_batch(&[Write::Credential(record.clone(), None)])
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
    /// Revokes a credential, once; `message` is queued in the same transaction, only if it
    /// is revoked now.
    async fn revoke_credential(
        &self,
        id: Uuid,
        reason: &str,
        at: DateTime<Utc>,
        message: Option<&OutboxMessage>,
    ) -> DbResult<RevokeOutcome>;
    /// The revoked bit indices of a status list; `None` if the list does not exist.
    async fn revoked_indices(&self, list: i64) -> DbResult<Option<Vec<i64>>>;

    /// Queues a message on its own (a sign-in link; issuance and revocation queue theirs
    /// with what they announce).
    async fn insert_message(&self, message: &OutboxMessage) -> DbResult<()>;
    /// Takes up to `limit` queued messages due at `now`: each gets one more attempt and is
    /// held until `lease_until` (then due again, should this sender die). On PostgreSQL
    /// rows another instance holds are skipped, never waited for.
    async fn claim_messages(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> DbResult<Vec<OutboxMessage>>;
    /// Records how several attempts ended, in one transaction (one disk flush for a round
    /// of the sender, which would otherwise take the writer lock once per message).
    async fn finish_messages(
        &self,
        outcomes: &[(Uuid, SendOutcome)],
        at: DateTime<Utc>,
    ) -> DbResult<()>;
    /// Reads a message.
    async fn message(&self, id: Uuid) -> DbResult<Option<OutboxMessage>>;
    /// Messages matching a filter, newest first.
    async fn list_messages(&self, filter: &MessageFilter) -> DbResult<Vec<OutboxMessage>>;
    /// Queues a failed message again with a fresh count of attempts; returns it as it now
    /// is (unchanged unless it had failed), `None` if absent.
    async fn retry_message(&self, id: Uuid, now: DateTime<Utc>) -> DbResult<Option<OutboxMessage>>;

    /// Stores the hash of a new sign-in link's token.
    async fn insert_holder_link(
        &self,
        token_hash: &str,
        person_id: Uuid,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> DbResult<()> {
        self.insert_holder_links(
            &[(token_hash.to_owned(), person_id)],
            created_at,
            expires_at,
        )
        .await
    }
    /// Stores the hashes of several new sign-in links `(token hash, person)`, in one
    /// transaction.
    async fn insert_holder_links(
        &self,
        links: &[(String, Uuid)],
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> DbResult<()>;
    /// Uses a sign-in link: the first use before its expiry signs its person in.
    async fn use_holder_link(&self, token_hash: &str, now: DateTime<Utc>) -> DbResult<LinkUse>;
    /// Stores the hash of a new holder session's token.
    async fn insert_session(
        &self,
        token_hash: &str,
        person_id: Uuid,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> DbResult<()>;
    /// The person an unexpired session belongs to.
    async fn session_person(&self, token_hash: &str, now: DateTime<Utc>) -> DbResult<Option<Uuid>>;
    /// Ends a session.
    async fn delete_session(&self, token_hash: &str) -> DbResult<()>;

    /// Stores a new staff account; `Conflict(StaffEmail)` if the email has one.
    async fn insert_staff(&self, staff: &StaffMember) -> DbResult<()>;
    /// The staff account with this (normalised) email.
    async fn staff_by_email(&self, email: &str) -> DbResult<Option<StaffMember>>;
    /// Every staff account, by email.
    async fn list_staff(&self) -> DbResult<Vec<StaffMember>>;
    /// Stores the hash of a new one-time link that sets `staff_id`'s password; the account's
    /// earlier unused links stop working.
    async fn insert_staff_link(
        &self,
        token_hash: &str,
        staff_id: Uuid,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> DbResult<()>;
    /// The account an unused, unexpired link is for (without using it).
    async fn staff_link(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> DbResult<Option<StaffMember>>;
    /// Uses a link to set its account's password, in one transaction: the link is spent
    /// (only if still unused and unexpired), the hash stored, every session of the account
    /// ended. `None` if the link was not usable.
    async fn use_staff_link(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> DbResult<Option<StaffMember>>;
    /// Sets a staff member's password and ends their sessions but `keep` (the session
    /// that changed it).
    async fn set_staff_password(
        &self,
        staff_id: Uuid,
        password_hash: &str,
        now: DateTime<Utc>,
        keep: Option<&str>,
    ) -> DbResult<()>;
    /// Stores the hash of a new staff session's token.
    async fn insert_staff_session(
        &self,
        token_hash: &str,
        staff_id: Uuid,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> DbResult<()>;
    /// A live staff session: not past its end, and seen after `idle_since`.
    async fn staff_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
    ) -> DbResult<Option<StaffSession>>;
    /// Records activity on a staff session.
    async fn touch_staff_session(&self, token_hash: &str, now: DateTime<Utc>) -> DbResult<()>;
    /// Ends one staff session.
    async fn delete_staff_session(&self, token_hash: &str) -> DbResult<()>;
    /// Ends every session of a staff member ("sign out everywhere"); how many there were.
    async fn delete_staff_sessions(&self, staff_id: Uuid) -> DbResult<u64>;
    /// A person's consent history, oldest first.
    async fn consent_history(&self, person_id: Uuid) -> DbResult<Vec<ConsentEvent>>;

    /// Sets (or, with `None`, removes) a closing's partner-fit assessment; false if there is
    /// no such closing.
    async fn set_partner_fit(&self, id: Uuid, fit: Option<&PartnerFit>) -> DbResult<bool>;

    /// What the program's figures are computed from: closings per month from `since`, per
    /// country and per mentor; the counts at `now` (Certified badges expiring by
    /// `expiring_by`); every Certified badge's span.
    async fn stats(
        &self,
        now: DateTime<Utc>,
        since: NaiveDate,
        expiring_by: DateTime<Utc>,
    ) -> DbResult<StatsRows>;

    /// People, newest first: `q` in the name or email, `country`.
    async fn list_people(&self, filter: &RecordFilter) -> DbResult<Vec<Person>>;

    /// Mentors, newest first: `q` in the name or email.
    async fn list_mentors(&self, filter: &RecordFilter) -> DbResult<Vec<Mentor>>;

    /// Closings, newest first: `q` in the partner's name, the partner's `country`, closed
    /// between `closed_from` and `closed_to`, of a closer, of a mentor.
    async fn list_closings(&self, filter: &RecordFilter) -> DbResult<Vec<Closing>>;

    /// Stores a new wallet exchange.
    async fn insert_exchange(&self, exchange: &Exchange) -> DbResult<()>;

    /// The exchange whose URL token hashes to `token_hash`.
    async fn exchange_by_token(&self, token_hash: &str) -> DbResult<Option<Exchange>>;

    /// Hands out a new challenge for an open exchange (replacing any earlier one, which can
    /// then no longer be answered). False if it is completed or expired at `now`.
    async fn challenge_exchange(
        &self,
        id: Uuid,
        challenge: &str,
        now: DateTime<Utc>,
    ) -> DbResult<bool>;

    /// Completes an exchange with its copy, in one statement, only if it is still open at
    /// `now`, `challenge` is the one it handed out last and its credential is neither revoked
    /// nor expired: a challenge answers once, two presentations at once cannot both complete
    /// it, and a revocation meanwhile delivers nothing. False otherwise (nothing written).
    async fn complete_exchange(
        &self,
        id: Uuid,
        challenge: &str,
        copy: &ExchangeCopy,
        now: DateTime<Utc>,
    ) -> DbResult<bool>;

    /// The exchanges of a credential, newest first.
    async fn exchanges_of_credential(&self, credential_id: Uuid) -> DbResult<Vec<Exchange>>;

    /// The completed exchanges (the wallet copies) of a person's credentials, oldest first.
    async fn wallet_copies_of_person(&self, person_id: Uuid) -> DbResult<Vec<Exchange>>;
    /// Erases a person in one transaction: revokes their unrevoked credentials with
    /// `reason`, removes name, email, city and url, unlists them, drops their messages,
    /// links, sessions and wallet exchanges (with the copies). `NotFound` if absent.
    async fn erase_person(&self, id: Uuid, reason: &str, at: DateTime<Utc>) -> DbResult<Erasure>;

    /// Replaces a person's editable fields (all but id and created_at); `NotFound` if absent.
    async fn update_person(&self, person: &Person) -> DbResult<()>;
    /// The registry's version, last change and expiry bounds at `now` (one round trip of
    /// indexed lookups).
    async fn registry_probe(&self, now: DateTime<Utc>) -> DbResult<RegistryProbe>;
    /// A page of the registry.
    async fn registry_page(&self, query: &RegistryQuery) -> DbResult<Vec<RegistryRow>>;
    /// Every unrevoked badge of these people (either achievement), for the entries' details.
    async fn registry_badges(&self, people: &[Uuid]) -> DbResult<Vec<BadgeDates>>;

    /// The version of what badge pages show, bumped by every change to it
    /// ([`crate::badge_cache`]).
    async fn badge_version(&self) -> DbResult<i64>;
    /// Records that instance `instance`'s badge cache has caught up with `version`, at the
    /// database's clock; forgets instances silent for a day.
    async fn ack_badge_version(&self, instance: Uuid, version: i64) -> DbResult<()>;
    /// How many instances other than `except` acknowledged within the last `lease_ms`
    /// milliseconds (the database's clock) a badge version older than `version`.
    async fn instances_behind(&self, version: i64, except: Uuid, lease_ms: i64) -> DbResult<i64>;
    /// Removes `instance` from those a writer waits for (it is shutting down).
    async fn leave_badge_cache(&self, instance: Uuid) -> DbResult<()>;
}
