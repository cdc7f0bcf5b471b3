//! Public, unauthenticated JSON: the issuer Profile and its keys, achievements, issued
//! credentials, status lists and closing records — everything a verifier dereferences.
//!
//! Credentials, closing records and achievements share their URL with a page for people:
//! browsers get HTML from [`super::pages`] (negotiated on `Accept`, answered with
//! `Vary: Accept`), everyone else the JSON here.

use std::future::Future;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::admin::path_id;
use super::extract::AppPath;
use super::pages;
use crate::config::IssuerIdForm;
use crate::credential::model::{DataIntegrityProof, Profile, OB_V3_CONTEXT, VC_V2_CONTEXT};
use crate::credential::{multikey, status_list};
use crate::db::Stages;
use crate::error::{AppError, AppResult};
use crate::html;
use crate::program::{self, achievements};
use crate::state::AppState;

/// The DID v1 context, for the DID document.
const DID_V1_CONTEXT: &str = "https://www.w3.org/ns/did/v1";
/// The Multikey context, for key documents.
const MULTIKEY_CONTEXT: &str = "https://w3id.org/security/multikey/v1";
/// Security v2 defines `assertionMethod`; verifiers in JSON-LD safe mode reject the
/// Profile without it (the VC and OB contexts do not define the term).
const SECURITY_V2_CONTEXT: &str = "https://w3id.org/security/v2";

/// The public routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(issuer_profile))
        .routes(routes!(issuer_key))
        .routes(routes!(achievement))
        .routes(routes!(credential))
        .routes(routes!(closing))
        .routes(routes!(status))
        .routes(routes!(status_did_web))
        .routes(routes!(did_document))
        .routes(routes!(did_document_at_path))
}

/// A JSON response with an explicit media type and a short public cache lifetime.
fn json_response(
    body: impl Into<axum::body::Body>,
    media_type: &'static str,
    max_age: u32,
) -> Response {
    let mut res = Response::new(body.into());
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    let cache = match max_age {
        60 => HeaderValue::from_static("public, max-age=60"),
        other => HeaderValue::from_str(&format!("public, max-age={other}"))
            .expect("digits are a header value"),
    };
    h.insert(header::CACHE_CONTROL, cache);
    res
}

/// Answers a URL shared by a page and a JSON document: the page (from [`super::pages`]) when
/// the client asked for HTML ([`html::wants_html`]), else the JSON, an error as a problem;
/// with `Vary: Accept` (the pages set it themselves). Only the chosen side runs.
async fn negotiate(
    headers: &HeaderMap,
    page: impl Future<Output = Response>,
    json: impl Future<Output = AppResult<Response>>,
) -> Response {
    if html::wants_html(headers) {
        return page.await;
    }
    let mut res = json.await.unwrap_or_else(IntoResponse::into_response);
    html::vary_accept(&mut res);
    res
}

/// The issuer `Profile`, listing every key that ever signed for it (retired keys too).
#[utoipa::path(
    get,
    path = "/issuer",
    tag = "public",
    responses((status = 200, description = "The Profile (JSON-LD).",
        body = IssuerProfileDocument, content_type = "application/ld+json")),
)]
async fn issuer_profile(State(state): State<AppState>) -> Response {
    let issuer = &state.issuer;
    // The hosted Profile: its id is this URL, whichever id new credentials name.
    let profile = issuer.profile_as(IssuerIdForm::Https);
    // Every key, retired ones too: credentials they signed must keep verifying.
    let methods: Vec<String> = issuer
        .keys
        .public_keys()
        .map(|(kid, _)| issuer.key_url(kid))
        .collect();
    let mut doc = json!({
        "@context": [VC_V2_CONTEXT, OB_V3_CONTEXT, SECURITY_V2_CONTEXT],
        "id": profile.id,
        "type": ["Profile"],
        "name": profile.name,
    });
    if let Some(url) = profile.url {
        doc["url"] = json!(url);
    }
    if let Some(email) = profile.email {
        doc["email"] = json!(email);
    }
    doc["assertionMethod"] = json!(methods);
    json_response(doc.to_string(), "application/ld+json", 300)
}

