//! Signing in and out of the console: the password form (rate-limited per account and per
//! client, every failure answered slowly), the one-time link that sets a password, the
//! account page (change the password, which ends the other sessions; sign out everywhere),
//! sign-out.

use std::time::Duration;

use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::auth::{
    audited_as, private, read_form, require, session_cookie_name, sign_in_page, signed_in_answer,
    Done, Staff,
};
use crate::error::AppError;
use crate::holder::{self, token_hash};
use crate::html::console::{AccountPage, SetPasswordPage};
use crate::html::page;
use crate::limits::{AddressKey, ClientKey};
use crate::routes::forms::{cookie, field, form, set_cookie};
use crate::scopes::Scope;
use crate::staff::{self, SIGN_IN_CSRF_COOKIE};
use crate::state::AppState;

/// How long a wrong password's answer takes at least: guessing is slow even below the limit.
const FAILURE_DELAY: Duration = Duration::from_secs(1);

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/console/sign-in", get(sign_in_form).post(sign_in))
        .route(
            "/console/set-password",
            get(set_password_form).post(set_password),
        )
        .route("/console/account", get(account))
        .route("/console/password", post(change_password))
        .route("/console/sign-out", post(sign_out))
        .route("/console/sign-out-everywhere", post(sign_out_everywhere))
}

async fn sign_in_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(done): Query<Done>,
) -> Response {
    if let Ok(Some(_)) = super::auth::signed_in(&state, &headers).await {
        return Redirect::to("/console").into_response();
    }
    let notice = match done.done.as_deref() {
        Some("signed-out") => Some("You are signed out."),
        Some("everywhere") => Some("You are signed out on every device."),
        _ => None,
    };
    sign_in_page(&state, &headers, StatusCode::OK, notice)
}

async fn sign_in(State(state): State<AppState>, req: Request) -> Response {
    let client = ClientKey::of(&req, state.limits.trust_forwarded_for);
    let (parts, body) = req.into_parts();
    let headers = parts.headers;
    let refuse = |status, message: &str| sign_in_page(&state, &headers, status, Some(message));
    let limit = state.settings.max_body_bytes;
    let Ok(body) = axum::body::to_bytes(body, limit).await else {
        return crate::html::error(&headers, crate::limits::too_large(limit));
    };
    let pairs = match form(&headers, &body) {
        Ok(p) => p,
        Err(e) => return crate::html::error(&headers, e),
    };
    let expected = cookie(&headers, SIGN_IN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !holder::csrf_matches(expected, field(&pairs, "csrf").unwrap_or("")) {
        return refuse(
            StatusCode::FORBIDDEN,
            "This form has expired (its security token is missing or wrong). Please try again.",
        );
    }
    let email = crate::program::normalise_email(field(&pairs, "email").unwrap_or("").trim());
    let password = field(&pairs, "password").unwrap_or("").to_owned();
    if email.is_empty() || password.is_empty() {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter your email and your password.",
        );
    }
    let account_key = AddressKey::of(&email);
    let over = [
        state
            .limits
            .staff_account_failures
            .as_ref()
            .and_then(|l| l.peek(account_key).err()),
        state
            .limits
            .staff_client_failures
            .as_ref()
            .and_then(|l| l.peek(client).err()),
    ]
    .into_iter()
    .flatten()
    .max();
    let account = match state.store.staff_by_email(&email).await {
        Ok(a) => a,
        Err(e) => return crate::html::error(&headers, e.into()),
    };
    if let Some(wait) = over {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let mut res = refuse(
            StatusCode::TOO_MANY_REQUESTS,
            &format!(
                "Too many wrong passwords for this account or from this device. Sign-in is \
                 refused for about {minutes} minute(s); then try again, or ask an admin for a \
                 new link."
            ),
        );
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(wait.as_secs().max(1)),
        );
        return match &account {
            Some(a) => audited_as(res, a),
            None => res,
        };
    }
    let stored = account.as_ref().and_then(|a| a.password_hash.clone());
    let matched = match state
        .off_workers(move || staff::password_matches(&password, stored.as_deref()))
        .await
    {
        Ok(m) => m,
        Err(e) => return crate::html::error(&headers, e),
    };
    match account {
        Some(a) if matched => match signed_in_answer(&state, a.id).await {
            Ok(res) => audited_as(res, &a),
            Err(e) => crate::html::error(&headers, e),
        },
        account => {
            if let Some(l) = &state.limits.staff_account_failures {
                l.record(account_key);
            }
            if let Some(l) = &state.limits.staff_client_failures {
                l.record(client);
            }
            tokio::time::sleep(FAILURE_DELAY).await;
            let res = refuse(
                StatusCode::UNAUTHORIZED,
                "The email or the password is wrong (or the account has no password yet: use \
                 the link you were given).",
            );
            match &account {
                Some(a) => audited_as(res, a),
                None => res,
            }
        }
    }
}

#[derive(Deserialize)]
struct LinkQuery {
    token: Option<String>,
}

/// The page saying a link is no good (410).
fn gone_link(headers: &HeaderMap) -> Response {
    private(crate::html::error(
        headers,
        AppError::Gone(
            "This link has been used or has expired (links work once, within 24 hours). Ask \
             an admin for a new one."
                .into(),
        ),
    ))
}

/// The link's account, or the page saying the link is no good (410).
async fn link_account(
    state: &AppState,
    headers: &HeaderMap,
    token: Option<&str>,
) -> Result<crate::db::StaffMember, Response> {
    let gone = || gone_link(headers);
    let Some(token) = token.filter(|t| holder::well_formed(t)) else {
        return Err(gone());
    };
    match state
        .store
        .staff_link(&token_hash(token), crate::program::now())
        .await
    {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(gone()),
        Err(e) => Err(crate::html::error(headers, e.into())),
    }
}

