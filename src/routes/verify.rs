//! `POST /verify`: verifies a posted credential and answers a report
//! `{verified, checks: {proof, issuer, validity, status, structure}, errors, warnings}`.
//!
//! Accepted bodies, by `Content-Type`:
//! - `application/json`, `application/ld+json`, `application/vc+ld+json` (any `+json`): a
//!   credential, or `{"url": "…"}` naming a credential URL of this service;
//! - `image/png`, `image/svg+xml`: a baked badge image;
//! - `multipart/form-data`: a `file` (baked image or credential JSON), a `credential` text
//!   field (a pasted credential) or a `url` field; the first one that is not empty counts;
//! - no type or `application/octet-stream`: sniffed from the bytes.
//!
//! A credential that fails a check is still `200` with `verified: false`; input that is not a
//! credential at all is a 4xx problem+json. Hostile input is bounded everywhere: the body size
//! here, JSON nesting by the parser, values and depth by `credential::jsonld`, canonicalisation
//! work by `credential::rdfc`, and the CPU work runs off the async workers.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::html;
use crate::state::AppState;
use crate::verify::{self, Input, Report};

/// The verify route. Bodies are bounded by `MAX_VERIFY_BODY_BYTES`: room for a baked image,
/// far below anything that costs real memory. Larger bodies are answered 413 before they are
/// read when they declare their length, and cut off at that size when they do not.
pub fn router(settings: &Settings) -> OpenApiRouter<AppState> {
    let limit = settings.max_verify_body_bytes;
    OpenApiRouter::default()
        .routes(routes!(verify_handler, verify_form))
        // The one bound on the body; a second (`DefaultBodyLimit`) nested inside it would hide
        // its "too large" error from the extractors.
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(move |req, next| {
            crate::limits::body_limit(limit, req, next)
        }))
}

/// The human form: paste a credential or upload a baked image.
#[derive(askama::Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    report: Option<ReportView>,
}

/// A report as the form shows it.
struct ReportView {
    verified: bool,
    /// Who signed it, when the proof verified.
    signer: Option<verify::SignedBy>,
    /// The achievement's name and the dates, as signed.
    achievement: Option<String>,
    valid_from: Option<String>,
    valid_until: Option<String>,
    checks: Vec<(&'static str, &'static str)>,
    errors: Vec<String>,
    warnings: Vec<String>,
}

impl ReportView {
    /// Verified, and issued by this service.
    fn ours(&self) -> bool {
        self.verified && self.signer.as_ref().is_some_and(|s| s.this_service)
    }
}

impl From<Report> for ReportView {
    fn from(r: Report) -> Self {
        let word = |c: verify::Check| match c {
            verify::Check::Passed => "passed",
            verify::Check::Failed => "failed",
            verify::Check::Skipped => "not checked",
        };
        let facts = r.credential.as_ref();
        ReportView {
            verified: r.verified,
            signer: r.issuer.clone(),
            achievement: facts
                .and_then(|f| f.subject.as_ref())
                .and_then(|s| s.achievement.as_ref())
                .and_then(|a| a.name.clone()),
            valid_from: facts.and_then(|f| f.valid_from.clone()),
            valid_until: facts.and_then(|f| f.valid_until.clone()),
            checks: vec![
                ("Structure", word(r.checks.structure)),
                ("Signature (proof)", word(r.checks.proof)),
                ("Issuer key", word(r.checks.issuer)),
                ("Validity dates", word(r.checks.validity)),
                ("Revocation status", word(r.checks.status)),
            ],
            errors: r.errors,
            warnings: r.warnings,
        }
    }
}

