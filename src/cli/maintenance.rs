//! `lawang backup` and `lawang restore`, on the database file directly (see
//! `store::backup`). A backup runs beside the daemon; a restore only while it is stopped.

use std::path::Path;

use anyhow::Context;
use chrono::Utc;

use crate::config::Config;
use crate::store::{self, backup};

pub fn backup(config: &Config, dest: &Path) -> anyhow::Result<()> {
    let db = config.data_dir.join(store::DB_FILE);
    let c =
        backup::backup(&db, dest).with_context(|| format!("backup of {} failed", db.display()))?;
    println!(
        "backup written to {}: {} register lines, schema version {}, {} bytes, integrity ok",
        dest.display(),
        c.register_lines,
        c.schema_version,
        c.bytes
    );
    Ok(())
}

pub fn restore(config: &Config, from: &Path) -> anyhow::Result<()> {
    let r = backup::restore(&config.data_dir, from, Utc::now()).with_context(|| {
        format!(
            "restore of {} into {} failed",
            from.display(),
            config.data_dir.display()
        )
    })?;
    println!(
        "restored {}: {} register lines, schema version {}, integrity ok",
        from.display(),
        r.copied.register_lines,
        r.copied.schema_version
    );
    if let Some(previous) = r.previous {
        println!("the database it replaced is kept as {}", previous.display());
    }
    Ok(())
}
