//! The `kind = "osdp"` reader keys, validated into an [`OsdpReaderConfig`].

use std::path::PathBuf;
use std::time::Duration;

use super::{Invalid, ReaderConfig, ReaderFile, ReaderKind};

/// An OSDP reader: one PD on its own serial port.
#[derive(Debug, Clone, PartialEq)]
pub struct OsdpReaderConfig {
    pub path: PathBuf,
    pub baud: u32,
    pub address: u8,
    pub key: OsdpKey,
    pub poll: Duration,
    pub reply_timeout: Duration,
}

/// Which secure channel key the CP uses. Only the key file's path is held here: the key
/// itself is read when the driver connects and never enters the configuration (which is
/// logged and shown through the API).
#[derive(Debug, Clone, PartialEq)]
pub enum OsdpKey {
    /// `secure = false`: plain channel.
    None,
    /// The Secure Channel Base Key in this file.
    File(PathBuf),
    /// `install_mode = true`: the default key SCBK-D.
    Install,
}

pub(super) fn validate(r: &ReaderFile) -> Result<OsdpReaderConfig, Invalid> {
    let span = r.kind.span();
    let err = |message: &str| Err((span.clone(), message.to_owned()));
    if r.name_match.is_some()
        || r.protocol.is_some()
        || r.wiegand.is_some()
        || r.technology.is_some()
    {
        return err(
            "reader.match, protocol, wiegand and technology do not apply to kind = \"osdp\"",
        );
    }
    let Some(path) = &r.path else {
        return err("reader.path is required for kind = \"osdp\"");
    };
    let address = r.address.unwrap_or(1);
    if address > 126 {
        return err("reader.address must be 0-126 (127 is the broadcast address)");
    }
    let install = r.install_mode.unwrap_or(false);
    let key = match (r.secure.unwrap_or(true), &r.scbk_file, install) {
        (false, None, false) => OsdpKey::None,
        (false, _, _) => {
            return err("reader.scbk_file and install_mode do not apply with secure = false");
        }
        (true, Some(_), true) => {
            return err("reader.install_mode uses the default key SCBK-D: remove scbk_file");
        }
        (true, Some(file), false) => OsdpKey::File(file.get_ref().clone()),
        (true, None, true) => OsdpKey::Install,
        (true, None, false) => {
            return err(
                "reader.scbk_file is required for kind = \"osdp\" (the secure channel is on by default; install_mode = true uses the default key, secure = false turns it off)",
            );
        }
    };
    let poll = Duration::from_millis(r.poll_ms.unwrap_or(50));
    let reply_timeout = Duration::from_millis(r.reply_timeout_ms.unwrap_or(200));
    if poll.is_zero() || reply_timeout.is_zero() {
        return err("reader.poll_ms and reply_timeout_ms must be positive");
    }
    Ok(OsdpReaderConfig {
        path: path.get_ref().clone(),
        baud: r.baud.unwrap_or(115_200),
        address,
        key,
        poll,
        reply_timeout,
    })
}

