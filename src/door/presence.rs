//! Who is inside one door, and the two rules that depend on it: anti-passback and the escort
//! rule for visitor badges. Pure: decisions, directions and `now` in; decisions and alarm
//! changes out.
//!
//! The controller keeps this in memory and rebuilds it at start from the register (each
//! person's last granted tap at the door, `store::presence`), rather than asking the
//! database on every tap: the door decides without a database round trip, and the register,
//! written before every unlock, is already the durable record of each entry and exit, so a
//! restart forgets nobody who is inside.
//!
//! - Escort rule (procedure 4: a visitor is always supervised): a visitor badge enters only if
//!   its escort's own card was granted an entry at this door at most `window` before it.
//!   Exits are never refused by this rule or by anti-passback: nobody is locked in.
//! - An escort who exits while their visitor is still inside raises `escort_left` once the
//!   visitor has not followed within `window` (so a pair leaving together, in either order,
//!   raises nothing). It clears when no visitor is left inside without their escort.
//! - Anti-passback: an entry by someone already counted inside is refused (`enforce`),
//!   let in with the warning `anti_passback` (`log`), or ignored (`off`).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::time::Instant;

use crate::config::AntiPassback;
use crate::decision::{Decision, Reason};
use crate::model::{CredentialId, Direction, PersonId};

/// One person counted inside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Inside {
    pub person_id: PersonId,
    /// The card they entered with.
    pub credential_id: Option<CredentialId>,
    /// Their last granted entry.
    pub since: DateTime<Utc>,
    /// For a visitor: the escort they must stay with.
    pub escort: Option<PersonId>,
}

#[derive(Debug, Default)]
pub struct Presence {
    mode: AntiPassback,
    window: Duration,
    inside: HashMap<PersonId, Inside>,
    /// Entry grants of the last `window`, oldest first: the escorts a visitor may follow.
    recent: Vec<(PersonId, Instant)>,
    /// Visitors inside whose escort went out, and when their grace ends.
    unescorted: Vec<(PersonId, Instant)>,
    alarm: bool,
    /// Counts changes to who is inside, so the list is copied out only when it changed.
    version: u64,
}

impl Presence {
    /// `inside`: who the register says is inside. A visitor among them whose escort is not
    /// gets the usual grace from `now`, then the alarm.
    pub fn new(
        mode: AntiPassback,
        window: Duration,
        inside: impl IntoIterator<Item = Inside>,
        now: Instant,
    ) -> Presence {
        let inside: HashMap<PersonId, Inside> =
            inside.into_iter().map(|i| (i.person_id, i)).collect();
        let unescorted = inside
            .values()
            .filter(|v| v.escort.is_some_and(|e| !inside.contains_key(&e)))
            .map(|v| (v.person_id, now + window))
            .collect();
        Presence {
            mode,
            window,
            inside,
            recent: Vec::new(),
            unescorted,
            alarm: false,
            version: 0,
        }
    }

    /// Applies the door's rules to a grant the access list gave; a refusal passes unchanged.
    /// Allocation-free: it runs before the register line is written.
    pub fn admit(&self, decision: Decision, direction: Direction, now: Instant) -> Decision {
        let Decision::Granted {
            credential_id,
            person_id,
            escort,
            ..
        } = decision
        else {
            return decision;
        };
        if direction == Direction::Out {
            return decision;
        }
        let refuse = |reason| Decision::Refused {
            reason,
            credential_id: Some(credential_id),
            person_id: Some(person_id),
        };
        if let Some(escort) = escort
            && !self
                .recent
                .iter()
                .any(|(p, t)| *p == escort && now.saturating_duration_since(*t) <= self.window)
        {
            return refuse(Reason::NoEscort);
        }
        if !self.inside.contains_key(&person_id) {
            return decision;
        }
        let mut decision = decision;
        match self.mode {
            AntiPassback::Off => {}
            AntiPassback::Enforce => return refuse(Reason::AntiPassback),
            AntiPassback::Log => {
                if let Decision::Granted { warning, .. } = &mut decision {
                    *warning = Some(Reason::AntiPassback);
                }
            }
        }
        decision
    }

    /// Counts a grant that went through (its line is on disk). Returns the escort alarm's
    /// change, if any: `Some(true)` raise, `Some(false)` clear.
    pub fn passed(
        &mut self,
        decision: &Decision,
        direction: Direction,
        at: DateTime<Utc>,
        now: Instant,
    ) -> Option<bool> {
        let &Decision::Granted {
            credential_id,
            person_id,
            escort,
            ..
        } = decision
        else {
            return None;
        };
        self.version += 1;
        match direction {
            Direction::In => {
                self.inside.insert(
                    person_id,
                    Inside {
                        person_id,
                        credential_id: Some(credential_id),
                        since: at,
                        escort,
                    },
                );
                let window = self.window;
                self.recent
                    .retain(|(_, t)| now.saturating_duration_since(*t) <= window);
                self.recent.push((person_id, now));
                // Their escort is back with them (or this is the visitor, escorted).
                let inside = &self.inside;
                self.unescorted.retain(|(v, _)| {
                    *v != person_id && inside.get(v).and_then(|i| i.escort) != Some(person_id)
                });
            }
            Direction::Out => {
                self.inside.remove(&person_id);
                self.unescorted.retain(|(v, _)| *v != person_id);
                let grace = now + self.window;
                for visitor in self.inside.values() {
                    if visitor.escort == Some(person_id)
                        && !self.unescorted.iter().any(|(v, _)| *v == visitor.person_id)
                    {
                        self.unescorted.push((visitor.person_id, grace));
                    }
                }
            }
        }
        self.evaluate(now)
    }

    /// The desk took a visitor's badge back: whatever the readers saw, they are outside.
    pub fn left(&mut self, person: PersonId, now: Instant) -> Option<bool> {
        if self.inside.remove(&person).is_some() {
            self.version += 1;
        }
        self.unescorted.retain(|(v, _)| *v != person);
        self.evaluate(now)
    }

    /// A deadline from [`Presence::next_deadline`] passed.
    pub fn tick(&mut self, now: Instant) -> Option<bool> {
        self.evaluate(now)
    }

    /// When a visitor's grace ends, while the alarm is not already raised.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.alarm {
            return None;
        }
        self.unescorted.iter().map(|(_, t)| *t).min()
    }

    pub fn alarm(&self) -> bool {
        self.alarm
    }

    /// Changes with every change to who is inside.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Everyone inside, longest inside first.
    pub fn list(&self) -> Vec<Inside> {
        let mut out: Vec<Inside> = self.inside.values().cloned().collect();
        out.sort_by_key(|i| (i.since, i.person_id));
        out
    }

    fn evaluate(&mut self, now: Instant) -> Option<bool> {
        let on = self.unescorted.iter().any(|(_, t)| *t <= now);
        (on != self.alarm).then(|| {
            self.alarm = on;
            on
        })
    }
}

#[cfg(test)]
mod tests;
