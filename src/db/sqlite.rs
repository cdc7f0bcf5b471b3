//! The SQLite backend: the embedded default. One file, WAL journal, foreign keys on.
//!
//! Ids are hyphenated UUID text and times RFC 3339 text at whole seconds (the program
//! truncates them), so SQL comparisons on text follow time order.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::Row;
use tracing::instrument;
use uuid::Uuid;

use super::records::{
    ApiToken, AuditEntry, AuditFilter, AuditRecord, BadgeDates, Closing, CredentialFilter,
    CredentialRecord, Holder, Mentor, Person, RegistryOrder, RegistryProbe, RegistryQuery,
    RegistryRow, RevokeOutcome, Stages, StatusBlock, Write, CERTIFIED,
};
use super::store::{Constraint, DbError, DbResult, Store};

/// The SQLite migrations, embedded.
pub static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// A [`Store`] on SQLite.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file and runs migrations.
    /// `synchronous` is `full` (every commit reaches the disk) or `normal`.
    pub async fn connect(url: &str, synchronous: &str) -> anyhow::Result<Self> {
        let sync = SqliteSynchronous::from_str(synchronous)
            .map_err(|e| anyhow::anyhow!("bad sqlite synchronous mode {synchronous:?}: {e}"))?;
        let opts = SqliteConnectOptions::from_str(url)
            .with_context(|| "bad SQLite URL")?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(sync)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        if let Some(dir) = opts.get_filename().parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating database directory {}", dir.display()))?;
            }
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(opts)
            .await
            .context("opening the SQLite database")?;
        MIGRATOR
            .run(&pool)
            .await
            .context("running SQLite migrations")?;
        Ok(SqliteStore { pool })
    }

    /// The pool, for tests and tools.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn other(e: sqlx::Error) -> DbError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            // SQLite names the columns, not the index, in its message.
            let msg = db.message();
            let c = if msg.contains("idempotency_key") {
                Constraint::IdempotencyKey
            } else if msg.contains("closing_id") {
                Constraint::ClosedPerClosing
            } else if msg.contains("person_id") {
                Constraint::CertifiedPerPerson
            } else if msg.contains("status_index") {
                Constraint::StatusIndex
            } else if msg.contains("api_tokens.name") {
                Constraint::TokenName
            } else if msg.contains("people.email") {
                Constraint::PersonEmail
            } else if msg.contains("mentors.email") {
                Constraint::MentorEmail
            } else {
                Constraint::Other
            };
            return DbError::Conflict(c);
        }
    }
    DbError::Other(anyhow::Error::new(e))
}

