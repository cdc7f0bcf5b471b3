//! The public registry over HTTP: `/registry.json` (cursor-paged, filterable, with its JSON
//! Schema), JSON Feed and Atom, the HTML page, the iframe-able embed page and `embed.js`.
//!
//! Every document is answered from [`crate::registry::cache`] while the registry is
//! unchanged, with a strong `ETag` (hash of the body), `Last-Modified` (the registry's last
//! change) and `304 Not Modified` for `If-None-Match` / `If-Modified-Since`. Caches may store
//! but must revalidate (`Cache-Control: public, no-cache`), so a revocation or expiry drops
//! a person at once while unchanged pages cost a 304. CORS (GET, HEAD, OPTIONS; origins from
//! `REGISTRY_ALLOWED_ORIGINS`) is on the JSON and feed documents only.

use std::future::Future;
use std::sync::Arc;

use axum::extract::{RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::Value;
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::config::Settings;
use crate::db::{RegistryOrder, RegistryQuery};
use crate::error::{AppError, AppResult};
use crate::registry::cache::{Cached, Generation};
use crate::registry::{self, feeds, pages, DEFAULT_LIMIT, MAX_FILTER_CHARS, MAX_LIMIT};
use crate::state::AppState;

/// Revalidate every time: cheap with the ETag, and a revoked person never lingers.
const CACHE_CONTROL: &str = "public, no-cache";
/// Entries in the feeds (newest certifications first) by default.
const FEED_LIMIT: i64 = 50;

/// The registry routes. CORS applies to the machine-readable documents only.
pub fn router(settings: &Settings) -> OpenApiRouter<AppState> {
    // One `OPTIONS` handler answers on every document; its operation, documented on
    // `/registry.json`, is copied to the others by `document_preflights`.
    let mut documents = OpenApiRouter::default()
        .routes(routes!(registry_json, options))
        .routes(routes!(schema))
        .route("/registry.schema.json", axum::routing::options(options))
        .routes(routes!(json_feed))
        .route("/registry/feed.json", axum::routing::options(options))
        .routes(routes!(atom))
        .route("/registry/atom.xml", axum::routing::options(options))
        .layer(cors(settings));
    document_preflights(documents.get_openapi_mut());
    OpenApiRouter::default()
        .merge(documents)
        .routes(routes!(html_page))
        .routes(routes!(embed_page))
        .routes(routes!(embed_css))
        .routes(routes!(embed_js))
}

/// The registry documents that answer CORS preflights besides `/registry.json` (whose
/// `OPTIONS` operation is the one on [`options`]), with the operation id of each.
const PREFLIGHT_PATHS: [(&str, &str); 3] = [
    ("/registry.schema.json", "options_registry_schema"),
    ("/registry/feed.json", "options_registry_feed"),
    ("/registry/atom.xml", "options_registry_atom"),
];

/// Documents the `OPTIONS` of [`PREFLIGHT_PATHS`]: the one attribute of [`options`] names a
/// single path, so its operation is copied to the others.
fn document_preflights(api: &mut utoipa::openapi::OpenApi) {
    let preflight = api
        .paths
        .paths
        .get("/registry.json")
        .and_then(|item| item.options.clone());
    let Some(op) = preflight else { return };
    for (path, id) in PREFLIGHT_PATHS {
        if let Some(item) = api.paths.paths.get_mut(path) {
            let mut op = op.clone();
            op.operation_id = Some(id.to_owned());
            item.options = Some(op);
        }
    }
}

fn cors(settings: &Settings) -> CorsLayer {
    let origins: Vec<&str> = settings
        .registry_allowed_origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .collect();
    let allow = if origins.is_empty() || origins.contains(&"*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
        .allow_headers([header::IF_NONE_MATCH, header::IF_MODIFIED_SINCE])
        .expose_headers([header::ETAG, header::LAST_MODIFIED])
        .max_age(std::time::Duration::from_secs(86_400))
}

/// `OPTIONS` routes exist so the CORS layer sees preflights (a route without the method
/// answers 405 before any layer); the layer answers them, this only runs without it.
#[utoipa::path(
    options,
    path = "/registry.json",
    tag = "registry",
    operation_id = "options_registry_json",
    responses(
        (status = 200, description = "A CORS preflight (with `Origin` and \
            `Access-Control-Request-Method`), answered by the CORS layer."),
        (status = 204, description = "A plain `OPTIONS`: the methods in `Allow`."),
    ),
)]
async fn options() -> Response {
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::ALLOW,
        HeaderValue::from_static("GET, HEAD, OPTIONS"),
    );
    res
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
    }
    res
}

