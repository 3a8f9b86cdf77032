//! The admin HTTP API under `/api/v1`, plus `/healthz`.
//!
//! Handlers are thin: extract (auth first, then the body), make one store or daemon call,
//! map errors through [`ApiError`]. Routes are registered through utoipa's router, so the
//! OpenAPI document at `/api/v1/openapi.json` lists exactly the routes that exist.

pub mod auth;
pub mod error;

mod accounts;
pub(crate) mod devices;
pub(crate) mod events;
pub(crate) mod forms;
pub(crate) mod inside;
mod metrics;
mod notifications;
mod osdp;
mod people;
mod register;
pub(crate) mod reports;
pub mod throttle;
mod tokens;
mod visitor_badges;
pub(crate) mod visits;
pub(crate) mod workflow;

use std::sync::Arc;

use axum::Json;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

use crate::daemon::{Devices, ReaderHandle};
use crate::metrics::Metrics;
use crate::store::Db;
use crate::store::register::Committed;
pub use error::{ApiError, ApiJson, ApiQuery, Problem};

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// The doors and readers running now; a reload swaps the whole set.
    pub devices: Arc<arc_swap::ArcSwap<Devices>>,
    pub timezone: chrono_tz::Tz,
    /// For exports, which read on their own connection so they never hold the admin lock.
    pub db_path: Arc<std::path::Path>,
    /// The chains of approval and review settings.
    pub workflow: Arc<crate::config::WorkflowConfig>,
    /// Procedure 4: who approves a visit, which doors a visitor badge opens.
    pub visitors: Arc<crate::config::VisitorsConfig>,
    /// The desk readers, for binding the next card presented.
    pub enrollment: Arc<crate::enrollment::Enrollment>,
    /// The agency header, signers and the access report's working hours.
    pub report: Arc<crate::config::ReportConfig>,
    /// Whether `[notify.smtp]` is configured (a test email has somewhere to go).
    pub email_enabled: bool,
    pub metrics: Arc<Metrics>,
    /// Committed register lines, for the live event stream.
    pub events: Committed,
    /// Ends the event streams, which would otherwise hold the graceful shutdown open.
    pub shutdown: tokio_util::sync::CancellationToken,
    pub started: chrono::DateTime<chrono::Utc>,
    /// Whether the pages' session cookie is marked `Secure` (`server.secure_cookies`).
    pub secure_cookies: bool,
    /// Wrong tokens per client address (brute-force protection).
    pub auth_throttle: Arc<std::sync::Mutex<throttle::Throttle>>,
}

impl AppState {
    pub fn devices(&self) -> Arc<Devices> {
        self.devices.load_full()
    }
}

/// Largest number of items one page returns.
pub const MAX_PAGE: u32 = 1000;
pub const DEFAULT_PAGE: u32 = 100;

/// The configured reader `name`, or 404.
pub fn reader(s: &AppState, name: &str) -> Result<ReaderHandle, ApiError> {
    s.devices()
        .readers
        .iter()
        .find(|r| *r.info.name == *name)
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("reader {name:?}")))
}

pub fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::BadRequest(format!(
            "limit must be 1 to {MAX_PAGE}, got {n}"
        ))),
    }
}

/// Limits on what a request may cost the daemon.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `server.max_body_bytes`: 413 beyond it.
    pub max_body_bytes: usize,
    /// `server.request_timeout_seconds`: 408 when the response has not started by then
    /// (a body sent slowly included). Streams (events, exports) run on once started.
    pub request_timeout: std::time::Duration,
}

/// Request headers larger than this in total (names and values) are refused with 431;
/// Lawang's clients send a token and a few standard headers.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

async fn limit(
    axum::extract::State(limits): axum::extract::State<Limits>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return ApiError::HeadersTooLarge(MAX_HEADER_BYTES).into_response();
    }
    // Issuing at the desk waits for a card to be presented (up to enrollment::MAX_WAIT) on
    // top of the usual budget; everything else keeps the configured limit.
    let budget = if waits_at_desk(request.method(), request.uri().path()) {
        limits.request_timeout + crate::enrollment::MAX_WAIT
    } else {
        limits.request_timeout
    };
    tokio::time::timeout(budget, next.run(request))
        .await
        .unwrap_or_else(|_| ApiError::RequestTimeout.into_response())
}

/// The routes that wait for a card on a desk reader.
fn waits_at_desk(method: &axum::http::Method, path: &str) -> bool {
    let issue = |prefix: &str| {
        path.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix("/issue"))
            .is_some_and(|id| id.bytes().all(|b| b.is_ascii_digit()))
    };
    method == axum::http::Method::POST
        && (issue("/api/v1/requests/")
            || issue("/ui/requests/")
            || path == "/api/v1/visitor-badges")
}

pub fn router(state: AppState, limits: Limits) -> axum::Router {
    let v1 = OpenApiRouter::new()
        .merge(people::routes())
        .merge(devices::routes())
        .merge(notifications::routes())
        .merge(osdp::routes())
        .merge(register::routes())
        .merge(reports::routes())
        .merge(forms::routes())
        .merge(events::routes())
        .merge(tokens::routes())
        .merge(accounts::routes())
        .merge(workflow::routes())
        .merge(visits::routes())
        .merge(visitor_badges::routes())
        .merge(inside::routes());
    let (app, mut doc) = OpenApiRouter::new()
        .nest("/api/v1", v1)
        .merge(devices::health_routes())
        .merge(metrics::routes())
        .split_for_parts();
    let app = app.merge(crate::pages::router(state.clone()));
    doc.info.title = "Lawang admin API".into();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.info.description = Some(
        "Access control for the server-room door. Every route but /healthz and this document \
         needs `Authorization: Bearer <token>`."
            .into(),
    );
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    let doc = Arc::new(doc);

    app.route(
        "/api/v1/openapi.json",
        get(move || {
            let doc = doc.clone();
            async move { Json(doc.as_ref().clone()) }
        }),
    )
    .fallback(|| async { ApiError::NotFound("no such route".into()) })
    .layer(DefaultBodyLimit::max(limits.max_body_bytes))
    .layer(axum::middleware::from_fn_with_state(limits, limit))
    .with_state(state)
}
