//! Wall-clock jumps.
