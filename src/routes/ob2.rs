//! Open Badges 2.0 hosted compatibility, for older backpacks and the 1EdTech reference
//! validator: every document is served at its own `id` under `{base}/ob2/…`.
//!
//! - `GET /ob2/assertions/{id}`: the hosted Assertion of a credential (same id as the OB 3.0
//!   credential); revoked → `410 Gone` with `revoked: true` and the reason.
//! - `GET /ob2/assertions/{id}/badge.png`: the badge image with the Assertion baked in
//!   (`iTXt` keyword `openbadges`).
//! - `GET /ob2/badges/{slug}` and `…/image.png`: the BadgeClass and its PNG artwork.
//! - `GET /ob2/issuer`: the issuer Profile, linking `GET /ob2/revocations`, the
//!   RevocationList.
//!
//! The documents themselves are built in [`crate::credential::ob2`].

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::AppPath;
use super::public::NarrativeCriteria;
use crate::credential::baking;
use crate::credential::model::OpenBadgeCredential;
use crate::credential::ob2::{self, IssuerInput, Ob2Urls};
use crate::db::{CredentialFilter, CredentialRecord};
use crate::error::{AppError, AppResult};
use crate::program::{self, achievements};
use crate::state::AppState;

/// Edge, in pixels, of the PNG badge images.
pub const BADGE_PNG_SIZE: u32 = 512;
/// Media type of every OB 2.0 JSON-LD document.
const LD_JSON: &str = "application/ld+json";

/// The OB 2.0 routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(issuer))
        .routes(routes!(revocations))
        .routes(routes!(badge_class))
        .routes(routes!(badge_image))
        .routes(routes!(assertion))
        .routes(routes!(baked_assertion))
}

/// A response with `body`, its media type and a public cache lifetime.
fn respond(
    status: StatusCode,
    body: impl Into<axum::body::Body>,
    media: &'static str,
    max_age: u32,
) -> Response {
    let mut res = (status, body.into()).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        h.insert(header::CACHE_CONTROL, v);
    }
    res
}

fn urls(state: &AppState) -> Ob2Urls {
    Ob2Urls::new(state.issuer.base())
}

/// The issuer's contact email: `ISSUER_EMAIL`, else `badges@{host of the base URL}`.
///
/// OB 2.0 requires an email on an issuer Profile (the reference validator rejects one
/// without), so a documented placeholder stands in until one is configured.
pub fn issuer_email(state: &AppState) -> String {
    if let Some(email) = state.issuer.profile().email {
        return email;
    }
    let base = state.issuer.base();
    let authority = base
        .split_once("://")
        .map_or(base, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or("");
    let host = if authority.starts_with('[') {
        authority.split(']').next().map_or("", |h| &h[1..])
    } else {
        authority.split(':').next().unwrap_or("")
    };
    format!(
        "badges@{}",
        if host.is_empty() { "localhost" } else { host }
    )
}

/// The OB 2.0 issuer Profile, linking the revocation list.
#[utoipa::path(
    get,
    path = "/ob2/issuer",
    tag = "ob2",
    responses((status = 200, description = "The Issuer (JSON-LD).",
        body = Ob2Issuer, content_type = "application/ld+json")),
)]
async fn issuer(State(state): State<AppState>) -> Response {
    let profile = state.issuer.profile_as(crate::config::IssuerIdForm::Https);
    let email = issuer_email(&state);
    let url = profile
        .url
        .unwrap_or_else(|| state.issuer.base().to_owned());
    let doc = ob2::issuer_profile(
        &urls(&state),
        &IssuerInput {
            name: &profile.name,
            url: &url,
            email: &email,
        },
    );
    respond(StatusCode::OK, doc.to_string(), LD_JSON, 300)
}

/// The OB 2.0 `RevocationList`: every revoked assertion and its reason.
#[utoipa::path(
    get,
    path = "/ob2/revocations",
    tag = "ob2",
    responses((status = 200, description = "The RevocationList (JSON-LD).",
        body = Ob2RevocationList, content_type = "application/ld+json")),
)]
async fn revocations(State(state): State<AppState>) -> AppResult<Response> {
    // Every revoked credential, newest first, a page at a time.
    let mut revoked = Vec::new();
    let mut after = None;
    loop {
        let page = state
            .store
            .list_credentials(&CredentialFilter {
                status: Some("revoked".into()),
                after,
                limit: 500,
                now: program::now(),
                ..CredentialFilter::default()
            })
            .await?;
        after = page.last().map(|r| (r.issued_at, r.id));
        let full = page.len() == 500;
        revoked.extend(page.into_iter().map(|r| {
            let reason = r
                .revocation_reason
                .unwrap_or_else(|| "revoked by the issuer".into());
            (r.id.to_string(), reason)
        }));
        if !full {
            break;
        }
    }
    let doc = ob2::revocation_list(&urls(&state), &revoked);
    // Short cache: a revocation must show quickly.
    Ok(respond(StatusCode::OK, doc.to_string(), LD_JSON, 30))
}

