//! The typed fast path against strict JSON-LD, on arbitrary JSON.
//!
//! `verify_proof` hashes a document on the fast path (`credential_quads`,
//! `proof_config_quads`) when it is exactly one of our credentials: it deserialises into
//! `OpenBadgeCredential`, serialises back to the same JSON and passes `check_fast_path`.
//! Signatures mean the same on both paths only if, for every such document, the fast path
//! gives the canonical N-Quads that JSON-LD expansion gives. This target checks exactly that,
//! for the credential and for its proof configuration.
#![no_main]

use libfuzzer_sys::fuzz_target;
use partnership_badges::credential::model::OpenBadgeCredential;
use partnership_badges::credential::quads::{
    check_fast_path, check_proof_fast_path, credential_quads, proof_config_quads,
};
use partnership_badges::credential::rdfc::canonicalize;
use partnership_badges_fuzz::jsonld;
use serde::Deserialize as _;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    // The same eligibility test as `verify_proof`'s fast path.
    let Ok(mut c) = OpenBadgeCredential::deserialize(&doc) else {
        return;
    };
    if serde_json::to_value(&c).ok().as_ref() != Some(&doc) || check_fast_path(&c).is_err() {
        return;
    }
    let proof = std::mem::take(&mut c.proof).into_iter().next();
    let mut unsecured = doc.clone();
    let obj = unsecured
        .as_object_mut()
        .expect("a credential is an object");
    obj.remove("proof");
    let context = obj.get("@context").cloned().expect("checked: has @context");

    let general = match jsonld().to_rdf(&unsecured) {
        Ok(quads) => quads,
        // Deliberately stricter than JSON-LD: a literal that looks like an IRI with non-UTF-8
        // percent-encoding is refused (`jsonld::check_percent_encoding`). The fast path's own
        // IRIs never have such octets (`check_fast_path`), so only literals get here.
        Err(e)
            if e.to_string()
                .contains("percent-encodes octets that are not UTF-8") =>
        {
            return
        }
        Err(e) => panic!("the fast path takes what JSON-LD rejects: {e}"),
    };
    assert_eq!(
        canonicalize(&credential_quads(&c)).ok(),
        canonicalize(&general).ok(),
        "credential quads differ between the fast and the general path"
    );

    let Some(mut proof) = proof else { return };
    if check_proof_fast_path(&proof).is_err() {
        return;
    }
    proof.proof_value = None;
    let mut config = serde_json::to_value(&proof).expect("a proof serialises");
    let config_obj = config.as_object_mut().expect("a proof is an object");
    config_obj.insert("@context".to_owned(), context);
    let general = match jsonld().to_rdf(&config) {
        Ok(quads) => quads,
        // The same deliberate strictness as above, on the proof's literals (a cryptosuite
        // name like `%dd…`, found by fuzzing).
        Err(e)
            if e.to_string()
                .contains("percent-encodes octets that are not UTF-8") =>
        {
            return
        }
        Err(e) => panic!("the fast path takes a proof JSON-LD rejects: {e}"),
    };
    assert_eq!(
        canonicalize(&proof_config_quads(&proof)).ok(),
        canonicalize(&general).ok(),
        "proof configuration quads differ between the fast and the general path"
    );
});
