//! Shared harness: the real `lawang` binary on a free port with a temporary data directory,
//! a private pcscd with the vpcd driver, a scripted virtual card, a real OSDP PD (libosdp)
//! on a pty, a real SMTP relay (aiosmtpd), a webhook receiver, and headless Chromium driven
//! through chromedriver (`browser`).

pub mod browser;
pub mod daemon;
pub mod osdp_pd;
pub mod pcscd;
pub mod pty;
pub mod smtp;
pub mod vpcd;
pub mod web;
pub mod webdriver;
pub mod webhook;
