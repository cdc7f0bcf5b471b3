//! The [`Store`] implementation both backends share: one statement per query (`$N`
//! placeholders work on SQLite and PostgreSQL alike), rows decoded once (the records derive
//! `FromRow`), over any sqlx database that implements [`Backend`].
//!
//! A backend supplies only what the databases really do differently: how a unique
//! violation names its rule, the registry query's collation and join, the list-of-ids
//! parameter, and how a batch of writes locks and isolates its records.

use std::borrow::Cow;
use std::future::Future;

use anyhow::Context as _;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::migrate::{Migrate, Migrator};
use sqlx::query::QueryAs;
use sqlx::types::Json;
use sqlx::Type;
use sqlx::{Connection as _, Database, Decode, Encode, Executor, FromRow, IntoArguments, Pool};
use tracing::instrument;
use uuid::Uuid;

use super::records::{
    ApiToken, AuditFilter, AuditRecord, BadgeDates, BadgeState, Closing, ConsentEvent,
    CredentialFilter, CredentialRecord, Erasure, Exchange, ExchangeCopy, Holder, JoinedMentor,
    LinkUse, Mentor, MessageFilter, OutboxMessage, PartnerFit, Person, RecordFilter, RegistryOrder,
    RegistryProbe, RegistryQuery, RegistryRow, RevokeOutcome, SendOutcome, StaffMember,
    StaffSession, Stages, StatsRows, StatusBlock, Write, CERTIFIED, CLOSED,
};
use super::rows::{DbId, UuidColumn};
use super::store::{DbError, DbResult, Store};

/// A list's cursor as two parameters (both null on the first page).
fn page_after(f: &RecordFilter) -> (Option<DateTime<Utc>>, Option<DbId>) {
    match f.after {
        Some((t, id)) => (Some(t), Some(DbId(id))),
        None => (None, None),
    }
}

/// The columns of [`Exchange`], for its queries.
const EXCHANGE_COLUMNS: &str = "select id, token_hash, credential_id, opened_by, created_at, \
     expires_at, challenge, holder_did, completed_at, copy_id, copy_document from exchanges";

/// What a database does differently from the other; the rest is [`SqlStore`].
pub trait Backend: UuidColumn {
    /// `"sqlite"` or `"postgres"`.
    const BACKEND: &'static str;
    /// The registry query's backend-specific SQL.
    const REGISTRY: Registry;
    /// Whether a failed statement aborts the whole transaction (PostgreSQL): then each
    /// credential of a batch needs its own savepoint, so a rule one record breaks rolls back
    /// only that record. Otherwise (SQLite undoes only the failed statement) only a
    /// Certified, an update then an insert, needs one, so a refused insert also undoes its
    /// update.
    const SAVEPOINT_EACH: bool;
    /// A statement a batch with credentials runs first, to take its locks in one order.
    const BATCH_LOCK: Option<&'static str>;
    /// The `YYYY-MM` of a closing's `closed_on` (text in SQLite, a date in PostgreSQL).
    const MONTH_OF_CLOSED_ON: &'static str;
    /// The integer `partner_fit.{axis}.{criterion}.score` of a closing (0 when absent).
    fn fit_score(axis: &str, criterion: &str) -> String;
    /// Appended to the outbox claim's row selection: PostgreSQL's `for update skip locked`,
    /// so several instances never claim the same message; empty on SQLite (one writer).
    const SKIP_LOCKED: &'static str;

    /// The database's clock as integer milliseconds since the Unix epoch.
    const NOW_MS: &'static str;

    /// The store's error for a database error: which rule a unique violation broke.
    fn error(e: sqlx::Error) -> DbError;
    /// How many rows a statement changed.
    fn rows_affected(done: &Self::QueryResult) -> u64;
    /// The statement reading the unrevoked badges of `people` people (at least one):
    /// `person_id, achievement, issued_at, valid_until`.
    fn badges_sql(people: usize) -> Cow<'static, str>;
    /// Binds the ids for [`Backend::badges_sql`].
    fn bind_people<'q, O>(
        query: QueryAs<'q, Self, O, Self::Arguments<'q>>,
        people: &'q [Uuid],
    ) -> QueryAs<'q, Self, O, Self::Arguments<'q>>;
}

/// The registry query's pieces that differ between backends.
#[derive(Debug, Clone, Copy)]
pub struct Registry {
    /// The lower-cased name as both backends sort it (byte order).
    pub name_key: &'static str,
    /// How a name-ordered query joins people to their badge (a planner hint on SQLite).
    pub name_join: &'static str,
    /// The listed-people condition, as the partial index spells it.
    pub listed: &'static str,
    /// The largest character, ending a prefix range.
    pub max_char: &'static str,
    /// Appended to the cursor's name and id parameters.
    pub key_param: &'static str,
    /// See `key_param`.
    pub id_param: &'static str,
}

/// A [`Store`] on the database `DB`: `SqliteStore` or `PgStore`.
#[derive(Debug)]
pub struct SqlStore<DB: Database> {
    pool: Pool<DB>,
}

impl<DB: Database> SqlStore<DB>
where
    DB::Connection: Migrate,
{
    /// A store on the pool `pool` opens, once `migrator` has run; `opening` and
    /// `migrating` say which step failed.
    pub(super) async fn open(
        pool: impl Future<Output = Result<Pool<DB>, sqlx::Error>>,
        migrator: &Migrator,
        opening: &'static str,
        migrating: &'static str,
    ) -> anyhow::Result<Self> {
        let pool = pool.await.context(opening)?;
        migrator.run(&pool).await.context(migrating)?;
        Ok(SqlStore { pool })
    }
}

impl<DB: Database> SqlStore<DB> {
    /// The pool, for tests and tools.
    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }
}

impl<DB: Database> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        SqlStore {
            pool: self.pool.clone(),
        }
    }
}

const TOKEN_COLUMNS: &str =
    "id, name, public_id, token_hash, scopes, created_at, expires_at, revoked_at";

const MESSAGE_COLUMNS: &str = "id, kind, person_id, credential_id, status, attempts, \
    next_attempt_at, last_error, created_at, sent_at";

const STAFF_COLUMNS: &str = "id, email, role, password_hash, created_at, password_set_at";
/// The SQL condition of a badge state on rows of `table` (`people` or `closings`), with
/// `now` the placeholder of the time validity is judged at; `true` without a state, or
/// with one of the other table (bound anyway, so the placeholder is always used).
fn badge_condition(state: Option<BadgeState>, table: &str, now: &str) -> String {
    let valid = |t: &str| {
        format!("{t}.revoked_at is null and ({t}.valid_until is null or {t}.valid_until > {now})")
    };
    let closed = |t: &str| {
        format!(
            "exists (select 1 from credentials c where c.closing_id = {t}.id \
             and c.achievement = '{CLOSED}' and c.revoked_at is null)"
        )
    };
    let holds = |t: &str, achievement: &str, k: &str| {
        format!(
            "exists (select 1 from credentials {k} where {k}.person_id = {t}.id \
             and {k}.achievement = '{achievement}' and {v})",
            v = valid(k)
        )
    };
    let t = table;
    match (state, t) {
        (Some(BadgeState::WithoutClosed), "closings") => format!("not {}", closed(t)),
        (Some(BadgeState::WithClosed), "closings") => closed(t),
        (Some(BadgeState::ReadyToCertify), "people") => format!(
            "{} and not {}",
            holds(t, CLOSED, "c"),
            holds(t, CERTIFIED, "k")
        ),
        (Some(BadgeState::Certified), "people") => holds(t, CERTIFIED, "k"),
        _ => format!("(cast({now} as timestamptz) is null or true)"),
    }
}

