//! HTTP routes: the admin API, the public documents verifiers dereference, and health.

pub mod admin;
pub mod extract;
pub mod public;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::StatusCode;
use axum::Router;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::AppError;
use crate::state::AppState;

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let body_limit = state.settings.max_body_bytes;
    Router::new()
        .merge(admin::router())
        .merge(public::router())
        .fallback(|| async { AppError::NotFound("no such resource".into()) })
        .method_not_allowed_fallback(|| async { MethodNotAllowed })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            // The route template, not the raw path: low cardinality, and no ids or
            // query strings (which could carry personal data) in the span.
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map(MatchedPath::as_str)
                .unwrap_or("unmatched");
            tracing::info_span!("request", method = %req.method(), route)
        }))
        .with_state(state)
}

/// 405 in problem+json.
struct MethodNotAllowed;

impl axum::response::IntoResponse for MethodNotAllowed {
    fn into_response(self) -> axum::response::Response {
        let mut res =
            AppError::BadRequest("method not allowed on this resource".into()).into_response();
        *res.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        res
    }
}
