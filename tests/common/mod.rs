//! Test harness: the application on SQLite (a temp file) and on PostgreSQL (a fresh
//! schema per test in `TEST_DATABASE_URL`), driven in-process with `oneshot`.
//!
//! PostgreSQL tests are skipped with a printed reason when no server answers, except
//! under `CI=true`, where an unreachable server fails the test loudly.
#![allow(dead_code)]

pub mod console;
pub mod process;
pub mod smtp;
pub mod wallet;

use std::str::FromStr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt as _;
use partnership_badges::cli::Cli;
use partnership_badges::db::postgres::PgStore;
use partnership_badges::db::sqlite::SqliteStore;
use partnership_badges::db::Store;
use partnership_badges::issuer::Issuer;
use partnership_badges::keys::KeyRing;
use partnership_badges::AppState;
use serde_json::{json, Value};
use sqlx::postgres::PgConnectOptions;
use tower::ServiceExt as _;

/// Base URL every test instance issues under.
pub const BASE: &str = "http://badges.test";

/// A database under test, with raw access for counting rows.
pub enum Db {
    /// SQLite in a temp dir.
    Sqlite(SqliteStore, tempfile::TempDir),
    /// PostgreSQL in its own schema.
    Postgres(PgStore, String),
    /// Another `TestApp`'s database (a second instance on the same store); that app owns
    /// and cleans it up.
    Shared,
}

/// One application instance under test.
pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub token: String,
    pub db: Db,
}

/// A response, decoded.
pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Res {
    /// The problem+json `detail`.
    pub fn detail(&self) -> &str {
        self.body["detail"].as_str().unwrap_or("")
    }

    /// Asserts a problem+json error with this status whose detail mentions `needle`.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, needle: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(
            self.headers.get(header::CONTENT_TYPE).unwrap(),
            "application/problem+json",
            "body: {}",
            self.text
        );
        assert!(
            self.detail().contains(needle),
            "detail {:?} should mention {needle:?}",
            self.detail()
        );
    }
}

fn settings(base: &str, extra: &[&str]) -> partnership_badges::config::Settings {
    use clap::Parser as _;
    // Mail written as files (no SMTP_URL) lands under the test target directory, not in
    // the checkout's data/outbox.
    let outbox = concat!(env!("CARGO_TARGET_TMPDIR"), "/outbox");
    let default_outbox = (!extra.contains(&"--outbox-dir")).then_some(["--outbox-dir", outbox]);
    let args = ["partnership-badges", "--public-base-url", base]
        .into_iter()
        .chain(default_outbox.into_iter().flatten())
        .chain(extra.iter().copied());
    Cli::try_parse_from(args)
        .expect("test settings parse")
        .settings
}

/// A fixed test key (never used outside tests).
pub fn test_keys() -> KeyRing {
    KeyRing::single(
        "key-test",
        ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]),
    )
}

impl TestApp {
    /// The app over a store that is already open (and migrated).
    pub async fn from_store(store: Arc<dyn Store>, db: Db, base: &str) -> TestApp {
        Self::from_store_with(store, db, base, &[]).await
    }

    /// [`Self::from_store`] with extra command-line settings.
    pub async fn from_store_with(
        store: Arc<dyn Store>,
        db: Db,
        base: &str,
        extra: &[&str],
    ) -> TestApp {
        // Quiet unless asked: TEST_LOG=1 shows the service's logs.
        if std::env::var_os("TEST_LOG").is_some() {
            partnership_badges::telemetry::init("text");
        }
        let settings = settings(base, extra);
        let issuer = Issuer::new(&settings, test_keys());
        let state = AppState::new(store.clone(), issuer, settings);
        let token = make_token(&*store, "test-admin", "admin", None)
            .await
            .secret;
        let router = partnership_badges::app(state.clone());
        TestApp {
            state,
            router,
            token,
            db,
        }
    }

    /// The app on a fresh SQLite file.
    pub async fn sqlite_with_base(base: &str) -> TestApp {
        Self::sqlite_with_args(base, &[]).await
    }

