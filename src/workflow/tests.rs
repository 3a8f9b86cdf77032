use chrono::TimeZone;

use super::chain::{Kind, closing, default_approvals};
use super::*;

fn actor(role: Role, account: Option<i64>) -> Actor {
    Actor {
        token_id: Some(1),
        account_id: account,
        name: "t".into(),
        role,
    }
}

fn chain() -> Vec<Step> {
    let mut c = default_approvals();
    c.extend(closing(Kind::ServerRoom, 24, Some(8)));
    c
}

fn case<'a>(chain: &'a [Step], waiting: usize, addressed: &'a [(Role, i64)]) -> CaseState<'a> {
    CaseState {
        name: "request 7",
        status: CaseStatus::Open,
        waiting: Some(waiting),
        chain,
        addressed,
    }
}

#[test]
fn the_waiting_step_by_its_role_is_allowed() {
    let c = chain();
    let i = check(
        &case(&c, 1, &[]),
        "dispose",
        StepKind::Approve,
        &actor(Role::Kadis, None),
    );
    assert_eq!(i, Ok(1));
}

#[test]
fn a_step_of_another_role_is_forbidden_even_out_of_order() {
    let c = chain();
    // Kabid tries the Kadis's step while the request waits for the superior: the role is
    // what they learn, not the order.
    let e = check(
        &case(&c, 0, &[]),
        "dispose",
        StepKind::Approve,
        &actor(Role::Kabid, None),
    )
    .unwrap_err();
    assert!(e.is_forbidden(), "{e}");
    assert!(e.to_string().contains("done by the role kadis"), "{e}");
}

#[test]
fn a_step_out_of_order_is_a_conflict_naming_the_waiting_step() {
    let c = chain();
    let e = check(
        &case(&c, 0, &[]),
        "dispose",
        StepKind::Approve,
        &actor(Role::Kadis, None),
    )
    .unwrap_err();
    assert!(e.is_conflict(), "{e}");
    assert!(
        e.to_string()
            .contains("waiting for step \"approve\" by atasan"),
        "{e}"
    );
    // Done twice: the second is out of order too.
    let e = check(
        &case(&c, 2, &[]),
        "dispose",
        StepKind::Approve,
        &actor(Role::Kadis, None),
    )
    .unwrap_err();
    assert!(e.is_conflict(), "{e}");
}

#[test]
fn a_step_addressed_to_one_account_refuses_others_of_the_role() {
    let c = chain();
    let addressed = [(Role::Atasan, 42)];
    let st = case(&c, 0, &addressed);
    assert_eq!(
        check(
            &st,
            "approve",
            StepKind::Approve,
            &actor(Role::Atasan, Some(42))
        ),
        Ok(0)
    );
    for other in [Some(41), None] {
        let e = check(
            &st,
            "approve",
            StepKind::Approve,
            &actor(Role::Atasan, other),
        )
        .unwrap_err();
        assert!(matches!(e, WorkflowError::NotAddressee { .. }), "{e}");
    }
}

#[test]
fn a_closed_case_takes_no_step() {
    let c = chain();
    for status in [
        CaseStatus::Rejected,
        CaseStatus::Completed,
        CaseStatus::Withdrawn,
    ] {
        let st = CaseState {
            status,
            waiting: None,
            ..case(&c, 0, &[])
        };
        let e = check(&st, "verify", StepKind::Approve, &actor(Role::Kasi, None)).unwrap_err();
        assert!(e.is_conflict(), "{e}");
        assert!(e.to_string().contains(status.as_str()), "{e}");
    }
}

#[test]
fn unknown_steps_and_wrong_kinds_are_neither_forbidden_nor_conflicts() {
    let c = chain();
    let st = case(&c, 4, &[]);
    let e = check(
        &st,
        "stamp",
        StepKind::Approve,
        &actor(Role::Operator, None),
    )
    .unwrap_err();
    assert!(!e.is_forbidden() && !e.is_conflict());
    assert!(
        e.to_string()
            .contains("approve, dispose, forward, verify, issue, inform"),
        "{e}"
    );
    let e = check(
        &st,
        "issue",
        StepKind::Approve,
        &actor(Role::Operator, None),
    )
    .unwrap_err();
    assert!(matches!(e, WorkflowError::WrongKind { .. }), "{e}");
}

#[test]
fn after_moves_on_rejects_or_completes() {
    let c = chain();
    assert_eq!(after(&c, 0, true), Next::Step(1));
    assert_eq!(after(&c, 3, false), Next::Done(CaseStatus::Rejected));
    assert_eq!(after(&c, 5, true), Next::Done(CaseStatus::Completed));
}

#[test]
fn a_step_is_overdue_strictly_after_its_time_standard() {
    let c = chain();
    let since = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
    let verify = &c[3]; // 48 hours
    let due = due_at(verify, since);
    assert_eq!(due, Utc.with_ymd_and_hms(2026, 11, 4, 9, 0, 0).unwrap());
    assert!(!is_overdue(verify, since, due));
    assert!(is_overdue(verify, since, due + Duration::seconds(1)));
}

#[test]
fn texts_show_times_in_the_office_zone() {
    let t = Utc.with_ymd_and_hms(2026, 11, 2, 17, 30, 0).unwrap();
    assert_eq!(
        texts::local(t, chrono_tz::Asia::Jakarta),
        "03-11-2026 00:30 WIB"
    );
    assert_eq!(
        texts::local(t, chrono_tz::Asia::Jayapura),
        "03-11-2026 02:30 WIT"
    );
}
