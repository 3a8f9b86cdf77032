//! OSDP reader maintenance: a new secure channel key (osdp_KEYSET), an output switched
//! (osdp_OUT), a new address and speed (osdp_COMSET). Each is one request to the reader's bus
//! task ([`request`]), answered by the PD.

use crate::api::auth::guarded_routes;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use utoipa_axum::router::OpenApiRouter;

use super::auth::{Auth, ManageReaders};
use super::{ApiError, ApiJson, AppState, Problem};
use crate::reader::osdp::secure::Scbk;
use crate::reader::osdp::{OsdpAction, OsdpAnswer, OsdpRequest};

/// The speeds OSDP 2.2 names for the line (§5.7); libosdp's PD accepts these.
const BAUD_RATES: [u32; 6] = [9600, 19_200, 38_400, 57_600, 115_200, 230_400];
/// The longest timed output, in whole seconds: the timer counts 100 ms units in 16 bits.
const MAX_OUTPUT_SECONDS: u16 = u16::MAX / 10;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(guarded_routes!(keyset))
        .routes(guarded_routes!(output))
        .routes(guarded_routes!(comset))
}

/// Sends `action` to the OSDP reader `name` and waits for the PD's answer. A reader that is
/// not OSDP, offline, or whose PD refuses is a conflict with the reader's state.
async fn request(s: &AppState, name: &str, action: OsdpAction) -> Result<OsdpAnswer, ApiError> {
    let reader = super::reader(s, name)?;
    let requests = reader.osdp.as_ref().ok_or_else(|| {
        ApiError::Conflict(format!(
            "reader {name:?} is a {} reader; {} is for OSDP readers",
            reader.info.kind,
            action.name()
        ))
    })?;
    let stopped = || ApiError::Unavailable("the reader's driver has stopped".into());
    let (reply, answer) = oneshot::channel();
    requests
        .send(OsdpRequest { action, reply })
        .await
        .map_err(|_| stopped())?;
    answer
        .await
        .map_err(|_| stopped())?
        .map_err(|why| ApiError::Conflict(format!("reader {name:?}: {why}")))
}

/// No `Debug`: it carries a key.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct KeysetRequest {
    /// The new Secure Channel Base Key, 32 hex digits. Never logged or returned.
    key: String,
}

/// Sends osdp_KEYSET over the reader's established secure channel. On the PD's ACK the PD
/// holds the new key; the daemon stores nothing: the operator points `scbk_file` at the new
/// key and reloads the daemon (until then the reader goes offline once the PD drops the
/// old session).
#[utoipa::path(post, path = "/readers/{name}/osdp/keyset", tag = "devices", params(("name" = String, Path)),
    request_body = KeysetRequest,
    responses((status = 204, description = "the PD acknowledged the new key"),
        (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "not an OSDP reader, not on the secure channel, offline, or the PD refused"),
        (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn keyset(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ManageReaders>,
    Path(name): Path<String>,
    ApiJson(k): ApiJson<KeysetRequest>,
) -> Result<StatusCode, ApiError> {
    let key = Scbk::parse(&k.key).map_err(|e| ApiError::BadRequest(format!("key: {e}")))?;
    request(&s, &name, OsdpAction::Keyset(key)).await?;
    tracing::warn!(reader = %name, token = actor.token_id, "OSDP KEYSET acknowledged by the PD");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct OutputRequest {
    /// The PD's output number, from 0.
    output: u8,
    /// Switch it on (`true`) or off.
    on: bool,
    /// For this many seconds (1–6553), then back to its permanent state; without it the
    /// change is permanent.
    seconds: Option<u16>,
}

/// Sends osdp_OUT: one of the PD's outputs (a relay, an LED line) switched on or off,
/// permanently or for `seconds`.
#[utoipa::path(post, path = "/readers/{name}/osdp/output", tag = "devices", params(("name" = String, Path)),
    request_body = OutputRequest,
    responses((status = 204, description = "the PD acknowledged the output command"),
        (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "not an OSDP reader, offline, or the PD refused"),
        (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn output(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ManageReaders>,
    Path(name): Path<String>,
    ApiJson(o): ApiJson<OutputRequest>,
) -> Result<StatusCode, ApiError> {
    let timer_100ms = match o.seconds {
        None => None,
        Some(seconds @ 1..=MAX_OUTPUT_SECONDS) => Some(seconds * 10),
        Some(_) => {
            return Err(ApiError::BadRequest(format!(
                "seconds must be 1-{MAX_OUTPUT_SECONDS}, or left out for a permanent change"
            )));
        }
    };
    let action = OsdpAction::Output {
        output: o.output,
        on: o.on,
        timer_100ms,
    };
    request(&s, &name, action).await?;
    tracing::info!(reader = %name, token = actor.token_id, output = o.output, on = o.on, seconds = o.seconds, "OSDP OUT acknowledged by the PD");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ComsetRequest {
    /// The PD's new address, 0–126.
    address: u8,
    /// The PD's new speed: 9600, 19200, 38400, 57600, 115200 or 230400.
    baud: u32,
}

/// The PD's osdp_COM: where it listens now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ComsetResponse {
    /// The address the PD reports.
    address: u8,
    /// The speed the PD reports.
    baud: u32,
    /// What the operator must do next.
    message: String,
}

/// Sends osdp_COMSET. The PD answers osdp_COM at its old address and speed, then listens
/// only at the new ones. The daemon does not rewrite its configuration: the reader is
/// offline until its `address` and `baud` are changed to match and the daemon reloaded.
#[utoipa::path(post, path = "/readers/{name}/osdp/comset", tag = "devices", params(("name" = String, Path)),
    request_body = ComsetRequest,
    responses((status = 200, body = ComsetResponse, description = "the PD's osdp_COM: the address and speed it now uses"),
        (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "not an OSDP reader, offline, or the PD refused"),
        (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn comset(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ManageReaders>,
    Path(name): Path<String>,
    ApiJson(c): ApiJson<ComsetRequest>,
) -> Result<Json<ComsetResponse>, ApiError> {
    if c.address > 126 {
        return Err(ApiError::BadRequest(
            "address must be 0-126 (127 is the broadcast address)".into(),
        ));
    }
    if !BAUD_RATES.contains(&c.baud) {
        return Err(ApiError::BadRequest(format!(
            "baud must be one of {BAUD_RATES:?}"
        )));
    }
    let action = OsdpAction::Comset {
        address: c.address,
        baud: c.baud,
    };
    let (address, baud) = match request(&s, &name, action).await? {
        OsdpAnswer::Moved { address, baud } => (address, baud),
        OsdpAnswer::Acknowledged => {
            return Err(ApiError::Conflict(format!(
                "reader {name:?}: the PD acknowledged COMSET without reporting its new settings"
            )));
        }
    };
    tracing::warn!(reader = %name, token = actor.token_id, address, baud, "OSDP COMSET answered by the PD");
    Ok(Json(ComsetResponse {
        address,
        baud,
        message: format!(
            "the PD now listens at address {address}, {baud} baud: set address = {address} and baud = {baud} for reader {name:?} in the configuration and reload lawang (systemctl reload lawang); the reader is offline until then"
        ),
    }))
}
