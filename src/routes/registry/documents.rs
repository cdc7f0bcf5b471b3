//! The registry's machine-readable documents: `/registry.json` (cursor-paged, filterable),
//! its JSON Schema, the JSON Feed and the Atom feed, with CORS and their preflights.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::conditional::cached;
use super::query::{params, query};
use crate::config::Settings;
use crate::db::RegistryOrder;
use crate::error::AppResult;
use crate::registry::{self, feeds, DEFAULT_LIMIT};
use crate::state::AppState;

/// Entries in the feeds (newest certifications first) by default.
const FEED_LIMIT: i64 = 50;

/// The machine-readable documents, with CORS.
pub(super) fn router(settings: &Settings) -> OpenApiRouter<AppState> {
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
    documents
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
