//! Signing and verification throughput on one core.
//!
//! - `sign_credential/fast`: build a realistic credential struct, map it to quads,
//!   canonicalise (RDFC-1.0), hash and sign with Ed25519 (target ≥ 25,000/s, issue 15);
//! - `verify_proof/fast`: verify that credential from its JSON value (target ≥ 12,000/s);
//! - `verify_document/fast`: all of `POST /verify`'s checks on it but the status read (the
//!   compact-form check and the facts of JSON and signed RDF on top of the proof);
//! - `sign_document/general`: the same credential signed through strict JSON-LD expansion,
//!   for comparison.
//!
//! Run with `cargo bench --bench credential`; credentials/s = 1 / median time. The
//! credential is `support/sample.rs`'s, or the one `BENCH_CREDENTIAL` names (see
//! `credential_source`).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ed25519_dalek::SigningKey;
use partnership_badges::credential::jsonld::JsonLdProcessor;
use partnership_badges::credential::model::OpenBadgeCredential;
use partnership_badges::credential::multikey::resolve_did_key;
use partnership_badges::credential::{sign_credential, sign_document, verify_proof, ProofPath};
use partnership_badges::verify::{verify_document, Check};

#[path = "support/sample.rs"]
mod sample;
use sample::BASE;

/// The credential number `n` to sign: the built-in sample, or (with `BENCH_CREDENTIAL` set to
/// an unsigned credential's JSON file, as `scripts/bench-vs-peers.sh` does) a copy of that
/// one with a fresh id, as the peers' bench does it.
fn credential_source() -> Box<dyn FnMut(u64) -> OpenBadgeCredential> {
    match std::env::var_os("BENCH_CREDENTIAL") {
        Some(path) => {
            let text = std::fs::read_to_string(&path).expect("BENCH_CREDENTIAL is readable");
            let template: OpenBadgeCredential =
                serde_json::from_str(&text).expect("BENCH_CREDENTIAL is one of our credentials");
            Box::new(move |n| {
                let mut c = template.clone();
                c.id = format!("urn:uuid:6f1c2d8e-0b7a-4e15-9d3c-{n:012x}");
                c
            })
        }
        None => Box::new(|n| sample::credential(n, &format!("{BASE}/issuer"))),
    }
}

fn benches(c: &mut Criterion) {
    let key = SigningKey::from_bytes(&[7; 32]);
    let vm =
        partnership_badges::credential::multikey::did_key_verification_method(&key.verifying_key());
    let created = "2025-06-01T12:00:00Z";
    let jsonld = JsonLdProcessor::new();

    let mut credential = credential_source();
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
