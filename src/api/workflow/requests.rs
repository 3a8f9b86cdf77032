//! `/requests`: Permintaan Akses, from the form to the card.

use crate::api::auth::guarded_routes;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use super::{Decision, Note, Reason, StepDecision, in_workflow};
use crate::api::auth::{ActOnStep, Auth, Authenticated, SubmitRequest, WithdrawRequest};
use crate::api::{ApiError, ApiJson, ApiQuery, AppState, Problem, page_limit};
use crate::enrollment::CardSource;
use crate::model::{Actor, Role};
use crate::store::Changed;
use crate::store::requests::{self, Filter, IssueCard, NewRequest, RequestView};
use crate::workflow::{CaseStatus, Kind};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(guarded_routes!(list_requests, create_request))
        .routes(guarded_routes!(get_request))
        .routes(guarded_routes!(decide))
        .routes(guarded_routes!(issue))
        .routes(guarded_routes!(grant))
        .routes(guarded_routes!(inform))
        .routes(guarded_routes!(withdraw))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct RequestQuery {
    #[param(inline)]
    status: Option<CaseStatus>,
    #[param(inline)]
    kind: Option<Kind>,
    limit: Option<u32>,
    after_id: Option<i64>,
}

/// Applicants, superiors and penanggung jawab see the requests they are named in; the
/// office sees all. A monitoring token sees none: it reads the metrics and nothing else.
pub(crate) fn involving(actor: &Actor) -> Option<Option<i64>> {
    match actor.role {
        Role::Pemohon | Role::Atasan | Role::PenanggungJawab => Some(actor.account_id),
        Role::Monitor => Some(None),
        _ => None,
    }
}

/// The request as `actor` may see it; 404 when they are not named in it and not of the
/// office (as if it did not exist).
pub(crate) async fn visible_request(
    s: &AppState,
    actor: Actor,
    id: i64,
) -> std::result::Result<RequestView, ApiError> {
    let involving = involving(&actor);
    let view =
        s.db.read(move |c| {
            let visible = match involving {
                None => actor.role != Role::Helpdesk,
                Some(None) => false,
                Some(Some(account)) => requests::involves(c, id, account)?,
            };
            if visible {
                requests::get(c, id, Utc::now()).map(Some)
            } else {
                Ok(None)
            }
        })
        .await?;
    view.ok_or_else(|| ApiError::NotFound(format!("request {id}")))
}

