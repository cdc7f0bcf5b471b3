//! The admin API under `/api/v1`: mentors, people, closings, issuing (single, batch,
//! idempotent), revoking and listing credentials. Every route needs a bearer token with the
//! scope named in its handler's `Auth<scope::…>`: `read` for `GET`, `issue` for records and
//! issuing, `revoke` for revoking (`admin` allows all).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{scope, AppJson, AppPath, Auth};
use crate::db::{
    BadgeState, Closing, CredentialFilter, CredentialRecord, Mentor, Person, RecordFilter, Stages,
};
use crate::error::{AppError, AppResult};
use crate::program::issue::{issue, IssueRequest};
use crate::program::records::{self, ClosingPatch, NewClosing, NewMentor, NewPerson, PersonPatch};
use crate::program::{self, CERTIFIED, CLOSED};
use crate::state::AppState;

/// The admin routes, each at the path and method of its `#[utoipa::path]`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(create_mentor, list_mentors))
        .routes(routes!(get_mentor))
        .routes(routes!(create_person, list_people))
        .routes(routes!(get_person, patch_person, erase_person))
        .routes(routes!(create_closing, list_closings))
        .routes(routes!(get_closing, patch_closing))
        .routes(routes!(create_credential, list_credentials))
        .routes(routes!(batch_issue))
        .routes(routes!(get_credential))
        .routes(routes!(revoke_credential))
}

/// Parses a path id ([`crate::issuer::path_uuid`]: hyphenated only); a malformed id, or
/// another spelling of one, names nothing, so it is a 404.
pub(crate) fn path_id(kind: &str, raw: &str) -> AppResult<Uuid> {
    crate::issuer::path_uuid(raw)
        .ok_or_else(|| AppError::NotFound(format!("no {kind} with id {raw:?}")))
}

fn mentor_json(m: &Mentor) -> Value {
    json!({"id": m.id, "name": m.name, "email": m.email, "url": m.url, "created_at": m.created_at})
}

fn person_json(p: &Person) -> Value {
    json!({
        "id": p.id, "name": p.name, "email": p.email, "city": p.city, "country": p.country,
        "url": p.url, "listed_in_registry": p.listed_in_registry, "created_at": p.created_at,
        "consent_by": p.consent.by, "consent_source": p.consent.source,
        "consent_version": p.consent.version, "consent_at": p.consent.at,
        "withdrawn_at": p.consent.withdrawn_at, "erased_at": p.erased_at,
    })
}

fn closing_json(state: &AppState, c: &Closing) -> Value {
    json!({
        "id": c.id, "url": state.issuer.closing_url(c.id), "closer_id": c.closer_id,
        "mentor_id": c.mentor_id, "mentor_cc_at": c.mentor_cc_at, "mentor_cc_ref": c.mentor_cc_ref,
        "partner_name": c.partner_name, "partner_url": c.partner_url,
        "partner_city": c.partner_city, "partner_country": c.partner_country,
        "stages": c.stages, "closed_on": c.closed_on, "summary": c.summary,
        "created_at": c.created_at, "partner_fit": c.partner_fit,
    })
}

/// A credential as the admin API shows it: record fields plus the signed document verbatim.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CredentialView<'a> {
    id: Uuid,
    url: String,
    achievement: &'a str,
    person_id: Uuid,
    closing_id: Option<Uuid>,
    #[schema(value_type = CredentialStatus)]
    status: &'static str,
    issued_at: DateTime<Utc>,
    valid_until: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    revocation_reason: Option<&'a str>,
    status_list: String,
    status_list_index: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::credential::model::OpenBadgeCredential>)]
    credential: Option<&'a RawValue>,
}

fn raw(doc: &str) -> AppResult<&RawValue> {
    serde_json::from_str(doc)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored credential is not JSON: {e}")))
}

pub(crate) fn credential_view<'a>(
    state: &AppState,
    r: &'a CredentialRecord,
    with_document: bool,
) -> AppResult<CredentialView<'a>> {
    Ok(CredentialView {
        id: r.id,
        url: state.issuer.credential_url(r.id),
        achievement: &r.achievement,
        person_id: r.person_id,
        closing_id: r.closing_id,
        status: r.status_at(program::now()),
        issued_at: r.issued_at,
        valid_until: r.valid_until,
        revoked_at: r.revoked_at,
        revocation_reason: r.revocation_reason.as_deref(),
        status_list: state.issuer.status_list_url(r.status_list),
        status_list_index: r.status_index,
        credential: if with_document {
            Some(raw(&r.document)?)
        } else {
            None
        },
    })
}

