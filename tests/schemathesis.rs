//! The service against its own contract: [schemathesis] fetches `GET /openapi.json` from the
//! service on a real port (SQLite, seeded records, an admin token) and sends generated
//! requests to every operation, valid and invalid, failing on any answer that is a 5xx or
//! that breaks the document (status code, content type, body schema, headers, auth).
//!
//! `tests/schemathesis/hooks.py` adds the seeded ids to the document as examples, so real
//! records are checked too, not only the 404s random ids get.
//!
//! Schemathesis may create and revoke tokens: it is given a spare token's id to revoke, and
//! it reuses ids it sees in answers (`GET /api/v1/tokens` lists them all). It authenticates
//! with an admin token of its own, and `hooks.py` replaces that one id, should it ever be
//! sent to `POST /api/v1/tokens/{id}/revoke`, by the nil UUID (a 404): the only case left
//! out. After the run the test checks that token is still active, so a run that locked
//! itself out and saw only 401s would fail rather than pass on nothing.
//!
//! Schemathesis lives in a Python 3.11 venv at `target/schemathesis-venv`, pinned by
//! `tests/schemathesis/requirements.txt`; `.ci/run` creates it, and this test creates it on
//! first use. Outside CI a missing Python skips with a printed reason; under `CI=true` it
//! fails.
//!
//! [schemathesis]: https://schemathesis.readthedocs.io

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::{make_token, TestApp};
use partnership_badges::tokens;
use serde_json::{json, Value};

/// The pinned version (`tests/schemathesis/requirements.txt`).
const VERSION: &str = "4.32.5";

/// What every answer is checked for: no 5xx; status, media type, body and headers as
/// documented; the admin operations refuse requests without the token; a method the document
/// does not list on a path is a 405 with `Allow`. (`positive_data_acceptance` and
/// `negative_data_rejection` are left out: program rules reject schema-valid bodies with 422,
/// empty query values count as absent, and a batch answers a bad row inside a 200.)
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance,response_headers_conformance,ignored_auth,\
                      unsupported_method,missing_required_header,allow_header_conformance";

/// Test cases per operation and phase: enough to find shape bugs, small enough that the run
/// takes well under two minutes on a debug build.
const MAX_EXAMPLES: &str = "100";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn venv() -> PathBuf {
    root().join("target/schemathesis-venv")
}

/// The venv's schemathesis answers with the pinned version.
fn installed() -> bool {
    Command::new(venv().join("bin/schemathesis"))
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains(VERSION))
}

/// Makes sure the venv exists with the pinned schemathesis (creating it on first use);
/// `false` (printed) when Python 3.11 is missing outside CI.
fn schemathesis_ready() -> bool {
    if installed() {
        return true;
    }
    let python = std::env::var("SCHEMATHESIS_PYTHON").unwrap_or_else(|_| "python3.11".into());
    if Command::new(&python).arg("--version").output().is_err() {
        assert!(!common::in_ci(), "CI: {python} is not installed");
        eprintln!("SKIPPED: {python} is not installed; the contract test needs Python 3.11");
        return false;
    }
    let ok = Command::new(&python)
        .args(["-m", "venv"])
        .arg(venv())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "creating the venv at {} failed", venv().display());
    let ok = Command::new(venv().join("bin/pip"))
        .args(["install", "-q", "-r"])
        .arg(root().join("tests/schemathesis/requirements.txt"))
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        // Locally this is most often a machine without the package index at hand.
        assert!(!common::in_ci(), "CI: installing schemathesis failed");
        eprintln!("SKIPPED: installing tests/schemathesis/requirements.txt failed");
        return false;
    }
    assert!(installed(), "schemathesis {VERSION} is not in the venv");
    true
}

/// The last path segment of a URL.
fn last_segment(url: &str) -> String {
    url.rsplit('/').next().unwrap_or_default().to_owned()
}

