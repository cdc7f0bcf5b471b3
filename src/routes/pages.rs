//! Public pages for people, and the files they offer: the badge page (the HTML side of
//! `GET /credentials/{id}`), baked badge images, the signed credential as a download, the
//! closing record and achievement pages, achievement artwork and static assets.
//!
//! `public.rs` serves the JSON side of the shared URLs and hands browsers to the `*_page`
//! functions here (see [`crate::html::wants_html`]).

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use askama::Template as _;

use super::admin::path_id;
use super::extract::AppPath;
use crate::badge_cache;
use crate::credential::baking;
use crate::credential::model::OpenBadgeCredential;
use crate::db::CredentialRecord;
use crate::error::{AppError, AppResult};
use crate::html::pages::{AchievementPage, BadgeInput, BadgePage, ClosingPage};
use crate::html::when::When;
use crate::html::{self, page};
use crate::program::{self, achievements};
use crate::state::AppState;

/// The routes of this module (the shared URLs are registered in `public.rs`).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(credential_download))
        .routes(routes!(baked_png))
        .routes(routes!(baked_svg))
        .routes(routes!(artwork_png))
        .routes(routes!(artwork_svg))
        .routes(routes!(asset))
}

/// The badge page of credential `raw_id`; errors as HTML pages.
pub async fn credential_page(state: &AppState, raw_id: &str) -> Response {
    badge_page(state, raw_id)
        .await
        .unwrap_or_else(html::error_page)
}

async fn badge_page(state: &AppState, raw_id: &str) -> AppResult<Response> {
    let id = path_id("credential", raw_id)?;
    let now = program::now();
    let checked = When::time(now);
    if let Some(cached) = state.badges.get(id, now) {
        state.metrics.badge_pages_from_memory.inc();
        return Ok(html::html_response(
            StatusCode::OK,
            cached.body(&checked.iso, &checked.human),
        ));
    }
    // Taken before the read: a change seen meanwhile keeps this page out of the cache.
    let ticket = state.badges.ticket();
    // One round trip: the record (live status) and the holder's public fields.
    let (record, holder) = state
        .store
        .credential_with_holder(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no credential with id {id}")))?;
    // The stored document was signed by this service; it is read, not re-verified.
    let vc: OpenBadgeCredential = serde_json::from_str(&record.document).map_err(|e| {
        AppError::Internal(anyhow::anyhow!(
            "stored credential {id} does not parse: {e}"
        ))
    })?;
    let mut view = BadgePage::new(BadgeInput {
        issuer: &state.issuer,
        record: &record,
        holder: &holder,
        credential: &vc,
        achievement: achievements::by_slug(&record.achievement),
        now,
    });
    // Rendered with marks where the check's time goes, so every request fills in its own.
    view.status.checked = When {
        iso: badge_cache::CHECKED_ISO.to_owned(),
        human: badge_cache::CHECKED_HUMAN.to_owned(),
    };
    let body = view
        .render()
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("rendering a badge page")))?;
    // Until its expiry, if it has one ahead: then the page says "expired" instead.
    let stale_at = record.valid_until.filter(|t| *t > now);
    let cached = badge_cache::CachedPage::new(&body, stale_at).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!("the badge page lost its check-time marks"))
    })?;
    let page = cached.body(&checked.iso, &checked.human);
    state.badges.put(ticket, id, cached);
    state.metrics.badge_pages_from_database.inc();
    Ok(html::html_response(StatusCode::OK, page))
}

/// The closing record page of `raw_id`; errors as HTML pages.
pub async fn closing_page(state: &AppState, raw_id: &str) -> Response {
    let build = async {
        let id = path_id("closing", raw_id)?;
        let c = state
            .store
            .closing(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no closing with id {id}")))?;
        let mentor = state.store.mentor(c.mentor_id).await?;
        let view = ClosingPage::new(&state.issuer, &c, mentor.as_ref());
        Ok::<_, AppError>(page(StatusCode::OK, &view))
    };
    build.await.unwrap_or_else(html::error_page)
}

/// The achievement page of `slug`; errors as HTML pages.
pub fn achievement_page(state: &AppState, slug: &str) -> Response {
    match achievements::by_slug(slug) {
        Some(a) => page(StatusCode::OK, &AchievementPage::new(&state.issuer, a)),
        None => html::error_page(AppError::NotFound(format!("no achievement {slug:?}"))),
    }
}

/// Loads a credential for the file routes.
async fn load(state: &AppState, raw_id: &str) -> AppResult<CredentialRecord> {
    let id = path_id("credential", raw_id)?;
    state
        .store
        .credential(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no credential with id {id}")))
}

/// A file answer. Stored credentials never change, so their files cache for a day; status
/// is read from the status list, not from these bytes.
fn file(body: impl IntoResponse, media_type: &'static str, disposition: String) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if media_type == "image/svg+xml" {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(html::SVG_CSP),
        );
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// The download name of a credential's files (ASCII: slug and UUID).
fn file_name(r: &CredentialRecord, ext: &str) -> String {
    format!("{}-{}.{ext}", r.achievement, r.id)
}

/// The signed credential as a file download.
#[utoipa::path(
    get,
    path = "/credentials/{id}/credential.json",
    tag = "files",
    params(("id" = uuid::Uuid, Path, description = "The credential's id.")),
    responses(
        (status = 200, description = "The signed credential (`Content-Disposition: attachment`).",
            body = crate::credential::model::OpenBadgeCredential,
            content_type = "application/vc+ld+json"),
        crate::openapi::NotFoundPage,
    ),
)]
async fn credential_download(
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    headers: HeaderMap,
) -> Response {
    match load(&state, &id).await {
        Ok(r) => {
            let name = file_name(&r, "json");
            file(
                r.document,
                "application/vc+ld+json",
                format!("attachment; filename=\"{name}\""),
            )
        }
        Err(e) => html::error(&headers, e),
    }
}

