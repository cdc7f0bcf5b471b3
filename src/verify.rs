//! Verifying a credential: proof, issuer key, validity dates and revocation status.
//!
//! Used by `POST /verify`, by the `verify` command (offline: keys and status from this
//! service's own key files and database) and by the library's callers. Keys resolve from
//! this issuer's key ring or from a `did:key`; nothing is fetched from the network.
//!
//! Input arrives in several shapes ([`Input`]): a credential document, a baked PNG or SVG
//! image ([`extract_image`]), or the URL of a credential this service published. Anything
//! that is not a credential at all is an [`AppError`] (4xx); a credential that fails a check
//! is a [`Report`] with `verified: false`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::credential::facts::Facts;
use crate::credential::json::{parse_unique, StrictJsonError};
use crate::credential::{self, baking, form, multikey, ob2};
use crate::db::Store;
use crate::error::{AppError, AppResult};
use crate::issuer::Issuer;
use crate::state::AppState;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    /// Checked and fine.
    Passed,
    /// Checked and wrong.
    Failed,
    /// Could not be checked here.
    Skipped,
}

/// Each check of a verification.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Checks {
    /// The document is an OB 3.0 credential with the required fields, in the compact form of
    /// the bundled contexts, and its JSON states what its signature covers.
    pub structure: Check,
    /// The Data Integrity proof verifies.
    pub proof: Check,
    /// The proof's key belongs to the credential's issuer.
    pub issuer: Check,
    /// `validFrom` has passed and `validUntil` has not.
    pub validity: Check,
    /// Not revoked in its status list.
    pub status: Check,
}

/// Who signed a credential whose proof verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SignedBy {
    /// The issuer id the credential names (and the key belongs to, when `issuer` passed).
    pub id: String,
    /// The name the issuer gives itself: its own claim, whoever it is.
    pub name: Option<String>,
    /// The verification method (key) whose signature verified.
    pub verification_method: String,
    /// True only when the issuer is this service's and the key is one of its keys.
    pub this_service: bool,
}

/// A verification report.
///
/// `verified` is true only when structure, proof, issuer and validity all passed and the
/// status check did not fail (it is skipped when there is no status entry, or its list is
/// not this service's).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Report {
    /// True when every check passed (or, for status, could not apply).
    pub verified: bool,
    /// The individual checks.
    pub checks: Checks,
    /// Who signed it; present when the proof verified.
    pub issuer: Option<SignedBy>,
    /// What the credential states, read from what its signature covers; present when the
    /// proof verified.
    pub credential: Option<Facts>,
    /// What failed.
    pub errors: Vec<String>,
    /// What could not be checked, or is worth knowing.
    pub warnings: Vec<String>,
}

impl Report {
    /// A report for a credential none of whose checks could run here, with `error` saying
    /// why: `verified` is false and every check is skipped.
    pub fn unchecked(error: impl Into<String>) -> Report {
        Report {
            verified: false,
            checks: Checks {
                structure: Check::Skipped,
                proof: Check::Skipped,
                issuer: Check::Skipped,
                validity: Check::Skipped,
                status: Check::Skipped,
            },
            issuer: None,
            credential: None,
            errors: vec![error.into()],
            warnings: Vec::new(),
        }
    }
}

/// Most JSON values (objects, arrays, strings, …) in a document [`verify_document`] checks the
/// proof of. A credential of this service has under 100 and a Partnership Certified citing
/// many closings a few hundred; JSON-LD expansion of a posted document costs about a
/// millisecond per few hundred values, so this bounds the work a request can cause.
pub const MAX_VERIFY_VALUES: usize = 2_000;

/// Counts the JSON values in `doc`, stopping past `limit`.
fn count_values(doc: &Value, limit: usize) -> usize {
    let mut stack = vec![doc];
    let mut n = 0;
    while let Some(v) = stack.pop() {
        n += 1;
        if n > limit {
            break;
        }
        match v {
            Value::Array(a) => stack.extend(a),
            Value::Object(o) => stack.extend(o.values()),
            _ => {}
        }
    }
    n
}

