//! Backups of a live SQLite database (`partnership_badges::backup`): credentials issued
//! continuously while backups run; every credential committed before a backup started is
//! in it and verifies against a state opened on the copy, and again after a restore. Also
//! the refusals: an existing destination, a file that is not our database, a database in
//! use, PostgreSQL.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use common::{test_keys, BASE};
use partnership_badges::backup;
use partnership_badges::db::sqlite::SqliteStore;
use partnership_badges::issuer::Issuer;
use partnership_badges::program::issue::{issue, IssueRequest};
use partnership_badges::program::records::{
    create_closing, create_mentor, create_person, NewClosing, NewMentor, NewPerson,
};
use partnership_badges::AppState;
use uuid::Uuid;

/// An application state on the SQLite file at `path`, with the test key.
async fn state_on(path: &Path) -> AppState {
    use clap::Parser as _;
    let url = format!("sqlite://{}", path.display());
    let store = SqliteStore::connect(&url, "normal").await.unwrap();
    let settings = partnership_badges::cli::Cli::try_parse_from([
        "partnership-badges",
        "--public-base-url",
        BASE,
    ])
    .unwrap()
    .settings;
    let issuer = Issuer::new(&settings, test_keys());
    AppState::new(Arc::new(store), issuer, settings)
}

/// Every id in `ids` is in the database behind `state`, and every credential stored there
/// verifies. Returns the number stored.
async fn check_copy(state: &AppState, ids: &[Uuid]) -> usize {
    for id in ids {
        let record = state.store.credential(*id).await.unwrap();
        assert!(record.is_some(), "credential {id} is missing from the copy");
    }
    let mut stored = 0;
    let people = state_people(state).await;
    for person in people {
        for c in state.store.credentials_of_person(person).await.unwrap() {
            let doc: serde_json::Value = serde_json::from_str(&c.document).unwrap();
            let report = partnership_badges::verify::verify_with_state(state, &doc).await;
            assert!(report.verified, "{}: {report:?}", c.id);
            stored += 1;
        }
    }
    stored
}

