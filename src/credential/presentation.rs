//! DIDAuth presentations: the signed `VerifiablePresentation` a wallet answers a VC-API
//! request with, proving it controls its `holder` DID.
//!
//! The Learner Credential Wallet signs them `Ed25519Signature2020` (the 2020 Linked Data
//! suite: RDFC-1.0 of the proof options and of the document, each hashed with SHA-256, the
//! two hashes concatenated and signed) with the key of a `did:key`, resolved here without
//! I/O. What is checked is read from the signed RDF, not from the JSON beside it: the
//! holder, the challenge and the domain are the values the signature covers.

use serde_json::Value;

use super::jsonld::{JsonLdError, JsonLdProcessor};
use super::multikey::{self, MultikeyError};
use super::proof::{
    canonical_hash_data, decode_proof_value, proof_config_json, single_proof, CredentialError,
};
use super::rdf::{Quad, Term, RDF_TYPE};

/// The proof type wallets sign DIDAuth presentations with.
pub const PROOF_TYPE: &str = "Ed25519Signature2020";
const SEC: &str = "https://w3id.org/security#";
const CRED: &str = "https://www.w3.org/2018/credentials#";

/// What the presentation must have been signed over.
#[derive(Clone, Copy, Debug)]
pub struct Expected<'a> {
    /// The challenge handed out with the request.
    pub challenge: &'a str,
    /// This service's domain: a presentation that states a domain must state this one.
    pub domain: &'a str,
    /// Whether the presentation must state the domain. A VC-API request hands the domain
    /// out, so its answer must be over it; a credential-request link (the Learner Credential
    /// Wallet's older flow) hands out only the challenge, which it signs alone.
    pub domain_required: bool,
}

