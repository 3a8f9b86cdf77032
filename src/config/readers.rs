//! `[[reader]]` entries: readers at doors, and readers at the desk for enrollment.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{
    DoorConfig, Invalid, ReaderConfig, ReaderFile, ReaderKind, SerialProtocol, SerialReaderConfig,
    check_name, osdp,
};

/// What a reader is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReaderPurpose {
    #[default]
    Door,
    Enrollment,
}

/// A reader at the desk: it opens no door and writes no register line; the next card
/// presented on it goes to the operator waiting to bind it (issuing a badge).
#[derive(Debug, Clone, PartialEq)]
pub struct EnrollmentReaderConfig {
    pub name: String,
    pub repeat_window: Duration,
    pub kind: ReaderKind,
}

/// Door readers and desk readers, in file order each.
pub(super) fn validate(
    files: &[ReaderFile],
    doors: &[DoorConfig],
) -> Result<(Vec<ReaderConfig>, Vec<EnrollmentReaderConfig>), Invalid> {
    let mut readers: Vec<ReaderConfig> = Vec::new();
    let mut desk: Vec<EnrollmentReaderConfig> = Vec::new();
    for (i, r) in files.iter().enumerate() {
        check_name("reader.name", &r.name)?;
        if files[..i]
            .iter()
            .any(|x| x.name.get_ref() == r.name.get_ref())
        {
            return Err((
                r.name.span(),
                format!("reader {:?} is declared twice", r.name.get_ref()),
            ));
        }
        let purpose = r
            .purpose
            .as_ref()
            .map_or(ReaderPurpose::Door, |p| *p.get_ref());
        if purpose == ReaderPurpose::Enrollment {
            desk.push(enrollment_reader(r)?);
            continue;
        }
        let door = r.door.as_ref().ok_or_else(|| {
            (
                r.name.span(),
                format!(
                    "reader {:?}: `door` is required (or purpose = \"enrollment\" for a reader at the desk)",
                    r.name.get_ref()
                ),
            )
        })?;
        if !doors.iter().any(|d| d.name == *door.get_ref()) {
            return Err((
                door.span(),
                format!("reader.door: no [[door]] is named {:?}", door.get_ref()),
            ));
        }
        let direction = r.direction.ok_or_else(|| {
            (
                r.name.span(),
                format!(
                    "reader {:?}: `direction` is required (\"in\" or \"out\")",
                    r.name.get_ref()
                ),
            )
        })?;
        let kind = reader_kind(r)?;
        if let ReaderKind::Osdp(o) = &kind {
            osdp::check_bus(o, &readers, r)?;
        }
        readers.push(ReaderConfig {
            name: r.name.get_ref().clone(),
            door: door.get_ref().clone(),
            direction,
            repeat_window: Duration::from_millis(r.repeat_window_ms),
            kind,
        });
    }
    // A desk reader's port carries nothing else: its cards must never reach a door.
    for d in &desk {
        let Some(path) = port(&d.kind) else { continue };
        let shared = readers
            .iter()
            .map(|r| (&r.name, &r.kind))
            .chain(desk.iter().map(|o| (&o.name, &o.kind)))
            .find(|(name, kind)| **name != d.name && port(kind) == Some(path));
        if let Some((other, _)) = shared {
            let span = files
                .iter()
                .find(|f| *f.name.get_ref() == d.name)
                .map_or(0..0, |f| f.name.span());
            return Err((
                span,
                format!(
                    "enrollment reader {:?} shares {} with reader {other:?}; a desk reader needs a port of its own",
                    d.name,
                    path.display()
                ),
            ));
        }
    }
    Ok((readers, desk))
}

fn enrollment_reader(r: &ReaderFile) -> Result<EnrollmentReaderConfig, Invalid> {
    let refuse = |key: &str| {
        Err((
            r.name.span(),
            format!(
                "reader {:?}: `{key}` does not apply to purpose = \"enrollment\" (a desk reader opens no door)",
                r.name.get_ref()
            ),
        ))
    };
    if r.door.is_some() {
        return refuse("door");
    }
    if r.direction.is_some() {
        return refuse("direction");
    }
    Ok(EnrollmentReaderConfig {
        name: r.name.get_ref().clone(),
        repeat_window: Duration::from_millis(r.repeat_window_ms),
        kind: reader_kind(r)?,
    })
}

