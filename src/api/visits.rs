//! `/visits` and `/visit-register`: procedure 4 at the desk. Check-in, the head's decision,
//! the visitor badge, check-out, and the facility register (seed 004) as JSON and CSV.

use std::sync::Arc;

use crate::api::auth::guarded_routes;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use super::auth::{Auth, CheckInVisitors, DecideVisits, ReadVisits};
use super::workflow::Decision;
use super::{ApiError, ApiJson, ApiQuery, AppState, Problem, page_limit};
use crate::door::DoorInput;
use crate::model::Actor;
use crate::report::{Lang, TimeSpec};
use crate::store::Changed;
use crate::store::visits::register::{self, RegisterRow};
use crate::store::visits::{self, CheckOut, Ctx, Filter, NewVisit, VisitView};
use crate::visit::VisitStatus;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(guarded_routes!(list_visits, check_in))
        .routes(guarded_routes!(get_visit))
        .routes(guarded_routes!(get_signature))
        .routes(guarded_routes!(decide))
        .routes(guarded_routes!(issue_badge))
        .routes(guarded_routes!(check_out))
        .routes(guarded_routes!(visit_register))
        .routes(guarded_routes!(export_visit_register))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct VisitQuery {
    #[param(inline)]
    status: Option<VisitStatus>,
    /// Checked in from: a date (that day in the office's zone) or an RFC 3339 time.
    #[param(value_type = Option<String>)]
    from: Option<TimeSpec>,
    /// Checked in until: a date (included) or an RFC 3339 time (excluded).
    #[param(value_type = Option<String>)]
    to: Option<TimeSpec>,
    limit: Option<u32>,
    after_id: Option<i64>,
}

/// Visits, oldest first.
#[utoipa::path(get, path = "/visits", tag = "visits", params(VisitQuery),
    responses((status = 200, body = Vec<VisitView>), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_visits(
    State(s): State<AppState>,
    _: Auth<ReadVisits>,
    ApiQuery(q): ApiQuery<VisitQuery>,
) -> Result<Json<Vec<VisitView>>, ApiError> {
    let f = Filter {
        status: q.status,
        from: q.from.map(|t| t.start(s.timezone)),
        until: q.to.map(|t| t.end_inclusive_date(s.timezone)),
        limit: page_limit(q.limit)?,
        after_id: q.after_id,
    };
    Ok(Json(
        s.db.read(move |c| visits::list(c, &f, Utc::now())).await?,
    ))
}

/// Checks a visitor in at the desk (the visitor form, the identity document, the TTD); the
/// head of the facility is told and finds the visit in their inbox.
#[utoipa::path(post, path = "/visits", tag = "visits", request_body = NewVisit,
    responses((status = 201, body = VisitView), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn check_in(
    State(s): State<AppState>,
    Auth(actor, _): Auth<CheckInVisitors>,
    ApiJson(v): ApiJson<NewVisit>,
) -> Result<(StatusCode, Json<VisitView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(check_in_visit(&s, actor, v).await?),
    ))
}

/// The check-in with this daemon's `[visitors]` settings; the API and the desk's page.
pub(crate) async fn check_in_visit(
    s: &AppState,
    actor: Actor,
    v: NewVisit,
) -> Result<VisitView, ApiError> {
    let config = Arc::clone(&s.visitors);
    let tz = s.timezone;
    Ok(s.db
        .write(move |tx| {
            let ctx = Ctx {
                visitors: &config,
                tz,
            };
            Ok((
                visits::check_in(tx, ctx, &v, &actor, Utc::now())?,
                Changed::none(),
            ))
        })
        .await?)
}