fn achievement(slug: &str) -> AppResult<&'static achievements::Achievement> {
    achievements::by_slug(slug).ok_or_else(|| AppError::NotFound(format!("no badge {slug:?}")))
}

/// The OB 2.0 `BadgeClass` of an achievement.
#[utoipa::path(
    get,
    path = "/ob2/badges/{slug}",
    tag = "ob2",
    params(("slug" = String, Path, example = "partnership-closed",
        description = "`partnership-closed` or `partnership-certified`.")),
    responses(
        (status = 200, description = "The BadgeClass (JSON-LD).",
            body = Ob2BadgeClass, content_type = "application/ld+json"),
        crate::openapi::NotFound,
    ),
)]
async fn badge_class(
    State(state): State<AppState>,
    AppPath(slug): AppPath<String>,
) -> AppResult<Response> {
    let a = achievement(&slug)?;
    let doc = ob2::badge_class(&urls(&state), a.slug, a.name, a.description, a.criteria);
    Ok(respond(StatusCode::OK, doc.to_string(), LD_JSON, 3600))
}

/// The artwork of an achievement as a [`BADGE_PNG_SIZE`] PNG, rendered once per process.
pub async fn badge_png(slug: &str) -> AppResult<&'static [u8]> {
    static CLOSED: OnceLock<Vec<u8>> = OnceLock::new();
    static CERTIFIED: OnceLock<Vec<u8>> = OnceLock::new();
    let (cell, svg) = match slug {
        program::CLOSED => (
            &CLOSED,
            include_str!("../html/assets/partnership-closed.svg"),
        ),
        program::CERTIFIED => (
            &CERTIFIED,
            include_str!("../html/assets/partnership-certified.svg"),
        ),
        _ => return Err(AppError::NotFound(format!("no badge {slug:?}"))),
    };
    if let Some(png) = cell.get() {
        return Ok(png);
    }
    // Rendering takes milliseconds: off the async workers, and only until the cache is set.
    let png = tokio::task::spawn_blocking(move || baking::render_png(svg, BADGE_PNG_SIZE))
        .await
        .map_err(|e| AppError::Internal(anyhow::Error::new(e)))?
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("rendering badge art")))?;
    Ok(cell.get_or_init(|| png))
}

/// The artwork of an OB 2.0 BadgeClass, as PNG.
#[utoipa::path(
    get,
    path = "/ob2/badges/{slug}/image.png",
    tag = "ob2",
    params(("slug" = String, Path, example = "partnership-closed",
        description = "`partnership-closed` or `partnership-certified`.")),
    responses(
        (status = 200, description = "The artwork.", content(("image/png"))),
        crate::openapi::NotFound,
    ),
)]
async fn badge_image(AppPath(slug): AppPath<String>) -> AppResult<Response> {
    let png = badge_png(&slug).await?;
    Ok(respond(StatusCode::OK, png, "image/png", 86_400))
}

/// The stored credential behind assertion `raw_id`, or 404.
async fn record(state: &AppState, raw_id: &str) -> AppResult<CredentialRecord> {
    let not_found = || AppError::NotFound(format!("no assertion with id {raw_id:?}"));
    let id = crate::issuer::path_uuid(raw_id).ok_or_else(not_found)?;
    state.store.credential(id).await?.ok_or_else(not_found)
}

/// The Assertion of a live record, or the 410 body of a revoked one.
fn assertion_doc(state: &AppState, r: &CredentialRecord) -> AppResult<Result<Value, Value>> {
    let urls = urls(state);
    let id = r.id.to_string();
    if r.revoked_at.is_some() {
        let reason = r
            .revocation_reason
            .as_deref()
            .unwrap_or("revoked by the issuer");
        return Ok(Err(ob2::revoked_assertion(&urls, &id, reason)));
    }
    let vc: OpenBadgeCredential = serde_json::from_str(&r.document).map_err(|e| {
        AppError::Internal(anyhow::Error::new(e).context("stored credential does not parse"))
    })?;
    Ok(Ok(ob2::assertion(&urls, &id, &r.achievement, &vc)))
}