    /// The app on a fresh SQLite file, with extra command-line settings.
    pub async fn sqlite_with_args(base: &str, extra: &[&str]) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/badges.db", dir.path().display());
        let store = SqliteStore::connect(&url, "normal").await.expect("sqlite");
        let db = Db::Sqlite(store.clone(), dir);
        Self::from_store_with(Arc::new(store), db, base, extra).await
    }

    /// The app on a fresh PostgreSQL schema, or `None` (printed) when no server answers
    /// outside CI.
    pub async fn postgres_with_base(base: &str) -> Option<TestApp> {
        Self::postgres_with_args(base, &[]).await
    }

    /// The app on a fresh PostgreSQL schema, with extra command-line settings.
    pub async fn postgres_with_args(base: &str, extra: &[&str]) -> Option<TestApp> {
        let store = pg_store().await?;
        let schema = store.1.clone();
        let db = Db::Postgres(store.0.clone(), schema);
        Some(Self::from_store_with(Arc::new(store.0), db, base, extra).await)
    }

    /// Sends a request; `body` is sent as JSON.
    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Res {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        self.send(req).await
    }

    /// Sends a prepared request. In-process requests have no connection, so no peer
    /// address: the per-client limits put them all under one key (see [`Self::send_from`]).
    pub async fn send(&self, req: Request<Body>) -> Res {
        Self::decode(self.router.clone().oneshot(req).await.unwrap()).await
    }

    /// Sends a prepared request as if it came over a connection from `peer`.
    pub async fn send_from(&self, peer: std::net::SocketAddr, req: Request<Body>) -> Res {
        let router = self
            .router
            .clone()
            .layer(axum::extract::connect_info::MockConnectInfo(peer));
        Self::decode(router.oneshot(req).await.unwrap()).await
    }

    async fn decode(res: axum::response::Response) -> Res {
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Res {
            status,
            headers,
            body,
            text,
        }
    }

    /// An authenticated GET.
    pub async fn get(&self, uri: &str) -> Res {
        self.call(Method::GET, uri, None, Some(&self.token)).await
    }

    /// An authenticated POST of JSON.
    pub async fn post(&self, uri: &str, body: Value) -> Res {
        self.call(Method::POST, uri, Some(body), Some(&self.token))
            .await
    }

    /// Rows in a table.
    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("select count(*) from {table}");
        match &self.db {
            Db::Sqlite(s, _) => sqlx::query_scalar(&sql).fetch_one(s.pool()).await.unwrap(),
            Db::Postgres(s, _) => sqlx::query_scalar(&sql).fetch_one(s.pool()).await.unwrap(),
            Db::Shared => panic!("count() on a shared instance: ask the owning TestApp"),
        }
    }

    /// Runs SQL (test setup such as backdating a row).
    pub async fn exec(&self, sql: &str) {
        match &self.db {
            Db::Sqlite(s, _) => {
                sqlx::query(sql).execute(s.pool()).await.unwrap();
            }
            Db::Postgres(s, _) => {
                sqlx::query(sql).execute(s.pool()).await.unwrap();
            }
            Db::Shared => panic!("exec() on a shared instance: ask the owning TestApp"),
        }
    }

    /// Drops the PostgreSQL schema.
    pub async fn cleanup(self) {
        if let Db::Postgres(store, schema) = &self.db {
            let _ = sqlx::query(&format!("drop schema if exists {schema} cascade"))
                .execute(store.pool())
                .await;
            store.pool().close().await;
        }
    }

    // ---- domain helpers ----

    /// Creates a mentor; returns its id.
    pub async fn mentor(&self, name: &str, email: &str) -> String {
        let r = self
            .post("/api/v1/mentors", json!({"name": name, "email": email}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body["id"].as_str().unwrap().to_owned()
    }

    /// Creates a person; returns its id.
    pub async fn person(&self, name: &str, email: &str) -> String {
        let r = self
            .post(
                "/api/v1/people",
                json!({"name": name, "email": email, "city": "Lyon", "country": "France",
                       "listed_in_registry": true, "consent_source": "signed form"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body["id"].as_str().unwrap().to_owned()
    }

    /// A valid closing body.
    pub fn closing_body(closer: &str, mentor: &str) -> Value {
        json!({
            "closer_id": closer, "mentor_id": mentor,
            "mentor_cc_at": "2026-10-01T09:30:00Z", "mentor_cc_ref": "<msg-1@example.org>",
            "partner_name": "Lyon Makers Library", "partner_url": "https://makers.example.org",
            "partner_city": "Lyon", "partner_country": "France",
            "stages": {"lead": "2026-06-01", "conversation": "2026-06-15", "shaping": "2026-07-01",
                       "work": "2026-08-01", "transition": "2026-09-20"},
            "closed_on": "2026-10-02",
            "summary": "Ran six maker nights with the library; the library now hosts them monthly."
        })
    }

    /// Creates a closing; returns its id.
    pub async fn closing(&self, closer: &str, mentor: &str) -> String {
        let r = self
            .post("/api/v1/closings", Self::closing_body(closer, mentor))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body["id"].as_str().unwrap().to_owned()
    }

    /// Issues a badge; returns the response.
    pub async fn issue(&self, achievement: &str, person: &str, closing: Option<&str>) -> Res {
        let mut body = json!({"achievement": achievement, "person_id": person});
        if let Some(c) = closing {
            body["closing_id"] = json!(c);
        }
        self.post("/api/v1/credentials", body).await
    }

    /// A person with a closing and a Partnership Closed badge: (person, closing, credential id).
    pub async fn closed_person(&self, email: &str) -> (String, String, String) {
        let mentor = self.mentor("Maya Mentor", &format!("mentor.{email}")).await;
        let person = self.person("Ada Closer", email).await;
        let closing = self.closing(&person, &mentor).await;
        let r = self
            .issue("partnership-closed", &person, Some(&closing))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        (person, closing, r.body["id"].as_str().unwrap().to_owned())
    }
}

/// Creates a token with these scopes (`issue,read`) and expiry, as `token create` does.
pub async fn make_token(
    store: &dyn Store,
    name: &str,
    scopes: &str,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
) -> partnership_badges::tokens::Created {
    partnership_badges::tokens::create(
        store,
        partnership_badges::tokens::NewToken {
            name: name.to_owned(),
            scopes: partnership_badges::tokens::Scopes::parse_list(scopes).expect("scopes"),
            expires_at,
        },
    )
    .await
    .expect("token")
}

/// The PostgreSQL server for tests, from `TEST_DATABASE_URL`.
pub fn pg_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// True under CI, where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A pool on the `TEST_DATABASE_URL` server; `None` (with a printed reason) when it is not
/// reachable outside CI, a panic in CI.
pub async fn pg_admin() -> Option<sqlx::PgPool> {
    let url = pg_url();
    match sqlx::PgPool::connect(&url).await {
        Ok(p) => Some(p),
        Err(e) => {
            if in_ci() {
                panic!("CI: PostgreSQL at {url} is unreachable: {e}");
            }
            eprintln!("SKIPPED: PostgreSQL at {url} is unreachable ({e}); set TEST_DATABASE_URL");
            None
        }
    }
}

/// A store on a fresh schema; `None` (with a printed reason) when PostgreSQL is not
/// reachable outside CI.
pub async fn pg_store() -> Option<(PgStore, String)> {
    let url = pg_url();
    let admin = pg_admin().await?;
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("create schema {schema}"))
        .execute(&admin)
        .await
        .expect("create schema");
    admin.close().await;
    let opts = PgConnectOptions::from_str(&url)
        .unwrap()
        .options([("search_path", schema.as_str())]);
    let store = PgStore::connect_with(opts).await.expect("pg store");
    Some((store, schema))
}

/// Runs an async test body on SQLite and on PostgreSQL: `both_backends!(name, body_fn)`
/// defines `name::sqlite` and `name::postgres`.
/// `both_backends!(name, body_fn, ["--flag", "value"])` runs it with extra settings.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:path) => {
        $crate::both_backends!($name, $body, []);
    };
    ($name:ident, $body:path, [$($arg:expr),* $(,)?]) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let app = $crate::common::TestApp::sqlite_with_args(
                    $crate::common::BASE,
                    &[$($arg),*],
                )
                .await;
                $body(&app).await;
                app.cleanup().await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(app) = $crate::common::TestApp::postgres_with_args(
                    $crate::common::BASE,
                    &[$($arg),*],
                )
                .await
                else {
                    return;
                };
                $body(&app).await;
                app.cleanup().await;
            }
        }
    };
}

