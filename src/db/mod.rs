//! Storage: the [`Store`] trait, its records, and the choice of backend from the database URL.
//!
//! Two implementations: [`sqlite`] (the embedded default, one file in WAL mode) and
//! [`postgres`] (for several service instances on one database). Both run the same
//! migrations (same version and name, per-backend SQL) and enforce the program's uniqueness
//! rules with constraints, so concurrent requests cannot break them.

mod backend;
pub mod group_commit;
pub mod postgres;
pub mod records;
mod rows;
pub mod sqlite;
pub mod store;

mod sqlx_derive;

use std::sync::Arc;

pub use backend::{Backend, Registry, SqlStore};
pub use records::*;
pub use store::{Constraint, DbError, DbResult, Store};

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
