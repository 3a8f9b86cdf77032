//! OSDP readers (SIA OSDP 2.2 over RS-485), Control Panel side.
//!
//! One task per reader owns its serial port and the one PD on it. A session opens the
//! port, asks the PD for its identity (ID) and capabilities (CAP), runs the secure channel
//! handshake unless `secure = false`, and only then marks the reader online. It then polls
//! every `poll_ms`; card data comes back as the reply to a poll (osdp_RAW) and is reported
//! as a card. A door decision is shown on the reader with a temporary LED colour and a
//! beep, sent in place of the next poll. A PD that stops answering (after the retries in
//! `link.rs`) or fails the secure channel ends the session: the reader is marked offline
//! (the daemon raises `reader_offline`, and no card from it can open the door) and the port
//! is reopened with the serial driver's backoff, starting over at sequence number 0. One
//! exception: when the PD still answers but the secure channel's MAC chain broke (a reply
//! lost on the line; libosdp's PD then refuses the resent command), the handshake is run
//! again at once, at most every 10 s, so a single lost reply does not raise an alarm.
//!
//! Several PDs on one bus would need one task owning the port and polling each address in
//! turn; this driver supports one PD per port, which is how the server-room door is wired.
//!
//! Pure layers: `crc` (packet checks), `packet` (framing and an incremental decoder),
//! `message` (commands built, replies read), `secure` (the secure channel's keys, MACs and
//! encryption); `link` does the command/reply exchange over a byte stream.

pub mod crc;
pub mod link;
pub mod message;
pub mod packet;
pub mod secure;

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_serial::{ClearBuffer, SerialPort, SerialPortBuilderExt, SerialStream};
use tracing::Instrument;

use crate::config::{OsdpKey, OsdpReaderConfig};
use crate::reader::serial::Backoff;
use crate::reader::{Feedback, ReaderEvent, ReaderIo, ReaderOutput, ReaderStatus};
use link::{Link, LinkError};
use message::{Capability, Command, LedColour, Nak, Reply, card_credential};
use secure::{SCBK_D, Scbk};

/// How long feedback shows on the reader, in the 100 ms units OSDP counts in.
const FEEDBACK_LED_100MS: u16 = 20;
const GRANTED_BEEP_100MS: u8 = 2;
const REFUSED_BEEP_100MS: u8 = 10;

/// A broken secure channel is re-established silently at most this often; more often than
/// that the reader is reported offline, since something on the line is wrong.
const RESECURE_INTERVAL: Duration = Duration::from_secs(10);

/// Why a session ended; shown as the reader's offline detail.
#[derive(Debug, thiserror::Error)]
pub enum OsdpError {
    #[error("cannot open: {0}")]
    Open(#[from] tokio_serial::Error),
    #[error("cannot read scbk_file {path}: {reason}")]
    Key { path: String, reason: String },
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("PD answered {command} with {reply}")]
    Unexpected {
        command: &'static str,
        reply: String,
    },
    #[error("PD does not offer the secure channel (CAP function 9), and secure = true")]
    NoSecureCapability,
}

