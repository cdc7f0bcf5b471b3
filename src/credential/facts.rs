//! What a credential states, read two ways: from its JSON and from its RDF.
//!
//! The facts a verifier acts on and shows (type, issuer, validity dates, status entry,
//! subject and achievement) must be the ones the signature covers, and the signature covers
//! the RDF. [`Facts::from_quads`] reads them from the RDF of the document as signed;
//! [`Facts::from_json`] reads them from the JSON as the compact form spells them. Verification
//! requires both to agree ([`Facts::first_difference`]), so what a report or page shows from
//! the JSON is what was signed.

use serde::Serialize;
use serde_json::Value;

use super::rdf::{Quad, Term, RDF_TYPE, XSD_STRING};

const CRED: &str = "https://www.w3.org/2018/credentials#";
const OB: &str = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#";
const STATUS: &str = "https://www.w3.org/ns/credentials/status#";
const SCHEMA_NAME: &str = "https://schema.org/name";
/// `xsd:dateTime` as the VC contexts spell it.
const XSD_DATE_TIME: &str = "http://www.w3.org/2001/XMLSchema#dateTime";

/// The credential types a verifier tells apart: the JSON term and the IRI the bundled
/// contexts give it. `AchievementCredential` is an alias of `OpenBadgeCredential` in the OB
/// context, so both terms name one IRI and read as `OpenBadgeCredential`.
const CREDENTIAL_TYPES: &[(&str, &str)] = &[
    (
        "VerifiableCredential",
        "https://www.w3.org/2018/credentials#VerifiableCredential",
    ),
    (
        "OpenBadgeCredential",
        "https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential",
    ),
    (
        "AchievementCredential",
        "https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential",
    ),
    (
        "EndorsementCredential",
        "https://purl.imsglobal.org/spec/vc/ob/vocab.html#EndorsementCredential",
    ),
    (
        "BitstringStatusListCredential",
        "https://www.w3.org/ns/credentials/status#BitstringStatusListCredential",
    ),
];

/// The status entry type that revocation checks read.
const BITSTRING_ENTRY: &str = "BitstringStatusListEntry";

/// What a credential states that verification checks or shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Facts {
    /// The credential's `id`, if it has one.
    pub id: Option<String>,
    /// Its recognised types (`VerifiableCredential`, `OpenBadgeCredential`, …), sorted; other
    /// types are left out.
    pub types: Vec<String>,
    /// The issuer.
    pub issuer: Option<IssuerFacts>,
    /// `validFrom`, as written.
    pub valid_from: Option<String>,
    /// `validUntil`, as written.
    pub valid_until: Option<String>,
    /// The status entry.
    pub status: Option<StatusFacts>,
    /// The subject.
    pub subject: Option<SubjectFacts>,
}

/// The issuer a credential names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct IssuerFacts {
    /// Its id (an IRI).
    pub id: String,
    /// The name it gives itself.
    pub name: Option<String>,
}

/// A `credentialStatus` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusFacts {
    /// True when its type is `BitstringStatusListEntry`.
    pub bitstring_entry: bool,
    /// `statusPurpose`.
    pub status_purpose: Option<String>,
    /// `statusListIndex`.
    pub status_list_index: Option<String>,
    /// `statusListCredential`.
    pub status_list_credential: Option<String>,
}

/// The `credentialSubject`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SubjectFacts {
    /// Its `id`, if it has one.
    pub id: Option<String>,
    /// The achievement it was awarded.
    pub achievement: Option<AchievementFacts>,
}

/// The achievement of the subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AchievementFacts {
    /// Its `id`, if it has one.
    pub id: Option<String>,
    /// Its name.
    pub name: Option<String>,
}

/// A fact that cannot be read unambiguously (two issuers, a date that is not a string, …).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FactsError(pub String);

fn fail<T>(s: impl Into<String>) -> Result<T, FactsError> {
    Err(FactsError(s.into()))
}

