//! JSON-LD → RDF against the `jsonld.js` test vectors, and the strict-expansion failures.
//!
//! The vectors (`tests/data/vectors/`) were produced by Digital Bazaar's `jsonld.js` +
//! `rdf-canonize`; matching their canonical N-Quads byte for byte is what makes our
//! `eddsa-rdfc-2022` signatures verify elsewhere.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use partnership_badges::credential::jsonld::{JsonLdError, JsonLdProcessor};
use partnership_badges::credential::rdfc::canonicalize;
use serde_json::{json, Value};

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/vectors")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(vectors().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn json(path: &str) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One processor for all tests, as the service shares one.
fn processor() -> &'static JsonLdProcessor {
    static PROCESSOR: OnceLock<JsonLdProcessor> = OnceLock::new();
    PROCESSOR.get_or_init(JsonLdProcessor::new)
}

fn canonical(doc: &Value) -> String {
    let quads = processor().to_rdf(doc).expect("to_rdf");
    canonicalize(&quads).expect("canonicalize")
}

fn credential() -> Value {
    json("credential.unsigned.json")
}

#[test]
fn credential_matches_jsonld_js_canonical_nquads() {
    assert_eq!(
        canonical(&credential()),
        read("eddsa-rdfc-2022/canonical-document.nq")
    );
}

#[test]
fn proof_config_matches_jsonld_js_canonical_nquads() {
    assert_eq!(
        canonical(&json("eddsa-rdfc-2022/proof-config.json")),
        read("eddsa-rdfc-2022/canonical-proof-config.nq")
    );
}

#[test]
fn signed_credential_puts_the_proof_in_its_own_graph() {
    let signed = json("eddsa-rdfc-2022/credential.signed.json");
    let quads = processor().to_rdf(&signed).unwrap();
    let proof_graph: Vec<_> = quads.iter().filter(|q| q.graph.is_some()).collect();
    assert!(!proof_graph.is_empty(), "proof quads in a named graph");
    assert!(proof_graph
        .iter()
        .all(|q| q.graph.as_ref().is_some_and(|g| g.is_blank())));
    // Without the proof, the credential's own quads are those of the unsigned credential.
    let mut unsigned = signed.clone();
    unsigned.as_object_mut().unwrap().remove("proof");
    assert_eq!(
        canonical(&unsigned),
        read("eddsa-rdfc-2022/canonical-document.nq")
    );
}

#[test]
fn inline_context_takes_the_uncached_path_with_the_same_result() {
    // An object in `@context` cannot use a processed context list: the full algorithm runs.
    let mut doc = credential();
    doc["@context"].as_array_mut().unwrap().push(json!({}));
    assert_eq!(
        canonical(&doc),
        read("eddsa-rdfc-2022/canonical-document.nq")
    );
}

#[test]
fn undefined_term_is_rejected_and_named() {
    let mut doc = credential();
    doc["evidence"][0]["mentorEmail"] = json!("mentor@example.org");
    match processor().to_rdf(&doc) {
        Err(JsonLdError::UndefinedTerm(term)) => {
            assert_eq!(term, "evidence[0].mentorEmail");
        }
        other => panic!("expected UndefinedTerm, got {other:?}"),
    }
}

#[test]
fn undefined_terms_context_makes_extra_terms_legal() {
    let mut doc = credential();
    doc["@context"].as_array_mut().unwrap().push(json!(
        "https://www.w3.org/ns/credentials/undefined-terms/v2"
    ));
    doc["evidence"][0]["mentorEmail"] = json!("mentor@example.org");
    let quads = processor().to_rdf(&doc).unwrap();
    assert!(quads
        .iter()
        .any(|q| format!("{:?}", q.predicate).contains("mentorEmail")));
}

#[test]
fn unknown_context_is_rejected_without_fetching() {
    let mut doc = credential();
    doc["@context"]
        .as_array_mut()
        .unwrap()
        .push(json!("https://example.org/contexts/mine.json"));
    match processor().to_rdf(&doc) {
        Err(JsonLdError::UnknownContext(url)) => {
            assert_eq!(url, "https://example.org/contexts/mine.json");
        }
        other => panic!("expected UnknownContext, got {other:?}"),
    }
    // Also in a nested (embedded) context.
    let mut doc = credential();
    doc["credentialSubject"]["@context"] = json!("https://example.org/nested.json");
    assert!(matches!(
        processor().to_rdf(&doc),
        Err(JsonLdError::UnknownContext(url)) if url == "https://example.org/nested.json"
    ));
}

#[test]
fn relative_type_is_rejected() {
    let schema = json!([{
        "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
        "type": "1EdTechJsonSchemaValidator2019"
    }]);
    let mut doc = credential();
    doc["credentialSchema"] = schema;
    match processor().to_rdf(&doc) {
        Err(JsonLdError::UndefinedTerm(term)) => {
            assert_eq!(term, "1EdTechJsonSchemaValidator2019");
        }
        other => panic!("expected UndefinedTerm, got {other:?}"),
    }
    // With the 1EdTech extensions context, the same type is defined.
    doc["@context"].as_array_mut().unwrap().push(json!(
        "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
    ));
    processor()
        .to_rdf(&doc)
        .expect("defined by extensions.json");
}

#[test]
fn relative_id_is_rejected() {
    let mut doc = credential();
    doc["id"] = json!("credentials/1");
    assert!(matches!(
        processor().to_rdf(&doc),
        Err(JsonLdError::RelativeIri(id)) if id == "credentials/1"
    ));
}

