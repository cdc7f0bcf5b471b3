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

/// Stands in for `sqlx` where the `FromRow` derive's `try_from` expands to the relative path
/// `sqlx::__spec_error!`, which sqlx exports only with its `macros` feature. That feature also builds both database drivers and
/// SQLite's C library a second time, for the compiler (what `query!` needs; nothing here
/// uses it), so the service takes the derive from `sqlx-macros` directly and supplies the
/// item itself (upstream: transact-rs/sqlx#3915).
mod sqlx_derive {
    /// A column conversion's error, boxed as the derive's `ColumnDecode` wants it.
    macro_rules! spec_error {
        ($e:expr) => {
            ::std::boxed::Box::<dyn ::std::error::Error + ::std::marker::Send + ::std::marker::Sync>::from(
                ::std::string::ToString::to_string(&$e),
            )
        };
    }
    pub(crate) use spec_error as __spec_error;
}

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
