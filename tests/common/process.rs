//! The service as a real process: the service binary on a fresh database (SQLite file or a
//! PostgreSQL database of its own), started, killed and restarted by tests that must see
//! what a crash or a second instance really does.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use super::pg_url;

/// The service binary for process tests: the release build (what operators run) when it
/// is newer than every source file and than the debug build, else the test's own debug
/// build (the same code; CI uses it, to keep its run short), with a printed note.
pub fn service_binary() -> PathBuf {
    let debug = PathBuf::from(env!("CARGO_BIN_EXE_partnership-badges"));
    let release = debug
        .parent()
        .and_then(Path::parent)
        .map(|target| target.join("release").join("partnership-badges"))
        .expect("the binary lives in <target>/<profile>/");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let newest_source = ["src", "migrations", "Cargo.lock"]
        .iter()
        .map(|p| newest_mtime(&root.join(p)))
        .max()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    // Also no older than the debug binary cargo just built for this test run: a release
    // build still running while the sources changed would otherwise pass for current.
    let debug_built = newest_mtime(&debug);
    let current = std::fs::metadata(&release)
        .and_then(|m| m.modified())
        .is_ok_and(|built| built >= newest_source && built >= debug_built);
    if current {
        return release;
    }
    eprintln!(
        "NOTE: no current release binary ({}); using the debug build. \
         Run `cargo build --release` to test what operators run.",
        release.display()
    );
    debug
}

fn newest_mtime(path: &Path) -> SystemTime {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(_) => return SystemTime::UNIX_EPOCH,
    };
    let own = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    if !meta.is_dir() {
        return own;
    }
    std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| newest_mtime(&e.path()))
        .fold(own, SystemTime::max)
}

/// A free loopback port.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A fresh, empty database for one test, dropped afterwards.
pub struct TempDb {
    /// `DATABASE_URL` for the service.
    pub url: String,
    /// Keeps a SQLite file's directory alive.
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL: the server URL to drop the database from, and its name.
    pg: Option<(String, String)>,
}

impl TempDb {
    /// A SQLite file in a temp dir.
    pub fn sqlite() -> TempDb {
        let dir = tempfile::tempdir().unwrap();
        TempDb {
            url: format!("sqlite://{}/badges.db", dir.path().display()),
            _dir: Some(dir),
            pg: None,
        }
    }

    /// A new PostgreSQL database on the `TEST_DATABASE_URL` server; `None` with a printed
    /// reason when no server answers outside CI (in CI, a panic).
    pub async fn postgres() -> Option<TempDb> {
        let admin_url = pg_url();
        let admin = super::pg_admin().await?;
        let name = format!("pb_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("create database {name}"))
            .execute(&admin)
            .await
            .expect("create database");
        admin.close().await;
        let mut url = reqwest::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        Some(TempDb {
            url: url.to_string(),
            _dir: None,
            pg: Some((admin_url, name)),
        })
    }

    /// Drops a PostgreSQL database (SQLite's directory goes with the value).
    pub async fn drop_db(self) {
        if let Some((admin_url, name)) = &self.pg {
            let admin = sqlx::PgPool::connect(admin_url).await.unwrap();
            sqlx::query(&format!("drop database if exists {name} with (force)"))
                .execute(&admin)
                .await
                .unwrap();
            admin.close().await;
        }
    }
}

/// One running service process.
pub struct Service {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

/// How to start service processes that share one database and one keys directory.
pub struct Deployment {
    /// The binary.
    pub bin: PathBuf,
    /// Working directory (holds `keys/`).
    pub dir: tempfile::TempDir,
    /// The shared database.
    pub db: TempDb,
}

impl Deployment {
    /// A deployment of the current service binary on `db`.
    pub fn new(db: TempDb) -> Deployment {
        Deployment {
            bin: service_binary(),
            dir: tempfile::tempdir().unwrap(),
            db,
        }
    }

