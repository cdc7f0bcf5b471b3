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

mod access;
mod auth;
mod awarding;
mod dashboard;
mod import;
mod oidc;
mod records;
mod session;

use axum::middleware::from_fn_with_state;
use axum::Router;

use crate::state::AppState;

/// The console's routes, with the audit layer on every request that changes something.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(session::router())
        .merge(dashboard::router())
        .merge(records::router())
        .merge(awarding::router())
        .merge(access::router())
        .merge(import::router())
        .merge(oidc::router(oidc::Provider::of(&state.settings)))
        // Console writes mark the registry's and the figures' caches dirty, as API writes do.
        .layer(from_fn_with_state(
            state.clone(),
            crate::routes::registry::note_writes,
        ))
        .layer(from_fn_with_state(state.clone(), auth::record_console))
}

/// The home page for the public, `/` (outside the console's audit layer).
pub fn home_router() -> Router<AppState> {
    dashboard::home_router()
}
