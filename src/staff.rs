//! Staff accounts of the console: passwords (argon2id), the one-time links that set them,
//! and the cookies and lifetimes of staff sessions.
//!
//! An account is made only by `partnership-badges user create`; signing in, with a
//! password or through OpenID Connect, never makes one. Tokens
//! of links and sessions are the holder module's random 32-byte tokens, stored only as
//! their SHA-256, and a session's forms carry the CSRF token derived from its cookie.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::db::{StaffMember, Store};
use crate::error::{AppError, AppResult};
use crate::holder::{new_token, token_hash};
use crate::scopes::Role;

/// The session cookie's name on plain http (development).
pub const SESSION_COOKIE: &str = "pb_staff";
/// The `__Host-` name used behind https.
pub const SECURE_SESSION_COOKIE: &str = "__Host-pb_staff";
/// The sign-in form's CSRF cookie (double submit: no session yet).
pub const SIGN_IN_CSRF_COOKIE: &str = "pb_staff_csrf";
/// The cookie holding an OpenID Connect sign-in's state, nonce and PKCE verifier while the
/// browser is at the provider.
pub const OIDC_COOKIE: &str = "pb_staff_oidc";

/// How long a link that sets a password works.
pub const LINK_HOURS: i64 = 24;

/// Shortest password accepted, in characters. Long rather than complex (NIST SP 800-63B):
/// no composition rules, any characters.
pub const MIN_PASSWORD: usize = 12;
/// Longest password accepted, in characters (hashing cost is bounded).
pub const MAX_PASSWORD: usize = 256;

/// argon2id with OWASP's first recommended setting: 19 MiB, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Whether `password` may be set: its length only.
pub fn check_password(password: &str) -> AppResult<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Err(AppError::invalid(
            "password",
            format!("password must be at least {MIN_PASSWORD} characters"),
        ));
    }
    if n > MAX_PASSWORD {
        return Err(AppError::invalid(
            "password",
            format!("password must be at most {MAX_PASSWORD} characters"),
        ));
    }
    Ok(())
}

/// The PHC string of `password`'s argon2id hash with a fresh salt. CPU-heavy (tens of
/// milliseconds): call it off the async workers.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password")
        .to_string()
}

/// A hash of no one's password, checked when an email has no account or no password, so
/// that an answer takes as long whether or not the account exists.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&new_token()))
}

/// Whether `password` matches the stored PHC string (`None`: no password is set; the
/// decoy is checked all the same). CPU-heavy: call it off the async workers.
pub fn password_matches(password: &str, stored: Option<&str>) -> bool {
    let phc = stored.unwrap_or_else(|| decoy_hash());
    let ok = PasswordHash::new(phc)
        .map(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false);
    ok && stored.is_some()
}

/// Makes an account and its first link; answers the account and the link's token.
pub async fn create_account(
    store: &dyn Store,
    email: &str,
    role: Role,
    now: DateTime<Utc>,
) -> AppResult<(StaffMember, String)> {
    crate::program::records::email("email", email)?;
    let staff = StaffMember {
        id: Uuid::new_v4(),
        email: crate::program::normalise_email(email),
        role,
        password_hash: None,
        created_at: now,
        password_set_at: None,
    };
    store.insert_staff(&staff).await?;
    let token = new_link(store, staff.id, now).await?;
    Ok((staff, token))
}

/// A new link setting `staff_id`'s password; answers its token.
pub async fn new_link(store: &dyn Store, staff_id: Uuid, now: DateTime<Utc>) -> AppResult<String> {
    let token = new_token();
    store
        .insert_staff_link(
            &token_hash(&token),
            staff_id,
            now,
            now + Duration::hours(LINK_HOURS),
        )
        .await?;
    Ok(token)
}

/// The URL a link's token sets a password at.
pub fn link_url(base: &str, token: &str) -> String {
    format!("{base}/console/set-password?token={token}")
}

/// The lifetimes of sessions, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// Ended after this long without a request.
    pub idle: Duration,
    /// Ended this long after sign-in whatever happens.
    pub absolute: Duration,
}

impl SessionPolicy {
    /// The policy the settings ask for.
    pub fn of(settings: &crate::config::Settings) -> Self {
        SessionPolicy {
            idle: Duration::minutes(i64::from(settings.staff_idle_minutes)),
            absolute: Duration::hours(i64::from(settings.staff_session_hours)),
        }
    }
}

/// Starts a session for `staff_id`; answers the cookie's token.
pub async fn start_session(
    store: &dyn Store,
    staff_id: Uuid,
    policy: SessionPolicy,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let token = new_token();
    store
        .insert_staff_session(&token_hash(&token), staff_id, now, now + policy.absolute)
        .await?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_match() {
        let h = hash_password("correct horse battery");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(password_matches("correct horse battery", Some(&h)));
        assert!(!password_matches("correct horse batterY", Some(&h)));
        assert!(!password_matches("correct horse battery", None));
        assert!(!password_matches("x", Some("not a phc string")));
        assert_ne!(h, hash_password("correct horse battery"), "salted");
    }

    #[test]
    fn passwords_are_long() {
        assert!(check_password("short").is_err());
        assert!(check_password(&"x".repeat(MIN_PASSWORD)).is_ok());
        assert!(check_password(&"x".repeat(MAX_PASSWORD + 1)).is_err());
    }
}
