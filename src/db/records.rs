//! The records the store reads and writes, and the filters and queries it answers.
//!
//! Plain data, no SQL; records read back derive `FromRow` (generic over the backend, so rows
//! are decoded once), ids through `rows::DbId`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::rows::{DbId, OptDbId};
// The derives below expand `try_from` to `sqlx::__spec_error!`: see `sqlx_derive`.
use super::sqlx_derive as sqlx;
use crate::scopes::{Role, Scopes};

/// Slug of **Partnership Closed**. The schema's rules (partial unique indexes) name the two
/// slugs, so the store owns them.
pub const CLOSED: &str = "partnership-closed";
/// Slug of **Partnership Certified**.
pub const CERTIFIED: &str = "partnership-certified";

/// An admin API token; only the SHA-256 of the secret is stored.
#[derive(Debug, Clone, sqlx_macros::FromRow)]
pub struct ApiToken {
    /// Token id (the API's handle: `/api/v1/tokens/{id}`).
    #[sqlx(try_from = "DbId")]
    pub id: Uuid,
    /// Human name (who or what uses it).
    pub name: String,
    /// The lookup key inside `pb_<public id>_<secret>`; `None` for tokens made before
    /// public ids, which are looked up by `token_hash`.
    pub public_id: Option<String>,
    /// Hex SHA-256 of the secret part (of the whole token for the older kind).
    pub token_hash: String,
    /// What it may do.
    #[sqlx(try_from = "String")]
    pub scopes: Scopes,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One request to an admin route, as the audit log keeps it: never a secret or a body.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct AuditEntry {
    /// When the request was answered.
    pub at: DateTime<Utc>,
    /// The token whose secret matched (even if expired or revoked); `None` when none did.
    #[sqlx(try_from = "OptDbId")]
    pub token_id: Option<Uuid>,
    /// That token's name.
    pub token_name: Option<String>,
    /// Method and route template: `POST /api/v1/credentials/{id}/revoke`.
    pub action: String,
    /// The `{id}` of the path, when the route has one.
    pub target: Option<String>,
    /// The HTTP status answered.
    #[sqlx(try_from = "i32")]
    pub status: u16,
    /// The request's `x-request-id`.
    pub request_id: Option<String>,
    /// The staff member behind a console action; `None` for API requests.
    #[sqlx(try_from = "OptDbId")]
    pub staff_id: Option<Uuid>,
    /// That staff member's email.
    pub staff_email: Option<String>,
}

/// One write of the group committer (`db::group_commit`): what requests store durably
/// before they are answered.
#[derive(Debug, Clone)]
pub enum Write {
    /// An issued credential, with the message announcing it (stored only if the
    /// credential is).
    Credential(CredentialRecord, Option<Box<OutboxMessage>>),
    /// An audit log entry.
    Audit(AuditEntry),
}

/// A stored audit entry with its position in the log.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct AuditRecord {
    /// Increasing with every entry: the log's order.
    pub id: i64,
    /// The entry.
    #[sqlx(flatten)]
    pub entry: AuditEntry,
}

/// Filters and cursor for reading the audit log (newest first).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only entries of this token id.
    pub token_id: Option<Uuid>,
    /// Only entries of the token with this name.
    pub token_name: Option<String>,
    /// Only entries of the staff member with this email.
    pub staff_email: Option<String>,
    /// Only entries whose target (the path's id) is this.
    pub target: Option<String>,
    /// Only this action (`METHOD /route/template`).
    pub action: Option<String>,
    /// Only entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only entries older than this position.
    pub before: Option<i64>,
    /// Page size.
    pub limit: i64,
}

/// A mentor who can be CC'd on closings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx_macros::FromRow)]
pub struct Mentor {
    /// Id.
    #[sqlx(try_from = "DbId")]
    pub id: Uuid,
    /// Full name.
    pub name: String,
    /// Email (never published).
    pub email: String,
    /// Public profile URL.
    pub url: Option<String>,
    /// When recorded.
    pub created_at: DateTime<Utc>,
}

