//! The operator pages over real HTTP with a real login: Meja Tamu (procedure 4) and Review
//! Akses (procedure 2) driven through their forms, checked against the API's view, and the
//! refusals: a field error in Indonesian, a button another role does not see and cannot
//! forge, a form without this session's token; and both pages in English when chosen
//! (`english`).

mod english;

use serde_json::{Value, json};

use crate::common::daemon::{ONE_DOOR, TestDaemon};
use crate::common::web::{Browser, set_password};

const ESCORT_CARD: &str = "E5C0";

/// The door, an escort with a card and a right, and visitor badges V-01 and V-02.
fn desk() -> (TestDaemon, i64) {
    desk_with("")
}

/// [`desk`] with more configuration (`[visitors]`).
fn desk_with(extra: &str) -> (TestDaemon, i64) {
    let d = TestDaemon::start_with(&format!("{ONE_DOOR}\n{extra}"));
    let escort = d.grant(ESCORT_CARD, "iso14443");
    for (number, uid) in [("V-01", "B0B0"), ("V-02", "B0B1")] {
        let b = d.post(
            "/api/v1/visitor-badges",
            &json!({ "badge_number": number, "uid": uid }),
        );
        assert_eq!(b.status, 201, "{}", b.body);
    }
    (d, escort)
}

