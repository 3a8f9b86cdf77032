//! `GET /metrics`: Prometheus text format, behind a bearer token with the `ReadMetrics`
//! permission (roles admin, auditor and monitor). Prometheus sends the token with
//! `authorization: { credentials_file: … }`; the series carry door, reader and alarm names,
//! never a person.

use crate::api::auth::guarded_routes;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;

use super::auth::{Auth, ReadMetrics};
use super::{ApiError, AppState, Problem};
use crate::metrics::Snapshot;
use crate::reader::ReaderStatus;
use crate::store::backlog;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(guarded_routes!(metrics))
}

/// Counters, latency histograms and device states in the Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, content_type = "text/plain; version=0.0.4", body = String),
        (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn metrics(
    State(s): State<AppState>,
    _: Auth<ReadMetrics>,
) -> Result<impl IntoResponse, ApiError> {
    let workflow =
        s.db.read(|c| backlog::workflow_backlog(c, chrono::Utc::now()))
            .await?;
    let devices = s.devices();
    let snapshot = Snapshot {
        doors: devices
            .doors
            .iter()
            .map(|d| (d.name.clone(), d.status.borrow().clone()))
            .collect(),
        readers: devices
            .readers
            .iter()
            .map(|r| {
                (
                    r.info.name.to_string(),
                    r.door_name.clone(),
                    r.info.kind,
                    *r.status.borrow() == ReaderStatus::Online,
                    r.bad_frames.load(std::sync::atomic::Ordering::Relaxed),
                )
            })
            .collect(),
        workflow,
        event_subscribers: s.events.receiver_count(),
        start_time_seconds: s.started.timestamp(),
    };
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics.render(&snapshot),
    ))
}
