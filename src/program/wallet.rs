//! Wallet delivery: the rules of a VC-API exchange with DIDAuth, which hands one credential
//! to one wallet, bound to the wallet's DID.
//!
//! The flow the Learner Credential Wallet follows: it opens the interaction URL (the QR code
//! or the deep link), which names the exchange; it posts `{}` and gets a
//! `verifiablePresentationRequest` for `DIDAuthentication` with a fresh challenge and this
//! service's domain; it posts a presentation signed by its `did:key` over both, and gets a
//! copy of the credential whose `credentialSubject.id` is that DID. The copy has the same
//! achievement, evidence and status bit as the original (so one revocation covers both), is
//! issued under the issuer's `did:web` id (the issuer ids wallets resolve), and is stored with
//! the exchange. An exchange serves one holder, once, before it expires; a challenge answers
//! once.
//!
//! The same exchange also answers the Learner Credential Wallet's older credential-request
//! link (`dccrequest://request?issuer=…&auth_type=bearer&challenge=…&vc_request_url=…`):
//! the wallet posts its presentation, signed over the challenge in the link (it states no
//! domain), straight to `vc_request_url`, and gets the copy. Current versions of that wallet
//! keep a credential only from this flow (a VC-API exchange that starts with a DIDAuth request
//! ends, for them, with "DID Authentication complete").

use chrono::Duration;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::config::IssuerIdForm;
use crate::credential::model::{OpenBadgeCredential, VC_V2_CONTEXT};
use crate::credential::presentation::{self, Expected};
use crate::db::{CredentialRecord, Exchange, ExchangeCopy};
use crate::error::{AppError, AppResult};
use crate::holder;
use crate::state::AppState;

/// An exchange just opened, with the token its URLs carry (only its hash is stored).
pub struct Opened {
    /// The stored exchange.
    pub exchange: Exchange,
    /// The URL token.
    pub token: String,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("exchange", &self.exchange.id)
            .field("token", &"***")
            .finish()
    }
}

/// Where a wallet is sent for an exchange.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ExchangeLinks {
    /// `{base}/exchanges/{token}?iuv=1`: a `GET` with `Accept: application/json` names the
    /// VC-API exchange.
    pub interaction_url: String,
    /// `{base}/exchanges/{token}`: the VC-API exchange the wallet posts to.
    pub exchange_url: String,
    /// The Learner Credential Wallet's deep link to the exchange,
    /// `https://lcw.app/request?request={"protocols":{"vcapi":…}}`.
    pub deep_link: String,
    /// The same for the phone's app: `dccrequest://request?request=…`, which opens the wallet
    /// on iOS and Android (`https://lcw.app` has no Android app link).
    pub app_link: String,
    /// The wallet's credential-request link: `dccrequest://request?issuer=…&auth_type=bearer&
    /// challenge=…&vc_request_url={exchange_url}/request`, the challenge handed out when the
    /// exchange was opened.
    pub credential_request_link: String,
}

