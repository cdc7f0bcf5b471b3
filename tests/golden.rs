//! Golden test: the general path reproduces the `eddsa-rdfc-2022` interop vector byte for
//! byte (canonical N-Quads, both SHA-256 hashes, the signature and `proofValue`), and
//! `verify_proof` accepts the signed vector and rejects the tampered one.
//!
//! The vectors were produced by the Digital Bazaar JavaScript stack (jsonld.js +
//! rdf-canonize) with the test key seed 000102…1f (`key.json`).

use std::path::PathBuf;

use ed25519_dalek::{Signer as _, SigningKey};
use partnership_badges::credential::jsonld::JsonLdProcessor;
use partnership_badges::credential::model::DataIntegrityProof;
use partnership_badges::credential::multikey::{
    did_key_verification_method, encode_public_key, resolve_did_key,
};
use partnership_badges::credential::proof::{encode_proof_value, hash_data};
use partnership_badges::credential::quads::proof_config_quads;
use partnership_badges::credential::rdfc::canonicalize;
use partnership_badges::credential::{sign_document, verify_proof, CredentialError, ProofPath};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/vectors")
}

fn read(rel: &str) -> String {
    let path = vectors().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_json(rel: &str) -> Value {
    serde_json::from_str(&read(rel)).unwrap()
}

fn vector_key() -> SigningKey {
    let key = read_json("key.json");
    let seed = hex::decode(key["seedHex"].as_str().unwrap()).unwrap();
    SigningKey::from_bytes(&seed.try_into().unwrap())
}

#[test]
fn key_matches_the_vector() {
    let key = read_json("key.json");
    let sk = vector_key();
    assert_eq!(
        hex::encode(sk.verifying_key().as_bytes()),
        key["publicKeyHex"]
    );
    assert_eq!(
        encode_public_key(&sk.verifying_key()),
        key["publicKeyMultibase"]
    );
    assert_eq!(
        did_key_verification_method(&sk.verifying_key()),
        key["verificationMethod"]
    );
}

#[test]
fn general_path_reproduces_every_intermediate() {
    let jsonld = JsonLdProcessor::new();
    let inter = read_json("eddsa-rdfc-2022/intermediate.json");
    let unsigned = read_json("credential.unsigned.json");
    let config = read_json("eddsa-rdfc-2022/proof-config.json");

    let document = canonicalize(&jsonld.to_rdf(&unsigned).unwrap()).unwrap();
    assert_eq!(document, read("eddsa-rdfc-2022/canonical-document.nq"));
    let proof_config = canonicalize(&jsonld.to_rdf(&config).unwrap()).unwrap();
    assert_eq!(
        proof_config,
        read("eddsa-rdfc-2022/canonical-proof-config.nq")
    );

    assert_eq!(
        hex::encode(Sha256::digest(&proof_config)),
        inter["proofConfigHashHex"]
    );
    assert_eq!(
        hex::encode(Sha256::digest(&document)),
        inter["documentHashHex"]
    );
    let hash = hash_data(&proof_config, &document);
    assert_eq!(hex::encode(hash), inter["hashDataHex"]);
    let signature = vector_key().sign(&hash);
    assert_eq!(hex::encode(signature.to_bytes()), inter["signatureHex"]);
    assert_eq!(encode_proof_value(&signature), inter["proofValue"]);
}

#[test]
fn fast_path_proof_config_matches_the_vector() {
    let mut config = read_json("eddsa-rdfc-2022/proof-config.json");
    config.as_object_mut().unwrap().remove("@context");
    let proof: DataIntegrityProof = serde_json::from_value(config).unwrap();
    assert_eq!(
        canonicalize(&proof_config_quads(&proof)).unwrap(),
        read("eddsa-rdfc-2022/canonical-proof-config.nq")
    );
}

#[test]
fn sign_document_reproduces_the_signed_vector() {
    let jsonld = JsonLdProcessor::new();
    let signed = read_json("eddsa-rdfc-2022/credential.signed.json");
    let mut doc = read_json("credential.unsigned.json");
    let proof = &signed["proof"];
    sign_document(
        &mut doc,
        &vector_key(),
        proof["verificationMethod"].as_str().unwrap(),
        proof["created"].as_str().unwrap(),
        &jsonld,
    )
    .unwrap();
    // Same JSON value (member order aside) as the JavaScript stack's output, but for the
    // proof, which we write as a set of one (an array), as the 1EdTech schemas require: the
    // same proof, byte for byte, so the same signature.
    assert_eq!(doc["proof"], json!([signed["proof"]]));
    let (mut ours, mut theirs) = (doc.clone(), signed.clone());
    ours.as_object_mut().unwrap().remove("proof");
    theirs.as_object_mut().unwrap().remove("proof");
    assert_eq!(ours, theirs);
}

#[test]
fn verifies_the_signed_vector_and_rejects_the_tampered_one() {
    let jsonld = JsonLdProcessor::new();
    let resolve = |vm: &str| resolve_did_key(vm).ok();

    let signed = read_json("eddsa-rdfc-2022/credential.signed.json");
    let ok = verify_proof(&signed, &jsonld, resolve).unwrap();
    // The vector has members our model does not (image, tag, creator, …): general path.
    assert_eq!(ok.path, ProofPath::General);
    assert_eq!(
        ok.verification_method,
        read_json("key.json")["verificationMethod"]
    );

    let tampered = read_json("eddsa-rdfc-2022/credential.tampered.json");
    assert!(matches!(
        verify_proof(&tampered, &jsonld, resolve),
        Err(CredentialError::SignatureMismatch)
    ));

    // A key nobody resolves.
    assert!(matches!(
        verify_proof(&signed, &jsonld, |_| None),
        Err(CredentialError::UnknownKey(_))
    ));
}

#[test]
fn specific_errors_for_malformed_proofs() {
    let jsonld = JsonLdProcessor::new();
    let resolve = |vm: &str| resolve_did_key(vm).ok();
    let signed = read_json("eddsa-rdfc-2022/credential.signed.json");
    let with = |field: &str, value: Value| {
        let mut doc = signed.clone();
        doc["proof"][field] = value;
        verify_proof(&doc, &jsonld, resolve)
    };
    assert!(matches!(
        with("cryptosuite", "eddsa-jcs-2022".into()),
        Err(CredentialError::UnsupportedCryptosuite(_))
    ));
    assert!(matches!(
        with("type", "Ed25519Signature2020".into()),
        Err(CredentialError::UnsupportedProofType(_))
    ));
    assert!(matches!(
        with("proofPurpose", "authentication".into()),
        Err(CredentialError::WrongProofPurpose(_))
    ));
    assert!(matches!(
        with("proofValue", "u1234".into()),
        Err(CredentialError::BadProofValue(_))
    ));
    assert!(matches!(
        with("proofValue", "z1111".into()),
        Err(CredentialError::BadProofValue(_))
    ));
    assert!(matches!(
        with("proofValue", format!("z{}", "2".repeat(100_000)).into()),
        Err(CredentialError::BadProofValue(_))
    ));
    let mut doc = signed.clone();
    doc["proof"] = "not an object".into();
    assert!(matches!(
        verify_proof(&doc, &jsonld, resolve),
        Err(CredentialError::ProofNotObject)
    ));
    let mut doc = signed.clone();
    doc.as_object_mut().unwrap().remove("proof");
    assert!(matches!(
        verify_proof(&doc, &jsonld, resolve),
        Err(CredentialError::MissingProof)
    ));
}