/// One of the issuer's public keys, as a `Multikey`.
#[utoipa::path(
    get,
    path = "/issuer/keys/{kid}",
    tag = "public",
    params(("kid" = String, Path, description = "Key id, as in `assertionMethod`.")),
    responses(
        (status = 200, description = "The key (JSON-LD).",
            body = MultikeyDocument, content_type = "application/ld+json"),
        crate::openapi::NotFound,
    ),
)]
async fn issuer_key(
    State(state): State<AppState>,
    AppPath(kid): AppPath<String>,
) -> AppResult<Response> {
    let issuer = &state.issuer;
    let key = issuer
        .keys
        .public_key(&kid)
        .ok_or_else(|| AppError::NotFound(format!("no key {kid:?}")))?;
    let doc = json!({
        "@context": [MULTIKEY_CONTEXT],
        "id": issuer.key_url(&kid),
        "type": "Multikey",
        "controller": issuer.id(),
        "publicKeyMultibase": multikey::encode_public_key(&key),
    });
    Ok(json_response(doc.to_string(), "application/ld+json", 3600))
}

/// An achievement (badge class): JSON-LD, or its page for a browser.
#[utoipa::path(
    get,
    path = "/achievements/{slug}",
    tag = "public",
    params(("slug" = String, Path, example = "partnership-closed",
        description = "`partnership-closed` or `partnership-certified`.")),
    responses(
        (status = 200, description = "The Achievement; a browser gets its page.", content(
            (AchievementDocument = "application/ld+json"),
            (String = "text/html"),
        )),
        crate::openapi::NotFoundPage,
    ),
)]
async fn achievement(
    State(state): State<AppState>,
    AppPath(slug): AppPath<String>,
    headers: HeaderMap,
) -> Response {
    let json = async {
        let a = achievements::by_slug(&slug)
            .ok_or_else(|| AppError::NotFound(format!("no achievement {slug:?}")))?;
        Ok(achievement_json(&state, a))
    };
    negotiate(
        &headers,
        async { pages::achievement_page(&state, &slug) },
        json,
    )
    .await
}

/// The `Achievement` document of `a`.
fn achievement_json(state: &AppState, a: &achievements::Achievement) -> Response {
    let doc = json!({
        "@context": [VC_V2_CONTEXT, OB_V3_CONTEXT],
        "id": state.issuer.achievement_url(a.slug),
        "type": ["Achievement"],
        "achievementType": a.achievement_type,
        "name": a.name,
        "description": a.description,
        "criteria": {"narrative": a.criteria},
        "creator": state.issuer.profile_as(IssuerIdForm::Https),
    });
    json_response(doc.to_string(), "application/ld+json", 3600)
}

/// The media type to answer a credential request with, from `Accept`.
fn credential_media_type(headers: &HeaderMap) -> &'static str {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("application/vc+ld+json") {
        "application/vc+ld+json"
    } else if accept.contains("application/ld+json") {
        "application/ld+json"
    } else {
        "application/json"
    }
}

/// An issued credential, the signed bytes exactly as issued (in the media type `Accept`
/// asks for), or the badge page for a browser. Revocation shows in its status list.
#[utoipa::path(
    get,
    path = "/credentials/{id}",
    tag = "public",
    params(("id" = uuid::Uuid, Path, description = "The credential's id.")),
    responses(
        (status = 200, description = "The signed credential; a browser gets the badge page.",
            content(
                (crate::credential::model::OpenBadgeCredential = "application/json"),
                (crate::credential::model::OpenBadgeCredential = "application/ld+json"),
                (crate::credential::model::OpenBadgeCredential = "application/vc+ld+json"),
                (String = "text/html"),
            )),
        crate::openapi::NotFoundPage,
    ),
)]
async fn credential(
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    headers: HeaderMap,
) -> Response {
    negotiate(
        &headers,
        pages::credential_page(&state, &id),
        credential_json(&state, &id, &headers),
    )
    .await
}

