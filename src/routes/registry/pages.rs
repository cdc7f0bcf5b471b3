//! The registry for people: the page with search by name and country, the iframe-able
//! embed page, its stylesheet and `embed.js`.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::conditional::cached;
use super::query::{params, query, Params};
use crate::db::RegistryOrder;
use crate::error::AppResult;
use crate::registry::{self, pages, DEFAULT_LIMIT};
use crate::state::AppState;

/// The pages and the embed's files.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(html_page))
        .routes(routes!(embed_page))
        .routes(routes!(embed_css))
        .routes(routes!(embed_js))
}

/// Adds the page security headers; `frame_ancestors` replaces the default `'none'`.
fn html_headers(res: &mut Response, frame_ancestors: Option<&str>) {
    let h = res.headers_mut();
    crate::html::security_headers(h);
    if let Some(fa) = frame_ancestors {
        let csp =
            crate::html::CSP.replace("frame-ancestors 'none'", &format!("frame-ancestors {fa}"));
        if let Ok(v) = HeaderValue::from_str(&csp) {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
}

/// The registry page, with search by name and country.
#[utoipa::path(
    get,
    path = "/registry",
    tag = "registry",
    params(
        ("country" = Option<String>, Query, max_length = 100,
            description = "Only people in this country (case-insensitive)."),
        ("prefix" = Option<String>, Query, max_length = 100,
            description = "Only names starting with this (case-insensitive)."),
        ("cursor" = Option<String>, Query,
            description = "The `next_cursor` of the previous page."),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100,
            description = "Page size (default 20)."),
        ("If-None-Match" = Option<String>, Header,
            description = "An ETag from an earlier answer."),
        ("If-Modified-Since" = Option<String>, Header,
            description = "The `Last-Modified` of an earlier answer."),
    ),
    responses(
        (status = 200, description = "The page.", content(("text/html"))),
        crate::openapi::NotModified, crate::openapi::BadQueryPage,
    ),
)]
async fn html_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let allowed = ["country", "prefix", "cursor", "limit"];
    html_answer(
        &state,
        &headers,
        raw.as_deref(),
        &allowed,
        "html",
        None,
        |p, page| {
            let next = page
                .next_cursor
                .as_deref()
                .map(|c| format!("/registry?{}", p.query_string(Some(c))));
            let first = p
                .cursor
                .is_some()
                .then(|| format!("/registry?{}", p.query_string(None)));
            pages::registry_page(
                page,
                p.prefix.as_deref(),
                p.country.as_deref(),
                next,
                first,
                state.issuer.base(),
            )
        },
    )
    .await
}

/// The registry as a page to embed in an `iframe` on another site.
#[utoipa::path(
    get,
    path = "/registry/embed",
    tag = "registry",
    params(
        ("country" = Option<String>, Query, max_length = 100,
            description = "Only people in this country (case-insensitive)."),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100,
            description = "Page size (default 20)."),
        ("theme" = Option<String>, Query, pattern = "^(light|dark)?$",
            description = "`light` (default) or `dark`."),
        ("If-None-Match" = Option<String>, Header,
            description = "An ETag from an earlier answer."),
        ("If-Modified-Since" = Option<String>, Header,
            description = "The `Last-Modified` of an earlier answer."),
    ),
    responses(
        (status = 200, description = "The embeddable page (CSP `frame-ancestors` from \
            `REGISTRY_FRAME_ANCESTORS`).", content(("text/html"))),
        crate::openapi::NotModified, crate::openapi::BadQueryPage,
    ),
)]
async fn embed_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let allowed = ["country", "limit", "theme"];
    let frame_ancestors = Some(state.settings.registry_frame_ancestors.as_str());
    html_answer(
        &state,
        &headers,
        raw.as_deref(),
        &allowed,
        "embed",
        frame_ancestors,
        |p, page| {
            let more = format!("{}/registry?{}", state.issuer.base(), p.query_string(None));
            pages::embed_page(page, p.theme.as_deref() == Some("dark"), more)
        },
    )
    .await
}

/// A registry page for people: the registry by name under the filters of the query `raw`
/// (of the `allowed` parameters), rendered by `render` and answered from the cache as
/// `kind` (or 304), with the page headers of [`html_headers`]. An error, a malformed query's
/// too, is an error page with the same headers.
async fn html_answer(
    state: &AppState,
    headers: &HeaderMap,
    raw: Option<&str>,
    allowed: &[&str],
    kind: &str,
    frame_ancestors: Option<&str>,
    render: impl FnOnce(&Params, &registry::Page) -> AppResult<String>,
) -> Response {
    let res = match params(raw, allowed) {
        Ok(p) => {
            let key = p.key(kind);
            cached(
                state,
                headers,
                key,
                "text/html; charset=utf-8",
                |_| async move {
                    let order = query(&p, RegistryOrder::Name, DEFAULT_LIMIT);
                    let page = registry::page(&*state.store, &state.issuer, &order).await?;
                    render(&p, &page)
                },
            )
            .await
        }
        Err(e) => Err(e),
    };
    // On an error page (already with the headers of every page) this only sets the embed's
    // `frame-ancestors`.
    let mut res = res.unwrap_or_else(crate::html::error_page);
    html_headers(&mut res, frame_ancestors);
    res
}

/// A static file with a revalidated cache lifetime.
fn static_file(content_type: &'static str, body: &'static str) -> Response {
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// The script that embeds the registry on another site.
#[utoipa::path(
    get,
    path = "/embed.js",
    tag = "registry",
    responses((status = 200, description = "JavaScript.", content(("text/javascript")))),
)]
async fn embed_js() -> Response {
    let mut res = static_file("text/javascript; charset=utf-8", pages::EMBED_JS);
    // Loaded by <script src> from any site: no CORS needed, but allow it to be fetched as a
    // module or with integrity checks.
    res.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    res
}

/// The stylesheet of the embed page.
#[utoipa::path(
    get,
    path = "/registry/embed.css",
    tag = "registry",
    responses((status = 200, description = "CSS.", content(("text/css")))),
)]
async fn embed_css() -> Response {
    static_file("text/css; charset=utf-8", pages::EMBED_CSS)
}
