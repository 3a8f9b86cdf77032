//! The check-in form (buku tamu): the visitor's identity, the purpose, whom they see, the
//! escort, the doors, what they bring in, the deposited identity document and the TTD.
//!
//! The rules are the store's: the pure ones (a KTP's NIK, the typed signature) are asked
//! first so each message sits next to its field, and whatever the store still refuses is
//! put on the field its message names.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use maud::{Markup, html};

use super::{PageError, Shown, desk, id_kind_label};
use crate::api::auth::CheckInVisitors;
use crate::api::visits::check_in_visit;
use crate::api::{ApiError, AppState};
use crate::pages::form::{Check, Fields, csrf, input};
use crate::pages::layout::Tr;
use crate::pages::session::Posted;
use crate::store::sessions::Session;
use crate::store::visits::{self, Equipment, NewVisit};
use crate::visit::{self, IdKind, MAX_EQUIPMENT, Signature, VisitError};

const KINDS: [IdKind; 4] = [IdKind::Ktp, IdKind::Sim, IdKind::Paspor, IdKind::Other];

/// The form, empty or as typed with its messages.
pub(super) async fn form(
    s: &AppState,
    session: &Session,
    typed: Option<(&Fields, &Check)>,
    failed: Option<&str>,
) -> Result<Markup, PageError> {
    let t = Tr::of(session);
    let empty = (Fields::default(), Check::new(t));
    let fresh = typed.is_none();
    let (f, check) = typed.unwrap_or((&empty.0, &empty.1));
    let all = s.visitors.doors.clone();
    let chosen = if fresh { all.clone() } else { f.all("doors") };
    // Escorts for the doors ticked (every visitor door at first): whom the store accepts.
    // A door name posted that visitors may not use is left out here (its field says so).
    let ticked: Vec<String> = chosen.iter().filter(|d| all.contains(d)).cloned().collect();
    let doors = if ticked.is_empty() {
        all.clone()
    } else {
        ticked
    };
    let escorts =
        s.db.read(move |c| visits::escorts(c, &doors, Utc::now()))
            .await?;
    let kind = f.get("jenis_identitas");
    let error = |name: &str| {
        html! { @if let Some(e) = check.error(name) { p.field-error id={(name) "-error"} role="alert" { (e) } } }
    };
    let invalid = |name: &str| check.error(name).map(|_| "true");
    Ok(html! {
        section.card #check-in aria-labelledby="check-in-h" {
            h2 #check-in-h { (t.s("Tamu datang: formulir kunjungan", "A visitor arrives: the visit form")) }
            @if let Some(e) = failed { div.alert.error role="alert" { p { (t.s("Kunjungan tidak dapat dicatat:", "The visit cannot be recorded:")) } p.detail { (e) } } }
            @if !check.ok() { div.alert.error role="alert" { (t.s("Periksa isian yang ditandai di bawah.", "Check the fields marked below.")) } }
            form method="post" action="/ui/visitors/check-in" novalidate {
                (csrf(&session.csrf))
                (input("nama", t.s("Nama", "Name"), f.get("nama"), Some(check), "text", true))
                (input("instansi", t.s("Instansi", "Agency"), f.get("instansi"), Some(check), "text", false))
                (input("alamat", t.s("Alamat", "Address"), f.get("alamat"), Some(check), "text", false))
                div.field {
                    label for="jenis_identitas" { (t.s("Jenis identitas", "Identity document")) " *" }
                    select #jenis_identitas name="jenis_identitas" aria-invalid=[invalid("jenis_identitas")] {
                        @for k in KINDS { option value=(k.as_str()) selected[kind == k.as_str()] { (id_kind_label(k, t)) } }
                    }
                    (error("jenis_identitas"))
                }
                (input("jenis_identitas_lain", t.s("Jenis identitas lainnya (bila Lainnya)", "Other identity document (if Other)"), f.get("jenis_identitas_lain"), Some(check), "text", false))
                (input("no_identitas", t.s("No. identitas (NIK untuk KTP)", "Identity no. (the NIK for a KTP)"), f.get("no_identitas"), Some(check), "text", true))
                (input("tujuan", t.s("Tujuan", "Purpose"), f.get("tujuan"), Some(check), "text", true))
                (input("host", t.s("Yang dituju", "Visiting"), f.get("host"), Some(check), "text", true))
                div.field {
                    label for="escort" { (t.s("Pendamping", "Escort")) " *" }
                    select #escort name="escort" aria-invalid=[invalid("escort")] {
                        option value="" { (t.s("— pilih pegawai berkartu —", "— choose a member of staff with a card —")) }
                        @for (id, name) in &escorts {
                            option value=(id) selected[f.get("escort") == id.to_string()] { (name) }
                        }
                    }
                    @if escorts.is_empty() { p.muted { (t.s("Tidak ada pegawai dengan kartu dan hak akses yang berlaku sekarang untuk pintu tamu.", "No member of staff has a card and a right valid now for the visitor doors.")) } }
                    (error("escort"))
                }
                fieldset.checks {
                    legend { (t.s("Pintu", "Doors")) " *" }
                    @for d in &all {
                        label { input type="checkbox" name="doors" value=(d) checked[chosen.contains(d)]; (d) }
                    }
                    (error("doors"))
                }
                div.field {
                    label for="fasilitas" { (t.s("Fasilitas yang dibawa (satu per baris: jenis; no. seri)", "Equipment brought in (one per line: kind; serial no.)")) }
                    textarea #fasilitas name="fasilitas" rows="3" aria-invalid=[invalid("fasilitas")] { (f.get("fasilitas")) }
                    (error("fasilitas"))
                }
                label {
                    input #id_deposited type="checkbox" name="id_deposited" value="1" checked[fresh || f.checked("id_deposited")];
                    (t.s("Identitas dititipkan di meja sampai kartu tamu kembali", "Identity document deposited at the desk until the visitor badge is back"))
                }
                (input("ttd_name", t.s("TTD: nama tamu diketik", "Signature: the visitor's name typed"), f.get("ttd_name"), Some(check), "text", true))
                label {
                    input #ttd_consent type="checkbox" name="ttd_consent" value="1" checked[f.checked("ttd_consent")]
                        aria-invalid=[invalid("ttd_consent")];
                    (t.s("Tamu setuju nama yang diketik berlaku sebagai tanda tangannya", "The visitor agrees that the typed name stands as their signature"))
                }
                (error("ttd_consent"))
                button type="submit" { (t.s("Catat kunjungan", "Record the visit")) }
            }
        }
    })
}