/// [`STAFF_COLUMNS`] of the `staff s` of a join.
const STAFF_COLUMNS_OF_S: &str =
    "s.id, s.email, s.role, s.password_hash, s.created_at, s.password_set_at";

const CREDENTIAL_COLUMNS: &str = "id, achievement, person_id, closing_id, status_list, \
    status_index, issued_at, valid_until, document, idempotency_key, request_hash, revoked_at, \
    revocation_reason";

/// A closing and its mentor (mentor columns prefixed, so the closing's keep their names).
const CLOSING_WITH_MENTOR: &str = "select c.*, m.name as m_name, m.email as m_email, \
     m.url as m_url, m.created_at as m_created_at \
     from closings c join mentors m on m.id = c.mentor_id where c.id = $1";

/// A credential and its holder's public fields, for the badge page (one round trip).
const JOINED_HOLDER_QUERY: &str = "select c.id, c.achievement, c.person_id, c.closing_id, \
    c.status_list, c.status_index, c.issued_at, c.valid_until, c.document, c.idempotency_key, \
    c.request_hash, c.revoked_at, c.revocation_reason, p.name as holder_name, \
    p.listed_in_registry as holder_listed \
    from credentials c join people p on p.id = c.person_id where c.id = $1";

impl From<JoinedMentor> for Mentor {
    fn from(m: JoinedMentor) -> Mentor {
        Mentor {
            id: m.mentor_id,
            name: m.m_name,
            email: m.m_email,
            url: m.m_url,
            created_at: m.m_created_at,
        }
    }
}