/// A program participant (a badge recipient).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx_macros::FromRow)]
pub struct Person {
    /// Id.
    #[sqlx(try_from = "DbId")]
    pub id: Uuid,
    /// Full name.
    pub name: String,
    /// Email; only its salted hash goes into credentials.
    pub email: String,
    /// City.
    pub city: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// Public profile URL.
    pub url: Option<String>,
    /// Listed in the public registry now (the one bit the registry reads); `consent` says
    /// whose choice it is.
    pub listed_in_registry: bool,
    /// When recorded.
    pub created_at: DateTime<Utc>,
    /// Who made the latest registry choice, and on what ground.
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub consent: Consent,
    /// When the person was erased at their request; `None` for everyone else.
    pub erased_at: Option<DateTime<Utc>>,
}

/// Who made a person's latest registry choice, and on what ground. Every change of
/// `listed_in_registry` is also written to the consent history by the database.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, sqlx_macros::FromRow)]
pub struct Consent {
    /// `"holder"` (on their page) or `"admin"` (through the API); `None` if never chosen.
    #[sqlx(rename = "consent_by")]
    #[serde(rename = "consent_by")]
    pub by: Option<String>,
    /// For an admin's listing: where the consent was collected.
    #[sqlx(rename = "consent_source")]
    #[serde(rename = "consent_source")]
    pub source: Option<String>,
    /// For the holder's consent: the version of the text they were shown.
    #[sqlx(rename = "consent_version")]
    #[serde(rename = "consent_version")]
    pub version: Option<String>,
    /// When the latest choice was made.
    #[sqlx(rename = "consent_at")]
    #[serde(rename = "consent_at")]
    pub at: Option<DateTime<Utc>>,
    /// The holder's latest withdrawal; while set, only the holder may list themselves again.
    pub withdrawn_at: Option<DateTime<Utc>>,
}

/// One entry of a person's consent history (written by the database on every change).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx_macros::FromRow)]
pub struct ConsentEvent {
    /// When.
    pub at: DateTime<Utc>,
    /// `"given"` or `"withdrawn"`.
    pub action: String,
    /// `"holder"` or `"admin"`.
    pub actor: String,
    /// For an admin's listing: where the consent was collected.
    pub source: Option<String>,
    /// For the holder's consent: the version of the text shown.
    pub text_version: Option<String>,
}

/// What a message of the outbox is about.
pub mod message_kind {
    /// A badge was issued to the person.
    pub const ISSUED: &str = "issued";
    /// A badge of the person was revoked.
    pub const REVOKED: &str = "revoked";
    /// The person asked for a sign-in link to their page.
    pub const SIGN_IN: &str = "sign_in";
}

/// A message of the transactional outbox: written with what it announces, sent later.
/// The address and contents are read when sending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx_macros::FromRow)]
pub struct OutboxMessage {
    /// Id (also the stable `Message-ID`'s local part).
    #[sqlx(try_from = "DbId")]
    pub id: Uuid,
    /// See [`message_kind`].
    pub kind: String,
    /// The recipient.
    #[sqlx(try_from = "DbId")]
    pub person_id: Uuid,
    /// The credential it announces (issued and revoked messages).
    #[sqlx(try_from = "OptDbId")]
    pub credential_id: Option<Uuid>,
    /// `queued`, `sent` or `failed`.
    pub status: String,
    /// Send attempts so far.
    pub attempts: i32,
    /// When it is due; while a sender holds it, the end of that sender's lease.
    pub next_attempt_at: DateTime<Utc>,
    /// The latest failure.
    pub last_error: Option<String>,
    /// When written.
    pub created_at: DateTime<Utc>,
    /// When the mail server accepted it.
    pub sent_at: Option<DateTime<Utc>>,
}

