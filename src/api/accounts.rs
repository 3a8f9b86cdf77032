//! Staff accounts: who acts in the workflow and where their notices go.

use crate::api::auth::guarded_routes;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use super::auth::{Auth, ManageAccounts, ReadAccess};
use super::{ApiError, ApiJson, ApiQuery, AppState, Problem};
use crate::model::Role;
use crate::store::Changed;
use crate::store::accounts::{self, Account, NewAccount};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(guarded_routes!(list_accounts, create_account))
        .routes(guarded_routes!(deactivate_account))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct AccountQuery {
    #[param(inline)]
    role: Option<Role>,
}

#[utoipa::path(get, path = "/accounts", tag = "workflow", params(AccountQuery),
    responses((status = 200, body = Vec<Account>), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_accounts(
    State(s): State<AppState>,
    _: Auth<ReadAccess>,
    ApiQuery(q): ApiQuery<AccountQuery>,
) -> Result<Json<Vec<Account>>, ApiError> {
    Ok(Json(s.db.read(move |c| accounts::list(c, q.role)).await?))
}

/// A staff account. Give it a token with `POST /tokens {"account": "<username>"}`.
#[utoipa::path(post, path = "/accounts", tag = "workflow", request_body = NewAccount,
    responses((status = 201, body = Account), (status = 400, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn create_account(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ManageAccounts>,
    ApiJson(a): ApiJson<NewAccount>,
) -> Result<(StatusCode, Json<Account>), ApiError> {
    let account =
        s.db.write(move |tx| {
            Ok((
                accounts::create(tx, &a, &actor, Utc::now())?,
                Changed::none(),
            ))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(account)))
}

/// Its tokens stop working at once; what it did stays in the history.
#[utoipa::path(post, path = "/accounts/{id}/deactivate", tag = "workflow", params(("id" = i64, Path)),
    responses((status = 200, body = Account), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn deactivate_account(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ManageAccounts>,
    Path(id): Path<i64>,
) -> Result<Json<Account>, ApiError> {
    let account =
        s.db.write(move |tx| {
            Ok((
                accounts::deactivate(tx, id, &actor, Utc::now())?,
                Changed::none(),
            ))
        })
        .await?;
    Ok(Json(account))
}