/// Several OSDP readers may share a port: they are PDs on one RS-485 bus, polled in turn by
/// one task. They must then differ in address and agree on the line speed; a port used by a
/// reader of another kind cannot be shared (two drivers would fight over the line).
pub(super) fn check_bus(
    osdp: &OsdpReaderConfig,
    earlier: &[ReaderConfig],
    r: &ReaderFile,
) -> Result<(), Invalid> {
    let span = r.path.as_ref().map_or_else(|| r.kind.span(), |p| p.span());
    for other in earlier {
        let refuse = |message: String| Err((span.clone(), message));
        match &other.kind {
            ReaderKind::Serial(s) if s.path == osdp.path => {
                return refuse(format!(
                    "reader.path: reader {:?} (kind = \"serial\") already uses {}",
                    other.name,
                    osdp.path.display()
                ));
            }
            ReaderKind::Osdp(o) if o.path == osdp.path && o.address == osdp.address => {
                return refuse(format!(
                    "reader.address: reader {:?} already has address {} on the bus {}",
                    other.name,
                    osdp.address,
                    osdp.path.display()
                ));
            }
            ReaderKind::Osdp(o) if o.path == osdp.path && o.baud != osdp.baud => {
                return refuse(format!(
                    "reader.baud {} differs from reader {:?} ({}) on the bus {}: every PD on one bus runs at the same speed",
                    osdp.baud,
                    other.name,
                    o.baud,
                    osdp.path.display()
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ReaderKind};

    use super::*;

    const BASE: &str = "[[door]]\nname = \"a\"\n[[reader]]\nname = \"r\"\ndoor = \"a\"\ndirection = \"in\"\nkind = \"osdp\"\npath = \"/dev/ttyUSB0\"\n";

    fn parse(extra: &str) -> Result<OsdpReaderConfig, String> {
        let (c, _) =
            Config::parse(&format!("{BASE}{extra}"), "t.toml").map_err(|e| e.to_string())?;
        match &c.readers[0].kind {
            ReaderKind::Osdp(o) => Ok(o.clone()),
            other => Err(format!("{other:?}")),
        }
    }

    #[test]
    fn the_issue_example_parses_with_libosdp_like_defaults() {
        let o = parse("baud = 115200\naddress = 1\nscbk_file = \"/etc/lawang/keys/masuk.scbk\"\n")
            .unwrap();
        assert_eq!(
            o,
            OsdpReaderConfig {
                path: "/dev/ttyUSB0".into(),
                baud: 115_200,
                address: 1,
                key: OsdpKey::File("/etc/lawang/keys/masuk.scbk".into()),
                poll: Duration::from_millis(50),
                reply_timeout: Duration::from_millis(200),
            }
        );
    }

    #[test]
    fn the_secure_channel_is_on_unless_turned_off_explicitly() {
        assert!(
            parse("")
                .unwrap_err()
                .contains("reader.scbk_file is required")
        );
        assert_eq!(parse("secure = false").unwrap().key, OsdpKey::None);
        assert_eq!(parse("install_mode = true").unwrap().key, OsdpKey::Install);
        assert!(parse("secure = false\nscbk_file = \"k\"").is_err());
        assert!(parse("install_mode = true\nscbk_file = \"k\"").is_err());
    }

    const SECOND: &str = "[[reader]]\nname = \"r2\"\ndoor = \"a\"\ndirection = \"out\"\nkind = \"osdp\"\npath = \"/dev/ttyUSB0\"\nsecure = false\n";

    #[test]
    fn several_pds_share_a_bus_at_different_addresses() {
        let (c, _) = Config::parse(
            &format!("{BASE}secure = false\n{SECOND}address = 2\n"),
            "t.toml",
        )
        .unwrap();
        assert_eq!(c.readers.len(), 2);
    }

    #[test]
    fn a_bus_refuses_a_repeated_address_and_a_different_speed_naming_the_line() {
        let err = parse(&format!("secure = false\n{SECOND}address = 1\n")).unwrap_err();
        assert!(
            err.contains("reader.address") && err.contains("\"r\""),
            "{err}"
        );
        assert!(err.contains("line 15"), "{err}");
        let err = parse(&format!(
            "secure = false\n{SECOND}address = 2\nbaud = 9600\n"
        ))
        .unwrap_err();
        assert!(err.contains("reader.baud 9600 differs"), "{err}");
        assert!(err.contains("line 15"), "{err}");
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(
            parse("secure = false\naddress = 127")
                .unwrap_err()
                .contains("0-126")
        );
        assert!(parse("secure = false\npoll_ms = 0").is_err());
        assert!(parse("secure = false\nprotocol = \"rdm6300\"").is_err());
        let serial = "[[door]]\nname = \"a\"\n[[reader]]\nname = \"r\"\ndoor = \"a\"\ndirection = \"in\"\nkind = \"serial\"\npath = \"/dev/x\"\nprotocol = \"rdm6300\"\naddress = 1\n";
        let err = Config::parse(serial, "t.toml").unwrap_err().to_string();
        assert!(err.contains("reader.address does not apply"), "{err}");
    }
}