/// Records a mentor.
#[utoipa::path(
    post,
    path = "/api/v1/mentors",
    tag = "admin",
    security(("bearer" = ["issue"])),
    request_body = NewMentor,
    responses(
        (status = 201, description = "Recorded.", body = MentorView),
        crate::openapi::AuthErrors, crate::openapi::JsonBodyErrors, crate::openapi::Conflict,
    ),
)]
async fn create_mentor(
    State(state): State<AppState>,
    _auth: Auth<scope::Issue>,
    AppJson(input): AppJson<NewMentor>,
) -> AppResult<Response> {
    let m = records::create_mentor(&*state.store, input).await?;
    Ok((StatusCode::CREATED, Json(mentor_json(&m))).into_response())
}

/// A mentor.
#[utoipa::path(
    get,
    path = "/api/v1/mentors/{id}",
    tag = "admin",
    security(("bearer" = ["read"])),
    params(("id" = Uuid, Path, description = "The mentor's id.")),
    responses(
        (status = 200, description = "The mentor.", body = MentorView),
        crate::openapi::AuthErrors, crate::openapi::NotFound,
    ),
)]
async fn get_mentor(
    State(state): State<AppState>,
    _auth: Auth<scope::Read>,
    AppPath(id): AppPath<String>,
) -> AppResult<Json<Value>> {
    let id = path_id("mentor", &id)?;
    let m = state
        .store
        .mentor(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no mentor with id {id}")))?;
    Ok(Json(mentor_json(&m)))
}

/// Records a person (a badge recipient).
#[utoipa::path(
    post,
    path = "/api/v1/people",
    tag = "admin",
    security(("bearer" = ["issue"])),
    request_body = NewPerson,
    responses(
        (status = 201, description = "Recorded.", body = PersonView),
        crate::openapi::AuthErrors, crate::openapi::JsonBodyErrors, crate::openapi::Conflict,
    ),
)]
async fn create_person(
    State(state): State<AppState>,
    _auth: Auth<scope::Issue>,
    AppJson(input): AppJson<NewPerson>,
) -> AppResult<Response> {
    let p = records::create_person(&*state.store, input).await?;
    Ok((StatusCode::CREATED, Json(person_json(&p))).into_response())
}

/// A person.
#[utoipa::path(
    get,
    path = "/api/v1/people/{id}",
    tag = "admin",
    security(("bearer" = ["read"])),
    params(("id" = Uuid, Path, description = "The person's id.")),
    responses(
        (status = 200, description = "The person.", body = PersonView),
        crate::openapi::AuthErrors, crate::openapi::NotFound,
    ),
)]
async fn get_person(
    State(state): State<AppState>,
    _auth: Auth<scope::Read>,
    AppPath(id): AppPath<String>,
) -> AppResult<Json<Value>> {
    let id = path_id("person", &id)?;
    let p = state
        .store
        .person(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no person with id {id}")))?;
    Ok(Json(person_json(&p)))
}

/// Changes the fields of a person that the body names.
#[utoipa::path(
    patch,
    path = "/api/v1/people/{id}",
    tag = "admin",
    security(("bearer" = ["issue"])),
    params(("id" = Uuid, Path, description = "The person's id.")),
    request_body = PersonPatch,
    responses(
        (status = 200, description = "The person as now stored.",
            body = PersonView),
        crate::openapi::AuthErrors, crate::openapi::JsonBodyErrors, crate::openapi::NotFound,
        crate::openapi::Conflict,
    ),
)]
async fn patch_person(
    State(state): State<AppState>,
    _auth: Auth<scope::Issue>,
    AppPath(id): AppPath<String>,
    AppJson(patch): AppJson<PersonPatch>,
) -> AppResult<Json<Value>> {
    let id = path_id("person", &id)?;
    let p = records::update_person(&*state.store, id, patch).await?;
    // The holder's name and consent show on their badge pages, on every instance.
    state.badges.changed(&*state.store).await?;
    Ok(Json(person_json(&p)))
}

