//! What a page says when it cannot do what was asked: in Indonesian, with the status code
//! the API would give, and the API's own reason underneath for the technician.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;

use super::layout::{self, Tr};
use crate::api::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// No session, or it ended: log in, then come back to `next`.
    #[error("login needed")]
    LoginNeeded { next: String },
    #[error("the role {role} may not {action}")]
    Forbidden { role: String, action: &'static str },
    /// The form did not carry this session's form token, or came from another site.
    #[error("the form is stale or came from elsewhere")]
    Csrf,
    #[error("{0} not found")]
    NotFound(String),
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<crate::store::StoreError> for PageError {
    fn from(e: crate::store::StoreError) -> Self {
        PageError::Api(e.into())
    }
}

impl PageError {
    fn status(&self) -> StatusCode {
        match self {
            PageError::LoginNeeded { .. } => StatusCode::SEE_OTHER,
            PageError::Forbidden { .. } | PageError::Csrf => StatusCode::FORBIDDEN,
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::Api(e) => e.status(),
        }
    }

    /// The sentence office staff read, in the page's language.
    fn explain(&self, t: Tr) -> &'static str {
        match self {
            PageError::LoginNeeded { .. } => {
                t.s("Silakan masuk terlebih dahulu.", "Please log in first.")
            }
            PageError::Forbidden { .. } => t.s(
                "Peran Anda tidak berwenang melakukan tindakan ini.",
                "Your role may not do this.",
            ),
            PageError::Csrf => t.s(
                "Formulir ini sudah kedaluwarsa atau tidak berasal dari halaman Lawang. Muat \
                 ulang halaman lalu coba lagi.",
                "This form is stale or did not come from a Lawang page. Reload the page and \
                 try again.",
            ),
            PageError::NotFound(_) => t.s(
                "Data yang dicari tidak ditemukan.",
                "What you looked for is not there.",
            ),
            PageError::Api(e) => match e {
                ApiError::Forbidden { .. } | ApiError::NotYours(_) => {
                    t.s("Langkah ini bukan giliran Anda.", "This step is not yours.")
                }
                ApiError::NotFound(_) => t.s(
                    "Data yang dicari tidak ditemukan.",
                    "What you looked for is not there.",
                ),
                ApiError::BadRequest(_) => t.s("Isian tidak dapat diterima.", "Not accepted."),
                ApiError::Conflict(_) => t.s(
                    "Tidak dapat dilakukan pada keadaan sekarang (mungkin sudah diproses orang \
                     lain).",
                    "Not possible as things are now (someone may have done it already).",
                ),
                ApiError::Timeout(_) => t.s(
                    "Tidak ada kartu yang ditempelkan tepat waktu.",
                    "No card was tapped in time.",
                ),
                ApiError::TooManyRequests(_) => t.s(
                    "Terlalu banyak percobaan yang salah. Tunggu sebentar lalu coba lagi.",
                    "Too many wrong attempts. Wait a while and try again.",
                ),
                ApiError::Unavailable(_) => t.s(
                    "Perangkat sedang tidak tersedia.",
                    "The device is not available now.",
                ),
                _ => t.s("Terjadi kesalahan pada server.", "The server failed."),
            },
        }
    }

    /// The error page in the language `t`.
    fn page(&self, t: Tr) -> maud::Markup {
        // The detail is the API's English reason; never a secret (errors carry none).
        let detail = match self {
            PageError::Api(ApiError::Internal(_)) => None,
            other => Some(other.to_string()),
        };
        layout::bare(
            t.s("Tidak dapat diproses", "Cannot be done"),
            t,
            html! {
                div.alert.error role="alert" {
                    p { strong { (self.explain(t)) } }
                    @if let Some(d) = detail { p.detail { (d) } }
                }
                p { a href="/ui/" { (t.s("Kembali ke dasbor", "Back to the dashboard")) } }
            },
        )
    }
}

/// An error page as drawn, kept on the response so [`in_session_language`] can draw it again
/// in the language of the session that asked.
#[derive(Clone)]
struct Drawn(std::sync::Arc<PageError>);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let PageError::LoginNeeded { next } = &self {
            return Redirect::to(&format!("{}/login?next={}", super::ROOT, encode(next)))
                .into_response();
        }
        let status = self.status();
        match &self {
            PageError::Api(ApiError::Internal(e)) => tracing::error!(error = %e, "page failed"),
            e if status.is_server_error() => {
                tracing::warn!(status = status.as_u16(), error = %e, "page failed")
            }
            _ => {}
        }
        let body = self.page(Tr::default());
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            Html(body.into_string()),
        )
            .into_response();
        response
            .extensions_mut()
            .insert(Drawn(std::sync::Arc::new(self)));
        response
    }
}

/// Draws an error page again in English when the session asking chose English. Errors are
/// drawn where the session is not at hand (extractors, `?`); this looks it up only for them.
pub async fn in_session_language(
    axum::extract::State(s): axum::extract::State<crate::api::AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let headers = request.headers().clone();
    let mut response = next.run(request).await;
    let Some(Drawn(error)) = response.extensions_mut().remove::<Drawn>() else {
        return response;
    };
    let english = matches!(
        super::session::current(&s, &headers).await,
        Ok(Some(session)) if session.lang == crate::report::Lang::En
    );
    if english {
        let body = error.page(Tr(crate::report::Lang::En));
        *response.body_mut() = axum::body::Body::from(body.into_string());
        response.headers_mut().remove(header::CONTENT_LENGTH);
    }
    response
}

/// Percent-encodes a path for a query value (only what a path of ours can hold).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
