//! Backups of the SQLite database: `backup DEST` copies the live database while the service
//! keeps issuing; `restore SRC` puts a copy back in place of the configured database.
//!
//! The copy is made with `VACUUM INTO`: one read transaction, so it is a consistent
//! snapshot of every commit before it started, and in WAL mode it never blocks the writers.
//! SQLite's online backup API would do the same job, but it is a C API that sqlx does not
//! expose (reaching it would take `unsafe` FFI), and it restarts whenever another connection
//! writes, which under steady issuance may never finish. `VACUUM INTO` also leaves a
//! compact, single-file copy (rollback journal, no `-wal`), fit for copying off the machine.
//!
//! Every copy is written to a temporary file in the destination's directory, checked, and
//! only then renamed into place, so a half-written file never carries the final name.
//!
//! PostgreSQL is backed up with its own tools (`pg_dump` / `pg_restore`); these commands
//! say so and fail.

use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteLockingMode};
use sqlx::{ConnectOptions as _, Connection as _, Row as _};

/// What to do instead for PostgreSQL (the README has the same commands).
pub const POSTGRES_HINT: &str = "backup and restore handle SQLite databases only; for \
    PostgreSQL use its own tools: `pg_dump --format=custom --file=badges.dump \"$DATABASE_URL\"` \
    to back up (consistent while the service runs), and `pg_restore --clean --if-exists \
    --no-owner --single-transaction --dbname=\"$DATABASE_URL\" badges.dump` with the service \
    stopped to restore";

/// What a backup or restore wrote.
#[derive(Debug, Clone)]
pub struct Copied {
    /// The file written.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Credentials in the copy.
    pub credentials: i64,
    /// How long it took.
    pub elapsed: Duration,
    /// For a restore over an existing database: where the replaced one was kept.
    pub replaced: Option<PathBuf>,
}

/// The database file a `sqlite:` URL names; an error for PostgreSQL, with [`POSTGRES_HINT`].
pub fn sqlite_path(database_url: &str) -> anyhow::Result<PathBuf> {
    if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
        bail!("{POSTGRES_HINT}");
    }
    ensure!(
        database_url.starts_with("sqlite:"),
        "DATABASE_URL must start with sqlite: or postgres:"
    );
    let opts = SqliteConnectOptions::from_str(database_url).context("bad SQLite URL")?;
    let path = opts.get_filename().to_path_buf();
    ensure!(
        !path.as_os_str().is_empty() && path != Path::new(":memory:"),
        "an in-memory SQLite database cannot be backed up or restored"
    );
    Ok(path)
}

/// Opens an existing database file without creating it or changing its journal mode.
async fn open(path: &Path, read_only: bool) -> anyhow::Result<SqliteConnection> {
    ensure!(path.is_file(), "{} does not exist", path.display());
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .read_only(read_only)
        .busy_timeout(Duration::from_secs(10))
        .connect()
        .await
        .with_context(|| format!("opening {}", path.display()))
}

/// A temporary name beside `dest`, on the same file system so the final rename is atomic.
fn temp_beside(dest: &Path, what: &str) -> anyhow::Result<PathBuf> {
    let name = dest
        .file_name()
        .with_context(|| format!("{} names no file", dest.display()))?;
    let dir = dest.parent().filter(|d| !d.as_os_str().is_empty());
    let temp = format!(
        ".{}.{what}-{}",
        name.to_string_lossy(),
        uuid::Uuid::new_v4().simple()
    );
    Ok(dir.map_or_else(|| PathBuf::from(&temp), |d| d.join(&temp)))
}

/// `VACUUM INTO` needs a path that does not exist yet, given as text.
async fn vacuum_into(conn: &mut SqliteConnection, target: &Path) -> anyhow::Result<()> {
    let text = target
        .to_str()
        .with_context(|| format!("{} is not valid UTF-8", target.display()))?;
    sqlx::query("vacuum into $1")
        .bind(text)
        .execute(&mut *conn)
        .await
        .with_context(|| format!("copying the database into {}", target.display()))?;
    Ok(())
}

/// Flushes a file and its directory entry to disk.
fn sync(path: &Path) -> anyhow::Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", path.display()))?;
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Makes the rename durable; not every file system allows it, so failure is ignored.
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// Checks that `path` is a sound database of this service: `PRAGMA integrity_check` says
/// `ok`, and its `_sqlx_migrations` are ours (each version known to this binary, with the
/// same checksum, applied successfully). Returns its number of credentials.
pub async fn check_ours(path: &Path) -> anyhow::Result<i64> {
    let mut conn = open(path, true).await?;
    let result = check_conn(&mut conn, path).await;
    let _ = conn.close().await;
    result
}

async fn check_conn(conn: &mut SqliteConnection, path: &Path) -> anyhow::Result<i64> {
    let shown = path.display();
    let problems: Vec<String> = sqlx::query_scalar("pragma integrity_check")
        .fetch_all(&mut *conn)
        .await
        .with_context(|| format!("{shown} is not a SQLite database"))?;
    ensure!(
        problems.len() == 1 && problems[0] == "ok",
        "{shown} failed PRAGMA integrity_check: {}",
        problems.join("; ")
    );
    let has_migrations: Option<i64> = sqlx::query_scalar(
        "select 1 from sqlite_master where type = 'table' and name = '_sqlx_migrations'",
    )
    .fetch_optional(&mut *conn)
    .await?;
    ensure!(
        has_migrations.is_some(),
        "{shown} is not a partnership-badges database (no _sqlx_migrations table)"
    );
    let rows = sqlx::query("select version, checksum, success from _sqlx_migrations")
        .fetch_all(&mut *conn)
        .await
        .with_context(|| format!("reading the migrations of {shown}"))?;
    ensure!(
        !rows.is_empty(),
        "{shown} has no migrations applied: not a partnership-badges database"
    );
    for row in rows {
        let version: i64 = row.try_get("version")?;
        let checksum: Vec<u8> = row.try_get("checksum")?;
        let success: bool = row.try_get("success")?;
        let ours = crate::db::sqlite::MIGRATOR
            .iter()
            .find(|m| m.version == version)
            .with_context(|| {
                format!(
                    "{shown} has migration {version}, unknown to this binary: it belongs to \
                     another application or a newer partnership-badges"
                )
            })?;
        ensure!(
            *ours.checksum == checksum[..],
            "{shown}: migration {version} ({}) differs from this binary's: not one of our \
             databases",
            ours.description
        );
        ensure!(success, "{shown}: migration {version} did not complete");
    }
    let credentials: i64 = sqlx::query_scalar("select count(*) from credentials")
        .fetch_one(&mut *conn)
        .await
        .with_context(|| format!("counting the credentials of {shown}"))?;
    Ok(credentials)
}