#[utoipa::path(get, path = "/requests", tag = "workflow", params(RequestQuery),
    responses((status = 200, body = Vec<RequestView>), (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn list_requests(
    State(s): State<AppState>,
    Auth(actor, _): Auth<Authenticated>,
    ApiQuery(q): ApiQuery<RequestQuery>,
) -> std::result::Result<Json<Vec<RequestView>>, ApiError> {
    let limit = page_limit(q.limit)?;
    let involving = involving(&actor);
    if involving == Some(None) || actor.role == Role::Helpdesk {
        // A personal role without an account is named in nothing.
        return Ok(Json(vec![]));
    }
    let f = Filter {
        status: q.status,
        kind: q.kind,
        involving: involving.flatten(),
        limit,
        after_id: q.after_id,
    };
    Ok(Json(
        s.db.read(move |c| requests::list(c, &f, Utc::now()))
            .await?,
    ))
}

/// Fills in the request form; the first step of the chain is told.
#[utoipa::path(post, path = "/requests", tag = "workflow", request_body = NewRequest,
    responses((status = 201, body = RequestView), (status = 400, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn create_request(
    State(s): State<AppState>,
    Auth(actor, _): Auth<SubmitRequest>,
    ApiJson(r): ApiJson<NewRequest>,
) -> std::result::Result<(StatusCode, Json<RequestView>), ApiError> {
    let view = in_workflow(&s, move |tx, ctx| {
        Ok((
            requests::create(tx, ctx, &r, &actor, Utc::now())?,
            Changed::none(),
        ))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(get, path = "/requests/{id}", tag = "workflow", params(("id" = i64, Path)),
    responses((status = 200, body = RequestView), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_request(
    State(s): State<AppState>,
    Auth(actor, _): Auth<Authenticated>,
    Path(id): Path<i64>,
) -> std::result::Result<Json<RequestView>, ApiError> {
    visible_request(&s, actor, id).await.map(Json)
}

/// An approval step: approve (the next step is told) or reject with a reason (the
/// applicant is told).
#[utoipa::path(post, path = "/requests/{id}/decide", tag = "workflow", params(("id" = i64, Path)),
    request_body = StepDecision,
    responses((status = 200, body = RequestView), (status = 400, body = Problem),
        (status = 403, body = Problem, description = "the step is another role's or account's"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "not this step's turn")),
    security(("bearer" = [])))]
async fn decide(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ActOnStep>,
    Path(id): Path<i64>,
    ApiJson(d): ApiJson<StepDecision>,
) -> std::result::Result<Json<RequestView>, ApiError> {
    let view = in_workflow(&s, move |tx, ctx| {
        let approve = d.decision == Decision::Approve;
        let v = requests::decide(
            tx,
            ctx.tz,
            id,
            &d.step,
            approve,
            d.note.as_deref(),
            &actor,
            Utc::now(),
        )?;
        Ok((v, Changed::none()))
    })
    .await?;
    Ok(Json(view))
}

/// Issues the card for an approved server-room request: the UID typed, or the next card
/// presented on a desk reader (`enroll_reader`; the call waits for it, 408 when none
/// came). The door honours it when the call returns.
#[utoipa::path(post, path = "/requests/{id}/issue", tag = "workflow", params(("id" = i64, Path)),
    request_body = IssueCard,
    responses((status = 200, body = RequestView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 408, body = Problem, description = "no card was presented on the desk reader in time"),
        (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn issue(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ActOnStep>,
    Path(id): Path<i64>,
    ApiJson(card): ApiJson<IssueCard>,
) -> std::result::Result<Json<RequestView>, ApiError> {
    issue_card(&s, actor, id, card).await.map(Json)
}

/// Issues the card of request `id`, typed or presented at the desk; for the API and the
/// pages alike.
pub(crate) async fn issue_card(
    s: &AppState,
    actor: Actor,
    id: i64,
    card: IssueCard,
) -> std::result::Result<RequestView, ApiError> {
    let source = CardSource::from_request(
        card.uid.as_deref(),
        card.technology,
        card.enroll_reader.as_deref(),
        card.enroll_timeout_seconds,
    )
    .map_err(ApiError::BadRequest)?;
    let credential = match source {
        CardSource::Typed(credential) => credential,
        CardSource::Desk { reader, wait } => {
            // Nobody is asked to present a card for a request that cannot be issued.
            let check = actor.clone();
            s.db.read(move |c| requests::may_issue(c, id, &check, Utc::now()).map(|_| ()))
                .await?;
            s.enrollment.next_card(&reader, wait).await?
        }
    };
    in_workflow(s, move |tx, ctx| {
        requests::issue(
            tx,
            ctx.tz,
            id,
            credential,
            card.badge_number.as_deref(),
            card.note.as_deref(),
            &actor,
            Utc::now(),
        )
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Grant {
    /// The username made in the other system (never its password).
    username: String,
    #[serde(default)]
    note: Option<String>,
}

/// Records the account made for an approved remote-access or control-panel request.
#[utoipa::path(post, path = "/requests/{id}/grant", tag = "workflow", params(("id" = i64, Path)),
    request_body = Grant,
    responses((status = 200, body = RequestView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn grant(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ActOnStep>,
    Path(id): Path<i64>,
    ApiJson(g): ApiJson<Grant>,
) -> std::result::Result<Json<RequestView>, ApiError> {
    let view = in_workflow(&s, move |tx, ctx| {
        let v = requests::grant(
            tx,
            ctx.tz,
            id,
            &g.username,
            g.note.as_deref(),
            &actor,
            Utc::now(),
        )?;
        Ok((v, Changed::none()))
    })
    .await?;
    Ok(Json(view))
}

/// The applicant is informed; the request is complete and in the access list.
#[utoipa::path(post, path = "/requests/{id}/inform", tag = "workflow", params(("id" = i64, Path)),
    request_body = Note,
    responses((status = 200, body = RequestView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn inform(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ActOnStep>,
    Path(id): Path<i64>,
    ApiJson(n): ApiJson<Note>,
) -> std::result::Result<Json<RequestView>, ApiError> {
    let view = in_workflow(&s, move |tx, ctx| {
        Ok((
            requests::inform(tx, ctx.tz, id, n.note.as_deref(), &actor, Utc::now())?,
            Changed::none(),
        ))
    })
    .await?;
    Ok(Json(view))
}

#[utoipa::path(post, path = "/requests/{id}/withdraw", tag = "workflow", params(("id" = i64, Path)),
    request_body = Reason,
    responses((status = 200, body = RequestView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn withdraw(
    State(s): State<AppState>,
    Auth(actor, _): Auth<WithdrawRequest>,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<Reason>,
) -> std::result::Result<Json<RequestView>, ApiError> {
    let view = in_workflow(&s, move |tx, _| {
        Ok((
            requests::withdraw(tx, id, Some(&r.reason), &actor, Utc::now())?,
            Changed::none(),
        ))
    })
    .await?;
    Ok(Json(view))
}
