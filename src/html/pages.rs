//! The pages this module renders and the view models behind them, built from stored records
//! without I/O: the badge page, the closing record page, the achievement page and the error
//! page. The handlers in `crate::routes::pages` load the records and call in here.

use std::borrow::Cow;

use askama::Template;
use chrono::{DateTime, Datelike as _, Utc};

use super::when::When;
use crate::credential::model::OpenBadgeCredential;
use crate::db::{Closing, CredentialRecord, Holder, Mentor};
use crate::issuer::Issuer;
use crate::program::achievements::Achievement;

/// A run of text as the templates show it: a paragraph, then a bulleted list (either may be
/// empty). Narratives are Markdown-ish plain text; only paragraphs and `- ` lists are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block<'a> {
    /// Paragraph text (borrowed unless lines were joined).
    pub para: Cow<'a, str>,
    /// List items.
    pub items: Vec<&'a str>,
}

/// Splits plain text into [`Block`]s: blank lines separate blocks, `- ` starts a list item,
/// other lines join into the paragraph.
pub fn blocks(text: &str) -> Vec<Block<'_>> {
    let mut out: Vec<Block<'_>> = Vec::new();
    for chunk in text.split("\n\n") {
        let mut block = Block {
            para: Cow::Borrowed(""),
            items: Vec::new(),
        };
        for line in chunk.lines().map(str::trim_end) {
            if let Some(item) = line.strip_prefix("- ") {
                block.items.push(item.trim());
            } else if !line.trim().is_empty() {
                if !block.items.is_empty() {
                    // Text after a list starts a new block.
                    out.push(std::mem::replace(
                        &mut block,
                        Block {
                            para: Cow::Borrowed(""),
                            items: Vec::new(),
                        },
                    ));
                }
                if block.para.is_empty() {
                    block.para = Cow::Borrowed(line.trim());
                } else {
                    let para = block.para.to_mut();
                    para.push(' ');
                    para.push_str(line.trim());
                }
            }
        }
        if !block.para.is_empty() || !block.items.is_empty() {
            out.push(block);
        }
    }
    out
}

/// The status box of a badge page.
#[derive(Debug, Clone)]
pub struct StatusView<'a> {
    /// `valid`, `revoked` or `expired` (also the CSS modifier).
    pub kind: &'static str,
    /// `Valid`, `Revoked` or `Expired`.
    pub label: &'static str,
    /// One sentence saying what the status means.
    pub detail: String,
    /// The revocation reason.
    pub reason: Option<&'a str>,
    /// When the status was worked out.
    pub checked: When,
}

/// One evidence entry, as signed in the credential.
#[derive(Debug, Clone)]
pub struct EvidenceView<'a> {
    /// Title (`Closing record: …`, `Mentor CC'd: …`).
    pub name: &'a str,
    /// Kind (`Closing record`, `Mentor attestation`).
    pub genre: Option<&'a str>,
    /// Short description.
    pub description: Option<&'a str>,
    /// The narrative, as blocks.
    pub narrative: Vec<Block<'a>>,
    /// The hosted evidence page (the closing record).
    pub url: Option<&'a str>,
}

/// What a verifier needs to check the badge by hand.
#[derive(Debug, Clone, Default)]
pub struct TechnicalView<'a> {
    /// The proof's `verificationMethod` (a Multikey URL).
    pub verification_method: &'a str,
    /// The key id within it.
    pub kid: &'a str,
    /// `DataIntegrityProof`.
    pub proof_type: &'a str,
    /// `eddsa-rdfc-2022`.
    pub cryptosuite: &'a str,
    /// When the proof was made.
    pub proof_created: &'a str,
    /// `BitstringStatusListEntry`.
    pub status_type: &'a str,
    /// `revocation`.
    pub status_purpose: &'a str,
    /// The status list credential URL.
    pub status_list_url: &'a str,
    /// The bit index in it.
    pub status_list_index: &'a str,
    /// The issuer id (its Profile URL).
    pub issuer_id: &'a str,
}

