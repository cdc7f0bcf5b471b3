//! Rows as both backends return them, decoded once (`FromRow` is generic over the backend),
//! and turned into the store's records.
//!
//! Ids are [`DbId`]: each backend says how it stores a UUID (see its `Type`, `Encode` and
//! `Decode` impls, in `sqlite.rs` and `postgres.rs`).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::records::{
    ApiToken, AuditEntry, AuditRecord, BadgeDates, Closing, CredentialRecord, Holder, Mentor,
    Person, RegistryProbe, RegistryRow, Stages,
};
use crate::scopes::Scopes;

/// A UUID as the backend stores it: hyphenated text on SQLite, a native `uuid` on
/// PostgreSQL. Bind ids through it, so one statement serves both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbId(pub Uuid);

impl From<DbId> for Uuid {
    fn from(id: DbId) -> Uuid {
        id.0
    }
}

/// An `api_tokens` row.
#[derive(sqlx::FromRow)]
pub struct TokenRow {
    id: DbId,
    name: String,
    public_id: Option<String>,
    token_hash: String,
    scopes: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<TokenRow> for ApiToken {
    fn from(r: TokenRow) -> ApiToken {
        ApiToken {
            id: r.id.0,
            name: r.name,
            public_id: r.public_id,
            token_hash: r.token_hash,
            scopes: Scopes::from_stored(&r.scopes),
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
        }
    }
}

/// An `audit_log` row.
#[derive(sqlx::FromRow)]
pub struct AuditRow {
    id: i64,
    at: DateTime<Utc>,
    token_id: Option<DbId>,
    token_name: Option<String>,
    action: String,
    target: Option<String>,
    status: i32,
    request_id: Option<String>,
}

impl TryFrom<AuditRow> for AuditRecord {
    type Error = sqlx::Error;

