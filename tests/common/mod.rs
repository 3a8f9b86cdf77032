//! Shared harness: the real `lawang` binary on a free port with a temporary data directory,
//! a private pcscd with the vpcd driver, a scripted virtual card, and a real OSDP PD
//! (libosdp) on a pty.

pub mod daemon;
pub mod osdp_pd;
pub mod pcscd;
pub mod pty;
pub mod vpcd;
