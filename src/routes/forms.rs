//! What the browser-facing routes (the holder's page, the staff console) share: cookies
//! and urlencoded form bodies.

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue};

use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Whether the service is reached over https (then cookies are `Secure` and `__Host-`).
pub fn secure(state: &AppState) -> bool {
    state.issuer.base().starts_with("https://")
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` for the whole site: HttpOnly, SameSite=Lax, `Secure` behind https.
/// `value` must be cookie-safe (the tokens here are base64url or hex).
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if secure(state) { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .expect("cookie values are base64url or hex")
}

/// Parses an urlencoded form body into pairs (415 if it is not one).
pub fn form(headers: &HeaderMap, body: &Bytes) -> AppResult<Vec<(String, String)>> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/x-www-form-urlencoded") {
        return Err(AppError::UnsupportedMediaType(
            "this form takes application/x-www-form-urlencoded".into(),
        ));
    }
    Ok(form_urlencoded::parse(body).into_owned().collect())
}

/// The first value of field `name`.
pub fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A sign-in form's CSRF token (double submit: there is no session yet): the one in cookie
/// `name`, or a new one and the cookie (scoped to `path`, a day) that carries it.
pub fn double_submit_token(
    state: &AppState,
    headers: &HeaderMap,
    name: &str,
    path: &str,
) -> (String, Option<HeaderValue>) {
    match cookie(headers, name).filter(|t| crate::holder::well_formed(t)) {
        Some(t) => (t.to_owned(), None),
        None => {
            let t = crate::holder::new_token();
            let secure = if secure(state) { "; Secure" } else { "" };
            let c = HeaderValue::from_str(&format!(
                "{name}={t}; Path={path}; HttpOnly; SameSite=Lax; Max-Age=86400{secure}"
            ))
            .expect("base64url");
            (t, Some(c))
        }
    }
}
