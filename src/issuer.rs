//! The issuer's identity: its Profile, its keys, and the URLs of everything it publishes.
//!
//! Every id in an issued credential is derived here from the public base URL, so the
//! routes that serve those ids and the credentials that name them cannot drift apart.

use uuid::Uuid;

use crate::config::Settings;
use crate::credential::model::Profile;
use crate::keys::KeyRing;

/// The issuer: profile data, keys and base URL.
#[derive(Debug)]
pub struct Issuer {
    base: String,
    name: String,
    url: Option<String>,
    email: Option<String>,
    /// Signing keys (active and retired).
    pub keys: KeyRing,
}

impl Issuer {
    /// Builds the issuer from settings and loaded keys.
    pub fn new(settings: &Settings, keys: KeyRing) -> Self {
        Issuer {
            base: settings.base_url(),
            name: settings.issuer_name.clone(),
            url: settings.issuer_url.clone(),
            email: settings.issuer_email.clone(),
            keys,
        }
    }

    /// Public base URL, no trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The issuer's name, as its Profile gives it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The issuer id: `{base}/issuer`.
    pub fn id(&self) -> String {
        format!("{}/issuer", self.base)
    }

    /// The embedded `Profile` of every credential.
    pub fn profile(&self) -> Profile {
        Profile {
            id: self.id(),
            types: vec!["Profile".into()],
            name: self.name.clone(),
            url: Some(self.url.clone().unwrap_or_else(|| self.base.clone())),
            email: self.email.clone(),
        }
    }

    /// The Multikey document URL of `kid`.
    pub fn key_url(&self, kid: &str) -> String {
        format!("{}/issuer/keys/{kid}", self.base)
    }

    /// The key id named by a verification method URL of this issuer.
    pub fn kid_of<'a>(&self, verification_method: &'a str) -> Option<&'a str> {
        verification_method
            .strip_prefix(self.base.as_str())?
            .strip_prefix("/issuer/keys/")
    }

    /// `{base}/credentials/{id}`.
    pub fn credential_url(&self, id: Uuid) -> String {
        format!("{}/credentials/{id}", self.base)
    }

    /// The credential id named by a credential URL of this issuer.
    pub fn credential_id_of(&self, url: &str) -> Option<Uuid> {
        let rest = url
            .strip_prefix(self.base.as_str())?
            .strip_prefix("/credentials/")?;
        path_uuid(rest)
    }

    /// `{base}/achievements/{slug}`.
    pub fn achievement_url(&self, slug: &str) -> String {
        format!("{}/achievements/{slug}", self.base)
    }

    /// `{base}/closings/{id}`: the public page of a closing record.
    pub fn closing_url(&self, id: Uuid) -> String {
        format!("{}/closings/{id}", self.base)
    }

    /// `{base}/status/{list}`.
    pub fn status_list_url(&self, list: i64) -> String {
        format!("{}/status/{list}", self.base)
    }

    /// The list number named by a status list URL of this issuer.
    pub fn status_list_of(&self, url: &str) -> Option<i64> {
        url.strip_prefix(self.base.as_str())?
            .strip_prefix("/status/")
            .and_then(path_number)
    }
}

/// A UUID as a URL path segment names it: the hyphenated form these URLs are written with
/// (either case: RFC 9562 reads hex digits case-insensitively). The simple, braced and URN
/// forms that [`Uuid::parse_str`] also takes are other spellings of the resource, so they
/// name nothing.
pub fn path_uuid(segment: &str) -> Option<Uuid> {
    if segment.len() != 36 {
        return None;
    }
    Uuid::try_parse(segment).ok()
}

/// A non-negative number as a URL path segment names it: canonical decimal, as these URLs
/// are written (`1`, never `01`, `+1` or `1.0`), so each resource has one URL.
pub fn path_number(segment: &str) -> Option<i64> {
    let canonical = !segment.is_empty()
        && segment.bytes().all(|b| b.is_ascii_digit())
        && (segment == "0" || !segment.starts_with('0'));
    if !canonical {
        return None;
    }
    segment.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_have_one_spelling() {
        for (segment, n) in [("0", 0), ("1", 1), ("131072", 131_072)] {
            assert_eq!(path_number(segment), Some(n), "{segment:?}");
        }
        for bad in [
            "",
            "01",
            "00",
            "+1",
            "-1",
            " 1",
            "1 ",
            "1.0",
            "1e3",
            "0x1",
            "\u{661}",
            "99999999999999999999",
        ] {
            assert_eq!(path_number(bad), None, "{bad:?}");
        }
        let id = Uuid::new_v4();
        assert_eq!(path_uuid(&id.to_string()), Some(id));
        assert_eq!(path_uuid(&id.to_string().to_uppercase()), Some(id));
        for other in [
            id.simple().to_string(),
            id.braced().to_string(),
            id.urn().to_string(),
            format!(" {id}"),
        ] {
            assert_eq!(path_uuid(&other), None, "{other:?}");
        }
    }
}
