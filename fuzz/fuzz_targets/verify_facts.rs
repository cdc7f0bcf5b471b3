//! What a report states against what the signature covers, on arbitrary JSON bodies.
//!
//! For every document `POST /verify` verifies, the facts the report states (`credential`:
//! id, types, issuer, dates, status entry, subject, achievement; and `issuer.id`) must be
//! the ones read from the signed RDF by strict JSON-LD expansion of the document, whichever
//! path the proof check took, and the ones its JSON shows under its own keys. A difference
//! means a report or page could show something the issuer never signed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use partnership_badges::credential::facts::Facts;
use partnership_badges::verify::{self, Input};
use partnership_badges_fuzz::{assert_client_error, assert_consistent, jsonld, offline};

fuzz_target!(|data: &[u8]| {
    let offline = offline();
    let doc = match verify::parse_json_input(data) {
        Ok(Input::Document(doc)) => doc,
        Ok(_) => return,
        Err(e) => return assert_client_error(&e),
    };
    let report = match offline.runtime.block_on(verify::verify_input(
        &offline.state,
        Input::Document(doc.clone()),
    )) {
        Ok(report) => report,
        Err(e) => return assert_client_error(&e),
    };
    assert_consistent(&report);
    if !report.verified {
        return;
    }
    let stated = report
        .credential
        .as_ref()
        .expect("a verified report states its facts");
    let mut unsecured = doc.clone();
    unsecured
        .as_object_mut()
        .expect("an object")
        .remove("proof");
    let quads = jsonld()
        .to_rdf(&unsecured)
        .expect("a verified document expands");
    let signed = Facts::from_quads(&quads).expect("a verified document's facts read");
    assert_eq!(*stated, signed, "the report states what was not signed");
    let shown = Facts::from_json(&doc).expect("a verified document's JSON reads");
    assert_eq!(shown, signed, "the JSON shows what was not signed");
    let signer = report
        .issuer
        .as_ref()
        .expect("a verified report names its signer");
    assert_eq!(
        Some(signer.id.as_str()),
        signed.issuer.as_ref().map(|i| i.id.as_str()),
        "the report names another issuer than the signed one"
    );
});
