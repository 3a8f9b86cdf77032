//! `/reports`: the periodic access report (for the Kasi Layanan's monthly review) as JSON,
//! CSV, HTML or PDF. Built on its own database connection off the async threads, so a long
//! period over a large register never holds the admin lock or a runtime thread.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use crate::api::auth::guarded_routes;

use super::auth::{Auth, ReadReports};
use super::{ApiError, ApiQuery, AppState, Problem};
use crate::report::access::AccessReport;
use crate::report::doc::Format;
use crate::report::period::Period;
use crate::report::{Lang, TimeSpec, access_doc};
use crate::store::reports::{self, AccessQuery};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(guarded_routes!(access_report))
}

/// The period: exactly one of `day`, `week`, `month`, `quarter`, or `from` with `to`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    /// `2026-11-30`
    day: Option<String>,
    /// ISO week, `2026-W48`
    week: Option<String>,
    /// `2026-11`
    month: Option<String>,
    /// `2026-Q4`
    quarter: Option<String>,
    /// Custom start: a date (that day in the office's zone) or an RFC 3339 time.
    #[param(value_type = Option<String>)]
    from: Option<TimeSpec>,
    /// Custom end: a date (included) or an RFC 3339 time (excluded).
    #[param(value_type = Option<String>)]
    to: Option<TimeSpec>,
    /// Door name; all doors when left out.
    door: Option<String>,
    /// `json` (default), `csv`, `html` or `pdf`.
    #[param(inline)]
    format: Option<Format>,
    /// `id` (default) or `en`.
    #[param(inline)]
    lang: Option<Lang>,
    /// CSV only: `comma` (default) or `semicolon` (Indonesian-locale spreadsheets).
    #[param(inline)]
    sep: Option<Separator>,
    /// Access report only: list rights ending within this many days (default
    /// `report.expiring_within_days`).
    expiring_within_days: Option<u32>,
    /// Access report only: list rights unused for this many days (default
    /// `report.unused_for_days`).
    unused_for_days: Option<u32>,
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Separator {
    Comma,
    Semicolon,
}

impl PeriodQuery {
    pub(super) fn period(&self) -> Result<Period, ApiError> {
        let named = [
            ("day", &self.day),
            ("week", &self.week),
            ("month", &self.month),
            ("quarter", &self.quarter),
        ];
        let mut given = named
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (*k, v)));
        let one = given.next();
        let custom = match (self.from, self.to) {
            (Some(f), Some(t)) => Some(Period::Custom(f, t)),
            (None, None) => None,
            _ => return Err(ApiError::BadRequest("give both from and to".into())),
        };
        match (one, given.next(), custom) {
            (Some((k, v)), None, None) => Period::parse(k, v).map_err(ApiError::BadRequest),
            (None, None, Some(p)) => Ok(p),
            (None, None, None) => Err(ApiError::BadRequest(
                "name the period: day, week, month, quarter, or from and to".into(),
            )),
            _ => Err(ApiError::BadRequest(
                "name one period only: day, week, month, quarter, or from and to".into(),
            )),
        }
    }
}

/// The periodic access report: entries and exits per person, refused attempts by reason,
/// entries outside working hours, alarms, visits, overdue workflow steps, rights expiring
/// and rights not used (`[report]` sets the hours and the day counts).
#[utoipa::path(get, path = "/reports/access", tag = "reports", params(PeriodQuery),
    responses((status = 200,
        content((AccessReport = "application/json"), (String = "text/csv"), (String = "text/html"), (Vec<u8> = "application/pdf"))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn access_report(
    State(s): State<AppState>,
    _: Auth<ReadReports>,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<Response, ApiError> {
    let query = AccessQuery {
        period: q.period()?,
        door: q.door.clone(),
    };
    let format = q.format.unwrap_or(Format::Json);
    let lang = q.lang.unwrap_or_default();
    let sep = match q.sep {
        Some(Separator::Semicolon) => b';',
        _ => b',',
    };
    let mut cfg = (*s.report).clone();
    for (key, given, field) in [
        (
            "expiring_within_days",
            q.expiring_within_days,
            &mut cfg.expiring_within_days,
        ),
        (
            "unused_for_days",
            q.unused_for_days,
            &mut cfg.unused_for_days,
        ),
    ] {
        if let Some(days) = given {
            if !(1..=3650).contains(&days) {
                return Err(ApiError::BadRequest(format!(
                    "{key} must be 1 to 3650, got {days}"
                )));
            }
            *field = days;
        }
    }
    let (tz, path) = (s.timezone, s.db_path.clone());
    let slug = query.period.slug(tz);
    let body = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ApiError> {
        let conn = crate::store::open(&path)?;
        let report = reports::access_report(&conn, &query, &cfg, tz, Utc::now(), |_| {})?;
        if format == Format::Json {
            return serde_json::to_vec(&report).map_err(|e| ApiError::Internal(e.to_string()));
        }
        let doc = access_doc::document(&report, &cfg, lang, tz);
        crate::report::render(&doc, format, sep, lang)
            .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(file_response(
        body,
        format,
        &format!("laporan-akses-{slug}"),
    ))
}

/// The bytes with their type, and a file name to save them under (not for JSON).
pub(super) fn file_response(body: Vec<u8>, format: Format, stem: &str) -> Response {
    let disposition = if format == Format::Json {
        "inline".to_owned()
    } else {
        format!("attachment; filename=\"{stem}.{}\"", format.extension())
    };
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

impl PeriodQuery {
    pub(super) fn output(&self, default: Format) -> (Format, Lang, u8) {
        output(self.format, self.lang, self.sep, default)
    }

    /// What only the access report takes; a form refuses it.
    pub(super) fn report_only(&self) -> Option<&'static str> {
        if self.door.is_some() {
            Some("door")
        } else if self.expiring_within_days.is_some() {
            Some("expiring_within_days")
        } else if self.unused_for_days.is_some() {
            Some("unused_for_days")
        } else {
            None
        }
    }
}

pub(super) fn output(
    format: Option<Format>,
    lang: Option<Lang>,
    sep: Option<Separator>,
    default: Format,
) -> (Format, Lang, u8) {
    let sep = match sep {
        Some(Separator::Semicolon) => b';',
        _ => b',',
    };
    (format.unwrap_or(default), lang.unwrap_or_default(), sep)
}
