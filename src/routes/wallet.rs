//! Wallet delivery over VC-API: the exchange a wallet talks to (`/exchanges/{token}`), and
//! the admin route that opens one for a credential. The rules are in
//! [`crate::program::wallet`]; the holder's "Add to wallet" button is in [`super::me`].

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::admin::path_id;
use super::extract::{scope, AppJson, AppPath, Auth};
use crate::db::Exchange;
use crate::error::{AppError, AppResult};
use crate::program::wallet::{self, ExchangeLinks, Flow};
use crate::state::AppState;

/// The admin routes (behind the admin layers in [`super::router`]).
pub fn admin_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(open_exchange, list_exchanges))
}

/// The public exchange routes a wallet uses.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(interaction, exchange))
        .routes(routes!(credential_request))
}

/// An exchange just opened: where to send the wallet.
#[derive(Serialize, ToSchema)]
pub struct OpenedExchange {
    /// The exchange's id.
    id: Uuid,
    /// The credential it delivers.
    credential_id: Uuid,
    /// Open until.
    expires_at: DateTime<Utc>,
    #[serde(flatten)]
    links: ExchangeLinks,
}

/// Opens a wallet exchange for a credential: hand its deep link or interaction URL to the
/// holder's wallet. It serves one wallet, once, until `expires_at`.
#[utoipa::path(
    post,
    path = "/api/v1/credentials/{id}/exchanges",
    tag = "wallet",
    security(("bearer" = ["issue"])),
    params(("id" = Uuid, Path, description = "The credential's id.")),
    responses(
        (status = 201, description = "Opened.", body = OpenedExchange),
        crate::openapi::AuthErrors, crate::openapi::NotFound, crate::openapi::Conflict,
    ),
)]
async fn open_exchange(
    State(state): State<AppState>,
    auth: Auth<scope::Issue>,
    AppPath(id): AppPath<String>,
) -> AppResult<(StatusCode, Json<OpenedExchange>)> {
    let id = path_id("credential", &id)?;
    let opened = wallet::open(&state, id, &format!("token:{}", auth.token.id)).await?;
    Ok((
        StatusCode::CREATED,
        Json(OpenedExchange {
            id: opened.exchange.id,
            credential_id: id,
            expires_at: opened.exchange.expires_at,
            links: wallet::links(
                &state,
                &opened.token,
                opened.exchange.challenge.as_deref().unwrap_or_default(),
            ),
        }),
    ))
}

/// One exchange of a credential, and the copy it delivered.
#[derive(Serialize, ToSchema)]
pub struct ExchangeView {
    id: Uuid,
    /// `holder` (their page) or `token:{id}`.
    opened_by: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    /// `open`, `expired` or `completed`.
    status: &'static str,
    /// The wallet's DID, once delivered.
    holder_did: Option<String>,
    completed_at: Option<DateTime<Utc>>,
    /// The delivered copy's id, `urn:uuid:…`.
    copy_id: Option<String>,
    /// The signed copy, as delivered.
    #[schema(value_type = Option<Object>)]
    copy: Option<Value>,
}

fn view(e: &Exchange) -> ExchangeView {
    let status = wallet::status(e, crate::program::now());
    ExchangeView {
        id: e.id,
        opened_by: e.opened_by.clone(),
        created_at: e.created_at,
        expires_at: e.expires_at,
        status,
        holder_did: e.holder_did.clone(),
        completed_at: e.completed_at,
        copy_id: e.copy_id.map(|id| format!("urn:uuid:{id}")),
        copy: e
            .copy_document
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok()),
    }
}

