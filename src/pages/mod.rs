//! The operator pages: server-rendered HTML in Indonesian on the API's own server, for the
//! roles of the SOP. The desk, the approval inbox, card issuing, the visitors desk, review
//! campaigns and the downloads of reports and forms.
//!
//! Pages act through the same store calls and the same permissions ([`crate::api::auth`])
//! as the API, with a browser session instead of a bearer token ([`session`]). No
//! JavaScript is needed to use them; one small script, served from here (the door box may
//! have no internet), streams taps onto the dashboard.

mod badges;
mod dashboard;
mod error;
mod form;
mod inbox;
mod layout;
mod reports;
mod requests;
mod reviews;
mod session;
mod visitors;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Redirect;
use axum::routing::get;

use crate::api::AppState;
pub use error::PageError;

/// Where the pages live; the API keeps `/api/v1`.
pub const ROOT: &str = "/ui";

pub fn router(state: AppState) -> Router<AppState> {
    let pages = Router::new()
        .merge(session::routes())
        .merge(layout::routes())
        .merge(dashboard::routes())
        .merge(badges::routes())
        .merge(inbox::routes())
        .merge(requests::routes())
        .merge(reports::routes())
        .merge(visitors::routes())
        .merge(reviews::routes())
        .fallback(|| async { PageError::NotFound("halaman".into()) });
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        // A nested "/" answers "/ui" only; the dashboard's address is "/ui/".
        .route("/ui/", get(dashboard::dashboard))
        .nest(ROOT, pages)
        .layer(axum::middleware::from_fn_with_state(
            state,
            error::in_session_language,
        ))
        .layer(axum::middleware::map_response(harden))
}

/// Headers every page carries: nothing from elsewhere runs or loads, nothing frames it, no
/// address leaks to another site. (`same-origin`, not `no-referrer`: with the latter a
/// browser sends `Origin: null` on our own forms, and the origin check refuses them.)
async fn harden(mut response: axum::response::Response) -> axum::response::Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
