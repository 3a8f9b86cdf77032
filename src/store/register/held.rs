//! Register lines held in memory while the register cannot be written (disk full, I/O
//! error), in the order they were made, until the writer can commit them.
//!
//! The queue is bounded: a grant is held only while fewer than `bound` lines wait, so the
//! door never opens for a tap whose line might not fit; past that, grants are refused
//! (`register_full`). Refusals and door events (what is recorded *because* a grant was
//! refused, or an alarm) may use a reserve of a tenth more; beyond that a line is dropped,
//! which the writer logs in full and counts.

use std::collections::VecDeque;

use crate::register::RegisterLine;

/// What became of a line offered to the queue.
#[derive(Debug, PartialEq)]
pub enum Admit {
    Held,
    /// A grant, refused: the queue is full.
    Full,
    /// Not even the reserve had room.
    Dropped(RegisterLine),
}

#[derive(Debug)]
pub struct Held {
    lines: VecDeque<RegisterLine>,
    bound: usize,
    reserve: usize,
}

impl Held {
    pub fn new(bound: usize) -> Self {
        Held {
            lines: VecDeque::new(),
            bound,
            reserve: (bound / 10).max(16),
        }
    }

    /// Appends `line` behind those already held, if its kind still has room.
    pub fn admit(&mut self, line: RegisterLine) -> Admit {
        let opens_door = line.decision().is_some_and(|d| d.is_granted());
        if opens_door && self.lines.len() >= self.bound {
            return Admit::Full;
        }
        if self.lines.len() >= self.bound + self.reserve {
            return Admit::Dropped(line);
        }
        self.lines.push_back(line);
        Admit::Held
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The oldest `n` lines (fewer if fewer are held), to be written in this order.
    pub fn oldest(&self, n: usize) -> impl Iterator<Item = &RegisterLine> {
        self.lines.iter().take(n)
    }

    /// Forgets the oldest `n` lines once they are committed.
    pub fn written(&mut self, n: usize) {
        self.lines.drain(..n.min(self.lines.len()));
    }

    /// Everything still held, oldest first (at shutdown, to log what is lost).
    pub fn drain(&mut self) -> impl Iterator<Item = RegisterLine> + '_ {
        self.lines.drain(..)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::decision::{Decision, Reason};
    use crate::door::Alarm;
    use crate::register::Event;

    fn line(event: Event, second: u32) -> RegisterLine {
        RegisterLine {
            at: Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, second).unwrap(),
            door: 1,
            reader: Some(1),
            direction: None,
            credential: None,
            event,
        }
    }

    fn grant(s: u32) -> RegisterLine {
        line(
            Event::Tap(Decision::Granted {
                credential_id: 7,
                person_id: 3,
                right_id: 1,
                escort: None,
                warning: None,
            }),
            s,
        )
    }

    fn refusal(s: u32) -> RegisterLine {
        line(Event::Tap(Decision::refused(Reason::UnknownCredential)), s)
    }

    #[test]
    fn lines_come_out_in_the_order_they_went_in() {
        let mut held = Held::new(100);
        for s in 0..5 {
            assert_eq!(
                held.admit(if s % 2 == 0 { grant(s) } else { refusal(s) }),
                Admit::Held
            );
        }
        let seconds: Vec<u32> = held
            .oldest(3)
            .map(|l| l.at.format("%S").to_string().parse().unwrap())
            .collect();
        assert_eq!(seconds, [0, 1, 2]);
        held.written(3);
        assert_eq!(held.len(), 2);
        assert_eq!(held.oldest(10).next(), Some(&refusal(3)));
        held.written(10);
        assert!(held.is_empty());
    }

    #[test]
    fn a_full_queue_refuses_grants_but_keeps_refusals_and_alarms_in_its_reserve() {
        let mut held = Held::new(20);
        for s in 0..20 {
            assert_eq!(held.admit(grant(s)), Admit::Held);
        }
        assert_eq!(held.admit(grant(20)), Admit::Full);
        // The refusal that replaces the grant, and an alarm, still fit.
        assert_eq!(held.admit(refusal(21)), Admit::Held);
        assert_eq!(
            held.admit(line(Event::AlarmRaised(Alarm::RegisterUnwritable), 22)),
            Admit::Held
        );
        for s in 23..37 {
            assert_eq!(held.admit(refusal(s)), Admit::Held);
        }
        // The reserve is used up: nothing more is held, and the line is handed back.
        assert_eq!(held.admit(refusal(40)), Admit::Dropped(refusal(40)));
        assert_eq!(held.len(), 36);
        // Once the oldest are written, grants are held again.
        held.written(17);
        assert_eq!(held.admit(grant(41)), Admit::Held);
    }

    #[test]
    fn a_bound_of_zero_refuses_every_grant_while_writing_fails() {
        let mut held = Held::new(0);
        assert_eq!(held.admit(grant(0)), Admit::Full);
        assert_eq!(held.admit(refusal(1)), Admit::Held);
    }
}
