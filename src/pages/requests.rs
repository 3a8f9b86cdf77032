//! Permintaan akses: the list, the form, one request with its history, and the buttons of
//! the step it waits for, shown only to whoever that step belongs to.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Duration, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use super::PageError;
use super::form::{Check, Fields, csrf, input, start_of};
use super::layout::{self, may, outcome_label, role_label, when};
use super::session::{Posted, Staff};
use crate::api::auth::{ActOnStep, Authenticated, ReadDevices, SubmitRequest};
use crate::api::workflow::{in_workflow, involving, issue_card, visible_request};
use crate::api::{ApiError, AppState};
use crate::model::{Actor, Role, Technology};
use crate::store::requests::{self, Filter, IssueCard, NewRequest, RequestView};
use crate::store::{Changed, accounts, waiting};
use crate::workflow::{CaseStatus, Kind, StepKind};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/requests", get(list))
        .route("/requests/new", get(new_form).post(create))
        .route("/requests/{id}", get(show))
        .route("/requests/{id}/decide", post(decide))
        .route("/requests/{id}/issue", post(issue))
        .route("/requests/{id}/inform", post(inform))
}

pub fn status_label(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::Open => "Dalam proses",
        CaseStatus::Rejected => "Ditolak",
        CaseStatus::Completed => "Selesai",
        CaseStatus::Withdrawn => "Dibatalkan",
    }
}

async fn list(State(s): State<AppState>, staff: Staff<Authenticated>) -> Result<Markup, PageError> {
    let actor = staff.actor();
    let involving = involving(&actor);
    let rows = if involving == Some(None) || actor.role == Role::Helpdesk {
        vec![]
    } else {
        let f = Filter {
            status: None,
            kind: None,
            involving: involving.flatten(),
            limit: 200,
            after_id: None,
        };
        s.db.read(move |c| requests::list(c, &f, Utc::now()))
            .await?
    };
    let tz = s.timezone;
    let body = html! {
        @if may::<SubmitRequest>(actor.role) {
            p { a href="/ui/requests/new" { "Isi formulir permintaan akses baru" } }
        }
        @if rows.is_empty() { p.muted { "Belum ada permintaan." } }
        @else {
            div.table-wrap { table {
                thead { tr { th { "No." } th { "Pemohon" } th { "Keperluan" } th { "Status" } th { "Menunggu" } th { "Diajukan" } } }
                tbody { @for r in rows.iter().rev() { tr {
                    td { a href={"/ui/requests/" (r.id)} { (r.id) } }
                    td { (r.applicant_name) }
                    td { (r.purpose) }
                    td { (status_label(r.status)) }
                    td { @if let Some(w) = &r.waiting {
                        (w.step.label) " (" (role_label(w.step.role)) ")"
                        @if w.overdue { " " span.overdue { "terlambat" } }
                    } }
                    td { (when(r.created_at, tz)) }
                } } }
            } }
        }
    };
    Ok(layout::page("Permintaan akses", &staff.session, body))
}

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

