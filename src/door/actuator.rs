//! Strike actuators: the narrow trait between the door controller and the hardware.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::gpio::{GpioActuator, GpioError};
use super::serial_relay::{RelayError, SerialRelay};
use crate::config::{ActuatorConfig, DoorConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Strike {
    Locked,
    Unlocked,
}

impl Strike {
    pub fn as_str(self) -> &'static str {
        match self {
            Strike::Locked => "locked",
            Strike::Unlocked => "unlocked",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ActuatorError {
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} exited with {status}")]
    Failed { program: String, status: String },
    #[error("{program} did not finish in time and was killed")]
    Timeout { program: String },
    #[error(transparent)]
    Gpio(#[from] GpioError),
    #[error(transparent)]
    Relay(#[from] RelayError),
}

pub type ActuatorFuture<'a> = Pin<Box<dyn Future<Output = Result<(), ActuatorError>> + Send + 'a>>;

/// Moves the strike. Implementations must be idempotent: the controller locks at start and
/// at shutdown whatever state it believes the strike is in.
pub trait Actuator: Send + Sync {
    fn set(&self, strike: Strike) -> ActuatorFuture<'_>;
}

/// Builds the door's actuator. Hardware that is missing at start is an error only where it
/// cannot come back by itself (a GPIO chip); a USB relay is reopened on each command.
pub fn build(door: &DoorConfig) -> Result<Box<dyn Actuator>, ActuatorError> {
    Ok(match &door.actuator {
        ActuatorConfig::Log => Box::new(LogActuator {
            door: door.name.clone(),
        }),
        ActuatorConfig::Command { unlock, lock } => Box::new(CommandActuator {
            unlock: unlock.clone(),
            lock: lock.clone(),
            timeout: COMMAND_TIMEOUT,
        }),
        ActuatorConfig::Gpio {
            chip,
            line,
            active_low,
        } => Box::new(GpioActuator::open(
            &door.name,
            chip,
            *line,
            *active_low,
            door.fail,
        )?),
        ActuatorConfig::SerialRelay {
            path,
            baud,
            unlock,
            lock,
        } => Box::new(SerialRelay::new(path, *baud, unlock, lock)?),
    })
}

/// Moves nothing: says what a strike would do. For commissioning and demos.
pub struct LogActuator {
    door: String,
}

impl Actuator for LogActuator {
    fn set(&self, strike: Strike) -> ActuatorFuture<'_> {
        tracing::info!(door = %self.door, strike = strike.as_str(), "strike (log actuator)");
        Box::pin(std::future::ready(Ok(())))
    }
}

/// A hung relay tool must not keep the door controller from re-locking.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs an external program per state change, e.g. a USB relay tool.
pub struct CommandActuator {
    unlock: Vec<String>,
    lock: Vec<String>,
    timeout: Duration,
}

impl Actuator for CommandActuator {
    fn set(&self, strike: Strike) -> ActuatorFuture<'_> {
        let argv = match strike {
            Strike::Unlocked => &self.unlock,
            Strike::Locked => &self.lock,
        };
        Box::pin(async move {
            let program = argv.first().cloned().unwrap_or_default();
            // Its own process group, so a hung tool is killed with whatever it started.
            let mut child = tokio::process::Command::new(&program)
                .args(&argv[1..])
                .stdin(std::process::Stdio::null())
                .process_group(0)
                .kill_on_drop(true)
                .spawn()
                .map_err(|source| ActuatorError::Spawn {
                    program: program.clone(),
                    source,
                })?;
            let group = child
                .id()
                .and_then(|id| rustix::process::Pid::from_raw(id as i32));
            match tokio::time::timeout(self.timeout, child.wait()).await {
                Ok(Ok(status)) if status.success() => Ok(()),
                Ok(Ok(status)) => Err(ActuatorError::Failed {
                    program,
                    status: status.to_string(),
                }),
                Ok(Err(source)) => Err(ActuatorError::Spawn { program, source }),
                Err(_) => {
                    if let Some(group) = group {
                        let _ = rustix::process::kill_process_group(
                            group,
                            rustix::process::Signal::KILL,
                        );
                    }
                    let _ = child.wait().await;
                    Err(ActuatorError::Timeout { program })
                }
            }
        })
    }
}

#[cfg(test)]
mod command_tests {
    use super::*;

    #[tokio::test]
    async fn a_hung_relay_tool_is_killed_with_what_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let script = format!("sleep 300 & echo $! > {}; wait", pid_file.display());
        let actuator = CommandActuator {
            unlock: vec!["/bin/sh".into(), "-c".into(), script],
            lock: vec!["/bin/true".into()],
            timeout: Duration::from_millis(500),
        };
        // Bounded well beyond the tool's own 0.5 s: a hung tool must not hold the door.
        let err = tokio::time::timeout(Duration::from_secs(10), actuator.set(Strike::Unlocked))
            .await
            .expect("the actuator returned after its timeout")
            .unwrap_err();
        assert!(matches!(err, ActuatorError::Timeout { .. }), "{err}");
        let pid: i32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The grandchild is gone (a zombie reaped by init at most), not sleeping on.
        let gone = (0..50).any(|_| {
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let done = state.is_empty() || state.split(' ').nth(2) == Some("Z");
            if !done {
                std::thread::sleep(Duration::from_millis(20));
            }
            done
        });
        assert!(gone, "the relay tool's child {pid} still runs");
        actuator.set(Strike::Locked).await.unwrap();
    }
}
