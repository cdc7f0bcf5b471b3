//! The audit layer on every admin route, and `GET /api/v1/audit` (admin scope) to read
//! the log: newest first, cursor-paged, filtered by token, action or time.

use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{authenticate, scope, Auth, Authentication};
use crate::db::{ApiToken, AuditEntry, AuditFilter, AuditRecord};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The audit log route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(list_audit))
}

/// The token an admin request authenticated with (also an expired or revoked one whose
/// secret matched), handed by [`authenticate_admin`] to [`record_admin`] on the response.
/// Absent when the token was never looked at (a client locked out by
/// [`crate::limits::admin_auth_failures`]).
#[derive(Clone)]
struct AuditedToken(Option<Arc<ApiToken>>);

/// Outermost middleware of the admin router: records every request, refused ones included
/// (401, 403, and the 429 of a locked-out client): who, method and route template, target
/// id, status, request id. Never the secret or the body. Who it was comes from
/// [`authenticate_admin`], further in, so a locked-out client's token is never looked up.
pub async fn record_admin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (action, target, request_id) = crate::audit::request_facts(&req);
    let mut res = next.run(req).await;
    let who = res
        .extensions_mut()
        .remove::<AuditedToken>()
        .and_then(|t| t.0);
    let entry = AuditEntry {
        at: crate::program::now(),
        token_id: who.as_ref().map(|t| t.id),
        token_name: who.as_ref().map(|t| t.name.clone()),
        action,
        target,
        status: res.status().as_u16(),
        request_id,
        staff_id: None,
        staff_email: None,
    };
    // The action has happened (or was refused); failing the response now would tell the
    // client otherwise, so a lost entry is logged loudly instead.
    let (action, status) = (entry.action.clone(), entry.status);
    if let Err(e) = state.audit.record(entry).await {
        tracing::error!(error = %e, action = %action, status, "could not write the audit log");
    }
    res
}

/// Middleware inside the failed-authentication limit: checks the bearer token once (401
/// here, before any handler or body parsing), hands the result to the handler's `Auth`
/// extractor, and names the token to [`record_admin`].
pub async fn authenticate_admin(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let (who, mut res) = match authenticate(&state, req.headers()).await {
        Ok(Authentication::Valid(token)) => {
            req.extensions_mut()
                .insert(Authentication::Valid(token.clone()));
            (Some(token), next.run(req).await)
        }
        Ok(Authentication::Refused { detail, token }) => (
            token,
            AppError::Unauthorized(detail.to_owned()).into_response(),
        ),
        Err(e) => (None, e.into_response()),
    };
    res.extensions_mut().insert(AuditedToken(who));
    res
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// Only requests made with this token: its id, or its name.
    #[param(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]+$"
    )]
    pub(crate) token: Option<String>,
    /// Only console actions of the staff member with this email.
    #[param(
        min_length = 3,
        max_length = 254,
        pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]+$"
    )]
    pub(crate) staff: Option<String>,
    /// Only requests about this record: the id in the path (a credential, person,
    /// closing…).
    #[param(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]+$"
    )]
    pub(crate) target: Option<String>,
    /// Only this action: the method and route template, like `POST /api/v1/credentials`.
    #[param(max_length = 300, pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$")]
    pub(crate) action: Option<String>,
    /// Only entries at or after this time (RFC 3339, from 1900-01-01T00:00:00Z to
    /// 9999-12-31T23:59:59Z in UTC).
    #[param(value_type = Option<DateTime<Utc>>)]
    pub(crate) since: Option<String>,
    /// The `next_cursor` of the previous page.
    pub(crate) cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub(crate) limit: Option<String>,
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn decode_cursor(s: &str) -> AppResult<i64> {
    let bad = || AppError::BadRequest("cursor is not one this service returned".into());
    let text = String::from_utf8(B64.decode(s).map_err(|_| bad())?).map_err(|_| bad())?;
    text.strip_prefix("audit:")
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(bad)
}

fn entry_json(r: &AuditRecord) -> Value {
    let e = &r.entry;
    let token = match (e.token_id, &e.token_name) {
        (Some(id), Some(name)) => json!({"id": id, "name": name}),
        (Some(id), None) => json!({"id": id, "name": null}),
        _ => Value::Null,
    };
    let staff = match (e.staff_id, &e.staff_email) {
        (Some(id), email) => json!({"id": id, "email": email}),
        _ => Value::Null,
    };
    json!({
        "id": r.id, "at": e.at, "token": token, "staff": staff, "action": e.action,
        "target": e.target, "status": e.status, "request_id": e.request_id,
    })
}

/// Longest `since` accepted: the end of year 9999, the last an `xsd:dateTime` or a stored
/// time can name (past it the backends would compare `+10000-…` as text, or not at all).
const LATEST_SINCE: &str = "9999-12-31T23:59:59Z";

/// The `since` filter: RFC 3339, from 1900-01-01 (`program::EARLIEST_DATE`, before any entry)
/// to the end of 9999, judged in UTC; a 400 otherwise.
fn since(raw: &str) -> AppResult<DateTime<Utc>> {
    let earliest = crate::program::earliest_time();
    let latest: DateTime<Utc> = LATEST_SINCE.parse().expect("a valid time");
    let bad = || {
        AppError::BadRequest(format!(
            "since must be an RFC 3339 time from {} to {LATEST_SINCE}",
            crate::program::format_time(earliest)
        ))
    };
    let t = DateTime::parse_from_rfc3339(raw)
        .map_err(|_| bad())?
        .with_timezone(&Utc);
    if t < earliest || t > latest {
        return Err(bad());
    }
    Ok(t)
}

