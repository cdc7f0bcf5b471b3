//! Operating the service: metrics after a walkthrough, readiness, request ids, the settings
//! file and `config check`, and graceful shutdown under load (the real binary, SIGTERM).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::TestApp;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_partnership-badges");

fn metric(text: &str, name: &str, labels: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name) && l.contains(labels))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

async fn metrics_after_walkthrough(app: &TestApp) {
    let (person, _, closed) = app.closed_person("ada@example.org").await;
    let r = app.issue("partnership-certified", &person, None).await;
    assert_eq!(r.status, StatusCode::CREATED);
    app.post(
        &format!("/api/v1/credentials/{closed}/revoke"),
        json!({"reason": "test"}),
    )
    .await;
    app.get("/api/v1/credentials/not-a-uuid").await;
    let doc = app
        .get(&format!("/credentials/{}", r.body["id"].as_str().unwrap()))
        .await
        .body;
    let report = partnership_badges::verify::verify_with_state(&app.state, &doc).await;
    assert!(report.verified, "{report:?}");

    let r = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let m = &r.text;
    let p = "partnership_badges_";
    assert_eq!(
        metric(
            m,
            &format!("{p}credentials_issued_total"),
            "partnership-closed"
        ),
        1.0
    );
    assert_eq!(
        metric(
            m,
            &format!("{p}credentials_issued_total"),
            "partnership-certified"
        ),
        1.0
    );
    assert_eq!(
        metric(
            m,
            &format!("{p}credentials_revoked_total"),
            "partnership-closed"
        ),
        1.0
    );
    assert_eq!(
        metric(
            m,
            &format!("{p}http_requests_total"),
            r#"method="POST",route="/api/v1/credentials",status="201""#
        ),
        2.0
    );
    assert_eq!(
        metric(
            m,
            &format!("{p}http_requests_total"),
            r#"route="/api/v1/credentials/{id}",status="404""#
        ),
        1.0
    );
    assert!(metric(m, &format!("{p}signing_duration_seconds_count"), "fast") >= 2.0);
    assert_eq!(
        metric(
            m,
            &format!("{p}verifications_total"),
            r#"result="verified""#
        ),
        1.0
    );
    assert!(m.contains(&format!("{p}http_request_duration_seconds_bucket")));
    // Route templates only: no ids or emails become label values.
    assert!(!m.contains(&closed) && !m.contains("example.org"));
}
both_backends!(
    metrics_count_a_walkthrough,
    crate::metrics_after_walkthrough
);