impl OutboxMessage {
    /// A message due now.
    pub fn queued(
        kind: &str,
        person_id: Uuid,
        credential_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Self {
        OutboxMessage {
            id: Uuid::new_v4(),
            kind: kind.to_owned(),
            person_id,
            credential_id,
            status: "queued".into(),
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            created_at: now,
            sent_at: None,
        }
    }
}

/// Filters and cursor for listing the outbox (newest first).
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    /// Only this status.
    pub status: Option<String>,
    /// Only this person's messages.
    pub person_id: Option<Uuid>,
    /// Continue after this `(created_at, id)`.
    pub after: Option<(DateTime<Utc>, Uuid)>,
    /// Page size.
    pub limit: i64,
}

/// How a send attempt ended, for [`crate::db::Store::finish_messages`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The server accepted it.
    Sent,
    /// It failed; try again at this time.
    Retry(DateTime<Utc>, String),
    /// It failed for good.
    Failed(String),
}

/// What a sign-in link token turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkUse {
    /// Valid and now used: the person it signs in.
    SignedIn(Uuid),
    /// Used before (the link was exchanged for a session).
    Used,
    /// Past its 30 days.
    Expired,
    /// No such link.
    Unknown,
}

/// A wallet exchange (VC-API): hands one credential, bound to the presenting wallet's DID,
/// to one holder, once, before it expires. Completed, it holds that copy.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct Exchange {
    /// Id.
    #[sqlx(try_from = "DbId")]
    pub id: Uuid,
    /// SHA-256 (hex) of the token in the exchange's URL.
    pub token_hash: String,
    /// The credential it delivers a copy of.
    #[sqlx(try_from = "DbId")]
    pub credential_id: Uuid,
    /// Who opened it: `holder` (their page) or `token:{id}` (the API).
    pub opened_by: String,
    /// Opened at.
    pub created_at: DateTime<Utc>,
    /// Closed to new presentations after.
    pub expires_at: DateTime<Utc>,
    /// The DIDAuth challenge handed out last; a presentation must be over this one.
    pub challenge: Option<String>,
    /// The wallet's DID, once it has presented.
    pub holder_did: Option<String>,
    /// When the copy was delivered.
    pub completed_at: Option<DateTime<Utc>>,
    /// The copy's id (`urn:uuid:{copy_id}`).
    #[sqlx(try_from = "OptDbId")]
    pub copy_id: Option<Uuid>,
    /// The signed copy, byte for byte as delivered.
    pub copy_document: Option<String>,
}

/// The copy a completed exchange delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeCopy {
    /// The wallet's DID (the copy's `credentialSubject.id`).
    pub holder_did: String,
    /// The copy's id.
    pub copy_id: Uuid,
    /// The signed copy.
    pub document: String,
}

/// What an erasure did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erasure {
    /// The credentials it revoked (those not revoked before).
    pub revoked: Vec<Uuid>,
    /// Outbox rows dropped.
    pub messages_dropped: u64,
}

/// Dates on which a partnership reached each of its five stages: each from 1900-01-01 to
/// the closing day, in this order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Stages {
    /// Lead identified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead: Option<NaiveDate>,
    /// First conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<NaiveDate>,
    /// Shaping the partnership.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shaping: Option<NaiveDate>,
    /// The work itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work: Option<NaiveDate>,
    /// Transition and close.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition: Option<NaiveDate>,
}

/// The record of a closed partnership: the evidence behind the badges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx_macros::FromRow)]
pub struct Closing {
    /// Id.
    #[sqlx(try_from = "DbId")]
    pub id: Uuid,
    /// The person who closed it.
    #[sqlx(try_from = "DbId")]
    pub closer_id: Uuid,
    /// The mentor CC'd on the closing communications.
    #[sqlx(try_from = "DbId")]
    pub mentor_id: Uuid,
    /// When the mentor was CC'd.
    pub mentor_cc_at: DateTime<Utc>,
    /// A reference to the CC'd message (e.g. a message id).
    pub mentor_cc_ref: Option<String>,
    /// Partner organisation.
    pub partner_name: String,
    /// Partner web site.
    pub partner_url: Option<String>,
    /// Partner city.
    pub partner_city: Option<String>,
    /// Partner country.
    pub partner_country: Option<String>,
    /// Stage dates.
    #[sqlx(json)]
    pub stages: Stages,
    /// Day the partnership closed.
    pub closed_on: NaiveDate,
    /// Outcome, in a few sentences.
    pub summary: String,
    /// When recorded.
    pub created_at: DateTime<Utc>,
    /// The program's assessment of the partner, if staff made one. Internal.
    #[sqlx(json(nullable))]
    pub partner_fit: Option<PartnerFit>,
}

