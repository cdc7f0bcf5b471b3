//! `eddsa-rdfc-2022` Data Integrity proofs (W3C vc-di-eddsa §3.3): sign and verify.
//!
//! hashData = SHA-256(canonical proof configuration) ‖ SHA-256(canonical document), the
//! proof configuration hash first; the signature is Ed25519 over those 64 bytes and
//! `proofValue` = `z` + base58btc(signature).
//!
//! Two routes lead to the canonical N-Quads, and both give the same bytes:
//! - the **fast path** for our own [`OpenBadgeCredential`]s maps the typed struct straight to
//!   quads ([`super::quads`]), skipping JSON-LD expansion;
//! - the **general path** expands any JSON document strictly with the bundled contexts
//!   ([`JsonLdProcessor`]), for status lists and for credentials posted to `POST /verify`.
//!
//! Verification only trusts the fast path with a document that deserialises into
//! [`OpenBadgeCredential`] and serialises back to exactly the same JSON value, so no member
//! can be present in what the signer signed yet invisible to the fast path.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::Deserialize as _;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::jsonld::{JsonLdError, JsonLdProcessor};
use super::model::{DataIntegrityProof, OpenBadgeCredential};
use super::quads::{
    check_fast_path, check_proof_fast_path, credential_dataset, credential_quads,
    proof_config_dataset, proof_config_quads, FastPathError,
};
use super::rdf::Quad;
use super::rdfc::{canonicalize, CanonError};
use super::roundtrip::serializes_to;

/// The proof `type`.
pub const PROOF_TYPE: &str = "DataIntegrityProof";
/// The only cryptosuite this module produces and accepts.
pub const CRYPTOSUITE: &str = "eddsa-rdfc-2022";
/// The proof purpose of a credential's proof.
pub const PROOF_PURPOSE: &str = "assertionMethod";

/// Everything that can go wrong while signing or verifying.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The document is not a JSON object.
    #[error("document is not a JSON object")]
    NotAnObject,
    /// The document has no `proof`.
    #[error("document has no proof")]
    MissingProof,
    /// The document already carries a proof and cannot be signed again.
    #[error("document already has a proof")]
    AlreadySigned,
    /// `proof` is neither an object nor an array.
    #[error("proof is not a JSON object")]
    ProofNotObject,
    /// Several proofs (a proof set or chain) are not supported.
    #[error("only a single proof is supported, not a set of several")]
    MultipleProofs,
    /// A proof member is missing or is not a string.
    #[error("proof.{0} is missing or not a string")]
    MissingProofField(&'static str),
    /// The proof `type` is not `DataIntegrityProof`.
    #[error("unsupported proof type {0:?} (expected \"DataIntegrityProof\")")]
    UnsupportedProofType(String),
    /// The cryptosuite is not `eddsa-rdfc-2022`.
    #[error("unsupported cryptosuite {0:?} (expected \"eddsa-rdfc-2022\")")]
    UnsupportedCryptosuite(String),
    /// The proof purpose is not `assertionMethod`.
    #[error("proof purpose {0:?} is not \"assertionMethod\"")]
    WrongProofPurpose(String),
    /// The proof's own `@context` is not a prefix of the document's.
    #[error("proof @context does not match the document @context")]
    ContextMismatch,
    /// `proofValue` is not `z` + base58btc of a 64-byte signature.
    #[error("bad proofValue: {0}")]
    BadProofValue(&'static str),
    /// The verification method could not be resolved to an Ed25519 key.
    #[error("unknown verification method {0:?}")]
    UnknownKey(String),
    /// The signature does not match the document and key.
    #[error("signature does not match the document (it was altered or signed by another key)")]
    SignatureMismatch,
    /// JSON-LD expansion failed (e.g. a term that no bundled context defines).
    #[error("JSON-LD: {0}")]
    JsonLd(#[from] JsonLdError),
    /// RDFC-1.0 canonicalisation failed (e.g. a blank-node structure too costly to label).
    #[error("canonicalization: {0}")]
    Canonicalization(#[from] CanonError),
    /// The credential cannot be signed on the fast path; use [`super::sign_document`].
    #[error(transparent)]
    FastPath(#[from] FastPathError),
}

/// Which route produced the canonical form that was verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofPath {
    /// Typed struct to quads ([`super::quads`]).
    Fast,
    /// Strict JSON-LD expansion with the bundled contexts.
    General,
}

/// A proof that verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedProof {
    /// The `verificationMethod` whose key verified the signature. The caller decides whether
    /// that method belongs to the credential's issuer.
    pub verification_method: String,
    /// The route used to canonicalise the document.
    pub path: ProofPath,
    /// The RDF of the document without its proof: what the signature covers, and so where
    /// a verifier reads the facts it checks ([`super::facts::Facts::from_quads`]).
    pub document: Vec<Quad>,
}

/// hashData = SHA-256(canonical proof configuration) ‖ SHA-256(canonical document).
pub fn hash_data(canonical_proof_config: &str, canonical_document: &str) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&Sha256::digest(canonical_proof_config.as_bytes()));
    out[32..].copy_from_slice(&Sha256::digest(canonical_document.as_bytes()));
    out
}