/// The badge page: `GET /credentials/{id}` for browsers.
#[derive(Template)]
#[template(path = "badge.html")]
pub struct BadgePage<'a> {
    /// `<title>` and `og:title`.
    pub title: String,
    /// Meta description and `og:description`.
    pub summary: String,
    /// The badge (achievement) name.
    pub badge_name: &'a str,
    /// `Badge` or `Certification`.
    pub achievement_type: &'a str,
    /// The achievement's page.
    pub achievement_url: &'a str,
    /// What the badge certifies.
    pub description: &'a str,
    /// Its criteria.
    pub criteria: Vec<Block<'a>>,
    /// The holder's name, only where the holder agreed to be public.
    pub holder: Option<&'a str>,
    /// Issuer name.
    pub issuer_name: &'a str,
    /// Issuer web site.
    pub issuer_url: Option<&'a str>,
    /// Issue date.
    pub issued: When,
    /// Expiry.
    pub expires: Option<When>,
    /// Live status.
    pub status: StatusView<'a>,
    /// Evidence entries.
    pub evidence: Vec<EvidenceView<'a>>,
    /// The credential URL (this page; the JSON by content negotiation).
    pub credential_url: String,
    /// Download of the signed credential.
    pub json_url: String,
    /// Baked PNG.
    pub png_url: String,
    /// Baked SVG.
    pub svg_url: String,
    /// File name stem for downloads.
    pub file_stem: String,
    /// Alt text of the badge image.
    pub image_alt: String,
    /// "Add to LinkedIn profile", offered while the badge is valid.
    pub linkedin_url: Option<String>,
    /// Verification details.
    pub technical: TechnicalView<'a>,
}

/// Everything a badge page is built from.
pub struct BadgeInput<'a> {
    /// The issuer (for URLs).
    pub issuer: &'a Issuer,
    /// The stored record (live status).
    pub record: &'a CredentialRecord,
    /// The holder.
    pub holder: &'a Holder,
    /// The signed credential, parsed.
    pub credential: &'a OpenBadgeCredential,
    /// The achievement, when known to this program.
    pub achievement: Option<&'static Achievement>,
    /// The time the status is judged at.
    pub now: DateTime<Utc>,
}