/// The program's study of what makes a great partner, on one partner organisation: three
/// axes of three criteria, each rated 0–3 with a note. Internal: no public page and no
/// credential shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerFit {
    /// Depth: how far the partnership reaches into the partner's work.
    pub depth: FitDepth,
    /// Spread: how far it can carry.
    pub spread: FitSpread,
    /// Participation: how the partner takes part in the program's community.
    pub participation: FitParticipation,
}

/// The depth axis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FitDepth {
    /// Locations and audiences.
    pub locations_and_audiences: FitRating,
    /// Existing organisational structures.
    pub organisational_structures: FitRating,
    /// Localisation.
    pub localisation: FitRating,
}

/// The spread axis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FitSpread {
    /// Growth and leadership potential.
    pub growth_and_leadership: FitRating,
    /// Size.
    pub size: FitRating,
    /// New access.
    pub new_access: FitRating,
}

/// The participation axis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FitParticipation {
    /// Shares our values.
    pub shares_values: FitRating,
    /// Participates in our community.
    pub participates_in_community: FitRating,
    /// Reputation.
    pub reputation: FitRating,
}

/// One criterion's rating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FitRating {
    /// 0 (none) to 3 (strong).
    #[schema(minimum = 0, maximum = 3)]
    pub score: u8,
    /// Why, in a sentence or two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

impl PartnerFit {
    /// Every rating with its field path (`depth.localisation`), in the order above.
    pub fn ratings_mut(&mut self) -> [(&'static str, &mut FitRating); 9] {
        let (d, s, p) = (&mut self.depth, &mut self.spread, &mut self.participation);
        [
            (
                "depth.locations_and_audiences",
                &mut d.locations_and_audiences,
            ),
            (
                "depth.organisational_structures",
                &mut d.organisational_structures,
            ),
            ("depth.localisation", &mut d.localisation),
            ("spread.growth_and_leadership", &mut s.growth_and_leadership),
            ("spread.size", &mut s.size),
            ("spread.new_access", &mut s.new_access),
            ("participation.shares_values", &mut p.shares_values),
            (
                "participation.participates_in_community",
                &mut p.participates_in_community,
            ),
            ("participation.reputation", &mut p.reputation),
        ]
    }
}

/// A stored, signed credential and its status. The document never changes after insert.
#[derive(Debug, Clone, PartialEq, sqlx_macros::FromRow)]
pub struct CredentialRecord {
    /// Id (also the last path segment of the credential URL).
    #[sqlx(try_from = "DbId")]
    pub id: Uuid,
    /// Achievement slug.
    pub achievement: String,
    /// Recipient.
    #[sqlx(try_from = "DbId")]
    pub person_id: Uuid,
    /// The closing a Partnership Closed was issued for.
    #[sqlx(try_from = "OptDbId")]
    pub closing_id: Option<Uuid>,
    /// Status list number.
    pub status_list: i64,
    /// Bit index in that list.
    pub status_index: i64,
    /// Issue time (= `validFrom`).
    pub issued_at: DateTime<Utc>,
    /// Expiry (= `validUntil`).
    pub valid_until: Option<DateTime<Utc>>,
    /// The signed credential, byte for byte as issued.
    pub document: String,
    /// The Idempotency-Key it was issued under.
    pub idempotency_key: Option<String>,
    /// SHA-256 of the issuing request, to tell a retry from a reuse of the key.
    pub request_hash: Option<String>,
    /// Revocation time.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Revocation reason.
    pub revocation_reason: Option<String>,
}

impl CredentialRecord {
    /// `valid`, `revoked` or `expired`, at `now`.
    pub fn status_at(&self, now: DateTime<Utc>) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.valid_until.is_some_and(|t| t <= now) {
            "expired"
        } else {
            "valid"
        }
    }
}

