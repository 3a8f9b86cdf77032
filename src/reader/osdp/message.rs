//! OSDP commands this CP sends and replies it understands (SIA OSDP 2.2 §6-7), as plain
//! data: building a command's DATA bytes and reading a reply's DATA are pure functions.

use crate::model::{Credential, CredentialError, Technology};
use crate::reader::frame::wiegand::{self, WiegandBits};

/// Command codes.
pub mod cmd {
    pub const POLL: u8 = 0x60;
    pub const ID: u8 = 0x61;
    pub const CAP: u8 = 0x62;
    pub const LSTAT: u8 = 0x64;
    pub const OUT: u8 = 0x68;
    pub const LED: u8 = 0x69;
    pub const BUZ: u8 = 0x6A;
    pub const COMSET: u8 = 0x6E;
    pub const CHLNG: u8 = 0x76;
    pub const SCRYPT: u8 = 0x77;
    pub const KEYSET: u8 = 0x75;
}

/// osdp_OUT control codes (OSDP 2.2 Table 18) this CP sends.
pub mod out {
    /// Permanently off, ending any timed operation.
    pub const PERMANENT_OFF: u8 = 0x01;
    /// Permanently on, ending any timed operation.
    pub const PERMANENT_ON: u8 = 0x02;
    /// On for the timer, then back to the permanent state.
    pub const TEMPORARY_ON: u8 = 0x05;
    /// Off for the timer, then back to the permanent state.
    pub const TEMPORARY_OFF: u8 = 0x06;
}

/// Reply codes.
pub mod reply {
    pub const ACK: u8 = 0x40;
    pub const NAK: u8 = 0x41;
    pub const PDID: u8 = 0x45;
    pub const PDCAP: u8 = 0x46;
    pub const LSTATR: u8 = 0x48;
    pub const ISTATR: u8 = 0x49;
    pub const OSTATR: u8 = 0x4A;
    pub const RAW: u8 = 0x50;
    pub const KEYPAD: u8 = 0x53;
    pub const COM: u8 = 0x54;
    pub const CCRYPT: u8 = 0x76;
    pub const RMAC_I: u8 = 0x78;
    pub const BUSY: u8 = 0x79;
}

/// A command: its code and DATA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub code: u8,
    pub data: Vec<u8>,
}

impl Command {
    pub fn poll() -> Self {
        Command {
            code: cmd::POLL,
            data: Vec::new(),
        }
    }

    /// Asks for the PD's identity (reply PDID); the single byte is "standard report".
    pub fn id() -> Self {
        Command {
            code: cmd::ID,
            data: vec![0],
        }
    }

    /// Asks for the PD's capabilities (reply PDCAP).
    pub fn cap() -> Self {
        Command {
            code: cmd::CAP,
            data: vec![0],
        }
    }

    /// Installs `scbk` as the PD's new Secure Channel Base Key (key type 1, 16 bytes). Only
    /// ever sent over the secure channel, where the command data is encrypted.
    pub fn keyset(scbk: &super::secure::Scbk) -> Self {
        let mut data = vec![1, 16];
        data.extend_from_slice(&scbk.0);
        Command {
            code: cmd::KEYSET,
            data,
        }
    }

    pub fn local_status() -> Self {
        Command {
            code: cmd::LSTAT,
            data: Vec::new(),
        }
    }

    /// The LED's permanent (idle) state, steady in `colour`; the temporary state is left
    /// alone (control code 0).
    pub fn led_permanent(reader: u8, led: u8, colour: LedColour) -> Self {
        let on = colour as u8;
        Command {
            code: cmd::LED,
            data: vec![
                reader, led, // which LED
                0x00, 0, 0, 0, 0, 0, 0, // temporary: no change
                0x01, 10, 0, on, on, // permanent: set, steady colour
            ],
        }
    }

    /// A temporary LED state that reverts to the permanent one after `timer_100ms`; the
    /// permanent state is left alone (control code 0), so a reader's idle colour, set by
    /// its own configuration, survives our feedback.
    pub fn led_temporary(reader: u8, led: u8, colour: LedColour, timer_100ms: u16) -> Self {
        let [timer_lsb, timer_msb] = timer_100ms.to_le_bytes();
        let on = colour as u8;
        Command {
            code: cmd::LED,
            data: vec![
                reader, led, // which LED
                0x02, 10, 0, on, on, timer_lsb, timer_msb, // temporary: set, steady colour
                0x00, 0, 0, 0, 0, // permanent: no change
            ],
        }
    }

