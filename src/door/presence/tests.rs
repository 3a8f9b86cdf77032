//! The presence rules with made-up instants: escort window both ways, the escort-left grace,
//! anti-passback in each mode, and the list rebuilt at start.

use super::*;

const WINDOW: Duration = Duration::from_secs(10);
const STAFF: PersonId = 1;
const ESCORT: PersonId = 2;
const VISITOR: PersonId = 3;

fn granted(person: PersonId, escort: Option<PersonId>) -> Decision {
    Decision::Granted {
        credential_id: person * 10,
        person_id: person,
        right_id: 1,
        escort,
        warning: None,
    }
}

fn visitor() -> Decision {
    granted(VISITOR, Some(ESCORT))
}

fn at(t0: Instant, secs: f64) -> Instant {
    t0 + Duration::from_secs_f64(secs)
}

fn presence(mode: AntiPassback) -> (Presence, Instant) {
    let t0 = Instant::now();
    (Presence::new(mode, WINDOW, [], t0), t0)
}

/// Admits and, when granted, counts the tap: what the controller does.
fn tap(p: &mut Presence, d: Decision, dir: Direction, now: Instant) -> (Decision, Option<bool>) {
    let d = p.admit(d, dir, now);
    let alarm = p.passed(&d, dir, Utc::now(), now);
    (d, alarm)
}

fn ids(p: &Presence) -> Vec<PersonId> {
    let mut v: Vec<_> = p.list().iter().map(|i| i.person_id).collect();
    v.sort();
    v
}

#[test]
fn a_visitor_enters_right_after_the_escort() {
    let (mut p, t0) = presence(AntiPassback::Off);
    tap(&mut p, granted(ESCORT, None), Direction::In, t0);
    let (d, _) = tap(&mut p, visitor(), Direction::In, at(t0, 10.0));
    assert!(d.is_granted(), "{d:?}");
    assert_eq!(ids(&p), [ESCORT, VISITOR]);
    assert_eq!(p.list()[1].escort, Some(ESCORT));
}

#[test]
fn a_visitor_alone_or_too_late_is_refused_with_no_escort() {
    let (mut p, t0) = presence(AntiPassback::Off);
    let (d, _) = tap(&mut p, visitor(), Direction::In, t0);
    assert_eq!(d.reason(), Reason::NoEscort);
    assert_eq!(
        d.person_id(),
        Some(VISITOR),
        "the refusal names the visitor"
    );

    tap(&mut p, granted(ESCORT, None), Direction::In, at(t0, 1.0));
    let (d, _) = tap(&mut p, visitor(), Direction::In, at(t0, 11.001));
    assert_eq!(d.reason(), Reason::NoEscort);
    assert_eq!(ids(&p), [ESCORT]);
}

#[test]
fn another_staff_member_is_not_the_escort() {
    let (mut p, t0) = presence(AntiPassback::Off);
    tap(&mut p, granted(STAFF, None), Direction::In, t0);
    let (d, _) = tap(&mut p, visitor(), Direction::In, at(t0, 1.0));
    assert_eq!(d.reason(), Reason::NoEscort);
}

#[test]
fn the_escort_must_have_entered_not_exited() {
    let (mut p, t0) = presence(AntiPassback::Off);
    tap(&mut p, granted(ESCORT, None), Direction::Out, t0);
    let (d, _) = tap(&mut p, visitor(), Direction::In, at(t0, 1.0));
    assert_eq!(d.reason(), Reason::NoEscort);
}

#[test]
fn a_visitor_may_always_exit() {
    let (mut p, t0) = presence(AntiPassback::Enforce);
    tap(&mut p, granted(ESCORT, None), Direction::In, t0);
    tap(&mut p, visitor(), Direction::In, at(t0, 1.0));
    let (d, _) = tap(&mut p, visitor(), Direction::Out, at(t0, 500.0));
    assert!(d.is_granted());
    assert_eq!(ids(&p), [ESCORT]);
}

#[test]
fn the_escort_leaving_first_raises_the_alarm_after_the_grace() {
    let (mut p, t0) = presence(AntiPassback::Off);
    tap(&mut p, granted(ESCORT, None), Direction::In, t0);
    tap(&mut p, visitor(), Direction::In, at(t0, 2.0));
    let (_, alarm) = tap(&mut p, granted(ESCORT, None), Direction::Out, at(t0, 60.0));
    assert_eq!(alarm, None, "not yet: the visitor may be following");
    assert_eq!(p.next_deadline(), Some(at(t0, 70.0)));
    assert_eq!(p.tick(at(t0, 69.9)), None);
    assert_eq!(p.tick(at(t0, 70.0)), Some(true));
    assert!(p.alarm());
    assert_eq!(p.next_deadline(), None, "raised once");
    // The visitor comes out: the alarm ends.
    let (_, alarm) = tap(&mut p, visitor(), Direction::Out, at(t0, 80.0));
    assert_eq!(alarm, Some(false));
    assert!(p.list().is_empty());
}

