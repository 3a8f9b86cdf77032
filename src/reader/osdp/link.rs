//! One CP-to-PD link: sends a command, waits for the matching reply, retries, keeps the
//! sequence number and, once established, wraps every message in the secure channel.
//!
//! The link holds one PD's state, not the port: on a bus several links share one port,
//! which the bus task lends to each exchange. The port type is generic so the link works on
//! any byte stream.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, timeout_at};

use super::message::{Command, Reply, ReplyError, cmd, parse_reply, reply};
use super::packet::{Decoder, OutPacket, Packet, PacketError, encode, scs};
use super::secure::{Scbk, SecureError, Session, SessionKeys};

/// Extra sends of an unanswered command before the PD counts as gone; with libosdp's
/// 200 ms reply timeout a vanished PD is reported offline within about 0.6 s.
pub const RETRIES: u32 = 2;

/// Why an exchange with the PD failed; the session then ends and the reader goes offline.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("no reply from PD address {address} within {timeout:?} ({attempts} attempts)")]
    NoReply {
        address: u8,
        timeout: Duration,
        attempts: u32,
    },
    #[error("read failed: {0}")]
    Read(#[source] std::io::Error),
    #[error("write failed: {0}")]
    Write(#[source] std::io::Error),
    #[error("device closed the line")]
    Closed,
    #[error("cannot encode command: {0}")]
    Encode(#[from] PacketError),
    #[error("malformed reply: {0}")]
    Reply(#[from] ReplyError),
    #[error("secure channel failed: {0}")]
    Secure(String),
}

impl LinkError {
    /// The port itself failed (not one PD): every PD on the bus is affected and the port
    /// is reopened.
    pub fn is_port_failure(&self) -> bool {
        matches!(
            self,
            LinkError::Read(_) | LinkError::Write(_) | LinkError::Closed
        )
    }
}

impl From<SecureError> for LinkError {
    fn from(err: SecureError) -> Self {
        LinkError::Secure(err.to_string())
    }
}

/// A byte stream a link talks over: the serial port, or an in-memory pipe in tests.
pub trait Port: AsyncRead + AsyncWrite + Unpin {}
impl<T: AsyncRead + AsyncWrite + Unpin> Port for T {}

/// How a command is wrapped.
#[derive(Debug, Clone, Copy)]
enum Wrap {
    /// No security block: before the secure channel, or with `secure = false`.
    Plain,
    /// A handshake step: its block type and key selector (1 = SCBK, 0 = SCBK-D).
    Handshake(u8, u8),
}

pub struct Link {
    decoder: Decoder,
    address: u8,
    /// Sequence number of the next command: 0 first (the PD resets its state and any
    /// secure channel), then 1, 2, 3, 1, …
    sqn: u8,
    reply_timeout: Duration,
    session: Option<Session>,
    /// Framing errors seen (noise, bad CRC), for the driver's summary log.
    pub frame_errors: u64,
}

impl Link {
    pub fn new(address: u8, reply_timeout: Duration) -> Self {
        Link {
            decoder: Decoder::default(),
            address,
            sqn: 0,
            reply_timeout,
            session: None,
            frame_errors: 0,
        }
    }

    pub fn is_secure(&self) -> bool {
        self.session.is_some()
    }

    /// Sends `command` and returns the PD's reply, decrypted and authenticated when the
    /// secure channel is up.
    pub async fn transact<P: Port>(
        &mut self,
        port: &mut P,
        command: &Command,
    ) -> Result<Reply, LinkError> {
        self.exchange(port, command, Wrap::Plain).await
    }

    /// Drops the secure channel and runs the handshake again from sequence number 0, which
    /// makes the PD drop its side too. Used when the MAC chain broke while the PD still
    /// answers: libosdp's PD processes a repeated command afresh, so after one lost reply
    /// the two ends no longer agree on the last MAC and only a new handshake recovers.
    pub async fn restart_secure<P: Port>(
        &mut self,
        port: &mut P,
        scbk: &Scbk,
        default_key: bool,
    ) -> Result<(), LinkError> {
        self.session = None;
        self.sqn = 0;
        self.establish_secure(port, scbk, default_key).await
    }

    /// Runs the secure channel handshake (SCS_11..SCS_14) with `scbk`. `default_key` tells
    /// the PD to use SCBK-D (install mode).
    pub async fn establish_secure<P: Port>(
        &mut self,
        port: &mut P,
        scbk: &Scbk,
        default_key: bool,
    ) -> Result<(), LinkError> {
        let selector = u8::from(!default_key);
        let rnd_a: [u8; 8] = rand::random();
        let challenge = Command {
            code: cmd::CHLNG,
            data: rnd_a.to_vec(),
        };
        let reply = self
            .exchange(port, &challenge, Wrap::Handshake(scs::CHLNG, selector))
            .await?;
        let Reply::Ccrypt {
            rnd_b, cryptogram, ..
        } = reply
        else {
            return Err(LinkError::Secure(format!(
                "PD answered the challenge with {reply:?}"
            )));
        };
        let keys = SessionKeys::derive(scbk, &rnd_a);
        if keys.client_cryptogram(&rnd_a, &rnd_b) != cryptogram {
            return Err(LinkError::Secure(
                "the PD's cryptogram does not match: it holds a different key".into(),
            ));
        }
        let server = keys.server_cryptogram(&rnd_a, &rnd_b);
        let scrypt = Command {
            code: cmd::SCRYPT,
            data: server.to_vec(),
        };
        let reply = self
            .exchange(port, &scrypt, Wrap::Handshake(scs::SCRYPT, selector))
            .await?;
        let Reply::RmacI(rmac_i) = reply else {
            return Err(LinkError::Secure(format!(
                "PD answered the server cryptogram with {reply:?}"
            )));
        };
        if keys.initial_rmac(&server) != rmac_i {
            return Err(LinkError::Secure("initial R-MAC does not match".into()));
        }
        self.session = Some(Session::new(keys, rmac_i));
        Ok(())
    }

    async fn exchange<P: Port>(
        &mut self,
        port: &mut P,
        command: &Command,
        wrap: Wrap,
    ) -> Result<Reply, LinkError> {
        let sqn = self.sqn;
        // Built once: a retry resends the same bytes, so the PD can tell a repeat (same
        // SQN) and the MAC chain is not advanced twice.
        let bytes = self.build(command, wrap, sqn)?;
        let mut attempts = 0;
        loop {
            attempts += 1;
            self.decoder.clear();
            port.write_all(&bytes).await.map_err(LinkError::Write)?;
            port.flush().await.map_err(LinkError::Write)?;
            match self.await_reply(port, sqn).await? {
                Some(packet) => {
                    self.sqn = if sqn == 3 { 1 } else { sqn + 1 };
                    return self.open(packet);
                }
                None if attempts > RETRIES => {
                    return Err(LinkError::NoReply {
                        address: self.address,
                        timeout: self.reply_timeout,
                        attempts,
                    });
                }
                None => {}
            }
        }
    }

    fn build(&mut self, command: &Command, wrap: Wrap, sqn: u8) -> Result<Vec<u8>, LinkError> {
        let mut out = OutPacket {
            address: self.address,
            reply: false,
            sqn,
            crc: true,
            scb: None,
            code: command.code,
            data: &command.data,
        };
        let selector;
        match (wrap, self.session.as_mut()) {
            (Wrap::Handshake(kind, key), _) => {
                selector = [key];
                out.scb = Some((kind, &selector));
                Ok(encode(&out, None)?)
            }
            (Wrap::Plain, None) => Ok(encode(&out, None)?),
            (Wrap::Plain, Some(session)) => {
                let sealed;
                if command.data.is_empty() {
                    out.scb = Some((scs::CMD_MAC, &[]));
                } else {
                    sealed = session.encrypt_command(&command.data);
                    out.scb = Some((scs::CMD_ENC, &[]));
                    out.data = &sealed;
                }
                Ok(encode(&out, Some(&mut |m: &[u8]| session.command_mac(m)))?)
            }
        }
    }

    /// Reads until a reply from our PD with `sqn` arrives (`Some`) or the reply timeout
    /// passes (`None`). Our own echo on a two-wire adapter, other PDs' replies and
    /// corrupted packets are skipped.
    async fn await_reply<P: Port>(
        &mut self,
        port: &mut P,
        sqn: u8,
    ) -> Result<Option<Packet>, LinkError> {
        let deadline = Instant::now() + self.reply_timeout;
        let mut buf = [0u8; 256];
        loop {
            while let Some(next) = self.decoder.next_packet() {
                match next {
                    // BUSY (OSDP 2.2 §7.17) asks for the same command again later: keep
                    // waiting, and the timeout resends it with the same SQN.
                    Ok(p) if p.reply && p.address == self.address && p.code == reply::BUSY => {}
                    Ok(p) if p.reply && p.address == self.address && p.sqn == sqn => {
                        return Ok(Some(p));
                    }
                    Ok(_) => {}
                    Err(err) => {
                        self.frame_errors += 1;
                        tracing::debug!(%err, "OSDP framing error");
                    }
                }
            }
            let n = match timeout_at(deadline, port.read(&mut buf)).await {
                Err(_elapsed) => return Ok(None),
                Ok(read) => read.map_err(LinkError::Read)?,
            };
            if n == 0 {
                return Err(LinkError::Closed);
            }
            self.decoder.push(&buf[..n]);
        }
    }

    /// Authenticates and decrypts a reply (secure channel) and reads its DATA.
    fn open(&mut self, packet: Packet) -> Result<Reply, LinkError> {
        let Some(session) = self.session.as_mut() else {
            return Ok(parse_reply(packet.code, &packet.data)?);
        };
        let (Some(scb), Some(mac)) = (&packet.scb, &packet.mac) else {
            return Err(LinkError::Secure(format!(
                "PD sent reply {:#04x} without a MAC",
                packet.code
            )));
        };
        session.verify_reply(&packet.authenticated, mac)?;
        let data = if scb.kind == scs::REPLY_ENC && !packet.data.is_empty() {
            session.decrypt_reply(&packet.data)?
        } else {
            packet.data
        };
        Ok(parse_reply(packet.code, &data)?)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{DuplexStream, duplex};

    use super::*;

    /// A scripted PD: answers each command with ACK (same address and SQN), except that it
    /// stays silent for the commands whose index is in `silent`, and echoes every command
    /// first as a two-wire adapter does. Returns the SQNs it saw.
    async fn fake_pd(mut port: DuplexStream, silent: Vec<usize>) -> Vec<u8> {
        let mut decoder = Decoder::default();
        let mut seen = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            let Ok(n) = port.read(&mut buf).await else {
                return seen;
            };
            if n == 0 {
                return seen;
            }
            decoder.push(&buf[..n]);
            while let Some(Ok(cmd)) = decoder.next_packet() {
                let index = seen.len();
                seen.push(cmd.sqn);
                let _ = port.write_all(&buf[..n]).await;
                if silent.contains(&index) {
                    continue;
                }
                let ack = OutPacket {
                    address: cmd.address,
                    reply: true,
                    sqn: cmd.sqn,
                    crc: true,
                    scb: None,
                    code: reply::ACK,
                    data: &[],
                };
                let _ = port.write_all(&encode(&ack, None).unwrap()).await;
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn sequence_numbers_cycle_and_an_unanswered_command_is_resent_unchanged() {
        let (cp, pd) = duplex(1024);
        let pd = tokio::spawn(fake_pd(pd, vec![1]));
        let mut cp = cp;
        let mut link = Link::new(3, Duration::from_millis(200));
        for _ in 0..5 {
            assert_eq!(
                link.transact(&mut cp, &Command::poll()).await.unwrap(),
                Reply::Ack
            );
        }
        drop(cp);
        // The second command went unanswered once and was repeated with the same SQN.
        assert_eq!(pd.await.unwrap(), [0, 1, 1, 2, 3, 1]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_pd_is_reported_after_the_retries() {
        let (cp, pd) = duplex(1024);
        let pd = tokio::spawn(fake_pd(pd, (0..10).collect()));
        let mut cp = cp;
        let mut link = Link::new(3, Duration::from_millis(200));
        let started = Instant::now();
        let err = link.transact(&mut cp, &Command::poll()).await.unwrap_err();
        assert!(
            matches!(err, LinkError::NoReply { attempts: 3, .. }),
            "{err}"
        );
        assert_eq!(started.elapsed(), Duration::from_millis(600));
        drop(cp);
        assert_eq!(pd.await.unwrap(), [0, 0, 0]);
    }
}