/// Erases a person at their request: their credentials are revoked ("erased at the
/// holder's request"), their name, email, city and url removed, they leave the registry
/// and their queued messages are dropped. Credentials they shared keep verifying, as
/// revoked. Audited like every admin request.
#[utoipa::path(
    delete,
    path = "/api/v1/people/{id}",
    tag = "admin",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "The person's id.")),
    responses(
        (status = 200, description = "Erased.", body = ErasureView),
        crate::openapi::AuthErrors, crate::openapi::NotFound,
    ),
)]
async fn erase_person(
    State(state): State<AppState>,
    _auth: Auth<scope::Admin>,
    AppPath(id): AppPath<String>,
) -> AppResult<Json<Value>> {
    let id = path_id("person", &id)?;
    let done = program::holder::erase(&*state.store, id).await?;
    state.badges.changed(&*state.store).await?;
    Ok(Json(json!({
        "person_id": id,
        "revoked_credentials": done.revoked,
        "messages_dropped": done.messages_dropped,
    })))
}

/// Records the closing of a partnership (the evidence of Partnership Closed).
#[utoipa::path(
    post,
    path = "/api/v1/closings",
    tag = "admin",
    security(("bearer" = ["issue"])),
    request_body = NewClosing,
    responses(
        (status = 201, description = "Recorded.", body = ClosingView),
        crate::openapi::AuthErrors, crate::openapi::JsonBodyErrors,
    ),
)]
async fn create_closing(
    State(state): State<AppState>,
    _auth: Auth<scope::Issue>,
    AppJson(input): AppJson<NewClosing>,
) -> AppResult<Response> {
    let c = records::create_closing(&*state.store, input).await?;
    Ok((StatusCode::CREATED, Json(closing_json(&state, &c))).into_response())
}

/// A closing record.
#[utoipa::path(
    get,
    path = "/api/v1/closings/{id}",
    tag = "admin",
    security(("bearer" = ["read"])),
    params(("id" = Uuid, Path, description = "The closing's id.")),
    responses(
        (status = 200, description = "The closing record.", body = ClosingView),
        crate::openapi::AuthErrors, crate::openapi::NotFound,
    ),
)]
async fn get_closing(
    State(state): State<AppState>,
    _auth: Auth<scope::Read>,
    AppPath(id): AppPath<String>,
) -> AppResult<Json<Value>> {
    let id = path_id("closing", &id)?;
    let c = state
        .store
        .closing(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no closing with id {id}")))?;
    Ok(Json(closing_json(&state, &c)))
}

/// Records, changes or removes (`null`) a closing's partner-fit assessment. Internal: it
/// is in the admin API only, never on the public closing record or in a credential.
#[utoipa::path(
    patch,
    path = "/api/v1/closings/{id}",
    tag = "admin",
    security(("bearer" = ["issue"])),
    params(("id" = Uuid, Path, description = "The closing's id.")),
    request_body = ClosingPatch,
    responses(
        (status = 200, description = "The closing record as it now is.", body = ClosingView),
        crate::openapi::JsonBodyErrors, crate::openapi::AuthErrors, crate::openapi::NotFound,
    ),
)]
async fn patch_closing(
    State(state): State<AppState>,
    _auth: Auth<scope::Issue>,
    AppPath(id): AppPath<String>,
    AppJson(patch): AppJson<ClosingPatch>,
) -> AppResult<Json<Value>> {
    let id = path_id("closing", &id)?;
    let c = records::patch_closing(&*state.store, id, patch).await?;
    Ok(Json(closing_json(&state, &c)))
}

fn idempotency_key(headers: &HeaderMap) -> AppResult<Option<String>> {
    headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map(str::to_owned)
                .map_err(|_| AppError::BadRequest("Idempotency-Key must be ASCII".into()))
        })
        .transpose()
}

