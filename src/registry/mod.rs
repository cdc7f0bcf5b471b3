//! The public registry of partnership-certified people: who is in it, what each entry says,
//! and how pages of it are cached.
//!
//! A person is listed while they hold a **valid** Partnership Certified (not revoked, not
//! expired, judged at read time) and agreed to be listed (`listed_in_registry`). An entry
//! never carries an email or any internal id; its stable identifier is the URL of the active
//! Certified badge.
//!
//! **Certified since** is the issue date of the earliest Partnership Certified in the
//! person's current continuous certification: walking back from the active badge through
//! their earlier unrevoked Certified badges, each earlier one continues the chain when it
//! never expired or expired no more than [`RENEWAL_GRACE_DAYS`] days before the next one was
//! issued (a renewal). A revoked badge never counts, and a longer lapse starts a new chain.

pub mod cache;
pub mod feeds;
pub mod pages;

use std::collections::HashMap;

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::db::{BadgeDates, RegistryQuery, RegistryRow, Store};
use crate::error::{AppError, AppResult};
use crate::issuer::Issuer;
use crate::program::{format_time, CERTIFIED, CLOSED};

/// A renewal issued within this many days after the previous Certified expired keeps the
/// person's "certified since" date.
pub const RENEWAL_GRACE_DAYS: i64 = 30;

/// Largest page of `/registry.json`.
pub const MAX_LIMIT: i64 = 100;
/// Default page size.
pub const DEFAULT_LIMIT: i64 = 20;
/// Longest accepted name prefix or country filter, in characters.
pub const MAX_FILTER_CHARS: usize = 100;

/// The JSON Schema of `/registry.json`, committed beside this module.
pub const SCHEMA: &str = include_str!("registry.schema.json");

/// [`SCHEMA`] split into the page and its entry, as the OpenAPI document's `RegistryPage`
/// and `RegistryEntry` components (`crate::openapi::document`).
pub fn openapi_schemas() -> (serde_json::Value, serde_json::Value) {
    let mut page: serde_json::Value =
        serde_json::from_str(SCHEMA).expect("the registry schema is JSON");
    let obj = page
        .as_object_mut()
        .expect("the registry schema is an object");
    obj.remove("$schema");
    obj.remove("$id");
    let entry = obj
        .remove("$defs")
        .and_then(|mut defs| defs.get_mut("entry").map(serde_json::Value::take))
        .expect("the registry schema defines its entry");
    page["properties"]["items"]["items"] = serde_json::json!({
        "$ref": "#/components/schemas/RegistryEntry"
    });
    (page, entry)
}

/// One published entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Full name.
    pub name: String,
    /// City, if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Country, if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Start of the current continuous certification (`xsd:dateTime`, UTC).
    pub certified_since: String,
    /// Issue time of the active Partnership Certified.
    pub certified_at: String,
    /// Valid Partnership Closed badges held now.
    pub partnerships_closed: u32,
    /// `{base}/credentials/{id}` of the active Partnership Certified.
    pub badge_url: String,
    /// Public profile URL, if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_url: Option<String>,
}

/// A page of entries and where the next page starts.
#[derive(Debug, Clone)]
pub struct Page {
    /// Entries in order.
    pub entries: Vec<Entry>,
    /// Opaque cursor of the next page, if there is one.
    pub next_cursor: Option<String>,
}

