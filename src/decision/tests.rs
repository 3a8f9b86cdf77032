//! Table-driven tests: every reason and every boundary, with made-up times.

use chrono::TimeZone;

use super::*;
use crate::model::Technology;

const DOOR: DoorId = 1;
const OTHER_DOOR: DoorId = 2;

fn card(hex: &str) -> Credential {
    Credential::parse_hex(Technology::Iso14443, hex).unwrap()
}

/// Jakarta local time → UTC instant (WIB is UTC+7, no daylight saving).
fn wib(y: i32, m: u32, d: u32, hh: u32, mm: u32, ss: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Jakarta
        .with_ymd_and_hms(y, m, d, hh, mm, ss)
        .unwrap()
        .with_timezone(&Utc)
}

fn right(
    id: RightId,
    doors: &[DoorId],
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    schedule: Option<&str>,
) -> Right {
    Right {
        id,
        doors: doors.into(),
        valid_from: from,
        valid_until: until,
        schedule: schedule.map(|s| Arc::new(serde_json::from_str(s).unwrap())),
    }
}

const OFFICE_HOURS: &str =
    r#"{"windows":[{"days":["mon","tue","wed","thu","fri"],"from":"07:00","until":"17:00"}]}"#;
const NIGHT_SHIFT: &str = r#"{"windows":[{"days":["fri"],"from":"22:00","until":"06:00"}]}"#;

/// The fixture: 2026-01-01 .. 2026-12-31 WIB rights on a handful of cards.
fn snapshot() -> Snapshot {
    let y_from = wib(2026, 1, 1, 0, 0, 0);
    let y_until = wib(2027, 1, 1, 0, 0, 0);
    let mut s = Snapshot::new(chrono_tz::Asia::Jakarta);
    let mut add = |hex: &str, id: i64, status, rights: Vec<Right>| {
        s.insert(
            card(hex),
            Entry {
                credential_id: id,
                person_id: 100 + id,
                status,
                rights: rights.into(),
                pin_hash: None,
                escort: None,
            },
        )
    };
    use CredentialStatus::*;
    add(
        "01",
        1,
        Active,
        vec![right(11, &[DOOR], y_from, y_until, None)],
    );
    add(
        "02",
        2,
        Suspended,
        vec![right(12, &[DOOR], y_from, y_until, None)],
    );
    add(
        "03",
        3,
        Lost,
        vec![right(13, &[DOOR], y_from, y_until, None)],
    );
    add(
        "04",
        4,
        Revoked,
        vec![right(14, &[DOOR], y_from, y_until, None)],
    );
    add(
        "05",
        5,
        Active,
        vec![right(15, &[OTHER_DOOR], y_from, y_until, None)],
    );
    add(
        "06",
        6,
        Active,
        vec![right(16, &[DOOR], y_from, y_until, Some(OFFICE_HOURS))],
    );
    add(
        "07",
        7,
        Active,
        vec![right(17, &[DOOR], y_from, y_until, Some(NIGHT_SHIFT))],
    );
    add("08", 8, Active, vec![]);
    // Two rights: an expired one and an office-hours one; the refusal names the closer.
    add(
        "09",
        9,
        Active,
        vec![
            right(18, &[DOOR], wib(2025, 1, 1, 0, 0, 0), y_from, None),
            right(19, &[DOOR], y_from, y_until, Some(OFFICE_HOURS)),
        ],
    );
    // A right that starts later and one that ended: "not yet valid" wins over "expired".
    add(
        "0A",
        10,
        Active,
        vec![
            right(20, &[DOOR], wib(2025, 1, 1, 0, 0, 0), y_from, None),
            right(21, &[DOOR], wib(2026, 7, 1, 0, 0, 0), y_until, None),
        ],
    );
    s
}

