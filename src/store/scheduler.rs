//! What the workflow does by itself as time passes: starts the period's review campaign,
//! closes campaigns past their deadline, and reminds whoever a step or review item still
//! waits for. One [`tick`] is one transaction, given `now`; the daemon calls it every minute
//! and tests call it with made-up times.

use chrono::{DateTime, Datelike, Duration, Utc};
use chrono_tz::Tz;
use rusqlite::{Connection, OptionalExtension, params};

use super::notices::{self, To};
use super::requests::Ctx;
use super::reviews::{self, NewReview};
use super::waiting;
use super::{Changed, Result, to_ms};
use crate::config::ReviewSchedule;
use crate::model::{Actor, Role};
use crate::workflow::texts;

/// A review item is reminded in the last two days before its deadline, not only after.
const REVIEW_LEAD: i64 = 48;

/// Who the scheduler acts as in the history and the audit log.
pub fn system_actor() -> Actor {
    Actor {
        token_id: None,
        account_id: None,
        name: "jadwal otomatis Lawang".into(),
        role: Role::Kasi,
    }
}

/// The campaign period `now` falls in, in the office's zone: `2026-Q4`, `2026-11`, `2026`.
pub fn period_key(schedule: ReviewSchedule, now: DateTime<Utc>, tz: Tz) -> Option<String> {
    let local = now.with_timezone(&tz);
    match schedule {
        ReviewSchedule::Never => None,
        ReviewSchedule::Monthly => Some(format!("{}-{:02}", local.year(), local.month())),
        ReviewSchedule::Quarterly => Some(format!("{}-Q{}", local.year(), local.month0() / 3 + 1)),
        ReviewSchedule::Yearly => Some(local.year().to_string()),
    }
}

/// What one tick did, for the log and the tests.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tick {
    pub started: Option<i64>,
    pub closed: Vec<i64>,
    pub reminded: usize,
}

pub fn tick(conn: &Connection, ctx: Ctx, now: DateTime<Utc>) -> Result<(Tick, Changed)> {
    let actor = system_actor();
    let mut out = Tick::default();
    let mut changed = Changed::none();
    for id in reviews::past_deadline(conn, now)? {
        let (_, c) = reviews::close(conn, ctx, id, &actor, now)?;
        changed.persons.extend(c.persons);
        changed.credentials.extend(c.credentials);
        out.closed.push(id);
    }
    if let Some(key) = period_key(ctx.workflow.review.schedule, now, ctx.tz)
        && !reviews::period_started(conn, &key)?
        && !review_open(conn)?
        && anything_to_review(conn, now)?
    {
        let review = NewReview {
            title: Some(format!("Review Akses periode {key}")),
            ..NewReview::default()
        };
        out.started = Some(reviews::start(conn, ctx, &review, Some(&key), &actor, now)?.id);
    }
    out.reminded = remind(conn, ctx, now)?;
    Ok((out, changed))
}

fn review_open(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM review WHERE status = 'open')",
        [],
        |r| r.get(0),
    )?)
}

fn anything_to_review(conn: &Connection, now: DateTime<Utc>) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM access_right WHERE status = 'active' AND valid_until > ?1)
             OR EXISTS (SELECT 1 FROM logical_right WHERE status = 'open')",
        [to_ms(now)],
        |r| r.get(0),
    )?)
}

/// Reminds each overdue step (and each review item near its deadline) at most once per
/// `remind_every_hours`.
fn remind(conn: &Connection, ctx: Ctx, now: DateTime<Utc>) -> Result<usize> {
    let every = Duration::hours(i64::from(ctx.workflow.review.remind_every_hours));
    let mut sent = 0;
    for w in waiting::all(conn, now)? {
        let near = w.case == "review_item" && now + Duration::hours(REVIEW_LEAD) >= w.due_at;
        if !(w.overdue || near) {
            continue;
        }
        let subject = format!("{}:{}:{}", w.case, w.id, w.step);
        let last: Option<i64> = conn
            .prepare_cached("SELECT last_at FROM reminder WHERE subject = ?1")?
            .query_row([&subject], |r| r.get(0))
            .optional()?;
        if last.is_some_and(|l| to_ms(now) - l < every.num_milliseconds()) {
            continue;
        }
        let to = match w.account_id {
            Some(a) => To::Account(a),
            None => To::Role(w.role),
        };
        let text = texts::reminder(&w.title, &w.label, w.due_at, w.overdue, ctx.tz);
        notices::send(conn, &[to], &text, now)?;
        conn.execute(
            "INSERT INTO reminder (subject, last_at) VALUES (?1, ?2)
             ON CONFLICT(subject) DO UPDATE SET last_at = ?2",
            params![subject, to_ms(now)],
        )?;
        sent += 1;
    }
    Ok(sent)
}

