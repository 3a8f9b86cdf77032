//! Procedures 2, 3 and 5 over HTTP: a review campaign that removes a right, a removal
//! request end to end, a remote-access account from grant to close.

use super::*;

#[test]
fn a_review_campaign_that_removes_a_right_refuses_the_next_tap() {
    let d = TestDaemon::start();
    let s = staff(&d);
    // One right through the workflow (its penanggung jawab is named), one imported.
    let id = submit(&d, &s);
    approve_all(&d, &s, id);
    ok(
        &d,
        &s.operator,
        &format!("/api/v1/requests/{id}/issue"),
        json!({ "uid": "11223344" }),
    );
    d.grant("55667788", "iso14443");
    assert_eq!(tap(&d, "11223344")["granted"], true);

    let review = ok(
        &d,
        &s.kasi,
        "/api/v1/reviews",
        json!({ "title": "Review Triwulan IV 2026" }),
    );
    let rid = review["id"].as_i64().unwrap();
    assert_eq!(review["total"], 2, "{review}");
    let (status, _) = post_as(&d, &s.kasi, "/api/v1/reviews", json!({}));
    assert_eq!(status, 409, "one campaign at a time");
    let items = review["items"].as_array().unwrap();
    let ours = items
        .iter()
        .find(|i| i["penanggung_jawab"] == "pj.server")
        .unwrap();
    assert_eq!(ours["summary"]["doors"], json!(["ruang-server"]));
    // The penanggung jawab sees their item in the inbox and decides it.
    let inbox = d.get_as("/api/v1/workflow/inbox", Some(&s.pj)).body;
    assert_eq!(inbox.as_array().unwrap().len(), 2, "{inbox}");
    let item_path = format!("/api/v1/reviews/{rid}/items/{}", ours["id"]);
    let another_pj = account(&d, "pj.lain", "penanggung_jawab");
    let (status, _) = post_as(
        &d,
        &another_pj,
        &item_path,
        json!({ "decision": "not_valid" }),
    );
    assert_eq!(
        status, 403,
        "an item addressed to one penanggung jawab is theirs"
    );
    let (status, _) = post_as(&d, &s.kasi, &item_path, json!({ "decision": "not_valid" }));
    assert_eq!(status, 403);
    ok(
        &d,
        &s.pj,
        &item_path,
        json!({ "decision": "not_valid", "comment": "sudah pindah tugas" }),
    );
    // Not removed until the campaign closes.
    assert_eq!(tap(&d, "11223344")["granted"], true);
    let closed = ok(
        &d,
        &s.kasi,
        &format!("/api/v1/reviews/{rid}/close"),
        json!({}),
    );
    assert_eq!(closed["status"], "closed");
    assert_eq!(tap(&d, "11223344")["reason"], "no_right_for_door");
    // The undecided imported right got the default (keep), recorded as such.
    let kept = closed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["decision"].is_null())
        .unwrap();
    assert_eq!(kept["outcome"], "kept");
    assert!(
        kept["outcome_note"]
            .as_str()
            .unwrap()
            .contains("tidak diputuskan")
    );
    assert_eq!(tap(&d, "55667788")["granted"], true);
    // The removal is on record as a procedure 3 case from the review.
    let removals = d.get("/api/v1/removals").body;
    assert_eq!(removals[0]["source"], format!("review:{rid}"));
    assert_eq!(removals[0]["status"], "completed");
    let (status, _) = post_as(&d, &s.pj, &item_path, json!({ "decision": "valid" }));
    assert_eq!(status, 409, "decisions are final once closed");
}

