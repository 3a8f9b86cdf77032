//! One controller task per door: turns card reads and the door's own inputs into
//! decisions, register lines, strike commands and alarms.
//!
//! It owns the door's strike, so two readers of the same door never race on it. The strike
//! follows [`DoorState`]; timers are tokio's monotonic clock, so a wall-clock jump can
//! neither hold the door open nor cut an unlock short.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::pin_entry::PinEntry;
use super::presence::{Inside, Presence};
use super::state::{Action, Alarm, DoorState, Event};
use super::{ActiveAlarm, Actuator, AlarmNotice, DoorInput, DoorStatus, Strike, TapOutcome};
use crate::config::PinRule;
use crate::decision::{self, AccessList, Decision, Reason};
use crate::metrics::DoorMetrics;
use crate::model::{DoorId, ReaderId};
use crate::pin::Lockout;
use crate::reader::{Feedback, ReaderEvent, ReaderInfo, ReaderMessage, ReaderStatus, TapReply};
use crate::register::{self, RegisterLine};
use crate::store::StoreError;
use crate::store::register::RegisterWriter;

mod control;
mod pin;
pub use control::DoorControl;
use pin::{Gate, holder_refused};

/// One reader attached to this door.
#[derive(Debug)]
pub struct ReaderSlot {
    pub info: ReaderInfo,
    pub repeat_window: Duration,
    pub feedback: mpsc::Sender<Feedback>,
}

pub struct DoorController {
    pub id: DoorId,
    pub name: String,
    pub unlock_for: Duration,
    pub held_open_after: Duration,
    pub actuator: Box<dyn Actuator>,
    pub access: Arc<AccessList>,
    pub register: RegisterWriter,
    pub readers: HashMap<ReaderId, ReaderSlot>,
    pub status: watch::Sender<DoorStatus>,
    /// When this door asks for a PIN after the card.
    pub pin_rule: PinRule,
    pub pin_timeout: Duration,
    /// Wrong-PIN counts, shared by every door.
    pub lockout: Arc<Lockout>,
    /// Who is inside, anti-passback and the escort rule, as rebuilt from the register.
    pub presence: Presence,
    /// The presence list, published after every change (for `GET /inside`).
    pub inside: watch::Sender<Vec<Inside>>,
    /// Where alarm changes are announced (alarm webhooks); `None` when nobody listens.
    pub alarm_notices: Option<mpsc::Sender<AlarmNotice>>,
    /// This door's counters; the tap path only adds to them.
    pub metrics: Arc<DoorMetrics>,
}

/// A decision still owed to an API caller once the strike has moved.
type Owed = Option<(TapReply, TapOutcome)>;

struct LastRead {
    event: ReaderEvent,
    at: Instant,
    outcome: TapOutcome,
}

impl DoorController {
    /// Runs until `shutdown`, then locks the door. `inputs` carries the contact, the exit
    /// button and reader status changes; it may close early on a door without inputs.
    pub async fn run(
        self,
        events: mpsc::Receiver<ReaderMessage>,
        inputs: mpsc::Receiver<DoorInput>,
        shutdown: CancellationToken,
    ) {
        let (_, mut control) = mpsc::channel(1);
        self.run_controlled(events, inputs, &mut control, shutdown)
            .await
    }