    /// Buzzer with the default tone: `on`/`off` in 100 ms units, `count` repetitions.
    pub fn buzzer(reader: u8, on_100ms: u8, off_100ms: u8, count: u8) -> Self {
        Command {
            code: cmd::BUZ,
            data: vec![reader, 0x02, on_100ms, off_100ms, count],
        }
    }

    /// Output control: `control` is one of [`out`]'s codes; `timer_100ms` only counts for
    /// the temporary ones.
    pub fn output(output: u8, control: u8, timer_100ms: u16) -> Self {
        let [lsb, msb] = timer_100ms.to_le_bytes();
        Command {
            code: cmd::OUT,
            data: vec![output, control, lsb, msb],
        }
    }

    /// Moves the PD to a new address and speed (it answers COM at the old ones first).
    pub fn comset(address: u8, baud: u32) -> Self {
        let mut data = vec![address];
        data.extend_from_slice(&baud.to_le_bytes());
        Command {
            code: cmd::COMSET,
            data,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum LedColour {
    Off = 0,
    Red = 1,
    Green = 2,
    Amber = 3,
}

/// A reply, its DATA read into fields (after decryption for SCS_18).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Ack,
    Nak(Nak),
    PdId(PdId),
    PdCap(Vec<Capability>),
    LocalStatus {
        tamper: bool,
        power: bool,
    },
    InputStatus(Vec<u8>),
    OutputStatus(Vec<u8>),
    Raw(RawCard),
    Keypad {
        reader: u8,
        keys: Keys,
    },
    Com {
        address: u8,
        baud: u32,
    },
    Ccrypt {
        cuid: [u8; 8],
        rnd_b: [u8; 8],
        cryptogram: [u8; 16],
    },
    RmacI([u8; 16]),
    Busy,
    /// A reply this CP does not act on; kept so it is logged, not treated as noise.
    Other {
        code: u8,
        data: Vec<u8>,
    },
}

/// osdp_NAK and its error code (OSDP 2.2 Table 46).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nak(pub u8);

impl Nak {
    pub const BAD_CHECK: u8 = 0x01;
    pub const BAD_LENGTH: u8 = 0x02;
    pub const UNKNOWN_COMMAND: u8 = 0x03;
    pub const BAD_SEQUENCE: u8 = 0x04;
    pub const NO_SECURE_CHANNEL: u8 = 0x05;
    pub const SECURE_REQUIRED: u8 = 0x06;
}

impl std::fmt::Display for Nak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.0 {
            Self::BAD_CHECK => "bad CRC or checksum",
            Self::BAD_LENGTH => "bad command length",
            Self::UNKNOWN_COMMAND => "unknown command",
            Self::BAD_SEQUENCE => "unexpected sequence number",
            Self::NO_SECURE_CHANNEL => "secure channel not supported",
            Self::SECURE_REQUIRED => "secure channel required",
            _ => "other error",
        };
        write!(f, "NAK {:#04x} ({what})", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdId {
    pub vendor: [u8; 3],
    pub model: u8,
    pub version: u8,
    pub serial: u32,
    pub firmware: [u8; 3],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capability {
    pub function: u8,
    pub compliance: u8,
    pub count: u8,
}

impl Capability {
    /// Function code 9: communication security; compliance 1 = AES-128 supported.
    pub const SECURE_CHANNEL: u8 = 9;
}

/// osdp_RAW: card data as the reader took it, bits left-aligned in the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCard {
    pub reader: u8,
    /// 0 = unspecified raw bits, 1 = Wiegand (parity included).
    pub format: u8,
    pub bits: u16,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("reply {code:#04x} has {got} data bytes, expected {expected}")]
    Length {
        code: u8,
        got: usize,
        expected: &'static str,
    },
}

/// Reads a reply's DATA.
pub fn parse_reply(code: u8, data: &[u8]) -> Result<Reply, ReplyError> {
    let length = |expected| ReplyError::Length {
        code,
        got: data.len(),
        expected,
    };
    let array = |range: std::ops::Range<usize>| -> [u8; 8] {
        let mut out = [0u8; 8];
        out.copy_from_slice(&data[range]);
        out
    };
    Ok(match code {
        reply::ACK => Reply::Ack,
        reply::BUSY => Reply::Busy,
        reply::NAK => Reply::Nak(Nak(*data.first().ok_or_else(|| length("at least 1"))?)),
        reply::PDID => {
            if data.len() < 12 {
                return Err(length("12"));
            }
            Reply::PdId(PdId {
                vendor: [data[0], data[1], data[2]],
                model: data[3],
                version: data[4],
                serial: u32::from_le_bytes([data[5], data[6], data[7], data[8]]),
                firmware: [data[9], data[10], data[11]],
            })
        }
        reply::PDCAP => {
            if !data.len().is_multiple_of(3) {
                return Err(length("a multiple of 3"));
            }
            Reply::PdCap(
                data.chunks_exact(3)
                    .map(|c| Capability {
                        function: c[0],
                        compliance: c[1],
                        count: c[2],
                    })
                    .collect(),
            )
        }
        reply::LSTATR => match data {
            [tamper, power, ..] => Reply::LocalStatus {
                tamper: *tamper != 0,
                power: *power != 0,
            },
            _ => return Err(length("2")),
        },
        reply::ISTATR => Reply::InputStatus(data.to_vec()),
        reply::OSTATR => Reply::OutputStatus(data.to_vec()),
        reply::RAW => {
            let [reader, format, lsb, msb, rest @ ..] = data else {
                return Err(length("at least 4"));
            };
            let bits = u16::from_le_bytes([*lsb, *msb]);
            if rest.len() != usize::from(bits).div_ceil(8) || bits == 0 {
                return Err(length("the bit count rounded up to bytes"));
            }
            Reply::Raw(RawCard {
                reader: *reader,
                format: *format,
                bits,
                data: rest.to_vec(),
            })
        }
        reply::KEYPAD => {
            let [reader, count, digits @ ..] = data else {
                return Err(length("at least 2"));
            };
            if digits.len() != usize::from(*count) {
                return Err(length("the digit count"));
            }
            Reply::Keypad {
                reader: *reader,
                keys: Keys(digits.to_vec()),
            }
        }
        reply::COM => {
            if data.len() != 5 {
                return Err(length("5"));
            }
            Reply::Com {
                address: data[0],
                baud: u32::from_le_bytes([data[1], data[2], data[3], data[4]]),
            }
        }
        reply::CCRYPT => {
            if data.len() != 32 {
                return Err(length("32"));
            }
            let mut cryptogram = [0u8; 16];
            cryptogram.copy_from_slice(&data[16..32]);
            Reply::Ccrypt {
                cuid: array(0..8),
                rnd_b: array(8..16),
                cryptogram,
            }
        }
        reply::RMAC_I => {
            if data.len() != 16 {
                return Err(length("16"));
            }
            let mut mac = [0u8; 16];
            mac.copy_from_slice(data);
            Reply::RmacI(mac)
        }
        code => Reply::Other {
            code,
            data: data.to_vec(),
        },
    })
}

/// The credential of a card read.
///
/// A Wiegand-format read of 26, 34 or 37 bits is a Wiegand frame with its parity bits:
/// parity is checked and the result is the same `wiegand` credential a Wiegand converter
/// gives for that card, so one enrolment serves both reader kinds. Every other read is an
/// `osdp-raw` credential of the bytes as sent (bit count rounded up, unused low bits zero).
pub fn card_credential(card: &RawCard) -> Result<Credential, CardError> {
    let wiegand_bits = match card.bits {
        26 => Some(WiegandBits::W26),
        34 => Some(WiegandBits::W34),
        37 => Some(WiegandBits::W37),
        _ => None,
    };
    if let (1, Some(bits)) = (card.format, wiegand_bits) {
        let frame = card
            .data
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
            >> (card.data.len() * 8 - usize::from(card.bits));
        return wiegand::decode_frame(bits, frame).map_err(|e| CardError::Wiegand(e.to_string()));
    }
    let mut bytes = card.data.clone();
    let spare = bytes.len() * 8 - usize::from(card.bits);
    if let Some(last) = bytes.last_mut() {
        *last &= 0xFF << spare;
    }
    Ok(Credential::new(Technology::OsdpRaw, &bytes)?)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("Wiegand card data refused: {0}")]
    Wiegand(String),
    #[error(transparent)]
    Credential(#[from] CredentialError),
}

/// Keys from a PD's keypad, as OSDP sends them: ASCII digits, `0x7F` for `*`, `0x0D` for `#`.
/// They may be a PIN, so `Debug` shows only how many there are.
#[derive(Clone, PartialEq, Eq)]
pub struct Keys(pub Vec<u8>);

impl Keys {
    /// The keys as Lawang's keypad events spell them (`0`–`9`, `*`, `#`); others dropped.
    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .filter_map(|&b| match b {
                b'0'..=b'9' => Some(char::from(b)),
                0x7F | b'*' => Some('*'),
                0x0D | b'#' => Some('#'),
                _ => None,
            })
            .collect()
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keys({} keys)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(format: u8, bits: u16, data: &[u8]) -> RawCard {
        RawCard {
            reader: 0,
            format,
            bits,
            data: data.to_vec(),
        }
    }

    #[test]
    fn wiegand_26_matches_the_converter_credential() {
        // Facility 123, card 45678 with parity, left-aligned in 4 bytes as OSDP sends it.
        let frame: u64 = wiegand::encode_frame(WiegandBits::W26, (123 << 16) | 45678);
        let bytes = ((frame << 6) as u32).to_be_bytes();
        let card = card_credential(&raw(1, 26, &bytes)).unwrap();
        assert_eq!(
            card,
            wiegand::from_fields(WiegandBits::W26, 123, 45678).unwrap()
        );
        let mut bad = bytes;
        bad[0] ^= 0x40;
        assert!(matches!(
            card_credential(&raw(1, 26, &bad)),
            Err(CardError::Wiegand(_))
        ));
    }

    #[test]
    fn other_reads_are_osdp_raw_with_spare_bits_cleared() {
        let card = card_credential(&raw(0, 12, &[0xAB, 0xCF])).unwrap();
        assert_eq!(
            card,
            Credential::new(Technology::OsdpRaw, &[0xAB, 0xC0]).unwrap()
        );
        let card = card_credential(&raw(1, 16, &[0x55, 0xAA])).unwrap();
        assert_eq!(card.technology(), Technology::OsdpRaw);
    }

    #[test]
    fn raw_reply_checks_its_bit_count() {
        assert_eq!(
            parse_reply(reply::RAW, &[0, 1, 26, 0, 1, 2, 3, 4]),
            Ok(Reply::Raw(raw(1, 26, &[1, 2, 3, 4])))
        );
        assert!(parse_reply(reply::RAW, &[0, 1, 26, 0, 1, 2]).is_err());
        assert!(parse_reply(reply::RAW, &[0, 1, 0, 0]).is_err());
    }

    #[test]
    fn output_and_comset_layouts() {
        assert_eq!(Command::output(0, 2, 30).data, [0, 2, 30, 0]);
        let comset = Command::comset(5, 115_200);
        assert_eq!(
            (comset.code, comset.data),
            (cmd::COMSET, vec![5, 0x00, 0xC2, 0x01, 0x00])
        );
        assert_eq!(
            parse_reply(reply::COM, &[5, 0x00, 0xC2, 0x01, 0x00]),
            Ok(Reply::Com {
                address: 5,
                baud: 115_200
            })
        );
    }

    #[test]
    fn keyset_carries_key_type_scbk_length_and_key() {
        let key = super::super::secure::Scbk([7; 16]);
        let c = Command::keyset(&key);
        assert_eq!(c.code, 0x75);
        assert_eq!(&c.data[..2], &[1, 16]);
        assert_eq!(&c.data[2..], &[7; 16]);
    }

    #[test]
    fn led_command_layout() {
        let led = Command::led_temporary(0, 0, LedColour::Green, 20);
        assert_eq!(led.data.len(), 14);
        assert_eq!(&led.data[2..9], &[2, 10, 0, 2, 2, 20, 0]);
    }
}
