//! The holder's rights over their records: a copy of everything held about them (export),
//! and erasure on request.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::db::{Erasure, MessageFilter, Store};
use crate::error::{AppError, AppResult};

/// The revocation reason of credentials revoked by an erasure.
pub const ERASED_REASON: &str = "erased at the holder's request";

/// Everything held about a person, as one JSON document: the person, the consent
/// history, the closings they closed, their credentials (each with its signed document)
/// the messages sent to them and the copies delivered to their wallets.
pub async fn export(store: &dyn Store, person_id: Uuid) -> AppResult<Value> {
    let person = store
        .person(person_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no person with id {person_id}")))?;
    let consent = store.consent_history(person_id).await?;
    let closings = store.closings_of_person(person_id).await?;
    let credentials = store.credentials_of_person(person_id).await?;
    let messages = store
        .list_messages(&MessageFilter {
            person_id: Some(person_id),
            limit: 10_000,
            ..Default::default()
        })
        .await?;
    let wallet_copies: Vec<Value> = store
        .wallet_copies_of_person(person_id)
        .await?
        .iter()
        .map(|e| {
            json!({
                "credential_id": e.credential_id, "holder_did": e.holder_did,
                "delivered_at": e.completed_at,
                "document": e.copy_document.as_deref()
                    .and_then(|d| serde_json::from_str::<Value>(d).ok()),
            })
        })
        .collect();
    let credentials: Vec<Value> = credentials
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "achievement": c.achievement,
                "closing_id": c.closing_id,
                "issued_at": c.issued_at,
                "valid_until": c.valid_until,
                "revoked_at": c.revoked_at,
                "revocation_reason": c.revocation_reason,
                "document": serde_json::from_str::<Value>(&c.document).unwrap_or(Value::Null),
            })
        })
        .collect();
    let messages: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({
                "id": m.id, "kind": m.kind, "credential_id": m.credential_id,
                "status": m.status, "created_at": m.created_at, "sent_at": m.sent_at,
            })
        })
        .collect();
    Ok(json!({
        "exported_at": super::now(),
        "person": {
            "id": person.id, "name": person.name, "email": person.email,
            "city": person.city, "country": person.country, "url": person.url,
            "listed_in_registry": person.listed_in_registry, "created_at": person.created_at,
            "consent": person.consent,
        },
        "consent_history": consent,
        "closings": closings,
        "credentials": credentials,
        "messages": messages,
        "wallet_copies": wallet_copies,
    }))
}

/// Erases a person on request: their credentials are revoked ([`ERASED_REASON`]), name,
/// email, city and url removed, they leave the registry, their messages are dropped. The
/// credentials they shared keep verifying, as revoked. Erasing twice is a 404.
pub async fn erase(store: &dyn Store, person_id: Uuid) -> AppResult<Erasure> {
    let person = store
        .person(person_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no person with id {person_id}")))?;
    if person.erased_at.is_some() {
        return Err(AppError::NotFound(format!(
            "person {person_id} was already erased"
        )));
    }
    Ok(store
        .erase_person(person_id, ERASED_REASON, super::now())
        .await?)
}
