//! PC/SC contactless readers through pcsc-lite's `pcscd`: one OS thread per configured
//! reader.
//!
//! PC/SC calls block, so the driver runs on its own thread, never on the async runtime.
//! The thread owns one PC/SC context at a time: a context never recovers once pcscd has
//! restarted or the connection to it broke, so on a service-level error the context is
//! dropped and a new one established with backoff. Every wait is short ([`POLL`]) so a
//! cancelled shutdown token is noticed within a few hundred milliseconds.
//!
//! One presentation gives one read: a card is read when it appears and not again until the
//! reader reports the slot empty, or pcsc-lite's card event counter shows that the card
//! was replaced between two polls.

mod apdu;
pub mod profile;

use std::ffi::{CStr, CString};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ::pcsc::{
    Card, Context, Disposition, Error as ScError, Protocols, ReaderState, Scope, ShareMode, State,
};
use tracing::{debug, info, warn};

use crate::reader::{Feedback, ReaderIo, ReaderStatus};
use apdu::UidAnswer;
use profile::{FeedbackChannel, ReaderProfile};

/// Longest single wait inside the driver: bounds how late shutdown and feedback are seen.
const POLL: Duration = Duration::from_millis(200);
/// First wait after the service failed; doubled up to [`BACKOFF_MAX`].
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
/// Kept at 1 s so reads resume within about a second of pcscd coming back.
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// How long to wait for the decision after a read on a reader with feedback hardware, so
/// the LED answers the tap at once instead of at the next poll.
const FEEDBACK_WAIT: Duration = Duration::from_millis(300);
/// After a failed read, how long to wait for the slot to show empty (pcscd polls presence
/// every 400 ms) before calling the card unreadable.
const CARD_LEFT_WITHIN: Duration = Duration::from_millis(500);
/// `IOCTL_CCID_ESCAPE` as pcsc-lite defines it.
const CCID_ESCAPE: u32 = 3500;

#[derive(Debug, thiserror::Error)]
pub enum PcscError {
    #[error("cannot start the thread for PC/SC reader {reader}: {source}")]
    Spawn {
        reader: String,
        source: std::io::Error,
    },
    /// pcscd went away or the context became invalid; only a new context helps.
    #[error("PC/SC service lost: {0}")]
    ServiceLost(ScError),
}

/// Starts the driver for the first PC/SC reader whose name contains `pattern`. `name` is
/// the configured reader name, used for the thread name and logs. The thread ends when
/// `io.shutdown` is cancelled (within about [`POLL`] plus one card exchange).
pub fn spawn(name: String, pattern: String, io: ReaderIo) -> Result<JoinHandle<()>, PcscError> {
    let reader = name.clone();
    std::thread::Builder::new()
        // A NUL in the name would make `spawn` panic; the name is only for humans.
        .name(format!("pcsc-{}", name.replace('\0', " ")))
        .spawn(move || {
            let span = tracing::info_span!("pcsc", reader = %name);
            let _entered = span.enter();
            Driver::new(pattern, io).run();
        })
        .map_err(|source| PcscError::Spawn { reader, source })
}

/// Errors after which the context is useless and must be replaced.
fn is_service_error(e: ScError) -> bool {
    matches!(
        e,
        ScError::NoService
            | ScError::ServiceStopped
            | ScError::InvalidHandle
            | ScError::CommError
            | ScError::Shutdown
            | ScError::UnknownError
            | ScError::InternalError
    )
}

/// Errors from a card exchange that leave the context usable (the card left, or the
/// exchange failed). `CommError` counts as one: readers report a card torn away mid-APDU
/// that way, and if pcscd itself died the next status wait says so.
fn is_card_error(e: ScError) -> bool {
    !matches!(
        e,
        ScError::NoService | ScError::ServiceStopped | ScError::InvalidHandle | ScError::Shutdown
    )
}

struct Driver {
    pattern: String,
    io: ReaderIo,
    backoff: Duration,
    /// Service failures in a row: the first is a warning, the rest debug, so a stopped
    /// pcscd does not flood the log.
    failures: u32,
}

impl Driver {
    fn new(pattern: String, io: ReaderIo) -> Self {
        Driver {
            pattern,
            io,
            backoff: BACKOFF_FIRST,
            failures: 0,
        }
    }

    fn cancelled(&self) -> bool {
        self.io.shutdown.is_cancelled()
    }

    fn offline(&self, detail: String) {
        self.io.output.set_status(ReaderStatus::Offline { detail });
    }

