//! The holder's page: `/me` and its forms. A holder signs in with the one-use link their
//! messages carry (`/me/sign-in?token=`), or asks `/me/login` for a new one; a session
//! cookie (HttpOnly, SameSite=Lax, `Secure` and `__Host-` behind https) then holds them
//! signed in. Every form that changes something carries a CSRF token: derived from the
//! session for signed-in forms, a double-submit cookie for the sign-in form.
//!
//! `/me/login` answers alike, in content and in time, whether or not the address belongs
//! to a holder: the lookup and the message happen after the answer, off the request.
//!
//! Browsers get pages; other clients asking for JSON get problem+json errors.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::forms::{cookie, field, form, secure, set_cookie};
use crate::db::{message_kind, LinkUse, OutboxMessage, Person};
use crate::error::{AppError, AppResult};
use crate::holder::{self, LOGIN_CSRF_COOKIE};
use crate::html::holder::{HolderPage, SignInPage, WalletPage};
use crate::html::{self, page};
use crate::limits::{AddressKey, ClientKey};
use crate::program::{self, consent, wallet};
use crate::state::AppState;

/// The holder routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(me_page))
        .routes(routes!(sign_in))
        .routes(routes!(login_form, login))
        .routes(routes!(set_consent))
        .routes(routes!(add_to_wallet))
        .routes(routes!(sign_out))
        .routes(routes!(my_data))
}

fn session_cookie_name(state: &AppState) -> &'static str {
    if secure(state) {
        holder::SECURE_SESSION_COOKIE
    } else {
        holder::SESSION_COOKIE
    }
}

/// The signed-in holder: their session token and record; `None` without a valid session.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> AppResult<Option<(String, Person)>> {
    let Some(token) =
        cookie(headers, session_cookie_name(state)).filter(|t| holder::well_formed(t))
    else {
        return Ok(None);
    };
    let store = &*state.store;
    let Some(id) = store
        .session_person(&holder::token_hash(token), program::now())
        .await?
    else {
        return Ok(None);
    };
    Ok(store
        .person(id)
        .await?
        .filter(|p| p.erased_at.is_none())
        .map(|p| (token.to_owned(), p)))
}

