//! Key rotation: `keygen --rotate` adds a key that signs new badges, while badges signed by
//! the old key still verify because its Multikey stays published, in the issuer Profile and
//! in the DID document. Switching the issuer id (`https` ↔ `did-web`) changes what new
//! badges name and nothing about the ones already issued.

mod common;

use std::process::Command;

use axum::http::{Method, StatusCode};
use common::TestApp;
use partnership_badges::config::IssuerIdForm;
use partnership_badges::credential::model::OpenBadgeCredential;
use partnership_badges::credential::sign_credential;
use partnership_badges::issuer::Issuer;
use partnership_badges::keys::KeyRing;
use partnership_badges::verify::Check;
use partnership_badges::AppState;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_partnership-badges");

fn keygen(dir: &std::path::Path, rotate: bool) -> (bool, String) {
    let mut cmd = Command::new(BIN);
    cmd.arg("--keys-dir").arg(dir).arg("keygen");
    if rotate {
        cmd.arg("--rotate");
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Rebuilds the app's state around the keys now in `dir`, as a restart would.
fn with_keys(app: &TestApp, dir: &std::path::Path) -> TestApp {
    restarted(
        app,
        KeyRing::load(dir).unwrap().unwrap(),
        app.state.settings.issuer_id,
    )
}

/// The app restarted on the same database with `keys` and the issuer id `form`.
fn restarted(app: &TestApp, keys: KeyRing, form: IssuerIdForm) -> TestApp {
    let mut settings = (*app.state.settings).clone();
    settings.issuer_id = form;
    let state = AppState::new(
        app.state.store.clone(),
        Issuer::new(&settings, keys),
        settings,
    );
    TestApp {
        router: partnership_badges::app(state.clone()),
        state,
        token: app.token.clone(),
        db: common::Db::Shared,
    }
}

async fn rotation(app: &TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = keygen(dir.path(), false);
    assert!(ok, "{out}");
    let (ok, out) = keygen(dir.path(), false);
    assert!(
        !ok && out.contains("--rotate"),
        "a second plain keygen must refuse: {out}"
    );

    let before = with_keys(app, dir.path());
    let old_kid = before.state.issuer.keys.active_kid().to_owned();
    let (person, _, old_id) = before.closed_person("ada@example.org").await;

    std::thread::sleep(std::time::Duration::from_millis(1100)); // key ids carry seconds
    let (ok, out) = keygen(dir.path(), true);
    assert!(ok, "{out}");
    let after = with_keys(app, dir.path());
    let new_kid = after.state.issuer.keys.active_kid().to_owned();
    assert_ne!(old_kid, new_kid);

    // New badges use the new key.
    let r = after.issue("partnership-certified", &person, None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(r.body["credential"]["proof"][0]["verificationMethod"]
        .as_str()
        .unwrap()
        .ends_with(&new_kid));

    // The old badge still verifies, and both keys are published.
    let old_doc: Value = after.get(&format!("/credentials/{old_id}")).await.body;
    assert!(old_doc["proof"][0]["verificationMethod"]
        .as_str()
        .unwrap()
        .ends_with(&old_kid));
    let report = partnership_badges::verify::verify_with_state(&after.state, &old_doc).await;
    assert!(report.verified, "{report:?}");
    let issuer = after.call(Method::GET, "/issuer", None, None).await.body;
    let methods = issuer["assertionMethod"].as_array().unwrap();
    assert_eq!(methods.len(), 2);
    for kid in [&old_kid, &new_kid] {
        let r = after
            .call(Method::GET, &format!("/issuer/keys/{kid}"), None, None)
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["type"], "Multikey");
    }
    // The DID document lists both too, each as a Multikey in assertionMethod.
    let r = after
        .call(Method::GET, "/.well-known/did.json", None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let did = after.state.issuer.did();
    assert_eq!(r.body["id"], did);
    assert_eq!(r.body["@context"][0], "https://www.w3.org/ns/did/v1");
    for kid in [&old_kid, &new_kid] {
        let id = format!("{did}#{kid}");
        let vm = r.body["verificationMethod"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} missing: {:#}", r.body));
        assert_eq!(vm["type"], "Multikey");
        assert_eq!(vm["controller"], did);
        assert!(vm["publicKeyMultibase"]
            .as_str()
            .unwrap()
            .starts_with("z6Mk"));
        assert!(r.body["assertionMethod"]
            .as_array()
            .unwrap()
            .contains(&Value::from(id)));
    }
    // Served where `did:web:badges.test` resolves to, not at the path form's address.
    let r = after.call(Method::GET, "/did.json", None, None).await;
    r.assert_problem(404, "/.well-known/did.json");
}

/// Badges issued under either issuer id keep verifying, as this service's, whatever the
/// setting is now; new badges name the id the setting chooses.
async fn switching_the_issuer_id(app: &TestApp) {
    let https = restarted(app, common::test_keys(), IssuerIdForm::Https);
    let (person, _, closed) = https.closed_person("ada@example.org").await;
    let did_web = restarted(app, common::test_keys(), IssuerIdForm::DidWeb);
    let r = did_web.issue("partnership-certified", &person, None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let certified = r.body["id"].as_str().unwrap().to_owned();
    let closed_doc = did_web.get(&format!("/credentials/{closed}")).await.body;
    let certified_doc = did_web.get(&format!("/credentials/{certified}")).await.body;
    assert_eq!(
        closed_doc["issuer"]["id"],
        format!("{}/issuer", common::BASE)
    );
    assert_eq!(certified_doc["issuer"]["id"], "did:web:badges.test");
    assert_eq!(
        certified_doc["proof"][0]["verificationMethod"],
        "did:web:badges.test#key-test"
    );
    assert_eq!(
        certified_doc["credentialStatus"]["statusListCredential"],
        format!("{}/status/did-web/1", common::BASE)
    );
    for now in [&https, &did_web] {
        for doc in [&closed_doc, &certified_doc] {
            let report = partnership_badges::verify::verify_with_state(&now.state, doc).await;
            assert!(report.verified, "{report:?}");
            let signed_by = report.issuer.as_ref().expect("signed by");
            assert!(signed_by.this_service, "{report:?}");
        }
    }
    // Signed by our key but naming it in the other form than its issuer id: the proof holds,
    // the issuer check does not (a did:web issuer's keys are `did:web:…#kid`).
    let mut mixed: OpenBadgeCredential = serde_json::from_value(certified_doc).unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let vm = format!("{}/issuer/keys/key-test", common::BASE);
    let created = mixed.valid_from.clone();
    sign_credential(&mut mixed, &key, &vm, &created).unwrap();
    let mixed = serde_json::to_value(&mixed).unwrap();
    let report = partnership_badges::verify::verify_with_state(&did_web.state, &mixed).await;
    assert!(!report.verified, "{report:?}");
    assert_eq!(report.checks.proof, Check::Passed, "{report:?}");
    assert_eq!(report.checks.issuer, Check::Failed, "{report:?}");
}
both_backends!(the_issuer_id_can_switch, crate::switching_the_issuer_id);
both_backends!(rotated_keys_keep_old_badges_valid, crate::rotation);