async fn readiness_and_request_ids(app: &TestApp) {
    let r = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "ready");
    let id = r.headers["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID request id: {id}");

    // A client's own id is not taken as ours: the answer carries a fresh one.
    let req = Request::get("/healthz")
        .header("x-request-id", "trace-me-42")
        .body(Body::empty())
        .unwrap();
    let r = app.send(req).await;
    let ours = r.headers["x-request-id"].to_str().unwrap();
    assert_ne!(ours, "trace-me-42");
    assert!(uuid::Uuid::try_parse(ours).is_ok(), "{ours}");
    assert_ne!(ours, id);

    // With the database gone, readiness fails and liveness still answers.
    app.state.store.close().await;
    let r = app.call(Method::GET, "/readyz", None, None).await;
    r.assert_problem(503, "database");
    let r = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
}
both_backends!(
    readiness_follows_the_database,
    crate::readiness_and_request_ids
);

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(dir);
    for var in [
        "DATABASE_URL",
        "BIND_ADDR",
        "PUBLIC_BASE_URL",
        "KEYS_DIR",
        "CONFIG_FILE",
        "ISSUER_NAME",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    let out = cmd.output().expect("run binary");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn settings_file_precedence_and_config_check() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("badges.toml"),
        "issuer_name = \"From File\"\nbind = \"127.0.0.1:9999\"\ndatabase_url = \"postgres://app:s3cret@db/badges\"\n",
    )
    .unwrap();
    // File values apply; the password never appears.
    let (ok, out, err) = run(
        dir.path(),
        &["--config", "badges.toml", "config", "check"],
        &[],
    );
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("From File") && out.contains("127.0.0.1:9999"),
        "{out}"
    );
    assert!(
        out.contains("app:***@db") && !out.contains("s3cret"),
        "{out}"
    );
    // Environment beats the file; a flag beats both.
    let (ok, out, _) = run(
        dir.path(),
        &["--config", "badges.toml", "config", "check"],
        &[("ISSUER_NAME", "From Env")],
    );
    assert!(
        ok && out.contains("From Env") && !out.contains("From File"),
        "{out}"
    );
    let (ok, out, _) = run(
        dir.path(),
        &[
            "--config",
            "badges.toml",
            "--issuer-name",
            "From Flag",
            "config",
            "check",
        ],
        &[("ISSUER_NAME", "From Env")],
    );
    assert!(ok && out.contains("From Flag"), "{out}");
    // Bad values fail clearly, naming the setting.
    let (ok, _, err) = run(
        dir.path(),
        &["config", "check"],
        &[
            ("PUBLIC_BASE_URL", "ftp://x"),
            ("DATABASE_URL", "mysql://x"),
        ],
    );
    assert!(!ok);
    assert!(
        err.contains("public_base_url") && err.contains("database_url"),
        "{err}"
    );
    std::fs::write(dir.path().join("bad.toml"), "colour = \"red\"\n").unwrap();
    let (ok, _, err) = run(
        dir.path(),
        &["--config", "bad.toml", "config", "check"],
        &[],
    );
    assert!(!ok && err.contains("unknown setting \"colour\""), "{err}");
    let (ok, _, err) = run(dir.path(), &["--bind", "nowhere", "config", "check"], &[]);
    assert!(!ok && err.contains("--bind"), "{err}");
}

/// `token create`: the first token defaults to admin, later ones must name their scopes;
/// scopes and expiry are kept; `token list` shows them and never a secret.
#[test]
fn token_command_scopes_and_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/badges.db", dir.path().display());
    let env = [("DATABASE_URL", db.as_str())];
    let (ok, out, err) = run(dir.path(), &["token", "create", "--name", "first"], &env);
    assert!(ok, "{err}");
    assert!(out.contains("scopes admin"), "{out}");
    let first = out.lines().last().unwrap().to_owned();
    assert!(first.starts_with("pb_") && first.len() == 63, "{first}");

    let (ok, _, err) = run(dir.path(), &["token", "create", "--name", "second"], &env);
    assert!(!ok && err.contains("--scope"), "{err}");
    let (ok, out, err) = run(
        dir.path(),
        &[
            "token",
            "create",
            "--name",
            "second",
            "--scope",
            "issue,read",
            "--expires-in",
            "90d",
        ],
        &env,
    );
    assert!(ok, "{err}");
    assert!(out.contains("scopes issue,read, expires "), "{out}");
    let second = out.lines().last().unwrap().to_owned();
    for bad in [
        vec!["--scope", "write"],
        vec!["--scope", "read", "--expires-in", "90"],
        vec!["--scope", "read", "--expires-at", "2001-01-01T00:00:00Z"],
        vec![
            "--scope",
            "read",
            "--expires-in",
            "1d",
            "--expires-at",
            "2100-01-01T00:00:00Z",
        ],
    ] {
        let mut args = vec!["token", "create", "--name", "third"];
        args.extend(bad.iter().copied());
        let (ok, _, err) = run(dir.path(), &args, &env);
        assert!(!ok, "{bad:?} should fail: {err}");
    }
    let (ok, _, err) = run(
        dir.path(),
        &["token", "create", "--name", "second", "--scope", "read"],
        &env,
    );
    assert!(!ok && err.contains("already exists"), "{err}");

    let (ok, _, err) = run(dir.path(), &["token", "revoke", "--name", "first"], &env);
    assert!(ok, "{err}");
    let (ok, out, err) = run(dir.path(), &["token", "list"], &env);
    assert!(ok, "{err}");
    let line = |name: &str| {
        out.lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap_or_else(|| panic!("{name} in {out}"))
            .to_owned()
    };
    assert!(
        line("first").contains("admin") && line("first").contains("revoked"),
        "{out}"
    );
    let second_line = line("second");
    assert!(
        second_line.contains("issue,read") && second_line.contains("active"),
        "{out}"
    );
    assert!(!second_line.contains("never"), "{out}");
    assert!(
        !out.contains(&first[20..]) && !out.contains(&second[20..]),
        "{out}"
    );
    // With the only admin token revoked, the next token may default to admin again.
    let (ok, out, err) = run(dir.path(), &["token", "create", "--name", "again"], &env);
    assert!(ok && out.contains("scopes admin"), "{out}{err}");
}