/// An error: a page with the sign-in form for browsers, problem+json for the rest.
fn refuse(
    state: &AppState,
    headers: &HeaderMap,
    err: AppError,
    heading: &'static str,
    form: bool,
) -> Response {
    if !html::wants_html(headers) {
        return err.into_response();
    }
    let status = err.status();
    let (csrf, cookie) = login_csrf(state, headers);
    let mut res = page(
        status,
        &SignInPage {
            heading,
            message: err.to_string(),
            form,
            csrf,
            status: Some(status.as_u16()),
        },
    );
    if let Some(c) = cookie {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// The sign-in form's CSRF token: the one already in its cookie, or a new one (and the
/// cookie that carries it).
fn login_csrf(state: &AppState, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    super::forms::double_submit_token(state, headers, LOGIN_CSRF_COOKIE, "/me")
}

fn sign_in_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    heading: &'static str,
    message: String,
    form: bool,
) -> Response {
    let (csrf, cookie) = login_csrf(state, headers);
    let mut res = page(
        status,
        &SignInPage {
            heading,
            message,
            form,
            csrf,
            status: None,
        },
    );
    if let Some(c) = cookie {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// Reads a form request: its headers and fields, or the answer refusing it (413 past
/// `MAX_BODY_BYTES`, 415 if it is not a form).
async fn read_form(
    state: &AppState,
    req: axum::extract::Request,
) -> Result<(HeaderMap, Vec<(String, String)>), Response> {
    let (parts, body) = req.into_parts();
    let headers = parts.headers;
    let heading = "Nothing was changed";
    let limit = state.settings.max_body_bytes;
    let body = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return Err(refuse(
                state,
                &headers,
                crate::limits::too_large(limit),
                heading,
                false,
            ))
        }
    };
    match form(&headers, &body) {
        Ok(pairs) => Ok((headers, pairs)),
        Err(e) => Err(refuse(state, &headers, e, heading, false)),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Notice {
    /// Which action just happened (`consent`, `withdrawn`).
    done: Option<String>,
}

/// The holder's page: every badge they hold with its live status, share links, images,
/// LinkedIn, and their registry choice. Signed out: the sign-in form.
#[utoipa::path(
    get,
    path = "/me",
    tag = "holder",
    params(Notice),
    responses(
        (status = 200, description = "The holder's page, or the sign-in form.",
            content_type = "text/html"),
    ),
)]
async fn me_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(notice): Query<Notice>,
) -> Response {
    match signed_in(&state, &headers).await {
        Ok(Some((token, person))) => {
            let records = match state.store.credentials_of_person(person.id).await {
                Ok(r) => r,
                Err(e) => return html::error(&headers, e.into()),
            };
            let copies = match state.store.wallet_copies_of_person(person.id).await {
                Ok(c) => c,
                Err(e) => return html::error(&headers, e.into()),
            };
            let notice = match notice.done.as_deref() {
                Some("consent") => Some("You are now listed in the public registry."),
                Some("withdrawn") => Some("You are no longer listed in the public registry."),
                _ => None,
            };
            let mut res = page(
                StatusCode::OK,
                &HolderPage::new(
                    &state.issuer,
                    &person,
                    &records,
                    &copies,
                    holder::csrf_token(&token),
                    notice,
                    program::now(),
                ),
            );
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Ok(None) => sign_in_page(
            &state,
            &headers,
            StatusCode::OK,
            "Sign in to your badges",
            "Open the link in the latest message we sent you, or ask for a new one here.".into(),
            true,
        ),
        Err(e) => html::error(&headers, e),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct LinkQuery {
    /// The token of the emailed link.
    token: Option<String>,
}

/// Opens an emailed link: a valid, unused one signs the holder in (a session cookie) and
/// leads to `/me`; it is then used up.
#[utoipa::path(
    get,
    path = "/me/sign-in",
    tag = "holder",
    params(LinkQuery),
    responses(
        (status = 303, description = "Signed in; on to `/me`."),
        (status = 400, description = "Not a link this service sent."),
        (status = 404, description = "No such link."),
        (status = 410, description = "The link was used already, or has expired."),
    ),
)]
async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<LinkQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let token = query.ok().and_then(|q| q.0.token).unwrap_or_default();
    let heading = "This link does not sign you in";
    if !holder::well_formed(&token) {
        return refuse(
            &state,
            &headers,
            AppError::BadRequest(
                "This is not a sign-in link we sent: it may have been cut short when it was \
                 copied. Ask for a new one below."
                    .into(),
            ),
            heading,
            true,
        );
    }
    let now = program::now();
    let used = match state
        .store
        .use_holder_link(&holder::token_hash(&token), now)
        .await
    {
        Ok(u) => u,
        Err(e) => return html::error(&headers, e.into()),
    };
    let person = match used {
        LinkUse::SignedIn(p) => p,
        LinkUse::Used => {
            return refuse(
                &state,
                &headers,
                AppError::Gone(
                    "This link has been used already: each link signs in once. Ask for a new \
                     one below."
                        .into(),
                ),
                heading,
                true,
            )
        }
        LinkUse::Expired => {
            return refuse(
                &state,
                &headers,
                AppError::Gone("This link has expired. Ask for a new one below.".into()),
                heading,
                true,
            )
        }
        LinkUse::Unknown => {
            return refuse(
                &state,
                &headers,
                AppError::NotFound("We know of no such link. Ask for a new one below.".into()),
                heading,
                true,
            )
        }
    };
    let session = holder::new_token();
    let hours = i64::from(state.settings.holder_session_hours);
    if let Err(e) = state
        .store
        .insert_session(
            &holder::token_hash(&session),
            person,
            now,
            now + Duration::hours(hours),
        )
        .await
    {
        return html::error(&headers, e.into());
    }
    let mut res = Redirect::to("/me").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, session_cookie_name(&state), &session, hours * 3600),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The token must not travel on in a Referer.
    res.headers_mut()
        .insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    res
}

/// The form that asks for a sign-in link.
#[utoipa::path(
    get,
    path = "/me/login",
    tag = "holder",
    responses((status = 200, description = "The form.", content_type = "text/html")),
)]
async fn login_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    sign_in_page(
        &state,
        &headers,
        StatusCode::OK,
        "Sign in to your badges",
        "We email you a link that signs you in to your page.".into(),
        true,
    )
}