/// Issues a badge. With an `Idempotency-Key`, a retry of the same request answers the first
/// credential (200) and the key with another body is a 409.
#[utoipa::path(
    post,
    path = "/api/v1/credentials",
    tag = "admin",
    security(("bearer" = ["issue"])),
    params((
        "Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        pattern = "^[\\x21-\\x7E]+$",
        description = "Makes retries safe: 1 to 255 visible ASCII characters."
    )),
    request_body = IssueRequest,
    responses(
        (status = 201, description = "Issued; `credential` is the signed document.",
            body = CredentialView),
        (status = 200, description = "A retry under the same Idempotency-Key: the credential \
            issued the first time.", body = CredentialView),
        crate::openapi::AuthErrors, crate::openapi::JsonBodyErrors, crate::openapi::Conflict,
    ),
)]
async fn create_credential(
    State(state): State<AppState>,
    _auth: Auth<scope::Issue>,
    headers: HeaderMap,
    AppJson(req): AppJson<IssueRequest>,
) -> AppResult<Response> {
    let key = idempotency_key(&headers)?;
    let issued = issue(&state, req, key).await?;
    let status = if issued.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let view = credential_view(&state, &issued.record, true)?;
    Ok((status, Json(view)).into_response())
}

/// One item of a batch: an issue request plus its own optional idempotency key.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchItem {
    #[serde(flatten)]
    request: IssueRequest,
    #[serde(default)]
    idempotency_key: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct BatchRequest {
    #[schema(value_type = Vec<BatchItemSchema>, min_items = 1)]
    items: Vec<Value>,
}

/// Issues many badges; each row succeeds or fails on its own.
#[utoipa::path(
    post,
    path = "/api/v1/credentials/batch",
    tag = "admin",
    security(("bearer" = ["issue"])),
    request_body = BatchRequest,
    responses(
        (status = 200, description = "One result per row, in order.",
            body = BatchResponse),
        crate::openapi::AuthErrors, crate::openapi::JsonBodyErrors,
    ),
)]
async fn batch_issue(
    State(state): State<AppState>,
    _auth: Auth<scope::Issue>,
    AppJson(batch): AppJson<BatchRequest>,
) -> AppResult<Json<Value>> {
    if batch.items.is_empty() {
        return Err(AppError::invalid("items", "items must not be empty"));
    }
    let max = state.settings.max_batch_items;
    if batch.items.len() > max {
        return Err(AppError::invalid(
            "items",
            format!(
                "items holds {} entries; at most {max} per batch",
                batch.items.len()
            ),
        ));
    }
    let mut results = Vec::with_capacity(batch.items.len());
    let (mut created, mut failed) = (0, 0);
    for (index, raw_item) in batch.items.into_iter().enumerate() {
        // Each row is parsed and issued on its own: one bad row never stops the others.
        let outcome = match serde_json::from_value::<BatchItem>(raw_item) {
            Err(e) => Err(AppError::Unprocessable {
                detail: format!("items[{index}]: {e}"),
                field: Some(format!("items[{index}]")),
            }),
            Ok(item) => issue(&state, item.request, item.idempotency_key).await,
        };
        match outcome {
            Ok(issued) => {
                if issued.created {
                    created += 1;
                }
                let view = credential_view(&state, &issued.record, false)?;
                results.push(json!({
                    "index": index,
                    "status": if issued.created { 201 } else { 200 },
                    "result": if issued.created { "created" } else { "existing" },
                    "credential": view,
                }));
            }
            Err(AppError::Internal(e)) => return Err(AppError::Internal(e)),
            Err(e) => {
                failed += 1;
                results.push(json!({
                    "index": index,
                    "status": e.status().as_u16(),
                    "result": "error",
                    "detail": e.to_string(),
                }));
            }
        }
    }
    Ok(Json(
        json!({"created": created, "failed": failed, "results": results}),
    ))
}

