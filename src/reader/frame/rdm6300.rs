//! RDM6300-style 125 kHz EM4100 modules (9600 8N1, sending unasked).
//!
//! A frame is `0x02`, ten ASCII hex digits (the five tag bytes: version/customer byte, then
//! the 32-bit ID), two ASCII hex digits of checksum (the XOR of the five bytes), `0x03`.
//! The module repeats the frame while a tag is held; this parser reports every frame and
//! leaves debouncing to the door controller.

use crate::model::{Credential, CredentialError, Technology};

use super::CardDecoder;
use super::line::hex_value;

pub const STX: u8 = 0x02;
pub const ETX: u8 = 0x03;
/// Hex digits between STX and ETX: five data bytes and the checksum byte.
const DIGITS: usize = 12;

/// A frame that started but is not a tag read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rdm6300Error {
    #[error("frame cut short by a new start byte after {0} digits")]
    Truncated(usize),
    #[error("byte {0:#04x} inside a frame is not a hex digit")]
    NotHex(u8),
    #[error("byte {0:#04x} where the end byte 0x03 was expected")]
    MissingEnd(u8),
    #[error("checksum of tag {tag} is {got:#04x}, expected {expected:#04x}")]
    BadChecksum { tag: String, expected: u8, got: u8 },
    #[error(transparent)]
    Credential(#[from] CredentialError),
}

/// Incremental RDM6300 decoder. Bytes outside a frame are ignored; a start byte always
/// begins a new frame, so a cut-off frame never hides the next one.
#[derive(Debug, Clone, Default)]
pub struct Rdm6300Decoder {
    in_frame: bool,
    digits: [u8; DIGITS],
    len: usize,
}

impl CardDecoder for Rdm6300Decoder {
    type Error = Rdm6300Error;

    fn push(&mut self, byte: u8) -> Option<Result<Credential, Rdm6300Error>> {
        if byte == STX {
            let cut = std::mem::replace(&mut self.in_frame, true);
            let len = std::mem::take(&mut self.len);
            return (cut && len > 0).then_some(Err(Rdm6300Error::Truncated(len)));
        }
        if !self.in_frame {
            return None;
        }
        if let Some(slot) = self.digits.get_mut(self.len) {
            return match hex_value(byte) {
                Some(nibble) => {
                    *slot = nibble;
                    self.len += 1;
                    None
                }
                None => {
                    self.reset();
                    Some(Err(Rdm6300Error::NotHex(byte)))
                }
            };
        }
        self.reset();
        if byte != ETX {
            return Some(Err(Rdm6300Error::MissingEnd(byte)));
        }
        Some(self.frame())
    }
}

impl Rdm6300Decoder {
    fn reset(&mut self) {
        self.in_frame = false;
        self.len = 0;
    }

    fn frame(&self) -> Result<Credential, Rdm6300Error> {
        let mut bytes = [0u8; DIGITS / 2];
        for (byte, pair) in bytes.iter_mut().zip(self.digits.chunks_exact(2)) {
            *byte = (pair[0] << 4) | pair[1];
        }
        let (tag, checksum) = bytes.split_at(5);
        let expected = tag.iter().fold(0, |acc, b| acc ^ b);
        let got = checksum.first().copied().unwrap_or_default();
        if expected != got {
            return Err(Rdm6300Error::BadChecksum {
                tag: hex::encode_upper(tag),
                expected,
                got,
            });
        }
        Ok(Credential::new(Technology::Em4100, tag)?)
    }
}

