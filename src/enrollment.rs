//! Enrollment at the desk: "bind the next card presented on the desk reader". A desk reader
//! opens no door and writes no register line. A card presented on it goes to the one
//! operator waiting on that reader, if any; otherwise the reader shows red and nothing
//! happens, so a stray tap at the desk can never bind a card to anyone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::model::{Credential, Technology};
use crate::reader::{Feedback, ReaderEvent, ReaderMessage, ReaderStatus};

/// The longest an operator may keep a desk reader waiting for a card.
pub const MAX_WAIT: Duration = Duration::from_secs(120);
/// How long a desk reader waits when the caller does not say.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(30);

/// Where the card to bind comes from: typed at the desk, or presented on a desk reader.
#[derive(Debug, PartialEq, Eq)]
pub enum CardSource {
    Typed(Credential),
    Desk { reader: String, wait: Duration },
}

impl CardSource {
    /// From an API body's `uid`, `technology`, `enroll_reader` and
    /// `enroll_timeout_seconds`: exactly one way, and only the fields that go with it.
    pub fn from_request(
        uid: Option<&str>,
        technology: Option<Technology>,
        enroll_reader: Option<&str>,
        enroll_timeout_seconds: Option<u64>,
    ) -> Result<CardSource, String> {
        match (uid, enroll_reader) {
            (Some(_), None) if enroll_timeout_seconds.is_some() => {
                Err("enroll_timeout_seconds goes with enroll_reader".into())
            }
            (Some(uid), None) => {
                Credential::parse_hex(technology.unwrap_or(Technology::Iso14443), uid)
                    .map(CardSource::Typed)
                    .map_err(|e| e.to_string())
            }
            (None, Some(_)) if technology.is_some() => {
                Err("technology goes with uid; a desk reader says what it read".into())
            }
            (None, Some(reader)) => Ok(CardSource::Desk {
                reader: reader.to_owned(),
                wait: wait(enroll_timeout_seconds)?,
            }),
            _ => Err(
                "give exactly one of uid (typed) and enroll_reader (presented at the desk)".into(),
            ),
        }
    }
}

/// The wait an API caller asked for (`enroll_timeout_seconds`), checked.
fn wait(seconds: Option<u64>) -> Result<Duration, String> {
    match seconds {
        None => Ok(DEFAULT_WAIT),
        Some(n) if (1..=MAX_WAIT.as_secs()).contains(&n) => Ok(Duration::from_secs(n)),
        Some(n) => Err(format!(
            "enroll_timeout_seconds {n} is out of range 1-{}",
            MAX_WAIT.as_secs()
        )),
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnrollError {
    #[error("no enrollment reader is named {0:?}")]
    UnknownReader(String),
    #[error("enrollment reader {reader:?} is offline ({detail})")]
    Offline { reader: String, detail: String },
    #[error("enrollment reader {0:?} is already waiting for a card for another operator")]
    Busy(String),
    #[error("no card was presented on enrollment reader {reader:?} within {seconds} s")]
    TimedOut { reader: String, seconds: u64 },
    #[error("enrollment reader {0:?} stopped while waiting")]
    Stopped(String),
}

/// What became of a card presented on a desk reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented {
    /// An operator was waiting: the card is theirs to bind.
    Taken,
    /// Nobody was waiting (or the card could not be read): red, nothing bound.
    Ignored,
    /// The same card still held on the reader.
    Repeat,
}

/// A desk reader as the API lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeskReaderView {
    pub name: String,
    pub kind: &'static str,
    pub online: bool,
    /// Why it is offline, when it is.
    pub detail: Option<String>,
    /// An operator is waiting for a card on it now.
    pub waiting: bool,
    pub running_since: DateTime<Utc>,
}

/// The desk readers now running and who waits on them. Shared by the API and the readers'
/// event tasks; swapped reader by reader on reload.
#[derive(Default)]
pub struct Enrollment {
    desks: Mutex<HashMap<String, Desk>>,
}

struct Desk {
    kind: &'static str,
    status: watch::Receiver<ReaderStatus>,
    feedback: mpsc::Sender<Feedback>,
    repeat_window: Duration,
    last: Option<(Credential, Instant)>,
    waiter: Option<oneshot::Sender<Credential>>,
    running_since: DateTime<Utc>,
}

/// What a desk reader brings to the hub when it starts.
pub struct DeskParts {
    pub name: String,
    pub kind: &'static str,
    pub status: watch::Receiver<ReaderStatus>,
    pub feedback: mpsc::Sender<Feedback>,
    pub repeat_window: Duration,
}

impl Enrollment {
    pub fn new() -> Arc<Enrollment> {
        Arc::new(Enrollment::default())
    }

    fn desks(&self) -> MutexGuard<'_, HashMap<String, Desk>> {
        // A panic while holding this lock cannot leave a half-made change: every critical
        // section is a single map operation. Recover the map rather than fail every desk.
        self.desks.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn attach(&self, parts: DeskParts) {
        self.desks().insert(
            parts.name,
            Desk {
                kind: parts.kind,
                status: parts.status,
                feedback: parts.feedback,
                repeat_window: parts.repeat_window,
                last: None,
                waiter: None,
                running_since: Utc::now(),
            },
        );
    }

