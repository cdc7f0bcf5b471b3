//! `/console`, the dashboard: the program's figures ([`crate::program::stats`], the same as
//! `GET /api/v1/stats`) with the work queue, the charts and the partner-fit averages; and
//! `/`, the public home page.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::auth::{private, require};
use crate::html::console::{Chart, DashboardPage, HomePage};
use crate::html::page;
use crate::program::stats;
use crate::scopes::Scope;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/console", get(dashboard))
}

pub(super) fn home_router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

async fn home() -> Response {
    page(StatusCode::OK, &HomePage)
}

/// The dashboard's charts, from the figures.
fn charts(s: &stats::Stats) -> Vec<Chart> {
    let months = |series: &[stats::MonthValue]| {
        series
            .iter()
            .map(|m| (m.month.clone(), m.value))
            .collect::<Vec<_>>()
    };
    vec![
        Chart::columns(
            "closings-per-month",
            "Closings per month",
            "Closings",
            months(&s.closings_per_month),
        ),
        Chart::columns(
            "certified-over-time",
            "Certified people over time",
            "Certified people",
            months(&s.certified_over_time),
        ),
        Chart::rows(
            "closings-by-country",
            "Closings by partner country",
            "Country",
            s.closings_by_country
                .iter()
                .map(|c| {
                    let name = c.country.clone().unwrap_or_else(|| "(none given)".into());
                    (name, c.closings)
                })
                .collect(),
        ),
        Chart::rows(
            "closings-per-mentor",
            "Closings per mentor",
            "Mentor",
            s.closings_per_mentor
                .iter()
                .map(|m| (m.name.clone(), m.closings))
                .collect(),
        ),
    ]
}

async fn dashboard(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let staff = match require(&state, &headers, Scope::Read, true).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let stats = match state.stats.get(&*state.store, crate::program::now()).await {
        Ok(s) => (*s).clone(),
        Err(e) => return crate::html::error(&headers, e),
    };
    let charts = charts(&stats);
    private(page(
        StatusCode::OK,
        &DashboardPage {
            nav: staff.nav("dashboard"),
            stats,
            charts,
        },
    ))
}
