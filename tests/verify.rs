//! `POST /verify` end to end on SQLite and PostgreSQL: every accepted input shape (JSON,
//! baked PNG and SVG, multipart, URLs), every failing check, and hostile input answered
//! quickly with a report or a 4xx, never a 500.

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};

use common::{multipart, TestApp, BASE};
use ed25519_dalek::SigningKey;
use partnership_badges::credential::model::OpenBadgeCredential;
use partnership_badges::credential::{baking, multikey, sign_credential};
use serde_json::{json, Value};

/// The slowest a hostile input may take (debug builds, a loaded CI machine).
const QUICK: Duration = Duration::from_secs(5);

const CLOSED_SVG: &str = include_str!("../src/html/assets/partnership-closed.svg");

async fn verify_json(app: &TestApp, doc: &Value) -> common::Res {
    app.post_bytes("/verify", "application/json", doc.to_string().into_bytes())
        .await
}

#[track_caller]
fn assert_verified(r: &common::Res) {
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(r.body["verified"], true, "{:#}", r.body);
    for check in ["structure", "proof", "issuer", "validity", "status"] {
        assert_eq!(r.body["checks"][check], "passed", "{check}: {:#}", r.body);
    }
    assert_eq!(r.body["errors"], json!([]), "{:#}", r.body);
}

#[track_caller]
fn assert_failed(r: &common::Res, check: &str, needle: &str) {
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(r.body["verified"], false, "{:#}", r.body);
    if !check.is_empty() {
        assert_eq!(r.body["checks"][check], "failed", "{check}: {:#}", r.body);
    }
    let errors = r.body["errors"].to_string();
    assert!(
        errors.contains(needle),
        "errors should mention {needle:?}: {errors}"
    );
}

/// A fresh Partnership Closed credential: (credential id, document).
async fn issued(app: &TestApp, email: &str) -> (String, Value) {
    let (_, _, id) = app.closed_person(email).await;
    let doc = app.get(&format!("/credentials/{id}")).await.body;
    (id, doc)
}

// ---------------------------------------------------------------- credentials

