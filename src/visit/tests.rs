//! The visit's rules with made-up values: states, check-out, badge validity, the form.

use chrono::TimeZone;

use super::signature::{Checked, MAX_IMAGE_BYTES};
use super::*;
use crate::model::Actor;
use crate::workflow::{WorkflowError, check};

fn actor(role: Role) -> Actor {
    Actor {
        token_id: None,
        account_id: None,
        name: "t".into(),
        role,
    }
}

#[test]
fn only_the_configured_head_approves_and_only_while_waiting() {
    let chain = [approval_step(Role::Kepala, 1)];
    let waiting = case_state("visit 1", VisitStatus::WaitingApproval, &chain);
    assert_eq!(
        check(&waiting, "approve", StepKind::Approve, &actor(Role::Kepala)),
        Ok(0)
    );
    assert!(matches!(
        check(
            &waiting,
            "approve",
            StepKind::Approve,
            &actor(Role::Helpdesk)
        ),
        Err(WorkflowError::WrongRole { .. })
    ));
    let approved = case_state("visit 1", VisitStatus::Approved, &chain);
    assert!(matches!(
        check(
            &approved,
            "approve",
            StepKind::Approve,
            &actor(Role::Kepala)
        ),
        Err(WorkflowError::Closed { .. })
    ));
    let kasi = [approval_step(Role::Kasi, 1)];
    let waiting = case_state("visit 2", VisitStatus::WaitingApproval, &kasi);
    assert!(check(&waiting, "approve", StepKind::Approve, &actor(Role::Kasi)).is_ok());
}

#[test]
fn a_badge_only_after_approval() {
    assert_eq!(
        may_issue_badge(1, VisitStatus::Approved, Role::Kepala),
        Ok(())
    );
    let err = may_issue_badge(1, VisitStatus::WaitingApproval, Role::Kepala).unwrap_err();
    assert!(err.to_string().contains("after approval"), "{err}");
    for s in [
        VisitStatus::Denied,
        VisitStatus::Active,
        VisitStatus::Closed,
    ] {
        assert!(matches!(
            may_issue_badge(1, s, Role::Kepala),
            Err(VisitError::NotNow { .. })
        ));
    }
}

#[test]
fn check_out_needs_the_badge_accounted_for_and_the_id_returned() {
    use BadgeOutcome::*;
    use VisitStatus::*;
    let out = |status, badge, outcome, deposited, returned| {
        check_out(7, status, false, badge, outcome, deposited, returned)
    };
    let err = out(Active, Some("V-01"), None, true, true).unwrap_err();
    assert!(matches!(err, VisitError::BadgeUnaccounted { .. }));
    assert!(err.to_string().contains("V-01"), "{err}");
    assert_eq!(
        out(Active, Some("V-01"), Some(Returned), true, true),
        Ok(Closed)
    );
    assert_eq!(
        out(Active, Some("V-01"), Some(Lost), false, false),
        Ok(Closed)
    );
    assert!(matches!(
        out(Active, Some("V-01"), Some(Returned), true, false),
        Err(VisitError::IdNotReturned { id: 7 })
    ));
    // Left before entering: no badge to account for.
    assert_eq!(out(WaitingApproval, None, None, true, true), Ok(Closed));
    assert!(
        out(Approved, None, Some(Lost), false, false)
            .unwrap_err()
            .is_invalid()
    );
    // A denied visitor gets the document back; the visit stays denied.
    assert_eq!(out(Denied, None, None, true, true), Ok(Denied));
    assert!(matches!(
        check_out(7, Closed, true, None, None, false, false),
        Err(VisitError::NotNow { .. })
    ));
}

#[test]
fn a_badge_is_valid_until_the_end_of_the_day_in_the_office_zone() {
    let tz = chrono_tz::Asia::Jakarta;
    // 23:30 WIB on 3 March is 16:30 UTC; the day ends at 17:00 UTC.
    let issued = Utc.with_ymd_and_hms(2026, 3, 3, 16, 30, 0).unwrap();
    assert_eq!(
        badge_valid_until(issued, tz),
        Utc.with_ymd_and_hms(2026, 3, 3, 17, 0, 0).unwrap()
    );
    // 00:30 WIB on 4 March: the whole of 4 March.
    let issued = Utc.with_ymd_and_hms(2026, 3, 3, 17, 30, 0).unwrap();
    assert_eq!(
        badge_valid_until(issued, tz),
        Utc.with_ymd_and_hms(2026, 3, 4, 17, 0, 0).unwrap()
    );
}

#[test]
fn a_ktp_number_is_a_sixteen_digit_nik() {
    assert!(check_id_number(IdKind::Ktp, "3374011203850004").is_ok());
    assert!(check_id_number(IdKind::Ktp, "33740112038500").is_err());
    assert!(check_id_number(IdKind::Ktp, "337401120385000X").is_err());
    assert!(check_id_number(IdKind::Paspor, "C1234567").is_ok());
}

#[test]
fn a_typed_signature_needs_a_name_and_consent() {
    let typed = |name: &str, consent| Signature::Typed {
        name: name.into(),
        consent,
    };
    assert_eq!(
        typed("  Andi Wijaya ", true).check(),
        Ok(Checked::Typed("Andi Wijaya".into()))
    );
    assert!(
        typed("Andi", false)
            .check()
            .unwrap_err()
            .to_string()
            .contains("consent")
    );
    assert!(typed("   ", true).check().is_err());
}

#[test]
fn a_signature_picture_is_a_small_png_or_jpeg() {
    use base64::Engine;
    let b64 = |b: &[u8]| Signature::Image {
        data_base64: base64::engine::general_purpose::STANDARD.encode(b),
    };
    let png = b"\x89PNG\r\n\x1a\n rest";
    match b64(png).check() {
        Ok(Checked::Image(i)) => assert_eq!((i.mime, i.bytes.as_slice()), ("image/png", &png[..])),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        b64(&[0xFF, 0xD8, 0xFF, 0xE0]).check(),
        Ok(Checked::Image(SignatureImage {
            mime: "image/jpeg",
            ..
        }))
    ));
    assert!(b64(b"GIF89a").check().is_err());
    let mut big = png.to_vec();
    big.resize(MAX_IMAGE_BYTES + 1, 0);
    assert!(
        b64(&big)
            .check()
            .unwrap_err()
            .to_string()
            .contains("at most")
    );
    let bad = Signature::Image {
        data_base64: "not base64!".into(),
    };
    assert!(bad.check().is_err());
    // The picture never reaches a log.
    assert!(!format!("{:?}", b64(png)).contains("iVBOR"));
}