    fn env(&self, port: u16) -> Vec<(String, String)> {
        vec![
            ("DATABASE_URL".into(), self.db.url.clone()),
            ("BIND_ADDR".into(), format!("127.0.0.1:{port}")),
            ("PUBLIC_BASE_URL".into(), format!("http://127.0.0.1:{port}")),
            ("KEYS_DIR".into(), "keys".into()),
            ("RUST_LOG".into(), "warn".into()),
            // One test client stands in for a crowd of verifiers: no per-client limit on
            // POST /verify (tests/limits.rs tests it).
            ("VERIFY_RATE_PER_MINUTE".into(), "0".into()),
        ]
    }

    /// Runs a CLI command of the service (e.g. `token create`); returns its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(&self.bin)
            .args(args)
            .current_dir(self.dir.path())
            .envs(self.env(0))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Starts an instance on `port` and waits until it answers `/healthz`. Every instance
    /// publishes under the same base URL (the one a load balancer would front), so the
    /// documents they sign are interchangeable.
    pub async fn start(&self, port: u16, public_port: u16) -> Service {
        self.start_with(port, public_port, &[]).await
    }

    /// [`Deployment::start`] with more settings in the environment (e.g. `SMTP_URL`).
    pub async fn start_with(
        &self,
        port: u16,
        public_port: u16,
        extra_env: &[(&str, &str)],
    ) -> Service {
        let mut env = self.env(port);
        env[2].1 = format!("http://127.0.0.1:{public_port}");
        env.extend(
            extra_env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let child = Command::new(&self.bin)
            .arg("serve")
            .current_dir(self.dir.path())
            .envs(env)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        // Owned at once, so a failed start still kills and reaps it (Drop).
        let service = Service {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        for _ in 0..600 {
            if client
                .get(format!("{}/healthz", service.base))
                .send()
                .await
                .is_ok()
            {
                return service;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the service on {} did not start within 30 s", service.base);
    }
}

impl Service {
    /// `kill -9`: no shutdown, no flush, nothing finished.
    pub fn kill9(mut self) {
        self.child.kill().unwrap(); // SIGKILL on Unix
        self.child.wait().unwrap();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client of one running instance, with an admin token.
#[derive(Clone)]
pub struct Api {
    /// The HTTP client.
    pub client: reqwest::Client,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Bearer token.
    pub token: String,
}

impl Api {
    /// A client of `base` using `token`.
    pub fn new(base: &str, token: &str) -> Api {
        Api {
            client: reqwest::Client::new(),
            base: base.to_owned(),
            token: token.to_owned(),
        }
    }

    /// POSTs JSON (with an Idempotency-Key when given); status and JSON body.
    pub async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
        key: Option<&str>,
    ) -> reqwest::Result<(u16, serde_json::Value)> {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body);
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        let res = req.send().await?;
        let status = res.status().as_u16();
        Ok((status, res.json().await?))
    }

    /// POSTs JSON that must be created (201); the body.
    pub async fn created(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let (status, body) = self.post(path, &body, None).await.unwrap();
        assert_eq!(status, 201, "{path}: {body}");
        body
    }

    /// GETs a JSON document (public or admin); status and body.
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap())
    }

    /// The verification report of a credential document, from this instance's `/verify`.
    pub async fn verify(&self, document: &serde_json::Value) -> serde_json::Value {
        self.client
            .post(format!("{}/verify", self.base))
            .json(document)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// The set bits of a status list credential's `encodedList`.
pub fn status_bits(status_list_credential: &serde_json::Value) -> std::collections::BTreeSet<i64> {
    let encoded = status_list_credential["credentialSubject"]["encodedList"]
        .as_str()
        .expect("a status list credential has an encodedList");
    let bits = partnership_badges::credential::status_list::StatusBitstring::decode(encoded)
        .expect("a decodable encodedList");
    (0..bits.len())
        .filter(|&i| bits.get(i) == Some(true))
        .map(|i| i as i64)
        .collect()
}
