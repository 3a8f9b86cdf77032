//! The one integration test binary (each file in tests/ would be a separate link).

mod common;

mod api;
mod cli;
mod hardware;
mod notify;
mod osdp;
mod pcsc;
mod pin;
mod workflow;
