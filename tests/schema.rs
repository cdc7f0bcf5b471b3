//! Strict 1EdTech conformance: every document the service signs or serves validates against
//! the 1EdTech Open Badges 3.0 JSON Schemas (`tests/schemas/`, vendored, draft 2019-09)
//! with zero errors, validated as they are: no single value normalised into an array, formats
//! asserted, nothing fetched. Both badges, a copy delivered to a wallet, `/issuer`,
//! `/achievements/{slug}`, and the status list credential (which no 1EdTech schema covers as
//! a whole: its proof is checked against the OB definition of one). On both
//! databases and both issuer-id settings.

mod common;

use std::path::Path;

use common::TestApp;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

fn schema_file(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schemas/ob3")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// Every error of `doc` against `schema` (a file, or `file#/$defs/Name` for one of its
/// definitions), each as `{instance path}: {message}`. The schemas refer only to their own
/// `$defs`, so a definition is validated as the file with the definition as its root.
fn errors(schema: &str, doc: &Value) -> Vec<String> {
    let (file, def) = schema.split_once("#/$defs/").unwrap_or((schema, ""));
    let mut root = schema_file(file);
    if !def.is_empty() {
        root = json!({
            "$schema": root["$schema"],
            "$defs": root["$defs"],
            "$ref": format!("#/$defs/{def}"),
        });
    }
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft201909)
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        .build(&root)
        .unwrap_or_else(|e| panic!("{schema}: {e}"));
    validator
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn assert_valid(schema: &str, what: &str, doc: &Value) {
    let errors = errors(schema, doc);
    assert!(
        errors.is_empty(),
        "{what} fails {schema}:\n{}\n{doc:#}",
        errors.join("\n")
    );
}

/// The copy of `credential` a wallet receives, through the whole exchange.
async fn wallet_copy(app: &TestApp, credential: &str) -> Value {
    let r = app
        .post(
            &format!("/api/v1/credentials/{credential}/exchanges"),
            json!({}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let exchange = r.body["exchange_url"]
        .as_str()
        .unwrap()
        .strip_prefix(common::BASE)
        .unwrap()
        .to_owned();
    let r = app.post(&exchange, json!({})).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let request = &r.body["verifiablePresentationRequest"];
    let vp = common::wallet::did_auth(
        &SigningKey::from_bytes(&[9u8; 32]),
        request["challenge"].as_str().unwrap(),
        request["domain"].as_str().unwrap(),
    );
    let r = app
        .post(&exchange, json!({"verifiablePresentation": vp}))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    r.body["verifiablePresentation"]["verifiableCredential"][0].clone()
}

const CREDENTIAL: &str = "achievementcredential.json";

async fn every_document_validates(app: &TestApp) {
    let (person, _, closed) = app.closed_person("ada@example.org").await;
    let r = app.issue("partnership-certified", &person, None).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let certified = r.body["id"].as_str().unwrap().to_owned();

    let closed_doc = app.get(&format!("/credentials/{closed}")).await.body;
    assert_valid(CREDENTIAL, "Partnership Closed", &closed_doc);
    let certified_doc = app.get(&format!("/credentials/{certified}")).await.body;
    assert_valid(CREDENTIAL, "Partnership Certified", &certified_doc);
    let copy = wallet_copy(app, &closed).await;
    assert_valid(CREDENTIAL, "the wallet copy", &copy);
    assert!(copy["credentialSubject"]["id"]
        .as_str()
        .unwrap()
        .starts_with("did:key:"));

    assert_valid(
        "profile.json",
        "GET /issuer",
        &app.get("/issuer").await.body,
    );
    for slug in ["partnership-closed", "partnership-certified"] {
        let doc = app.get(&format!("/achievements/{slug}")).await.body;
        assert_valid(
            &format!("{CREDENTIAL}#/$defs/Achievement"),
            &format!("GET /achievements/{slug}"),
            &doc,
        );
    }

    // The status lists, in the form of each credential that names one.
    for doc in [&closed_doc, &copy] {
        let list_url = doc["credentialStatus"]["statusListCredential"]
            .as_str()
            .unwrap();
        let list = app
            .get(list_url.strip_prefix(common::BASE).unwrap())
            .await
            .body;
        assert!(list["type"].is_array(), "{list:#}");
        // Its issuer is the credential's, by id (a plain IRI, as status lists name it).
        assert_eq!(list["issuer"], doc["issuer"]["id"], "{list:#}");
        let proofs = list["proof"].as_array().expect("proof is an array");
        assert_eq!(proofs.len(), 1);
        assert_valid(
            &format!("{CREDENTIAL}#/$defs/Proof"),
            "its proof",
            &proofs[0],
        );
    }

    // The check can fail: the shapes the schemas refuse are refused.
    let mut single_proof = closed_doc.clone();
    single_proof["proof"] = closed_doc["proof"][0].clone();
    assert!(errors(CREDENTIAL, &single_proof)
        .iter()
        .any(|e| e.starts_with("/proof:")));
    let mut single_type = app.get("/issuer").await.body;
    single_type["type"] = json!("Profile");
    assert!(errors("profile.json", &single_type)
        .iter()
        .any(|e| e.starts_with("/type:")));
    let mut bad_date = certified_doc;
    bad_date["validFrom"] = json!("2026-12-03");
    assert!(errors(CREDENTIAL, &bad_date)
        .iter()
        .any(|e| e.starts_with("/validFrom:")));
}

both_backends!(every_document_validates_on, crate::every_document_validates);
both_backends!(
    every_did_web_document_validates_on,
    crate::every_document_validates,
    ["--issuer-id", "did-web"]
);
