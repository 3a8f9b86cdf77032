//! API tokens. The secret of a new token is in the creation response only.

use crate::api::auth::guarded_routes;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;

use super::auth::{Auth, Authenticated, ManageTokens};
use super::{ApiError, ApiJson, AppState, Problem};
use crate::model::Role;
use crate::store::tokens::{self, NewToken, TokenInfo};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(guarded_routes!(list_tokens, create_token))
        .routes(guarded_routes!(revoke_token))
        .routes(guarded_routes!(whoami))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateToken {
    /// Who or what holds the token, e.g. "Operator shift pagi". Not with `account`.
    #[serde(default)]
    name: Option<String>,
    /// Not with `account`.
    #[serde(default)]
    role: Option<Role>,
    /// A staff account's username: the token acts as that account, with its role.
    #[serde(default)]
    account: Option<String>,
}

#[utoipa::path(get, path = "/tokens", tag = "tokens",
    responses((status = 200, body = Vec<TokenInfo>), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_tokens(
    State(s): State<AppState>,
    _: Auth<ManageTokens>,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    Ok(Json(s.db.read(tokens::list).await?))
}

#[utoipa::path(post, path = "/tokens", tag = "tokens", request_body = CreateToken,
    responses((status = 201, body = NewToken), (status = 400, body = Problem)),
    security(("bearer" = [])))]
async fn create_token(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ManageTokens>,
    ApiJson(t): ApiJson<CreateToken>,
) -> Result<(StatusCode, Json<NewToken>), ApiError> {
    let token =
        s.db.write(move |tx| {
            let now = Utc::now();
            let token = match (t.account, t.name, t.role) {
                (Some(account), None, None) => {
                    tokens::create_for_account(tx, &account, &actor, now)?
                }
                (None, Some(name), Some(role)) => tokens::create(tx, &name, role, &actor, now)?,
                _ => {
                    return Err(crate::store::StoreError::Invalid(
                        "give either `account`, or `name` and `role`".into(),
                    ));
                }
            };
            Ok((token, crate::store::Changed::none()))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(token)))
}

#[utoipa::path(post, path = "/tokens/{id}/revoke", tag = "tokens", params(("id" = i64, Path)),
    responses((status = 200, body = TokenInfo), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn revoke_token(
    State(s): State<AppState>,
    Auth(actor, _): Auth<ManageTokens>,
    Path(id): Path<i64>,
) -> Result<Json<TokenInfo>, ApiError> {
    let info =
        s.db.write(move |tx| {
            Ok((
                tokens::revoke(tx, id, &actor, Utc::now())?,
                crate::store::Changed::none(),
            ))
        })
        .await?;
    Ok(Json(info))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct WhoAmI {
    name: String,
    role: Role,
    token_id: Option<i64>,
}

/// The caller's token name and role.
#[utoipa::path(get, path = "/whoami", tag = "tokens",
    responses((status = 200, body = WhoAmI), (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn whoami(Auth(actor, _): Auth<Authenticated>) -> Json<WhoAmI> {
    Json(WhoAmI {
        name: actor.name,
        role: actor.role,
        token_id: actor.token_id,
    })
}