/// A credential with its status and signed document.
#[utoipa::path(
    get,
    path = "/api/v1/credentials/{id}",
    tag = "admin",
    security(("bearer" = ["read"])),
    params(("id" = Uuid, Path, description = "The credential's id.")),
    responses(
        (status = 200, description = "The credential.", body = CredentialView),
        crate::openapi::AuthErrors, crate::openapi::NotFound,
    ),
)]
async fn get_credential(
    State(state): State<AppState>,
    _auth: Auth<scope::Read>,
    AppPath(id): AppPath<String>,
) -> AppResult<Response> {
    let id = path_id("credential", &id)?;
    let r = state
        .store
        .credential(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no credential with id {id}")))?;
    Ok(Json(credential_view(&state, &r, true)?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RevokeRequest {
    /// Why; shown on the badge page, to verifiers and in the holder's message.
    reason: String,
    /// Whether the holder is emailed, with the reason (default `true`).
    #[serde(default)]
    notify: Option<bool>,
}

/// Revokes a credential: its bit is set in its status list. Repeating the same revocation
/// answers success; another reason is a 409.
#[utoipa::path(
    post,
    path = "/api/v1/credentials/{id}/revoke",
    tag = "admin",
    security(("bearer" = ["revoke"])),
    params(("id" = Uuid, Path, description = "The credential's id.")),
    request_body = RevokeRequest,
    responses(
        (status = 200, description = "Revoked (now or before, for the same reason).",
            body = CredentialView),
        crate::openapi::AuthErrors, crate::openapi::JsonBodyErrors, crate::openapi::NotFound,
        crate::openapi::Conflict,
    ),
)]
async fn revoke_credential(
    State(state): State<AppState>,
    _auth: Auth<scope::Revoke>,
    AppPath(id): AppPath<String>,
    AppJson(req): AppJson<RevokeRequest>,
) -> AppResult<Response> {
    let id = path_id("credential", &id)?;
    let r =
        crate::program::issue::revoke(&state, id, &req.reason, req.notify != Some(false)).await?;
    Ok(Json(credential_view(&state, &r, false)?).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only this person's credentials.
    #[param(value_type = Option<Uuid>)]
    person: Option<String>,
    /// Only this achievement: `partnership-closed` or `partnership-certified`.
    #[param(pattern = "^partnership-(closed|certified)$")]
    achievement: Option<String>,
    /// Only credentials with this status now.
    #[param(value_type = Option<CredentialStatus>)]
    status: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
}

fn encode_cursor(r: &CredentialRecord) -> String {
    super::extract::encode_time_cursor(r.issued_at, r.id)
}

/// Lists credentials, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/credentials",
    tag = "admin",
    security(("bearer" = ["read"])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page; follow `next_cursor`.",
            body = CredentialList),
        crate::openapi::BadQuery, crate::openapi::AuthErrors,
    ),
)]
async fn list_credentials(
    State(state): State<AppState>,
    _auth: Auth<scope::Read>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Value>> {
    let q = super::extract::list_query(query)?;
    let limit = super::extract::page_limit(q.limit.as_deref(), 200)?;
    let person_id = query_uuid("person", q.person.as_deref())?;
    if let Some(a) = &q.achievement {
        if a != CLOSED && a != CERTIFIED {
            return Err(AppError::BadRequest(format!(
                "achievement must be {CLOSED} or {CERTIFIED}"
            )));
        }
    }
    if let Some(s) = &q.status {
        if !["valid", "revoked", "expired"].contains(&s.as_str()) {
            return Err(AppError::BadRequest(
                "status must be valid, revoked or expired".into(),
            ));
        }
    }
    let filter = CredentialFilter {
        person_id,
        achievement: q.achievement,
        status: q.status,
        after: q
            .cursor
            .as_deref()
            .map(super::extract::decode_time_cursor)
            .transpose()?,
        limit: limit + 1,
        now: program::now(),
    };
    let mut rows = state.store.list_credentials(&filter).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(encode_cursor)
    } else {
        None
    };
    let items = rows
        .iter()
        .map(|r| credential_view(&state, r, false))
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Json(json!({"items": items, "next_cursor": next})))
}