/// `jenis; no. seri` per line.
fn equipment(text: &str) -> Vec<Equipment> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(';') {
            Some((jenis, seri)) => Equipment {
                jenis: jenis.trim().to_owned(),
                no_seri: Some(seri.trim().to_owned()).filter(|s| !s.is_empty()),
            },
            None => Equipment {
                jenis: l.to_owned(),
                no_seri: None,
            },
        })
        .collect()
}

/// The form field a store message names, and what to say there.
fn store_field(message: &str, t: Tr) -> Option<(&'static str, String)> {
    const FIELDS: [(&str, &str, &str, &str); 11] = [
        ("escort_person_id", "escort", "Pendamping", "The escort"),
        (
            "jenis_identitas_lain",
            "jenis_identitas_lain",
            "Jenis identitas lainnya",
            "The other identity document",
        ),
        (
            "no_identitas",
            "no_identitas",
            "No. identitas",
            "The identity no.",
        ),
        ("nama", "nama", "Nama", "The name"),
        ("instansi", "instansi", "Instansi", "The agency"),
        ("alamat", "alamat", "Alamat", "The address"),
        ("tujuan", "tujuan", "Tujuan", "The purpose"),
        ("host", "host", "Yang dituju", "Whom the visitor sees"),
        ("doors", "doors", "Pintu", "The doors"),
        ("equipment", "fasilitas", "Fasilitas", "The equipment"),
        ("ttd", "ttd_name", "TTD", "The signature"),
    ];
    let (_, field, id, en) = FIELDS
        .into_iter()
        .find(|(p, _, _, _)| message.starts_with(p))?;
    let label = t.s(id, en);
    let id = t.0 == crate::report::Lang::Id;
    let text = if message.contains("is required") {
        match id {
            true => format!("{label} wajib diisi."),
            false => format!("{label} is required."),
        }
    } else if message.contains("at most") {
        match id {
            true => format!("{label} terlalu panjang atau terlalu banyak."),
            false => format!("{label}: too long or too many."),
        }
    } else if message.contains("control characters") {
        match id {
            true => format!("{label} tidak boleh berisi karakter kendali."),
            false => format!("{label} may not contain control characters."),
        }
    } else {
        match field {
            "escort" => t
                .s(
                    "Pendamping harus memegang kartu pegawai yang aktif dan hak akses yang \
                     berlaku sekarang untuk semua pintu kunjungan.",
                    "The escort must hold an active staff card and a right valid now for \
                     every door of the visit.",
                )
                .into(),
            "no_identitas" => t
                .s(
                    "NIK pada KTP harus 16 angka.",
                    "The NIK on a KTP is 16 digits.",
                )
                .into(),
            "doors" => t
                .s(
                    "Pintu itu tidak dibuka untuk tamu.",
                    "That door is not opened for visitors.",
                )
                .into(),
            _ => match id {
                true => format!("{label} tidak dapat diterima."),
                false => format!("{label} cannot be accepted."),
            },
        }
    };
    Some((field, text))
}

