//! Partnership Badges: an Open Badges 3.0 issuing and verification service.
//!
//! [`app`] builds the router from an [`AppState`]; [`serve`] runs it on a listener until a
//! shutdown future resolves. `main.rs` only parses the command line and calls in here.
#![forbid(unsafe_code)]

pub mod audit;
pub mod backup;
pub mod badge_cache;
pub mod cli;
pub mod config;
pub mod credential;
pub mod db;
pub mod error;
pub mod holder;
pub mod html;
pub mod import;
pub mod issuer;
pub mod keys;
pub mod limits;
pub mod mail;
pub mod metrics;
pub mod openapi;
pub mod program;
pub mod registry;
pub mod routes;
pub mod scopes;
pub mod staff;
pub mod state;
pub mod telemetry;
pub mod tokens;
pub mod verify;

use std::future::{Future, IntoFuture};

use axum::Router;
use tokio::net::TcpListener;

pub use state::AppState;

/// The application: every route, with its middleware, over `state`.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}

/// Serves the application on `listener` until `shutdown` resolves, then stops accepting,
/// lets in-flight requests finish (for at most `shutdown_grace_secs`) and closes the
/// database pool.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = state.store.clone();
    // The mail sender runs beside the server and stops with it (unsent rows stay queued).
    let (stop_mail, mail_stopped) = tokio::sync::oneshot::channel::<()>();
    let sender = mail::sender::spawn(state.clone(), async move {
        let _ = mail_stopped.await;
    })
    .map_err(std::io::Error::other)?;
    // The badge pages' watcher keeps this instance's cache live; it leaves with the server.
    let (stop_badges, badges_stopped) = tokio::sync::oneshot::channel::<()>();
    let watcher = badge_cache::spawn_watcher(state.badges.clone(), store.clone(), async move {
        let _ = badges_stopped.await;
    });
    let grace = std::time::Duration::from_secs(state.settings.shutdown_grace_secs);
    let (stopping, mut stopped) = tokio::sync::watch::channel(false);
    // The peer address is the client key of the per-client limits (`limits`).
    let app = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests");
        let _ = stopping.send(true);
    });
    let deadline = async move {
        let _ = stopped.wait_for(|s| *s).await;
        tokio::time::sleep(grace).await;
    };
    let result = tokio::select! {
        r = server.into_future() => r,
        () = deadline => {
            tracing::warn!(?grace, "shutdown grace period over; dropping unfinished requests");
            Ok(())
        }
    };
    let _ = stop_mail.send(());
    let _ = sender.await;
    let _ = stop_badges.send(());
    let _ = watcher.await;
    store.close().await;
    result
}
