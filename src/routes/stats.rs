//! `GET /api/v1/stats`: the program's figures ([`crate::program::stats`]), the same the
//! staff dashboard shows.

use axum::extract::State;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{scope, Auth};
use crate::error::AppResult;
use crate::program::stats::Stats;
use crate::state::AppState;

/// The stats route (behind the admin layers in [`super::router`]).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(program_stats))
}

/// The program's figures now: closings this month, quarter and year, certified people, the
/// work queue, and the series behind the dashboard's charts.
#[utoipa::path(
    get,
    path = "/api/v1/stats",
    tag = "admin",
    security(("bearer" = ["read"])),
    responses(
        (status = 200, description = "The figures.", body = Stats),
        crate::openapi::AuthErrors,
    ),
)]
async fn program_stats(
    State(state): State<AppState>,
    _auth: Auth<scope::Read>,
) -> AppResult<Json<Stats>> {
    let figures = state
        .stats
        .get(&*state.store, crate::program::now())
        .await?;
    Ok(Json((*figures).clone()))
}
