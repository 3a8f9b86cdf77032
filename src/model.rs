//! Domain newtypes shared by every layer.
//!
//! A [`Credential`] is the canonical identity of a card: its technology plus the bytes the
//! card carries. It is normalised once, where it enters the system (a reader frame, an API
//! body), so equality everywhere else is plain byte equality and the door's hot path never
//! allocates or re-parses.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Database id of a door (the `door` table is synced from the configuration at start).
pub type DoorId = i64;
/// Database id of a reader.
pub type ReaderId = i64;
pub type PersonId = i64;
pub type CredentialId = i64;
pub type RightId = i64;

/// How a card's identity was obtained. Two readers of the same technology see the same
/// bytes for the same card; different technologies never compare equal, because their
/// numbers are not comparable (a 26-bit Wiegand number is a truncation of an EM4100 ID).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Technology {
    /// ISO/IEC 14443 contactless UID (4, 7 or 10 bytes), as read by PC/SC `FF CA 00 00 00`
    /// or a PN532 `InListPassiveTarget`.
    Iso14443,
    /// ISO/IEC 15693 vicinity card UID (8 bytes).
    Iso15693,
    /// EM4100 / EM4102 125 kHz tag: 5 bytes (version/customer byte + 32-bit ID).
    Em4100,
    /// Wiegand payload with the parity bits removed, big-endian, padded to whole bytes:
    /// 26-bit H10301 gives 3 bytes (facility, card), 34-bit 4 bytes, 37-bit 5 bytes.
    Wiegand,
    /// Card data from an OSDP reader (`osdp_RAW`) that is not a 26/34/37-bit Wiegand frame:
    /// the bytes as sent, bit count rounded up to whole bytes, unused low bits zero.
    OsdpRaw,
}

impl Technology {
    pub const ALL: [Technology; 5] = [
        Technology::Iso14443,
        Technology::Iso15693,
        Technology::Em4100,
        Technology::Wiegand,
        Technology::OsdpRaw,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Technology::Iso14443 => "iso14443",
            Technology::Iso15693 => "iso15693",
            Technology::Em4100 => "em4100",
            Technology::Wiegand => "wiegand",
            Technology::OsdpRaw => "osdp-raw",
        }
    }
}

impl fmt::Display for Technology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Technology {
    type Err = CredentialError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Technology::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| CredentialError::UnknownTechnology(s.to_owned()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("a card UID must not be empty")]
    Empty,
    #[error("a card UID is at most {max} bytes, got {got}", max = Credential::MAX_LEN)]
    TooLong { got: usize },
    #[error("a card UID is hexadecimal digits (separators ':', '-' and spaces allowed), got {0:?}")]
    NotHex(String),
    #[error(
        "unknown card technology {0:?} (expected iso14443, iso15693, em4100, wiegand or osdp-raw)"
    )]
    UnknownTechnology(String),
}

/// A card identity, fixed-size and `Copy` so the access list can be keyed by it without
/// allocation. Bytes beyond `len` are always zero, which keeps derived `Eq`/`Hash` correct.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Credential {
    tech: Technology,
    len: u8,
    bytes: [u8; Credential::MAX_LEN],
}

impl Credential {
    pub const MAX_LEN: usize = 16;

    pub fn new(tech: Technology, uid: &[u8]) -> Result<Self, CredentialError> {
        if uid.is_empty() {
            return Err(CredentialError::Empty);
        }
        if uid.len() > Self::MAX_LEN {
            return Err(CredentialError::TooLong { got: uid.len() });
        }
        let mut bytes = [0u8; Self::MAX_LEN];
        bytes[..uid.len()].copy_from_slice(uid);
        Ok(Credential {
            tech,
            len: uid.len() as u8,
            bytes,
        })
    }

    /// Parses a UID typed by a person or sent by a converter: hex digits with optional
    /// `:`/`-`/space separators, any case.
    pub fn parse_hex(tech: Technology, text: &str) -> Result<Self, CredentialError> {
        let digits: String = text
            .chars()
            .filter(|c| !matches!(c, ':' | '-' | ' '))
            .collect();
        if digits.is_empty() {
            return Err(CredentialError::Empty);
        }
        let bytes = hex::decode(&digits).map_err(|_| CredentialError::NotHex(text.to_owned()))?;
        Self::new(tech, &bytes)
    }

    pub fn technology(&self) -> Technology {
        self.tech
    }

    pub fn uid(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// Uppercase hex without separators: the form stored and shown everywhere.
    pub fn uid_hex(&self) -> String {
        hex::encode_upper(self.uid())
    }
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.tech, self.uid_hex())
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credential({self})")
    }
}

/// Which side of the door a reader is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Outside reader: a grant is an entry (masuk).
    In,
    /// Inside reader: a grant is an exit (keluar).
    Out,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

