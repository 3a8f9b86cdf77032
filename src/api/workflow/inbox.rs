//! What waits for whom: the caller's inbox, the office's overdue list (Mutu Baku Waktu),
//! and accounts in other systems.

use crate::api::auth::guarded_routes;
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use super::Reason;
use crate::api::auth::{Auth, Authenticated, CloseAccount, ReadWorkflow};
use crate::api::{ApiError, ApiJson, ApiQuery, AppState, Problem};
use crate::model::Role;
use crate::store::Changed;
use crate::store::logical::{self, LogicalRight};
use crate::store::waiting::{self, WaitingItem};
use crate::workflow::Kind;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(guarded_routes!(inbox))
        .routes(guarded_routes!(list_waiting))
        .routes(guarded_routes!(list_logical))
        .routes(guarded_routes!(close_logical))
}

/// What waits for the caller: steps of their role, and of their account where a step is
/// addressed to one.
#[utoipa::path(get, path = "/workflow/inbox", tag = "workflow",
    responses((status = 200, body = Vec<WaitingItem>), (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn inbox(
    State(s): State<AppState>,
    Auth(actor, _): Auth<Authenticated>,
) -> Result<Json<Vec<WaitingItem>>, ApiError> {
    let all = s.db.read(|c| waiting::all(c, Utc::now())).await?;
    Ok(Json(all.into_iter().filter(|w| w.is_for(&actor)).collect()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct WaitingQuery {
    /// Only steps past their time standard.
    #[serde(default)]
    overdue: bool,
    #[param(inline)]
    role: Option<Role>,
    /// Judge overdue as of this time (RFC 3339) instead of now, e.g. to plan the week.
    at: Option<DateTime<Utc>>,
}

/// Everything waiting, oldest due first, with its time standard.
#[utoipa::path(get, path = "/workflow/waiting", tag = "workflow", params(WaitingQuery),
    responses((status = 200, body = Vec<WaitingItem>), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_waiting(
    State(s): State<AppState>,
    _: Auth<ReadWorkflow>,
    ApiQuery(q): ApiQuery<WaitingQuery>,
) -> Result<Json<Vec<WaitingItem>>, ApiError> {
    let at = q.at.unwrap_or_else(Utc::now);
    let all = s.db.read(move |c| waiting::all(c, at)).await?;
    Ok(Json(
        all.into_iter()
            .filter(|w| !q.overdue || w.overdue)
            .filter(|w| q.role.is_none_or(|r| r == w.role))
            .collect(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct LogicalQuery {
    #[param(inline)]
    kind: Option<Kind>,
    /// Only accounts still open.
    #[serde(default)]
    open: bool,
    /// Only accounts open past their planned end.
    #[serde(default)]
    overdue: bool,
}

/// Remote-access and control-panel accounts (Formulir Pencatatan Pemberian Remote Akses).
#[utoipa::path(get, path = "/logical-rights", tag = "workflow", params(LogicalQuery),
    responses((status = 200, body = Vec<LogicalRight>), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_logical(
    State(s): State<AppState>,
    _: Auth<ReadWorkflow>,
    ApiQuery(q): ApiQuery<LogicalQuery>,
) -> Result<Json<Vec<LogicalRight>>, ApiError> {
    Ok(Json(
        s.db.read(move |c| logical::list(c, q.kind, q.open, q.overdue, Utc::now()))
            .await?,
    ))
}

/// Records that the account was closed in its system (waktu penutupan = now).
#[utoipa::path(post, path = "/logical-rights/{id}/close", tag = "workflow", params(("id" = i64, Path)),
    request_body = Reason,
    responses((status = 200, body = LogicalRight), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn close_logical(
    State(s): State<AppState>,
    Auth(actor, _): Auth<CloseAccount>,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<Reason>,
) -> Result<Json<LogicalRight>, ApiError> {
    let right =
        s.db.write(move |tx| {
            Ok((
                logical::close(tx, id, &r.reason, &actor, Utc::now())?,
                Changed::none(),
            ))
        })
        .await?;
    Ok(Json(right))
}