impl Facts {
    /// Reads the facts from the compact JSON form (see [`super::form`]). A checked member of
    /// an unexpected JSON kind (an array of issuers, a number as a date) is an error, since
    /// its RDF reading would differ.
    pub fn from_json(doc: &Value) -> Result<Facts, FactsError> {
        let Some(obj) = doc.as_object() else {
            return fail("the document is not a JSON object");
        };
        let id = opt_str(obj.get("id"), "id")?;
        let types = json_types(obj.get("type"), "type")?
            .iter()
            .filter_map(|t| type_name_of_term(t))
            .collect();
        let issuer = match obj.get("issuer") {
            None => None,
            Some(Value::String(id)) => Some(IssuerFacts {
                id: id.clone(),
                name: None,
            }),
            Some(Value::Object(o)) => {
                let Some(id) = opt_str(o.get("id"), "issuer.id")? else {
                    return fail("issuer has no id");
                };
                Some(IssuerFacts {
                    id,
                    name: opt_str(o.get("name"), "issuer.name")?,
                })
            }
            Some(_) => return fail("issuer must be one IRI or one object"),
        };
        let valid_from = opt_str(obj.get("validFrom"), "validFrom")?;
        let valid_until = opt_str(obj.get("validUntil"), "validUntil")?;
        let status = match obj.get("credentialStatus") {
            None => None,
            Some(Value::Object(s)) => Some(StatusFacts {
                bitstring_entry: json_types(s.get("type"), "credentialStatus.type")?
                    .contains(&BITSTRING_ENTRY),
                status_purpose: opt_str(s.get("statusPurpose"), "statusPurpose")?,
                status_list_index: opt_str(s.get("statusListIndex"), "statusListIndex")?,
                status_list_credential: opt_str(
                    s.get("statusListCredential"),
                    "statusListCredential",
                )?,
            }),
            Some(_) => return fail("credentialStatus must be one object"),
        };
        let subject = match obj.get("credentialSubject") {
            None => None,
            Some(Value::Object(s)) => Some(SubjectFacts {
                id: opt_str(s.get("id"), "credentialSubject.id")?,
                achievement: match s.get("achievement") {
                    None => None,
                    Some(Value::Object(a)) => Some(AchievementFacts {
                        id: opt_str(a.get("id"), "achievement.id")?,
                        name: opt_str(a.get("name"), "achievement.name")?,
                    }),
                    Some(_) => return fail("credentialSubject.achievement must be one object"),
                },
            }),
            Some(_) => return fail("credentialSubject must be one object"),
        };
        Ok(Facts {
            id,
            types,
            issuer,
            valid_from,
            valid_until,
            status,
            subject,
        }
        .with_sorted_types())
    }

    /// Reads the facts from the RDF of the document (default graph; the proof's graph is not
    /// part of it). The credential is the one node typed `VerifiableCredential` that no other
    /// node refers to (an embedded endorsement is referred to by its parent).
    pub fn from_quads(quads: &[Quad]) -> Result<Facts, FactsError> {
        let g = Graph(quads.iter().filter(|q| q.graph.is_none()).collect());
        let vc_iri = Term::iri(CREDENTIAL_TYPES[0].1);
        let mut roots: Vec<&Term> = g
            .subjects_of_type(&vc_iri)
            .filter(|s| !g.is_object(s))
            .collect();
        roots.sort();
        roots.dedup();
        let root = match roots.as_slice() {
            [one] => *one,
            [] => return fail("the signed data holds no VerifiableCredential"),
            _ => return fail("the signed data holds more than one credential"),
        };
        let id = iri_of(root);
        let types = g
            .objects(root, RDF_TYPE)
            .filter_map(|t| match t {
                Term::Iri(iri) => type_name_of_iri(iri),
                _ => None,
            })
            .collect();
        let issuer = match g.one(root, &cred("issuer"), "issuer")? {
            None => None,
            Some(node) => {
                let Term::Iri(id) = node else {
                    return fail("the issuer has no id (a blank node)");
                };
                Some(IssuerFacts {
                    id: id.clone(),
                    name: g.string(node, SCHEMA_NAME, "issuer.name")?,
                })
            }
        };
        let valid_from = g.date(root, "validFrom")?;
        let valid_until = g.date(root, "validUntil")?;
        let status = match g.one(root, &cred("credentialStatus"), "credentialStatus")? {
            None => None,
            Some(node) => Some(StatusFacts {
                bitstring_entry: g
                    .objects(node, RDF_TYPE)
                    .any(|t| *t == Term::Iri([STATUS, BITSTRING_ENTRY].concat())),
                status_purpose: g.string(node, &status("statusPurpose"), "statusPurpose")?,
                status_list_index: g.string(node, &status("statusListIndex"), "statusListIndex")?,
                status_list_credential: match g.one(
                    node,
                    &status("statusListCredential"),
                    "statusListCredential",
                )? {
                    None => None,
                    Some(Term::Iri(iri)) => Some(iri.clone()),
                    Some(_) => return fail("statusListCredential is not an IRI"),
                },
            }),
        };
        let subject = match g.one(root, &cred("credentialSubject"), "credentialSubject")? {
            None => None,
            Some(node) => Some(SubjectFacts {
                id: iri_of(node),
                achievement: match g.one(node, &[OB, "achievement"].concat(), "achievement")? {
                    None => None,
                    Some(a) => Some(AchievementFacts {
                        id: iri_of(a),
                        name: g.string(a, SCHEMA_NAME, "achievement.name")?,
                    }),
                },
            }),
        };
        Ok(Facts {
            id,
            types,
            issuer,
            valid_from,
            valid_until,
            status,
            subject,
        }
        .with_sorted_types())
    }

