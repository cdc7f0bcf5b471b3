//! Admin API tokens: `pb_<public id>_<secret>`, shown once, stored as the public id plus the
//! SHA-256 of the secret, with scopes and an optional expiry.
//!
//! A request's token is found by its public id, then SHA-256(secret) is compared with the
//! stored hash in constant time, so response timing says nothing about the secret.

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use uuid::Uuid;

use crate::db::{ApiToken, DbError, Store};
use crate::error::{AppError, AppResult};

pub use crate::scopes::{Scope, Scopes};

/// Length of the public id: 8 random bytes in lowercase hex.
const PUBLIC_ID_LEN: usize = 16;
/// Length of the secret: 32 random bytes in unpadded base64url.
const SECRET_LEN: usize = 43;

/// A bearer token as presented, split into its parts (borrowed from the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented<'a> {
    /// `pb_<public id>_<secret>`.
    Current {
        /// The lookup key.
        public_id: &'a str,
        /// The secret, compared by hash.
        secret: &'a str,
    },
    /// `pb_<secret>`, made before tokens had a public id; looked up by its hash.
    Legacy(&'a str),
}

fn is_b64url(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Splits a token into its parts; `None` if it has neither accepted shape.
pub fn parse(token: &str) -> Option<Presented<'_>> {
    let rest = token.strip_prefix("pb_")?;
    if rest.len() == PUBLIC_ID_LEN + 1 + SECRET_LEN {
        let (public_id, secret) = rest.split_at(PUBLIC_ID_LEN);
        let secret = secret.strip_prefix('_')?;
        let hex = public_id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        return (hex && is_b64url(secret)).then_some(Presented::Current { public_id, secret });
    }
    (rest.len() == SECRET_LEN && is_b64url(rest)).then_some(Presented::Legacy(token))
}

/// Hex SHA-256: of the secret part for current tokens, of the whole token for legacy ones.
pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Whether `secret` hashes to `stored_hash`, compared in constant time.
pub fn secret_matches(secret: &str, stored_hash: &str) -> bool {
    sha256_hex(secret)
        .as_bytes()
        .ct_eq(stored_hash.as_bytes())
        .into()
}

/// Whether a token may be used at `now`: an error detail if not (unauthenticated, 401).
pub fn usable_at(token: &ApiToken, now: DateTime<Utc>) -> Result<(), &'static str> {
    if token.revoked_at.is_some() {
        return Err("token has been revoked");
    }
    if token.expires_at.is_some_and(|t| t <= now) {
        return Err("token has expired");
    }
    Ok(())
}

/// What a new token is: its name, scopes and optional expiry.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// Who or what will use it (unique).
    pub name: String,
    /// What it may do.
    pub scopes: Scopes,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A token just made: the stored record and the token string, shown once.
#[derive(Debug, Clone)]
pub struct Created {
    /// The stored record.
    pub token: ApiToken,
    /// `pb_<public id>_<secret>`; never stored.
    pub secret: String,
}

/// Parses a lifetime such as `90d`, `12h` or `2w` (a whole number, then `h`, `d` or `w`).
pub fn parse_lifetime(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bad = || format!("{text:?} is not a lifetime like 90d, 12h or 2w");
    let unit = text.chars().last().ok_or_else(bad)?;
    let n: i64 = text[..text.len() - unit.len_utf8()]
        .parse()
        .map_err(|_| bad())?;
    let hours = match unit {
        'h' => Some(n),
        'd' => n.checked_mul(24),
        'w' => n.checked_mul(24 * 7),
        _ => None,
    }
    .ok_or_else(bad)?;
    // Ten years at most: beyond that an expiry means nothing, and the sum cannot overflow.
    if !(1..=24 * 3660).contains(&hours) {
        return Err(format!("{text:?} must be from 1h to ten years"));
    }
    Ok(Duration::hours(hours))
}

/// The expiry from a lifetime (`90d`) or an RFC 3339 time, at most one of them; it must
/// lie in the future, at most [`crate::program::MAX_EXPIRY_YEARS`] years ahead (judged in
/// UTC, at whole seconds). `Err` names what is wrong.
pub fn expiry(
    expires_in: Option<&str>,
    expires_at: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, String> {
    let at = match (expires_in, expires_at) {
        (Some(_), Some(_)) => return Err("give an expiry or a lifetime, not both".into()),
        (None, None) => return Ok(None),
        (Some(lifetime), None) => now + parse_lifetime(lifetime)?,
        (None, Some(at)) => DateTime::parse_from_rfc3339(at.trim())
            .map_err(|e| format!("{at:?} is not an RFC 3339 time: {e}"))?
            .with_timezone(&Utc),
    };
    // Stored at whole seconds, like every other time, so compared so.
    let at = crate::program::truncate(at);
    let latest = crate::program::latest_expiry(now);
    let range = format!(
        "an expiry runs from after now ({}) to at most {} years ahead ({})",
        crate::program::format_time(now),
        crate::program::MAX_EXPIRY_YEARS,
        crate::program::format_time(latest)
    );
    if at <= now {
        return Err(format!(
            "the expiry {} is not in the future: {range}",
            crate::program::format_time(at)
        ));
    }
    if at > latest {
        return Err(format!(
            "the expiry {} is too far ahead: {range}",
            crate::program::format_time(at)
        ));
    }
    Ok(Some(at))
}

/// Checks a token name: 1 to 100 characters once trimmed, no control characters (PostgreSQL
/// stores no NUL in text, and a name is shown in lists and logs), and the characters every
/// name keeps to (`program::records::check_name_chars`: something visible, no bidi controls).
pub fn check_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid(
            "name",
            "token name must be 1 to 100 characters",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "name",
            "token name must not contain control characters",
        ));
    }
    crate::program::records::check_name_chars("name", name)?;
    Ok(name.to_owned())
}