/// Start of the chain of continuous certification ending at the active badge.
pub fn certified_since(
    active_issued_at: DateTime<Utc>,
    certified: &[(DateTime<Utc>, Option<DateTime<Utc>>)],
) -> DateTime<Utc> {
    let mut earlier: Vec<_> = certified
        .iter()
        .filter(|(issued, _)| *issued < active_issued_at)
        .collect();
    earlier.sort_by_key(|e| std::cmp::Reverse(e.0));
    let grace = Duration::days(RENEWAL_GRACE_DAYS);
    let mut since = active_issued_at;
    for (issued, until) in earlier {
        match until {
            Some(until) if *until + grace < since => break,
            _ => since = *issued,
        }
    }
    since
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
/// The cursor format's version: `r1` cursors carried the person's internal id and are
/// refused (a 400: the client starts again from the first page).
const CURSOR_TAG: &str = "r2\n";
/// Hex digits of the check digest that ends a cursor.
const CURSOR_CHECK_LEN: usize = 16;

/// Encodes a position `(name key, credential id)` as a cursor: base64url of the version tag,
/// the name key, the id of the entry's active Certified badge and a check digest. Only
/// public values: the name key is the entry's name lower-cased, and the badge id is in its
/// `badge_url`, so a cursor reveals nothing the page did not show (never the person's
/// internal id). The digest makes an edited or truncated cursor a 400 rather than a page
/// from some other place; it is no secret, and needs none, as a forged cursor can only name
/// a position anyone could ask for.
pub fn encode_cursor(name_key: &str, credential: Uuid) -> String {
    let body = format!("{CURSOR_TAG}{name_key}\n{credential}");
    let check = cursor_check(&body);
    B64.encode(format!("{body}\n{check}"))
}

fn cursor_check(body: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::new()
        .chain_update(b"partnership-badges registry cursor\n")
        .chain_update(body.as_bytes())
        .finalize();
    hex::encode(digest)[..CURSOR_CHECK_LEN].to_owned()
}

/// Decodes a cursor this service returned into `(name key, credential id)`; anything else
/// (malformed, edited, or of an older format) is a 400.
pub fn decode_cursor(cursor: &str) -> AppResult<(String, Uuid)> {
    let bad = || AppError::BadRequest("cursor is not one this service returned".into());
    if cursor.len() > 2000 {
        return Err(bad());
    }
    let text = String::from_utf8(B64.decode(cursor).map_err(|_| bad())?).map_err(|_| bad())?;
    // The id and the check are last: names may hold newlines.
    let (body, check) = text.rsplit_once('\n').ok_or_else(bad)?;
    if check != cursor_check(body) {
        return Err(bad());
    }
    let rest = body.strip_prefix(CURSOR_TAG).ok_or_else(bad)?;
    let (key, id) = rest.rsplit_once('\n').ok_or_else(bad)?;
    let id = crate::issuer::path_uuid(id).ok_or_else(bad)?;
    Ok((key.to_owned(), id))
}

/// Runs a registry query and builds its entries (two round trips: the page, then the
/// badges of the people on it). Asks for one row more than `query.limit` to know whether
/// a next page exists.
pub async fn page(store: &dyn Store, issuer: &Issuer, query: &RegistryQuery) -> AppResult<Page> {
    let mut probe = query.clone();
    probe.limit = query.limit + 1;
    let mut rows = store.registry_page(&probe).await?;
    let more = rows.len() as i64 > query.limit;
    rows.truncate(query.limit as usize);
    let ids: Vec<Uuid> = rows.iter().map(|r| r.person_id).collect();
    let badges = store.registry_badges(&ids).await?;
    let mut by_person: HashMap<Uuid, Vec<&BadgeDates>> = HashMap::new();
    for b in &badges {
        by_person.entry(b.person_id).or_default().push(b);
    }
    let entries = rows
        .iter()
        .map(|r| entry(issuer, r, by_person.get(&r.person_id), query.now))
        .collect();
    let next_cursor = if more {
        rows.last()
            .map(|r| encode_cursor(&r.name_key, r.credential_id))
    } else {
        None
    };
    Ok(Page {
        entries,
        next_cursor,
    })
}

fn entry(
    issuer: &Issuer,
    row: &RegistryRow,
    badges: Option<&Vec<&BadgeDates>>,
    now: DateTime<Utc>,
) -> Entry {
    let badges = badges.map(Vec::as_slice).unwrap_or_default();
    let certified: Vec<_> = badges
        .iter()
        .filter(|b| b.achievement == CERTIFIED)
        .map(|b| (b.issued_at, b.valid_until))
        .collect();
    let closed = badges
        .iter()
        .filter(|b| b.achievement == CLOSED && b.valid_until.is_none_or(|t| t > now))
        .count();
    Entry {
        name: row.name.clone(),
        city: row.city.clone(),
        country: row.country.clone(),
        certified_since: format_time(certified_since(row.issued_at, &certified)),
        certified_at: format_time(row.issued_at),
        partnerships_closed: closed as u32,
        badge_url: issuer.credential_url(row.credential_id),
        profile_url: row.url.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::days(d.into())
    }

    #[test]
    fn since_follows_renewals_within_grace() {
        // 0..100, renewed at 110 (10 days late) until 200, renewed at 250 (50 days late).
        let history = [
            (day(0), Some(day(100))),
            (day(110), Some(day(200))),
            (day(250), None),
        ];
        assert_eq!(certified_since(day(250), &history), day(250));
        assert_eq!(certified_since(day(110), &history[..2]), day(0));
        let renewed = [(day(0), Some(day(100))), (day(125), None)];
        assert_eq!(certified_since(day(125), &renewed), day(0));
        assert_eq!(certified_since(day(5), &[]), day(5));
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let id = Uuid::new_v4();
        let c = encode_cursor("ada\nlovelace", id);
        assert_eq!(decode_cursor(&c).unwrap(), ("ada\nlovelace".into(), id));
        let text = String::from_utf8(B64.decode(&c).unwrap()).unwrap();
        assert!(text.starts_with("r2\nada\nlovelace\n"), "{text:?}");
        // An older cursor (it named the person), an edited one, a truncated one.
        let older = B64.encode(format!("r1\nada\n{id}"));
        let edited = B64.encode(text.replacen("ada", "bob", 1));
        let unchecked = B64.encode(format!("r2\nada\n{id}"));
        let no_check = B64.encode(text.rsplit_once('\n').unwrap().0);
        for bad in [
            "",
            "!!",
            "cjE",
            &B64.encode("r2\nx\nnot-a-uuid"),
            &older,
            &edited,
            &unchecked,
            &no_check,
            &c[..c.len() - 2],
        ] {
            assert!(decode_cursor(bad).is_err(), "{bad:?}");
        }
    }
}