// The bounds say what the shared code needs of a database: connections that run queries,
// and the column types of the schema. Both sqlx backends meet them.
#[async_trait]
impl<DB: Backend> Store for SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> DbId: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i32: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Type<DB>,
    for<'q> NaiveDate: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB>,
    for<'q> Option<DbId>: Encode<'q, DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> Option<DateTime<Utc>>: Encode<'q, DB>,
    for<'q> Option<NaiveDate>: Encode<'q, DB>,
    for<'q, 'a> Json<&'a Stages>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Json<PartnerFit>>: Encode<'q, DB> + Type<DB>,
    for<'r> i64: Decode<'r, DB>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
    for<'r> (i64, i64): FromRow<'r, DB::Row>,
    for<'r> ApiToken: FromRow<'r, DB::Row>,
    for<'r> AuditRecord: FromRow<'r, DB::Row>,
    for<'r> Mentor: FromRow<'r, DB::Row>,
    for<'r> JoinedMentor: FromRow<'r, DB::Row>,
    for<'r> Person: FromRow<'r, DB::Row>,
    for<'r> Closing: FromRow<'r, DB::Row>,
    for<'r> CredentialRecord: FromRow<'r, DB::Row>,
    for<'r> Exchange: FromRow<'r, DB::Row>,
    for<'r> StaffMember: FromRow<'r, DB::Row>,
    for<'r> StaffSession: FromRow<'r, DB::Row>,
    for<'r> super::records::MonthCount: FromRow<'r, DB::Row>,
    for<'r> super::records::CountryCount: FromRow<'r, DB::Row>,
    for<'r> super::records::MentorCount: FromRow<'r, DB::Row>,
    for<'r> super::records::StatsCounts: FromRow<'r, DB::Row>,
    for<'r> super::records::CertifiedSpan: FromRow<'r, DB::Row>,
    for<'r> super::records::FitMonth: FromRow<'r, DB::Row>,
    for<'r> Holder: FromRow<'r, DB::Row>,
    for<'r> RegistryProbe: FromRow<'r, DB::Row>,
    for<'r> RegistryRow: FromRow<'r, DB::Row>,
    for<'r> BadgeDates: FromRow<'r, DB::Row>,
    for<'r> OutboxMessage: FromRow<'r, DB::Row>,
    for<'r> ConsentEvent: FromRow<'r, DB::Row>,
    for<'r> (DbId,): FromRow<'r, DB::Row>,
    for<'r> (DbId, Option<DateTime<Utc>>, DateTime<Utc>): FromRow<'r, DB::Row>,
{
    fn backend(&self) -> &'static str {
        DB::BACKEND
    }

    async fn ping(&self) -> DbResult<()> {
        sqlx::query("select 1")
            .execute(&self.pool)
            .await
            .map_err(DB::error)?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    #[instrument(skip_all)]
    async fn insert_token(&self, t: &ApiToken) -> DbResult<()> {
        sqlx::query(
            "insert into api_tokens (id, name, public_id, token_hash, scopes, created_at, \
             expires_at, revoked_at) values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(DbId(t.id))
        .bind(&t.name)
        .bind(&t.public_id)
        .bind(&t.token_hash)
        .bind(t.scopes.to_string())
        .bind(t.created_at)
        .bind(t.expires_at)
        .bind(t.revoked_at)
        .execute(&self.pool)
        .await
        .map_err(DB::error)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn token_by_hash(&self, token_hash: &str) -> DbResult<Option<ApiToken>> {
        let sql = format!(
            "select {TOKEN_COLUMNS} from api_tokens where token_hash = $1 and public_id is null"
        );
        sqlx::query_as(&sql)
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn token_by_public_id(&self, public_id: &str) -> DbResult<Option<ApiToken>> {
        let sql = format!("select {TOKEN_COLUMNS} from api_tokens where public_id = $1");
        sqlx::query_as(&sql)
            .bind(public_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn token(&self, id: Uuid) -> DbResult<Option<ApiToken>> {
        let sql = format!("select {TOKEN_COLUMNS} from api_tokens where id = $1");
        sqlx::query_as(&sql)
            .bind(DbId(id))
            .fetch_optional(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn list_tokens(&self) -> DbResult<Vec<ApiToken>> {
        let sql = format!("select {TOKEN_COLUMNS} from api_tokens order by created_at, name");
        sqlx::query_as(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn revoke_token(&self, name: &str, at: DateTime<Utc>) -> DbResult<bool> {
        let done = sqlx::query(
            "update api_tokens set revoked_at = $1 where name = $2 and revoked_at is null",
        )
        .bind(at)
        .bind(name)
        .execute(&self.pool)
        .await
        .map_err(DB::error)?;
        Ok(DB::rows_affected(&done) > 0)
    }

    #[instrument(skip_all)]
    async fn revoke_token_by_id(&self, id: Uuid, at: DateTime<Utc>) -> DbResult<Option<ApiToken>> {
        sqlx::query("update api_tokens set revoked_at = $1 where id = $2 and revoked_at is null")
            .bind(at)
            .bind(DbId(id))
            .execute(&self.pool)
            .await
            .map_err(DB::error)?;
        self.token(id).await
    }

    #[instrument(skip_all)]
    async fn list_audit(&self, f: &AuditFilter) -> DbResult<Vec<AuditRecord>> {
        // The casts give PostgreSQL each parameter's type where it is only tested for null
        // (SQLite ignores them there).
        sqlx::query_as(
            "select id, at, token_id, token_name, action, target, status, request_id, \
             staff_id, staff_email from audit_log where \
             (cast($1 as uuid) is null or token_id = $1) and \
             (cast($2 as text) is null or token_name = $2) and \
             (cast($3 as text) is null or action = $3) and \
             (cast($4 as timestamptz) is null or at >= $4) and \
             (cast($5 as bigint) is null or id < $5) and \
             (cast($7 as text) is null or staff_email = $7) and \
             (cast($8 as text) is null or target = $8) \
             order by id desc limit $6",
        )
        .bind(f.token_id.map(DbId))
        .bind(&f.token_name)
        .bind(&f.action)
        .bind(f.since)
        .bind(f.before)
        .bind(f.limit)
        .bind(&f.staff_email)
        .bind(&f.target)
        .fetch_all(&self.pool)
        .await
        .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn insert_mentor(&self, m: &Mentor) -> DbResult<()> {
        sqlx::query(
            "insert into mentors (id, name, email, url, created_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(DbId(m.id))
        .bind(&m.name)
        .bind(&m.email)
        .bind(&m.url)
        .bind(m.created_at)
        .execute(&self.pool)
        .await
        .map_err(DB::error)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn mentor(&self, id: Uuid) -> DbResult<Option<Mentor>> {
        sqlx::query_as("select * from mentors where id = $1")
            .bind(DbId(id))
            .fetch_optional(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn insert_person(&self, p: &Person) -> DbResult<()> {
        sqlx::query(
            "insert into people (id, name, email, city, country, url, listed_in_registry, \
             created_at, consent_by, consent_source, consent_version, consent_at, \
             withdrawn_at, erased_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(DbId(p.id))
        .bind(&p.name)
        .bind(&p.email)
        .bind(&p.city)
        .bind(&p.country)
        .bind(&p.url)
        .bind(p.listed_in_registry)
        .bind(p.created_at)
        .bind(&p.consent.by)
        .bind(&p.consent.source)
        .bind(&p.consent.version)
        .bind(p.consent.at)
        .bind(p.consent.withdrawn_at)
        .bind(p.erased_at)
        .execute(&self.pool)
        .await
        .map_err(DB::error)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn person(&self, id: Uuid) -> DbResult<Option<Person>> {
        sqlx::query_as("select * from people where id = $1")
            .bind(DbId(id))
            .fetch_optional(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn insert_closing(&self, c: &Closing) -> DbResult<()> {
        sqlx::query(
            "insert into closings (id, closer_id, mentor_id, mentor_cc_at, mentor_cc_ref, \
             partner_name, partner_url, partner_city, partner_country, stages, closed_on, \
             summary, created_at, partner_fit) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(DbId(c.id))
        .bind(DbId(c.closer_id))
        .bind(DbId(c.mentor_id))
        .bind(c.mentor_cc_at)
        .bind(&c.mentor_cc_ref)
        .bind(&c.partner_name)
        .bind(&c.partner_url)
        .bind(&c.partner_city)
        .bind(&c.partner_country)
        .bind(Json(&c.stages))
        .bind(c.closed_on)
        .bind(&c.summary)
        .bind(c.created_at)
        .bind(c.partner_fit.clone().map(Json))
        .execute(&self.pool)
        .await
        .map_err(DB::error)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn closing(&self, id: Uuid) -> DbResult<Option<Closing>> {
        sqlx::query_as("select * from closings where id = $1")
            .bind(DbId(id))
            .fetch_optional(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn closing_with_mentor(&self, id: Uuid) -> DbResult<Option<(Closing, Mentor)>> {
        let row = sqlx::query(CLOSING_WITH_MENTOR)
            .bind(DbId(id))
            .fetch_optional(&self.pool)
            .await
            .map_err(DB::error)?;
        row.map(|r| Ok((Closing::from_row(&r)?, JoinedMentor::from_row(&r)?.into())))
            .transpose()
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn mentor_by_email(&self, email: &str) -> DbResult<Option<Mentor>> {
        sqlx::query_as("select * from mentors where email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn person_by_email(&self, email: &str) -> DbResult<Option<Person>> {
        sqlx::query_as("select * from people where email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn closing_by_natural_key(
        &self,
        closer_id: Uuid,
        partner_name: &str,
        closed_on: NaiveDate,
    ) -> DbResult<Option<Closing>> {
        // Uses the closer_id index; a closer has few closings.
        sqlx::query_as(
            "select * from closings where closer_id = $1 and closed_on = $2 \
             and lower(trim(partner_name)) = lower(trim($3)) order by created_at, id limit 1",
        )
        .bind(DbId(closer_id))
        .bind(closed_on)
        .bind(partner_name)
        .fetch_optional(&self.pool)
        .await
        .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn reserve_status_block(&self, len: i64, list_size: i64) -> DbResult<StatusBlock> {
        // Each statement is atomic on its own, so no transaction upgrade can deadlock (SQLite)
        // and the row lock serialises concurrent instances (PostgreSQL).
        for _ in 0..8 {
            let row = sqlx::query_as::<_, (i64, i64)>(
                "update status_lists set next_counter = next_counter + $1 \
                 where id = (select max(id) from status_lists) and next_counter + $1 <= size \
                 returning id, next_counter - $1 as start",
            )
            .bind(len)
            .fetch_optional(&self.pool)
            .await
            .map_err(DB::error)?;
            if let Some((list, start)) = row {
                return Ok(StatusBlock { list, start, len });
            }
            sqlx::query(
                "insert into status_lists (id, size, next_counter) \
                 select coalesce(max(id), 0) + 1, $1, 0 from status_lists where true \
                 on conflict do nothing",
            )
            .bind(list_size)
            .execute(&self.pool)
            .await
            .map_err(DB::error)?;
        }
        Err(DbError::Other(anyhow::anyhow!(
            "could not reserve status-list positions"
        )))
    }

    #[instrument(skip_all)]
    async fn write_batch(&self, writes: &[Write]) -> DbResult<Vec<DbResult<()>>> {
        let mut tx = self.pool.begin().await.map_err(DB::error)?;
        if let Some(lock) = DB::BATCH_LOCK {
            if writes.iter().any(|w| matches!(w, Write::Credential(..))) {
                sqlx::query(lock)
                    .execute(&mut *tx)
                    .await
                    .map_err(DB::error)?;
            }
        }
        let mut results = Vec::with_capacity(writes.len());
        let mut audit = Vec::new();
        let mut messages = Vec::new();
        for write in writes {
            let (c, message) = match write {
                Write::Credential(c, message) => (c, message),
                Write::Audit(e) => {
                    audit.push(e);
                    results.push(Ok(()));
                    continue;
                }
            };
            // A savepoint where a refused record must not take others with it (see
            // `Backend::SAVEPOINT_EACH`).
            let inserted = if DB::SAVEPOINT_EACH || c.achievement == CERTIFIED {
                let mut sp = tx.begin().await.map_err(DB::error)?;
                let inserted = insert_credential_row::<DB>(&mut sp, c).await;
                if inserted.is_ok() {
                    sp.commit().await.map_err(DB::error)?;
                } else {
                    sp.rollback().await.map_err(DB::error)?;
                }
                inserted
            } else {
                insert_credential_row::<DB>(&mut tx, c).await
            };
            match inserted.map_err(DB::error) {
                Ok(()) => {
                    // Its message is stored only with it.
                    messages.extend(message.as_deref());
                    results.push(Ok(()));
                }
                Err(conflict @ DbError::Conflict(_)) => results.push(Err(conflict)),
                // Anything but a broken rule fails the whole batch.
                Err(fatal) => return Err(fatal),
            }
        }
        if !audit.is_empty() {
            // One statement for all the batch's audit entries, in order.
            let mut sql = String::from(
                "insert into audit_log (at, token_id, token_name, action, target, status, \
                 request_id, staff_id, staff_email) values ",
            );
            for i in 0..audit.len() {
                let n = 9 * i;
                let sep = if i == 0 { "" } else { ", " };
                let params: Vec<String> = (1..=9).map(|k| format!("${}", n + k)).collect();
                sql.push_str(&format!("{sep}({})", params.join(", ")));
            }
            let mut insert = sqlx::query(&sql);
            for e in audit {
                insert = insert
                    .bind(e.at)
                    .bind(e.token_id.map(DbId))
                    .bind(&e.token_name)
                    .bind(&e.action)
                    .bind(&e.target)
                    .bind(i32::from(e.status))
                    .bind(&e.request_id)
                    .bind(e.staff_id.map(DbId))
                    .bind(&e.staff_email);
            }
            insert.execute(&mut *tx).await.map_err(DB::error)?;
        }
        for m in messages {
            insert_message_row::<DB>(&mut tx, m)
                .await
                .map_err(DB::error)?;
        }
        tx.commit().await.map_err(DB::error)?;
        Ok(results)
    }

    #[instrument(skip_all)]
    async fn credential(&self, id: Uuid) -> DbResult<Option<CredentialRecord>> {
        let sql = format!("select {CREDENTIAL_COLUMNS} from credentials where id = $1");
        sqlx::query_as(&sql)
            .bind(DbId(id))
            .fetch_optional(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn credential_with_holder(
        &self,
        id: Uuid,
    ) -> DbResult<Option<(CredentialRecord, Holder)>> {
        let row = sqlx::query(JOINED_HOLDER_QUERY)
            .bind(DbId(id))
            .fetch_optional(&self.pool)
            .await
            .map_err(DB::error)?;
        row.map(|r| Ok((CredentialRecord::from_row(&r)?, Holder::from_row(&r)?)))
            .transpose()
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn credential_by_idempotency_key(&self, key: &str) -> DbResult<Option<CredentialRecord>> {
        let sql =
            format!("select {CREDENTIAL_COLUMNS} from credentials where idempotency_key = $1");
        sqlx::query_as(&sql)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn credentials_of_person(&self, person_id: Uuid) -> DbResult<Vec<CredentialRecord>> {
        let sql = format!(
            "select {CREDENTIAL_COLUMNS} from credentials where person_id = $1 \
             order by issued_at, id"
        );
        sqlx::query_as(&sql)
            .bind(DbId(person_id))
            .fetch_all(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn list_credentials(&self, f: &CredentialFilter) -> DbResult<Vec<CredentialRecord>> {
        let (after_t, after_id) = match f.after {
            Some((t, id)) => (Some(t), Some(DbId(id))),
            None => (None, None),
        };
        // The casts give PostgreSQL the types of parameters only tested for null.
        let sql = format!(
            "select {CREDENTIAL_COLUMNS} from credentials where \
             (cast($1 as uuid) is null or person_id = $1) and \
             (cast($2 as text) is null or achievement = $2) and \
             (cast($3 as text) is null or \
              ($3 = 'revoked' and revoked_at is not null) or \
              ($3 = 'expired' and revoked_at is null and valid_until is not null \
                 and valid_until <= $4) or \
              ($3 = 'valid' and revoked_at is null and (valid_until is null or valid_until > $4))) \
             and (cast($5 as timestamptz) is null or issued_at < $5 \
                  or (issued_at = $5 and id < $6)) \
             order by issued_at desc, id desc limit $7"
        );
        sqlx::query_as(&sql)
            .bind(f.person_id.map(DbId))
            .bind(&f.achievement)
            .bind(&f.status)
            .bind(f.now)
            .bind(after_t)
            .bind(after_id)
            .bind(f.limit)
            .fetch_all(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn revoke_credential(
        &self,
        id: Uuid,
        reason: &str,
        at: DateTime<Utc>,
        message: Option<&OutboxMessage>,
    ) -> DbResult<RevokeOutcome> {
        let mut tx = self.pool.begin().await.map_err(DB::error)?;
        let done = sqlx::query(
            "update credentials set revoked_at = $1, revocation_reason = $2 \
             where id = $3 and revoked_at is null",
        )
        .bind(at)
        .bind(reason)
        .bind(DbId(id))
        .execute(&mut *tx)
        .await
        .map_err(DB::error)?;
        let revoked = DB::rows_affected(&done) > 0;
        if let (true, Some(m)) = (revoked, message) {
            // Queued in the revocation's transaction: no revocation without its message.
            insert_message_row::<DB>(&mut tx, m)
                .await
                .map_err(DB::error)?;
        }
        tx.commit().await.map_err(DB::error)?;
        let record = self.credential(id).await?.ok_or(DbError::NotFound)?;
        Ok(if revoked {
            RevokeOutcome::Revoked(record)
        } else {
            RevokeOutcome::AlreadyRevoked(record)
        })
    }

    #[instrument(skip_all)]
    async fn revoked_indices(&self, list: i64) -> DbResult<Option<Vec<i64>>> {
        let exists = sqlx::query("select 1 from status_lists where id = $1")
            .bind(list)
            .fetch_optional(&self.pool)
            .await
            .map_err(DB::error)?;
        if exists.is_none() {
            return Ok(None);
        }
        sqlx::query_scalar::<_, i64>(
            "select status_index from credentials where status_list = $1 and revoked_at is not null",
        )
        .bind(list)
        .fetch_all(&self.pool)
        .await
        .map(Some)
        .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn update_person(&self, p: &Person) -> DbResult<()> {
        let done = sqlx::query(
            "update people set name = $1, email = $2, city = $3, country = $4, url = $5, \
             listed_in_registry = $6, consent_by = $7, consent_source = $8, \
             consent_version = $9, consent_at = $10, withdrawn_at = $11 where id = $12",
        )
        .bind(&p.name)
        .bind(&p.email)
        .bind(&p.city)
        .bind(&p.country)
        .bind(&p.url)
        .bind(p.listed_in_registry)
        .bind(&p.consent.by)
        .bind(&p.consent.source)
        .bind(&p.consent.version)
        .bind(p.consent.at)
        .bind(p.consent.withdrawn_at)
        .bind(DbId(p.id))
        .execute(&self.pool)
        .await
        .map_err(DB::error)?;
        if DB::rows_affected(&done) == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    #[instrument(skip_all)]
    async fn closings_of_person(&self, closer_id: Uuid) -> DbResult<Vec<Closing>> {
        sqlx::query_as("select * from closings where closer_id = $1 order by closed_on, id")
            .bind(DbId(closer_id))
            .fetch_all(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn insert_message(&self, m: &OutboxMessage) -> DbResult<()> {
        let mut conn = self.pool.acquire().await.map_err(DB::error)?;
        insert_message_row::<DB>(&mut conn, m)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn claim_messages(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> DbResult<Vec<OutboxMessage>> {
        // One statement: the due rows are taken (pushed past the lease) as they are read,
        // so a crashed sender's rows come due again when its lease ends.
        let sql = format!(
            "update outbox set next_attempt_at = $2, attempts = attempts + 1 \
             where id in (select id from outbox where status = 'queued' \
               and next_attempt_at <= $1 order by next_attempt_at limit $3 {}) \
             returning {MESSAGE_COLUMNS}",
            DB::SKIP_LOCKED
        );
        sqlx::query_as(&sql)
            .bind(now)
            .bind(lease_until)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn finish_messages(
        &self,
        outcomes: &[(Uuid, SendOutcome)],
        at: DateTime<Utc>,
    ) -> DbResult<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await.map_err(DB::error)?;
        for (id, outcome) in outcomes {
            let query = match outcome {
                SendOutcome::Sent => sqlx::query(
                    "update outbox set status = 'sent', sent_at = $2, last_error = null \
                     where id = $1",
                )
                .bind(DbId(*id))
                .bind(at),
                // Never over a `sent`: a slower sender whose lease ran out does not undo it.
                SendOutcome::Retry(next, error) => sqlx::query(
                    "update outbox set next_attempt_at = $2, last_error = $3 \
                     where id = $1 and status = 'queued'",
                )
                .bind(DbId(*id))
                .bind(*next)
                .bind(error.clone()),
                SendOutcome::Failed(error) => sqlx::query(
                    "update outbox set status = 'failed', last_error = $2 \
                     where id = $1 and status = 'queued'",
                )
                .bind(DbId(*id))
                .bind(error.clone()),
            };
            query.execute(&mut *tx).await.map_err(DB::error)?;
        }
        tx.commit().await.map_err(DB::error)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn message(&self, id: Uuid) -> DbResult<Option<OutboxMessage>> {
        let sql = format!("select {MESSAGE_COLUMNS} from outbox where id = $1");
        sqlx::query_as(&sql)
            .bind(DbId(id))
            .fetch_optional(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn list_messages(&self, f: &MessageFilter) -> DbResult<Vec<OutboxMessage>> {
        let (after_t, after_id) = match f.after {
            Some((t, id)) => (Some(t), Some(DbId(id))),
            None => (None, None),
        };
        let sql = format!(
            "select {MESSAGE_COLUMNS} from outbox where \
             (cast($1 as text) is null or status = $1) and \
             (cast($2 as uuid) is null or person_id = $2) and \
             (cast($3 as timestamptz) is null or created_at < $3 \
              or (created_at = $3 and id < $4)) \
             order by created_at desc, id desc limit $5"
        );
        sqlx::query_as(&sql)
            .bind(&f.status)
            .bind(f.person_id.map(DbId))
            .bind(after_t)
            .bind(after_id)
            .bind(f.limit)
            .fetch_all(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn retry_message(&self, id: Uuid, now: DateTime<Utc>) -> DbResult<Option<OutboxMessage>> {
        // One statement: the row is answered as this retry left it, before a sender
        // (woken or polling) can claim it and count a new attempt.
        let sql = format!(
            "update outbox set status = 'queued', attempts = 0, next_attempt_at = $2 \
             where id = $1 and status = 'failed' returning {MESSAGE_COLUMNS}"
        );
        let retried = sqlx::query_as(&sql)
            .bind(DbId(id))
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(DB::error)?;
        match retried {
            Some(m) => Ok(Some(m)),
            // Not failed (or absent): answered as it is.
            None => self.message(id).await,
        }
    }

    #[instrument(skip_all)]
    async fn insert_holder_links(
        &self,
        links: &[(String, Uuid)],
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> DbResult<()> {
        if links.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await.map_err(DB::error)?;
        for (token_hash, person_id) in links {
            sqlx::query(
                "insert into holder_links (token_hash, person_id, created_at, expires_at) \
                 values ($1, $2, $3, $4)",
            )
            .bind(token_hash.clone())
            .bind(DbId(*person_id))
            .bind(created_at)
            .bind(expires_at)
            .execute(&mut *tx)
            .await
            .map_err(DB::error)?;
        }
        tx.commit().await.map_err(DB::error)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn use_holder_link(&self, token_hash: &str, now: DateTime<Utc>) -> DbResult<LinkUse> {
        // Used and read in one statement: two clicks at once cannot both sign in.
        let used: Option<(DbId,)> = sqlx::query_as(
            "update holder_links set used_at = $2 \
             where token_hash = $1 and used_at is null and expires_at > $2 \
             returning person_id",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(DB::error)?;
        if let Some((person,)) = used {
            return Ok(LinkUse::SignedIn(person.0));
        }
        let row: Option<(DbId, Option<DateTime<Utc>>, DateTime<Utc>)> = sqlx::query_as(
            "select person_id, used_at, expires_at from holder_links where token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(DB::error)?;
        Ok(match row {
            None => LinkUse::Unknown,
            Some((_, Some(_), _)) => LinkUse::Used,
            Some(_) => LinkUse::Expired,
        })
    }

    #[instrument(skip_all)]
    async fn insert_session(
        &self,
        token_hash: &str,
        person_id: Uuid,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> DbResult<()> {
        sqlx::query(
            "insert into holder_sessions (token_hash, person_id, created_at, expires_at) \
             values ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(DbId(person_id))
        .bind(created_at)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(DB::error)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn session_person(&self, token_hash: &str, now: DateTime<Utc>) -> DbResult<Option<Uuid>> {
        let row: Option<(DbId,)> = sqlx::query_as(
            "select person_id from holder_sessions where token_hash = $1 and expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(DB::error)?;
        Ok(row.map(|(id,)| id.0))
    }

    #[instrument(skip_all)]
    async fn delete_session(&self, token_hash: &str) -> DbResult<()> {
        sqlx::query("delete from holder_sessions where token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(DB::error)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn insert_staff(&self, s: &StaffMember) -> DbResult<()> {
        sqlx::query(
            "insert into staff (id, email, role, password_hash, created_at, password_set_at) \
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(DbId(s.id))
        .bind(&s.email)
        .bind(s.role.name())
        .bind(&s.password_hash)
        .bind(s.created_at)
        .bind(s.password_set_at)
        .execute(&self.pool)
        .await
        .map_err(DB::error)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn staff_by_email(&self, email: &str) -> DbResult<Option<StaffMember>> {
        sqlx::query_as(&format!(
            "select {STAFF_COLUMNS} from staff where email = $1"
        ))
        .bind(email)
        .fetch_optional(&self.pool)
        .await
        .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn list_staff(&self) -> DbResult<Vec<StaffMember>> {
        sqlx::query_as(&format!("select {STAFF_COLUMNS} from staff order by email"))
            .fetch_all(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn insert_staff_link(
        &self,
        token_hash: &str,
        staff_id: Uuid,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> DbResult<()> {
        let mut tx = self.pool.begin().await.map_err(DB::error)?;
        // A new link replaces the account's unused ones (a reset makes a lost link useless).
        sqlx::query("update staff_links set used_at = $2 where staff_id = $1 and used_at is null")
            .bind(DbId(staff_id))
            .bind(created_at)
            .execute(&mut *tx)
            .await
            .map_err(DB::error)?;
        sqlx::query(
            "insert into staff_links (token_hash, staff_id, created_at, expires_at) \
             values ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(DbId(staff_id))
        .bind(created_at)
        .bind(expires_at)
        .execute(&mut *tx)
        .await
        .map_err(DB::error)?;
        tx.commit().await.map_err(DB::error)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn staff_link(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> DbResult<Option<StaffMember>> {
        let sql = format!(
            "select {STAFF_COLUMNS} from staff where id = (select staff_id from staff_links \
             where token_hash = $1 and used_at is null and expires_at > $2)"
        );
        sqlx::query_as(&sql)
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn use_staff_link(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> DbResult<Option<StaffMember>> {
        let mut tx = self.pool.begin().await.map_err(DB::error)?;
        // The spend is the check: of two concurrent uses, one updates the row.
        let spent: Option<(DbId,)> = sqlx::query_as(
            "update staff_links set used_at = $2 \
             where token_hash = $1 and used_at is null and expires_at > $2 returning staff_id",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(DB::error)?;
        let Some((DbId(staff_id),)) = spent else {
            return Ok(None);
        };
        sqlx::query("update staff set password_hash = $2, password_set_at = $3 where id = $1")
            .bind(DbId(staff_id))
            .bind(password_hash)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(DB::error)?;
        sqlx::query("delete from staff_sessions where staff_id = $1")
            .bind(DbId(staff_id))
            .execute(&mut *tx)
            .await
            .map_err(DB::error)?;
        let staff = sqlx::query_as(&format!("select {STAFF_COLUMNS} from staff where id = $1"))
            .bind(DbId(staff_id))
            .fetch_one(&mut *tx)
            .await
            .map_err(DB::error)?;
        tx.commit().await.map_err(DB::error)?;
        Ok(Some(staff))
    }

    #[instrument(skip_all)]
    async fn set_staff_password(
        &self,
        staff_id: Uuid,
        password_hash: &str,
        now: DateTime<Utc>,
        keep: Option<&str>,
    ) -> DbResult<()> {
        let mut tx = self.pool.begin().await.map_err(DB::error)?;
        sqlx::query("update staff set password_hash = $2, password_set_at = $3 where id = $1")
            .bind(DbId(staff_id))
            .bind(password_hash)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(DB::error)?;
        sqlx::query(
            "delete from staff_sessions where staff_id = $1 \
             and (cast($2 as text) is null or token_hash <> $2)",
        )
        .bind(DbId(staff_id))
        .bind(keep.map(str::to_owned))
        .execute(&mut *tx)
        .await
        .map_err(DB::error)?;
        tx.commit().await.map_err(DB::error)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn insert_staff_session(
        &self,
        token_hash: &str,
        staff_id: Uuid,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> DbResult<()> {
        sqlx::query(
            "insert into staff_sessions (token_hash, staff_id, created_at, last_seen_at, \
             expires_at) values ($1, $2, $3, $3, $4)",
        )
        .bind(token_hash)
        .bind(DbId(staff_id))
        .bind(created_at)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(DB::error)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn staff_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
    ) -> DbResult<Option<StaffSession>> {
        let sql = format!(
            "select {STAFF_COLUMNS_OF_S}, ss.created_at as session_created_at, \
             ss.last_seen_at, ss.expires_at from staff_sessions ss join staff s \
             on s.id = ss.staff_id \
             where ss.token_hash = $1 and ss.expires_at > $2 and ss.last_seen_at > $3"
        );
        sqlx::query_as(&sql)
            .bind(token_hash)
            .bind(now)
            .bind(idle_since)
            .fetch_optional(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn touch_staff_session(&self, token_hash: &str, now: DateTime<Utc>) -> DbResult<()> {
        sqlx::query("update staff_sessions set last_seen_at = $2 where token_hash = $1")
            .bind(token_hash)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(DB::error)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn delete_staff_session(&self, token_hash: &str) -> DbResult<()> {
        sqlx::query("delete from staff_sessions where token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(DB::error)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn delete_staff_sessions(&self, staff_id: Uuid) -> DbResult<u64> {
        let done = sqlx::query("delete from staff_sessions where staff_id = $1")
            .bind(DbId(staff_id))
            .execute(&self.pool)
            .await
            .map_err(DB::error)?;
        Ok(DB::rows_affected(&done))
    }

    #[instrument(skip_all)]
    async fn consent_history(&self, person_id: Uuid) -> DbResult<Vec<ConsentEvent>> {
        sqlx::query_as(
            "select at, action, actor, source, text_version from consent_events \
             where person_id = $1 order by id",
        )
        .bind(DbId(person_id))
        .fetch_all(&self.pool)
        .await
        .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn set_partner_fit(&self, id: Uuid, fit: Option<&PartnerFit>) -> DbResult<bool> {
        let done = sqlx::query("update closings set partner_fit = $2 where id = $1")
            .bind(DbId(id))
            .bind(fit.cloned().map(Json))
            .execute(&self.pool)
            .await
            .map_err(DB::error)?;
        Ok(DB::rows_affected(&done) == 1)
    }

    #[instrument(skip_all)]
    async fn stats(
        &self,
        now: DateTime<Utc>,
        since: NaiveDate,
        expiring_by: DateTime<Utc>,
    ) -> DbResult<StatsRows> {
        let month = DB::MONTH_OF_CLOSED_ON;
        let closings_per_month = sqlx::query_as(&format!(
            "select {month} as month, count(*) as closings from closings \
             where closed_on >= $1 group by {month} order by month"
        ))
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(DB::error)?;
        let closings_by_country = sqlx::query_as(
            "select partner_country as country, count(*) as closings from closings \
             group by partner_country order by closings desc, country",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(DB::error)?;
        let closings_per_mentor = sqlx::query_as(
            // Counted on the mentor index first; only the counts meet the mentors' names.
            "select m.id as mentor_id, m.name as name, t.closings as closings \
             from (select mentor_id, count(*) as closings from closings group by mentor_id) t \
             join mentors m on m.id = t.mentor_id \
             order by t.closings desc, m.name limit 50",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(DB::error)?;
        // "Valid" at $1: unrevoked, and unexpired or without expiry.
        let valid = |t: &str| {
            format!("{t}.revoked_at is null and ({t}.valid_until is null or {t}.valid_until > $1)")
        };
        let counts = sqlx::query_as(&format!(
            "select \
               (select count(*) from closings) as closings, \
               (select count(*) from closings x where not exists (select 1 from credentials c \
                  where c.closing_id = x.id and c.achievement = '{CLOSED}' \
                  and c.revoked_at is null)) as without_closed, \
               (select count(distinct c.person_id) from credentials c \
                  where c.achievement = '{CLOSED}' and {vc} and not exists \
                  (select 1 from credentials k where k.person_id = c.person_id \
                   and k.achievement = '{CERTIFIED}' and {vk})) as ready_to_certify, \
               (select count(distinct k.person_id) from credentials k \
                  where k.achievement = '{CERTIFIED}' and {vk}) as certified_people, \
               (select count(*) from credentials k where k.achievement = '{CERTIFIED}' \
                  and k.revoked_at is null and k.valid_until > $1 \
                  and k.valid_until <= $2) as expiring, \
               (select count(*) from outbox where status = 'failed') as failed_notifications",
            vc = valid("c"),
            vk = valid("k"),
        ))
        .bind(now)
        .bind(expiring_by)
        .fetch_one(&self.pool)
        .await
        .map_err(DB::error)?;
        let certified = sqlx::query_as(&format!(
            "select person_id, issued_at, valid_until, revoked_at from credentials \
             where achievement = '{CERTIFIED}'"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(DB::error)?;
        // Summed in the database: a month's few numbers, not every assessment's JSON.
        let axis = |name: &str, criteria: [&str; 3]| {
            let scores: Vec<String> = criteria.iter().map(|c| DB::fit_score(name, c)).collect();
            format!("sum({}) as {name}", scores.join(" + "))
        };
        let fits =
            sqlx::query_as(&format!(
            "select {month} as month, count(*) as assessed, {depth}, {spread}, {participation} \
             from closings where closed_on >= $1 and partner_fit is not null \
             group by {month} order by month",
            depth = axis(
                "depth",
                ["locations_and_audiences", "organisational_structures", "localisation"]
            ),
            spread = axis("spread", ["growth_and_leadership", "size", "new_access"]),
            participation = axis(
                "participation",
                ["shares_values", "participates_in_community", "reputation"]
            ),
        ))
            .bind(since)
            .fetch_all(&self.pool)
            .await
            .map_err(DB::error)?;
        Ok(StatsRows {
            closings_per_month,
            closings_by_country,
            closings_per_mentor,
            counts,
            certified,
            fits,
        })
    }

    #[instrument(skip_all)]
    async fn list_people(&self, f: &RecordFilter) -> DbResult<Vec<Person>> {
        let (after_t, after_id) = page_after(f);
        // The casts give PostgreSQL the types of parameters only tested for null.
        sqlx::query_as(&format!(
            "select * from people where \
             (cast($1 as text) is null or lower(name) like $1 escape '\\' \
                or lower(email) like $1 escape '\\') and \
             (cast($2 as text) is null or country = $2) and \
             (cast($3 as timestamptz) is null or created_at < $3 \
                or (created_at = $3 and id < $4)) and {badge} \
             order by created_at desc, id desc limit $5",
            badge = badge_condition(f.badge, "people", "$6")
        ))
        .bind(f.q_pattern())
        .bind(&f.country)
        .bind(after_t)
        .bind(after_id)
        .bind(f.limit)
        .bind(f.now)
        .fetch_all(&self.pool)
        .await
        .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn list_mentors(&self, f: &RecordFilter) -> DbResult<Vec<Mentor>> {
        let (after_t, after_id) = page_after(f);
        sqlx::query_as(
            "select * from mentors where \
             (cast($1 as text) is null or lower(name) like $1 escape '\\' \
                or lower(email) like $1 escape '\\') and \
             (cast($2 as timestamptz) is null or created_at < $2 \
                or (created_at = $2 and id < $3)) \
             order by created_at desc, id desc limit $4",
        )
        .bind(f.q_pattern())
        .bind(after_t)
        .bind(after_id)
        .bind(f.limit)
        .fetch_all(&self.pool)
        .await
        .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn list_closings(&self, f: &RecordFilter) -> DbResult<Vec<Closing>> {
        let (after_t, after_id) = page_after(f);
        sqlx::query_as(&format!(
            "select * from closings where \
             (cast($1 as text) is null or lower(partner_name) like $1 escape '\\') and \
             (cast($2 as text) is null or partner_country = $2) and \
             (cast($3 as date) is null or closed_on >= $3) and \
             (cast($4 as date) is null or closed_on <= $4) and \
             (cast($5 as uuid) is null or closer_id = $5) and \
             (cast($6 as uuid) is null or mentor_id = $6) and \
             (cast($7 as timestamptz) is null or created_at < $7 \
                or (created_at = $7 and id < $8)) and {badge} \
             order by created_at desc, id desc limit $9",
            badge = badge_condition(f.badge, "closings", "$10")
        ))
        .bind(f.q_pattern())
        .bind(&f.country)
        .bind(f.closed_from)
        .bind(f.closed_to)
        .bind(f.person_id.map(DbId))
        .bind(f.mentor_id.map(DbId))
        .bind(after_t)
        .bind(after_id)
        .bind(f.limit)
        .bind(f.now)
        .fetch_all(&self.pool)
        .await
        .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn insert_exchange(&self, e: &Exchange) -> DbResult<()> {
        sqlx::query(
            "insert into exchanges (id, token_hash, credential_id, opened_by, created_at, \
             expires_at, challenge, holder_did, completed_at, copy_id, copy_document) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(DbId(e.id))
        .bind(&e.token_hash)
        .bind(DbId(e.credential_id))
        .bind(&e.opened_by)
        .bind(e.created_at)
        .bind(e.expires_at)
        .bind(&e.challenge)
        .bind(&e.holder_did)
        .bind(e.completed_at)
        .bind(e.copy_id.map(DbId))
        .bind(&e.copy_document)
        .execute(&self.pool)
        .await
        .map_err(DB::error)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn exchange_by_token(&self, token_hash: &str) -> DbResult<Option<Exchange>> {
        sqlx::query_as(&format!("{EXCHANGE_COLUMNS} where token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn challenge_exchange(
        &self,
        id: Uuid,
        challenge: &str,
        now: DateTime<Utc>,
    ) -> DbResult<bool> {
        let done = sqlx::query(
            "update exchanges set challenge = $2 \
             where id = $1 and completed_at is null and expires_at > $3",
        )
        .bind(DbId(id))
        .bind(challenge)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(DB::error)?;
        Ok(DB::rows_affected(&done) == 1)
    }

    #[instrument(skip_all)]
    async fn complete_exchange(
        &self,
        id: Uuid,
        challenge: &str,
        copy: &ExchangeCopy,
        now: DateTime<Utc>,
    ) -> DbResult<bool> {
        let done = sqlx::query(
            "update exchanges set holder_did = $3, completed_at = $4, copy_id = $5, \
             copy_document = $6 \
             where id = $1 and challenge = $2 and completed_at is null and expires_at > $4 \
             and exists (select 1 from credentials c where c.id = exchanges.credential_id \
               and c.revoked_at is null and (c.valid_until is null or c.valid_until > $4))",
        )
        .bind(DbId(id))
        .bind(challenge)
        .bind(&copy.holder_did)
        .bind(now)
        .bind(DbId(copy.copy_id))
        .bind(&copy.document)
        .execute(&self.pool)
        .await
        .map_err(DB::error)?;
        Ok(DB::rows_affected(&done) == 1)
    }

    #[instrument(skip_all)]
    async fn exchanges_of_credential(&self, credential_id: Uuid) -> DbResult<Vec<Exchange>> {
        sqlx::query_as(&format!(
            "{EXCHANGE_COLUMNS} where credential_id = $1 order by created_at desc, id desc"
        ))
        .bind(DbId(credential_id))
        .fetch_all(&self.pool)
        .await
        .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn wallet_copies_of_person(&self, person_id: Uuid) -> DbResult<Vec<Exchange>> {
        sqlx::query_as(&format!(
            "{EXCHANGE_COLUMNS} where completed_at is not null and credential_id in \
             (select id from credentials where person_id = $1) order by completed_at, id"
        ))
        .bind(DbId(person_id))
        .fetch_all(&self.pool)
        .await
        .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn erase_person(&self, id: Uuid, reason: &str, at: DateTime<Utc>) -> DbResult<Erasure> {
        let mut tx = self.pool.begin().await.map_err(DB::error)?;
        let revoked: Vec<(DbId,)> = sqlx::query_as(
            "update credentials set revoked_at = $1, revocation_reason = $2 \
             where person_id = $3 and revoked_at is null returning id",
        )
        .bind(at)
        .bind(reason)
        .bind(DbId(id))
        .fetch_all(&mut *tx)
        .await
        .map_err(DB::error)?;
        // The email must stay unique (the natural key), so it becomes a placeholder that
        // names nobody (`.invalid` is reserved for that, RFC 6761).
        let done = sqlx::query(
            "update people set name = '', email = $1, city = null, url = null, \
             listed_in_registry = $2, consent_by = 'holder', consent_source = null, \
             consent_version = null, consent_at = $3, withdrawn_at = $3, erased_at = $3 \
             where id = $4",
        )
        .bind(format!("erased-{id}@erased.invalid"))
        .bind(false)
        .bind(at)
        .bind(DbId(id))
        .execute(&mut *tx)
        .await
        .map_err(DB::error)?;
        if DB::rows_affected(&done) == 0 {
            return Err(DbError::NotFound);
        }
        let dropped = sqlx::query("delete from outbox where person_id = $1")
            .bind(DbId(id))
            .execute(&mut *tx)
            .await
            .map_err(DB::error)?;
        // The wallet copies name the holder's DID: they go with the person (their status
        // entry is the revoked original's, so a copy a wallet keeps shows as revoked).
        sqlx::query(
            "delete from exchanges where credential_id in \
             (select id from credentials where person_id = $1)",
        )
        .bind(DbId(id))
        .execute(&mut *tx)
        .await
        .map_err(DB::error)?;
        for table in ["holder_links", "holder_sessions"] {
            sqlx::query(&format!("delete from {table} where person_id = $1"))
                .bind(DbId(id))
                .execute(&mut *tx)
                .await
                .map_err(DB::error)?;
        }
        tx.commit().await.map_err(DB::error)?;
        Ok(Erasure {
            revoked: revoked.into_iter().map(|(id,)| id.0).collect(),
            messages_dropped: DB::rows_affected(&dropped),
        })
    }

    #[instrument(skip_all)]
    async fn registry_probe(&self, now: DateTime<Utc>) -> DbResult<RegistryProbe> {
        sqlx::query_as(
            "select version, changed_at, \
             (select max(valid_until) from credentials where revoked_at is null \
               and valid_until is not null and valid_until <= $1) as last_expired, \
             (select min(valid_until) from credentials where revoked_at is null \
               and valid_until is not null and valid_until > $1) as next_expiry \
             from registry_state where id = 1",
        )
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn registry_page(&self, q: &RegistryQuery) -> DbResult<Vec<RegistryRow>> {
        let sql = registry_sql(DB::REGISTRY, q);
        // Only the parameters the text uses are bound, in the order it numbers them.
        let mut query = sqlx::query_as(&sql).bind(q.now);
        if let Some(c) = &q.country {
            query = query.bind(c);
        }
        if let Some(p) = &q.prefix {
            query = query.bind(p);
        }
        if let (RegistryOrder::Name, Some((k, id))) = (q.order, &q.after) {
            query = query.bind(k).bind(DbId(*id));
        }
        query
            .bind(q.limit)
            .fetch_all(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn registry_badges(&self, people: &[Uuid]) -> DbResult<Vec<BadgeDates>> {
        if people.is_empty() {
            return Ok(Vec::new());
        }
        let sql = DB::badges_sql(people.len());
        DB::bind_people(sqlx::query_as(&sql), people)
            .fetch_all(&self.pool)
            .await
            .map_err(DB::error)
    }

    #[instrument(skip_all)]
    async fn badge_version(&self) -> DbResult<i64> {
        let (v,): (i64,) = sqlx::query_as("select version from badge_state where id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(DB::error)?;
        Ok(v)
    }

    #[instrument(skip_all)]
    async fn ack_badge_version(&self, instance: Uuid, version: i64) -> DbResult<()> {
        let now = DB::NOW_MS;
        sqlx::query(&format!(
            "insert into cache_instances (id, seen_version, seen_at_ms) values ($1, $2, {now}) \
             on conflict (id) do update set seen_version = excluded.seen_version, \
             seen_at_ms = excluded.seen_at_ms"
        ))
        .bind(DbId(instance))
        .bind(version)
        .execute(&self.pool)
        .await
        .map_err(DB::error)?;
        sqlx::query(&format!(
            "delete from cache_instances where seen_at_ms < {now} - 86400000"
        ))
        .execute(&self.pool)
        .await
        .map_err(DB::error)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn instances_behind(&self, version: i64, except: Uuid, lease_ms: i64) -> DbResult<i64> {
        let (n,): (i64,) = sqlx::query_as(&format!(
            "select count(*) from cache_instances where id <> $1 and seen_version < $2 \
             and seen_at_ms > {} - $3",
            DB::NOW_MS
        ))
        .bind(DbId(except))
        .bind(version)
        .bind(lease_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(DB::error)?;
        Ok(n)
    }

    #[instrument(skip_all)]
    async fn leave_badge_cache(&self, instance: Uuid) -> DbResult<()> {
        sqlx::query("delete from cache_instances where id = $1")
            .bind(DbId(instance))
            .execute(&self.pool)
            .await
            .map_err(DB::error)?;
        Ok(())
    }
}

/// The registry query for the filters present: each shape gets its own plan (the
/// name-ordered index scan stops after `limit` rows). Names compare in byte order on both
/// backends.
fn registry_sql(b: Registry, q: &RegistryQuery) -> String {
    let key = b.name_key;
    // Name order on SQLite: `cross join` makes it walk people in index order
    // (people_registry_name) and look each one's badge up, so the first page reads about
    // `limit` rows; newest first walks credentials_registry_newest instead.
    let join = match q.order {
        RegistryOrder::Name => b.name_join,
        RegistryOrder::Newest => "join",
    };
    let mut sql = format!(
        "select p.id, p.name, {key} as name_key, p.city, p.country, p.url, \
         c.id as credential_id, c.issued_at, c.valid_until \
         from people p {join} credentials c on c.person_id = p.id \
         and c.achievement = '{CERTIFIED}' and c.revoked_at is null \
         and c.replaced_at is null and (c.valid_until is null or c.valid_until > $1) \
         where {}",
        b.listed
    );
    let mut n = 1;
    let mut next = || {
        n += 1;
        n
    };
    if q.country.is_some() {
        sql.push_str(&format!(" and lower(p.country) = lower(${})", next()));
    }
    if q.prefix.is_some() {
        let i = next();
        sql.push_str(&format!(
            " and {key} >= lower(${i}) and {key} < lower(${i}) || {}",
            b.max_char
        ));
    }
    match q.order {
        RegistryOrder::Name => {
            if q.after.is_some() {
                // The first term seeks the index; the second skips the cursor's own row.
                let (k, id) = (next(), next());
                let (kp, ip) = (b.key_param, b.id_param);
                sql.push_str(&format!(
                    " and {key} >= ${k}{kp} and ({key} > ${k}{kp} or c.id > ${id}{ip})"
                ));
            }
            // Within one name the few rows are sorted (SQLite: a temp b-tree; PostgreSQL: an
            // incremental sort), still stopping after `limit`.
            sql.push_str(&format!(" order by {key}, c.id limit ${}", next()));
        }
        RegistryOrder::Newest => sql.push_str(&format!(
            " order by c.issued_at desc, c.id desc limit ${}",
            next()
        )),
    }
    sql
}

/// Stores one credential on `conn`; for a Partnership Certified it first retires the
/// person's expired, unrevoked Certified (see [`Store::insert_credential`]).
async fn insert_credential_row<DB: Database>(
    conn: &mut DB::Connection,
    c: &CredentialRecord,
) -> Result<(), sqlx::Error>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> DbId: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<DbId>: Encode<'q, DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> Option<DateTime<Utc>>: Encode<'q, DB>,
{
    if c.achievement == CERTIFIED {
        sqlx::query(
            "update credentials set replaced_at = $1 where person_id = $2 \
                 and achievement = $3 and revoked_at is null and replaced_at is null \
                 and valid_until is not null and valid_until <= $1",
        )
        .bind(c.issued_at)
        .bind(DbId(c.person_id))
        .bind(CERTIFIED)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "insert into credentials (id, achievement, person_id, closing_id, \
             status_list, status_index, issued_at, valid_until, document, \
             idempotency_key, request_hash) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(DbId(c.id))
    .bind(&c.achievement)
    .bind(DbId(c.person_id))
    .bind(c.closing_id.map(DbId))
    .bind(c.status_list)
    .bind(c.status_index)
    .bind(c.issued_at)
    .bind(c.valid_until)
    .bind(&c.document)
    .bind(&c.idempotency_key)
    .bind(&c.request_hash)
    .execute(&mut *conn)
    .await
    .map(drop)
}

async fn insert_message_row<DB: Database>(
    conn: &mut DB::Connection,
    m: &OutboxMessage,
) -> Result<(), sqlx::Error>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> DbId: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i32: Encode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<DbId>: Encode<'q, DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> Option<DateTime<Utc>>: Encode<'q, DB>,
{
    sqlx::query(
        "insert into outbox (id, kind, person_id, credential_id, status, attempts, \
         next_attempt_at, last_error, created_at, sent_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(DbId(m.id))
    .bind(m.kind.clone())
    .bind(DbId(m.person_id))
    .bind(m.credential_id.map(DbId))
    .bind(m.status.clone())
    .bind(m.attempts)
    .bind(m.next_attempt_at)
    .bind(m.last_error.clone())
    .bind(m.created_at)
    .bind(m.sent_at)
    .execute(&mut *conn)
    .await
    .map(drop)
}
