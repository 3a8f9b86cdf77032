//! One request: its facts, its history in the SOP's words, and the form of the step it
//! waits for when that step is the caller's. A refused action comes back to this page with
//! the reason next to the form it came from.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;

use super::status_label;
use crate::api::auth::{ActOnStep, Authenticated, Permission, ReadDevices, WithdrawRequest};
use crate::api::workflow::{in_workflow, issue_card, visible_request};
use crate::api::{ApiError, AppState};
use crate::model::{Actor, Role, Technology};
use crate::pages::PageError;
use crate::pages::form::{Fields, csrf};
use crate::pages::layout::{self, Tr, may, when};
use crate::pages::session::{Posted, Staff};
use crate::store::requests::{self, IssueCard, RequestView};
use crate::store::{Changed, waiting};
use crate::workflow::{CaseStatus, StepKind};

#[derive(Deserialize)]
pub(super) struct Done {
    done: Option<String>,
}

/// Which form of the page a message belongs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Step,
    Withdraw,
}

/// A refused action, shown next to its form.
struct Refused {
    form: Form,
    message: String,
}

/// Whether the request waits for this actor now (their role, and their account where the
/// step names one), exactly as their inbox says: only then are its buttons shown.
async fn waits_for(
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

pub(super) async fn show(
    State(s): State<AppState>,
    staff: Staff<Authenticated>,
    Path(id): Path<i64>,
    Query(q): Query<Done>,
) -> Result<Markup, PageError> {
    render(&s, &staff.session, id, q.done.as_deref(), None).await
}

/// The whole page; `refused` puts a message under the form it came from.
async fn render(
    s: &AppState,
    session: &crate::store::sessions::Session,
    id: i64,
    done: Option<&str>,
    refused: Option<Refused>,
) -> Result<Markup, PageError> {
    let actor = session.actor.clone();
    let t = Tr::of(session);
    let r = visible_request(s, actor.clone(), id).await?;
    let tz = s.timezone;
    let mine = match &r.waiting {
        Some(w) if waits_for(s, "request", id, &actor).await? => Some(w.step.kind),
        _ => None,
    };
    // The store decides for good (an applicant withdraws only their own, and only while it
    // waits for approval); this only hides a button that could not work.
    let may_withdraw = WithdrawRequest::ROLES.contains(&actor.role)
        && r.status == CaseStatus::Open
        && r.waiting
            .as_ref()
            .is_some_and(|w| w.step.kind == StepKind::Approve);
    let error_for = |form: Form| {
        refused
            .as_ref()
            .filter(|e| e.form == form)
            .map(|e| e.message.as_str())
    };
    let body = html! {
        (layout::done(done, session))
        (facts(&r, tz, t))
        @if let (Some(kind), Some(w)) = (mine, &r.waiting) {
            section.card aria-labelledby="act-h" {
                h2 #act-h { (t.s("Tindakan Anda: ", "Your step: ")) (w.step.label) }
                @if let Some(e) = error_for(Form::Step) { p.alert.error #step-error role="alert" { (e) } }
                (step_form(s, &r, kind, &w.step.name, &session.csrf, may::<ReadDevices>(actor.role), t))
            }
        }
        @if may_withdraw {
            details.card open[error_for(Form::Withdraw).is_some()] {
                summary { (t.s("Batalkan permintaan", "Withdraw the request")) }
                form method="post" action={"/ui/requests/" (r.id) "/withdraw"} {
                    (csrf(&session.csrf))
                    label for="reason" { (t.s("Alasan pembatalan", "Reason for withdrawing")) " *" }
                    input #reason name="reason" required
                        aria-invalid=[error_for(Form::Withdraw).map(|_| "true")];
                    @if let Some(e) = error_for(Form::Withdraw) { p.field-error role="alert" { (e) } }
                    button.danger type="submit" { (t.s("Batalkan", "Withdraw")) }
                }
            }
        }
        h2 { (t.s("Riwayat", "History")) }
        div.table-wrap { table #history {
            thead { tr { th { (t.s("Waktu", "Time")) } th { (t.s("Langkah", "Step")) } th { (t.s("Hasil", "Outcome")) }
                th { (t.s("Oleh", "By")) } th { (t.s("Catatan", "Note")) } } }
            tbody { @for h in &r.history { tr data-outcome=(h.outcome) {
                td { (when(h.at, tz)) }
                td { (step_label(&r, &h.step, t)) }
                td { (t.outcome(&h.outcome)) }
                td { (h.actor) " (" (h.role.parse::<Role>().map(|r| t.role(r)).unwrap_or("?")) ")" }
                td { (h.note.as_deref().unwrap_or("")) }
            } } }
        } }
        p { a href={"/ui/reports/forms/access-request/" (r.id)} { (t.s("Unduh formulir permintaan (PDF)", "Download the request form (PDF)")) } }
    };
    Ok(layout::page(
        &format!(
            "{} {}",
            t.s("Permintaan akses no.", "Access request no."),
            r.id
        ),
        session,
        body,
    ))
}

fn facts(r: &RequestView, tz: chrono_tz::Tz, t: Tr) -> Markup {
    html! {
        dl.facts {
            dt { "Status" } dd #status { (status_label(r.status, t)) }
            @if let Some(w) = &r.waiting {
                dt { (t.s("Menunggu", "Waiting for")) } dd #waiting { (w.step.label) " — " (t.role(w.step.role))
                    (t.s(", batas ", ", due ")) (when(w.due_at, tz))
                    @if w.overdue { " " span.overdue { (t.s("terlambat", "overdue")) } } }
            }
            dt { (t.s("Pemohon", "Applicant")) } dd { (r.applicant_name) @if let Some(n) = &r.applicant_nip { " (NIP " (n) ")" } }
            @if let Some(u) = &r.unit_kerja { dt { (t.s("Unit kerja", "Work unit")) } dd { (u) } }
            @if let Some(j) = &r.jabatan { dt { (t.s("Jabatan", "Position")) } dd { (j) } }
            dt { (t.s("Keperluan", "Purpose")) } dd { (r.purpose) }
            @if let Some(n) = &r.nomor_surat { dt { (t.s("Nomor surat", "Letter number")) } dd { (n) } }
            dt { (t.s("Pintu", "Doors")) } dd { (r.doors.join(", ")) }
            dt { (t.s("Masa berlaku", "Valid")) } dd { (when(r.valid_from, tz)) (t.s(" s.d. ", " to ")) (when(r.valid_until, tz)) }
            @if let Some(a) = &r.atasan { dt { (t.role(Role::Atasan)) } dd { (a) } }
            @if let Some(p) = &r.penanggung_jawab { dt { (t.role(Role::PenanggungJawab)) } dd { (p) } }
        }
    }
}