async fn credential_json(state: &AppState, id: &str, headers: &HeaderMap) -> AppResult<Response> {
    let id = path_id("credential", id)?;
    let doc = match state.documents.get(&id) {
        Some(doc) => doc,
        None => {
            let r = state
                .store
                .credential(id)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("no credential with id {id}")))?;
            let doc = axum::body::Bytes::from(r.document);
            state.documents.insert(id, doc.clone());
            doc
        }
    };
    // The signed bytes exactly as issued; status is published in the status list.
    Ok(json_response(doc, credential_media_type(headers), 60))
}

/// The public fields of a closing record (the evidence a badge links to), or its page.
#[utoipa::path(
    get,
    path = "/closings/{id}",
    tag = "public",
    params(("id" = uuid::Uuid, Path, description = "The closing's id.")),
    responses(
        (status = 200, description = "The public closing record; a browser gets its page.",
            content(
                (PublicClosing = "application/json"),
                (String = "text/html"),
            )),
        crate::openapi::NotFoundPage,
    ),
)]
async fn closing(
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    headers: HeaderMap,
) -> Response {
    negotiate(
        &headers,
        pages::closing_page(&state, &id),
        closing_json(&state, &id),
    )
    .await
}

async fn closing_json(state: &AppState, id: &str) -> AppResult<Response> {
    let id = path_id("closing", id)?;
    let c = state
        .store
        .closing(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no closing with id {id}")))?;
    let mentor = state.store.mentor(c.mentor_id).await?;
    // Only what the evidence already says publicly: no emails, no people's ids.
    let doc = json!({
        "id": state.issuer.closing_url(c.id),
        "partner": {
            "name": c.partner_name, "url": c.partner_url,
            "city": c.partner_city, "country": c.partner_country,
        },
        "stages": c.stages,
        "closed_on": c.closed_on,
        "summary": c.summary,
        "mentor": {"name": mentor.map(|m| m.name), "cc_at": program::format_time(c.mentor_cc_at)},
    });
    Ok(json_response(doc.to_string(), "application/json", 300))
}

/// A signed `BitstringStatusListCredential`: the revocation bits of one list.
#[utoipa::path(
    get,
    path = "/status/{list}",
    tag = "public",
    params(("list" = i64, Path, minimum = 0,
        description = "The list number, from a credential's `credentialStatus`, in canonical \
            decimal: `1`, never `01` or `+1`.")),
    responses(
        (status = 200, description = "The status list credential.",
            body = StatusListCredential, content_type = "application/vc+ld+json"),
        crate::openapi::NotFound,
    ),
)]
async fn status(
    State(state): State<AppState>,
    AppPath(list): AppPath<String>,
) -> AppResult<Response> {
    status_document(&state, IssuerIdForm::Https, &list).await
}

/// The same list signed under the issuer's `did:web` id, for the credentials that name it
/// (verifiers require a status list's issuer to be the credential's).
#[utoipa::path(
    get,
    path = "/status/did-web/{list}",
    tag = "public",
    params(("list" = i64, Path, minimum = 0,
        description = "The list number, in canonical decimal.")),
    responses(
        (status = 200, description = "The status list credential, issuer `did:web:…`.",
            body = StatusListCredential, content_type = "application/vc+ld+json"),
        crate::openapi::NotFound,
    ),
)]
async fn status_did_web(
    State(state): State<AppState>,
    AppPath(list): AppPath<String>,
) -> AppResult<Response> {
    status_document(&state, IssuerIdForm::DidWeb, &list).await
}

