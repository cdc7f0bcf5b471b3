//! HTTP routes: the admin API, the public documents verifiers dereference, the pages people
//! see (HTML on the same URLs, by content negotiation), and health.

pub mod admin;
pub mod audit;
pub mod console;
pub mod extract;
pub mod forms;
pub mod headers;
pub mod health;
pub mod me;
pub mod notifications;
pub mod ob2;
pub mod pages;
pub mod public;
pub mod registry;
pub mod stats;
pub mod tokens;
pub mod verify;
pub mod wallet;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::HeaderName;
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::Response;
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;

use crate::error::AppError;
use crate::limits;
use crate::state::AppState;

/// The request id header, set on every request and response.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest client request id kept for the log, in characters.
const MAX_CLIENT_REQUEST_ID: usize = 64;

/// The `x-request-id` a client sent, kept apart from ours: only logged (the request span's
/// `client_request_id`), never echoed, never stored as the request's id.
#[derive(Debug, Clone)]
struct ClientRequestId(String);

/// A client's request id as logged: at most [`MAX_CLIENT_REQUEST_ID`] characters from a
/// conservative set (letters, digits, `-_.:/+=@`), others dropped, so it cannot forge log
/// fields or flood the log. `None` when nothing is left.
fn client_request_id(raw: &[u8]) -> Option<String> {
    let kept: String = raw
        .iter()
        .map(|&b| char::from(b))
        .filter(|c| c.is_ascii_alphanumeric() || "-_.:/+=@".contains(*c))
        .take(MAX_CLIENT_REQUEST_ID)
        .collect();
    (!kept.is_empty()).then_some(kept)
}

/// Outermost middleware: moves the client's `x-request-id` (all of them) out of the
/// headers, so the request id layer always makes our own. A client choosing our id could
/// otherwise reuse another request's, or plant a misleading one in the audit log.
async fn set_aside_client_request_id(mut req: Request, next: Next) -> Response {
    let mut sent = None;
    while let Some(value) = req.headers_mut().remove(REQUEST_ID) {
        sent.get_or_insert(value);
    }
    if let Some(id) = sent.and_then(|v| client_request_id(v.as_bytes())) {
        req.extensions_mut().insert(ClientRequestId(id));
    }
    next.run(req).await
}

/// The largest body the wallet's exchange routes read (64 KiB).
pub const WALLET_BODY_LIMIT: usize = 64 * 1024;

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let body_limit = state.settings.max_body_bytes;
    // The admin API and POST /verify (see `verify::router`) read the large bodies; each is
    // bounded (413 problem+json, with or without Content-Length) before anything else reads it. There
    // the bound replaces `DefaultBodyLimit` (disabled inside it): one limit on a body, not two
    // nested ones, whose error axum would no longer recognise as "too large". Elsewhere
    // `DefaultBodyLimit` stays.
    let admin_body = move |req, next| limits::body_limit(body_limit, req, next);
    // Each module's routes come with their documentation (`utoipa_axum`); the merged
    // document is split off for `/openapi.json`, and the rest is a plain router.
    let (documented, paths) = OpenApiRouter::default()
        // Admin writes mark the registry cache dirty (only there: public reads skip it).
        // From the outside in: the audit layer records every request with its final status;
        // a client with too many failed authentications is then refused (429, recorded)
        // before its token is looked at; only past that is the token checked (401 here).
        .merge(
            admin::router()
                .merge(tokens::router())
                .merge(audit::router())
                .merge(notifications::router())
                .merge(wallet::admin_router())
                .merge(stats::router())
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
        .merge(me::router())
        // A DIDAuth presentation is about 1.5 KB: the wallet's routes take far less than
        // the general limit before any JSON-LD work.
        .merge(wallet::router().layer(DefaultBodyLimit::max(WALLET_BODY_LIMIT)))
        .merge(health::router())
        .split_for_parts();
    documented
        .merge(crate::openapi::router(paths))
        // Pages for people, not API: outside the OpenAPI document.
        .merge(console::router(&state))
        .merge(console::home_router())
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
            let client_request_id = req
                .extensions()
                .get::<ClientRequestId>()
                .map_or("", |c| c.0.as_str());
            tracing::info_span!(
                "request",
                method = %req.method(),
                route,
                request_id,
                client_request_id
            )
        }))
        // Every request gets an id of ours, echoed in the response, recorded in the request
        // span and the audit log. Outermost, the client's own id is set aside first.
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(from_fn(set_aside_client_request_id))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_request_ids_are_bounded_and_sanitised() {
        assert_eq!(
            client_request_id(b"trace-me-42").as_deref(),
            Some("trace-me-42")
        );
        assert_eq!(
            client_request_id(b"a b\"c\\d=e\r\nf\x1b[31m").as_deref(),
            Some("abcd=ef31m")
        );
        assert_eq!(client_request_id("\u{e9}\u{200b}".as_bytes()), None);
        assert_eq!(client_request_id(b"  "), None);
        let long = "x".repeat(1000);
        assert_eq!(
            client_request_id(long.as_bytes()).unwrap().len(),
            MAX_CLIENT_REQUEST_ID
        );
    }
}
