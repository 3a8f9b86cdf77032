//! The request form (Formulir Permintaan Akses Ruang Server), with a message next to each
//! field at fault.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};
use maud::{Markup, html};

use crate::api::auth::SubmitRequest;
use crate::api::workflow::in_workflow;
use crate::api::{ApiError, AppState};
use crate::model::Role;
use crate::pages::PageError;
use crate::pages::form::{Check, Fields, csrf, input, start_of};
use crate::pages::layout::{self, Tr};
use crate::pages::session::{Posted, Staff};
use crate::store::requests::{self, NewRequest};
use crate::store::{Changed, accounts};
use crate::workflow::Kind;

/// What the form offers: the doors, and who may be named as superior and penanggung jawab.
struct Choices {
    doors: Vec<String>,
    atasan: Vec<accounts::Account>,
    pj: Vec<accounts::Account>,
}

async fn choices(s: &AppState) -> Result<Choices, PageError> {
    let (atasan, pj) =
        s.db.read(|c| {
            let active = |role| -> crate::store::Result<Vec<accounts::Account>> {
                Ok(accounts::list(c, Some(role))?
                    .into_iter()
                    .filter(|a| a.active)
                    .collect())
            };
            Ok((active(Role::Atasan)?, active(Role::PenanggungJawab)?))
        })
        .await?;
    Ok(Choices {
        doors: s.devices().doors.iter().map(|d| d.name.clone()).collect(),
        atasan,
        pj,
    })
}

pub(super) async fn new_form(
    State(s): State<AppState>,
    staff: Staff<SubmitRequest>,
) -> Result<Markup, PageError> {
    let c = choices(&s).await?;
    Ok(request_form(
        &staff,
        &c,
        &Fields::default(),
        &Check::default(),
        None,
    ))
}

fn request_form(
    staff: &Staff<SubmitRequest>,
    c: &Choices,
    f: &Fields,
    check: &Check,
    failed: Option<&str>,
) -> Markup {
    let t = Tr::of(&staff.session);
    let chosen = f.all("doors");
    let select = |name: &'static str, label: &str, options: &[accounts::Account]| {
        let error = check.error(name);
        html! {
            div.field {
                label for=(name) { (label) " *" }
                select id=(name) name=(name) aria-invalid=[error.map(|_| "true")] {
                    option value="" { (t.s("— pilih —", "— choose —")) }
                    @for a in options {
                        option value=(a.username) selected[f.get(name) == a.username] {
                            (a.name) " (" (a.username) ")"
                        }
                    }
                }
                @if let Some(e) = error { p.field-error role="alert" { (e) } }
            }
        }
    };
    let body = html! {
        @if let Some(e) = failed { div.alert.error role="alert" { p { (t.s("Permintaan tidak dapat disimpan:", "The request cannot be saved:")) } p.detail { (e) } } }
        @if !check.ok() { div.alert.error role="alert" { (t.s("Periksa isian yang ditandai di bawah.", "Check the fields marked below.")) } }
        form.card method="post" action="/ui/requests/new" novalidate {
            (csrf(&staff.session.csrf))
            (input("applicant_name", t.s("Nama pemohon", "Applicant's name"), f.get("applicant_name"), Some(check), "text", true))
            (input("applicant_nip", t.s("NIP / nomor identitas", "NIP / identity number"), f.get("applicant_nip"), Some(check), "text", false))
            (input("unit_kerja", t.s("Unit kerja", "Work unit"), f.get("unit_kerja"), Some(check), "text", false))
            (input("jabatan", t.s("Jabatan", "Position"), f.get("jabatan"), Some(check), "text", false))
            (input("instansi", t.s("Instansi (pihak ketiga)", "Agency (third party)"), f.get("instansi"), Some(check), "text", false))
            (input("email", "Email", f.get("email"), Some(check), "email", false))
            (input("purpose", t.s("Keperluan", "Purpose"), f.get("purpose"), Some(check), "text", true))
            (input("nomor_surat", t.s("Nomor surat", "Letter number"), f.get("nomor_surat"), Some(check), "text", false))
            fieldset.checks {
                legend { (t.s("Pintu", "Doors")) " *" }
                @for d in &c.doors {
                    label { input type="checkbox" name="doors" value=(d) checked[chosen.contains(d)]; (d) }
                }
                @if let Some(e) = check.error("doors") { p.field-error role="alert" { (e) } }
            }
            (input("valid_from", t.s("Berlaku mulai", "Valid from"), f.get("valid_from"), Some(check), "date", true))
            (input("valid_until", t.s("Berlaku sampai (tanggal terakhir)", "Valid until (last day)"), f.get("valid_until"), Some(check), "date", true))
            (select("atasan", t.role(Role::Atasan), &c.atasan))
            (select("penanggung_jawab", t.role(Role::PenanggungJawab), &c.pj))
            button type="submit" { (t.s("Ajukan permintaan", "Submit the request")) }
        }
    };
    layout::page(
        t.s(
            "Formulir permintaan akses ruang server",
            "Server room access request form",
        ),
        &staff.session,
        body,
    )
}