/// Reads the posted form into a check-in, with a message on each field at fault.
fn read(f: &Fields, check: &mut Check, t: Tr) -> Option<NewVisit> {
    let nama = check.required(f, "nama", t.s("Nama", "The name"));
    let kind = IdKind::parse(f.get("jenis_identitas"));
    if kind.is_none() {
        check.fail(
            "jenis_identitas",
            t.s(
                "Pilih jenis identitas.",
                "Choose the kind of identity document.",
            ),
        );
    }
    let no_identitas = check.required(f, "no_identitas", t.s("No. identitas", "The identity no."));
    if let Some(k) = kind
        && !no_identitas.is_empty()
        && visit::check_id_number(k, &no_identitas).is_err()
    {
        check.fail(
            "no_identitas",
            t.s(
                "NIK pada KTP harus 16 angka.",
                "The NIK on a KTP is 16 digits.",
            ),
        );
    }
    let lain = f.opt("jenis_identitas_lain");
    if kind == Some(IdKind::Other) && lain.is_none() {
        check.fail(
            "jenis_identitas_lain",
            t.s(
                "Sebutkan jenis identitasnya.",
                "Name the kind of identity document.",
            ),
        );
    }
    let tujuan = check.required(f, "tujuan", t.s("Tujuan", "The purpose"));
    let host = check.required(f, "host", t.s("Yang dituju", "Whom the visitor sees"));
    let escort = f.get("escort").parse::<i64>().ok();
    if escort.is_none() {
        check.fail("escort", t.s("Pilih pendamping.", "Choose the escort."));
    }
    let doors = f.all("doors");
    if doors.is_empty() {
        check.fail(
            "doors",
            t.s("Pilih sedikitnya satu pintu.", "Choose at least one door."),
        );
    }
    let equipment = equipment(f.get("fasilitas"));
    if equipment.len() > MAX_EQUIPMENT {
        let message = match t.0 {
            crate::report::Lang::Id => format!("Paling banyak {MAX_EQUIPMENT} barang."),
            crate::report::Lang::En => format!("At most {MAX_EQUIPMENT} items."),
        };
        check.fail("fasilitas", message);
    }
    let ttd = Signature::Typed {
        name: f.get("ttd_name").to_owned(),
        consent: f.checked("ttd_consent"),
    };
    match ttd.check() {
        Err(VisitError::Invalid {
            field: "ttd.consent",
            ..
        }) => check.fail(
            "ttd_consent",
            t.s(
                "Tamu harus menyetujui bahwa nama yang diketik berlaku sebagai tanda tangannya.",
                "The visitor must agree that the typed name stands as their signature.",
            ),
        ),
        Err(_) => check.fail(
            "ttd_name",
            t.s(
                "Ketik nama tamu sebagai tanda tangan (paling banyak 200 huruf).",
                "Type the visitor's name as the signature (at most 200 characters).",
            ),
        ),
        Ok(_) => {}
    }
    let (Some(kind), Some(escort), true) = (kind, escort, check.ok()) else {
        return None;
    };
    Some(NewVisit {
        nama,
        instansi: f.opt("instansi"),
        alamat: f.opt("alamat"),
        jenis_identitas: kind,
        jenis_identitas_lain: lain.filter(|_| kind == IdKind::Other),
        no_identitas,
        tujuan,
        host,
        escort_person_id: escort,
        doors: Some(doors),
        equipment,
        id_deposited: f.checked("id_deposited"),
        ttd,
    })
}

