//! The expanded document as RDF quads, exactly as `jsonld.js` `toRDF` writes them (safe
//! mode, `rdfDirection: 'i18n-datatype'`): its number formats, `@json` literals in JCS, list
//! cells, and the refusals of safe mode (relative IRIs, too many quads). Expansion itself,
//! with the bundled contexts, is the parent module's.

use std::collections::HashSet;

use json_ld::quad::{ObjectRef, PropertyRef, QuadRef};
use json_ld::{ExpandedDocument, Id, IriBuf, LdQuads, Node, Object, ValidId};

use super::error::JsonLdError;
use crate::credential::rdf::{Quad, Term, RDF_LANG_STRING, RDF_TYPE, XSD_STRING};

/// A processed (active) context.
pub(super) type ActiveContext = json_ld::Context<IriBuf, BlankId>;
/// Blank node identifiers of the expanded document.
pub(super) type BlankId = json_ld::BlankIdBuf;
/// An expanded document, node, object and identifier.
pub(super) type LdDocument = ExpandedDocument<IriBuf, BlankId>;
pub(super) type LdNode = Node<IriBuf, BlankId>;
pub(super) type LdObject = Object<IriBuf, BlankId>;
pub(super) type LdId = Id<IriBuf, BlankId>;

/// Maximum number of RDF quads one document may expand to. Expansion can produce more
/// quads than the input has values (each list item is two, each `@type` one more), and every
/// quad is canonicalised, sorted and hashed; a credential has under a few hundred.
pub const MAX_QUADS: usize = 50_000;
const XSD_BOOLEAN: &str = "http://www.w3.org/2001/XMLSchema#boolean";
const XSD_INTEGER: &str = "http://www.w3.org/2001/XMLSchema#integer";
const XSD_DOUBLE: &str = "http://www.w3.org/2001/XMLSchema#double";
const RDF_JSON: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON";
const RDF_FIRST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first";
const RDF_REST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest";
const RDF_NIL: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil";
const I18N: &str = "https://www.w3.org/ns/i18n#";

/// An identifier as written.
pub(super) fn id_str(id: &LdId) -> String {
    match id {
        Id::Valid(ValidId::Iri(iri)) => iri.as_str().to_owned(),
        Id::Valid(ValidId::Blank(b)) => b.as_str().to_owned(),
        Id::Invalid(s) => s.clone(),
    }
}

/// Turns an identifier into a subject, graph or object term; relative IRIs are errors.
fn id_term(id: &LdId) -> Result<Term, JsonLdError> {
    match id {
        Id::Valid(ValidId::Iri(iri)) => Ok(Term::Iri(iri.as_str().to_owned())),
        Id::Valid(ValidId::Blank(b)) => Ok(Term::Blank(b.suffix().to_owned())),
        Id::Invalid(s) => Err(JsonLdError::RelativeIri(s.clone())),
    }
}

/// Serialises the (relabelled) expanded document like `jsonld.js` `toRDF`.
pub(super) fn serialize(doc: &LdDocument) -> Result<Vec<Quad>, JsonLdError> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut lists = 0usize;
    let mut push = |quad: Quad, out: &mut Vec<Quad>| {
        // An RDF dataset is a set: the same statement made twice is one quad.
        if seen.insert(quad.clone()) {
            out.push(quad);
        }
    };
    for QuadRef(graph, subject, property, object) in doc.quads() {
        // Checked per statement of the expanded document (a list adds all its items at
        // once, but never more than the input has values).
        if out.len() > MAX_QUADS {
            return Err(too_many_quads());
        }
        let graph = graph.map(id_term).transpose()?;
        let subject = id_term(subject)?;
        let predicate = match property {
            PropertyRef::Type => Term::iri(RDF_TYPE),
            PropertyRef::Ref(p) => match id_term(p)? {
                Term::Blank(b) => {
                    return Err(JsonLdError::Invalid(format!(
                        "blank node predicate `_:{b}`"
                    )))
                }
                t => t,
            },
        };
        let object = match (property, object) {
            // A `@type` that did not expand to an IRI is a term no context defines.
            (PropertyRef::Type, ObjectRef::Ref(Id::Invalid(t))) => {
                return Err(JsonLdError::UndefinedTerm(t.clone()))
            }
            (_, ObjectRef::Ref(id)) => id_term(id)?,
            (_, ObjectRef::Node(node)) => node_term(node)?,
            (_, ObjectRef::Object(object)) => {
                let mut extra = Vec::new();
                let term = object_term(object, &mut lists, &mut extra)?;
                for (s, p, o) in extra {
                    push(
                        Quad {
                            subject: s,
                            predicate: p,
                            object: o,
                            graph: graph.clone(),
                        },
                        &mut out,
                    );
                }
                term
            }
        };
        push(
            Quad {
                subject,
                predicate,
                object,
                graph,
            },
            &mut out,
        );
    }
    if out.len() > MAX_QUADS {
        return Err(too_many_quads());
    }
    Ok(out)
}

