//! The notification delivery log, and a test email so an installer can check the relay.

use crate::api::auth::guarded_routes;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use super::auth::{Auth, ReadNotifications, TestNotifications};
use super::{ApiError, ApiJson, ApiQuery, AppState, Problem, page_limit};
use crate::store::outbox::{
    self, Email, Kind, Notification, NotificationFilter, State as Delivery,
};
use crate::store::{Changed, audit};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(guarded_routes!(list_notifications))
        .routes(guarded_routes!(test_email))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct NotificationQuery {
    /// `pending`, `sent`, `failed`, `disabled` or `filtered`.
    #[param(inline)]
    state: Option<Delivery>,
    /// `email` or `webhook`.
    #[param(inline)]
    kind: Option<Kind>,
    /// Items per page (1–1000, default 100).
    limit: Option<u32>,
    /// Paging: messages older than this id.
    before_id: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct NotificationPage {
    /// Newest first.
    items: Vec<Notification>,
    /// Pass as `before_id` for the next page; `null` on the last page.
    next_before_id: Option<i64>,
}

/// Emails and webhook events with their delivery state, attempts and last error; never a
/// message body, a webhook payload or a secret.
#[utoipa::path(get, path = "/notifications", tag = "notifications", params(NotificationQuery),
    responses((status = 200, body = NotificationPage), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_notifications(
    State(s): State<AppState>,
    _: Auth<ReadNotifications>,
    ApiQuery(q): ApiQuery<NotificationQuery>,
) -> Result<Json<NotificationPage>, ApiError> {
    let filter = NotificationFilter {
        state: q.state,
        kind: q.kind,
        before_id: q.before_id,
        limit: page_limit(q.limit)?,
    };
    let limit = filter.limit as usize;
    let items = s.db.read(move |c| outbox::list(c, &filter)).await?;
    let next_before_id = (items.len() == limit)
        .then(|| items.last().map(|n| n.id))
        .flatten();
    Ok(Json(NotificationPage {
        items,
        next_before_id,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TestEmail {
    /// The address to send the test to.
    to: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Queued {
    /// The message's id in `GET /notifications`.
    id: i64,
    message: String,
}

/// Queues a test email (in Indonesian) through the configured relay; 202 once queued, 409
/// when no `[notify.smtp]` is configured. Its delivery shows in `GET /notifications`.
#[utoipa::path(post, path = "/notifications/test", tag = "notifications", request_body = TestEmail,
    responses((status = 202, body = Queued), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn test_email(
    State(s): State<AppState>,
    Auth(actor, _): Auth<TestNotifications>,
    ApiJson(t): ApiJson<TestEmail>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let to = t.to.trim().to_owned();
    if to.parse::<lettre::Address>().is_err() {
        return Err(ApiError::BadRequest(format!(
            "{to:?} is not an email address"
        )));
    }
    if !s.email_enabled {
        return Err(ApiError::Conflict(
            "email is not configured: add [notify.smtp] to the configuration and restart lawang"
                .into(),
        ));
    }
    let now = Utc::now();
    let email = Email {
        to: vec![to.clone()],
        subject: "Uji notifikasi Lawang — ruang server".into(),
        body: format!(
            "Ini adalah email uji dari Lawang, sistem kontrol akses ruang server.\n\
             Jika Anda menerima email ini, pengiriman notifikasi sudah berfungsi.\n\n\
             Dikirim atas permintaan {} pada {}.\n",
            actor.name,
            now.with_timezone(&s.timezone).format("%d-%m-%Y %H:%M %Z"),
        ),
    };
    let id =
        s.db.write(move |tx| {
            let id = outbox::queue_email(tx, &email, now)?;
            audit::record(
                tx,
                &actor,
                "notify.test",
                Some(format!("notification:{id}")),
                json!({ "to": to }),
                now,
            )?;
            Ok((id, Changed::none()))
        })
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Queued {
            id,
            message: format!("test email queued; see GET /api/v1/notifications for message {id}"),
        }),
    ))
}