/// The desk page again with the form as typed and its messages (422).
async fn again(
    s: &AppState,
    session: &Session,
    f: &Fields,
    check: &Check,
    failed: Option<&str>,
) -> Result<Response, PageError> {
    let shown = Shown {
        form: Some((f, check)),
        form_failed: failed,
        ..Default::default()
    };
    let page = desk(s, session, shown).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

pub(super) async fn check_in(
    State(s): State<AppState>,
    posted: Posted<CheckInVisitors>,
) -> Result<Response, PageError> {
    let f = &posted.fields;
    let session = &posted.staff.session;
    let t = Tr::of(session);
    let mut check = Check::new(t);
    let Some(v) = read(f, &mut check, t) else {
        return again(&s, session, f, &check, None).await;
    };
    match check_in_visit(&s, posted.staff.actor(), v).await {
        Ok(view) => Ok(
            Redirect::to(&format!("/ui/visitors?done=checked_in#visit-{}", view.id))
                .into_response(),
        ),
        Err(ApiError::BadRequest(m)) => match store_field(&m, t) {
            Some((field, text)) => {
                check.fail(field, text);
                again(&s, session, f, &check, None).await
            }
            None => again(&s, session, f, &check, Some(&m)).await,
        },
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_messages_land_on_their_field() {
        let id = Tr::default();
        let (f, m) = store_field(
            "escort_person_id: Budi has no right valid now for door \"a\"",
            id,
        )
        .unwrap();
        assert_eq!(f, "escort");
        assert!(m.contains("Pendamping"), "{m}");
        let (f, m) = store_field("jenis_identitas_lain is only for jenis_identitas", id).unwrap();
        assert_eq!(f, "jenis_identitas_lain");
        assert!(m.contains("tidak dapat diterima"), "{m}");
        assert_eq!(
            store_field("nama is required", id).unwrap().1,
            "Nama wajib diisi."
        );
        assert_eq!(
            store_field("equipment.jenis is required", id).unwrap().0,
            "fasilitas"
        );
        assert_eq!(store_field("something else", id), None);
        let en = Tr(crate::report::Lang::En);
        assert_eq!(
            store_field("nama is required", en).unwrap().1,
            "The name is required."
        );
    }

    #[test]
    fn equipment_lines_split_at_the_first_semicolon() {
        let e = equipment("Laptop; 5CD123\n\n  Kabel LAN \nHDD;");
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].no_seri.as_deref(), Some("5CD123"));
        assert_eq!(e[1].jenis, "Kabel LAN");
        assert_eq!(e[2].no_seri, None);
    }

    #[test]
    fn a_short_nik_is_refused_on_its_field() {
        let f: Fields = [
            ("nama", "Andi"),
            ("jenis_identitas", "ktp"),
            ("no_identitas", "12345"),
            ("tujuan", "Servis"),
            ("host", "Budi"),
            ("escort", "1"),
            ("doors", "ruang-server"),
            ("ttd_name", "Andi"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let mut c = Check::default();
        assert!(read(&f, &mut c, Tr::default()).is_none());
        assert_eq!(
            c.error("no_identitas"),
            Some("NIK pada KTP harus 16 angka.")
        );
        assert!(c.error("ttd_consent").is_some());
        assert_eq!(c.error("nama"), None);
    }
}
