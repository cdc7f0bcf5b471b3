//! The partnership program: its two achievements, the rules for awarding them, and the
//! records (mentors, people, closings) behind them.
//!
//! Data flows one way: routes call these functions, which apply the rules, build the
//! credential with [`crate::credential`] (pure) and write through [`crate::db::Store`].

pub mod achievements;
pub mod issue;
pub mod records;

use chrono::{DateTime, SubsecRound as _, Utc};
use sha2::{Digest as _, Sha256};

pub use achievements::{Achievement, ACHIEVEMENTS, CERTIFIED, CLOSED};

/// Bits in each status list: the minimum the Bitstring Status List spec sets for herd
/// privacy (131,072), a power of two so [`status_index`] can permute within it.
pub const STATUS_LIST_SIZE: i64 = 1 << 17;

/// The current time at whole seconds: every stored and issued time has this precision, so
/// stored text compares in time order and `validFrom` matches the database.
pub fn now() -> DateTime<Utc> {
    truncate(Utc::now())
}

/// Drops sub-second precision.
pub fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(0)
}

/// `2026-11-25T22:00:00Z`: the `xsd:dateTime` form used in credentials.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Email normalisation before hashing or comparing: trim, then lowercase. Documented in
/// the README so a verifier holding the address can reproduce the hash.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// `sha256$` + hex(SHA-256(normalised email ‖ salt)), the OB `IdentityHash`.
pub fn identity_hash(email: &str, salt: &str) -> String {
    let mut h = Sha256::new();
    h.update(normalise_email(email).as_bytes());
    h.update(salt.as_bytes());
    format!("sha256${}", hex::encode(h.finalize()))
}

/// Maps the n-th allocated position of a list to its bit index: a fixed bijection of
/// `0..STATUS_LIST_SIZE` (odd multiplier, modulo a power of two), so indices are unique
/// without a lookup yet do not reveal issuance order.
pub fn status_index(counter: i64) -> i64 {
    (counter.wrapping_mul(0x1_5A4F).wrapping_add(0x2C3B)) & (STATUS_LIST_SIZE - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_index_is_a_permutation() {
        let mut seen = vec![false; STATUS_LIST_SIZE as usize];
        for n in 0..STATUS_LIST_SIZE {
            let i = status_index(n) as usize;
            assert!(!seen[i], "index {i} allocated twice");
            seen[i] = true;
        }
    }

    #[test]
    fn identity_hash_normalises_and_matches_spec_example() {
        // OB 3.0 spec example: sha256("a@example.com" + "Kosher").
        let h = identity_hash("  A@Example.com ", "Kosher");
        assert_eq!(
            h,
            "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"
        );
    }
}
