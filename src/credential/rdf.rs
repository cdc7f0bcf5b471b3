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
            language,
        } => {
            out.push('"');
            escape_literal(out, value);
            out.push('"');
            if let Some(lang) = language {
                out.push('@');
                out.push_str(lang);
            } else if datatype != XSD_STRING {
                out.push_str("^^<");
                out.push_str(datatype);
                out.push('>');
            }
        }
    }
}

/// Escapes a literal's lexical form as canonical N-Quads (RDF 1.2 N-Triples canonical form,
/// which RDFC-1.0 and the JavaScript `rdf-canonize` both use).
fn escape_literal(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{0}'..='\u{1f}' | '\u{7f}' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
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