/// The verify form for people: paste a credential or upload a baked badge.
#[utoipa::path(
    get,
    path = "/verify",
    tag = "verify",
    responses((status = 200, description = "The form.", content(("text/html")))),
)]
async fn verify_form() -> Response {
    let mut res = html::page(StatusCode::OK, &VerifyPage { report: None });
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Verifies a credential (proof, issuer key, validity dates, revocation status) and answers
/// a report; a browser submitting the form gets the report as a page. A credential that
/// fails a check is still 200 with `verified: false`; a body that is not a credential at all
/// is a 4xx.
#[utoipa::path(
    post,
    path = "/verify",
    tag = "verify",
    request_body(
        description = "A credential, a baked badge image, a form upload, or raw bytes to sniff.",
        content(
            (VerifyJson = "application/json"),
            (VerifyJson = "application/ld+json"),
            (VerifyJson = "application/vc+ld+json"),
            (VerifyForm = "multipart/form-data"),
            ("image/png"),
            ("image/svg+xml"),
            ("application/octet-stream"),
        ),
    ),
    responses(
        (status = 200, description = "The report; a browser gets it as a page.", content(
            (crate::verify::Report = "application/json"),
            (String = "text/html"),
        )),
        (status = 400, description = "A malformed body or form.", content(
            (crate::error::Problem = "application/problem+json"), (String = "text/html"))),
        (status = 415, description = "A media type that cannot hold a credential.", content(
            (crate::error::Problem = "application/problem+json"), (String = "text/html"))),
        (status = 422, description = "Not a credential: empty, not JSON, no baked credential \
            in the image, or a URL that is not one of this service's credentials.", content(
            (crate::error::Problem = "application/problem+json"), (String = "text/html"))),
    ),
)]
async fn verify_handler(State(state): State<AppState>, req: Request) -> Response {
    // A browser submitting the form gets the report as a page; everyone else gets JSON.
    if html::wants_html(req.headers()) {
        let headers = req.headers().clone();
        let mut res = match report_for_request(&state, req).await {
            Ok(report) => html::page(
                StatusCode::OK,
                &VerifyPage {
                    report: Some(report.into()),
                },
            ),
            Err(e) => html::error(&headers, e),
        };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return res;
    }
    match report_for_request(&state, req).await {
        Ok(report) => {
            let mut res = (StatusCode::OK, Json(report)).into_response();
            // A report is about this moment (revocation, expiry): never cache it.
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => e.into_response(),
    }
}

/// The verification report for a `POST /verify`-style request (see the module docs for the
/// bodies accepted). Public so that other front ends (the human form) share one pipeline.
pub async fn report_for_request(state: &AppState, req: Request) -> AppResult<Report> {
    let input = read_input(state, req).await?;
    verify::verify_input(state, input).await
}

/// Reads the request body into an [`Input`]. The body is read here; parsing it (JSON of up
/// to `MAX_VERIFY_BODY_BYTES`, image chunks) runs off the async workers.
pub async fn read_input(state: &AppState, req: Request) -> AppResult<Input> {
    let raw = read_raw(state, req).await?;
    state.off_workers(move || raw.parse()).await?
}

/// A body as read, before parsing.
enum Raw {
    /// JSON by its media type.
    Json(Bytes),
    /// A baked PNG or SVG by its media type.
    Image(Bytes),
    /// Anything whose kind is sniffed from its bytes (an upload, an untyped body).
    File(Bytes),
    /// A pasted credential (the form's text field).
    Text(Bytes),
    /// A URL naming a credential.
    Url(String),
}

impl Raw {
    fn parse(self) -> AppResult<Input> {
        match self {
            Raw::Json(b) => verify::parse_json_input(&b),
            Raw::Image(b) => verify::extract_image(&b),
            Raw::File(b) => verify::file_input(&b),
            Raw::Text(b) => verify::payload_input(
                std::str::from_utf8(&b)
                    .map_err(|_| AppError::invalid("credential", "the text is not UTF-8"))?,
            ),
            Raw::Url(url) => Ok(Input::Url(url)),
        }
    }
}

async fn read_raw(state: &AppState, req: Request) -> AppResult<Raw> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = state.settings.max_verify_body_bytes;
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(crate::limits::too_large(limit));
    }
    let media = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match media.as_str() {
        "application/json" => Ok(Raw::Json(body(state, req).await?)),
        m if m.starts_with("application/") && m.ends_with("+json") => {
            Ok(Raw::Json(body(state, req).await?))
        }
        "image/png" | "image/svg+xml" => Ok(Raw::Image(body(state, req).await?)),
        "multipart/form-data" => multipart_input(state, req).await,
        "" | "application/octet-stream" => Ok(Raw::File(body(state, req).await?)),
        other => Err(AppError::UnsupportedMediaType(format!(
            "cannot verify a body of type {other}: send credential JSON (application/json, \
             application/ld+json, application/vc+ld+json), a baked image (image/png, \
             image/svg+xml) or multipart/form-data with a file or credential field"
        ))),
    }
}

async fn body(state: &AppState, req: Request) -> AppResult<Bytes> {
    let bytes = Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            crate::limits::too_large(state.settings.max_verify_body_bytes)
        } else {
            AppError::BadRequest(format!("could not read the body: {e}"))
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::rule(
            "the body is empty: there is nothing to verify",
        ));
    }
    Ok(bytes)
}

/// The first non-empty `file`, `credential` or `url` field of a form upload.
async fn multipart_input(state: &AppState, req: Request) -> AppResult<Raw> {
    let mut form = Multipart::from_request(req, state)
        .await
        .map_err(|e| AppError::BadRequest(format!("malformed multipart form: {e}")))?;
    let form_error = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            crate::limits::too_large(state.settings.max_verify_body_bytes)
        } else {
            AppError::BadRequest(format!("malformed multipart form: {e}"))
        }
    };
    while let Some(field) = form.next_field().await.map_err(form_error)? {
        let name = field.name().unwrap_or("").to_owned();
        let is_file = field.file_name().is_some();
        let data = field.bytes().await.map_err(form_error)?;
        if data.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match name.as_str() {
            "credential" => return Ok(Raw::Text(data)),
            "url" => {
                let text = std::str::from_utf8(&data)
                    .map_err(|_| AppError::invalid("url", "the URL is not UTF-8"))?;
                return Ok(Raw::Url(text.trim().to_owned()));
            }
            "file" | "image" | "badge" => return Ok(Raw::File(data)),
            _ if is_file => return Ok(Raw::File(data)),
            _ => {}
        }
    }
    Err(AppError::rule(
        "the form has nothing to verify: send a `file` (a baked PNG or SVG, or credential \
         JSON), a `credential` text field or a `url` field",
    ))
}

// ---------------------------------------------------------------- schemas
//
// The shapes of answers built with `json!` above, for the OpenAPI document only.

/// A JSON body to `POST /verify`: a credential (Open Badges 3.0, signed, or 2.0; any shape,
/// the report says what is wrong), or `{"url": …}` naming a credential this service published.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VerifyJson {
    /// The URL of a credential of this service (instead of the credential itself).
    url: Option<String>,
}

/// A form upload to `POST /verify`: the first non-empty field counts.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VerifyForm {
    /// A baked PNG or SVG, or credential JSON.
    #[schema(value_type = Option<String>, content_media_type = "application/octet-stream")]
    file: Option<Vec<u8>>,
    /// A pasted credential.
    credential: Option<String>,
    /// The URL of a credential of this service.
    url: Option<String>,
}