async fn state_people(state: &AppState) -> Vec<Uuid> {
    let store = state.store.person_by_email("closer@example.org").await;
    vec![store.unwrap().expect("the closer").id]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn backup_while_issuing_then_restore() {
    let dir = tempfile::tempdir().unwrap();
    let live_path = dir.path().join("live/badges.db");
    let db_url = format!("sqlite://{}", live_path.display());
    let live = state_on(&live_path).await;
    let store = &*live.store;
    let mentor = create_mentor(
        store,
        NewMentor {
            name: "Maya Mentor".into(),
            email: "maya@example.org".into(),
            url: None,
        },
    )
    .await
    .unwrap();
    let person = create_person(
        store,
        NewPerson {
            name: "Ada Closer".into(),
            email: "closer@example.org".into(),
            city: None,
            country: None,
            url: None,
            listed_in_registry: true,
            consent_source: Some("signed form".into()),
        },
    )
    .await
    .unwrap();
    // One closing per badge the issuer will award.
    let mut closings = Vec::new();
    for i in 0..1_500 {
        let closing = create_closing(
            store,
            NewClosing {
                closer_id: person.id,
                mentor_id: mentor.id,
                mentor_cc_at: "2026-10-01T09:30:00Z".parse().unwrap(),
                mentor_cc_ref: None,
                partner_name: format!("Partner {i}"),
                partner_url: None,
                partner_city: None,
                partner_country: None,
                stages: Default::default(),
                closed_on: NaiveDate::from_ymd_opt(2026, 10, 2).unwrap(),
                summary: "Done.".into(),
                partner_fit: None,
            },
        )
        .await
        .unwrap();
        closings.push(closing.id);
    }

    // The service keeps issuing: ids are recorded only after their commit returned.
    let committed: Arc<Mutex<Vec<Uuid>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let issuer = {
        let (state, committed, stop) = (live.clone(), committed.clone(), stop.clone());
        let person = person.id;
        tokio::spawn(async move {
            for closing in closings {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let req = IssueRequest {
                    achievement: "partnership-closed".into(),
                    person_id: person,
                    closing_id: Some(closing),
                    valid_until: None,
                    notify: None,
                };
                let issued = issue(&state, req, None).await.expect("issue");
                committed.lock().unwrap().push(issued.record.id);
            }
        })
    };
    let count = || committed.lock().unwrap().len();
    while count() < 100 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    // Back up until one backup provably overlapped issuance (a commit landed between its
    // start and its end); each must hold everything committed before it started.
    let mut overlapped = None;
    for attempt in 0..20 {
        let before: Vec<Uuid> = committed.lock().unwrap().clone();
        let dest = dir.path().join(format!("backup-{attempt}.db"));
        let done = backup::backup(&db_url, &dest).await.unwrap();
        let after = count();
        assert!(done.credentials as usize >= before.len());
        assert!(done.credentials as usize <= after);
        if after > before.len() {
            overlapped = Some((dest, before, after));
            break;
        }
    }
    stop.store(true, Ordering::SeqCst);
    issuer.await.unwrap();
    let (dest, before, after) = overlapped.expect("no backup overlapped issuance");
    eprintln!(
        "backup overlapped issuance: {} committed before it, {after} by its end",
        before.len()
    );
    assert!(!dest.with_extension("db-wal").exists());

    // A backup never overwrites.
    let err = backup::backup(&db_url, &dest).await.unwrap_err();
    assert!(format!("{err:#}").contains("already exists"), "{err:#}");

    let copy = state_on(&dest).await;
    let in_backup = check_copy(&copy, &before).await;
    assert!(in_backup >= before.len() && in_backup <= after);
    copy.store.close().await;

    // Restore into a new path: the same credentials, all verifying.
    let restored_path = dir.path().join("restored/badges.db");
    let restored_url = format!("sqlite://{}", restored_path.display());
    let done = backup::restore(&dest, &restored_url).await.unwrap();
    assert_eq!(done.credentials as usize, in_backup);
    assert!(done.replaced.is_none());
    let restored = state_on(&restored_path).await;
    assert_eq!(check_copy(&restored, &before).await, in_backup);

    // Restoring over a database in use is refused (the restored state still holds it).
    let err = backup::restore(&dest, &restored_url).await.unwrap_err();
    assert!(format!("{err:#}").contains("is in use"), "{err:#}");
    restored.store.close().await;
    // So is restoring over the live service database.
    let err = backup::restore(&dest, &db_url).await.unwrap_err();
    assert!(format!("{err:#}").contains("is in use"), "{err:#}");

    // Over an unused database: the old one is kept aside, stale -wal/-shm removed.
    let wal = restored_path.with_file_name("badges.db-wal");
    let shm = restored_path.with_file_name("badges.db-shm");
    std::fs::write(&wal, b"stale junk that must never be replayed").unwrap();
    std::fs::write(&shm, b"stale").unwrap();
    let done = backup::restore(&dest, &restored_url).await.unwrap();
    let kept = done.replaced.expect("the replaced database is kept");
    assert!(kept.exists(), "{}", kept.display());
    assert!(!wal.exists() && !shm.exists());
    let restored = state_on(&restored_path).await;
    assert_eq!(check_copy(&restored, &before).await, in_backup);
    restored.store.close().await;
    live.store.close().await;
}

#[tokio::test]
async fn restore_refuses_what_is_not_our_database() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let target = format!("sqlite://{}/target.db", d.display());

    let junk = d.join("junk.db");
    std::fs::write(&junk, vec![7u8; 8192]).unwrap();
    let err = backup::restore(&junk, &target).await.unwrap_err();
    assert!(
        format!("{err:#}").contains("not a SQLite database"),
        "{err:#}"
    );

    // A SQLite database, but not ours.
    let foreign = d.join("foreign.db");
    {
        let url = format!("sqlite://{}?mode=rwc", foreign.display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query("create table notes (body text)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    let err = backup::restore(&foreign, &target).await.unwrap_err();
    assert!(
        format!("{err:#}").contains("no _sqlx_migrations"),
        "{err:#}"
    );

    let missing = d.join("missing.db");
    let err = backup::restore(&missing, &target).await.unwrap_err();
    assert!(format!("{err:#}").contains("does not exist"), "{err:#}");
    assert!(!d.join("target.db").exists(), "nothing was written");

    // PostgreSQL: pointed to pg_dump / pg_restore.
    let err = backup::backup("postgres://localhost/badges", &d.join("x.db"))
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("pg_dump"), "{err:#}");
}

/// The real binary: `backup` then `restore`; `backup` on PostgreSQL exits non-zero.
#[test]
fn binary_backup_and_restore() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |db: &str, args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_partnership-badges"))
            .args(args)
            .env("DATABASE_URL", db)
            .env_remove("CONFIG_FILE")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let live = format!("sqlite://{}/live.db", d.display());
    let (ok, out) = run(&live, &["migrate"]);
    assert!(ok, "{out}");
    let copy = d.join("copy.db");
    let (ok, out) = run(&live, &["backup", copy.to_str().unwrap()]);
    assert!(ok && out.contains("backed up 0 credentials"), "{out}");
    let other = format!("sqlite://{}/other.db", d.display());
    let (ok, out) = run(&other, &["restore", copy.to_str().unwrap()]);
    assert!(ok && out.contains("restored 0 credentials"), "{out}");
    assert!(d.join("other.db").exists());
    let (ok, out) = run(
        "postgres://nobody@127.0.0.1:1/none",
        &["backup", d.join("pg.db").to_str().unwrap()],
    );
    assert!(!ok && out.contains("pg_dump"), "{out}");
}