/// The URLs of the exchange whose token is `token`, opened with `challenge`.
pub fn links(state: &AppState, token: &str, challenge: &str) -> ExchangeLinks {
    let exchange_url = state.issuer.exchange_url(token);
    let interaction_url = format!("{exchange_url}?iuv=1");
    // The wallet decodes the request twice: the JSON must hold no `%` (none of these URLs
    // does: the token is base64url).
    let request = percent_encode(&json!({"protocols": {"vcapi": exchange_url}}).to_string());
    let credential_request_link = format!(
        "dccrequest://request?issuer={}&auth_type=bearer&challenge={}&vc_request_url={}",
        percent_encode(state.issuer.name()),
        percent_encode(challenge),
        percent_encode(&format!("{exchange_url}/request")),
    );
    ExchangeLinks {
        deep_link: format!("https://lcw.app/request?request={request}"),
        app_link: format!("dccrequest://request?request={request}"),
        credential_request_link,
        interaction_url,
        exchange_url,
    }
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The domain presentations are signed over: this service's public base URL.
pub fn domain(state: &AppState) -> &str {
    state.issuer.base()
}

/// Opens an exchange for a credential (by its holder on their page, `opened_by = "holder"`,
/// or through the API, `token:{id}`). A revoked or expired credential is not delivered.
pub async fn open(state: &AppState, credential_id: Uuid, opened_by: &str) -> AppResult<Opened> {
    let record = state
        .store
        .credential(credential_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no credential with id {credential_id}")))?;
    deliverable(&record)?;
    let now = crate::program::now();
    let token = holder::new_token();
    let ttl = i64::try_from(state.settings.exchange_ttl_secs).unwrap_or(86_400);
    let exchange = Exchange {
        id: Uuid::new_v4(),
        token_hash: holder::token_hash(&token),
        credential_id,
        opened_by: opened_by.to_owned(),
        created_at: now,
        expires_at: now + Duration::seconds(ttl),
        // The credential-request link carries a challenge from the start; a VC-API request
        // (`POST {}`) replaces it.
        challenge: Some(holder::new_token()),
        holder_did: None,
        completed_at: None,
        copy_id: None,
        copy_document: None,
    };
    state.store.insert_exchange(&exchange).await?;
    Ok(Opened { exchange, token })
}

/// A revoked or expired credential is not handed to a wallet.
fn deliverable(record: &CredentialRecord) -> AppResult<()> {
    match record.status_at(crate::program::now()) {
        "valid" => Ok(()),
        status => Err(AppError::Conflict(format!(
            "credential {} is {status}, so it is not delivered to a wallet",
            record.id
        ))),
    }
}

/// The exchange a URL token names, open or not.
pub async fn find(state: &AppState, token: &str) -> AppResult<Exchange> {
    let unknown =
        || AppError::NotFound("no such exchange (check the link, or open a new one)".into());
    if !holder::well_formed(token) {
        return Err(unknown());
    }
    state
        .store
        .exchange_by_token(&holder::token_hash(token))
        .await?
        .ok_or_else(unknown)
}

/// What an exchange is at `now`: `completed`, `expired` or `open`.
pub fn status(exchange: &Exchange, now: chrono::DateTime<chrono::Utc>) -> &'static str {
    if exchange.completed_at.is_some() {
        "completed"
    } else if exchange.expires_at <= now {
        "expired"
    } else {
        "open"
    }
}

/// The exchange a URL token names, if it still takes requests: not delivered (409), not
/// expired (410), and its credential still valid (409).
pub async fn find_open(state: &AppState, token: &str) -> AppResult<Exchange> {
    let exchange = find(state, token).await?;
    if let Some(e) = closed(&exchange) {
        return Err(e);
    }
    let record = state
        .store
        .credential(exchange.credential_id)
        .await?
        .ok_or_else(|| AppError::NotFound("the exchange's credential is gone".into()))?;
    deliverable(&record)?;
    Ok(exchange)
}

/// Why an exchange takes no more requests, if it does not.
fn closed(exchange: &Exchange) -> Option<AppError> {
    match status(exchange, crate::program::now()) {
        "completed" => Some(AppError::Conflict(
            "this exchange has delivered its credential already, to one holder; open a new one \
             to add the badge to another wallet"
                .into(),
        )),
        "expired" => Some(AppError::Gone(
            "this exchange has expired; open a new one from the badge holder's page".into(),
        )),
        _ => None,
    }
}

/// Step 2: a presentation request for DIDAuthentication, with a new challenge (any earlier
/// one of this exchange can no longer be answered).
pub async fn request(state: &AppState, token: &str) -> AppResult<Value> {
    let exchange = find_open(state, token).await?;
    let challenge = holder::new_token();
    let now = crate::program::now();
    if !state
        .store
        .challenge_exchange(exchange.id, &challenge, now)
        .await?
    {
        // Completed or expired since it was read.
        let again = find(state, token).await?;
        return Err(closed(&again).unwrap_or_else(|| {
            AppError::Conflict("the exchange changed meanwhile; try again".into())
        }));
    }
    Ok(json!({
        "verifiablePresentationRequest": {
            "query": [{"type": "DIDAuthentication"}],
            "challenge": challenge,
            "domain": domain(state),
        }
    }))
}

/// Which way a presentation arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Step 3 of the VC-API exchange: over the challenge and the domain of the request.
    VcApi,
    /// The credential-request link: over the link's challenge; a domain, if stated, ours.
    CredentialRequest,
}

