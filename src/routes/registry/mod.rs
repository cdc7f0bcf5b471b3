//! The public registry over HTTP: `/registry.json` (cursor-paged, filterable, with its JSON
//! Schema), JSON Feed and Atom, the HTML page, the iframe-able embed page and `embed.js`.
//!
//! Every document is answered from [`crate::registry::cache`] while the registry is
//! unchanged, with a strong `ETag` (hash of the body), `Last-Modified` (the registry's last
//! change) and `304 Not Modified` for `If-None-Match` / `If-Modified-Since`. Caches may store
//! but must revalidate (`Cache-Control: public, no-cache`), so a revocation or expiry drops
//! a person at once while unchanged pages cost a 304. CORS (GET, HEAD, OPTIONS; origins from
//! `REGISTRY_ALLOWED_ORIGINS`) is on the JSON and feed documents only.
//!
//! `query` reads the query parameters, `conditional` answers from the cache (or 304);
//! `documents` serves the JSON, schema and feeds, `pages` the page, the embed and its files.

mod conditional;
mod documents;
mod pages;
mod query;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;

use crate::config::Settings;
use crate::state::AppState;

pub use documents::JsonFeed;

/// The registry routes. CORS applies to the machine-readable documents only.
pub fn router(settings: &Settings) -> OpenApiRouter<AppState> {
    documents::router(settings).merge(pages::router())
}

/// Marks the registry cache dirty after any admin write through this instance (layered on
/// the admin routes only), so the next
/// registry request re-reads the version at once (other instances notice within
/// `REGISTRY_RECHECK_MS`). Cheaper and safer than touching every write handler.
pub async fn note_writes(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let res = next.run(req).await;
    if write {
        state.registry.mark_dirty();
        state.stats.mark_dirty();
    }
    res
}