// ---------------------------------------------------------------- query parameters

/// The query parameters a registry document accepts, validated.
#[derive(Debug, Default, Clone)]
struct Params {
    country: Option<String>,
    prefix: Option<String>,
    cursor: Option<String>,
    after: Option<(String, uuid::Uuid)>,
    limit: Option<i64>,
    theme: Option<String>,
}

impl Params {
    /// The cache key: the document kind and every parameter as given (trimmed), so two
    /// spellings never share an answer the backends might distinguish.
    fn key(&self, kind: &str) -> String {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        format!(
            "{kind}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            o(&self.country),
            o(&self.prefix),
            o(&self.cursor),
            self.limit.map(|l| l.to_string()).unwrap_or_default(),
            o(&self.theme),
        )
    }

    /// The query string of these filters (for links to other pages), with `cursor`.
    fn query_string(&self, cursor: Option<&str>) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if let Some(c) = &self.country {
            q.append_pair("country", c);
        }
        if let Some(p) = &self.prefix {
            q.append_pair("prefix", p);
        }
        if let Some(l) = self.limit {
            q.append_pair("limit", &l.to_string());
        }
        if let Some(c) = cursor {
            q.append_pair("cursor", c);
        }
        q.finish()
    }
}

/// Parses a query string, accepting only `allowed` names, each at most once. Empty values
/// count as absent (a submitted empty search field).
fn params(raw: Option<&str>, allowed: &[&str]) -> AppResult<Params> {
    let mut p = Params::default();
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if !allowed.contains(&name.as_ref()) {
            return Err(AppError::BadRequest(format!(
                "unknown query parameter {name:?}; this resource accepts {}",
                allowed.join(", ")
            )));
        }
        if seen.iter().any(|s| *s == name) {
            return Err(AppError::BadRequest(format!(
                "query parameter {name:?} is given more than once"
            )));
        }
        seen.push(name.to_string());
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let filter = |field: &str| -> AppResult<Option<String>> {
            if value.chars().count() > MAX_FILTER_CHARS {
                return Err(AppError::BadRequest(format!(
                    "{field} must be at most {MAX_FILTER_CHARS} characters"
                )));
            }
            if value.chars().any(char::is_control) {
                return Err(AppError::BadRequest(format!(
                    "{field} must not contain control characters"
                )));
            }
            Ok(Some(value.to_owned()))
        };
        match name.as_ref() {
            "country" => p.country = filter("country")?,
            "prefix" => p.prefix = filter("prefix")?,
            "cursor" => {
                p.after = Some(registry::decode_cursor(value)?);
                p.cursor = Some(value.to_owned());
            }
            "limit" => {
                p.limit = Some(match value.parse::<i64>() {
                    Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                    _ => {
                        return Err(AppError::BadRequest(format!(
                            "limit must be an integer from 1 to {MAX_LIMIT}"
                        )))
                    }
                })
            }
            "theme" => {
                if value != "light" && value != "dark" {
                    return Err(AppError::BadRequest("theme must be light or dark".into()));
                }
                p.theme = Some(value.to_owned());
            }
            _ => unreachable!("checked against allowed"),
        }
    }
    Ok(p)
}

fn query(p: &Params, order: RegistryOrder, default_limit: i64) -> RegistryQuery {
    RegistryQuery {
        country: p.country.clone(),
        prefix: p.prefix.clone(),
        after: p.after.clone(),
        order,
        limit: p.limit.unwrap_or(default_limit),
        now: crate::program::now(),
    }
}

// ---------------------------------------------------------------- conditional answers

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
async fn cached<F, Fut>(
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

// ---------------------------------------------------------------- documents

/// A page of the registry: listed people with a valid Partnership Certified badge, by name.
#[utoipa::path(
    get,
    path = "/registry.json",
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
        (status = 200, description = "The page; its JSON Schema is `/registry.schema.json`.",
            body = ref("#/components/schemas/RegistryPage"), content_type = "application/json"),
        crate::openapi::NotModified, crate::openapi::BadQuery,
    ),
)]
async fn registry_json(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let p = params(raw.as_deref(), &["country", "prefix", "cursor", "limit"])?;
    let key = p.key("json");
    cached(&state, &headers, key, "application/json", |_| async {
        let page = registry::page(
            &*state.store,
            &state.issuer,
            &query(&p, RegistryOrder::Name, DEFAULT_LIMIT),
        )
        .await?;
        let base = state.issuer.base();
        let next = page
            .next_cursor
            .as_deref()
            .map(|c| format!("{base}/registry.json?{}", p.query_string(Some(c))));
        Ok(feeds::registry_json(base, &page, next))
    })
    .await
}

