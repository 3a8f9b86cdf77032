//! `/visitor-badges`: the desk's pool of visitor cards.

use crate::api::auth::guarded_routes;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use super::auth::{Auth, ManageVisitorBadges, ReadVisits};
use super::{ApiError, ApiJson, ApiQuery, AppState, Problem};
use crate::enrollment::CardSource;
use crate::store::Changed;
use crate::store::visitor_badges::{self, NewVisitorBadge, PoolStatus, VisitorBadge};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(guarded_routes!(list_badges, add_badge))
        .routes(guarded_routes!(set_status))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct BadgeQuery {
    #[param(inline)]
    status: Option<PoolStatus>,
}

/// The visitor badges, by number, with the visit each is out with.
#[utoipa::path(get, path = "/visitor-badges", tag = "visits", params(BadgeQuery),
    responses((status = 200, body = Vec<VisitorBadge>), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_badges(
    State(s): State<AppState>,
    _: Auth<ReadVisits>,
    ApiQuery(q): ApiQuery<BadgeQuery>,
) -> Result<Json<Vec<VisitorBadge>>, ApiError> {
    Ok(Json(
        s.db.read(move |c| visitor_badges::list(c, q.status))
            .await?,
    ))
}

/// Adds a card to the pool; it opens nothing until a visit takes it. The card is typed
/// (`uid`) or presented on a desk reader (`enroll_reader`; the call waits for it).
#[utoipa::path(post, path = "/visitor-badges", tag = "visits", request_body = NewVisitorBadge,
    responses((status = 201, body = VisitorBadge), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 408, body = Problem, description = "no card was presented on the desk reader in time"),
        (status = 409, body = Problem, description = "the number or the card is taken")),
    security(("bearer" = [])))]
async fn add_badge(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ManageVisitorBadges>,
    ApiJson(mut b): ApiJson<NewVisitorBadge>,
) -> Result<(StatusCode, Json<VisitorBadge>), ApiError> {
    let source = CardSource::from_request(
        b.uid.as_deref(),
        b.technology,
        b.enroll_reader.as_deref(),
        b.enroll_timeout_seconds,
    )
    .map_err(ApiError::BadRequest)?;
    let card = match source {
        CardSource::Typed(card) => card,
        CardSource::Desk { reader, wait } => {
            // Nobody is asked to present a card for a number the pool already has.
            let number = b.badge_number.clone();
            s.db.read(move |c| visitor_badges::check_number(c, &number))
                .await?;
            s.enrollment.next_card(&reader, wait).await?
        }
    };
    b.uid = Some(card.uid_hex());
    b.technology = Some(card.technology());
    let badge =
        s.db.write(move |tx| {
            Ok((
                visitor_badges::add(tx, &b, &actor, Utc::now())?,
                Changed::none(),
            ))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(badge)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct StatusChange {
    /// `available` (a lost card found, a retired one back in use) or `retired`.
    status: PoolStatus,
    reason: String,
}

/// Puts a card back in the pool or takes it out. A card out with a visit comes back through
/// the visit's check-out.
#[utoipa::path(post, path = "/visitor-badges/{id}/status", tag = "visits", params(("id" = i64, Path)),
    request_body = StatusChange,
    responses((status = 200, body = VisitorBadge), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn set_status(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ManageVisitorBadges>,
    Path(id): Path<i64>,
    ApiJson(c): ApiJson<StatusChange>,
) -> Result<Json<VisitorBadge>, ApiError> {
    let badge =
        s.db.write(move |tx| {
            visitor_badges::set_status(tx, id, c.status, &c.reason, &actor, Utc::now())
        })
        .await?;
    Ok(Json(badge))
}
