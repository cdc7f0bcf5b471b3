//! The typed fast path from our own [`OpenBadgeCredential`] straight to RDF quads.
//!
//! General JSON-LD expansion re-reads the contexts for every document, which costs far more
//! than canonicalising and signing. The credentials this service issues always have the same
//! shape, so each field is mapped here directly to the IRI (and literal datatype) that the
//! bundled VC 2.0 and OB 3.0.3 contexts give it. Worth knowing about those contexts:
//!
//! - type-scoped contexts do not propagate, so a nested node sees the top-level terms again
//!   plus those of its own type (e.g. `narrative` inside `criteria` is the OB top-level term);
//! - `criteria` maps to `…/vocab.html#Criteria` (capital C), as published;
//! - the OB context types `url` as `https://www.w3.org/2001/XMLSchema#anyURI` and `hashed` as
//!   `https://www.w3.org/2001/XMLSchema#boolean` (https, not http), while the VC context types
//!   `validFrom`/`validUntil` as `http://www.w3.org/2001/XMLSchema#dateTime`.
//!
//! The mapping is only exact for documents that [`check_fast_path`] accepts (the expected type
//! names, conservative absolute IRIs); anything else goes through the general JSON-LD path.
//! The differential test `tests/fast_path.rs` holds the two paths to the same canonical form.

use super::model::{DataIntegrityProof, OpenBadgeCredential, OB_V3_CONTEXT, VC_V2_CONTEXT};
use super::rdf::{percent_decodes_to_utf8, Quad, Term, RDF_TYPE};

const CRED: &str = "https://www.w3.org/2018/credentials#";
const OB: &str = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#";
const SCHEMA: &str = "https://schema.org/";
const STATUS: &str = "https://www.w3.org/ns/credentials/status#";
const SEC: &str = "https://w3id.org/security#";
/// `xsd:dateTime` as the VC 2.0 and Data Integrity contexts spell it (http).
const XSD_DATE_TIME: &str = "http://www.w3.org/2001/XMLSchema#dateTime";
/// `xsd:anyURI` as the OB 3.0.3 context spells it (https).
const OB_XSD_ANY_URI: &str = "https://www.w3.org/2001/XMLSchema#anyURI";
/// `xsd:boolean` as the OB 3.0.3 context spells it (https).
const OB_XSD_BOOLEAN: &str = "https://www.w3.org/2001/XMLSchema#boolean";

/// Why a credential cannot take the fast path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not eligible for the fast RDF path: {0}")]
pub struct FastPathError(pub String);

/// Checks that the fast path maps `c` (and its proof, if any) exactly as JSON-LD expansion
/// would: the `@context` and every `type` are the ones we issue, and every IRI is a plain
/// absolute ASCII IRI that no JSON-LD processor would resolve, normalise or drop.
pub fn check_fast_path(c: &OpenBadgeCredential) -> Result<(), FastPathError> {
    let fail = |what: &str| Err(FastPathError(what.to_owned()));
    if c.context != [VC_V2_CONTEXT, OB_V3_CONTEXT] {
        return fail("@context is not [VC 2.0, OB 3.0.3]");
    }
    if c.types != ["VerifiableCredential", "OpenBadgeCredential"] {
        return fail("credential type is not [VerifiableCredential, OpenBadgeCredential]");
    }
    check_iri(&c.id, "id")?;
    if c.issuer.types != ["Profile"] {
        return fail("issuer type is not [Profile]");
    }
    check_iri(&c.issuer.id, "issuer.id")?;
    let s = &c.credential_subject;
    if s.types != ["AchievementSubject"] {
        return fail("credentialSubject type is not [AchievementSubject]");
    }
    if let Some(id) = &s.id {
        check_iri(id, "credentialSubject.id")?;
    }
    if s.identifier.iter().any(|i| i.kind != "IdentityObject") {
        return fail("identifier type is not IdentityObject");
    }
    let a = &s.achievement;
    if a.types != ["Achievement"] {
        return fail("achievement type is not [Achievement]");
    }
    check_iri(&a.id, "achievement.id")?;
    if let Some(id) = &a.criteria.id {
        check_iri(id, "criteria.id")?;
    }
    for e in &c.evidence {
        if e.types != ["Evidence"] {
            return fail("evidence type is not [Evidence]");
        }
        if let Some(id) = &e.id {
            check_iri(id, "evidence.id")?;
        }
    }
    if let Some(st) = &c.credential_status {
        if st.kind != "BitstringStatusListEntry" {
            return fail("credentialStatus type is not BitstringStatusListEntry");
        }
        check_iri(&st.id, "credentialStatus.id")?;
        check_iri(&st.status_list_credential, "statusListCredential")?;
    }
    if c.proof.len() > 1 {
        return fail("more than one proof");
    }
    for p in &c.proof {
        check_proof_fast_path(p)?;
    }
    Ok(())
}

