//! Conditional answers: every registry answer comes from [`crate::registry::cache`] while
//! the registry is unchanged, with a strong `ETag`, `Last-Modified` and `304 Not Modified`.

use std::future::Future;
use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use crate::error::AppResult;
use crate::registry::cache::{Cached, Generation};
use crate::state::AppState;

/// Revalidate every time: cheap with the ETag, and a revoked person never lingers.
const CACHE_CONTROL: &str = "public, no-cache";

/// `Tue, 15 Nov 1994 08:12:31 GMT`.
fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Whether the request's validators match (RFC 9110 §13.1: `If-None-Match` wins; weak
/// comparison; `If-Modified-Since` only without it).
fn not_modified(headers: &HeaderMap, etag: &str, last_modified: DateTime<Utc>) -> bool {
    if let Some(inm) = headers.get(header::IF_NONE_MATCH) {
        let Ok(inm) = inm.to_str() else { return false };
        return inm
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag);
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
        .is_some_and(|since| last_modified <= since.with_timezone(&Utc))
}

/// Looks `key` up in the cache, building and storing it on a miss, and answers it (or 304).
pub(super) async fn cached<F, Fut>(
    state: &AppState,
    headers: &HeaderMap,
    key: String,
    content_type: &'static str,
    build: F,
) -> AppResult<Response>
where
    F: FnOnce(Generation) -> Fut,
    Fut: Future<Output = AppResult<String>>,
{
    let generation = state.registry.current(&*state.store).await?;
    let doc = match state.registry.get(generation, &key) {
        Some(doc) => doc,
        None => {
            let doc = Arc::new(Cached::new(build(generation).await?));
            state.registry.put(generation, key, doc.clone());
            doc
        }
    };
    let mut res = if not_modified(headers, &doc.etag, generation.last_modified) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut res = (StatusCode::OK, doc.body.clone()).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        res
    };
    let h = res.headers_mut();
    h.insert(header::ETAG, doc.etag_header.clone());
    if let Ok(v) = HeaderValue::from_str(&http_date(generation.last_modified)) {
        h.insert(header::LAST_MODIFIED, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validators() {
        let t = DateTime::parse_from_rfc3339("2026-11-25T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"a\", W/\"b\""),
        );
        assert!(not_modified(&h, "\"b\"", t));
        assert!(!not_modified(&h, "\"c\"", t));
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_MODIFIED_SINCE,
            HeaderValue::from_str(&http_date(t)).unwrap(),
        );
        assert!(not_modified(&h, "\"x\"", t));
        assert!(!not_modified(&h, "\"x\"", t + chrono::Duration::seconds(1)));
    }
}
