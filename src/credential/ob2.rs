//! Open Badges 2.0 hosted views of the credentials this service issues: Assertion,
//! BadgeClass, issuer Profile and RevocationList, as JSON-LD under `{base}/ob2/…`.
//!
//! Older backpacks and the 1EdTech reference validator only speak OB 2.0. OB 2.0 signed
//! badges need RSA keys, so these views are *hosted* only: each document is served at its own
//! `id`, and the verifier trusts it because it fetched it from the issuer's origin. Every view
//! is derived from the signed OB 3.0 credential (the recipient salt and hash, the dates, the
//! evidence), so both formats name the same recipient and say the same thing.
//!
//! Pure code: values in, JSON out. The routes in `crate::routes::ob2` do the I/O.

use serde_json::{json, Map, Value};

use super::model::OpenBadgeCredential;

/// The Open Badges 2.0 JSON-LD context.
pub const OB2_CONTEXT: &str = "https://w3id.org/openbadges/v2";

/// A never-issued assertion id listed first in every [`revocation_list`].
///
/// The reference validator compacts a one-element `revokedAssertions` array to a bare object
/// and then fails to find the revoked id in it, so the list must always hold at least two
/// entries. This UUID (v4, as the validator requires for `urn:uuid:` ids) names no assertion
/// and never will.
pub const SENTINEL_REVOKED_ID: &str = "urn:uuid:3f0c2a6e-8d5b-4c1e-9a47-6b2d0e5f7c19";
/// A second never-issued id, listed only while nothing has been revoked, to keep two entries.
pub const SENTINEL_REVOKED_ID_2: &str = "urn:uuid:b7e4d1a2-5c3f-4e8b-8f60-1d9a2c7e4b35";
/// The `revocationReason` of the sentinel entries.
pub const SENTINEL_REASON: &str =
    "Placeholder: this id was never issued. Listed so the list always has two entries.";

/// The URLs of the OB 2.0 documents of one issuer, all under `{base}/ob2`.
#[derive(Debug, Clone)]
pub struct Ob2Urls {
    base: String,
}

impl Ob2Urls {
    /// For the public base URL `base` (no trailing slash).
    pub fn new(base: &str) -> Self {
        Ob2Urls {
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// `{base}/ob2/issuer`.
    pub fn issuer(&self) -> String {
        format!("{}/ob2/issuer", self.base)
    }

    /// `{base}/ob2/revocations`.
    pub fn revocations(&self) -> String {
        format!("{}/ob2/revocations", self.base)
    }

    /// `{base}/ob2/badges/{slug}`.
    pub fn badge(&self, slug: &str) -> String {
        format!("{}/ob2/badges/{slug}", self.base)
    }

    /// `{base}/ob2/badges/{slug}/image.png`.
    pub fn badge_image(&self, slug: &str) -> String {
        format!("{}/ob2/badges/{slug}/image.png", self.base)
    }

    /// `{base}/ob2/assertions/{id}`.
    pub fn assertion(&self, id: &str) -> String {
        format!("{}/ob2/assertions/{id}", self.base)
    }

    /// `{base}/ob2/assertions/{id}/badge.png`.
    pub fn assertion_image(&self, id: &str) -> String {
        format!("{}/ob2/assertions/{id}/badge.png", self.base)
    }

    /// The assertion id named by an assertion URL of this issuer (`…/ob2/assertions/{id}`).
    pub fn assertion_id_of<'a>(&self, url: &'a str) -> Option<&'a str> {
        url.strip_prefix(self.base.as_str())?
            .strip_prefix("/ob2/assertions/")
            .filter(|id| !id.is_empty() && !id.contains('/'))
    }
}

/// The issuer Profile.
pub struct IssuerInput<'a> {
    /// Organisation name.
    pub name: &'a str,
    /// Web site.
    pub url: &'a str,
    /// Contact email (required by OB 2.0 for issuers).
    pub email: &'a str,
}

/// The issuer `Profile` (type `Issuer`), linking its RevocationList.
///
/// No `verification` block: the OB 2.0 default policy (assertions on the issuer's own origin)
/// is exactly what this service does, and the reference validator rejects `allowedOrigins`
/// that carry a port.
pub fn issuer_profile(urls: &Ob2Urls, issuer: &IssuerInput<'_>) -> Value {
    json!({
        "@context": OB2_CONTEXT,
        "type": "Issuer",
        "id": urls.issuer(),
        "name": issuer.name,
        "url": issuer.url,
        "email": issuer.email,
        "revocationList": urls.revocations(),
    })
}

/// The `BadgeClass` of an achievement, from its slug, name, description and criteria.
pub fn badge_class(
    urls: &Ob2Urls,
    slug: &str,
    name: &str,
    description: &str,
    criteria: &str,
) -> Value {
    json!({
        "@context": OB2_CONTEXT,
        "type": "BadgeClass",
        "id": urls.badge(slug),
        "name": name,
        "description": description,
        "image": urls.badge_image(slug),
        "criteria": {"narrative": criteria},
        "issuer": urls.issuer(),
    })
}