/// The signed status list `list` under the issuer id in `form`, re-signed only when its
/// revocations changed since the last request.
async fn status_document(state: &AppState, form: IssuerIdForm, list: &str) -> AppResult<Response> {
    let not_found = || AppError::NotFound(format!("no status list {list:?}"));
    // One URL per list: `/status/01` or `/status/+1` is not `/status/1`.
    let n = crate::issuer::path_number(list).ok_or_else(not_found)?;
    let mut revoked = state
        .store
        .revoked_indices(n)
        .await?
        .ok_or_else(not_found)?;
    revoked.sort_unstable();
    let cached = state
        .status_cache
        .lock()
        .await
        .get(&(form, n))
        .filter(|(bits, _)| *bits == revoked)
        .map(|(_, doc)| doc.clone());
    let doc = match cached {
        Some(doc) => doc,
        None => {
            let mut bits = status_list::StatusBitstring::new(program::STATUS_LIST_SIZE as usize);
            for &i in &revoked {
                bits.set(i as usize, true);
            }
            let issuer = &state.issuer;
            let now = program::format_time(program::now());
            let mut vc = status_list::status_list_credential(
                &issuer.status_list_url_as(form, n),
                &issuer.profile_as(form),
                &now,
                &bits,
            );
            let keys = &issuer.keys;
            crate::credential::sign_document(
                &mut vc,
                keys.active_key(),
                &issuer.verification_method(form, keys.active_kid()),
                &now,
                &state.jsonld,
            )
            .map_err(|e| AppError::Internal(anyhow::Error::new(e)))?;
            let doc = Arc::new(vc.to_string());
            state
                .status_cache
                .lock()
                .await
                .insert((form, n), (revoked, doc.clone()));
            doc
        }
    };
    // Short cache: a revocation must show quickly.
    Ok(json_response(doc.to_string(), "application/vc+ld+json", 30))
}

/// The DID document of the issuer's `did:web` id: every key, active and retired, as a
/// `Multikey` verification method listed in `assertionMethod`.
#[utoipa::path(
    get,
    path = "/.well-known/did.json",
    tag = "public",
    responses(
        (status = 200, description = "The DID document of `did:web:{host}`.",
            body = DidDocument, content_type = "application/did+ld+json"),
        crate::openapi::NotFound,
    ),
)]
async fn did_document(State(state): State<AppState>) -> AppResult<Response> {
    did_document_at(&state, "/.well-known/did.json")
}

/// The DID document when the base URL has a path: `did:web:host:path` resolves to
/// `{base}/did.json`.
#[utoipa::path(
    get,
    path = "/did.json",
    tag = "public",
    responses(
        (status = 200, description = "The DID document of `did:web:{host}:{path}`.",
            body = DidDocument, content_type = "application/did+ld+json"),
        crate::openapi::NotFound,
    ),
)]
async fn did_document_at_path(State(state): State<AppState>) -> AppResult<Response> {
    did_document_at(&state, "/did.json")
}

/// The DID document, served only at the path its DID resolves to.
fn did_document_at(state: &AppState, path: &str) -> AppResult<Response> {
    let issuer = &state.issuer;
    if issuer.did_document_path() != path {
        return Err(AppError::NotFound(format!(
            "the DID document of {} is at {}",
            issuer.did(),
            issuer.did_document_path()
        )));
    }
    let did = issuer.did();
    let mut ids = Vec::new();
    let methods: Vec<_> = issuer
        .keys
        .public_keys()
        .map(|(kid, key)| {
            let id = issuer.verification_method(IssuerIdForm::DidWeb, kid);
            ids.push(id.clone());
            json!({
                "id": id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": multikey::encode_public_key(&key),
            })
        })
        .collect();
    let doc = json!({
        "@context": [DID_V1_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": ids,
    });
    Ok(json_response(
        doc.to_string(),
        "application/did+ld+json",
        300,
    ))
}

// ---------------------------------------------------------------- schemas
//
// The shapes of answers built with `json!` above, for the OpenAPI document only.

/// The issuer `Profile` (JSON-LD), listing every key that ever signed for it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct IssuerProfileDocument {
    #[serde(rename = "@context")]
    context: Vec<String>,
    id: String,
    /// `["Profile"]`.
    #[serde(rename = "type")]
    kind: Vec<String>,
    name: String,
    url: Option<String>,
    email: Option<String>,
    /// Key URLs, `{base}/issuer/keys/{kid}`.
    #[serde(rename = "assertionMethod")]
    assertion_method: Vec<String>,
}