async fn valid_revoked_expired_tampered(app: &TestApp) {
    let (id, doc) = issued(app, "ada@example.org").await;
    for media in [
        "application/json",
        "application/ld+json",
        "application/vc+ld+json",
    ] {
        let r = app
            .post_bytes("/verify", media, doc.to_string().into_bytes())
            .await;
        assert_verified(&r);
        assert_eq!(r.headers["cache-control"], "no-store");
    }

    // Tampered: any signed field.
    let mut tampered = doc.clone();
    tampered["credentialSubject"]["achievement"]["name"] = json!("Partnership Grandmaster");
    assert_failed(&verify_json(app, &tampered).await, "proof", "signature");

    // Expired: our key, our shape, validUntil in the past.
    let mut vc: OpenBadgeCredential = serde_json::from_value(doc.clone()).unwrap();
    vc.valid_from = "2024-01-01T00:00:00Z".into();
    vc.valid_until = Some("2025-01-01T00:00:00Z".into());
    sign_credential(
        &mut vc,
        &SigningKey::from_bytes(&[7u8; 32]),
        &format!("{BASE}/issuer/keys/key-test"),
        "2024-01-01T00:00:00Z",
    )
    .unwrap();
    let r = verify_json(app, &serde_json::to_value(&vc).unwrap()).await;
    assert_failed(&r, "validity", "expired");
    assert_eq!(r.body["checks"]["proof"], "passed", "{:#}", r.body);

    // Revoked: the status list says so.
    let r = app
        .post(
            &format!("/api/v1/credentials/{id}/revoke"),
            json!({"reason": "entered in error"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let r = verify_json(app, &doc).await;
    assert_failed(&r, "status", "revoked");
    assert_eq!(r.body["checks"]["proof"], "passed");
}
both_backends!(
    valid_revoked_expired_tampered_on_both,
    crate::valid_revoked_expired_tampered
);

/// An OB 3.0 credential from a `did:key` issuer, signed by `signer`.
fn did_key_credential(template: &Value, issuer_key: &SigningKey, signer: &SigningKey) -> Value {
    let mut vc: OpenBadgeCredential = serde_json::from_value(template.clone()).unwrap();
    vc.issuer.id = multikey::did_key(&issuer_key.verifying_key());
    vc.id = "urn:uuid:0f4c7a3e-1b2d-4e5f-8a9b-0c1d2e3f4a5b".into();
    vc.credential_status = None;
    vc.proof.clear();
    let vm = multikey::did_key_verification_method(&signer.verifying_key());
    let created = vc.valid_from.clone();
    sign_credential(&mut vc, signer, &vm, &created).unwrap();
    serde_json::to_value(&vc).unwrap()
}

async fn did_key_credentials(app: &TestApp) {
    let (_, doc) = issued(app, "grace@example.org").await;
    let alice = SigningKey::from_bytes(&[41u8; 32]);
    let mallory = SigningKey::from_bytes(&[42u8; 32]);

    // Self-issued by a did:key: verifies, with no status entry to check.
    let r = verify_json(app, &did_key_credential(&doc, &alice, &alice)).await;
    assert_eq!(r.body["verified"], true, "{:#}", r.body);
    assert_eq!(r.body["checks"]["proof"], "passed");
    assert_eq!(r.body["checks"]["issuer"], "passed");
    assert_eq!(r.body["checks"]["status"], "skipped");

    // Claims Alice as issuer, signed by Mallory's key: the key is not the issuer's.
    let r = verify_json(app, &did_key_credential(&doc, &alice, &mallory)).await;
    assert_failed(&r, "issuer", "not a key of issuer");

    // Names Alice's key but carries Mallory's signature: the proof fails.
    let mut forged = did_key_credential(&doc, &alice, &alice);
    let by_mallory = did_key_credential(&doc, &alice, &mallory);
    forged["proof"][0]["proofValue"] = by_mallory["proof"][0]["proofValue"].clone();
    assert_failed(&verify_json(app, &forged).await, "proof", "signature");

    // An https issuer this service does not know: not resolvable here, never fetched.
    let mut foreign = doc.clone();
    foreign["issuer"]["id"] = json!("https://issuer.example/issuer");
    foreign["proof"][0]["verificationMethod"] = json!("https://issuer.example/issuer/keys/1");
    let r = verify_json(app, &foreign).await;
    assert_eq!(r.body["verified"], false, "{:#}", r.body);
    assert_eq!(r.body["checks"]["proof"], "skipped");
    assert!(r.text.contains("issuer not resolvable here"), "{}", r.text);
}
both_backends!(did_key_credentials_on_both, crate::did_key_credentials);

// ---------------------------------------------------------------- images and forms

async fn baked_images(app: &TestApp) {
    let (id, doc) = issued(app, "lin@example.org").await;
    let text = doc.to_string();

    // OB 3.0 baked PNG and SVG, baked here from the stored credential.
    let art = baking::render_png(CLOSED_SVG, 128).unwrap();
    let png = baking::bake_png(&art, baking::PNG_KEYWORD_OB3, &text).unwrap();
    assert_verified(&app.post_bytes("/verify", "image/png", png.clone()).await);
    let svg = baking::bake_svg(CLOSED_SVG, &text).unwrap();
    assert_verified(
        &app.post_bytes("/verify", "image/svg+xml", svg.clone().into_bytes())
            .await,
    );
    // The baked element is known by its namespace, not its prefix: under another prefix it
    // verifies; with `openbadges` bound to another namespace nothing is baked.
    let declaration = format!("xmlns:openbadges=\"{}\"", baking::SVG_NAMESPACE_OB3);
    let prefixed = svg
        .replacen(
            &declaration,
            &format!("xmlns:ob=\"{}\"", baking::SVG_NAMESPACE_OB3),
            1,
        )
        .replace("openbadges:credential", "ob:credential");
    assert_verified(
        &app.post_bytes("/verify", "image/svg+xml", prefixed.into_bytes())
            .await,
    );
    let foreign = svg.replacen(&declaration, "xmlns:openbadges=\"urn:example:other\"", 1);
    app.post_bytes("/verify", "image/svg+xml", foreign.into_bytes())
        .await
        .assert_problem(422, "no baked credential");
    // No media type: sniffed.
    assert_verified(&app.post_bytes("/verify", "", png.clone()).await);
    assert_verified(
        &app.post_bytes(
            "/verify",
            "application/octet-stream",
            svg.clone().into_bytes(),
        )
        .await,
    );

    // The OB 2.0 baked PNG this service serves: hosted verification of its assertion.
    let (status, headers, ob2_png) = app
        .get_bytes(&format!("/ob2/assertions/{id}/badge.png"))
        .await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(headers["content-type"], "image/png");
    let r = app.post_bytes("/verify", "image/png", ob2_png).await;
    assert_verified(&r);
    assert!(
        r.body["warnings"].to_string().contains("Open Badges 2.0"),
        "{:#}",
        r.body
    );

    // Forms: an uploaded file, or a pasted credential.
    let (ct, body) = multipart(&[("file", Some("badge.png"), &png)]);
    assert_verified(&app.post_bytes("/verify", &ct, body).await);
    let (ct, body) = multipart(&[("file", Some("badge.svg"), svg.as_bytes())]);
    assert_verified(&app.post_bytes("/verify", &ct, body).await);
    let (ct, body) = multipart(&[
        ("file", Some(""), b""),
        ("credential", None, text.as_bytes()),
    ]);
    assert_verified(&app.post_bytes("/verify", &ct, body).await);
    let (ct, body) = multipart(&[("credential", None, b"   ")]);
    app.post_bytes("/verify", &ct, body)
        .await
        .assert_problem(422, "nothing to verify");

    // A PNG or SVG with nothing baked in.
    app.post_bytes("/verify", "image/png", art.clone())
        .await
        .assert_problem(422, "no baked credential");
    app.post_bytes("/verify", "image/svg+xml", CLOSED_SVG.as_bytes().to_vec())
        .await
        .assert_problem(422, "no baked credential");
    let (ct, body) = multipart(&[("file", Some("plain.png"), &art)]);
    app.post_bytes("/verify", &ct, body)
        .await
        .assert_problem(422, "no baked credential");
    // A broken PNG, and a file that is no image.
    app.post_bytes("/verify", "image/png", art[..art.len() / 2].to_vec())
        .await
        .assert_problem(422, "unreadable");
    app.post_bytes("/verify", "image/png", b"GIF89a....".to_vec())
        .await
        .assert_problem(422, "not a PNG");
}
both_backends!(baked_images_on_both, crate::baked_images);

// ---------------------------------------------------------------- URLs

async fn urls(app: &TestApp) {
    let (id, _) = issued(app, "kim@example.org").await;
    let url_report = |url: String| async move { app.post("/verify", json!({"url": url})).await };
    assert_verified(&url_report(format!("{BASE}/credentials/{id}")).await);
    let r = url_report(format!("{BASE}/ob2/assertions/{id}")).await;
    assert_verified(&r);
    assert!(r.body["warnings"].to_string().contains("Open Badges 2.0"));

    // Ours, but naming nothing.
    let missing = uuid::Uuid::new_v4();
    url_report(format!("{BASE}/credentials/{missing}"))
        .await
        .assert_problem(422, "no credential is published");
    url_report(format!("{BASE}/issuer"))
        .await
        .assert_problem(422, "not a credential URL of this service");
    url_report("ftp://example.org/x".into())
        .await
        .assert_problem(422, "http(s)");

    // Someone else's: never fetched.
    let r = url_report("https://badges.other.example/credentials/1".into()).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(r.body["verified"], false);
    assert!(r.text.contains("issuer not resolvable here"), "{}", r.text);

    // On the allow-list: still not fetched, and the report says why.
    let mut settings = (*app.state.settings).clone();
    settings.verify_allowed_issuers = vec!["https://badges.other.example".into()];
    let state = app.state.with_settings(settings);
    let req = axum::http::Request::post("/verify")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({"url": "https://badges.other.example/credentials/1"}).to_string(),
        ))
        .unwrap();
    let res = tower::ServiceExt::oneshot(partnership_badges::app(state), req)
        .await
        .unwrap();
    let bytes = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["verified"], false);
    assert!(
        body.to_string().contains("remote fetching is not enabled"),
        "{body}"
    );
}
both_backends!(urls_on_both, crate::urls);

