//! General JSON-LD → RDF conversion with bundled contexts and strict ("safe mode") expansion.
//!
//! Data Integrity proofs (`eddsa-rdfc-2022`) sign the RDF dataset of a credential, so the quads
//! produced here must be exactly those of Digital Bazaar's `jsonld.js` `toRDF` in safe mode,
//! which verifiers use. Expansion is done by the `json-ld` crate with a policy that rejects
//! undefined terms; the RDF serialisation of the expanded document is done here, following
//! `jsonld.js` literal rules (number formats, `@json` canonicalisation, `i18n-datatype`
//! directions), and refuses everything safe mode refuses (relative IRIs, dropped objects),
//! because anything silently dropped would be left out of the signature.
//!
//! Contexts come only from the files in `contexts/`, compiled into the binary: an unknown
//! context URL is an error, nothing is ever fetched. The top-level context of a document that
//! uses only bundled URLs is processed once and reused: processing the VC and OB contexts
//! dominates the cost of a conversion otherwise.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, RwLock};
use std::task::{Poll, Waker};

use json_ld::context_processing::{Options as ProcessingOptions, Process};
use json_ld::expansion::{Action, Error as ExpansionError, Options as ExpansionOptions, Policy};
use json_ld::syntax::{Parse, TryFromJson};
use json_ld::{Expand, IndexedObject, IriBuf, Object, ProcessingMode, RemoteDocument};

mod error;
mod serialize;

pub use error::JsonLdError;
pub use serialize::MAX_QUADS;

use self::serialize::{id_str, serialize, ActiveContext, BlankId, LdDocument, LdNode};
use super::rdf::{percent_decodes_to_utf8, Quad};

/// Maximum nesting of JSON arrays and objects accepted; deeper input is rejected before
/// expansion, whose recursion would otherwise be driven by the input.
pub const MAX_DEPTH: usize = 64;
/// Maximum number of JSON values (of any kind) in one document.
pub const MAX_VALUES: usize = 100_000;
/// Documents nested at most this deep are converted on the caller's thread; deeper ones on
/// a thread with a [`DEEP_STACK_BYTES`] stack. Credentials nest about ten levels.
const INLINE_DEPTH: usize = 16;
/// Stack of the thread that converts deep documents: [`MAX_DEPTH`] levels of nested arrays
/// take about 5 MiB in a debug build; only the pages touched are ever committed.
const DEEP_STACK_BYTES: usize = 32 << 20;
/// Upper bound on the number of distinct context lists kept processed.
const MAX_CACHED_CONTEXTS: usize = 32;

/// Context URL of the W3C Verifiable Credentials Data Model 2.0.
pub const CREDENTIALS_V2: &str = "https://www.w3.org/ns/credentials/v2";
/// Context URL of Open Badges 3.0.3, the one this service issues with.
pub const OB_V3P0_3: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
/// Context URL of the 1EdTech extensions (e.g. `1EdTechJsonSchemaValidator2019`).
pub const OB_EXTENSIONS: &str = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json";

/// Context URL of the `Ed25519Signature2020` suite, which wallets sign DIDAuth
/// presentations with.
pub const ED25519_2020_V1: &str = "https://w3id.org/security/suites/ed25519-2020/v1";