/// Looks up revocations: `Some(true)` revoked, `Some(false)` not, `None` unknown list.
pub type StatusLookup<'a> = &'a (dyn Fn(&str, u64) -> Option<bool> + Sync);

/// Verifies `doc` at time `now`, resolving keys from `issuer` (or `did:key`) and status
/// through `status`.
pub fn verify_document(
    doc: &Value,
    issuer: &Issuer,
    jsonld: &credential::jsonld::JsonLdProcessor,
    status: StatusLookup<'_>,
    now: DateTime<Utc>,
) -> Report {
    analyse(doc, issuer, jsonld).finish(status, now)
}

/// The checks that need no database: form, facts, proof and issuer. What is left (dates and
/// status) depends on the moment and on the status list, read afterwards.
pub struct Analysis {
    structure: Check,
    proof: Check,
    issuer: Check,
    /// The facts the remaining checks read: those the signature covers when the proof
    /// verified, else the JSON's (the report is then failed or unchecked anyway).
    facts: Option<Facts>,
    signed_by: Option<SignedBy>,
    errors: Vec<String>,
    warnings: Vec<String>,
}

impl Analysis {
    /// A document whose facts cannot be read at all: every later check is skipped.
    fn unreadable(error: String) -> Analysis {
        Analysis {
            structure: Check::Failed,
            proof: Check::Skipped,
            issuer: Check::Skipped,
            facts: None,
            signed_by: None,
            errors: vec![error],
            warnings: Vec::new(),
        }
    }

    /// The status list the status check has to read, if any.
    pub fn status_list(&self) -> Option<&str> {
        self.facts
            .as_ref()?
            .status
            .as_ref()?
            .status_list_credential
            .as_deref()
    }

    /// Runs the date and status checks and writes the report.
    pub fn finish(self, status: StatusLookup<'_>, now: DateTime<Utc>) -> Report {
        let Analysis {
            structure,
            proof,
            issuer,
            facts,
            signed_by,
            mut errors,
            mut warnings,
        } = self;
        let Some(facts) = facts else {
            return Report {
                verified: false,
                checks: Checks {
                    structure,
                    proof,
                    issuer,
                    validity: Check::Skipped,
                    status: Check::Skipped,
                },
                issuer: None,
                credential: None,
                errors,
                warnings,
            };
        };
        let validity = validity_check(&facts, now, &mut errors);
        let status_check = status_check(&facts, status, &mut errors, &mut warnings);
        // Status may be skipped (no entry, or a list this service cannot see); every other
        // check must have run and passed.
        let verified = [structure, proof, issuer, validity]
            .iter()
            .all(|c| *c == Check::Passed)
            && status_check != Check::Failed;
        let signed = proof == Check::Passed;
        Report {
            verified,
            checks: Checks {
                structure,
                proof,
                issuer,
                validity,
                status: status_check,
            },
            issuer: signed_by,
            credential: signed.then_some(facts),
            errors,
            warnings,
        }
    }
}