/// Sends a fresh sign-in link to the address if it belongs to a badge holder. The answer,
/// and its timing, are the same either way; per address at most `LOGIN_LINKS_PER_HOUR`
/// links are sent, per client `LOGIN_RATE_PER_HOUR` requests answered.
#[utoipa::path(
    post,
    path = "/me/login",
    tag = "holder",
    request_body(content_type = "application/x-www-form-urlencoded",
        description = "`email` and `csrf`."),
    responses(
        (status = 200, description = "The same answer for every address.",
            content_type = "text/html"),
        (status = 403, description = "The form's CSRF token is missing or wrong."),
        (status = 415, description = "Not a form."),
        (status = 422, description = "Not an email address."),
        (status = 429, description = "Too many requests from this client."),
    ),
)]
async fn login(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let heading = "Sign in to your badges";
    let client = ClientKey::of(&req, state.limits.trust_forwarded_for);
    // Every request counts, whatever it holds: the limit is on asking.
    if let Some(limit) = &state.limits.login {
        if let Err(wait) = limit.check(client) {
            let wait = wait.as_secs().max(1);
            let mut res = refuse(
                &state,
                req.headers(),
                AppError::TooManyRequests {
                    detail: "Too many sign-in requests from here; please wait a while (LOGIN_RATE_PER_HOUR)."
                        .into(),
                    retry_after_secs: wait,
                },
                heading,
                false,
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            return res;
        }
    }
    let (headers, pairs) = match read_form(&state, req).await {
        Ok(x) => x,
        Err(e) => return e,
    };
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    let given = field(&pairs, "csrf").unwrap_or("");
    if expected.is_empty() || !holder::csrf_matches(expected, given) {
        return refuse(
            &state,
            &headers,
            AppError::Forbidden(
                "This form has expired (its security token is missing or wrong). Please try \
                 again."
                    .into(),
            ),
            heading,
            true,
        );
    }
    let email = field(&pairs, "email").unwrap_or("").trim().to_owned();
    if let Err(e) = program::records::email("email", &email) {
        return refuse(&state, &headers, e, heading, true);
    }
    // Off the request: the answer neither waits for nor reveals the lookup.
    let st = state.clone();
    tokio::spawn(async move {
        if let Err(e) = send_link(&st, &email).await {
            tracing::warn!(error = %e, "could not queue a sign-in link");
        }
    });
    sign_in_page(
        &state,
        &headers,
        StatusCode::OK,
        "Check your email",
        "If this address belongs to a badge holder, we have sent it a link to their page. \
         It may take a minute to arrive."
            .into(),
        false,
    )
}

/// Queues a sign-in message for the holder with this address, if there is one and the
/// address's hourly allowance is not spent.
async fn send_link(state: &AppState, email: &str) -> AppResult<()> {
    let email = program::normalise_email(email);
    if let Some(limit) = &state.limits.login_links {
        if limit.check(AddressKey::of(&email)).is_err() {
            return Ok(());
        }
    }
    let Some(person) = state.store.person_by_email(&email).await? else {
        return Ok(());
    };
    if person.erased_at.is_some() {
        return Ok(());
    }
    let m = OutboxMessage::queued(message_kind::SIGN_IN, person.id, None, program::now());
    state.store.insert_message(&m).await?;
    state.outbox.wake();
    Ok(())
}

/// A signed-in form: the holder, their session token and the form's fields, once its
/// CSRF token is checked; else the answer refusing it.
async fn signed_in_form(
    state: &AppState,
    req: axum::extract::Request,
) -> Result<(HeaderMap, String, Person, Vec<(String, String)>), Response> {
    let heading = "Sign in to your badges";
    let (headers, pairs) = read_form(state, req).await?;
    let headers = &headers;
    let Some((token, person)) = signed_in(state, headers)
        .await
        .map_err(|e| html::error(headers, e))?
    else {
        return Err(refuse(
            state,
            headers,
            AppError::Unauthorized("You are not signed in (or your session has ended).".into()),
            heading,
            true,
        ));
    };
    let given = field(&pairs, "csrf").unwrap_or("");
    if !holder::csrf_matches(&holder::csrf_token(&token), given) {
        return Err(refuse(
            state,
            headers,
            AppError::Forbidden(
                "This form's security token is missing or wrong, so nothing was changed. Go \
                 back to your page and try again."
                    .into(),
            ),
            "Nothing was changed",
            false,
        ));
    }
    Ok((headers.clone(), token, person, pairs))
}

/// Gives (`choice=give`) or withdraws (`choice=withdraw`) consent to the public registry;
/// it takes effect at once.
#[utoipa::path(
    post,
    path = "/me/consent",
    tag = "holder",
    request_body(content_type = "application/x-www-form-urlencoded",
        description = "`choice` (`give` or `withdraw`) and `csrf`."),
    responses(
        (status = 303, description = "Done; back to `/me`."),
        (status = 401, description = "Not signed in."),
        (status = 403, description = "The form's CSRF token is missing or wrong."),
        (status = 415, description = "Not a form."),
        (status = 422, description = "`choice` is neither."),
    ),
)]
async fn set_consent(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let (headers, _, mut person, pairs) = match signed_in_form(&state, req).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let now = program::now();
    let done = match field(&pairs, "choice") {
        Some("give") => {
            consent::holder_give(&mut person, now);
            "consent"
        }
        Some("withdraw") => {
            consent::holder_withdraw(&mut person, now);
            "withdrawn"
        }
        _ => {
            return refuse(
                &state,
                &headers,
                AppError::invalid("choice", "choice must be give or withdraw"),
                "Nothing was changed",
                false,
            )
        }
    };
    if let Err(e) = state.store.update_person(&person).await {
        return html::error(&headers, e.into());
    }
    // This instance answers from the new state at once; others within their recheck. Badge
    // pages name the holder only with consent: live on every instance.
    state.registry.mark_dirty();
    if let Err(e) = state.badges.changed(&*state.store).await {
        return html::error(&headers, e.into());
    }
    Redirect::to(&format!("/me?done={done}")).into_response()
}