/// The filter and page size of `GET /api/v1/audit` (and the console's audit page).
pub(crate) fn audit_filter(q: AuditQuery) -> AppResult<(AuditFilter, i64)> {
    let limit = super::extract::page_limit(q.limit.as_deref(), 500)?;
    // PostgreSQL compares no text holding a NUL, and no token name or action holds any.
    for (field, value) in [
        ("token", &q.token),
        ("staff", &q.staff),
        ("target", &q.target),
        ("action", &q.action),
    ] {
        if value
            .as_ref()
            .is_some_and(|v| v.chars().any(char::is_control))
        {
            return Err(AppError::BadRequest(format!(
                "{field} must not contain control characters"
            )));
        }
    }
    let (token_id, token_name) = match q.token.as_deref().map(str::trim) {
        None => (None, None),
        Some("") => return Err(AppError::BadRequest("token must not be empty".into())),
        Some(t) => match Uuid::parse_str(t) {
            Ok(id) => (Some(id), None),
            Err(_) if t.chars().count() <= 100 => (None, Some(t.to_owned())),
            Err(_) => {
                return Err(AppError::BadRequest(
                    "token must be a token id or name (at most 100 characters)".into(),
                ))
            }
        },
    };
    if q.action.as_ref().is_some_and(|a| a.chars().count() > 300) {
        return Err(AppError::BadRequest(
            "action is at most 300 characters, like `POST /api/v1/credentials`".into(),
        ));
    }
    for (field, value) in [("staff", &q.staff), ("target", &q.target)] {
        if value.as_ref().is_some_and(|v| v.trim().is_empty()) {
            return Err(AppError::BadRequest(format!("{field} must not be empty")));
        }
    }
    if q.staff.as_ref().is_some_and(|s| s.chars().count() > 254)
        || q.target.as_ref().is_some_and(|t| t.chars().count() > 100)
    {
        return Err(AppError::BadRequest(
            "staff is at most 254 characters and target at most 100".into(),
        ));
    }
    let since = q.since.as_deref().map(since).transpose()?;
    let filter = AuditFilter {
        token_id,
        token_name,
        staff_email: q.staff.as_deref().map(crate::program::normalise_email),
        target: q.target,
        action: q.action,
        since,
        before: q.cursor.as_deref().map(decode_cursor).transpose()?,
        limit: limit + 1,
    };
    Ok((filter, limit))
}

/// A page of the log (one more row than `limit` when there is a next) and its cursor.
pub(crate) fn audit_page(
    mut rows: Vec<AuditRecord>,
    limit: i64,
) -> (Vec<AuditRecord>, Option<String>) {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(|r| B64.encode(format!("audit:{}", r.id)))
    } else {
        None
    };
    (rows, next)
}

/// Reads the audit log.
///
/// Every request to the admin API, refused ones included, newest first, a page at a time:
/// the token used, the route, the target id and the status.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "access",
    security(("bearer" = ["admin"])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page; follow `next_cursor`.",
            body = AuditPage),
        crate::openapi::BadQuery, crate::openapi::AuthErrors,
    ),
)]
async fn list_audit(
    State(state): State<AppState>,
    _auth: Auth<scope::Admin>,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Value>> {
    let (filter, limit) = audit_filter(super::extract::list_query(query)?)?;
    let rows = state.store.list_audit(&filter).await?;
    let (rows, next) = audit_page(rows, limit);
    let items: Vec<Value> = rows.iter().map(entry_json).collect();
    Ok(Json(json!({"items": items, "next_cursor": next})))
}
// ---------------------------------------------------------------- schemas
//
// The shapes of answers built with `json!` above, for the OpenAPI document only.

/// The token an audit entry names.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AuditToken {
    id: Uuid,
    /// Its name when the request was made.
    #[schema(required)]
    name: Option<String>,
}

/// The staff member an audit entry names.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AuditStaff {
    id: Uuid,
    /// Their email when the action was taken.
    #[schema(required)]
    email: Option<String>,
}

/// One request to the admin API, as the audit log keeps it (never a secret or a body).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AuditEntryView {
    /// Increases with every entry; the list is newest first.
    id: i64,
    at: DateTime<Utc>,
    /// The token whose secret matched (also when it was expired or revoked, and the
    /// request refused); null when none did.
    #[schema(required)]
    token: Option<AuditToken>,
    /// The staff member behind a console action; null for API requests.
    #[schema(required)]
    staff: Option<AuditStaff>,
    /// The method and route template, like `POST /api/v1/credentials/{id}/revoke`.
    action: String,
    /// The id in the path, for routes that have one.
    #[schema(required)]
    target: Option<String>,
    /// The HTTP status of the answer.
    #[schema(minimum = 100, maximum = 599)]
    status: u16,
    /// The id this service gave the request (the `x-request-id` of its answer; a client's
    /// own `x-request-id` is never used).
    #[schema(required)]
    request_id: Option<String>,
}

/// A page of `GET /api/v1/audit`, newest first.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AuditPage {
    items: Vec<AuditEntryView>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(required)]
    next_cursor: Option<String>,
}