/// The holder of a credential, as far as its public page needs: the name, and whether the
/// holder agreed to be public (only then is the name shown).
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct Holder {
    /// Full name.
    #[sqlx(rename = "holder_name")]
    pub name: String,
    /// Consent to appear in public (the registry, and by name on badge pages).
    #[sqlx(rename = "holder_listed")]
    pub listed_in_registry: bool,
}

/// Filters and cursor for listing credentials (newest first).
#[derive(Debug, Clone, Default)]
pub struct CredentialFilter {
    /// Only this recipient.
    pub person_id: Option<Uuid>,
    /// Only this achievement slug.
    pub achievement: Option<String>,
    /// Only `valid`, `revoked` or `expired` ones.
    pub status: Option<String>,
    /// Start after this `(issued_at, id)` position.
    pub after: Option<(DateTime<Utc>, Uuid)>,
    /// Page size.
    pub limit: i64,
    /// The time `status` is judged at.
    pub now: DateTime<Utc>,
}

/// What the program's figures are computed from ([`crate::program::stats`]): counts and
/// groupings the database makes, and the spans of every Certified badge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsRows {
    /// Closings per `YYYY-MM` of `closed_on`, from the month asked for.
    pub closings_per_month: Vec<MonthCount>,
    /// Closings per partner country, most first.
    pub closings_by_country: Vec<CountryCount>,
    /// Closings per mentor CC'd, most first (at most 50).
    pub closings_per_mentor: Vec<MentorCount>,
    /// The dashboard's counts.
    pub counts: StatsCounts,
    /// Every Certified badge's person and validity.
    pub certified: Vec<CertifiedSpan>,
    /// The partner-fit assessments of closings from the month asked for, summed per month.
    pub fits: Vec<FitMonth>,
}

/// The partner-fit assessments of one month's closings, summed per axis.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct FitMonth {
    /// `YYYY-MM` of `closed_on`.
    pub month: String,
    /// Closings assessed.
    pub assessed: i64,
    /// The sum of their depth ratings (three per closing).
    pub depth: i64,
    /// The sum of their spread ratings.
    pub spread: i64,
    /// The sum of their participation ratings.
    pub participation: i64,
}

/// Closings of one month.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct MonthCount {
    /// `YYYY-MM`.
    pub month: String,
    /// How many.
    pub closings: i64,
}

/// Closings with partners of one country (none given: `None`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct CountryCount {
    /// The partner's country.
    pub country: Option<String>,
    /// How many.
    pub closings: i64,
}

/// Closings one mentor was CC'd on.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct MentorCount {
    /// The mentor.
    #[sqlx(try_from = "DbId")]
    pub mentor_id: Uuid,
    /// Their name.
    pub name: String,
    /// How many.
    pub closings: i64,
}

/// The dashboard's counts, at one time.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct StatsCounts {
    /// Every closing recorded.
    pub closings: i64,
    /// Closings with no unrevoked Partnership Closed.
    pub without_closed: i64,
    /// People with a valid Closed and no valid Certified.
    pub ready_to_certify: i64,
    /// People with a valid Certified.
    pub certified_people: i64,
    /// Valid Certified badges that expire within the window asked for.
    pub expiring: i64,
    /// Messages that failed for good.
    pub failed_notifications: i64,
}

/// When one Certified badge held.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct CertifiedSpan {
    /// Its holder.
    #[sqlx(try_from = "DbId")]
    pub person_id: Uuid,
    /// From.
    pub issued_at: DateTime<Utc>,
    /// Until it expires, if it does.
    pub valid_until: Option<DateTime<Utc>>,
    /// Until it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A record's badge state, as the work queue counts it: "valid" is unrevoked and