/// Builds the frame a module sends for `tag`, for tests and the fake reader.
#[cfg(test)]
pub(crate) fn encode(tag: [u8; 5]) -> Vec<u8> {
    let checksum = tag.iter().fold(0, |acc, b| acc ^ b);
    let mut frame = vec![STX];
    frame.extend_from_slice(hex::encode_upper(tag).as_bytes());
    frame.extend_from_slice(format!("{checksum:02X}").as_bytes());
    frame.push(ETX);
    frame
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(input: &[u8]) -> Vec<Result<Credential, Rdm6300Error>> {
        let mut d = Rdm6300Decoder::default();
        input.iter().filter_map(|&b| d.push(b)).collect()
    }

    fn em(hex: &str) -> Credential {
        Credential::parse_hex(Technology::Em4100, hex).unwrap()
    }

    #[test]
    fn decodes_a_known_frame() {
        // 0x0F ^ 0x00 ^ 0x27 ^ 0x6A ^ 0x4B = 0x09
        let got = decode_all(b"\x020F00276A4B09\x03");
        assert_eq!(got, vec![Ok(em("0F00276A4B"))]);
    }

    #[test]
    fn docs_credentials_worked_example_holds() {
        assert_eq!(
            encode([0x0A, 0x1B, 0x2C, 0x3D, 0x4E]),
            b"\x020A1B2C3D4E4E\x03"
        );
        assert_eq!(
            decode_all(b"\x020A1B2C3D4E4E\x03"),
            vec![Ok(em("0A1B2C3D4E"))]
        );
    }

    #[test]
    fn lowercase_digits_are_accepted() {
        assert_eq!(
            decode_all(b"\x020f00276a4b09\x03"),
            vec![Ok(em("0F00276A4B"))]
        );
    }

    #[test]
    fn repeated_frames_are_each_reported() {
        let mut input = encode([1, 2, 3, 4, 5]);
        input.extend(encode([1, 2, 3, 4, 5]));
        assert_eq!(decode_all(&input), vec![Ok(em("0102030405")); 2]);
    }

    #[test]
    fn bad_checksum_is_an_error_not_a_card() {
        let got = decode_all(b"\x020F00276A4B00\x03");
        assert_eq!(
            got,
            vec![Err(Rdm6300Error::BadChecksum {
                tag: "0F00276A4B".into(),
                expected: 0x09,
                got: 0x00
            })]
        );
    }

    #[test]
    fn broken_frames_resynchronise() {
        let mut input = b"noise\x020F00\x02".to_vec(); // cut short by the next frame
        input.extend(b"\x020F00Z");
        input.extend(b"\x020F00276A4B09X"); // no end byte
        input.extend(encode([0xAA, 0xBB, 0xCC, 0xDD, 0xEE]));
        let got = decode_all(&input);
        assert_eq!(
            got,
            vec![
                Err(Rdm6300Error::Truncated(4)),
                Err(Rdm6300Error::NotHex(b'Z')),
                Err(Rdm6300Error::MissingEnd(b'X')),
                Ok(em("AABBCCDDEE")),
            ]
        );
    }

    #[test]
    fn a_frame_split_anywhere_decodes_the_same() {
        let frame = encode([0x12, 0x34, 0x56, 0x78, 0x9A]);
        for cut in 0..frame.len() {
            let mut d = Rdm6300Decoder::default();
            let mut got: Vec<_> = frame[..cut].iter().filter_map(|&b| d.push(b)).collect();
            got.extend(frame[cut..].iter().filter_map(|&b| d.push(b)));
            assert_eq!(got, vec![Ok(em("123456789A"))], "cut at {cut}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode_all(&input);
        }

        #[test]
        fn frames_in_garbage_are_found(
            before in proptest::collection::vec(any::<u8>(), 0..100),
            after in proptest::collection::vec(any::<u8>(), 0..100),
            tag in any::<[u8; 5]>(),
        ) {
            let mut input = before;
            input.extend(encode(tag));
            input.extend(after);
            let want = Credential::new(Technology::Em4100, &tag).unwrap();
            let got = decode_all(&input);
            prop_assert!(got.contains(&Ok(want)), "{got:?}");
        }

        #[test]
        fn encode_then_decode_round_trips(tag in any::<[u8; 5]>()) {
            let want = Credential::new(Technology::Em4100, &tag).unwrap();
            prop_assert_eq!(decode_all(&encode(tag)), vec![Ok(want)]);
        }
    }
}
