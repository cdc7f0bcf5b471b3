//! The issuer's identity: its Profile, its keys, and the URLs of everything it publishes.
//!
//! Every id in an issued credential is derived here from the public base URL, so the
//! routes that serve those ids and the credentials that name them cannot drift apart.
//!
//! The issuer has two ids: its hosted Profile, `{base}/issuer`, and `did:web:{host}`, whose
//! DID document lists the same keys. Which one new credentials name is a setting
//! ([`IssuerIdForm`]); a credential's verification method, and the status list it points to,
//! are in the same form as its issuer, so either verifies on its own terms. Wallets such as
//! the Learner Credential Wallet resolve only `did:key` and `did:web` issuers, so the copies
//! bound to a holder's wallet are always in the did:web form.

use uuid::Uuid;

use crate::config::{IssuerIdForm, Settings};
use crate::credential::model::Profile;
use crate::keys::KeyRing;

/// The issuer: profile data, keys and base URL.
#[derive(Debug)]
pub struct Issuer {
    base: String,
    name: String,
    url: Option<String>,
    email: Option<String>,
    form: IssuerIdForm,
    did: String,
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
            form: settings.issuer_id,
            did: did_web(&settings.base_url()),
            keys,
        }
    }

    /// The form of the issuer id new credentials name (the `issuer_id` setting).
    pub fn form(&self) -> IssuerIdForm {
        self.form
    }

    /// Public base URL, no trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The issuer's name, as its Profile gives it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The id of the hosted Profile: `{base}/issuer`.
    pub fn id(&self) -> String {
        format!("{}/issuer", self.base)
    }

    /// The issuer's `did:web` DID (the port percent-encoded, path segments as `:`).
    pub fn did(&self) -> &str {
        &self.did
    }

    /// The issuer id in `form`.
    pub fn id_as(&self, form: IssuerIdForm) -> String {
        match form {
            IssuerIdForm::Https => self.id(),
            IssuerIdForm::DidWeb => self.did.clone(),
        }
    }

    /// The form of `id` if it is one of this issuer's ids.
    pub fn form_of_id(&self, id: &str) -> Option<IssuerIdForm> {
        if id == self.did {
            Some(IssuerIdForm::DidWeb)
        } else {
            (id.strip_prefix(self.base.as_str()) == Some("/issuer")).then_some(IssuerIdForm::Https)
        }
    }

    /// The path, under the base URL, where the DID document is served: `/.well-known/did.json`,
    /// or `/did.json` when the base URL has a path (did:web resolves `did:web:host:path` to
    /// `https://host/path/did.json`).
    pub fn did_document_path(&self) -> &'static str {
        if self.did["did:web:".len()..].contains(':') {
            "/did.json"
        } else {
            "/.well-known/did.json"
        }
    }

    /// The embedded `Profile` of new credentials, in the configured form.
    pub fn profile(&self) -> Profile {
        self.profile_as(self.form)
    }

    /// The embedded `Profile` with the issuer id in `form`.
    pub fn profile_as(&self, form: IssuerIdForm) -> Profile {
        Profile {
            id: self.id_as(form),
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

    /// The verification method of `kid` in `form`: its Multikey URL, or `{did}#{kid}`.
    pub fn verification_method(&self, form: IssuerIdForm, kid: &str) -> String {
        match form {
            IssuerIdForm::Https => self.key_url(kid),
            IssuerIdForm::DidWeb => format!("{}#{kid}", self.did),
        }
    }

    /// The key id named by a verification method of this issuer, in either form.
    pub fn kid_of<'a>(&self, verification_method: &'a str) -> Option<&'a str> {
        self.key_of(verification_method).map(|(_, kid)| kid)
    }

    /// The form and key id of a verification method of this issuer.
    pub fn key_of<'a>(&self, verification_method: &'a str) -> Option<(IssuerIdForm, &'a str)> {
        if let Some(kid) = verification_method
            .strip_prefix(self.did.as_str())
            .and_then(|rest| rest.strip_prefix('#'))
        {
            return Some((IssuerIdForm::DidWeb, kid));
        }
        verification_method
            .strip_prefix(self.base.as_str())?
            .strip_prefix("/issuer/keys/")
            .map(|kid| (IssuerIdForm::Https, kid))
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

    /// `{base}/status/{list}`: the list's status list credential under the https issuer id.
    pub fn status_list_url(&self, list: i64) -> String {
        self.status_list_url_as(IssuerIdForm::Https, list)
    }

    /// The status list credential of `list` signed under the issuer id in `form`:
    /// `{base}/status/{list}` (https) or `{base}/status/did-web/{list}`. The bits are the same;
    /// each credential points to the one whose issuer is its own, as verifiers require.
    pub fn status_list_url_as(&self, form: IssuerIdForm, list: i64) -> String {
        match form {
            IssuerIdForm::Https => format!("{}/status/{list}", self.base),
            IssuerIdForm::DidWeb => format!("{}/status/did-web/{list}", self.base),
        }
    }

    /// The id of the status entry of bit `index` in list `list`, in `form`: `{list url}#{index}`.
    pub fn status_entry_id(&self, form: IssuerIdForm, list: i64, index: i64) -> String {
        format!("{}#{index}", self.status_list_url_as(form, list))
    }

    /// `{base}/exchanges/{token}`: a wallet exchange (VC-API).
    pub fn exchange_url(&self, token: &str) -> String {
        format!("{}/exchanges/{token}", self.base)
    }

    /// The list number named by a status list URL of this issuer, in either form.
    pub fn status_list_of(&self, url: &str) -> Option<i64> {
        let rest = url
            .strip_prefix(self.base.as_str())?
            .strip_prefix("/status/")?;
        path_number(rest.strip_prefix("did-web/").unwrap_or(rest))
    }
}

/// The `did:web` DID of a base URL: `https://host:port/a/b` → `did:web:host%3Aport:a:b`.
fn did_web(base: &str) -> String {
    let rest = base.split_once("://").map_or(base, |(_, rest)| rest);
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut did = format!("did:web:{}", authority.replace(':', "%3A"));
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        did.push(':');
        did.push_str(segment);
    }
    did
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
    fn did_web_of_base_urls() {
        assert_eq!(
            did_web("https://badges.example.org"),
            "did:web:badges.example.org"
        );
        assert_eq!(did_web("http://127.0.0.1:8080"), "did:web:127.0.0.1%3A8080");
        assert_eq!(
            did_web("https://example.org/programs/badges"),
            "did:web:example.org:programs:badges"
        );
    }

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