/// Checks a proof (configuration) for the fast path: see [`check_fast_path`].
pub fn check_proof_fast_path(p: &DataIntegrityProof) -> Result<(), FastPathError> {
    if p.kind != "DataIntegrityProof" {
        return Err(FastPathError("proof type is not DataIntegrityProof".into()));
    }
    // `proofPurpose` is `@type: @vocab`; only a term of its scoped context maps to a fixed IRI.
    if p.proof_purpose != "assertionMethod" {
        return Err(FastPathError("proofPurpose is not assertionMethod".into()));
    }
    check_iri(&p.verification_method, "verificationMethod")
}

/// A conservative absolute-IRI test: `scheme ":" rest`, ASCII only, RFC 3986 characters,
/// well-formed `%XX`, at most one `#`, no `[`/`]` and no `.`/`..` path segments. Such a
/// string is left untouched by every JSON-LD processor (no base resolution, no dot-segment
/// removal, not a compact IRI: none of our contexts defines a prefix term) and is safe to
/// write inside `<…>` in N-Quads.
fn check_iri(iri: &str, field: &str) -> Result<(), FastPathError> {
    if is_plain_absolute_iri(iri) {
        Ok(())
    } else {
        Err(FastPathError(format!(
            "{field} is not a plain absolute IRI"
        )))
    }
}

fn is_plain_absolute_iri(iri: &str) -> bool {
    let b = iri.as_bytes();
    let Some(colon) = b.iter().position(|&c| c == b':') else {
        return false;
    };
    let scheme = &b[..colon];
    if scheme.is_empty()
        || !scheme[0].is_ascii_alphabetic()
        || !scheme
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
    {
        return false;
    }
    let rest = &b[colon + 1..];
    if rest.is_empty() {
        return false;
    }
    let mut hashes = 0;
    let mut i = 0;
    while i < rest.len() {
        let c = rest[i];
        match c {
            b'%' => {
                if i + 2 >= rest.len() {
                    return false;
                }
                if !(rest[i + 1].is_ascii_hexdigit() && rest[i + 2].is_ascii_hexdigit()) {
                    return false;
                }
                i += 3;
                continue;
            }
            b'#' => hashes += 1,
            c if c.is_ascii_alphanumeric() => {}
            b'-' | b'.' | b'_' | b'~' | b':' | b'/' | b'?' | b'@' | b'!' | b'$' | b'&' | b'\''
            | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' => {}
            _ => return false,
        }
        i += 1;
    }
    if hashes > 1 {
        return false;
    }
    // An authority has at most one `@`, and after its host only `:` and port digits: JSON-LD
    // processors reject any other as an invalid IRI (found by fuzzing, `fuzz/`).
    if let Some(after) = rest.strip_prefix(b"//") {
        let end = after
            .iter()
            .position(|&c| matches!(c, b'/' | b'?' | b'#'))
            .unwrap_or(after.len());
        let authority = &after[..end];
        let host_port = match authority.iter().rposition(|&c| c == b'@') {
            Some(at) if authority[..at].contains(&b'@') => return false,
            Some(at) => &authority[at + 1..],
            None => authority,
        };
        if let Some(colon) = host_port.iter().position(|&c| c == b':') {
            if !host_port[colon + 1..].iter().all(u8::is_ascii_digit) {
                return false;
            }
        }
    }
    // Percent-encoded octets must decode to UTF-8, or JSON-LD refuses the IRI.
    if !percent_decodes_to_utf8(iri) {
        return false;
    }
    // Dot segments would be removed by RFC 3986 resolution in some processors.
    let path_end = rest
        .iter()
        .position(|&c| c == b'?' || c == b'#')
        .unwrap_or(rest.len());
    !rest[..path_end]
        .split(|&c| c == b'/')
        .any(|seg| seg == b"." || seg == b"..")
}

/// Builds quads with fresh blank-node labels.
struct Builder {
    quads: Vec<Quad>,
    next_blank: usize,
}

impl Builder {
    fn blank(&mut self) -> Term {
        let t = Term::Blank(format!("b{}", self.next_blank));
        self.next_blank += 1;
        t
    }

    fn push(&mut self, s: &Term, p: String, o: Term) {
        self.quads.push(Quad::new(s.clone(), Term::Iri(p), o));
    }