    fn try_from(r: AuditRow) -> Result<AuditRecord, sqlx::Error> {
        Ok(AuditRecord {
            id: r.id,
            entry: AuditEntry {
                at: r.at,
                token_id: r.token_id.map(Uuid::from),
                token_name: r.token_name,
                action: r.action,
                target: r.target,
                status: u16::try_from(r.status).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                request_id: r.request_id,
            },
        })
    }
}

/// A `mentors` row.
#[derive(sqlx::FromRow)]
pub struct MentorRow {
    id: DbId,
    name: String,
    email: String,
    url: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<MentorRow> for Mentor {
    fn from(r: MentorRow) -> Mentor {
        Mentor {
            id: r.id.0,
            name: r.name,
            email: r.email,
            url: r.url,
            created_at: r.created_at,
        }
    }
}

/// A `people` row.
#[derive(sqlx::FromRow)]
pub struct PersonRow {
    id: DbId,
    name: String,
    email: String,
    city: Option<String>,
    country: Option<String>,
    url: Option<String>,
    listed_in_registry: bool,
    created_at: DateTime<Utc>,
}

impl From<PersonRow> for Person {
    fn from(r: PersonRow) -> Person {
        Person {
            id: r.id.0,
            name: r.name,
            email: r.email,
            city: r.city,
            country: r.country,
            url: r.url,
            listed_in_registry: r.listed_in_registry,
            created_at: r.created_at,
        }
    }
}

/// A `closings` row.
#[derive(sqlx::FromRow)]
pub struct ClosingRow {
    id: DbId,
    closer_id: DbId,
    mentor_id: DbId,
    mentor_cc_at: DateTime<Utc>,
    mentor_cc_ref: Option<String>,
    partner_name: String,
    partner_url: Option<String>,
    partner_city: Option<String>,
    partner_country: Option<String>,
    stages: Json<Stages>,
    closed_on: NaiveDate,
    summary: String,
    created_at: DateTime<Utc>,
}

impl From<ClosingRow> for Closing {
    fn from(r: ClosingRow) -> Closing {
        Closing {
            id: r.id.0,
            closer_id: r.closer_id.0,
            mentor_id: r.mentor_id.0,
            mentor_cc_at: r.mentor_cc_at,
            mentor_cc_ref: r.mentor_cc_ref,
            partner_name: r.partner_name,
            partner_url: r.partner_url,
            partner_city: r.partner_city,
            partner_country: r.partner_country,
            stages: r.stages.0,
            closed_on: r.closed_on,
            summary: r.summary,
            created_at: r.created_at,
        }
    }
}

/// A closing joined to its mentor, whose columns are prefixed `m_` (the closing's keep
/// their names; the mentor's id is the closing's `mentor_id`).
#[derive(sqlx::FromRow)]
pub struct ClosingWithMentorRow {
    #[sqlx(flatten)]
    closing: ClosingRow,
    m_name: String,
    m_email: String,
    m_url: Option<String>,
    m_created_at: DateTime<Utc>,
}

impl From<ClosingWithMentorRow> for (Closing, Mentor) {
    fn from(r: ClosingWithMentorRow) -> (Closing, Mentor) {
        let mentor = Mentor {
            id: r.closing.mentor_id.0,
            name: r.m_name,
            email: r.m_email,
            url: r.m_url,
            created_at: r.m_created_at,
        };
        (r.closing.into(), mentor)
    }
}

/// A `credentials` row (the columns of `CREDENTIAL_COLUMNS`).
#[derive(sqlx::FromRow)]
pub struct CredentialRow {
    id: DbId,
    achievement: String,
    person_id: DbId,
    closing_id: Option<DbId>,
    status_list: i64,
    status_index: i64,
    issued_at: DateTime<Utc>,
    valid_until: Option<DateTime<Utc>>,
    document: String,
    idempotency_key: Option<String>,
    request_hash: Option<String>,
    revoked_at: Option<DateTime<Utc>>,
    revocation_reason: Option<String>,
}

impl From<CredentialRow> for CredentialRecord {
    fn from(r: CredentialRow) -> CredentialRecord {
        CredentialRecord {
            id: r.id.0,
            achievement: r.achievement,
            person_id: r.person_id.0,
            closing_id: r.closing_id.map(Uuid::from),
            status_list: r.status_list,
            status_index: r.status_index,
            issued_at: r.issued_at,
            valid_until: r.valid_until,
            document: r.document,
            idempotency_key: r.idempotency_key,
            request_hash: r.request_hash,
            revoked_at: r.revoked_at,
            revocation_reason: r.revocation_reason,
        }
    }
}

/// A credential with its holder's public fields.
#[derive(sqlx::FromRow)]
pub struct CredentialWithHolderRow {
    #[sqlx(flatten)]
    credential: CredentialRow,
    holder_name: String,
    holder_listed: bool,
}

impl From<CredentialWithHolderRow> for (CredentialRecord, Holder) {
    fn from(r: CredentialWithHolderRow) -> (CredentialRecord, Holder) {
        let holder = Holder {
            name: r.holder_name,
            listed_in_registry: r.holder_listed,
        };
        (r.credential.into(), holder)
    }
}

/// The registry's version and expiry bounds.
#[derive(sqlx::FromRow)]
pub struct ProbeRow {
    version: i64,
    changed_at: DateTime<Utc>,
    last_expired: Option<DateTime<Utc>>,
    next_expiry: Option<DateTime<Utc>>,
}

impl From<ProbeRow> for RegistryProbe {
    fn from(r: ProbeRow) -> RegistryProbe {
        RegistryProbe {
            version: r.version,
            changed_at: r.changed_at,
            last_expired: r.last_expired,
            next_expiry: r.next_expiry,
        }
    }
}

/// A registry entry: a listed person (`id`) and their active Certified.
#[derive(sqlx::FromRow)]
pub struct RegistryEntryRow {
    id: DbId,
    name: String,
    name_key: String,
    city: Option<String>,
    country: Option<String>,
    url: Option<String>,
    credential_id: DbId,
    issued_at: DateTime<Utc>,
    valid_until: Option<DateTime<Utc>>,
}

impl From<RegistryEntryRow> for RegistryRow {
    fn from(r: RegistryEntryRow) -> RegistryRow {
        RegistryRow {
            person_id: r.id.0,
            name: r.name,
            name_key: r.name_key,
            city: r.city,
            country: r.country,
            url: r.url,
            credential_id: r.credential_id.0,
            issued_at: r.issued_at,
            valid_until: r.valid_until,
        }
    }
}

/// An unrevoked badge's dates.
#[derive(sqlx::FromRow)]
pub struct BadgeRow {
    person_id: DbId,
    achievement: String,
    issued_at: DateTime<Utc>,
    valid_until: Option<DateTime<Utc>>,
}

impl From<BadgeRow> for BadgeDates {
    fn from(r: BadgeRow) -> BadgeDates {
        BadgeDates {
            person_id: r.person_id.0,
            achievement: r.achievement,
            issued_at: r.issued_at,
            valid_until: r.valid_until,
        }
    }
}
