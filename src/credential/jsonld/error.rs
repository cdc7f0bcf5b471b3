//! Why a document could not be turned into RDF.

/// Why a document could not be turned into RDF.
#[derive(Debug, thiserror::Error)]
pub enum JsonLdError {
    /// A property (or `@type` value) that no context defines; it would be dropped, so unsigned.
    /// Holds the JSON path of the key when it occurs once (`evidence[0].mentorEmail`), else the
    /// term itself.
    #[error("undefined JSON-LD term `{0}` (no bundled context defines it)")]
    UndefinedTerm(String),
    /// A context URL that is not bundled; contexts are never fetched.
    #[error("unknown JSON-LD context `{0}` (only bundled contexts are allowed)")]
    UnknownContext(String),
    /// An `@id` or IRI-valued property that is not an absolute IRI (there is no base IRI).
    #[error("relative or invalid IRI reference `{0}`")]
    RelativeIri(String),
    /// Anything else: malformed JSON-LD, too deep or too large input, values safe mode rejects.
    #[error("invalid JSON-LD: {0}")]
    Invalid(String),
}