#[test]
fn every_reason_and_boundary() {
    let s = snapshot();
    // 2026-03-04 is a Wednesday.
    let wed_noon = wib(2026, 3, 4, 12, 0, 0);
    let cases: &[(&str, DoorId, DateTime<Utc>, Reason)] = &[
        ("01", DOOR, wed_noon, Reason::Granted),
        ("FF", DOOR, wed_noon, Reason::UnknownCredential),
        ("02", DOOR, wed_noon, Reason::CredentialSuspended),
        ("03", DOOR, wed_noon, Reason::CredentialLost),
        ("04", DOOR, wed_noon, Reason::CredentialRevoked),
        ("05", DOOR, wed_noon, Reason::NoRightForDoor),
        ("05", OTHER_DOOR, wed_noon, Reason::Granted),
        ("08", DOOR, wed_noon, Reason::NoRightForDoor),
        // Validity period: inclusive start, exclusive end.
        (
            "01",
            DOOR,
            wib(2025, 12, 31, 23, 59, 59),
            Reason::NotYetValid,
        ),
        ("01", DOOR, wib(2026, 1, 1, 0, 0, 0), Reason::Granted),
        ("01", DOOR, wib(2026, 12, 31, 23, 59, 59), Reason::Granted),
        ("01", DOOR, wib(2027, 1, 1, 0, 0, 0), Reason::Expired),
        // Office hours in WIB, not UTC: 07:00 WIB is 00:00 UTC.
        (
            "06",
            DOOR,
            wib(2026, 3, 4, 6, 59, 59),
            Reason::OutsideSchedule,
        ),
        ("06", DOOR, wib(2026, 3, 4, 7, 0, 0), Reason::Granted),
        ("06", DOOR, wib(2026, 3, 4, 16, 59, 59), Reason::Granted),
        (
            "06",
            DOOR,
            wib(2026, 3, 4, 17, 0, 0),
            Reason::OutsideSchedule,
        ),
        (
            "06",
            DOOR,
            wib(2026, 3, 7, 10, 0, 0),
            Reason::OutsideSchedule,
        ), // Saturday
        // Friday night shift, across midnight into Saturday (2026-03-06 is a Friday).
        (
            "07",
            DOOR,
            wib(2026, 3, 6, 21, 59, 59),
            Reason::OutsideSchedule,
        ),
        ("07", DOOR, wib(2026, 3, 6, 22, 0, 0), Reason::Granted),
        ("07", DOOR, wib(2026, 3, 7, 0, 0, 0), Reason::Granted),
        ("07", DOOR, wib(2026, 3, 7, 5, 59, 59), Reason::Granted),
        (
            "07",
            DOOR,
            wib(2026, 3, 7, 6, 0, 0),
            Reason::OutsideSchedule,
        ),
        // Several rights.
        (
            "09",
            DOOR,
            wib(2026, 3, 7, 10, 0, 0),
            Reason::OutsideSchedule,
        ),
        ("09", DOOR, wed_noon, Reason::Granted),
        ("0A", DOOR, wed_noon, Reason::NotYetValid),
        ("0A", DOOR, wib(2026, 7, 1, 0, 0, 0), Reason::Granted),
    ];
    for (hex, door, now, want) in cases {
        let got = decide(&s, *door, &card(hex), *now);
        assert_eq!(
            got.reason(),
            *want,
            "card {hex} door {door} at {now} -> {got:?}"
        );
    }
}

#[test]
fn a_grant_names_the_right_that_opened() {
    let s = snapshot();
    let got = decide(&s, DOOR, &card("09"), wib(2026, 3, 4, 12, 0, 0));
    assert_eq!(
        got,
        Decision::Granted {
            credential_id: 9,
            person_id: 109,
            right_id: 19,
            escort: None,
            warning: None,
        }
    );
}

#[test]
fn a_refusal_of_a_known_card_names_its_holder() {
    let s = snapshot();
    let got = decide(&s, DOOR, &card("04"), wib(2026, 3, 4, 12, 0, 0));
    assert_eq!(got.person_id(), Some(104));
    assert_eq!(got.credential_id(), Some(4));
    let unknown = decide(&s, DOOR, &card("FF"), wib(2026, 3, 4, 12, 0, 0));
    assert_eq!(unknown.person_id(), None);
}

#[test]
fn the_same_instant_is_read_in_the_configured_zone() {
    // 10:00 UTC on a Wednesday is 17:00 in Jakarta (closed) but 19:00 in Jayapura (closed)
    // and 18:00 in Makassar; 01:00 UTC is 08:00 WIB (open) and 10:00 WIT (open).
    let mut s = snapshot();
    let t = Utc.with_ymd_and_hms(2026, 3, 4, 1, 0, 0).unwrap();
    assert!(decide(&s, DOOR, &card("06"), t).is_granted());
    let t = Utc.with_ymd_and_hms(2026, 3, 4, 23, 30, 0).unwrap(); // 06:30 WIB Thu, 08:30 WIT Thu
    assert!(!decide(&s, DOOR, &card("06"), t).is_granted());
    s.timezone = chrono_tz::Asia::Jayapura;
    assert!(decide(&s, DOOR, &card("06"), t).is_granted());
}

#[test]
fn access_list_updates_are_seen_by_the_next_load() {
    let list = AccessList::new(snapshot());
    let now = wib(2026, 3, 4, 12, 0, 0);
    let before = list.load();
    list.update(|s| s.remove(&card("01")));
    assert!(
        decide(&before, DOOR, &card("01"), now).is_granted(),
        "old snapshot is immutable"
    );
    assert_eq!(
        decide(&list.load(), DOOR, &card("01"), now).reason(),
        Reason::UnknownCredential
    );
}

#[test]
fn reason_codes_round_trip() {
    for r in Reason::ALL {
        assert_eq!(Reason::from_code(r.code()), Some(r));
        assert!(!r.label_id().is_empty() && !r.label_en().is_empty());
    }
}