/// Form, facts, proof and issuer checks of `doc` (see [`Analysis`]).
pub fn analyse(
    doc: &Value,
    issuer: &Issuer,
    jsonld: &credential::jsonld::JsonLdProcessor,
) -> Analysis {
    // Size first: every later step walks the whole document.
    if count_values(doc, MAX_VERIFY_VALUES) > MAX_VERIFY_VALUES {
        return Analysis {
            structure: Check::Skipped,
            proof: Check::Failed,
            ..Analysis::unreadable(format!(
                "proof: the document is too large to verify here: it has more than \
                 {MAX_VERIFY_VALUES} JSON values (a badge credential has a few hundred at most)"
            ))
        };
    }
    // Nothing is read from the JSON unless it is in the one form whose keys mean what they
    // say; then its facts are read, and later compared with the signed ones.
    if let Err(e) = form::check_compact_form(doc) {
        return Analysis::unreadable(format!(
            "structure: the document is not in the compact form of its contexts: {e}"
        ));
    }
    let json_facts = match Facts::from_json(doc) {
        Ok(f) => f,
        Err(e) => return Analysis::unreadable(format!("structure: {e}")),
    };
    let mut errors = Vec::new();
    let mut warnings = Vec::new();

    let vm = doc
        .as_object()
        .and_then(|d| credential::proof::single_proof(d).ok())
        .and_then(|p| p.get("verificationMethod"))
        .and_then(Value::as_str)
        .unwrap_or("");
    // Keys are this issuer's or a did:key; any other method would have to be fetched.
    let resolvable = vm.is_empty() || issuer.kid_of(vm).is_some() || vm.starts_with("did:key:");
    let resolve = |vm: &str| match issuer.kid_of(vm) {
        Some(kid) => issuer.keys.public_key(kid),
        None => multikey::resolve_did_key(vm).ok(),
    };
    let mut structure = Check::Passed;
    let (proof, facts) = if !resolvable {
        errors.push(format!(
            "issuer not resolvable here: the verification method {vm:?} of issuer {:?} is \
             neither a key of this service nor a did:key, and this service does not fetch keys \
             from other issuers, so the proof could not be checked",
            json_facts.issuer.as_ref().map_or("", |i| i.id.as_str())
        ));
        (Check::Skipped, json_facts)
    } else {
        match credential::verify_proof(doc, jsonld, resolve) {
            Err(e) => {
                errors.push(format!("proof: {e}"));
                (Check::Failed, json_facts)
            }
            Ok(verified) => match Facts::from_quads(&verified.document) {
                Err(e) => {
                    return Analysis {
                        proof: Check::Passed,
                        ..Analysis::unreadable(format!("structure: {e}"))
                    }
                }
                Ok(signed) => {
                    if let Some(field) = json_facts.first_difference(&signed) {
                        structure = Check::Failed;
                        errors.push(format!(
                            "structure: the JSON's `{field}` is not what the signature covers \
                             (the signed data says otherwise); only the signed form counts"
                        ));
                    }
                    (Check::Passed, signed)
                }
            },
        }
    };

    // Structure, on the facts the remaining checks use.
    if !facts.is_open_badge() {
        structure = Check::Failed;
        errors.push(
            "structure: type must include VerifiableCredential and OpenBadgeCredential".into(),
        );
    }
    if facts.issuer.is_none() {
        structure = Check::Failed;
        errors.push("structure: issuer with an id is missing".into());
    }
    if facts
        .subject
        .as_ref()
        .and_then(|s| s.achievement.as_ref())
        .is_none()
    {
        structure = Check::Failed;
        errors.push("structure: credentialSubject.achievement is missing".into());
    }

    // Key ownership, and whether the signer is this service.
    let issuer_id = facts.issuer.as_ref().map(|i| i.id.as_str());
    // Ours when the issuer is one of our ids and the key is ours in that same form: a
    // did:web credential names `did:web:…#kid`, an https one the key's URL.
    let ours = match (
        issuer_id.and_then(|id| issuer.form_of_id(id)),
        issuer.key_of(vm),
    ) {
        (Some(form), Some((key_form, _))) => form == key_form,
        _ => false,
    };
    let issuer_check = if proof == Check::Skipped {
        Check::Skipped
    } else {
        let controller_ok = match (issuer_id, issuer.kid_of(vm)) {
            (Some(_), Some(_)) => ours,
            (Some(id), None) => vm.starts_with("did:key:") && vm.split('#').next() == Some(id),
            _ => false,
        };
        let mut check = if controller_ok {
            Check::Passed
        } else {
            errors.push(format!(
                "issuer: the verification method {vm:?} is not a key of issuer {:?}",
                issuer_id.unwrap_or("")
            ));
            Check::Failed
        };
        if !ours && proof == Check::Passed {
            let base = issuer.base();
            let under_base = |url: &str| url == base || url.starts_with(&format!("{base}/"));
            if let Some(id) = facts.id.as_deref().filter(|id| under_base(id)) {
                check = Check::Failed;
                errors.push(format!(
                    "issuer: the credential's id {id} is a URL of this service, but this \
                     service did not sign it: it is signed by {vm}"
                ));
            }
            if let Some(list) = facts
                .status
                .as_ref()
                .and_then(|s| s.status_list_credential.as_deref())
                .filter(|l| issuer.status_list_of(l).is_some())
            {
                check = Check::Failed;
                errors.push(format!(
                    "issuer: the credential names this service's status list {list}, but this \
                     service did not sign it"
                ));
            }
            let achievement = facts.subject.as_ref().and_then(|s| s.achievement.as_ref());
            if let Some(a) = achievement
                .and_then(|a| a.id.as_deref())
                .filter(|a| under_base(a))
            {
                warnings.push(format!(
                    "issuer: the achievement {a} is this service's, but this credential was \
                     not awarded by this service: it is {}'s claim",
                    issuer_id.unwrap_or("another issuer")
                ));
            }
            let name = facts.issuer.as_ref().and_then(|i| i.name.as_deref());
            if name.is_some_and(|n| n.trim().eq_ignore_ascii_case(issuer.name().trim())) {
                warnings.push(format!(
                    "issuer: it calls itself {:?}, as this service does, but it is {}, not \
                     this service",
                    name.unwrap_or(""),
                    issuer_id.unwrap_or("another issuer")
                ));
            }
        }
        check
    };
    let signed_by = match (&facts.issuer, proof) {
        (Some(i), Check::Passed) => Some(SignedBy {
            id: i.id.clone(),
            name: i.name.clone(),
            verification_method: vm.to_owned(),
            this_service: ours && issuer_check == Check::Passed,
        }),
        _ => None,
    };
    Analysis {
        structure,
        proof,
        issuer: issuer_check,
        facts: Some(facts),
        signed_by,
        errors,
        warnings,
    }
}

