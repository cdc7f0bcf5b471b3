//! Stands in for `sqlx` where the `FromRow` derive's `try_from` expands to the relative path
//! `sqlx::__spec_error!`, which sqlx exports only with its `macros` feature. That feature also
//! builds both database drivers and SQLite's C library a second time, for the compiler (what
//! `query!` needs; nothing here uses it), so the service takes the derive from `sqlx-macros`
//! directly and supplies the item itself (upstream: transact-rs/sqlx#3915).

/// A column conversion's error, boxed as the derive's `ColumnDecode` wants it.
macro_rules! spec_error {
    ($e:expr) => {
        ::std::boxed::Box::<dyn ::std::error::Error + ::std::marker::Send + ::std::marker::Sync>::from(
            ::std::string::ToString::to_string(&$e),
        )
    };
}
pub(crate) use spec_error as __spec_error;
