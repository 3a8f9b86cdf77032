//! Chain tests on a real SQLite file: the register writer and the audit log write, then rows
//! are changed behind their back and `verify` must name exactly the changed row.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rusqlite::Connection;

use super::*;
use crate::decision::{Decision, Reason};
use crate::register::{Event, RegisterLine};
use crate::store::register::RegisterWriter;
use crate::store::tests::{Fixture, fixture};
use crate::store::{DB_FILE, audit, retention};

fn line(door: i64, at: DateTime<Utc>) -> RegisterLine {
    RegisterLine {
        at,
        door,
        reader: None,
        direction: None,
        credential: None,
        event: Event::Tap(Decision::refused(Reason::UnknownCredential)),
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).unwrap()
}

/// Writes `n` register lines a day apart from `t0`, through the real writer (several
/// batches), and `n` audit lines.
async fn write(f: &Fixture, n: i64) -> Connection {
    let path = f.dir.path().join(DB_FILE);
    let (writer, thread) = RegisterWriter::start(&path).unwrap();
    for i in 0..n {
        writer
            .commit(line(f.door, t0() + Duration::days(i)))
            .await
            .unwrap();
    }
    drop(writer);
    thread.join().unwrap();
    let conn = crate::store::open(&path).unwrap();
    for i in 0..n {
        audit::record(
            &conn,
            &f.actor,
            "test.action",
            Some(format!("thing {i}")),
            serde_json::json!({ "i": i }),
            t0() + Duration::days(i),
        )
        .unwrap();
    }
    conn
}

fn report(conn: &Connection, table: Table) -> ChainReport {
    verify(conn)
        .unwrap()
        .into_iter()
        .find(|r| r.table == table)
        .unwrap()
}

#[test]
fn the_hash_covers_every_column_and_the_previous_hash() {
    let base: [&dyn ToSql; 3] = [&1i64, &"a", &None::<i64>];
    let h = hash_row(Table::Audit, &GENESIS, &base).unwrap();
    assert_eq!(h, hash_row(Table::Audit, &GENESIS, &base).unwrap());
    let changed: [[&dyn ToSql; 3]; 3] = [
        [&2i64, &"a", &None::<i64>],
        [&1i64, &"b", &None::<i64>],
        [&1i64, &"a", &Some(0i64)],
    ];
    for values in changed {
        assert_ne!(h, hash_row(Table::Audit, &GENESIS, &values).unwrap());
    }
    assert_ne!(h, hash_row(Table::Audit, &[1; 32], &base).unwrap());
    assert_ne!(h, hash_row(Table::Register, &GENESIS, &base).unwrap());
    // Lengths are encoded: moving a byte from one text to the next changes the hash.
    let a: [&dyn ToSql; 2] = [&"ab", &"c"];
    let b: [&dyn ToSql; 2] = [&"a", &"bc"];
    assert_ne!(
        hash_row(Table::Audit, &GENESIS, &a).unwrap(),
        hash_row(Table::Audit, &GENESIS, &b).unwrap()
    );
}

#[tokio::test]
async fn untouched_chains_verify_with_their_heads() {
    let f = fixture();
    let conn = write(&f, 5).await;
    let reg = report(&conn, Table::Register);
    assert_eq!(reg.broken, None);
    assert_eq!(reg.rows, 5);
    assert_eq!(reg.anchor, Some(hex::encode(GENESIS)));
    let stored: Vec<u8> = conn
        .query_row("SELECT hash FROM register WHERE id = 5", [], |r| r.get(0))
        .unwrap();
    assert_eq!(reg.head, Some(hex::encode(stored)));
    let aud = report(&conn, Table::Audit);
    assert_eq!(aud.broken, None);
    assert!(aud.rows >= 5, "{aud:?}");
}

#[tokio::test]
async fn a_changed_row_is_named() {
    let f = fixture();
    let conn = write(&f, 6).await;
    conn.execute("UPDATE register SET reason = 'granted' WHERE id = 4", [])
        .unwrap();
    let b = report(&conn, Table::Register).broken.unwrap();
    assert_eq!(
        (b.table, b.id, b.kind.as_str()),
        (Table::Register, 4, "content")
    );

    let target: i64 = conn
        .query_row("SELECT id FROM audit WHERE target = 'thing 2'", [], |r| {
            r.get(0)
        })
        .unwrap();
    conn.execute(
        "UPDATE audit SET actor = 'someone else' WHERE id = ?1",
        [target],
    )
    .unwrap();
    let b = report(&conn, Table::Audit).broken.unwrap();
    assert_eq!((b.id, b.kind.as_str()), (target, "content"));
}

#[tokio::test]
async fn a_removed_row_breaks_the_link_of_the_next() {
    let f = fixture();
    let conn = write(&f, 6).await;
    conn.execute("DELETE FROM register WHERE id = 3", [])
        .unwrap();
    let b = report(&conn, Table::Register).broken.unwrap();
    assert_eq!((b.id, b.kind.as_str()), (4, "link"));
    // Re-hashing the row to hide the change still breaks the link after it.
    let f = fixture();
    let conn = write(&f, 6).await;
    conn.execute("UPDATE register SET reason = 'granted' WHERE id = 2", [])
        .unwrap();
    backfill_from(&conn, 2);
    let b = report(&conn, Table::Register).broken.unwrap();
    assert_eq!((b.id, b.kind.as_str()), (3, "link"));
}

