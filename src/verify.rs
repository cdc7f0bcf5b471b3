//! Verifying a credential: proof, issuer key, validity dates and revocation status.
//!
//! Used by the `verify` command (offline: keys and status from this service's own key
//! files and database) and by the library's callers. Keys resolve from this issuer's key
//! ring or from a `did:key`; nothing is fetched from the network.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::credential::{self, multikey};
use crate::db::Store;
use crate::issuer::Issuer;
use crate::state::AppState;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
pub struct Checks {
    /// The document is an OB 3.0 credential with the required fields.
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

/// A verification report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// True when every check passed (or, for status, could not apply).
    pub verified: bool,
    /// The individual checks.
    pub checks: Checks,
    /// What failed.
    pub errors: Vec<String>,
    /// What could not be checked, or is worth knowing.
    pub warnings: Vec<String>,
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
    let mut errors = Vec::new();
    let mut warnings = Vec::new();

    // Structure.
    let types: Vec<&str> = match doc.get("type") {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s.as_str()],
        _ => vec![],
    };
    let issuer_id = match doc.get("issuer") {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(Value::Object(o)) => o.get("id").and_then(Value::as_str),
        _ => None,
    };
    let mut structure = Check::Passed;
    if !types.contains(&"VerifiableCredential")
        || !(types.contains(&"OpenBadgeCredential") || types.contains(&"AchievementCredential"))
    {
        structure = Check::Failed;
        errors.push(
            "structure: type must include VerifiableCredential and OpenBadgeCredential".into(),
        );
    }
    if issuer_id.is_none() {
        structure = Check::Failed;
        errors.push("structure: issuer with an id is missing".into());
    }
    if doc.pointer("/credentialSubject/achievement").is_none() {
        structure = Check::Failed;
        errors.push("structure: credentialSubject.achievement is missing".into());
    }

    // Proof and key ownership.
    let vm = doc
        .pointer("/proof/verificationMethod")
        .and_then(Value::as_str)
        .unwrap_or("");
    let controller_ok = match (issuer_id, issuer.kid_of(vm)) {
        (Some(id), Some(_)) => id == issuer.id(),
        (Some(id), None) => vm.starts_with("did:key:") && vm.split('#').next() == Some(id),
        _ => false,
    };
    let resolve = |vm: &str| match issuer.kid_of(vm) {
        Some(kid) => issuer.keys.public_key(kid),
        None => multikey::resolve_did_key(vm).ok(),
    };
    let proof = match credential::verify_proof(doc, jsonld, resolve) {
        Ok(_) => Check::Passed,
        Err(e) => {
            errors.push(format!("proof: {e}"));
            Check::Failed
        }
    };
    let issuer_check = if controller_ok {
        Check::Passed
    } else {
        errors.push(format!(
            "issuer: the verification method {vm:?} is not a key of issuer {:?}",
            issuer_id.unwrap_or("")
        ));
        Check::Failed
    };

    // Validity dates.
    let mut validity = Check::Passed;
    let date = |field: &str| -> Result<Option<DateTime<Utc>>, String> {
        match doc.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(|_| format!("validity: {field} is not an RFC 3339 date-time")),
            Some(_) => Err(format!("validity: {field} must be a string")),
        }
    };
    match (date("validFrom"), date("validUntil")) {
        (Ok(from), Ok(until)) => {
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
        }
        (a, b) => {
            validity = Check::Failed;
            errors.extend(a.err());
            errors.extend(b.err());
        }
    }

    // Status.
    let status_check = match doc.get("credentialStatus") {
        None => Check::Skipped,
        Some(entry) => {
            let list = entry.get("statusListCredential").and_then(Value::as_str);
            let index = entry
                .get("statusListIndex")
                .and_then(Value::as_str)
                .and_then(|i| i.parse::<u64>().ok());
            let purpose = entry.get("statusPurpose").and_then(Value::as_str);
            match (list, index, purpose) {
                (Some(list), Some(index), Some("revocation")) => match status(list, index) {
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
                        "status: credentialStatus is not a revocation BitstringStatusListEntry"
                            .into(),
                    );
                    Check::Failed
                }
            }
        }
    };

    let checks = Checks {
        structure,
        proof,
        issuer: issuer_check,
        validity,
        status: status_check,
    };
    let verified = [structure, proof, issuer_check, validity, status_check]
        .iter()
        .all(|c| *c != Check::Failed);
    Report {
        verified,
        checks,
        errors,
        warnings,
    }
}

/// Verifies `doc` with this service's keys and its database for status.
pub async fn verify_with_state(state: &AppState, doc: &Value) -> Report {
    let now = crate::program::now();
    let lists = revocations_for(doc, &state.issuer, &*state.store).await;
    let lookup = move |list: &str, index: u64| -> Option<bool> {
        lists
            .as_ref()
            .filter(|(url, _)| url == list)
            .map(|(_, revoked)| revoked.contains(&(index as i64)))
    };
    verify_document(doc, &state.issuer, &state.jsonld, &lookup, now)
}

/// The revoked indices of the status list `doc` names, if it is one of ours.
async fn revocations_for(
    doc: &Value,
    issuer: &Issuer,
    store: &dyn Store,
) -> Option<(String, Vec<i64>)> {
    let url = doc
        .pointer("/credentialStatus/statusListCredential")
        .and_then(Value::as_str)?;
    let list = issuer.status_list_of(url)?;
    let revoked = store.revoked_indices(list).await.ok()??;
    Some((url.to_owned(), revoked))
}
