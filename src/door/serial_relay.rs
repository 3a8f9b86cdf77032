//! A USB/serial relay board driven by byte commands (e.g. the CH340 "LCUS-1":
//! `A0 01 01 A2` closes the relay, `A0 01 00 A1` opens it).
//!
//! The port is opened on the first command, not at start: a relay that is unplugged while
//! the daemon starts must not keep the door controller from running, and the controller
//! shows the failure as the door's fault on every command until it is back. A port that
//! fails a write is dropped and opened again at once for one more try, so a relay that was
//! unplugged and plugged back in (a new tty behind the same udev name) obeys the very next
//! command. Writing the same command twice is harmless: relay commands set a state.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;
use tokio_serial::{SerialPortBuilderExt, SerialStream};

use super::actuator::{Actuator, ActuatorError, ActuatorFuture, Strike};
use crate::config::relay_bytes;

/// A relay board answers a write at once; a write that takes longer means a wedged USB
/// adapter, and the door controller must get on with re-locking and showing the fault.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// Why a relay command did not reach the board.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("relay command: {0}")]
    Bytes(String),
    #[error("cannot open relay {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: tokio_serial::Error,
    },
    #[error("cannot write to relay {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("relay {path} did not take the command within {secs} s", secs = WRITE_TIMEOUT.as_secs())]
    Timeout { path: PathBuf },
}

/// Sends the configured unlock and lock commands to a serial relay board.
pub struct SerialRelay {
    path: PathBuf,
    baud: u32,
    unlock: Vec<u8>,
    lock: Vec<u8>,
    /// An async mutex because the port is held across the write's `.await`; it also keeps
    /// two commands from interleaving their bytes on the line.
    port: Mutex<Option<SerialStream>>,
}

impl SerialRelay {
    /// Parses the commands now, so a bad one is a start-up error; opens nothing yet.
    pub fn new(
        path: &Path,
        baud: u32,
        unlock: &str,
        lock: &str,
    ) -> Result<SerialRelay, RelayError> {
        Ok(SerialRelay {
            path: path.to_path_buf(),
            baud,
            unlock: relay_bytes(unlock).map_err(RelayError::Bytes)?,
            lock: relay_bytes(lock).map_err(RelayError::Bytes)?,
            port: Mutex::new(None),
        })
    }

    /// Sends one command: on the open port if there is one, else (or if that fails) on a
    /// freshly opened one.
    async fn send(&self, bytes: &[u8]) -> Result<(), RelayError> {
        let mut port = self.port.lock().await;
        if let Some(open) = port.as_mut() {
            match self.write(open, bytes).await {
                Ok(()) => return Ok(()),
                Err(error) => {
                    tracing::info!(path = %self.path.display(), %error, "relay port failed; reopening");
                    *port = None;
                }
            }
        }
        let mut fresh = self.open()?;
        let result = self.write(&mut fresh, bytes).await;
        if result.is_ok() {
            *port = Some(fresh);
        }
        result
    }

    fn open(&self) -> Result<SerialStream, RelayError> {
        tokio_serial::new(self.path.to_string_lossy(), self.baud)
            .open_native_async()
            .map_err(|source| RelayError::Open {
                path: self.path.clone(),
                source,
            })
    }

    async fn write(&self, port: &mut SerialStream, bytes: &[u8]) -> Result<(), RelayError> {
        let written = async {
            port.write_all(bytes).await?;
            port.flush().await
        };
        match tokio::time::timeout(WRITE_TIMEOUT, written).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(source)) => Err(RelayError::Write {
                path: self.path.clone(),
                source,
            }),
            Err(_) => Err(RelayError::Timeout {
                path: self.path.clone(),
            }),
        }
    }
}

impl Actuator for SerialRelay {
    fn set(&self, strike: Strike) -> ActuatorFuture<'_> {
        let bytes = match strike {
            Strike::Unlocked => &self.unlock,
            Strike::Locked => &self.lock,
        };
        Box::pin(async move { self.send(bytes).await.map_err(ActuatorError::Relay) })
    }
}

#[cfg(test)]
mod tests;
