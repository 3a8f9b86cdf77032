//! Shared harness: the real `lawang` binary on a free port with a temporary data directory,
//! a private pcscd with the vpcd driver, and a scripted virtual card.

pub mod daemon;
pub mod pcscd;
pub mod pty;
pub mod vpcd;
