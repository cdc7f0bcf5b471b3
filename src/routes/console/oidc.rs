//! Staff sign-in with OpenID Connect: the authorization code flow with PKCE (S256), a
//! `state` and a `nonce`, through the `openidconnect` crate. A verified email that belongs
//! to a staff account signs that account in; nobody gets an account by signing in.
//!
//! While the browser is at the provider, the flow's state, nonce and PKCE verifier wait in
//! an HttpOnly cookie scoped to `/console/oidc` (ten minutes); the callback checks the
//! state against it, exchanges the code with the verifier and verifies the ID token
//! (signature from the provider's keys, issuer, audience, expiry, nonce).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse as _,
};
use serde::Deserialize;

use super::auth::{audited_as, sign_in_page, signed_in_answer};
use crate::error::AppError;
use crate::routes::forms::{cookie, secure};
use crate::staff::OIDC_COOKIE;
use crate::state::AppState;

/// A client made from discovered metadata: the authorization endpoint set, the token and
/// userinfo endpoints as the provider published them.
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// How long a sign-in at the provider may take.
const FLOW_SECS: i64 = 600;

/// The provider, discovered once (again after a failure).
pub(super) struct Provider {
    issuer: String,
    client_id: String,
    client_secret: String,
    http: openidconnect::reqwest::Client,
    metadata: tokio::sync::OnceCell<CoreProviderMetadata>,
}

impl Provider {
    /// The provider the settings name, if they name one.
    pub(super) fn of(settings: &crate::config::Settings) -> Option<Arc<Provider>> {
        let http = openidconnect::reqwest::ClientBuilder::new()
            // The flow's redirects are the browser's; the service follows none itself.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .ok()?;
        Some(Arc::new(Provider {
            issuer: settings.oidc_issuer.clone()?,
            client_id: settings.oidc_client_id.clone()?,
            client_secret: settings.oidc_client_secret.clone()?,
            http,
            metadata: tokio::sync::OnceCell::new(),
        }))
    }

    /// The client of this service at the provider, its callback the redirect URI.
    async fn client(&self, state: &AppState) -> Result<Client, AppError> {
        let metadata = self.metadata().await?.clone();
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.client_id.clone()),
            Some(ClientSecret::new(self.client_secret.clone())),
        )
        .set_redirect_uri(redirect_url(state)?))
    }

    async fn metadata(&self) -> Result<&CoreProviderMetadata, AppError> {
        self.metadata
            .get_or_try_init(|| async {
                let url = IssuerUrl::new(self.issuer.clone())
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("OIDC_ISSUER: {e}")))?;
                CoreProviderMetadata::discover_async(url, &self.http)
                    .await
                    .map_err(|e| {
                        tracing::warn!(error = %e, "OpenID Connect discovery failed");
                        AppError::Unavailable(
                            "the sign-in provider cannot be reached now; try again shortly, or \
                             sign in with your password"
                                .into(),
                        )
                    })
            })
            .await
    }
}

pub(super) fn router(provider: Option<Arc<Provider>>) -> Router<AppState> {
    match provider {
        Some(p) => Router::new()
            .route("/console/oidc/start", get(start))
            .route("/console/oidc/callback", get(callback))
            .layer(Extension(p)),
        None => Router::new(),
    }
}

fn redirect_url(state: &AppState) -> Result<RedirectUrl, AppError> {
    RedirectUrl::new(format!("{}/console/oidc/callback", state.issuer.base()))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("redirect URL: {e}")))
}

fn flow_cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if secure(state) { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{OIDC_COOKIE}={value}; Path=/console/oidc; HttpOnly; SameSite=Lax; \
         Max-Age={max_age}{secure}"
    ))
    .expect("base64url tokens")
}

/// Sends the browser to the provider.
async fn start(
    State(state): State<AppState>,
    Extension(provider): Extension<Arc<Provider>>,
    headers: HeaderMap,
) -> Response {
    let built = async {
        let client = provider.client(&state).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, csrf, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        let value = format!("{}.{}.{}", csrf.secret(), nonce.secret(), verifier.secret());
        Ok::<_, AppError>((url, value))
    }
    .await;
    match built {
        Ok((url, value)) => {
            let mut res = Redirect::to(url.as_str()).into_response();
            res.headers_mut()
                .append(header::SET_COOKIE, flow_cookie(&state, &value, FLOW_SECS));
            res
        }
        Err(e) => sign_in_page(&state, &headers, e.status(), Some(&e.to_string())),
    }
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The provider's answer: the code exchanged, the ID token verified, the staff account of
/// its verified email signed in.
async fn callback(
    State(state): State<AppState>,
    Extension(provider): Extension<Arc<Provider>>,
    headers: HeaderMap,
    query: Result<Query<Callback>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let refuse = |status: StatusCode, message: &str| {
        let mut res = sign_in_page(&state, &headers, status, Some(message));
        res.headers_mut()
            .append(header::SET_COOKIE, flow_cookie(&state, "", 0));
        res
    };
    let Ok(Query(q)) = query else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "The sign-in provider's answer is malformed.",
        );
    };
    if let Some(e) = q.error {
        let why = q.error_description.unwrap_or(e);
        return refuse(
            StatusCode::UNAUTHORIZED,
            &format!("The sign-in provider did not sign you in: {why}"),
        );
    }
    let flow = cookie(&headers, OIDC_COOKIE).unwrap_or("").to_owned();
    let mut parts = flow.splitn(3, '.');
    let (Some(expected), Some(nonce), Some(verifier)) = (parts.next(), parts.next(), parts.next())
    else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "This sign-in has expired (or was started in another browser). Please try again.",
        );
    };
    let given = q.state.unwrap_or_default();
    if !crate::holder::csrf_matches(expected, &given) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "This sign-in's state does not match the one this browser started. Please try again.",
        );
    }
    let Some(code) = q.code else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "The sign-in provider sent no code.",
        );
    };
    let email = async {
        let client = provider.client(&state).await?;
        let unavailable = |e: String| {
            tracing::warn!(error = %e, "OpenID Connect code exchange failed");
            AppError::Unauthorized("the sign-in provider did not accept this sign-in".into())
        };
        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| unavailable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
            .request_async(&provider.http)
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| unavailable("no ID token".into()))?;
        let claims = id_token
            .claims(&client.id_token_verifier(), &Nonce::new(nonce.to_owned()))
            .map_err(|e| unavailable(format!("ID token: {e}")))?;
        match (claims.email(), claims.email_verified()) {
            (Some(email), Some(true)) => Ok(email.as_str().to_owned()),
            _ => Err(AppError::Forbidden(
                "The sign-in provider did not vouch for your email address, so it cannot \
                 match a staff account."
                    .into(),
            )),
        }
    }
    .await;
    let email = match email {
        Ok(e) => crate::program::normalise_email(&e),
        Err(e) => return refuse(e.status(), &e.to_string()),
    };
    let account = match state.store.staff_by_email(&email).await {
        Ok(a) => a,
        Err(e) => return crate::html::error(&headers, e.into()),
    };
    let Some(account) = account else {
        return refuse(
            StatusCode::FORBIDDEN,
            "There is no staff account for this email address. An admin makes accounts; \
             signing in does not.",
        );
    };
    match signed_in_answer(&state, account.id).await {
        Ok(mut res) => {
            res.headers_mut()
                .append(header::SET_COOKIE, flow_cookie(&state, "", 0));
            audited_as(res, &account)
        }
        Err(e) => crate::html::error(&headers, e),
    }
}
