//! Who is signed in to the console and what a request may do: the session cookie, the
//! role check, the CSRF-checked form, the sign-in page every refusal shows, the audit layer,
//! and the path extractor whose refusal is a page.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use crate::db::{AuditEntry, StaffSession};
use crate::error::AppError;
use crate::holder::{self, token_hash};
use crate::html::console::{Nav, SignInPage};
use crate::html::page;
use crate::routes::extract::AppPath;
use crate::routes::forms::{cookie, secure, set_cookie};
use crate::scopes::{Scope, Scopes};
use crate::staff::{self, SessionPolicy, SIGN_IN_CSRF_COOKIE};
use crate::state::AppState;

/// A signed-in staff member: their session and its cookie's token.
pub(super) struct Staff {
    /// The session, with the account.
    pub session: StaffSession,
    /// The cookie's token (never shown; the CSRF token derives from it).
    pub(super) token: String,
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

    pub(super) fn token_hash(&self) -> String {
        token_hash(&self.token)
    }
}

/// Who a console action was, for [`record_console`].
#[derive(Clone)]
pub(super) struct AuditedStaff {
    pub(super) id: Uuid,
    pub(super) email: String,
}

/// The session cookie's name: `__Host-` prefixed behind https.
pub(super) fn session_cookie_name(state: &AppState) -> &'static str {
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
            return Err(sign_in_page(
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
        crate::routes::forms::field(&self.pairs, name)
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
    let pairs = match crate::routes::forms::form(&headers, &body) {
        Ok(p) => p,
        Err(e) => return Err(staff.audited(crate::html::error(&headers, e))),
    };
    let given = crate::routes::forms::field(&pairs, "csrf").unwrap_or("");
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
/// `HEAD`, and the reads a handler names a staff member on) in the audit log: the staff member (when the handler named one), the method and
/// route template, the target id, the status. Never a field of the form.
pub(super) async fn record_console(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    // Reads are not recorded, but for the ones a handler names a staff member on (an
    // OpenID Connect sign-in, a refusal).
    let read = matches!(req.method().as_str(), "GET" | "HEAD");
    let (action, target, request_id) = crate::audit::request_facts(&req);
    let mut res = next.run(req).await;
    let who = res.extensions_mut().remove::<AuditedStaff>();
    if read && who.is_none() {
        return res;
    }
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

/// The sign-in form's CSRF token: the one in its cookie, or a new one and its cookie.
fn sign_in_csrf(state: &AppState, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    crate::routes::forms::double_submit_token(state, headers, SIGN_IN_CSRF_COOKIE, "/console")
}

/// The sign-in page with `message` (an error or a notice), answering `status`.
pub(super) fn sign_in_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    message: Option<&str>,
) -> Response {
    let (csrf, set) = sign_in_csrf(state, headers);
    let mut res = page(
        status,
        &SignInPage {
            csrf,
            message: message.map(str::to_owned),
            error: status.is_client_error(),
            // Offered only when its routes exist (all three settings given).
            oidc: state.settings.oidc_issuer.is_some()
                && state.settings.oidc_client_id.is_some()
                && state.settings.oidc_client_secret.is_some(),
        },
    );
    if let Some(c) = set {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    private(res)
}

/// A path parameter; a segment that is not UTF-8 is a 404 page (a problem for clients
/// asking for JSON), as everywhere else.
pub(super) struct ConsolePath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ConsolePath {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match AppPath::<String>::from_request_parts(parts, state).await {
            Ok(AppPath(v)) => Ok(ConsolePath(v)),
            Err(e) => Err(crate::html::error(&parts.headers, e)),
        }
    }
}

/// Marks `res` as an action of the staff member `s` (known before any session exists).
pub(super) fn audited_as(mut res: Response, s: &crate::db::StaffMember) -> Response {
    res.extensions_mut().insert(AuditedStaff {
        id: s.id,
        email: s.email.clone(),
    });
    res
}

/// A new session's cookie, and the redirect into the console.
pub(super) async fn signed_in_answer(
    state: &AppState,
    staff_id: uuid::Uuid,
) -> Result<Response, AppError> {
    let policy = SessionPolicy::of(&state.settings);
    let token =
        staff::start_session(&*state.store, staff_id, policy, crate::program::now()).await?;
    let mut res = Redirect::to("/console").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            state,
            session_cookie_name(state),
            &token,
            policy.absolute.num_seconds(),
        ),
    );
    Ok(res)
}

/// The `?done=` of a page a form redirected to: which notice it shows.
#[derive(serde::Deserialize)]
pub(super) struct Done {
    /// What just happened.
    pub(super) done: Option<String>,
}