/// Lifecycle of a physical card. Only `Active` opens a door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CredentialStatus {
    Active,
    /// Temporarily blocked; can be reactivated.
    Suspended,
    /// Reported lost; blocked until found and reactivated.
    Lost,
    /// Withdrawn for good; the UID may later be issued again as a new credential.
    Revoked,
}

impl CredentialStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialStatus::Active => "active",
            CredentialStatus::Suspended => "suspended",
            CredentialStatus::Lost => "lost",
            CredentialStatus::Revoked => "revoked",
        }
    }
}

impl FromStr for CredentialStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(Self::Active),
            "suspended" => Ok(Self::Suspended),
            "lost" => Ok(Self::Lost),
            "revoked" => Ok(Self::Revoked),
            other => Err(format!("unknown credential status {other:?}")),
        }
    }
}

/// The roles of the SOP; every admin token carries exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// System administrator: tokens, direct (import) issuance, everything.
    Admin,
    /// Operator Ruang Server: people, badges, the access list.
    Operator,
    /// Kasi Layanan Infrastruktur TIK: verifies requests, runs reviews, reads reports.
    Kasi,
    /// Kabid Infrastruktur dan APTIKA.
    Kabid,
    /// Kadis Komunikasi dan Informatika.
    Kadis,
    /// The applicant's direct superior.
    Atasan,
    /// Applicant.
    Pemohon,
    /// Penanggung jawab (ruang server / hak akses): confirms rights in reviews, files removals.
    PenanggungJawab,
    /// Front desk / information-security coordinator.
    Helpdesk,
    /// Head of the facility (Kepala LPSE / Kasubbag Pengelolaan LPSE): grants or denies a
    /// visitor's use of the facility (seeds 001, 004).
    Kepala,
    /// Read-only: register, audit log, access list.
    Auditor,
    /// A monitoring system (Prometheus): reads `/metrics` and nothing else.
    Monitor,
}

impl Role {
    pub const ALL: [Role; 12] = [
        Role::Admin,
        Role::Operator,
        Role::Kasi,
        Role::Kabid,
        Role::Kadis,
        Role::Atasan,
        Role::Pemohon,
        Role::PenanggungJawab,
        Role::Helpdesk,
        Role::Kepala,
        Role::Auditor,
        Role::Monitor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Kasi => "kasi",
            Role::Kabid => "kabid",
            Role::Kadis => "kadis",
            Role::Atasan => "atasan",
            Role::Pemohon => "pemohon",
            Role::PenanggungJawab => "penanggung_jawab",
            Role::Helpdesk => "helpdesk",
            Role::Kepala => "kepala",
            Role::Auditor => "auditor",
            Role::Monitor => "monitor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown role {s:?}; roles are {}", names.join(", "))
            })
    }
}

/// Who did an admin action, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The API token used; `None` for the local CLI acting on the database directly.
    pub token_id: Option<i64>,
    /// The staff account the token stands for, if any: workflow steps addressed to one
    /// person (a named superior, a penanggung jawab) need it.
    pub account_id: Option<i64>,
    pub name: String,
    pub role: Role,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_normalised_once() {
        let a = Credential::parse_hex(Technology::Iso14443, "04:a1:b2:c3").unwrap();
        let b = Credential::parse_hex(Technology::Iso14443, "04A1B2C3").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.uid_hex(), "04A1B2C3");
        assert_eq!(a.to_string(), "iso14443:04A1B2C3");
    }

    #[test]
    fn technologies_never_collide() {
        let a = Credential::parse_hex(Technology::Em4100, "0102030405").unwrap();
        let b = Credential::parse_hex(Technology::Wiegand, "0102030405").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn bad_uids_are_refused_with_a_reason() {
        let t = Technology::Iso14443;
        assert_eq!(Credential::parse_hex(t, ""), Err(CredentialError::Empty));
        assert!(matches!(
            Credential::parse_hex(t, "0G"),
            Err(CredentialError::NotHex(_))
        ));
        assert!(matches!(
            Credential::parse_hex(t, "ABC"),
            Err(CredentialError::NotHex(_))
        ));
        assert_eq!(
            Credential::parse_hex(t, &"00".repeat(17)),
            Err(CredentialError::TooLong { got: 17 })
        );
    }

    proptest::proptest! {
        #[test]
        fn hex_round_trips(tech in 0usize..4, bytes in proptest::collection::vec(proptest::num::u8::ANY, 1..=16)) {
            let tech = Technology::ALL[tech];
            let c = Credential::new(tech, &bytes).unwrap();
            proptest::prop_assert_eq!(Credential::parse_hex(tech, &c.uid_hex()).unwrap(), c);
            proptest::prop_assert_eq!(c.uid(), &bytes[..]);
        }
    }
}
