//! People, badges and rights: the access list.

use crate::api::auth::guarded_routes;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use super::auth::{Auth, ImportAccess, ManageAccess, ReadAccess};
use super::{ApiError, ApiJson, ApiQuery, AppState, Problem, page_limit};
use crate::model::{CredentialStatus, PersonId};
use crate::store::badges::{self, Badge, IssueBadge, IssuedBadge};
use crate::store::people::{self, NewPerson, Person, PersonUpdate};
use crate::store::rights::{self, NewRight, RightView};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(guarded_routes!(list_people, create_person))
        .routes(guarded_routes!(get_person, update_person))
        .routes(guarded_routes!(set_pin))
        .routes(guarded_routes!(list_rights, create_right))
        .routes(guarded_routes!(remove_right))
        .routes(guarded_routes!(list_badges, issue_badge))
        .routes(guarded_routes!(get_badge))
        .routes(guarded_routes!(revoke_badge))
        .routes(guarded_routes!(set_badge_status))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct PeopleQuery {
    /// Part of a name, identity number or unit.
    q: Option<String>,
    /// Items per page (1–1000, default 100).
    limit: Option<u32>,
    /// Paging: people with an id above this one.
    after_id: Option<i64>,
}

#[utoipa::path(get, path = "/people", tag = "access list", params(PeopleQuery),
    responses((status = 200, body = Vec<Person>), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_people(
    State(s): State<AppState>,
    _: Auth<ReadAccess>,
    ApiQuery(q): ApiQuery<PeopleQuery>,
) -> Result<Json<Vec<Person>>, ApiError> {
    let limit = page_limit(q.limit)?;
    let list =
        s.db.read(move |c| people::list(c, q.q.as_deref(), limit, q.after_id))
            .await?;
    Ok(Json(list))
}

#[utoipa::path(post, path = "/people", tag = "access list", request_body = NewPerson,
    responses((status = 201, body = Person), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn create_person(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ManageAccess>,
    ApiJson(p): ApiJson<NewPerson>,
) -> Result<(StatusCode, Json<Person>), ApiError> {
    let person =
        s.db.write(move |tx| people::create(tx, &p, &actor, Utc::now()))
            .await?;
    Ok((StatusCode::CREATED, Json(person)))
}

#[utoipa::path(get, path = "/people/{id}", tag = "access list", params(("id" = i64, Path)),
    responses((status = 200, body = Person), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_person(
    State(s): State<AppState>,
    _: Auth<ReadAccess>,
    Path(id): Path<PersonId>,
) -> Result<Json<Person>, ApiError> {
    Ok(Json(s.db.read(move |c| people::get(c, id)).await?))
}

#[utoipa::path(patch, path = "/people/{id}", tag = "access list", params(("id" = i64, Path)),
    request_body = PersonUpdate,
    responses((status = 200, body = Person), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn update_person(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ManageAccess>,
    Path(id): Path<PersonId>,
    ApiJson(u): ApiJson<PersonUpdate>,
) -> Result<Json<Person>, ApiError> {
    let person =
        s.db.write(move |tx| people::update(tx, id, &u, &actor, Utc::now()))
            .await?;
    Ok(Json(person))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SetPin {
    /// 4–8 digits; `null` removes the PIN. Stored only as an argon2 hash, never shown.
    pin: Option<String>,
}

/// Sets the PIN the holder types after the card on card + PIN doors.
#[utoipa::path(post, path = "/people/{id}/pin", tag = "access list", params(("id" = i64, Path)),
    request_body = SetPin,
    responses((status = 204), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn set_pin(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ManageAccess>,
    Path(id): Path<PersonId>,
    ApiJson(b): ApiJson<SetPin>,
) -> Result<StatusCode, ApiError> {
    s.db.write(move |tx| people::set_pin(tx, id, b.pin.as_deref(), &actor, Utc::now()))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/people/{id}/rights", tag = "access list", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<RightView>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn list_rights(
    State(s): State<AppState>,
    _: Auth<ReadAccess>,
    Path(id): Path<PersonId>,
) -> Result<Json<Vec<RightView>>, ApiError> {
    let list =
        s.db.read(move |c| {
            people::get(c, id)?;
            rights::list_for_person(c, id)
        })
        .await?;
    Ok(Json(list))
}

#[utoipa::path(post, path = "/people/{id}/rights", tag = "access list", params(("id" = i64, Path)),
    request_body = NewRight,
    responses((status = 201, body = RightView), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn create_right(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ImportAccess>,
    Path(id): Path<PersonId>,
    ApiJson(r): ApiJson<NewRight>,
) -> Result<(StatusCode, Json<RightView>), ApiError> {
    let right =
        s.db.write(move |tx| rights::create(tx, id, &r, badges::DIRECT, &actor, Utc::now()))
            .await?;
    Ok((StatusCode::CREATED, Json(right)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct WithReason {
    /// Why, for the audit log and the register of changes.
    reason: String,
}

#[utoipa::path(post, path = "/rights/{id}/remove", tag = "access list", params(("id" = i64, Path)),
    request_body = WithReason,
    responses((status = 200, body = RightView), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn remove_right(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ManageAccess>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<WithReason>,
) -> Result<Json<RightView>, ApiError> {
    let right =
        s.db.write(move |tx| rights::remove(tx, id, &b.reason, &actor, Utc::now()))
            .await?;
    Ok(Json(right))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct BadgeQuery {
    person_id: Option<PersonId>,
    limit: Option<u32>,
    after_id: Option<i64>,
}

#[utoipa::path(get, path = "/badges", tag = "access list", params(BadgeQuery),
    responses((status = 200, body = Vec<Badge>), (status = 400, body = Problem)),
    security(("bearer" = [])))]
async fn list_badges(
    State(s): State<AppState>,
    _: Auth<ReadAccess>,
    ApiQuery(q): ApiQuery<BadgeQuery>,
) -> Result<Json<Vec<Badge>>, ApiError> {
    let limit = page_limit(q.limit)?;
    let list =
        s.db.read(move |c| badges::list(c, q.person_id, limit, q.after_id))
            .await?;
    Ok(Json(list))
}

/// The direct path (admin, for importing an existing list): binds a card to a person,
/// optionally with a new right. In force at the door when the call returns. Cards for new
/// rights are issued against approved requests (`POST /requests/{id}/issue`).
#[utoipa::path(post, path = "/badges", tag = "access list", request_body = IssueBadge,
    responses((status = 201, body = IssuedBadge), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "the card is already bound")),
    security(("bearer" = [])))]
async fn issue_badge(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ImportAccess>,
    ApiJson(b): ApiJson<IssueBadge>,
) -> Result<(StatusCode, Json<IssuedBadge>), ApiError> {
    let issued =
        s.db.write(move |tx| badges::issue(tx, &b, &actor, Utc::now()))
            .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

#[utoipa::path(get, path = "/badges/{id}", tag = "access list", params(("id" = i64, Path)),
    responses((status = 200, body = Badge), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_badge(
    State(s): State<AppState>,
    _: Auth<ReadAccess>,
    Path(id): Path<i64>,
) -> Result<Json<Badge>, ApiError> {
    Ok(Json(s.db.read(move |c| badges::get(c, id)).await?))
}

/// Withdraws a badge for good. The next tap is refused as `credential_revoked`.
#[utoipa::path(post, path = "/badges/{id}/revoke", tag = "access list", params(("id" = i64, Path)),
    request_body = WithReason,
    responses((status = 200, body = Badge), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn revoke_badge(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ManageAccess>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<WithReason>,
) -> Result<Json<Badge>, ApiError> {
    let badge =
        s.db.write(move |tx| {
            badges::set_status(
                tx,
                id,
                CredentialStatus::Revoked,
                Some(&b.reason),
                &actor,
                Utc::now(),
            )
        })
        .await?;
    Ok(Json(badge))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct StatusChange {
    /// `active`, `suspended` or `lost` (use the revoke route to revoke).
    status: CredentialStatus,
    /// Required except when reactivating.
    #[serde(default)]
    reason: Option<String>,
}

#[utoipa::path(post, path = "/badges/{id}/status", tag = "access list", params(("id" = i64, Path)),
    request_body = StatusChange,
    responses((status = 200, body = Badge), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn set_badge_status(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ManageAccess>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<StatusChange>,
) -> Result<Json<Badge>, ApiError> {
    if b.status == CredentialStatus::Revoked {
        return Err(ApiError::BadRequest(
            "revoke a badge with POST /api/v1/badges/{id}/revoke".into(),
        ));
    }
    let badge =
        s.db.write(move |tx| {
            badges::set_status(tx, id, b.status, b.reason.as_deref(), &actor, Utc::now())
        })
        .await?;
    Ok(Json(badge))
}
