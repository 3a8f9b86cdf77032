//! Store tests on a real SQLite file in a temporary directory.

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::config::Config;
use crate::decision::{Reason, decide};
use crate::model::{Actor, CredentialStatus, Role, Technology};
use crate::store::badges::IssueBadge;
use crate::store::people::NewPerson;
use crate::store::rights::NewRight;

/// A database with the doors of a small office, and an admin actor.
pub(crate) struct Fixture {
    pub dir: tempfile::TempDir,
    pub db: Db,
    pub door: i64,
    pub actor: Actor,
}

pub(crate) fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join(DB_FILE), chrono_tz::Asia::Jakarta).unwrap();
    let (config, _) = Config::parse(
        "[[door]]\nname = \"ruang-server\"\n[[door]]\nname = \"gudang\"\n",
        "test",
    )
    .unwrap();
    let ids = db
        .write_blocking(|tx| {
            Ok((
                devices::sync(tx, &config.doors, &config.readers, Utc::now())?,
                Changed::none(),
            ))
        })
        .unwrap();
    Fixture {
        dir,
        db,
        door: ids.doors["ruang-server"],
        actor: Actor {
            token_id: None,
            account_id: None,
            name: "test".into(),
            role: Role::Admin,
        },
    }
}

impl Fixture {
    pub fn person(&self, name: &str) -> i64 {
        let p = NewPerson {
            name: name.into(),
            id_number: None,
            unit: None,
            contact: None,
        };
        self.db
            .write_blocking(|tx| people::create(tx, &p, &self.actor, Utc::now()))
            .unwrap()
            .id
    }

    pub fn issue(
        &self,
        person: i64,
        uid: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<i64> {
        let b = IssueBadge {
            person_id: person,
            uid: uid.into(),
            technology: None,
            badge_number: None,
            right: Some(NewRight {
                doors: vec!["ruang-server".into()],
                valid_from: from,
                valid_until: until,
                schedule: None,
            }),
        };
        self.db
            .write_blocking(|tx| badges::issue(tx, &b, &self.actor, Utc::now()))
            .map(|i| i.badge.id)
    }

    pub fn reason(&self, uid: &str) -> Reason {
        let card = Credential::parse_hex(Technology::Iso14443, uid).unwrap();
        decide(&self.db.access_list().load(), self.door, &card, Utc::now()).reason()
    }

    fn count(&self, table: &str) -> i64 {
        self.db
            .write_blocking(|tx| {
                let n = tx.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
                Ok((n, Changed::none()))
            })
            .unwrap()
    }
}

fn year() -> (DateTime<Utc>, DateTime<Utc>) {
    (
        Utc::now() - Duration::days(1),
        Utc::now() + Duration::days(365),
    )
}

#[test]
fn a_second_lock_on_the_data_dir_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _held = lock_data_dir(dir.path()).unwrap();
    let err = lock_data_dir(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::Locked(_)), "{err}");
    assert!(err.to_string().contains("another lawang daemon"));
}

#[test]
fn the_data_dir_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("a/b");
    let _lock = lock_data_dir(&data).unwrap();
    assert_eq!(
        std::fs::metadata(&data).unwrap().permissions().mode() & 0o777,
        0o700
    );
}

#[test]
fn a_database_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    drop(open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1))
        .unwrap();
    drop(conn);
    let err = open(&path).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
    assert!(err.to_string().contains("newer Lawang"), "{err}");
}

