//! Issuing the two badges: the award rules, idempotent retries, and building the signed
//! credential with the closing record and the mentor as evidence.

use chrono::{DateTime, Utc};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::{achievements, format_time, identity_hash, now, CERTIFIED, CLOSED};
use crate::credential::model::{
    AchievementSubject, Criteria, Evidence, IdentityObject, OpenBadgeCredential, StatusEntry,
    OB_V3_CONTEXT, VC_V2_CONTEXT,
};
use crate::db::{
    message_kind, Closing, CredentialRecord, Mentor, OutboxMessage, Person, RevokeOutcome,
};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// `POST /api/v1/credentials`, and one item of a batch.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// `partnership-closed` or `partnership-certified`.
    pub achievement: String,
    /// The recipient.
    pub person_id: Uuid,
    /// For Partnership Closed: the closing it is awarded for (required). For Partnership
    /// Certified: optionally, the one closing to cite (default: all valid Closed badges).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closing_id: Option<Uuid>,
    /// Optional expiry (RFC 3339): after now and at most 100 years ahead, judged in UTC;
    /// kept at whole seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<DateTime<Utc>>,
    /// Whether the holder is emailed the badge with a link to their page (default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<bool>,
}

/// The outcome of an issuance.
#[derive(Debug)]
pub struct Issued {
    /// The stored credential.
    pub record: CredentialRecord,
    /// False when an Idempotency-Key retry returned an earlier credential.
    pub created: bool,
}

/// Checks an Idempotency-Key header value: 1–255 visible ASCII characters.
pub fn check_idempotency_key(key: &str) -> AppResult<()> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::BadRequest(
            "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
        ));
    }
    Ok(())
}

fn request_hash(req: &IssueRequest) -> String {
    let bytes = serde_json::to_vec(req).expect("a request always serialises");
    hex::encode(Sha256::digest(bytes))
}

/// The earlier credential for a retried key, or a conflict if the key came with another body.
fn replay(existing: CredentialRecord, hash: &str) -> AppResult<Issued> {
    if existing.request_hash.as_deref() == Some(hash) {
        Ok(Issued {
            record: existing,
            created: false,
        })
    } else {
        Err(AppError::Conflict(
            "Idempotency-Key was already used with a different request body".into(),
        ))
    }
}

/// Issues a badge, applying the program's rules. With an Idempotency-Key, a retry of the
/// same request returns the first credential and a different request under it is a 409.
pub async fn issue(
    state: &AppState,
    req: IssueRequest,
    idempotency_key: Option<String>,
) -> AppResult<Issued> {
    let hash = request_hash(&req);
    let Some(key) = idempotency_key else {
        return issue_new(state, req, None, hash).await;
    };
    check_idempotency_key(&key)?;
    // No lookup first: retries are rare, and the key's unique index (not a read) is what
    // makes a key issue once. A retry of a stored request, or a concurrent twin that won
    // the race, trips a rule or that index; it is then answered with the stored credential.
    match issue_new(state, req, Some(key.clone()), hash.clone()).await {
        Err(e) if !matches!(e, AppError::Internal(_)) => {
            match state.store.credential_by_idempotency_key(&key).await? {
                Some(existing) => replay(existing, &hash),
                None => Err(e),
            }
        }
        other => other,
    }
}

/// What the rules make of an issue request before anything is signed: the badge, its
/// recipient, the evidence it cites and its expiry.
pub struct Prepared {
    /// Which badge.
    pub achievement: &'static achievements::Achievement,
    /// The recipient.
    pub person: Person,
    /// The evidence entries.
    pub evidence: Vec<Evidence>,
    /// Its expiry, if any.
    pub valid_until: Option<DateTime<Utc>>,
}

