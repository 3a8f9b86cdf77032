//! PN532 NFC controller over its UART (HSU, 115200 8N1): frame building and an
//! incremental response parser.
//!
//! Unlike the other serial readers the PN532 speaks only when asked: the host sends
//! command frames, the chip acknowledges each with an ACK frame and then answers with a
//! response frame. An information frame is `00 00 FF LEN LCS TFI DATA… DCS 00`, where LEN
//! counts TFI and DATA, `LEN + LCS ≡ 0` and `TFI + ΣDATA + DCS ≡ 0 (mod 256)`, TFI is
//! `D4` towards the chip and `D5` from it, and a response's first data byte is the command
//! code plus one. Extended frames (LEN > 255) are never needed for card polling and are
//! reported as errors.

use crate::model::{Credential, CredentialError, Technology};

/// Acknowledges a command (chip → host); sent by the host it aborts the current command.
pub const ACK: [u8; 6] = [0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00];
/// Asks for the last frame again.
pub const NACK: [u8; 6] = [0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00];
/// The chip's answer to a command it could not make sense of (wrong checksum or syntax).
pub const ERROR_FRAME: [u8; 8] = [0x00, 0x00, 0xFF, 0x01, 0xFF, 0x7F, 0x81, 0x00];
/// Sent before the first command: in HSU mode the chip sleeps after power-up and needs a
/// long preamble to wake before it will parse a frame.
pub const WAKE_UP: [u8; 16] = [
    0x55, 0x55, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];
/// TFI of frames from host to chip.
pub const TFI_HOST: u8 = 0xD4;
/// TFI of frames from chip to host.
pub const TFI_CHIP: u8 = 0xD5;
const TFI_ERROR: u8 = 0x7F;

/// `SAMConfiguration`: normal mode (no secure access module), 1 s virtual-card timeout,
/// IRQ pin used.
pub const SAM_CONFIGURATION: [u8; 4] = [0x14, 0x01, 0x14, 0x01];
/// `RFConfiguration` item 5 (MaxRetries): ATR 0xFF, PSL 1, passive activation 1, so an
/// `InListPassiveTarget` with no card answers "no target" at once instead of waiting for one
/// forever (the default).
pub const RF_CONFIGURATION_RETRIES: [u8; 5] = [0x32, 0x05, 0xFF, 0x01, 0x01];
/// `InListPassiveTarget`: at most one target, 106 kbps type A (ISO/IEC 14443-A).
pub const IN_LIST_PASSIVE_TARGET: [u8; 3] = [0x4A, 0x01, 0x00];

/// Most data bytes (after TFI) of a normal information frame.
pub const MAX_DATA: usize = 254;
/// Start code to DCS of the longest normal frame: `00 FF LEN LCS TFI DATA DCS`.
const MAX_FRAME_FROM_START: usize = 2 + 2 + 1 + MAX_DATA + 1;
/// Buffer size; larger than any frame so a full buffer always holds a decision.
const CAPACITY: usize = MAX_FRAME_FROM_START + 4;

/// Builds an information frame, or `None` if `data` does not fit a normal frame.
pub fn information_frame(tfi: u8, data: &[u8]) -> Option<Vec<u8>> {
    if data.len() > MAX_DATA {
        return None;
    }
    let len = (data.len() + 1) as u8;
    let sum = data.iter().fold(tfi, |acc, b| acc.wrapping_add(*b));
    let mut frame = Vec::with_capacity(data.len() + 8);
    frame.extend_from_slice(&[0x00, 0x00, 0xFF, len, len.wrapping_neg(), tfi]);
    frame.extend_from_slice(data);
    frame.extend_from_slice(&[sum.wrapping_neg(), 0x00]);
    Some(frame)
}

/// A host → chip command frame, e.g. `command(&SAM_CONFIGURATION)`.
pub fn command(data: &[u8]) -> Option<Vec<u8>> {
    information_frame(TFI_HOST, data)
}

/// One frame read from the line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "a frame is handed over once and never stored in bulk; a fixed buffer keeps the parser off the heap"
)]
pub enum Pn532Frame {
    Ack,
    Nack,
    /// The chip refused the last command as malformed ([`ERROR_FRAME`]).
    SyntaxError,
    Information(InformationFrame),
}

/// An information frame's TFI and data, in a fixed buffer.
#[derive(Clone, PartialEq, Eq)]
pub struct InformationFrame {
    tfi: u8,
    len: u8,
    data: [u8; MAX_DATA],
}

impl InformationFrame {
    pub fn tfi(&self) -> u8 {
        self.tfi
    }

    /// The bytes after TFI: the command or response code, then its parameters.
    pub fn data(&self) -> &[u8] {
        &self.data[..usize::from(self.len)]
    }
}

impl std::fmt::Debug for InformationFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "InformationFrame({:02X} {})",
            self.tfi,
            hex::encode_upper(self.data())
        )
    }
}

