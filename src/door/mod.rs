//! Doors: the controller that turns reader events into decisions, register lines and
//! unlocks, and the strike it drives.
//!
//! One controller task per door owns that door's strike, so two readers of the same door
//! never race on it. Fail secure: the strike is locked at start, after `unlock_seconds` on
//! a monotonic timer (a wall-clock jump cannot hold it open), and at shutdown; it is only
//! unlocked for a granted tap whose register line is already on disk.

pub mod actuator;
pub mod gpio;
pub mod serial_relay;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::decision::{self, AccessList, Decision, Reason};
use crate::model::{DoorId, ReaderId};
use crate::reader::{Feedback, ReaderEvent, ReaderInfo, ReaderMessage};
use crate::register::RegisterLine;
use crate::store::register::RegisterWriter;
pub use actuator::{Actuator, Strike};

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
    pub since: DateTime<Utc>,
    /// The last actuator failure, cleared by the next success.
    pub fault: Option<String>,
}

/// One reader attached to this door.
pub struct ReaderSlot {
    pub info: ReaderInfo,
    pub repeat_window: Duration,
    pub feedback: mpsc::Sender<Feedback>,
}

struct LastRead {
    event: ReaderEvent,
    at: Instant,
    outcome: TapOutcome,
}

pub struct DoorController {
    pub id: DoorId,
    pub name: String,
    pub unlock_for: Duration,
    pub actuator: Box<dyn Actuator>,
    pub access: Arc<AccessList>,
    pub register: RegisterWriter,
    pub readers: HashMap<ReaderId, ReaderSlot>,
    pub status: watch::Sender<DoorStatus>,
}

impl DoorController {
    /// Runs until `shutdown`, then locks the door.
    pub async fn run(
        mut self,
        mut events: mpsc::Receiver<ReaderMessage>,
        shutdown: CancellationToken,
    ) {
        self.set_strike(Strike::Locked).await;
        let mut relock_at: Option<Instant> = None;
        let mut last: HashMap<ReaderId, LastRead> = HashMap::new();
        loop {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                _ = sleep_until(relock_at), if relock_at.is_some() => {
                    relock_at = None;
                    self.set_strike(Strike::Locked).await;
                }
                msg = events.recv() => {
                    let Some(msg) = msg else { break };
                    if let Some(until) = self.handle(msg, &mut last).await {
                        relock_at = Some(until);
                    }
                }
            }
        }
        self.set_strike(Strike::Locked).await;
        tracing::info!(door = %self.name, "door controller stopped, strike locked");
    }

    /// Handles one reader event; returns when the door must re-lock if it was unlocked.
    async fn handle(
        &mut self,
        mut msg: ReaderMessage,
        last: &mut HashMap<ReaderId, LastRead>,
    ) -> Option<Instant> {
        let Some(slot) = self.readers.get(&msg.reader) else {
            tracing::warn!(reader = msg.reader, door = %self.name, "event from a reader not on this door");
            return None;
        };
        // A card held on a reader repeats; the window slides with each repeat so a card held
        // for a minute is still one presentation.
        if let Some(prev) = last.get_mut(&msg.reader)
            && prev.event == msg.event
            && msg.read_at.saturating_duration_since(prev.at) < slot.repeat_window
        {
            prev.at = msg.read_at;
            if let Some(reply) = msg.reply {
                let _ = reply.send(TapOutcome {
                    decision: prev.outcome.decision.clone(),
                    register_id: None,
                });
            }
            return None;
        }

        let now = Utc::now();
        let decision = match &msg.event {
            ReaderEvent::Card(credential) => {
                decision::decide(&self.access.load(), self.id, credential, now)
            }
            ReaderEvent::Unreadable(why) => {
                tracing::info!(reader = %slot.info.name, %why, "card could not be read");
                Decision::refused(Reason::UnreadableCard)
            }
        };
        let line = RegisterLine::tap(now, &slot.info, &msg.event, decision.clone());
        let (outcome, relock) = if decision.is_granted() {
            // The line is on disk before the strike moves: never an unrecorded entry.
            match self.register.commit(line).await {
                Ok(id) => {
                    self.set_strike(Strike::Unlocked).await;
                    let outcome = TapOutcome {
                        decision,
                        register_id: Some(id),
                    };
                    (outcome, Some(Instant::now() + self.unlock_for))
                }
                Err(e) => {
                    tracing::error!(door = %self.name, error = %e, "granted tap not recorded; door stays locked");
                    let outcome = TapOutcome {
                        decision: Decision::refused(Reason::RegisterUnavailable),
                        register_id: None,
                    };
                    (outcome, None)
                }
            }
        } else {
            let outcome = TapOutcome {
                decision,
                register_id: None,
            };
            match self.register.submit(line).await {
                // Only an API caller waits for the refused line's id, and not on this task.
                Ok(done) => {
                    if let Some(reply) = msg.reply.take() {
                        let mut outcome = outcome.clone();
                        tokio::spawn(async move {
                            outcome.register_id = RegisterWriter::committed(done).await.ok();
                            let _ = reply.send(outcome);
                        });
                    }
                }
                Err(e) => {
                    tracing::error!(door = %self.name, error = %e, "refused tap not recorded")
                }
            }
            (outcome, None)
        };
        tracing::info!(
            door = %self.name,
            reader = %slot.info.name,
            granted = outcome.decision.is_granted(),
            reason = outcome.decision.reason().code(),
            person = outcome.decision.person_id(),
            "tap"
        );
        let feedback = if outcome.decision.is_granted() {
            Feedback::Granted
        } else {
            Feedback::Refused
        };
        // A reader without feedback hardware may have dropped its receiver.
        let _ = slot.feedback.try_send(feedback);
        if let Some(reply) = msg.reply {
            let _ = reply.send(outcome.clone());
        }
        last.insert(
            msg.reader,
            LastRead {
                event: msg.event,
                at: msg.read_at,
                outcome,
            },
        );
        relock
    }

    async fn set_strike(&self, strike: Strike) {
        let result = self.actuator.set(strike).await;
        if let Err(e) = &result {
            tracing::error!(door = %self.name, strike = strike.as_str(), error = %e, "actuator failed");
        }
        self.status.send_modify(|s| {
            if s.strike != strike {
                s.since = Utc::now();
            }
            s.strike = strike;
            s.fault = result.err().map(|e| e.to_string());
        });
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
