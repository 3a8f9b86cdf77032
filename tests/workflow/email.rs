//! The email each actor of the chain receives, through a real SMTP relay.

use super::*;

/// Each actor of the chain is told by email, in Indonesian, when a step waits for them; the
/// applicant is told how it ended.
#[test]
fn each_actor_receives_the_email_for_their_step() {
    use std::time::Duration as Wait;

    use crate::common::smtp::SmtpSink;

    let sink = SmtpSink::start();
    let d = TestDaemon::start_with(&format!("{ONE_DOOR}{}", sink.config()));
    let s = staff(&d);
    let addr = |u: &str| format!("{u}@diskominfo.example.go.id");
    let mail_to = |who: &str, subject: &str| {
        let to = addr(who);
        sink.wait_for(
            |m| m.to.contains(&to) && m.subject.contains(subject),
            Wait::from_secs(10),
        )
    };
    let id = submit(&d, &s);
    let m = mail_to("pak.atasan", "menunggu tindakan Anda");
    assert!(
        m.subject
            .contains(&format!("Permintaan Akses Ruang Server No. {id}")),
        "{m:?}"
    );
    assert!(m.body.contains("Persetujuan atasan langsung"), "{m:?}");
    assert!(m.body.contains("WIB"), "due time in the office zone: {m:?}");
    decide(&d, &s.atasan, id, "approve");
    assert!(
        mail_to("kadis", "menunggu")
            .body
            .contains("Disposisi Kadis")
    );
    decide(&d, &s.kadis, id, "dispose");
    mail_to("kabid", "menunggu");
    decide(&d, &s.kabid, id, "forward");
    assert!(mail_to("kasi", "menunggu").body.contains("Verifikasi"));
    decide(&d, &s.kasi, id, "verify");
    assert!(mail_to("operator", "menunggu").body.contains("kartu akses"));
    ok(
        &d,
        &s.operator,
        &format!("/api/v1/requests/{id}/issue"),
        json!({ "uid": "01AB02CD" }),
    );
    ok(
        &d,
        &s.operator,
        &format!("/api/v1/requests/{id}/inform"),
        json!({}),
    );
    let told = mail_to("budi", "disetujui");
    assert!(told.body.contains("ruang-server"), "{told:?}");
    // A step addressed to one superior went to that superior only, not to every atasan.
    let first = sink
        .messages()
        .into_iter()
        .find(|m| m.subject.contains("menunggu"))
        .unwrap();
    assert_eq!(first.to, vec![addr("pak.atasan")]);

    // A rejection tells the applicant the reason.
    let id2 = submit(&d, &s);
    ok(
        &d,
        &s.atasan,
        &format!("/api/v1/requests/{id2}/decide"),
        json!({ "step": "approve", "decision": "reject", "note": "Belum ada surat tugas" }),
    );
    let rejected = mail_to("budi", "ditolak");
    assert!(
        rejected.body.contains("Belum ada surat tugas"),
        "{rejected:?}"
    );
}
