//! The staff console, `/console`: program staff sign in (a password, or OpenID Connect) and
//! record closings, award and revoke, import and see the program's figures, in the browser.
//!
//! Every action calls the same program rules as the API (`crate::program`): a handler here
//! reads a form, calls the rule, and shows the answer. A staff member's role is a set of the
//! API's scopes ([`crate::scopes::Role`]), checked as the API checks a token's. Every form
//! that changes something carries the CSRF token derived from the session cookie, and every
//! such request goes into the API's audit log with the staff member as the actor.
//!
//! The console is HTML for people, not part of the API: its routes are not in the OpenAPI
//! document. Pages work without JavaScript.

mod awarding;
mod dashboard;
mod records;
mod session;

use axum::body::Bytes;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use uuid::Uuid;

use super::forms::{cookie, secure};
use crate::audit::{request_id, target_of};
use crate::db::{AuditEntry, StaffSession};
use crate::error::AppError;
use crate::holder::{self, token_hash};
use crate::html::console::Nav;
use crate::scopes::{Scope, Scopes};
use crate::staff;
use crate::state::AppState;

/// The console's routes, with the audit layer on every request that changes something.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(session::router())
        .merge(dashboard::router())
        .merge(records::router())
        .merge(awarding::router())
        .layer(from_fn_with_state(state.clone(), record_console))
}

/// The home page for the public, `/` (outside the console's audit layer).
pub fn home_router() -> Router<AppState> {
    dashboard::home_router()
}

/// A signed-in staff member: their session and its cookie's token.
pub struct Staff {
    /// The session, with the account.
    pub session: StaffSession,
    /// The cookie's token (never shown; the CSRF token derives from it).
    token: String,
}

impl Staff {
    /// What the staff member may do.
    pub fn scopes(&self) -> Scopes {
        self.session.staff.role.scopes()
    }

    /// Whether they may do what `scope` allows.
    pub fn may(&self, scope: Scope) -> bool {
        self.scopes().allows(scope)
    }

    /// The CSRF token of this session's forms.
    pub fn csrf(&self) -> String {
        holder::csrf_token(&self.token)
    }

    /// The page header's navigation for this staff member, `current` marked.
    pub fn nav(&self, current: &'static str) -> Nav {
        Nav {
            email: self.session.staff.email.clone(),
            role: self.session.staff.role.name(),
            csrf: self.csrf(),
            current,
            can_issue: self.may(Scope::Issue),
            can_revoke: self.may(Scope::Revoke),
            is_admin: self.may(Scope::Admin),
        }
    }

    /// Marks `res` as this staff member's action for the audit layer.
    pub fn audited(&self, mut res: Response) -> Response {
        res.extensions_mut().insert(AuditedStaff {
            id: self.session.staff.id,
            email: self.session.staff.email.clone(),
        });
        res
    }

    fn token_hash(&self) -> String {
        token_hash(&self.token)
    }
}

/// Who a console action was, for [`record_console`].
#[derive(Clone)]
struct AuditedStaff {
    id: Uuid,
    email: String,
}

/// The session cookie's name: `__Host-` prefixed behind https.
fn session_cookie_name(state: &AppState) -> &'static str {
    if secure(state) {
        staff::SECURE_SESSION_COOKIE
    } else {
        staff::SESSION_COOKIE
    }
}

/// How often a session's last activity is written (not on every request).
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// The signed-in staff member, if the request's cookie holds a live session: not idle past
/// the idle timeout, not past its absolute end, not ended by "sign out everywhere".
pub async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Option<Staff>, AppError> {
    let Some(token) =
        cookie(headers, session_cookie_name(state)).filter(|t| holder::well_formed(t))
    else {
        return Ok(None);
    };
    let policy = staff::SessionPolicy::of(&state.settings);
    let now = crate::program::now();
    let hash = token_hash(token);
    let Some(session) = state
        .store
        .staff_session(&hash, now, now - policy.idle)
        .await?
    else {
        return Ok(None);
    };
    if now - session.last_seen_at >= TOUCH_EVERY {
        state.store.touch_staff_session(&hash, now).await?;
    }
    Ok(Some(Staff {
        session,
        token: token.to_owned(),
    }))
}

