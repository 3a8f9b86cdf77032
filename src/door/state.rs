//! The door's state machine: strike, contact, exit button and their alarms. Pure: events and
//! `now` (a monotonic instant) in, actions out; the controller does the I/O and the timers.
//!
//! - A grant or the exit button unlocks for `unlock_for`. The strike re-locks at the end of
//!   that time, or as soon as the door closes again after opening (no tailgating on a long
//!   unlock).
//! - The door opening while the strike is locked is "forced".
//! - The door open for longer than `held_open_after` since a legitimate opening is "held open".
//! - Both alarms end when the door closes. A door found open at start is not "forced" (nobody
//!   knows when it opened), but its held-open timer starts.

use std::time::Duration;

use tokio::time::Instant;

use super::{Contact, Strike};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Alarm {
    DoorForced,
    DoorHeldOpen,
    ReaderOffline,
    ActuatorFault,
    /// The reader reports its case opened or torn off the wall (OSDP local status).
    ReaderTamper,
    /// The reader reports a power failure (OSDP local status).
    ReaderPower,
    /// An escort went out and their visitor is still inside (see `door::presence`).
    EscortLeft,
    /// The register cannot be written (disk full, I/O error): lines are held in memory until
    /// it can. Raised at every door, since every door's lines wait.
    RegisterUnwritable,
}

impl Alarm {
    pub fn code(self) -> &'static str {
        match self {
            Alarm::DoorForced => "door_forced",
            Alarm::DoorHeldOpen => "door_held_open",
            Alarm::ReaderOffline => "reader_offline",
            Alarm::ActuatorFault => "actuator_fault",
            Alarm::ReaderTamper => "reader_tamper",
            Alarm::ReaderPower => "reader_power",
            Alarm::EscortLeft => "escort_left",
            Alarm::RegisterUnwritable => "register_unwritable",
        }
    }

    /// The label office staff read in Indonesian reports.
    pub fn label_id(self) -> &'static str {
        match self {
            Alarm::DoorForced => "pintu dibuka paksa",
            Alarm::DoorHeldOpen => "pintu terbuka terlalu lama",
            Alarm::ReaderOffline => "pembaca kartu tidak terhubung",
            Alarm::ActuatorFault => "kunci pintu gagal digerakkan",
            Alarm::ReaderTamper => "pembaca kartu dibongkar",
            Alarm::ReaderPower => "daya pembaca kartu terganggu",
            Alarm::EscortLeft => "pendamping keluar, pengunjung masih di dalam",
            Alarm::RegisterUnwritable => "register tidak dapat ditulis (disk penuh?)",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Alarm::DoorForced => "door forced open",
            Alarm::DoorHeldOpen => "door held open",
            Alarm::ReaderOffline => "reader offline",
            Alarm::ActuatorFault => "strike actuator failed",
            Alarm::ReaderTamper => "reader tampered with",
            Alarm::ReaderPower => "reader power failure",
            Alarm::EscortLeft => "escort left, visitor still inside",
            Alarm::RegisterUnwritable => "register cannot be written (disk full?)",
        }
    }

    pub fn from_code(code: &str) -> Option<Alarm> {
        Alarm::ALL.into_iter().find(|a| a.code() == code)
    }

    pub const ALL: [Alarm; 8] = [
        Alarm::DoorForced,
        Alarm::DoorHeldOpen,
        Alarm::ReaderOffline,
        Alarm::ActuatorFault,
        Alarm::ReaderTamper,
        Alarm::ReaderPower,
        Alarm::EscortLeft,
        Alarm::RegisterUnwritable,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Grant,
    ExitButton,
    Contact(Contact),
    /// A deadline from [`DoorState::next_deadline`] passed.
    Tick,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Strike(Strike),
    Raise(Alarm),
    Clear(Alarm),
}