/// Why a presentation does not authenticate its holder.
#[derive(Debug, thiserror::Error)]
pub enum PresentationError {
    /// Not a JSON object.
    #[error("the presentation is not a JSON object")]
    NotAnObject,
    /// A member is missing or of the wrong JSON type.
    #[error("`{0}` is missing or not {1}")]
    Shape(&'static str, &'static str),
    /// The proof type is not the one wallets sign with.
    #[error("proof type {0:?} is not supported (expected \"Ed25519Signature2020\")")]
    UnsupportedProofType(String),
    /// Not an authentication proof.
    #[error("proof purpose {0:?} is not \"authentication\"")]
    WrongProofPurpose(String),
    /// The signing key is not the holder's.
    #[error("the proof is signed by {method}, which is not a key of the holder {holder}")]
    NotTheHoldersKey {
        /// The verification method of the proof.
        method: String,
        /// The presentation's holder.
        holder: String,
    },
    /// The holder is not a `did:key`.
    #[error("the holder {0:?} is not a did:key (the only DIDs resolved here)")]
    HolderNotDidKey(String),
    /// The verification method does not resolve.
    #[error("the verification method does not resolve: {0}")]
    Key(#[from] MultikeyError),
    /// The signed data does not state exactly one holder, type or challenge.
    #[error("the signed data does not state {0}")]
    NotStated(&'static str),
    /// Signed over another challenge.
    #[error("the proof is over another challenge than this exchange's")]
    ChallengeMismatch,
    /// Signed over another domain.
    #[error("the proof is over the domain {found:?}, not {expected:?}")]
    DomainMismatch {
        /// The domain the proof is over.
        found: String,
        /// The exchange's domain.
        expected: String,
    },
    /// The signature does not verify, or the data could not be processed.
    #[error("{0}")]
    Proof(#[from] CredentialError),
}

impl From<JsonLdError> for PresentationError {
    fn from(e: JsonLdError) -> Self {
        PresentationError::Proof(CredentialError::JsonLd(e))
    }
}

/// Verifies a DIDAuth presentation against the challenge and domain it must be over, and
/// returns the holder DID it authenticates.
pub fn verify_presentation(
    vp: &Value,
    expected: Expected<'_>,
    jsonld: &JsonLdProcessor,
) -> Result<String, PresentationError> {
    let obj = vp.as_object().ok_or(PresentationError::NotAnObject)?;
    let proof =
        single_proof(obj).map_err(|_| PresentationError::Shape("proof", "one proof object"))?;
    let text = |field: &'static str| {
        proof
            .get(field)
            .and_then(Value::as_str)
            .ok_or(PresentationError::Shape(field, "a string in the proof"))
    };
    let kind = text("type")?;
    if kind != PROOF_TYPE {
        return Err(PresentationError::UnsupportedProofType(kind.to_owned()));
    }
    let purpose = text("proofPurpose")?;
    if purpose != "authentication" {
        return Err(PresentationError::WrongProofPurpose(purpose.to_owned()));
    }
    let method = text("verificationMethod")?;
    let signature = decode_proof_value(text("proofValue")?)?;
    let holder = obj
        .get("holder")
        .and_then(Value::as_str)
        .ok_or(PresentationError::Shape("holder", "a string"))?;
    if !holder.starts_with("did:key:") {
        return Err(PresentationError::HolderNotDidKey(holder.to_owned()));
    }
    if method.split('#').next() != Some(holder) {
        return Err(PresentationError::NotTheHoldersKey {
            method: method.to_owned(),
            holder: holder.to_owned(),
        });
    }
    let key = multikey::resolve_did_key(method)?;

    // The 2020 suite: the proof options under the document's @context, and the document
    // without its proof.
    let mut unsecured = obj.clone();
    unsecured.remove("proof");
    let config = jsonld.to_rdf(&proof_config_json(proof, &unsecured))?;
    let document = jsonld.to_rdf(&Value::Object(unsecured))?;
    let hash = canonical_hash_data(&config, &document)?;
    key.verify_strict(&hash, &signature)
        .map_err(|_| CredentialError::SignatureMismatch)?;

    // What the signature covers decides, not the JSON beside it.
    let signed_holder = signed_holder(&document)?;
    if signed_holder != holder {
        return Err(PresentationError::NotTheHoldersKey {
            method: method.to_owned(),
            holder: signed_holder,
        });
    }
    let challenge = one_literal(&config, "challenge")?;
    if challenge != expected.challenge {
        return Err(PresentationError::ChallengeMismatch);
    }
    match one_literal(&config, "domain") {
        Ok(domain) if domain != expected.domain => {
            return Err(PresentationError::DomainMismatch {
                found: domain,
                expected: expected.domain.to_owned(),
            })
        }
        Ok(_) => {}
        Err(PresentationError::NotStated(_))
            if !expected.domain_required && !config.iter().any(|q| is_sec(q, "domain")) => {}
        Err(e) => return Err(e),
    }
    Ok(signed_holder)
}

/// The one `holder` of the one `VerifiablePresentation` node of the default graph.
fn signed_holder(document: &[Quad]) -> Result<String, PresentationError> {
    let vp_type = Term::iri(format!("{CRED}VerifiablePresentation"));
    let mut nodes = document
        .iter()
        .filter(|q| q.graph.is_none() && q.predicate == Term::iri(RDF_TYPE) && q.object == vp_type)
        .map(|q| &q.subject);
    let (Some(node), None) = (nodes.next(), nodes.next()) else {
        return Err(PresentationError::NotStated("one VerifiablePresentation"));
    };
    let holder = Term::iri(format!("{CRED}holder"));
    let mut holders = document
        .iter()
        .filter(|q| q.graph.is_none() && &q.subject == node && q.predicate == holder);
    match (holders.next().map(|q| &q.object), holders.next()) {
        (Some(Term::Iri(did)), None) => Ok(did.clone()),
        _ => Err(PresentationError::NotStated("one holder IRI")),
    }
}

/// Whether `q` states `sec:{local}`.
fn is_sec(q: &Quad, local: &str) -> bool {
    matches!(&q.predicate, Term::Iri(p) if p.strip_prefix(SEC) == Some(local))
}

/// The one literal value of `sec:{local}` in the proof options.
fn one_literal(config: &[Quad], local: &'static str) -> Result<String, PresentationError> {
    let predicate = Term::iri(format!("{SEC}{local}"));
    let mut values = config.iter().filter(|q| q.predicate == predicate);
    match (values.next().map(|q| &q.object), values.next()) {
        (Some(Term::Literal { value, .. }), None) => Ok(value.clone()),
        _ => Err(PresentationError::NotStated(match local {
            "challenge" => "one challenge",
            _ => "one domain",
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Signed by `@digitalcredentials/vc` as the Learner Credential Wallet signs
    /// (`tests/wallet/lcw.mjs sign-vp`, seed 00…1f).
    const VECTOR: &str = include_str!("../../tests/wallet/vector-vp.json");
    /// The same, its `holder` another did:key than the signer's.
    const WRONG_KEY: &str = include_str!("../../tests/wallet/vector-vp-wrong-key.json");
    const GOOD: Expected<'static> = Expected {
        challenge: "test-challenge-1",
        domain: "https://badges.example.org",
        domain_required: true,
    };

    fn vector(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn the_wallets_presentation_authenticates_its_holder() {
        let jsonld = JsonLdProcessor::new();
        let vp = vector(VECTOR);
        let holder = verify_presentation(&vp, GOOD, &jsonld).unwrap();
        assert_eq!(holder, vp["holder"].as_str().unwrap());
    }

    #[test]
    fn refusals() {
        let jsonld = JsonLdProcessor::new();
        let vp = vector(VECTOR);
        let other_challenge = Expected {
            challenge: "another",
            ..GOOD
        };
        assert!(matches!(
            verify_presentation(&vp, other_challenge, &jsonld),
            Err(PresentationError::ChallengeMismatch)
        ));
        let other_domain = Expected {
            domain: "https://evil.example",
            ..GOOD
        };
        assert!(matches!(
            verify_presentation(&vp, other_domain, &jsonld),
            Err(PresentationError::DomainMismatch { .. })
        ));
        // Not required, a stated domain must still be ours.
        let optional = Expected {
            domain_required: false,
            ..other_domain
        };
        assert!(matches!(
            verify_presentation(&vp, optional, &jsonld),
            Err(PresentationError::DomainMismatch { .. })
        ));
        assert!(matches!(
            verify_presentation(&vector(WRONG_KEY), GOOD, &jsonld),
            Err(PresentationError::NotTheHoldersKey { .. })
        ));
        // The JSON says another challenge than the one signed: the signature fails.
        let mut edited = vp.clone();
        edited["proof"]["challenge"] = "another".into();
        assert!(matches!(
            verify_presentation(&edited, other_challenge, &jsonld),
            Err(PresentationError::Proof(CredentialError::SignatureMismatch))
        ));
        let mut unsigned = vp.clone();
        unsigned.as_object_mut().unwrap().remove("proof");
        assert!(matches!(
            verify_presentation(&unsigned, GOOD, &jsonld),
            Err(PresentationError::Shape("proof", _))
        ));
        assert!(matches!(
            verify_presentation(&Value::from("x"), GOOD, &jsonld),
            Err(PresentationError::NotAnObject)
        ));
        let mut undefined = vp.clone();
        undefined["nonsense"] = 1.into();
        assert!(matches!(
            verify_presentation(&undefined, GOOD, &jsonld),
            Err(PresentationError::Proof(CredentialError::JsonLd(_)))
        ));
        // The vector states its domain: required or not, it is checked.
        let not_required = Expected {
            domain_required: false,
            ..GOOD
        };
        assert!(verify_presentation(&vp, not_required, &jsonld).is_ok());
    }
}