fn too_many_quads() -> JsonLdError {
    JsonLdError::Invalid(format!(
        "document expands to more than {MAX_QUADS} RDF statements"
    ))
}

/// The subject/object term of a node (every node has an id after relabelling).
fn node_term(node: &LdNode) -> Result<Term, JsonLdError> {
    match &node.id {
        Some(id) => id_term(id),
        None => Err(JsonLdError::Invalid("node without identifier".into())),
    }
}

/// The RDF term of an object; list cells are appended to `extra` as triples.
fn object_term(
    object: &LdObject,
    lists: &mut usize,
    extra: &mut Vec<(Term, Term, Term)>,
) -> Result<Term, JsonLdError> {
    match object {
        Object::Node(node) => node_term(node),
        Object::Value(value) => literal_term(value),
        Object::List(list) => {
            let mut head = Term::iri(RDF_NIL);
            // Built back to front so that each cell can point at the next.
            let mut cells = Vec::with_capacity(list.len());
            for item in list.iter() {
                *lists += 1;
                let cell = Term::blank(format!("l{lists}"));
                let value = object_term(item.inner(), lists, extra)?;
                cells.push((cell, value));
            }
            for (cell, value) in cells.into_iter().rev() {
                extra.push((cell.clone(), Term::iri(RDF_FIRST), value));
                extra.push((cell.clone(), Term::iri(RDF_REST), head));
                head = cell;
            }
            Ok(head)
        }
    }
}

/// A value object as an RDF literal, by the rules of `jsonld.js` `_objectToRDF`.
fn literal_term(value: &json_ld::Value<IriBuf>) -> Result<Term, JsonLdError> {
    match value {
        json_ld::Value::Json(json) => {
            let mut text = String::new();
            write_jcs(&mut text, json);
            Ok(Term::typed(text, RDF_JSON))
        }
        json_ld::Value::LangString(s) => {
            let (text, language, direction) = s.parts();
            let language = match language {
                Some(tag) => {
                    let tag = tag.as_str().to_ascii_lowercase();
                    if !is_bcp47ish(&tag) {
                        return Err(JsonLdError::Invalid(format!(
                            "invalid @language value `{tag}`"
                        )));
                    }
                    Some(tag)
                }
                None => None,
            };
            Ok(match (direction, language) {
                (Some(direction), language) => Term::typed(
                    text,
                    format!(
                        "{I18N}{}_{}",
                        language.unwrap_or_default(),
                        direction.as_str()
                    ),
                ),
                (None, Some(language)) => Term::Literal {
                    value: text.to_owned(),
                    datatype: RDF_LANG_STRING.to_owned(),
                    language: Some(language),
                },
                (None, None) => Term::string(text),
            })
        }
        json_ld::Value::Literal(literal, ty) => {
            let ty = ty.as_ref().map(|t| t.as_str());
            match literal {
                json_ld::object::Literal::Null => {
                    Err(JsonLdError::Invalid("`@value` is null".into()))
                }
                json_ld::object::Literal::Boolean(b) => {
                    Ok(Term::typed(b.to_string(), ty.unwrap_or(XSD_BOOLEAN)))
                }
                json_ld::object::Literal::Number(n) => {
                    let x: f64 = n.as_str().parse().map_err(|_| {
                        JsonLdError::Invalid(format!("number `{}` out of range", n.as_str()))
                    })?;
                    Ok(js_number_literal(x, ty))
                }
                json_ld::object::Literal::String(s) => {
                    if ty == Some(XSD_DOUBLE) {
                        // jsonld.js re-formats xsd:double strings through parseFloat.
                        let x: f64 = s.as_str().trim().parse().map_err(|_| {
                            JsonLdError::Invalid(format!("`{}` is not an xsd:double", s.as_str()))
                        })?;
                        if !x.is_finite() {
                            return Err(JsonLdError::Invalid(format!(
                                "`{}` is not a finite xsd:double",
                                s.as_str()
                            )));
                        }
                        Ok(Term::typed(js_to_exponential_15(x), XSD_DOUBLE))
                    } else {
                        Ok(Term::typed(s.as_str(), ty.unwrap_or(XSD_STRING)))
                    }
                }
            }
        }
    }
}

