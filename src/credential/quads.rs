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
use super::rdf::{percent_decodes_to_utf8, Quad, Term, RDF_TYPE, XSD_STRING};
use super::rdfc::{Dataset, TermRef};

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

/// Where the fast path writes a credential's quads: as [`Quad`] values (what verification
/// reads facts from), or straight into a canonicalisation [`Dataset`] (what signing needs).
trait Sink {
    /// A subject or object: an IRI, a blank node or a literal.
    type Term: Clone;
    fn iri(&mut self, iri: &str) -> Self::Term;
    /// A fresh blank node.
    fn blank(&mut self) -> Self::Term;
    fn literal(&mut self, value: &str, datatype: &str) -> Self::Term;
    /// Adds `s p o` (`p` an IRI).
    fn quad(&mut self, s: &Self::Term, p: &str, o: Self::Term);
}

/// Builds [`Quad`]s with fresh blank-node labels.
struct Quads {
    quads: Vec<Quad>,
    next_blank: usize,
}

impl Sink for Quads {
    type Term = Term;
    fn iri(&mut self, iri: &str) -> Term {
        Term::Iri(iri.to_owned())
    }
    fn blank(&mut self) -> Term {
        let t = Term::Blank(format!("b{}", self.next_blank));
        self.next_blank += 1;
        t
    }
    fn literal(&mut self, value: &str, datatype: &str) -> Term {
        Term::typed(value, datatype)
    }
    fn quad(&mut self, s: &Term, p: &str, o: Term) {
        self.quads
            .push(Quad::new(s.clone(), Term::Iri(p.to_owned()), o));
    }
}

impl Sink for Dataset {
    type Term = TermRef;
    fn iri(&mut self, iri: &str) -> TermRef {
        Dataset::iri(self, iri)
    }
    fn blank(&mut self) -> TermRef {
        Dataset::blank(self)
    }
    fn literal(&mut self, value: &str, datatype: &str) -> TermRef {
        Dataset::literal(self, value, datatype)
    }
    fn quad(&mut self, s: &TermRef, p: &str, o: TermRef) {
        let p = Dataset::iri(self, p);
        self.push(*s, p, o);
    }
}

/// The statements of one credential, written into a [`Sink`].
struct Writer<'s, S: Sink> {
    sink: &'s mut S,
    /// Reused to spell out predicate IRIs.
    iri: String,
}

impl<S: Sink> Writer<'_, S> {
    fn push(&mut self, s: &S::Term, ns: &str, local: &str, o: S::Term) {
        self.iri.clear();
        self.iri.push_str(ns);
        self.iri.push_str(local);
        self.sink.quad(s, &self.iri, o);
    }

    fn typ(&mut self, s: &S::Term, ns: &str, class: &str) {
        self.iri.clear();
        self.iri.push_str(ns);
        self.iri.push_str(class);
        let class = self.sink.iri(&self.iri);
        self.sink.quad(s, RDF_TYPE, class);
    }

    fn string(&mut self, s: &S::Term, ns: &str, local: &str, v: &str) {
        let o = self.sink.literal(v, XSD_STRING);
        self.push(s, ns, local, o);
    }

    fn opt_string(&mut self, s: &S::Term, ns: &str, local: &str, v: &Option<String>) {
        if let Some(v) = v {
            self.string(s, ns, local, v);
        }
    }

    fn typed(&mut self, s: &S::Term, ns: &str, local: &str, v: &str, datatype: &str) {
        let o = self.sink.literal(v, datatype);
        self.push(s, ns, local, o);
    }

    fn link(&mut self, s: &S::Term, ns: &str, local: &str, iri: &str) {
        let o = self.sink.iri(iri);
        self.push(s, ns, local, o);
    }

    /// The subject of a node with an optional `id`: its IRI, or a fresh blank node.
    fn node(&mut self, id: &Option<String>) -> S::Term {
        match id {
            Some(id) => self.sink.iri(id),
            None => self.sink.blank(),
        }
    }
}

/// True if no two nodes of `c` share an IRI: then no two of its quads are the same (blank
/// nodes are always fresh). A JSON-LD dataset is a set, so where two coincide (say, two
/// evidence entries with one id) the repeated quads must collapse to one.
fn node_iris_distinct(c: &OpenBadgeCredential) -> bool {
    let s = &c.credential_subject;
    let a = &s.achievement;
    let mut node_iris: Vec<&str> = Vec::with_capacity(8 + c.evidence.len());
    node_iris.extend([c.id.as_str(), c.issuer.id.as_str(), a.id.as_str()]);
    node_iris.extend(s.id.as_deref());
    node_iris.extend(a.criteria.id.as_deref());
    node_iris.extend(c.evidence.iter().filter_map(|e| e.id.as_deref()));
    node_iris.extend(c.credential_status.as_ref().map(|s| s.id.as_str()));
    node_iris
        .iter()
        .enumerate()
        .all(|(i, a)| !node_iris[i + 1..].contains(a))
}

/// The RDF of `c` without its proof, exactly as JSON-LD expansion of its JSON with the bundled
/// VC 2.0 and OB 3.0.3 contexts gives it (for credentials that [`check_fast_path`] accepts).
pub fn credential_quads(c: &OpenBadgeCredential) -> Vec<Quad> {
    let mut quads = Quads {
        quads: Vec::with_capacity(48),
        next_blank: 0,
    };
    write_credential(c, &mut quads);
    let mut quads = quads.quads;
    if !node_iris_distinct(c) {
        quads.sort_unstable();
        quads.dedup();
    }
    quads
}

