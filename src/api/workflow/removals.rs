//! `/removals`: Permintaan Penghapusan Akses.

use crate::api::auth::guarded_routes;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use super::{Decision, Note, StepDecision, in_workflow};
use crate::api::auth::{ActOnStep, Auth, FileRemoval, ReadWorkflow};
use crate::api::{ApiError, ApiJson, ApiQuery, AppState, Problem};
use crate::model::Actor;
use crate::store::Changed;
use crate::store::removals::{self, NewRemoval, RemovalView};
use crate::workflow::{CaseStatus, StepKind};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(guarded_routes!(list_removals, file_removal))
        .routes(guarded_routes!(get_removal))
        .routes(guarded_routes!(decide))
        .routes(guarded_routes!(deactivate))
        .routes(guarded_routes!(confirm))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct RemovalQuery {
    #[param(inline)]
    status: Option<CaseStatus>,
}

#[utoipa::path(get, path = "/removals", tag = "workflow", params(RemovalQuery),
    responses((status = 200, body = Vec<RemovalView>), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_removals(
    State(s): State<AppState>,
    _: Auth<ReadWorkflow>,
    ApiQuery(q): ApiQuery<RemovalQuery>,
) -> Result<Json<Vec<RemovalView>>, ApiError> {
    Ok(Json(
        s.db.read(move |c| removals::list(c, q.status, Utc::now()))
            .await?,
    ))
}

/// Files a removal request for a right no longer valid; the Kasi is told.
#[utoipa::path(post, path = "/removals", tag = "workflow", request_body = NewRemoval,
    responses((status = 201, body = RemovalView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn file_removal(
    State(s): State<AppState>,
    Auth(actor, _): Auth<FileRemoval>,
    ApiJson(r): ApiJson<NewRemoval>,
) -> Result<(StatusCode, Json<RemovalView>), ApiError> {
    let view = in_workflow(&s, move |tx, ctx| {
        Ok((
            removals::create(tx, ctx, &r, &actor, Utc::now())?,
            Changed::none(),
        ))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(get, path = "/removals/{id}", tag = "workflow", params(("id" = i64, Path)),
    responses((status = 200, body = RemovalView), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_removal(
    State(s): State<AppState>,
    _: Auth<ReadWorkflow>,
    Path(id): Path<i64>,
) -> Result<Json<RemovalView>, ApiError> {
    Ok(Json(
        s.db.read(move |c| removals::get(c, id, Utc::now())).await?,
    ))
}

async fn step(
    s: &AppState,
    id: i64,
    step: Option<String>,
    kind: StepKind,
    approve: bool,
    note: Option<String>,
    actor: Actor,
) -> Result<RemovalView, ApiError> {
    in_workflow(s, move |tx, ctx| {
        removals::act(
            tx,
            ctx.tz,
            id,
            step.as_deref(),
            kind,
            approve,
            note.as_deref(),
            &actor,
            Utc::now(),
        )
    })
    .await
}

/// The Kasi records the request and forwards it to the Administrator (or refuses it).
#[utoipa::path(post, path = "/removals/{id}/decide", tag = "workflow", params(("id" = i64, Path)),
    request_body = StepDecision,
    responses((status = 200, body = RemovalView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn decide(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ActOnStep>,
    Path(id): Path<i64>,
    ApiJson(d): ApiJson<StepDecision>,
) -> Result<Json<RemovalView>, ApiError> {
    let approve = d.decision == Decision::Approve;
    let view = step(
        &s,
        id,
        Some(d.step),
        StepKind::Approve,
        approve,
        d.note,
        actor,
    )
    .await?;
    Ok(Json(view))
}

/// The Administrator deactivates the right: refused at the door from this moment.
#[utoipa::path(post, path = "/removals/{id}/deactivate", tag = "workflow", params(("id" = i64, Path)),
    request_body = Note,
    responses((status = 200, body = RemovalView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn deactivate(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ActOnStep>,
    Path(id): Path<i64>,
    ApiJson(n): ApiJson<Note>,
) -> Result<Json<RemovalView>, ApiError> {
    let view = step(&s, id, None, StepKind::Deactivate, true, n.note, actor).await?;
    Ok(Json(view))
}

/// The Kasi updates the access list and informs the penanggung jawab; the case is done.
#[utoipa::path(post, path = "/removals/{id}/confirm", tag = "workflow", params(("id" = i64, Path)),
    request_body = Note,
    responses((status = 200, body = RemovalView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn confirm(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ActOnStep>,
    Path(id): Path<i64>,
    ApiJson(n): ApiJson<Note>,
) -> Result<Json<RemovalView>, ApiError> {
    let view = step(&s, id, None, StepKind::Inform, true, n.note, actor).await?;
    Ok(Json(view))
}
