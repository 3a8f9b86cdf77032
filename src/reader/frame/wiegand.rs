//! Wiegand-to-ASCII converter lines.

use serde::{Deserialize, Serialize};

/// How a Wiegand converter formats its lines (the `wiegand = { … }` table of a serial
/// reader with `protocol = "wiegand-ascii"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WiegandOptions {
    /// Frame length in bits including parity: 26, 34 or 37.
    pub bits: u8,
    /// Whether the line carries the whole frame with parity bits that must be checked.
    pub check_parity: bool,
    /// `decimal` or `hex` digits on the line.
    pub encoding: WiegandEncoding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WiegandEncoding {
    Decimal,
    Hex,
}

impl Default for WiegandOptions {
    fn default() -> Self {
        WiegandOptions {
            bits: 26,
            check_parity: true,
            encoding: WiegandEncoding::Decimal,
        }
    }
}
