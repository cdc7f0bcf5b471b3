//! The holder mail outbox over HTTP: which messages are queued, sent or failed
//! (read scope), and retrying a failed one (issue scope).

use axum::extract::{Query, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::admin::path_id;
use super::extract::{scope, AppPath, Auth};
use crate::db::{MessageFilter, OutboxMessage};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The notification routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_notifications))
        .routes(routes!(retry_notification))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct NotificationQuery {
    /// Only messages with this status.
    #[param(value_type = Option<NotificationStatus>)]
    status: Option<String>,
    /// Only this person's messages.
    #[param(value_type = Option<Uuid>)]
    person: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
}

/// A message's status.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum NotificationStatus {
    /// Waiting to be sent, or to be tried again.
    Queued,
    /// Accepted by the mail server.
    Sent,
    /// Given up on (see `last_error`); `POST …/retry` queues it again.
    Failed,
}

/// A message of the outbox.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NotificationView {
    id: Uuid,
    /// `issued`, `revoked` or `sign_in`.
    kind: String,
    person_id: Uuid,
    #[schema(required)]
    credential_id: Option<Uuid>,
    #[schema(value_type = NotificationStatus)]
    status: String,
    /// Send attempts so far.
    attempts: i32,
    /// When it is (next) due.
    next_attempt_at: DateTime<Utc>,
    /// The latest failure: the mail server's code and words.
    #[schema(required)]
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    #[schema(required)]
    sent_at: Option<DateTime<Utc>>,
    /// Its `Message-ID` header.
    message_id: String,
}

/// A page of messages.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NotificationList {
    items: Vec<NotificationView>,
    #[schema(required)]
    next_cursor: Option<String>,
}

fn view(state: &AppState, m: &OutboxMessage) -> Value {
    let host = crate::mail::sender::host_of(state.issuer.base());
    json!({
        "id": m.id, "kind": m.kind, "person_id": m.person_id, "credential_id": m.credential_id,
        "status": m.status, "attempts": m.attempts, "next_attempt_at": m.next_attempt_at,
        "last_error": m.last_error, "created_at": m.created_at, "sent_at": m.sent_at,
        "message_id": crate::mail::sender::message_id(m.id, &host),
    })
}

/// The holder mail outbox, newest first: queued, sent and failed messages.
#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    tag = "admin",
    security(("bearer" = ["read"])),
    params(NotificationQuery),
    responses(
        (status = 200, description = "A page; follow `next_cursor`.", body = NotificationList),
        crate::openapi::BadQuery, crate::openapi::AuthErrors,
    ),
)]
async fn list_notifications(
    State(state): State<AppState>,
    _auth: Auth<scope::Read>,
    query: Result<Query<NotificationQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Value>> {
    let q = super::extract::list_query(query)?;
    let limit = super::extract::page_limit(q.limit.as_deref(), 200)?;
    if let Some(s) = &q.status {
        if !["queued", "sent", "failed"].contains(&s.as_str()) {
            return Err(AppError::BadRequest(
                "status must be queued, sent or failed".into(),
            ));
        }
    }
    let person_id = q
        .person
        .as_deref()
        .map(|p| {
            Uuid::parse_str(p).map_err(|_| AppError::BadRequest("person must be a UUID".into()))
        })
        .transpose()?;
    let filter = MessageFilter {
        status: q.status,
        person_id,
        after: q
            .cursor
            .as_deref()
            .map(super::extract::decode_time_cursor)
            .transpose()?,
        limit: limit + 1,
    };
    let mut rows = state.store.list_messages(&filter).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = more
        .then(|| rows.last())
        .flatten()
        .map(|m| super::extract::encode_time_cursor(m.created_at, m.id));
    let items: Vec<Value> = rows.iter().map(|m| view(&state, m)).collect();
    Ok(Json(json!({"items": items, "next_cursor": next})))
}

/// Queues a failed message again, with a fresh count of attempts. A message that has not
/// failed is answered as it is (a retry of a retry changes nothing).
#[utoipa::path(
    post,
    path = "/api/v1/notifications/{id}/retry",
    tag = "admin",
    security(("bearer" = ["issue"])),
    params(("id" = Uuid, Path, description = "The message's id.")),
    responses(
        (status = 200, description = "The message as it now is.", body = NotificationView),
        crate::openapi::AuthErrors, crate::openapi::NotFound,
    ),
)]
async fn retry_notification(
    State(state): State<AppState>,
    _auth: Auth<scope::Issue>,
    AppPath(id): AppPath<String>,
) -> AppResult<Json<Value>> {
    let id = path_id("notification", &id)?;
    let m = state
        .store
        .retry_message(id, crate::program::now())
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no notification with id {id}")))?;
    state.outbox.wake();
    Ok(Json(view(&state, &m)))
}
