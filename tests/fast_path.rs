//! Differential test of the typed fast path against the general JSON-LD path.
//!
//! The fast path (`credential_quads`, `proof_config_quads`) is only correct if it yields
//! exactly the RDF that strict JSON-LD expansion of the same JSON yields. Hundreds of varied
//! credentials (seeded, so failures reproduce) with awkward strings and optional parts are
//! pushed through both paths and their canonical N-Quads compared; then sign → verify
//! roundtrips and tampering are checked through the public API.

use ed25519_dalek::SigningKey;
use partnership_badges::credential::jsonld::{JsonLdError, JsonLdProcessor};
use partnership_badges::credential::model::{
    Achievement, AchievementSubject, Criteria, DataIntegrityProof, Evidence, IdentityObject,
    OpenBadgeCredential, Profile, StatusEntry, OB_V3_CONTEXT, VC_V2_CONTEXT,
};
use partnership_badges::credential::multikey::{did_key_verification_method, resolve_did_key};
use partnership_badges::credential::quads::{credential_quads, proof_config_quads};
use partnership_badges::credential::rdfc::canonicalize;
use partnership_badges::credential::{sign_credential, verify_proof, CredentialError, ProofPath};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// Pieces that awkward strings are made of: escapes N-Quads must get right, control
/// characters, right-to-left text, combining marks, emoji (with ZWJ) and separators.
const PIECES: &[&str] = &[
    "Partnership",
    "closed",
    " ",
    "Lead → Conversation → Shaping",
    "\"quoted\"",
    "back\\slash",
    "\\n (not a newline)",
    "\n",
    "\r\n",
    "\t",
    "\u{0}",
    "\u{1}",
    "\u{8}",
    "\u{b}",
    "\u{c}",
    "\u{1f}",
    "\u{7f}",
    "\u{80}",
    "\u{a0}",
    "שלום",
    "مرحبا بالعالم",
    "\u{200f}",
    "\u{202e}",
    "e\u{301}",
    "中文",
    "🎉",
    "👩🏽‍💻",
    "\u{2028}",
    "\u{feff}",
    "\u{fffd}",
    "<b>html</b>",
    "@id",
    "_:b0",
    "https://not.an.iri/in/a/string",
    "100%",
    "{\"json\": true}",
];

fn text(rng: &mut StdRng) -> String {
    let n = rng.gen_range(0..6);
    (0..n)
        .map(|_| PIECES[rng.gen_range(0..PIECES.len())])
        .collect()
}

fn maybe<T>(rng: &mut StdRng, f: impl FnOnce(&mut StdRng) -> T) -> Option<T> {
    if rng.gen_bool(0.5) {
        Some(f(rng))
    } else {
        None
    }
}