// ---------------------------------------------------------------- record lists

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct PeopleQuery {
    /// A part of the name or email, any case.
    #[param(max_length = 200)]
    pub(crate) q: Option<String>,
    /// Only people of this country.
    #[param(max_length = 100)]
    pub(crate) country: Option<String>,
    /// Only people in this badge state: `ready-to-certify` (a valid Partnership Closed
    /// and no valid Certified) or `certified` (a valid Certified).
    #[param(pattern = "^(ready-to-certify|certified)$")]
    pub(crate) badge: Option<String>,
    /// The `next_cursor` of the previous page.
    pub(crate) cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub(crate) limit: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct MentorQuery {
    /// A part of the name or email, any case.
    #[param(max_length = 200)]
    pub(crate) q: Option<String>,
    /// The `next_cursor` of the previous page.
    pub(crate) cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub(crate) limit: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ClosingQuery {
    /// A part of the partner's name, any case.
    #[param(max_length = 200)]
    pub(crate) q: Option<String>,
    /// Only partners of this country.
    #[param(max_length = 100)]
    pub(crate) country: Option<String>,
    /// Closed on or after this day (`YYYY-MM-DD`).
    #[param(value_type = Option<NaiveDate>)]
    pub(crate) closed_from: Option<String>,
    /// Closed on or before this day (`YYYY-MM-DD`).
    #[param(value_type = Option<NaiveDate>)]
    pub(crate) closed_to: Option<String>,
    /// Only this closer's closings.
    #[param(value_type = Option<Uuid>)]
    pub(crate) person: Option<String>,
    /// Only closings this mentor was CC'd on.
    #[param(value_type = Option<Uuid>)]
    pub(crate) mentor: Option<String>,
    /// Only closings in this badge state: `without-closed` (no unrevoked Partnership
    /// Closed) or `with-closed`.
    #[param(pattern = "^(without-closed|with-closed)$")]
    pub(crate) badge: Option<String>,
    /// The `next_cursor` of the previous page.
    pub(crate) cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub(crate) limit: Option<String>,
}

/// The filter every record list shares: `q` (at most 200 characters), the cursor and the
/// page size (one more row than the page, to know whether there is a next).
fn record_filter(
    q: Option<String>,
    cursor: Option<&str>,
    limit: Option<&str>,
) -> AppResult<(RecordFilter, i64)> {
    let limit = super::extract::page_limit(limit, 200)?;
    let q = q.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
    if q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(AppError::BadRequest(
            "q must be at most 200 characters".into(),
        ));
    }
    let filter = RecordFilter {
        q,
        after: cursor
            .filter(|c| !c.is_empty())
            .map(super::extract::decode_time_cursor)
            .transpose()?,
        limit: limit + 1,
        now: program::now(),
        ..RecordFilter::default()
    };
    Ok((filter, limit))
}

/// A badge state of people (`of_closings` false) or closings; a 400 naming the choices.
fn query_badge(raw: Option<&str>, of_closings: bool) -> AppResult<Option<BadgeState>> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    match BadgeState::from_name(raw).filter(|s| s.of_closings() == of_closings) {
        Some(s) => Ok(Some(s)),
        None if of_closings => Err(AppError::BadRequest(
            "badge must be without-closed or with-closed".into(),
        )),
        None => Err(AppError::BadRequest(
            "badge must be ready-to-certify or certified".into(),
        )),
    }
}

/// The filter and page size of `GET /api/v1/people` (and the console's list).
pub(crate) fn people_filter(q: PeopleQuery) -> AppResult<(RecordFilter, i64)> {
    let (mut filter, limit) = record_filter(q.q, q.cursor.as_deref(), q.limit.as_deref())?;
    filter.country = q.country.filter(|c| !c.trim().is_empty());
    filter.badge = query_badge(q.badge.as_deref(), false)?;
    Ok((filter, limit))
}

/// The filter and page size of `GET /api/v1/mentors` (and the console's list).
pub(crate) fn mentor_filter(q: MentorQuery) -> AppResult<(RecordFilter, i64)> {
    record_filter(q.q, q.cursor.as_deref(), q.limit.as_deref())
}

/// The filter and page size of `GET /api/v1/closings` (and the console's list).
pub(crate) fn closing_filter(q: ClosingQuery) -> AppResult<(RecordFilter, i64)> {
    let (mut filter, limit) = record_filter(q.q, q.cursor.as_deref(), q.limit.as_deref())?;
    let blank = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
    filter.country = blank(q.country);
    filter.closed_from = query_date("closed_from", blank(q.closed_from).as_deref())?;
    filter.closed_to = query_date("closed_to", blank(q.closed_to).as_deref())?;
    filter.person_id = query_uuid("person", blank(q.person).as_deref())?;
    filter.mentor_id = query_uuid("mentor", blank(q.mentor).as_deref())?;
    filter.badge = query_badge(q.badge.as_deref(), true)?;
    Ok((filter, limit))
}

