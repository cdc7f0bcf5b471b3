//! Signing and verification throughput on one core.
//!
//! - `sign_credential/fast`: build a realistic credential struct, map it to quads,
//!   canonicalise (RDFC-1.0), hash and sign with Ed25519 (target ≥ 5,000/s, goal 10,000/s);
//! - `verify_proof/fast`: verify that credential from its JSON value (target ≥ 3,000/s);
//! - `verify_document/fast`: all of `POST /verify`'s checks on it but the status read (the
//!   compact-form check and the facts of JSON and signed RDF on top of the proof);
//! - `sign_document/general`: the same credential signed through strict JSON-LD expansion,
//!   for comparison.
//!
//! Run with `cargo bench --bench credential`; credentials/s = 1 / median time.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ed25519_dalek::SigningKey;
use partnership_badges::credential::jsonld::JsonLdProcessor;
use partnership_badges::credential::model::{
    Achievement, AchievementSubject, Criteria, Evidence, IdentityObject, OpenBadgeCredential,
    Profile, StatusEntry, OB_V3_CONTEXT, VC_V2_CONTEXT,
};
use partnership_badges::credential::multikey::resolve_did_key;
use partnership_badges::credential::{sign_credential, sign_document, verify_proof, ProofPath};
use partnership_badges::verify::{verify_document, Check};

const BASE: &str = "https://badges.example.org";

/// A Partnership Closed credential as the service issues it: hashed email, two evidence
/// entries (closing record and mentor CC), a status entry.
fn credential(n: u64) -> OpenBadgeCredential {
    OpenBadgeCredential {
        context: vec![VC_V2_CONTEXT.into(), OB_V3_CONTEXT.into()],
        id: format!("{BASE}/credentials/6f1c2d8e-0b7a-4e15-9d3c-{n:012x}"),
        types: vec!["VerifiableCredential".into(), "OpenBadgeCredential".into()],
        name: "Partnership Closed".into(),
        description: "Awarded for closing a real partnership with a local organisation, with \
                      the mentor CC'd on the communications."
            .into(),
        issuer: Profile {
            id: format!("{BASE}/issuer"),
            types: vec!["Profile".into()],
            name: "Partnership Training Program".into(),
            url: Some(BASE.into()),
            email: Some("badges@example.org".into()),
        },
        valid_from: "2025-06-01T12:00:00Z".into(),
        valid_until: None,
        credential_subject: AchievementSubject {
            id: None,
            types: vec!["AchievementSubject".into()],
            identifier: vec![IdentityObject {
                kind: "IdentityObject".into(),
                identity_hash:
                    "sha256$8a1f2c4e9b7d6a5c3e1f0b9a8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d".into(),
                identity_type: "emailAddress".into(),
                hashed: true,
                salt: "3f9a1c7e5b2d4f60".into(),
            }],
            achievement: Achievement {
                id: format!("{BASE}/achievements/partnership-closed"),
                types: vec!["Achievement".into()],
                achievement_type: "Badge".into(),
                name: "Partnership Closed".into(),
                description: "Closed one partnership through all five stages.".into(),
                criteria: Criteria {
                    id: None,
                    narrative: "Take a partnership through Lead, Conversation, Shaping, Work \
                                and Transition, and close it with your mentor CC'd."
                        .into(),
                },
            },
        },
        evidence: vec![
            Evidence {
                id: Some(format!("{BASE}/closings/41")),
                types: vec!["Evidence".into()],
                name: Some("Partnership with Riverside Library".into()),
                description: Some("Closed 2025-05-28; outcome: weekly maker club.".into()),
                narrative: Some(
                    "Lead 2025-02-03, Conversation 2025-02-20, Shaping 2025-03-15, Work \
                     2025-04-01, Transition 2025-05-28."
                        .into(),
                ),
                genre: Some("Closing record".into()),
                audience: None,
            },
            Evidence {
                id: None,
                types: vec!["Evidence".into()],
                name: Some("Mentor CC'd: Dana Mentor".into()),
                description: None,
                narrative: Some("Mentor CC'd on the closing communications on 2025-05-28.".into()),
                genre: Some("Mentor CC".into()),
                audience: None,
            },
        ],
        credential_status: Some(StatusEntry {
            id: format!("{BASE}/status/1#{n}"),
            kind: "BitstringStatusListEntry".into(),
            status_purpose: "revocation".into(),
            status_list_index: n.to_string(),
            status_list_credential: format!("{BASE}/status/1"),
        }),
        proof: Vec::new(),
    }
}

