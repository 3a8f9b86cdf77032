//! Wiegand-to-ASCII converter lines.
//!
//! A converter sits between a Wiegand reader and a serial port and prints one line per
//! card. Converters differ in what they print, so the line format is configured:
//! the whole frame with its parity bits (checked here), the data bits alone, or the
//! facility and card numbers (`123,45678`); decimal or hex; an optional fixed prefix.
//! Every form yields the same [`Credential`]: the data bits, parity removed, big-endian,
//! right-aligned in whole bytes (26 → 3 bytes, 34 → 4, 37 → 5).

use serde::{Deserialize, Serialize};

use crate::model::{Credential, CredentialError, Technology};

use super::CardDecoder;
use super::line::{LineBuffer, LineTooLong, MAX_LINE, hex_value};

/// How a Wiegand converter formats its lines (the `wiegand = { … }` table of a serial
/// reader with `protocol = "wiegand-ascii"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WiegandOptions {
    /// Frame length in bits including the two parity bits: 26 (H10301), 34 or 37 (H10304).
    pub bits: WiegandBits,
    /// What a line carries: `frame` (all bits with parity, checked), `data` (parity
    /// already removed by the converter) or `facility-card` (two numbers, `123,45678`).
    pub content: WiegandContent,
    /// `decimal` or `hex` digits on the line; hex may start with `0x`.
    pub encoding: WiegandEncoding,
    /// Text every card line starts with (such as `W26:`), removed before parsing; a line
    /// without it is an error. Empty for none.
    pub prefix: String,
}

