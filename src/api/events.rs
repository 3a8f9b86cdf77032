//! `GET /api/v1/events`: the live event stream for integrations (Server-Sent Events).
//!
//! Every register line is sent once it is committed: taps, exit-button openings, alarms
//! raised and cleared, each as an event named after the line's `event` (`tap`,
//! `exit_button`, `alarm`, `alarm_cleared`) with the line as JSON and its register id as the
//! SSE id. The stream first sends `ready` (the subscription is in place). A client that
//! falls more than a buffer behind gets `lagged` with the number of lines it missed (they
//! are in `GET /api/v1/register`); a slow client never slows a door.

use std::convert::Infallible;

use crate::api::auth::guarded_routes;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use utoipa_axum::router::OpenApiRouter;

use super::auth::{Auth, ReadRegister};
use super::{AppState, Problem};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(guarded_routes!(events))
}

/// Register lines and alarms as they are committed, as Server-Sent Events.
#[utoipa::path(get, path = "/events", tag = "register",
    responses((status = 200, content_type = "text/event-stream", body = String,
        description = "events `ready`, `tap`, `exit_button`, `alarm`, `alarm_cleared` (data: a register line), `lagged` (data: `{\"missed\": n}`)"),
        (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn events(
    State(s): State<AppState>,
    _: Auth<ReadRegister>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    stream(&s)
}

/// The stream itself, for the API and the dashboard page.
pub(crate) fn stream(s: &AppState) -> Sse<impl Stream<Item = Result<Event, Infallible>> + use<>> {
    // Subscribed before the response starts: `ready` means nothing committed after it is
    // missed.
    let lines = BroadcastStream::new(s.events.subscribe()).map(|item| {
        Ok(match item {
            Ok(line) => Event::default()
                .event(line.event.as_str())
                .id(line.id.to_string())
                .json_data(line.as_ref())
                .unwrap_or_else(|_| Event::default().event("error")),
            Err(BroadcastStreamRecvError::Lagged(missed)) => {
                tracing::warn!(missed, "event stream client lagged");
                Event::default()
                    .event("lagged")
                    .data(format!("{{\"missed\":{missed}}}"))
            }
        })
    });
    let ready =
        futures_util::stream::once(async { Ok(Event::default().event("ready").data("{}")) });
    // Ends with the daemon: an open stream would otherwise hold the graceful shutdown.
    let stream = ready
        .chain(lines)
        .take_until(s.shutdown.clone().cancelled_owned());
    Sse::new(stream).keep_alive(KeepAlive::default())
}
