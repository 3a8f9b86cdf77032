//! The API's one error type and its one mapping to `application/problem+json` (RFC 9457).
//! Causes of server errors are logged here and never sent to the client.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::enrollment::EnrollError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("a valid API token is required: send `Authorization: Bearer <token>`")]
    Unauthenticated,
    #[error("the role {role} may not {action}")]
    Forbidden { role: String, action: &'static str },
    /// A workflow step that belongs to another role or another account.
    #[error("{0}")]
    NotYours(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("send the body as JSON with `Content-Type: application/json`")]
    UnsupportedMediaType,
    #[error("the request body is larger than the server accepts (server.max_body_bytes)")]
    PayloadTooLarge,
    #[error(
        "too many wrong API tokens from this address; try again in {} s",
        .0.as_secs().max(1)
    )]
    TooManyRequests(std::time::Duration),
    #[error("the request took longer than the server allows (server.request_timeout_seconds)")]
    RequestTimeout,
    #[error("the request headers are larger than the server accepts ({0} bytes)")]
    HeadersTooLarge(usize),
    #[error("{0}")]
    Unavailable(String),
    /// Waited for something at the desk (a card on the enrollment reader) that did not come.
    #[error("{0}")]
    Timeout(String),
    #[error("internal error")]
    Internal(String),
}

/// The problem document every error response carries.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A stable identifier for the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong, for a person to read.
    pub detail: String,
}

impl ApiError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } | ApiError::NotYours(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Forbidden { .. } | ApiError::NotYours(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::BadRequest(_) => "bad-request",
            ApiError::Conflict(_) => "conflict",
            ApiError::UnsupportedMediaType => "unsupported-media-type",
            ApiError::PayloadTooLarge => "payload-too-large",
            ApiError::TooManyRequests(_) => "too-many-requests",
            ApiError::RequestTimeout => "request-timeout",
            ApiError::HeadersTooLarge(_) => "headers-too-large",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Timeout(_) => "timeout",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let problem = Problem {
            kind: format!("urn:lawang:problem:{}", self.kind()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.to_string(),
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        if let ApiError::TooManyRequests(retry) = &self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(retry.as_secs().max(1)),
            );
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(what),
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::Invalid(m) => ApiError::BadRequest(m),
            StoreError::Workflow(w) if w.is_forbidden() => ApiError::NotYours(w.to_string()),
            StoreError::Workflow(w) if w.is_conflict() => ApiError::Conflict(w.to_string()),
            StoreError::Workflow(w) => ApiError::BadRequest(w.to_string()),
            StoreError::WriterStopped => {
                ApiError::Unavailable("the daemon is shutting down".into())
            }
            StoreError::RegisterFull => ApiError::Unavailable(e.to_string()),
            other @ (StoreError::Sqlite(_)
            | StoreError::Io { .. }
            | StoreError::Locked(_)
            | StoreError::TooNew { .. }
            | StoreError::Task(_)) => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<EnrollError> for ApiError {
    fn from(e: EnrollError) -> Self {
        match e {
            EnrollError::UnknownReader(name) => {
                ApiError::NotFound(format!("enrollment reader {name:?}"))
            }
            EnrollError::Offline { .. } | EnrollError::Busy(_) => ApiError::Conflict(e.to_string()),
            EnrollError::TimedOut { .. } => ApiError::Timeout(e.to_string()),
            EnrollError::Stopped(_) => ApiError::Unavailable(e.to_string()),
        }
    }
}

/// `Json` whose rejections are problems: unknown fields, wrong types, bad syntax and
/// oversized bodies each get a clear 4xx and the handler never runs.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::UnsupportedMediaType),
            Err(JsonRejection::BytesRejection(r))
                if r.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(ApiError::PayloadTooLarge)
            }
            Err(JsonRejection::JsonDataError(e)) => Err(ApiError::BadRequest(format!(
                "the JSON body does not fit: {}",
                e.body_text().trim_start_matches(
                    "Failed to deserialize the JSON body into the target type: "
                )
            ))),
            Err(JsonRejection::JsonSyntaxError(_)) => {
                Err(ApiError::BadRequest("the body is not valid JSON".into()))
            }
            Err(other) => Err(ApiError::BadRequest(other.body_text())),
        }
    }
}

/// `Query` whose rejections are problems.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| ApiError::BadRequest(e.body_text()))
    }
}
