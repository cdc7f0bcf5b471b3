//! One error type for the HTTP layer, rendered as RFC 9457 `application/problem+json`.
//!
//! Client errors carry a `detail` that names the field or rule at fault. Server errors are
//! logged with their cause and answered with a generic detail, so internals never leak.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::db::{Constraint, DbError};

/// Result alias for handlers and program rules.
pub type AppResult<T, E = AppError> = std::result::Result<T, E>;

/// Everything a request can fail with. Each variant's doc names its status.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the body is not valid JSON, or a query or header is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no bearer token, or one that is unknown, expired or revoked.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the token is valid but lacks the scope the route needs.
    #[error("{0}")]
    Forbidden(String),
    /// 404: the named resource does not exist.
    #[error("{0}")]
    NotFound(String),
    /// 405: the resource exists but does not answer this method (axum adds `Allow`).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 410: the resource existed and is gone for good (a used or expired sign-in link).
    #[error("{0}")]
    Gone(String),
    /// 409: the request conflicts with what is stored (a duplicate badge, a reused key).
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is larger than the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 415: the body is not `application/json`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: well-formed input that breaks a field rule or a program rule.
    #[error("{detail}")]
    Unprocessable {
        /// What is wrong.
        detail: String,
        /// The field at fault, if one.
        field: Option<String>,
    },
    /// 408: the request body did not arrive within the request timeout.
    #[error("{0}")]
    RequestTimeout(String),
    /// 429: the client went over a rate limit; it may retry after `retry_after_secs`.
    #[error("{detail}")]
    TooManyRequests {
        /// Which limit was hit.
        detail: String,
        /// Seconds until a retry can succeed (the `Retry-After` header).
        retry_after_secs: u64,
    },
    /// 503: the service cannot answer now (too slow, or its database is unreachable);
    /// retrying later may work.
    #[error("{0}")]
    Unavailable(String),
    /// 500: a bug or an unavailable dependency; the cause is logged, not sent.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// A 422 naming the field at fault.
    pub fn invalid(field: &str, detail: impl Into<String>) -> Self {
        AppError::Unprocessable {
            detail: detail.into(),
            field: Some(field.to_owned()),
        }
    }

    /// A 422 for a broken program rule (not tied to one field).
    pub fn rule(detail: impl Into<String>) -> Self {
        AppError::Unprocessable {
            detail: detail.into(),
            field: None,
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Gone(_) => StatusCode::GONE,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => AppError::NotFound("not found".into()),
            DbError::Conflict(c) => AppError::Conflict(
                match c {
                    Constraint::ClosedPerClosing => {
                        "rule: this closing already has an active Partnership Closed badge"
                    }
                    Constraint::CertifiedPerPerson => {
                        "rule: this person already has an active Partnership Certified badge"
                    }
                    Constraint::IdempotencyKey => {
                        "Idempotency-Key was already used with a different request"
                    }
                    Constraint::StatusIndex => "status list index collision; retry the request",
                    Constraint::TokenName => "a token with this name already exists",
                    Constraint::PersonEmail => {
                        "a person with this email already exists; people are identified by email"
                    }
                    Constraint::MentorEmail => {
                        "a mentor with this email already exists; mentors are identified by email"
                    }
                    Constraint::StaffEmail => "a staff account with this email already exists",
                    Constraint::Other => "conflicts with a stored record",
                }
                .to_owned(),
            ),
            DbError::Contention(e) => {
                tracing::warn!(error = %e, "a write kept losing races with other instances");
                AppError::Unavailable("the database is busy; retry shortly".into())
            }
            DbError::Other(e) => AppError::Internal(e),
        }
    }
}

/// `Retry-After` of a 503: long enough for a passing overload to clear.
const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

/// The problem+json body (RFC 9457) of every error.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem<'a> {
    /// Always `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    kind: &'a str,
    /// The status's reason phrase.
    title: &'a str,
    /// The HTTP status.
    #[schema(minimum = 400, maximum = 599)]
    status: u16,
    /// What is wrong, naming the field or rule at fault.
    detail: String,
    /// The field at fault (on some 422s).
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let detail = match &self {
            AppError::Internal(e) => {
                // The cause goes to the log inside the request span; the client gets no internals.
                tracing::error!(error = ?e, "internal error");
                "internal error; the server log has the details".to_owned()
            }
            other => other.to_string(),
        };
        let field = match &self {
            AppError::Unprocessable { field, .. } => field.as_deref(),
            _ => None,
        };
        let body = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail,
            field,
        };
        let retry_after = match &self {
            AppError::TooManyRequests {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            AppError::Unavailable(_) => Some(UNAVAILABLE_RETRY_AFTER_SECS),
            _ => None,
        };
        let mut res = (status, axum::Json(body)).into_response();
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"partnership-badges\""),
            );
        }
        res
    }
}