    /// [`DoorController::run`], also taking readers attached and detached while it runs
    /// and the watchdog's heartbeats. `control` is borrowed so the caller decides when it
    /// closes: after marking the controller as finished, never before.
    pub async fn run_controlled(
        mut self,
        mut events: mpsc::Receiver<ReaderMessage>,
        mut inputs: mpsc::Receiver<DoorInput>,
        control: &mut mpsc::Receiver<DoorControl>,
        shutdown: CancellationToken,
    ) {
        let (mut state, first) = DoorState::new(self.unlock_for, self.held_open_after);
        self.apply(&[first]).await;
        let mut presence = std::mem::take(&mut self.presence);
        // The list the API shows is copied out after the strike moves, never before.
        let mut published = presence.version();
        let mut last: HashMap<ReaderId, LastRead> = HashMap::new();
        let mut pending: HashMap<ReaderId, PinEntry> = HashMap::new();
        let mut inputs_open = true;
        let mut control_open = true;
        // Every door shows the register's trouble: its own lines are the ones held.
        let mut unwritable = self.register.unwritable();
        let mut unwritable_open = true;
        if *unwritable.borrow_and_update() {
            self.alarm(Alarm::RegisterUnwritable, None, None, true)
                .await;
        }
        loop {
            let deadline = [
                state.next_deadline(),
                pending.values().map(|p| p.deadline).min(),
                presence.next_deadline(),
            ]
            .into_iter()
            .flatten()
            .min();
            let actions = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                c = control.recv(), if control_open => {
                    match c {
                        Some(c) => self.control(c, &mut last, &mut pending, &mut presence).await,
                        None => control_open = false,
                    }
                    Vec::new()
                }
                changed = unwritable.changed(), if unwritable_open => {
                    match changed {
                        Ok(()) => {
                            let on = *unwritable.borrow_and_update();
                            self.alarm(Alarm::RegisterUnwritable, None, None, on).await;
                        }
                        Err(_) => unwritable_open = false,
                    }
                    Vec::new()
                }
                _ = sleep_until(deadline), if deadline.is_some() => {
                    let now = Instant::now();
                    self.expire_pins(&mut pending, &mut presence, now).await;
                    if let Some(on) = presence.tick(now) {
                        self.escort_alarm(on).await;
                    }
                    state.on(Event::Tick, now)
                }
                input = inputs.recv(), if inputs_open => match input {
                    Some(input) => self.input(input, &mut state, &mut presence).await,
                    None => {
                        inputs_open = false;
                        Vec::new()
                    }
                },
                msg = events.recv() => {
                    let Some(msg) = msg else { break };
                    let (granted, reply) =
                        self.tap(msg, &mut last, &mut pending, &mut presence).await;
                    let actions = if granted { state.on(Event::Grant, Instant::now()) } else { Vec::new() };
                    // An API caller hears "granted" once the strike has moved.
                    self.apply(&actions).await;
                    self.publish(&presence, &mut published);
                    send(reply);
                    Vec::new()
                }
            };
            self.apply(&actions).await;
            self.publish(&presence, &mut published);
        }
        self.apply(&[Action::Strike(Strike::Locked)]).await;
        tracing::info!(door = %self.name, "door controller stopped, strike locked");
    }

    /// Decides and records one card read; returns whether the door must unlock, and the
    /// reply still owed to an API caller. The line of a grant is on disk before this returns
    /// `true`, or, while the disk is full, held in its bounded queue to be written in order:
    /// never an entry with no line.
    async fn tap(
        &self,
        mut msg: ReaderMessage,
        last: &mut HashMap<ReaderId, LastRead>,
        pending: &mut HashMap<ReaderId, PinEntry>,
        presence: &mut Presence,
    ) -> (bool, Owed) {
        let Some(slot) = self.readers.get(&msg.reader) else {
            tracing::warn!(reader = msg.reader, door = %self.name, "event from a reader not on this door");
            return (false, None);
        };
        if let ReaderEvent::Keypad(keys) = &msg.event {
            // Keys without a card waiting for its PIN mean nothing at this door.
            let Some(pin) = pending.get_mut(&msg.reader).and_then(|p| p.keys(keys)) else {
                return (false, None);
            };
            let Some(entry) = pending.remove(&msg.reader) else {
                return (false, None);
            };
            let decision = self.check_pin(&entry, pin).await;
            let event = ReaderEvent::Card(entry.credential);
            let (outcome, reply) = self
                .finish(slot, &event, decision, entry.reply, presence, None)
                .await;
            return (outcome.decision.is_granted(), reply.map(|r| (r, outcome)));
        }
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
            return (false, None);
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
            // Handled above; keys are never a tap of their own.
            ReaderEvent::Keypad(_) => return (false, None),
        };
        // A new card on this reader abandons a PIN still being typed for another.
        if let Some(old) = pending.remove(&msg.reader) {
            let refused = holder_refused(&old.decision, Reason::PinTimeout);
            let (outcome, reply) = self
                .finish(
                    slot,
                    &ReaderEvent::Card(old.credential),
                    refused,
                    old.reply,
                    presence,
                    None,
                )
                .await;
            send(reply.map(|r| (r, outcome)));
        }
        let decision = match (&msg.event, self.pin_gate(&msg.event, decision, now)) {
            (ReaderEvent::Card(credential), Gate::AskPin(decision, hash)) => {
                let interim = holder_refused(&decision, Reason::PinRequired);
                let deadline = Instant::now() + self.pin_timeout;
                pending.insert(
                    msg.reader,
                    PinEntry::new(*credential, decision, hash, deadline, msg.reply.take()),
                );
                last.insert(
                    msg.reader,
                    LastRead {
                        event: msg.event,
                        at: msg.read_at,
                        outcome: TapOutcome {
                            decision: interim,
                            register_id: None,
                        },
                    },
                );
                return (false, None);
            }
            (_, Gate::AskPin(decision, _)) | (_, Gate::Decided(decision)) => decision,
        };
        let (outcome, reply) = self
            .finish(
                slot,
                &msg.event,
                decision,
                msg.reply.take(),
                presence,
                Some(msg.read_at),
            )
            .await;
        let granted = outcome.decision.is_granted();
        let owed = reply.map(|r| (r, outcome.clone()));
        last.insert(
            msg.reader,
            LastRead {
                event: msg.event,
                at: msg.read_at,
                outcome,
            },
        );
        (granted, owed)
    }

    /// Applies the door's own rules (escort, anti-passback), records the final decision and
    /// answers the reader; the line of a grant is on disk (or held) before this returns it. The API
    /// caller's reply is handed back, to be sent once the strike has moved.
    /// `read_at`: when the card was read, for the latency metric (none when a person's PIN
    /// typing is part of the wait).
    async fn finish(
        &self,
        slot: &ReaderSlot,
        event: &ReaderEvent,
        decision: Decision,
        mut reply: Option<TapReply>,
        presence: &mut Presence,
        read_at: Option<Instant>,
    ) -> (TapOutcome, Option<TapReply>) {
        let direction = slot.info.direction;
        let decision = presence.admit(decision, direction, Instant::now());
        let now = Utc::now();
        let line = RegisterLine::tap(now, &slot.info, event, decision.clone());
        let mut outcome = TapOutcome {
            decision,
            register_id: None,
        };
        if outcome.decision.is_granted() {
            // Committed, or held in memory in order while the disk is full: either way the
            // line will be on disk before any later one.
            match self.register.commit(line).await {
                Ok(recorded) => outcome.register_id = recorded.id(),
                Err(e) => {
                    let reason = match e {
                        StoreError::RegisterFull => Reason::RegisterFull,
                        _ => Reason::RegisterUnavailable,
                    };
                    tracing::error!(door = %self.name, error = %e, reason = reason.code(), "granted tap not recorded; door stays locked");
                    outcome.decision = holder_refused(&outcome.decision, reason);
                    self.record(RegisterLine::tap(
                        now,
                        &slot.info,
                        event,
                        outcome.decision.clone(),
                    ))
                    .await;
                }
            }
        } else {
            match self.register.submit(line).await {
                // Only an API caller waits for the refused line's id, and not on this task.
                Ok(done) => {
                    if let Some(reply) = reply.take() {
                        let mut outcome = outcome.clone();
                        tokio::spawn(async move {
                            outcome.register_id = RegisterWriter::committed(done)
                                .await
                                .ok()
                                .and_then(|r| r.id());
                            let _ = reply.send(outcome);
                        });
                    }
                }
                Err(e) => {
                    tracing::error!(door = %self.name, error = %e, "refused tap not recorded")
                }
            }
        }
        self.metrics.tap(
            outcome.decision.reason(),
            read_at.map(|t| Instant::now().saturating_duration_since(t)),
        );
        let granted = outcome.decision.is_granted();
        if granted
            && let Some(on) = presence.passed(&outcome.decision, direction, now, Instant::now())
        {
            self.escort_alarm(on).await;
        }
        tracing::info!(
            door = %self.name,
            reader = %slot.info.name,
            granted,
            reason = outcome.decision.reason().code(),
            person = outcome.decision.person_id(),
            "tap"
        );
        // A reader without feedback hardware may have dropped its receiver.
        let _ = slot.feedback.try_send(if granted {
            Feedback::Granted
        } else {
            Feedback::Refused
        });
        (outcome, reply)
    }

    async fn input(
        &self,
        input: DoorInput,
        state: &mut DoorState,
        presence: &mut Presence,
    ) -> Vec<Action> {
        let now = Instant::now();
        match input {
            DoorInput::Contact(c) => {
                self.status
                    .send_if_modified(|s| s.contact.replace(c) != Some(c));
                state.on(Event::Contact(c), now)
            }
            // The exit button always opens: nobody is locked in because the disk is full.
            DoorInput::ExitButton => {
                self.record(RegisterLine::door_event(
                    Utc::now(),
                    self.id,
                    None,
                    register::Event::ExitButton,
                ))
                .await;
                state.on(Event::ExitButton, now)
            }
            DoorInput::ReaderStatus { reader, status } => {
                let name = self.readers.get(&reader).map(|r| r.info.name.to_string());
                let on = matches!(status, ReaderStatus::Offline { .. });
                self.alarm(Alarm::ReaderOffline, Some(reader), name, on)
                    .await;
                Vec::new()
            }
            DoorInput::ReaderAlarm { reader, alarm, on } => {
                let name = self.readers.get(&reader).map(|r| r.info.name.to_string());
                self.alarm(alarm, Some(reader), name, on).await;
                Vec::new()
            }
            DoorInput::CheckedOut(person) => {
                if let Some(on) = presence.left(person, now) {
                    self.escort_alarm(on).await;
                }
                Vec::new()
            }
        }
    }

    async fn escort_alarm(&self, on: bool) {
        self.alarm(Alarm::EscortLeft, None, None, on).await;
    }

    /// Copies the presence list out for the API when it changed.
    fn publish(&self, presence: &Presence, published: &mut u64) {
        if presence.version() != *published {
            *published = presence.version();
            self.inside.send_replace(presence.list());
        }
    }

    async fn apply(&self, actions: &[Action]) {
        for action in actions {
            match *action {
                Action::Strike(strike) => self.set_strike(strike).await,
                Action::Raise(alarm) => self.alarm(alarm, None, None, true).await,
                Action::Clear(alarm) => self.alarm(alarm, None, None, false).await,
            }
        }
    }

    async fn set_strike(&self, strike: Strike) {
        let result = self.actuator.set(strike).await;
        if let Err(e) = &result {
            tracing::error!(door = %self.name, strike = strike.as_str(), error = %e, "actuator failed");
        }
        let failed = result.is_err();
        self.status.send_modify(|s| {
            if s.strike != strike {
                s.since = Utc::now();
            }
            s.strike = strike;
            s.fault = result.err().map(|e| e.to_string());
        });
        self.alarm(Alarm::ActuatorFault, None, None, failed).await;
    }

    /// Raises (`on`) or clears an alarm: a register line and the door's status, once per
    /// change.
    async fn alarm(
        &self,
        alarm: Alarm,
        reader: Option<ReaderId>,
        reader_name: Option<String>,
        on: bool,
    ) {
        let mut changed = false;
        self.status.send_if_modified(|s| {
            let pos = s
                .alarms
                .iter()
                .position(|a| a.alarm == alarm && a.reader == reader_name);
            changed = match (on, pos) {
                (true, None) => {
                    s.alarms.push(ActiveAlarm {
                        alarm,
                        reader: reader_name.clone(),
                        since: Utc::now(),
                    });
                    true
                }
                (false, Some(i)) => {
                    s.alarms.remove(i);
                    true
                }
                _ => false,
            };
            changed
        });
        if !changed {
            return;
        }
        if on {
            self.metrics.alarm_raised(alarm);
            tracing::warn!(door = %self.name, alarm = alarm.code(), reader = reader_name, "alarm");
        } else {
            tracing::info!(door = %self.name, alarm = alarm.code(), reader = reader_name, "alarm cleared");
        }
        let at = Utc::now();
        if let Some(notices) = &self.alarm_notices {
            let notice = AlarmNotice {
                at,
                door: self.name.clone(),
                alarm,
                reader: reader_name,
                raised: on,
            };
            // Never waits: the door does not slow down for a webhook.
            if let Err(mpsc::error::TrySendError::Full(_)) = notices.try_send(notice) {
                tracing::warn!(door = %self.name, alarm = alarm.code(), "alarm notice dropped: the notification queue is full");
            }
        }
        let event = if on {
            register::Event::AlarmRaised(alarm)
        } else {
            register::Event::AlarmCleared(alarm)
        };
        self.record(RegisterLine::door_event(at, self.id, reader, event))
            .await;
    }

    async fn record(&self, line: RegisterLine) {
        if let Err(e) = self.register.submit(line).await {
            tracing::error!(door = %self.name, error = %e, "door event not recorded");
        }
    }
}

fn send(owed: Owed) {
    if let Some((reply, outcome)) = owed {
        let _ = reply.send(outcome);
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