/// unexpired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadgeState {
    /// Closings with no unrevoked Partnership Closed.
    WithoutClosed,
    /// Closings with an unrevoked Partnership Closed.
    WithClosed,
    /// People with a valid Closed and no valid Certified.
    ReadyToCertify,
    /// People with a valid Certified.
    Certified,
}

impl BadgeState {
    /// Every state, with its name in queries.
    pub const ALL: [(BadgeState, &'static str); 4] = [
        (BadgeState::WithoutClosed, "without-closed"),
        (BadgeState::WithClosed, "with-closed"),
        (BadgeState::ReadyToCertify, "ready-to-certify"),
        (BadgeState::Certified, "certified"),
    ];

    /// The state with this name.
    pub fn from_name(name: &str) -> Option<BadgeState> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(s, _)| *s)
    }

    /// Its name in queries.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(s, _)| *s == self)
            .map(|(_, n)| *n)
            .expect("every state is named")
    }

    /// Whether it applies to closings (else to people).
    pub fn of_closings(self) -> bool {
        matches!(self, BadgeState::WithoutClosed | BadgeState::WithClosed)
    }
}

/// Which people, mentors or closings a list shows, newest first, a page at a time.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    /// A case-insensitive part of the name or email (people, mentors), or of the partner's
    /// name (closings).
    pub q: Option<String>,
    /// The person's country, or the partner's (closings).
    pub country: Option<String>,
    /// Closings closed on or after this day.
    pub closed_from: Option<NaiveDate>,
    /// Closings closed on or before this day.
    pub closed_to: Option<NaiveDate>,
    /// Closings of this closer.
    pub person_id: Option<Uuid>,
    /// Closings this mentor was CC'd on.
    pub mentor_id: Option<Uuid>,
    /// Only records in this badge state (judged at `now`).
    pub badge: Option<BadgeState>,
    /// The time badge states are judged at.
    pub now: DateTime<Utc>,
    /// Start after this `(created_at, id)` position.
    pub after: Option<(DateTime<Utc>, Uuid)>,
    /// Page size.
    pub limit: i64,
}

impl RecordFilter {
    /// `q` as a `like` pattern (escape character backslash): lower case, `%`, `_` and the
    /// backslash escaped, between `%`s.
    pub fn q_pattern(&self) -> Option<String> {
        self.q.as_deref().map(|q| {
            let mut p = String::with_capacity(q.len() + 2);
            p.push('%');
            for c in q.to_lowercase().chars() {
                if matches!(c, '%' | '_' | '\\') {
                    p.push('\\');
                }
                p.push(c);
            }
            p.push('%');
            p
        })
    }
}

/// A block of status-list positions reserved for one instance: counters `start..start+len`
/// of list `list`, turned into bit indices by the program (`program::status_index`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusBlock {
    /// List number.
    pub list: i64,
    /// First counter.
    pub start: i64,
    /// Number of counters.
    pub len: i64,
}

/// What `revoke_credential` did.
#[derive(Debug, Clone, PartialEq)]
pub enum RevokeOutcome {
    /// Revoked now.
    Revoked(CredentialRecord),
    /// It was already revoked (the record shows when and why).
    AlreadyRevoked(CredentialRecord),
}

/// The public registry's state, read to validate in-memory caches: one cheap round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct RegistryProbe {
    /// Bumped (by triggers) in the same transaction as every change that can alter the
    /// registry: issue, revocation, re-dating of a badge; a person's public fields or consent.
    pub version: i64,
    /// When `version` last changed.
    pub changed_at: DateTime<Utc>,
    /// The latest `valid_until` at or before the probe time, of an unrevoked badge: expiry
    /// changes the registry without any write.
    pub last_expired: Option<DateTime<Utc>>,
    /// The earliest `valid_until` after the probe time, of an unrevoked badge: until then,
    /// an unchanged `version` means an unchanged registry.
    pub next_expiry: Option<DateTime<Utc>>,
}

