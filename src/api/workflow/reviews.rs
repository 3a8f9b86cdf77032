//! `/reviews`: Review Akses campaigns.

use crate::api::auth::guarded_routes;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;

use super::in_workflow;
use crate::api::auth::{Auth, DecideReview, ReadWorkflow, RunReviews};
use crate::api::{ApiError, ApiJson, AppState, Problem};
use crate::model::Actor;
use crate::store::Changed;
use crate::store::reviews::{self, NewReview, Review, ReviewItem, Validity};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(guarded_routes!(list_reviews, start_review))
        .routes(guarded_routes!(get_review))
        .routes(guarded_routes!(decide_item))
        .routes(guarded_routes!(close_review))
}

#[utoipa::path(get, path = "/reviews", tag = "workflow",
    responses((status = 200, body = Vec<Review>, description = "campaigns without their items, newest first"),
        (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_reviews(
    State(s): State<AppState>,
    _: Auth<ReadWorkflow>,
) -> Result<Json<Vec<Review>>, ApiError> {
    Ok(Json(s.db.read(reviews::list).await?))
}

/// Starts a campaign: the access list is frozen and each penanggung jawab is told.
#[utoipa::path(post, path = "/reviews", tag = "workflow", request_body = NewReview,
    responses((status = 201, body = Review), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "another campaign is open")),
    security(("bearer" = [])))]
async fn start_review(
    State(s): State<AppState>,
    Auth(actor, _): Auth<RunReviews>,
    ApiJson(r): ApiJson<NewReview>,
) -> Result<(StatusCode, Json<Review>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(start_campaign(&s, actor, r).await?),
    ))
}

/// Starts a campaign; the API and the reviews page.
pub(crate) async fn start_campaign(
    s: &AppState,
    actor: Actor,
    r: NewReview,
) -> Result<Review, ApiError> {
    in_workflow(s, move |tx, ctx| {
        Ok((
            reviews::start(tx, ctx, &r, None, &actor, Utc::now())?,
            Changed::none(),
        ))
    })
    .await
}

#[utoipa::path(get, path = "/reviews/{id}", tag = "workflow", params(("id" = i64, Path)),
    responses((status = 200, body = Review), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_review(
    State(s): State<AppState>,
    _: Auth<ReadWorkflow>,
    Path(id): Path<i64>,
) -> Result<Json<Review>, ApiError> {
    Ok(Json(s.db.read(move |c| reviews::get(c, id)).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ItemDecision {
    decision: Validity,
    #[serde(default)]
    comment: Option<String>,
}

/// The penanggung jawab's verdict on one right: `valid` or `not_valid`.
#[utoipa::path(post, path = "/reviews/{id}/items/{item}", tag = "workflow",
    params(("id" = i64, Path), ("item" = i64, Path)), request_body = ItemDecision,
    responses((status = 200, body = ReviewItem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "the campaign is closed")),
    security(("bearer" = [])))]
async fn decide_item(
    State(s): State<AppState>,
    Auth(actor, _): Auth<DecideReview>,
    Path((id, item)): Path<(i64, i64)>,
    ApiJson(d): ApiJson<ItemDecision>,
) -> Result<Json<ReviewItem>, ApiError> {
    Ok(Json(
        decide_review_item(&s, actor, id, item, d.decision, d.comment).await?,
    ))
}

/// A penanggung jawab's verdict on one item; the API and the reviews page.
pub(crate) async fn decide_review_item(
    s: &AppState,
    actor: Actor,
    id: i64,
    item: i64,
    decision: Validity,
    comment: Option<String>,
) -> Result<ReviewItem, ApiError> {
    Ok(s.db
        .write(move |tx| {
            let i = reviews::decide(
                tx,
                id,
                item,
                decision,
                comment.as_deref(),
                &actor,
                Utc::now(),
            )?;
            Ok((i, Changed::none()))
        })
        .await?)
}

/// Closes the campaign: rights marked not valid are removed and refused at the door at
/// once; undecided ones get the campaign's default, recorded.
#[utoipa::path(post, path = "/reviews/{id}/close", tag = "workflow", params(("id" = i64, Path)),
    responses((status = 200, body = Review), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn close_review(
    State(s): State<AppState>,
    Auth(actor, _): Auth<RunReviews>,
    Path(id): Path<i64>,
) -> Result<Json<Review>, ApiError> {
    Ok(Json(close_campaign(&s, actor, id).await?))
}

/// Closes a campaign; the API and the reviews page.
pub(crate) async fn close_campaign(
    s: &AppState,
    actor: Actor,
    id: i64,
) -> Result<Review, ApiError> {
    in_workflow(s, move |tx, ctx| {
        reviews::close(tx, ctx, id, &actor, Utc::now())
    })
    .await
}
