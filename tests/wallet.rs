//! Wallet delivery, played by the wallet's own libraries: `tests/wallet/lcw.mjs` builds and
//! signs the DIDAuth presentation with the npm packages the Learner Credential Wallet ships
//! (`@digitalcredentials/vc`, `ed25519-signature-2020`, `did-method-key`), runs the VC-API
//! exchange against the running service, and checks the badge it receives with DCC's
//! `@digitalcredentials/verifier-core`: signature, issuer resolved through did:web from the
//! service, status. After a revocation of the original through the API, the same verifier
//! reports the wallet's copy revoked. The wallet's credential-request link (its older flow,
//! the one current versions keep a credential from) delivers the same. Then every refusal, each with nothing issued. On both
//! databases and both issuer-id settings. The expired exchange and the other rules that need
//! no wallet are checked in-process below.

mod common;

use std::path::Path;
use std::time::Duration;

use common::TestApp;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

/// Runs `lcw.mjs`; returns its exit code and the JSON lines it printed.
async fn lcw(args: &[&str]) -> (i32, Vec<Value>) {
    let out = tokio::process::Command::new("node")
        .arg(common::tests_dir("wallet").join("lcw.mjs"))
        .args(args)
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!(
        "lcw.mjs {args:?} stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (out.status.code().unwrap_or(-1), lines)
}

/// `lcw.mjs {command}` for `credential`, through the service at `base`.
async fn wallet_run(
    app: &TestApp,
    command: &str,
    base: &str,
    credential: &str,
) -> (i32, Vec<Value>) {
    lcw(&[
        command,
        "--base",
        base,
        "--token",
        &app.token,
        "--credential",
        credential,
    ])
    .await
}

async fn exchanges_of(app: &TestApp, credential: &str) -> Vec<Value> {
    let r = app
        .get(&format!("/api/v1/credentials/{credential}/exchanges"))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    r.body["items"].as_array().unwrap().clone()
}

async fn wallet_on(make: impl AsyncFnOnce(&str) -> Option<TestApp>) {
    if !common::node_packages_ready("wallet", "@digitalcredentials/verifier-core") {
        return;
    }
    let Some((app, served)) = common::serve_on_port(make).await else {
        return;
    };
    let base = served.base.clone();
    let (person, _, closed) = app.closed_person("ada@example.org").await;
    let original = app.get(&format!("/credentials/{closed}")).await.body;

    // Steps 1–4, then verifier-core on what the wallet received.
    let (code, lines) = wallet_run(&app, "receive", &base, &closed).await;
    assert_eq!(code, 0, "{lines:#?}");
    let got = &lines[0];
    assert_eq!(got["received"], true, "{got:#}");
    assert_eq!(got["verify"]["signature"], true, "{got:#}");
    assert_eq!(got["verify"]["issuer_resolved"], true, "{got:#}");
    assert_eq!(got["verify"]["revoked"], false, "{got:#}");
    assert_eq!(got["deep_link"]["matches_exchange"], true, "{got:#}");
    let copy = &got["credential"];
    let holder = got["holder"].as_str().unwrap();
    assert!(holder.starts_with("did:key:z6Mk"), "{holder}");
    // Bound to the wallet's DID, under the issuer's did:web id; the same achievement,
    // evidence, dates and status bit as the original.
    assert_eq!(copy["credentialSubject"]["id"], holder);
    assert_eq!(copy["issuer"]["id"], app.state.issuer.did());
    assert!(copy["id"].as_str().unwrap().starts_with("urn:uuid:"));
    for field in ["name", "validFrom", "evidence"] {
        assert_eq!(copy[field], original[field], "{field}");
    }
    assert_eq!(
        copy["credentialSubject"]["achievement"],
        original["credentialSubject"]["achievement"]
    );
    let (entry, original_entry) = (&copy["credentialStatus"], &original["credentialStatus"]);
    assert_eq!(entry["statusListIndex"], original_entry["statusListIndex"]);
    let did_web = app.state.issuer.form() == partnership_badges::config::IssuerIdForm::DidWeb;
    if did_web {
        // Both in the did:web form: literally the same status entry.
        assert_eq!(entry, original_entry);
    } else {
        // The same list and bit, through the list signed under the did:web id.
        assert_eq!(
            entry["statusListCredential"].as_str().unwrap(),
            original_entry["statusListCredential"]
                .as_str()
                .unwrap()
                .replace("/status/", "/status/did-web/")
        );
    }

    // The wallet's credential-request flow delivers the same, to another wallet.
    let (code, lines) = wallet_run(&app, "receive-request", &base, &closed).await;
    assert_eq!(code, 0, "{lines:#?}");
    let by_request = &lines[0];
    assert_eq!(by_request["verify"]["signature"], true, "{by_request:#}");
    assert_eq!(
        by_request["verify"]["issuer_resolved"], true,
        "{by_request:#}"
    );
    assert_eq!(by_request["verify"]["revoked"], false, "{by_request:#}");
    assert_eq!(by_request["subject_matches_holder"], true, "{by_request:#}");
    assert_eq!(
        by_request["credential"]["credentialStatus"],
        copy["credentialStatus"]
    );

    // Stored and listed with the original (opened within a second: in either order).
    let listed = exchanges_of(&app, &closed).await;
    assert_eq!(listed.len(), 2, "{listed:#?}");
    assert!(listed.iter().all(|e| e["status"] == "completed"));
    let of = |did: &Value| listed.iter().find(|e| &e["holder_did"] == did).unwrap();
    assert_eq!(&of(&got["holder"])["copy"], copy);
    assert_eq!(of(&by_request["holder"])["copy"], by_request["credential"]);

    // (Issued now: a Certified needs a valid Closed.)
    let r = app.issue("partnership-certified", &person, None).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let cert = r.body["id"].as_str().unwrap().to_owned();

    // One revocation covers both: the wallet's verifier now reports its copy revoked.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("copy.json");
    std::fs::write(&file, serde_json::to_vec(copy).unwrap()).unwrap();
    let file = file.to_str().unwrap();
    let r = app
        .post(
            &format!("/api/v1/credentials/{closed}/revoke"),
            json!({"reason": "entered in error", "notify": false}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let (code, lines) = lcw(&["check", "--base", &base, file]).await;
    assert_eq!(code, 3, "revoked: {lines:#?}");
    let by_request_file = dir.path().join("by-request.json");
    std::fs::write(
        &by_request_file,
        serde_json::to_vec(&by_request["credential"]).unwrap(),
    )
    .unwrap();
    let (code, others) = lcw(&["check", "--base", &base, by_request_file.to_str().unwrap()]).await;
    assert_eq!(code, 3, "revoked: {others:#?}");
    assert_eq!(lines[0]["verify"]["signature"], true, "{:#}", lines[0]);
    assert_eq!(lines[0]["verify"]["revoked"], true, "{:#}", lines[0]);

    // Every refusal answers 4xx problem+json, and issues nothing: of the exchanges the
    // refusals opened, only the two good ones they complete first (to replay, and to try a
    // second holder on) hold a copy.
    let (code, lines) = wallet_run(&app, "refusals", &base, &cert).await;
    assert_eq!(code, 0, "{lines:#?}");
    let status = |case: &str| {
        lines
            .iter()
            .find(|l| l["case"] == case)
            .unwrap_or_else(|| panic!("no case {case}: {lines:#?}"))["status"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(status("replay"), 409);
    assert_eq!(status("second_holder"), 409);
    assert_eq!(status("wrong_key"), 422);
    assert_eq!(status("wrong_domain"), 422);
    assert_eq!(status("wrong_challenge"), 422);
    assert_eq!(status("malformed_not_object"), 400);
    assert_eq!(status("malformed_holder_number"), 422);
    assert_eq!(status("oversized"), 413);
    let listed = exchanges_of(&app, &cert).await;
    assert_eq!(listed.len(), 8, "{listed:#?}");
    let with_copy: Vec<&Value> = listed.iter().filter(|e| !e["copy"].is_null()).collect();
    assert_eq!(with_copy.len(), 2, "{listed:#?}");
    assert!(with_copy.iter().all(|e| e["status"] == "completed"));
    assert_ne!(with_copy[0]["holder_did"], with_copy[1]["holder_did"]);

    served.shutdown().await;
    app.cleanup().await;
}

const DID_WEB: &[&str] = &["--issuer-id", "did-web"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wallet_receives_and_verifies_a_badge_sqlite() {
    wallet_on(async |base: &str| Some(TestApp::sqlite_with_base(base).await)).await;
    wallet_on(async |base: &str| Some(TestApp::sqlite_with_args(base, DID_WEB).await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wallet_receives_and_verifies_a_badge_postgres() {
    wallet_on(async |base: &str| TestApp::postgres_with_base(base).await).await;
    wallet_on(async |base: &str| TestApp::postgres_with_args(base, DID_WEB).await).await;
}

/// The LCW-signed presentation vector (`tests/wallet/vector-vp.json`), for a wallet whose
/// challenge it is not: refused on its challenge and domain, never on its shape.
fn vector_vp() -> Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wallet/vector-vp.json"),
    )
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

async fn open(app: &TestApp, credential: &str) -> Value {
    let r = app
        .post(
            &format!("/api/v1/credentials/{credential}/exchanges"),
            json!({}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    r.body
}

fn path_of(url: &Value) -> String {
    url.as_str()
        .unwrap()
        .strip_prefix(common::BASE)
        .unwrap()
        .to_owned()
}

async fn exchange_rules(app: &TestApp) {
    let (_, _, closed) = app.closed_person("grace@example.org").await;
    let opened = open(app, &closed).await;
    let exchange = path_of(&opened["exchange_url"]);
    assert_eq!(
        path_of(&opened["interaction_url"]),
        format!("{exchange}?iuv=1")
    );
    assert!(opened["deep_link"]
        .as_str()
        .unwrap()
        .starts_with("https://lcw.app/request?request="));

    // The interaction URL names the VC-API exchange.
    let r = app.get(&path_of(&opened["interaction_url"])).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(r.body["protocols"]["vcapi"], opened["exchange_url"]);

    // Opened with a challenge (the one its credential-request link carries).
    let link = opened["credential_request_link"].as_str().unwrap();
    assert!(
        link.starts_with("dccrequest://request?issuer=") && link.contains("&auth_type=bearer&"),
        "{link}"
    );
    assert!(link.ends_with(&format!(
        "&vc_request_url={}",
        format!("{}/request", opened["exchange_url"].as_str().unwrap())
            .replace(':', "%3A")
            .replace('/', "%2F")
    )));
    let r = app
        .post(&exchange, json!({"verifiablePresentation": vector_vp()}))
        .await;
    r.assert_problem(422, "another challenge");
    let r = app.post(&format!("{exchange}/request"), vector_vp()).await;
    r.assert_problem(422, "another challenge");
    let r = app.post(&format!("{exchange}/request"), json!("x")).await;
    r.assert_problem(400, "JSON object");

    // The request: DIDAuthentication, a fresh challenge each time, this service's domain.
    let r = app.post(&exchange, json!({})).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let vpr = &r.body["verifiablePresentationRequest"];
    assert_eq!(vpr["query"], json!([{"type": "DIDAuthentication"}]));
    assert_eq!(vpr["domain"], common::BASE);
    let again = app.post(&exchange, json!({})).await;
    assert_ne!(
        again.body["verifiablePresentationRequest"]["challenge"],
        vpr["challenge"]
    );

    // A presentation over another challenge and domain is refused, and stores nothing.
    let r = app
        .post(&exchange, json!({"verifiablePresentation": vector_vp()}))
        .await;
    r.assert_problem(422, "challenge");
    let r = app.post(&exchange, json!({"unexpected": true})).await;
    r.assert_problem(400, "unexpected member");
    let r = app.post(&exchange, json!([1])).await;
    r.assert_problem(400, "JSON object");
    assert!(exchanges_of(app, &closed)
        .await
        .iter()
        .all(|e| e["copy"].is_null()));

    // Unknown exchanges, and credentials that are not delivered.
    app.get("/exchanges/not-a-token")
        .await
        .assert_problem(404, "no such exchange");
    app.get(&format!("/exchanges/{}", "A".repeat(43)))
        .await
        .assert_problem(404, "no such exchange");
    let r = app
        .post(
            &format!("/api/v1/credentials/{}/exchanges", uuid::Uuid::new_v4()),
            json!({}),
        )
        .await;
    r.assert_problem(404, "no credential");
    let r = app
        .post(
            &format!("/api/v1/credentials/{closed}/revoke"),
            json!({"reason": "entered in error", "notify": false}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/credentials/{closed}/exchanges"),
            json!({}),
        )
        .await;
    r.assert_problem(409, "revoked");
    // An exchange opened before the revocation delivers nothing after it, even to a
    // presentation over its current challenge.
    let challenge = again.body["verifiablePresentationRequest"]["challenge"]
        .as_str()
        .unwrap();
    let vp = common::wallet::did_auth(&SigningKey::from_bytes(&[3u8; 32]), challenge, common::BASE);
    let r = app
        .post(&exchange, json!({"verifiablePresentation": vp}))
        .await;
    r.assert_problem(409, "revoked");
    app.post(&exchange, json!({}))
        .await
        .assert_problem(409, "revoked");
    assert!(exchanges_of(app, &closed)
        .await
        .iter()
        .all(|e| e["copy"].is_null()));
}

both_backends!(exchange_rules_on, crate::exchange_rules);

/// Two wallets answer one challenge at once: exactly one gets the badge, one copy is stored.
async fn one_exchange_one_wallet(app: &TestApp) {
    let (_, _, closed) = app.closed_person("ida@example.org").await;
    let opened = open(app, &closed).await;
    let exchange = path_of(&opened["exchange_url"]);
    let r = app.post(&exchange, json!({})).await;
    let challenge = r.body["verifiablePresentationRequest"]["challenge"]
        .as_str()
        .unwrap()
        .to_owned();
    let vp = |seed: u8| {
        json!({"verifiablePresentation": common::wallet::did_auth(
            &SigningKey::from_bytes(&[seed; 32]), &challenge, common::BASE)})
    };
    let (a, b) = tokio::join!(app.post(&exchange, vp(1)), app.post(&exchange, vp(2)));
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{} / {}", a.text, b.text);
    let listed = exchanges_of(app, &closed).await;
    assert_eq!(listed.len(), 1);
    let winner = if a.status.as_u16() == 200 { &a } else { &b };
    assert_eq!(
        listed[0]["copy"],
        winner.body["verifiablePresentation"]["verifiableCredential"][0]
    );
    // The copy was signed when delivered, not when the original was.
    assert!(
        listed[0]["copy"]["proof"][0]["created"].as_str().unwrap()
            >= listed[0]["created_at"].as_str().unwrap().get(..19).unwrap(),
        "{:#}",
        listed[0]
    );
}

both_backends!(one_exchange_one_wallet_on, crate::one_exchange_one_wallet);

/// An exchange expires: then neither a request nor a presentation is taken (410).
async fn an_exchange_expires(app: &TestApp) {
    let (_, _, closed) = app.closed_person("katherine@example.org").await;
    let opened = open(app, &closed).await;
    let exchange = path_of(&opened["exchange_url"]);
    let r = app.post(&exchange, json!({})).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    app.post(&exchange, json!({}))
        .await
        .assert_problem(410, "expired");
    app.post(&exchange, json!({"verifiablePresentation": vector_vp()}))
        .await
        .assert_problem(410, "expired");
    app.get(&path_of(&opened["interaction_url"]))
        .await
        .assert_problem(410, "expired");
    let listed = exchanges_of(app, &closed).await;
    assert_eq!(listed[0]["status"], "expired");
    assert!(listed[0]["copy"].is_null());
}

both_backends!(
    an_exchange_expires_on,
    crate::an_exchange_expires,
    ["--exchange-ttl-secs", "1"]
);