/// Runs one OSDP reader until `io.shutdown` is cancelled or the door controller goes away.
/// Never returns an error: a missing, silent or untrusted PD is reported as
/// [`ReaderStatus::Offline`] and retried.
pub async fn run(config: OsdpReaderConfig, io: ReaderIo) {
    let ReaderIo {
        output,
        mut feedback,
        shutdown,
    } = io;
    let span = tracing::info_span!(
        "osdp_reader",
        path = %config.path.display(),
        address = config.address
    );
    if config.key == OsdpKey::Install {
        tracing::warn!(parent: &span, "install_mode: secure channel with the publicly known default key SCBK-D");
    }
    if let OsdpKey::File(path) = &config.key {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map(|m| m.permissions().mode());
        if mode.is_ok_and(|mode| mode & 0o077 != 0) {
            tracing::warn!(parent: &span, key_file = %path.display(), "scbk_file is readable by other users: chmod 0600 it");
        }
    }
    if config.key == OsdpKey::None {
        tracing::warn!(parent: &span, "secure = false: card data travels in clear on the bus");
    }
    async move {
        let mut backoff = Backoff::default();
        loop {
            let ended = tokio::select! {
                biased;
                () = shutdown.cancelled() => return,
                ended = session(&config, &output, &mut feedback, &mut backoff) => ended,
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

/// Reads the key the configuration names. The key is never logged; errors name the file.
async fn load_key(key: &OsdpKey) -> Result<Option<(Scbk, bool)>, OsdpError> {
    match key {
        OsdpKey::None => Ok(None),
        OsdpKey::Install => Ok(Some((Scbk(SCBK_D), true))),
        OsdpKey::File(path) => {
            let failed = |reason: String| OsdpError::Key {
                path: path.display().to_string(),
                reason,
            };
            let text = tokio::fs::read_to_string(path)
                .await
                .map_err(|e| failed(e.to_string()))?;

            let scbk = Scbk::parse(&text).map_err(|e| failed(e.to_string()))?;
            Ok(Some((scbk, false)))
        }
    }
}

/// One open of the port, until it fails (`Err`) or the controller is gone (`Ok`).
async fn session(
    config: &OsdpReaderConfig,
    output: &ReaderOutput,
    feedback: &mut mpsc::Receiver<Feedback>,
    backoff: &mut Backoff,
) -> Result<(), OsdpError> {
    let key = load_key(&config.key).await?;
    let port: SerialStream =
        tokio_serial::new(config.path.to_string_lossy(), config.baud).open_native_async()?;
    port.clear(ClearBuffer::All)?;
    let mut link = Link::new(port, config.address, config.reply_timeout);
    let started = Instant::now();

    let id = match link.transact(&Command::id()).await? {
        Reply::PdId(id) => id,
        other => return Err(unexpected("ID", &other)),
    };
    let caps = match link.transact(&Command::cap()).await? {
        Reply::PdCap(caps) => caps,
        other => return Err(unexpected("CAP", &other)),
    };
    if let Some((scbk, default_key)) = &key {
        let offers = caps
            .iter()
            .any(|c| c.function == Capability::SECURE_CHANNEL && c.compliance & 1 != 0);
        if !offers {
            return Err(OsdpError::NoSecureCapability);
        }
        link.establish_secure(scbk, *default_key).await?;
    }
    tracing::info!(
        vendor = %hex::encode_upper(id.vendor),
        model = id.model,
        serial = id.serial,
        secure = link.is_secure(),
        took_ms = started.elapsed().as_millis() as u64,
        "OSDP PD identified"
    );
    output.set_status(ReaderStatus::Online);
    backoff.reset();
    // Feedback for a read before an outage would light the LED for nobody.
    while feedback.try_recv().is_ok() {}

    let mut pending: VecDeque<Command> = VecDeque::new();
    let mut feedback_open = true;
    let mut next_poll = Instant::now();
    let mut last_resecure: Option<Instant> = None;
    loop {
        tokio::select! {
            biased;
            fb = feedback.recv(), if feedback_open => match fb {
                Some(fb) => pending.extend(feedback_commands(fb)),
                None => feedback_open = false,
            },
            () = sleep_until(next_poll) => {
                let command = pending.pop_front().unwrap_or_else(Command::poll);
                let reply = match (link.transact(&command).await, &key) {
                    (Ok(reply), _) => reply,
                    // The PD answers but the MAC chain broke (a reply lost on the line):
                    // one new handshake, at most every RESECURE_INTERVAL, before giving up.
                    (Err(LinkError::Secure(why)), Some((scbk, default_key)))
                        if last_resecure.is_none_or(|at| at.elapsed() >= RESECURE_INTERVAL) =>
                    {
                        tracing::warn!(%why, "secure channel broken; running the handshake again");
                        last_resecure = Some(Instant::now());
                        link.restart_secure(scbk, *default_key).await?;
                        next_poll = Instant::now();
                        continue;
                    }
                    (Err(err), _) => return Err(err.into()),
                };
                next_poll = Instant::now() + config.poll;
                if !handle_reply(&command, reply, output).await? {
                    return Ok(());
                }
            }
        }
    }
}

/// Acts on a reply in the polling phase. `Ok(false)` once the door controller is gone.
async fn handle_reply(
    command: &Command,
    reply: Reply,
    output: &ReaderOutput,
) -> Result<bool, OsdpError> {
    match reply {
        Reply::Raw(card) => match card_credential(&card) {
            Ok(credential) => {
                tracing::debug!(%credential, bits = card.bits, "card read");
                return Ok(output.card(credential).await);
            }
            Err(err) => {
                tracing::warn!(%err, format = card.format, bits = card.bits, "card data refused");
                return Ok(output.unreadable(err.to_string()).await);
            }
        },
        Reply::Nak(nak) if command.code == message::cmd::POLL => {
            // A PD that refuses even a poll is not usable: most often it demands the
            // secure channel (NAK 6) while this reader is configured `secure = false`.
            return Err(unexpected("POLL", &Reply::Nak(nak)));
        }
        Reply::Nak(Nak(code)) if code == Nak::BAD_SEQUENCE => {
            return Err(unexpected("a command", &Reply::Nak(Nak(code))));
        }
        Reply::Nak(nak) => {
            tracing::warn!(command = command.code, %nak, "PD refused a command");
        }
        // Card + PIN: the door controller collects the keys (never logged: a PIN).
        Reply::Keypad { keys, .. } => {
            return Ok(output.send(ReaderEvent::Keypad(keys.to_text()), None).await);
        }
        Reply::Ack | Reply::Busy => {}
        other => tracing::debug!(reply = ?other, "OSDP reply not acted on"),
    }
    Ok(true)
}

fn unexpected(command: &'static str, reply: &Reply) -> OsdpError {
    let reply = match reply {
        Reply::Nak(nak) => nak.to_string(),
        other => format!("{other:?}"),
    };
    OsdpError::Unexpected { command, reply }
}

/// LED and buzzer commands showing a decision: green and a short beep, or red and a long one.
fn feedback_commands(feedback: Feedback) -> [Command; 2] {
    let (colour, beep) = match feedback {
        Feedback::Granted => (LedColour::Green, GRANTED_BEEP_100MS),
        Feedback::Refused => (LedColour::Red, REFUSED_BEEP_100MS),
    };
    [
        Command::led_temporary(0, 0, colour, FEEDBACK_LED_100MS),
        Command::buzzer(0, beep, 0, 1),
    ]
}
