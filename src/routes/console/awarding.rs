//! Awarding and revoking in the console. "Award Partnership Closed" on a closing and
//! "Certify" on a person first show what the badge will say: the program's rules
//! (`program::issue::prepare`) run on the request and their refusal, if any, is shown
//! instead of the button. The form carries an idempotency key made for that page, so a
//! double submit (or a reload of the answer) issues once. Revoking takes a reason, then a
//! confirmation.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use uuid::Uuid;

use super::auth::{private, read_form, require, ConsolePath, Form, Staff};
use crate::error::AppError;
use crate::html::console::{AwardPage, BadgeRow, FormState, RevokePage};
use crate::html::page;
use crate::program::issue::{self, IssueRequest};
use crate::program::{self, achievements, CERTIFIED, CLOSED};
use crate::routes::admin::path_id;
use crate::scopes::Scope;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/console/closings/{id}/award", get(award_form).post(award))
        .route(
            "/console/people/{id}/certify",
            get(certify_form).post(certify),
        )
        .route(
            "/console/credentials/{id}/revoke",
            get(revoke_form).post(revoke),
        )
}

/// The request an award page stands for: Closed for a closing's closer, or Certified.
async fn award_request(
    state: &AppState,
    achievement: &str,
    id: Uuid,
    notify: bool,
) -> Result<IssueRequest, AppError> {
    let (person_id, closing_id) = if achievement == CLOSED {
        let closing = state
            .store
            .closing(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no closing with id {id}")))?;
        (closing.closer_id, Some(id))
    } else {
        (id, None)
    };
    Ok(IssueRequest {
        achievement: achievement.to_owned(),
        person_id,
        closing_id,
        valid_until: None,
        notify: Some(notify),
    })
}

/// The preview page of `req`, with `refused` (a rule's answer) instead of the button.
async fn preview(
    state: &AppState,
    staff: &Staff,
    req: &IssueRequest,
    action: String,
    back: String,
    refused: Option<String>,
) -> Result<Response, AppError> {
    let achievement = achievements::by_slug(&req.achievement)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown achievement")))?;
    let (recipient, evidence, refused) = match issue::prepare(state, req, program::now()).await {
        Ok(p) => (
            p.person.name.clone(),
            p.evidence
                .iter()
                .map(|e| {
                    (
                        e.name.clone().unwrap_or_default(),
                        e.description.clone().unwrap_or_default(),
                    )
                })
                .collect(),
            refused,
        ),
        Err(e @ AppError::Internal(_)) => return Err(e),
        Err(e) => {
            let name = state
                .store
                .person(req.person_id)
                .await?
                .map(|p| p.name)
                .unwrap_or_default();
            (name, vec![], Some(e.to_string()))
        }
    };
    let status = if refused.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let verb = if req.achievement == CLOSED {
        "Award Partnership Closed"
    } else {
        "Certify"
    };
    Ok(private(page(
        status,
        &AwardPage {
            nav: staff.nav(if req.achievement == CLOSED {
                "closings"
            } else {
                "people"
            }),
            heading: format!("{verb}: {recipient}"),
            action,
            idempotency_key: format!("console-{}", crate::holder::new_token()),
            badge: achievement.name,
            description: achievement.description,
            criteria: achievement.criteria,
            recipient,
            issuer: state.issuer.name().to_owned(),
            evidence,
            back,
            refused,
        },
    )))
}

/// The award or certify page: the preview, or why it cannot be awarded.
async fn award_page(
    state: &AppState,
    headers: &HeaderMap,
    achievement: &str,
    raw: &str,
) -> Response {
    let staff = match require(state, headers, Scope::Issue, true).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let what = if achievement == CLOSED {
        "closing"
    } else {
        "person"
    };
    let id = match path_id(what, raw) {
        Ok(id) => id,
        Err(e) => return crate::html::error(headers, e),
    };
    let (action, back) = paths(achievement, id);
    let built = async {
        let req = award_request(state, achievement, id, true).await?;
        // One active Closed per closing is the database's rule, met at insert; say so here.
        let refused = if achievement == CLOSED {
            let held = state.store.credentials_of_person(req.person_id).await?;
            held.iter()
                .any(|c| {
                    c.closing_id == Some(id) && c.achievement == CLOSED && c.revoked_at.is_none()
                })
                .then(|| {
                    "rule: this closing already has an active Partnership Closed badge".to_owned()
                })
        } else {
            None
        };
        preview(state, &staff, &req, action, back, refused).await
    }
    .await;
    built.unwrap_or_else(|e| crate::html::error(headers, e))
}

/// Where an award form posts and where its page goes back to.
fn paths(achievement: &str, id: Uuid) -> (String, String) {
    if achievement == CLOSED {
        (
            format!("/console/closings/{id}/award"),
            format!("/console/closings/{id}"),
        )
    } else {
        (
            format!("/console/people/{id}/certify"),
            format!("/console/people/{id}"),
        )
    }
}

/// Signs and stores the badge an award form asks for; a retry under the form's key
/// answers the first badge.
async fn award_post(state: &AppState, form: Form, achievement: &str, raw: &str) -> Response {
    let what = if achievement == CLOSED {
        "closing"
    } else {
        "person"
    };
    let id = match path_id(what, raw) {
        Ok(id) => id,
        Err(e) => return form.staff.audited(crate::html::error(&form.headers, e)),
    };
    let (action, back) = paths(achievement, id);
    let notify = form.get("notify") == Some("yes");
    let key = form.get("idempotency_key").map(str::to_owned);
    let req = match award_request(state, achievement, id, notify).await {
        Ok(r) => r,
        Err(e) => return form.staff.audited(crate::html::error(&form.headers, e)),
    };
    let Some(key) = key else {
        let e = AppError::BadRequest("the form has no idempotency key; reload the page".into());
        return form.staff.audited(crate::html::error(&form.headers, e));
    };
    let res = match issue::issue(state, req.clone(), Some(key)).await {
        Ok(_) => {
            let done = if achievement == CLOSED {
                "awarded"
            } else {
                "certified"
            };
            Redirect::to(&format!("{back}?done={done}")).into_response()
        }
        Err(e @ AppError::Internal(_)) => crate::html::error(&form.headers, e),
        // A rule refused it: the preview again, with the rule's words.
        Err(e) => {
            let status = e.status();
            match preview(state, &form.staff, &req, action, back, Some(e.to_string())).await {
                Ok(mut res) => {
                    *res.status_mut() = status;
                    res
                }
                Err(e) => crate::html::error(&form.headers, e),
            }
        }
    };
    form.staff.audited(res)
}

async fn award_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConsolePath(id): ConsolePath,
) -> Response {
    award_page(&state, &headers, CLOSED, &id).await
}