    /// Sleeps in short slices so shutdown is not delayed by a long backoff.
    fn sleep(&self, total: Duration) {
        let end = Instant::now() + total;
        while !self.cancelled() {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
    }

    fn run(mut self) {
        info!(pattern = %self.pattern, "PC/SC driver started");
        while !self.cancelled() {
            let failure = match Context::establish(Scope::User) {
                Ok(ctx) => match self.serve(&ctx) {
                    Ok(()) => break,
                    Err(e) => e.to_string(),
                },
                Err(e) => format!("PC/SC service unavailable: {e}"),
            };
            if self.failures == 0 {
                warn!(%failure, "PC/SC context dropped; re-establishing with backoff");
            } else {
                debug!(%failure, attempt = self.failures, "PC/SC still unavailable");
            }
            self.failures += 1;
            self.offline(failure);
            self.sleep(self.backoff);
            self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
        }
        info!("PC/SC driver stopped");
    }

    /// Serves the configured reader with one context. `Ok` means shutdown.
    fn serve(&mut self, ctx: &Context) -> Result<(), PcscError> {
        let mut pnp = [ReaderState::new(::pcsc::PNP_NOTIFICATION(), State::UNAWARE)];
        while !self.cancelled() {
            // Take the hotplug baseline before listing, so a reader plugged in between the
            // two calls still wakes the wait below.
            status_change(ctx, Duration::ZERO, &mut pnp)?;
            let reader = self.find_reader(ctx)?;
            self.failures = 0;
            self.backoff = BACKOFF_FIRST;
            match reader {
                Some(reader) => self.watch(ctx, &reader)?,
                None => {
                    self.offline(format!("no PC/SC reader matching {:?}", self.pattern));
                    while !self.cancelled() && !status_change(ctx, POLL, &mut pnp)? {
                        self.discard_feedback();
                    }
                }
            }
        }
        Ok(())
    }

    fn find_reader(&self, ctx: &Context) -> Result<Option<CString>, PcscError> {
        match ctx.list_readers_owned() {
            Ok(names) => Ok(names
                .into_iter()
                .find(|n| n.to_string_lossy().contains(&self.pattern))),
            Err(ScError::NoReadersAvailable) => Ok(None),
            Err(e) => Err(PcscError::ServiceLost(e)),
        }
    }

    /// Reads cards on one reader until it disappears (`Ok`), shutdown (`Ok`), or the
    /// service fails (`Err`).
    fn watch(&mut self, ctx: &Context, reader: &CStr) -> Result<(), PcscError> {
        let reader_name = reader.to_string_lossy().into_owned();
        let profile = profile::for_reader(&reader_name);
        info!(
            pcsc_reader = %reader_name,
            model = profile.map_or("unknown", |p| p.model),
            "PC/SC reader found"
        );
        let mut state = [ReaderState::new(reader.to_owned(), State::UNAWARE)];
        // Event count of the presentation already read; `None` while the slot is empty.
        let mut read: Option<u32> = None;
        while !self.cancelled() {
            self.drain_feedback(ctx, reader, profile);
            match ctx.get_status_change(POLL, &mut state) {
                Ok(()) => {}
                Err(ScError::Timeout | ScError::Cancelled) => continue,
                Err(ScError::UnknownReader) => {
                    self.offline(format!("PC/SC reader {reader_name:?} was removed"));
                    return Ok(());
                }
                Err(e) => return Err(PcscError::ServiceLost(e)),
            }
            let now = state[0].event_state();
            let count = state[0].event_count();
            state[0].sync_current_state();
            if now.intersects(State::UNKNOWN | State::IGNORE) {
                self.offline(format!("PC/SC reader {reader_name:?} was removed"));
                return Ok(());
            }
            if now.contains(State::UNAVAILABLE) {
                self.offline(format!("PC/SC reader {reader_name:?} is unavailable"));
                continue;
            }
            self.io.output.set_status(ReaderStatus::Online);
            if now.contains(State::EMPTY) {
                read = None;
            } else if now.contains(State::PRESENT) && read != Some(count) {
                read = Some(count);
                if now.contains(State::MUTE) {
                    self.report_unreadable("card does not answer the reader (no ATR)".into());
                } else {
                    self.read_card(ctx, reader)?;
                }
                self.await_feedback(ctx, reader, profile);
            }
        }
        Ok(())
    }

    fn read_card(&self, ctx: &Context, reader: &CStr) -> Result<(), PcscError> {
        let failure = match get_uid(ctx, reader) {
            Ok(UidAnswer::Uid(credential)) => {
                debug!(card = %credential, "card read");
                if !self.io.output.blocking_card(credential) {
                    debug!("door controller gone; card dropped");
                }
                return Ok(());
            }
            Ok(UidAnswer::Refused(why)) => {
                self.report_unreadable(why);
                return Ok(());
            }
            Ok(UidAnswer::Truncated(len)) => format!("{len}-byte answer to GET UID"),
            Err(e) if !is_card_error(e) => return Err(PcscError::ServiceLost(e)),
            Err(e) => e.to_string(),
        };
        // A card pulled away mid-read is no presentation; one that stays gets a refusal,
        // so the person at the door is not left waiting.
        if card_left(ctx, reader, CARD_LEFT_WITHIN) {
            debug!(%failure, "card left before it was read");
        } else {
            warn!(%failure, "card present but could not be read");
            self.report_unreadable(format!("card could not be read: {failure}"));
        }
        Ok(())
    }

    fn report_unreadable(&self, why: String) {
        info!(%why, "unreadable card");
        if !self.io.output.blocking_unreadable(why) {
            debug!("door controller gone; unreadable card dropped");
        }
    }

    fn drain_feedback(&mut self, ctx: &Context, reader: &CStr, profile: Option<&ReaderProfile>) {
        while let Ok(feedback) = self.io.feedback.try_recv() {
            give_feedback(ctx, reader, profile, feedback);
        }
    }

    fn discard_feedback(&mut self) {
        while self.io.feedback.try_recv().is_ok() {}
    }

    /// Waits briefly for the decision on the card just read, only where there is hardware
    /// to show it.
    fn await_feedback(&mut self, ctx: &Context, reader: &CStr, profile: Option<&ReaderProfile>) {
        if profile.and_then(|p| p.feedback.as_ref()).is_none() {
            return;
        }
        let end = Instant::now() + FEEDBACK_WAIT;
        while Instant::now() < end && !self.cancelled() {
            match self.io.feedback.try_recv() {
                Ok(feedback) => return give_feedback(ctx, reader, profile, feedback),
                Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => return,
                Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {
                    std::thread::sleep(Duration::from_millis(10))
                }
            }
        }
    }
}

/// One `get_status_change`: `Ok(true)` when something changed (states are synced),
/// `Ok(false)` on timeout.
fn status_change(
    ctx: &Context,
    timeout: Duration,
    states: &mut [ReaderState],
) -> Result<bool, PcscError> {
    match ctx.get_status_change(timeout, states) {
        Ok(()) => {
            states.iter_mut().for_each(ReaderState::sync_current_state);
            Ok(true)
        }
        Err(ScError::Timeout | ScError::Cancelled) => Ok(false),
        Err(e) if is_service_error(e) => Err(PcscError::ServiceLost(e)),
        Err(e) => {
            debug!(error = %e, "get_status_change failed");
            Ok(false)
        }
    }
}

/// Whether the slot is, or becomes within `within`, empty: tells a failed read from a
/// card that was pulled away. pcscd notices a removal only at its next presence poll.
fn card_left(ctx: &Context, reader: &CStr, within: Duration) -> bool {
    let end = Instant::now() + within;
    let mut state = [ReaderState::new(reader.to_owned(), State::UNAWARE)];
    let mut timeout = Duration::ZERO;
    loop {
        if ctx.get_status_change(timeout, &mut state).is_ok() {
            if !state[0].event_state().contains(State::PRESENT) {
                return true;
            }
            state[0].sync_current_state();
        }
        timeout = end.saturating_duration_since(Instant::now());
        if timeout.is_zero() {
            return false;
        }
    }
}

fn get_uid(ctx: &Context, reader: &CStr) -> Result<UidAnswer, ScError> {
    let card = ctx.connect(reader, ShareMode::Shared, Protocols::ANY)?;
    let mut buf = [0u8; ::pcsc::MAX_BUFFER_SIZE];
    let answer = card
        .transmit(&apdu::GET_UID, &mut buf)
        .map(apdu::parse_get_uid);
    leave(card);
    answer
}

/// Disconnects without resetting the card (dropping a `Card` would reset it, which other
/// applications on the same reader would notice).
fn leave(card: Card) {
    if let Err((_, e)) = card.disconnect(Disposition::LeaveCard) {
        debug!(error = %e, "disconnect failed");
    }
}

/// Sends the profile's commands for a decision. Best effort: failures are logged at
/// debug and never affect the decision.
fn give_feedback(
    ctx: &Context,
    reader: &CStr,
    profile: Option<&ReaderProfile>,
    feedback: Feedback,
) {
    let Some(commands) = profile.and_then(|p| p.feedback.as_ref()) else {
        return;
    };
    for command in commands.commands(feedback) {
        let sent = match commands.channel {
            FeedbackChannel::PseudoApdu => send_pseudo_apdu(ctx, reader, command),
            FeedbackChannel::Escape => send_escape(ctx, reader, command),
        };
        if let Err(e) = sent {
            debug!(error = %e, ?feedback, "feedback command failed");
        }
    }
}

fn send_pseudo_apdu(ctx: &Context, reader: &CStr, command: &[u8]) -> Result<(), ScError> {
    match ctx.connect(reader, ShareMode::Shared, Protocols::ANY) {
        Ok(card) => {
            let mut buf = [0u8; ::pcsc::MAX_BUFFER_SIZE];
            let sent = card.transmit(command, &mut buf).map(|_| ());
            leave(card);
            sent
        }
        // No card to carry the APDU: the reader takes the same bytes as an escape.
        Err(ScError::NoSmartcard | ScError::RemovedCard | ScError::UnpoweredCard) => {
            send_escape(ctx, reader, command)
        }
        Err(e) => Err(e),
    }
}

fn send_escape(ctx: &Context, reader: &CStr, command: &[u8]) -> Result<(), ScError> {
    let card = ctx.connect(reader, ShareMode::Direct, Protocols::UNDEFINED)?;
    let mut buf = [0u8; ::pcsc::MAX_BUFFER_SIZE];
    let sent = card
        .control(::pcsc::ctl_code(CCID_ESCAPE.into()), command, &mut buf)
        .map(|_| ());
    leave(card);
    sent
}
