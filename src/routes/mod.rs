//! HTTP routes: the admin API, the public documents verifiers dereference, the pages people
//! see (HTML on the same URLs, by content negotiation), and health.

pub mod admin;
pub mod audit;
pub mod extract;
pub mod headers;
pub mod health;
pub mod ob2;
pub mod pages;
pub mod public;
pub mod registry;
pub mod tokens;
pub mod verify;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::HeaderName;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::error::AppError;
use crate::limits;
use crate::state::AppState;

/// The request id header, set on every request and response.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let body_limit = state.settings.max_body_bytes;
    // Only the admin API and POST /verify (see `verify::router`) read bodies; each is bounded
    // (413 problem+json, with or without Content-Length) before anything else reads it. There
    // the bound replaces `DefaultBodyLimit` (disabled inside it): one limit on a body, not two
    // nested ones, whose error axum would no longer recognise as "too large". Elsewhere
    // `DefaultBodyLimit` stays.
    let admin_body = move |req, next| limits::body_limit(body_limit, req, next);
    Router::new()
        // Admin writes mark the registry cache dirty (only there: public reads skip it).
        // From the outside in: the audit layer records every request with its final status;
        // a client with too many failed authentications is then refused (429, recorded)
        // before its token is looked at; only past that is the token checked (401 here).
        .merge(
            admin::router()
                .merge(tokens::router())
                .merge(audit::router())
                .layer(DefaultBodyLimit::disable())
                .layer(from_fn_with_state(state.clone(), registry::note_writes))
                .layer(from_fn(admin_body))
                .layer(from_fn_with_state(state.clone(), audit::authenticate_admin))
                .layer(from_fn_with_state(
                    state.clone(),
                    limits::admin_auth_failures,
                ))
                .layer(from_fn_with_state(state.clone(), audit::record_admin)),
        )
        // The documents verifiers dereference may be read from any origin.
        .merge(public::router().layer(from_fn(headers::public_cors)))
        .merge(registry::router(&state.settings))
        .merge(pages::router().layer(from_fn(headers::public_cors)))
        .merge(
            verify::router(&state.settings)
                .layer(from_fn_with_state(state.clone(), limits::verify_rate)),
        )
        .merge(ob2::router().layer(from_fn(headers::public_cors)))
        .merge(health::router())
        .merge(crate::openapi::router())
        .fallback(|headers: axum::http::HeaderMap| async move {
            crate::html::error(&headers, AppError::NotFound("no such resource".into()))
        })
        .method_not_allowed_fallback(|| async { MethodNotAllowed })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(from_fn_with_state(state.clone(), limits::timeout))
        .layer(from_fn(headers::security))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            health::record,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            // The route template, not the raw path: low cardinality, and no ids or
            // query strings (which could carry personal data) in the span.
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map(MatchedPath::as_str)
                .unwrap_or("unmatched");
            let request_id = req
                .headers()
                .get(REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            tracing::info_span!("request", method = %req.method(), route, request_id)
        }))
        // Outermost: every request gets an id (or keeps a sane one it brought), echoed in
        // the response and recorded in the request span.
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// 405 in problem+json; the method router adds the `Allow` header listing the methods
/// the path serves.
struct MethodNotAllowed;

impl axum::response::IntoResponse for MethodNotAllowed {
    fn into_response(self) -> axum::response::Response {
        AppError::MethodNotAllowed(
            "this resource does not answer this method; the Allow header lists the ones it does"
                .into(),
        )
        .into_response()
    }
}
