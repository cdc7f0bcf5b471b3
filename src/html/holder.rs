//! The holder's pages (`/me`): their badges with live status, share links, images and
//! LinkedIn; their registry choice, with exactly what is published and where; the sign-in
//! form and the answers about links. Built from stored records without I/O; the handlers
//! in `crate::routes::me` load them.

use askama::Template;
use chrono::{DateTime, Utc};

use super::pages::{linkedin_add_url, status_view, StatusView};
use super::when::When;
use crate::db::{CredentialRecord, Exchange, Person};
use crate::issuer::Issuer;
use crate::program::{achievements, consent, CERTIFIED, CLOSED};

/// One badge on the holder's page.
pub struct HolderBadge<'a> {
    /// `Partnership Closed`.
    pub name: &'static str,
    /// Live status.
    pub status: StatusView<'a>,
    /// Issue date.
    pub issued: When,
    /// Its public page: the link to share.
    pub url: String,
    /// Baked PNG.
    pub png_url: String,
    /// Baked SVG.
    pub svg_url: String,
    /// The signed credential.
    pub json_url: String,
    /// Download name stem.
    pub file_stem: String,
    /// "Add to LinkedIn profile", while valid.
    pub linkedin_url: Option<String>,
    /// The element id of its share field.
    pub share_id: String,
    /// The credential's id (the "Add to wallet" form names it).
    pub id: String,
    /// "Add to wallet", while valid.
    pub deliverable: bool,
    /// The wallets it was delivered to: the wallet's DID and when.
    pub wallets: Vec<(String, When)>,
}

/// What the registry would publish of this person, shown before they consent.
pub struct Preview {
    /// Name.
    pub name: String,
    /// City.
    pub city: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// First certification of the current run; `None` if not certified now.
    pub certified_since: Option<When>,
    /// Valid Partnership Closed badges.
    pub closings: usize,
}

/// `/me`, signed in.
#[derive(Template)]
#[template(path = "me.html")]
pub struct HolderPage<'a> {
    /// The holder's name.
    pub name: &'a str,
    /// Their badges, newest first.
    pub badges: Vec<HolderBadge<'a>>,
    /// Listed in the registry now.
    pub listed: bool,
    /// Listed on consent an admin recorded (and where it was collected).
    pub admin_source: Option<&'a str>,
    /// When the latest choice was made.
    pub consent_at: Option<When>,
    /// What would be published.
    pub preview: Preview,
    /// The consent text's fields and places.
    pub fields: &'static [&'static str],
    /// See `fields`.
    pub places: &'static [&'static str],
    /// The consent text's version.
    pub version: &'static str,
    /// The forms' CSRF token.
    pub csrf: String,
    /// A one-line notice after an action (`?done=`).
    pub notice: Option<&'static str>,
}

impl<'a> HolderPage<'a> {
    /// Builds the page.
    pub fn new(
        issuer: &Issuer,
        person: &'a Person,
        records: &'a [CredentialRecord],
        copies: &[Exchange],
        csrf: String,
        notice: Option<&'static str>,
        now: DateTime<Utc>,
    ) -> HolderPage<'a> {
        let mut badges: Vec<HolderBadge<'a>> = records
            .iter()
            .filter_map(|r| {
                let a = achievements::by_slug(&r.achievement)?;
                let url = issuer.credential_url(r.id);
                let status = status_view(r, now);
                let deliverable = status.kind == "valid";
                let linkedin_url = (status.kind == "valid").then(|| {
                    linkedin_add_url(
                        a.name,
                        issuer.name(),
                        r.issued_at,
                        r.valid_until,
                        &url,
                        &r.id.to_string(),
                    )
                });
                Some(HolderBadge {
                    name: a.name,
                    status,
                    issued: When::day_of(r.issued_at),
                    png_url: format!("{url}/badge.png"),
                    svg_url: format!("{url}/badge.svg"),
                    json_url: format!("{url}/credential.json"),
                    file_stem: format!("{}-{}", a.slug, r.id),
                    linkedin_url,
                    share_id: format!("share-{}", r.id),
                    id: r.id.to_string(),
                    deliverable,
                    wallets: copies
                        .iter()
                        .filter(|c| c.credential_id == r.id)
                        .filter_map(|c| {
                            Some((c.holder_did.clone()?, When::day_of(c.completed_at?)))
                        })
                        .collect(),
                    url,
                })
            })
            .collect();
        badges.reverse();
        let valid = |slug: &'static str| {
            records
                .iter()
                .filter(move |r| r.achievement == slug && r.status_at(now) == "valid")
        };
        let preview = Preview {
            name: person.name.clone(),
            city: person.city.clone(),
            country: person.country.clone(),
            certified_since: valid(CERTIFIED)
                .map(|r| r.issued_at)
                .min()
                .map(When::day_of),
            closings: valid(CLOSED).count(),
        };
        let by_admin = person.consent.by.as_deref() == Some("admin");
        HolderPage {
            name: &person.name,
            badges,
            listed: person.listed_in_registry,
            admin_source: (by_admin && person.listed_in_registry)
                .then_some(person.consent.source.as_deref())
                .flatten(),
            consent_at: person.consent.at.map(When::time),
            preview,
            fields: &consent::PUBLISHED_FIELDS,
            places: &consent::PUBLISHED_WHERE,
            version: consent::CONSENT_TEXT_VERSION,
            csrf,
            notice,
        }
    }
}

/// The wallet panel: a just-opened exchange for one badge, as a QR code for the wallet's
/// scanner and a deep link for a phone that has the wallet.
#[derive(Template)]
#[template(path = "me-wallet.html")]
pub struct WalletPage<'a> {
    /// The badge's name.
    pub name: &'static str,
    /// The credential's id (the form that opens another exchange names it).
    pub credential: String,
    /// The forms' CSRF token.
    pub csrf: String,
    /// The credential-request flow (else the VC-API exchange).
    pub request_mode: bool,
    /// The QR code of `link_text`, an inline SVG element.
    pub qr_svg: String,
    /// What the QR code holds: the interaction URL (`…?iuv=1`), or the credential-request
    /// link.
    pub link_text: &'a str,
    /// The link that opens the wallet app on the phone.
    pub app_link: &'a str,
    /// Open until.
    pub expires: When,
    /// How long it stays open, in minutes.
    pub minutes: u64,
}

/// An inline SVG QR code of `text` (a URL), or `None` if it is too long for one.
pub fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    // The renderer writes an XML declaration first; inline in HTML, only the element.
    let start = svg.find("<svg")?;
    Some(svg[start..].replacen(
        "<svg",
        "<svg role=\"img\" aria-label=\"QR code of the wallet link\"",
        1,
    ))
}

/// `/me` signed out, `/me/login`, and every answer about links: a heading, a message, and
/// (unless `sent`) the form that asks for a new link.
#[derive(Template)]
#[template(path = "me-sign-in.html")]
pub struct SignInPage {
    /// The `<h1>`.
    pub heading: &'static str,
    /// What happened, in a sentence or two.
    pub message: String,
    /// Show the form.
    pub form: bool,
    /// The form's CSRF token (double submit: also in a cookie).
    pub csrf: String,
    /// The HTTP status, shown for errors.
    pub status: Option<u16>,
}
