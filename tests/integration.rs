//! The one integration test binary (each file in tests/ would be a separate link).

mod common;

mod api;
mod audit;
mod backup;
mod browser;
mod cli;
mod crash;
mod enrollment;
mod faults;
mod hardware;
mod load;
mod notify;
mod observability;
mod osdp;
mod pages;
mod pages_http;
mod pcsc;
mod pin;
mod reload;
mod reports;
mod security;
mod systemd;
mod visitors;
mod workflow;
