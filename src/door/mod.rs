//! Doors: the strike, its timers, and the controller that turns reader events into
//! decisions, register lines and unlocks.

use crate::decision::Decision;

/// What happened to one tap, returned to callers that wait for it (simulated taps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapOutcome {
    pub decision: Decision,
    /// Register line id; `None` when the tap was a repeat of the card still being held.
    pub register_id: Option<i64>,
}
