//! Request extractors that answer bad input in the service's own problem+json format:
//! JSON bodies (415/413/400/422 naming the field), path parameters (404) and the admin
//! bearer token with the scope a route needs (401, 403).

use std::marker::PhantomData;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::db::ApiToken;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tokens::{self, Presented};

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

/// Path parameters, for every route that has them. A segment that is not UTF-8 once
/// percent-decoded (`/credentials/%FF`) names nothing this service has, so it is a 404
/// problem like a malformed id, rather than axum's `400 text/plain`.
pub struct AppPath<T>(pub T);

impl<S, T> FromRequestParts<S> for AppPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(AppPath(value)),
            // axum answers 5xx for a handler that asks for parameters its route lacks: a bug.
            Err(PathRejection::FailedToDeserializePathParams(e))
                if e.status().is_client_error() =>
            {
                Err(AppError::NotFound(match e.kind() {
                    ErrorKind::InvalidUtf8InPathParam { key } => format!(
                        "no such resource: the {key} in the path is not UTF-8 text once \
                         percent-decoded"
                    ),
                    _ => format!("no such resource: {}", e.body_text()),
                }))
            }
            Err(e) => Err(AppError::Internal(anyhow::anyhow!(
                "path parameters: {}",
                e.body_text()
            ))),
        }
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

/// The result of checking a request's bearer token. The admin router's authentication layer
/// (`audit::authenticate_admin`) computes it once per request (the audit log records who
/// called) and leaves it in the request's extensions for [`Auth`].
#[derive(Debug, Clone)]
pub enum Authentication {
    /// A known, unexpired, unrevoked token whose secret matched.
    Valid(Arc<ApiToken>),
    /// Not authenticated (401): why, and the token when its secret matched but it is
    /// expired or revoked (the audit log names it).
    Refused {
        /// What is wrong, for the problem detail.
        detail: &'static str,
        /// The token whose secret matched, if one did.
        token: Option<Arc<ApiToken>>,
    },
}

/// Compared against when no token has the presented id (never equal to a hex digest), so
/// an unknown id and a wrong secret take the same path.
const NO_HASH: &str = "----------------------------------------------------------------";

/// The credentials of an `Authorization` value whose scheme is `Bearer`. Schemes are
/// case-insensitive (RFC 9110 §11.1), so `bearer` and `BEARER` are the same scheme; one or
/// more spaces separate it from the token.
fn bearer_credentials(value: &str) -> Option<&str> {
    let (scheme, rest) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

/// Checks the `Authorization: Bearer` header: finds the token by its public id and
/// compares SHA-256 of the secret with the stored hash in constant time. `Err` only when
/// the store fails.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> AppResult<Authentication> {
    let refused = |detail| Authentication::Refused {
        detail,
        token: None,
    };
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(refused("missing Authorization: Bearer token"));
    };
    let Some(presented) = value
        .to_str()
        .ok()
        .and_then(bearer_credentials)
        .filter(|s| !s.is_empty())
    else {
        return Ok(refused("Authorization must be `Bearer <token>`"));
    };
    let (token, matched) = match tokens::parse(presented) {
        None => {
            return Ok(refused(
                "the token's format is wrong: expected pb_<id>_<secret>, as `token create` \
                 prints it",
            ))
        }
        Some(Presented::Current { public_id, secret }) => {
            let token = state.store.token_by_public_id(public_id).await?;
            let hash = token.as_ref().map_or(NO_HASH, |t| t.token_hash.as_str());
            let matched = tokens::secret_matches(secret, hash);
            (token, matched)
        }
        // Made before public ids: the hash of the whole token is the lookup key.
        Some(Presented::Legacy(whole)) => {
            let token = state
                .store
                .token_by_hash(&tokens::sha256_hex(whole))
                .await?;
            let matched = token.is_some();
            (token, matched)
        }
    };
    let Some(token) = token.filter(|_| matched) else {
        return Ok(refused("unknown token"));
    };
    let token = Arc::new(token);
    Ok(match tokens::usable_at(&token, crate::program::now()) {
        Ok(()) => Authentication::Valid(token),
        Err(detail) => Authentication::Refused {
            detail,
            token: Some(token),
        },
    })
}

