//! Open Badges 3.0 credentials: building, JSON-LD to RDF, RDFC-1.0 canonicalisation,
//! `eddsa-rdfc-2022` proofs and bitstring status lists. Pure code: no I/O, no database.

pub mod baking;
pub mod base58;
pub mod facts;
pub mod form;
pub mod json;
pub mod jsonld;
pub mod model;
pub mod multikey;
pub mod ob2;
pub mod presentation;
pub mod proof;
pub mod quads;
pub mod rdf;
pub mod rdfc;
pub mod roundtrip;
pub mod status_list;

pub use proof::{
    sign_credential, sign_document, verify_proof, CredentialError, ProofPath, VerifiedProof,
};
