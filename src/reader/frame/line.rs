//! One card UID per line, in hex: keyboard-wedge style converters that print what a card
//! carries (`04A1B2C3`, `04:a1:b2:c3`, `04-A1-B2-C3`), ending each line in CR, LF or CRLF.
//! The technology is not in the data, so it comes from the configuration.
//!
//! Decimal is deliberately not accepted: a decimal line is ambiguous (which bytes, which
//! byte order?) and would give a different credential for the same card than every other
//! reader; such converters should be configured as `wiegand-ascii` or switched to hex.

use crate::model::{Credential, CredentialError, Technology};

use super::CardDecoder;

/// Longest line kept. Real lines are at most 47 characters (16 bytes with separators); a
/// longer one is noise or the wrong protocol, reported once at its end and skipped.
pub const MAX_LINE: usize = 64;

/// Splits a byte stream into lines ending in CR, LF or CRLF, in a fixed buffer. Empty
/// lines (such as the LF of a CRLF) are not reported.
#[derive(Debug, Clone)]
pub(crate) struct LineBuffer {
    buf: [u8; MAX_LINE],
    len: usize,
    overflowed: bool,
}

/// A line did not fit in [`MAX_LINE`] bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineTooLong;

impl Default for LineBuffer {
    fn default() -> Self {
        LineBuffer {
            buf: [0; MAX_LINE],
            len: 0,
            overflowed: false,
        }
    }
}

impl LineBuffer {
    pub(crate) fn push(&mut self, byte: u8) -> Option<Result<&[u8], LineTooLong>> {
        if matches!(byte, b'\r' | b'\n') {
            let len = std::mem::take(&mut self.len);
            if std::mem::take(&mut self.overflowed) {
                return Some(Err(LineTooLong));
            }
            return (len > 0).then(|| Ok(&self.buf[..len]));
        }
        if self.overflowed {
            return None;
        }
        match self.buf.get_mut(self.len) {
            Some(slot) => {
                *slot = byte;
                self.len += 1;
            }
            None => self.overflowed = true,
        }
        None
    }
}

/// A line that is not a UID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("line longer than {MAX_LINE} bytes")]
    TooLong,
    #[error("line {0:?} is not a hex UID (an even number of hex digits, ':', '-' or ' ' between)")]
    NotHex(String),
    #[error("line {line:?}: {source}")]
    Credential {
        line: String,
        source: CredentialError,
    },
}

/// Decodes hex-UID lines into credentials of one technology.
#[derive(Debug, Clone)]
pub struct LineDecoder {
    technology: Technology,
    lines: LineBuffer,
}

impl LineDecoder {
    pub fn new(technology: Technology) -> Self {
        LineDecoder {
            technology,
            lines: LineBuffer::default(),
        }
    }
}

impl CardDecoder for LineDecoder {
    type Error = LineError;

    fn push(&mut self, byte: u8) -> Option<Result<Credential, LineError>> {
        let technology = self.technology;
        match self.lines.push(byte)? {
            Err(LineTooLong) => Some(Err(LineError::TooLong)),
            Ok(line) => parse_line(technology, line),
        }
    }
}

/// Parses one line without its terminator; `None` for a blank line.
pub fn parse_line(technology: Technology, line: &[u8]) -> Option<Result<Credential, LineError>> {
    let line = line.trim_ascii();
    if line.is_empty() {
        return None;
    }
    let text = || String::from_utf8_lossy(line).into_owned();
    let mut bytes = [0u8; Credential::MAX_LEN + 1];
    let mut digits = 0usize;
    for &c in line {
        if matches!(c, b':' | b'-' | b' ') {
            continue;
        }
        let Some(nibble) = hex_value(c) else {
            return Some(Err(LineError::NotHex(text())));
        };
        // One spare byte lets an over-long UID reach `Credential::new`, which names the limit.
        let Some(slot) = bytes.get_mut(digits / 2) else {
            let got = line.iter().filter(|c| hex_value(**c).is_some()).count() / 2;
            let source = CredentialError::TooLong { got };
            return Some(Err(LineError::Credential {
                line: text(),
                source,
            }));
        };
        *slot = (*slot << 4) | nibble;
        digits += 1;
    }
    if !digits.is_multiple_of(2) {
        return Some(Err(LineError::NotHex(text())));
    }
    Some(
        Credential::new(technology, &bytes[..digits / 2]).map_err(|source| LineError::Credential {
            line: text(),
            source,
        }),
    )
}

