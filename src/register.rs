//! The facility register line: one per tap, granted or refused, with the reason.
//!
//! A line is built from what the reader saw and what the decision said; the store's
//! register writer persists it (see `store::register`).

use chrono::{DateTime, Utc};

use crate::decision::Decision;
use crate::model::{Credential, Direction, DoorId, ReaderId};
use crate::reader::{ReaderEvent, ReaderInfo};

#[derive(Debug, Clone, PartialEq)]
pub struct RegisterLine {
    pub at: DateTime<Utc>,
    pub door: DoorId,
    pub reader: ReaderId,
    pub direction: Direction,
    /// The card as presented; `None` when it could not be read.
    pub credential: Option<Credential>,
    pub decision: Decision,
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
            reader: reader.id,
            direction: reader.direction,
            credential: match event {
                ReaderEvent::Card(c) => Some(*c),
                ReaderEvent::Unreadable(_) => None,
            },
            decision,
        }
    }
}