#[utoipa::path(get, path = "/visits/{id}", tag = "visits", params(("id" = i64, Path)),
    responses((status = 200, body = VisitView), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_visit(
    State(s): State<AppState>,
    _: Auth<ReadVisits>,
    Path(id): Path<i64>,
) -> Result<Json<VisitView>, ApiError> {
    Ok(Json(
        s.db.read(move |c| visits::get(c, id, Utc::now())).await?,
    ))
}

/// The signature picture, for a visitor who signed with one.
#[utoipa::path(get, path = "/visits/{id}/signature", tag = "visits", params(("id" = i64, Path)),
    responses((status = 200, content_type = "image/png", body = Vec<u8>),
        (status = 404, body = Problem, description = "no such visit, or signed by typing the name")),
    security(("bearer" = [])))]
async fn get_signature(
    State(s): State<AppState>,
    _: Auth<ReadVisits>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let (mime, bytes) =
        s.db.read(move |c| visits::signature(c, id))
            .await?
            .ok_or_else(|| {
                ApiError::NotFound(format!(
                    "a signature picture for visit {id} (it was signed by typing the name)"
                ))
            })?;
    Ok(([(header::CONTENT_TYPE, mime)], bytes).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct VisitDecision {
    decision: Decision,
    /// Required when denying: the reason.
    #[serde(default)]
    note: Option<String>,
}

/// The head of the facility grants the visit (the desk hands out a badge) or denies it (the
/// visit ends). Only `[visitors] approver_role` may.
#[utoipa::path(post, path = "/visits/{id}/decide", tag = "visits", params(("id" = i64, Path)),
    request_body = VisitDecision,
    responses((status = 200, body = VisitView), (status = 400, body = Problem),
        (status = 403, body = Problem, description = "another role grants visits"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "already decided")),
    security(("bearer" = [])))]
async fn decide(
    State(s): State<AppState>,
    Auth(actor, _): Auth<DecideVisits>,
    Path(id): Path<i64>,
    ApiJson(d): ApiJson<VisitDecision>,
) -> Result<Json<VisitView>, ApiError> {
    let approve = d.decision == Decision::Approve;
    Ok(Json(decide_visit(&s, actor, id, approve, d.note).await?))
}

/// The head's decision; the API and the desk's page.
pub(crate) async fn decide_visit(
    s: &AppState,
    actor: Actor,
    id: i64,
    approve: bool,
    note: Option<String>,
) -> Result<VisitView, ApiError> {
    Ok(s.db
        .write(move |tx| {
            Ok((
                visits::decide(tx, id, approve, note.as_deref(), &actor, Utc::now())?,
                Changed::none(),
            ))
        })
        .await?)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct IssueBadge {
    /// The number printed on the card handed out; omit to take the free card with the
    /// lowest number (the answer says which).
    #[serde(default)]
    badge_number: Option<String>,
}

/// Hands out a visitor badge for an approved visit: it opens the visit's doors, next to the
/// escort, until the end of the day. In force when the call returns.
#[utoipa::path(post, path = "/visits/{id}/badge", tag = "visits", params(("id" = i64, Path)),
    request_body = IssueBadge,
    responses((status = 200, body = VisitView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem, description = "no such visit or visitor badge"),
        (status = 409, body = Problem, description = "not approved yet, or the badge is not free")),
    security(("bearer" = [])))]
async fn issue_badge(
    State(s): State<AppState>,
    Auth(actor, _): Auth<CheckInVisitors>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<IssueBadge>,
) -> Result<Json<VisitView>, ApiError> {
    Ok(Json(hand_out_badge(&s, actor, id, b.badge_number).await?))
}

/// Binds visitor badge `number` (or the lowest free one) to an approved visit; the API and
/// the desk's page.
pub(crate) async fn hand_out_badge(
    s: &AppState,
    actor: Actor,
    id: i64,
    number: Option<String>,
) -> Result<VisitView, ApiError> {
    let tz = s.timezone;
    Ok(s.db
        .write(move |tx| visits::issue_badge(tx, tz, id, number.as_deref(), &actor, Utc::now()))
        .await?)
}

