//! The daily retention job: at start and then every 24 hours, archive and prune the register
//! lines older than `register.retention_days` (see `store::retention`). It runs on its own
//! connection off the async threads, so neither the API nor a door waits for it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::store::{self, retention};

const EVERY: Duration = Duration::from_secs(24 * 60 * 60);
/// Archives go under the data directory: the only place the service may write.
pub const ARCHIVE_DIR: &str = "archive";

pub async fn run(
    db_path: PathBuf,
    data_dir: PathBuf,
    config: watch::Receiver<Arc<Config>>,
    stop: CancellationToken,
) {
    let mut ticks = tokio::time::interval(EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let (days, tz) = {
            let c = config.borrow();
            (c.retention_days, c.timezone)
        };
        let (db_path, archive_dir) = (db_path.clone(), data_dir.join(ARCHIVE_DIR));
        let done = tokio::task::spawn_blocking(move || {
            let now = Utc::now();
            let cutoff = now - chrono::Duration::days(i64::from(days));
            let conn = store::open(&db_path)?;
            retention::prune(&conn, cutoff, &archive_dir, tz, now)
        })
        .await;
        match done {
            Ok(Ok(p)) if p.lines > 0 => tracing::info!(
                lines = p.lines,
                archive = %p.archive.unwrap_or_default().display(),
                retention_days = days,
                "register lines archived and pruned"
            ),
            Ok(Ok(_)) => tracing::debug!(retention_days = days, "no register line to prune"),
            Ok(Err(e)) => tracing::error!(error = %e, "register retention failed; nothing pruned"),
            Err(e) => tracing::error!(error = %e, "register retention task failed"),
        }
    }
}
