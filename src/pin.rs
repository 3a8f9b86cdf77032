//! PINs for card + PIN doors: validated, hashed with argon2, and guarded by a lockout after
//! repeated wrong PINs.
//!
//! A PIN is short by nature (4–8 digits), so a stolen database could still be searched
//! offline despite argon2; the PIN is a second factor on top of the card, and the lockout is
//! what stops guessing at the door.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use tokio::time::Instant;

use crate::model::PersonId;

pub const MIN_DIGITS: usize = 4;
pub const MAX_DIGITS: usize = 8;

/// A PIN is 4 to 8 decimal digits.
pub fn validate(pin: &str) -> Result<(), String> {
    if (MIN_DIGITS..=MAX_DIGITS).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("a PIN is {MIN_DIGITS} to {MAX_DIGITS} digits"))
    }
}

/// The PHC string stored for a PIN (argon2id, random salt).
pub fn hash(pin: &str) -> Result<String, String> {
    validate(pin)?;
    Argon2::default()
        .hash_password(pin.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the PIN: {e}"))
}

/// Whether `pin` matches `hash`. Deliberately slow (argon2): call it off the async threads.
pub fn verify(hash: &str, pin: &str) -> bool {
    validate(pin).is_ok()
        && Argon2::default()
            .verify_password(pin.as_bytes(), hash)
            .is_ok()
}

/// Wrong-PIN counting per person, shared by every door: guessing at one door counts at all.
/// Kept in memory; a restart of the daemon clears it (restarting needs the box itself).
pub struct Lockout {
    attempts: u32,
    duration: Duration,
    failures: Mutex<HashMap<PersonId, Failures>>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Failures {
    count: u32,
    locked_until: Option<Instant>,
}

impl Lockout {
    pub fn new(attempts: u32, duration: Duration) -> Self {
        Lockout {
            attempts: attempts.max(1),
            duration,
            failures: Mutex::new(HashMap::new()),
        }
    }

    pub fn is_locked(&self, person: PersonId, now: Instant) -> bool {
        self.with(|f| {
            f.get(&person)
                .and_then(|x| x.locked_until)
                .is_some_and(|until| now < until)
        })
    }

    /// Counts a wrong PIN; returns whether the person is now locked out.
    pub fn failed(&self, person: PersonId, now: Instant) -> bool {
        self.with(|f| {
            let entry = f.entry(person).or_default();
            if entry.locked_until.is_some_and(|until| now >= until) {
                *entry = Failures::default();
            }
            entry.count += 1;
            if entry.count >= self.attempts {
                entry.locked_until = Some(now + self.duration);
                true
            } else {
                false
            }
        })
    }

    pub fn succeeded(&self, person: PersonId) {
        self.with(|f| f.remove(&person));
    }

    fn with<R>(&self, f: impl FnOnce(&mut HashMap<PersonId, Failures>) -> R) -> R {
        // A poisoned lock only means another door panicked mid-update; the counts are still
        // usable, and failing open here would disable the lockout.
        let mut guard = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_four_to_eight_digits() {
        for ok in ["1234", "12345678", "0000"] {
            assert!(validate(ok).is_ok(), "{ok}");
        }
        for bad in ["123", "123456789", "12a4", "", "12 34", "١٢٣٤"] {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_hash_verifies_only_its_pin_and_never_contains_it() {
        let h = hash("4821").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(!h.contains("4821"));
        assert!(verify(&h, "4821"));
        assert!(!verify(&h, "4822"));
        assert!(!verify("not a hash", "4821"));
        assert_ne!(hash("4821").unwrap(), h, "salted");
    }

    #[test]
    fn lockout_after_attempts_for_its_duration() {
        let l = Lockout::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(!l.failed(7, t0));
        assert!(!l.failed(7, t0));
        assert!(!l.is_locked(7, t0));
        assert!(l.failed(7, t0), "the third wrong PIN locks");
        assert!(l.is_locked(7, t0 + Duration::from_secs(59)));
        assert!(!l.is_locked(8, t0), "per person");
        assert!(!l.is_locked(7, t0 + Duration::from_secs(60)));
        assert!(
            !l.failed(7, t0 + Duration::from_secs(61)),
            "counting starts again after a lockout"
        );
    }

    #[test]
    fn a_right_pin_clears_the_count() {
        let l = Lockout::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        l.failed(7, t0);
        l.failed(7, t0);
        l.succeeded(7);
        assert!(!l.failed(7, t0));
        assert!(!l.failed(7, t0));
    }
}
