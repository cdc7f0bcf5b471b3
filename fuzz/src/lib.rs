//! What the fuzz targets share: one offline service, built once per fuzzing process.
//!
//! The service state is the one `POST /verify` runs on: the test suite's base URL and key
//! (so the committed seed credentials verify in full and mutations reach every check), the
//! bundled JSON-LD contexts (no network exists), and a real SQLite store in memory for the
//! status-list and credential-URL lookups.
#![forbid(unsafe_code)]

use std::sync::{Arc, Mutex, OnceLock};

use clap::Parser as _;
use partnership_badges::cli::Cli;
use partnership_badges::credential::jsonld::JsonLdProcessor;
use partnership_badges::db::sqlite::SqliteStore;
use partnership_badges::db::Store as _;
use partnership_badges::error::AppError;
use partnership_badges::issuer::Issuer;
use partnership_badges::keys::KeyRing;
use partnership_badges::program::STATUS_LIST_SIZE;
use partnership_badges::verify::{Check, Report};
use partnership_badges::AppState;

/// Base URL of the seed credentials (`tests/common/mod.rs`, `BASE`).
pub const BASE: &str = "http://badges.test";
/// Seed of the test suite's signing key `key-test` (`tests/common/mod.rs`, `test_keys`).
const TEST_KEY_SEED: [u8; 32] = [7; 32];

/// The service state and the runtime its async code runs on.
pub struct Offline {
    /// Runs the async verification code, one input at a time.
    pub runtime: tokio::runtime::Runtime,
    /// The state `POST /verify` would use.
    pub state: AppState,
    /// A connection held for the life of the process: an in-memory SQLite database lives
    /// while one connection to it is open, so the pool can never drop the data.
    _database: Mutex<Box<dyn std::any::Any + Send>>,
}

/// The shared offline service, created on first use.
pub fn offline() -> &'static Offline {
    static OFFLINE: OnceLock<Offline> = OnceLock::new();
    OFFLINE.get_or_init(|| {
        // `enable_all` for the pool's timers; the blocking pool runs the verification itself,
        // as in the service.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let settings = Cli::try_parse_from([
            "partnership-badges",
            "--public-base-url",
            BASE,
            "--database-url",
            "sqlite::memory:",
        ])
        .expect("settings parse")
        .settings;
        let (state, database) = runtime.block_on(async {
            let store = SqliteStore::connect("sqlite::memory:", "normal")
                .await
                .expect("in-memory SQLite store");
            let database = store.pool().acquire().await.expect("a connection");
            // Status list 1, the seeds' list, exists and has no revocations.
            store
                .reserve_status_block(64, STATUS_LIST_SIZE)
                .await
                .expect("a status block");
            let keys = KeyRing::single(
                "key-test",
                ed25519_dalek::SigningKey::from_bytes(&TEST_KEY_SEED),
            );
            let issuer = Issuer::new(&settings, keys);
            let state = AppState::new(Arc::new(store), issuer, settings);
            (state, database)
        });
        Offline {
            runtime,
            state,
            _database: Mutex::new(Box::new(database)),
        }
    })
}

/// Panics unless `error` is a client error: input that is not a credential must be a 4xx,
/// never a 5xx (the project's error rule).
pub fn assert_client_error(error: &AppError) {
    assert!(
        error.status().is_client_error(),
        "bad input answered {}: {error}",
        error.status()
    );
}

/// Panics if `report` contradicts itself: `verified` must mean structure, proof, issuer and
/// validity all passed and status did not fail, and a failed check must say why.
pub fn assert_consistent(report: &Report) {
    let c = &report.checks;
    let all_passed = [c.structure, c.proof, c.issuer, c.validity]
        .iter()
        .all(|check| *check == Check::Passed);
    assert_eq!(
        report.verified,
        all_passed && c.status != Check::Failed,
        "verified disagrees with the checks: {report:?}"
    );
    if report.verified {
        assert!(report.errors.is_empty(), "verified with errors: {report:?}");
    } else {
        assert!(
            !report.errors.is_empty(),
            "failed without a reason: {report:?}"
        );
    }
}

/// The JSON-LD processor alone (bundled contexts processed once), for the targets that need
/// no store.
pub fn jsonld() -> &'static JsonLdProcessor {
    static JSONLD: OnceLock<JsonLdProcessor> = OnceLock::new();
    JSONLD.get_or_init(JsonLdProcessor::new)
}