/// The form of the step the request waits for.
fn step_form(
    s: &AppState,
    r: &RequestView,
    kind: StepKind,
    step: &str,
    token: &str,
    sees_readers: bool,
    t: Tr,
) -> Markup {
    let desk = if sees_readers {
        s.enrollment.list()
    } else {
        vec![]
    };
    html! {
        @match kind {
            StepKind::Approve => form method="post" action={"/ui/requests/" (r.id) "/decide"} {
                (csrf(token))
                input type="hidden" name="step" value=(step);
                label for="note" { (t.s("Catatan (wajib bila menolak)", "Note (required to reject)")) }
                textarea #note name="note" rows="2" {}
                div.buttons {
                    button name="decision" value="approve" { (t.s("Setujui", "Approve")) }
                    button.reject name="decision" value="reject" { (t.s("Tolak", "Reject")) }
                }
            },
            StepKind::Issue => form method="post" action={"/ui/requests/" (r.id) "/issue"} data-wait-card {
                (csrf(token))
                @if desk.is_empty() {
                    p.muted { (t.s("Tidak ada pembaca meja; ketik UID kartu.", "No desk reader; type the card's UID.")) }
                } @else {
                    label for="enroll_reader" { (t.s("Pembaca meja", "Desk reader")) }
                    select #enroll_reader name="enroll_reader" {
                        @for d in &desk { option value=(d.name) { (d.name) @if !d.online { (t.s(" (tidak terhubung)", " (offline)")) } } }
                        option value="" { (t.s("— ketik UID —", "— type the UID —")) }
                    }
                }
                label for="uid" { (t.s("atau UID kartu (heksadesimal)", "or the card's UID (hexadecimal)")) }
                input #uid name="uid" autocomplete="off";
                label for="badge_number" { (t.s("Nomor kartu tercetak", "Number printed on the card")) }
                input #badge_number name="badge_number";
                p.tap-now role="status" hidden { (t.s("Tempelkan kartu pada pembaca meja sekarang…", "Tap the card on the desk reader now…")) }
                button type="submit" { (t.s("Terbitkan kartu", "Issue the card")) }
            },
            StepKind::Inform => form method="post" action={"/ui/requests/" (r.id) "/inform"} {
                (csrf(token))
                label for="note" { (t.s("Catatan", "Note")) }
                textarea #note name="note" rows="2" {}
                button type="submit" { (t.s("Pemohon sudah diberi tahu", "The applicant has been told")) }
            },
            _ => p.muted { (t.s("Langkah ini dilakukan lewat API atau baris perintah.", "This step is done through the API or the command line.")) },
        }
    }
}

/// The SOP's words for a step of this request's chain ("submit" is the form itself).
fn step_label<'a>(r: &'a RequestView, step: &'a str, t: Tr) -> &'a str {
    match step {
        "submit" => t.s("Pengajuan formulir", "Form submitted"),
        _ => r
            .steps
            .iter()
            .find(|s| s.name == step)
            .map_or(step, |s| s.label.as_str()),
    }
}

