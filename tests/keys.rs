//! Key rotation: `keygen --rotate` adds a key that signs new badges, while badges signed by
//! the old key still verify because its Multikey stays published.

mod common;

use std::process::Command;

use axum::http::{Method, StatusCode};
use common::TestApp;
use partnership_badges::issuer::Issuer;
use partnership_badges::keys::KeyRing;
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
    let keys = KeyRing::load(dir).unwrap().unwrap();
    let settings = (*app.state.settings).clone();
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
}
both_backends!(rotated_keys_keep_old_badges_valid, crate::rotation);