/// `validFrom` has passed and `validUntil` has not.
fn validity_check(facts: &Facts, now: DateTime<Utc>, errors: &mut Vec<String>) -> Check {
    let date = |field: &str, v: &Option<String>| -> Result<Option<DateTime<Utc>>, String> {
        match v {
            None => Ok(None),
            Some(s) => DateTime::parse_from_rfc3339(s)
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(|_| format!("validity: {field} is not an RFC 3339 date-time")),
        }
    };
    match (
        date("validFrom", &facts.valid_from),
        date("validUntil", &facts.valid_until),
    ) {
        (Ok(from), Ok(until)) => {
            let mut validity = Check::Passed;
            if from.is_none() {
                validity = Check::Failed;
                errors.push("validity: validFrom is missing".into());
            }
            if from.is_some_and(|f| f > now) {
                validity = Check::Failed;
                errors.push("validity: not yet valid (validFrom is in the future)".into());
            }
            if until.is_some_and(|u| u <= now) {
                validity = Check::Failed;
                errors.push("validity: expired (validUntil has passed)".into());
            }
            validity
        }
        (a, b) => {
            errors.extend(a.err());
            errors.extend(b.err());
            Check::Failed
        }
    }
}

/// Not revoked, for a revocation entry in a status list this service can read.
fn status_check(
    facts: &Facts,
    status: StatusLookup<'_>,
    errors: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Check {
    let Some(entry) = &facts.status else {
        return Check::Skipped;
    };
    let index = entry
        .status_list_index
        .as_deref()
        .and_then(|i| i.parse::<u64>().ok());
    match (
        entry.bitstring_entry,
        entry.status_list_credential.as_deref(),
        index,
        entry.status_purpose.as_deref(),
    ) {
        (true, Some(list), Some(index), Some("revocation")) => match status(list, index) {
            Some(false) => Check::Passed,
            Some(true) => {
                errors.push("status: the credential has been revoked".into());
                Check::Failed
            }
            None => {
                warnings.push(format!("status: list {list} is not resolvable here"));
                Check::Skipped
            }
        },
        _ => {
            errors.push(
                "status: credentialStatus is not a revocation BitstringStatusListEntry".into(),
            );
            Check::Failed
        }
    }
}

/// Verifies `doc` with this service's keys and its database for status.
pub async fn verify_with_state(state: &AppState, doc: &Value) -> Report {
    verify_owned(state, doc.clone()).await
}

/// [`verify_with_state`] taking the document by value. The CPU work (canonicalisation can
/// take milliseconds on a hostile document) runs off the async workers ([`AppState::off_workers`]).
pub async fn verify_owned(state: &AppState, doc: Value) -> Report {
    let now = crate::program::now();
    let (issuer, jsonld) = (state.issuer.clone(), state.jsonld.clone());
    let analysis = match state
        .off_workers(move || analyse(&doc, &issuer, &jsonld))
        .await
    {
        Ok(analysis) => analysis,
        Err(e) => {
            tracing::error!(error = %e, "verification task failed");
            return Report::unchecked("internal error: the verification did not complete");
        }
    };
    let lists = match analysis.status_list() {
        Some(url) => revocations_for(url, &state.issuer, &*state.store).await,
        None => None,
    };
    let lookup = move |list: &str, index: u64| -> Option<bool> {
        lists
            .as_ref()
            .filter(|(url, _)| url == list)
            .map(|(_, revoked)| revoked.contains(&(index as i64)))
    };
    let report = analysis.finish(&lookup, now);
    let result = if report.verified {
        "verified"
    } else {
        "failed"
    };
    state
        .metrics
        .verifications
        .with_label_values(&[result])
        .inc();
    report
}

/// The revoked indices of the status list at `url`, if it is one of ours.
async fn revocations_for(
    url: &str,
    issuer: &Issuer,
    store: &dyn Store,
) -> Option<(String, Vec<i64>)> {
    let list = issuer.status_list_of(url)?;
    let revoked = store.revoked_indices(list).await.ok()??;
    Some((url.to_owned(), revoked))
}

// ---------------------------------------------------------------------------------------------
// Input: documents, baked images and URLs

/// What a verification request carries, once unwrapped.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A credential document (or an Open Badges 2.0 assertion).
    Document(Value),
    /// The URL of a credential.
    Url(String),
    /// A compact JWS: a VC-JWT or an Open Badges 2.0 signed badge.
    Jws(String),
}