/// The same RDF as [`credential_quads`], written straight into a canonicalisation dataset;
/// `None` if two nodes share an IRI (then some quads repeat: use [`credential_quads`]).
pub fn credential_dataset(c: &OpenBadgeCredential) -> Option<Dataset> {
    if !node_iris_distinct(c) {
        return None;
    }
    let mut dataset = Dataset::with_capacity(48);
    write_credential(c, &mut dataset);
    Some(dataset)
}

fn write_credential<S: Sink>(c: &OpenBadgeCredential, sink: &mut S) {
    let mut b = Writer {
        sink,
        iri: String::with_capacity(96),
    };
    let vc = b.sink.iri(&c.id);
    for t in &c.types {
        let ns = if t == "VerifiableCredential" {
            CRED
        } else {
            OB
        };
        b.typ(&vc, ns, t);
    }
    b.string(&vc, SCHEMA, "name", &c.name);
    b.string(&vc, SCHEMA, "description", &c.description);

    // issuer: a Profile node.
    let issuer = b.sink.iri(&c.issuer.id);
    b.push(&vc, CRED, "issuer", issuer.clone());
    for t in &c.issuer.types {
        b.typ(&issuer, OB, t);
    }
    b.string(&issuer, SCHEMA, "name", &c.issuer.name);
    if let Some(url) = &c.issuer.url {
        b.typed(&issuer, SCHEMA, "url", url, OB_XSD_ANY_URI);
    }
    b.opt_string(&issuer, SCHEMA, "email", &c.issuer.email);

    b.typed(&vc, CRED, "validFrom", &c.valid_from, XSD_DATE_TIME);
    if let Some(until) = &c.valid_until {
        b.typed(&vc, CRED, "validUntil", until, XSD_DATE_TIME);
    }

    // credentialSubject: AchievementSubject (a blank node, or the holder's DID in a copy).
    let s = &c.credential_subject;
    let subject = b.node(&s.id);
    b.push(&vc, CRED, "credentialSubject", subject.clone());
    for t in &s.types {
        b.typ(&subject, OB, t);
    }
    for ident in &s.identifier {
        let node = b.sink.blank();
        b.push(&subject, OB, "identifier", node.clone());
        b.typ(&node, OB, &ident.kind);
        b.string(&node, OB, "identityHash", &ident.identity_hash);
        b.string(&node, OB, "identityType", &ident.identity_type);
        let hashed = if ident.hashed { "true" } else { "false" };
        b.typed(&node, OB, "hashed", hashed, OB_XSD_BOOLEAN);
        b.string(&node, OB, "salt", &ident.salt);
    }

    let a = &s.achievement;
    let ach = b.sink.iri(&a.id);
    b.push(&subject, OB, "achievement", ach.clone());
    for t in &a.types {
        b.typ(&ach, OB, t);
    }
    b.string(&ach, OB, "achievementType", &a.achievement_type);
    b.string(&ach, SCHEMA, "name", &a.name);
    b.string(&ach, SCHEMA, "description", &a.description);
    let criteria = b.node(&a.criteria.id);
    b.push(&ach, OB, "Criteria", criteria.clone());
    b.string(&criteria, OB, "narrative", &a.criteria.narrative);

    for e in &c.evidence {
        let node = b.node(&e.id);
        b.push(&vc, CRED, "evidence", node.clone());
        for t in &e.types {
            b.typ(&node, OB, t);
        }
        b.opt_string(&node, SCHEMA, "name", &e.name);
        b.opt_string(&node, SCHEMA, "description", &e.description);
        b.opt_string(&node, OB, "narrative", &e.narrative);
        b.opt_string(&node, SCHEMA, "genre", &e.genre);
        b.opt_string(&node, SCHEMA, "audience", &e.audience);
    }

    if let Some(st) = &c.credential_status {
        let node = b.sink.iri(&st.id);
        b.push(&vc, CRED, "credentialStatus", node.clone());
        b.typ(&node, STATUS, &st.kind);
        b.string(&node, STATUS, "statusPurpose", &st.status_purpose);
        b.string(&node, STATUS, "statusListIndex", &st.status_list_index);
        b.link(
            &node,
            STATUS,
            "statusListCredential",
            &st.status_list_credential,
        );
    }
}

/// The RDF of a proof configuration: `p` without its `proofValue`, under the credential's
/// `@context` (a blank node, as the proof configuration has no `id`).
pub fn proof_config_quads(p: &DataIntegrityProof) -> Vec<Quad> {
    let mut quads = Quads {
        quads: Vec::with_capacity(5),
        next_blank: 0,
    };
    write_proof_config(p, &mut quads);
    quads.quads
}

/// The same RDF as [`proof_config_quads`], as a canonicalisation dataset.
pub fn proof_config_dataset(p: &DataIntegrityProof) -> Dataset {
    let mut dataset = Dataset::with_capacity(5);
    write_proof_config(p, &mut dataset);
    dataset
}

fn write_proof_config<S: Sink>(p: &DataIntegrityProof, sink: &mut S) {
    let mut b = Writer {
        sink,
        iri: String::with_capacity(64),
    };
    let node = b.sink.blank();
    b.typ(&node, SEC, &p.kind);
    b.typed(
        &node,
        SEC,
        "cryptosuite",
        &p.cryptosuite,
        "https://w3id.org/security#cryptosuiteString",
    );
    b.typed(
        &node,
        "http://purl.org/dc/terms/",
        "created",
        &p.created,
        XSD_DATE_TIME,
    );
    b.link(&node, SEC, "verificationMethod", &p.verification_method);
    let purpose = [SEC, p.proof_purpose.as_str()].concat();
    b.link(&node, SEC, "proofPurpose", &purpose);
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
