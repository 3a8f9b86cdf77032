//! A PIN being typed on a reader after a good card: the keys so far, the deadline, and the
//! API caller still waiting for the outcome. Pure: keys in, a PIN out when `#` is pressed.

use std::sync::Arc;

use tokio::time::Instant;

use crate::decision::Decision;
use crate::model::Credential;
use crate::pin::MAX_DIGITS;
use crate::reader::TapReply;

pub struct PinEntry {
    pub credential: Credential,
    /// The card's own decision (a grant), which the PIN confirms.
    pub decision: Decision,
    pub hash: Arc<str>,
    pub deadline: Instant,
    pub reply: Option<TapReply>,
    typed: String,
}

impl PinEntry {
    pub fn new(
        credential: Credential,
        decision: Decision,
        hash: Arc<str>,
        deadline: Instant,
        reply: Option<TapReply>,
    ) -> Self {
        PinEntry {
            credential,
            decision,
            hash,
            deadline,
            reply,
            typed: String::new(),
        }
    }

    /// Takes keys as they come: digits accumulate, `*` starts again, `#` submits. Returns
    /// the PIN once submitted. Typing past the longest PIN keeps only a marker that can
    /// never verify, so a long run of keys is one wrong PIN, not a buffer to grow.
    pub fn keys(&mut self, keys: &str) -> Option<String> {
        for k in keys.chars() {
            match k {
                '0'..='9' if self.typed.len() <= MAX_DIGITS => self.typed.push(k),
                '0'..='9' => {}
                '*' => self.typed.clear(),
                '#' => return Some(std::mem::take(&mut self.typed)),
                _ => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Technology;

    fn entry() -> PinEntry {
        let c = Credential::parse_hex(Technology::Iso14443, "01").unwrap();
        PinEntry::new(
            c,
            Decision::refused(crate::decision::Reason::PinRequired),
            Arc::from("h"),
            Instant::now(),
            None,
        )
    }

    #[test]
    fn digits_then_hash_submit() {
        let mut e = entry();
        assert_eq!(e.keys("12"), None);
        assert_eq!(e.keys("34#"), Some("1234".into()));
    }

    #[test]
    fn star_clears() {
        let mut e = entry();
        e.keys("99*");
        assert_eq!(e.keys("4821#"), Some("4821".into()));
    }

    #[test]
    fn too_many_digits_cannot_be_a_valid_pin() {
        let mut e = entry();
        let pin = e.keys(&format!("{}#", "1".repeat(50))).unwrap();
        assert_eq!(pin.len(), MAX_DIGITS + 1);
        assert!(crate::pin::validate(&pin).is_err());
    }

    #[test]
    fn other_keys_are_ignored() {
        let mut e = entry();
        assert_eq!(e.keys("1a2\u{7}3 4#"), Some("1234".into()));
    }
}
