//! The SOP's procedures over HTTP: requests, removals, review campaigns, accounts in other
//! systems, and each role's inbox. Handlers only extract and call the store; which step
//! belongs to whom is decided by [`crate::workflow::check`] inside the write transaction.

mod inbox;
mod removals;
mod requests;
mod reviews;

pub(crate) use requests::{involving, issue_card, visible_request};
pub(crate) use reviews::{close_campaign, decide_review_item, start_campaign};

use std::sync::Arc;

use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;

use super::{ApiError, AppState};
use crate::store::Changed;
use crate::store::requests::Ctx;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(requests::routes())
        .merge(removals::routes())
        .merge(reviews::routes())
        .merge(inbox::routes())
}

/// Runs a workflow write with the chains and the office zone.
pub(crate) async fn in_workflow<R: Send + 'static>(
    s: &AppState,
    f: impl FnOnce(&rusqlite::Transaction, Ctx) -> crate::store::Result<(R, Changed)> + Send + 'static,
) -> std::result::Result<R, ApiError> {
    let workflow = Arc::clone(&s.workflow);
    let tz = s.timezone;
    Ok(s.db
        .write(move |tx| {
            f(
                tx,
                Ctx {
                    workflow: &workflow,
                    tz,
                },
            )
        })
        .await?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

/// An approval step: name the step you are doing, so a stale page never approves the
/// wrong one.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepDecision {
    /// The step, e.g. `dispose`; see the case's `steps`.
    pub step: String,
    pub decision: Decision,
    /// Required when rejecting: the reason.
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Note {
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    pub reason: String,
}