// ---- page helpers (tests/pages.rs, tests/browser.rs) ----

/// What Firefox sends when a person opens a link.
pub const BROWSER_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

impl TestApp {
    /// An unauthenticated GET with this `Accept` (and a browser `User-Agent` when `browser`).
    pub async fn get_as(&self, uri: &str, accept: Option<&str>, browser: bool) -> Res {
        let mut req = Request::builder().method(Method::GET).uri(uri);
        if let Some(a) = accept {
            req = req.header(header::ACCEPT, a);
        }
        if browser {
            req = req.header(
                header::USER_AGENT,
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            );
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// A page as a browser asks for it.
    pub async fn page(&self, uri: &str) -> Res {
        self.get_as(uri, Some(BROWSER_ACCEPT), true).await
    }

    /// An unauthenticated GET; the raw body bytes (images).
    pub async fn get_bytes(&self, uri: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
        let req = Request::get(uri).body(Body::empty()).unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, headers, bytes.to_vec())
    }

    /// Creates a person with this name and registry consent; returns its id.
    pub async fn person_with(&self, name: &str, email: &str, listed: bool) -> String {
        let r = self
            .post(
                "/api/v1/people",
                json!({"name": name, "email": email, "listed_in_registry": listed,
                       "consent_source": listed.then_some("signed form")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body["id"].as_str().unwrap().to_owned()
    }

    /// A Partnership Closed badge for a new person (`name`, consent `listed`) whose closing
    /// has this `summary`: (person, closing, credential id).
    pub async fn closed_badge_for(
        &self,
        name: &str,
        email: &str,
        listed: bool,
        summary: &str,
    ) -> (String, String, String) {
        let mentor = self.mentor("Maya Mentor", &format!("mentor.{email}")).await;
        let person = self.person_with(name, email, listed).await;
        let mut body = Self::closing_body(&person, &mentor);
        body["summary"] = json!(summary);
        let r = self.post("/api/v1/closings", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let closing = r.body["id"].as_str().unwrap().to_owned();
        let r = self
            .issue("partnership-closed", &person, Some(&closing))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        (person, closing, r.body["id"].as_str().unwrap().to_owned())
    }

    /// Expires a credential by moving its `valid_until` into the past (the signed document
    /// is untouched; status is judged from the record).
    pub async fn expire(&self, credential_id: &str) {
        // Each backend's own stored form (SQLite keeps RFC 3339 text with an offset).
        let past = match &self.db {
            Db::Sqlite(..) => "'2026-01-02T00:00:00+00:00'",
            Db::Postgres(..) => "'2026-01-02T00:00:00Z'",
            Db::Shared => panic!("expire() on a shared instance: ask the owning TestApp"),
        };
        self.exec(&format!(
            "update credentials set valid_until = {past} where id = '{credential_id}'"
        ))
        .await;
    }
}

// ---- raw bodies (POST /verify, images) ----

impl TestApp {
    /// Sends `body` with `Content-Type: content_type` (none if empty), unauthenticated.
    pub async fn post_bytes(&self, uri: &str, content_type: &str, body: Vec<u8>) -> Res {
        let mut req = Request::builder().method(Method::POST).uri(uri);
        if !content_type.is_empty() {
            req = req.header(header::CONTENT_TYPE, content_type);
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }
}

/// A `multipart/form-data` body of `(name, file name, bytes)` parts; returns the content
/// type (with its boundary) and the body.
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----partnership-badges-test-boundary";
    let mut body = Vec::new();
    for (name, file, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

// ---- registry helpers (tests/registry.rs, tests/registry_browser.rs) ----

impl TestApp {
    /// A person with a valid Partnership Closed and Partnership Certified:
    /// (person id, certified credential id).
    pub async fn certified_person(
        &self,
        name: &str,
        country: &str,
        listed: bool,
    ) -> (String, String) {
        let n = uuid::Uuid::new_v4().simple().to_string();
        let mentor = self
            .mentor("Maya Mentor", &format!("mentor.{n}@example.org"))
            .await;
        let r = self
            .post(
                "/api/v1/people",
                json!({"name": name, "email": format!("p.{n}@example.org"), "city": "Lyon",
                       "country": country, "listed_in_registry": listed,
                       "consent_source": listed.then_some("signed form")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let person = r.body["id"].as_str().unwrap().to_owned();
        let closing = self.closing(&person, &mentor).await;
        let r = self
            .issue("partnership-closed", &person, Some(&closing))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let r = self.issue("partnership-certified", &person, None).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        (person, r.body["id"].as_str().unwrap().to_owned())
    }

    /// An unauthenticated GET with extra headers.
    pub async fn public_get(&self, uri: &str, headers: &[(&str, &str)]) -> Res {
        let mut req = Request::builder().method(Method::GET).uri(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// A time as the backend stores it, for SQL literals in `exec`.
    pub fn sql_time(&self, t: chrono::DateTime<chrono::Utc>) -> String {
        t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
    }
}

// ---- external tools for the interop and browser tests ----

/// Debian's Chromium, or `CHROMIUM_PATH`.
pub fn chromium_path() -> String {
    std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

/// `tests/<folder>` of this repository.
pub fn tests_dir(folder: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(folder)
}

/// Node is installed and `tests/<folder>`'s npm packages are too (`npm ci` on first use,
/// checked by the presence of `probe` under node_modules); `false` (printed) when Node is
/// missing outside CI, a failure under CI.
pub fn node_packages_ready(folder: &str, probe: &str) -> bool {
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(!in_ci(), "CI: node is not installed");
        eprintln!("SKIPPED: node is not installed; tests/{folder} needs Node.js 20+");
        return false;
    }
    let dir = tests_dir(folder);
    // One install at a time: two tests of a binary running `npm ci` in one folder at once
    // tear down each other's node_modules.
    static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = INSTALLING.lock().unwrap_or_else(|e| e.into_inner());
    if !dir.join("node_modules").join(probe).exists() {
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .status()
            .expect("run npm ci");
        assert!(status.success(), "npm ci in tests/{folder} failed");
    }
    true
}

/// Chromium, Node and playwright-core are there for a browser test; `false` (printed) when
/// one is missing outside CI, a failure under CI.
pub fn browser_ready() -> bool {
    let chromium = chromium_path();
    if !std::path::Path::new(&chromium).exists() {
        assert!(!in_ci(), "CI: {chromium} is not installed");
        eprintln!(
            "SKIPPED: {chromium} not found; install Debian's chromium (apt-get install chromium)"
        );
        return false;
    }
    node_packages_ready("browser", "playwright-core")
}

// ---- the service on a real port (for external verifiers and browsers) ----

/// A running server for tests that need real HTTP: stop it with [`Served::shutdown`].
pub struct Served {
    /// `http://127.0.0.1:PORT`, also the app's public base URL.
    pub base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    /// Stops the server gracefully and waits for it.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        self.server.await.unwrap().unwrap();
    }
}

/// Binds a loopback port, builds the app with that base URL via `make` (which may skip by
/// returning `None`), and serves it.
pub async fn serve_on_port(
    make: impl AsyncFnOnce(&str) -> Option<TestApp>,
) -> Option<(TestApp, Served)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = make(&base).await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(partnership_badges::serve(
        listener,
        app.state.clone(),
        async {
            let _ = stopped.await;
        },
    ));
    Some((app, Served { base, stop, server }))
}