/// Step 3: verifies the wallet's DIDAuth presentation and returns the credential bound to its
/// holder, signed; stores that copy with the exchange, which is then complete.
pub async fn present(state: &AppState, token: &str, vp: Value, flow: Flow) -> AppResult<Value> {
    let exchange = find(state, token).await?;
    if let Some(e) = closed(&exchange) {
        return Err(e);
    }
    let Some(challenge) = exchange.challenge.clone() else {
        return Err(AppError::Conflict(
            "no challenge has been handed out for this exchange: post {} first for the \
             presentation request"
                .into(),
        ));
    };
    let jsonld = state.jsonld.clone();
    let domain = domain(state).to_owned();
    let expected_challenge = challenge.clone();
    let holder = state
        .off_workers(move || {
            presentation::verify_presentation(
                &vp,
                Expected {
                    challenge: &expected_challenge,
                    domain: &domain,
                    domain_required: flow == Flow::VcApi,
                },
                &jsonld,
            )
        })
        .await?
        .map_err(|e| AppError::Unprocessable {
            detail: format!("the presentation does not authenticate its holder: {e}"),
            field: Some("verifiablePresentation".into()),
        })?;

    let record = state
        .store
        .credential(exchange.credential_id)
        .await?
        .ok_or_else(|| AppError::NotFound("the exchange's credential is gone".into()))?;
    deliverable(&record)?;
    let copy_id = Uuid::new_v4();
    // Signed now: the copy's proof says when it was made, not when the original was.
    let now = crate::program::now();
    let document = state.sign_as(
        holder_copy(state, &record, &holder, copy_id)?,
        IssuerIdForm::DidWeb,
        &crate::program::format_time(now),
    )?;
    let copy = ExchangeCopy {
        holder_did: holder,
        copy_id,
        document,
    };
    if !state
        .store
        .complete_exchange(exchange.id, &challenge, &copy, now)
        .await?
    {
        // Another presentation won, the exchange expired, the credential was revoked, or a
        // new challenge replaced this one since it was read: nothing was stored.
        let again = find_open(state, token).await?;
        return Err(closed(&again).unwrap_or_else(|| AppError::Unprocessable {
            detail: "the presentation is over a challenge this exchange no longer accepts \
                     (a newer one was handed out)"
                .into(),
            field: Some("verifiablePresentation".into()),
        }));
    }
    serde_json::from_str(&copy.document)
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("the signed copy")))
}

/// The presentation that carries a delivered copy to the wallet.
pub fn presentation_of(copy: Value) -> Value {
    json!({
        "@context": [VC_V2_CONTEXT],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [copy],
    })
}

/// The copy of `record` bound to `holder`: the same achievement, evidence, dates and status
/// bit, issued under the `did:web` id, its own `urn:uuid:` id, not yet signed.
fn holder_copy(
    state: &AppState,
    record: &CredentialRecord,
    holder: &str,
    copy_id: Uuid,
) -> AppResult<OpenBadgeCredential> {
    let mut c: OpenBadgeCredential = serde_json::from_str(&record.document)
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("a stored credential")))?;
    let issuer = &state.issuer;
    c.id = format!("urn:uuid:{copy_id}");
    c.issuer = issuer.profile_as(IssuerIdForm::DidWeb);
    c.credential_subject.id = Some(holder.to_owned());
    if let Some(status) = &mut c.credential_status {
        let form = IssuerIdForm::DidWeb;
        status.id = issuer.status_entry_id(form, record.status_list, record.status_index);
        status.status_list_credential = issuer.status_list_url_as(form, record.status_list);
    }
    c.proof.clear();
    Ok(c)
}