/// `z` + base58btc(signature).
pub fn encode_proof_value(signature: &Signature) -> String {
    let mut out = String::with_capacity(90);
    out.push('z');
    out.push_str(&super::base58::encode(&signature.to_bytes()));
    out
}

/// Parses a `proofValue` (`z` + base58btc of 64 bytes).
pub fn decode_proof_value(proof_value: &str) -> Result<Signature, CredentialError> {
    let b58 = proof_value
        .strip_prefix('z')
        .ok_or(CredentialError::BadProofValue(
            "must start with 'z' (base58btc)",
        ))?;
    // 64 bytes are at most 88 base58 characters; refuse long input before decoding.
    if b58.len() > 90 {
        return Err(CredentialError::BadProofValue(
            "too long for a 64-byte signature",
        ));
    }
    let bytes = super::base58::decode(b58)
        .filter(|b| b.len() <= 64)
        .ok_or(CredentialError::BadProofValue("not base58btc of 64 bytes"))?;
    let bytes: [u8; 64] = bytes
        .try_into()
        .map_err(|_| CredentialError::BadProofValue("signature must be 64 bytes"))?;
    Ok(Signature::from_bytes(&bytes))
}

pub(super) fn canonical_hash_data(
    proof_config: &[Quad],
    document: &[Quad],
) -> Result<[u8; 64], CredentialError> {
    Ok(hash_data(
        &canonicalize(proof_config)?,
        &canonicalize(document)?,
    ))
}

fn new_proof(verification_method: &str, created: &str) -> DataIntegrityProof {
    DataIntegrityProof {
        kind: PROOF_TYPE.to_owned(),
        cryptosuite: CRYPTOSUITE.to_owned(),
        created: created.to_owned(),
        verification_method: verification_method.to_owned(),
        proof_purpose: PROOF_PURPOSE.to_owned(),
        proof_value: None,
    }
}

/// Signs one of our own credentials on the fast path and sets `c.proof`.
///
/// Any existing proof is replaced. Fails with [`CredentialError::FastPath`] if `c` is not in
/// the shape the fast path maps exactly (see [`super::quads::check_fast_path`]).
pub fn sign_credential(
    c: &mut OpenBadgeCredential,
    key: &SigningKey,
    verification_method: &str,
    created: &str,
) -> Result<(), CredentialError> {
    let mut proof = new_proof(verification_method, created);
    check_proof_fast_path(&proof)?;
    c.proof.clear();
    check_fast_path(c)?;
    // Straight into canonicalisation's form; as quads only where some would repeat.
    let config = proof_config_dataset(&proof)
        .canonicalize()?
        .map_or_else(|| canonicalize(&proof_config_quads(&proof)), Ok)?;
    let document = match credential_dataset(c)
        .map(|d| d.canonicalize())
        .transpose()?
    {
        Some(Some(document)) => document,
        _ => canonicalize(&credential_quads(c))?,
    };
    let hash = hash_data(&config, &document);
    proof.proof_value = Some(encode_proof_value(&key.sign(&hash)));
    c.proof = vec![proof];
    Ok(())
}