/// The check-in form as the desk fills it in.
fn visit_form(escort: &str) -> Vec<(&'static str, String)> {
    [
        ("nama", "Andi Wijaya"),
        ("instansi", "PT Data Prima Nusantara"),
        ("alamat", "Jl. Pemuda No. 12, Semarang"),
        ("jenis_identitas", "ktp"),
        ("no_identitas", "3374011203850004"),
        ("tujuan", "Penggantian hard disk server SPSE"),
        ("host", "Budi Santoso, Sub Bagian Pengelolaan LPSE"),
        ("escort", escort),
        ("doors", "ruang-server"),
        (
            "fasilitas",
            "Laptop; 5CD1234XYZ\nHard disk 2 TB; WD-WX12A3456",
        ),
        ("id_deposited", "1"),
        ("ttd_name", "Andi Wijaya"),
        ("ttd_consent", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect()
}

/// The form with some fields changed.
fn with(form: &[(&'static str, String)], changes: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    form.iter()
        .map(|(k, v)| match changes.iter().find(|(c, _)| c == k) {
            Some((_, new)) => (*k, (*new).to_owned()),
            None => (*k, v.clone()),
        })
        .collect()
}

fn pairs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn visits(d: &TestDaemon) -> Vec<Value> {
    let r = d.get("/api/v1/visits");
    assert_eq!(r.status, 200, "{}", r.body);
    r.body.as_array().unwrap().clone()
}

fn visit(d: &TestDaemon, id: i64) -> Value {
    d.get(&format!("/api/v1/visits/{id}")).body
}

/// Checks the standard visitor in through the page; returns the visit's id.
fn check_in(desk: &mut Browser, escort: i64) -> i64 {
    let form = visit_form(&escort.to_string());
    let r = desk.submit("/ui/visitors", "/ui/visitors/check-in", &pairs(&form));
    assert_eq!(r.status, 303, "{}", r.body);
    let at = r.location.unwrap();
    let id = at
        .strip_prefix("/ui/visitors?done=checked_in#visit-")
        .unwrap_or_else(|| panic!("redirected to {at}"));
    id.parse().unwrap()
}

#[test]
fn a_visit_checked_in_decided_badged_and_checked_out_through_the_pages() {
    let (d, escort) = desk();
    let mut meja = Browser::staff(&d, "meja.tamu", "helpdesk");
    let mut kepala = Browser::staff(&d, "kepala.lpse", "kepala");

    // A card holder whose right has ended may not escort, so is not offered.
    let p = d.post("/api/v1/people", &json!({ "name": "Hak Berakhir" }));
    let ended = p.body["id"].as_i64().unwrap();
    let b = d.post(
        "/api/v1/badges",
        &json!({ "person_id": ended, "uid": "E5C1", "technology": "iso14443", "right": {
            "doors": ["ruang-server"], "valid_from": "2020-01-01T00:00:00Z",
            "valid_until": "2021-01-01T00:00:00Z" } }),
    );
    assert_eq!(b.status, 201, "{}", b.body);

    let empty = meja.get("/ui/visitors");
    assert_eq!(empty.status, 200, "{}", empty.body);
    empty.expect("visits-empty", "p");
    let offered = empty.expect("escort", "select");
    assert!(
        offered.contains(&format!("value=\"{escort}\"")),
        "the escort with a card and a right is offered: {offered}"
    );
    assert!(
        !offered.contains(&format!("value=\"{ended}\"")),
        "{offered}"
    );

    let id = check_in(&mut meja, escort);
    let v = visit(&d, id);
    assert_eq!(v["status"], "waiting_approval", "{v}");
    assert_eq!(v["nama"], "Andi Wijaya");
    assert_eq!(v["jenis_identitas"], "ktp");
    assert_eq!(v["no_identitas"], "3374011203850004");
    assert_eq!(v["escort_person_id"], escort);
    assert_eq!(v["doors"], json!(["ruang-server"]));
    assert_eq!(
        v["equipment"],
        json!([{ "jenis": "Laptop", "no_seri": "5CD1234XYZ" },
               { "jenis": "Hard disk 2 TB", "no_seri": "WD-WX12A3456" }])
    );
    assert_eq!(v["id_deposited"], true);
    assert_eq!(
        v["ttd"],
        json!({ "kind": "typed", "name": "Andi Wijaya", "mime": null })
    );
    assert_eq!(v["history"][0]["actor"], "meja.tamu");

    // The desk sees the row but not the head's buttons; the head does.
    let row_id = format!("visit-{id}");
    let desk_page = meja.get("/ui/visitors?done=checked_in");
    assert!(
        desk_page.body.contains("Tamu tercatat"),
        "{}",
        desk_page.body
    );
    let row = desk_page.expect(&row_id, "tr");
    assert!(
        row.contains("Andi Wijaya") && row.contains("3374011203850004"),
        "{row}"
    );
    assert!(row.contains("Menunggu izin kepala fasilitas"), "{row}");
    assert!(!row.contains("/decide"), "{row}");
    let head_row = kepala.get("/ui/visitors");
    assert!(
        head_row
            .expect(&row_id, "tr")
            .contains(&format!("action=\"/ui/visitors/{id}/decide\"")),
        "{}",
        head_row.body
    );
    let r = kepala.submit(
        "/ui/visitors",
        &format!("/ui/visitors/{id}/decide"),
        &[("decision", "approve"), ("note", "")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/ui/visitors?done=visit_granted#visit-{id}").as_str())
    );
    let v = visit(&d, id);
    assert_eq!(v["status"], "approved");
    assert_eq!(v["history"][1]["actor"], "kepala.lpse");
    assert!(
        !kepala
            .get("/ui/visitors")
            .expect(&row_id, "tr")
            .contains("/decide"),
        "decided: no more buttons"
    );

    // The badge: a number not in the pool is refused on its field, then V-02 chosen.
    let r = meja.submit(
        "/ui/visitors",
        &format!("/ui/visitors/{id}/badge"),
        &[("badge_number", "V-99")],
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.expect(&row_id, "tr")
            .contains("Tidak ada kartu tamu dengan nomor itu."),
        "{}",
        r.body
    );
    assert_eq!(visit(&d, id)["status"], "approved");
    let page = meja.get("/ui/visitors");
    let row = page.expect(&row_id, "tr");
    assert!(
        row.contains("value=\"V-01\"") && row.contains("value=\"V-02\""),
        "{row}"
    );
    let r = meja.submit(
        "/ui/visitors",
        &format!("/ui/visitors/{id}/badge"),
        &[("badge_number", "V-02")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let v = visit(&d, id);
    assert_eq!(v["status"], "active");
    assert_eq!(v["badge_number"], "V-02");
    assert!(
        meja.get("/ui/visitors")
            .expect(&row_id, "tr")
            .contains("V-02")
    );

    // Check-out: the badge and the identity document must be accounted for, on their field.
    let out = format!("/ui/visitors/{id}/check-out");
    let r = meja.submit("/ui/visitors", &out, &[("id_returned", "1")]);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body
            .contains("Pilih: kartu tamu dikembalikan atau hilang."),
        "{}",
        r.body
    );
    let r = meja.submit("/ui/visitors", &out, &[("badge", "returned")]);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Kembalikan identitas"), "{}", r.body);
    assert_eq!(visit(&d, id)["status"], "active", "nothing changed");

    let r = meja.submit(
        "/ui/visitors",
        &out,
        &[
            ("badge", "returned"),
            ("id_returned", "1"),
            ("note", "tertib"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let v = visit(&d, id);
    assert_eq!(v["status"], "closed", "{v}");
    assert_eq!(v["badge_outcome"], "returned");
    assert!(
        v["id_returned_at"].is_string() && v["checked_out_at"].is_string(),
        "{v}"
    );
    let pool = d.get("/api/v1/visitor-badges").body;
    let v02 = pool
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["badge_number"] == "V-02")
        .unwrap();
    assert_eq!(v02["status"], "available", "back in the pool: {pool}");
    let page = meja.get(r.location.as_deref().unwrap());
    assert!(page.body.contains("Tamu telah keluar"), "{}", page.body);
    let row = page.expect(&row_id, "tr");
    assert!(
        row.contains("data-status=\"closed\"") && row.contains("Selesai"),
        "{row}"
    );
    assert!(!row.contains("<form"), "nothing left to do: {row}");
}

#[test]
fn a_field_error_is_shown_in_indonesian_next_to_the_field_and_nothing_is_stored() {
    let (d, escort) = desk();
    let mut meja = Browser::staff(&d, "meja.tamu", "helpdesk");
    let form = visit_form(&escort.to_string());

    let short = with(&form, &[("no_identitas", "337401120385")]);
    let r = meja.submit("/ui/visitors", "/ui/visitors/check-in", &pairs(&short));
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.expect("no_identitas-error", "p")
            .contains("NIK pada KTP harus 16 angka."),
        "{}",
        r.body
    );
    let field = r.expect("no_identitas", "div");
    assert!(field.contains("aria-invalid=\"true\""), "{field}");
    assert_eq!(
        r.input_value("nama").as_deref(),
        Some("Andi Wijaya"),
        "kept as typed"
    );
    assert!(r.element("nama-error", "p").is_none());

    // What only the store knows (the escort's card) lands on its field too.
    let p = d.post("/api/v1/people", &json!({ "name": "Tanpa Kartu" }));
    let no_card = p.body["id"].as_i64().unwrap().to_string();
    let forged = with(&form, &[("escort", &no_card), ("ttd_consent", "")]);
    let r = meja.submit("/ui/visitors", "/ui/visitors/check-in", &pairs(&forged));
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.expect("ttd_consent-error", "p")
            .contains("Tamu harus menyetujui")
    );
    let forged = with(&form, &[("escort", &no_card)]);
    let r = meja.submit("/ui/visitors", "/ui/visitors/check-in", &pairs(&forged));
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.expect("escort-error", "p")
            .contains("Pendamping harus memegang kartu"),
        "{}",
        r.body
    );
    let forged = with(&form, &[("doors", "gudang")]);
    let r = meja.submit("/ui/visitors", "/ui/visitors/check-in", &pairs(&forged));
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.expect("doors-error", "p")
            .contains("tidak dibuka untuk tamu"),
        "{}",
        r.body
    );
    assert!(visits(&d).is_empty(), "nothing stored");
}

#[test]
fn another_role_sees_no_decide_button_and_a_forged_decision_is_refused() {
    let (d, escort) = desk();
    let mut meja = Browser::staff(&d, "meja.tamu", "helpdesk");
    let mut operator = Browser::staff(&d, "operator", "operator");
    let mut pemohon = Browser::staff(&d, "pemohon", "pemohon");
    let id = check_in(&mut meja, escort);
    let decide = format!("/ui/visitors/{id}/decide");

    // The desk may not decide at all; the operator may decide visits in the API's terms,
    // but not these: `[visitors] approver_role` is the kepala.
    for b in [&mut meja, &mut operator] {
        let page = b.get("/ui/visitors");
        assert_eq!(page.status, 200);
        assert!(!page.body.contains(&decide), "{}", page.body);
        let r = b.submit("/ui/visitors", &decide, &[("decision", "approve")]);
        assert_eq!(r.status, 403, "{}", r.body);
        assert!(r.body.contains("tidak berwenang") || r.body.contains("bukan giliran Anda"));
    }
    // A role that neither reads nor decides visits does not get the page.
    assert_eq!(pemohon.get("/ui/visitors").status, 403);
    let token = pemohon.get("/ui/inbox").csrf();
    let r = pemohon.post_form(&decide, &[("csrf", &token), ("decision", "approve")]);
    assert_eq!(r.status, 403);

    let v = visit(&d, id);
    assert_eq!(v["status"], "waiting_approval", "{v}");
    assert_eq!(v["history"].as_array().unwrap().len(), 1);
}

#[test]
fn an_approver_who_does_not_read_visits_sees_only_what_waits_for_them() {
    let (d, escort) = desk_with("[visitors]\napprover_role = \"atasan\"\n");
    let mut meja = Browser::staff(&d, "meja.tamu", "helpdesk");
    let mut atasan = Browser::staff(&d, "pak.atasan", "atasan");
    let page = atasan.get("/ui/visitors");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.expect("visits-empty", "p")
            .contains("menunggu keputusan Anda")
    );

    let id = check_in(&mut meja, escort);
    let page = atasan.get("/ui/visitors");
    let row = page.expect(&format!("visit-{id}"), "tr");
    assert!(
        row.contains("Andi Wijaya") && row.contains("/decide"),
        "{row}"
    );
    assert!(
        !row.contains("3374011203850004"),
        "the identity number is for roles that read visits: {row}"
    );
    assert!(
        !page.body.contains("check-in"),
        "no desk forms: {}",
        page.body
    );
    let r = atasan.submit(
        "/ui/visitors",
        &format!("/ui/visitors/{id}/decide"),
        &[("decision", "deny"), ("note", "")],
    );
    assert_eq!(r.status, 422, "a denial needs its reason: {}", r.body);
    assert!(r.body.contains("Tulis alasan"), "{}", r.body);
    assert_eq!(visit(&d, id)["status"], "waiting_approval");
    let r = atasan.submit(
        "/ui/visitors",
        &format!("/ui/visitors/{id}/decide"),
        &[("decision", "deny"), ("note", "tidak ada surat tugas")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let v = visit(&d, id);
    assert_eq!(v["status"], "denied");
    assert_eq!(v["decision_note"], "tidak ada surat tugas");
    let page = atasan.get(r.location.as_deref().unwrap());
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Kunjungan ditolak."), "{}", page.body);
    assert!(page.element(&format!("visit-{id}"), "tr").is_none());
}

#[test]
fn a_form_without_this_sessions_token_is_refused_and_changes_nothing() {
    let (d, escort) = desk();
    let mut meja = Browser::staff(&d, "meja.tamu", "helpdesk");
    let other = Browser::staff(&d, "meja.lain", "helpdesk");
    let form = visit_form(&escort.to_string());
    let theirs = other.get("/ui/visitors").csrf();
    let mine = meja.get("/ui/visitors").csrf();
    assert_ne!(theirs, mine);
    for token in [None, Some("salah"), Some(theirs.as_str())] {
        let mut fields = pairs(&form);
        if let Some(t) = token {
            fields.push(("csrf", t));
        }
        let r = meja.post_form("/ui/visitors/check-in", &fields);
        assert_eq!(r.status, 403, "token {token:?}: {}", r.body);
        assert!(r.body.contains("kedaluwarsa"), "{}", r.body);
    }
    assert!(visits(&d).is_empty());

    // Not logged in: the login page, and nothing done.
    let mut stranger = Browser::new(&d);
    let mut fields = pairs(&form);
    fields.push(("csrf", &mine));
    let r = stranger.post_form("/ui/visitors/check-in", &fields);
    assert_eq!(r.status, 303);
    assert!(r.location.unwrap().starts_with("/ui/login"));
    assert!(visits(&d).is_empty());
}

#[test]
fn a_review_item_is_decided_by_its_penanggung_jawab_through_the_pages() {
    use crate::workflow::{approve_all, ok, staff, submit};

    let d = TestDaemon::start();
    let s = staff(&d);
    let request = submit(&d, &s);
    approve_all(&d, &s, request);
    ok(
        &d,
        &s.operator,
        &format!("/api/v1/requests/{request}/issue"),
        json!({ "uid": "11223344" }),
    );
    d.grant("55667788", "iso14443");
    set_password(&d, "kasi");
    set_password(&d, "pj.server");
    let mut kasi = Browser::login(&d, "kasi", crate::common::web::PASSWORD);
    let mut pj = Browser::login(&d, "pj.server", crate::common::web::PASSWORD);
    let mut other_pj = Browser::staff(&d, "pj.lain", "penanggung_jawab");

    assert!(
        pj.get("/ui/reviews")
            .element("start-review", "h2")
            .is_none()
    );
    let r = kasi.submit(
        "/ui/reviews",
        "/ui/reviews",
        &[("title", "Terlambat"), ("deadline", "2020-01-01")],
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.expect("deadline-error", "p")
            .contains("Batas waktu harus sesudah hari ini"),
        "{}",
        r.body
    );
    assert_eq!(d.get("/api/v1/reviews").body, json!([]), "nothing started");
    let r = kasi.submit(
        "/ui/reviews",
        "/ui/reviews",
        &[
            ("title", "Review Triwulan IV 2026"),
            ("deadline", ""),
            ("default_undecided", ""),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let at = r.location.unwrap();
    let rid: i64 = at
        .strip_prefix("/ui/reviews/")
        .and_then(|r| r.strip_suffix("?done=review_started"))
        .unwrap_or_else(|| panic!("redirected to {at}"))
        .parse()
        .unwrap();
    let review = d.get(&format!("/api/v1/reviews/{rid}")).body;
    assert_eq!(review["title"], "Review Triwulan IV 2026");
    assert_eq!(review["total"], 2, "{review}");
    let items = review["items"].as_array().unwrap();
    let ours = items
        .iter()
        .find(|i| i["penanggung_jawab"] == "pj.server")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let unaddressed = items
        .iter()
        .find(|i| i["penanggung_jawab"].is_null())
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let page_path = format!("/ui/reviews/{rid}");
    let item_path = format!("/ui/reviews/{rid}/items/{ours}");
    let action = format!("action=\"{item_path}\"");

    // Buttons where the API would take the decision: the addressee's item, and an item
    // addressed to no one for any penanggung jawab; none for the Kasi or another one.
    let page = pj.get(&page_path);
    assert!(
        page.body
            .contains(&format!("/ui/reports/forms/review/{rid}"))
    );
    assert!(
        page.expect(&format!("item-{ours}"), "tr").contains(&action),
        "{}",
        page.body
    );
    assert!(
        page.expect(&format!("item-{unaddressed}"), "tr")
            .contains("<form")
    );
    let page = other_pj.get(&page_path);
    assert!(!page.expect(&format!("item-{ours}"), "tr").contains("<form"));
    assert!(
        page.expect(&format!("item-{unaddressed}"), "tr")
            .contains("<form")
    );
    let page = kasi.get(&page_path);
    assert!(!page.body.contains("/items/"), "{}", page.body);
    assert!(page.body.contains(&format!("/ui/reviews/{rid}/close")));
    for b in [&mut other_pj, &mut kasi] {
        let r = b.submit(&page_path, &item_path, &[("decision", "not_valid")]);
        assert_eq!(r.status, 403, "{}", r.body);
    }
    let review = d.get(&format!("/api/v1/reviews/{rid}")).body;
    assert_eq!(review["undecided"], 2, "nothing decided yet: {review}");

    let r = pj.submit(
        &page_path,
        &item_path,
        &[("decision", "not_valid"), ("comment", "sudah pindah tugas")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/ui/reviews/{rid}?done=item_decided#item-{ours}").as_str())
    );
    let review = d.get(&format!("/api/v1/reviews/{rid}")).body;
    let item = review["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == ours)
        .unwrap()
        .clone();
    assert_eq!(item["decision"], "not_valid", "{item}");
    assert_eq!(item["comment"], "sudah pindah tugas");
    assert_eq!(item["decided_by"], "pj.server");
    let page = pj.get(&format!("{page_path}?done=item_decided"));
    assert!(page.body.contains("Keputusan reviu tersimpan."));
    assert!(
        page.expect(&format!("item-{ours}"), "tr")
            .contains("Tidak valid")
    );

    let r = kasi.submit(&page_path, &format!("/ui/reviews/{rid}/close"), &[]);
    assert_eq!(r.status, 303, "{}", r.body);
    let review = d.get(&format!("/api/v1/reviews/{rid}")).body;
    assert_eq!(review["status"], "closed");
    let item = review["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == ours)
        .unwrap()
        .clone();
    assert_eq!(item["outcome"], "removed", "{item}");
    assert!(
        !pj.get(&page_path).body.contains("/items/"),
        "closed: no more buttons"
    );
}
