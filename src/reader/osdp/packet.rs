//! OSDP packet framing (SIA OSDP 2.2 §5), as pure functions over bytes.
//!
//! A packet is `SOM(0x53) ADDR LEN_LSB LEN_MSB CTRL [SCB] CODE DATA [MAC(4)] CHECK`, where
//! LEN counts every byte from SOM to the end of CHECK, ADDR carries bit 0x80 on replies,
//! CTRL holds the sequence number (bits 0-1), CRC-vs-checksum (bit 2) and SCB presence
//! (bit 3), and CHECK is a CRC-16 (2 bytes, LSB first) or a 1-byte checksum. The MAC is
//! present exactly when the security block type is SCS_15..SCS_18.
//!
//! [`Decoder`] takes bytes as they arrive, resynchronises on the next SOM after garbage or a
//! corrupted packet, bounds its buffer and never panics. Meaning (commands, replies,
//! encryption) lives in `message.rs` and `secure.rs`.

use super::crc::{checksum, crc16};

pub const SOM: u8 = 0x53;
/// Bit 7 of ADDR: set on every PD-to-CP packet.
pub const REPLY_BIT: u8 = 0x80;
/// The broadcast address; PDs answer it with their own address.
pub const BROADCAST: u8 = 0x7F;
/// Largest packet accepted; libosdp's default buffers hold 256 bytes, and nothing this CP
/// asks for comes near this bound, so anything longer is noise.
pub const MAX_PACKET: usize = 1024;
/// SOM, ADDR, LEN (2), CTRL.
const HEADER: usize = 5;
const MAC_LEN: usize = 4;

const CTRL_SQN: u8 = 0x03;
const CTRL_CRC: u8 = 0x04;
const CTRL_SCB: u8 = 0x08;

/// Security block types (OSDP 2.2 Annex D).
pub mod scs {
    pub const CHLNG: u8 = 0x11;
    pub const CCRYPT: u8 = 0x12;
    pub const SCRYPT: u8 = 0x13;
    pub const RMAC_I: u8 = 0x14;
    /// CP→PD, MAC, data in clear (used for commands without data).
    pub const CMD_MAC: u8 = 0x15;
    /// PD→CP, MAC, data in clear.
    pub const REPLY_MAC: u8 = 0x16;
    /// CP→PD, MAC, data encrypted.
    pub const CMD_ENC: u8 = 0x17;
    /// PD→CP, MAC, data encrypted.
    pub const REPLY_ENC: u8 = 0x18;

    /// Whether a packet with this block type carries a 4-byte MAC before its check.
    pub fn has_mac(kind: u8) -> bool {
        (CMD_MAC..=REPLY_ENC).contains(&kind)
    }
}

/// The security control block: its type and the type-specific bytes after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scb {
    pub kind: u8,
    pub data: Vec<u8>,
}

/// Everything in a packet but its framing bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// PD address, without the reply bit.
    pub address: u8,
    pub reply: bool,
    /// 0..=3; 0 restarts the PD's sequence (and its secure channel).
    pub sqn: u8,
    pub crc: bool,
    pub scb: Option<Scb>,
    pub code: u8,
    /// The data as on the wire (still encrypted for SCS_17/18).
    pub data: Vec<u8>,
    /// The first four bytes of the message's MAC, when the block type has one.
    pub mac: Option<[u8; MAC_LEN]>,
    /// Bytes from SOM to the end of DATA: what the MAC is computed over.
    pub authenticated: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("length field {0} is outside the possible packet sizes")]
    BadLength(usize),
    #[error("bad CRC or checksum")]
    BadCheck,
    #[error("security block does not fit the packet")]
    BadScb,
    #[error("packet too short for its MAC")]
    MissingMac,
    #[error("start of a packet cut off by the next one")]
    Truncated,
    /// OSDP 2.2 defines bits 0-3 of CTRL only; a set high bit is noise or another protocol.
    #[error("control byte {0:#04x} sets bits OSDP does not define")]
    BadControl(u8),
}

/// Encodes a packet. `mac` computes the MAC over SOM..end of DATA (LEN already counting
/// the MAC and check bytes) when the block type has one; it is called exactly once then.
pub fn encode(packet: &OutPacket<'_>, mac: Option<MacFn<'_>>) -> Result<Vec<u8>, PacketError> {
    let scb_len = packet.scb.map_or(0, |(_, data)| 2 + data.len());
    let has_mac = packet.scb.is_some_and(|(kind, _)| scs::has_mac(kind));
    let check_len = if packet.crc { 2 } else { 1 };
    let len =
        HEADER + scb_len + 1 + packet.data.len() + if has_mac { MAC_LEN } else { 0 } + check_len;
    if len > MAX_PACKET || packet.sqn > 3 || packet.address > BROADCAST {
        return Err(PacketError::BadLength(len));
    }
    let mut out = Vec::with_capacity(len);
    out.push(SOM);
    out.push(packet.address | if packet.reply { REPLY_BIT } else { 0 });
    out.extend_from_slice(&(len as u16).to_le_bytes());
    let mut ctrl = packet.sqn;
    if packet.crc {
        ctrl |= CTRL_CRC;
    }
    if packet.scb.is_some() {
        ctrl |= CTRL_SCB;
    }
    out.push(ctrl);
    if let Some((kind, data)) = packet.scb {
        out.push((2 + data.len()) as u8);
        out.push(kind);
        out.extend_from_slice(data);
    }
    out.push(packet.code);
    out.extend_from_slice(packet.data);
    if has_mac {
        let mac = mac.ok_or(PacketError::MissingMac)?;
        let tag = mac(&out);
        out.extend_from_slice(&tag);
    }
    if packet.crc {
        out.extend_from_slice(&crc16(&out).to_le_bytes());
    } else {
        out.push(checksum(&out));
    }
    Ok(out)
}