/// The `jsonld.js` language tag check (`REGEX_BCP47`).
fn is_bcp47ish(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first = parts.next().unwrap_or_default();
    (1..=8).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// A JSON number as `jsonld.js` writes it: JavaScript decides between integer and double by
/// the number's value (`1.0` is the integer 1), not by its JSON spelling.
fn js_number_literal(x: f64, ty: Option<&str>) -> Term {
    if js_is_double(x) || ty == Some(XSD_DOUBLE) {
        Term::typed(js_to_exponential_15(x), ty.unwrap_or(XSD_DOUBLE))
    } else {
        // `Number.prototype.toFixed(0)`: exact integer digits; tiny fractions round to zero.
        let text = if x.fract() == 0.0 {
            if x == 0.0 {
                "0".to_owned()
            } else {
                format!("{x:.0}")
            }
        } else if x < 0.0 {
            "-0".to_owned()
        } else {
            "0".to_owned()
        };
        Term::typed(text, ty.unwrap_or(XSD_INTEGER))
    }
}

/// `jsonld.js` `isDouble`: `String(x)` contains a `.`, or `|x| >= 1e21`.
fn js_is_double(x: f64) -> bool {
    if x.abs() >= 1e21 {
        return true;
    }
    if x.fract() == 0.0 {
        return false;
    }
    // Shortest round-trip digits and decimal exponent, as JavaScript's Number::toString uses.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits = mantissa.chars().filter(char::is_ascii_digit).count() as i32;
    let n = exp.parse::<i32>().unwrap_or(0) + 1;
    if digits <= n && n <= 21 {
        false
    } else if -6 < n && n <= 21 {
        true
    } else {
        digits > 1
    }
}

/// `x.toExponential(15).replace(/(\d)0*e\+?/, '$1E')`: 16 significant digits, ties rounded
/// away from zero, trailing zeros dropped (one kept after the point), e.g. `5.3E0`.
fn js_to_exponential_15(x: f64) -> String {
    if x == 0.0 {
        return "0.0E0".to_owned();
    }
    // Exact decimal expansion (an f64 has at most 767 significant digits).
    let exact = format!("{:.800e}", x.abs());
    let (mantissa, exp) = exact.split_once('e').unwrap_or((&exact, "0"));
    let mut exp: i32 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let mut kept: Vec<u8> = digits[..16].to_vec();
    if digits[16] >= b'5' {
        let mut i = kept.len();
        loop {
            if i == 0 {
                kept.insert(0, b'1');
                kept.pop();
                exp += 1;
                break;
            }
            i -= 1;
            if kept[i] == b'9' {
                kept[i] = b'0';
            } else {
                kept[i] += 1;
                break;
            }
        }
    }
    while kept.len() > 2 && kept.last() == Some(&b'0') {
        kept.pop();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    let first = kept[0] as char;
    let rest: String = kept[1..].iter().map(|&b| b as char).collect();
    format!("{sign}{first}.{rest}E{exp}")
}

/// RFC 8785 (JCS) serialisation, which `jsonld.js` uses for `@json` literals. Numbers are
/// already in JavaScript form (the expanded document is canonicalised before this).
fn write_jcs(out: &mut String, value: &json_ld::syntax::Value) {
    use json_ld::syntax::Value as J;
    match value {
        J::Null => out.push_str("null"),
        J::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Number(n) => out.push_str(n.as_str()),
        J::String(s) => write_json_string(out, s.as_str()),
        J::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_jcs(out, item);
            }
            out.push(']');
        }
        J::Object(object) => {
            let mut entries: Vec<_> = object.iter().collect();
            // JCS orders keys by UTF-16 code units.
            entries.sort_by(|a, b| {
                a.key
                    .as_str()
                    .encode_utf16()
                    .cmp(b.key.as_str().encode_utf16())
            });
            out.push('{');
            for (i, entry) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, entry.key.as_str());
                out.push(':');
                write_jcs(out, &entry.value);
            }
            out.push('}');
        }
    }
}

/// A JSON string as `JSON.stringify` writes it.
fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_match_javascript() {
        assert_eq!(js_to_exponential_15(5.3), "5.3E0");
        assert_eq!(js_to_exponential_15(0.1), "1.0E-1");
        assert_eq!(js_to_exponential_15(0.1 + 0.2), "3.0E-1");
        assert_eq!(js_to_exponential_15(-1.5e300), "-1.5E300");
        assert_eq!(
            js_to_exponential_15(1.0 + 1.0 / 65536.0),
            "1.000015258789063E0"
        );
        assert_eq!(js_to_exponential_15(0.0), "0.0E0");
    }

    #[test]
    fn integers_and_doubles_are_told_apart_like_javascript() {
        assert!(!js_is_double(1.0));
        assert!(js_is_double(1.5));
        assert!(js_is_double(1e21));
        assert!(js_is_double(1.5e-7));
        assert!(!js_is_double(1e-7));
        assert!(js_is_double(1e-6));
    }
}