/// Ticks every minute until `stop`; a failed tick is logged and retried on the next.
pub async fn run(
    db: super::Db,
    workflow: std::sync::Arc<crate::config::WorkflowConfig>,
    tz: Tz,
    stop: tokio_util::sync::CancellationToken,
) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = every.tick() => {}
        }
        let workflow = workflow.clone();
        let done = db
            .write(move |tx| {
                tick(
                    tx,
                    Ctx {
                        workflow: &workflow,
                        tz,
                    },
                    Utc::now(),
                )
            })
            .await;
        match done {
            Ok(t) if t != Tick::default() => {
                tracing::info!(started = ?t.started, closed = ?t.closed, reminded = t.reminded, "workflow schedule");
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "workflow schedule failed; retrying in a minute"),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::config::WorkflowConfig;
    use crate::store::tests::fixture;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    #[test]
    fn periods_are_counted_in_the_office_zone() {
        let tz = chrono_tz::Asia::Jakarta;
        // 31 Dec 20:00 UTC is already 1 January in Jakarta.
        let t = at(2026, 12, 31, 20);
        assert_eq!(
            period_key(ReviewSchedule::Quarterly, t, tz).unwrap(),
            "2027-Q1"
        );
        assert_eq!(
            period_key(ReviewSchedule::Monthly, t, tz).unwrap(),
            "2027-01"
        );
        assert_eq!(period_key(ReviewSchedule::Yearly, t, tz).unwrap(), "2027");
        assert_eq!(
            period_key(ReviewSchedule::Quarterly, at(2026, 9, 30, 16), tz).unwrap(),
            "2026-Q3"
        );
        assert_eq!(period_key(ReviewSchedule::Never, t, tz), None);
    }

    #[test]
    fn a_quarter_gets_one_campaign_closed_at_its_deadline_with_reminders_before() {
        let f = fixture();
        let workflow = WorkflowConfig::default();
        let ctx = Ctx {
            workflow: &workflow,
            tz: chrono_tz::Asia::Jakarta,
        };
        let run = |now| f.db.write_blocking(|tx| tick(tx, ctx, now)).unwrap();
        let start = at(2026, 10, 1, 2);
        // Nothing to review: no empty campaign.
        assert_eq!(run(start).started, None);
        let p = f.person("Budi");
        f.issue(p, "04A1B2C3", at(2026, 1, 1, 0), at(2028, 1, 1, 0))
            .unwrap();
        let first = run(start);
        let id = first.started.expect("the quarter's campaign starts");
        // Once per quarter.
        assert_eq!(run(start + Duration::hours(1)).started, None);
        // 14 days to decide (default); reminded in the last two days, once a day.
        assert_eq!(run(start + Duration::days(5)).reminded, 0);
        assert_eq!(
            run(start + Duration::days(12) + Duration::hours(1)).reminded,
            1
        );
        assert_eq!(
            run(start + Duration::days(12) + Duration::hours(2)).reminded,
            0
        );
        assert_eq!(
            run(start + Duration::days(13) + Duration::hours(2)).reminded,
            1
        );
        // Past the deadline it closes by itself with the default (keep), and the next
        // quarter starts a new one.
        let closed = run(start + Duration::days(14) + Duration::hours(1));
        assert_eq!(closed.closed, vec![id]);
        let review =
            f.db.write_blocking(|tx| Ok((reviews::get(tx, id)?, Changed::none())))
                .unwrap();
        assert_eq!(review.items[0].outcome.as_deref(), Some("kept"));
        assert!(run(at(2027, 1, 1, 2)).started.is_some());
    }
}