impl<'a> BadgePage<'a> {
    /// Builds the page.
    pub fn new(input: BadgeInput<'a>) -> BadgePage<'a> {
        let BadgeInput {
            issuer,
            record,
            holder,
            credential: vc,
            achievement,
            now,
        } = input;
        let credential_url = issuer.credential_url(record.id);
        let a = &vc.credential_subject.achievement;
        let status = status_view(record, now);
        let holder_name = holder.listed_in_registry.then_some(holder.name.as_str());
        let issued = When::day_of(record.issued_at);
        let summary = match &holder_name {
            Some(n) => format!(
                "{n} earned the {} badge from {}, issued {}.",
                a.name, vc.issuer.name, issued.human
            ),
            None => format!(
                "A {} badge from {}, issued {} to a verified email address.",
                a.name, vc.issuer.name, issued.human
            ),
        };
        let title = match &holder_name {
            Some(n) => format!("{} – {n}", a.name),
            None => a.name.clone(),
        };
        let slug = achievement.map(|a| a.slug).unwrap_or("badge");
        let linkedin_url = (status.kind == "valid").then(|| {
            linkedin_add_url(
                &a.name,
                &vc.issuer.name,
                record.issued_at,
                record.valid_until,
                &credential_url,
                &record.id.to_string(),
            )
        });
        let proof = vc.proof.first();
        let entry = vc.credential_status.as_ref();
        let technical = TechnicalView {
            verification_method: proof.map_or("", |p| p.verification_method.as_str()),
            kid: proof
                .and_then(|p| issuer.kid_of(&p.verification_method))
                .unwrap_or(""),
            proof_type: proof.map_or("", |p| p.kind.as_str()),
            cryptosuite: proof.map_or("", |p| p.cryptosuite.as_str()),
            proof_created: proof.map_or("", |p| p.created.as_str()),
            status_type: entry.map_or("", |s| s.kind.as_str()),
            status_purpose: entry.map_or("", |s| s.status_purpose.as_str()),
            status_list_url: entry.map_or("", |s| s.status_list_credential.as_str()),
            status_list_index: entry.map_or("", |s| s.status_list_index.as_str()),
            issuer_id: &vc.issuer.id,
        };
        BadgePage {
            title,
            summary,
            badge_name: &a.name,
            achievement_type: &a.achievement_type,
            achievement_url: &a.id,
            description: &a.description,
            criteria: blocks(&a.criteria.narrative),
            holder: holder_name,
            issuer_name: &vc.issuer.name,
            issuer_url: vc.issuer.url.as_deref().filter(|u| is_http(u)),
            issued,
            expires: record.valid_until.map(When::day_of),
            status,
            evidence: vc
                .evidence
                .iter()
                .map(|e| EvidenceView {
                    name: e.name.as_deref().unwrap_or("Evidence"),
                    genre: e.genre.as_deref(),
                    description: e.description.as_deref(),
                    narrative: e.narrative.as_deref().map(blocks).unwrap_or_default(),
                    url: e.id.as_deref().filter(|u| is_http(u)),
                })
                .collect(),
            json_url: format!("{credential_url}/credential.json"),
            png_url: format!("{credential_url}/badge.png"),
            svg_url: format!("{credential_url}/badge.svg"),
            file_stem: format!("{slug}-{}", record.id),
            image_alt: format!(
                "{} badge: {}",
                a.name,
                super::artwork::artwork_description(slug)
            ),
            linkedin_url,
            technical,
            credential_url,
        }
    }
}

/// The live status of a record at `now`.
pub fn status_view(record: &CredentialRecord, now: DateTime<Utc>) -> StatusView<'_> {
    let checked = When::time(now);
    match record.status_at(now) {
        "revoked" => {
            let on = record.revoked_at.map(When::day_of);
            StatusView {
                kind: "revoked",
                label: "Revoked",
                detail: match on {
                    Some(on) => format!(
                        "The issuer revoked this badge on {}. It is no longer valid.",
                        on.human
                    ),
                    None => "The issuer revoked this badge. It is no longer valid.".into(),
                },
                reason: record.revocation_reason.as_deref(),
                checked,
            }
        }
        "expired" => StatusView {
            kind: "expired",
            label: "Expired",
            detail: format!(
                "This badge expired on {}.",
                record
                    .valid_until
                    .map(|t| When::day_of(t).human)
                    .unwrap_or_default()
            ),
            reason: None,
            checked,
        },
        _ => StatusView {
            kind: "valid",
            label: "Valid",
            detail: "This badge is current: the issuer has not revoked it and it has not expired."
                .into(),
            reason: None,
            checked,
        },
    }
}

/// LinkedIn's "add a certification to your profile" link, query form-encoded.
pub fn linkedin_add_url(
    name: &str,
    organisation: &str,
    issued: DateTime<Utc>,
    expires: Option<DateTime<Utc>>,
    cert_url: &str,
    cert_id: &str,
) -> String {
    const ADD: &str = "https://www.linkedin.com/profile/add?";
    // `for_suffix`: the pairs follow the `?` without a leading `&`.
    let mut q = form_urlencoded::Serializer::for_suffix(String::from(ADD), ADD.len());
    q.append_pair("startTask", "CERTIFICATION_NAME")
        .append_pair("name", name)
        .append_pair("organizationName", organisation)
        .append_pair("issueYear", &issued.year().to_string())
        .append_pair("issueMonth", &issued.month().to_string());
    if let Some(e) = expires {
        q.append_pair("expirationYear", &e.year().to_string())
            .append_pair("expirationMonth", &e.month().to_string());
    }
    q.append_pair("certUrl", cert_url)
        .append_pair("certId", cert_id);
    q.finish()
}

/// Only `http(s)` URLs become links (stored ones are checked on input; this is the second
/// line against a `javascript:` href).
fn is_http(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

/// One stage row of a closing record.
#[derive(Debug, Clone)]
pub struct StageView {
    /// Stage name.
    pub name: &'static str,
    /// The date it was reached.
    pub on: Option<When>,
}

/// The closing record page: `GET /closings/{id}` for browsers. Only public fields: no
/// emails, no internal ids, no message reference.
#[derive(Template)]
#[template(path = "closing.html")]
pub struct ClosingPage<'a> {
    /// The page's URL.
    pub url: String,
    /// Partner organisation.
    pub partner_name: String,
    /// Partner web site (`http(s)` only).
    pub partner_url: Option<String>,
    /// City and country.
    pub place: Option<String>,
    /// The five stages with their dates.
    pub stages: Vec<StageView>,
    /// Closed on.
    pub closed_on: When,
    /// Outcome.
    pub summary: Vec<Block<'a>>,
    /// The mentor CC'd.
    pub mentor_name: Option<String>,
    /// When the mentor was CC'd.
    pub mentor_cc_at: When,
}