/// A page of `rows` (one more than `limit` if there is a next) as `{items, next_cursor}`.
fn page<T>(
    mut rows: Vec<T>,
    limit: i64,
    key: impl Fn(&T) -> (DateTime<Utc>, Uuid),
    view: impl Fn(&T) -> Value,
) -> Json<Value> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = more
        .then(|| rows.last().map(&key))
        .flatten()
        .map(|(t, id)| super::extract::encode_time_cursor(t, id));
    let items: Vec<Value> = rows.iter().map(view).collect();
    Json(json!({"items": items, "next_cursor": next}))
}

fn query_uuid(name: &str, raw: Option<&str>) -> AppResult<Option<Uuid>> {
    raw.map(|v| {
        Uuid::parse_str(v).map_err(|_| AppError::BadRequest(format!("{name} must be a UUID")))
    })
    .transpose()
}

fn query_date(name: &str, raw: Option<&str>) -> AppResult<Option<NaiveDate>> {
    raw.map(|v| {
        NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map_err(|_| AppError::BadRequest(format!("{name} must be a date, YYYY-MM-DD")))
    })
    .transpose()
}

/// Lists people, newest first, a page at a time: search by name or email, filter by country.
#[utoipa::path(
    get,
    path = "/api/v1/people",
    tag = "admin",
    security(("bearer" = ["read"])),
    params(PeopleQuery),
    responses(
        (status = 200, description = "A page; follow `next_cursor`.", body = PeopleList),
        crate::openapi::BadQuery, crate::openapi::AuthErrors,
    ),
)]
async fn list_people(
    State(state): State<AppState>,
    _auth: Auth<scope::Read>,
    query: Result<Query<PeopleQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Value>> {
    let (filter, limit) = people_filter(super::extract::list_query(query)?)?;
    let rows = state.store.list_people(&filter).await?;
    Ok(page(rows, limit, |p| (p.created_at, p.id), person_json))
}

/// Lists mentors, newest first, a page at a time: search by name or email.
#[utoipa::path(
    get,
    path = "/api/v1/mentors",
    tag = "admin",
    security(("bearer" = ["read"])),
    params(MentorQuery),
    responses(
        (status = 200, description = "A page; follow `next_cursor`.", body = MentorList),
        crate::openapi::BadQuery, crate::openapi::AuthErrors,
    ),
)]
async fn list_mentors(
    State(state): State<AppState>,
    _auth: Auth<scope::Read>,
    query: Result<Query<MentorQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Value>> {
    let (filter, limit) = mentor_filter(super::extract::list_query(query)?)?;
    let rows = state.store.list_mentors(&filter).await?;
    Ok(page(rows, limit, |m| (m.created_at, m.id), mentor_json))
}

/// Lists closings, newest first, a page at a time: search by partner, filter by partner
/// country, closing dates, closer and mentor.
#[utoipa::path(
    get,
    path = "/api/v1/closings",
    tag = "admin",
    security(("bearer" = ["read"])),
    params(ClosingQuery),
    responses(
        (status = 200, description = "A page; follow `next_cursor`.", body = ClosingList),
        crate::openapi::BadQuery, crate::openapi::AuthErrors,
    ),
)]
async fn list_closings(
    State(state): State<AppState>,
    _auth: Auth<scope::Read>,
    query: Result<Query<ClosingQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Value>> {
    let (filter, limit) = closing_filter(super::extract::list_query(query)?)?;
    let rows = state.store.list_closings(&filter).await?;
    Ok(page(
        rows,
        limit,
        |c| (c.created_at, c.id),
        |c| closing_json(&state, c),
    ))
}

// ---------------------------------------------------------------- schemas
//
// The shapes of answers built with `json!` above, for the OpenAPI document only.

/// A page of `GET /api/v1/people`, newest first.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PeopleList {
    items: Vec<PersonView>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(required)]
    next_cursor: Option<String>,
}

/// A page of `GET /api/v1/mentors`, newest first.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MentorList {
    items: Vec<MentorView>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(required)]
    next_cursor: Option<String>,
}

/// A page of `GET /api/v1/closings`, newest first.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ClosingList {
    items: Vec<ClosingView>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(required)]
    next_cursor: Option<String>,
}

