//! Doors: the controller that turns reader events into decisions, register lines and
//! unlocks, and the strike it drives.
//!
//! One controller task per door owns that door's strike, so two readers of the same door
//! never race on it. Fail secure: the strike is locked at start, after `unlock_seconds` on
//! a monotonic timer (a wall-clock jump cannot hold it open), and at shutdown; it is only
//! unlocked for a granted tap whose register line is already on disk.

pub mod actuator;
mod controller;
pub mod gpio;
mod pin_entry;
pub mod presence;
pub mod serial_relay;
pub mod state;

use chrono::{DateTime, Utc};

use crate::decision::Decision;
use crate::model::ReaderId;
pub use actuator::{Actuator, Strike};
pub use controller::{DoorControl, DoorController, ReaderSlot};
pub use presence::{Inside, Presence};
pub use state::Alarm;

/// What the door's own inputs report, besides card reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoorInput {
    /// The door contact changed (drivers also send the state they find at start).
    Contact(Contact),
    /// The request-to-exit button was pressed.
    ExitButton,
    /// A reader of this door went online or offline.
    ReaderStatus {
        reader: ReaderId,
        status: crate::reader::ReaderStatus,
    },
    /// A reader of this door reports a condition of its own (tamper, power) raised or
    /// cleared. Only reader alarms come this way: the door's own alarms come from its state.
    ReaderAlarm {
        reader: ReaderId,
        alarm: crate::door::state::Alarm,
        on: bool,
    },
    /// The desk took a visitor's badge back: the person is outside, whatever the readers saw.
    CheckedOut(crate::model::PersonId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Contact {
    Open,
    Closed,
}

/// What happened to one tap, returned to callers that wait for it (simulated taps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapOutcome {
    pub decision: Decision,
    /// Register line id; `None` when the tap was a repeat of the card still being held.
    pub register_id: Option<i64>,
}

/// A door's state as shown by the API and `/healthz`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct DoorStatus {
    pub strike: Strike,
    /// When the strike last moved.
    pub since: DateTime<Utc>,
    /// `null` on a door without a contact, or before it first reports.
    pub contact: Option<Contact>,
    /// The last actuator failure, cleared by the next success.
    pub fault: Option<String>,
    /// Alarms in force now; their history is in the register.
    pub alarms: Vec<ActiveAlarm>,
}

impl DoorStatus {
    pub fn new(now: DateTime<Utc>) -> Self {
        DoorStatus {
            strike: Strike::Locked,
            since: now,
            contact: None,
            fault: None,
            alarms: Vec::new(),
        }
    }
}

/// An alarm raised or cleared, for those told about it off the door's path (alarm
/// webhooks). The controller hands it over without waiting: when the queue is full, the
/// notice is dropped (the register line is written regardless).
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmNotice {
    pub at: DateTime<Utc>,
    pub door: String,
    pub alarm: Alarm,
    /// The reader, for reader alarms.
    pub reader: Option<String>,
    /// Raised (`true`) or cleared.
    pub raised: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ActiveAlarm {
    pub alarm: Alarm,
    /// The reader, for reader alarms.
    pub reader: Option<String>,
    pub since: DateTime<Utc>,
}

#[cfg(test)]
mod tests;
