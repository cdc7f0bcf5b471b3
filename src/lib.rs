//! Partnership Badges: an Open Badges 3.0 issuing and verification service.
//!
//! [`app`] builds the router from an [`AppState`]; [`serve`] runs it on a listener until a
//! shutdown future resolves. `main.rs` only parses the command line and calls in here.
#![forbid(unsafe_code)]

pub mod cli;
pub mod config;
pub mod credential;
pub mod db;
pub mod error;
pub mod issuer;
pub mod keys;
pub mod program;
pub mod routes;
pub mod state;
pub mod telemetry;
pub mod tokens;
pub mod verify;

use std::future::Future;

use axum::Router;
use tokio::net::TcpListener;

pub use state::AppState;

/// The application: every route, with its middleware, over `state`.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}

/// Serves the application on `listener` until `shutdown` resolves, then lets in-flight
/// requests finish and closes the database pool.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = state.store.clone();
    let result = axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await;
    store.close().await;
    result
}