/// A public key as a `Multikey` document.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MultikeyDocument {
    #[serde(rename = "@context")]
    context: Vec<String>,
    id: String,
    /// `Multikey`.
    #[serde(rename = "type")]
    kind: String,
    /// The issuer, `{base}/issuer`.
    controller: String,
    /// `z6Mk…`: the Ed25519 public key, multibase.
    #[serde(rename = "publicKeyMultibase")]
    public_key_multibase: String,
}

/// The issuer's DID document (`did:web`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct DidDocument {
    /// DID v1 and Multikey v1.
    #[serde(rename = "@context")]
    context: Vec<String>,
    /// `did:web:{host}`.
    id: String,
    /// Every key, active and retired.
    #[serde(rename = "verificationMethod")]
    verification_method: Vec<DidVerificationMethod>,
    /// The ids of those keys: `did:web:{host}#{kid}`.
    #[serde(rename = "assertionMethod")]
    assertion_method: Vec<String>,
}

/// One key of the DID document, a `Multikey`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct DidVerificationMethod {
    /// `did:web:{host}#{kid}`.
    id: String,
    /// `Multikey`.
    #[serde(rename = "type")]
    kind: String,
    /// The DID.
    controller: String,
    /// `z6Mk…`: the Ed25519 public key, multibase.
    #[serde(rename = "publicKeyMultibase")]
    public_key_multibase: String,
}

/// The narrative criteria of an achievement.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NarrativeCriteria {
    narrative: String,
}

/// An `Achievement` (JSON-LD), with its creator.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AchievementDocument {
    #[serde(rename = "@context")]
    context: Vec<String>,
    id: String,
    #[serde(rename = "type")]
    types: Vec<String>,
    /// `Badge` or `Certification`.
    #[serde(rename = "achievementType")]
    achievement_type: String,
    name: String,
    description: String,
    criteria: NarrativeCriteria,
    creator: Profile,
}

/// The partner of a public closing record.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PublicPartner {
    name: String,
    #[schema(required)]
    url: Option<String>,
    #[schema(required)]
    city: Option<String>,
    #[schema(required)]
    country: Option<String>,
}

/// The mentor of a public closing record.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PublicMentor {
    #[schema(required)]
    name: Option<String>,
    /// When the mentor was CC'd.
    cc_at: String,
}

/// The public fields of a closing record (the evidence a badge links to): no emails, no
/// people's ids.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PublicClosing {
    id: String,
    partner: PublicPartner,
    stages: Stages,
    closed_on: NaiveDate,
    summary: String,
    mentor: PublicMentor,
}

/// The subject of a status list credential.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct BitstringStatusList {
    id: String,
    /// `BitstringStatusList`.
    #[serde(rename = "type")]
    kind: String,
    /// `revocation`.
    #[serde(rename = "statusPurpose")]
    status_purpose: String,
    /// Multibase (`u`) base64url of the GZIP-compressed bitstring.
    #[serde(rename = "encodedList")]
    encoded_list: String,
}

/// A signed `BitstringStatusListCredential`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct StatusListCredential {
    #[serde(rename = "@context")]
    context: Vec<String>,
    id: String,
    #[serde(rename = "type")]
    types: Vec<String>,
    /// The issuer's id: `{base}/issuer`, or `did:web:…` at `/status/did-web/{list}`.
    issuer: String,
    #[serde(rename = "validFrom")]
    valid_from: String,
    #[serde(rename = "credentialSubject")]
    credential_subject: BitstringStatusList,
    /// A set of one.
    proof: Vec<DataIntegrityProof>,
}
