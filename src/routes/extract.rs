//! Request extractors that answer bad input in the service's own problem+json format:
//! JSON bodies (415/413/400/422 naming the field) and the admin bearer token (401).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

use crate::db::ApiToken;
use crate::error::AppError;
use crate::state::AppState;
use crate::tokens::token_hash;

/// A JSON body; rejections become [`AppError`]s that name what is wrong.
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(AppError::UnsupportedMediaType(
                "the body must be JSON, sent with Content-Type: application/json".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge(
                    "the body is larger than this service accepts (MAX_BODY_BYTES)".into(),
                )
            } else {
                AppError::BadRequest(format!("could not read the body: {e}"))
            }
        })?;
        parse_json(&bytes).map(AppJson)
    }
}

/// Parses JSON: syntax errors are 400, wrong shapes 422 with the path of the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path == "." {
                    None
                } else {
                    Some(path.clone())
                };
                let detail = match &field {
                    Some(f) => format!("{f}: {inner}"),
                    None => inner.to_string(),
                };
                AppError::Unprocessable { detail, field }
            }
            _ => AppError::BadRequest(format!("malformed JSON: {inner}")),
        }
    })?;
    de.end()
        .map_err(|e| AppError::BadRequest(format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// An authenticated admin: the request carried a known, unrevoked bearer token.
#[derive(Debug, Clone)]
pub struct Admin {
    /// The token used.
    pub token: ApiToken,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| AppError::Unauthorized("missing Authorization: Bearer token".into()))?;
        let secret = header
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                AppError::Unauthorized("Authorization must be `Bearer <token>`".into())
            })?;
        // Lookup is by hash: the secret itself is never stored or compared.
        let token = state
            .store
            .token_by_hash(&token_hash(secret))
            .await?
            .ok_or_else(|| AppError::Unauthorized("unknown token".into()))?;
        if token.revoked_at.is_some() {
            return Err(AppError::Unauthorized("token has been revoked".into()));
        }
        Ok(Admin { token })
    }
}
