//! The door's GPIO inputs: the door contact and the request-to-exit button.
//!
//! One dedicated thread per door waits on the kernel's edge events with the synchronous
//! gpiocdev API (a blocking `poll(2)` with a short timeout, so shutdown is seen within
//! [`POLL_SLICE`]) and hands [`DoorInput`]s to the controller's channel. A thread rather
//! than a tokio task because the waiting is a blocking syscall and the debounce timing must
//! not depend on how busy the async workers are.
//!
//! Debounce: the lines are requested with the kernel's debounce ([`DEBOUNCE`]), so each
//! edge event is already a settled change. A kernel or chip that refuses it gets the lines
//! without, and [`InputLogic`] debounces in software instead: an edge only (re)starts a
//! settle timer, and when the line has been quiet for [`DEBOUNCE`] its level is read and
//! compared with the last one reported.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gpiocdev::line::{Bias, EdgeDetection, EdgeKind, Value};
use tokio::sync::mpsc::{Sender, error::TrySendError};
use tokio_util::sync::CancellationToken;

use super::{GpioError, consumer};
use crate::config::InputLine;
use crate::door::{Contact, DoorInput};

/// Long enough for a reed switch or a push button to stop bouncing, short enough that a
/// quick press of the exit button still counts.
pub const DEBOUNCE: Duration = Duration::from_millis(20);
/// Longest blocking wait, so a cancelled shutdown token ends the thread promptly.
pub(crate) const POLL_SLICE: Duration = Duration::from_millis(100);
/// Pause after a failed wait, so a broken chip cannot spin the thread or flood the log.
const ERROR_PAUSE: Duration = Duration::from_secs(1);
/// How long to wait between attempts to deliver into a full controller channel.
const FULL_RETRY: Duration = Duration::from_millis(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Input {
    Contact,
    ExitButton,
}

impl Input {
    fn name(self) -> &'static str {
        match self {
            Input::Contact => "door contact",
            Input::ExitButton => "exit button",
        }
    }
}

/// A change of a line's logical level, as the kernel reports it (active-low already
/// applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Edge {
    pub input: Input,
    pub active: bool,
}

/// Where the input thread gets its edges and levels: the kernel, or a test's fake.
pub(crate) trait InputSource: Send {
    /// Waits up to `timeout` and returns the edges that arrived (none on timeout).
    fn wait(&mut self, timeout: Duration) -> io::Result<Vec<Edge>>;
    /// The input's current logical level: `true` is active.
    fn is_active(&mut self, input: Input) -> io::Result<bool>;
}

/// What the edges and levels mean for the door. No I/O; time is passed in.
#[derive(Debug)]
pub(crate) struct InputLogic {
    /// `Some` when the kernel does not debounce and this logic must.
    software_debounce: Option<Duration>,
    /// Last contact level reported to the controller (`true` = open).
    contact: Option<bool>,
    /// Last settled exit-button level, for the software path.
    button: bool,
    settle: BTreeMap<Input, Instant>,
}

impl InputLogic {
    pub(crate) fn new(software_debounce: Option<Duration>) -> InputLogic {
        InputLogic {
            software_debounce,
            contact: None,
            button: false,
            settle: BTreeMap::new(),
        }
    }

    /// Takes the levels found at start; the contact's is reported once so the controller
    /// knows the door's state without waiting for it to move. A button held at start is
    /// not a press.
    pub(crate) fn start(
        &mut self,
        contact: Option<bool>,
        button: Option<bool>,
    ) -> Option<DoorInput> {
        self.button = button.unwrap_or(false);
        let open = contact?;
        self.contact = Some(open);
        Some(DoorInput::Contact(contact_state(open)))
    }

    pub(crate) fn edge(&mut self, edge: Edge, now: Instant) -> Option<DoorInput> {
        if let Some(period) = self.software_debounce {
            self.settle.insert(edge.input, now + period);
            return None;
        }
        match edge.input {
            Input::Contact => self.contact_level(edge.active),
            // The kernel has debounced it: every rising edge is one press.
            Input::ExitButton => {
                self.button = edge.active;
                edge.active.then_some(DoorInput::ExitButton)
            }
        }
    }

    /// When the earliest pending settle timer fires.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.settle.values().min().copied()
    }

    /// Inputs whose line has been quiet long enough to read; their timers are cleared.
    pub(crate) fn due(&mut self, now: Instant) -> Vec<Input> {
        let due: Vec<Input> = self
            .settle
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(input, _)| *input)
            .collect();
        for input in &due {
            self.settle.remove(input);
        }
        due
    }

    /// Tries a settled read again later (the read failed).
    pub(crate) fn defer(&mut self, input: Input, now: Instant) {
        let period = self.software_debounce.unwrap_or(DEBOUNCE);
        self.settle.insert(input, now + period);
    }

    /// The settled level of an input after its quiet period.
    pub(crate) fn settled(&mut self, input: Input, active: bool) -> Option<DoorInput> {
        match input {
            Input::Contact => self.contact_level(active),
            Input::ExitButton => {
                let pressed = active && !self.button;
                self.button = active;
                pressed.then_some(DoorInput::ExitButton)
            }
        }
    }

    fn contact_level(&mut self, open: bool) -> Option<DoorInput> {
        if self.contact == Some(open) {
            return None;
        }
        self.contact = Some(open);
        Some(DoorInput::Contact(contact_state(open)))
    }
}