fn uuid(rng: &mut StdRng) -> String {
    let b: [u8; 16] = rng.gen();
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn iri(rng: &mut StdRng, base: &str) -> String {
    match rng.gen_range(0..5) {
        0 => format!("urn:uuid:{}", uuid(rng)),
        1 => format!("{base}/x/{}?a=1&b=%C3%A9#frag", uuid(rng)),
        2 => format!("https://example.org/~user/{}", rng.gen::<u32>()),
        3 => format!("http://localhost:8080/{}", uuid(rng)),
        _ => format!("{base}/{}", uuid(rng)),
    }
}

fn date(rng: &mut StdRng) -> String {
    format!(
        "20{:02}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        rng.gen_range(20..40),
        rng.gen_range(1..13),
        rng.gen_range(1..29),
        rng.gen_range(0..24),
        rng.gen_range(0..60),
        rng.gen_range(0..60)
    )
}

/// One random credential of the shape we issue (unsigned).
pub fn random_credential(rng: &mut StdRng) -> OpenBadgeCredential {
    let base = match rng.gen_range(0..3) {
        0 => "https://badges.example.org".to_owned(),
        1 => "https://webmaker.example/badges".to_owned(),
        _ => format!("http://127.0.0.1:{}", rng.gen_range(1024..65535)),
    };
    let evidence = (0..rng.gen_range(0..5))
        .map(|_| Evidence {
            id: maybe(rng, |r| iri(r, &base)),
            types: vec!["Evidence".into()],
            name: maybe(rng, text),
            description: maybe(rng, text),
            narrative: maybe(rng, text),
            genre: maybe(rng, text),
            audience: maybe(rng, text),
        })
        .collect::<Vec<_>>();
    let mut evidence = evidence;
    // Occasionally a duplicated entry: the JSON-LD dataset holds its quads once.
    if !evidence.is_empty() && rng.gen_bool(0.1) {
        evidence.push(evidence[0].clone());
    }
    let list = format!("{base}/status/{}", rng.gen_range(1..5));
    OpenBadgeCredential {
        context: vec![VC_V2_CONTEXT.into(), OB_V3_CONTEXT.into()],
        id: format!("{base}/credentials/{}", uuid(rng)),
        types: vec!["VerifiableCredential".into(), "OpenBadgeCredential".into()],
        name: text(rng),
        description: text(rng),
        issuer: Profile {
            id: format!("{base}/issuer"),
            types: vec!["Profile".into()],
            name: text(rng),
            url: maybe(rng, |r| {
                if r.gen_bool(0.8) {
                    base.clone()
                } else {
                    text(r) // anyURI literal: any string maps the same way
                }
            }),
            email: maybe(rng, |r| format!("{}@example.org", text(r))),
        },
        valid_from: date(rng),
        valid_until: maybe(rng, date),
        credential_subject: AchievementSubject {
            id: None,
            types: vec!["AchievementSubject".into()],
            identifier: (0..rng.gen_range(0..3))
                .map(|_| IdentityObject {
                    kind: "IdentityObject".into(),
                    identity_hash: format!("sha256${}", hex::encode(rng.gen::<[u8; 32]>())),
                    identity_type: "emailAddress".into(),
                    hashed: rng.gen_bool(0.9),
                    salt: hex::encode(rng.gen::<[u8; 8]>()),
                })
                .collect(),
            achievement: Achievement {
                id: format!(
                    "{base}/achievements/{}",
                    ["partnership-closed", "partnership-certified"][rng.gen_range(0..2)]
                ),
                types: vec!["Achievement".into()],
                achievement_type: ["Badge", "Certification"][rng.gen_range(0..2)].into(),
                name: text(rng),
                description: text(rng),
                criteria: Criteria {
                    id: maybe(rng, |r| iri(r, &base)),
                    narrative: text(rng),
                },
            },
        },
        evidence,
        credential_status: maybe(rng, |r| {
            let index = r.gen_range(0..131_072).to_string();
            StatusEntry {
                id: format!("{list}#{index}"),
                kind: "BitstringStatusListEntry".into(),
                status_purpose: "revocation".into(),
                status_list_index: index,
                status_list_credential: list.clone(),
            }
        }),
        proof: Vec::new(),
    }
}

fn random_proof(rng: &mut StdRng) -> DataIntegrityProof {
    let key = SigningKey::from_bytes(&rng.gen());
    DataIntegrityProof {
        kind: "DataIntegrityProof".into(),
        cryptosuite: "eddsa-rdfc-2022".into(),
        created: date(rng),
        verification_method: if rng.gen_bool(0.5) {
            did_key_verification_method(&key.verifying_key())
        } else {
            format!("https://badges.example.org/issuer/keys/{}", uuid(rng))
        },
        proof_purpose: "assertionMethod".into(),
        proof_value: None,
    }
}

/// The proof configuration as JSON, as the general path builds it.
fn proof_config_json(p: &DataIntegrityProof) -> Value {
    let mut v = serde_json::to_value(p).unwrap();
    v["@context"] = json!([VC_V2_CONTEXT, OB_V3_CONTEXT]);
    v
}

fn vector_key() -> SigningKey {
    SigningKey::from_bytes(&std::array::from_fn(|i| i as u8))
}

#[test]
fn fast_path_equals_general_path() {
    let jsonld = JsonLdProcessor::new();
    let mut rng = StdRng::seed_from_u64(0x0b3_fa57);
    for i in 0..600 {
        let c = random_credential(&mut rng);
        let fast = canonicalize(&credential_quads(&c)).unwrap();
        let doc = serde_json::to_value(&c).unwrap();
        let general = canonicalize(&jsonld.to_rdf(&doc).unwrap()).unwrap();
        assert_eq!(fast, general, "credential #{i}: {doc:#}");

        let p = random_proof(&mut rng);
        let fast = canonicalize(&proof_config_quads(&p)).unwrap();
        let general = canonicalize(&jsonld.to_rdf(&proof_config_json(&p)).unwrap()).unwrap();
        assert_eq!(fast, general, "proof config #{i}: {p:?}");
    }
}

#[test]
fn sign_verify_roundtrip_and_tampering() {
    let jsonld = JsonLdProcessor::new();
    let key = vector_key();
    let vm = did_key_verification_method(&key.verifying_key());
    let resolve = |vm: &str| resolve_did_key(vm).ok();
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..50 {
        let mut c = random_credential(&mut rng);
        sign_credential(&mut c, &key, &vm, "2025-06-01T12:00:00Z").unwrap();
        let doc = serde_json::to_value(&c).unwrap();
        let ok = verify_proof(&doc, &jsonld, resolve).unwrap();
        assert_eq!(ok.path, ProofPath::Fast);
        assert_eq!(ok.verification_method, vm);
        // As credentials were written before the 1EdTech schemas asked for an array: one
        // proof object. The same document, so the same (fast) path and the same RDF.
        let mut single = doc.clone();
        single["proof"] = doc["proof"][0].clone();
        let same = verify_proof(&single, &jsonld, resolve).unwrap();
        assert_eq!(same.path, ProofPath::Fast);
        assert_eq!(same.document, ok.document);

        // A field changed after signing fails, on either path.
        let mut tampered = doc.clone();
        tampered["credentialSubject"]["achievement"]["name"] = json!("Someone else's badge");
        assert!(matches!(
            verify_proof(&tampered, &jsonld, resolve),
            Err(CredentialError::SignatureMismatch)
        ));
        let mut tampered = doc.clone();
        tampered["validFrom"] = json!("1999-01-01T00:00:00Z");
        assert!(matches!(
            verify_proof(&tampered, &jsonld, resolve),
            Err(CredentialError::SignatureMismatch)
        ));
        let mut tampered = doc.clone();
        tampered["proof"][0]["created"] = json!("1999-01-01T00:00:00Z");
        assert!(matches!(
            verify_proof(&tampered, &jsonld, resolve),
            Err(CredentialError::SignatureMismatch)
        ));
    }
}

#[test]
fn general_path_verifies_fast_path_signatures() {
    // Reordering members keeps the JSON value equal (fast path); a defined but unmodelled
    // member or a string-valued `type` pushes the document onto the general path.
    let jsonld = JsonLdProcessor::new();
    let key = vector_key();
    let vm = did_key_verification_method(&key.verifying_key());
    let resolve = |vm: &str| resolve_did_key(vm).ok();
    let mut rng = StdRng::seed_from_u64(11);
    let mut c = random_credential(&mut rng);
    sign_credential(&mut c, &key, &vm, "2025-06-01T12:00:00Z").unwrap();
    let doc = serde_json::to_value(&c).unwrap();

    // Member order does not matter to JSON equality: still the fast path.
    fn reversed(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .rev()
                    .map(|(k, v)| (k.clone(), reversed(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(reversed).collect()),
            other => other.clone(),
        }
    }
    let reordered = reversed(&doc);
    assert_ne!(
        serde_json::to_string(&reordered).unwrap(),
        serde_json::to_string(&doc).unwrap()
    );
    let ok = verify_proof(&reordered, &jsonld, resolve).unwrap();
    assert_eq!(ok.path, ProofPath::Fast);

    // `type: "Profile"` as a string is the same RDF, but not our JSON shape.
    let mut other_shape = doc.clone();
    other_shape["issuer"]["type"] = json!("Profile");
    let ok = verify_proof(&other_shape, &jsonld, resolve).unwrap();
    assert_eq!(ok.path, ProofPath::General);

    // An extra (defined) term changes the RDF: rejected by the general path.
    let mut extra = doc.clone();
    extra["credentialSubject"]["achievement"]["tag"] = json!(["extra"]);
    assert!(matches!(
        verify_proof(&extra, &jsonld, resolve),
        Err(CredentialError::SignatureMismatch)
    ));

    // An undefined term is an error, never silently ignored.
    let mut undefined = doc.clone();
    undefined["hiddenClaim"] = json!("not in any context");
    assert!(matches!(
        verify_proof(&undefined, &jsonld, resolve),
        Err(CredentialError::JsonLd(JsonLdError::UndefinedTerm(_)))
    ));
}

#[test]
fn sign_credential_refuses_what_the_fast_path_cannot_map() {
    let key = vector_key();
    let vm = did_key_verification_method(&key.verifying_key());
    let mut rng = StdRng::seed_from_u64(3);
    let mut c = random_credential(&mut rng);
    c.id = "not an absolute IRI".into();
    assert!(matches!(
        sign_credential(&mut c, &key, &vm, "2025-06-01T12:00:00Z"),
        Err(CredentialError::FastPath(_))
    ));
    let mut c = random_credential(&mut rng);
    c.types.push("EndorsementCredential".into());
    assert!(matches!(
        sign_credential(&mut c, &key, &vm, "2025-06-01T12:00:00Z"),
        Err(CredentialError::FastPath(_))
    ));
}

/// IRIs with a malformed authority or non-UTF-8 percent-encoding (found by fuzzing,
/// `fuzz/fuzz_targets/fast_path.rs`):
/// strict JSON-LD rejects them, so the fast path must not take them either, or a credential
/// would hash (and sign, and verify) here as no other verifier can read it.
#[test]
fn fast_path_refuses_iris_json_ld_rejects() {
    let jsonld = JsonLdProcessor::new();
    let key = vector_key();
    let vm = did_key_verification_method(&key.verifying_key());
    let mut rng = StdRng::seed_from_u64(0xf022);
    for bad in [
        // The fuzzer's input: `key:z6Mkvients` read as a port.
        "http://badgesdid:key:z6Mkvients/partnership-closed",
        "https://example.org:443x/achievements/1",
        "https://a@b@example.org/achievements/1",
        // Percent-encoded octets that are not UTF-8: JSON-LD's IRI type panicked on them.
        "urn:uuid:0f4c7a3e-1b2d-4e5f-%a9b-0c1d2e3f4a5b",
        "https://example.org/achievements/caf%C3",
    ] {
        let mut c = random_credential(&mut rng);
        c.credential_subject.achievement.id = bad.to_owned();
        let doc = serde_json::to_value(&c).unwrap();
        assert!(jsonld.to_rdf(&doc).is_err(), "JSON-LD takes {bad}");
        assert!(
            matches!(
                sign_credential(&mut c, &key, &vm, "2025-06-01T12:00:00Z"),
                Err(CredentialError::FastPath(_))
            ),
            "the fast path takes {bad}"
        );
    }
    // A well-formed authority with user info and a port stays on the fast path, and both
    // paths agree on it.
    let mut c = random_credential(&mut rng);
    c.credential_subject.achievement.id = "https://user:pw@example.org:8443/a:b@c".to_owned();
    let doc = serde_json::to_value(&c).unwrap();
    assert_eq!(
        canonicalize(&credential_quads(&c)).unwrap(),
        canonicalize(&jsonld.to_rdf(&doc).unwrap()).unwrap()
    );
    sign_credential(&mut c, &key, &vm, "2025-06-01T12:00:00Z").unwrap();
}