async fn set_password_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LinkQuery>,
) -> Response {
    let staff = match link_account(&state, &headers, q.token.as_deref()).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let mut res = private(page(
        StatusCode::OK,
        &SetPasswordPage {
            email: staff.email,
            token: q.token.unwrap_or_default(),
            error: None,
            min: staff::MIN_PASSWORD,
        },
    ));
    // The token is in this page's URL: no Referer may carry it elsewhere.
    res.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

/// Checks a new password and its confirmation; the error names the field.
fn new_password(pairs: &[(String, String)]) -> Result<String, String> {
    let password = field(pairs, "password").unwrap_or("");
    staff::check_password(password).map_err(|e| e.to_string())?;
    if field(pairs, "confirm").unwrap_or("") != password {
        return Err("the two passwords are not the same".into());
    }
    Ok(password.to_owned())
}

async fn set_password(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let headers = parts.headers;
    let limit = state.settings.max_body_bytes;
    let Ok(body) = axum::body::to_bytes(body, limit).await else {
        return crate::html::error(&headers, crate::limits::too_large(limit));
    };
    let pairs = match form(&headers, &body) {
        Ok(p) => p,
        Err(e) => return crate::html::error(&headers, e),
    };
    // The link's secret token is the proof this form came from its page.
    let token = field(&pairs, "token").unwrap_or("").to_owned();
    let staff = match link_account(&state, &headers, Some(&token)).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let password = match new_password(&pairs) {
        Ok(p) => p,
        Err(error) => {
            return audited_as(
                private(page(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &SetPasswordPage {
                        email: staff.email.clone(),
                        token,
                        error: Some(error),
                        min: staff::MIN_PASSWORD,
                    },
                )),
                &staff,
            )
        }
    };
    let hash = match state
        .off_workers(move || staff::hash_password(&password))
        .await
    {
        Ok(h) => h,
        Err(e) => return crate::html::error(&headers, e),
    };
    let used = state
        .store
        .use_staff_link(&token_hash(&token), &hash, crate::program::now())
        .await;
    match used {
        Ok(Some(s)) => match signed_in_answer(&state, s.id).await {
            Ok(res) => audited_as(res, &s),
            Err(e) => crate::html::error(&headers, e),
        },
        // Used by a concurrent request a moment ago.
        Ok(None) => gone_link(&headers),
        Err(e) => crate::html::error(&headers, e.into()),
    }
}

async fn account(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(done): Query<Done>,
) -> Response {
    let staff = match require(&state, &headers, Scope::Read, true).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let notice = match done.done.as_deref() {
        Some("password") => Some("Your password is changed; your other sessions have ended."),
        _ => None,
    };
    account_page(&staff, StatusCode::OK, notice, None)
}

fn account_page(
    staff: &Staff,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<(&'static str, String)>,
) -> Response {
    private(page(
        status,
        &AccountPage {
            nav: staff.nav("account"),
            notice,
            error_field: error.as_ref().map(|e| e.0),
            error: error.map(|e| e.1),
            has_password: staff.session.staff.password_hash.is_some(),
            min: staff::MIN_PASSWORD,
        },
    ))
}

async fn change_password(State(state): State<AppState>, req: Request) -> Response {
    let form = match read_form(&state, req, Scope::Read).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let staff = &form.staff;
    let current = field(&form.pairs, "current").unwrap_or("").to_owned();
    let stored = staff.session.staff.password_hash.clone();
    let matched = match state
        .off_workers(move || staff::password_matches(&current, stored.as_deref()))
        .await
    {
        Ok(m) => m,
        Err(e) => return crate::html::error(&form.headers, e),
    };
    if !matched {
        tokio::time::sleep(FAILURE_DELAY).await;
        let res = account_page(
            staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(("current", "your current password is wrong".into())),
        );
        return staff.audited(res);
    }
    let password = match new_password(&form.pairs) {
        Ok(p) => p,
        Err(e) => {
            let res = account_page(
                staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(("password", e)),
            );
            return staff.audited(res);
        }
    };
    let hash = match state
        .off_workers(move || staff::hash_password(&password))
        .await
    {
        Ok(h) => h,
        Err(e) => return crate::html::error(&form.headers, e),
    };
    let keep = staff.token_hash();
    if let Err(e) = state
        .store
        .set_staff_password(
            staff.session.staff.id,
            &hash,
            crate::program::now(),
            Some(&keep),
        )
        .await
    {
        return crate::html::error(&form.headers, e.into());
    }
    staff.audited(Redirect::to("/console/account?done=password").into_response())
}

/// The answer ending the session in the browser: the cookie cleared, back to sign-in.
fn signed_out(state: &AppState, done: &str) -> Response {
    let mut res = Redirect::to(&format!("/console/sign-in?done={done}")).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, session_cookie_name(state), "", 0),
    );
    res
}

async fn sign_out(State(state): State<AppState>, req: Request) -> Response {
    let form = match read_form(&state, req, Scope::Read).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    if let Err(e) = state
        .store
        .delete_staff_session(&form.staff.token_hash())
        .await
    {
        return crate::html::error(&form.headers, e.into());
    }
    form.staff.audited(signed_out(&state, "signed-out"))
}

async fn sign_out_everywhere(State(state): State<AppState>, req: Request) -> Response {
    let form = match read_form(&state, req, Scope::Read).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    if let Err(e) = state
        .store
        .delete_staff_sessions(form.staff.session.staff.id)
        .await
    {
        return crate::html::error(&form.headers, e.into());
    }
    form.staff.audited(signed_out(&state, "everywhere"))
}