#[test]
fn migrations_are_applied_once() {
    let f = fixture();
    drop(f.db);
    let conn = open(&f.dir.path().join(DB_FILE)).unwrap();
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn issuing_and_revoking_is_in_force_when_the_write_returns() {
    let f = fixture();
    let p = f.person("Budi");
    let (from, until) = year();
    assert_eq!(f.reason("04A1B2C3"), Reason::UnknownCredential);
    let badge = f.issue(p, "04:a1:b2:c3", from, until).unwrap();
    assert_eq!(f.reason("04A1B2C3"), Reason::Granted);
    f.db.write_blocking(|tx| {
        badges::set_status(
            tx,
            badge,
            CredentialStatus::Revoked,
            Some("pindah tugas"),
            &f.actor,
            Utc::now(),
        )
    })
    .unwrap();
    assert_eq!(f.reason("04A1B2C3"), Reason::CredentialRevoked);
}

#[test]
fn a_revoked_card_can_be_issued_again_and_the_live_binding_wins() {
    let f = fixture();
    let (a, b) = (f.person("A"), f.person("B"));
    let (from, until) = year();
    let first = f.issue(a, "AA", from, until).unwrap();
    let dup = f.issue(b, "AA", from, until).unwrap_err();
    assert!(matches!(dup, StoreError::Conflict(_)), "{dup}");
    f.db.write_blocking(|tx| {
        badges::set_status(
            tx,
            first,
            CredentialStatus::Revoked,
            Some("x"),
            &f.actor,
            Utc::now(),
        )
    })
    .unwrap();
    f.issue(b, "AA", from, until).unwrap();
    let card = Credential::parse_hex(Technology::Iso14443, "AA").unwrap();
    let snap = f.db.access_list().load();
    assert_eq!(snap.get(&card).unwrap().person_id, b);
    assert_eq!(f.reason("AA"), Reason::Granted);
}

#[test]
fn removing_a_right_refuses_every_card_of_the_holder() {
    let f = fixture();
    let p = f.person("Budi");
    let (from, until) = year();
    f.issue(p, "01", from, until).unwrap();
    let second = IssueBadge {
        person_id: p,
        uid: "02".into(),
        technology: None,
        badge_number: None,
        right: None,
    };
    f.db.write_blocking(|tx| badges::issue(tx, &second, &f.actor, Utc::now()))
        .unwrap();
    assert_eq!(
        f.reason("02"),
        Reason::Granted,
        "a second card shares the holder's rights"
    );
    let right =
        f.db.write_blocking(|tx| Ok((rights::list_for_person(tx, p)?, Changed::none())))
            .unwrap()[0]
            .id;
    f.db.write_blocking(|tx| {
        rights::remove(tx, right, "review: no longer valid", &f.actor, Utc::now())
    })
    .unwrap();
    assert_eq!(f.reason("01"), Reason::NoRightForDoor);
    assert_eq!(f.reason("02"), Reason::NoRightForDoor);
}

#[test]
fn a_failed_write_changes_nothing() {
    let f = fixture();
    let p = f.person("Budi");
    let (people_before, audit_before) = (f.count("person"), f.count("audit"));
    let bad = IssueBadge {
        person_id: p,
        uid: "0A0B".into(),
        technology: None,
        badge_number: None,
        right: Some(NewRight {
            doors: vec!["no-such-door".into()],
            valid_from: Utc::now(),
            valid_until: Utc::now() + Duration::days(1),
            schedule: None,
        }),
    };
    let err =
        f.db.write_blocking(|tx| badges::issue(tx, &bad, &f.actor, Utc::now()))
            .unwrap_err();
    assert!(err.to_string().contains("no door is named"), "{err}");
    assert_eq!(f.count("credential"), 0);
    assert_eq!(f.count("access_right"), 0);
    assert_eq!(
        (f.count("person"), f.count("audit")),
        (people_before, audit_before)
    );
    assert_eq!(f.reason("0A0B"), Reason::UnknownCredential);
}

#[test]
fn out_of_range_and_inverted_periods_are_refused() {
    let f = fixture();
    let p = f.person("Budi");
    let now = Utc::now();
    let far = "3026-01-01T00:00:00Z".parse().unwrap();
    for (from, until) in [(now, now), (now, now - Duration::days(1)), (now, far)] {
        let err = f.issue(p, "0C", from, until).unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    }
}

#[test]
fn the_live_snapshot_equals_a_full_reload() {
    let f = fixture();
    let (from, until) = year();
    for i in 0..20 {
        let p = f.person(&format!("P{i}"));
        let id = f.issue(p, &format!("{i:04X}"), from, until).unwrap();
        if i % 3 == 0 {
            f.db.write_blocking(|tx| {
                badges::set_status(
                    tx,
                    id,
                    CredentialStatus::Lost,
                    Some("hilang"),
                    &f.actor,
                    Utc::now(),
                )
            })
            .unwrap();
        }
    }
    let live = f.db.access_list().load();
    let conn = open(&f.dir.path().join(DB_FILE)).unwrap();
    let reloaded = access::load_all(&conn, chrono_tz::Asia::Jakarta).unwrap();
    assert_eq!(live.len(), reloaded.len());
    for i in 0..20 {
        let card = Credential::parse_hex(Technology::Iso14443, &format!("{i:04X}")).unwrap();
        assert_eq!(live.get(&card), reloaded.get(&card), "card {i}");
    }
}

#[test]
fn every_write_leaves_an_audit_line_naming_the_actor() {
    let f = fixture();
    let p = f.person("Budi");
    let (from, until) = year();
    f.issue(p, "0D", from, until).unwrap();
    let lines =
        f.db.write_blocking(|tx| {
            Ok((
                audit::list(
                    tx,
                    &audit::AuditFilter {
                        limit: 10,
                        ..Default::default()
                    },
                )?,
                Changed::none(),
            ))
        })
        .unwrap();
    let actions: Vec<_> = lines.iter().map(|l| l.action.as_str()).collect();
    assert_eq!(actions, ["right.create", "badge.issue", "person.create"]);
    assert!(lines.iter().all(|l| l.actor == "test" && l.role == "admin"));
}

#[tokio::test]
async fn the_register_writer_commits_bursts_in_order() {
    let f = fixture();
    let (writer, thread) = register::RegisterWriter::start(&f.dir.path().join(DB_FILE)).unwrap();
    let line = |uid: &str| crate::register::RegisterLine {
        at: Utc::now(),
        door: f.door,
        reader: Some(1),
        direction: Some(crate::model::Direction::In),
        credential: Some(Credential::parse_hex(Technology::Iso14443, uid).unwrap()),
        event: crate::register::Event::Tap(crate::decision::Decision::refused(
            Reason::UnknownCredential,
        )),
    };
    for i in 0..500 {
        drop(writer.submit(line(&format!("{i:04X}"))).await.unwrap());
    }
    let id = writer.commit(line("FFFF")).await.unwrap();
    assert_eq!(
        id.id(),
        Some(501),
        "the acknowledged id is the line's own, after everything queued before it"
    );
    drop(writer);
    thread.join().unwrap();
    let rows = register::list(
        &open(&f.dir.path().join(DB_FILE)).unwrap(),
        &register::RegisterFilter {
            limit: 1000,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(rows.len(), 501);
    assert_eq!(rows[0].credential.as_deref(), Some("iso14443:FFFF"));
    assert_eq!(rows[500].credential.as_deref(), Some("iso14443:0000"));
}