/// Ends the visit: the badge back (or reported lost, which blocks it), the identity document
/// returned, the head told. Refused while a badge that is out is unaccounted for.
#[utoipa::path(post, path = "/visits/{id}/check-out", tag = "visits", params(("id" = i64, Path)),
    request_body = CheckOut,
    responses((status = 200, body = VisitView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "the badge or the identity document is unaccounted for, or already checked out")),
    security(("bearer" = [])))]
async fn check_out(
    State(s): State<AppState>,
    Auth(actor, _): Auth<CheckInVisitors>,
    Path(id): Path<i64>,
    ApiJson(c): ApiJson<CheckOut>,
) -> Result<Json<VisitView>, ApiError> {
    Ok(Json(check_out_visit(&s, actor, id, c).await?))
}

/// The check-out, then every door counts the visitor outside; the API and the desk's page.
pub(crate) async fn check_out_visit(
    s: &AppState,
    actor: Actor,
    id: i64,
    c: CheckOut,
) -> Result<VisitView, ApiError> {
    let tz = s.timezone;
    let (view, person) =
        s.db.write(move |tx| {
            let (view, changed, person) = visits::check_out(tx, tz, id, &c, &actor, Utc::now())?;
            Ok(((view, person), changed))
        })
        .await?;
    // The visitor is at the desk: every door counts them outside.
    if let Some(person) = person {
        for door in &s.devices().doors {
            let _ = door.inputs.send(DoorInput::CheckedOut(person)).await;
        }
    }
    Ok(view)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct RegisterQuery {
    /// A date (that day in the office's zone) or an RFC 3339 time.
    #[param(value_type = Option<String>)]
    from: Option<TimeSpec>,
    /// A date (included) or an RFC 3339 time (excluded).
    #[param(value_type = Option<String>)]
    to: Option<TimeSpec>,
    /// Export only: `id` (default) or `en`.
    #[param(inline)]
    lang: Option<Lang>,
    /// Export only: `comma` (default) or `semicolon`.
    #[param(inline)]
    sep: Option<Separator>,
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum Separator {
    Comma,
    Semicolon,
}

async fn register_rows(s: &AppState, q: &RegisterQuery) -> Result<Vec<RegisterRow>, ApiError> {
    let tz = s.timezone;
    let from = q.from.map(|t| t.start(tz));
    let until = q.to.map(|t| t.end_inclusive_date(tz));
    Ok(s.db
        .read(move |c| register::rows(c, from, until, tz))
        .await?)
}

/// Formulir Pencatatan Penggunaan Fasilitas (seed 004): the granted visits checked in within
/// the period, with jam masuk / jam keluar from the readers where they saw the visitor.
#[utoipa::path(get, path = "/visit-register", tag = "visits", params(RegisterQuery),
    responses((status = 200, body = Vec<RegisterRow>), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn visit_register(
    State(s): State<AppState>,
    _: Auth<ReadVisits>,
    ApiQuery(q): ApiQuery<RegisterQuery>,
) -> Result<Json<Vec<RegisterRow>>, ApiError> {
    Ok(Json(register_rows(&s, &q).await?))
}

/// The same register as CSV with the form's Indonesian column names, for printing and
/// archiving.
#[utoipa::path(get, path = "/visit-register/export", tag = "visits", params(RegisterQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = Problem)),
    security(("bearer" = [])))]
async fn export_visit_register(
    State(s): State<AppState>,
    _: Auth<ReadVisits>,
    ApiQuery(q): ApiQuery<RegisterQuery>,
) -> Result<Response, ApiError> {
    let rows = register_rows(&s, &q).await?;
    let sep = match q.sep {
        Some(Separator::Semicolon) => b';',
        _ => b',',
    };
    let csv =
        crate::report::visits::register_csv(&rows, sep, q.lang.unwrap_or_default(), s.timezone)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"pencatatan-penggunaan-fasilitas.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}
