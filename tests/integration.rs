//! The one integration test binary (each file in tests/ would be a separate link).

mod common;

mod api;
mod backup;
mod cli;
mod hardware;
mod notify;
mod observability;
mod osdp;
mod pcsc;
mod pin;
mod reload;
mod reports;
mod systemd;
mod visitors;
mod workflow;
