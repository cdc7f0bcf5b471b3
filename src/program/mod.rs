//! The partnership program: its two achievements, the rules for awarding them, and the
//! records (mentors, people, closings) behind them.
//!
//! Data flows one way: routes call these functions, which apply the rules, build the
//! credential with [`crate::credential`] (pure) and write through [`crate::db::Store`].

pub mod achievements;
pub mod consent;
pub mod holder;
pub mod issue;
pub mod records;
pub mod stats;
pub mod wallet;

use chrono::{DateTime, Months, NaiveDate, SubsecRound as _, Utc};
use sha2::{Digest as _, Sha256};

use crate::error::{AppError, AppResult};
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

/// `2026-11-25T22:00:00Z`: the `xsd:dateTime` form used in credentials. Every time this
/// service stores or signs has a four-digit year, as this form needs: the times it makes are
/// now, and the times it accepts are bounded ([`past_date`], [`past_time`], [`expiry`]).
/// (`%Y` writes a sign and five digits past 9999, which is not an `xsd:dateTime`.)
pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

// ---- the dates inputs may name ----
//
// A date or time that reaches a credential (a `validUntil`, the dates in its evidence) or a
// stored record must be one the service itself would accept back: an `xsd:dateTime` with a
// four-digit year, in a range that makes sense. Every date or time an input carries (the
// admin API, a batch, an import file, `token create`) is checked by one of these, on its UTC
// value: an offset such as `-23:59` can carry `9999-12-31T23:59:59` into year 10000.

/// The earliest day a past event may be dated: nothing this program records (a closing,
/// its stages, a mentor's CC) happened before 1900, so an earlier date is a typo (`0026`
/// for `2026`), not history.
pub const EARLIEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => panic!("1900-01-01 is a date"),
};

/// How far ahead an expiry (a badge's `valid_until`, a token's `expires_at`) may lie: 100
/// years. Longer than any career a badge speaks to, so no real expiry is refused; and it
/// keeps every expiry far from year 9999, past which a time is no longer an `xsd:dateTime`
/// (`+10000-01-01T00:00:00Z`) and verifiers, ours included, refuse it.
pub const MAX_EXPIRY_YEARS: u32 = 100;

/// [`EARLIEST_DATE`] at midnight UTC.
pub fn earliest_time() -> DateTime<Utc> {
    EARLIEST_DATE.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// The latest expiry accepted from `from`: [`MAX_EXPIRY_YEARS`] later (the same day and
/// time; 28 February for a 29 February with no leap day then).
pub fn latest_expiry(from: DateTime<Utc>) -> DateTime<Utc> {
    from.checked_add_months(Months::new(12 * MAX_EXPIRY_YEARS))
        .unwrap_or(from)
}

/// A past event's day: from [`EARLIEST_DATE`] to `today`; a 422 naming `field` and the
/// range otherwise.
pub fn past_date(field: &str, day: NaiveDate, today: NaiveDate) -> AppResult<NaiveDate> {
    if day < EARLIEST_DATE {
        return Err(AppError::invalid(
            field,
            format!(
                "{field} must not be before {EARLIEST_DATE}: dates run from {EARLIEST_DATE} \
                 to today ({today})"
            ),
        ));
    }
    if day > today {
        return Err(AppError::invalid(
            field,
            format!(
                "{field} must not be in the future: dates run from {EARLIEST_DATE} to today \
                 ({today})"
            ),
        ));
    }
    Ok(day)
}

/// A past event's time, at whole seconds: from [`EARLIEST_DATE`] (midnight UTC) to `now`;
/// a 422 naming `field` and the range otherwise.
pub fn past_time(field: &str, t: DateTime<Utc>, now: DateTime<Utc>) -> AppResult<DateTime<Utc>> {
    let t = truncate(t);
    let (earliest, now_text) = (format_time(earliest_time()), format_time(now));
    if t < earliest_time() {
        return Err(AppError::invalid(
            field,
            format!(
                "{field} must not be before {earliest}: times run from {earliest} to now \
                 ({now_text})"
            ),
        ));
    }
    if t > now {
        return Err(AppError::invalid(
            field,
            format!(
                "{field} must not be in the future: times run from {earliest} to now ({now_text})"
            ),
        ));
    }
    Ok(t)
}

/// An expiry, at whole seconds: after `from` (the credential's `validFrom`, or now) and at
/// most [`MAX_EXPIRY_YEARS`] later. Compared once truncated, so a fraction of a second
/// ahead is not an expiry equal to `validFrom`. A 422 naming `field` and the range
/// otherwise.
pub fn expiry(field: &str, t: DateTime<Utc>, from: DateTime<Utc>) -> AppResult<DateTime<Utc>> {
    let t = truncate(t);
    let latest = latest_expiry(from);
    let range = format!(
        "after {} and at most {MAX_EXPIRY_YEARS} years ahead ({})",
        format_time(from),
        format_time(latest)
    );
    if t <= from {
        return Err(AppError::invalid(
            field,
            format!("{field} must be in the future: {range}"),
        ));
    }
    if t > latest {
        return Err(AppError::invalid(
            field,
            format!("{field} is too far ahead: it must be {range}"),
        ));
    }
    Ok(t)
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
    fn accepted_dates_format_as_xsd_date_times() {
        use chrono::TimeZone as _;
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 8, 0, 0).unwrap();
        let latest = latest_expiry(now);
        assert_eq!(format_time(latest), "2126-12-03T08:00:00Z");
        assert_eq!(format_time(earliest_time()), "1900-01-01T00:00:00Z");
        let leap = Utc.with_ymd_and_hms(2028, 2, 29, 0, 0, 0).unwrap();
        assert_eq!(format_time(latest_expiry(leap)), "2128-02-29T00:00:00Z");
        let leap = Utc.with_ymd_and_hms(2000, 2, 29, 0, 0, 0).unwrap();
        assert_eq!(format_time(latest_expiry(leap)), "2100-02-28T00:00:00Z");

        let edges = [
            expiry("v", latest, now).unwrap(),
            expiry("v", now + chrono::Duration::milliseconds(1500), now).unwrap(),
            past_time("t", earliest_time(), now).unwrap(),
            past_time("t", now, now).unwrap(),
        ];
        for t in edges {
            let s = format_time(t);
            assert_eq!(s.len(), 20, "{s}");
            assert!(s.as_bytes()[..4].iter().all(u8::is_ascii_digit), "{s}");
        }
        // The review's example: 9999-12-31T23:59:59-23:59 is year 10000 in UTC.
        let far = chrono::DateTime::parse_from_rfc3339("9999-12-31T23:59:59-23:59")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(format_time(far), "+10000-01-01T23:58:59Z");
        assert!(expiry("v", far, now).is_err());
        assert!(expiry("v", latest + chrono::Duration::seconds(1), now).is_err());
        assert!(expiry("v", now, now).is_err());
        assert!(expiry("v", now + chrono::Duration::milliseconds(999), now).is_err());
        assert!(past_time("t", earliest_time() - chrono::Duration::seconds(1), now).is_err());
        assert!(past_time("t", now + chrono::Duration::seconds(1), now).is_err());
        let today = now.date_naive();
        assert!(past_date("d", EARLIEST_DATE, today).is_ok());
        assert!(past_date("d", today, today).is_ok());
        assert!(past_date("d", EARLIEST_DATE.pred_opt().unwrap(), today).is_err());
        assert!(past_date("d", today.succ_opt().unwrap(), today).is_err());
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
