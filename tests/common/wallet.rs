//! A wallet's side of an exchange, signed in Rust for the tests that need no Node: the
//! Learner Credential Wallet's own libraries play it in `tests/wallet.rs`.

use ed25519_dalek::{Signer as _, SigningKey};
use partnership_badges::credential::jsonld::JsonLdProcessor;
use partnership_badges::credential::multikey::{did_key, did_key_verification_method};
use partnership_badges::credential::proof::{encode_proof_value, hash_data};
use partnership_badges::credential::rdfc::canonicalize;
use serde_json::{json, Value};

/// A DIDAuth presentation as a wallet signs it: `Ed25519Signature2020` by the holder's
/// did:key over the challenge and domain (the suite's hashing, with this crate's RDFC-1.0).
pub fn did_auth(wallet: &SigningKey, challenge: &str, domain: &str) -> Value {
    let public = wallet.verifying_key();
    let context = json!([
        "https://www.w3.org/ns/credentials/v2",
        "https://w3id.org/security/suites/ed25519-2020/v1"
    ]);
    let vp = json!({
        "@context": context,
        "type": ["VerifiablePresentation"],
        "holder": did_key(&public),
    });
    let mut proof = json!({
        "type": "Ed25519Signature2020",
        "created": "2026-01-01T00:00:00Z",
        "verificationMethod": did_key_verification_method(&public),
        "proofPurpose": "authentication",
        "challenge": challenge,
        "domain": domain,
    });
    let mut options = proof.clone();
    options["@context"] = context;
    let jsonld = JsonLdProcessor::new();
    let canonical = |doc: &Value| canonicalize(&jsonld.to_rdf(doc).unwrap()).unwrap();
    let hash = hash_data(&canonical(&options), &canonical(&vp));
    proof["proofValue"] = json!(encode_proof_value(&wallet.sign(&hash)));
    let mut signed = vp;
    signed["proof"] = proof;
    signed
}
