//! The workflow backlog for monitoring: how many workflow steps (access requests, review
//! items, removals, accounts elsewhere) wait for someone, and how many of them are overdue.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::{Result, waiting};

/// The kinds of case in the waiting list, so a gauge shows 0 rather than vanishing.
pub const CASES: [&str; 5] = [
    "request",
    "removal",
    "review_item",
    "logical_right",
    "visit",
];

/// Open and overdue steps for one kind of case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    pub case: &'static str,
    pub open: i64,
    pub overdue: i64,
}

/// One row per entry of [`CASES`], in that order.
pub fn workflow_backlog(conn: &Connection, now: DateTime<Utc>) -> Result<Vec<Backlog>> {
    let mut out: Vec<Backlog> = CASES
        .iter()
        .map(|case| Backlog {
            case,
            ..Backlog::default()
        })
        .collect();
    for item in waiting::all(conn, now)? {
        if let Some(b) = out.iter_mut().find(|b| b.case == item.case) {
            b.open += 1;
            b.overdue += i64::from(item.overdue);
        }
    }
    Ok(out)
}
