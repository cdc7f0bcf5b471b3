//! Partnership Badges: an Open Badges 3.0 issuing and verification service.
#![forbid(unsafe_code)]

pub mod config;
pub mod credential;
pub mod db;
pub mod error;
pub mod keys;
pub mod program;
