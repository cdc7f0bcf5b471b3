//! RDFC-1.0 canonicalisation benchmarks.
//!
//! Canonicalisation runs on every issue and every verify, so this tracks the production
//! shape: an Open Badges credential of 42 quads with 5 blank nodes whose first-degree hashes
//! are all unique. `rdf-canon` runs the same input as a yardstick. The poison graph (W3C test
//! 074, a 10-node blank clique) measures how fast hostile input is refused at the default
//! work limit. When the interop vector `tests/data/vectors/eddsa-rdfc-2022/
//! canonical-document.nq` is present it is benchmarked too.

#[path = "../tests/rdfc_support/nquads.rs"]
mod nquads;

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use partnership_badges::credential::rdf::{Quad, Term, RDF_TYPE};
use partnership_badges::credential::rdfc::{canonicalize, CanonError};

const OB: &str = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#";
const CRED: &str = "https://www.w3.org/2018/credentials#";
const SCHEMA: &str = "https://schema.org/";
const XSD: &str = "http://www.w3.org/2001/XMLSchema#";

/// A 42-quad credential with 5 blank nodes, shaped like what the issuer signs.
fn credential() -> Vec<Quad> {
    let iri = Term::iri;
    let ob = |s: &str| Term::iri(format!("{OB}{s}"));
    let cred = |s: &str| Term::iri(format!("{CRED}{s}"));
    let schema = |s: &str| Term::iri(format!("{SCHEMA}{s}"));
    let date = |s: &str| Term::typed(s, format!("{XSD}dateTime"));
    let b = Term::blank;
    let c = iri("urn:uuid:2b7c1a5e-6f0d-4c1b-9a57-3d2e8f4b6a10");
    let issuer = iri("did:key:z6MkehRgf7yJbgaGfYsdoAsKdBPE3dj2CYhowQdcjqSJgvVd");
    let achievement = iri("https://example.edu/achievements/rust-foundations");
    let ty = iri(RDF_TYPE);
    let t = [
        (c.clone(), ty.clone(), ob("OpenBadgeCredential")),
        (c.clone(), ty.clone(), cred("VerifiableCredential")),
        (
            c.clone(),
            schema("name"),
            Term::string("Rust Systems Programming - Foundations"),
        ),
        (
            c.clone(),
            schema("description"),
            Term::string("Awarded for completing the course."),
        ),
        (c.clone(), cred("issuer"), issuer.clone()),
        (c.clone(), cred("validFrom"), date("2025-01-15T00:00:00Z")),
        (c.clone(), cred("validUntil"), date("2030-01-15T00:00:00Z")),
        (c.clone(), cred("credentialSubject"), b("b0")),
        (c.clone(), cred("evidence"), b("b3")),
        (c.clone(), cred("credentialStatus"), b("b4")),
        (issuer.clone(), ty.clone(), ob("Profile")),
        (
            issuer.clone(),
            schema("name"),
            Term::string("Example Institute of Technology"),
        ),
        (
            issuer.clone(),
            schema("email"),
            Term::string("badges@example.edu"),
        ),
        (
            issuer.clone(),
            schema("url"),
            Term::typed("https://example.edu", format!("{XSD}anyURI")),
        ),
        (
            issuer.clone(),
            ob("image"),
            iri("https://example.edu/logo.png"),
        ),
        (iri("https://example.edu/logo.png"), ty.clone(), ob("Image")),
        (b("b0"), ty.clone(), ob("AchievementSubject")),
        (b("b0"), ob("achievement"), achievement.clone()),
        (b("b0"), ob("identifier"), b("b1")),
        (b("b0"), ob("activityEndDate"), date("2025-01-10T00:00:00Z")),
        (b("b1"), ty.clone(), ob("IdentityObject")),
        (
            b("b1"),
            ob("hashed"),
            Term::typed("true", format!("{XSD}boolean")),
        ),
        (
            b("b1"),
            ob("identityHash"),
            Term::string("sha256$408aae8560805ca7346f3498b621a7db"),
        ),
        (b("b1"), ob("identityType"), Term::string("emailAddress")),
        (b("b1"), ob("salt"), Term::string("deadsea")),
        (achievement.clone(), ty.clone(), ob("Achievement")),
        (
            achievement.clone(),
            schema("name"),
            Term::string("Rust Foundations"),
        ),
        (
            achievement.clone(),
            schema("description"),
            Term::string("Ownership, traits and errors."),
        ),
        (
            achievement.clone(),
            ob("achievementType"),
            Term::string("Badge"),
        ),
        (achievement.clone(), ob("creator"), issuer.clone()),
        (achievement.clone(), ob("Criteria"), b("b2")),
        (
            achievement.clone(),
            schema("keywords"),
            Term::string("rust"),
        ),
        (
            achievement.clone(),
            schema("keywords"),
            Term::string("systems-programming"),
        ),
        (
            b("b2"),
            ob("narrative"),
            Term::string("Complete all 8 modules and the \"capstone\".\n"),
        ),
        (b("b3"), ty.clone(), ob("Evidence")),
        (
            b("b3"),
            ob("narrative"),
            Term::string("Scored 92/100 on the final quiz."),
        ),
        (b("b3"), schema("name"), Term::string("Final quiz")),
        (
            b("b4"),
            ty.clone(),
            iri("https://www.w3.org/ns/credentials/status#BitstringStatusListEntry"),
        ),
        (
            b("b4"),
            iri("https://www.w3.org/ns/credentials/status#statusPurpose"),
            Term::string("revocation"),
        ),
        (
            b("b4"),
            iri("https://www.w3.org/ns/credentials/status#statusListIndex"),
            Term::string("94567"),
        ),
        (
            b("b4"),
            iri("https://www.w3.org/ns/credentials/status#statusListCredential"),
            iri("https://example.edu/status/1"),
        ),
        (
            iri("https://example.edu/status/1"),
            ty,
            iri("https://example.edu/StatusList"),
        ),
    ];
    t.into_iter().map(|(s, p, o)| Quad::new(s, p, o)).collect()
}

