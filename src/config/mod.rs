//! Configuration: the TOML file format and the validated runtime [`Config`].
//!
//! The file types mirror the TOML one to one, reject unknown keys and carry spans so every
//! error names its key and line. [`Config`] is what the daemon runs on: names resolved,
//! durations typed, one variant per reader kind with only the settings that kind uses.

use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::model::Direction;

mod door;
mod notify;
mod osdp;
mod readers;
mod report;
mod visitors;
mod workflow;

use crate::reader::frame::wiegand::WiegandOptions;
pub use door::{
    ActuatorConfig, AntiPassback, DoorConfig, DoorFile, FailMode, InputLine, PinMode, PinRule,
    relay_bytes,
};
pub use notify::{
    NotifyConfig, NotifyFile, RetryPolicy, SmtpConfig, SmtpTls, WebhookConfig, redact_url,
};
pub use osdp::{OsdpKey, OsdpReaderConfig};
pub use readers::{EnrollmentReaderConfig, ReaderPurpose};
pub use report::{Every, ReportConfig, ReportFile, ScheduleConfig, Signer};
pub use visitors::{VisitorsConfig, VisitorsFile};
pub use workflow::{ReviewConfig, ReviewSchedule, Undecided, WorkflowConfig, WorkflowFile};

/// Where the configuration is looked for when `--config` is not given.
pub const DEFAULT_PATH: &str = "/etc/lawang/lawang.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}, line {line}: {message}")]
    Invalid {
        origin: String,
        line: usize,
        message: String,
    },
}

// ---------------------------------------------------------------------------------------
// File format
// ---------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub server: ServerFile,
    #[serde(default)]
    pub store: StoreFile,
    #[serde(default)]
    pub log: LogFile,
    #[serde(default)]
    pub pin: PinFile,
    #[serde(default)]
    pub notify: NotifyFile,
    #[serde(default)]
    pub register: RegisterFile,
    #[serde(default, rename = "door")]
    pub doors: Vec<DoorFile>,
    #[serde(default, rename = "reader")]
    pub readers: Vec<ReaderFile>,
    #[serde(default)]
    pub workflow: WorkflowFile,
    #[serde(default)]
    pub visitors: VisitorsFile,
    #[serde(default)]
    pub report: ReportFile,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerFile {
    /// Address of the admin API.
    pub listen: Spanned<String>,
    /// IANA zone used to show times and to evaluate weekly schedules.
    pub timezone: Spanned<String>,
    /// Largest request body the API accepts, in bytes.
    pub max_body_bytes: usize,
    /// Time a request may take until its response starts (reading the body included).
    pub request_timeout_seconds: Spanned<u64>,
    /// Mark the pages' session cookie `Secure` (sent over HTTPS and to localhost only).
    /// Turn off only for plain HTTP on a trusted local network.
    pub secure_cookies: bool,
}

