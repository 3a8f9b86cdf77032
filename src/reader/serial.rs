//! Serial card readers: RDM6300 EM4100 modules, Wiegand-to-ASCII converters, hex line
//! readers and the PN532 over its UART.
//!
//! One task per reader owns the port. It opens the device, feeds what arrives to the
//! protocol's pure decoder (`frame/`) and reports cards; when the device disappears (USB
//! unplug, read error, end of file) or cannot be opened it marks the reader offline and
//! reopens with a short, capped backoff, so a replugged reader is read again within 2 s.
//! The PN532 speaks only when asked, so its session (`serial/pn532.rs`) initialises the
//! chip and polls it instead of just listening.

mod pn532;

use std::fmt::Display;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::time::{Instant, sleep};
use tokio_serial::{ClearBuffer, SerialPort, SerialPortBuilderExt, SerialStream};
use tracing::Instrument;

use crate::config::{SerialProtocol, SerialReaderConfig};
use crate::reader::frame::CardDecoder;
use crate::reader::frame::line::LineDecoder;
use crate::reader::frame::rdm6300::Rdm6300Decoder;
use crate::reader::frame::wiegand::WiegandDecoder;
use crate::reader::{ReaderIo, ReaderOutput, ReaderStatus};

/// First reopen delay: a glitch costs little.
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
/// Longest reopen delay; with the time to open it keeps a replugged reader under 2 s.
const BACKOFF_MAX: Duration = Duration::from_millis(1600);
/// Frame errors are summarised in the log at most this often, so a noisy or misconfigured
/// line (wrong baud, wrong protocol) cannot flood it.
const ERROR_LOG_INTERVAL: Duration = Duration::from_secs(60);

/// Why a session with the device ended; shown as the reader's offline detail.
#[derive(Debug, thiserror::Error)]
pub enum SerialError {
    #[error("cannot open: {0}")]
    Open(#[from] tokio_serial::Error),
    #[error("read failed: {0}")]
    Read(#[source] std::io::Error),
    #[error("write failed: {0}")]
    Write(#[source] std::io::Error),
    #[error("device closed the line")]
    Closed,
    #[error("PN532 did not answer {command} within {timeout:?}")]
    Pn532Timeout {
        command: &'static str,
        timeout: Duration,
    },
    #[error("PN532 refused {command}: {detail}")]
    Pn532Refused {
        command: &'static str,
        detail: &'static str,
    },
}

/// Runs one serial reader until `io.shutdown` is cancelled or the door controller goes
/// away. Never returns an error: a missing or failing device is reported as
/// [`ReaderStatus::Offline`] and retried.
pub async fn run(config: SerialReaderConfig, io: ReaderIo) {
    let ReaderIo {
        output,
        feedback,
        shutdown,
    } = io;
    // These readers have no LED or buzzer the host can drive.
    drop(feedback);
    let span = tracing::info_span!("serial_reader", path = %config.path.display());
    async move {
        let mut backoff = Backoff::default();
        let mut errors = FrameErrors::default();
        loop {
            let ended = tokio::select! {
                biased;
                () = shutdown.cancelled() => return,
                ended = session(&config, &output, &mut backoff, &mut errors) => ended,
            };
            let Err(err) = ended else {
                return; // the door controller has shut down
            };
            output.set_status(ReaderStatus::Offline {
                detail: format!("{}: {err}", config.path.display()),
            });
            tokio::select! {
                biased;
                () = shutdown.cancelled() => return,
                () = sleep(backoff.next_delay()) => {}
            }
        }
    }
    .instrument(span)
    .await
}

/// One open of the device, until it fails (`Err`) or the controller is gone (`Ok`).
async fn session(
    config: &SerialReaderConfig,
    output: &ReaderOutput,
    backoff: &mut Backoff,
    errors: &mut FrameErrors,
) -> Result<(), SerialError> {
    let port = tokio_serial::new(config.path.to_string_lossy(), config.baud).open_native_async()?;
    // Whatever queued while nobody listened is stale: a tap from minutes ago must not open
    // the door now.
    port.clear(ClearBuffer::All)?;
    let reader = Reader {
        port,
        output,
        backoff,
        errors,
    };
    match &config.protocol {
        SerialProtocol::Rdm6300 => reader.listen(Rdm6300Decoder::default()).await,
        SerialProtocol::WiegandAscii(options) => {
            reader.listen(WiegandDecoder::new(options.clone())).await
        }
        SerialProtocol::Line(technology) => reader.listen(LineDecoder::new(*technology)).await,
        SerialProtocol::Pn532 => pn532::poll(reader).await,
    }
}

/// What a session works with.
struct Reader<'a> {
    port: SerialStream,
    output: &'a ReaderOutput,
    backoff: &'a mut Backoff,
    errors: &'a mut FrameErrors,
}

impl Reader<'_> {
    /// The device answers, so it is online and the next outage starts with a short delay.
    fn online(&mut self) {
        self.output.set_status(ReaderStatus::Online);
        self.backoff.reset();
    }

    /// Reads a line that volunteers card reads.
    async fn listen(mut self, mut decoder: impl CardDecoder) -> Result<(), SerialError> {
        self.output.set_status(ReaderStatus::Online);
        let mut buf = [0u8; 256];
        loop {
            let n = self.port.read(&mut buf).await.map_err(SerialError::Read)?;
            if n == 0 {
                return Err(SerialError::Closed);
            }
            // Bytes prove the device works; an idle reader keeps the backoff it had, so a
            // port that opens but fails at once is not reopened in a tight loop.
            self.backoff.reset();
            for &byte in &buf[..n] {
                match decoder.push(byte) {
                    None => {}
                    Some(Ok(card)) => {
                        tracing::debug!(%card, "card read");
                        if !self.output.card(card).await {
                            return Ok(());
                        }
                    }
                    Some(Err(err)) => {
                        self.output.bad_frame();
                        self.errors.record(&err);
                    }
                }
            }
        }
    }
}

/// Reopen delays: doubling from [`BACKOFF_FIRST`] up to [`BACKOFF_MAX`]. Shared with the
/// OSDP driver, which reopens its port the same way.
#[derive(Debug)]
pub(super) struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            next: BACKOFF_FIRST,
        }
    }
}

impl Backoff {
    pub(super) fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (delay * 2).min(BACKOFF_MAX);
        delay
    }

    pub(super) fn reset(&mut self) {
        self.next = BACKOFF_FIRST;
    }
}

/// Counts frames that were not cards and logs a summary at most once per
/// [`ERROR_LOG_INTERVAL`].
#[derive(Debug, Default)]
struct FrameErrors {
    total: u64,
    unreported: u64,
    last_log: Option<Instant>,
}

impl FrameErrors {
    fn record(&mut self, err: &dyn Display) {
        self.total += 1;
        self.unreported += 1;
        let now = Instant::now();
        if self
            .last_log
            .is_none_or(|at| now.duration_since(at) >= ERROR_LOG_INTERVAL)
        {
            tracing::warn!(
                errors = self.unreported,
                total = self.total,
                latest = %err,
                "frames that are not card reads on the serial line (noise, bad checksum or parity, wrong protocol or baud?)"
            );
            self.unreported = 0;
            self.last_log = Some(now);
        }
    }
}

#[cfg(test)]
mod tests;