#[test]
fn a_removal_request_goes_from_the_penanggung_jawab_to_the_administrator_and_back() {
    let d = TestDaemon::start();
    let s = staff(&d);
    let person = d.grant("CAFEBABE", "iso14443");
    let rights = d.get(&format!("/api/v1/people/{person}/rights")).body;
    let right = rights[0]["id"].as_i64().unwrap();
    let filed = ok(
        &d,
        &s.pj,
        "/api/v1/removals",
        json!({ "right_kind": "door", "right_id": right, "reason": "Kontrak vendor berakhir" }),
    );
    let id = filed["id"].as_i64().unwrap();
    assert_eq!(filed["waiting"]["name"], "forward");
    assert_eq!(filed["holder_name"], "Budi");
    let (status, _) = post_as(
        &d,
        &s.pj,
        "/api/v1/removals",
        json!({ "right_kind": "door", "right_id": right, "reason": "lagi" }),
    );
    assert_eq!(status, 409, "one removal per right at a time");
    // Out of order: the administrator cannot deactivate before the Kasi forwards.
    let (status, _) = post_as(
        &d,
        &s.admin,
        &format!("/api/v1/removals/{id}/deactivate"),
        json!({}),
    );
    assert_eq!(status, 409);
    let (status, _) = post_as(
        &d,
        &s.operator,
        &format!("/api/v1/removals/{id}/decide"),
        json!({ "step": "forward", "decision": "approve" }),
    );
    assert_eq!(status, 403);
    ok(
        &d,
        &s.kasi,
        &format!("/api/v1/removals/{id}/decide"),
        json!({ "step": "forward", "decision": "approve" }),
    );
    assert_eq!(tap(&d, "CAFEBABE")["granted"], true);
    let (status, _) = post_as(
        &d,
        &s.kasi,
        &format!("/api/v1/removals/{id}/deactivate"),
        json!({}),
    );
    assert_eq!(status, 403);
    ok(
        &d,
        &s.admin,
        &format!("/api/v1/removals/{id}/deactivate"),
        json!({ "note": "dinonaktifkan" }),
    );
    assert_eq!(tap(&d, "CAFEBABE")["granted"], false);
    let done = ok(
        &d,
        &s.kasi,
        &format!("/api/v1/removals/{id}/confirm"),
        json!({}),
    );
    assert_eq!(done["status"], "completed");
    let outcomes: Vec<&str> = done["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["filed", "approved", "deactivated", "informed"]);
    let rights = d.get(&format!("/api/v1/people/{person}/rights")).body;
    assert_eq!(rights[0]["status"], "removed");
}

#[test]
fn a_remote_access_account_is_granted_flagged_when_overdue_and_closed() {
    let d = TestDaemon::start();
    let s = staff(&d);
    let until = Utc::now() + Duration::hours(48);
    let r = ok(
        &d,
        &s.operator,
        "/api/v1/requests",
        json!({
            "kind": "remote_access",
            "applicant_name": "Andi Wijaya",
            "instansi": "PT Vendor SPSE",
            "purpose": "Pembaruan aplikasi SPSE",
            "hak_akses": "SSH ke server aplikasi",
            "valid_from": Utc::now().to_rfc3339(),
            "valid_until": until.to_rfc3339(),
        }),
    );
    let id = r["id"].as_i64().unwrap();
    assert_eq!(r["waiting"]["name"], "permit");
    let (status, _) = post_as(
        &d,
        &s.operator,
        &format!("/api/v1/requests/{id}/issue"),
        json!({ "uid": "01020304" }),
    );
    assert_eq!(status, 400, "a remote-access request has no card to issue");
    ok(
        &d,
        &s.kasi,
        &format!("/api/v1/requests/{id}/decide"),
        json!({ "step": "permit", "decision": "approve" }),
    );
    let granted = ok(
        &d,
        &s.operator,
        &format!("/api/v1/requests/{id}/grant"),
        json!({ "username": "vendor-spse01" }),
    );
    assert_eq!(
        granted["status"], "completed",
        "seed 000 has no inform step"
    );
    let account = granted["logical_right_id"].as_i64().unwrap();
    let list = d.get("/api/v1/logical-rights?open=true").body;
    assert_eq!(list[0]["username"], "vendor-spse01");
    assert_eq!(list[0]["instansi"], "PT Vendor SPSE");
    assert_eq!(list[0]["overdue"], false);
    // Two days on, the account should have been closed: flagged, and the Operator's to do.
    let later = (until + Duration::hours(1))
        .to_rfc3339()
        .replace('+', "%2B");
    let waiting = d
        .get(&format!("/api/v1/workflow/waiting?overdue=true&at={later}"))
        .body;
    let flagged = waiting
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["case"] == "logical_right");
    let flagged = flagged.unwrap_or_else(|| panic!("open account not flagged: {waiting}"));
    assert_eq!(flagged["id"], account);
    assert_eq!(flagged["role"], "operator");
    let closed = ok(
        &d,
        &s.operator,
        &format!("/api/v1/logical-rights/{account}/close"),
        json!({ "reason": "pekerjaan selesai" }),
    );
    assert_eq!(closed["status"], "closed");
    assert!(closed["closed_at"].is_string());
    let (status, _) = post_as(
        &d,
        &s.operator,
        &format!("/api/v1/logical-rights/{account}/close"),
        json!({ "reason": "lagi" }),
    );
    assert_eq!(status, 409);
}
