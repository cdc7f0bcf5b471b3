//! Token management over HTTP (admin scope): list, create (the token is in the answer,
//! once) and revoke. Never shows a secret's hash.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::admin::path_id;
use super::extract::{scope, AppJson, Auth};
use crate::db::ApiToken;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tokens::{self, NewToken, Scopes};

/// The token routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/tokens/{id}/revoke", post(revoke_token))
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateTokenRequest {
    name: String,
    scopes: Vec<String>,
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    expires_in: Option<String>,
}

async fn create_token(
    State(state): State<AppState>,
    _auth: Auth<scope::Admin>,
    AppJson(req): AppJson<CreateTokenRequest>,
) -> AppResult<Response> {
    let scopes = Scopes::parse(req.scopes.iter().map(String::as_str))
        .map_err(|e| AppError::invalid("scopes", e))?;
    let field = if req.expires_at.is_some() {
        "expires_at"
    } else {
        "expires_in"
    };
    let expires_at = tokens::expiry(
        req.expires_in.as_deref(),
        req.expires_at.as_deref(),
        crate::program::now(),
    )
    .map_err(|e| AppError::invalid(field, e))?;
    let created = tokens::create(
        &*state.store,
        NewToken {
            name: req.name,
            scopes,
            expires_at,
        },
    )
    .await?;
    let mut body = token_json(&created.token);
    body["token"] = json!(created.secret);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn revoke_token(
    State(state): State<AppState>,
    _auth: Auth<scope::Admin>,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let id = path_id("token", &id)?;
    let token = state
        .store
        .revoke_token_by_id(id, crate::program::now())
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no token with id {id}")))?;
    Ok(Json(token_json(&token)))
}