#[derive(Debug, Clone)]
pub struct DoorState {
    unlock_for: Duration,
    held_open_after: Duration,
    strike: Strike,
    relock_at: Option<Instant>,
    /// `None` until a contact reports (or forever, on a door without one).
    contact: Option<Contact>,
    /// When the held-open alarm fires, while the door is open legitimately.
    held_open_at: Option<Instant>,
    forced: bool,
    held_open: bool,
}

impl DoorState {
    /// A locked door; the returned action locks the strike whatever state it was left in.
    pub fn new(unlock_for: Duration, held_open_after: Duration) -> (DoorState, Action) {
        let state = DoorState {
            unlock_for,
            held_open_after,
            strike: Strike::Locked,
            relock_at: None,
            contact: None,
            held_open_at: None,
            forced: false,
            held_open: false,
        };
        (state, Action::Strike(Strike::Locked))
    }

    pub fn strike(&self) -> Strike {
        self.strike
    }

    pub fn contact(&self) -> Option<Contact> {
        self.contact
    }

    /// The next instant at which [`Event::Tick`] must be sent.
    pub fn next_deadline(&self) -> Option<Instant> {
        match (self.relock_at, self.held_open_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn on(&mut self, event: Event, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        match event {
            Event::Grant | Event::ExitButton => {
                self.relock_at = Some(now + self.unlock_for);
                if self.strike == Strike::Locked {
                    self.strike = Strike::Unlocked;
                    out.push(Action::Strike(Strike::Unlocked));
                }
            }
            Event::Contact(Contact::Open) => {
                let first_report = self.contact.is_none();
                if self.contact == Some(Contact::Open) {
                    return out;
                }
                self.contact = Some(Contact::Open);
                if self.strike == Strike::Locked && !first_report {
                    self.forced = true;
                    out.push(Action::Raise(Alarm::DoorForced));
                } else {
                    self.held_open_at = Some(now + self.held_open_after);
                }
            }
            Event::Contact(Contact::Closed) => {
                let was_open = self.contact == Some(Contact::Open);
                self.contact = Some(Contact::Closed);
                self.held_open_at = None;
                if was_open && self.strike == Strike::Unlocked {
                    self.lock(&mut out);
                }
                if std::mem::take(&mut self.forced) {
                    out.push(Action::Clear(Alarm::DoorForced));
                }
                if std::mem::take(&mut self.held_open) {
                    out.push(Action::Clear(Alarm::DoorHeldOpen));
                }
            }
            Event::Tick => {
                if self.relock_at.is_some_and(|t| now >= t) {
                    self.lock(&mut out);
                }
                if self.held_open_at.is_some_and(|t| now >= t) {
                    self.held_open_at = None;
                    self.held_open = true;
                    out.push(Action::Raise(Alarm::DoorHeldOpen));
                }
            }
        }
        out
    }

    fn lock(&mut self, out: &mut Vec<Action>) {
        self.relock_at = None;
        if self.strike == Strike::Unlocked {
            self.strike = Strike::Locked;
            out.push(Action::Strike(Strike::Locked));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;

    const UNLOCK: Duration = Duration::from_secs(5);
    const HELD: Duration = Duration::from_secs(30);

    fn at(t0: Instant, secs: f64) -> Instant {
        t0 + Duration::from_secs_f64(secs)
    }

    fn door() -> (DoorState, Instant) {
        let (s, first) = DoorState::new(UNLOCK, HELD);
        assert_eq!(first, Strike(super::Strike::Locked));
        (s, Instant::now())
    }

    #[test]
    fn a_grant_unlocks_for_unlock_for_and_relocks_on_the_deadline() {
        let (mut d, t0) = door();
        assert_eq!(d.on(Event::Grant, t0), [Strike(super::Strike::Unlocked)]);
        assert_eq!(d.next_deadline(), Some(at(t0, 5.0)));
        assert_eq!(d.on(Event::Tick, at(t0, 4.999)), []);
        assert_eq!(
            d.on(Event::Tick, at(t0, 5.0)),
            [Strike(super::Strike::Locked)]
        );
        assert_eq!(d.next_deadline(), None);
    }

    #[test]
    fn a_second_grant_extends_without_moving_the_strike_again() {
        let (mut d, t0) = door();
        d.on(Event::Grant, t0);
        assert_eq!(d.on(Event::Grant, at(t0, 3.0)), []);
        assert_eq!(d.on(Event::Tick, at(t0, 5.0)), []);
        assert_eq!(
            d.on(Event::Tick, at(t0, 8.0)),
            [Strike(super::Strike::Locked)]
        );
    }

    #[test]
    fn closing_after_a_legitimate_opening_relocks_at_once() {
        let (mut d, t0) = door();
        d.on(Event::Contact(Contact::Closed), t0);
        d.on(Event::Grant, t0);
        assert_eq!(d.on(Event::Contact(Contact::Open), at(t0, 1.0)), []);
        assert_eq!(
            d.on(Event::Contact(Contact::Closed), at(t0, 2.0)),
            [Strike(super::Strike::Locked)]
        );
        assert_eq!(d.next_deadline(), None);
    }

    #[test]
    fn opening_while_locked_is_forced_until_closed() {
        let (mut d, t0) = door();
        d.on(Event::Contact(Contact::Closed), t0);
        assert_eq!(
            d.on(Event::Contact(Contact::Open), at(t0, 1.0)),
            [Raise(Alarm::DoorForced)]
        );
        assert_eq!(
            d.on(Event::Tick, at(t0, 100.0)),
            [],
            "a forced door is not also held open"
        );
        assert_eq!(
            d.on(Event::Contact(Contact::Closed), at(t0, 101.0)),
            [Clear(Alarm::DoorForced)]
        );
    }

    #[test]
    fn the_exit_button_makes_an_opening_legitimate() {
        let (mut d, t0) = door();
        d.on(Event::Contact(Contact::Closed), t0);
        assert_eq!(
            d.on(Event::ExitButton, t0),
            [Strike(super::Strike::Unlocked)]
        );
        assert_eq!(d.on(Event::Contact(Contact::Open), at(t0, 0.5)), []);
    }

    #[test]
    fn held_open_fires_after_the_limit_and_clears_on_close() {
        let (mut d, t0) = door();
        d.on(Event::Contact(Contact::Closed), t0);
        d.on(Event::Grant, t0);
        d.on(Event::Contact(Contact::Open), at(t0, 1.0));
        assert_eq!(
            d.on(Event::Tick, at(t0, 5.0)),
            [Strike(super::Strike::Locked)],
            "relocks while still open"
        );
        assert_eq!(d.next_deadline(), Some(at(t0, 31.0)));
        assert_eq!(d.on(Event::Tick, at(t0, 30.9)), []);
        assert_eq!(
            d.on(Event::Tick, at(t0, 31.0)),
            [Raise(Alarm::DoorHeldOpen)]
        );
        assert_eq!(d.next_deadline(), None, "raised once");
        assert_eq!(
            d.on(Event::Contact(Contact::Closed), at(t0, 40.0)),
            [Clear(Alarm::DoorHeldOpen)]
        );
    }

    #[test]
    fn a_door_found_open_at_start_is_not_forced_but_is_timed() {
        let (mut d, t0) = door();
        assert_eq!(d.on(Event::Contact(Contact::Open), t0), []);
        assert_eq!(
            d.on(Event::Tick, at(t0, 30.0)),
            [Raise(Alarm::DoorHeldOpen)]
        );
    }

    #[test]
    fn repeated_contact_reports_change_nothing() {
        let (mut d, t0) = door();
        d.on(Event::Contact(Contact::Closed), t0);
        d.on(Event::Contact(Contact::Open), at(t0, 1.0));
        assert_eq!(d.on(Event::Contact(Contact::Open), at(t0, 2.0)), []);
    }
}
