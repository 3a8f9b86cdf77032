//! Readers under faults.