/// What raw bytes look like, from their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// The PNG signature.
    Png,
    /// XML whose text shows an `<svg` element.
    Svg,
    /// Starts with `{` or `[` (after whitespace).
    Json,
    /// None of those.
    Unknown,
}

/// Classifies `bytes` by their content, for uploads and files without a trusted media type.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]) {
        return Sniffed::Png;
    }
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    match start.map(|i| text[i]) {
        Some(b'{' | b'[') => Sniffed::Json,
        Some(b'<') => {
            // An SVG names its root element early, after an XML declaration, comments or a
            // doctype; a bounded look keeps this cheap on large input.
            let head = &text[..text.len().min(4096)];
            if head.windows(4).any(|w| w == b"<svg") {
                Sniffed::Svg
            } else {
                Sniffed::Unknown
            }
        }
        _ => Sniffed::Unknown,
    }
}

/// Deepest nesting of JSON values accepted from a client (the root is level 1): the
/// JSON-LD processor's bound, checked here once the body is parsed so that deeper input is a
/// 400 naming the limit rather than a failed report after part of the work.
pub const MAX_JSON_DEPTH: usize = credential::jsonld::MAX_DEPTH;

/// Whether `doc` nests deeper than `max` levels, counted as the JSON-LD processor counts
/// them (the root value is level 1, each member or element one more). No recursion.
fn deeper_than(doc: &Value, max: usize) -> bool {
    let mut stack = vec![(doc, 1usize)];
    while let Some((value, depth)) = stack.pop() {
        if depth > max {
            return true;
        }
        match value {
            Value::Array(a) => stack.extend(a.iter().map(|v| (v, depth + 1))),
            Value::Object(o) => stack.extend(o.values().map(|v| (v, depth + 1))),
            _ => {}
        }
    }
    false
}