/// The JSON Schema of `/registry.json`.
#[utoipa::path(
    get,
    path = "/registry.schema.json",
    tag = "registry",
    params(
        ("If-None-Match" = Option<String>, Header,
            description = "An ETag from an earlier answer."),
        ("If-Modified-Since" = Option<String>, Header,
            description = "The `Last-Modified` of an earlier answer."),
    ),
    responses(
        (status = 200, description = "A JSON Schema (draft 2020-12).", body = Object,
            content_type = "application/schema+json"),
        crate::openapi::NotModified,
    ),
)]
async fn schema(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    cached(
        &state,
        &headers,
        "schema".into(),
        "application/schema+json",
        |_| async { Ok(registry::SCHEMA.to_owned()) },
    )
    .await
}

/// The newest certifications as a JSON Feed.
#[utoipa::path(
    get,
    path = "/registry/feed.json",
    tag = "registry",
    params(
        ("country" = Option<String>, Query, max_length = 100,
            description = "Only people in this country (case-insensitive)."),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100,
            description = "Entries (default 50)."),
        ("If-None-Match" = Option<String>, Header,
            description = "An ETag from an earlier answer."),
        ("If-Modified-Since" = Option<String>, Header,
            description = "The `Last-Modified` of an earlier answer."),
    ),
    responses(
        (status = 200, description = "A JSON Feed 1.1.", body = JsonFeed,
            content_type = "application/feed+json"),
        crate::openapi::NotModified, crate::openapi::BadQuery,
    ),
)]
async fn json_feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let p = params(raw.as_deref(), &["country", "limit"])?;
    let key = p.key("feed");
    cached(&state, &headers, key, "application/feed+json", |_| async {
        let page = registry::page(
            &*state.store,
            &state.issuer,
            &query(&p, RegistryOrder::Newest, FEED_LIMIT),
        )
        .await?;
        Ok(feeds::json_feed(state.issuer.base(), &page.entries))
    })
    .await
}

/// The newest certifications as an Atom feed.
#[utoipa::path(
    get,
    path = "/registry/atom.xml",
    tag = "registry",
    params(
        ("country" = Option<String>, Query, max_length = 100,
            description = "Only people in this country (case-insensitive)."),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100,
            description = "Entries (default 50)."),
        ("If-None-Match" = Option<String>, Header,
            description = "An ETag from an earlier answer."),
        ("If-Modified-Since" = Option<String>, Header,
            description = "The `Last-Modified` of an earlier answer."),
    ),
    responses(
        (status = 200, description = "An Atom feed.", content(("application/atom+xml"))),
        crate::openapi::NotModified, crate::openapi::BadQuery,
    ),
)]
async fn atom(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let p = params(raw.as_deref(), &["country", "limit"])?;
    let key = p.key("atom");
    let (st, p) = (&state, &p);
    cached(
        st,
        &headers,
        key,
        "application/atom+xml; charset=utf-8",
        |g| async move {
            let page = registry::page(
                &*st.store,
                &st.issuer,
                &query(p, RegistryOrder::Newest, FEED_LIMIT),
            )
            .await?;
            Ok(feeds::atom(
                st.issuer.base(),
                &page.entries,
                g.last_modified,
            ))
        },
    )
    .await
}

// ---------------------------------------------------------------- pages and embed

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_reject_unknown_repeated_and_oversized() {
        let all = ["country", "prefix", "cursor", "limit"];
        assert!(params(Some("country=France&prefix=Ad&limit=5"), &all).is_ok());
        assert!(params(Some("sort=name"), &all).is_err());
        assert!(params(Some("limit=1&limit=2"), &all).is_err());
        assert!(params(Some("limit=0"), &all).is_err());
        assert!(params(Some("limit=101"), &all).is_err());
        assert!(params(Some(&format!("prefix={}", "a".repeat(101))), &all).is_err());
        assert!(params(Some("cursor=nope"), &all).is_err());
        assert_eq!(
            params(Some("country=&prefix="), &all).unwrap().country,
            None
        );
    }

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

// ---------------------------------------------------------------- schemas
//
// The shapes of answers built with `json!` above, for the OpenAPI document only.

/// A JSON Feed 1.1 of the newest certifications.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct JsonFeed {
    version: String,
    title: String,
    description: String,
    home_page_url: String,
    feed_url: String,
    language: String,
    #[schema(value_type = Vec<Object>)]
    items: Vec<Value>,
}