    fn typ(&mut self, s: &Term, class: String) {
        self.push(s, RDF_TYPE.to_owned(), Term::Iri(class));
    }

    fn string(&mut self, s: &Term, p: String, v: &str) {
        self.push(s, p, Term::string(v));
    }

    fn opt_string(&mut self, s: &Term, p: impl FnOnce() -> String, v: &Option<String>) {
        if let Some(v) = v {
            self.string(s, p(), v);
        }
    }

    /// The subject of a node with an optional `id`: its IRI, or a fresh blank node.
    fn node(&mut self, id: &Option<String>) -> Term {
        match id {
            Some(id) => Term::Iri(id.clone()),
            None => self.blank(),
        }
    }

    /// `node_iris` are the IRIs of all nodes written: identical quads can only arise when
    /// two of them coincide (blank nodes are always fresh).
    fn finish(mut self, node_iris: &[&str]) -> Vec<Quad> {
        let distinct = node_iris
            .iter()
            .enumerate()
            .all(|(i, a)| !node_iris[i + 1..].contains(a));
        if !distinct {
            // A JSON-LD dataset is a set: identical quads (e.g. two evidence entries with the
            // same id) collapse to one there, so they must here too.
            self.quads.sort_unstable();
            self.quads.dedup();
        }
        self.quads
    }
}

fn ob(local: &str) -> String {
    [OB, local].concat()
}
fn schema(local: &str) -> String {
    [SCHEMA, local].concat()
}
fn cred(local: &str) -> String {
    [CRED, local].concat()
}

/// The RDF of `c` without its proof, exactly as JSON-LD expansion of its JSON with the bundled
/// VC 2.0 and OB 3.0.3 contexts gives it (for credentials that [`check_fast_path`] accepts).
pub fn credential_quads(c: &OpenBadgeCredential) -> Vec<Quad> {
    let mut b = Builder {
        quads: Vec::with_capacity(48),
        next_blank: 0,
    };
    let vc = Term::Iri(c.id.clone());
    for t in &c.types {
        b.typ(&vc, credential_type_iri(t));
    }
    b.string(&vc, schema("name"), &c.name);
    b.string(&vc, schema("description"), &c.description);

    // issuer: a Profile node.
    let issuer = Term::Iri(c.issuer.id.clone());
    b.push(&vc, cred("issuer"), issuer.clone());
    for t in &c.issuer.types {
        b.typ(&issuer, ob(t));
    }
    b.string(&issuer, schema("name"), &c.issuer.name);
    if let Some(url) = &c.issuer.url {
        b.push(
            &issuer,
            schema("url"),
            Term::typed(url.as_str(), OB_XSD_ANY_URI),
        );
    }
    b.opt_string(&issuer, || schema("email"), &c.issuer.email);

    b.push(
        &vc,
        cred("validFrom"),
        Term::typed(c.valid_from.as_str(), XSD_DATE_TIME),
    );
    if let Some(until) = &c.valid_until {
        b.push(
            &vc,
            cred("validUntil"),
            Term::typed(until.as_str(), XSD_DATE_TIME),
        );
    }

    // credentialSubject: AchievementSubject (a blank node, or the holder's DID in a copy).
    let s = &c.credential_subject;
    let subject = b.node(&s.id);
    b.push(&vc, cred("credentialSubject"), subject.clone());
    for t in &s.types {
        b.typ(&subject, ob(t));
    }
    for ident in &s.identifier {
        let node = b.blank();
        b.push(&subject, ob("identifier"), node.clone());
        b.typ(&node, ob(&ident.kind));
        b.string(&node, ob("identityHash"), &ident.identity_hash);
        b.string(&node, ob("identityType"), &ident.identity_type);
        let hashed = if ident.hashed { "true" } else { "false" };
        b.push(&node, ob("hashed"), Term::typed(hashed, OB_XSD_BOOLEAN));
        b.string(&node, ob("salt"), &ident.salt);
    }

    let a = &s.achievement;
    let ach = Term::Iri(a.id.clone());
    b.push(&subject, ob("achievement"), ach.clone());
    for t in &a.types {
        b.typ(&ach, ob(t));
    }
    b.string(&ach, ob("achievementType"), &a.achievement_type);
    b.string(&ach, schema("name"), &a.name);
    b.string(&ach, schema("description"), &a.description);
    let criteria = b.node(&a.criteria.id);
    b.push(&ach, ob("Criteria"), criteria.clone());
    b.string(&criteria, ob("narrative"), &a.criteria.narrative);

    for e in &c.evidence {
        let node = b.node(&e.id);
        b.push(&vc, cred("evidence"), node.clone());
        for t in &e.types {
            b.typ(&node, ob(t));
        }
        b.opt_string(&node, || schema("name"), &e.name);
        b.opt_string(&node, || schema("description"), &e.description);
        b.opt_string(&node, || ob("narrative"), &e.narrative);
        b.opt_string(&node, || schema("genre"), &e.genre);
        b.opt_string(&node, || schema("audience"), &e.audience);
    }

    if let Some(st) = &c.credential_status {
        let node = Term::Iri(st.id.clone());
        b.push(&vc, cred("credentialStatus"), node.clone());
        b.typ(&node, [STATUS, st.kind.as_str()].concat());
        b.string(
            &node,
            [STATUS, "statusPurpose"].concat(),
            &st.status_purpose,
        );
        b.string(
            &node,
            [STATUS, "statusListIndex"].concat(),
            &st.status_list_index,
        );
        b.push(
            &node,
            [STATUS, "statusListCredential"].concat(),
            Term::Iri(st.status_list_credential.clone()),
        );
    }

    let mut node_iris: Vec<&str> = Vec::with_capacity(8 + c.evidence.len());
    node_iris.extend([c.id.as_str(), c.issuer.id.as_str(), a.id.as_str()]);
    node_iris.extend(s.id.as_deref());
    node_iris.extend(a.criteria.id.as_deref());
    node_iris.extend(c.evidence.iter().filter_map(|e| e.id.as_deref()));
    node_iris.extend(c.credential_status.as_ref().map(|s| s.id.as_str()));
    b.finish(&node_iris)
}

