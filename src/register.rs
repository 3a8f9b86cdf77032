//! The facility register line: every tap, granted or refused, with its reason, and the
//! door's own events (exit button, alarms raised and cleared).
//!
//! A line is built where the event happens; the store's register writer persists it
//! (see `store::register`).

use chrono::{DateTime, Utc};

use crate::decision::Decision;
use crate::door::state::Alarm;
use crate::model::{Credential, Direction, DoorId, ReaderId};
use crate::reader::{ReaderEvent, ReaderInfo};

#[derive(Debug, Clone, PartialEq)]
pub struct RegisterLine {
    pub at: DateTime<Utc>,
    pub door: DoorId,
    pub reader: Option<ReaderId>,
    pub direction: Option<Direction>,
    /// The card as presented; `None` when it could not be read or for door events.
    pub credential: Option<Credential>,
    pub event: Event,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Tap(Decision),
    /// The request-to-exit button opened the door.
    ExitButton,
    AlarmRaised(Alarm),
    AlarmCleared(Alarm),
    /// The wall clock jumped (set by hand, NTP stepping it): the times of the lines before
    /// and after this one are not continuous. The audit log holds the jump's size.
    ClockJump,
}

impl RegisterLine {
    pub fn tap(
        at: DateTime<Utc>,
        reader: &ReaderInfo,
        event: &ReaderEvent,
        decision: Decision,
    ) -> Self {
        RegisterLine {
            at,
            door: reader.door,
            reader: Some(reader.id),
            direction: Some(reader.direction),
            credential: match event {
                ReaderEvent::Card(c) => Some(*c),
                ReaderEvent::Unreadable(_) | ReaderEvent::Keypad(_) => None,
            },
            event: Event::Tap(decision),
        }
    }

    /// A line for something the door itself did; `reader` for reader alarms.
    pub fn door_event(
        at: DateTime<Utc>,
        door: DoorId,
        reader: Option<ReaderId>,
        event: Event,
    ) -> Self {
        RegisterLine {
            at,
            door,
            reader,
            direction: matches!(event, Event::ExitButton).then_some(Direction::Out),
            credential: None,
            event,
        }
    }

    /// The `event` column: `tap`, `exit_button`, `alarm`, `alarm_cleared`.
    pub fn kind(&self) -> &'static str {
        match self.event {
            Event::Tap(_) => "tap",
            Event::ExitButton => "exit_button",
            Event::AlarmRaised(_) => "alarm",
            Event::AlarmCleared(_) => "alarm_cleared",
            Event::ClockJump => "clock_jump",
        }
    }

    /// Whether the door was opened for this line.
    pub fn granted(&self) -> bool {
        match &self.event {
            Event::Tap(d) => d.is_granted(),
            Event::ExitButton => true,
            Event::AlarmRaised(_) | Event::AlarmCleared(_) | Event::ClockJump => false,
        }
    }

    /// The `reason` column: the decision's reason code, or the alarm's code.
    pub fn reason(&self) -> &'static str {
        match &self.event {
            Event::Tap(d) => d.reason().code(),
            Event::ExitButton => "exit_button",
            Event::AlarmRaised(a) | Event::AlarmCleared(a) => a.code(),
            Event::ClockJump => "clock_jump",
        }
    }

    pub fn decision(&self) -> Option<&Decision> {
        match &self.event {
            Event::Tap(d) => Some(d),
            _ => None,
        }
    }
}