fn too_deep() -> AppError {
    AppError::BadRequest(format!(
        "the JSON is nested too deeply: at most {MAX_JSON_DEPTH} levels of arrays and objects \
         are accepted (a credential has about ten)"
    ))
}

/// Parses a JSON body: a credential document, or `{"url": "…"}` naming one.
///
/// Not JSON, or nested deeper than [`MAX_JSON_DEPTH`], is a 400 (before any JSON-LD work);
/// an object naming a member twice, JSON that is not an object, or an object with neither `@context` nor `type` nor `url`, is
/// a 422.
pub fn parse_json_input(bytes: &[u8]) -> AppResult<Input> {
    // Duplicate member names are refused: parsers disagree on which one counts, so one text
    // could be signed and another shown.
    let value = parse_unique(bytes).map_err(|e| match e {
        // The parser's own recursion limit (128) stops far deeper input without a stack
        // overflow; it is the same answer.
        e if e.is_too_deep() => too_deep(),
        StrictJsonError::Syntax(e) => {
            AppError::BadRequest(format!("the body is not valid JSON: {e}"))
        }
        e @ StrictJsonError::DuplicateKey(_) => {
            AppError::rule(format!("the JSON is ambiguous: {e}"))
        }
    })?;
    if deeper_than(&value, MAX_JSON_DEPTH) {
        return Err(too_deep());
    }
    let Value::Object(obj) = &value else {
        let kind = match value {
            Value::Array(_) => "an array",
            Value::String(_) => "a string",
            Value::Number(_) => "a number",
            Value::Bool(_) => "a boolean",
            _ => "null",
        };
        return Err(AppError::rule(format!(
            "the JSON is not a credential: expected an object, got {kind}"
        )));
    };
    let is_document = obj.contains_key("@context") || obj.contains_key("type");
    match obj.get("url") {
        Some(Value::String(url)) if !is_document => Ok(Input::Url(url.trim().to_owned())),
        Some(_) if !is_document => Err(AppError::invalid("url", "url must be a string")),
        _ if is_document => Ok(Input::Document(value)),
        _ => Err(AppError::rule(
            "the JSON object is not a credential: it has no @context and no type (to verify \
             a credential by URL, send {\"url\": \"…\"})",
        )),
    }
}

/// Reads what an image or a text payload carries: credential JSON, a URL (legacy OB 2.0
/// baking) or a compact JWS.
pub fn payload_input(text: &str) -> AppResult<Input> {
    let text = text.trim();
    if text.starts_with('{') || text.starts_with('[') {
        return parse_json_input(text.as_bytes());
    }
    if text.starts_with("https://") || text.starts_with("http://") {
        return Ok(Input::Url(text.to_owned()));
    }
    let is_b64url = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() == 3 && is_b64url(parts[0]) && is_b64url(parts[1]) {
        return Ok(Input::Jws(text.to_owned()));
    }
    Err(AppError::rule(
        "the input is not a credential: expected credential JSON, a credential URL or a \
         compact JWS",
    ))
}

/// Extracts the baked credential of a PNG or SVG image (see [`baking`]).
///
/// A file that is neither, a broken image, and an image with nothing baked are 422s.
pub fn extract_image(bytes: &[u8]) -> AppResult<Input> {
    let unreadable = |e: baking::BakeError| AppError::rule(format!("the image is unreadable: {e}"));
    let payload = match sniff(bytes) {
        Sniffed::Png => baking::extract_png(bytes)
            .map_err(unreadable)?
            .map(|(_, text)| text),
        Sniffed::Svg => {
            let svg = std::str::from_utf8(bytes)
                .map_err(|_| AppError::rule("the SVG is not UTF-8 text"))?;
            baking::extract_svg(svg).map_err(unreadable)?
        }
        _ => {
            return Err(AppError::rule(
                "the file is not a PNG or SVG image (nor credential JSON)",
            ))
        }
    };
    let payload = payload.ok_or_else(|| {
        AppError::rule(
            "the image has no baked credential: no `openbadgecredential`/`openbadges` PNG text \
             chunk or <openbadges:credential> SVG element",
        )
    })?;
    payload_input(&payload)
}

