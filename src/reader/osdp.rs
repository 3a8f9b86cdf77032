//! OSDP readers (SIA OSDP 2.2 over RS-485), Control Panel side.
//!
//! One task per bus owns the serial port and polls each PD on it in turn; a bus with one PD
//! is the common case (the server-room door), several `[[reader]]` entries with the same
//! `path` and different `address` share one bus. Each PD has its own link (sequence
//! numbers, secure channel session), online state, reader output and feedback queue.
//!
//! A PD is brought online by asking for its identity (ID) and capabilities (CAP) and running
//! the secure channel handshake unless `secure = false`. It is then polled every `poll_ms`;
//! card data comes back as the reply to a poll (osdp_RAW) and is reported as a card. A door
//! decision is shown on the reader with a temporary LED colour and a beep, sent in place of
//! the next poll. A PD that stops answering (after the retries in `link.rs`) or fails the
//! secure channel is marked offline (the daemon raises `reader_offline`, and no card from it
//! can open the door) and is tried again after its own backoff, starting over at sequence
//! number 0, while the other PDs keep being polled. Only a failure of the port itself takes
//! every PD on the bus offline and reopens the port. One exception to going offline: when
//! the PD still answers but the secure channel's MAC chain broke (a reply lost on the line;
//! libosdp's PD then refuses the resent command), the handshake is run again at once, at
//! most every 10 s, so a single lost reply does not raise an alarm.
//!
//! The PD's local status (osdp_LSTATR: tamper, power failure; asked once on connect, then
//! sent by the PD on change) raises or clears `reader_tamper` / `reader_power` at the door.
//! An admin can send a PD maintenance commands ([`OsdpRequest`]), each in place of a poll:
//! a new key (osdp_KEYSET, only over the secure channel), an output switched (osdp_OUT), or
//! a new address and speed (osdp_COMSET). After the PD's osdp_COM it listens at the new
//! address only: the reader stays offline, its detail saying so, until the configuration
//! matches and the daemon is restarted (the daemon never rewrites its configuration).
//!
//! Pure layers: `crc` (packet checks), `packet` (framing and an incremental decoder),
//! `message` (commands built, replies read), `secure` (the secure channel's keys, MACs and
//! encryption); `link` does one PD's command/reply exchange over a byte stream.

pub mod crc;
pub mod link;
pub mod message;
pub mod packet;
pub mod secure;

use std::collections::VecDeque;
use std::path::Path;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep, sleep_until};
use tokio_serial::{ClearBuffer, SerialPort, SerialPortBuilderExt, SerialStream};
use tracing::Instrument;

use crate::config::{OsdpKey, OsdpReaderConfig};
use crate::door::state::Alarm;
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