/// Seeds records through the admin API and returns the examples overlay for `hooks.py`.
async fn seed(app: &TestApp, base: &str) -> Value {
    // The token schemathesis may revoke (never its own, see the module docs).
    let spare = make_token(&*app.state.store, "spare-to-revoke", "read", None)
        .await
        .token
        .id;

    let mentor = app.mentor("Maya Mentor", "maya@example.org").await;
    let person = app.person("Ada Closer", "ada@example.org").await;
    let closing = app.closing(&person, &mentor).await;
    let r = app
        .issue("partnership-closed", &person, Some(&closing))
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let closed = r.body["id"].as_str().unwrap().to_owned();
    let list = last_segment(r.body["status_list"].as_str().unwrap());
    let document = r.body["credential"].clone();
    let r = app.issue("partnership-certified", &person, None).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let certified = r.body["id"].as_str().unwrap().to_owned();

    // A second person: a revoked badge, and a closing with no badge yet to issue for.
    let other = app.person("Grace Closer", "grace@example.org").await;
    let revoked_closing = app.closing(&other, &mentor).await;
    let r = app
        .issue("partnership-closed", &other, Some(&revoked_closing))
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let revoked = r.body["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &format!("/api/v1/credentials/{revoked}/revoke"),
            json!({"reason": "entered in error"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let open_closing = app.closing(&other, &mentor).await;

    // A holder signed in, as the emailed link would leave them: the session cookie and the
    // sign-in form's CSRF cookie go in a header of every request (`holder_cookie`), and the
    // forms' bodies carry the matching tokens.
    let holder_id = app.person("Hedy Holder", "hedy@example.org").await;
    let session = partnership_badges::holder::new_token();
    let now = partnership_badges::program::now();
    app.state
        .store
        .insert_session(
            &partnership_badges::holder::token_hash(&session),
            holder_id.parse().unwrap(),
            now,
            now + chrono::Duration::days(1),
        )
        .await
        .unwrap();
    let login_csrf = partnership_badges::holder::new_token();
    let form_csrf = partnership_badges::holder::csrf_token(&session);
    // A badge of the holder's, for "Add to wallet"; a wallet exchange of another badge.
    let holder_closing = app.closing(&holder_id, &mentor).await;
    let r = app
        .issue("partnership-closed", &holder_id, Some(&holder_closing))
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let holder_badge = r.body["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &format!("/api/v1/credentials/{closed}/exchanges"),
            json!({}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let exchange_token = r.body["exchange_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();

    let slugs = json!({"slug": ["partnership-closed", "partnership-certified"]});
    let credentials = json!({"id": [closed, certified, revoked]});
    json!({
        "holder_cookie": format!("pb_holder={session}; pb_login_csrf={login_csrf}"),
        "parameters": {
            "/api/v1/mentors/{id}": {"id": [mentor]},
            "/api/v1/people/{id}": {"id": [person]},
            "/api/v1/closings/{id}": {"id": [closing]},
            "/api/v1/credentials": {"person": [person]},
            "/api/v1/credentials/{id}": credentials,
            "/api/v1/credentials/{id}/revoke": {"id": [revoked]},
            "/api/v1/tokens/{id}/revoke": {"id": [spare]},
            "/api/v1/audit": {
                "token": ["test-admin"],
                "action": ["POST /api/v1/credentials/{id}/revoke"],
            },
            "/issuer/keys/{kid}": {"kid": ["key-test"]},
            "/achievements/{slug}": slugs,
            "/achievements/{slug}/image.png": slugs,
            "/achievements/{slug}/image.svg": slugs,
            "/credentials/{id}": credentials,
            "/credentials/{id}/credential.json": credentials,
            "/credentials/{id}/badge.png": credentials,
            "/credentials/{id}/badge.svg": credentials,
            "/closings/{id}": {"id": [closing]},
            "/status/{list}": {"list": [list]},
            "/status/did-web/{list}": {"list": [list]},
            "/api/v1/credentials/{id}/exchanges": credentials,
            "/exchanges/{token}": {"token": [exchange_token]},
            "/exchanges/{token}/request": {"token": [exchange_token]},
            "/assets/{name}": {"name": ["style.css", "badge.js", "partnership-closed.svg"]},
            "/ob2/badges/{slug}": slugs,
            "/ob2/badges/{slug}/image.png": slugs,
            "/ob2/assertions/{id}": credentials,
            "/ob2/assertions/{id}/badge.png": credentials,
        },
        "bodies": {
            "POST /api/v1/mentors": {"application/json": [
                {"name": "Lin Mentor", "email": "lin@example.org", "url": "https://lin.example.org"},
            ]},
            "POST /api/v1/people": {"application/json": [
                {"name": "Alan Closer", "email": "alan@example.org", "city": "Paris",
                 "country": "France", "listed_in_registry": true, "consent_source": "signed form"},
            ]},
            "PATCH /api/v1/people/{id}": {"application/json": [
                {"city": "Lyon", "url": null},
            ]},
            "PATCH /api/v1/closings/{id}": {"application/json": [
                {"partner_fit": {
                    "depth": {"locations_and_audiences": {"score": 3},
                              "organisational_structures": {"score": 2, "note": "a board"},
                              "localisation": {"score": 1}},
                    "spread": {"growth_and_leadership": {"score": 2}, "size": {"score": 0},
                               "new_access": {"score": 3}},
                    "participation": {"shares_values": {"score": 3},
                                      "participates_in_community": {"score": 1},
                                      "reputation": {"score": 2}},
                }},
                {"partner_fit": null},
            ]},
            "POST /api/v1/closings": {"application/json": [
                TestApp::closing_body(&other, &mentor),
            ]},
            "POST /api/v1/credentials": {"application/json": [
                {"achievement": "partnership-closed", "person_id": other,
                 "closing_id": open_closing},
            ]},
            "POST /api/v1/credentials/batch": {"application/json": [
                {"items": [
                    {"achievement": "partnership-certified", "person_id": person},
                    {"achievement": "partnership-closed", "person_id": other,
                     "closing_id": open_closing, "idempotency_key": "batch-row-1"},
                ]},
            ]},
            "POST /api/v1/credentials/{id}/revoke": {"application/json": [
                {"reason": "entered in error"},
            ]},
            "POST /me/consent": {"application/x-www-form-urlencoded": [
                {"choice": "give", "csrf": form_csrf},
                {"choice": "withdraw", "csrf": form_csrf},
            ]},
            "POST /me/wallet": {"application/x-www-form-urlencoded": [
                {"credential": holder_badge, "csrf": form_csrf},
                {"credential": holder_badge, "csrf": form_csrf, "mode": "request"},
            ]},
            "POST /exchanges/{token}": {"application/json": [{}]},
            "POST /me/login": {"application/x-www-form-urlencoded": [
                {"email": "hedy@example.org", "csrf": login_csrf},
            ]},
            "POST /api/v1/tokens": {"application/json": [
                {"name": "registry-reader", "scopes": ["read"], "expires_in": "90d"},
                {"name": "issuing-desk", "scopes": ["issue", "revoke"],
                 "expires_at": "2099-01-01T00:00:00Z"},
            ]},
            "POST /verify": {"application/json": [
                document,
                {"url": format!("{base}/credentials/{closed}")},
            ]},
        },
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_keeps_its_openapi_contract() {
    if !schemathesis_ready() {
        return;
    }
    // Thousands of generated requests from one address, many with bad tokens: the per-client
    // limits (tests/limits.rs) would soon answer everything 429, so they are off here.
    let unlimited = ["--verify-rate-per-minute", "0", "--auth-failure-limit", "0"];
    let Some((app, served)) = common::serve_on_port(async |base: &str| {
        Some(TestApp::sqlite_with_args(base, &unlimited).await)
    })
    .await
    else {
        return;
    };
    let base = served.base.clone();
    let mut overlay = seed(&app, &base).await;
    // Its own admin token, which it must not revoke (see the module docs); the test's token
    // (`app.token`, used to seed) may be revoked like any other.
    let own = make_token(&*app.state.store, "schemathesis", "admin", None).await;
    // Nor erase the people the other examples name.
    let erasable: Vec<Value> = overlay["parameters"]["/api/v1/people/{id}"]["id"]
        .as_array()
        .unwrap()
        .iter()
        .map(
            |id| json!({"operation": "DELETE /api/v1/people/{id}", "parameter": "id", "value": id}),
        )
        .collect();
    let mut protected = vec![json!({
        "operation": "POST /api/v1/tokens/{id}/revoke",
        "parameter": "id",
        "value": own.token.id,
    })];
    protected.extend(erasable);
    overlay["protected"] = Value::Array(protected);
    let holder_cookie = overlay["holder_cookie"].as_str().unwrap().to_owned();
    let work = tempfile::tempdir().unwrap();
    let seeded = work.path().join("seeded.json");
    std::fs::write(&seeded, overlay.to_string()).unwrap();

    let seed = std::env::var("SCHEMATHESIS_SEED").unwrap_or_else(|_| "20261126".into());
    let args = [
        "run".to_owned(),
        format!("{base}/openapi.json"),
        "--header".into(),
        format!("Authorization: Bearer {}", own.secret),
        "--header".into(),
        format!("Cookie: {holder_cookie}"),
        // Signing out would end the one holder session every other `/me` operation runs
        // in (as revoking its own token would end its admin access); tests/holder.rs and
        // tests/holder_browser.rs test it.
        "--exclude-path".into(),
        "/me/sign-out".into(),
        "--checks".into(),
        CHECKS.into(),
        "--phases".into(),
        "examples,coverage,fuzzing".into(),
        "--max-examples".into(),
        MAX_EXAMPLES.into(),
        "--seed".into(),
        seed,
        // One worker: with two, CPython 3.11's `ast.parse` (which hypothesis calls to describe
        // its filters) can fail with "AST constructor recursion depth mismatch" when threads
        // interleave (python/cpython#106905), failing the run on no fault of the service.
        "--workers".into(),
        "1".into(),
        "--request-timeout".into(),
        "20".into(),
        "--generation-database".into(),
        "none".into(),
        "--no-color".into(),
    ];
    // Printed so a failure can be reproduced by hand (the token is a throwaway).
    eprintln!("schemathesis {}", args.join(" "));
    let started = Instant::now();
    let out = tokio::process::Command::new(venv().join("bin/schemathesis"))
        .args(&args)
        .current_dir(work.path())
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .env("PYTHONPATH", root().join("tests/schemathesis"))
        .env("SCHEMATHESIS_SEEDED", &seeded)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .await
        .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!(
        "schemathesis ran {:.1}s, exit {:?}\n{stdout}\n{stderr}",
        started.elapsed().as_secs_f64(),
        out.status.code()
    );
    assert!(
        out.status.success(),
        "schemathesis found answers that break the contract (see above)"
    );
    // Its warning that an operation answered nothing but 401/403: that operation was not
    // really tested.
    assert!(
        !stdout.contains("returned only 401/403"),
        "an operation refused every request schemathesis made (see above)"
    );
    // Every operation was tested (a run that tested nothing exits 0 too).
    let doc = app.get("/openapi.json").await.body;
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().keys())
        .filter(|k| ["get", "post", "put", "patch", "delete", "options"].contains(&k.as_str()))
        .count();
    assert!(operations > 40, "{operations} operations in the document");
    // Every operation but `GET /openapi.json` (the document it loaded) and the excluded
    // `POST /me/sign-out`.
    assert!(
        stdout.contains(&format!("Tested: {}\n", operations - 2)),
        "schemathesis did not test all {operations} operations"
    );

    // Its token worked to the end, and the examples reached the token routes' successes.
    let tokens = app.state.store.list_tokens().await.unwrap();
    let status = |name: &str| {
        let t = tokens
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no token {name}"));
        tokens::usable_at(t, partnership_badges::program::now())
    };
    assert_eq!(
        status("schemathesis"),
        Ok(()),
        "schemathesis revoked its own token"
    );
    assert_eq!(status("spare-to-revoke"), Err("token has been revoked"));
    // (Created by the examples phase; schemathesis may have revoked it since.)
    assert!(
        tokens.iter().any(|t| t.name == "registry-reader"),
        "POST /api/v1/tokens never succeeded"
    );

    served.shutdown().await;
    app.cleanup().await;
}
