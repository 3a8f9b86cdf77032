//! Card and PIN doors: whether a good card must be followed by its holder's PIN, checking
//! what is typed, and refusing entries whose time ran out.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use tokio::time::Instant;

use super::{DoorController, send};
use crate::config::PinRule;
use crate::decision::{Decision, Reason};
use crate::door::pin_entry::PinEntry;
use crate::door::presence::Presence;
use crate::model::ReaderId;
use crate::reader::ReaderEvent;

impl DoorController {
    /// Whether a good card must be followed by a PIN here, now.
    pub(super) fn pin_gate(
        &self,
        event: &ReaderEvent,
        decision: Decision,
        now: chrono::DateTime<Utc>,
    ) -> Gate {
        // Most doors never ask: no second snapshot load or zone conversion on their grants.
        if self.pin_rule == PinRule::Never {
            return Gate::Decided(decision);
        }
        let ReaderEvent::Card(credential) = event else {
            return Gate::Decided(decision);
        };
        // A visitor badge is never asked for a PIN: its escort's grant just before it, with
        // the escort's own card (and PIN), is its second factor.
        let Decision::Granted {
            person_id,
            escort: None,
            ..
        } = decision
        else {
            return Gate::Decided(decision);
        };
        let snapshot = self.access.load();
        if !self
            .pin_rule
            .required(now.with_timezone(&snapshot.timezone).naive_local())
        {
            return Gate::Decided(decision);
        }
        if self.lockout.is_locked(person_id, Instant::now()) {
            return Gate::Decided(holder_refused(&decision, Reason::PinLocked));
        }
        match snapshot.get(credential).and_then(|e| e.pin_hash.clone()) {
            Some(hash) => Gate::AskPin(decision, hash),
            None => Gate::Decided(holder_refused(&decision, Reason::PinNotSet)),
        }
    }

    /// Checks a typed PIN (argon2, off the async threads) and counts failures.
    pub(super) async fn check_pin(&self, entry: &PinEntry, pin: String) -> Decision {
        let Decision::Granted { person_id, .. } = entry.decision else {
            return entry.decision.clone();
        };
        if self.lockout.is_locked(person_id, Instant::now()) {
            return holder_refused(&entry.decision, Reason::PinLocked);
        }
        let hash = entry.hash.clone();
        let ok = tokio::task::spawn_blocking(move || crate::pin::verify(&hash, &pin))
            .await
            .unwrap_or(false);
        if ok {
            self.lockout.succeeded(person_id);
            entry.decision.clone()
        } else if self.lockout.failed(person_id, Instant::now()) {
            tracing::warn!(door = %self.name, person = person_id, "locked out after wrong PINs");
            holder_refused(&entry.decision, Reason::PinLocked)
        } else {
            holder_refused(&entry.decision, Reason::WrongPin)
        }
    }

    /// Refuses every PIN entry whose time is up.
    pub(super) async fn expire_pins(
        &self,
        pending: &mut HashMap<ReaderId, PinEntry>,
        presence: &mut Presence,
        now: Instant,
    ) {
        let expired: Vec<ReaderId> = pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(r, _)| *r)
            .collect();
        for reader in expired {
            let (Some(entry), Some(slot)) = (pending.remove(&reader), self.readers.get(&reader))
            else {
                continue;
            };
            let refused = holder_refused(&entry.decision, Reason::PinTimeout);
            let (outcome, reply) = self
                .finish(
                    slot,
                    &ReaderEvent::Card(entry.credential),
                    refused,
                    entry.reply,
                    presence,
                    None,
                )
                .await;
            send(reply.map(|r| (r, outcome)));
        }
    }
}

pub(super) enum Gate {
    Decided(Decision),
    /// The card is good; its holder's PIN hash is to be checked against what is typed.
    AskPin(Decision, Arc<str>),
}

/// A refusal that still names the card's holder (PIN refusals are about a known person).
pub(super) fn holder_refused(decision: &Decision, reason: Reason) -> Decision {
    Decision::Refused {
        reason,
        credential_id: decision.credential_id(),
        person_id: decision.person_id(),
    }
}