pub(super) async fn create(
    State(s): State<AppState>,
    posted: Posted<SubmitRequest>,
) -> Result<Response, PageError> {
    let f = &posted.fields;
    let t = Tr::of(&posted.staff.session);
    let mut check = Check::new(t);
    let applicant_name = check.required(
        f,
        "applicant_name",
        t.s("Nama pemohon", "The applicant's name"),
    );
    let purpose = check.required(f, "purpose", t.s("Keperluan", "The purpose"));
    let from = check.date(f, "valid_from", t.s("Tanggal mulai", "The start date"));
    let until = check.date(f, "valid_until", t.s("Tanggal akhir", "The last day"));
    let atasan = check.required(f, "atasan", t.role(Role::Atasan));
    let pj = check.required(f, "penanggung_jawab", t.role(Role::PenanggungJawab));
    let doors = f.all("doors");
    if doors.is_empty() {
        check.fail(
            "doors",
            t.s("Pilih sedikitnya satu pintu.", "Choose at least one door."),
        );
    }
    if let (Some(a), Some(b)) = (from, until)
        && b < a
    {
        check.fail(
            "valid_until",
            t.s(
                "Tanggal akhir tidak boleh sebelum tanggal mulai.",
                "The last day cannot be before the start date.",
            ),
        );
    }
    if let Some(e) = f.opt("email")
        && accounts::email(Some(&e)).is_err()
    {
        check.fail(
            "email",
            t.s("Alamat email tidak valid.", "Not a valid email address."),
        );
    }
    let c = choices(&s).await?;
    let (Some(from), Some(until), true) = (from, until, check.ok()) else {
        let page = request_form(&posted.staff, &c, f, &check, None);
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let tz = s.timezone;
    let r = NewRequest {
        kind: Some(Kind::ServerRoom),
        applicant_name,
        applicant_nip: f.opt("applicant_nip"),
        unit_kerja: f.opt("unit_kerja"),
        jabatan: f.opt("jabatan"),
        instansi: f.opt("instansi"),
        email: f.opt("email"),
        person_id: None,
        purpose,
        nomor_surat: f.opt("nomor_surat"),
        doors,
        hak_akses: None,
        valid_from: start_of(from, tz),
        // The last day is included: the right ends when the next day begins.
        valid_until: start_of(until + Duration::days(1), tz),
        schedule: None,
        atasan: Some(atasan),
        penanggung_jawab: Some(pj),
    };
    let actor = posted.staff.actor();
    let made = in_workflow(&s, move |tx, ctx| {
        Ok((
            requests::create(tx, ctx, &r, &actor, Utc::now())?,
            Changed::none(),
        ))
    })
    .await;
    match made {
        Ok(view) => {
            Ok(Redirect::to(&format!("/ui/requests/{}?done=created", view.id)).into_response())
        }
        Err(ApiError::BadRequest(e)) => {
            let page = request_form(&posted.staff, &c, f, &check, Some(&e));
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