/// The order of a registry query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryOrder {
    /// By lower-cased name, then the id of the active Certified (the directory,
    /// cursor-paged): both public, so a cursor holding them reveals no internal id. A
    /// person keeps their place while their name and badge stay; a renewal (a new badge id)
    /// can move them within the people of the same name.
    Name,
    /// Newest active certification first, then credential id (the feeds).
    Newest,
}

/// A query of the registry: listed people with a valid Partnership Certified at `now`.
#[derive(Debug, Clone)]
pub struct RegistryQuery {
    /// Only this country (case-insensitive equality).
    pub country: Option<String>,
    /// Only names starting with this (case-insensitive).
    pub prefix: Option<String>,
    /// [`RegistryOrder::Name`] only: start after this `(name key, credential id)`.
    pub after: Option<(String, Uuid)>,
    /// Order.
    pub order: RegistryOrder,
    /// Most rows returned.
    pub limit: i64,
    /// The time validity is judged at.
    pub now: DateTime<Utc>,
}

/// One listed person with their active Partnership Certified.
#[derive(Debug, Clone, PartialEq, sqlx_macros::FromRow)]
pub struct RegistryRow {
    /// Person id (internal; never published).
    #[sqlx(rename = "id", try_from = "DbId")]
    pub person_id: Uuid,
    /// Name.
    pub name: String,
    /// The backend's lower-cased name: the sort key the cursor carries.
    pub name_key: String,
    /// City.
    pub city: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// Public profile URL.
    pub url: Option<String>,
    /// The active Partnership Certified.
    #[sqlx(try_from = "DbId")]
    pub credential_id: Uuid,
    /// Its issue time.
    pub issued_at: DateTime<Utc>,
    /// Its expiry.
    pub valid_until: Option<DateTime<Utc>>,
}

/// An unrevoked badge's dates, for "certified since" and the count of closed partnerships.
#[derive(Debug, Clone, PartialEq, sqlx_macros::FromRow)]
pub struct BadgeDates {
    /// Holder.
    #[sqlx(try_from = "DbId")]
    pub person_id: Uuid,
    /// Achievement slug.
    pub achievement: String,
    /// Issue time.
    pub issued_at: DateTime<Utc>,
    /// Expiry.
    pub valid_until: Option<DateTime<Utc>>,
}

/// A staff account of the console.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct StaffMember {
    /// Id.
    #[sqlx(try_from = "DbId")]
    pub id: Uuid,
    /// Normalised email: how they sign in, with a password or through OpenID Connect.
    pub email: String,
    /// What they may do.
    #[sqlx(try_from = "String")]
    pub role: Role,
    /// The PHC string of their argon2id password hash; `None` until they set one.
    pub password_hash: Option<String>,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
    /// When the password was last set.
    pub password_set_at: Option<DateTime<Utc>>,
}

/// A signed-in staff member's session, with its account.
#[derive(Debug, Clone, sqlx_macros::FromRow)]
pub struct StaffSession {
    /// The account.
    #[sqlx(flatten)]
    pub staff: StaffMember,
    /// When the session began.
    pub session_created_at: DateTime<Utc>,
    /// The last request seen (updated at most once a minute).
    pub last_seen_at: DateTime<Utc>,
    /// When it ends however active it is.
    pub expires_at: DateTime<Utc>,
}

/// The mentor's columns of a closing joined to its mentor, prefixed `m_` so the closing's
/// keep their names (the mentor's id is the closing's `mentor_id`).
#[derive(sqlx_macros::FromRow)]
pub(crate) struct JoinedMentor {
    #[sqlx(try_from = "DbId")]
    pub(crate) mentor_id: Uuid,
    pub(crate) m_name: String,
    pub(crate) m_email: String,
    pub(crate) m_url: Option<String>,
    pub(crate) m_created_at: DateTime<Utc>,
}