/// Computes a message's 4-byte MAC over SOM..end of DATA.
pub type MacFn<'a> = &'a mut dyn FnMut(&[u8]) -> [u8; MAC_LEN];

/// A packet to encode, borrowing its parts.
#[derive(Debug, Clone, Copy)]
pub struct OutPacket<'a> {
    pub address: u8,
    pub reply: bool,
    pub sqn: u8,
    pub crc: bool,
    /// Block type and its type-specific bytes.
    pub scb: Option<(u8, &'a [u8])>,
    pub code: u8,
    pub data: &'a [u8],
}

/// Parses exactly one whole packet (check already verified by the caller or not).
fn parse(frame: &[u8], crc: bool) -> Result<Packet, PacketError> {
    let check_len = if crc { 2 } else { 1 };
    let ctrl = frame[4];
    if ctrl & !(CTRL_SQN | CTRL_CRC | CTRL_SCB) != 0 {
        return Err(PacketError::BadControl(ctrl));
    }
    let body_end = frame.len() - check_len;
    let mut at = HEADER;
    let scb = if ctrl & CTRL_SCB != 0 {
        let scb_len = usize::from(*frame.get(at).ok_or(PacketError::BadScb)?);
        if scb_len < 2 || at + scb_len >= body_end {
            return Err(PacketError::BadScb);
        }
        let scb = Scb {
            kind: frame[at + 1],
            data: frame[at + 2..at + scb_len].to_vec(),
        };
        at += scb_len;
        Some(scb)
    } else {
        None
    };
    let has_mac = scb.as_ref().is_some_and(|s| scs::has_mac(s.kind));
    let data_end = if has_mac {
        body_end
            .checked_sub(MAC_LEN)
            .filter(|&end| end > at)
            .ok_or(PacketError::MissingMac)?
    } else {
        body_end
    };
    if at >= data_end {
        return Err(PacketError::BadLength(frame.len()));
    }
    let mac = if has_mac {
        let mut tag = [0u8; MAC_LEN];
        tag.copy_from_slice(&frame[data_end..body_end]);
        Some(tag)
    } else {
        None
    };
    Ok(Packet {
        address: frame[1] & !REPLY_BIT,
        reply: frame[1] & REPLY_BIT != 0,
        sqn: ctrl & CTRL_SQN,
        crc,
        scb,
        code: frame[at],
        data: frame[at + 1..data_end].to_vec(),
        mac,
        authenticated: frame[..data_end].to_vec(),
    })
}

/// Incremental packet decoder over a byte stream.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    /// Appends received bytes. The buffer never grows past [`MAX_PACKET`] plus one read:
    /// whatever cannot start a packet is dropped by [`Decoder::next_packet`].
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Drops everything buffered (stale bytes before a new command).
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// The next complete packet or framing error, or `None` when more bytes are needed.
    /// After an error the decoder resumes at the byte after the bad packet's SOM, so a
    /// genuine packet hidden inside garbage is still found.
    pub fn next_packet(&mut self) -> Option<Result<Packet, PacketError>> {
        match self.buf.iter().position(|&b| b == SOM) {
            None => {
                self.buf.clear();
                return None;
            }
            Some(n) => {
                self.buf.drain(..n);
            }
        }
        match frame_at(&self.buf) {
            Frame::Incomplete => {
                // A stray SOM with a plausible length would otherwise hold back a whole
                // good packet behind it until the length is reached: skip to a later SOM
                // that starts a complete packet whose check holds.
                let later = (1..self.buf.len())
                    .filter(|&i| self.buf[i] == SOM)
                    .find(|&i| matches!(frame_at(&self.buf[i..]), Frame::Checked { .. }))?;
                self.buf.drain(..later);
                Some(Err(PacketError::Truncated))
            }
            Frame::BadLength(len) => {
                self.buf.drain(..1);
                Some(Err(PacketError::BadLength(len)))
            }
            Frame::BadCheck => {
                self.buf.drain(..1);
                Some(Err(PacketError::BadCheck))
            }
            Frame::Checked { len, crc } => {
                let parsed = parse(&self.buf[..len], crc);
                // A packet whose check holds is consumed whole; one whose layout is wrong
                // may be garbage that happened to check, so only its SOM is dropped.
                let used = if parsed.is_ok() { len } else { 1 };
                self.buf.drain(..used);
                Some(parsed)
            }
        }
    }
}

/// What the bytes from a SOM hold.
enum Frame {
    Incomplete,
    BadLength(usize),
    BadCheck,
    Checked { len: usize, crc: bool },
}

fn frame_at(buf: &[u8]) -> Frame {
    if buf.len() < HEADER {
        return Frame::Incomplete;
    }
    let len = usize::from(u16::from_le_bytes([buf[2], buf[3]]));
    let crc = buf[4] & CTRL_CRC != 0;
    let min = HEADER + 1 + if crc { 2 } else { 1 };
    if !(min..=MAX_PACKET).contains(&len) {
        return Frame::BadLength(len);
    }
    if buf.len() < len {
        return Frame::Incomplete;
    }
    let frame = &buf[..len];
    let ok = if crc {
        crc16(&frame[..len - 2]).to_le_bytes() == frame[len - 2..]
    } else {
        checksum(&frame[..len - 1]) == frame[len - 1]
    };
    if ok {
        Frame::Checked { len, crc }
    } else {
        Frame::BadCheck
    }
}

#[cfg(test)]
mod tests;
