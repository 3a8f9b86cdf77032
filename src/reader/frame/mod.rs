//! Pure byte-level parsers for reader protocols: no ports, no clocks, no allocation beyond
//! the decoder's own fixed buffer (errors may carry a bounded copy of the offending line).
//! Every parser is driven from byte strings in tests, by proptest and by a fuzz target; no
//! input may make one panic, and garbage or a cut-off frame only delays the next good one.

pub mod line;
pub mod pn532;
pub mod rdm6300;
pub mod wiegand;

use crate::model::Credential;

/// A decoder for readers that volunteer card reads without being asked (RDM6300,
/// Wiegand converters, line readers), so the driver only feeds it bytes.
pub trait CardDecoder {
    /// A frame that arrived but is not a card: bad checksum, bad parity, malformed text.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Feeds one byte and returns what it completed, if anything.
    fn push(&mut self, byte: u8) -> Option<Result<Credential, Self::Error>>;
}