    /// The types as a set: sorted, each once, whatever order and repetition the document has.
    fn with_sorted_types(mut self) -> Facts {
        self.types.sort();
        self.types.dedup();
        self
    }

    /// The first fact on which `self` and `other` disagree, by name, or `None`.
    pub fn first_difference(&self, other: &Facts) -> Option<&'static str> {
        let issuer = |f: &Facts| f.issuer.as_ref().map(|i| i.id.clone());
        let issuer_name = |f: &Facts| f.issuer.as_ref().and_then(|i| i.name.clone());
        let subject = |f: &Facts| f.subject.as_ref().map(|s| s.id.clone());
        let achievement = |f: &Facts| {
            f.subject
                .as_ref()
                .map(|s| s.achievement.as_ref().map(|a| a.id.clone()))
        };
        let achievement_name = |f: &Facts| {
            f.subject
                .as_ref()
                .and_then(|s| s.achievement.as_ref())
                .map(|a| a.name.clone())
        };
        if self.id != other.id {
            Some("id")
        } else if self.types != other.types {
            Some("type")
        } else if issuer(self) != issuer(other) {
            Some("issuer")
        } else if issuer_name(self) != issuer_name(other) {
            Some("issuer.name")
        } else if self.valid_from != other.valid_from {
            Some("validFrom")
        } else if self.valid_until != other.valid_until {
            Some("validUntil")
        } else if self.status != other.status {
            Some("credentialStatus")
        } else if subject(self) != subject(other) {
            Some("credentialSubject")
        } else if achievement(self) != achievement(other) {
            Some("credentialSubject.achievement")
        } else if achievement_name(self) != achievement_name(other) {
            Some("credentialSubject.achievement.name")
        } else {
            debug_assert_eq!(self, other);
            None
        }
    }

    /// True when the types include `VerifiableCredential` and `OpenBadgeCredential`.
    pub fn is_open_badge(&self) -> bool {
        let has = |t: &str| self.types.iter().any(|x| x == t);
        has("VerifiableCredential") && has("OpenBadgeCredential")
    }
}

fn cred(local: &str) -> String {
    [CRED, local].concat()
}
fn status(local: &str) -> String {
    [STATUS, local].concat()
}

fn iri_of(t: &Term) -> Option<String> {
    match t {
        Term::Iri(iri) => Some(iri.clone()),
        _ => None,
    }
}

/// The recognised type name of a JSON `type` term (aliases read as the name of their IRI).
fn type_name_of_term(term: &str) -> Option<String> {
    let (_, iri) = CREDENTIAL_TYPES.iter().find(|(t, _)| *t == term)?;
    type_name_of_iri(iri)
}

fn type_name_of_iri(iri: &str) -> Option<String> {
    CREDENTIAL_TYPES
        .iter()
        .find(|(_, i)| *i == iri)
        .map(|(t, _)| (*t).to_owned())
}

fn opt_str(v: Option<&Value>, what: &str) -> Result<Option<String>, FactsError> {
    match v {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => fail(format!("{what} must be a string")),
    }
}

fn json_types<'a>(v: Option<&'a Value>, what: &str) -> Result<Vec<&'a str>, FactsError> {
    match v {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.as_str()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|t| {
                t.as_str()
                    .ok_or_else(|| FactsError(format!("{what} must hold strings")))
            })
            .collect(),
        Some(_) => fail(format!("{what} must be a string or an array of strings")),
    }
}

/// The default graph, with the few look-ups the facts need.
struct Graph<'a>(Vec<&'a Quad>);

