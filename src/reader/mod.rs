//! Card readers: the first stage of the data flow.
//!
//! Each configured reader runs as one task (or one blocking thread for PC/SC) that turns its
//! device's bytes into [`ReaderEvent`]s and sends them, tagged with the reader, to its door's
//! controller. Drivers know nothing about access rights; they only report what was presented
//! and whether the device is reachable. The door controller answers with [`Feedback`] so a
//! driver can light its LED or beep where the hardware allows.
//!
//! Frame parsers live in `frame/` as pure functions over bytes so they can be tested and
//! fuzzed without a port.

pub mod frame;
pub mod osdp;
pub mod pcsc;
pub mod serial;
pub mod simulated;

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};

use crate::model::{Credential, Direction, DoorId, ReaderId};

/// What a reader saw.
#[derive(Clone, PartialEq, Eq)]
pub enum ReaderEvent {
    /// A card was presented and its identity read.
    Card(Credential),
    /// A card was presented but its identity could not be read (for example a PC/SC card
    /// answering `6A 81` to GET UID). Refused with this reason, never as "unknown card".
    Unreadable(String),
    /// Keys pressed on the reader's keypad, in order: digits, `*` (clear) and `#` (enter).
    /// Never logged: they may be a PIN.
    Keypad(String),
}

/// Keypad contents never reach a log, even through `{:?}`.
impl std::fmt::Debug for ReaderEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReaderEvent::Card(c) => f.debug_tuple("Card").field(c).finish(),
            ReaderEvent::Unreadable(why) => f.debug_tuple("Unreadable").field(why).finish(),
            ReaderEvent::Keypad(keys) => write!(f, "Keypad({} keys)", keys.chars().count()),
        }
    }
}

/// Whether a reader's device is reachable, shown on `/healthz` and in the API.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum ReaderStatus {
    Online,
    Offline { detail: String },
}

/// Reply to a tap injected through the API (simulated readers only).
pub type TapReply = oneshot::Sender<crate::door::TapOutcome>;

/// One event from one reader, on its way to the door controller.
#[derive(Debug)]
pub struct ReaderMessage {
    pub reader: ReaderId,
    pub event: ReaderEvent,
    /// When the driver finished reading, for latency measurement and debouncing.
    pub read_at: tokio::time::Instant,
    pub reply: Option<TapReply>,
}

/// Sent back to a reader after a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feedback {
    /// Green LED, short beep.
    Granted,
    /// Red LED, long beep.
    Refused,
}

/// Static facts about a configured reader, shared by the controller and the API.
#[derive(Debug, Clone)]
pub struct ReaderInfo {
    pub id: ReaderId,
    pub name: Arc<str>,
    pub door: DoorId,
    pub direction: Direction,
    pub kind: &'static str,
}

/// The driver's side of the channel to its door: everything a driver may report.
#[derive(Clone, Debug)]
pub struct ReaderOutput {
    reader: ReaderId,
    events: mpsc::Sender<ReaderMessage>,
    status: Arc<watch::Sender<ReaderStatus>>,
    /// The door's inputs, for reader alarms (tamper, power); `None` where nobody listens
    /// (driver tests).
    door_inputs: Option<mpsc::Sender<crate::door::DoorInput>>,
    /// Frames that were not card reads (noise, bad checksums), for the metrics.
    bad_frames: Arc<std::sync::atomic::AtomicU64>,
}

impl ReaderOutput {
    pub fn new(
        reader: ReaderId,
        events: mpsc::Sender<ReaderMessage>,
        status: Arc<watch::Sender<ReaderStatus>>,
    ) -> Self {
        ReaderOutput {
            reader,
            events,
            status,
            door_inputs: None,
            bad_frames: Arc::default(),
        }
    }

    /// Counts a frame that was not a card read (the driver logs a summary).
    pub fn bad_frame(&self) {
        self.bad_frames
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// The count of [`ReaderOutput::bad_frame`], as the metrics read it.
    pub fn bad_frames(&self) -> Arc<std::sync::atomic::AtomicU64> {
        self.bad_frames.clone()
    }

    /// Lets the driver raise reader alarms at its door.
    pub fn with_door_inputs(mut self, inputs: mpsc::Sender<crate::door::DoorInput>) -> Self {
        self.door_inputs = Some(inputs);
        self
    }

    /// Raises (`on`) or clears a condition the reader reports about itself (tamper,
    /// power); the door controller records only changes. Returns `false` once the daemon
    /// is shutting down.
    pub async fn reader_alarm(&self, alarm: crate::door::state::Alarm, on: bool) -> bool {
        let Some(inputs) = &self.door_inputs else {
            return true;
        };
        let input = crate::door::DoorInput::ReaderAlarm {
            reader: self.reader,
            alarm,
            on,
        };
        inputs.send(input).await.is_ok()
    }

    /// Reports a presented card. Waits if the door controller is behind, so a burst cannot
    /// grow memory without bound. Returns `false` once the daemon is shutting down.
    pub async fn card(&self, credential: Credential) -> bool {
        self.send(ReaderEvent::Card(credential), None).await
    }

    /// Reports a card whose identity could not be read.
    pub async fn unreadable(&self, why: impl Into<String>) -> bool {
        self.send(ReaderEvent::Unreadable(why.into()), None).await
    }

    /// Reports an event and hands over a channel for the decision (simulated taps).
    pub async fn send(&self, event: ReaderEvent, reply: Option<TapReply>) -> bool {
        let msg = ReaderMessage {
            reader: self.reader,
            event,
            read_at: tokio::time::Instant::now(),
            reply,
        };
        self.events.send(msg).await.is_ok()
    }

    /// Blocking variant for drivers that run on their own thread (PC/SC).
    pub fn blocking_card(&self, credential: Credential) -> bool {
        self.blocking_send(ReaderEvent::Card(credential))
    }

    pub fn blocking_unreadable(&self, why: impl Into<String>) -> bool {
        self.blocking_send(ReaderEvent::Unreadable(why.into()))
    }

    fn blocking_send(&self, event: ReaderEvent) -> bool {
        let msg = ReaderMessage {
            reader: self.reader,
            event,
            read_at: tokio::time::Instant::now(),
            reply: None,
        };
        self.events.blocking_send(msg).is_ok()
    }

    /// Marks the device reachable or not. Only changes are published, so drivers may call
    /// this on every poll.
    pub fn set_status(&self, status: ReaderStatus) {
        self.status.send_if_modified(|current| {
            if *current == status {
                false
            } else {
                match &status {
                    ReaderStatus::Online => tracing::info!(reader = self.reader, "reader online"),
                    ReaderStatus::Offline { detail } => {
                        tracing::warn!(reader = self.reader, %detail, "reader offline")
                    }
                }
                *current = status;
                true
            }
        });
    }
}

/// Everything a driver task receives.
pub struct ReaderIo {
    pub output: ReaderOutput,
    /// Decisions for this reader, to drive its LED and buzzer. Drivers without feedback
    /// hardware may drop this receiver.
    pub feedback: mpsc::Receiver<Feedback>,
    pub shutdown: tokio_util::sync::CancellationToken,
}
