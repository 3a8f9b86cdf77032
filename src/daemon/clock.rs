//! Watches the wall clock against the monotonic one. Timers (unlock time, PIN timeout,
//! escort window) run on the monotonic clock and are not moved by a wall-clock jump; but
//! register times, schedules and validity dates follow the wall clock, so a jump (set by
//! hand, NTP stepping a clock that was far off) leaves times that are not continuous. Each
//! tick compares how far both clocks moved; a difference over [`THRESHOLD`] is a jump: a
//! warning in the log, `lawang_clock_jumps_total`, an audit line with its size, and a
//! `clock_jump` line in every door's register, so an auditor sees why.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use serde_json::json;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::devices::Devices;
use crate::door::DoorControl;
use crate::metrics::Metrics;
use crate::model::{Actor, Role};
use crate::store::{Changed, Db, audit};

/// How often both clocks are read.
const TICK: Duration = Duration::from_secs(1);
/// Differences smaller than this are NTP slewing or a late tick, not a jump.
pub const THRESHOLD: chrono::TimeDelta = chrono::TimeDelta::seconds(3);

/// How far the wall clock moved apart from the monotonic one between two readings, if
/// more than [`THRESHOLD`]: positive forward, negative back.
pub fn jump(
    wall_before: DateTime<Utc>,
    wall_now: DateTime<Utc>,
    monotonic_elapsed: Duration,
) -> Option<chrono::TimeDelta> {
    let monotonic = chrono::TimeDelta::from_std(monotonic_elapsed).ok()?;
    let apart = (wall_now - wall_before) - monotonic;
    (apart.abs() > THRESHOLD).then_some(apart)
}

/// Who records a jump in the audit log.
fn clock_actor() -> Actor {
    Actor {
        token_id: None,
        account_id: None,
        name: "jam sistem Lawang".into(),
        role: Role::Admin,
    }
}

/// Ticks until `stop`.
pub async fn run(
    db: Db,
    devices: Arc<ArcSwap<Devices>>,
    metrics: Arc<Metrics>,
    stop: CancellationToken,
) {
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut before = (Utc::now(), Instant::now());
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let now = (Utc::now(), Instant::now());
        let Some(apart) = jump(before.0, now.0, now.1.duration_since(before.1)) else {
            before = now;
            continue;
        };
        let from = before.0 + (now.1.duration_since(before.1));
        before = now;
        let seconds = apart.num_milliseconds() as f64 / 1000.0;
        metrics.register.clock_jumps.fetch_add(1, Relaxed);
        tracing::warn!(%from, to = %now.0, seconds, "the wall clock jumped; register times before and after are not continuous");
        let detail = json!({ "from": from, "to": now.0, "seconds": seconds });
        let at = now.0;
        let audited = db
            .write(move |tx| {
                audit::record(tx, &clock_actor(), "clock.jump", None, detail, at)?;
                Ok(((), Changed::none()))
            })
            .await;
        if let Err(e) = audited {
            tracing::error!(error = %e, "the clock jump could not be written to the audit log");
        }
        for door in &devices.load().doors {
            if door.control.try_send(DoorControl::ClockJumped).is_err() {
                tracing::warn!(door = %door.name, "the clock jump line was not queued: the door is busy");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_795_000_000 + s, 0).unwrap()
    }

    #[test]
    fn clocks_moving_together_are_no_jump_however_late_the_tick() {
        assert_eq!(jump(t(0), t(1), Duration::from_secs(1)), None);
        // A tick delayed by a busy machine: both clocks moved 30 s.
        assert_eq!(jump(t(0), t(30), Duration::from_secs(30)), None);
        // Slewing by NTP: a little apart.
        assert_eq!(jump(t(0), t(3), Duration::from_millis(1000)), None);
    }

    #[test]
    fn the_wall_clock_set_back_or_forward_is_a_jump_of_its_size() {
        assert_eq!(
            jump(t(0), t(-3599), Duration::from_secs(1)),
            Some(chrono::TimeDelta::seconds(-3600))
        );
        assert_eq!(
            jump(t(0), t(3601), Duration::from_secs(1)),
            Some(chrono::TimeDelta::seconds(3600))
        );
        assert_eq!(
            jump(t(0), t(5), Duration::from_secs(1)),
            Some(chrono::TimeDelta::seconds(4))
        );
    }
}