/// Signs any JSON-LD document on the general (strict JSON-LD) path and adds its `proof`.
///
/// Used for documents other than our credentials, such as status list credentials. A term
/// that no bundled context defines is an error, never silently left unsigned.
pub fn sign_document(
    doc: &mut Value,
    key: &SigningKey,
    verification_method: &str,
    created: &str,
    jsonld: &JsonLdProcessor,
) -> Result<(), CredentialError> {
    let obj = doc.as_object_mut().ok_or(CredentialError::NotAnObject)?;
    if obj.contains_key("proof") {
        return Err(CredentialError::AlreadySigned);
    }
    let proof =
        serde_json::to_value(new_proof(verification_method, created)).expect("a proof serialises");
    let Value::Object(mut proof) = proof else {
        unreachable!("a proof serialises to an object")
    };
    let config = proof_config_json(&proof, obj);
    let document = jsonld.to_rdf(doc)?;
    let config = jsonld.to_rdf(&config)?;
    let hash = canonical_hash_data(&config, &document)?;
    proof.insert(
        "proofValue".to_owned(),
        Value::String(encode_proof_value(&key.sign(&hash))),
    );
    if let Value::Object(obj) = doc {
        // A set of one, as an array: the 1EdTech JSON Schemas require `proof` to be one.
        obj.insert("proof".to_owned(), Value::Array(vec![Value::Object(proof)]));
    }
    Ok(())
}

/// The proof configuration document: the proof without `proofValue`, under the document's
/// `@context` (a proof's own `@context` has already replaced the document's by then).
pub(super) fn proof_config_json(
    proof: &Map<String, Value>,
    document: &Map<String, Value>,
) -> Value {
    let mut config = Map::with_capacity(proof.len() + 1);
    if let Some(ctx) = document.get("@context") {
        config.insert("@context".to_owned(), ctx.clone());
    }
    for (k, v) in proof {
        if k != "proofValue" && k != "@context" {
            config.insert(k.clone(), v.clone());
        }
    }
    Value::Object(config)
}

fn proof_str<'a>(
    proof: &'a Map<String, Value>,
    field: &'static str,
) -> Result<&'a str, CredentialError> {
    proof
        .get(field)
        .and_then(Value::as_str)
        .ok_or(CredentialError::MissingProofField(field))
}

