//! A scripted virtual contactless card for vpcd, vsmartcard's virtual reader driver for
//! pcscd (Debian package `vsmartcard-vpcd`).
//!
//! vpcd listens on one TCP port per slot; a card is a client connected to it. Every
//! message either way is a 2-byte big-endian length and a payload. A 1-byte payload from
//! vpcd is a control code (power off, power on, reset: no answer; get ATR: answer the
//! ATR), anything longer is a command APDU answered with a response APDU. Closing the
//! socket removes the card. The stock `vicc` does not run on Debian 12, hence this one.
//!
//! Plain `std` with a thread per card, so the integration tests and the benches can both
//! use it without a runtime.
#![allow(dead_code)] // shared with the benches; not every binary uses every helper

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One vpcd slot: where a card connects and the PC/SC reader name it appears under.
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    pub port: u16,
    pub reader: &'static str,
}

/// vpcd's ports follow the reader's CHANNELID (Debian's default 0x8C7B = 35963 and 35964).
/// Those lie in Linux's ephemeral range (32768–60999), where any HTTP client connection of a
/// parallel test may take one, or leave it in TIME_WAIT, and vpcd then cannot bind; our
/// private pcscd uses ports below that range instead.
pub const SLOT_0: Slot = Slot {
    port: 30000,
    reader: "Virtual PCD 00 00",
};
pub const SLOT_1: Slot = Slot {
    port: 30001,
    reader: "Virtual PCD 00 01",
};

/// ATR of a contactless storage card as a PC/SC part 3 reader reports it (MIFARE Classic
/// 1K), so pcscd treats the virtual card like a tapped one.
pub const ATR: [u8; 20] = [
    0x3B, 0x8F, 0x80, 0x01, 0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x03, 0x06, 0x03, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x6A,
];

/// GET UID (PC/SC part 3), the one command with a scripted answer.
pub const GET_UID: [u8; 5] = [0xFF, 0xCA, 0x00, 0x00, 0x00];

/// How the card answers GET UID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Script {
    /// The UID followed by `90 00`.
    Uid(Vec<u8>),
    /// Only this status word, e.g. `6A 81` for a card without UID support.
    Status([u8; 2]),
    /// Closes the socket instead of answering: the card is torn away mid-read.
    HangUp,
}

/// What the card does with one message from vpcd.
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    Nothing,
    Send(Vec<u8>),
    HangUp,
}

fn reply(script: &Script, message: &[u8]) -> Reply {
    match message {
        [0x04] => Reply::Send(ATR.to_vec()),
        [_] | [] => Reply::Nothing,
        apdu if apdu == GET_UID => match script {
            Script::Uid(uid) => Reply::Send([uid.as_slice(), &[0x90, 0x00]].concat()),
            Script::Status(sw) => Reply::Send(sw.to_vec()),
            Script::HangUp => Reply::HangUp,
        },
        // Instruction not supported: the reader-level pseudo-APDUs of real readers land here.
        _ => Reply::Send(vec![0x6D, 0x00]),
    }
}

/// A card in a vpcd slot until [`VirtualCard::remove`] or drop.
pub struct VirtualCard {
    stream: TcpStream,
    thread: Option<JoinHandle<()>>,
    apdus: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl VirtualCard {
    /// Puts a card in `slot`, retrying for a few seconds while pcscd is (re)starting.
    /// Panics when vpcd never accepts, with the reason.
    pub fn insert(slot: Slot, script: Script) -> VirtualCard {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match Self::try_insert(slot, script.clone()) {
                Ok(card) => return card,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!(
                    "virtual card: cannot connect to vpcd on 127.0.0.1:{} ({}): {e}; \
                     is pcscd running with vsmartcard-vpcd?",
                    slot.port, slot.reader
                ),
            }
        }
    }

    pub fn with_uid(slot: Slot, uid: &[u8]) -> VirtualCard {
        Self::insert(slot, Script::Uid(uid.to_vec()))
    }

    pub fn try_insert(slot: Slot, script: Script) -> io::Result<VirtualCard> {
        let stream = TcpStream::connect(("127.0.0.1", slot.port))?;
        stream.set_nodelay(true)?;
        let reader = stream.try_clone()?;
        let apdus = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&apdus);
        let thread = std::thread::Builder::new()
            .name(format!("vicc-{}", slot.port))
            .spawn(move || serve(reader, &script, &seen))?;
        Ok(VirtualCard {
            stream,
            thread: Some(thread),
            apdus,
        })
    }

    /// Every command APDU received so far (control codes excluded).
    pub fn apdus(&self) -> Vec<Vec<u8>> {
        self.apdus
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many times the card was asked for its UID.
    pub fn uid_reads(&self) -> usize {
        self.apdus().iter().filter(|a| **a == GET_UID).count()
    }

    /// Whether vpcd is still connected (false after a hang-up or a pcscd exit).
    pub fn connected(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Takes the card away: closes the socket.
    pub fn remove(self) {}
}

impl Drop for VirtualCard {
    fn drop(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(mut stream: TcpStream, script: &Script, apdus: &Mutex<Vec<Vec<u8>>>) {
    // Ends on EOF or any socket error: vpcd closed the slot or the card was removed.
    while let Ok(message) = read_message(&mut stream) {
        if message.len() > 1 {
            apdus
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(message.clone());
        }
        match reply(script, &message) {
            Reply::Nothing => {}
            Reply::Send(bytes) => {
                if write_message(&mut stream, &bytes).is_err() {
                    return;
                }
            }
            Reply::HangUp => {
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
        }
    }
}

fn read_message(stream: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len)?;
    let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut payload)?;
    Ok(payload)
}

fn write_message(stream: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    let len = u16::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "payload over 65535 bytes"))?;
    let mut frame = Vec::with_capacity(payload.len() + 2);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    stream.write_all(&frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_card_answers_vpcd_as_scripted() {
        let uid = Script::Uid(vec![0x04, 0xA1]);
        assert_eq!(reply(&uid, &[0x04]), Reply::Send(ATR.to_vec()));
        assert_eq!(reply(&uid, &[0x01]), Reply::Nothing);
        assert_eq!(
            reply(&uid, &GET_UID),
            Reply::Send(vec![0x04, 0xA1, 0x90, 0x00])
        );
        let no_uid = Script::Status([0x6A, 0x81]);
        assert_eq!(reply(&no_uid, &GET_UID), Reply::Send(vec![0x6A, 0x81]));
        assert_eq!(reply(&Script::HangUp, &GET_UID), Reply::HangUp);
        assert_eq!(
            reply(&uid, &[0x00, 0xA4, 0x04, 0x00]),
            Reply::Send(vec![0x6D, 0x00])
        );
    }

    #[test]
    fn messages_are_length_prefixed_big_endian() {
        let mut wire = Vec::new();
        write_message(&mut wire, &[0xAA; 300]).unwrap();
        assert_eq!(&wire[..2], &[0x01, 0x2C]);
        assert_eq!(read_message(&mut wire.as_slice()).unwrap(), vec![0xAA; 300]);
    }
}