/// Every bundled context: URL and document (see `contexts/README.md` for the sources).
pub const BUNDLED_CONTEXTS: &[(&str, &str)] = &[
    (
        CREDENTIALS_V2,
        include_str!("../contexts/www.w3.org_ns_credentials_v2.jsonld"),
    ),
    (
        "https://www.w3.org/2018/credentials/v1",
        include_str!("../contexts/www.w3.org_2018_credentials_v1.jsonld"),
    ),
    (
        "https://www.w3.org/ns/credentials/undefined-terms/v2",
        include_str!("../contexts/www.w3.org_ns_credentials_undefined-terms_v2.jsonld"),
    ),
    (
        "https://www.w3.org/ns/credentials/status/v1",
        include_str!("../contexts/www.w3.org_ns_credentials_status_v1.jsonld"),
    ),
    (
        "https://w3id.org/security/data-integrity/v1",
        include_str!("../contexts/w3id.org_security_data-integrity_v1.jsonld"),
    ),
    (
        "https://w3id.org/security/data-integrity/v2",
        include_str!("../contexts/w3id.org_security_data-integrity_v2.jsonld"),
    ),
    (
        "https://w3id.org/security/multikey/v1",
        include_str!("../contexts/w3id.org_security_multikey_v1.jsonld"),
    ),
    (
        ED25519_2020_V1,
        include_str!("../contexts/w3id.org_security_suites_ed25519-2020_v1.jsonld"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
        include_str!("../contexts/purl.imsglobal.org_spec_ob_v3p0_context.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
        include_str!("../contexts/purl.imsglobal.org_spec_ob_v3p0_context-3.0.1.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
        include_str!("../contexts/purl.imsglobal.org_spec_ob_v3p0_context-3.0.2.json"),
    ),
    (
        OB_V3P0_3,
        include_str!("../contexts/purl.imsglobal.org_spec_ob_v3p0_context-3.0.3.json"),
    ),
    (
        OB_EXTENSIONS,
        include_str!("../contexts/purl.imsglobal.org_spec_ob_v3p0_extensions.json"),
    ),
];

/// Context lists processed eagerly by [`JsonLdProcessor::new`]: the ones our own credentials,
/// proofs and status lists use.
const PRELOADED_CONTEXT_LISTS: &[&[&str]] = &[
    &[CREDENTIALS_V2, OB_V3P0_3],
    &[CREDENTIALS_V2, OB_V3P0_3, OB_EXTENSIONS],
    &[CREDENTIALS_V2],
];

/// Converts JSON-LD documents to RDF quads using only the bundled contexts, strictly.
///
/// Build it once (it parses every bundled context and processes the usual context lists) and
/// share it, e.g. through an `Arc`; it is `Send + Sync` and conversions do not block each other
/// except briefly when a new context list is first cached.
pub struct JsonLdProcessor {
    /// The bundled context documents, served by URL to the `json-ld` crate.
    loader: HashMap<IriBuf, RemoteDocument>,
    /// Processed active contexts by context URL list.
    cache: RwLock<HashMap<Vec<String>, Arc<ActiveContext>>>,
}

// The processor is shared between request handlers.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<JsonLdProcessor>();
};

impl Default for JsonLdProcessor {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for JsonLdProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLdProcessor")
            .field("contexts", &self.loader.len())
            .finish_non_exhaustive()
    }
}

impl JsonLdProcessor {
    /// Parses the bundled contexts and processes the context lists our credentials use.
    ///
    /// # Panics
    ///
    /// If a bundled context is not valid JSON-LD, which the test suite rules out.
    pub fn new() -> Self {
        let mut loader = HashMap::new();
        for (url, text) in BUNDLED_CONTEXTS {
            let iri = IriBuf::new((*url).to_owned()).expect("bundled context URL is an IRI");
            let (json, _) = json_ld::syntax::Value::parse_str(text)
                .unwrap_or_else(|e| panic!("bundled context {url} is not JSON: {e}"));
            loader.insert(iri.clone(), RemoteDocument::new(Some(iri), None, json));
        }
        let processor = JsonLdProcessor {
            loader,
            cache: RwLock::new(HashMap::new()),
        };
        for list in PRELOADED_CONTEXT_LISTS {
            let key: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
            processor
                .processed_context(&key)
                .unwrap_or_else(|e| panic!("bundled contexts {list:?} do not process: {e}"));
        }
        processor
    }

    /// Converts `doc` to RDF quads exactly as `jsonld.toRDF` (safe mode, no base IRI,
    /// `rdfDirection: 'i18n-datatype'`) does, up to blank node labels.
    ///
    /// Fails on any term or `@type` no context defines, unknown context URLs, relative IRIs
    /// and anything else safe mode rejects, on input nested deeper than [`MAX_DEPTH`] or
    /// larger than [`MAX_VALUES`] values, and on output of more than [`MAX_QUADS`] quads.
    pub fn to_rdf(&self, doc: &serde_json::Value) -> Result<Vec<Quad>, JsonLdError> {
        let depth = precheck(doc, &self.loader)?;
        if depth <= INLINE_DEPTH {
            return self.convert(doc);
        }
        // Expansion recurses for every level with large frames: in a debug build, about 30
        // levels of nested arrays overflow the 2 MiB stack of an async or blocking worker and
        // abort the process (release frames are smaller, by a margin not known for every
        // shape of input). Deep documents get a thread whose stack fits MAX_DEPTH; most
        // documents never pay for it.
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("jsonld-deep".into())
                .stack_size(DEEP_STACK_BYTES)
                .spawn_scoped(scope, || self.convert(doc))
                .map_err(|e| {
                    JsonLdError::Invalid(format!("cannot start a thread for a deep document: {e}"))
                })?
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    /// [`Self::to_rdf`] after the precheck, on the current thread.
    fn convert(&self, doc: &serde_json::Value) -> Result<Vec<Quad>, JsonLdError> {
        let expanded = self.expand(doc).map_err(|e| explain(e, doc))?;
        check_dropped_objects(&expanded)?;
        let mut expanded = expanded;
        let mut generator = json_ld::rdf_types::generator::Blank::new_with_prefix("b".into());
        expanded.relabel_and_canonicalize_with(&mut (), &mut generator);
        serialize(&expanded)
    }

    /// Expands `doc`, reusing the processed top-level context when it only names bundled URLs.
    fn expand(&self, doc: &serde_json::Value) -> Result<LdDocument, JsonLdError> {
        let options = ExpansionOptions {
            processing_mode: ProcessingMode::JsonLd1_1,
            // Undefined keys are errors (`allow_undefined`); invalid IRIs are kept so that the
            // serialiser can name them in its error.
            policy: Policy {
                invalid: Action::Keep,
                vocab: Action::Keep,
                allow_undefined: false,
            },
            ordered: false,
        };
        let (context, input) = match cacheable_context(doc) {
            Some(urls) => {
                let context = self.processed_context(&urls)?;
                (ActiveContext::clone(&context), to_json_syntax(doc, true))
            }
            None => (ActiveContext::new(None), to_json_syntax(doc, false)),
        };
        let mut vocabulary = ();
        let future = input.expand_full(&mut vocabulary, context, None, &self.loader, options, ());
        block_on(future)?.map_err(expansion_error)
    }

    /// The processed context for a list of bundled context URLs, from the cache if possible.
    fn processed_context(&self, urls: &[String]) -> Result<Arc<ActiveContext>, JsonLdError> {
        if let Some(found) = self.cache.read().ok().and_then(|c| c.get(urls).cloned()) {
            return Ok(found);
        }
        let json = json_ld::syntax::Value::Array(
            urls.iter()
                .map(|u| json_ld::syntax::Value::String(u.as_str().into()))
                .collect(),
        );
        let local = json_ld::syntax::context::Context::try_from_json(json)
            .map_err(|e| JsonLdError::Invalid(format!("@context: {e}")))?;
        let (mut vocabulary, empty) = ((), ActiveContext::new(None));
        let future = local.process_full(
            &mut vocabulary,
            &empty,
            &self.loader,
            None,
            ProcessingOptions::default(),
            (),
        );
        let processed = block_on(future)?
            .map_err(|e| match e {
                json_ld::context_processing::Error::ContextLoadingFailed(l) => {
                    JsonLdError::UnknownContext(l.target.to_string())
                }
                e => JsonLdError::Invalid(format!("@context: {e}")),
            })?
            .into_processed();
        let processed = Arc::new(processed);
        if let Ok(mut cache) = self.cache.write() {
            // Bounded: the key space is attacker-chosen (any combination of bundled URLs).
            if cache.len() < MAX_CACHED_CONTEXTS {
                cache.insert(urls.to_vec(), Arc::clone(&processed));
            }
        }
        Ok(processed)
    }
}

/// Runs a future of the `json-ld` crate to completion. Its futures never wait (the loader
/// answers from memory), so a single poll finishes them; no async runtime is needed.
fn block_on<F: Future>(future: F) -> Result<F::Output, JsonLdError> {
    let mut future = pin!(future);
    let mut cx = std::task::Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => Err(JsonLdError::Invalid(
            "JSON-LD processing unexpectedly waited".into(),
        )),
    }
}

/// The top-level `@context` as a list of URLs when it is one bundled URL or an array of them.
fn cacheable_context(doc: &serde_json::Value) -> Option<Vec<String>> {
    let context = doc.as_object()?.get("@context")?;
    let urls: Option<Vec<String>> = match context {
        serde_json::Value::String(url) => Some(vec![url.clone()]),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    };
    urls.filter(|urls| !urls.is_empty())
}

/// Walks the input once, without recursion: rejects excessive depth or size, unknown context
/// URLs, and value objects that safe mode rejects but expansion would silently drop. Returns
/// the depth of the document (the root is level 1).
fn precheck(
    doc: &serde_json::Value,
    loader: &HashMap<IriBuf, RemoteDocument>,
) -> Result<usize, JsonLdError> {
    let known = |url: &str| loader.keys().any(|k| k.as_str() == url);
    if doc.is_array() {
        check_graph_members(doc)?;
    }
    let mut stack = vec![(doc, 1usize)];
    let mut count = 0usize;
    let mut deepest = 1usize;
    while let Some((value, depth)) = stack.pop() {
        count += 1;
        deepest = deepest.max(depth);
        if count > MAX_VALUES {
            return Err(JsonLdError::Invalid(format!(
                "document has more than {MAX_VALUES} JSON values"
            )));
        }
        let children: Box<dyn Iterator<Item = &serde_json::Value>> = match value {
            serde_json::Value::Array(items) => Box::new(items.iter()),
            serde_json::Value::Object(map) => {
                if let Some(context) = map.get("@context") {
                    let urls: Vec<&serde_json::Value> = match context {
                        serde_json::Value::Array(items) => items.iter().collect(),
                        other => vec![other],
                    };
                    for url in urls.iter().filter_map(|u| u.as_str()) {
                        if !known(url) {
                            return Err(JsonLdError::UnknownContext(url.to_owned()));
                        }
                    }
                }
                if map.get("@value").is_some_and(serde_json::Value::is_null) {
                    return Err(JsonLdError::Invalid("`@value` is null".into()));
                }
                if map.len() == 1 && map.contains_key("@language") {
                    return Err(JsonLdError::Invalid("object with only `@language`".into()));
                }
                if let Some(graph) = map.get("@graph") {
                    check_graph_members(graph)?;
                }
                for key in map.keys() {
                    check_percent_encoding(key)?;
                }
                Box::new(map.values())
            }
            serde_json::Value::String(s) => {
                check_percent_encoding(s)?;
                continue;
            }
            _ => continue,
        };
        for child in children {
            if depth + 1 > MAX_DEPTH {
                return Err(JsonLdError::Invalid(format!(
                    "nesting deeper than {MAX_DEPTH} levels"
                )));
            }
            stack.push((child, depth + 1));
        }
    }
    Ok(deepest)
}

/// Refuses a string that may become an IRI (it parses as an IRI reference) whose `%XX`
/// octets do not decode to UTF-8: the `iref` crate under `json-ld` panics when it hashes
/// such an IRI (`pct-str` unwraps the decoding), and expansion hashes the nodes it builds.
/// Found by fuzzing (`fuzz/`). This runs before expansion knows which strings become IRIs,
/// so a literal that merely looks like one (no spaces, a stray `%FF`) is refused too.
fn check_percent_encoding(s: &str) -> Result<(), JsonLdError> {
    if !s.contains('%') || json_ld::IriRef::new(s).is_err() || percent_decodes_to_utf8(s) {
        return Ok(());
    }
    Err(JsonLdError::Invalid(format!(
        "the IRI `{s}` percent-encodes octets that are not UTF-8"
    )))
}

/// Safe mode rejects what expansion drops from a graph (`@graph`, or a top-level array):
/// scalars, empty objects, `@value` objects and objects with nothing but an identifier.
fn check_graph_members(members: &serde_json::Value) -> Result<(), JsonLdError> {
    let members = match members {
        serde_json::Value::Array(items) => items.as_slice(),
        other => std::slice::from_ref(other),
    };
    for member in members {
        match member {
            serde_json::Value::Object(map) => {
                let keys: Vec<&str> = map
                    .keys()
                    .map(String::as_str)
                    .filter(|k| *k != "@context")
                    .collect();
                let dropped = match keys.as_slice() {
                    [] => Some("empty object".to_owned()),
                    [k] if *k == "id" || *k == "@id" => {
                        Some(format!("object with only an id ({}) in a graph", map[*k]))
                    }
                    _ if map.contains_key("@value") => Some("value object in a graph".into()),
                    _ => None,
                };
                if let Some(reason) = dropped {
                    return Err(JsonLdError::Invalid(reason));
                }
            }
            serde_json::Value::Array(_) => check_graph_members(member)?,
            serde_json::Value::Null => {}
            scalar => {
                return Err(JsonLdError::Invalid(format!(
                    "free-floating scalar {scalar} in a graph"
                )))
            }
        }
    }
    Ok(())
}

/// Converts to the `json-ld` crate's JSON type, optionally without the top-level `@context`
/// (when the processed context is supplied instead). Depth is bounded by [`precheck`].
fn to_json_syntax(value: &serde_json::Value, strip_context: bool) -> json_ld::syntax::Value {
    use json_ld::syntax::Value as J;
    match value {
        serde_json::Value::Null => J::Null,
        serde_json::Value::Bool(b) => J::Boolean(*b),
        serde_json::Value::Number(n) => {
            // serde_json prints numbers as valid JSON numbers, which NumberBuf accepts.
            match n.to_string().parse() {
                Ok(number) => J::Number(number),
                Err(_) => J::Null,
            }
        }
        serde_json::Value::String(s) => J::String(s.as_str().into()),
        serde_json::Value::Array(items) => {
            J::Array(items.iter().map(|v| to_json_syntax(v, false)).collect())
        }
        serde_json::Value::Object(map) => {
            let mut object = json_ld::syntax::Object::new();
            for (key, v) in map {
                if strip_context && key == "@context" {
                    continue;
                }
                object.push(key.as_str().into(), to_json_syntax(v, false));
            }
            J::Object(object)
        }
    }
}

/// Maps an expansion error to ours.
fn expansion_error(e: ExpansionError) -> JsonLdError {
    match e {
        ExpansionError::KeyExpansionFailed(key) => JsonLdError::UndefinedTerm(key),
        ExpansionError::ContextProcessing(
            json_ld::context_processing::Error::ContextLoadingFailed(l),
        ) => JsonLdError::UnknownContext(l.target.to_string()),
        e => JsonLdError::Invalid(e.to_string()),
    }
}

/// Replaces an undefined term by its JSON path when the key occurs exactly once in `doc`.
fn explain(e: JsonLdError, doc: &serde_json::Value) -> JsonLdError {
    let JsonLdError::UndefinedTerm(term) = e else {
        return e;
    };
    let mut found = Vec::new();
    find_key(doc, &term, String::new(), &mut found);
    match found.as_slice() {
        [path] => JsonLdError::UndefinedTerm(path.clone()),
        _ => JsonLdError::UndefinedTerm(term),
    }
}

/// Collects the paths of `key` in `value` (outside `@context`); stops after two.
fn find_key(value: &serde_json::Value, key: &str, path: String, found: &mut Vec<String>) {
    if found.len() > 1 {
        return;
    }
    match value {
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                find_key(item, key, format!("{path}[{i}]"), found);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                if k == "@context" {
                    continue;
                }
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if k == key {
                    found.push(child.clone());
                }
                find_key(v, key, child, found);
            }
        }
        _ => {}
    }
}