impl<'a> Graph<'a> {
    fn objects<'s>(&'s self, s: &'s Term, p: &'s str) -> impl Iterator<Item = &'a Term> + 's {
        self.0
            .iter()
            .filter(move |q| q.subject == *s && matches!(&q.predicate, Term::Iri(i) if i == p))
            .map(|q| &q.object)
    }

    fn subjects_of_type<'s>(&'s self, class: &'s Term) -> impl Iterator<Item = &'a Term> + 's {
        self.0
            .iter()
            .filter(move |q| matches!(&q.predicate, Term::Iri(i) if i == RDF_TYPE))
            .filter(move |q| q.object == *class)
            .map(|q| &q.subject)
    }

    fn is_object(&self, t: &Term) -> bool {
        self.0.iter().any(|q| q.object == *t)
    }

    /// The one object of `s p`, `None` if there is none; several are an error.
    fn one(&self, s: &Term, p: &str, what: &str) -> Result<Option<&'a Term>, FactsError> {
        let mut it = self.objects(s, p);
        let first = it.next();
        if it.next().is_some() {
            return fail(format!("the signed data gives more than one {what}"));
        }
        Ok(first)
    }

    /// The one plain string of `s p`.
    fn string(&self, s: &Term, p: &str, what: &str) -> Result<Option<String>, FactsError> {
        match self.one(s, p, what)? {
            None => Ok(None),
            Some(Term::Literal {
                value,
                datatype,
                language: None,
            }) if datatype == XSD_STRING => Ok(Some(value.clone())),
            Some(_) => fail(format!("{what} is not a plain string in the signed data")),
        }
    }

    /// The one `xsd:dateTime` of the credential property `local`.
    fn date(&self, s: &Term, local: &'static str) -> Result<Option<String>, FactsError> {
        match self.one(s, &cred(local), local)? {
            None => Ok(None),
            Some(Term::Literal {
                value, datatype, ..
            }) if datatype == XSD_DATE_TIME => Ok(Some(value.clone())),
            Some(_) => fail(format!("{local} is not an xsd:dateTime in the signed data")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::jsonld::JsonLdProcessor;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "@context": [
                "https://www.w3.org/ns/credentials/v2",
                "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
            ],
            "id": "https://badges.example/credentials/1",
            "type": ["VerifiableCredential", "AchievementCredential"],
            "issuer": {"id": "https://badges.example/issuer", "type": ["Profile"], "name": "Prog"},
            "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {
                "type": ["AchievementSubject"],
                "achievement": {
                    "id": "https://badges.example/a/closed", "type": ["Achievement"],
                    "name": "Closed", "description": "d",
                    "criteria": {"narrative": "n"}
                }
            },
            "credentialStatus": {
                "id": "https://badges.example/status/1#5",
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": "5",
                "statusListCredential": "https://badges.example/status/1"
            }
        })
    }

    #[test]
    fn json_and_rdf_agree_on_a_compact_document() {
        let doc = sample();
        let quads = JsonLdProcessor::new().to_rdf(&doc).unwrap();
        let (a, b) = (
            Facts::from_json(&doc).unwrap(),
            Facts::from_quads(&quads).unwrap(),
        );
        assert_eq!(a, b);
        assert_eq!(a.first_difference(&b), None);
        assert!(a.is_open_badge());
        assert_eq!(a.types, ["OpenBadgeCredential", "VerifiableCredential"]);
        assert_eq!(
            a.status.as_ref().unwrap().status_list_index.as_deref(),
            Some("5")
        );
        assert_eq!(
            a.subject.unwrap().achievement.unwrap().name.as_deref(),
            Some("Closed")
        );
    }

    #[test]
    fn an_aliased_status_is_seen_in_the_rdf_only() {
        let mut doc = sample();
        let status = doc
            .as_object_mut()
            .unwrap()
            .remove("credentialStatus")
            .unwrap();
        doc["https://www.w3.org/2018/credentials#credentialStatus"] = status;
        let quads = JsonLdProcessor::new().to_rdf(&doc).unwrap();
        let (a, b) = (
            Facts::from_json(&doc).unwrap(),
            Facts::from_quads(&quads).unwrap(),
        );
        assert!(a.status.is_none());
        assert!(b.status.is_some());
        assert_eq!(a.first_difference(&b), Some("credentialStatus"));
    }

    #[test]
    fn ambiguous_facts_are_errors() {
        let mut doc = sample();
        doc["issuer"] = json!(["https://a.example/", "https://b.example/"]);
        assert!(Facts::from_json(&doc).is_err());
        let quads = JsonLdProcessor::new().to_rdf(&doc).unwrap();
        assert!(Facts::from_quads(&quads)
            .unwrap_err()
            .0
            .contains("more than one issuer"));
    }
}