/// After an action: on to the page with its message, or back to the page with the reason
/// it was refused under its form (a refusal the page can explain; others are error pages).
async fn after<P>(
    s: &AppState,
    posted: &Posted<P>,
    id: i64,
    form: Form,
    outcome: Result<&'static str, ApiError>,
) -> Result<Response, PageError> {
    let t = Tr::of(&posted.staff.session);
    let (status, message) = match outcome {
        Ok(done) => {
            return Ok(Redirect::to(&format!("/ui/requests/{id}?done={done}")).into_response());
        }
        Err(ApiError::BadRequest(e)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{} {e}", t.s("Isian tidak dapat diterima:", "Not accepted:")),
        ),
        Err(ApiError::Conflict(e)) => (
            StatusCode::CONFLICT,
            format!("{} {e}", t.s("Sudah berubah sejak halaman dibuka:", "It changed since the page was opened:")),
        ),
        Err(ApiError::Timeout(_)) => (
            StatusCode::REQUEST_TIMEOUT,
            t.s(
                "Tidak ada kartu yang ditempelkan tepat waktu. Tekan tombol lagi lalu tempelkan kartu.",
                "No card was tapped in time. Press the button again, then tap the card.",
            )
            .into(),
        ),
        Err(ApiError::Unavailable(e)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{} {e}", t.s("Pembaca meja tidak tersedia:", "The desk reader is not available:")),
        ),
        Err(e) => return Err(e.into()),
    };
    refuse(s, posted, id, form, status, message).await
}

/// Back to the page with `message` under `form`, and nothing changed.
async fn refuse<P>(
    s: &AppState,
    posted: &Posted<P>,
    id: i64,
    form: Form,
    status: StatusCode,
    message: String,
) -> Result<Response, PageError> {
    let refused = Refused { form, message };
    let page = render(s, &posted.staff.session, id, None, Some(refused)).await?;
    Ok((status, page).into_response())
}

pub(super) async fn decide(
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
    let note = f.opt("note");
    if !approve && note.is_none() {
        let t = Tr::of(&posted.staff.session);
        let message = t
            .s(
                "Alasan penolakan wajib diisi.",
                "A reason is required to reject.",
            )
            .to_owned();
        return refuse(
            &s,
            &posted,
            id,
            Form::Step,
            StatusCode::UNPROCESSABLE_ENTITY,
            message,
        )
        .await;
    }
    let step = f.get("step").to_owned();
    let actor = posted.staff.actor();
    let outcome = in_workflow(&s, move |tx, ctx| {
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
    .await
    .map(|_| if approve { "approved" } else { "rejected" });
    after(&s, &posted, id, Form::Step, outcome).await
}

pub(super) async fn issue(
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
        technology: uid_technology(f),
        uid,
        enroll_timeout_seconds: None,
        badge_number: f.opt("badge_number"),
        note: f.opt("note"),
    };
    let outcome = issue_card(&s, posted.staff.actor(), id, card)
        .await
        .map(|_| "issued");
    after(&s, &posted, id, Form::Step, outcome).await
}

fn uid_technology(f: &Fields) -> Option<Technology> {
    f.opt("uid")?;
    f.opt("technology").and_then(|t| t.parse().ok())
}

pub(super) async fn inform(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted<ActOnStep>,
) -> Result<Response, PageError> {
    let note = posted.fields.opt("note");
    let actor = posted.staff.actor();
    let outcome = in_workflow(&s, move |tx, ctx| {
        Ok((
            requests::inform(tx, ctx.tz, id, note.as_deref(), &actor, Utc::now())?,
            Changed::none(),
        ))
    })
    .await
    .map(|_| "informed");
    after(&s, &posted, id, Form::Step, outcome).await
}

pub(super) async fn withdraw(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted<WithdrawRequest>,
) -> Result<Response, PageError> {
    let Some(reason) = posted.fields.opt("reason") else {
        let t = Tr::of(&posted.staff.session);
        let message = t
            .s(
                "Alasan pembatalan wajib diisi.",
                "A reason is required to withdraw.",
            )
            .to_owned();
        return refuse(
            &s,
            &posted,
            id,
            Form::Withdraw,
            StatusCode::UNPROCESSABLE_ENTITY,
            message,
        )
        .await;
    };
    let actor = posted.staff.actor();
    let outcome = in_workflow(&s, move |tx, _| {
        Ok((
            requests::withdraw(tx, id, Some(&reason), &actor, Utc::now())?,
            Changed::none(),
        ))
    })
    .await
    .map(|_| "withdrawn");
    after(&s, &posted, id, Form::Withdraw, outcome).await
}
