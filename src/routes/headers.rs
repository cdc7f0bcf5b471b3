//! Response headers every answer gets, and CORS for the public documents only.
//!
//! [`security`] runs on every route: `X-Content-Type-Options: nosniff` everywhere, and no
//! framing (`X-Frame-Options: DENY`, and `frame-ancestors 'none'` where a response has no
//! content security policy of its own) except on `/registry/embed`, which exists to be framed
//! and carries its own `frame-ancestors` from `REGISTRY_FRAME_ANCESTORS`. It also removes
//! CORS headers wherever they do not belong, whatever set them: on the admin API, on any
//! method but GET and HEAD, and on preflights asking for another method.
//!
//! [`public_cors`] is layered on the public document routes (the issuer, keys, achievements,
//! credentials, closings, status lists, OB 2.0 documents): `Access-Control-Allow-Origin: *`
//! on GET and HEAD, so verifiers running in browsers can dereference them. These are simple
//! requests (no credentials, safelisted headers), so no preflight is needed; the registry
//! feeds have their own CORS layer with configurable origins and preflights.

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;

/// The one page that may be framed (by the sites `REGISTRY_FRAME_ANCESTORS` names).
pub const EMBED_PATH: &str = "/registry/embed";

/// The policy of responses that bring none: never framed.
const NO_FRAMING_CSP: &str = "frame-ancestors 'none'";

/// Adds the headers every response carries and strips misplaced CORS headers.
pub async fn security(req: Request, next: Next) -> Response {
    let framable = req.uri().path() == EMBED_PATH;
    let cors_allowed = cors_allowed(req.method(), req.uri().path(), req.headers());
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !framable {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        // Pages and SVGs bring a full policy with `frame-ancestors 'none'`; the rest get this.
        if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(NO_FRAMING_CSP),
            );
        }
    }
    if !cors_allowed {
        strip_cors(h);
    }
    res
}

/// Whether a response to this request may carry CORS headers: reads (GET, HEAD, and
/// preflights for them) outside the admin API.
fn cors_allowed(method: &Method, path: &str, headers: &HeaderMap) -> bool {
    if path == "/api" || path.starts_with("/api/") {
        return false;
    }
    match *method {
        Method::GET | Method::HEAD => true,
        Method::OPTIONS => headers
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .is_some_and(|m| m == "GET" || m == "HEAD"),
        _ => false,
    }
}

fn strip_cors(h: &mut HeaderMap) {
    let names: Vec<_> = h
        .keys()
        .filter(|k| k.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for name in names {
        h.remove(name);
    }
}

/// `Access-Control-Allow-Origin: *` on GET and HEAD answers of public documents.
pub async fn public_cors(req: Request, next: Next) -> Response {
    let read = matches!(*req.method(), Method::GET | Method::HEAD);
    let mut res = next.run(req).await;
    if read {
        let h = res.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        // Conditional requests from scripts need the validators.
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("ETag, Last-Modified"),
        );
    }
    res
}
