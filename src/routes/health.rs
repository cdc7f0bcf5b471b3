//! Operational endpoints: liveness (`/healthz`), readiness (`/readyz`) and Prometheus
//! metrics (`/metrics`), plus the middleware that records request metrics.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::AppError;
use crate::state::AppState;

/// The operational routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// Alive: the process answers. Cheap, touches nothing.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "Alive.", body = Health)),
)]
async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Ready: the database answers and a signing key is loaded; 503 otherwise, so a load
/// balancer stops sending traffic here.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready.", body = Readiness),
        (status = 503, description = "The database is unreachable (or, as on every \
            operation, the request took longer than `REQUEST_TIMEOUT_SECS`).",
            body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
async fn readyz(State(state): State<AppState>) -> Response {
    let database = state.store.ping().await;
    let key = state.issuer.keys.active_kid().to_owned();
    match database {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({"status": "ready", "database": state.store.backend(), "key": key})),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            // Like every 503 of the service: problem+json with `Retry-After`.
            AppError::Unavailable("the database is unreachable".into()).into_response()
        }
    }
}

/// Prometheus metrics.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "The Prometheus text format.", content(("text/plain")))),
)]
async fn metrics(State(state): State<AppState>) -> Response {
    let mut res = state.metrics.render().into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    res
}

/// Counts every request by route template and status, and times it.
pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let res = next.run(req).await;
    let m = &state.metrics;
    m.http_duration
        .with_label_values(&[&method, &route])
        .observe(start.elapsed().as_secs_f64());
    m.http_requests
        .with_label_values(&[&method, &route, res.status().as_str()])
        .inc();
    res
}

// ---------------------------------------------------------------- schemas
//
// The shapes of answers built with `json!` above, for the OpenAPI document only.

/// `GET /healthz`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Health {
    /// `ok`.
    status: String,
}

/// `GET /readyz` when ready.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Readiness {
    /// `ready`.
    status: String,
    /// `sqlite` or `postgres`.
    database: String,
    /// The active signing key id.
    key: String,
}