/// Safe mode rejects empty and `@id`-only node objects at the top level and directly in a
/// graph: expansion drops them without a trace.
fn check_dropped_objects(doc: &LdDocument) -> Result<(), JsonLdError> {
    for object in doc.iter() {
        check_graph_member(object)?;
    }
    Ok(())
}

/// Rejects `object` if it is an empty node, then checks the graphs nested in it.
fn check_graph_member(object: &IndexedObject<IriBuf, BlankId>) -> Result<(), JsonLdError> {
    if let Object::Node(node) = object.inner() {
        if node.is_empty() {
            return Err(JsonLdError::Invalid(match &node.id {
                Some(id) => format!("node object with only an id (`{}`)", id_str(id)),
                None => "empty node object".into(),
            }));
        }
    }
    visit_nodes(object, &mut |node| {
        if let Some(graph) = node.graph_entry() {
            for member in graph.iter() {
                check_graph_member(member)?;
            }
        }
        Ok(())
    })
}

/// Calls `f` on every node object nested in `object` (itself included).
fn visit_nodes(
    object: &IndexedObject<IriBuf, BlankId>,
    f: &mut dyn FnMut(&LdNode) -> Result<(), JsonLdError>,
) -> Result<(), JsonLdError> {
    match object.inner() {
        Object::Node(node) => {
            f(node)?;
            for (_, values) in node.properties().iter() {
                for value in values {
                    visit_nodes(value, f)?;
                }
            }
        }
        Object::List(list) => {
            for item in list.iter() {
                visit_nodes(item, f)?;
            }
        }
        Object::Value(_) => {}
    }
    Ok(())
}
