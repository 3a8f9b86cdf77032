//! OSDP readers (SIA OSDP 2.2 over RS-485), Control Panel side.
//!
//! Pure layers first: `crc` (packet checks), `packet` (framing and an incremental decoder),
//! `message` (commands built, replies read), `secure` (the secure channel's keys, MACs and
//! encryption).
pub mod crc;
pub mod message;
pub mod packet;
pub mod secure;