/// The contact input is active when the door is open (see `InputLine` in the config).
fn contact_state(active: bool) -> Contact {
    if active {
        Contact::Open
    } else {
        Contact::Closed
    }
}

/// Starts watching the door's contact and exit button, if it has either.
///
/// Requests the lines now, so a missing chip or a line held by another program is a
/// start-up error, reads their levels, and starts a thread (named `door-in:<door>`) that
/// first sends the contact's current state and then each change and each button press.
/// The thread ends within [`POLL_SLICE`] of `shutdown` (no wait is longer, including
/// waits for a full controller channel), or when the controller's receiver is gone. `Ok(None)`: no inputs
/// configured.
pub fn watch_inputs(
    door_name: &str,
    contact: Option<InputLine>,
    exit_button: Option<InputLine>,
    tx: Sender<DoorInput>,
    shutdown: CancellationToken,
) -> Result<Option<JoinHandle<()>>, GpioError> {
    let lines: Vec<(Input, InputLine)> = [
        contact.map(|l| (Input::Contact, l)),
        exit_button.map(|l| (Input::ExitButton, l)),
    ]
    .into_iter()
    .flatten()
    .collect();
    if lines.is_empty() {
        return Ok(None);
    }
    let (mut source, kernel_debounce) = ChipInputs::request(door_name, &lines)?;
    let software = (!kernel_debounce).then_some(DEBOUNCE);
    if software.is_some() {
        tracing::warn!(
            door = door_name,
            "the kernel refused input debounce; debouncing in software"
        );
    }
    let level = |source: &mut ChipInputs, which: Input| -> Result<Option<bool>, GpioError> {
        if !lines.iter().any(|(i, _)| *i == which) {
            return Ok(None);
        }
        source
            .is_active(which)
            .map(Some)
            .map_err(|source| GpioError::Read {
                input: which.name(),
                source,
            })
    };
    let contact_now = level(&mut source, Input::Contact)?;
    let button_now = level(&mut source, Input::ExitButton)?;
    let mut logic = InputLogic::new(software);
    let first = logic.start(contact_now, button_now);
    let door = door_name.to_owned();
    let handle = std::thread::Builder::new()
        .name(format!("door-in:{door_name}"))
        .spawn(move || {
            if let Some(first) = first
                && !deliver(&tx, first, &shutdown)
            {
                return;
            }
            run(&door, &mut source, &mut logic, &tx, &shutdown);
            tracing::debug!(door = %door, "door input thread stopped");
        })
        .map_err(GpioError::Thread)?;
    Ok(Some(handle))
}

/// The input thread's loop, over any [`InputSource`].
pub(crate) fn run(
    door: &str,
    source: &mut dyn InputSource,
    logic: &mut InputLogic,
    tx: &Sender<DoorInput>,
    shutdown: &CancellationToken,
) {
    let mut failing = false;
    while !shutdown.is_cancelled() {
        let now = Instant::now();
        let timeout = logic
            .next_deadline()
            .map_or(POLL_SLICE, |at| at.saturating_duration_since(now))
            .min(POLL_SLICE);
        match source.wait(timeout) {
            Ok(edges) => {
                failing = false;
                for edge in edges {
                    if let Some(msg) = logic.edge(edge, Instant::now())
                        && !deliver(tx, msg, shutdown)
                    {
                        return;
                    }
                }
            }
            Err(error) => {
                // Logged once per outage, not once per retry.
                if !failing {
                    tracing::error!(door, %error, "door inputs cannot be read; retrying");
                }
                failing = true;
                if shutdown_within(shutdown, ERROR_PAUSE) {
                    return;
                }
            }
        }
        for input in logic.due(Instant::now()) {
            match source.is_active(input) {
                Ok(active) => {
                    if let Some(msg) = logic.settled(input, active)
                        && !deliver(tx, msg, shutdown)
                    {
                        return;
                    }
                }
                Err(error) => {
                    tracing::warn!(door, ?input, %error, "cannot read the input's level");
                    logic.defer(input, Instant::now());
                }
            }
        }
    }
}

/// Sends without blocking forever: a full channel is retried until shutdown. `false` when
/// the thread should end.
fn deliver(tx: &Sender<DoorInput>, mut msg: DoorInput, shutdown: &CancellationToken) -> bool {
    loop {
        match tx.try_send(msg) {
            Ok(()) => return true,
            Err(TrySendError::Closed(_)) => return false,
            Err(TrySendError::Full(back)) => {
                if shutdown_within(shutdown, FULL_RETRY) {
                    return false;
                }
                msg = back;
            }
        }
    }
}