/// The hosted OB 2.0 `Assertion` of a credential; 410 once it is revoked.
#[utoipa::path(
    get,
    path = "/ob2/assertions/{id}",
    tag = "ob2",
    params(("id" = uuid::Uuid, Path, description = "The id of the OB 3.0 credential it mirrors.")),
    responses(
        (status = 200, description = "The Assertion (JSON-LD).",
            body = Ob2Assertion, content_type = "application/ld+json"),
        (status = 410, description = "Revoked: the reason.",
            body = Ob2RevokedAssertion, content_type = "application/ld+json"),
        crate::openapi::NotFound,
    ),
)]
async fn assertion(
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
) -> AppResult<Response> {
    let r = record(&state, &id).await?;
    Ok(match assertion_doc(&state, &r)? {
        Ok(doc) => respond(StatusCode::OK, doc.to_string(), LD_JSON, 60),
        Err(gone) => respond(StatusCode::GONE, gone.to_string(), LD_JSON, 60),
    })
}

/// The badge image with the OB 2.0 Assertion baked in (PNG `iTXt` chunk `openbadges`).
#[utoipa::path(
    get,
    path = "/ob2/assertions/{id}/badge.png",
    tag = "ob2",
    params(("id" = uuid::Uuid, Path, description = "The id of the OB 3.0 credential it mirrors.")),
    responses(
        (status = 200, description = "The baked PNG.", content(("image/png"))),
        (status = 410, description = "Revoked: the reason.",
            body = Ob2RevokedAssertion, content_type = "application/ld+json"),
        crate::openapi::NotFound,
    ),
)]
async fn baked_assertion(
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
) -> AppResult<Response> {
    let r = record(&state, &id).await?;
    let doc = match assertion_doc(&state, &r)? {
        Ok(doc) => doc,
        Err(gone) => return Ok(respond(StatusCode::GONE, gone.to_string(), LD_JSON, 60)),
    };
    let png = badge_png(&r.achievement).await?;
    let baked = baking::bake_png(png, baking::PNG_KEYWORD_OB2, &doc.to_string())
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("baking")))?;
    Ok(respond(StatusCode::OK, baked, "image/png", 60))
}

// ---------------------------------------------------------------- schemas
//
// The shapes of answers built with `json!` above, for the OpenAPI document only.

/// The hosted OB 2.0 issuer `Profile`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Ob2Issuer {
    #[serde(rename = "@context")]
    context: String,
    /// `Issuer`.
    #[serde(rename = "type")]
    kind: String,
    id: String,
    name: String,
    url: String,
    email: String,
    #[serde(rename = "revocationList")]
    revocation_list: String,
}

/// An OB 2.0 `BadgeClass`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Ob2BadgeClass {
    #[serde(rename = "@context")]
    context: String,
    /// `BadgeClass`.
    #[serde(rename = "type")]
    kind: String,
    id: String,
    name: String,
    description: String,
    image: String,
    criteria: NarrativeCriteria,
    issuer: String,
}

/// A hosted OB 2.0 `Assertion`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Ob2Assertion {
    #[serde(rename = "@context")]
    context: String,
    /// `Assertion`.
    #[serde(rename = "type")]
    kind: String,
    id: String,
    /// The hashed email identity.
    #[schema(value_type = Object)]
    recipient: Value,
    badge: String,
    #[serde(rename = "issuedOn")]
    issued_on: String,
    expires: Option<String>,
    image: String,
    #[schema(value_type = Option<Vec<Object>>)]
    evidence: Option<Value>,
    #[schema(value_type = Object)]
    verification: Value,
}

/// The body of a revoked OB 2.0 assertion (HTTP 410).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Ob2RevokedAssertion {
    #[serde(rename = "@context")]
    context: String,
    id: String,
    /// `Assertion`.
    #[serde(rename = "type")]
    kind: String,
    revoked: bool,
    #[serde(rename = "revocationReason")]
    revocation_reason: String,
}

/// One entry of the OB 2.0 revocation list.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Ob2Revoked {
    id: String,
    #[serde(rename = "revocationReason")]
    revocation_reason: String,
}

/// The issuer's OB 2.0 `RevocationList`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Ob2RevocationList {
    #[serde(rename = "@context")]
    context: String,
    /// `RevocationList`.
    #[serde(rename = "type")]
    kind: String,
    id: String,
    issuer: String,
    #[serde(rename = "revokedAssertions")]
    revoked_assertions: Vec<Ob2Revoked>,
}
