//! Pure byte-level parsers for reader protocols: no ports, no clocks, no allocation beyond
//! the decoder's own buffer. Every parser is driven from byte strings in tests, by proptest
//! and by a fuzz target; no input may make one panic.

pub mod wiegand;