/// The wallet exchanges of a credential, newest first, with the holder-bound copies they
/// delivered (each carries the original's status entry: revoking the original revokes them).
#[utoipa::path(
    get,
    path = "/api/v1/credentials/{id}/exchanges",
    tag = "wallet",
    security(("bearer" = ["read"])),
    params(("id" = Uuid, Path, description = "The credential's id.")),
    responses(
        (status = 200, description = "The exchanges.", body = Object),
        crate::openapi::AuthErrors, crate::openapi::NotFound,
    ),
)]
async fn list_exchanges(
    State(state): State<AppState>,
    _auth: Auth<scope::Read>,
    AppPath(id): AppPath<String>,
) -> AppResult<Json<Value>> {
    let id = path_id("credential", &id)?;
    if state.store.credential(id).await?.is_none() {
        return Err(AppError::NotFound(format!("no credential with id {id}")));
    }
    let items: Vec<ExchangeView> = state
        .store
        .exchanges_of_credential(id)
        .await?
        .iter()
        .map(view)
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// The interaction URL (`?iuv=1`): names the VC-API exchange, the one protocol offered.
#[utoipa::path(
    get,
    path = "/exchanges/{token}",
    tag = "wallet",
    params(("token" = String, Path, description = "The exchange's token, from its link.")),
    responses(
        (status = 200, description = "`{\"protocols\": {\"vcapi\": exchange URL}}`.",
            body = Object),
        crate::openapi::NotFound, crate::openapi::Conflict,
        (status = 410, description = "The exchange has expired."),
    ),
)]
async fn interaction(
    State(state): State<AppState>,
    AppPath(token): AppPath<String>,
) -> AppResult<Json<Value>> {
    wallet::find_open(&state, &token).await?;
    Ok(Json(
        json!({"protocols": {"vcapi": state.issuer.exchange_url(&token)}}),
    ))
}

/// The VC-API exchange. `{}` asks for the presentation request (DIDAuthentication, with a
/// new challenge and this service's domain); `{"verifiablePresentation": …}` answers it
/// and gets the credential bound to the presentation's holder.
#[utoipa::path(
    post,
    path = "/exchanges/{token}",
    tag = "wallet",
    params(("token" = String, Path, description = "The exchange's token, from its link.")),
    request_body(content = Object, description = "`{}`, or `{\"verifiablePresentation\": …}` \
        signed Ed25519Signature2020 by the holder's did:key over the challenge and domain."),
    responses(
        (status = 200, description = "The presentation request, or the presentation with \
            the credential.", body = Object),
        crate::openapi::JsonBodyErrors, crate::openapi::NotFound, crate::openapi::Conflict,
        (status = 410, description = "The exchange has expired."),
    ),
)]
async fn exchange(
    State(state): State<AppState>,
    AppPath(token): AppPath<String>,
    AppJson(body): AppJson<Value>,
) -> AppResult<Json<Value>> {
    let Value::Object(mut body) = body else {
        return Err(AppError::BadRequest(
            "the body must be a JSON object: {} or {\"verifiablePresentation\": …}".into(),
        ));
    };
    let answer = match body.remove("verifiablePresentation") {
        None if body.is_empty() => wallet::request(&state, &token).await?,
        Some(vp @ Value::Object(_)) if body.is_empty() => {
            let copy = wallet::present(&state, &token, vp, Flow::VcApi).await?;
            json!({ "verifiablePresentation": wallet::presentation_of(copy) })
        }
        Some(_) if body.is_empty() => {
            return Err(AppError::BadRequest(
                "`verifiablePresentation` must be a JSON object (a signed presentation)".into(),
            ))
        }
        _ => {
            return Err(AppError::BadRequest(format!(
                "unexpected member {:?}: the body is {{}} or {{\"verifiablePresentation\": …}}",
                body.keys().next().map_or("", String::as_str)
            )))
        }
    };
    Ok(Json(answer))
}

/// The Learner Credential Wallet's credential request (`vc_request_url` of the exchange's
/// `credential_request_link`): the body is the wallet's presentation itself, signed over the
/// link's challenge; the answer is a presentation holding the copy bound to its holder.
#[utoipa::path(
    post,
    path = "/exchanges/{token}/request",
    tag = "wallet",
    params(("token" = String, Path, description = "The exchange's token, from its link.")),
    request_body(content = Object, description = "A presentation signed \
        Ed25519Signature2020 by the holder's did:key over the link's challenge."),
    responses(
        (status = 200, description = "`{\"type\": [\"VerifiablePresentation\"], \
            \"verifiableCredential\": [the copy]}`.", body = Object),
        crate::openapi::JsonBodyErrors, crate::openapi::NotFound, crate::openapi::Conflict,
        (status = 410, description = "The exchange has expired."),
    ),
)]
async fn credential_request(
    State(state): State<AppState>,
    AppPath(token): AppPath<String>,
    AppJson(body): AppJson<Value>,
) -> AppResult<Json<Value>> {
    if !body.is_object() {
        return Err(AppError::BadRequest(
            "the body must be a presentation: a JSON object".into(),
        ));
    }
    let copy = wallet::present(&state, &token, body, Flow::CredentialRequest).await?;
    Ok(Json(wallet::presentation_of(copy)))
}