/// "Add to wallet": opens a wallet exchange for one of the holder's own badges and shows
/// it as a QR code (for the wallet's scanner) and a deep link (for the phone with the wallet).
#[utoipa::path(
    post,
    path = "/me/wallet",
    tag = "holder",
    request_body(content_type = "application/x-www-form-urlencoded",
        description = "`credential` (the badge's id), `csrf`, and `mode=request` for the \
            wallet's credential-request link instead of the VC-API exchange."),
    responses(
        (status = 200, description = "The wallet panel.", content_type = "text/html"),
        (status = 401, description = "Not signed in."),
        (status = 403, description = "The form's CSRF token is missing or wrong."),
        (status = 404, description = "Not one of the holder's badges."),
        (status = 409, description = "The badge is revoked or expired."),
        (status = 415, description = "Not a form."),
    ),
)]
async fn add_to_wallet(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let (headers, token, person, pairs) = match signed_in_form(&state, req).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let heading = "Not added to a wallet";
    let not_yours = || AppError::NotFound("That is not one of your badges.".into());
    let record = match field(&pairs, "credential").and_then(crate::issuer::path_uuid) {
        None => None,
        Some(id) => match state.store.credential(id).await {
            Ok(r) => r.filter(|r| r.person_id == person.id),
            Err(e) => return html::error(&headers, e.into()),
        },
    };
    let Some(record) = record else {
        return refuse(&state, &headers, not_yours(), heading, false);
    };
    let opened = match wallet::open(&state, record.id, "holder").await {
        Ok(o) => o,
        Err(e) => return refuse(&state, &headers, e, heading, false),
    };
    let links = wallet::links(
        &state,
        &opened.token,
        opened.exchange.challenge.as_deref().unwrap_or_default(),
    );
    let request_mode = field(&pairs, "mode") == Some("request");
    let (link_text, app_link) = if request_mode {
        (
            &links.credential_request_link,
            &links.credential_request_link,
        )
    } else {
        (&links.interaction_url, &links.app_link)
    };
    let Some(qr_svg) = crate::html::holder::qr_svg(link_text) else {
        return html::error(
            &headers,
            AppError::Internal(anyhow::anyhow!("the wallet link does not fit a QR code")),
        );
    };
    let name = program::achievements::by_slug(&record.achievement).map_or("Badge", |a| a.name);
    let mut res = page(
        StatusCode::OK,
        &WalletPage {
            name,
            credential: record.id.to_string(),
            csrf: holder::csrf_token(&token),
            request_mode,
            qr_svg,
            link_text,
            app_link,
            expires: crate::html::when::When::time(opened.exchange.expires_at),
            minutes: state.settings.exchange_ttl_secs.div_ceil(60),
        },
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Signs out: the session ends here and on the server.
#[utoipa::path(
    post,
    path = "/me/sign-out",
    tag = "holder",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`."),
    responses(
        (status = 303, description = "Signed out; on to `/me`."),
        (status = 401, description = "Not signed in."),
        (status = 403, description = "The form's CSRF token is missing or wrong."),
        (status = 415, description = "Not a form."),
    ),
)]
async fn sign_out(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let (headers, token, _, _) = match signed_in_form(&state, req).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    if let Err(e) = state
        .store
        .delete_session(&holder::token_hash(&token))
        .await
    {
        return html::error(&headers, e.into());
    }
    let mut res = Redirect::to("/me").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, session_cookie_name(&state), "", 0),
    );
    res
}

/// Everything held about the signed-in holder, as a JSON download.
#[utoipa::path(
    get,
    path = "/me/data",
    tag = "holder",
    responses(
        (status = 200, description = "The holder's records.", content_type = "application/json"),
        (status = 401, description = "Not signed in."),
    ),
)]
async fn my_data(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let person = match signed_in(&state, &headers).await {
        Ok(Some((_, p))) => p,
        Ok(None) => {
            return refuse(
                &state,
                &headers,
                AppError::Unauthorized("Sign in to download your data.".into()),
                "Sign in to your badges",
                true,
            )
        }
        Err(e) => return html::error(&headers, e),
    };
    let data = match program::holder::export(&*state.store, person.id).await {
        Ok(d) => d,
        Err(e) => return html::error(&headers, e),
    };
    let body = serde_json::to_vec_pretty(&data).unwrap_or_default();
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"my-partnership-badges.json\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
