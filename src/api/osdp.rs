//! OSDP reader maintenance: installing a new secure channel key (osdp_KEYSET).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use tokio::sync::oneshot;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{Auth, ManageReaders};
use super::{ApiError, ApiJson, AppState, Problem};
use crate::reader::osdp::OsdpRequest;
use crate::reader::osdp::secure::Scbk;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(keyset))
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
/// key and restarts the daemon (until then the reader goes offline once the PD drops the
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
    let reader = s
        .devices
        .readers
        .iter()
        .find(|r| *r.info.name == *name)
        .ok_or_else(|| ApiError::NotFound(format!("reader {name:?}")))?;
    let requests = reader.osdp.as_ref().ok_or_else(|| {
        ApiError::Conflict(format!(
            "reader {name:?} is a {} reader; KEYSET is for OSDP readers",
            reader.info.kind
        ))
    })?;
    let key = Scbk::parse(&k.key).map_err(|e| ApiError::BadRequest(format!("key: {e}")))?;
    let (reply, answer) = oneshot::channel();
    requests
        .send(OsdpRequest::Keyset { key, reply })
        .await
        .map_err(|_| ApiError::Unavailable("the reader's driver has stopped".into()))?;
    let answer = answer
        .await
        .map_err(|_| ApiError::Unavailable("the reader's driver has stopped".into()))?;
    match answer {
        Ok(()) => {
            tracing::warn!(reader = %name, token = actor.token_id, "OSDP KEYSET acknowledged by the PD");
            Ok(StatusCode::NO_CONTENT)
        }
        Err(why) => Err(ApiError::Conflict(format!("reader {name:?}: {why}"))),
    }
}