/// Verifies the `eddsa-rdfc-2022` proof of `doc`.
///
/// `resolve_key` maps a `verificationMethod` to its Ed25519 key (for example
/// [`super::multikey::resolve_did_key`] or a lookup of the issuer's published keys); it must
/// not do I/O of its own accord beyond what the caller intends. The fast path is used when
/// `doc` is exactly one of our credentials (see the module documentation), else the general
/// path.
pub fn verify_proof(
    doc: &Value,
    jsonld: &JsonLdProcessor,
    resolve_key: impl Fn(&str) -> Option<VerifyingKey>,
) -> Result<VerifiedProof, CredentialError> {
    let obj = doc.as_object().ok_or(CredentialError::NotAnObject)?;
    let proof = single_proof(obj)?;
    let kind = proof_str(proof, "type")?;
    if kind != PROOF_TYPE {
        return Err(CredentialError::UnsupportedProofType(kind.to_owned()));
    }
    let suite = proof_str(proof, "cryptosuite")?;
    if suite != CRYPTOSUITE {
        return Err(CredentialError::UnsupportedCryptosuite(suite.to_owned()));
    }
    let purpose = proof_str(proof, "proofPurpose")?;
    if purpose != PROOF_PURPOSE {
        return Err(CredentialError::WrongProofPurpose(purpose.to_owned()));
    }
    let vm = proof_str(proof, "verificationMethod")?;
    let signature = decode_proof_value(proof_str(proof, "proofValue")?)?;
    let key = resolve_key(vm).ok_or_else(|| CredentialError::UnknownKey(vm.to_owned()))?;

    let (hash, path, document) = match fast_path_credential(doc) {
        Some(c) => {
            let mut config = c.proof[0].clone();
            config.proof_value = None;
            let document = credential_quads(&c);
            let hash = canonical_hash_data(&proof_config_quads(&config), &document)?;
            (hash, ProofPath::Fast, document)
        }
        None => {
            let mut unsecured = obj.clone();
            unsecured.remove("proof");
            // vc-di-eddsa: a proof's own @context must be a prefix of the document's, and
            // then is the @context under which both document and proof are canonicalised.
            if let Some(pctx) = proof.get("@context") {
                if !context_is_prefix(pctx, obj.get("@context")) {
                    return Err(CredentialError::ContextMismatch);
                }
                unsecured.insert("@context".to_owned(), pctx.clone());
            }
            let config = proof_config_json(proof, &unsecured);
            let document = jsonld.to_rdf(&Value::Object(unsecured))?;
            let config = jsonld.to_rdf(&config)?;
            let hash = canonical_hash_data(&config, &document)?;
            (hash, ProofPath::General, document)
        }
    };
    key.verify_strict(&hash, &signature)
        .map_err(|_| CredentialError::SignatureMismatch)?;
    Ok(VerifiedProof {
        verification_method: vm.to_owned(),
        path,
        document,
    })
}

/// The one proof of a document: its `proof` object, or the one object of its `proof` array
/// (a set of one, as this service writes it since the 1EdTech schemas asked).
pub fn single_proof(doc: &Map<String, Value>) -> Result<&Map<String, Value>, CredentialError> {
    match doc.get("proof") {
        None => Err(CredentialError::MissingProof),
        Some(Value::Object(p)) => Ok(p),
        Some(Value::Array(set)) => match set.as_slice() {
            [Value::Object(p)] => Ok(p),
            [_] => Err(CredentialError::ProofNotObject),
            [] => Err(CredentialError::MissingProof),
            _ => Err(CredentialError::MultipleProofs),
        },
        Some(_) => Err(CredentialError::ProofNotObject),
    }
}

/// `doc` as one of our credentials, if the fast path maps it exactly: it deserialises into
/// [`OpenBadgeCredential`], serialises back to the same JSON (so no member is hidden from the
/// typed view) and passes [`check_fast_path`].
fn fast_path_credential(doc: &Value) -> Option<OpenBadgeCredential> {
    let c = OpenBadgeCredential::deserialize(doc).ok()?;
    if c.proof.len() != 1 {
        return None;
    }
    // The typed view writes `proof` as an array; a credential issued before with a single
    // proof object is the same document (the same RDF), so it takes the fast path too.
    let same = match doc.get("proof") {
        Some(Value::Object(p)) => {
            let mut as_set = doc.clone();
            as_set["proof"] = Value::Array(vec![Value::Object(p.clone())]);
            serializes_to(&c, &as_set)
        }
        _ => serializes_to(&c, doc),
    };
    if !same {
        return None;
    }
    check_fast_path(&c).ok()?;
    Some(c)
}

/// True if `proof_ctx` (a string or array) is a prefix of the document's `@context`.
fn context_is_prefix(proof_ctx: &Value, doc_ctx: Option<&Value>) -> bool {
    let as_list = |v: &Value| match v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    let Some(doc_ctx) = doc_ctx else {
        return false;
    };
    let (p, d) = (as_list(proof_ctx), as_list(doc_ctx));
    p.len() <= d.len() && p.iter().zip(&d).all(|(a, b)| a == b)
}