/// Unwraps an uploaded file of any supported kind: a baked image or credential JSON.
pub fn file_input(bytes: &[u8]) -> AppResult<Input> {
    match sniff(bytes) {
        Sniffed::Json => parse_json_input(bytes),
        Sniffed::Png | Sniffed::Svg => extract_image(bytes),
        Sniffed::Unknown => payload_input(
            std::str::from_utf8(bytes)
                .map_err(|_| AppError::rule("the file is not a PNG, an SVG or credential JSON"))?,
        ),
    }
}

/// Verifies any [`Input`] with this service's keys and database.
///
/// Credential URLs resolve through the store, never over the network: this service's own
/// `{base}/credentials/{id}` and `{base}/ob2/assertions/{id}`. Other URLs get a report saying
/// the issuer is not resolvable here (or, for issuers on `VERIFY_ALLOWED_ISSUERS`, that remote
/// fetching is not enabled). A URL of this service that names no credential is a 422.
pub async fn verify_input(state: &AppState, input: Input) -> AppResult<Report> {
    match input {
        Input::Document(doc) if ob2::is_ob2(&doc) => {
            let id = doc.get("id").and_then(Value::as_str).unwrap_or("");
            let urls = ob2::Ob2Urls::new(state.issuer.base());
            if urls.assertion_id_of(id).is_some() {
                // Hosted verification: the posted copy only names the assertion; what counts
                // is the one this service holds.
                return Box::pin(verify_url(state, id)).await;
            }
            Ok(Report::unchecked(format!(
                "this is an Open Badges 2.0 assertion, not an OB 3.0 credential: OB 2.0 hosted \
                 badges are verified by fetching their id ({id:?}) from the issuer, which this \
                 service does not do for other issuers"
            )))
        }
        Input::Document(doc) => Ok(verify_owned(state, doc).await),
        Input::Url(url) => verify_url(state, &url).await,
        Input::Jws(_) => Ok(Report::unchecked(
            "proof: a compact JWS (VC-JWT, or an Open Badges 2.0 signed badge) is not supported \
             here; this service verifies Data Integrity proofs (eddsa-rdfc-2022)",
        )),
    }
}

/// Verifies the credential at `url`, resolved locally.
async fn verify_url(state: &AppState, url: &str) -> AppResult<Report> {
    let issuer = &state.issuer;
    if let Some(id) = issuer.credential_id_of(url) {
        return verify_stored(state, id, None).await;
    }
    let urls = ob2::Ob2Urls::new(issuer.base());
    if let Some(raw) = urls.assertion_id_of(url) {
        let id = uuid::Uuid::parse_str(raw).map_err(|_| no_credential(url))?;
        let note = format!(
            "{url} is an Open Badges 2.0 hosted assertion; it was verified through the signed \
             OB 3.0 credential it mirrors, {}",
            issuer.credential_url(id)
        );
        return verify_stored(state, id, Some(note)).await;
    }
    let base = issuer.base();
    if url == base || url.starts_with(&format!("{base}/")) {
        return Err(AppError::invalid(
            "url",
            format!(
                "{url} is not a credential URL of this service (expected \
                 {base}/credentials/{{id}} or {base}/ob2/assertions/{{id}})"
            ),
        ));
    }
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(AppError::invalid("url", "url must be an http(s) URL"));
    }
    if is_allowed_issuer(&state.settings.verify_allowed_issuers, url) {
        return Ok(Report::unchecked(format!(
            "remote fetching is not enabled: {url} is on the allow-list \
             (VERIFY_ALLOWED_ISSUERS), but this service does not fetch credentials over the \
             network yet; post the credential JSON or its baked image instead"
        )));
    }
    Ok(Report::unchecked(format!(
        "issuer not resolvable here: {url} is not a credential of this service, and this \
         service does not fetch other issuers' credentials; post the credential JSON or its \
         baked image instead"
    )))
}