async fn award(
    State(state): State<AppState>,
    ConsolePath(id): ConsolePath,
    req: Request,
) -> Response {
    match read_form(&state, req, Scope::Issue).await {
        Ok(form) => award_post(&state, form, CLOSED, &id).await,
        Err(res) => res,
    }
}

async fn certify_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConsolePath(id): ConsolePath,
) -> Response {
    award_page(&state, &headers, CERTIFIED, &id).await
}

async fn certify(
    State(state): State<AppState>,
    ConsolePath(id): ConsolePath,
    req: Request,
) -> Response {
    match read_form(&state, req, Scope::Issue).await {
        Ok(form) => award_post(&state, form, CERTIFIED, &id).await,
        Err(res) => res,
    }
}

/// The revoke page's badge and holder.
async fn revoke_target(state: &AppState, id: Uuid) -> Result<(BadgeRow, String, Uuid), AppError> {
    let record = state
        .store
        .credential(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no credential with id {id}")))?;
    let holder = state
        .store
        .person(record.person_id)
        .await?
        .map(|p| p.name)
        .unwrap_or_default();
    Ok((
        BadgeRow::of(&record, program::now()),
        holder,
        record.person_id,
    ))
}

fn revoke_page(
    staff: &Staff,
    target: (BadgeRow, String, Uuid),
    form: FormState,
    confirming: bool,
    status: StatusCode,
) -> Response {
    let (badge, holder, person_id) = target;
    let action = format!("/console/credentials/{}/revoke", badge.id);
    private(page(
        status,
        &RevokePage {
            nav: staff.nav("people"),
            badge,
            holder,
            action,
            form,
            back: format!("/console/people/{person_id}"),
            confirming,
        },
    ))
}

async fn revoke_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConsolePath(id): ConsolePath,
) -> Response {
    let staff = match require(&state, &headers, Scope::Revoke, true).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let id = match path_id("credential", &id) {
        Ok(id) => id,
        Err(e) => return crate::html::error(&headers, e),
    };
    match revoke_target(&state, id).await {
        Ok(t) => revoke_page(&staff, t, FormState::default(), false, StatusCode::OK),
        Err(e) => crate::html::error(&headers, e),
    }
}

async fn revoke(
    State(state): State<AppState>,
    ConsolePath(id): ConsolePath,
    req: Request,
) -> Response {
    let form = match read_form(&state, req, Scope::Revoke).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let id = match path_id("credential", &id) {
        Ok(id) => id,
        Err(e) => return form.staff.audited(crate::html::error(&form.headers, e)),
    };
    let target = match revoke_target(&state, id).await {
        Ok(t) => t,
        Err(e) => return form.staff.audited(crate::html::error(&form.headers, e)),
    };
    let person_id = target.2;
    let reason = form.get("reason").unwrap_or("").to_owned();
    let values = form.pairs.clone();
    // The reason is checked before the confirmation is asked for.
    if let Err(e) = program::records::text("reason", &reason, 1000) {
        let status = e.status();
        let state_ = FormState {
            values,
            errors: vec![("reason".into(), e.to_string())],
            general: None,
        };
        return form
            .staff
            .audited(revoke_page(&form.staff, target, state_, false, status));
    }
    if form.get("confirm") != Some("yes") {
        let state_ = FormState {
            values,
            ..Default::default()
        };
        return form.staff.audited(revoke_page(
            &form.staff,
            target,
            state_,
            true,
            StatusCode::OK,
        ));
    }
    let notify = form.get("notify") == Some("yes");
    match issue::revoke(&state, id, &reason, notify).await {
        Ok(_) => form.staff.audited(
            Redirect::to(&format!("/console/people/{person_id}?done=revoked")).into_response(),
        ),
        Err(e @ AppError::Internal(_)) => form.staff.audited(crate::html::error(&form.headers, e)),
        Err(e) => {
            let status = e.status();
            let state_ = FormState {
                values,
                general: Some(e.to_string()),
                ..Default::default()
            };
            form.staff
                .audited(revoke_page(&form.staff, target, state_, false, status))
        }
    }
}
