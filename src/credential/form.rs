//! The compact form a document must be in before a verifier reads anything from its JSON.
//!
//! A signature covers the document's RDF, not its JSON keys, and JSON-LD can say the same
//! RDF in many JSON shapes: a full IRI as a key, a term defined in an inline `@context`, a
//! value object, a keyword alias. A reader of the JSON would then see one thing while the
//! signature covers another. So verification accepts only the shape the bundled contexts
//! compact to: the `@context` is a list of bundled context URLs with the VC base context
//! first, no other `@context` appears (but the proof's own, a prefix of the document's, which
//! the proof check compares), every key is a plain term (no keyword, no IRI or compact IRI),
//! and no value is `null` (expansion drops it, so it is never signed). Terms that no context
//! defines are refused by strict expansion itself ([`super::jsonld`]).

use serde_json::Value;

use super::jsonld::{BUNDLED_CONTEXTS, CREDENTIALS_V2};

/// The VC base contexts, one of which must come first.
pub const BASE_CONTEXTS: &[&str] = &[CREDENTIALS_V2, "https://www.w3.org/2018/credentials/v1"];

/// Why a document is not in the compact form verification reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormError(pub String);

/// Checks that `doc` is in the compact form of the bundled contexts (see the module docs).
pub fn check_compact_form(doc: &Value) -> Result<(), FormError> {
    let fail = |s: String| Err(FormError(s));
    let Value::Object(root) = doc else {
        return fail("the document is not a JSON object".into());
    };
    check_context_list(root.get("@context"), "@context")?;
    // Depth is bounded by the caller (the body parser's limit), so a plain stack suffices.
    // Paths are kept as links to their parent and spelled out only for an error: the walk
    // runs on every verification and allocates nothing per member.
    let mut steps: Vec<(Option<usize>, Step<'_>)> = Vec::new();
    let mut stack: Vec<(&Value, Option<usize>)> = vec![(doc, None)];
    while let Some((value, at)) = stack.pop() {
        match value {
            Value::Null => {
                return fail(format!(
                    "`{}` is null: JSON-LD drops null values, so it is not part of what was \
                     signed; leave the member out instead",
                    display(&path(&steps, at))
                ))
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate().rev() {
                    steps.push((at, Step::Index(i)));
                    stack.push((item, Some(steps.len() - 1)));
                }
            }
            Value::Object(map) => {
                for (key, child) in map.iter().rev() {
                    steps.push((at, Step::Key(key)));
                    let here = Some(steps.len() - 1);
                    if key == "@context" {
                        match at {
                            // Checked above.
                            None => continue,
                            // The proof's own context is compared with the document's by the
                            // proof check; here it only has to be bundled URLs.
                            Some(i) if is_proof(&steps, i) => {
                                check_context_list(Some(child), "proof.@context")?;
                                continue;
                            }
                            _ => {
                                return fail(format!(
                                    "`{}`: a nested @context is not allowed; only the \
                                     document's top-level @context of bundled URLs",
                                    path(&steps, here)
                                ))
                            }
                        }
                    }
                    if key.starts_with('@') {
                        return fail(format!(
                            "`{}`: the JSON-LD keyword form {key:?} is not allowed; a \
                             credential uses only the terms of its contexts (`id`, `type`, …)",
                            path(&steps, here)
                        ));
                    }
                    if key.contains(':') {
                        return fail(format!(
                            "`{}`: the key {key:?} is an IRI, not a term of the bundled \
                             contexts; write the term it stands for",
                            path(&steps, here)
                        ));
                    }
                    stack.push((child, here));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// One step of a path: a member name or an array index.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The path ending at `at` (`evidence[0].name`), from the parent links in `steps`.
fn path(steps: &[(Option<usize>, Step<'_>)], mut at: Option<usize>) -> String {
    let mut parts = Vec::new();
    while let Some(i) = at {
        parts.push(&steps[i].1);
        at = steps[i].0;
    }
    let mut out = String::new();
    for step in parts.into_iter().rev() {
        match step {
            Step::Key(k) if out.is_empty() => out.push_str(k),
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Checks a `@context` value: a bundled URL or a list of distinct bundled URLs, a VC base
/// context first and only there.
fn check_context_list(context: Option<&Value>, what: &str) -> Result<(), FormError> {
    let fail = |s: String| Err(FormError(s));
    let items: Vec<&Value> = match context {
        None => return fail(format!("{what} is missing")),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    };
    if items.is_empty() {
        return fail(format!("{what} is empty"));
    }
    let mut seen: Vec<&str> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::String(url) = item else {
            return fail(format!(
                "{what}[{i}] is not a context URL: inline @context definitions are not allowed, \
                 only the bundled context URLs"
            ));
        };
        if !BUNDLED_CONTEXTS.iter().any(|(u, _)| u == url) {
            return fail(format!(
                "{what}[{i}] {url:?} is not a bundled context (contexts are never fetched)"
            ));
        }
        let base = BASE_CONTEXTS.contains(&url.as_str());
        if i == 0 && !base {
            return fail(format!(
                "{what} must start with the Verifiable Credentials context ({CREDENTIALS_V2})"
            ));
        }
        if i > 0 && base {
            return fail(format!(
                "{what}[{i}]: the Verifiable Credentials context may appear only first"
            ));
        }
        if seen.contains(&url.as_str()) {
            return fail(format!("{what}[{i}] {url:?} appears twice"));
        }
        seen.push(url);
    }
    Ok(())
}

fn display(path: &str) -> &str {
    if path.is_empty() {
        "the document"
    } else {
        path
    }
}

/// True if step `i` is the top-level `proof`, or an item of a top-level `proof` array.
fn is_proof(steps: &[(Option<usize>, Step<'_>)], i: usize) -> bool {
    match steps[i] {
        (None, Step::Key("proof")) => true,
        (Some(parent), Step::Index(_)) => matches!(steps[parent], (None, Step::Key("proof"))),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const OB: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";

    fn doc(extra: Value) -> Value {
        let mut d = json!({
            "@context": [CREDENTIALS_V2, OB],
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "credentialSubject": {"achievement": {"name": "x"}},
            "proof": {"@context": [CREDENTIALS_V2], "type": "DataIntegrityProof"}
        });
        for (k, v) in extra.as_object().unwrap() {
            d[k] = v.clone();
        }
        d
    }

    #[test]
    fn compact_documents_pass() {
        check_compact_form(&doc(json!({}))).unwrap();
        check_compact_form(&doc(json!({"@context": CREDENTIALS_V2}))).unwrap();
    }

    #[test]
    fn everything_else_is_refused_with_its_path() {
        let cases = [
            (json!({"@context": [CREDENTIALS_V2, {"x": "y"}]}), "inline"),
            (json!({"@context": [OB, CREDENTIALS_V2]}), "must start"),
            (json!({"@context": [CREDENTIALS_V2, OB, OB]}), "twice"),
            (
                json!({"@context": [CREDENTIALS_V2, "https://evil.example/c"]}),
                "not a bundled",
            ),
            (json!({"@context": []}), "empty"),
            (
                json!({"https://www.w3.org/2018/credentials#credentialStatus": {}}),
                "is an IRI",
            ),
            (json!({"cred:validUntil": "x"}), "is an IRI"),
            (json!({"validUntil": {"@value": "x"}}), "validUntil.@value"),
            (json!({"@foo": "x"}), "keyword form"),
            (json!({"evidence": [{"name": null}]}), "evidence[0].name"),
            (
                json!({"credentialSubject": {"@context": {"achievement": null}}}),
                "nested @context",
            ),
        ];
        for (extra, needle) in cases {
            let err = check_compact_form(&doc(extra.clone())).unwrap_err();
            assert!(err.0.contains(needle), "{extra}: {err}");
        }
        let mut no_context = doc(json!({}));
        no_context.as_object_mut().unwrap().remove("@context");
        assert!(check_compact_form(&no_context).is_err());
        let mut bad_proof = doc(json!({}));
        bad_proof["proof"]["@context"] = json!([{"@vocab": "https://x.example/"}]);
        assert!(check_compact_form(&bad_proof)
            .unwrap_err()
            .0
            .contains("proof.@context"));
    }
}
