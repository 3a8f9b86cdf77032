//! # Lawang: access control for a server-room door
//!
//! ## Layout
//! The data flow of a tap, one module per stage:
//!
//! - [`reader`]: drivers turn device bytes into card reads (`frame/` parses bytes, pure).
//! - [`decision`]: a pure function of the access-list snapshot, the card and `now`.
//! - [`door`]: the controller per door: debounce, decide, record, unlock, re-lock.
//! - [`register`]: the facility register line for every tap, granted or refused.
//! - [`store`]: SQLite: migrations, the access list, the register writer, the audit log.
//! - [`api`]: the authenticated admin HTTP API; [`cli`] talks to it.
//! - [`notify`]: delivers the outbox (email over SMTP, webhooks) and the alarm webhooks.
//!
//! Beside the tap path: [`workflow`] (the SOP's procedures: requests, removals, reviews, as
//! pure state machines the store and API drive) and [`visit`] (procedure 4: the desk's
//! check-in, the head's approval, visitor badges; the escort rule itself is at the door).
//!
//! Around them: [`config`] (file format → validated config), [`model`] (domain newtypes),
//! [`schedule`] (weekly windows), [`daemon`] (wires the tasks together, reloads them, tells
//! systemd), [`metrics`] (Prometheus counters fed by the hot path).

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod api;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod decision;
pub mod door;
pub mod enrollment;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod pages;
pub mod password;
pub mod pin;
pub mod reader;
pub mod register;
pub mod report;
pub mod schedule;
pub mod store;
#[cfg(test)]
mod testing;
pub mod visit;
pub mod workflow;