/// A frame that could not be read, or a response that does not say what it should.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Pn532Error {
    #[error("length checksum wrong (LEN {len:#04x}, LCS {lcs:#04x})")]
    LengthChecksum { len: u8, lcs: u8 },
    #[error("data checksum wrong in a frame of {len} bytes")]
    DataChecksum { len: u8 },
    #[error("extended frames are not used with card polling")]
    ExtendedFrame,
    #[error("frame of length 0 carries no TFI")]
    Empty,
    #[error("InListPassiveTarget response malformed: {0}")]
    BadTarget(&'static str),
    #[error(transparent)]
    Credential(#[from] CredentialError),
}

/// Incremental frame parser over a fixed buffer. A start code whose frame fails its
/// checksums is skipped one byte at a time, so garbage never hides a real frame; while a
/// candidate frame is still incomplete, a complete valid frame after it wins (noise that
/// looks like a frame header must not stall the link until its claimed length arrives).
#[derive(Clone)]
pub struct Pn532Decoder {
    buf: [u8; CAPACITY],
    len: usize,
}

impl Default for Pn532Decoder {
    fn default() -> Self {
        Pn532Decoder {
            buf: [0; CAPACITY],
            len: 0,
        }
    }
}

impl std::fmt::Debug for Pn532Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pn532Decoder({} bytes pending)", self.len)
    }
}

/// What the bytes after a start code hold.
#[expect(clippy::large_enum_variant, reason = "see Pn532Frame")]
enum Candidate {
    Incomplete,
    Frame(Pn532Frame, usize),
    Invalid(Pn532Error),
}

impl Pn532Decoder {
    /// Feeds `input` and iterates over the frames and errors it completes.
    pub fn feed<'a>(&'a mut self, input: &'a [u8]) -> Frames<'a> {
        Frames {
            decoder: self,
            input,
        }
    }

    /// Forgets any partial frame, e.g. after a timeout before re-initialising the chip.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.buf.copy_within(n..self.len, 0);
        self.len -= n;
    }

    fn next_frame(&mut self) -> Option<Result<Pn532Frame, Pn532Error>> {
        let mut first_incomplete = None;
        let mut from = 0;
        while let Some(start) = find_start(&self.buf[from..self.len]).map(|i| i + from) {
            match candidate(&self.buf[start + 2..self.len]) {
                Candidate::Frame(frame, used) => {
                    self.consume(start + 2 + used);
                    return Some(Ok(frame));
                }
                Candidate::Invalid(err) if first_incomplete.is_none() => {
                    self.consume(start + 1);
                    return Some(Err(err));
                }
                Candidate::Invalid(_) => {}
                Candidate::Incomplete => {
                    first_incomplete.get_or_insert(start);
                }
            }
            from = start + 1;
        }
        let keep_from = first_incomplete.unwrap_or(match self.buf[..self.len].last() {
            Some(0x00) => self.len - 1,
            _ => self.len,
        });
        self.consume(keep_from);
        None
    }
}

/// The frames completed by one [`Pn532Decoder::feed`].
pub struct Frames<'a> {
    decoder: &'a mut Pn532Decoder,
    input: &'a [u8],
}

impl Iterator for Frames<'_> {
    type Item = Result<Pn532Frame, Pn532Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let d = &mut *self.decoder;
            let take = (CAPACITY - d.len).min(self.input.len());
            d.buf[d.len..d.len + take].copy_from_slice(&self.input[..take]);
            d.len += take;
            self.input = &self.input[take..];
            if let Some(item) = d.next_frame() {
                return Some(item);
            }
            if self.input.is_empty() {
                return None;
            }
            if take == 0 {
                // Cannot happen (a full buffer always decides), but never spin.
                d.consume(1);
            }
        }
    }
}

fn find_start(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|w| w == [0x00, 0xFF])
}

/// Parses the bytes after a start code.
fn candidate(body: &[u8]) -> Candidate {
    let [len, lcs, rest @ ..] = body else {
        return Candidate::Incomplete;
    };
    match (*len, *lcs) {
        (0x00, 0xFF) => return Candidate::Frame(Pn532Frame::Ack, 2),
        (0xFF, 0x00) => return Candidate::Frame(Pn532Frame::Nack, 2),
        (0xFF, 0xFF) => return Candidate::Invalid(Pn532Error::ExtendedFrame),
        (0x00, 0x00) => return Candidate::Invalid(Pn532Error::Empty),
        (len, lcs) if len.wrapping_add(lcs) != 0 => {
            return Candidate::Invalid(Pn532Error::LengthChecksum { len, lcs });
        }
        _ => {}
    }
    let n = usize::from(*len);
    let Some((payload, dcs)) = rest.get(..n).zip(rest.get(n)) else {
        return Candidate::Incomplete;
    };
    let sum = payload.iter().fold(*dcs, |acc, b| acc.wrapping_add(*b));
    if sum != 0 {
        return Candidate::Invalid(Pn532Error::DataChecksum { len: *len });
    }
    let [tfi, data @ ..] = payload else {
        return Candidate::Invalid(Pn532Error::Empty);
    };
    let used = 2 + n + 1;
    if *tfi == TFI_ERROR && data.is_empty() {
        return Candidate::Frame(Pn532Frame::SyntaxError, used);
    }
    let mut frame = InformationFrame {
        tfi: *tfi,
        len: data.len() as u8,
        data: [0; MAX_DATA],
    };
    frame.data[..data.len()].copy_from_slice(data);
    Candidate::Frame(Pn532Frame::Information(frame), used)
}