async fn new_form(
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
    let chosen = f.all("doors");
    let select = |name: &'static str, label: &str, options: &[accounts::Account]| {
        let error = check.error(name);
        html! {
            div.field {
                label for=(name) { (label) " *" }
                select id=(name) name=(name) aria-invalid=[error.map(|_| "true")] {
                    option value="" { "— pilih —" }
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
        @if let Some(e) = failed { div.alert.error role="alert" { p { "Permintaan tidak dapat disimpan:" } p.detail { (e) } } }
        @if !check.ok() { div.alert.error role="alert" { "Periksa isian yang ditandai di bawah." } }
        form.card method="post" action="/ui/requests/new" novalidate {
            (csrf(&staff.session.csrf))
            (input("applicant_name", "Nama pemohon", f.get("applicant_name"), Some(check), "text", true))
            (input("applicant_nip", "NIP / nomor identitas", f.get("applicant_nip"), Some(check), "text", false))
            (input("unit_kerja", "Unit kerja", f.get("unit_kerja"), Some(check), "text", false))
            (input("jabatan", "Jabatan", f.get("jabatan"), Some(check), "text", false))
            (input("instansi", "Instansi (pihak ketiga)", f.get("instansi"), Some(check), "text", false))
            (input("email", "Email", f.get("email"), Some(check), "email", false))
            (input("purpose", "Keperluan", f.get("purpose"), Some(check), "text", true))
            (input("nomor_surat", "Nomor surat", f.get("nomor_surat"), Some(check), "text", false))
            fieldset.checks {
                legend { "Pintu *" }
                @for d in &c.doors {
                    label { input type="checkbox" name="doors" value=(d) checked[chosen.contains(d)]; (d) }
                }
                @if let Some(e) = check.error("doors") { p.field-error role="alert" { (e) } }
            }
            (input("valid_from", "Berlaku mulai", f.get("valid_from"), Some(check), "date", true))
            (input("valid_until", "Berlaku sampai (tanggal terakhir)", f.get("valid_until"), Some(check), "date", true))
            (select("atasan", "Atasan langsung", &c.atasan))
            (select("penanggung_jawab", "Penanggung jawab", &c.pj))
            button type="submit" { "Ajukan permintaan" }
        }
    };
    layout::page(
        "Formulir permintaan akses ruang server",
        &staff.session,
        body,
    )
}

async fn create(
    State(s): State<AppState>,
    posted: Posted<SubmitRequest>,
) -> Result<Response, PageError> {
    let f = &posted.fields;
    let mut check = Check::default();
    let applicant_name = check.required(f, "applicant_name", "Nama pemohon");
    let purpose = check.required(f, "purpose", "Keperluan");
    let from = check.date(f, "valid_from", "Tanggal mulai");
    let until = check.date(f, "valid_until", "Tanggal akhir");
    let atasan = check.required(f, "atasan", "Atasan langsung");
    let pj = check.required(f, "penanggung_jawab", "Penanggung jawab");
    let doors = f.all("doors");
    if doors.is_empty() {
        check.fail("doors", "Pilih sedikitnya satu pintu.");
    }
    if let (Some(a), Some(b)) = (from, until)
        && b < a
    {
        check.fail(
            "valid_until",
            "Tanggal akhir tidak boleh sebelum tanggal mulai.",
        );
    }
    if let Some(e) = f.opt("email")
        && accounts::email(Some(&e)).is_err()
    {
        check.fail("email", "Alamat email tidak valid.");
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

#[derive(Deserialize)]
struct Done {
    done: Option<String>,
}

/// Whether the request waits for this actor now (their role, and their account where the
/// step names one), exactly as their inbox says: only then are its buttons shown.
pub async fn waits_for(
    s: &AppState,
    case: &'static str,
    id: i64,
    actor: &Actor,
) -> Result<bool, PageError> {
    let actor = actor.clone();
    Ok(s.db
        .read(move |c| {
            Ok(waiting::all(c, Utc::now())?
                .iter()
                .any(|w| w.case == case && w.id == id && w.is_for(&actor)))
        })
        .await?)
}

async fn show(
    State(s): State<AppState>,
    staff: Staff<Authenticated>,
    Path(id): Path<i64>,
    Query(q): Query<Done>,
) -> Result<Markup, PageError> {
    let actor = staff.actor();
    let r = visible_request(&s, actor.clone(), id).await?;
    let tz = s.timezone;
    let desk = if may::<ReadDevices>(actor.role) {
        s.enrollment.list()
    } else {
        vec![]
    };
    let mine = match &r.waiting {
        Some(w) if waits_for(&s, "request", id, &actor).await? => Some(w.step.kind),
        _ => None,
    };
    let body = html! {
        (layout::done(q.done.as_deref()))
        dl.facts {
            dt { "Status" } dd #status { (status_label(r.status)) }
            @if let Some(w) = &r.waiting {
                dt { "Menunggu" } dd #waiting { (w.step.label) " — " (role_label(w.step.role))
                    ", batas " (when(w.due_at, tz)) @if w.overdue { " " span.overdue { "terlambat" } } }
            }
            dt { "Pemohon" } dd { (r.applicant_name) @if let Some(n) = &r.applicant_nip { " (NIP " (n) ")" } }
            @if let Some(u) = &r.unit_kerja { dt { "Unit kerja" } dd { (u) } }
            @if let Some(j) = &r.jabatan { dt { "Jabatan" } dd { (j) } }
            dt { "Keperluan" } dd { (r.purpose) }
            @if let Some(n) = &r.nomor_surat { dt { "Nomor surat" } dd { (n) } }
            dt { "Pintu" } dd { (r.doors.join(", ")) }
            dt { "Masa berlaku" } dd { (when(r.valid_from, tz)) " s.d. " (when(r.valid_until, tz)) }
            @if let Some(a) = &r.atasan { dt { "Atasan" } dd { (a) } }
            @if let Some(p) = &r.penanggung_jawab { dt { "Penanggung jawab" } dd { (p) } }
        }
        @if let (Some(kind), Some(w)) = (mine, &r.waiting) {
            section.card aria-labelledby="act-h" {
                h2 #act-h { "Tindakan Anda: " (w.step.label) }
                @match kind {
                    StepKind::Approve => form method="post" action={"/ui/requests/" (r.id) "/decide"} {
                        (csrf(&staff.session.csrf))
                        input type="hidden" name="step" value=(w.step.name);
                        label for="note" { "Catatan (wajib bila menolak)" }
                        textarea #note name="note" rows="2" {}
                        button name="decision" value="approve" { "Setujui" }
                        button.reject name="decision" value="reject" { "Tolak" }
                    },
                    StepKind::Issue => form method="post" action={"/ui/requests/" (r.id) "/issue"} data-wait-card {
                        (csrf(&staff.session.csrf))
                        @if desk.is_empty() {
                            p.muted { "Tidak ada pembaca meja; ketik UID kartu." }
                        } @else {
                            label for="enroll_reader" { "Pembaca meja" }
                            select #enroll_reader name="enroll_reader" {
                                @for d in &desk { option value=(d.name) { (d.name) @if !d.online { " (tidak terhubung)" } } }
                                option value="" { "— ketik UID —" }
                            }
                        }
                        label for="uid" { "atau UID kartu (heksadesimal)" }
                        input #uid name="uid" autocomplete="off";
                        label for="badge_number" { "Nomor kartu tercetak" }
                        input #badge_number name="badge_number";
                        p.tap-now role="status" hidden { "Tempelkan kartu pada pembaca meja sekarang…" }
                        button type="submit" { "Terbitkan kartu" }
                    },
                    StepKind::Inform => form method="post" action={"/ui/requests/" (r.id) "/inform"} {
                        (csrf(&staff.session.csrf))
                        label for="note" { "Catatan" }
                        textarea #note name="note" rows="2" {}
                        button type="submit" { "Pemohon sudah diberi tahu" }
                    },
                    _ => p.muted { "Langkah ini dilakukan lewat API atau baris perintah." },
                }
            }
        }
        h2 { "Riwayat" }
        div.table-wrap { table #history {
            thead { tr { th { "Waktu" } th { "Langkah" } th { "Hasil" } th { "Oleh" } th { "Catatan" } } }
            tbody { @for h in &r.history { tr data-outcome=(h.outcome) {
                td { (when(h.at, tz)) }
                td { (step_label(&r, &h.step)) }
                td { (outcome_label(&h.outcome)) }
                td { (h.actor) " (" (h.role.parse::<Role>().map(role_label).unwrap_or("?")) ")" }
                td { (h.note.as_deref().unwrap_or("")) }
            } } }
        } }
        p { a href={"/ui/reports/forms/access-request/" (r.id)} { "Unduh formulir permintaan (PDF)" } }
    };
    Ok(layout::page(
        &format!("Permintaan akses no. {}", r.id),
        &staff.session,
        body,
    ))
}

/// The SOP's words for a step of this request's chain ("submit" is the form itself).
fn step_label<'a>(r: &'a RequestView, step: &'a str) -> &'a str {
    match step {
        "submit" => "Pengajuan formulir",
        _ => r
            .steps
            .iter()
            .find(|s| s.name == step)
            .map_or(step, |s| s.label.as_str()),
    }
}

async fn decide(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted<ActOnStep>,
) -> Result<Response, PageError> {
    let f = &posted.fields;
    let approve = match f.get("decision") {
        "approve" => true,
        "reject" => false,
        _ => return Err(ApiError::BadRequest("decision must be approve or reject".into()).into()),
    };
    let step = f.get("step").to_owned();
    let note = f.opt("note");
    let actor = posted.staff.actor();
    in_workflow(&s, move |tx, ctx| {
        let v = requests::decide(
            tx,
            ctx.tz,
            id,
            &step,
            approve,
            note.as_deref(),
            &actor,
            Utc::now(),
        )?;
        Ok((v, Changed::none()))
    })
    .await?;
    let done = if approve { "approved" } else { "rejected" };
    Ok(Redirect::to(&format!("/ui/requests/{id}?done={done}")).into_response())
}

async fn issue(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted<ActOnStep>,
) -> Result<Response, PageError> {
    let f = &posted.fields;
    let uid = f.opt("uid");
    let card = IssueCard {
        // A typed UID wins over the desk reader preselected in the form.
        enroll_reader: if uid.is_some() {
            None
        } else {
            f.opt("enroll_reader")
        },
        uid,
        enroll_timeout_seconds: None,
        technology: uid_technology(f),
        badge_number: f.opt("badge_number"),
        note: f.opt("note"),
    };
    issue_card(&s, posted.staff.actor(), id, card).await?;
    Ok(Redirect::to(&format!("/ui/requests/{id}?done=issued")).into_response())
}

fn uid_technology(f: &Fields) -> Option<Technology> {
    f.opt("uid")?;
    f.opt("technology").and_then(|t| t.parse().ok())
}

async fn inform(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted<ActOnStep>,
) -> Result<Response, PageError> {
    let note = posted.fields.opt("note");
    let actor = posted.staff.actor();
    in_workflow(&s, move |tx, ctx| {
        Ok((
            requests::inform(tx, ctx.tz, id, note.as_deref(), &actor, Utc::now())?,
            Changed::none(),
        ))
    })
    .await?;
    Ok(Redirect::to(&format!("/ui/requests/{id}?done=informed")).into_response())
}
