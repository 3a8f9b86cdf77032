//! The PN532 session: wake the chip, configure it, then poll for a type A card.
//!
//! A poll that goes unanswered or is answered wrongly re-initialises the chip without
//! closing the port (a brown-out resets it to sleep); only when re-initialising fails too
//! is the reader offline.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Instant, sleep, timeout_at};

use super::{Reader, SerialError};
use crate::reader::frame::pn532::{
    ACK, IN_LIST_PASSIVE_TARGET, InformationFrame, Pn532Decoder, Pn532Error, Pn532Frame,
    RF_CONFIGURATION_RETRIES, SAM_CONFIGURATION, TFI_CHIP, WAKE_UP, command,
    parse_in_list_passive_target,
};

/// How long the chip may take to acknowledge and answer one command. With MaxRetries set
/// a poll with no card answers in a few milliseconds.
const REPLY_TIMEOUT: Duration = Duration::from_millis(500);
/// Pause between polls: a card is seen within a tenth of a second of arriving.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Polls until the port fails (`Err`) or the controller is gone (`Ok`).
pub(super) async fn poll(reader: Reader<'_>) -> Result<(), SerialError> {
    let mut chip = Chip {
        reader,
        decoder: Pn532Decoder::default(),
        pending: VecDeque::new(),
    };
    loop {
        chip.init().await?;
        chip.reader.online();
        loop {
            let response = match chip
                .transact("InListPassiveTarget", &IN_LIST_PASSIVE_TARGET)
                .await
            {
                Ok(response) => response,
                Err(
                    err @ (SerialError::Pn532Timeout { .. } | SerialError::Pn532Refused { .. }),
                ) => {
                    tracing::debug!(%err, "PN532 poll failed, re-initialising");
                    break;
                }
                Err(err) => return Err(err),
            };
            match parse_in_list_passive_target(response.data()) {
                Ok(Some(card)) => {
                    tracing::debug!(%card, "card read");
                    if !chip.reader.output.card(card).await {
                        return Ok(());
                    }
                }
                Ok(None) => {}
                Err(err) => chip.reader.errors.record(&err),
            }
            sleep(POLL_INTERVAL).await;
        }
    }
}

struct Chip<'a> {
    reader: Reader<'a>,
    decoder: Pn532Decoder,
    /// Frames decoded from one read and not yet looked at.
    pending: VecDeque<Result<Pn532Frame, Pn532Error>>,
}

impl Chip<'_> {
    /// Aborts whatever the chip was doing, wakes it and puts it in normal mode with a
    /// bounded number of activation retries.
    async fn init(&mut self) -> Result<(), SerialError> {
        self.decoder.clear();
        self.pending.clear();
        self.write(&ACK).await?;
        self.write(&WAKE_UP).await?;
        self.transact("SAMConfiguration", &SAM_CONFIGURATION)
            .await?;
        self.transact("RFConfiguration", &RF_CONFIGURATION_RETRIES)
            .await?;
        Ok(())
    }

    /// Sends one command and returns the chip's response to it. An ACK lost to noise is
    /// forgiven when the response itself arrives; stale responses to earlier commands are
    /// skipped.
    async fn transact(
        &mut self,
        name: &'static str,
        data: &[u8],
    ) -> Result<InformationFrame, SerialError> {
        let refused = |detail| SerialError::Pn532Refused {
            command: name,
            detail,
        };
        let frame = command(data).ok_or(refused("command too long"))?;
        let expected = data.first().map(|code| code.wrapping_add(1));
        self.write(&frame).await?;
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            let next = match self.next_frame(deadline).await? {
                Some(next) => next,
                None => {
                    return Err(SerialError::Pn532Timeout {
                        command: name,
                        timeout: REPLY_TIMEOUT,
                    });
                }
            };
            match next {
                Ok(Pn532Frame::Ack) => {}
                Ok(Pn532Frame::Nack) => return Err(refused("the chip asked for a resend")),
                Ok(Pn532Frame::SyntaxError) => {
                    return Err(refused("the chip reported a syntax error"));
                }
                Ok(Pn532Frame::Information(response))
                    if response.tfi() == TFI_CHIP
                        && response.data().first().copied() == expected =>
                {
                    return Ok(response);
                }
                Ok(Pn532Frame::Information(other)) => {
                    tracing::debug!(?other, command = name, "skipping an unexpected PN532 frame");
                }
                Err(err) => self.reader.errors.record(&err),
            }
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), SerialError> {
        self.reader
            .port
            .write_all(bytes)
            .await
            .map_err(SerialError::Write)
    }

    /// The next frame or frame error, or `None` once `deadline` passes.
    async fn next_frame(
        &mut self,
        deadline: Instant,
    ) -> Result<Option<Result<Pn532Frame, Pn532Error>>, SerialError> {
        let mut buf = [0u8; 64];
        loop {
            if let Some(next) = self.pending.pop_front() {
                return Ok(Some(next));
            }
            let Ok(read) = timeout_at(deadline, self.reader.port.read(&mut buf)).await else {
                return Ok(None);
            };
            let n = read.map_err(SerialError::Read)?;
            if n == 0 {
                return Err(SerialError::Closed);
            }
            self.pending.extend(self.decoder.feed(&buf[..n]));
        }
    }
}
