//! Enrollment at the desk: the next card shown on an enrollment reader.

use super::{ApiError, AppState};
use crate::model::Credential;

pub async fn next_card(
    _s: &AppState,
    reader: &str,
    _timeout_seconds: Option<u64>,
) -> Result<Credential, ApiError> {
    Err(ApiError::BadRequest(format!(
        "no enrollment reader is named {reader:?}"
    )))
}
