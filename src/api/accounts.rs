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
use crate::store::sessions;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(guarded_routes!(list_accounts, create_account))
        .routes(guarded_routes!(deactivate_account))
        .routes(guarded_routes!(set_password))
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewPassword {
    /// 10 to 128 characters. Stored only as an argon2 hash; never shown or logged.
    password: String,
}

/// Sets the password the account logs in to the operator pages with. Its open browser
/// sessions end.
#[utoipa::path(post, path = "/accounts/{id}/password", tag = "workflow", params(("id" = i64, Path)),
    request_body = NewPassword,
    responses((status = 200, body = Account), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "the account is deactivated")),
    security(("bearer" = [])))]
async fn set_password(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ManageAccounts>,
    Path(id): Path<i64>,
    ApiJson(p): ApiJson<NewPassword>,
) -> Result<Json<Account>, ApiError> {
    let hash = tokio::task::spawn_blocking(move || crate::password::hash(&p.password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::BadRequest)?;
    let account =
        s.db.write(move |tx| {
            Ok((
                sessions::set_password(tx, id, &hash, &actor, Utc::now())?,
                Changed::none(),
            ))
        })
        .await?;
    Ok(Json(account))
}
