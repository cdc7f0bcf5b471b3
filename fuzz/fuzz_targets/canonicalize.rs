//! Strict JSON-LD to RDF (`JsonLdProcessor::to_rdf`) and RDFC-1.0 (`rdfc::canonicalize`) on
//! arbitrary JSON: no panic, no hang (libFuzzer's `-timeout`), and a canonical form that is
//! sorted, newline-terminated and independent of the order of the input quads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use partnership_badges::credential::rdfc::canonicalize;
use partnership_badges_fuzz::jsonld;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(quads) = jsonld().to_rdf(&doc) else {
        return;
    };
    let Ok(canonical) = canonicalize(&quads) else {
        return;
    };
    assert!(canonical.is_empty() || canonical.ends_with('\n'));
    let lines: Vec<&str> = canonical.lines().collect();
    assert!(
        lines.windows(2).all(|w| w[0] < w[1]),
        "canonical lines are not sorted and distinct:\n{canonical}"
    );
    // A dataset is a set: the order of its quads does not matter.
    let mut reversed = quads;
    reversed.reverse();
    assert_eq!(
        canonicalize(&reversed).ok().as_deref(),
        Some(canonical.as_str())
    );
});