/// The value of one ASCII hex digit, either case.
pub(crate) fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(technology: Technology, input: &[u8]) -> Vec<Result<Credential, LineError>> {
        let mut d = LineDecoder::new(technology);
        input.iter().filter_map(|&b| d.push(b)).collect()
    }

    fn iso(hex: &str) -> Credential {
        Credential::parse_hex(Technology::Iso14443, hex).unwrap()
    }

    #[test]
    fn accepts_separators_case_and_every_terminator() {
        let got = decode_all(
            Technology::Iso14443,
            b"04A1B2C3\r\n04:a1:b2:c3\n04-A1-B2-C3\r  04 a1 b2 c3 \r\n",
        );
        assert_eq!(got, vec![Ok(iso("04A1B2C3")); 4]);
    }

    #[test]
    fn technology_comes_from_the_configuration() {
        let got = decode_all(Technology::Em4100, b"0102030405\n");
        let want = Credential::parse_hex(Technology::Em4100, "0102030405").unwrap();
        assert_eq!(got, vec![Ok(want)]);
    }

    #[test]
    fn blank_lines_are_nothing_and_bad_lines_are_errors() {
        let got = decode_all(Technology::Iso14443, b"\r\n\n   \nhello\nABC\n04A1B2C3\n");
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(matches!(&got[0], Err(LineError::NotHex(l)) if l == "hello"));
        assert!(matches!(&got[1], Err(LineError::NotHex(l)) if l == "ABC"));
        assert_eq!(got[2], Ok(iso("04A1B2C3")));
    }

    #[test]
    fn separators_only_is_not_a_uid() {
        let got = decode_all(Technology::Iso14443, b"::--\n");
        assert!(
            matches!(
                &got[..],
                [Err(LineError::Credential {
                    source: CredentialError::Empty,
                    ..
                })]
            ),
            "{got:?}"
        );
    }

    #[test]
    fn too_long_uids_and_lines_are_refused_then_reading_resumes() {
        let long_uid = format!("{}\n04A1B2C3\n", "00".repeat(17));
        let got = decode_all(Technology::Iso14443, long_uid.as_bytes());
        assert!(
            matches!(
                &got[0],
                Err(LineError::Credential {
                    source: CredentialError::TooLong { got: 17 },
                    ..
                })
            ),
            "{got:?}"
        );
        assert_eq!(got[1], Ok(iso("04A1B2C3")));

        let long_line = format!("{}\n04A1B2C3\n", "x".repeat(500));
        let got = decode_all(Technology::Iso14443, long_line.as_bytes());
        assert_eq!(got, vec![Err(LineError::TooLong), Ok(iso("04A1B2C3"))]);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode_all(Technology::Iso14443, &input);
        }

        #[test]
        fn uids_between_garbage_lines_are_found(
            garbage in proptest::collection::vec(any::<u8>(), 0..200),
            uid in proptest::collection::vec(any::<u8>(), 1..=16),
            sep in prop::sample::select(vec!["", ":", "-", " "]),
        ) {
            let want = Credential::new(Technology::Iso14443, &uid).unwrap();
            let line = uid.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(sep);
            let mut input = garbage.clone();
            input.extend_from_slice(b"\r\n");
            input.extend_from_slice(line.as_bytes());
            input.extend_from_slice(b"\r\n");
            input.extend_from_slice(&garbage);
            let got = decode_all(Technology::Iso14443, &input);
            prop_assert!(got.contains(&Ok(want)), "{got:?}");
        }
    }
}