fn port(kind: &ReaderKind) -> Option<&Path> {
    match kind {
        ReaderKind::Serial(s) => Some(&s.path),
        ReaderKind::Osdp(o) => Some(&o.path),
        ReaderKind::Simulated | ReaderKind::Pcsc { .. } => None,
    }
}

fn reader_kind(r: &ReaderFile) -> Result<ReaderKind, Invalid> {
    let kind_span = r.kind.span();
    let unused = |present: bool, key: &str| -> Result<(), Invalid> {
        if present {
            Err((
                kind_span.clone(),
                format!(
                    "reader.{key} does not apply to kind = {:?}",
                    r.kind.get_ref()
                ),
            ))
        } else {
            Ok(())
        }
    };
    if r.kind.get_ref() != "osdp" {
        unused(r.address.is_some(), "address")?;
        unused(r.scbk_file.is_some(), "scbk_file")?;
        unused(r.secure.is_some(), "secure")?;
        unused(r.poll_ms.is_some(), "poll_ms")?;
        unused(r.reply_timeout_ms.is_some(), "reply_timeout_ms")?;
        unused(r.install_mode.is_some(), "install_mode")?;
    }
    match r.kind.get_ref().as_str() {
        "simulated" => {
            unused(r.name_match.is_some(), "match")?;
            unused(r.path.is_some(), "path")?;
            unused(r.protocol.is_some(), "protocol")?;
            unused(r.baud.is_some(), "baud")?;
            Ok(ReaderKind::Simulated)
        }
        "pcsc" => {
            unused(r.path.is_some(), "path")?;
            unused(r.protocol.is_some(), "protocol")?;
            unused(r.baud.is_some(), "baud")?;
            let pattern = r.name_match.as_ref().ok_or_else(|| {
                (
                    kind_span.clone(),
                    "reader.match is required for kind = \"pcsc\"".to_owned(),
                )
            })?;
            Ok(ReaderKind::Pcsc {
                pattern: pattern.get_ref().clone(),
            })
        }
        "serial" => {
            unused(r.name_match.is_some(), "match")?;
            let path = r.path.as_ref().ok_or_else(|| {
                (
                    kind_span.clone(),
                    "reader.path is required for kind = \"serial\"".to_owned(),
                )
            })?;
            let protocol = r.protocol.as_ref().ok_or_else(|| {
                (
                    kind_span.clone(),
                    "reader.protocol is required for kind = \"serial\"".to_owned(),
                )
            })?;
            let name = protocol.get_ref().as_str();
            if r.wiegand.is_some() && name != "wiegand-ascii" {
                return Err((
                    protocol.span(),
                    "reader.wiegand applies only to protocol = \"wiegand-ascii\"".into(),
                ));
            }
            if r.technology.is_some() && name != "line" {
                return Err((
                    protocol.span(),
                    "reader.technology applies only to protocol = \"line\"".into(),
                ));
            }
            let protocol = match name {
                "rdm6300" => SerialProtocol::Rdm6300,
                "wiegand-ascii" => {
                    SerialProtocol::WiegandAscii(r.wiegand.clone().unwrap_or_default())
                }
                "pn532" => SerialProtocol::Pn532,
                "line" => {
                    SerialProtocol::Line(r.technology.unwrap_or(crate::model::Technology::Iso14443))
                }
                other => {
                    return Err((
                        protocol.span(),
                        format!(
                            "reader.protocol {other:?} is not one of rdm6300, wiegand-ascii, pn532, line"
                        ),
                    ));
                }
            };
            let default_baud = match protocol {
                SerialProtocol::Pn532 => 115_200,
                _ => 9600,
            };
            Ok(ReaderKind::Serial(SerialReaderConfig {
                path: path.get_ref().clone(),
                baud: r.baud.unwrap_or(default_baud),
                protocol,
            }))
        }
        "osdp" => osdp::validate(r).map(ReaderKind::Osdp),
        other => Err((
            kind_span,
            format!("reader.kind {other:?} is not one of simulated, pcsc, serial, osdp"),
        )),
    }
}
