//! The one integration test binary (each file in tests/ would be a separate link).

mod common;

mod api;
mod cli;
mod hardware;
mod osdp;
mod pcsc;
mod pin;
mod visitors;
mod workflow;