/// Applies the program's rules to `req` at `issued_at`: the achievement, the recipient (not
/// erased), the closing (its closer, for Closed) or the valid Closed badges (for
/// Certified). What the staff console shows before signing, and what issuance signs.
pub async fn prepare(
    state: &AppState,
    req: &IssueRequest,
    issued_at: DateTime<Utc>,
) -> AppResult<Prepared> {
    let achievement = achievements::by_slug(&req.achievement).ok_or_else(|| {
        AppError::invalid(
            "achievement",
            format!("achievement must be \"{CLOSED}\" or \"{CERTIFIED}\""),
        )
    })?;
    // Checked here, before anything is built: a time the credential could not carry as an
    // `xsd:dateTime`, or that would make it expired from the start, is never signed.
    let valid_until = req
        .valid_until
        .map(|t| super::expiry("valid_until", t, issued_at))
        .transpose()?;
    let store = &*state.store;
    let person = store
        .person(req.person_id)
        .await?
        .ok_or_else(|| AppError::invalid("person_id", "person_id names no person"))?;
    if person.erased_at.is_some() {
        return Err(AppError::invalid(
            "person_id",
            "person_id names a person erased at their request",
        ));
    }
    let mut evidence = Vec::with_capacity(4);
    if achievement.slug == CLOSED {
        let closing_id = req.closing_id.ok_or_else(|| {
            AppError::invalid("closing_id", "Partnership Closed needs a closing_id")
        })?;
        let (closing, mentor) = store
            .closing_with_mentor(closing_id)
            .await?
            .ok_or_else(|| AppError::invalid("closing_id", "closing_id names no closing"))?;
        if closing.closer_id != person.id {
            return Err(AppError::invalid(
                "closing_id",
                "rule: Partnership Closed goes to the person who closed the partnership; \
                 this closing's closer is someone else",
            ));
        }
        // One active Closed per closing is the database's unique index, not a read here:
        // a second one fails at insert with that rule's 409 (and no read can race it).
        evidence.extend(closing_evidence(state, &closing, &mentor));
    } else {
        let held = store.credentials_of_person(person.id).await?;
        if held
            .iter()
            .any(|c| c.achievement == CERTIFIED && c.status_at(issued_at) == "valid")
        {
            return Err(AppError::Conflict(
                "rule: this person already has an active Partnership Certified badge".into(),
            ));
        }
        let valid_closed: Vec<Uuid> = held
            .iter()
            .filter(|c| c.achievement == CLOSED && c.status_at(issued_at) == "valid")
            .filter_map(|c| c.closing_id)
            .collect();
        if valid_closed.is_empty() {
            return Err(AppError::rule(
                "rule: Partnership Certified needs a valid (unrevoked, unexpired) Partnership \
                 Closed badge held by this person",
            ));
        }
        let cited = match req.closing_id {
            Some(id) if valid_closed.contains(&id) => vec![id],
            Some(_) => {
                return Err(AppError::invalid(
                    "closing_id",
                    "closing_id must name a closing behind one of this person's valid \
                     Partnership Closed badges",
                ))
            }
            None => valid_closed,
        };
        for id in cited {
            let (closing, mentor) = store
                .closing_with_mentor(id)
                .await?
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("closing {id} vanished")))?;
            evidence.extend(closing_evidence(state, &closing, &mentor));
        }
    }

    Ok(Prepared {
        achievement,
        person,
        evidence,
        valid_until,
    })
}

async fn issue_new(
    state: &AppState,
    req: IssueRequest,
    idempotency_key: Option<String>,
    hash: String,
) -> AppResult<Issued> {
    let issued_at = now();
    let Prepared {
        achievement,
        person,
        evidence,
        valid_until,
    } = prepare(state, &req, issued_at).await?;
    let store = &*state.store;
    let (status_list, status_index) = state.status.next(store).await?;
    let id = Uuid::new_v4();
    let credential = build_credential(
        state,
        BuildInput {
            id,
            achievement,
            person: &person,
            evidence,
            status_list,
            status_index,
            issued_at,
            valid_until,
        },
    );
    let signed = state.sign(credential)?;
    let record = CredentialRecord {
        id,
        achievement: achievement.slug.to_owned(),
        person_id: person.id,
        closing_id: if achievement.slug == CLOSED {
            req.closing_id
        } else {
            None
        },
        status_list,
        status_index,
        issued_at,
        valid_until,
        document: signed,
        idempotency_key: idempotency_key.clone(),
        request_hash: Some(hash.clone()),
        revoked_at: None,
        revocation_reason: None,
    };
    // The message announcing it is stored in the same transaction, only with it.
    let message = (req.notify != Some(false)).then(|| {
        Box::new(OutboxMessage::queued(
            message_kind::ISSUED,
            person.id,
            Some(id),
            issued_at,
        ))
    });
    let notify = message.is_some();
    // Answered only once the record's transaction has committed (see `group_commit`).
    let record = state.writer.insert_credential(record, message).await?;
    if notify {
        state.outbox.wake();
    }
    state
        .metrics
        .issued
        .with_label_values(&[achievement.slug])
        .inc();
    Ok(Issued {
        record,
        created: true,
    })
}

/// Everything a credential is built from.
pub struct BuildInput<'a> {
    /// Credential id.
    pub id: Uuid,
    /// Which badge.
    pub achievement: &'a achievements::Achievement,
    /// Recipient.
    pub person: &'a Person,
    /// Evidence entries.
    pub evidence: Vec<Evidence>,
    /// Status list number.
    pub status_list: i64,
    /// Bit index.
    pub status_index: i64,
    /// Issue time.
    pub issued_at: DateTime<Utc>,
    /// Expiry.
    pub valid_until: Option<DateTime<Utc>>,
}

