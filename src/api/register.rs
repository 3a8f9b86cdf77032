//! The facility register and the audit log.

use crate::api::auth::guarded_routes;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use super::auth::{Auth, ReadAudit, ReadRegister};
use super::{ApiError, ApiQuery, AppState, Problem, page_limit};
use crate::report::csv::RegisterCsv;
use crate::report::{Lang, TimeSpec};
use crate::store::audit::{self, AuditFilter, AuditLine};
use crate::store::chain::{self, ChainReport};
use crate::store::register::{self, RegisterEntry, RegisterFilter};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(guarded_routes!(list_register))
        .routes(guarded_routes!(export_register))
        .routes(guarded_routes!(list_audit))
        .routes(guarded_routes!(verify_audit))
}

/// Both hash chains as `audit verify` sees them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct VerifyReport {
    /// True when neither chain is broken.
    ok: bool,
    chains: Vec<ChainReport>,
}

/// Checks the hash chains of the register and the audit log: rows checked per chain, the
/// head hash, and the first broken link (table, row id, what differs).
#[utoipa::path(get, path = "/audit/verify", tag = "register",
    responses((status = 200, body = VerifyReport), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn verify_audit(
    State(s): State<AppState>,
    _: Auth<ReadAudit>,
) -> Result<Json<VerifyReport>, ApiError> {
    // Its own read-only connection: a long verify never holds the admin lock.
    let path = s.db_path.clone();
    let chains = tokio::task::spawn_blocking(move || {
        let conn = rusqlite::Connection::open_with_flags(
            &*path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        chain::verify(&conn)
    })
    .await
    .map_err(|e| ApiError::from(crate::store::StoreError::Task(e.to_string())))??;
    Ok(Json(VerifyReport {
        ok: chains.iter().all(|c| c.broken.is_none()),
        chains,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct RegisterQuery {
    /// Start: a date (that day in the office's zone) or an RFC 3339 time.
    #[param(value_type = Option<String>)]
    from: Option<TimeSpec>,
    /// End: a date (included) or an RFC 3339 time (excluded).
    #[param(value_type = Option<String>)]
    to: Option<TimeSpec>,
    /// Door name.
    door: Option<String>,
    person_id: Option<i64>,
    /// `granted` or `refused`.
    #[param(inline)]
    decision: Option<DecisionFilter>,
    /// `tap`, `exit_button`, `alarm`, `alarm_cleared`, `clock_jump`.
    #[param(inline)]
    event: Option<EventFilter>,
    /// Items per page (1–1000, default 100); `list` only.
    limit: Option<u32>,
    /// Paging: lines older than this id; `list` only.
    before_id: Option<i64>,
    /// Export only: `id` (default) or `en`.
    #[param(inline)]
    lang: Option<Lang>,
    /// Export only: `comma` (default) or `semicolon`.
    #[param(inline)]
    sep: Option<Separator>,
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum DecisionFilter {
    Granted,
    Refused,
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum EventFilter {
    Tap,
    ExitButton,
    Alarm,
    AlarmCleared,
    ClockJump,
}

impl EventFilter {
    fn code(self) -> &'static str {
        match self {
            EventFilter::Tap => "tap",
            EventFilter::ExitButton => "exit_button",
            EventFilter::Alarm => "alarm",
            EventFilter::AlarmCleared => "alarm_cleared",
            EventFilter::ClockJump => "clock_jump",
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum Separator {
    Comma,
    Semicolon,
}

impl RegisterQuery {
    fn filter(&self, s: &AppState) -> Result<RegisterFilter, ApiError> {
        let door = match &self.door {
            None => None,
            Some(name) => Some(
                s.devices()
                    .doors
                    .iter()
                    .find(|d| d.name == *name)
                    .map(|d| d.id)
                    .ok_or_else(|| ApiError::BadRequest(format!("no door is named {name:?}")))?,
            ),
        };
        Ok(RegisterFilter {
            from: self.from.map(|t| t.start(s.timezone)),
            until: self.to.map(|t| t.end_inclusive_date(s.timezone)),
            door,
            person_id: self.person_id,
            granted: self.decision.map(|d| matches!(d, DecisionFilter::Granted)),
            event: self.event.map(|e| e.code().to_owned()),
            before_id: self.before_id,
            limit: page_limit(self.limit)?,
        })
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct RegisterPage {
    /// Newest first.
    items: Vec<RegisterEntry>,
    /// Pass as `before_id` for the next page; `null` on the last page.
    next_before_id: Option<i64>,
}

#[utoipa::path(get, path = "/register", tag = "register", params(RegisterQuery),
    responses((status = 200, body = RegisterPage), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_register(
    State(s): State<AppState>,
    _: Auth<ReadRegister>,
    ApiQuery(q): ApiQuery<RegisterQuery>,
) -> Result<Json<RegisterPage>, ApiError> {
    let filter = q.filter(&s)?;
    let limit = filter.limit as usize;
    let items = s.db.read(move |c| register::list(c, &filter)).await?;
    let next_before_id = (items.len() == limit)
        .then(|| items.last().map(|e| e.id))
        .flatten();
    Ok(Json(RegisterPage {
        items,
        next_before_id,
    }))
}

/// The register as CSV (oldest first), streamed so any period can be exported.
#[utoipa::path(get, path = "/register/export", tag = "register", params(RegisterQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = Problem)),
    security(("bearer" = [])))]
async fn export_register(
    State(s): State<AppState>,
    _: Auth<ReadRegister>,
    ApiQuery(q): ApiQuery<RegisterQuery>,
) -> Result<Response, ApiError> {
    let mut filter = q.filter(&s)?;
    filter.before_id = None;
    let sep = match q.sep {
        Some(Separator::Semicolon) => b';',
        _ => b',',
    };
    let lang = q.lang.unwrap_or_default();
    let tz = s.timezone;
    let path = s.db_path.clone();
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let result = (|| -> Result<(), String> {
            let conn = crate::store::open(&path).map_err(|e| e.to_string())?;
            let sink = ChunkSink {
                tx: tx.clone(),
                buf: Vec::with_capacity(CHUNK),
            };
            let mut csv = RegisterCsv::new(sink, sep, lang, tz).map_err(|e| e.to_string())?;
            register::for_each(&conn, &filter, |e| {
                csv.row(&e)
                    .map_err(|e| crate::store::StoreError::Task(e.to_string()))
            })
            .map_err(|e| e.to_string())?;
            csv.finish().map_err(|e| e.to_string())?;
            Ok(())
        })();
        if let Err(e) = result {
            tracing::error!(error = %e, "register export failed");
            let _ = tx.blocking_send(Err(std::io::Error::other(e)));
        }
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"register.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

const CHUNK: usize = 64 * 1024;

/// Hands the CSV to the response in chunks; memory stays bounded by the channel.
struct ChunkSink {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl std::io::Write for ChunkSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    #[param(value_type = Option<String>)]
    from: Option<TimeSpec>,
    #[param(value_type = Option<String>)]
    to: Option<TimeSpec>,
    limit: Option<u32>,
    before_id: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct AuditPage {
    items: Vec<AuditLine>,
    next_before_id: Option<i64>,
}

#[utoipa::path(get, path = "/audit", tag = "register", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_audit(
    State(s): State<AppState>,
    _: Auth<ReadAudit>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let filter = AuditFilter {
        from: q.from.map(|t| t.start(s.timezone)),
        until: q.to.map(|t| t.end_inclusive_date(s.timezone)),
        before_id: q.before_id,
        limit: page_limit(q.limit)?,
    };
    let limit = filter.limit as usize;
    let items = s.db.read(move |c| audit::list(c, &filter)).await?;
    let next_before_id = (items.len() == limit)
        .then(|| items.last().map(|e| e.id))
        .flatten();
    Ok(Json(AuditPage {
        items,
        next_before_id,
    }))
}
