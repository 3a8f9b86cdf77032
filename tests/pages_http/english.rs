//! The visitors desk and the review campaigns in English once a member of staff chooses it,
//! Indonesian before and after: headings, buttons, the register's columns and the messages
//! next to a field.

use super::{check_in, desk, pairs, visit_form, visits, with};
use crate::common::web::Browser;

#[test]
fn the_desk_and_the_reviews_in_english_when_chosen_and_indonesian_by_default() {
    let (d, escort) = desk();
    let mut meja = Browser::staff(&d, "meja.tamu", "helpdesk");
    let mut kasi = Browser::staff(&d, "kasi.en", "kasi");
    let id = check_in(&mut meja, escort);

    // Indonesian unless chosen: a fresh session reads the SOP's words.
    let p = meja.get("/ui/visitors");
    assert!(p.body.contains("<html lang=\"id\">"), "{}", p.body);
    assert!(p.body.contains("Meja Tamu") && p.body.contains("Catat kunjungan"));
    assert!(p.body.contains("Jam Masuk") && !p.body.contains("Record the visit"));
    assert!(
        kasi.get("/ui/reviews")
            .body
            .contains("Mulai reviu hak akses")
    );

    for b in [&mut meja, &mut kasi] {
        let r = b.submit("/ui/visitors", "/ui/lang", &[("lang", "en")]);
        assert_eq!(r.status, 303, "{}", r.body);
    }
    let p = meja.get("/ui/visitors");
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("<html lang=\"en\">"), "{}", p.body);
    for en in [
        "Visitors desk",
        "Today's visits and those not finished",
        "Record the visit",
        "Time in",
        "Identity document",
        "Waiting for the head of the facility",
    ] {
        assert!(p.body.contains(en), "{en:?} missing:\n{}", p.body);
    }
    for id_text in ["Meja Tamu", "Catat kunjungan", "Jam Masuk", "Menunggu izin"] {
        assert!(!p.body.contains(id_text), "{id_text:?} still there");
    }
    let row = p.expect(&format!("visit-{id}"), "tr");
    assert!(row.contains("KTP (identity card)"), "{row}");

    let r = meja.get("/ui/reviews");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Access reviews") && r.body.contains("No access reviews yet."));
    assert!(!r.body.contains("Reviu hak akses") && !r.body.contains("Belum ada reviu"));
    let r = kasi.get("/ui/reviews");
    assert!(r.expect("start-h", "h2").contains("Start an access review"));
    assert!(r.body.contains("Start the review") && !r.body.contains("Mulai reviu"));

    // A field's message in the page's language, and nothing stored.
    let form = visit_form(&escort.to_string());
    let short = with(&form, &[("no_identitas", "337401120385"), ("nama", " ")]);
    let r = meja.submit("/ui/visitors", "/ui/visitors/check-in", &pairs(&short));
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(
        r.expect("no_identitas-error", "p"),
        "<p class=\"field-error\" id=\"no_identitas-error\" role=\"alert\">The NIK on a KTP is 16 digits.</p>"
    );
    assert!(
        r.expect("nama-error", "p")
            .contains("The name is required.")
    );
    assert!(r.body.contains("Check the fields marked below."));
    assert!(!r.body.contains("wajib diisi") && !r.body.contains("NIK pada KTP"));
    assert_eq!(visits(&d).len(), 1, "only the first visit");

    // Error pages follow the session's language too.
    let missing = meja.get("/ui/requests/999");
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert!(
        missing.body.contains("What you looked for is not there."),
        "{}",
        missing.body
    );
    assert!(
        !missing.body.contains("tidak ditemukan"),
        "{}",
        missing.body
    );
    let forbidden = meja.get("/ui/reports");
    assert_eq!(forbidden.status, 403, "{}", forbidden.body);
    assert!(
        forbidden.body.contains("Your role may not do this."),
        "{}",
        forbidden.body
    );

    // Back to Indonesian: the switch is the session's, not the account's.
    let r = meja.submit("/ui/visitors", "/ui/lang", &[("lang", "id")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let p = meja.get("/ui/visitors");
    assert!(p.body.contains("Meja Tamu") && p.body.contains("Catat kunjungan"));
    assert!(!p.body.contains("Record the visit"));
    let missing = meja.get("/ui/requests/999");
    assert!(
        missing.body.contains("Data yang dicari tidak ditemukan."),
        "{}",
        missing.body
    );
    let again = Browser::login(&d, "kasi.en", crate::common::web::PASSWORD);
    assert!(
        again
            .get("/ui/reviews")
            .body
            .contains("Mulai reviu hak akses")
    );
}
