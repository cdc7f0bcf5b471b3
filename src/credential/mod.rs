//! Open Badges 3.0 credentials: building, JSON-LD to RDF, RDFC-1.0 canonicalisation,
//! `eddsa-rdfc-2022` proofs and bitstring status lists. Pure code: no I/O, no database.

pub mod model;
pub mod rdf;