impl<'a> ClosingPage<'a> {
    /// Builds the page.
    pub fn new(issuer: &Issuer, c: &'a Closing, mentor: Option<&Mentor>) -> ClosingPage<'a> {
        let s = &c.stages;
        let place: Vec<&str> = [c.partner_city.as_deref(), c.partner_country.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        ClosingPage {
            url: issuer.closing_url(c.id),
            partner_name: c.partner_name.clone(),
            partner_url: c.partner_url.clone().filter(|u| is_http(u)),
            place: (!place.is_empty()).then(|| place.join(", ")),
            stages: [
                ("Lead", s.lead),
                ("Conversation", s.conversation),
                ("Shaping", s.shaping),
                ("Work", s.work),
                ("Transition", s.transition),
            ]
            .into_iter()
            .map(|(name, d)| StageView {
                name,
                on: d.map(When::date),
            })
            .collect(),
            closed_on: When::date(c.closed_on),
            summary: blocks(&c.summary),
            mentor_name: mentor.map(|m| m.name.clone()),
            mentor_cc_at: When::time(c.mentor_cc_at),
        }
    }
}

/// The achievement page: `GET /achievements/{slug}` for browsers.
#[derive(Template)]
#[template(path = "achievement.html")]
pub struct AchievementPage {
    /// Name.
    pub name: &'static str,
    /// `Badge` or `Certification`.
    pub achievement_type: &'static str,
    /// Description.
    pub description: &'static str,
    /// Criteria.
    pub criteria: Vec<Block<'static>>,
    /// Its URL.
    pub url: String,
    /// Artwork (SVG) URL.
    pub svg_url: String,
    /// Artwork (PNG) URL.
    pub png_url: String,
    /// Alt text.
    pub image_alt: String,
    /// Issuer name.
    pub issuer_name: String,
}

impl AchievementPage {
    /// Builds the page.
    pub fn new(issuer: &Issuer, a: &'static Achievement) -> AchievementPage {
        let url = issuer.achievement_url(a.slug);
        AchievementPage {
            name: a.name,
            achievement_type: a.achievement_type,
            description: a.description,
            criteria: blocks(a.criteria),
            svg_url: format!("{url}/image.svg"),
            png_url: format!("{url}/image.png"),
            image_alt: format!(
                "{} badge: {}",
                a.name,
                super::artwork::artwork_description(a.slug)
            ),
            issuer_name: issuer.profile().name,
            url,
        }
    }
}

/// An error page (404 and friends).
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// HTTP status.
    pub status: u16,
    /// Heading.
    pub heading: &'static str,
    /// What happened, for people.
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrative_blocks() {
        let b =
            blocks("Partnership with X closed.\n\nStages:\n- Lead: 1\n- Work: 2\n\nOutcome: ok");
        assert_eq!(b.len(), 3);
        assert_eq!(b[0].para, "Partnership with X closed.");
        assert_eq!(b[1].para, "Stages:");
        assert_eq!(b[1].items, ["Lead: 1", "Work: 2"]);
        assert_eq!(blocks("a\nb")[0].para, "a b");
        assert_eq!(b[2].para, "Outcome: ok");
        assert!(blocks("").is_empty());
    }

    #[test]
    fn linkedin_url_is_encoded() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-10-02T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let u = linkedin_add_url(
            "Partnership Closed",
            "Mozilla & Friends",
            t,
            None,
            "https://b.example/credentials/1",
            "1",
        );
        assert_eq!(
            u,
            "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME\
             &name=Partnership+Closed&organizationName=Mozilla+%26+Friends&issueYear=2026\
             &issueMonth=10&certUrl=https%3A%2F%2Fb.example%2Fcredentials%2F1&certId=1"
        );
    }
}