/// The badge image with the credential baked in (PNG `iTXt` chunk `openbadgecredential`).
#[utoipa::path(
    get,
    path = "/credentials/{id}/badge.png",
    tag = "files",
    params(("id" = uuid::Uuid, Path, description = "The credential's id.")),
    responses(
        (status = 200, description = "The baked PNG.", content(("image/png"))),
        crate::openapi::NotFoundPage,
    ),
)]
async fn baked_png(
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    headers: HeaderMap,
) -> Response {
    let bake = async {
        let r = load(&state, &id).await?;
        let art = html::artwork_png(&r.achievement).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("no artwork for {:?}", r.achievement))
        })??;
        let png = baking::bake_png(art, baking::PNG_KEYWORD_OB3, &r.document)
            .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("baking PNG")))?;
        Ok::<_, AppError>(file(
            png,
            "image/png",
            format!("inline; filename=\"{}\"", file_name(&r, "png")),
        ))
    };
    bake.await.unwrap_or_else(|e| html::error(&headers, e))
}

/// The badge image with the credential baked in (SVG `openbadges:credential` element).
#[utoipa::path(
    get,
    path = "/credentials/{id}/badge.svg",
    tag = "files",
    params(("id" = uuid::Uuid, Path, description = "The credential's id.")),
    responses(
        (status = 200, description = "The baked SVG.", content(("image/svg+xml"))),
        crate::openapi::NotFoundPage,
    ),
)]
async fn baked_svg(
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    headers: HeaderMap,
) -> Response {
    let bake = async {
        let r = load(&state, &id).await?;
        let art = html::artwork_svg(&r.achievement).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("no artwork for {:?}", r.achievement))
        })?;
        let svg = baking::bake_svg(art, &r.document)
            .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("baking SVG")))?;
        Ok::<_, AppError>(file(
            svg,
            "image/svg+xml",
            format!("inline; filename=\"{}\"", file_name(&r, "svg")),
        ))
    };
    bake.await.unwrap_or_else(|e| html::error(&headers, e))
}

fn no_achievement(slug: &str) -> AppError {
    AppError::NotFound(format!("no achievement {slug:?}"))
}

/// The artwork of an achievement as PNG.
#[utoipa::path(
    get,
    path = "/achievements/{slug}/image.png",
    tag = "files",
    params(("slug" = String, Path, example = "partnership-closed",
        description = "`partnership-closed` or `partnership-certified`.")),
    responses(
        (status = 200, description = "The artwork.", content(("image/png"))),
        crate::openapi::NotFoundPage,
    ),
)]
async fn artwork_png(AppPath(slug): AppPath<String>, headers: HeaderMap) -> Response {
    match html::artwork_png(&slug) {
        Some(Ok(png)) => file(png, "image/png", format!("inline; filename=\"{slug}.png\"")),
        Some(Err(e)) => html::error(&headers, e),
        None => html::error(&headers, no_achievement(&slug)),
    }
}

/// The artwork of an achievement as SVG.
#[utoipa::path(
    get,
    path = "/achievements/{slug}/image.svg",
    tag = "files",
    params(("slug" = String, Path, example = "partnership-closed",
        description = "`partnership-closed` or `partnership-certified`.")),
    responses(
        (status = 200, description = "The artwork.", content(("image/svg+xml"))),
        crate::openapi::NotFoundPage,
    ),
)]
async fn artwork_svg(AppPath(slug): AppPath<String>, headers: HeaderMap) -> Response {
    match html::artwork_svg(&slug) {
        Some(svg) => file(
            svg,
            "image/svg+xml",
            format!("inline; filename=\"{slug}.svg\""),
        ),
        None => html::error(&headers, no_achievement(&slug)),
    }
}

/// A static asset of the pages (`style.css`, `badge.js`, the artwork SVGs).
#[utoipa::path(
    get,
    path = "/assets/{name}",
    tag = "files",
    params(("name" = String, Path, example = "style.css", description = "The file name.")),
    responses(
        (status = 200, description = "The file.", content(
            ("text/css"), ("text/javascript"), ("image/svg+xml"),
        )),
        crate::openapi::NotFoundPage,
    ),
)]
async fn asset(AppPath(name): AppPath<String>, headers: HeaderMap) -> Response {
    match html::asset(&name) {
        Some((media_type, bytes)) => {
            let mut res = file(bytes, media_type, "inline".into());
            // Assets change with releases; an hour bounds how long an old one lingers.
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            );
            res
        }
        None => html::error(&headers, AppError::NotFound(format!("no asset {name:?}"))),
    }
}