fn uuid(row: &SqliteRow, col: &str) -> Result<Uuid, sqlx::Error> {
    let s: String = row.try_get(col)?;
    Uuid::parse_str(&s).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn opt_uuid(row: &SqliteRow, col: &str) -> Result<Option<Uuid>, sqlx::Error> {
    let s: Option<String> = row.try_get(col)?;
    s.map(|s| Uuid::parse_str(&s).map_err(|e| sqlx::Error::Decode(Box::new(e))))
        .transpose()
}

fn token_row(row: &SqliteRow) -> Result<ApiToken, sqlx::Error> {
    let scopes: String = row.try_get("scopes")?;
    Ok(ApiToken {
        id: uuid(row, "id")?,
        name: row.try_get("name")?,
        public_id: row.try_get("public_id")?,
        token_hash: row.try_get("token_hash")?,
        scopes: crate::scopes::Scopes::from_stored(&scopes),
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

const TOKEN_COLUMNS: &str =
    "id, name, public_id, token_hash, scopes, created_at, expires_at, revoked_at";

fn audit_row(row: &SqliteRow) -> Result<AuditRecord, sqlx::Error> {
    let status: i32 = row.try_get("status")?;
    Ok(AuditRecord {
        id: row.try_get("id")?,
        entry: AuditEntry {
            at: row.try_get("at")?,
            token_id: opt_uuid(row, "token_id")?,
            token_name: row.try_get("token_name")?,
            action: row.try_get("action")?,
            target: row.try_get("target")?,
            status: u16::try_from(status).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            request_id: row.try_get("request_id")?,
        },
    })
}

fn mentor_row(row: &SqliteRow) -> Result<Mentor, sqlx::Error> {
    Ok(Mentor {
        id: uuid(row, "id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        url: row.try_get("url")?,
        created_at: row.try_get("created_at")?,
    })
}

/// The mentor columns of [`CLOSING_WITH_MENTOR`], prefixed `m_`.
fn joined_mentor_row(row: &SqliteRow) -> Result<Mentor, sqlx::Error> {
    Ok(Mentor {
        id: uuid(row, "mentor_id")?,
        name: row.try_get("m_name")?,
        email: row.try_get("m_email")?,
        url: row.try_get("m_url")?,
        created_at: row.try_get("m_created_at")?,
    })
}

/// A closing and its mentor (mentor columns prefixed, so the closing's keep their names).
const CLOSING_WITH_MENTOR: &str = "select c.*, m.name as m_name, m.email as m_email, \
     m.url as m_url, m.created_at as m_created_at \
     from closings c join mentors m on m.id = c.mentor_id where c.id = $1";

fn person_row(row: &SqliteRow) -> Result<Person, sqlx::Error> {
    Ok(Person {
        id: uuid(row, "id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        city: row.try_get("city")?,
        country: row.try_get("country")?,
        url: row.try_get("url")?,
        listed_in_registry: row.try_get("listed_in_registry")?,
        created_at: row.try_get("created_at")?,
    })
}

fn closing_row(row: &SqliteRow) -> Result<Closing, sqlx::Error> {
    let stages: sqlx::types::Json<Stages> = row.try_get("stages")?;
    Ok(Closing {
        id: uuid(row, "id")?,
        closer_id: uuid(row, "closer_id")?,
        mentor_id: uuid(row, "mentor_id")?,
        mentor_cc_at: row.try_get("mentor_cc_at")?,
        mentor_cc_ref: row.try_get("mentor_cc_ref")?,
        partner_name: row.try_get("partner_name")?,
        partner_url: row.try_get("partner_url")?,
        partner_city: row.try_get("partner_city")?,
        partner_country: row.try_get("partner_country")?,
        stages: stages.0,
        closed_on: row.try_get("closed_on")?,
        summary: row.try_get("summary")?,
        created_at: row.try_get("created_at")?,
    })
}

fn credential_row(row: &SqliteRow) -> Result<CredentialRecord, sqlx::Error> {
    Ok(CredentialRecord {
        id: uuid(row, "id")?,
        achievement: row.try_get("achievement")?,
        person_id: uuid(row, "person_id")?,
        closing_id: opt_uuid(row, "closing_id")?,
        status_list: row.try_get("status_list")?,
        status_index: row.try_get("status_index")?,
        issued_at: row.try_get("issued_at")?,
        valid_until: row.try_get("valid_until")?,
        document: row.try_get("document")?,
        idempotency_key: row.try_get("idempotency_key")?,
        request_hash: row.try_get("request_hash")?,
        revoked_at: row.try_get("revoked_at")?,
        revocation_reason: row.try_get("revocation_reason")?,
    })
}

const CREDENTIAL_COLUMNS: &str = "id, achievement, person_id, closing_id, status_list, \
    status_index, issued_at, valid_until, document, idempotency_key, request_hash, revoked_at, \
    revocation_reason";

/// A credential and its holder's public fields, for the badge page (one round trip).
const JOINED_HOLDER_QUERY: &str = "select c.id, c.achievement, c.person_id, c.closing_id, \
    c.status_list, c.status_index, c.issued_at, c.valid_until, c.document, c.idempotency_key, \
    c.request_hash, c.revoked_at, c.revocation_reason, p.name as holder_name, \
    p.listed_in_registry as holder_listed \
    from credentials c join people p on p.id = c.person_id where c.id = $1";

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> DbResult<()> {
        sqlx::query("select 1")
            .execute(&self.pool)
            .await
            .map_err(other)?;
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
        .bind(t.id.to_string())
        .bind(&t.name)
        .bind(&t.public_id)
        .bind(&t.token_hash)
        .bind(t.scopes.to_string())
        .bind(t.created_at)
        .bind(t.expires_at)
        .bind(t.revoked_at)
        .execute(&self.pool)
        .await
        .map_err(other)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn token_by_hash(&self, token_hash: &str) -> DbResult<Option<ApiToken>> {
        let row = sqlx::query(&format!(
            "select {TOKEN_COLUMNS} from api_tokens where token_hash = $1 and public_id is null"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(other)?;
        row.map(|r| token_row(&r)).transpose().map_err(other)
    }

    #[instrument(skip_all)]
    async fn token_by_public_id(&self, public_id: &str) -> DbResult<Option<ApiToken>> {
        let row = sqlx::query(&format!(
            "select {TOKEN_COLUMNS} from api_tokens where public_id = $1"
        ))
        .bind(public_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(other)?;
        row.map(|r| token_row(&r)).transpose().map_err(other)
    }

    #[instrument(skip_all)]
    async fn token(&self, id: Uuid) -> DbResult<Option<ApiToken>> {
        let row = sqlx::query(&format!(
            "select {TOKEN_COLUMNS} from api_tokens where id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(other)?;
        row.map(|r| token_row(&r)).transpose().map_err(other)
    }

    #[instrument(skip_all)]
    async fn list_tokens(&self) -> DbResult<Vec<ApiToken>> {
        let rows = sqlx::query(&format!(
            "select {TOKEN_COLUMNS} from api_tokens order by created_at, name"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(other)?;
        rows.iter()
            .map(token_row)
            .collect::<Result<_, _>>()
            .map_err(other)
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
        .map_err(other)?;
        Ok(done.rows_affected() > 0)
    }

    #[instrument(skip_all)]
    async fn revoke_token_by_id(&self, id: Uuid, at: DateTime<Utc>) -> DbResult<Option<ApiToken>> {
        sqlx::query("update api_tokens set revoked_at = $1 where id = $2 and revoked_at is null")
            .bind(at)
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(other)?;
        self.token(id).await
    }

    #[instrument(skip_all)]
    async fn list_audit(&self, f: &AuditFilter) -> DbResult<Vec<AuditRecord>> {
        let rows = sqlx::query(
            "select id, at, token_id, token_name, action, target, status, request_id \
             from audit_log where \
             ($1 is null or token_id = $1) and ($2 is null or token_name = $2) and \
             ($3 is null or action = $3) and ($4 is null or at >= $4) and \
             ($5 is null or id < $5) \
             order by id desc limit $6",
        )
        .bind(f.token_id.map(|id| id.to_string()))
        .bind(&f.token_name)
        .bind(&f.action)
        .bind(f.since)
        .bind(f.before)
        .bind(f.limit)
        .fetch_all(&self.pool)
        .await
        .map_err(other)?;
        rows.iter()
            .map(audit_row)
            .collect::<Result<_, _>>()
            .map_err(other)
    }

    #[instrument(skip_all)]
    async fn insert_mentor(&self, m: &Mentor) -> DbResult<()> {
        sqlx::query(
            "insert into mentors (id, name, email, url, created_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(m.id.to_string())
        .bind(&m.name)
        .bind(&m.email)
        .bind(&m.url)
        .bind(m.created_at)
        .execute(&self.pool)
        .await
        .map_err(other)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn mentor(&self, id: Uuid) -> DbResult<Option<Mentor>> {
        let row = sqlx::query("select * from mentors where id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(other)?;
        row.map(|r| mentor_row(&r)).transpose().map_err(other)
    }

    #[instrument(skip_all)]
    async fn insert_person(&self, p: &Person) -> DbResult<()> {
        sqlx::query(
            "insert into people (id, name, email, city, country, url, listed_in_registry, \
             created_at) values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(p.id.to_string())
        .bind(&p.name)
        .bind(&p.email)
        .bind(&p.city)
        .bind(&p.country)
        .bind(&p.url)
        .bind(p.listed_in_registry)
        .bind(p.created_at)
        .execute(&self.pool)
        .await
        .map_err(other)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn person(&self, id: Uuid) -> DbResult<Option<Person>> {
        let row = sqlx::query("select * from people where id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(other)?;
        row.map(|r| person_row(&r)).transpose().map_err(other)
    }

    #[instrument(skip_all)]
    async fn insert_closing(&self, c: &Closing) -> DbResult<()> {
        sqlx::query(
            "insert into closings (id, closer_id, mentor_id, mentor_cc_at, mentor_cc_ref, \
             partner_name, partner_url, partner_city, partner_country, stages, closed_on, \
             summary, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(c.id.to_string())
        .bind(c.closer_id.to_string())
        .bind(c.mentor_id.to_string())
        .bind(c.mentor_cc_at)
        .bind(&c.mentor_cc_ref)
        .bind(&c.partner_name)
        .bind(&c.partner_url)
        .bind(&c.partner_city)
        .bind(&c.partner_country)
        .bind(sqlx::types::Json(&c.stages))
        .bind(c.closed_on)
        .bind(&c.summary)
        .bind(c.created_at)
        .execute(&self.pool)
        .await
        .map_err(other)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn closing(&self, id: Uuid) -> DbResult<Option<Closing>> {
        let row = sqlx::query("select * from closings where id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(other)?;
        row.map(|r| closing_row(&r)).transpose().map_err(other)
    }

    #[instrument(skip_all)]
    async fn closing_with_mentor(&self, id: Uuid) -> DbResult<Option<(Closing, Mentor)>> {
        let row = sqlx::query(CLOSING_WITH_MENTOR)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(other)?;
        row.map(|r| Ok((closing_row(&r)?, joined_mentor_row(&r)?)))
            .transpose()
            .map_err(other)
    }

    #[instrument(skip_all)]
    async fn mentor_by_email(&self, email: &str) -> DbResult<Option<Mentor>> {
        let row = sqlx::query("select * from mentors where email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(other)?;
        row.map(|r| mentor_row(&r)).transpose().map_err(other)
    }

    #[instrument(skip_all)]
    async fn person_by_email(&self, email: &str) -> DbResult<Option<Person>> {
        let row = sqlx::query("select * from people where email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(other)?;
        row.map(|r| person_row(&r)).transpose().map_err(other)
    }

    #[instrument(skip_all)]
    async fn closing_by_natural_key(
        &self,
        closer_id: Uuid,
        partner_name: &str,
        closed_on: chrono::NaiveDate,
    ) -> DbResult<Option<Closing>> {
        // Uses the closer_id index; a closer has few closings.
        let row = sqlx::query(
            "select * from closings where closer_id = $1 and closed_on = $2 \
             and lower(trim(partner_name)) = lower(trim($3)) order by created_at, id limit 1",
        )
        .bind(closer_id.to_string())
        .bind(closed_on)
        .bind(partner_name)
        .fetch_optional(&self.pool)
        .await
        .map_err(other)?;
        row.map(|r| closing_row(&r)).transpose().map_err(other)
    }

    #[instrument(skip_all)]
    async fn reserve_status_block(&self, len: i64, list_size: i64) -> DbResult<StatusBlock> {
        // Each statement is atomic on its own, so no transaction upgrade can deadlock.
        for _ in 0..8 {
            let row = sqlx::query(
                "update status_lists set next_counter = next_counter + $1 \
                 where id = (select max(id) from status_lists) and next_counter + $1 <= size \
                 returning id, next_counter - $1 as start",
            )
            .bind(len)
            .fetch_optional(&self.pool)
            .await
            .map_err(other)?;
            if let Some(row) = row {
                return Ok(StatusBlock {
                    list: row.try_get("id").map_err(other)?,
                    start: row.try_get("start").map_err(other)?,
                    len,
                });
            }
            sqlx::query(
                "insert into status_lists (id, size, next_counter) \
                 select coalesce(max(id), 0) + 1, $1, 0 from status_lists where true \
                 on conflict do nothing",
            )
            .bind(list_size)
            .execute(&self.pool)
            .await
            .map_err(other)?;
        }
        Err(DbError::Other(anyhow::anyhow!(
            "could not reserve status-list positions"
        )))
    }

    #[instrument(skip_all)]
    async fn write_batch(&self, writes: &[Write]) -> DbResult<Vec<DbResult<()>>> {
        let mut tx = self.pool.begin().await.map_err(other)?;
        let mut results = Vec::with_capacity(writes.len());
        let mut audit = Vec::new();
        for write in writes {
            let c = match write {
                Write::Credential(c) => c,
                Write::Audit(e) => {
                    audit.push(e);
                    results.push(Ok(()));
                    continue;
                }
            };
            // A failed statement leaves SQLite's transaction intact (only that statement is
            // undone), so a one-statement insert needs no savepoint; a Certified (update,
            // then insert) does, so a refused insert also undoes its update.
            let inserted = if c.achievement == CERTIFIED {
                let mut sp = sqlx::Connection::begin(&mut *tx).await.map_err(other)?;
                let inserted = insert_credential_row(&mut sp, c).await;
                if inserted.is_ok() {
                    sp.commit().await.map_err(other)?;
                } else {
                    sp.rollback().await.map_err(other)?;
                }
                inserted
            } else {
                insert_credential_row(&mut tx, c).await
            };
            match inserted {
                Ok(()) => results.push(Ok(())),
                Err(e) => match other(e) {
                    conflict @ DbError::Conflict(_) => results.push(Err(conflict)),
                    // Anything but a broken rule fails the whole batch.
                    fatal => return Err(fatal),
                },
            }
        }
        if !audit.is_empty() {
            // One statement for all the batch's audit entries, in order.
            sqlx::QueryBuilder::new(
                "insert into audit_log (at, token_id, token_name, action, target, status, \
                 request_id) ",
            )
            .push_values(audit, |mut row, e| {
                row.push_bind(e.at)
                    .push_bind(e.token_id.map(|id| id.to_string()))
                    .push_bind(&e.token_name)
                    .push_bind(&e.action)
                    .push_bind(&e.target)
                    .push_bind(i32::from(e.status))
                    .push_bind(&e.request_id);
            })
            .build()
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        }
        tx.commit().await.map_err(other)?;
        Ok(results)
    }

    #[instrument(skip_all)]
    async fn credential(&self, id: Uuid) -> DbResult<Option<CredentialRecord>> {
        let row = sqlx::query(&format!(
            "select {CREDENTIAL_COLUMNS} from credentials where id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(other)?;
        row.map(|r| credential_row(&r)).transpose().map_err(other)
    }

    #[instrument(skip_all)]
    async fn credential_with_holder(
        &self,
        id: Uuid,
    ) -> DbResult<Option<(CredentialRecord, Holder)>> {
        let row = sqlx::query(JOINED_HOLDER_QUERY)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(other)?;
        row.map(|r| {
            Ok((
                credential_row(&r)?,
                Holder {
                    name: r.try_get("holder_name")?,
                    listed_in_registry: r.try_get("holder_listed")?,
                },
            ))
        })
        .transpose()
        .map_err(other)
    }

    #[instrument(skip_all)]
    async fn credential_by_idempotency_key(&self, key: &str) -> DbResult<Option<CredentialRecord>> {
        let row = sqlx::query(&format!(
            "select {CREDENTIAL_COLUMNS} from credentials where idempotency_key = $1"
        ))
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .map_err(other)?;
        row.map(|r| credential_row(&r)).transpose().map_err(other)
    }

    #[instrument(skip_all)]
    async fn credentials_of_person(&self, person_id: Uuid) -> DbResult<Vec<CredentialRecord>> {
        let rows = sqlx::query(&format!(
            "select {CREDENTIAL_COLUMNS} from credentials where person_id = $1 \
             order by issued_at, id"
        ))
        .bind(person_id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(other)?;
        rows.iter()
            .map(credential_row)
            .collect::<Result<_, _>>()
            .map_err(other)
    }

    #[instrument(skip_all)]
    async fn list_credentials(&self, f: &CredentialFilter) -> DbResult<Vec<CredentialRecord>> {
        let (after_t, after_id) = match f.after {
            Some((t, id)) => (Some(t), Some(id.to_string())),
            None => (None, None),
        };
        let rows = sqlx::query(&format!(
            "select {CREDENTIAL_COLUMNS} from credentials where \
             ($1 is null or person_id = $1) and ($2 is null or achievement = $2) and \
             ($3 is null or \
              ($3 = 'revoked' and revoked_at is not null) or \
              ($3 = 'expired' and revoked_at is null and valid_until is not null \
                 and valid_until <= $4) or \
              ($3 = 'valid' and revoked_at is null and (valid_until is null or valid_until > $4))) \
             and ($5 is null or issued_at < $5 or (issued_at = $5 and id < $6)) \
             order by issued_at desc, id desc limit $7"
        ))
        .bind(f.person_id.map(|id| id.to_string()))
        .bind(&f.achievement)
        .bind(&f.status)
        .bind(f.now)
        .bind(after_t)
        .bind(after_id)
        .bind(f.limit)
        .fetch_all(&self.pool)
        .await
        .map_err(other)?;
        rows.iter()
            .map(credential_row)
            .collect::<Result<_, _>>()
            .map_err(other)
    }

    #[instrument(skip_all)]
    async fn revoke_credential(
        &self,
        id: Uuid,
        reason: &str,
        at: DateTime<Utc>,
    ) -> DbResult<RevokeOutcome> {
        let done = sqlx::query(
            "update credentials set revoked_at = $1, revocation_reason = $2 \
             where id = $3 and revoked_at is null",
        )
        .bind(at)
        .bind(reason)
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(other)?;
        let record = self.credential(id).await?.ok_or(DbError::NotFound)?;
        Ok(if done.rows_affected() > 0 {
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
            .map_err(other)?;
        if exists.is_none() {
            return Ok(None);
        }
        let rows = sqlx::query(
            "select status_index from credentials where status_list = $1 and revoked_at is not null",
        )
        .bind(list)
        .fetch_all(&self.pool)
        .await
        .map_err(other)?;
        rows.iter()
            .map(|r| r.try_get::<i64, _>("status_index"))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
            .map_err(other)
    }

    #[instrument(skip_all)]
    async fn update_person(&self, p: &Person) -> DbResult<()> {
        let done = sqlx::query(
            "update people set name = $1, email = $2, city = $3, country = $4, url = $5, \
             listed_in_registry = $6 where id = $7",
        )
        .bind(&p.name)
        .bind(&p.email)
        .bind(&p.city)
        .bind(&p.country)
        .bind(&p.url)
        .bind(p.listed_in_registry)
        .bind(p.id.to_string())
        .execute(&self.pool)
        .await
        .map_err(other)?;
        if done.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    #[instrument(skip_all)]
    async fn registry_probe(&self, now: DateTime<Utc>) -> DbResult<RegistryProbe> {
        let row = sqlx::query(
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
        .map_err(other)?;
        (|| {
            Ok(RegistryProbe {
                version: row.try_get("version")?,
                changed_at: row.try_get("changed_at")?,
                last_expired: row.try_get("last_expired")?,
                next_expiry: row.try_get("next_expiry")?,
            })
        })()
        .map_err(other)
    }

    #[instrument(skip_all)]
    async fn registry_page(&self, q: &RegistryQuery) -> DbResult<Vec<RegistryRow>> {
        // The statement is built from the filters present, so each shape gets its own plan
        // (the name-ordered index scan stops after `limit` rows).
        // Name order: `cross join` makes SQLite walk people in index order (people_registry_name)
        // and look each one's badge up, so the first page reads about `limit` rows; newest
        // first walks credentials_registry_newest instead.
        let join = match q.order {
            RegistryOrder::Name => "cross join",
            RegistryOrder::Newest => "join",
        };
        let mut sql = format!(
            "select p.id, p.name, lower(p.name) as name_key, p.city, p.country, p.url, \
             c.id as credential_id, c.issued_at, c.valid_until \
             from people p {join} credentials c on c.person_id = p.id \
             and c.achievement = 'partnership-certified' and c.revoked_at is null \
             and c.replaced_at is null and (c.valid_until is null or c.valid_until > $1) \
             where p.listed_in_registry = 1",
        );
        if q.country.is_some() {
            sql.push_str(" and lower(p.country) = lower($2)");
        }
        if q.prefix.is_some() {
            sql.push_str(
                " and lower(p.name) >= lower($3) and lower(p.name) < lower($3) || char(1114111)",
            );
        }
        match q.order {
            RegistryOrder::Name => {
                if q.after.is_some() {
                    // The first term seeks the index; the second skips the cursor's own row.
                    sql.push_str(" and lower(p.name) >= $4 and (lower(p.name) > $4 or c.id > $5)");
                }
                // Within one name, SQLite sorts the few rows it walks (a temp b-tree for the
                // right part of the order), still stopping after `limit`.
                sql.push_str(" order by lower(p.name), c.id limit $6");
            }
            RegistryOrder::Newest => sql.push_str(" order by c.issued_at desc, c.id desc limit $6"),
        }
        let (after_key, after_id) = match &q.after {
            Some((k, id)) => (Some(k.as_str()), Some(id.to_string())),
            None => (None, None),
        };
        let rows = sqlx::query(&sql)
            .bind(q.now)
            .bind(&q.country)
            .bind(&q.prefix)
            .bind(after_key)
            .bind(after_id)
            .bind(q.limit)
            .fetch_all(&self.pool)
            .await
            .map_err(other)?;
        rows.iter()
            .map(|r| {
                Ok(RegistryRow {
                    person_id: uuid(r, "id")?,
                    name: r.try_get("name")?,
                    name_key: r.try_get("name_key")?,
                    city: r.try_get("city")?,
                    country: r.try_get("country")?,
                    url: r.try_get("url")?,
                    credential_id: uuid(r, "credential_id")?,
                    issued_at: r.try_get("issued_at")?,
                    valid_until: r.try_get("valid_until")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(other)
    }

    #[instrument(skip_all)]
    async fn registry_badges(&self, people: &[Uuid]) -> DbResult<Vec<BadgeDates>> {
        if people.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=people.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "select person_id, achievement, issued_at, valid_until from credentials \
             where revoked_at is null and person_id in ({})",
            marks.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for id in people {
            query = query.bind(id.to_string());
        }
        let rows = query.fetch_all(&self.pool).await.map_err(other)?;
        rows.iter()
            .map(|r| {
                Ok(BadgeDates {
                    person_id: uuid(r, "person_id")?,
                    achievement: r.try_get("achievement")?,
                    issued_at: r.try_get("issued_at")?,
                    valid_until: r.try_get("valid_until")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(other)
    }
}

/// Stores one credential on `conn`; for a Partnership Certified it first retires the
/// person's expired, unrevoked Certified (see [`Store::insert_credential`]).
async fn insert_credential_row(
    conn: &mut sqlx::SqliteConnection,
    c: &CredentialRecord,
) -> Result<(), sqlx::Error> {
    if c.achievement == CERTIFIED {
        sqlx::query(
            "update credentials set replaced_at = $1 where person_id = $2 \
                 and achievement = $3 and revoked_at is null and replaced_at is null \
                 and valid_until is not null and valid_until <= $1",
        )
        .bind(c.issued_at)
        .bind(c.person_id.to_string())
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
    .bind(c.id.to_string())
    .bind(&c.achievement)
    .bind(c.person_id.to_string())
    .bind(c.closing_id.map(|id| id.to_string()))
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
