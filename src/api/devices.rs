//! Doors, readers, simulated taps and the health check.

use crate::api::auth::guarded_routes;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{Auth, ReadDevices, SimulateTap};
use super::{ApiError, ApiJson, AppState, Problem};
use crate::door::DoorStatus;
use crate::enrollment::{DeskReaderView, Presented};
use crate::model::{Credential, Direction, Technology};
use crate::reader::{ReaderEvent, ReaderStatus};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(guarded_routes!(list_doors))
        .routes(guarded_routes!(list_readers))
        .routes(guarded_routes!(list_enrollment_readers))
        .routes(guarded_routes!(tap))
}

/// `/healthz` lives outside `/api/v1`: monitoring probes it without a token.
pub fn health_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DoorView {
    pub id: i64,
    pub name: String,
    pub unlock_seconds: u64,
    /// When this door's controller started; a reload that leaves the door alone keeps it.
    pub running_since: chrono::DateTime<chrono::Utc>,
    #[serde(flatten)]
    pub status: DoorStatus,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ReaderView {
    id: i64,
    name: String,
    door: String,
    direction: Direction,
    kind: &'static str,
    /// When this reader's driver started; a reload that leaves the reader alone keeps it.
    running_since: chrono::DateTime<chrono::Utc>,
    status: ReaderStatus,
}

pub(crate) fn doors(s: &AppState) -> Vec<DoorView> {
    s.devices()
        .doors
        .iter()
        .map(|d| DoorView {
            id: d.id,
            name: d.name.clone(),
            unlock_seconds: d.unlock_seconds,
            running_since: d.running_since,
            status: d.status.borrow().clone(),
        })
        .collect()
}

fn readers(s: &AppState) -> Vec<ReaderView> {
    s.devices()
        .readers
        .iter()
        .map(|r| ReaderView {
            id: r.info.id,
            name: r.info.name.to_string(),
            door: r.door_name.clone(),
            direction: r.info.direction,
            kind: r.info.kind,
            running_since: r.running_since,
            status: r.status.borrow().clone(),
        })
        .collect()
}

#[utoipa::path(get, path = "/doors", tag = "devices",
    responses((status = 200, body = Vec<DoorView>), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_doors(State(s): State<AppState>, _: Auth<ReadDevices>) -> Json<Vec<DoorView>> {
    Json(doors(&s))
}

#[utoipa::path(get, path = "/readers", tag = "devices",
    responses((status = 200, body = Vec<ReaderView>), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_readers(State(s): State<AppState>, _: Auth<ReadDevices>) -> Json<Vec<ReaderView>> {
    Json(readers(&s))
}

/// No `Debug`: it may carry a PIN.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TapRequest {
    /// Card UID in hex.
    uid: String,
    /// Defaults to `iso14443`.
    #[serde(default)]
    technology: Option<Technology>,
    /// Typed on the reader's keypad after the card (card + PIN doors).
    #[serde(default)]
    pin: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct TapResponse {
    granted: bool,
    /// Reason code, e.g. `granted`, `credential_revoked`, `unknown_credential`.
    reason: String,
    person_id: Option<i64>,
    /// The register line; `null` for a repeat of a card still held on the reader.
    register_id: Option<i64>,
}

/// The readers at the desk (`purpose = "enrollment"`): state, and whether an operator is
/// waiting for a card on one now.
#[utoipa::path(get, path = "/enrollment-readers", tag = "devices",
    responses((status = 200, body = Vec<DeskReaderView>), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_enrollment_readers(
    State(s): State<AppState>,
    _: Auth<ReadDevices>,
) -> Json<Vec<DeskReaderView>> {
    Json(s.enrollment.list())
}

/// Presents a card on a simulated reader, as if tapped, and returns the door's decision.
/// On a simulated desk reader (`purpose = "enrollment"`) the card goes to the operator
/// waiting there: `granted` says whether one took it (reason `enrolled`, else
/// `nobody_waiting`); nothing is registered.
#[utoipa::path(post, path = "/readers/{name}/tap", tag = "devices", params(("name" = String, Path)),
    request_body = TapRequest,
    responses((status = 200, body = TapResponse), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "the reader is not a simulated reader")),
    security(("bearer" = [])))]
async fn tap(
    State(s): State<AppState>,
    _: Auth<SimulateTap>,
    Path(name): Path<String>,
    ApiJson(t): ApiJson<TapRequest>,
) -> Result<Json<TapResponse>, ApiError> {
    if let Some(kind) = s.enrollment.kind(&name) {
        return tap_desk(&s, &name, kind, t);
    }
    let reader = super::reader(&s, &name)?;
    let output = reader.simulated.as_ref().ok_or_else(|| {
        ApiError::Conflict(format!(
            "reader {name:?} is a {} reader; only simulated readers take taps through the API",
            reader.info.kind
        ))
    })?;
    let credential = Credential::parse_hex(t.technology.unwrap_or(Technology::Iso14443), &t.uid)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let (reply, outcome) = oneshot::channel();
    let mut sent = output
        .send(ReaderEvent::Card(credential), Some(reply))
        .await;
    if let Some(pin) = t.pin {
        sent &= output
            .send(ReaderEvent::Keypad(format!("{pin}#")), None)
            .await;
    }
    if !sent {
        return Err(ApiError::Unavailable("the daemon is shutting down".into()));
    }
    let outcome = outcome
        .await
        .map_err(|_| ApiError::Unavailable("the door controller stopped".into()))?;
    Ok(Json(TapResponse {
        granted: outcome.decision.is_granted(),
        reason: outcome.decision.reason().code().to_owned(),
        person_id: outcome.decision.person_id(),
        register_id: outcome.register_id,
    }))
}

fn tap_desk(
    s: &AppState,
    name: &str,
    kind: &str,
    t: TapRequest,
) -> Result<Json<TapResponse>, ApiError> {
    if kind != "simulated" {
        return Err(ApiError::Conflict(format!(
            "enrollment reader {name:?} is a {kind} reader; only simulated readers take taps through the API"
        )));
    }
    if t.pin.is_some() {
        return Err(ApiError::BadRequest(
            "a desk reader takes no PIN; it opens no door".into(),
        ));
    }
    let credential = Credential::parse_hex(t.technology.unwrap_or(Technology::Iso14443), &t.uid)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let taken = s.enrollment.presented(
        name,
        ReaderEvent::Card(credential),
        tokio::time::Instant::now(),
    ) == Presented::Taken;
    Ok(Json(TapResponse {
        granted: taken,
        reason: if taken { "enrolled" } else { "nobody_waiting" }.into(),
        person_id: None,
        register_id: None,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Health {
    /// `ok`, or `degraded` when the database or a device needs attention (an actuator fault,
    /// an alarm, a reader offline).
    status: &'static str,
    database: &'static str,
    doors: Vec<DoorView>,
    readers: Vec<ReaderView>,
}

/// Liveness and device states, without authentication and without secrets.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn healthz(State(s): State<AppState>) -> (StatusCode, Json<Health>) {
    let db_ok =
        s.db.read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
            .await
            .is_ok();
    let doors = doors(&s);
    let readers = readers(&s);
    let devices_ok = doors
        .iter()
        .all(|d| d.status.fault.is_none() && d.status.alarms.is_empty())
        && readers.iter().all(|r| r.status == ReaderStatus::Online);
    let status = if db_ok && devices_ok {
        "ok"
    } else {
        "degraded"
    };
    let code = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        Json(Health {
            status,
            database: if db_ok { "ok" } else { "unavailable" },
            doors,
            readers,
        }),
    )
}