/// The type terms a credential may carry on the fast path and their IRIs.
fn credential_type_iri(t: &str) -> String {
    match t {
        "VerifiableCredential" => cred("VerifiableCredential"),
        other => ob(other),
    }
}

/// The RDF of a proof configuration: `p` without its `proofValue`, under the credential's
/// `@context` (a blank node, as the proof configuration has no `id`).
pub fn proof_config_quads(p: &DataIntegrityProof) -> Vec<Quad> {
    let node = Term::blank("b0");
    let mut quads = Vec::with_capacity(5);
    let mut push = |pred: &str, o: Term| quads.push(Quad::new(node.clone(), Term::iri(pred), o));
    push(RDF_TYPE, Term::Iri([SEC, p.kind.as_str()].concat()));
    push(
        "https://w3id.org/security#cryptosuite",
        Term::typed(
            p.cryptosuite.as_str(),
            "https://w3id.org/security#cryptosuiteString",
        ),
    );
    push(
        "http://purl.org/dc/terms/created",
        Term::typed(p.created.as_str(), XSD_DATE_TIME),
    );
    push(
        "https://w3id.org/security#verificationMethod",
        Term::Iri(p.verification_method.clone()),
    );
    push(
        "https://w3id.org/security#proofPurpose",
        Term::Iri([SEC, p.proof_purpose.as_str()].concat()),
    );
    quads
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iri_check() {
        for ok in [
            "https://example.org/a/b?c=d#e",
            "urn:uuid:2b7c1a5e-6f0d-4c1b-9a57-3d2e8f4b6a10",
            "did:key:z6MkehRgf7yJbgaGfYsdoAsKdBPE3dj2CYhowQdcjqSJgvVd#z6Mk",
            "https://example.org/%20x",
            "https://example.org/status/1#42",
            "http://127.0.0.1:8080/credentials/1",
            "https://example.org/caf%C3%A9",
            "https://user:pass@example.org:443/a:b@c?d=e:f@g#h:i@j",
        ] {
            assert!(is_plain_absolute_iri(ok), "{ok}");
        }
        for bad in [
            "",
            "relative/path",
            "_:b0",
            "1http://x",
            "https://ex.org/a b",
            "https://ex.org/<x>",
            "https://ex.org/a#b#c",
            "https://ex.org/%2",
            "https://ex.org/%zz",
            "https://ex.org/a/../b",
            "https://ex.org/./b",
            "https://ex.org/é",
            "https:",
            "https://[::1]/",
            "http://badgesdid:key:z6Mkvients/partnership-closed",
            "https://example.org:80a/",
            "https://a@b@example.org/",
            "urn:uuid:0f4c7a3e-1b2d-4e5f-%a9b-0c1d2e3f4a5b",
            "https://ex.org/caf%C3",
            "https://ex.org/\"",
        ] {
            assert!(!is_plain_absolute_iri(bad), "{bad:?}");
        }
    }
}