// ---------------------------------------------------------------- bad input

async fn bad_input(app: &TestApp) {
    let (_, doc) = issued(app, "zoe@example.org").await;

    app.post_bytes("/verify", "application/json", b"this is not json".to_vec())
        .await
        .assert_problem(400, "not valid JSON");
    app.post_bytes("/verify", "application/json", b"[1, 2]".to_vec())
        .await
        .assert_problem(422, "expected an object");
    app.post_bytes("/verify", "application/json", b"\"hello\"".to_vec())
        .await
        .assert_problem(422, "expected an object");
    app.post_bytes(
        "/verify",
        "application/json",
        br#"{"hello": "world"}"#.to_vec(),
    )
    .await
    .assert_problem(422, "not a credential");
    app.post_bytes("/verify", "application/json", Vec::new())
        .await
        .assert_problem(422, "empty");
    app.post_bytes("/verify", "text/html", b"<p>hi</p>".to_vec())
        .await
        .assert_problem(415, "cannot verify");
    app.post_bytes("/verify", "", b"plain words".to_vec())
        .await
        .assert_problem(422, "not a credential");

    // JSON with a credential's look but nothing right: a failed report.
    let r = verify_json(app, &json!({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiableCredential"})).await;
    assert_failed(&r, "structure", "OpenBadgeCredential");

    // An OB 2.0 assertion of another issuer: named as such.
    let r = verify_json(
        app,
        &json!({"@context": "https://w3id.org/openbadges/v2", "type": "Assertion",
                "id": "https://other.example/assertions/1"}),
    )
    .await;
    assert_eq!(r.body["verified"], false);
    assert!(r.text.contains("Open Badges 2.0 assertion"), "{}", r.text);

    // A compact JWS (VC-JWT): named as unsupported.
    let r = app
        .post_bytes(
            "/verify",
            "",
            b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln".to_vec(),
        )
        .await;
    assert_eq!(r.body["verified"], false, "{}", r.text);
    assert!(r.text.contains("JWS"), "{}", r.text);

    // 20 MB: refused without reading it, whether or not the length is declared.
    let big = vec![b' '; 20 * 1024 * 1024];
    let t = Instant::now();
    let req = axum::http::Request::post("/verify")
        .header("content-type", "image/png")
        .header("content-length", big.len())
        .body(axum::body::Body::from(big.clone()))
        .unwrap();
    app.send(req).await.assert_problem(413, "larger than");
    app.post_bytes("/verify", "application/json", big.clone())
        .await
        .assert_problem(413, "larger than");
    let (ct, body) = multipart(&[("file", Some("big.png"), &big)]);
    app.post_bytes("/verify", &ct, body)
        .await
        .assert_problem(413, "larger than");
    assert!(t.elapsed() < QUICK, "20 MB uploads took {:?}", t.elapsed());

    // Deep nesting: a 400 naming the limit, before any JSON-LD work, whether far beyond the
    // parser's own recursion limit or one level beyond 64; 64 levels are verified.
    let t = Instant::now();
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    app.post_bytes("/verify", "application/json", deep.into_bytes())
        .await
        .assert_problem(400, "nested too deeply: at most 64 levels");
    fn depth(v: &Value) -> usize {
        match v {
            Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
            Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
            _ => 1,
        }
    }
    let nested_to = |levels: usize| {
        let mut nested = doc.clone();
        let mut inner = json!("leaf");
        while depth(&nested) < levels {
            inner = json!([inner]);
            nested["evidence"][0]["description"] = inner.clone();
        }
        assert_eq!(depth(&nested), levels);
        nested
    };
    let r = verify_json(app, &nested_to(64)).await;
    assert_failed(&r, "proof", "");
    verify_json(app, &nested_to(65))
        .await
        .assert_problem(400, "at most 64 levels");
    assert!(t.elapsed() < QUICK, "deep nesting took {:?}", t.elapsed());

    // Thousands of blank nodes: look-alike evidence entries with no ids.
    let t = Instant::now();
    let mut blanks = doc.clone();
    let entry = json!({"type": ["Evidence"], "name": "same", "narrative": "same"});
    blanks["evidence"] = Value::Array(vec![entry; 5_000]);
    let r = verify_json(app, &blanks).await;
    assert_failed(&r, "proof", "too large to verify");
    assert!(
        t.elapsed() < QUICK,
        "5,000 blank nodes took {:?}",
        t.elapsed()
    );

    // Hundreds of look-alike blank nodes (under that bound) on the general JSON-LD path,
    // which a subject `type` written as one string (not an array) forces: expanded,
    // canonicalised and rejected in time.
    let t = Instant::now();
    let mut general = doc.clone();
    let entry = json!({"type": ["Evidence"], "name": "same", "audience": "x", "genre": "y"});
    general["evidence"] = Value::Array(vec![entry; 300]);
    general["credentialSubject"]["type"] = json!("AchievementSubject");
    let r = verify_json(app, &general).await;
    assert_failed(&r, "proof", "signature");
    assert!(t.elapsed() < QUICK, "general path took {:?}", t.elapsed());

    // An id whose percent-encoded octets are not UTF-8 (found by fuzzing), on the general
    // path (the subject type as a string): the JSON-LD library panicked on it; now a failed
    // proof that says why.
    let mut bad_iri = doc.clone();
    bad_iri["id"] = json!("urn:uuid:0f4c7a3e-1b2d-4e5f-%a9b-0c1d2e3f4a5b");
    bad_iri["credentialSubject"]["type"] = json!("AchievementSubject");
    assert_failed(&verify_json(app, &bad_iri).await, "proof", "not UTF-8");

    // A poison graph: look-alike blank nodes, each linked to all the others (through
    // `endorsement`, a term whose values are nodes), on which
    // N-degree hashing explodes (every ordering of every neighbourhood). The canonicaliser's
    // work limit refuses it, saying so, in a bounded time (the bound is only a hang guard).
    let t = Instant::now();
    let mut poison = doc.clone();
    let n = 30;
    let entries: Vec<Value> = (0..n)
        .map(|k| {
            let others: Vec<Value> = (0..n)
                .filter(|&j| j != k)
                .map(|j| json!({"id": format!("_:e{j}")}))
                .collect();
            json!({"id": format!("_:e{k}"), "type": ["Evidence"],
                   "endorsement": others})
        })
        .collect();
    poison["evidence"] = Value::Array(entries);
    let r = verify_json(app, &poison).await;
    assert_failed(&r, "proof", "too complex to canonicalise");
    assert!(t.elapsed() < QUICK, "poison graph took {:?}", t.elapsed());

    // Huge but shallow: half a million values three levels deep (about 1 MB, well under
    // the body limit). Refused by size before any JSON-LD work.
    let t = Instant::now();
    let mut wide = doc.clone();
    wide["evidence"][0]["tags"] = Value::Array(vec![json!(0); 500_000]);
    let r = verify_json(app, &wide).await;
    assert_failed(&r, "proof", "too large to verify");
    assert!(
        t.elapsed() < QUICK,
        "a wide document took {:?}",
        t.elapsed()
    );
}
both_backends!(bad_input_on_both, crate::bad_input);

// ---------------------------------------------------------------- the verify command

/// `partnership-badges verify FILE` reads baked PNGs and SVGs as well as JSON.
#[tokio::test]
async fn verify_command_reads_baked_images() {
    let app = TestApp::sqlite_with_base(BASE).await;
    let (_, doc) = issued(&app, "cli@example.org").await;
    app.cleanup().await;
    let alice = SigningKey::from_bytes(&[41u8; 32]);
    let vc = did_key_credential(&doc, &alice, &alice).to_string();
    let art = baking::render_png(CLOSED_SVG, 64).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "badge.png",
            baking::bake_png(&art, baking::PNG_KEYWORD_OB3, &vc).unwrap(),
        ),
        (
            "badge.svg",
            baking::bake_svg(CLOSED_SVG, &vc).unwrap().into_bytes(),
        ),
        ("badge.json", vc.clone().into_bytes()),
        ("plain.png", art.clone()),
    ];
    let run = |name: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_partnership-badges"))
            .arg("--database-url")
            .arg(format!("sqlite://{}/cli.db", dir.path().display()))
            .arg("--keys-dir")
            .arg(dir.path().join("keys"))
            .args(["verify"])
            .arg(dir.path().join(name))
            .output()
            .unwrap()
    };
    for (name, bytes) in &files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    for name in ["badge.png", "badge.svg", "badge.json"] {
        let out = run(name);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{name}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("\"verified\": true"), "{name}: {stdout}");
    }
    let out = run("plain.png");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no baked credential"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------- the human form