/// A token as a request asks for it (the API's body, the console's form): scopes by name
/// (at least one), at most one of a lifetime (`90d`) and an expiry time; errors name the
/// field.
pub fn request<'a>(
    name: String,
    scopes: impl IntoIterator<Item = &'a str>,
    expires_in: Option<&str>,
    expires_at: Option<&str>,
) -> AppResult<NewToken> {
    let scopes = Scopes::parse(scopes).map_err(|e| AppError::invalid("scopes", e))?;
    let field = if expires_at.is_some() {
        "expires_at"
    } else {
        "expires_in"
    };
    let expires_at = expiry(expires_in, expires_at, crate::program::now())
        .map_err(|e| AppError::invalid(field, format!("{field}: {e}")))?;
    Ok(NewToken {
        name,
        scopes,
        expires_at,
    })
}

/// Creates a token; a taken name is a 409, a bad name a 422.
pub async fn create(store: &dyn Store, new: NewToken) -> AppResult<Created> {
    let name = check_name(&new.name)?;
    let mut id_bytes = [0u8; PUBLIC_ID_LEN / 2];
    let mut secret_bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut id_bytes);
    rand::rngs::OsRng.fill_bytes(&mut secret_bytes);
    let public_id = hex::encode(id_bytes);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret_bytes);
    let token = ApiToken {
        id: Uuid::new_v4(),
        name,
        public_id: Some(public_id.clone()),
        token_hash: sha256_hex(&secret),
        scopes: new.scopes,
        created_at: crate::program::now(),
        expires_at: new.expires_at,
        revoked_at: None,
    };
    store.insert_token(&token).await.map_err(|e| match e {
        DbError::Conflict(crate::db::Constraint::TokenName) => AppError::Conflict(format!(
            "a token named {:?} already exists; token names are unique, even once revoked",
            token.name
        )),
        other => other.into(),
    })?;
    Ok(Created {
        token,
        secret: format!("pb_{public_id}_{secret}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_imply() {
        let s = Scopes::parse_list("read, issue").unwrap();
        assert_eq!(s.to_string(), "issue,read");
        assert!(s.allows(Scope::Read) && s.allows(Scope::Issue));
        assert!(!s.allows(Scope::Revoke) && !s.allows(Scope::Admin));
        let admin = Scopes::parse_list("admin").unwrap();
        assert!(Scope::ALL.iter().all(|sc| admin.allows(*sc)));
        assert!(Scopes::parse_list("").is_err());
        assert!(Scopes::parse_list("write").unwrap_err().contains("write"));
        assert_eq!(
            Scopes::from_stored("read,future"),
            Scopes::only(Scope::Read)
        );
    }

    #[test]
    fn token_shapes() {
        let secret = "A".repeat(43);
        let current = format!("pb_0123456789abcdef_{secret}");
        assert_eq!(
            parse(&current),
            Some(Presented::Current {
                public_id: "0123456789abcdef",
                secret: &secret
            })
        );
        let legacy = format!("pb_{secret}");
        assert_eq!(parse(&legacy), Some(Presented::Legacy(&legacy)));
        for bad in [
            "",
            "pb_",
            "pb_wrong",
            "xx_0123456789abcdef_AAAA",
            &format!("pb_0123456789ABCDEF_{secret}"),
            &format!("pb_0123456789abcdef-{secret}"),
            &format!("pb_0123456789abcdef_{}", "A".repeat(42) + "="),
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn lifetimes() {
        assert_eq!(parse_lifetime("90d").unwrap(), Duration::days(90));
        assert_eq!(parse_lifetime("12h").unwrap(), Duration::hours(12));
        assert_eq!(parse_lifetime("2w").unwrap(), Duration::weeks(2));
        for bad in ["", "d", "90", "90m", "-1d", "0h", "99999w", "1.5d"] {
            assert!(parse_lifetime(bad).is_err(), "{bad}");
        }
        let now = crate::program::now();
        assert!(expiry(Some("1d"), Some("2030-01-01T00:00:00Z"), now).is_err());
        assert!(expiry(None, Some("2001-01-01T00:00:00Z"), now).is_err());
        assert_eq!(
            expiry(Some("1d"), None, now).unwrap(),
            Some(now + Duration::days(1))
        );
    }
}
