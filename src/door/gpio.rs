//! A strike relay and the door's inputs on a Linux GPIO character device (`/dev/gpiochipN`).
//!
//! The output line is requested once, when the door is built, and held for the life of the
//! daemon: a GPIO chip that is missing at start does not come back by itself, so that is a
//! start-up error rather than something to retry. The line is requested already at the
//! LOCKED level, so there is no instant between request and the controller's first lock.
//!
//! Two decisions are kept apart on purpose:
//! - the fail mode decides whether *energising the relay* unlocks (`secure`) or locks
//!   (`safe`) — [`relay_energised`], a pure function;
//! - `active_low` is only the relay board's electrical polarity, handed to the kernel as
//!   the line's active-low flag, so "active" below always means "relay energised".
//!
//! The inputs (door contact, exit button) live in [`inputs`]. Both halves reach the kernel
//! through narrow traits ([`OutputLine`], `inputs::InputSource`) so the mapping and the
//! input logic are tested with hand-written fakes; `gpio/sim_tests.rs` runs them against the
//! kernel's `gpio-sim` where the kernel has it.

mod inputs;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gpiocdev::line::Value;

use super::actuator::{Actuator, ActuatorError, ActuatorFuture, Strike};
use crate::config::FailMode;
pub use inputs::{DEBOUNCE, watch_inputs};

/// Failures of the GPIO character device, with the line they concern.
#[derive(Debug, thiserror::Error)]
pub enum GpioError {
    #[error("cannot request {chip}:{line} ({role}): {source}")]
    Request {
        chip: PathBuf,
        line: u32,
        role: &'static str,
        #[source]
        source: gpiocdev::Error,
    },
    #[error("cannot drive {chip}:{line}: {source}")]
    Set {
        chip: PathBuf,
        line: u32,
        #[source]
        source: io::Error,
    },
    #[error("cannot read the {input} at start: {source}")]
    Read {
        input: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("cannot start the GPIO input thread: {0}")]
    Thread(#[source] io::Error),
}

/// The one thing the actuator needs from an output line. `active` means the relay coil is
/// energised; the board's polarity is already folded in by whoever implements it.
pub trait OutputLine: Send + Sync {
    fn set_active(&self, active: bool) -> io::Result<()>;
}

/// Whether the relay coil carries current for `strike` under `fail`.
///
/// Fail-secure hardware (an electric strike) is locked without power, so the relay is
/// energised to unlock; fail-safe hardware (a maglock) holds only with power, so the relay
/// is energised to lock. Either way a dead daemon or a power cut ends up in the hardware's
/// own unpowered state, which is what the fail mode promises.
pub fn relay_energised(fail: FailMode, strike: Strike) -> bool {
    match (fail, strike) {
        (FailMode::Secure, Strike::Unlocked) | (FailMode::Safe, Strike::Locked) => true,
        (FailMode::Secure, Strike::Locked) | (FailMode::Safe, Strike::Unlocked) => false,
    }
}

/// Drives a strike relay through an [`OutputLine`].
pub struct GpioActuator {
    line: Arc<dyn OutputLine>,
    fail: FailMode,
    chip: PathBuf,
    offset: u32,
}

impl GpioActuator {
    /// Requests `chip:line` as an output at the locked level and holds it.
    pub fn open(
        door: &str,
        chip: &Path,
        line: u32,
        active_low: bool,
        fail: FailMode,
    ) -> Result<GpioActuator, GpioError> {
        let output = ChipOutput::request(door, chip, line, active_low, fail)?;
        Ok(GpioActuator::with_line(Arc::new(output), fail, chip, line))
    }

    /// An actuator on any output line; tests pass a fake.
    pub fn with_line(
        line: Arc<dyn OutputLine>,
        fail: FailMode,
        chip: &Path,
        offset: u32,
    ) -> GpioActuator {
        GpioActuator {
            line,
            fail,
            chip: chip.to_path_buf(),
            offset,
        }
    }
}

impl Actuator for GpioActuator {
    fn set(&self, strike: Strike) -> ActuatorFuture<'_> {
        let active = relay_energised(self.fail, strike);
        let line = Arc::clone(&self.line);
        Box::pin(async move {
            // Relay HATs often sit behind an I2C expander whose set-value sleeps on the bus,
            // so the ioctl runs off the async threads.
            let result = tokio::task::spawn_blocking(move || line.set_active(active))
                .await
                .unwrap_or_else(|join| Err(io::Error::other(join)));
            result.map_err(|source| {
                ActuatorError::Gpio(GpioError::Set {
                    chip: self.chip.clone(),
                    line: self.offset,
                    source,
                })
            })
        })
    }
}

/// A requested output line on a real chip. Dropping it releases the line.
struct ChipOutput {
    request: gpiocdev::Request,
}

impl ChipOutput {
    fn request(
        door: &str,
        chip: &Path,
        line: u32,
        active_low: bool,
        fail: FailMode,
    ) -> Result<ChipOutput, GpioError> {
        let locked = level(relay_energised(fail, Strike::Locked));
        let mut builder = gpiocdev::Request::builder();
        builder
            .on_chip(chip)
            .with_consumer(consumer(door))
            .with_line(line)
            .as_output(locked);
        if active_low {
            builder.as_active_low();
        }
        let request = builder.request().map_err(|source| GpioError::Request {
            chip: chip.to_path_buf(),
            line,
            role: "strike relay",
            source,
        })?;
        Ok(ChipOutput { request })
    }
}

impl OutputLine for ChipOutput {
    fn set_active(&self, active: bool) -> io::Result<()> {
        self.request
            .set_lone_value(level(active))
            .map_err(io::Error::other)
    }
}

fn level(active: bool) -> Value {
    if active {
        Value::Active
    } else {
        Value::Inactive
    }
}

/// The consumer label `gpioinfo` shows, so a technician can see who holds a line. The
/// kernel keeps 31 bytes of it.
fn consumer(door: &str) -> String {
    let mut label = format!("lawang:{door}");
    while label.len() > 31 {
        label.pop();
    }
    label
}

#[cfg(test)]
mod sim_tests;
#[cfg(test)]
mod tests;
