//! RDF terms and quads: the common currency of the JSON-LD path, the fast path and RDFC-1.0.
//!
//! Both ways of turning a credential into RDF (general JSON-LD expansion and the typed fast
//! path) produce these values, and canonicalisation consumes them, so the two can be compared
//! quad for quad.

use std::fmt::Write as _;

/// The XML Schema string datatype: a literal without an explicit datatype has this one.
pub const XSD_STRING: &str = "http://www.w3.org/2001/XMLSchema#string";
/// The datatype of language-tagged strings.
pub const RDF_LANG_STRING: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString";
/// `rdf:type`.
pub const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";

/// One RDF term.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Term {
    /// An absolute IRI, without angle brackets.
    Iri(String),
    /// A blank node label, without the `_:` prefix.
    Blank(String),
    /// A literal. `datatype` is always set (`xsd:string` when plain, `rdf:langString` with a
    /// language tag), which keeps comparison and serialisation free of special cases.
    Literal {
        /// The lexical form.
        value: String,
        /// The datatype IRI.
        datatype: String,
        /// The language tag, for `rdf:langString` only.
        language: Option<String>,
    },
}

impl Term {
    /// An IRI term.
    pub fn iri(s: impl Into<String>) -> Self {
        Term::Iri(s.into())
    }
    /// A blank node with the given label (no `_:`).
    pub fn blank(s: impl Into<String>) -> Self {
        Term::Blank(s.into())
    }
    /// A plain string literal (`xsd:string`).
    pub fn string(s: impl Into<String>) -> Self {
        Term::Literal {
            value: s.into(),
            datatype: XSD_STRING.to_owned(),
            language: None,
        }
    }
    /// A typed literal.
    pub fn typed(s: impl Into<String>, datatype: impl Into<String>) -> Self {
        Term::Literal {
            value: s.into(),
            datatype: datatype.into(),
            language: None,
        }
    }
    /// True for blank nodes.
    pub fn is_blank(&self) -> bool {
        matches!(self, Term::Blank(_))
    }
}

/// One RDF quad; `graph` is `None` for the default graph.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quad {
    /// Subject: an IRI or a blank node.
    pub subject: Term,
    /// Predicate: an IRI.
    pub predicate: Term,
    /// Object: any term.
    pub object: Term,
    /// Graph name: `None` for the default graph, else an IRI or a blank node.
    pub graph: Option<Term>,
}

impl Quad {
    /// A quad in the default graph.
    pub fn new(subject: Term, predicate: Term, object: Term) -> Self {
        Quad {
            subject,
            predicate,
            object,
            graph: None,
        }
    }
}

/// Appends `term` in canonical N-Quads form.
pub fn write_term(out: &mut String, term: &Term) {
    match term {
        Term::Iri(iri) => {
            out.push('<');
            out.push_str(iri);
            out.push('>');
        }
        Term::Blank(label) => {
            out.push_str("_:");
            out.push_str(label);
        }
        Term::Literal {
            value,
            datatype,
            language: Some(lang),
        } => {
            let _ = datatype;
            out.push('"');
            escape_literal(out, value);
            out.push_str("\"@");
            out.push_str(lang);
        }
        Term::Literal {
            value,
            datatype,
            language: None,
        } => write_literal(out, value, datatype),
    }
}

/// Appends a literal without a language tag in canonical N-Quads form.
pub fn write_literal(out: &mut String, value: &str, datatype: &str) {
    out.push('"');
    escape_literal(out, value);
    out.push('"');
    if datatype != XSD_STRING {
        out.push_str("^^<");
        out.push_str(datatype);
        out.push('>');
    }
}

/// Escapes a literal's lexical form as canonical N-Quads (RDF 1.2 N-Triples canonical form,
/// which RDFC-1.0 and the JavaScript `rdf-canonize` both use).
fn escape_literal(out: &mut String, value: &str) {
    // Copy unescaped runs whole: canonicalisation serialises every literal, and most need no
    // escaping. Every byte matched below is ASCII, so `i` is always a char boundary.
    let mut run_start = 0;
    for (i, b) in value.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f | 0x7f => "",
            _ => continue,
        };
        out.push_str(&value[run_start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{:04X}", b);
        } else {
            out.push_str(escape);
        }
        run_start = i + 1;
    }
    out.push_str(&value[run_start..]);
}

/// Appends one quad as a canonical N-Quads line, newline included.
pub fn write_quad(out: &mut String, quad: &Quad) {
    write_term(out, &quad.subject);
    out.push(' ');
    write_term(out, &quad.predicate);
    out.push(' ');
    write_term(out, &quad.object);
    out.push(' ');
    if let Some(g) = &quad.graph {
        write_term(out, g);
        out.push(' ');
    }
    out.push_str(".\n");
}

/// True if `iri`'s `%XX` octets, decoded in place, leave UTF-8: the `iref` crate under
/// `json-ld` panics on an IRI where they do not (found by fuzzing, `fuzz/`), so neither RDF
/// path lets one through. A `%` without two hex digits after it is left as it is.
pub fn percent_decodes_to_utf8(iri: &str) -> bool {
    let bytes = iri.as_bytes();
    if !bytes.contains(&b'%') {
        return true;
    }
    let hex = |b: u8| char::from(b).to_digit(16).map(|d| d as u8);
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let pair = bytes.get(i + 1..i + 3).map(|p| (hex(p[0]), hex(p[1])));
        match (bytes[i], pair) {
            (b'%', Some((Some(hi), Some(lo)))) => {
                decoded.push((hi << 4) | lo);
                i += 3;
            }
            (b, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    std::str::from_utf8(&decoded).is_ok()
}

#[cfg(test)]
mod percent_tests {
    use super::percent_decodes_to_utf8;

    #[test]
    fn percent_decoding() {
        for ok in [
            "urn:x",
            "https://e.org/caf%C3%A9",
            "100%",
            "a%zz",
            "%4",
            "%41%42",
        ] {
            assert!(percent_decodes_to_utf8(ok), "{ok}");
        }
        for bad in [
            "urn:uuid:1-%a9b",
            "https://e.org/caf%C3",
            "%FF",
            "%c3%28",
            "x%80/",
        ] {
            assert!(!percent_decodes_to_utf8(bad), "{bad}");
        }
    }
}
