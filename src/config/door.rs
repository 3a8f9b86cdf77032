//! `[[door]]`: the strike, its inputs (door contact, exit button) and its timers.

use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::schedule::Schedule;

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DoorFile {
    pub name: Spanned<String>,
    #[serde(default = "default_unlock_seconds")]
    pub unlock_seconds: Spanned<u64>,
    #[serde(default)]
    pub actuator: ActuatorConfig,
    /// What the lock does without power: `secure` (stays locked, the default) or `safe`
    /// (releases; maglocks on escape routes where fire rules demand it).
    #[serde(default)]
    pub fail: FailMode,
    /// Door contact (reed switch) input: active means the door is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<InputLine>,
    /// Request-to-exit button input: active means pressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_button: Option<InputLine>,
    /// A door open longer than this after a legitimate opening raises "held open".
    #[serde(default = "default_held_open_seconds")]
    pub held_open_seconds: Spanned<u64>,
    /// Card + PIN: `never` (default), `always`, or `schedule` (inside `pin_schedule`).
    #[serde(default)]
    pub pin: PinMode,
    /// With `pin = "schedule"`: the weekly windows in which a PIN is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_schedule: Option<Schedule>,
    /// Entering twice without an exit: `off` (default), `log` (let in, flag the line) or
    /// `enforce` (refuse).
    #[serde(default)]
    pub anti_passback: AntiPassback,
}

/// What a door does when someone it counts as inside taps in again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AntiPassback {
    #[default]
    Off,
    /// Let them in; the register line carries the reason `anti_passback`.
    Log,
    /// Refuse with the reason `anti_passback` until they tap out.
    Enforce,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PinMode {
    #[default]
    Never,
    Always,
    Schedule,
}

/// When a door asks for a PIN after the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinRule {
    Never,
    Always,
    /// Inside these windows (office-local time).
    During(Schedule),
}

impl PinRule {
    pub fn required(&self, local: chrono::NaiveDateTime) -> bool {
        match self {
            PinRule::Never => false,
            PinRule::Always => true,
            PinRule::During(s) => s.allows(local),
        }
    }
}

fn default_unlock_seconds() -> Spanned<u64> {
    Spanned::new(0..0, 5)
}

fn default_held_open_seconds() -> Spanned<u64> {
    Spanned::new(0..0, 30)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FailMode {
    /// Energise to unlock: a power cut or a crashed daemon leaves the door locked.
    #[default]
    Secure,
    /// Energise to lock: a power cut releases the door.
    Safe,
}

/// One GPIO input line on a Linux GPIO character device.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InputLine {
    /// e.g. `/dev/gpiochip0`.
    pub chip: PathBuf,
    /// Line offset on the chip.
    pub line: u32,
    /// The input is active when the line is low (switch to ground with a pull-up).
    #[serde(default)]
    pub active_low: bool,
}

/// How a door's strike is driven.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ActuatorConfig {
    /// Logs every lock and unlock; for commissioning and demos (no hardware moves).
    #[default]
    Log,
    /// Runs a program to unlock and another to lock, e.g. a relay tool. Argument vectors,
    /// not shell lines, so nothing is interpolated by a shell.
    Command {
        unlock: Vec<String>,
        lock: Vec<String>,
    },
    /// A relay on a GPIO output line. `fail` decides whether the relay is energised to
    /// unlock (secure) or to lock (safe); `active_low` is the relay board's input polarity.
    Gpio {
        chip: PathBuf,
        line: u32,
        #[serde(default)]
        active_low: bool,
    },
    /// A USB/serial relay board driven by byte commands, given as hex (`"A0 01 01 A2"`).
    SerialRelay {
        path: PathBuf,
        #[serde(default = "default_relay_baud")]
        baud: u32,
        unlock: String,
        lock: String,
    },
}

fn default_relay_baud() -> u32 {
    9600
}

impl ActuatorConfig {
    pub fn kind(&self) -> &'static str {
        match self {
            ActuatorConfig::Log => "log",
            ActuatorConfig::Command { .. } => "command",
            ActuatorConfig::Gpio { .. } => "gpio",
            ActuatorConfig::SerialRelay { .. } => "serial-relay",
        }
    }
}

/// Parses relay command bytes: hex pairs, spaces allowed.
pub fn relay_bytes(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    match hex::decode(&digits) {
        Ok(b) if !b.is_empty() => Ok(b),
        _ => Err(format!(
            "{text:?} is not a byte sequence in hex such as \"A0 01 01 A2\""
        )),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DoorConfig {
    pub name: String,
    pub unlock: Duration,
    pub actuator: ActuatorConfig,
    pub fail: FailMode,
    pub contact: Option<InputLine>,
    pub exit_button: Option<InputLine>,
    pub held_open: Duration,
    pub pin: PinRule,
    pub anti_passback: AntiPassback,
}

/// Longest unlock a door may be configured for: a strike held open for minutes is a
/// propped door, not an access decision.
const MAX_UNLOCK_SECONDS: u64 = 300;

pub(super) fn validate(d: &DoorFile) -> Result<DoorConfig, (Range<usize>, String)> {
    let secs = *d.unlock_seconds.get_ref();
    if !(1..=MAX_UNLOCK_SECONDS).contains(&secs) {
        return Err((
            d.unlock_seconds.span(),
            format!("door.unlock_seconds must be 1 to {MAX_UNLOCK_SECONDS}, got {secs}"),
        ));
    }
    let held = *d.held_open_seconds.get_ref();
    if !(1..=3600).contains(&held) {
        return Err((
            d.held_open_seconds.span(),
            format!("door.held_open_seconds must be 1 to 3600, got {held}"),
        ));
    }
    let bad = |msg: String| Err((d.name.span(), format!("door {:?}: {msg}", d.name.get_ref())));
    match &d.actuator {
        ActuatorConfig::Command { unlock, lock } if unlock.is_empty() || lock.is_empty() => {
            return bad(
                "a command actuator needs non-empty `unlock` and `lock` argument lists".into(),
            );
        }
        ActuatorConfig::SerialRelay { unlock, lock, .. } => {
            for t in [unlock, lock] {
                if let Err(e) = relay_bytes(t) {
                    return bad(format!("actuator: {e}"));
                }
            }
        }
        _ => {}
    }
    if let (Some(c), Some(e)) = (&d.contact, &d.exit_button)
        && c.chip == e.chip
        && c.line == e.line
    {
        return bad("contact and exit_button cannot be the same line".into());
    }
    let pin = match (d.pin, &d.pin_schedule) {
        (PinMode::Never, None) => PinRule::Never,
        (PinMode::Always, None) => PinRule::Always,
        (PinMode::Schedule, Some(s)) => {
            s.validate()
                .map_err(|e| (d.name.span(), format!("door.pin_schedule: {e}")))?;
            PinRule::During(s.clone())
        }
        (PinMode::Schedule, None) => return bad("pin = \"schedule\" needs a pin_schedule".into()),
        (_, Some(_)) => return bad("pin_schedule applies only with pin = \"schedule\"".into()),
    };
    Ok(DoorConfig {
        name: d.name.get_ref().clone(),
        unlock: Duration::from_secs(secs),
        actuator: d.actuator.clone(),
        fail: d.fail,
        contact: d.contact.clone(),
        exit_button: d.exit_button.clone(),
        held_open: Duration::from_secs(held),
        pin,
        anti_passback: d.anti_passback,
    })
}