/// Sleeps up to `pause` in short steps; `true` if shutdown came meanwhile.
fn shutdown_within(shutdown: &CancellationToken, pause: Duration) -> bool {
    let end = Instant::now() + pause;
    while !shutdown.is_cancelled() {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        std::thread::sleep(left.min(Duration::from_millis(20)));
    }
    true
}

/// One line request per chip: the contact and the button are usually on the same chip,
/// but a HAT's inputs may sit on an expander of their own.
struct ChipInputs {
    chips: Vec<ChipRequest>,
}

struct ChipRequest {
    request: gpiocdev::Request,
    lines: Vec<(u32, Input)>,
}

impl ChipInputs {
    /// Requests every line; `true` alongside when the kernel debounces them.
    fn request(door: &str, lines: &[(Input, InputLine)]) -> Result<(ChipInputs, bool), GpioError> {
        let mut by_chip: BTreeMap<&Path, Vec<(Input, &InputLine)>> = BTreeMap::new();
        for (input, line) in lines {
            by_chip
                .entry(line.chip.as_path())
                .or_default()
                .push((*input, line));
        }
        let mut chips = Vec::new();
        let mut kernel_debounce = true;
        for (chip, lines) in by_chip {
            let request = match request_inputs(door, chip, &lines, Some(DEBOUNCE)) {
                Ok(request) => request,
                Err(first) => {
                    // Old kernels and the v1 ABI have no debounce: try once without it,
                    // and report the first error if that fails too.
                    let Ok(request) = request_inputs(door, chip, &lines, None) else {
                        return Err(first);
                    };
                    kernel_debounce = false;
                    request
                }
            };
            chips.push(ChipRequest {
                request,
                lines: lines.iter().map(|(i, l)| (l.line, *i)).collect(),
            });
        }
        // Lines already requested with debounce are debounced twice in software mode,
        // which only costs DEBOUNCE of latency.
        Ok((ChipInputs { chips }, kernel_debounce))
    }
}

fn request_inputs(
    door: &str,
    chip: &Path,
    lines: &[(Input, &InputLine)],
    debounce: Option<Duration>,
) -> Result<gpiocdev::Request, GpioError> {
    let mut builder = gpiocdev::Request::builder();
    builder.on_chip(chip).with_consumer(consumer(door));
    for (_, line) in lines {
        builder
            .with_line(line.line)
            .as_input()
            // Switches are wired to ground: the pull-up gives an open switch a defined
            // level, and a cut wire reads as an open door, never as a shut one.
            .with_bias(Bias::PullUp)
            .with_edge_detection(EdgeDetection::BothEdges);
        if line.active_low {
            builder.as_active_low();
        } else {
            builder.as_active_high();
        }
        if let Some(period) = debounce {
            builder.with_debounce_period(period);
        }
    }
    builder.request().map_err(|source| GpioError::Request {
        chip: chip.to_path_buf(),
        line: lines.first().map_or(0, |(_, l)| l.line),
        role: "door inputs",
        source,
    })
}

impl InputSource for ChipInputs {
    fn wait(&mut self, timeout: Duration) -> io::Result<Vec<Edge>> {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let ready: Vec<bool> = {
            let mut fds: Vec<PollFd<'_>> = self
                .chips
                .iter()
                .map(|c| PollFd::new(&c.request, PollFlags::IN))
                .collect();
            let timeout = Timespec::try_from(timeout).map_err(io::Error::other)?;
            match poll(&mut fds, Some(&timeout)) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => return Ok(Vec::new()),
                Err(e) => return Err(e.into()),
            }
            fds.iter().map(|fd| !fd.revents().is_empty()).collect()
        };
        let mut edges = Vec::new();
        for (chip, ready) in self.chips.iter().zip(ready) {
            if !ready {
                continue;
            }
            while chip.request.has_edge_event().map_err(io::Error::other)? {
                let event = chip.request.read_edge_event().map_err(io::Error::other)?;
                if let Some((_, input)) = chip.lines.iter().find(|(o, _)| *o == event.offset) {
                    edges.push(Edge {
                        input: *input,
                        active: event.kind == EdgeKind::Rising,
                    });
                }
            }
        }
        Ok(edges)
    }

    fn is_active(&mut self, input: Input) -> io::Result<bool> {
        let (chip, offset) = self
            .chips
            .iter()
            .find_map(|c| {
                c.lines
                    .iter()
                    .find(|(_, i)| *i == input)
                    .map(|(o, _)| (c, *o))
            })
            .ok_or_else(|| io::Error::other(format!("{input:?} is not a requested line")))?;
        let value = chip.request.value(offset).map_err(io::Error::other)?;
        Ok(value == Value::Active)
    }
}