async fn human_form(app: &TestApp) {
    let req = Request::get("/verify")
        .header(header::ACCEPT, "text/html")
        .body(Body::empty())
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text.contains("<form method=\"post\" action=\"/verify\""),
        "{}",
        r.text
    );
    assert!(r.text.contains("name=\"credential\"") && r.text.contains("name=\"file\""));
    assert!(r.headers.contains_key("content-security-policy"));

    let (_, _, id) = app.closed_person("form@example.org").await;
    let doc = app.get(&format!("/credentials/{id}")).await.text;
    let submit = |credential: String| {
        let (ctype, body) = common::multipart(&[("credential", None, credential.as_bytes())]);
        let req = Request::post("/verify")
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .header(header::CONTENT_TYPE, ctype)
            .body(Body::from(body))
            .unwrap();
        app.send(req)
    };
    let ok = submit(doc.clone()).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(
        ok.text.contains("<h2 id=\"result\">Verified</h2>"),
        "{}",
        ok.text
    );
    let tampered = doc.replace("Partnership Closed", "Partnership Grandmaster");
    let bad = submit(tampered).await;
    assert!(bad.text.contains("Not verified"), "{}", bad.text);
    assert!(bad.text.contains("failed"));
    // Hostile text in a rejected paste is shown escaped, never as markup.
    let hostile = submit("<script>alert(1)</script>".into()).await;
    assert!(
        !hostile.text.contains("<script>alert(1)"),
        "{}",
        hostile.text
    );
}
both_backends!(human_verify_form_reports_in_html, crate::human_form);