/// Copies the live database `database_url` names to `dest`, a path that must not exist.
/// Safe while the service runs: the copy holds every commit made before it started.
pub async fn backup(database_url: &str, dest: &Path) -> anyhow::Result<Copied> {
    let started = Instant::now();
    let source = sqlite_path(database_url)?;
    ensure!(
        !dest.exists(),
        "{} already exists; a backup never overwrites, choose a new path",
        dest.display()
    );
    let temp = temp_beside(dest, "partial")?;
    let result = async {
        // Read-only: a backup must not change the live database (not even its journal).
        let mut conn = open(&source, true).await?;
        let copied = vacuum_into(&mut conn, &temp).await;
        let _ = conn.close().await;
        copied?;
        let credentials = check_ours(&temp).await?;
        sync(&temp)?;
        ensure!(
            !dest.exists(),
            "{} appeared during the backup; not overwritten",
            dest.display()
        );
        std::fs::rename(&temp, dest)
            .with_context(|| format!("renaming the backup to {}", dest.display()))?;
        sync(dest)?;
        Ok(credentials)
    }
    .await;
    let credentials = result.inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })?;
    Ok(Copied {
        path: dest.to_path_buf(),
        bytes: std::fs::metadata(dest)?.len(),
        credentials,
        elapsed: started.elapsed(),
        replaced: None,
    })
}

/// The `-wal` and `-shm` files beside a database.
fn sidecars(db: &Path) -> [PathBuf; 2] {
    ["-wal", "-shm"].map(|suffix| {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    })
}

/// Fails if another connection has `db` open (the service, another tool); otherwise
/// checkpoints its WAL into the file so nothing is left only in `-wal`.
///
/// A service connection in WAL mode holds a shared lock on the database for as long as it
/// is open, so an exclusive lock taken without waiting succeeds only when nobody else has it.
async fn ensure_unused(db: &Path) -> anyhow::Result<()> {
    let mut conn = SqliteConnectOptions::new()
        .filename(db)
        .create_if_missing(false)
        .locking_mode(SqliteLockingMode::Exclusive)
        .busy_timeout(Duration::ZERO)
        .connect()
        .await
        .with_context(|| format!("opening {}", db.display()))?;
    let locked = sqlx::query("begin exclusive").execute(&mut conn).await;
    if let Err(e) = locked {
        let _ = conn.close().await;
        bail!(
            "{} is in use ({e}); stop the service (and any other tool using it) before \
             restoring",
            db.display()
        );
    }
    sqlx::query("commit").execute(&mut conn).await?;
    // Fold any committed WAL content into the file before it is set aside.
    sqlx::query("pragma wal_checkpoint(truncate)")
        .execute(&mut conn)
        .await
        .with_context(|| format!("checkpointing {}", db.display()))?;
    conn.close().await?;
    Ok(())
}

/// Puts the backup `src` in place of the database `database_url` names. `src` must pass
/// [`check_ours`]; a database already at the destination must not be in use (stop the
/// service first) and is kept beside it as `<name>.replaced-<UTC time>`. The copy is
/// written to a temporary file and renamed into place; stale `-wal`/`-shm` files of the old
/// database are removed so SQLite cannot replay them onto the restored one.
pub async fn restore(src: &Path, database_url: &str) -> anyhow::Result<Copied> {
    let started = Instant::now();
    let dest = sqlite_path(database_url)?;
    check_ours(src).await?;
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let existed = dest.exists();
    if existed {
        ensure_unused(&dest).await?;
    }
    let temp = temp_beside(&dest, "restoring")?;
    let result = async {
        let mut conn = open(src, true).await?;
        let copied = vacuum_into(&mut conn, &temp).await;
        let _ = conn.close().await;
        copied?;
        let credentials = check_ours(&temp).await?;
        sync(&temp)?;
        let replaced = if existed {
            let mut kept = dest.as_os_str().to_owned();
            kept.push(format!(
                ".replaced-{}",
                chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
            ));
            let kept = PathBuf::from(kept);
            std::fs::rename(&dest, &kept)
                .with_context(|| format!("setting {} aside", dest.display()))?;
            Some(kept)
        } else {
            None
        };
        for stale in sidecars(&dest) {
            match std::fs::remove_file(&stale) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("removing {}", stale.display())),
            }
        }
        std::fs::rename(&temp, &dest)
            .with_context(|| format!("moving the restored copy to {}", dest.display()))?;
        sync(&dest)?;
        Ok((credentials, replaced))
    }
    .await;
    let (credentials, replaced) = result.inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })?;
    Ok(Copied {
        bytes: std::fs::metadata(&dest)?.len(),
        path: dest,
        credentials,
        elapsed: started.elapsed(),
        replaced,
    })
}
