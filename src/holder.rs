//! The holder's sign-in: the random tokens of emailed links and of session cookies (only
//! their SHA-256 is stored, so a copy of the database signs nobody in), and the CSRF
//! tokens of the holder's forms.
//!
//! A link is used once: opening it exchanges it for a session, so a link seen later (in a
//! forwarded message, a mail log) is worth nothing. Every message carries a fresh one,
//! valid [`crate::config::Settings::holder_link_days`] days.

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use uuid::Uuid;

use crate::db::Store;
use crate::error::AppResult;

/// The session cookie's name on plain http (development). Behind https the cookie is
/// `__Host-` prefixed: the browser then insists on `Secure`, `Path=/` and no `Domain`.
pub const SESSION_COOKIE: &str = "pb_holder";
/// The `__Host-` name used behind https.
pub const SECURE_SESSION_COOKIE: &str = "__Host-pb_holder";
/// The cookie of the sign-in form's CSRF token (double submit: no session yet).
pub const LOGIN_CSRF_COOKIE: &str = "pb_login_csrf";

/// A new random token: 32 bytes, base64url (43 characters).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `s` has the shape of a token this module makes (checked before any lookup).
pub fn well_formed(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What the store keeps of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The CSRF token of the forms of the session whose cookie holds `session_token`: derived
/// from the secret cookie, so a page of another site, which cannot read it, cannot make it.
pub fn csrf_token(session_token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"partnership-badges csrf\0");
    h.update(session_token.as_bytes());
    hex::encode(h.finalize())
}

/// Compares a submitted CSRF token with the expected one in constant time.
pub fn csrf_matches(expected: &str, given: &str) -> bool {
    expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// Stores a new sign-in link for `person_id` and returns its token (for the message only).
pub async fn new_link(
    store: &dyn Store,
    person_id: Uuid,
    now: DateTime<Utc>,
    days: u32,
) -> AppResult<String> {
    let token = new_token();
    let expires = now + Duration::days(i64::from(days));
    store
        .insert_holder_link(&token_hash(&token), person_id, now, expires)
        .await?;
    Ok(token)
}

/// The URL a link's token signs in at.
pub fn link_url(base: &str, token: &str) -> String {
    format!("{base}/me/sign-in?token={token}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_well_formed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(well_formed(&a), "{a}");
        assert!(!well_formed(&a[1..]));
        assert!(!well_formed(&format!("{}!", &a[1..])));
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn csrf_is_per_session() {
        let (a, b) = (new_token(), new_token());
        assert!(csrf_matches(&csrf_token(&a), &csrf_token(&a)));
        assert!(!csrf_matches(&csrf_token(&a), &csrf_token(&b)));
        assert!(!csrf_matches(&csrf_token(&a), ""));
    }
}
