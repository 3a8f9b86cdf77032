//! What a page says when it cannot do what was asked: in Indonesian, with the status code
//! the API would give, and the API's own reason underneath for the technician.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;

use super::layout;
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

    /// The sentence office staff read.
    fn explain(&self) -> String {
        match self {
            PageError::LoginNeeded { .. } => "Silakan masuk terlebih dahulu.".into(),
            PageError::Forbidden { .. } => {
                "Peran Anda tidak berwenang melakukan tindakan ini.".into()
            }
            PageError::Csrf => "Formulir ini sudah kedaluwarsa atau tidak berasal dari halaman \
                                Lawang. Muat ulang halaman lalu coba lagi."
                .into(),
            PageError::NotFound(_) => "Data yang dicari tidak ditemukan.".into(),
            PageError::Api(e) => match e {
                ApiError::Forbidden { .. } | ApiError::NotYours(_) => {
                    "Langkah ini bukan giliran Anda.".into()
                }
                ApiError::NotFound(_) => "Data yang dicari tidak ditemukan.".into(),
                ApiError::BadRequest(_) => "Isian tidak dapat diterima.".into(),
                ApiError::Conflict(_) => {
                    "Tidak dapat dilakukan pada keadaan sekarang (mungkin sudah diproses orang \
                     lain)."
                        .into()
                }
                ApiError::Timeout(_) => "Tidak ada kartu yang ditempelkan tepat waktu.".into(),
                ApiError::TooManyRequests(_) => {
                    "Terlalu banyak percobaan yang salah. Tunggu sebentar lalu coba lagi.".into()
                }
                ApiError::Unavailable(_) => "Perangkat sedang tidak tersedia.".into(),
                _ => "Terjadi kesalahan pada server.".into(),
            },
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let PageError::LoginNeeded { next } = &self {
            return Redirect::to(&format!("{}/login?next={}", super::ROOT, encode(next)))
                .into_response();
        }
        let status = self.status();
        // The detail is the API's English reason; never a secret (errors carry none).
        let detail = match &self {
            PageError::Api(ApiError::Internal(e)) => {
                tracing::error!(error = %e, "page failed");
                None
            }
            other => Some(other.to_string()),
        };
        if status.is_server_error() && detail.is_some() {
            tracing::warn!(status = status.as_u16(), error = ?detail, "page failed");
        }
        let body = layout::bare(
            "Tidak dapat diproses",
            layout::Tr::default(),
            html! {
                div.alert.error role="alert" {
                    p { strong { (self.explain()) } }
                    @if let Some(d) = detail { p.detail { (d) } }
                }
                p { a href="/ui/" { "Kembali ke dasbor" } }
            },
        );
        (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            Html(body.into_string()),
        )
            .into_response()
    }
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
