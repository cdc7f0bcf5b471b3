//! The SQLite backend: the embedded default. One file, WAL journal, foreign keys on.
//!
//! Ids are hyphenated UUID text and times RFC 3339 text at whole seconds (the program
//! truncates them), so SQL comparisons on text follow time order.

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::migrate::Migrator;
use sqlx::query::QueryAs;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Database, Sqlite};
use uuid::fmt::Hyphenated;
use uuid::Uuid;

use super::backend::{Backend, Registry, SqlStore};
use super::rows::{DbId, UuidColumn};
use super::store::{Constraint, DbError};

/// The SQLite migrations, embedded.
pub static MIGRATOR: Migrator = sqlx_macros::migrate!("migrations/sqlite");

/// A [`super::Store`] on SQLite.
pub type SqliteStore = SqlStore<Sqlite>;

impl SqlStore<Sqlite> {
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
            .connect_with(opts);
        let (opening, migrating) = ("opening the SQLite database", "running SQLite migrations");
        SqlStore::open(pool, &MIGRATOR, opening, migrating).await
    }
}

impl Backend for Sqlite {
    const BACKEND: &'static str = "sqlite";
    // A failed statement undoes only itself, and one writer at a time needs no lock order.
    const SAVEPOINT_EACH: bool = false;
    const SKIP_LOCKED: &'static str = "";
    const MONTH_OF_CLOSED_ON: &'static str = "substr(closed_on, 1, 7)";
    // `julianday('now')` keeps milliseconds (`unixepoch('subsec')` needs SQLite 3.42).
    const NOW_MS: &'static str = "cast((julianday('now') - 2440587.5) * 86400000 as integer)";

    fn fit_score(axis: &str, criterion: &str) -> String {
        format!("coalesce(json_extract(partner_fit, '$.{axis}.{criterion}.score'), 0)")
    }
    const BATCH_LOCK: Option<&'static str> = None;
    // Text compares in byte order already; no casts needed.
    const REGISTRY: Registry = Registry {
        name_key: "lower(p.name)",
        name_join: "cross join",
        listed: "p.listed_in_registry = 1",
        max_char: "char(1114111)",
        key_param: "",
        id_param: "",
    };

    fn error(e: sqlx::Error) -> DbError {
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
                } else if msg.contains("staff.email") {
                    Constraint::StaffEmail
                } else {
                    Constraint::Other
                };
                return DbError::Conflict(c);
            }
        }
        DbError::Other(anyhow::Error::new(e))
    }

    fn rows_affected(done: &<Sqlite as Database>::QueryResult) -> u64 {
        done.rows_affected()
    }

    fn badges_sql(people: usize) -> Cow<'static, str> {
        // No array parameters: one placeholder per person.
        let marks: Vec<String> = (1..=people).map(|i| format!("${i}")).collect();
        Cow::Owned(format!(
            "select person_id, achievement, issued_at, valid_until from credentials \
             where revoked_at is null and person_id in ({})",
            marks.join(", ")
        ))
    }

    fn bind_people<'q, O>(
        query: QueryAs<'q, Sqlite, O, SqliteArguments<'q>>,
        people: &'q [Uuid],
    ) -> QueryAs<'q, Sqlite, O, SqliteArguments<'q>> {
        people.iter().fold(query, |q, id| q.bind(DbId(*id)))
    }
}

// Ids as hyphenated text, as the migrations store them.
impl UuidColumn for Sqlite {
    type Uuid = Hyphenated;
}
