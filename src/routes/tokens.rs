//! Token management over HTTP (admin scope): list, create (the token is in the answer,
//! once) and revoke. Never shows a secret's hash.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::admin::path_id;
use super::extract::{scope, AppJson, AppPath, Auth};
use crate::db::ApiToken;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tokens;

/// The token routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

/// A token as the API shows it: no secret, no hash.
fn token_json(t: &ApiToken) -> Value {
    let status = match tokens::usable_at(t, crate::program::now()) {
        Ok(()) => "active",
        Err(_) if t.revoked_at.is_some() => "revoked",
        Err(_) => "expired",
    };
    json!({
        "id": t.id, "name": t.name, "scopes": t.scopes,
        // The start of the token string, to match a token someone holds to its entry.
        "prefix": t.public_id.as_ref().map(|p| format!("pb_{p}_")),
        "status": status, "created_at": t.created_at, "expires_at": t.expires_at,
        "revoked_at": t.revoked_at,
    })
}

/// Lists every token, active or not, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    tag = "access",
    security(("bearer" = ["admin"])),
    responses(
        (status = 200, description = "Every token.", body = TokenList),
        crate::openapi::AuthErrors,
    ),
)]
async fn list_tokens(
    State(state): State<AppState>,
    _auth: Auth<scope::Admin>,
) -> AppResult<Json<Value>> {
    let items: Vec<Value> = state
        .store
        .list_tokens()
        .await?
        .iter()
        .map(token_json)
        .collect();
    Ok(Json(json!({ "items": items })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateTokenRequest {
    /// Who or what will use it: 1 to 100 characters once trimmed, no control characters,
    /// something visible, no bidirectional control characters; unique (even once revoked).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]+$"
    )]
    name: String,
    /// What it may do; `admin` allows everything.
    #[schema(value_type = Vec<TokenScope>, min_items = 1)]
    scopes: Vec<String>,
    /// When it stops working (RFC 3339, in the future, at most 100 years ahead); at most one
    /// of this and `expires_in`.
    #[serde(default)]
    #[schema(value_type = Option<chrono::DateTime<chrono::Utc>>)]
    expires_at: Option<String>,
    /// A lifetime such as `90d`, `12h` or `2w`, from 1 hour to ten years.
    #[serde(default)]
    #[schema(pattern = "^[0-9]+[hdw]$")]
    expires_in: Option<String>,
}

/// Creates a token.
///
/// The answer holds the token itself, `pb_<id>_<secret>`: the only time it is shown (only
/// the secret's SHA-256 is stored). Without an expiry it works until revoked.
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    tag = "access",
    security(("bearer" = ["admin"])),
    request_body = CreateTokenRequest,
    responses(
        (status = 201, description = "Created; `token` is shown only this once.",
            body = CreatedToken),
        crate::openapi::AuthErrors, crate::openapi::JsonBodyErrors, crate::openapi::Conflict,
    ),
)]
async fn create_token(
    State(state): State<AppState>,
    _auth: Auth<scope::Admin>,
    AppJson(req): AppJson<CreateTokenRequest>,
) -> AppResult<Response> {
    let new = tokens::request(
        req.name,
        req.scopes.iter().map(String::as_str),
        req.expires_in.as_deref(),
        req.expires_at.as_deref(),
    )?;
    let created = tokens::create(&*state.store, new).await?;
    let mut body = token_json(&created.token);
    body["token"] = json!(created.secret);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Revokes a token.
///
/// Requests with it are refused (401) from then on. Revoking a revoked token answers it
/// unchanged.
#[utoipa::path(
    post,
    path = "/api/v1/tokens/{id}/revoke",
    tag = "access",
    security(("bearer" = ["admin"])),
    params(("id" = uuid::Uuid, Path, description = "The token's id (not its secret).")),
    responses(
        (status = 200, description = "The token, now revoked.", body = TokenView),
        crate::openapi::AuthErrors, crate::openapi::NotFound,
    ),
)]
async fn revoke_token(
    State(state): State<AppState>,
    _auth: Auth<scope::Admin>,
    AppPath(id): AppPath<String>,
) -> AppResult<Json<Value>> {
    let id = path_id("token", &id)?;
    let token = state
        .store
        .revoke_token_by_id(id, crate::program::now())
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no token with id {id}")))?;
    Ok(Json(token_json(&token)))
}

// ---------------------------------------------------------------- schemas
//
// The shapes of answers built with `json!` above, for the OpenAPI document only.

/// A scope a token can hold.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "lowercase")]
pub enum TokenScope {
    /// Record mentors, people and closings; issue credentials.
    Issue,
    /// Revoke credentials.
    Revoke,
    /// Read the admin API (the `GET` operations).
    Read,
    /// Everything, plus tokens and the audit log.
    Admin,
}

/// Whether a token works now.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "lowercase")]
pub enum TokenStatus {
    /// Usable.
    Active,
    /// Revoked (over HTTP or with `token revoke`).
    Revoked,
    /// Past its `expires_at`.
    Expired,
}

/// An API token as the admin API shows it: never its secret, nor the secret's hash.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TokenView {
    id: Uuid,
    name: String,
    scopes: Vec<TokenScope>,
    /// The start of the token string, `pb_<id>_`, to match a token someone holds to its
    /// entry; null for a token made before tokens had a public id.
    #[schema(required)]
    prefix: Option<String>,
    status: TokenStatus,
    created_at: DateTime<Utc>,
    #[schema(required)]
    expires_at: Option<DateTime<Utc>>,
    #[schema(required)]
    revoked_at: Option<DateTime<Utc>>,
}

/// A token just created, with the token string: shown only this once.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CreatedToken {
    #[serde(flatten)]
    view: TokenView,
    /// `pb_<id>_<secret>`, to send as `Authorization: Bearer …`.
    token: String,
}

/// `GET /api/v1/tokens`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TokenList {
    items: Vec<TokenView>,
}