impl Default for WiegandOptions {
    fn default() -> Self {
        WiegandOptions {
            bits: WiegandBits::W26,
            content: WiegandContent::Frame,
            encoding: WiegandEncoding::Decimal,
            prefix: String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WiegandEncoding {
    Decimal,
    Hex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WiegandContent {
    Frame,
    Data,
    FacilityCard,
}

/// A supported frame layout; written as the bit count in the configuration, so an
/// unsupported length is refused when the file is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum WiegandBits {
    /// H10301: 8-bit facility, 16-bit card.
    W26,
    /// 16-bit facility, 16-bit card.
    W34,
    /// H10304: 16-bit facility, 19-bit card.
    W37,
}

impl TryFrom<u8> for WiegandBits {
    type Error = String;

    fn try_from(bits: u8) -> Result<Self, String> {
        match bits {
            26 => Ok(WiegandBits::W26),
            34 => Ok(WiegandBits::W34),
            37 => Ok(WiegandBits::W37),
            other => Err(format!(
                "Wiegand frames of 26, 34 or 37 bits are supported, not {other}"
            )),
        }
    }
}

impl From<WiegandBits> for u8 {
    fn from(bits: WiegandBits) -> u8 {
        bits.frame_bits() as u8
    }
}

impl WiegandBits {
    pub fn frame_bits(self) -> u32 {
        self.data_bits() + 2
    }

    pub fn facility_bits(self) -> u32 {
        match self {
            WiegandBits::W26 => 8,
            WiegandBits::W34 | WiegandBits::W37 => 16,
        }
    }

    pub fn card_bits(self) -> u32 {
        match self {
            WiegandBits::W26 | WiegandBits::W34 => 16,
            WiegandBits::W37 => 19,
        }
    }

    pub fn data_bits(self) -> u32 {
        self.facility_bits() + self.card_bits()
    }

    pub fn data_bytes(self) -> usize {
        self.data_bits().div_ceil(8) as usize
    }

    /// Frame bits (0 = first sent) covered by the leading even parity bit, itself included.
    /// In H10304 the two halves share bit 18.
    fn even_span(self) -> (u32, u32) {
        match self {
            WiegandBits::W26 => (0, 12),
            WiegandBits::W34 => (0, 16),
            WiegandBits::W37 => (0, 18),
        }
    }

    /// Frame bits covered by the trailing odd parity bit, itself included.
    fn odd_span(self) -> (u32, u32) {
        let last = self.frame_bits() - 1;
        match self {
            WiegandBits::W26 => (13, last),
            WiegandBits::W34 => (17, last),
            WiegandBits::W37 => (18, last),
        }
    }
}

/// A line that is not a valid card read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WiegandError {
    #[error("line longer than {MAX_LINE} bytes")]
    TooLong,
    #[error("line {line:?} does not start with the configured prefix {prefix:?}")]
    MissingPrefix { line: String, prefix: String },
    #[error("line {line:?} is not {expected}")]
    Malformed {
        line: String,
        expected: &'static str,
    },
    #[error("{what} {value} does not fit in {bits} bits")]
    OutOfRange {
        what: &'static str,
        value: u64,
        bits: u32,
    },
    #[error("parity error in {bits}-bit frame {frame:#x}")]
    Parity { bits: u32, frame: u64 },
    #[error(transparent)]
    Credential(#[from] CredentialError),
}

/// Decodes converter lines into Wiegand credentials.
#[derive(Debug, Clone)]
pub struct WiegandDecoder {
    options: WiegandOptions,
    lines: LineBuffer,
}

impl WiegandDecoder {
    pub fn new(options: WiegandOptions) -> Self {
        WiegandDecoder {
            options,
            lines: LineBuffer::default(),
        }
    }
}

impl CardDecoder for WiegandDecoder {
    type Error = WiegandError;

    fn push(&mut self, byte: u8) -> Option<Result<Credential, WiegandError>> {
        match self.lines.push(byte)? {
            Err(LineTooLong) => Some(Err(WiegandError::TooLong)),
            Ok(line) => parse_line(&self.options, line),
        }
    }
}

/// Parses one line without its terminator; `None` for a blank line.
pub fn parse_line(
    options: &WiegandOptions,
    line: &[u8],
) -> Option<Result<Credential, WiegandError>> {
    let trimmed = line.trim_ascii();
    if trimmed.is_empty() {
        return None;
    }
    let text = || String::from_utf8_lossy(trimmed).into_owned();
    let Some(body) = trimmed.strip_prefix(options.prefix.as_bytes()) else {
        return Some(Err(WiegandError::MissingPrefix {
            line: text(),
            prefix: options.prefix.clone(),
        }));
    };
    let body = body.trim_ascii();
    let bits = options.bits;
    let malformed = |expected| WiegandError::Malformed {
        line: text(),
        expected,
    };
    let result = match options.content {
        WiegandContent::FacilityCard => {
            let mut parts = body
                .split(|c| matches!(c, b',' | b':' | b'/' | b' ' | b'\t'))
                .filter(|part| !part.is_empty());
            let expected = match options.encoding {
                WiegandEncoding::Decimal => "two decimal numbers (facility, card)",
                WiegandEncoding::Hex => "two hex numbers (facility, card)",
            };
            let number = |part: Option<&[u8]>| part.and_then(|p| parse_number(p, options.encoding));
            match (number(parts.next()), number(parts.next()), parts.next()) {
                (Some(facility), Some(card), None) => from_fields(bits, facility, card),
                _ => Err(malformed(expected)),
            }
        }
        content => match parse_number(body, options.encoding) {
            None => Err(malformed(match options.encoding {
                WiegandEncoding::Decimal => "one decimal number",
                WiegandEncoding::Hex => "one hex number",
            })),
            Some(n) if content == WiegandContent::Frame => decode_frame(bits, n),
            Some(n) => from_data(bits, n),
        },
    };
    Some(result)
}

/// Checks a whole frame (parity bits included, first bit sent most significant) and
/// returns its data bits as a credential.
pub fn decode_frame(bits: WiegandBits, frame: u64) -> Result<Credential, WiegandError> {
    let n = bits.frame_bits();
    if frame >> n != 0 {
        return Err(WiegandError::OutOfRange {
            what: "frame",
            value: frame,
            bits: n,
        });
    }
    let (even_first, even_last) = bits.even_span();
    let (odd_first, odd_last) = bits.odd_span();
    let even_ok = ones(frame, n, even_first, even_last).is_multiple_of(2);
    let odd_ok = ones(frame, n, odd_first, odd_last) % 2 == 1;
    if !(even_ok && odd_ok) {
        return Err(WiegandError::Parity { bits: n, frame });
    }
    from_data(bits, (frame >> 1) & mask(bits.data_bits()))
}

/// The credential of the data bits (parity already removed).
pub fn from_data(bits: WiegandBits, data: u64) -> Result<Credential, WiegandError> {
    let width = bits.data_bits();
    if data >> width != 0 {
        return Err(WiegandError::OutOfRange {
            what: "data",
            value: data,
            bits: width,
        });
    }
    let be = data.to_be_bytes();
    let start = be.len().saturating_sub(bits.data_bytes());
    Ok(Credential::new(Technology::Wiegand, &be[start..])?)
}

/// The credential of a facility code and card number.
pub fn from_fields(
    bits: WiegandBits,
    facility: u64,
    card: u64,
) -> Result<Credential, WiegandError> {
    for (what, value, width) in [
        ("facility", facility, bits.facility_bits()),
        ("card", card, bits.card_bits()),
    ] {
        if value >> width != 0 {
            return Err(WiegandError::OutOfRange {
                what,
                value,
                bits: width,
            });
        }
    }
    from_data(bits, (facility << bits.card_bits()) | card)
}

fn mask(width: u32) -> u64 {
    (1u64 << width) - 1
}

/// Number of set bits among frame bits `first..=last`, counted from the first bit sent.
fn ones(frame: u64, n: u32, first: u32, last: u32) -> u32 {
    let shift = n - 1 - last;
    ((frame >> shift) & mask(last - first + 1)).count_ones()
}

fn parse_number(text: &[u8], encoding: WiegandEncoding) -> Option<u64> {
    let (digits, radix) = match encoding {
        WiegandEncoding::Decimal => (text, 10),
        WiegandEncoding::Hex => (
            text.strip_prefix(b"0x")
                .or_else(|| text.strip_prefix(b"0X"))
                .unwrap_or(text),
            16,
        ),
    };
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &c| {
        let d = u64::from(hex_value(c).filter(|&d| u32::from(d) < radix)?);
        acc.checked_mul(u64::from(radix))?.checked_add(d)
    })
}

/// Adds the parity bits to `data`, as a reader would send it.
#[cfg(test)]
pub(crate) fn encode_frame(bits: WiegandBits, data: u64) -> u64 {
    let n = bits.frame_bits();
    let mut frame = data << 1;
    let (even_first, even_last) = bits.even_span();
    let (odd_first, odd_last) = bits.odd_span();
    if ones(frame, n, even_first, even_last) % 2 == 1 {
        frame |= 1 << (n - 1);
    }
    if ones(frame, n, odd_first, odd_last).is_multiple_of(2) {
        frame |= 1;
    }
    frame
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn options(bits: u8, content: WiegandContent, encoding: WiegandEncoding) -> WiegandOptions {
        WiegandOptions {
            bits: WiegandBits::try_from(bits).unwrap(),
            content,
            encoding,
            prefix: String::new(),
        }
    }

    fn decode_all(options: &WiegandOptions, input: &[u8]) -> Vec<Result<Credential, WiegandError>> {
        let mut d = WiegandDecoder::new(options.clone());
        input.iter().filter_map(|&b| d.push(b)).collect()
    }

    fn wiegand(hex: &str) -> Credential {
        Credential::parse_hex(Technology::Wiegand, hex).unwrap()
    }

    const FRAME: WiegandContent = WiegandContent::Frame;
    const DEC: WiegandEncoding = WiegandEncoding::Decimal;
    const HEX: WiegandEncoding = WiegandEncoding::Hex;

    #[test]
    fn published_26_and_34_bit_examples_decode() {
        // A reader manual's examples: data D41B81 is sent as 1 D41B81 0, 89D41B81 as 1 … 1.
        let got = decode_all(&options(26, FRAME, HEX), b"3A83702\r\n");
        assert_eq!(got, vec![Ok(wiegand("D41B81"))]);
        let got = decode_all(&options(34, FRAME, DEC), b"13214693123\n");
        assert_eq!(got, vec![Ok(wiegand("89D41B81"))]);
    }

    #[test]
    fn h10301_fields_frame_and_data_agree() {
        // Facility 123, card 45678.
        let want = vec![Ok(wiegand("7BB26E"))];
        assert_eq!(decode_all(&options(26, FRAME, DEC), b"49767645\n"), want);
        assert_eq!(decode_all(&options(26, FRAME, HEX), b"0x2F764DD\n"), want);
        assert_eq!(
            decode_all(&options(26, WiegandContent::Data, HEX), b"7bb26e\n"),
            want
        );
        let fc = options(26, WiegandContent::FacilityCard, DEC);
        assert_eq!(decode_all(&fc, b"123,45678\r\n"), want);
        assert_eq!(decode_all(&fc, b" 123 : 45678 \r\n"), want);
    }

    #[test]
    fn h10304_pads_35_data_bits_to_five_bytes() {
        // Facility 12345, card 456789: data 0x181CEF855.
        let want = vec![Ok(wiegand("0181CEF855"))];
        assert_eq!(decode_all(&options(37, FRAME, HEX), b"3039DF0AB\n"), want);
        let fc = options(37, WiegandContent::FacilityCard, DEC);
        assert_eq!(decode_all(&fc, b"12345,456789\n"), want);
    }

    #[test]
    fn docs_credentials_worked_example_holds() {
        // docs/credentials.md: EM4100 tag 0A1B2C3D4E through Wiegand-26 and -34 readers.
        let want26 = vec![Ok(wiegand("2C3D4E"))];
        assert_eq!(decode_all(&options(26, FRAME, DEC), b"39352988\n"), want26);
        let fc = options(26, WiegandContent::FacilityCard, DEC);
        assert_eq!(decode_all(&fc, b"044,15694\n"), want26);
        let got = decode_all(&options(34, FRAME, DEC), b"9501702812\n");
        assert_eq!(got, vec![Ok(wiegand("1B2C3D4E"))]);
        assert_eq!(0x1B2C3D4E, 455_884_110, "the 8H10D number");
    }

    #[test]
    fn parity_errors_are_frame_errors() {
        for flip in 0..26 {
            let frame = 49767645u64 ^ (1 << flip);
            let got = decode_all(&options(26, FRAME, DEC), format!("{frame}\n").as_bytes());
            assert_eq!(
                got,
                vec![Err(WiegandError::Parity { bits: 26, frame })],
                "bit {flip}"
            );
        }
    }

    #[test]
    fn out_of_range_numbers_are_refused() {
        let frame = options(26, FRAME, DEC);
        assert!(matches!(
            &decode_all(&frame, b"67108864\n")[..],
            [Err(WiegandError::OutOfRange { what: "frame", .. })]
        ));
        assert!(matches!(
            &decode_all(&frame, b"99999999999999999999999\n")[..],
            [Err(WiegandError::Malformed { .. })]
        ));
        let fc = options(26, WiegandContent::FacilityCard, DEC);
        assert!(matches!(
            &decode_all(&fc, b"256,1\n")[..],
            [Err(WiegandError::OutOfRange {
                what: "facility",
                ..
            })]
        ));
        assert!(matches!(
            &decode_all(&fc, b"1,65536\n")[..],
            [Err(WiegandError::OutOfRange { what: "card", .. })]
        ));
        assert!(matches!(
            &decode_all(&fc, b"1,2,3\n")[..],
            [Err(WiegandError::Malformed { .. })]
        ));
    }

    #[test]
    fn prefix_is_required_and_removed() {
        let mut o = options(26, FRAME, DEC);
        o.prefix = "W26:".into();
        let got = decode_all(&o, b"W26: 49767645\nboot banner v1.0\n");
        assert_eq!(got[0], Ok(wiegand("7BB26E")));
        assert!(matches!(&got[1], Err(WiegandError::MissingPrefix { .. })));
    }

    #[test]
    fn long_lines_are_skipped_and_reading_resumes() {
        let mut input = vec![b'1'; 1000];
        input.extend(b"\n49767645\n");
        let got = decode_all(&options(26, FRAME, DEC), &input);
        assert_eq!(got, vec![Err(WiegandError::TooLong), Ok(wiegand("7BB26E"))]);
    }

    #[test]
    fn options_parse_from_toml_and_refuse_unknown_sizes() {
        let o: WiegandOptions = toml::from_str(
            "bits = 37\ncontent = \"facility-card\"\nencoding = \"hex\"\nprefix = \"W:\"",
        )
        .unwrap();
        assert_eq!(o.bits, WiegandBits::W37);
        assert_eq!(o.content, WiegandContent::FacilityCard);
        assert_eq!(o, toml::from_str(&toml::to_string(&o).unwrap()).unwrap());
        assert_eq!(
            toml::from_str::<WiegandOptions>("").unwrap(),
            WiegandOptions::default()
        );
        let err = toml::from_str::<WiegandOptions>("bits = 32").unwrap_err();
        assert!(err.to_string().contains("26, 34 or 37"), "{err}");
        assert!(toml::from_str::<WiegandOptions>("check_parity = true").is_err());
    }

    fn any_bits() -> impl Strategy<Value = WiegandBits> {
        prop::sample::select(vec![WiegandBits::W26, WiegandBits::W34, WiegandBits::W37])
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(
            bits in any_bits(),
            content in prop::sample::select(vec![FRAME, WiegandContent::Data, WiegandContent::FacilityCard]),
            encoding in prop::sample::select(vec![DEC, HEX]),
            input in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let o = WiegandOptions { bits, content, encoding, prefix: String::new() };
            let _ = decode_all(&o, &input);
        }

        #[test]
        fn every_form_round_trips_to_the_same_credential(
            bits in any_bits(),
            facility in any::<u64>(),
            card in any::<u64>(),
        ) {
            let facility = facility & mask(bits.facility_bits());
            let card = card & mask(bits.card_bits());
            let data = (facility << bits.card_bits()) | card;
            let want = from_fields(bits, facility, card).unwrap();
            prop_assert_eq!(want.uid().len(), bits.data_bytes());
            prop_assert_eq!(decode_frame(bits, encode_frame(bits, data)), Ok(want));
            let n = u8::from(bits);
            let lines = [
                (options(n, FRAME, DEC), format!("{}", encode_frame(bits, data))),
                (options(n, FRAME, HEX), format!("{:X}", encode_frame(bits, data))),
                (options(n, WiegandContent::Data, DEC), format!("{data}")),
                (options(n, WiegandContent::FacilityCard, DEC), format!("{facility},{card}")),
                (options(n, WiegandContent::FacilityCard, HEX), format!("0x{facility:x},0x{card:x}")),
            ];
            for (o, line) in lines {
                prop_assert_eq!(decode_all(&o, format!("{line}\r\n").as_bytes()), vec![Ok(want)]);
            }
        }

        #[test]
        fn lines_between_garbage_lines_are_found(
            garbage in proptest::collection::vec(any::<u8>(), 0..200),
            data in any::<u32>(),
        ) {
            let bits = WiegandBits::W34;
            let want = from_data(bits, u64::from(data)).unwrap();
            let mut input = garbage.clone();
            input.extend(format!("\n{}\n", encode_frame(bits, u64::from(data))).as_bytes());
            input.extend(&garbage);
            let got = decode_all(&options(34, FRAME, DEC), &input);
            prop_assert!(got.contains(&Ok(want)), "{got:?}");
        }
    }
}