// ---------------------------------------------------------------- the fuzz seed corpus

/// The fuzz targets (`fuzz/fuzz_targets/`), each seeded from `fuzz/corpus/<target>/`.
const FUZZ_TARGETS: [&str; 5] = [
    "verify_json",
    "verify_facts",
    "baked_image",
    "fast_path",
    "canonicalize",
];

fn corpus_dir(target: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

/// A tiny artwork, so baked seeds stay small and the fuzzer mutates the baking, not pixels.
const TINY_SVG: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- seed -->\n\
    <svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\"><circle cx=\"8\" cy=\"8\" \
    r=\"7\" fill=\"#0B5C6B\"/></svg>\n";

/// A PNG chunk: length, type, data, CRC.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
    out
}

/// Writes the seeds of every fuzz target from credentials `app` issues: real documents of
/// this service (fast and general proof paths, did:key, OB 2.0, a status list) and baked
/// images, plus malformed variants of each. Run with `UPDATE_FUZZ_CORPUS=1`.
async fn write_fuzz_corpus(app: &TestApp) {
    let (id, doc) = issued(app, "seed@example.org").await;
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let vm = format!("{BASE}/issuer/keys/key-test");
    let text = |v: &Value| serde_json::to_string_pretty(v).unwrap();

    // The same credential on the general JSON-LD path: the type order takes it off the fast
    // path, and `sign_document` signs it there.
    let mut general = doc.clone();
    general.as_object_mut().unwrap().remove("proof");
    general["type"] = json!(["OpenBadgeCredential", "VerifiableCredential"]);
    let created = general["validFrom"].as_str().unwrap().to_owned();
    partnership_badges::credential::sign_document(
        &mut general,
        &key,
        &vm,
        &created,
        &app.state.jsonld,
    )
    .unwrap();
    let alice = SigningKey::from_bytes(&[41u8; 32]);
    let did_key = did_key_credential(&doc, &alice, &alice);
    let mut tampered = doc.clone();
    tampered["credentialSubject"]["achievement"]["name"] = json!("Partnership Grandmaster");
    let mut vc: OpenBadgeCredential = serde_json::from_value(doc.clone()).unwrap();
    vc.valid_from = "2024-01-01T00:00:00Z".into();
    vc.valid_until = Some("2025-01-01T00:00:00Z".into());
    sign_credential(&mut vc, &key, &vm, "2024-01-01T00:00:00Z").unwrap();
    let expired = serde_json::to_value(&vc).unwrap();
    let status_list = app.get("/status/1").await.body;
    let assertion = app.get(&format!("/ob2/assertions/{id}")).await.body;
    assert_eq!(assertion["type"], "Assertion", "{assertion:#}");

    let doc_text = text(&doc);
    let json_seeds: Vec<(&str, Vec<u8>)> = vec![
        ("valid-credential.json", doc_text.clone().into_bytes()),
        ("valid-general-path.json", text(&general).into_bytes()),
        ("valid-did-key.json", text(&did_key).into_bytes()),
        ("tampered.json", text(&tampered).into_bytes()),
        ("expired.json", text(&expired).into_bytes()),
        ("status-list.json", text(&status_list).into_bytes()),
        ("ob2-assertion.json", text(&assertion).into_bytes()),
        (
            "url.json",
            text(&json!({"url": format!("{BASE}/credentials/{id}")})).into_bytes(),
        ),
        (
            "truncated.json",
            doc_text.as_bytes()[..doc_text.len() / 2].to_vec(),
        ),
        (
            "not-a-credential.json",
            br#"{"hello": [1, "world"]}"#.to_vec(),
        ),
    ];

    let compact = doc.to_string();
    let art = baking::render_png(TINY_SVG, 16).unwrap();
    let baked_png = baking::bake_png(&art, baking::PNG_KEYWORD_OB3, &compact).unwrap();
    let baked_svg = baking::bake_svg(TINY_SVG, &compact).unwrap();
    let assertion_url = assertion["id"].as_str().unwrap();
    let ob2_png = baking::bake_png(&art, baking::PNG_KEYWORD_OB2, &assertion.to_string()).unwrap();
    let ob2_svg = baking::bake_svg_ob2(TINY_SVG, assertion_url, &assertion.to_string()).unwrap();
    // The legacy OB 2.0 form: a Latin-1 tEXt chunk holding the assertion URL, after IHDR.
    let ihdr_end = 8 + 12 + 13;
    let mut legacy = art[..ihdr_end].to_vec();
    legacy.extend(png_chunk(
        b"tEXt",
        format!("openbadges\0{assertion_url}").as_bytes(),
    ));
    legacy.extend_from_slice(&art[ihdr_end..]);
    let mut bad_crc = baked_png.clone();
    bad_crc[ihdr_end + 40] ^= 0x20;
    let unclosed = &baked_svg[..baked_svg.find("]]>").unwrap()];
    let image_seeds: Vec<(&str, Vec<u8>)> = vec![
        ("valid-baked.png", baked_png.clone()),
        ("valid-baked.svg", baked_svg.clone().into_bytes()),
        (
            "valid-baked-artwork.svg",
            baking::bake_svg(CLOSED_SVG, &compact).unwrap().into_bytes(),
        ),
        ("ob2-baked.png", ob2_png),
        ("ob2-baked.svg", ob2_svg.into_bytes()),
        ("ob2-legacy-text.png", legacy),
        ("plain.png", art.clone()),
        ("plain.svg", TINY_SVG.as_bytes().to_vec()),
        ("bad-crc.png", bad_crc),
        ("truncated.png", baked_png[..baked_png.len() / 2].to_vec()),
        ("unclosed-cdata.svg", unclosed.as_bytes().to_vec()),
        (
            "jws.txt",
            b"eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxIn0.c2ln".to_vec(),
        ),
    ];

    // The same RDF under other keys, which must be refused: credentialStatus under its
    // IRI, validFrom under an inline alias.
    let mut fact_seeds = json_seeds.clone();
    let rekeyed = |from: &str, to: &str| -> Value {
        let map: serde_json::Map<String, Value> = doc
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (if k == from { to } else { k }.to_owned(), v.clone()))
            .collect();
        Value::Object(map)
    };
    let aliased = rekeyed(
        "credentialStatus",
        "https://www.w3.org/2018/credentials#credentialStatus",
    );
    let mut inline = rekeyed("validFrom", "xvalidFrom");
    inline["@context"]
        .as_array_mut()
        .unwrap()
        .push(json!({"xvalidFrom": {
            "@id": "https://www.w3.org/2018/credentials#validFrom",
            "@type": "http://www.w3.org/2001/XMLSchema#dateTime"
        }}));
    fact_seeds.push(("aliased-status.json", text(&aliased).into_bytes()));
    fact_seeds.push(("inline-alias.json", text(&inline).into_bytes()));

    let pick = |names: &[&str]| -> Vec<(&str, Vec<u8>)> {
        json_seeds
            .iter()
            .filter(|(n, _)| names.contains(n))
            .cloned()
            .collect()
    };
    let rdf_seeds = [
        "valid-credential.json",
        "valid-general-path.json",
        "valid-did-key.json",
        "status-list.json",
        "truncated.json",
    ];
    for (target, seeds) in [
        ("verify_json", json_seeds.clone()),
        ("verify_facts", fact_seeds),
        ("baked_image", image_seeds),
        ("fast_path", pick(&rdf_seeds)),
        ("canonicalize", pick(&rdf_seeds)),
    ] {
        let dir = corpus_dir(target);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in seeds {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
}

/// The committed seeds are what their names say, so the fuzzers start from inputs that
/// reach every check: each `valid-*` seed verifies in full through `POST /verify`, every
/// other one is refused (4xx) or fails verification. `UPDATE_FUZZ_CORPUS=1` rewrites them
/// first (in the SQLite run), from another instance: here, as in the fuzz targets, none of
/// the seeds' credentials is stored.
async fn fuzz_corpus(app: &TestApp) {
    if std::env::var_os("UPDATE_FUZZ_CORPUS").is_some() && app.state.store.backend() == "sqlite" {
        let writer = TestApp::sqlite_with_base(BASE).await;
        write_fuzz_corpus(&writer).await;
        writer.cleanup().await;
    }
    // Status list 1, which the seeds name, exists here too.
    issued(app, "corpus@example.org").await;
    // Every seed goes to POST /verify from one client: more than its rate limit allows (the
    // limit has its own tests), so this instance on the same store has none.
    let mut settings = (*app.state.settings).clone();
    settings.verify_rate_per_minute = 0;
    let state = partnership_badges::AppState::new(
        app.state.store.clone(),
        partnership_badges::issuer::Issuer::new(&settings, common::test_keys()),
        settings,
    );
    let app = &TestApp {
        router: partnership_badges::app(state.clone()),
        state,
        token: app.token.clone(),
        db: common::Db::Shared,
    };
    for target in FUZZ_TARGETS {
        let dir = corpus_dir(target);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert!(
            names.iter().any(|n| n.starts_with("valid-")),
            "{target}: no valid seed in {names:?}"
        );
        let mut total = 0;
        for name in names {
            let bytes = std::fs::read(dir.join(&name)).unwrap();
            total += bytes.len();
            // JSON as `application/json`; images and text as an upload, sniffed.
            let media = if name.ends_with(".json") {
                "application/json"
            } else {
                ""
            };
            let r = app.post_bytes("/verify", media, bytes).await;
            if name.starts_with("valid-") {
                assert_eq!(r.status.as_u16(), 200, "{target}/{name}: {}", r.text);
                assert_eq!(r.body["verified"], true, "{target}/{name}: {:#}", r.body);
            } else {
                assert!(
                    r.status.is_client_error() || r.body["verified"] == false,
                    "{target}/{name} should not verify: {}",
                    r.text
                );
                assert!(!r.status.is_server_error(), "{target}/{name}: {}", r.text);
            }
        }
        // Small seeds keep the fuzzer fast and the repository light.
        assert!(total < 128 * 1024, "{target}: {total} bytes of seeds");
    }
}
both_backends!(fuzz_corpus_on_both, crate::fuzz_corpus);