fn benches(c: &mut Criterion) {
    let key = SigningKey::from_bytes(&[7; 32]);
    let vm =
        partnership_badges::credential::multikey::did_key_verification_method(&key.verifying_key());
    let created = "2025-06-01T12:00:00Z";
    let jsonld = JsonLdProcessor::new();

    let mut n = 0u64;
    c.bench_function("sign_credential/fast", |b| {
        b.iter(|| {
            n += 1;
            let mut cred = credential(n);
            sign_credential(&mut cred, &key, &vm, created).unwrap();
            black_box(cred)
        })
    });

    let mut signed = credential(1);
    sign_credential(&mut signed, &key, &vm, created).unwrap();
    let doc = serde_json::to_value(&signed).unwrap();
    let resolve = |vm: &str| resolve_did_key(vm).ok();
    assert_eq!(
        verify_proof(&doc, &jsonld, resolve).unwrap().path,
        ProofPath::Fast
    );
    c.bench_function("verify_proof/fast", |b| {
        b.iter(|| black_box(verify_proof(black_box(&doc), &jsonld, resolve).unwrap()))
    });

    // Everything `POST /verify` does with a parsed document but the status read: the
    // compact-form check, the facts of the JSON and of the signed RDF, the proof, the checks.
    let settings = {
        use clap::Parser as _;
        partnership_badges::cli::Cli::try_parse_from(["bench", "--public-base-url", BASE])
            .unwrap()
            .settings
    };
    let issuer = partnership_badges::issuer::Issuer::new(
        &settings,
        partnership_badges::keys::KeyRing::single("k", key.clone()),
    );
    let now = chrono::Utc::now();
    let no_status = |_: &str, _: u64| Some(false);
    let report = verify_document(&doc, &issuer, &jsonld, &no_status, now);
    assert_eq!(report.checks.proof, Check::Passed, "{report:?}");
    c.bench_function("verify_document/fast", |b| {
        b.iter(|| {
            black_box(verify_document(
                black_box(&doc),
                &issuer,
                &jsonld,
                &no_status,
                now,
            ))
        })
    });

    let unsigned = serde_json::to_value(credential(1)).unwrap();
    let mut group = c.benchmark_group("general");
    group.sample_size(20);
    group.bench_function("sign_document/general", |b| {
        b.iter(|| {
            let mut d = unsigned.clone();
            sign_document(&mut d, &key, &vm, created, &jsonld).unwrap();
            black_box(d)
        })
    });
    group.finish();

    // Badge images: the artwork rendered once per achievement and cached; baking (one iTXt
    // chunk into the cached PNG) per request of `badge.png`.
    use partnership_badges::credential::baking::{bake_png, render_png, PNG_KEYWORD_OB3};
    let svg = include_str!("../src/html/assets/partnership-closed.svg");
    let mut images = c.benchmark_group("images");
    images.sample_size(20);
    images.bench_function("render_png/256px", |b| {
        b.iter(|| black_box(render_png(black_box(svg), 256).unwrap()))
    });
    let png = render_png(svg, 256).unwrap();
    let payload = serde_json::to_string(&doc).unwrap();
    images.bench_function("bake_png", |b| {
        b.iter(|| black_box(bake_png(black_box(&png), PNG_KEYWORD_OB3, &payload).unwrap()))
    });
    images.finish();
}

criterion_group!(credential_benches, benches);
criterion_main!(credential_benches);