    /// Removes a stopped desk reader; an operator waiting on it is told it stopped.
    pub fn detach(&self, name: &str) {
        self.desks().remove(name);
    }

    pub fn list(&self) -> Vec<DeskReaderView> {
        let desks = self.desks();
        let mut out: Vec<DeskReaderView> = desks
            .iter()
            .map(|(name, d)| {
                let status = d.status.borrow().clone();
                DeskReaderView {
                    name: name.clone(),
                    kind: d.kind,
                    online: status == ReaderStatus::Online,
                    detail: match status {
                        ReaderStatus::Online => None,
                        ReaderStatus::Offline { detail } => Some(detail),
                    },
                    waiting: d.waiter.as_ref().is_some_and(|w| !w.is_closed()),
                    running_since: d.running_since,
                }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Checks that `reader` can take a card now, before anything else is done.
    pub fn ready(&self, reader: &str) -> Result<(), EnrollError> {
        let desks = self.desks();
        let desk = desks
            .get(reader)
            .ok_or_else(|| EnrollError::UnknownReader(reader.to_owned()))?;
        desk.check(reader)
    }

    /// Waits for the next card presented on `reader`, at most `wait`. One operator per
    /// reader at a time; one who gave up (closed the connection) no longer counts.
    pub async fn next_card(&self, reader: &str, wait: Duration) -> Result<Credential, EnrollError> {
        let (tx, rx) = oneshot::channel();
        {
            let mut desks = self.desks();
            let desk = desks
                .get_mut(reader)
                .ok_or_else(|| EnrollError::UnknownReader(reader.to_owned()))?;
            desk.check(reader)?;
            desk.waiter = Some(tx);
        }
        match tokio::time::timeout(wait, rx).await {
            Ok(Ok(credential)) => Ok(credential),
            Ok(Err(_)) => Err(EnrollError::Stopped(reader.to_owned())),
            Err(_) => {
                if let Some(desk) = self.desks().get_mut(reader) {
                    desk.waiter = None;
                }
                Err(EnrollError::TimedOut {
                    reader: reader.to_owned(),
                    seconds: wait.as_secs(),
                })
            }
        }
    }

    /// A card (or keys, or an unreadable card) presented on desk reader `reader`.
    pub fn presented(&self, reader: &str, event: ReaderEvent, at: Instant) -> Presented {
        let mut desks = self.desks();
        let Some(desk) = desks.get_mut(reader) else {
            return Presented::Ignored;
        };
        let credential = match event {
            ReaderEvent::Card(c) => c,
            ReaderEvent::Unreadable(why) => {
                tracing::info!(reader, %why, "desk reader: card could not be read");
                desk.signal(Feedback::Refused);
                return Presented::Ignored;
            }
            // Keys mean nothing at the desk, and are never logged.
            ReaderEvent::Keypad(_) => return Presented::Ignored,
        };
        // A card held on the reader repeats; the window slides with each repeat.
        if let Some((last, seen)) = &mut desk.last
            && *last == credential
            && at.saturating_duration_since(*seen) < desk.repeat_window
        {
            *seen = at;
            return Presented::Repeat;
        }
        desk.last = Some((credential, at));
        match desk.waiter.take().map(|w| w.send(credential)) {
            Some(Ok(())) => {
                tracing::info!(reader, "desk reader: card taken for enrollment");
                desk.signal(Feedback::Granted);
                Presented::Taken
            }
            _ => {
                tracing::info!(
                    reader,
                    "desk reader: card presented while nobody was waiting"
                );
                desk.signal(Feedback::Refused);
                Presented::Ignored
            }
        }
    }

    /// The kind of desk reader `reader` (`simulated` ones take taps through the API), or
    /// `None` when it is not a desk reader.
    pub fn kind(&self, reader: &str) -> Option<&'static str> {
        self.desks().get(reader).map(|d| d.kind)
    }
}

impl Desk {
    fn check(&self, reader: &str) -> Result<(), EnrollError> {
        if let ReaderStatus::Offline { detail } = &*self.status.borrow() {
            return Err(EnrollError::Offline {
                reader: reader.to_owned(),
                detail: detail.clone(),
            });
        }
        if self.waiter.as_ref().is_some_and(|w| !w.is_closed()) {
            return Err(EnrollError::Busy(reader.to_owned()));
        }
        Ok(())
    }

    fn signal(&self, feedback: Feedback) {
        // The LED is a courtesy: a full queue never holds the desk up.
        let _ = self.feedback.try_send(feedback);
    }
}

/// Hands every event of one desk reader to the hub until the reader's driver stops.
pub async fn run_desk(
    hub: Arc<Enrollment>,
    name: String,
    mut events: mpsc::Receiver<ReaderMessage>,
) {
    while let Some(msg) = events.recv().await {
        hub.presented(&name, msg.event, msg.read_at);
    }
}

#[cfg(test)]
mod tests;