/// SIGTERM during a burst of batch issuances: every request the server accepted is
/// answered in full, and the database holds exactly the badges those answers report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_requests() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::process::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let db = format!("sqlite://{}/badges.db", dir.path().display());
    let env = [
        ("DATABASE_URL", db.as_str()),
        ("BIND_ADDR", &format!("127.0.0.1:{port}")),
        ("PUBLIC_BASE_URL", base.as_str()),
        ("KEYS_DIR", "keys"),
        ("RUST_LOG", "warn"),
    ];
    let (ok, out, err) = run(dir.path(), &["token", "create", "--name", "t"], &env);
    assert!(ok, "{err}");
    let token = out.lines().last().unwrap().to_owned();
    let mut server = Command::new(BIN)
        .current_dir(dir.path())
        .envs(env.iter().copied())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0) // a fresh connection per request: no idle-socket races
        .build()
        .unwrap();
    let mut up = false;
    for _ in 0..600 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the server did not start within 30 s");
    let post = |path: &str, body: Value| {
        client
            .post(format!("{base}{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let mentor: Value = post(
        "/api/v1/mentors",
        json!({"name": "M", "email": "m@example.org"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    // Unequal batches, each issued row by row: when the smallest is answered, the largest
    // still has dozens of rows (each its own commit) to go.
    const SIZES: [usize; 6] = [5, 10, 20, 30, 40, 45];
    let mut batches = Vec::new();
    for (b, size) in SIZES.into_iter().enumerate() {
        let mut items = Vec::new();
        for i in 0..size {
            let person: Value = post(
                "/api/v1/people",
                json!({"name": "P", "email": format!("p{b}-{i}@example.org"), "listed_in_registry": false}),
            )
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
            let mut c = TestApp::closing_body(
                person["id"].as_str().unwrap(),
                mentor["id"].as_str().unwrap(),
            );
            c["partner_name"] = json!(format!("Partner {b}-{i}"));
            let closing: Value = post("/api/v1/closings", c)
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            items.push(
                json!({"achievement": "partnership-closed", "person_id": person["id"],
                              "closing_id": closing["id"]}),
            );
        }
        batches.push(json!({"items": items}));
    }

    // Fire every batch at once; as soon as the first is answered (all were accepted by
    // then), SIGTERM the server.
    let (answered, mut first_answer) = tokio::sync::mpsc::unbounded_channel();
    let tasks: Vec<_> = batches
        .into_iter()
        .map(|body| {
            let req = post("/api/v1/credentials/batch", body);
            let answered = answered.clone();
            tokio::spawn(async move {
                let res = req.await;
                let _ = answered.send(());
                (res, std::time::Instant::now())
            })
        })
        .collect();
    first_answer.recv().await.unwrap();
    let pid = server.id().to_string();
    let sent_term = std::time::Instant::now();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());

    let mut created = 0;
    let mut finished_after_term = 0;
    for t in tasks {
        let (res, at) = t.await.unwrap();
        let res = res.expect("an accepted request must be answered, not cut off");
        assert_eq!(res.status(), 200, "an accepted batch must complete");
        let body: Value = res
            .json()
            .await
            .expect("a complete body, not a cut-off one");
        created += body["created"].as_i64().unwrap();
        if at > sent_term {
            finished_after_term += 1;
        }
    }
    assert!(
        finished_after_term >= 1,
        "at least one batch must still have been in flight when SIGTERM arrived"
    );
    assert_eq!(
        created,
        SIZES.iter().sum::<usize>() as i64,
        "every row of every accepted batch was issued"
    );
    // New connections are refused once shutdown began.
    let late = client.get(format!("{base}/healthz")).send().await;
    assert!(late.is_err(), "the listener must be closed after SIGTERM");
    let status = server.wait().unwrap();
    assert!(status.success(), "clean exit after SIGTERM: {status:?}");

    // The database holds exactly what the answers reported.
    let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
    let stored: i64 = sqlx::query_scalar("select count(*) from credentials")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, created);
}

/// An operator raising the log level to chase a problem must not thereby collect secrets or
/// personal data: the real binary at `RUST_LOG=trace` (every crate, the most anyone can ask
/// for) through a full walkthrough over HTTP logs no token, no token hash, no signing key in
/// any encoding derived from the key file, and no email address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_at_trace_hold_no_secrets_or_emails() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let port = common::process::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let db = format!("sqlite://{}/badges.db", dir.path().display());
    let emails = [
        "issuer.office@issuer.example",
        "maya.mentor@mentors.example",
        "ada.closer@people.example",
    ];
    let env = [
        ("DATABASE_URL", db.as_str()),
        ("BIND_ADDR", &format!("127.0.0.1:{port}")),
        ("PUBLIC_BASE_URL", base.as_str()),
        ("KEYS_DIR", "keys"),
        ("ISSUER_EMAIL", emails[0]),
        ("RUST_LOG", "trace"),
        ("LOG_FORMAT", "text"),
    ];
    let mut logs = String::new();
    let (ok, out, err) = run(dir.path(), &["token", "create", "--name", "ops"], &env);
    assert!(ok, "{err}");
    let token = out.lines().last().unwrap().to_owned();
    // The command prints the token on purpose, alone on its last line; the rest is log.
    logs.push_str(&out[..out.len() - token.len() - 1]);
    logs.push_str(&err);

    let log_path = dir.path().join("server.log");
    let log_file = std::fs::File::create(&log_path).unwrap();
    let mut server = Command::new(BIN)
        .current_dir(dir.path())
        .envs(env.iter().copied())
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..600 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the server did not start within 30 s");

    let admin = |method: reqwest::Method, path: &str| {
        client
            .request(method, format!("{base}/api/v1{path}"))
            .bearer_auth(&token)
    };
    let created = |r: reqwest::Response| async move {
        assert!(r.status().is_success(), "{}", r.status());
        r.json::<Value>().await.unwrap()
    };
    let mentor = created(
        admin(reqwest::Method::POST, "/mentors")
            .json(&json!({"name": "Maya Mentor", "email": emails[1]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let person = created(
        admin(reqwest::Method::POST, "/people")
            .json(
                &json!({"name": "Ada Closer", "email": emails[2], "city": "Lyon",
                          "country": "France", "listed_in_registry": true, "consent_source": "signed form"}),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    let person_id = person["id"].as_str().unwrap();
    let closing = created(
        admin(reqwest::Method::POST, "/closings")
            .json(&TestApp::closing_body(
                person_id,
                mentor["id"].as_str().unwrap(),
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let closed = created(
        admin(reqwest::Method::POST, "/credentials")
            .header("Idempotency-Key", "closed-1")
            .json(
                &json!({"achievement": "partnership-closed", "person_id": person_id,
                          "closing_id": closing["id"]}),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    let certified = created(
        admin(reqwest::Method::POST, "/credentials")
            .json(&json!({"achievement": "partnership-certified", "person_id": person_id}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let closed_id = closed["id"].as_str().unwrap();
    let certified_id = certified["id"].as_str().unwrap();
    created(
        admin(
            reqwest::Method::POST,
            &format!("/credentials/{certified_id}/revoke"),
        )
        .json(&json!({"reason": "entered in error"}))
        .send()
        .await
        .unwrap(),
    )
    .await;
    // Reads, including the person's record (with the email) and an error or two.
    for path in [
        format!("/people/{person_id}"),
        format!("/credentials/{closed_id}"),
        "/credentials?status=revoked&limit=5".to_owned(),
        "/people/not-a-uuid".to_owned(),
    ] {
        admin(reqwest::Method::GET, &path).send().await.unwrap();
    }
    let guessed = "pb_00000000000000cc_CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC";
    let r = client
        .get(format!("{base}/api/v1/people/{person_id}"))
        .bearer_auth(guessed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Verification of the signed document, and of junk.
    let doc: Value = client
        .get(format!("{base}/credentials/{closed_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let report: Value = client
        .post(format!("{base}/verify"))
        .json(&doc)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["verified"], true, "{report}");
    let r = client
        .post(format!("{base}/verify"))
        .header("content-type", "application/json")
        .body(format!("{{\"email\": \"{}\"", emails[2]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Pages people see.
    for path in [
        format!("/credentials/{closed_id}"),
        format!("/closings/{}", closing["id"].as_str().unwrap()),
        "/registry".to_owned(),
        "/registry.json".to_owned(),
        "/issuer".to_owned(),
    ] {
        let r = client
            .get(format!("{base}{path}"))
            .header("accept", "text/html")
            .header("user-agent", "Mozilla/5.0")
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }

    assert!(Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap()
        .success());
    assert!(server.wait().unwrap().success());
    logs.push_str(&std::fs::read_to_string(&log_path).unwrap());

    // The level was really raised: requests, SQL statements and connections are all there.
    for sign in [
        "route=\"/api/v1/people\"",
        "route=\"/verify\"",
        "status=401",
        "sqlx::query",
        "TRACE axum::serve",
    ] {
        assert!(logs.contains(sign), "the logs lack {sign:?}");
    }

    // Everything secret, in every encoding a leak could take.
    let Some(partnership_badges::tokens::Presented::Current { secret, .. }) =
        partnership_badges::tokens::parse(&token)
    else {
        panic!("a new token has a public id and a secret: {token}");
    };
    let mut secrets = vec![
        ("token", token.clone()),
        ("token secret", secret.to_owned()),
        ("guessed token", guessed.to_owned()),
        ("token hash", partnership_badges::tokens::sha256_hex(secret)),
    ];
    let key_files: Vec<_> = std::fs::read_dir(dir.path().join("keys"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "key"))
        .collect();
    assert!(!key_files.is_empty(), "the server generated a key");
    for path in key_files {
        let hex_seed = std::fs::read_to_string(&path).unwrap().trim().to_owned();
        let seed: [u8; 32] = hex::decode(&hex_seed).unwrap().try_into().unwrap();
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let keypair = key.to_keypair_bytes();
        let mut multikey = vec![0x80, 0x26];
        multikey.extend_from_slice(&seed);
        let b64 = base64::engine::general_purpose::STANDARD;
        let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        secrets.extend([
            ("seed hex", hex_seed.to_lowercase()),
            ("seed HEX", hex_seed.to_uppercase()),
            ("seed base64", b64.encode(seed)),
            ("seed base64url", b64url.encode(seed)),
            ("seed base58", bs58::encode(seed).into_string()),
            ("seed bytes", format!("{seed:?}")),
            ("keypair hex", hex::encode(keypair)),
            ("keypair base64", b64.encode(keypair)),
            ("keypair base58", bs58::encode(keypair).into_string()),
            (
                "Multikey secret",
                format!("z{}", bs58::encode(&multikey).into_string()),
            ),
        ]);
    }
    for (what, secret) in &secrets {
        // Base64 of the same bytes may start at another offset in a longer string; a long
        // enough piece is as damning as the whole.
        let needle = &secret[..secret.len().min(24)];
        assert!(!logs.contains(needle), "the logs leak the {what}");
    }
    for email in emails {
        assert!(!logs.contains(email), "the logs leak {email}");
        let local = email.split('@').next().unwrap();
        assert!(
            !logs.contains(local),
            "the logs leak {email} (its local part)"
        );
    }
}