/// Builds the unsigned OB 3.0 credential.
pub fn build_credential(state: &AppState, input: BuildInput<'_>) -> OpenBadgeCredential {
    let issuer = &state.issuer;
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let salt = hex::encode(salt);
    let list_url = issuer.status_list_url_as(issuer.form(), input.status_list);
    let a = input.achievement;
    OpenBadgeCredential {
        context: vec![VC_V2_CONTEXT.into(), OB_V3_CONTEXT.into()],
        id: issuer.credential_url(input.id),
        types: vec!["VerifiableCredential".into(), "OpenBadgeCredential".into()],
        name: a.name.into(),
        description: a.description.into(),
        issuer: issuer.profile(),
        valid_from: format_time(input.issued_at),
        valid_until: input.valid_until.map(format_time),
        credential_subject: AchievementSubject {
            id: None,
            types: vec!["AchievementSubject".into()],
            identifier: vec![IdentityObject {
                kind: "IdentityObject".into(),
                identity_hash: identity_hash(&input.person.email, &salt),
                identity_type: "emailAddress".into(),
                hashed: true,
                salt,
            }],
            achievement: crate::credential::model::Achievement {
                id: issuer.achievement_url(a.slug),
                types: vec!["Achievement".into()],
                achievement_type: a.achievement_type.into(),
                name: a.name.into(),
                description: a.description.into(),
                criteria: Criteria {
                    id: None,
                    narrative: a.criteria.into(),
                },
            },
        },
        evidence: input.evidence,
        credential_status: Some(StatusEntry {
            id: issuer.status_entry_id(issuer.form(), input.status_list, input.status_index),
            kind: "BitstringStatusListEntry".into(),
            status_purpose: "revocation".into(),
            status_list_index: input.status_index.to_string(),
            status_list_credential: list_url,
        }),
        proof: Vec::new(),
    }
}

/// The two evidence entries of a closing: the hosted closing record, and the mentor CC'd.
pub fn closing_evidence(state: &AppState, closing: &Closing, mentor: &Mentor) -> [Evidence; 2] {
    let mut narrative = format!(
        "Partnership with {} closed on {}.",
        closing.partner_name, closing.closed_on
    );
    let place: Vec<&str> = [
        closing.partner_city.as_deref(),
        closing.partner_country.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !place.is_empty() {
        narrative.push_str(&format!(" Partner location: {}.", place.join(", ")));
    }
    let stages = &closing.stages;
    let stage_lines: Vec<String> = [
        ("Lead", stages.lead),
        ("Conversation", stages.conversation),
        ("Shaping", stages.shaping),
        ("Work", stages.work),
        ("Transition", stages.transition),
    ]
    .into_iter()
    .filter_map(|(name, d)| d.map(|d| format!("- {name}: {d}")))
    .collect();
    if !stage_lines.is_empty() {
        narrative.push_str("\n\nStages:\n");
        narrative.push_str(&stage_lines.join("\n"));
    }
    narrative.push_str("\n\nOutcome: ");
    narrative.push_str(&closing.summary);

    let mut mentor_narrative = format!(
        "{} was CC'd on the closing communications on {}.",
        mentor.name,
        format_time(closing.mentor_cc_at)
    );
    if let Some(r) = &closing.mentor_cc_ref {
        mentor_narrative.push_str(&format!(" Message reference: {r}."));
    }
    [
        Evidence {
            id: Some(state.issuer.closing_url(closing.id)),
            types: vec!["Evidence".into()],
            name: Some(format!("Closing record: {}", closing.partner_name)),
            description: Some(format!(
                "The closing record of the partnership with {}, closed on {}.",
                closing.partner_name, closing.closed_on
            )),
            narrative: Some(narrative),
            genre: Some("Closing record".into()),
            audience: None,
        },
        Evidence {
            id: None,
            types: vec!["Evidence".into()],
            name: Some(format!("Mentor CC'd: {}", mentor.name)),
            description: Some(format!(
                "Program mentor {} was CC'd on the closing of the partnership with {}.",
                mentor.name, closing.partner_name
            )),
            narrative: Some(mentor_narrative),
            genre: Some("Mentor attestation".into()),
            audience: None,
        },
    ]
}

/// Revokes a credential: its bit is set in its status list, and (with `notify`) the
/// holder's message is queued in the same transaction. Repeating the same revocation
/// answers the revoked credential; another reason is a 409.
pub async fn revoke(
    state: &AppState,
    id: Uuid,
    reason: &str,
    notify: bool,
) -> AppResult<CredentialRecord> {
    let reason = super::records::text("reason", reason, 1000)?;
    let Some(existing) = state.store.credential(id).await? else {
        return Err(AppError::NotFound(format!("no credential with id {id}")));
    };
    let now = now();
    // Queued in the revocation's transaction, and only if this request revokes it.
    let message = notify
        .then(|| OutboxMessage::queued(message_kind::REVOKED, existing.person_id, Some(id), now));
    match state
        .store
        .revoke_credential(id, &reason, now, message.as_ref())
        .await?
    {
        RevokeOutcome::Revoked(r) => {
            // Its page says so on the next request, on every instance.
            state.badges.changed(&*state.store).await?;
            if message.is_some() {
                state.outbox.wake();
            }
            state
                .metrics
                .revoked
                .with_label_values(&[r.achievement.as_str()])
                .inc();
            Ok(r)
        }
        // A retry of the same revocation is answered as success; a different reason conflicts.
        RevokeOutcome::AlreadyRevoked(r) if r.revocation_reason.as_deref() == Some(&reason) => {
            Ok(r)
        }
        RevokeOutcome::AlreadyRevoked(r) => Err(AppError::Conflict(format!(
            "credential was already revoked at {} (reason: {})",
            r.revoked_at.map(super::format_time).unwrap_or_default(),
            r.revocation_reason.unwrap_or_default()
        ))),
    }
}
