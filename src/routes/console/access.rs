//! API tokens and the audit log in the console (admins only): make a token (its secret
//! shown once, on the answer to the form, never stored), revoke one, read the log with the
//! API's filters and paging.

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use super::auth::{private, read_form, require, ConsolePath, Done, Staff};
use crate::error::AppError;
use crate::html::console::{AuditPage, AuditRow, FormState, TokenRow, TokensPage, TrailRow};
use crate::html::page;
use crate::routes::audit::{audit_filter, audit_page, AuditQuery};
use crate::scopes::Scope;
use crate::state::AppState;
use crate::tokens;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/console/tokens", get(tokens_page).post(create_token))
        .route("/console/tokens/{id}/revoke", post(revoke_token))
        .route("/console/audit", get(audit))
}

async fn tokens_view(
    state: &AppState,
    headers: &HeaderMap,
    staff: &Staff,
    status: StatusCode,
    form: FormState,
    created: Option<(String, String)>,
    notice: Option<&'static str>,
) -> Response {
    let now = crate::program::now();
    match state.store.list_tokens().await {
        Ok(list) => private(page(
            status,
            &TokensPage {
                nav: staff.nav("tokens"),
                tokens: list.iter().map(|t| TokenRow::of(t, now)).collect(),
                form,
                created,
                notice,
            },
        )),
        Err(e) => crate::html::error(headers, e.into()),
    }
}

async fn tokens_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(done): Query<Done>,
) -> Response {
    let staff = match require(&state, &headers, Scope::Admin, true).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let notice = (done.done.as_deref() == Some("revoked")).then_some("The token is revoked.");
    tokens_view(
        &state,
        &headers,
        &staff,
        StatusCode::OK,
        FormState::default(),
        None,
        notice,
    )
    .await
}

async fn create_token(State(state): State<AppState>, req: Request) -> Response {
    let form = match read_form(&state, req, Scope::Admin).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let scopes: Vec<&str> = form
        .pairs
        .iter()
        .filter(|(k, _)| k == "scopes")
        .map(|(_, v)| v.as_str())
        .collect();
    let made = async {
        let new = tokens::request(
            form.get("name").unwrap_or("").to_owned(),
            scopes,
            form.get("expires_in"),
            None,
        )?;
        tokens::create(&*state.store, new).await
    }
    .await;
    let res = match made {
        Ok(created) => {
            let name = created.token.name.clone();
            tokens_view(
                &state,
                &form.headers,
                &form.staff,
                StatusCode::CREATED,
                FormState::default(),
                Some((name, created.secret)),
                None,
            )
            .await
        }
        Err(e @ AppError::Internal(_)) => crate::html::error(&form.headers, e),
        Err(e) => {
            let status = e.status();
            let mut values = FormState {
                values: form.pairs.clone(),
                ..Default::default()
            };
            match &e {
                AppError::Unprocessable {
                    field: Some(f),
                    detail,
                } => values.errors.push((f.clone(), detail.clone())),
                other => values.general = Some(other.to_string()),
            }
            tokens_view(
                &state,
                &form.headers,
                &form.staff,
                status,
                values,
                None,
                None,
            )
            .await
        }
    };
    form.staff.audited(res)
}

async fn revoke_token(
    State(state): State<AppState>,
    ConsolePath(id): ConsolePath,
    req: Request,
) -> Response {
    let form = match read_form(&state, req, Scope::Admin).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let done = async {
        let id = crate::routes::admin::path_id("token", &id)?;
        state
            .store
            .revoke_token_by_id(id, crate::program::now())
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no token with id {id}")))
    }
    .await;
    let res = match done {
        Ok(_) => Redirect::to("/console/tokens?done=revoked").into_response(),
        Err(e) => crate::html::error(&form.headers, e),
    };
    form.staff.audited(res)
}

async fn audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let staff = match require(&state, &headers, Scope::Admin, true).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let filters = FormState {
        values: uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default(),
        ..Default::default()
    };
    // Blank fields of the filter form filter nothing.
    let parsed = crate::routes::extract::list_query(query).and_then(|mut q: AuditQuery| {
        for v in [
            &mut q.token,
            &mut q.staff,
            &mut q.target,
            &mut q.action,
            &mut q.since,
        ] {
            if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                *v = None;
            }
        }
        audit_filter(q)
    });
    let view = |status, rows: Vec<AuditRow>, next, error| {
        private(page(
            status,
            &AuditPage {
                nav: staff.nav("audit"),
                filters: FormState {
                    values: filters.values.clone(),
                    ..Default::default()
                },
                rows,
                next,
                error,
            },
        ))
    };
    let (filter, limit) = match parsed {
        Ok(f) => f,
        Err(e) => return view(StatusCode::BAD_REQUEST, vec![], None, Some(e.to_string())),
    };
    let rows = match state.store.list_audit(&filter).await {
        Ok(r) => r,
        Err(e) => return crate::html::error(&headers, e.into()),
    };
    let (rows, cursor) = audit_page(rows, limit);
    let next = cursor.map(|c| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in filters.values.iter().filter(|(k, _)| k != "cursor") {
            q.append_pair(k, v);
        }
        q.append_pair("cursor", &c);
        format!("/console/audit?{}", q.finish())
    });
    let rows = rows
        .iter()
        .map(|r| AuditRow {
            trail: TrailRow::of(r),
            target: r.entry.target.clone().unwrap_or_default(),
            request_id: r.entry.request_id.clone().unwrap_or_default(),
        })
        .collect();
    view(StatusCode::OK, rows, next, None)
}