/// IRIs whose percent-encoded octets are not UTF-8 (found by fuzzing: the `json-ld` crate's
/// IRI type panics hashing them) are an error, not a panic, wherever they may become IRIs:
/// ids, undefined terms under the undefined-terms context's `@vocab`, `@type` values.
#[test]
fn percent_encoded_non_utf8_iris_are_rejected() {
    let reject = |doc: &Value, what: &str| match processor().to_rdf(doc) {
        Err(JsonLdError::Invalid(e)) => assert!(e.contains("not UTF-8"), "{what}: {e}"),
        other => panic!("{what}: expected an error, got {other:?}"),
    };
    // The fuzzer's input: a credential whose id has a lone continuation byte.
    let mut doc = credential();
    doc["id"] = json!("urn:uuid:0f4c7a3e-1b2d-4e5f-%a9b-0c1d2e3f4a5b");
    reject(&doc, "id");
    let mut doc = credential();
    doc["evidence"][0]["id"] = json!("https://example.org/caf%C3");
    reject(&doc, "nested id");
    let mut doc = credential();
    doc["@context"].as_array_mut().unwrap().push(json!(
        "https://www.w3.org/ns/credentials/undefined-terms/v2"
    ));
    doc["evidence"][0]["mentor%FF"] = json!("x");
    reject(&doc, "undefined term");
    let mut doc = credential();
    doc["credentialSubject"]["type"] = json!(["AchievementSubject", "x%80"]);
    reject(&doc, "type");

    // UTF-8 octets are fine, and so is a literal that only looks percent-encoded.
    let mut doc = credential();
    doc["id"] = json!("https://example.org/caf%C3%A9");
    doc["name"] = json!("50%de descuento, 100%FF");
    processor()
        .to_rdf(&doc)
        .expect("a UTF-8 IRI and a plain literal");
}

#[test]
fn objects_that_expansion_would_drop_are_rejected() {
    let mut doc = credential();
    doc["name"] = json!({ "@value": null });
    assert!(matches!(
        processor().to_rdf(&doc),
        Err(JsonLdError::Invalid(_))
    ));
    let mut doc = credential();
    doc["proof"] = json!([{}]);
    assert!(matches!(
        processor().to_rdf(&doc),
        Err(JsonLdError::Invalid(_))
    ));
}

#[test]
fn deep_nesting_is_rejected_quickly() {
    // Built by hand: `json!` and serde recurse, which is the very thing under test.
    let mut nested = json!("leaf");
    for _ in 0..10_000 {
        nested = Value::Array(vec![nested]);
    }
    let mut doc = credential();
    doc["name"] = nested;
    let start = Instant::now();
    assert!(matches!(
        processor().to_rdf(&doc),
        Err(JsonLdError::Invalid(msg)) if msg.contains("nesting")
    ));
    assert!(start.elapsed() < Duration::from_secs(1));
    // Dropping a `Value` recurses too: take it apart iteratively.
    let mut stack = vec![doc];
    while let Some(mut v) = stack.pop() {
        match &mut v {
            Value::Array(a) => stack.append(a),
            Value::Object(o) => stack.extend(std::mem::take(o).into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

#[test]
fn processor_is_shareable_across_threads() {
    let processor = std::sync::Arc::new(JsonLdProcessor::new());
    let doc = credential();
    let expected = read("eddsa-rdfc-2022/canonical-document.nq");
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (processor, doc) = (processor.clone(), doc.clone());
            std::thread::spawn(move || canonicalize(&processor.to_rdf(&doc).unwrap()).unwrap())
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap(), expected);
    }
}

/// Depth is a tool of attack: expansion recurses with large frames, and a 2 MiB worker stack
/// (tokio's default, also for blocking tasks) once overflowed at about 30 levels of nested
/// arrays in a debug build, aborting the process. Every depth up to the limit must convert
/// on such a stack.
#[test]
fn nesting_up_to_the_limit_converts_on_a_worker_sized_stack() {
    use partnership_badges::credential::jsonld::MAX_DEPTH;
    let depth = |v: &Value| {
        let mut stack = vec![(v, 1usize)];
        let mut deepest = 0;
        while let Some((v, d)) = stack.pop() {
            deepest = deepest.max(d);
            match v {
                Value::Array(a) => stack.extend(a.iter().map(|c| (c, d + 1))),
                Value::Object(o) => stack.extend(o.values().map(|c| (c, d + 1))),
                _ => {}
            }
        }
        deepest
    };
    for kind in ["arrays", "objects"] {
        let mut doc = credential();
        let mut inner = json!("leaf");
        while depth(&doc) < MAX_DEPTH {
            inner = match kind {
                "arrays" => json!([inner]),
                _ => json!({"https://example.org/vocab#part": inner}),
            };
            doc["credentialSubject"]["achievement"]["description"] = inner.clone();
        }
        assert_eq!(depth(&doc), MAX_DEPTH);
        let converted = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || processor().to_rdf(&doc).map(|q| q.len()))
            .unwrap()
            .join()
            .unwrap();
        assert!(converted.is_ok(), "{kind}: {converted:?}");
    }
}

#[test]
fn documents_expanding_to_too_many_quads_are_refused() {
    use partnership_badges::credential::jsonld::{MAX_QUADS, MAX_VALUES};
    // Each list item is two quads (rdf:first, rdf:rest): fewer values than the value limit,
    // more quads than the quad limit.
    let items = MAX_QUADS / 2 + 1_000;
    assert!(items < MAX_VALUES);
    let mut doc = credential();
    doc["https://example.org/vocab#items"] = json!({"@list": vec![json!(1); items]});
    let start = Instant::now();
    match processor().to_rdf(&doc) {
        Err(e) => assert!(
            e.to_string()
                .contains(&format!("more than {MAX_QUADS} RDF statements")),
            "{e}"
        ),
        Ok(quads) => panic!("{} quads accepted", quads.len()),
    }
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}