/// What a forger would do: recompute row `id`'s hash from its (changed) content.
fn backfill_from(conn: &Connection, id: i64) {
    conn.execute("UPDATE register SET hash = NULL WHERE id = ?1", [id])
        .unwrap();
    let prev: Vec<u8> = conn
        .query_row("SELECT prev_hash FROM register WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap();
    let values: Vec<Value> = conn
        .query_row(
            &format!("SELECT {REGISTER_COLUMNS} FROM register WHERE id = ?1"),
            [id],
            |r| (0..11).map(|i| r.get::<_, Value>(i)).collect(),
        )
        .unwrap();
    let refs: Vec<&dyn ToSql> = values.iter().map(|v| v as &dyn ToSql).collect();
    let hash = hash_row(Table::Register, &to_hash(&prev).unwrap(), &refs).unwrap();
    conn.execute(
        "UPDATE register SET hash = ?1 WHERE id = ?2",
        rusqlite::params![&hash, id],
    )
    .unwrap();
}

#[tokio::test]
async fn the_migration_chains_existing_rows_as_the_writers_would() {
    let f = fixture();
    let conn = write(&f, 4).await;
    let hashes = |conn: &Connection, table: &str| -> Vec<Vec<u8>> {
        conn.prepare(&format!("SELECT hash FROM {table} ORDER BY id"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    let (reg, aud) = (hashes(&conn, "register"), hashes(&conn, "audit"));
    // Back to the schema before the chain (version 5), as an upgraded installation has it:
    // the chain's columns and every later migration's tables gone.
    conn.execute_batch(
        "ALTER TABLE register DROP COLUMN prev_hash; ALTER TABLE register DROP COLUMN hash;
         ALTER TABLE audit DROP COLUMN prev_hash; ALTER TABLE audit DROP COLUMN hash;
         DROP TABLE report_run;
         DROP TABLE web_session; ALTER TABLE account DROP COLUMN password_hash;
         PRAGMA user_version = 5;",
    )
    .unwrap();
    drop(conn);
    let conn = crate::store::open(&f.dir.path().join(DB_FILE)).unwrap();
    assert_eq!(hashes(&conn, "register"), reg);
    assert_eq!(hashes(&conn, "audit"), aud);
    assert!(verify(&conn).unwrap().iter().all(|r| r.broken.is_none()));
}

#[tokio::test]
async fn pruning_keeps_the_chain_verifiable_and_the_writer_continues_it() {
    let f = fixture();
    let conn = write(&f, 6).await;
    let archive = f.dir.path().join("archive");
    let tz = chrono_tz::Asia::Jakarta;
    let now = t0() + Duration::days(800);
    // Lines of days 0..=2 are older than the cutoff.
    let cutoff = t0() + Duration::days(3);
    let p = retention::prune(&conn, cutoff, &archive, tz, now).unwrap();
    assert_eq!(p.lines, 3);
    let reg = report(&conn, Table::Register);
    assert_eq!(reg.broken, None, "{reg:?}");
    assert_eq!((reg.first_id, reg.rows), (Some(4), 3));
    assert_ne!(reg.anchor, Some(hex::encode(GENESIS)));
    assert_eq!(report(&conn, Table::Audit).broken, None);

    // Everything pruned: the writer starts again from the anchor and the next id.
    let all = retention::prune(&conn, now, &archive, tz, now).unwrap();
    assert_eq!(all.lines, 3);
    let path = f.dir.path().join(DB_FILE);
    let (writer, thread) = RegisterWriter::start(&path).unwrap();
    let id = writer.commit(line(f.door, now)).await.unwrap();
    drop(writer);
    thread.join().unwrap();
    assert_eq!(id.id(), Some(7));
    let reg = report(&conn, Table::Register);
    assert_eq!((reg.broken, reg.rows), (None, 1));

    // Lines removed outside retention leave an anchor nobody recorded.
    let f = fixture();
    let conn = write(&f, 4).await;
    conn.execute("DELETE FROM register WHERE id <= 2", [])
        .unwrap();
    let b = report(&conn, Table::Register).broken.unwrap();
    assert_eq!((b.id, b.kind.as_str()), (3, "anchor"));
}

#[tokio::test]
async fn the_head_of_a_period_is_its_last_row() {
    let f = fixture();
    let conn = write(&f, 5).await;
    let head = chain_head(&conn, Table::Register, t0() + Duration::days(2))
        .unwrap()
        .unwrap();
    assert_eq!((head.id, head.at), (2, t0() + Duration::days(1)));
    let stored: Vec<u8> = conn
        .query_row("SELECT hash FROM register WHERE id = 2", [], |r| r.get(0))
        .unwrap();
    assert_eq!(head.hash, hex::encode(stored));
    assert_eq!(chain_head(&conn, Table::Register, t0()).unwrap(), None);
    assert!(
        chain_head(&conn, Table::Audit, t0() + Duration::days(10))
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn after_the_clock_went_back_a_prune_stops_at_the_first_newer_line() {
    let f = fixture();
    let path = f.dir.path().join(DB_FILE);
    let (writer, thread) = RegisterWriter::start(&path).unwrap();
    let now = t0() + Duration::days(1000);
    // The second line was written while the clock was far ahead.
    for age in [1000, 10, 800] {
        writer
            .commit(line(f.door, now - Duration::days(age)))
            .await
            .unwrap();
    }
    drop(writer);
    thread.join().unwrap();
    let conn = crate::store::open(&path).unwrap();
    let p = retention::prune(
        &conn,
        now - Duration::days(730),
        &f.dir.path().join("archive"),
        chrono_tz::Asia::Jakarta,
        now,
    )
    .unwrap();
    assert_eq!(p.lines, 1, "line 3 waits behind line 2");
    let reg = report(&conn, Table::Register);
    assert_eq!((reg.broken, reg.first_id, reg.rows), (None, Some(2), 2));
}