fn to_oxrdf(quads: &[Quad]) -> oxrdf::Dataset {
    let term = |t: &Term| -> oxrdf::Term {
        match t {
            Term::Iri(i) => oxrdf::NamedNode::new_unchecked(i.as_str()).into(),
            Term::Blank(b) => oxrdf::BlankNode::new_unchecked(b.as_str()).into(),
            Term::Literal {
                value, datatype, ..
            } => oxrdf::Literal::new_typed_literal(
                value.as_str(),
                oxrdf::NamedNode::new_unchecked(datatype.as_str()),
            )
            .into(),
        }
    };
    quads
        .iter()
        .map(|q| {
            let subject: oxrdf::Subject = match term(&q.subject) {
                oxrdf::Term::NamedNode(n) => n.into(),
                oxrdf::Term::BlankNode(b) => b.into(),
                other => panic!("not a subject: {other}"),
            };
            let Term::Iri(p) = &q.predicate else {
                panic!("predicate is not an IRI")
            };
            oxrdf::Quad::new(
                subject,
                oxrdf::NamedNode::new_unchecked(p.as_str()),
                term(&q.object),
                oxrdf::GraphName::DefaultGraph,
            )
        })
        .collect()
}

fn read_nquads(relative: &str) -> Option<Vec<Quad>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    let text = std::fs::read_to_string(path).ok()?;
    Some(nquads::parse(&text).expect("valid N-Quads"))
}

fn bench(c: &mut Criterion) {
    let quads = credential();
    assert_eq!(quads.len(), 42);
    let ours = canonicalize(&quads).expect("canonicalises");
    let reference = to_oxrdf(&quads);
    assert_eq!(
        ours,
        rdf_canon::canonicalize(&reference).expect("rdf-canon")
    );

    c.bench_function("rdfc/credential_42q_5b", |b| {
        b.iter(|| canonicalize(black_box(&quads)).unwrap())
    });
    c.bench_function("rdf-canon/credential_42q_5b", |b| {
        b.iter(|| rdf_canon::canonicalize(black_box(&reference)).unwrap())
    });

    if let Some(vector) = read_nquads("tests/data/vectors/eddsa-rdfc-2022/canonical-document.nq") {
        c.bench_function("rdfc/eddsa-rdfc-2022_vector", |b| {
            b.iter(|| canonicalize(black_box(&vector)).unwrap())
        });
    }

    let poison = read_nquads("tests/data/rdfc10/rdfc10/test074-in.nq").expect("W3C test 074");
    c.bench_function("rdfc/poison_clique_default_limit", |b| {
        b.iter(|| {
            let err = canonicalize(black_box(&poison)).unwrap_err();
            assert!(matches!(err, CanonError::TooComplex { .. }));
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