/// Runs one OSDP bus (every reader configured on one serial port) until the readers'
/// shutdown is cancelled or every door controller on it went away. Never returns an error:
/// a missing, silent or untrusted PD is reported as [`ReaderStatus::Offline`] and retried.
pub async fn run(members: Vec<BusMember>) {
    let Some(first) = members.first() else {
        return;
    };
    let (path, baud) = (first.config.path.clone(), first.config.baud);
    let shutdown = first.io.shutdown.clone();
    let span = tracing::info_span!("osdp_bus", path = %path.display());
    let mut pds: Vec<Pd> = members.into_iter().map(Pd::new).collect();
    async move {
        let mut backoff = Backoff::default();
        loop {
            let ended = tokio::select! {
                biased;
                () = shutdown.cancelled() => return,
                ended = serve_bus(&path, baud, &mut pds, &mut backoff) => ended,
            };
            let Err(err) = ended else {
                return; // every door controller on the bus has shut down
            };
            for pd in &mut pds {
                pd.offline(&err);
            }
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

/// A request to one OSDP reader from the API. `reply` gets the PD's answer, or why there
/// is none (a refusal, the reader offline), in words for the caller.
pub struct OsdpRequest {
    pub action: OsdpAction,
    pub reply: oneshot::Sender<Result<OsdpAnswer, String>>,
}

/// What an [`OsdpRequest`] asks the PD to do.
pub enum OsdpAction {
    /// osdp_KEYSET with this new key, only over the established secure channel. The key is
    /// not kept anywhere after the send.
    Keyset(Scbk),
    /// osdp_OUT: switch `output` on or off, for `timer_100ms` and then back to its
    /// permanent state, or permanently (`None`).
    Output {
        output: u8,
        on: bool,
        timer_100ms: Option<u16>,
    },
    /// osdp_COMSET: move the PD to this address and speed.
    Comset { address: u8, baud: u32 },
}

impl OsdpAction {
    pub fn name(&self) -> &'static str {
        match self {
            OsdpAction::Keyset(_) => "KEYSET",
            OsdpAction::Output { .. } => "OUT",
            OsdpAction::Comset { .. } => "COMSET",
        }
    }

    fn command(&self) -> Command {
        match *self {
            OsdpAction::Keyset(ref key) => Command::keyset(key),
            OsdpAction::Output {
                output,
                on,
                timer_100ms,
            } => {
                let control = match (on, timer_100ms) {
                    (true, None) => message::out::PERMANENT_ON,
                    (false, None) => message::out::PERMANENT_OFF,
                    (true, Some(_)) => message::out::TEMPORARY_ON,
                    (false, Some(_)) => message::out::TEMPORARY_OFF,
                };
                Command::output(output, control, timer_100ms.unwrap_or(0))
            }
            OsdpAction::Comset { address, baud } => Command::comset(address, baud),
        }
    }
}

/// The PD's answer to an [`OsdpRequest`] it carried out.
#[derive(Debug, PartialEq, Eq)]
pub enum OsdpAnswer {
    /// osdp_ACK.
    Acknowledged,
    /// osdp_COM: the address and speed the PD now uses.
    Moved { address: u8, baud: u32 },
}

/// One reader on a bus, as the daemon hands it to [`run`].
pub struct BusMember {
    pub config: OsdpReaderConfig,
    pub io: ReaderIo,
    pub requests: mpsc::Receiver<OsdpRequest>,
}

/// One PD on the bus and everything the bus task keeps for it.
struct Pd {
    requests: mpsc::Receiver<OsdpRequest>,
    config: OsdpReaderConfig,
    output: ReaderOutput,
    feedback: mpsc::Receiver<Feedback>,
    span: tracing::Span,
    link: Link,
    key: Option<(Scbk, bool)>,
    online: bool,
    /// Its door controller has shut down: the PD is no longer polled.
    gone: bool,
    pending: VecDeque<Command>,
    next_due: Instant,
    backoff: Backoff,
    last_resecure: Option<Instant>,
    /// The address and speed the PD reported after COMSET: it no longer answers at the
    /// configured ones, which its offline detail says until the daemon is restarted.
    moved: Option<(u8, u32)>,
}

impl Pd {
    fn new(
        BusMember {
            config,
            io,
            requests,
        }: BusMember,
    ) -> Pd {
        let span = tracing::info_span!(
            "osdp_reader",
            path = %config.path.display(),
            address = config.address
        );
        warn_about_key(&config, &span);
        Pd {
            requests,
            link: Link::new(config.address, config.reply_timeout),
            config,
            output: io.output,
            feedback: io.feedback,
            span,
            key: None,
            online: false,
            gone: false,
            pending: VecDeque::new(),
            next_due: Instant::now(),
            backoff: Backoff::default(),
            last_resecure: None,
            moved: None,
        }
    }

    /// Marks the PD offline with `err` and forgets its link: the next try starts at
    /// sequence number 0, which makes the PD drop its own session state too.
    fn offline(&mut self, err: &OsdpError) {
        let path = self.config.path.display();
        let detail = match self.moved {
            Some((address, baud)) => format!(
                "{path}: the PD moved to address {address} at {baud} baud (COMSET); set the reader's address and baud to match and restart lawang"
            ),
            None => format!("{path}: {err}"),
        };
        self.output.set_status(ReaderStatus::Offline { detail });
        self.online = false;
        self.link = Link::new(self.config.address, self.config.reply_timeout);
        self.pending.clear();
        self.last_resecure = None;
        self.next_due = Instant::now();
    }

    /// One turn on the bus: a connection attempt or one command. `Err` only when the port
    /// itself failed; a PD's own failure marks it offline and schedules its next try.
    async fn step(
        &mut self,
        port: &mut SerialStream,
        bus_backoff: &mut Backoff,
    ) -> Result<(), OsdpError> {
        let result = if self.online {
            match self.requests.try_recv() {
                Ok(request) => self.serve(port, request).await.map(|()| true),
                Err(_) => self.poll(port).await,
            }
        } else {
            self.connect(port).await.map(|()| {
                bus_backoff.reset();
                true
            })
        };
        match result {
            Ok(true) => Ok(()),
            Ok(false) => {
                self.gone = true;
                Ok(())
            }
            Err(OsdpError::Link(err)) if err.is_port_failure() => Err(err.into()),
            Err(err) => {
                // Requests made while the PD is away would otherwise wait for it.
                while let Ok(request) = self.requests.try_recv() {
                    let _ = request
                        .reply
                        .send(Err(format!("the reader is offline: {err}")));
                }
                self.offline(&err);
                self.next_due = Instant::now() + self.backoff.next_delay();
                Ok(())
            }
        }
    }

    async fn connect(&mut self, port: &mut SerialStream) -> Result<(), OsdpError> {
        self.key = load_key(&self.config.key).await?;
        let started = Instant::now();
        let id = match self.link.transact(port, &Command::id()).await? {
            Reply::PdId(id) => id,
            other => return Err(unexpected("ID", &other)),
        };
        let caps = match self.link.transact(port, &Command::cap()).await? {
            Reply::PdCap(caps) => caps,
            other => return Err(unexpected("CAP", &other)),
        };
        if let Some((scbk, default_key)) = &self.key {
            let offers = caps
                .iter()
                .any(|c| c.function == Capability::SECURE_CHANNEL && c.compliance & 1 != 0);
            if !offers {
                return Err(OsdpError::NoSecureCapability);
            }
            self.link.establish_secure(port, scbk, *default_key).await?;
        }
        tracing::info!(
            vendor = %hex::encode_upper(id.vendor),
            model = id.model,
            serial = id.serial,
            secure = self.link.is_secure(),
            took_ms = started.elapsed().as_millis() as u64,
            "OSDP PD identified"
        );
        self.output.set_status(ReaderStatus::Online);
        self.online = true;
        self.backoff.reset();
        self.next_due = Instant::now();
        // Feedback for a read before an outage would light the LED for nobody.
        while self.feedback.try_recv().is_ok() {}
        // PDs report tamper and power changes unasked (osdp_LSTATR as a poll reply), but
        // only changes: ask once for the state they are in now.
        self.pending.push_back(Command::local_status());
        // The idle colour says "locked"; feedback flashes over it and reverts to it.
        self.pending
            .push_back(Command::led_permanent(0, 0, IDLE_LED));
        Ok(())
    }

    /// Runs one API request. A PD's refusal is an answer to the caller, not a failure of
    /// the PD; a broken exchange is both.
    async fn serve(
        &mut self,
        port: &mut SerialStream,
        OsdpRequest { action, reply }: OsdpRequest,
    ) -> Result<(), OsdpError> {
        let name = action.name();
        if matches!(action, OsdpAction::Keyset(_)) && !self.link.is_secure() {
            let _ = reply.send(Err(
                "the reader is not on the secure channel: KEYSET is only sent encrypted".into(),
            ));
            return Ok(());
        }
        let answer = self.link.transact(port, &action.command()).await;
        self.next_due = Instant::now() + self.config.poll;
        let answer = match (answer, &action) {
            (Ok(Reply::Ack), OsdpAction::Keyset(_)) => {
                tracing::warn!(
                    "KEYSET acknowledged: the PD now holds a new key; point scbk_file at it"
                );
                Ok(OsdpAnswer::Acknowledged)
            }
            (Ok(Reply::Ack), OsdpAction::Output { output, on, .. }) => {
                tracing::info!(output, on, "OUT acknowledged");
                Ok(OsdpAnswer::Acknowledged)
            }
            (Ok(Reply::Com { address, baud }), OsdpAction::Comset { .. }) => {
                tracing::warn!(
                    address,
                    baud,
                    "COMSET answered: the PD now listens at a new address and speed; the reader is offline until the configuration matches"
                );
                self.moved = Some((address, baud));
                let _ = reply.send(Ok(OsdpAnswer::Moved { address, baud }));
                // Through the usual offline path, so the reader's alarm is raised at once
                // and a PD put back by hand is found again.
                self.offline(&OsdpError::Unexpected {
                    command: name,
                    reply: format!("COM (address {address}, {baud} baud)"),
                });
                self.next_due = Instant::now() + self.backoff.next_delay();
                return Ok(());
            }
            (Ok(other), _) => Err(unexpected(name, &other).to_string()),
            (Err(err), _) => {
                let _ = reply.send(Err(format!("no answer to {name}: {err}")));
                return Err(err.into());
            }
        };
        let _ = reply.send(answer);
        Ok(())
    }

    /// Sends the next queued feedback command, or a poll. `Ok(false)` once the door
    /// controller is gone.
    async fn poll(&mut self, port: &mut SerialStream) -> Result<bool, OsdpError> {
        while let Ok(fb) = self.feedback.try_recv() {
            self.pending.extend(feedback_commands(fb));
        }
        let command = self.pending.pop_front().unwrap_or_else(Command::poll);
        let reply = match (self.link.transact(port, &command).await, &self.key) {
            (Ok(reply), _) => reply,
            // The PD answers but the MAC chain broke (a reply lost on the line): one new
            // handshake, at most every RESECURE_INTERVAL, before giving up.
            (Err(LinkError::Secure(why)), Some((scbk, default_key)))
                if self
                    .last_resecure
                    .is_none_or(|at| at.elapsed() >= RESECURE_INTERVAL) =>
            {
                tracing::warn!(%why, "secure channel broken; running the handshake again");
                self.last_resecure = Some(Instant::now());
                self.link.restart_secure(port, scbk, *default_key).await?;
                self.next_due = Instant::now();
                return Ok(true);
            }
            (Err(err), _) => return Err(err.into()),
        };
        self.next_due = Instant::now() + self.config.poll;
        handle_reply(&command, reply, &self.output).await
    }
}

/// Warnings about the configured key, once at start-up.
fn warn_about_key(config: &OsdpReaderConfig, span: &tracing::Span) {
    match &config.key {
        OsdpKey::Install => {
            tracing::warn!(parent: span, "install_mode: secure channel with the publicly known default key SCBK-D");
        }
        OsdpKey::File(path) => {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).map(|m| m.permissions().mode());
            if mode.is_ok_and(|mode| mode & 0o077 != 0) {
                tracing::warn!(parent: span, key_file = %path.display(), "scbk_file is readable by other users: chmod 0600 it");
            }
        }
        OsdpKey::None => {
            tracing::warn!(parent: span, "secure = false: card data travels in clear on the bus");
        }
    }
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

/// One open of the port, until the port fails (`Err`) or every PD's controller is gone
/// (`Ok`). PDs are served in configuration order whenever they are due, one exchange (or
/// one connection attempt) at a time, so a PD being retried delays the others by at most
/// its reply timeouts and never stops them.
async fn serve_bus(
    path: &Path,
    baud: u32,
    pds: &mut [Pd],
    backoff: &mut Backoff,
) -> Result<(), OsdpError> {
    let mut port: SerialStream =
        tokio_serial::new(path.to_string_lossy(), baud).open_native_async()?;
    port.clear(ClearBuffer::All)?;
    for pd in pds.iter_mut() {
        pd.next_due = Instant::now();
    }
    loop {
        let Some(due) = pds.iter().filter(|p| !p.gone).map(|p| p.next_due).min() else {
            return Ok(());
        };
        sleep_until(due).await;
        for pd in pds.iter_mut() {
            if pd.gone || pd.next_due > Instant::now() {
                continue;
            }
            let span = pd.span.clone();
            pd.step(&mut port, backoff).instrument(span).await?;
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
        Reply::LocalStatus { tamper, power } => {
            tracing::debug!(tamper, power, "PD local status");
            return Ok(output.reader_alarm(Alarm::ReaderTamper, tamper).await
                && output.reader_alarm(Alarm::ReaderPower, power).await);
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

/// The reader's LED between taps: the door is locked.
const IDLE_LED: LedColour = LedColour::Red;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_requests_pick_the_control_code_and_timer() {
        let out = |on, timer_100ms| {
            OsdpAction::Output {
                output: 3,
                on,
                timer_100ms,
            }
            .command()
            .data
        };
        assert_eq!(out(true, None), [3, message::out::PERMANENT_ON, 0, 0]);
        assert_eq!(out(false, None), [3, message::out::PERMANENT_OFF, 0, 0]);
        assert_eq!(out(true, Some(50)), [3, message::out::TEMPORARY_ON, 50, 0]);
        assert_eq!(
            out(false, Some(300)),
            [3, message::out::TEMPORARY_OFF, 0x2C, 0x01]
        );
    }
}