/// A mentor, as the admin API shows it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MentorView {
    id: Uuid,
    name: String,
    /// Never published.
    email: String,
    #[schema(required)]
    url: Option<String>,
    created_at: DateTime<Utc>,
}

/// What an erasure did.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErasureView {
    person_id: Uuid,
    /// The credentials it revoked.
    revoked_credentials: Vec<Uuid>,
    /// Queued or sent messages dropped.
    messages_dropped: u64,
}

/// A person, as the admin API shows it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PersonView {
    id: Uuid,
    name: String,
    /// Normalised (trimmed, lower-case); credentials carry only its salted hash.
    email: String,
    #[schema(required)]
    city: Option<String>,
    #[schema(required)]
    country: Option<String>,
    #[schema(required)]
    url: Option<String>,
    /// Listed in the public registry now.
    listed_in_registry: bool,
    created_at: DateTime<Utc>,
    /// Who made the latest registry choice: `holder` (on their page) or `admin`.
    #[schema(required)]
    consent_by: Option<String>,
    /// For an admin's listing: where the consent was collected.
    #[schema(required)]
    consent_source: Option<String>,
    /// For the holder's consent: the version of the consent text they saw.
    #[schema(required)]
    consent_version: Option<String>,
    /// When the latest registry choice was made.
    #[schema(required)]
    consent_at: Option<DateTime<Utc>>,
    /// When the person withdrew on their page; while set, only they can relist.
    #[schema(required)]
    withdrawn_at: Option<DateTime<Utc>>,
    /// When the person was erased at their request.
    #[schema(required)]
    erased_at: Option<DateTime<Utc>>,
}

/// A closing record, as the admin API shows it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ClosingView {
    id: Uuid,
    /// The public closing record, `{base}/closings/{id}`.
    url: String,
    closer_id: Uuid,
    mentor_id: Uuid,
    mentor_cc_at: DateTime<Utc>,
    #[schema(required)]
    mentor_cc_ref: Option<String>,
    partner_name: String,
    #[schema(required)]
    partner_url: Option<String>,
    #[schema(required)]
    partner_city: Option<String>,
    #[schema(required)]
    partner_country: Option<String>,
    stages: Stages,
    closed_on: NaiveDate,
    summary: String,
    created_at: DateTime<Utc>,
    /// The program's assessment of the partner; internal.
    #[schema(required)]
    partner_fit: Option<crate::db::PartnerFit>,
}

/// A credential's status at the time of the answer.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "lowercase")]
pub enum CredentialStatus {
    /// Neither revoked nor expired.
    Valid,
    /// Revoked by an admin.
    Revoked,
    /// Past its `valid_until`.
    Expired,
}

/// A page of `GET /api/v1/credentials`, newest first.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CredentialList {
    items: Vec<CredentialView<'static>>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(required)]
    next_cursor: Option<String>,
}

/// One row of a batch: an issue request plus its own optional idempotency key.
#[derive(ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
#[schema(as = BatchItem)]
pub struct BatchItemSchema {
    /// `partnership-closed` or `partnership-certified`.
    achievement: String,
    person_id: Uuid,
    /// Required for Partnership Closed; for Partnership Certified, the one closing to cite.
    closing_id: Option<Uuid>,
    valid_until: Option<DateTime<Utc>>,
    /// Same meaning as the `Idempotency-Key` header of a single issue.
    #[schema(min_length = 1, max_length = 255, pattern = "^[\\x21-\\x7E]+$")]
    idempotency_key: Option<String>,
}

/// What happened to one row of a batch.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "lowercase")]
pub enum BatchOutcome {
    /// Issued now (status 201).
    Created,
    /// An idempotent retry: the earlier credential (status 200).
    Existing,
    /// Not issued; `detail` says why.
    Error,
}

/// One result of a batch, at the index of its row.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct BatchResult {
    index: usize,
    /// The HTTP status the row would have had on its own.
    status: u16,
    result: BatchOutcome,
    /// For `created` and `existing`: the credential (without the signed document).
    credential: Option<CredentialView<'static>>,
    /// For `error`: what is wrong.
    detail: Option<String>,
}

/// The answer to a batch: one result per row, in order.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct BatchResponse {
    created: usize,
    failed: usize,
    results: Vec<BatchResult>,
}
