//! `/forms`: the SOP's forms filled in, to print, sign and archive (PDF by default; CSV,
//! HTML or JSON on request). Each form asks for the permission that reads its data, so a
//! printout never shows more than the API would.

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use crate::api::auth::guarded_routes;

use super::auth::{Auth, Authenticated, ReadAccess, ReadVisits, ReadWorkflow};
use super::reports::{PeriodQuery, Separator, file_response, output};
use super::{ApiError, ApiQuery, AppState, Problem};
use crate::report::doc::{Document, Format};
use crate::report::forms::{self, Ctx, Form};
use crate::report::{Lang, render};
use crate::store::{logical, removals, reports, reviews};
use crate::workflow::Kind;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(guarded_routes!(access_request))
        .routes(guarded_routes!(access_list))
        .routes(guarded_routes!(review))
        .routes(guarded_routes!(removal))
        .routes(guarded_routes!(facility_register))
        .routes(guarded_routes!(remote_access))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct OutputQuery {
    /// `pdf` (default), `csv`, `html` or `json`.
    #[param(inline)]
    format: Option<Format>,
    /// `id` (default) or `en`.
    #[param(inline)]
    lang: Option<Lang>,
    /// CSV only: `comma` (default) or `semicolon`.
    #[param(inline)]
    sep: Option<Separator>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// Door name; every door when left out.
    door: Option<String>,
    #[param(inline)]
    format: Option<Format>,
    #[param(inline)]
    lang: Option<Lang>,
    #[param(inline)]
    sep: Option<Separator>,
}

/// Renders the form built by `build` (given the office's context) as the query asks.
fn respond(
    s: &AppState,
    form: Form,
    stem_suffix: &str,
    (format, lang, sep): (Format, Lang, u8),
    build: impl FnOnce(&Ctx) -> Document,
) -> Result<Response, ApiError> {
    let ctx = Ctx {
        cfg: &s.report,
        lang,
        tz: s.timezone,
        now: Utc::now(),
    };
    let doc = build(&ctx);
    let body = render(&doc, format, sep, lang).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(file_response(
        body,
        format,
        &format!("{}{stem_suffix}", form.file_stem()),
    ))
}

fn out(q: &OutputQuery) -> (Format, Lang, u8) {
    output(q.format, q.lang, q.sep, Format::Pdf)
}

/// Formulir Permintaan Akses Ruang Server: one request with its history. Those named in
/// the request (applicant, superior, penanggung jawab) and the office may print it.
#[utoipa::path(get, path = "/forms/access-request/{id}", tag = "forms",
    params(("id" = i64, Path), OutputQuery),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn access_request(
    State(s): State<AppState>,
    Auth(actor, _): Auth<Authenticated>,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<OutputQuery>,
) -> Result<Response, ApiError> {
    let r = super::workflow::visible_request(&s, actor, id).await?;
    respond(&s, Form::AccessRequest, &format!("-{id}"), out(&q), |c| {
        forms::access_request(c, &r)
    })
}

/// Formulir Daftar Akses Ruang Server: the rights in force now, by holder.
#[utoipa::path(get, path = "/forms/access-list", tag = "forms", params(ListQuery),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 400, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn access_list(
    State(s): State<AppState>,
    _: Auth<ReadAccess>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Response, ApiError> {
    let door = q.door.clone();
    let lines =
        s.db.read(move |c| reports::access_list(c, door.as_deref(), Utc::now()))
            .await?;
    let o = output(q.format, q.lang, q.sep, Format::Pdf);
    respond(&s, Form::AccessList, "", o, |c| {
        forms::access_list(c, q.door.as_deref(), &lines)
    })
}

/// Formulir Review Akses Ruang Server: one campaign, each right with its verdict.
#[utoipa::path(get, path = "/forms/review/{id}", tag = "forms",
    params(("id" = i64, Path), OutputQuery),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn review(
    State(s): State<AppState>,
    _: Auth<ReadWorkflow>,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<OutputQuery>,
) -> Result<Response, ApiError> {
    let r = s.db.read(move |c| reviews::get(c, id)).await?;
    respond(&s, Form::Review, &format!("-{id}"), out(&q), |c| {
        forms::review(c, &r)
    })
}

/// Formulir Permintaan Penghapusan Akses: one removal with its history.
#[utoipa::path(get, path = "/forms/removal/{id}", tag = "forms",
    params(("id" = i64, Path), OutputQuery),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn removal(
    State(s): State<AppState>,
    _: Auth<ReadWorkflow>,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<OutputQuery>,
) -> Result<Response, ApiError> {
    let r = s.db.read(move |c| removals::get(c, id, Utc::now())).await?;
    respond(&s, Form::Removal, &format!("-{id}"), out(&q), |c| {
        forms::removal(c, &r)
    })
}

/// The period forms are not kept per door and list no rights.
fn no_door(q: &PeriodQuery) -> Result<(), ApiError> {
    match q.report_only() {
        Some(key) => Err(ApiError::BadRequest(format!(
            "{key} does not apply to this form"
        ))),
        None => Ok(()),
    }
}

/// Formulir Pencatatan Penggunaan Fasilitas (seed 004): the visits checked in in a period.
#[utoipa::path(get, path = "/forms/facility-register", tag = "forms", params(PeriodQuery),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 400, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn facility_register(
    State(s): State<AppState>,
    _: Auth<ReadVisits>,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<Response, ApiError> {
    no_door(&q)?;
    let period = q.period()?;
    let (tz, o) = (s.timezone, q.output(Format::Pdf));
    let (from, until) = period.bounds(tz);
    let rows =
        s.db.read(move |c| crate::store::visits::register::rows(c, Some(from), Some(until), tz))
            .await?;
    let slug = format!("-{}", period.slug(tz));
    respond(&s, Form::FacilityRegister, &slug, o, |c| {
        forms::facility_register(c, &period.label(c.lang, tz), &rows)
    })
}

/// Formulir Pencatatan Pemberian Remote Akses (seed 000): remote-access accounts open at
/// any time in the period.
#[utoipa::path(get, path = "/forms/remote-access", tag = "forms", params(PeriodQuery),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 400, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn remote_access(
    State(s): State<AppState>,
    _: Auth<ReadWorkflow>,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<Response, ApiError> {
    no_door(&q)?;
    let period = q.period()?;
    let (tz, o) = (s.timezone, q.output(Format::Pdf));
    let (from, until) = period.bounds(tz);
    let rows: Vec<_> =
        s.db.read(move |c| logical::list(c, Some(Kind::RemoteAccess), false, false, Utc::now()))
            .await?
            .into_iter()
            .filter(|l| l.granted_at < until && l.closed_at.is_none_or(|t| t >= from))
            .collect();
    let slug = format!("-{}", period.slug(tz));
    respond(&s, Form::RemoteAccess, &slug, o, |c| {
        forms::remote_access(c, &period.label(c.lang, tz), &rows)
    })
}
