//! Changes to a running controller: readers attached and detached by a reload, and the
//! watchdog's heartbeat, all handled in the controller's own loop.

use std::collections::HashMap;

use tokio::sync::oneshot;

use super::{DoorController, LastRead, ReaderSlot, holder_refused, send};
use crate::decision::Reason;
use crate::door::Presence;
use crate::door::pin_entry::PinEntry;
use crate::door::state::Alarm;
use crate::model::ReaderId;
use crate::reader::ReaderEvent;
use crate::register::{self, RegisterLine};
use chrono::Utc;

/// Changes to a running controller, and the watchdog's question whether it is still alive.
#[derive(Debug)]
pub enum DoorControl {
    /// Starts taking reads from a reader; the reply says the slot is in place, so the
    /// reader's driver may start.
    Attach(ReaderSlot, oneshot::Sender<()>),
    /// Stops taking reads from a reader and clears the alarms it had raised.
    Detach(ReaderId, oneshot::Sender<()>),
    /// Answered from the controller's own loop: a controller stuck in an await never answers.
    Heartbeat(oneshot::Sender<()>),
    /// The wall clock jumped: the door writes a `clock_jump` line, so its register shows
    /// why the times around it are not continuous.
    ClockJumped,
}

impl DoorController {
    pub(super) async fn control(
        &mut self,
        c: DoorControl,
        last: &mut HashMap<ReaderId, LastRead>,
        pending: &mut HashMap<ReaderId, PinEntry>,
        presence: &mut Presence,
    ) {
        match c {
            DoorControl::Attach(slot, done) => {
                tracing::info!(door = %self.name, reader = %slot.info.name, "reader attached");
                self.readers.insert(slot.info.id, slot);
                let _ = done.send(());
            }
            DoorControl::Detach(reader, done) => {
                last.remove(&reader);
                // A PIN being typed on a reader that goes away is abandoned, and recorded so.
                if let (Some(entry), Some(slot)) =
                    (pending.remove(&reader), self.readers.get(&reader))
                {
                    let refused = holder_refused(&entry.decision, Reason::PinTimeout);
                    let card = ReaderEvent::Card(entry.credential);
                    let (outcome, reply) = self
                        .finish(slot, &card, refused, entry.reply, presence, None)
                        .await;
                    send(reply.map(|r| (r, outcome)));
                }
                if let Some(slot) = self.readers.remove(&reader) {
                    let name = slot.info.name.to_string();
                    let raised: Vec<Alarm> = self
                        .status
                        .borrow()
                        .alarms
                        .iter()
                        .filter(|a| a.reader.as_deref() == Some(name.as_str()))
                        .map(|a| a.alarm)
                        .collect();
                    for alarm in raised {
                        self.alarm(alarm, Some(reader), Some(name.clone()), false)
                            .await;
                    }
                    tracing::info!(door = %self.name, reader = %name, "reader detached");
                }
                let _ = done.send(());
            }
            DoorControl::Heartbeat(answer) => {
                let _ = answer.send(());
            }
            DoorControl::ClockJumped => {
                self.record(RegisterLine::door_event(
                    Utc::now(),
                    self.id,
                    None,
                    register::Event::ClockJump,
                ))
                .await;
            }
        }
    }
}