/// Reads the card from an `InListPassiveTarget` (106 kbps type A) response's data
/// (`4B NbTg Tg SENS_RES(2) SEL_RES NFCIDLength NFCID1… [ATS…]`): `Ok(None)` when no card
/// is in the field.
pub fn parse_in_list_passive_target(data: &[u8]) -> Result<Option<Credential>, Pn532Error> {
    let [0x4B, targets, rest @ ..] = data else {
        return Err(Pn532Error::BadTarget(
            "not a response to InListPassiveTarget",
        ));
    };
    if *targets == 0 {
        return Ok(None);
    }
    let [_tg, _sens_res_1, _sens_res_2, _sel_res, uid_len, rest @ ..] = rest else {
        return Err(Pn532Error::BadTarget("target data cut short"));
    };
    let uid_len = usize::from(*uid_len);
    if !matches!(uid_len, 4 | 7 | 10) {
        return Err(Pn532Error::BadTarget("NFCID1 is not 4, 7 or 10 bytes"));
    }
    let uid = rest
        .get(..uid_len)
        .ok_or(Pn532Error::BadTarget("NFCID1 cut short"))?;
    Ok(Some(Credential::new(Technology::Iso14443, uid)?))
}

/// The chip's answer to `InListPassiveTarget` with one type A card, for tests and the
/// fake chip.
#[cfg(test)]
pub(crate) fn target_response(uid: &[u8]) -> Vec<u8> {
    let mut data = vec![0x4B, 0x01, 0x01, 0x00, 0x04, 0x08, uid.len() as u8];
    data.extend_from_slice(uid);
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(chunks: &[&[u8]]) -> Vec<Result<Pn532Frame, Pn532Error>> {
        let mut d = Pn532Decoder::default();
        chunks
            .iter()
            .flat_map(|c| d.feed(c).collect::<Vec<_>>())
            .collect()
    }

    fn info(tfi: u8, data: &[u8]) -> Pn532Frame {
        let mut frame = InformationFrame {
            tfi,
            len: data.len() as u8,
            data: [0; MAX_DATA],
        };
        frame.data[..data.len()].copy_from_slice(data);
        Pn532Frame::Information(frame)
    }

    #[test]
    fn commands_match_the_datasheet_bytes() {
        let sam = command(&SAM_CONFIGURATION).unwrap();
        assert_eq!(
            sam,
            [
                0x00, 0x00, 0xFF, 0x05, 0xFB, 0xD4, 0x14, 0x01, 0x14, 0x01, 0x02, 0x00
            ]
        );
        let poll = command(&IN_LIST_PASSIVE_TARGET).unwrap();
        assert_eq!(
            poll,
            [
                0x00, 0x00, 0xFF, 0x04, 0xFC, 0xD4, 0x4A, 0x01, 0x00, 0xE1, 0x00
            ]
        );
        assert_eq!(command(&[0; MAX_DATA + 1]), None);
    }

    #[test]
    fn ack_nack_error_and_information_frames_decode() {
        let response = information_frame(TFI_CHIP, &[0x15]).unwrap();
        let got = decode_all(&[&ACK, &NACK, &ERROR_FRAME, &response]);
        assert_eq!(
            got,
            vec![
                Ok(Pn532Frame::Ack),
                Ok(Pn532Frame::Nack),
                Ok(Pn532Frame::SyntaxError),
                Ok(info(TFI_CHIP, &[0x15])),
            ]
        );
    }

    #[test]
    fn a_frame_split_anywhere_decodes_the_same() {
        let mut input = ACK.to_vec();
        input.extend(information_frame(TFI_CHIP, &target_response(&[1, 2, 3, 4])).unwrap());
        for cut in 0..input.len() {
            let got = decode_all(&[&input[..cut], &input[cut..]]);
            assert_eq!(got.len(), 2, "cut at {cut}: {got:?}");
            assert_eq!(got[0], Ok(Pn532Frame::Ack));
        }
    }

    #[test]
    fn wake_up_preamble_is_skipped() {
        let mut input = WAKE_UP.to_vec();
        input.extend(command(&SAM_CONFIGURATION).unwrap());
        assert_eq!(
            decode_all(&[&input]),
            vec![Ok(info(TFI_HOST, &SAM_CONFIGURATION))]
        );
    }

    #[test]
    fn checksum_errors_are_reported_and_the_next_frame_is_found() {
        let mut bad = information_frame(TFI_CHIP, &[0x4B, 0x00]).unwrap();
        bad[8] ^= 0xFF; // DCS
        let got = decode_all(&[&bad, &ACK]);
        assert_eq!(
            got,
            vec![
                Err(Pn532Error::DataChecksum { len: 3 }),
                Ok(Pn532Frame::Ack)
            ]
        );

        let got = decode_all(&[&[0x00, 0xFF, 0x05, 0x05], &ACK]);
        assert_eq!(
            got,
            vec![
                Err(Pn532Error::LengthChecksum { len: 5, lcs: 5 }),
                Ok(Pn532Frame::Ack)
            ]
        );
        let got = decode_all(&[&[0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x01, 0x00], &ACK]);
        assert_eq!(
            got,
            vec![Err(Pn532Error::ExtendedFrame), Ok(Pn532Frame::Ack)]
        );
    }

    #[test]
    fn a_false_header_does_not_stall_a_real_frame() {
        // Noise that looks like the header of a 200-byte frame, then a real ACK.
        let got = decode_all(&[&[0x00, 0xFF, 200, 56, 0xD5], &ACK]);
        assert_eq!(got, vec![Ok(Pn532Frame::Ack)]);
    }

    #[test]
    fn targets_are_read_from_in_list_passive_target() {
        for uid in [
            &[0x04, 0xA1, 0xB2, 0xC3][..],
            &[4, 1, 2, 3, 4, 5, 6],
            &[9; 10],
        ] {
            let want = Credential::new(Technology::Iso14443, uid).unwrap();
            assert_eq!(
                parse_in_list_passive_target(&target_response(uid)),
                Ok(Some(want))
            );
        }
        assert_eq!(parse_in_list_passive_target(&[0x4B, 0x00]), Ok(None));
        // A type 4 card answers with its ATS after the UID.
        let mut with_ats = target_response(&[1, 2, 3, 4]);
        with_ats.extend([0x05, 0x75, 0x77, 0x81, 0x02]);
        let want = Credential::new(Technology::Iso14443, &[1, 2, 3, 4]).unwrap();
        assert_eq!(parse_in_list_passive_target(&with_ats), Ok(Some(want)));
        for bad in [
            &[0x15][..],
            &[0x4B, 0x01, 0x01],
            &[0x4B, 0x01, 0x01, 0x00, 0x04, 0x08, 0x05, 1, 2, 3, 4, 5],
            &[0x4B, 0x01, 0x01, 0x00, 0x04, 0x08, 0x07, 1, 2, 3],
        ] {
            assert!(matches!(
                parse_in_list_passive_target(bad),
                Err(Pn532Error::BadTarget(_))
            ));
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(
            input in proptest::collection::vec(any::<u8>(), 0..2048),
            cut in any::<prop::sample::Index>(),
        ) {
            let cut = cut.index(input.len() + 1);
            let _ = decode_all(&[&input[..cut], &input[cut..]]);
            let _ = parse_in_list_passive_target(&input);
        }

        #[test]
        fn frames_in_garbage_are_found(
            before in proptest::collection::vec(any::<u8>(), 0..300),
            after in proptest::collection::vec(any::<u8>(), 0..300),
            data in proptest::collection::vec(any::<u8>(), 0..=MAX_DATA),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut input = before;
            input.extend(information_frame(TFI_CHIP, &data).unwrap());
            input.extend(after);
            let cut = cut.index(input.len() + 1);
            let got = decode_all(&[&input[..cut], &input[cut..]]);
            prop_assert!(got.contains(&Ok(info(TFI_CHIP, &data))), "{got:?}");
        }

        #[test]
        fn encode_then_decode_round_trips(
            tfi in any::<u8>(),
            data in proptest::collection::vec(any::<u8>(), 0..=MAX_DATA),
        ) {
            prop_assume!(!(tfi == TFI_ERROR && data.is_empty()));
            let frame = information_frame(tfi, &data).unwrap();
            prop_assert_eq!(decode_all(&[&frame]), vec![Ok(info(tfi, &data))]);
        }

        #[test]
        fn target_responses_round_trip(uid_len in prop::sample::select(vec![4usize, 7, 10]), uid in any::<[u8; 10]>()) {
            let uid = &uid[..uid_len];
            let want = Credential::new(Technology::Iso14443, uid).unwrap();
            prop_assert_eq!(parse_in_list_passive_target(&target_response(uid)), Ok(Some(want)));
        }
    }
}
