//! The PostgreSQL backend: for several service instances sharing one database.
//!
//! Native `uuid`, `timestamptz`, `date` and `jsonb` columns; the signed credential stays
//! `text` so its bytes are kept exactly as issued. Constraint names identify which rule a
//! unique violation broke.

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions};
use sqlx::query::QueryAs;
use sqlx::{Database, Postgres};
use uuid::Uuid;

use super::backend::{Backend, Registry, SqlStore};
use super::rows::UuidColumn;
use super::store::{Constraint, DbError};

/// The PostgreSQL migrations, embedded.
pub static MIGRATOR: Migrator = sqlx_macros::migrate!("migrations/postgres");

/// A [`super::Store`] on PostgreSQL.
pub type PgStore = SqlStore<Postgres>;

impl SqlStore<Postgres> {
    /// Connects and runs migrations.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let opts = PgConnectOptions::from_str(url).context("bad PostgreSQL URL")?;
        Self::connect_with(opts).await
    }

    /// Connects with explicit options (tests use a per-test `search_path`) and migrates.
    pub async fn connect_with(opts: PgConnectOptions) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts);
        let (opening, migrating) = ("connecting to PostgreSQL", "running PostgreSQL migrations");
        SqlStore::open(pool, &MIGRATOR, opening, migrating).await
    }
}

impl Backend for Postgres {
    const BACKEND: &'static str = "postgres";
    // Names compare in byte order (`collate "C"`), as on SQLite.
    const REGISTRY: Registry = Registry {
        name_key: "lower(p.name) collate \"C\"",
        name_join: "join",
        listed: "p.listed_in_registry",
        max_char: "chr(1114111)",
        key_param: "::text collate \"C\"",
        id_param: "::uuid",
    };
    const SAVEPOINT_EACH: bool = true;
    // Every credential insert bumps the one registry_state row (a trigger). Taking that row
    // first makes batches of several instances queue on it, instead of each holding a
    // unique-index entry the other waits for: a deadlock.
    const SKIP_LOCKED: &'static str = "for update skip locked";
    const MONTH_OF_CLOSED_ON: &'static str = "to_char(closed_on, 'YYYY-MM')";
    // The time now, not the transaction's start (`now()`).
    const NOW_MS: &'static str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

    fn fit_score(axis: &str, criterion: &str) -> String {
        format!("coalesce((partner_fit->'{axis}'->'{criterion}'->>'score')::int, 0)")
    }
    const BATCH_LOCK: Option<&'static str> =
        Some("select version from registry_state where id = 1 for update");

    fn error(e: sqlx::Error) -> DbError {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                let c = match db.constraint() {
                    Some("credentials_idempotency_key") => Constraint::IdempotencyKey,
                    Some("credentials_one_closed_per_closing") => Constraint::ClosedPerClosing,
                    Some("credentials_one_certified_per_person") => Constraint::CertifiedPerPerson,
                    Some("credentials_status_position") => Constraint::StatusIndex,
                    Some("api_tokens_name_key") => Constraint::TokenName,
                    Some("people_email") => Constraint::PersonEmail,
                    Some("mentors_email") => Constraint::MentorEmail,
                    Some("staff_email_key") => Constraint::StaffEmail,
                    _ => Constraint::Other,
                };
                return DbError::Conflict(c);
            }
            // deadlock_detected, serialization_failure: the whole transaction was rolled back.
            if matches!(db.code().as_deref(), Some("40P01" | "40001")) {
                return DbError::Contention(anyhow::Error::new(e));
            }
        }
        DbError::Other(anyhow::Error::new(e))
    }

    fn rows_affected(done: &<Postgres as Database>::QueryResult) -> u64 {
        done.rows_affected()
    }

    fn badges_sql(_people: usize) -> Cow<'static, str> {
        // One array parameter: the same statement for any number of people.
        Cow::Borrowed(
            "select person_id, achievement, issued_at, valid_until from credentials \
             where revoked_at is null and person_id = any($1)",
        )
    }

    fn bind_people<'q, O>(
        query: QueryAs<'q, Postgres, O, PgArguments>,
        people: &'q [Uuid],
    ) -> QueryAs<'q, Postgres, O, PgArguments> {
        query.bind(people)
    }
}

impl UuidColumn for Postgres {
    type Uuid = Uuid;
}
