//! Interop: credentials issued by the running service verify with Digital Bazaar's
//! `@digitalbazaar/vc` + `eddsa-rdfc-2022` stack (tests/interop/verify.mjs), which fetches
//! the issuer Profile, the Multikey and the status list from this server over HTTP.
//! A tampered copy fails; a revoked credential is reported revoked through the status list.

mod common;

use std::path::PathBuf;

use common::TestApp;
use serde_json::{json, Value};

/// Runs the verifier on `files`; returns its exit code and one report per file.
async fn run_verifier(base: &str, files: &[PathBuf]) -> (i32, Vec<Value>) {
    let out = tokio::process::Command::new("node")
        .arg(common::tests_dir("interop").join("verify.mjs"))
        .arg("--base")
        .arg(base)
        .args(files)
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let reports = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("verifier prints JSON lines"))
        .collect();
    eprintln!("verifier stderr: {}", String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), reports)
}

async fn interop_on(make: impl AsyncFnOnce(&str) -> Option<TestApp>) {
    if !common::node_packages_ready("interop", "@digitalbazaar/vc") {
        return;
    }
    let Some((app, served)) = common::serve_on_port(make).await else {
        return;
    };
    let base = served.base.clone();

    let (person, _closing, closed_id) = app.closed_person("ada@example.org").await;
    let r = app.issue("partnership-certified", &person, None).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let cert_id = r.body["id"].as_str().unwrap().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, doc: &Value| {
        let p = dir.path().join(name);
        std::fs::write(&p, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
        p
    };
    let closed_doc = app.get(&format!("/credentials/{closed_id}")).await.body;
    let cert_doc = app.get(&format!("/credentials/{cert_id}")).await.body;
    // The issuer id is the one the settings chose; key and status list are in its form.
    let issuer = cert_doc["issuer"]["id"].as_str().unwrap();
    let (vm, list) = (
        cert_doc["proof"][0]["verificationMethod"].as_str().unwrap(),
        cert_doc["credentialStatus"]["statusListCredential"]
            .as_str()
            .unwrap(),
    );
    if app.state.issuer.form() == partnership_badges::config::IssuerIdForm::DidWeb {
        assert!(issuer.starts_with("did:web:127.0.0.1%3A"), "{issuer}");
        assert!(vm.starts_with(&format!("{issuer}#")), "{vm}");
        assert!(
            list.starts_with(&format!("{base}/status/did-web/")),
            "{list}"
        );
    } else {
        assert_eq!(issuer, format!("{base}/issuer"));
        assert!(vm.starts_with(&format!("{base}/issuer/keys/")), "{vm}");
        assert!(list.starts_with(&format!("{base}/status/")), "{list}");
    }
    let closed = write("closed.json", &closed_doc);
    let cert = write("certified.json", &cert_doc);

    let (code, reports) = run_verifier(&base, &[closed.clone(), cert.clone()]).await;
    assert_eq!(code, 0, "{reports:#?}");
    assert_eq!(reports.len(), 2);
    for r in &reports {
        assert_eq!(r["verified"], true, "{r:#}");
        assert_eq!(r["revoked"], false, "{r:#}");
    }

    // Tampering with any signed field breaks the proof.
    let mut tampered = cert_doc.clone();
    tampered["credentialSubject"]["achievement"]["name"] = json!("Partnership Grandmaster");
    let tampered = write("tampered.json", &tampered);
    let mut evidence_tampered = closed_doc.clone();
    evidence_tampered["evidence"][1]["name"] = json!("Mentor CC'd: Someone Else");
    let evidence_tampered = write("evidence-tampered.json", &evidence_tampered);
    let (code, reports) = run_verifier(&base, &[tampered, evidence_tampered]).await;
    assert_eq!(code, 1);
    for r in &reports {
        assert_eq!(r["verified"], false, "{r:#}");
    }

    // Revocation shows through the signed status list.
    let r = app
        .post(
            &format!("/api/v1/credentials/{closed_id}/revoke"),
            json!({"reason": "entered in error"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let (code, reports) = run_verifier(&base, &[closed, cert]).await;
    assert_eq!(code, 1);
    assert_eq!(reports[0]["revoked"], true, "{:#}", reports[0]);
    assert_eq!(reports[1]["revoked"], false, "{:#}", reports[1]);
    assert_eq!(reports[1]["verified"], true, "{:#}", reports[1]);

    served.shutdown().await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digital_bazaar_verifies_sqlite_issued_credentials() {
    interop_on(async |base: &str| Some(TestApp::sqlite_with_base(base).await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digital_bazaar_verifies_postgres_issued_credentials() {
    interop_on(async |base: &str| TestApp::postgres_with_base(base).await).await;
}

/// With `--issuer-id did-web`: the issuer, its key and its status list resolve through the
/// DID document at `/.well-known/did.json`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digital_bazaar_verifies_did_web_credentials_on_both() {
    const DID_WEB: &[&str] = &["--issuer-id", "did-web"];
    interop_on(async |base: &str| Some(TestApp::sqlite_with_args(base, DID_WEB).await)).await;
    interop_on(async |base: &str| TestApp::postgres_with_args(base, DID_WEB).await).await;
}
