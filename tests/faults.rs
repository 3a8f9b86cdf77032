//! Faults (docs/reliability.md, "Faults"): the daemon under a full disk, a wall clock that
//! jumps, and readers that go away and come back or send noise.

mod clock;
mod disk_full;
mod readers;