impl Default for ServerFile {
    fn default() -> Self {
        ServerFile {
            listen: Spanned::new(0..0, "127.0.0.1:8080".into()),
            timezone: Spanned::new(0..0, "Asia/Jakarta".into()),
            max_body_bytes: 64 * 1024,
            request_timeout_seconds: Spanned::new(0..0, 30),
            secure_cookies: true,
        }
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreFile {
    /// Data directory; unset means `$STATE_DIRECTORY`, else `./lawang-data`.
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogFile {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A tracing filter such as `info` or `lawang=debug`; `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for LogFile {
    fn default() -> Self {
        LogFile {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

/// Card + PIN entry, for every door that asks for a PIN.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PinFile {
    /// Seconds to finish typing the PIN (ended with `#`) after the card.
    pub timeout_seconds: u64,
    /// Wrong PINs in a row before the holder is locked out.
    pub attempts: u32,
    /// How long a lockout lasts.
    pub lockout_seconds: u64,
}

impl Default for PinFile {
    fn default() -> Self {
        PinFile {
            timeout_seconds: 10,
            attempts: 3,
            lockout_seconds: 900,
        }
    }
}

/// How long the register is kept.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegisterFile {
    /// Lines older than this many days are archived to CSV and removed (at least 90).
    pub retention_days: Spanned<u32>,
    /// Lines held in memory while the register cannot be written (disk full); a grant is
    /// refused once this many wait. 0: a grant is refused as soon as writing fails.
    pub held_lines: Spanned<u32>,
}

impl Default for RegisterFile {
    fn default() -> Self {
        RegisterFile {
            retention_days: Spanned::new(0..0, DEFAULT_RETENTION_DAYS),
            held_lines: Spanned::new(0..0, crate::store::register::DEFAULT_HELD_LINES as u32),
        }
    }
}

/// Held lines are in memory: a bound keeps a long outage from eating it.
pub const MAX_HELD_LINES: u32 = 100_000;

/// Two years: the register answers questions about who entered long after the fact.
pub const DEFAULT_RETENTION_DAYS: u32 = 730;
/// Three months: below this an incident could be pruned before it is looked into.
pub const MIN_RETENTION_DAYS: u32 = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReaderFile {
    pub name: Spanned<String>,
    /// `door` (default): a reader at a door. `enrollment`: a reader at the desk, which
    /// opens nothing and hands the next card presented to the operator issuing a badge.
    #[serde(default)]
    pub purpose: Option<Spanned<ReaderPurpose>>,
    /// The door this reader serves; required for door readers, absent for desk readers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub door: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    pub kind: Spanned<String>,
    /// Reads of the same card on this reader closer together than this are one presentation
    /// (readers repeat while a card is held). Measured from the previous read.
    #[serde(default = "default_repeat_window_ms")]
    pub repeat_window_ms: u64,
    /// pcsc: substring of the PC/SC reader name.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub name_match: Option<Spanned<String>>,
    /// serial, osdp: device path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<Spanned<PathBuf>>,
    /// serial, osdp: line speed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baud: Option<u32>,
    /// serial: `rdm6300`, `wiegand-ascii`, `pn532` or `line`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Spanned<String>>,
    /// serial with `protocol = "wiegand-ascii"`: the converter's line format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wiegand: Option<WiegandOptions>,
    /// serial with `protocol = "line"`: the technology of the UIDs on the lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technology: Option<crate::model::Technology>,
    /// osdp: the PD's address on the bus, 0-126 (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<u8>,
    /// osdp: file holding the Secure Channel Base Key as 32 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scbk_file: Option<Spanned<PathBuf>>,
    /// osdp: require the secure channel (default true; `false` only explicitly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secure: Option<bool>,
    /// osdp: interval between polls in milliseconds (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_ms: Option<u64>,
    /// osdp: how long to wait for each reply in milliseconds (default 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_timeout_ms: Option<u64>,
    /// osdp: use the well-known default key SCBK-D to commission a new reader (default
    /// false; instead of `scbk_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_mode: Option<bool>,
}

fn default_repeat_window_ms() -> u64 {
    1000
}

// ---------------------------------------------------------------------------------------
// Validated configuration
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub timezone: chrono_tz::Tz,
    pub max_body_bytes: usize,
    pub request_timeout: std::time::Duration,
    pub secure_cookies: bool,
    pub data_dir: PathBuf,
    pub log: LogConfig,
    pub pin: PinConfig,
    pub notify: NotifyConfig,
    /// Register lines older than this are archived and pruned.
    pub retention_days: u32,
    /// Register lines held in memory while the register cannot be written (read at start).
    pub held_lines: usize,
    pub doors: Vec<DoorConfig>,
    pub readers: Vec<ReaderConfig>,
    /// Readers at the desk for enrollment; they serve no door.
    pub enrollment_readers: Vec<EnrollmentReaderConfig>,
    pub workflow: WorkflowConfig,
    pub visitors: VisitorsConfig,
    pub report: ReportConfig,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinConfig {
    pub timeout: Duration,
    pub attempts: u32,
    pub lockout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReaderConfig {
    pub name: String,
    pub door: String,
    pub direction: Direction,
    pub repeat_window: Duration,
    pub kind: ReaderKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReaderKind {
    /// Taps injected through the API (`lawang tap`), for commissioning and training.
    Simulated,
    /// A PC/SC reader whose name contains `pattern`.
    Pcsc {
        pattern: String,
    },
    Serial(SerialReaderConfig),
    Osdp(OsdpReaderConfig),
}

impl ReaderKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ReaderKind::Simulated => "simulated",
            ReaderKind::Pcsc { .. } => "pcsc",
            ReaderKind::Serial(_) => "serial",
            ReaderKind::Osdp(_) => "osdp",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SerialReaderConfig {
    pub path: PathBuf,
    pub baud: u32,
    pub protocol: SerialProtocol,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SerialProtocol {
    Rdm6300,
    WiegandAscii(WiegandOptions),
    Pn532,
    Line(crate::model::Technology),
}

impl Config {
    /// Loads `--config PATH`, else [`DEFAULT_PATH`] if it exists, else built-in defaults.
    pub fn load(explicit: Option<&Path>) -> Result<(Config, ConfigFile), ConfigError> {
        let path = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_PATH)).filter(|p| p.exists()),
        };
        match path {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                Self::parse(&text, &path.display().to_string())
            }
            None => Self::parse("", "built-in defaults"),
        }
    }

    pub fn parse(text: &str, origin: &str) -> Result<(Config, ConfigFile), ConfigError> {
        let invalid = |span: Option<Range<usize>>, message: String| ConfigError::Invalid {
            origin: origin.to_owned(),
            line: span.map_or(1, |s| line_of(text, s.start)),
            message,
        };
        let mut file: ConfigFile =
            toml::from_str(text).map_err(|e| invalid(e.span(), e.message().to_owned()))?;
        let config = validate(&file).map_err(|(span, msg)| invalid(Some(span), msg))?;
        file.store.data_dir = Some(config.data_dir.clone());
        Ok((config, file))
    }
}

type Invalid = (Range<usize>, String);

fn validate(file: &ConfigFile) -> Result<Config, Invalid> {
    let server = &file.server;
    let listen = server.listen.get_ref().parse().map_err(|_| {
        (
            server.listen.span(),
            format!(
                "server.listen: {:?} is not an address like 127.0.0.1:8080",
                server.listen.get_ref()
            ),
        )
    })?;
    let timezone = server.timezone.get_ref().parse().map_err(|_| {
        (
            server.timezone.span(),
            format!(
                "server.timezone: {:?} is not an IANA time zone such as Asia/Jakarta",
                server.timezone.get_ref()
            ),
        )
    })?;
    let data_dir = file
        .store
        .data_dir
        .clone()
        .or_else(|| std::env::var_os("STATE_DIRECTORY").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("lawang-data"));

    let mut doors: Vec<DoorConfig> = Vec::new();
    for d in &file.doors {
        check_name("door.name", &d.name)?;
        if doors.iter().any(|x| x.name == *d.name.get_ref()) {
            return Err((
                d.name.span(),
                format!("door {:?} is declared twice", d.name.get_ref()),
            ));
        }
        doors.push(door::validate(d)?);
    }

    let (readers, enrollment_readers) = readers::validate(&file.readers, &doors)?;

    // Without an inside reader nobody is ever counted out, so a second entry would be
    // refused for good.
    for (d, f) in doors.iter().zip(&file.doors) {
        let has_out = readers
            .iter()
            .any(|r| r.door == d.name && r.direction == Direction::Out);
        if d.anti_passback != AntiPassback::Off && !has_out {
            return Err((
                f.name.span(),
                format!(
                    "door {:?}: anti_passback needs a reader with direction = \"out\" on this door",
                    d.name
                ),
            ));
        }
    }
    let visitors = visitors::validate(&file.visitors, &doors)?;
    let report = report::validate(&file.report, &doors)?;
    Ok(Config {
        listen,
        timezone,
        max_body_bytes: server.max_body_bytes,
        request_timeout: validate_request_timeout(&server.request_timeout_seconds)?,
        secure_cookies: server.secure_cookies,
        data_dir,
        log: LogConfig {
            format: file.log.format,
            level: file.log.level.clone(),
        },
        pin: validate_pin(&file.pin)?,
        notify: notify::validate(&file.notify)?,
        retention_days: validate_retention(&file.register)?,
        held_lines: validate_held_lines(&file.register)?,
        doors,
        readers,
        enrollment_readers,
        workflow: workflow::validate(&file.workflow)?,
        visitors,
        report,
    })
}

fn validate_pin(p: &PinFile) -> Result<PinConfig, Invalid> {
    let bad = |m: String| Err((0..0, m));
    if !(1..=120).contains(&p.timeout_seconds) {
        return bad(format!(
            "pin.timeout_seconds must be 1 to 120, got {}",
            p.timeout_seconds
        ));
    }
    if !(1..=10).contains(&p.attempts) {
        return bad(format!("pin.attempts must be 1 to 10, got {}", p.attempts));
    }
    if !(1..=86_400).contains(&p.lockout_seconds) {
        return bad(format!(
            "pin.lockout_seconds must be 1 to 86400, got {}",
            p.lockout_seconds
        ));
    }
    Ok(PinConfig {
        timeout: Duration::from_secs(p.timeout_seconds),
        attempts: p.attempts,
        lockout: Duration::from_secs(p.lockout_seconds),
    })
}

fn validate_request_timeout(t: &Spanned<u64>) -> Result<std::time::Duration, Invalid> {
    let seconds = *t.get_ref();
    if !(1..=600).contains(&seconds) {
        return Err((
            t.span(),
            format!("server.request_timeout_seconds must be 1 to 600, got {seconds}"),
        ));
    }
    Ok(std::time::Duration::from_secs(seconds))
}

fn validate_retention(r: &RegisterFile) -> Result<u32, Invalid> {
    let days = *r.retention_days.get_ref();
    if days < MIN_RETENTION_DAYS {
        return Err((
            r.retention_days.span(),
            format!(
                "register.retention_days must be at least {MIN_RETENTION_DAYS} (three months), got {days}"
            ),
        ));
    }
    Ok(days)
}

fn validate_held_lines(r: &RegisterFile) -> Result<usize, Invalid> {
    let n = *r.held_lines.get_ref();
    if n > MAX_HELD_LINES {
        return Err((
            r.held_lines.span(),
            format!("register.held_lines must be 0 to {MAX_HELD_LINES}, got {n}"),
        ));
    }
    Ok(n as usize)
}

/// Names appear in URLs, udev rules and printed reports: keep them to a safe alphabet.
fn check_name(key: &str, name: &Spanned<String>) -> Result<(), Invalid> {
    let ok = !name.get_ref().is_empty()
        && name.get_ref().len() <= 64
        && name
            .get_ref()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err((
            name.span(),
            format!(
                "{key} {:?} must be 1-64 characters of letters, digits, '-' or '_'",
                name.get_ref()
            ),
        ))
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl ConfigFile {
    /// The effective configuration as TOML, for `check-config`. No key holds a secret: keys
    /// for secrets (OSDP keys, the SMTP password, the webhook signing key) are paths to
    /// files, and a webhook URL is shown without its path.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }
}

#[cfg(test)]
mod tests;