/// The scope a route needs, as a type: handlers take `Auth<scope::Issue>` and so on, so
/// each route's requirement is in its signature.
pub mod scope {
    use crate::tokens::Scope;

    /// A scope marker.
    pub trait Required: Send + Sync + 'static {
        /// The scope it stands for.
        const SCOPE: Scope;
    }

    /// Needs the `read` scope (the admin API's `GET` routes).
    pub struct Read;
    /// Needs the `issue` scope (records and issuing).
    pub struct Issue;
    /// Needs the `revoke` scope (revoking credentials).
    pub struct Revoke;
    /// Needs the `admin` scope (tokens and the audit log).
    pub struct Admin;

    impl Required for Read {
        const SCOPE: Scope = Scope::Read;
    }
    impl Required for Issue {
        const SCOPE: Scope = Scope::Issue;
    }
    impl Required for Revoke {
        const SCOPE: Scope = Scope::Revoke;
    }
    impl Required for Admin {
        const SCOPE: Scope = Scope::Admin;
    }
}

/// An authenticated caller whose token holds the scope `S` (or `admin`): 401 without a
/// usable token, 403 naming the scope when the token lacks it.
#[derive(Debug, Clone)]
pub struct Auth<S> {
    /// The token used.
    pub token: Arc<ApiToken>,
    _scope: PhantomData<fn() -> S>,
}

impl<S: scope::Required> FromRequestParts<AppState> for Auth<S> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        // The admin authentication layer has checked the token already; without it, here.
        let outcome = match parts.extensions.get::<Authentication>() {
            Some(done) => done.clone(),
            None => authenticate(state, &parts.headers).await?,
        };
        let token = match outcome {
            Authentication::Valid(token) => token,
            Authentication::Refused { detail, .. } => {
                return Err(AppError::Unauthorized(detail.to_owned()))
            }
        };
        if !token.scopes.allows(S::SCOPE) {
            return Err(AppError::Forbidden(format!(
                "this request needs a token with the `{}` scope; this token has: {}",
                S::SCOPE,
                token.scopes
            )));
        }
        Ok(Auth {
            token,
            _scope: PhantomData,
        })
    }
}

/// A list query's `query` parameters, or a 400 saying what is wrong with them.
pub fn list_query<T>(
    query: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, AppError> {
    query
        .map(|q| q.0)
        .map_err(|e| AppError::BadRequest(format!("bad query: {}", e.body_text())))
}

/// A page size: `limit` from 1 to `max`, 50 when absent; a 400 otherwise.
pub fn page_limit(limit: Option<&str>, max: i64) -> Result<i64, AppError> {
    match limit {
        None => Ok(50.min(max)),
        Some(l) => match l.parse::<i64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(AppError::BadRequest(format!(
                "limit must be an integer from 1 to {max}"
            ))),
        },
    }
}

const CURSOR_B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The cursor of a list ordered by (time, id), newest first: opaque to clients.
pub fn encode_time_cursor(t: chrono::DateTime<chrono::Utc>, id: uuid::Uuid) -> String {
    use base64::Engine as _;
    CURSOR_B64.encode(format!("{}|{id}", t.to_rfc3339()))
}

/// Reads a cursor [`encode_time_cursor`] made; anything else is a 400.
pub fn decode_time_cursor(
    s: &str,
) -> Result<(chrono::DateTime<chrono::Utc>, uuid::Uuid), AppError> {
    use base64::Engine as _;
    let bad = || AppError::BadRequest("cursor is not one this service returned".into());
    let bytes = CURSOR_B64.decode(s).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (t, id) = text.split_once('|').ok_or_else(bad)?;
    let t = chrono::DateTime::parse_from_rfc3339(t).map_err(|_| bad())?;
    Ok((
        t.with_timezone(&chrono::Utc),
        uuid::Uuid::parse_str(id).map_err(|_| bad())?,
    ))
}