/// The hosted `Assertion` mirroring the OB 3.0 credential `vc`, served as assertion `id`.
///
/// The recipient is the credential's own salted `sha256$` hash: the same person, the same
/// salt. `issuedOn`/`expires` are its `validFrom`/`validUntil`; its evidence entries are copied
/// with the same standard fields.
pub fn assertion(urls: &Ob2Urls, id: &str, slug: &str, vc: &OpenBadgeCredential) -> Value {
    let mut doc = Map::new();
    doc.insert("@context".into(), json!(OB2_CONTEXT));
    doc.insert("type".into(), json!("Assertion"));
    doc.insert("id".into(), json!(urls.assertion(id)));
    if let Some(ident) = vc.credential_subject.identifier.first() {
        doc.insert(
            "recipient".into(),
            json!({
                "type": "email",
                "hashed": ident.hashed,
                "salt": ident.salt,
                "identity": ident.identity_hash,
            }),
        );
    }
    doc.insert("badge".into(), json!(urls.badge(slug)));
    doc.insert("issuedOn".into(), json!(vc.valid_from));
    if let Some(until) = &vc.valid_until {
        doc.insert("expires".into(), json!(until));
    }
    doc.insert("image".into(), json!(urls.assertion_image(id)));
    let evidence: Vec<Value> = vc
        .evidence
        .iter()
        .map(|e| {
            let mut out = Map::new();
            out.insert("type".into(), json!("Evidence"));
            let fields = [
                ("id", &e.id),
                ("name", &e.name),
                ("description", &e.description),
                ("narrative", &e.narrative),
                ("genre", &e.genre),
                ("audience", &e.audience),
            ];
            for (key, value) in fields {
                if let Some(v) = value {
                    out.insert(key.into(), json!(v));
                }
            }
            Value::Object(out)
        })
        .collect();
    if !evidence.is_empty() {
        doc.insert("evidence".into(), Value::Array(evidence));
    }
    doc.insert("verification".into(), json!({"type": "hosted"}));
    Value::Object(doc)
}

/// The body of a revoked assertion (served with HTTP 410 Gone).
pub fn revoked_assertion(urls: &Ob2Urls, id: &str, reason: &str) -> Value {
    json!({
        "@context": OB2_CONTEXT,
        "id": urls.assertion(id),
        "type": "Assertion",
        "revoked": true,
        "revocationReason": reason,
    })
}

/// The issuer's `RevocationList`: `revoked` as `(assertion id, reason)` pairs, after the
/// [`SENTINEL_REVOKED_ID`] entry (and [`SENTINEL_REVOKED_ID_2`] when nothing is revoked), so
/// it always holds at least two entries.
pub fn revocation_list(urls: &Ob2Urls, revoked: &[(String, String)]) -> Value {
    let sentinel = |id: &str| json!({"id": id, "revocationReason": SENTINEL_REASON});
    let mut entries = vec![sentinel(SENTINEL_REVOKED_ID)];
    if revoked.is_empty() {
        entries.push(sentinel(SENTINEL_REVOKED_ID_2));
    }
    entries.extend(
        revoked
            .iter()
            .map(|(id, reason)| json!({"id": urls.assertion(id), "revocationReason": reason})),
    );
    json!({
        "@context": OB2_CONTEXT,
        "type": "RevocationList",
        "id": urls.revocations(),
        "issuer": urls.issuer(),
        "revokedAssertions": entries,
    })
}

/// True if `doc` looks like an Open Badges 2.0 (or 1.x) object rather than an OB 3.0
/// credential: an OB 2.0/1.x `@context`, or `type` `Assertion`, with no VC type.
pub fn is_ob2(doc: &Value) -> bool {
    let ctx_is_ob2 = |v: &Value| {
        v.as_str().is_some_and(|s| {
            s.starts_with("https://w3id.org/openbadges/")
                || s.starts_with("http://w3id.org/openbadges/")
                || s.starts_with("https://openbadgespec.org/")
        })
    };
    let context = match doc.get("@context") {
        Some(Value::Array(a)) => a.iter().any(ctx_is_ob2),
        Some(v) => ctx_is_ob2(v),
        None => false,
    };
    let types: Vec<&str> = match doc.get("type") {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s.as_str()],
        _ => vec![],
    };
    let vc = types.contains(&"VerifiableCredential");
    !vc && (context || types.contains(&"Assertion"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revocation_list_always_has_two_entries() {
        let urls = Ob2Urls::new("https://badges.example/");
        let empty = revocation_list(&urls, &[]);
        assert_eq!(empty["revokedAssertions"].as_array().unwrap().len(), 2);
        let one = revocation_list(&urls, &[("abc".into(), "error".into())]);
        let entries = one["revokedAssertions"].as_array().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0]["id"], SENTINEL_REVOKED_ID);
        assert_eq!(
            entries[1]["id"],
            "https://badges.example/ob2/assertions/abc"
        );
    }

    #[test]
    fn sentinels_are_uuid_v4() {
        for s in [SENTINEL_REVOKED_ID, SENTINEL_REVOKED_ID_2] {
            let u = uuid::Uuid::parse_str(s.strip_prefix("urn:uuid:").unwrap()).unwrap();
            assert_eq!(u.get_version_num(), 4);
        }
    }

    #[test]
    fn assertion_urls_round_trip() {
        let urls = Ob2Urls::new("http://127.0.0.1:8080");
        let url = urls.assertion("x-1");
        assert_eq!(urls.assertion_id_of(&url), Some("x-1"));
        assert_eq!(
            urls.assertion_id_of("http://127.0.0.1:8080/ob2/issuer"),
            None
        );
        assert_eq!(urls.assertion_id_of(&format!("{url}/badge.png")), None);
    }

    #[test]
    fn ob2_documents_are_recognised() {
        assert!(is_ob2(
            &json!({"@context": OB2_CONTEXT, "type": "Assertion"})
        ));
        assert!(is_ob2(&json!({"type": "Assertion"})));
        assert!(!is_ob2(&json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential", "OpenBadgeCredential"]
        })));
    }
}