#[test]
fn a_pair_leaving_together_in_either_order_raises_nothing() {
    let (mut p, t0) = presence(AntiPassback::Off);
    tap(&mut p, granted(ESCORT, None), Direction::In, t0);
    tap(&mut p, visitor(), Direction::In, at(t0, 1.0));
    tap(&mut p, granted(ESCORT, None), Direction::Out, at(t0, 60.0));
    let (_, alarm) = tap(&mut p, visitor(), Direction::Out, at(t0, 65.0));
    assert_eq!(alarm, None);
    assert_eq!(p.next_deadline(), None);
    assert_eq!(p.tick(at(t0, 1000.0)), None);
}

#[test]
fn the_escort_coming_back_clears_the_alarm() {
    let (mut p, t0) = presence(AntiPassback::Off);
    tap(&mut p, granted(ESCORT, None), Direction::In, t0);
    tap(&mut p, visitor(), Direction::In, at(t0, 1.0));
    tap(&mut p, granted(ESCORT, None), Direction::Out, at(t0, 60.0));
    assert_eq!(p.tick(at(t0, 71.0)), Some(true));
    let (_, alarm) = tap(&mut p, granted(ESCORT, None), Direction::In, at(t0, 90.0));
    assert_eq!(alarm, Some(false));
    assert_eq!(ids(&p), [ESCORT, VISITOR]);
}

#[test]
fn the_desk_taking_the_badge_back_takes_the_visitor_off_the_list() {
    let (mut p, t0) = presence(AntiPassback::Off);
    tap(&mut p, granted(ESCORT, None), Direction::In, t0);
    tap(&mut p, visitor(), Direction::In, at(t0, 1.0));
    tap(&mut p, granted(ESCORT, None), Direction::Out, at(t0, 60.0));
    assert_eq!(p.tick(at(t0, 71.0)), Some(true));
    assert_eq!(p.left(VISITOR, at(t0, 100.0)), Some(false));
    assert!(p.list().is_empty());
}

#[test]
fn anti_passback_off_lets_a_second_entry_in_unmarked() {
    let (mut p, t0) = presence(AntiPassback::Off);
    tap(&mut p, granted(STAFF, None), Direction::In, t0);
    let (d, _) = tap(&mut p, granted(STAFF, None), Direction::In, at(t0, 5.0));
    assert_eq!(d, granted(STAFF, None));
}

#[test]
fn anti_passback_log_lets_in_with_a_warning() {
    let (mut p, t0) = presence(AntiPassback::Log);
    tap(&mut p, granted(STAFF, None), Direction::In, t0);
    let (d, _) = tap(&mut p, granted(STAFF, None), Direction::In, at(t0, 5.0));
    assert!(d.is_granted());
    assert_eq!(d.reason(), Reason::AntiPassback);
}

#[test]
fn anti_passback_enforce_refuses_until_an_exit() {
    let (mut p, t0) = presence(AntiPassback::Enforce);
    tap(&mut p, granted(STAFF, None), Direction::In, t0);
    let (d, _) = tap(&mut p, granted(STAFF, None), Direction::In, at(t0, 5.0));
    assert_eq!(d.reason(), Reason::AntiPassback);
    assert!(!d.is_granted());
    tap(&mut p, granted(STAFF, None), Direction::Out, at(t0, 6.0));
    let (d, _) = tap(&mut p, granted(STAFF, None), Direction::In, at(t0, 7.0));
    assert!(d.is_granted());
    // An exit without an entry is never refused.
    let (d, _) = tap(&mut p, granted(ESCORT, None), Direction::Out, at(t0, 8.0));
    assert!(d.is_granted());
}

#[test]
fn refusals_pass_unchanged_and_count_nobody() {
    let (mut p, t0) = presence(AntiPassback::Enforce);
    let refused = Decision::refused(Reason::UnknownCredential);
    let (d, alarm) = tap(&mut p, refused.clone(), Direction::In, t0);
    assert_eq!((d, alarm), (refused, None));
    assert!(p.list().is_empty());
}

#[test]
fn rebuilt_at_start_an_unescorted_visitor_gets_the_grace_then_the_alarm() {
    let t0 = Instant::now();
    let since = Utc::now();
    let inside = |person, escort| Inside {
        person_id: person,
        credential_id: None,
        since,
        escort,
    };
    let mut p = Presence::new(
        AntiPassback::Enforce,
        WINDOW,
        [inside(STAFF, None), inside(VISITOR, Some(ESCORT))],
        t0,
    );
    assert_eq!(ids(&p), [STAFF, VISITOR]);
    assert_eq!(p.next_deadline(), Some(at(t0, 10.0)));
    assert_eq!(p.tick(at(t0, 10.0)), Some(true));
    // Remembered across the restart: a second entry is still refused.
    let (d, _) = tap(&mut p, granted(STAFF, None), Direction::In, at(t0, 11.0));
    assert_eq!(d.reason(), Reason::AntiPassback);
}

#[test]
fn the_version_moves_only_when_who_is_inside_changes() {
    let (mut p, t0) = presence(AntiPassback::Enforce);
    let v0 = p.version();
    tap(
        &mut p,
        Decision::refused(Reason::UnknownCredential),
        Direction::In,
        t0,
    );
    assert_eq!(p.version(), v0, "a refusal changes nothing");
    tap(&mut p, granted(STAFF, None), Direction::In, t0);
    let v1 = p.version();
    assert_ne!(v1, v0);
    p.left(VISITOR, t0);
    assert_eq!(p.version(), v1, "nobody to take off the list");
    p.left(STAFF, t0);
    assert_ne!(p.version(), v1);
}