/// The signed-in staff member allowed `scope`, or the answer: the sign-in page (a redirect
/// for a `GET`, a 401 page otherwise) or a 403 page naming what is missing.
pub async fn require(
    state: &AppState,
    headers: &HeaderMap,
    scope: Scope,
    get: bool,
) -> Result<Staff, Response> {
    let staff = match signed_in(state, headers).await {
        Ok(Some(s)) => s,
        Ok(None) if get => return Err(Redirect::to("/console/sign-in").into_response()),
        Ok(None) => {
            return Err(session::sign_in_page(
                state,
                headers,
                StatusCode::UNAUTHORIZED,
                Some("You are not signed in (or your session has ended). Sign in and try again."),
            ))
        }
        Err(e) => return Err(crate::html::error(headers, e)),
    };
    if !staff.may(scope) {
        let res = crate::html::error(
            headers,
            AppError::Forbidden(format!(
                "This needs the `{scope}` permission; your role, {}, does not have it.",
                staff.session.staff.role
            )),
        );
        return Err(staff.audited(res));
    }
    Ok(staff)
}

/// A console form: its fields, once the session, the role and the CSRF token are checked.
pub struct Form {
    /// The staff member who sent it.
    pub staff: Staff,
    /// The request's headers.
    pub headers: HeaderMap,
    /// The fields, in order.
    pub pairs: Vec<(String, String)>,
}

impl Form {
    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        super::forms::field(&self.pairs, name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }
}

/// Reads a state-changing console form: 413 past `MAX_BODY_BYTES`, 415 if not a form, the
/// sign-in page without a session, 403 without `scope` or with a missing or wrong CSRF
/// token.
pub async fn read_form(state: &AppState, req: Request, scope: Scope) -> Result<Form, Response> {
    let (parts, body) = req.into_parts();
    let headers = parts.headers;
    let staff = require(state, &headers, scope, false).await?;
    let limit = state.settings.max_body_bytes;
    let body: Bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            let res = crate::html::error(&headers, crate::limits::too_large(limit));
            return Err(staff.audited(res));
        }
    };
    let pairs = match super::forms::form(&headers, &body) {
        Ok(p) => p,
        Err(e) => return Err(staff.audited(crate::html::error(&headers, e))),
    };
    let given = super::forms::field(&pairs, "csrf").unwrap_or("");
    if !holder::csrf_matches(&staff.csrf(), given) {
        let res = crate::html::error(
            &headers,
            AppError::Forbidden(
                "This form's security token is missing or wrong, so nothing was changed. Go \
                 back, reload the page and try again."
                    .into(),
            ),
        );
        return Err(staff.audited(res));
    }
    Ok(Form {
        staff,
        headers,
        pairs,
    })
}

/// A console page answer: never stored by a cache, since it shows records of people.
pub fn private(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Records every console request that changes something (every method but `GET` and
/// `HEAD`) in the audit log: the staff member (when the handler named one), the method and
/// route template, the target id, the status. Never a field of the form.
async fn record_console(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(req.method().as_str(), "GET" | "HEAD") {
        return next.run(req).await;
    }
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let action = format!("{} {template}", req.method());
    let target = target_of(&template, req.uri().path());
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(request_id);
    let mut res = next.run(req).await;
    let who = res.extensions_mut().remove::<AuditedStaff>();
    let entry = AuditEntry {
        at: crate::program::now(),
        token_id: None,
        token_name: None,
        action,
        target,
        status: res.status().as_u16(),
        request_id,
        staff_id: who.as_ref().map(|s| s.id),
        staff_email: who.map(|s| s.email),
    };
    let (action, status) = (entry.action.clone(), entry.status);
    if let Err(e) = state.audit.record(entry).await {
        tracing::error!(error = %e, action = %action, status, "could not write the audit log");
    }
    res
}