fn no_credential(url: &str) -> AppError {
    AppError::invalid(
        "url",
        format!("no credential is published at {url} by this service"),
    )
}

/// Verifies the stored credential `id`, adding `note` as a warning.
async fn verify_stored(
    state: &AppState,
    id: uuid::Uuid,
    note: Option<String>,
) -> AppResult<Report> {
    let url = state.issuer.credential_url(id);
    let record = state
        .store
        .credential(id)
        .await?
        .ok_or_else(|| no_credential(&url))?;
    let doc: Value = serde_json::from_str(&record.document).map_err(|e| {
        AppError::Internal(anyhow::Error::new(e).context("stored credential is not JSON"))
    })?;
    let mut report = verify_owned(state, doc).await;
    report.warnings.extend(note);
    Ok(report)
}

/// True if `url` is under an entry of the allow-list: an origin or URL prefix
/// (`https://badges.example.org`), or a bare host name (`badges.example.org`).
pub fn is_allowed_issuer(allowed: &[String], url: &str) -> bool {
    let host = url
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
        .map(|authority| authority.rsplit('@').next().unwrap_or(""))
        .map(|h| h.split(':').next().unwrap_or(""))
        .unwrap_or("")
        .to_ascii_lowercase();
    allowed.iter().map(|a| a.trim()).any(|entry| {
        if entry.is_empty() {
            false
        } else if entry.contains("://") {
            let entry = entry.trim_end_matches('/');
            url == entry || url.starts_with(&format!("{entry}/"))
        } else {
            host == entry.to_ascii_lowercase()
        }
    })
}

#[cfg(test)]
mod input_tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Sniffed::Png);
        assert_eq!(sniff(b"  {\"a\":1}"), Sniffed::Json);
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?>\n<svg xmlns=\"\"/>"),
            Sniffed::Svg
        );
        assert_eq!(sniff(b"<html></html>"), Sniffed::Unknown);
        assert_eq!(sniff(b"hello"), Sniffed::Unknown);
    }

    #[test]
    fn json_inputs() {
        assert!(matches!(
            parse_json_input(br#"{"url": " https://x.example/c/1 "}"#),
            Ok(Input::Url(u)) if u == "https://x.example/c/1"
        ));
        assert!(matches!(
            parse_json_input(br#"{"@context": [], "url": "x"}"#),
            Ok(Input::Document(_))
        ));
        assert_eq!(parse_json_input(b"[1]").unwrap_err().status().as_u16(), 422);
        assert_eq!(
            parse_json_input(b"{\"a\":1}")
                .unwrap_err()
                .status()
                .as_u16(),
            422
        );
        assert_eq!(
            parse_json_input(b"nope").unwrap_err().status().as_u16(),
            400
        );
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert_eq!(
            parse_json_input(deep.as_bytes())
                .unwrap_err()
                .status()
                .as_u16(),
            400
        );
    }

    #[test]
    fn payloads() {
        assert!(matches!(payload_input("eyJh.eyJi.c2ln"), Ok(Input::Jws(_))));
        assert!(matches!(
            payload_input("https://a.example/x"),
            Ok(Input::Url(_))
        ));
        assert!(payload_input("hello").is_err());
    }

    #[test]
    fn allow_list() {
        let allowed = vec![
            "https://badges.example.org/".to_owned(),
            "other.example".to_owned(),
        ];
        assert!(is_allowed_issuer(
            &allowed,
            "https://badges.example.org/c/1"
        ));
        assert!(!is_allowed_issuer(
            &allowed,
            "https://badges.example.org.evil/c/1"
        ));
        assert!(is_allowed_issuer(
            &allowed,
            "https://user@Other.example:8443/c"
        ));
        assert!(!is_allowed_issuer(&allowed, "https://another.example/c"));
    }
}
