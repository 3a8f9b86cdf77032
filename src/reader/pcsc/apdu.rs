//! The one APDU exchange the driver needs, as a pure function over bytes: GET UID
//! (PC/SC part 3, `FF CA 00 00 00`), answered by the reader itself on behalf of a
//! contactless card. Kept apart from the driver so every answer can be tested without a
//! reader.

use crate::model::{Credential, Technology};

/// GET DATA, P1 = 00 (UID), Le = 00 (all bytes).
pub const GET_UID: [u8; 5] = [0xFF, 0xCA, 0x00, 0x00, 0x00];

/// What a GET UID answer means for the door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UidAnswer {
    Uid(Credential),
    /// The card or reader answered with a status word instead of a UID. The reason is
    /// shown on the refusal, so it names the status word.
    Refused(String),
    /// Fewer than two bytes came back: the exchange broke (vpcd answers nothing when the
    /// card vanished mid-APDU), so this is a failed read, not an answer.
    Truncated(usize),
}

/// Interprets the response APDU (data followed by SW1 SW2).
pub fn parse_get_uid(response: &[u8]) -> UidAnswer {
    let Some((&[sw1, sw2], data)) = response
        .split_last_chunk::<2>()
        .map(|(data, sw)| (sw, data))
    else {
        return UidAnswer::Truncated(response.len());
    };
    match (sw1, sw2) {
        (0x90, 0x00) => match Credential::new(Technology::Iso14443, data) {
            Ok(credential) => UidAnswer::Uid(credential),
            Err(e) => UidAnswer::Refused(format!("card UID unusable: {e}")),
        },
        // "Function not supported", "instruction not supported", "class not supported":
        // the card (or its reader) cannot report a UID at all, e.g. a random-UID card.
        (0x6A, 0x81) | (0x6D, 0x00) | (0x6E, 0x00) => UidAnswer::Refused(format!(
            "card does not support GET UID ({sw1:02X} {sw2:02X})"
        )),
        _ => UidAnswer::Refused(format!("card refused GET UID ({sw1:02X} {sw2:02X})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uid_with_9000_is_a_credential() {
        let answer = parse_get_uid(&[0x04, 0xA1, 0xB2, 0xC3, 0x90, 0x00]);
        let expected = Credential::new(Technology::Iso14443, &[0x04, 0xA1, 0xB2, 0xC3]);
        assert_eq!(Ok(answer), expected.map(UidAnswer::Uid));
    }

    #[test]
    fn function_not_supported_is_a_distinct_refusal() {
        assert_eq!(
            parse_get_uid(&[0x6A, 0x81]),
            UidAnswer::Refused("card does not support GET UID (6A 81)".into())
        );
    }

    #[test]
    fn other_status_words_are_named() {
        assert_eq!(
            parse_get_uid(&[0x63, 0x00]),
            UidAnswer::Refused("card refused GET UID (63 00)".into())
        );
    }

    #[test]
    fn empty_and_oversized_uids_are_refused() {
        assert!(matches!(
            parse_get_uid(&[0x90, 0x00]),
            UidAnswer::Refused(_)
        ));
        let mut long = vec![0x11; 17];
        long.extend([0x90, 0x00]);
        assert!(matches!(parse_get_uid(&long), UidAnswer::Refused(_)));
    }

    #[test]
    fn short_answers_are_failed_reads() {
        assert_eq!(parse_get_uid(&[]), UidAnswer::Truncated(0));
        assert_eq!(parse_get_uid(&[0x90]), UidAnswer::Truncated(1));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = parse_get_uid(&bytes);
        }
    }
}
