//! Meja Tamu (procedure 4): today's visits and those not checked out yet, in the columns of
//! the facility register (seed 004); the check-in form; the head's decision, shown only to
//! `[visitors] approver_role`; the visitor badge; the check-out. Each step goes through the
//! same function as the API's (`crate::api::visits`).

mod check_in;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;

use super::PageError;
use super::form::{Check, Fields, csrf};
use super::layout::{self, Tr, may, when};
use super::session::{Posted, Staff};
use crate::api::auth::{Authenticated, CheckInVisitors, DecideVisits, Permission, ReadVisits};
use crate::api::visits::{check_out_visit, decide_visit, hand_out_badge};
use crate::api::{ApiError, AppState};
use crate::model::Actor;
use crate::store::sessions::Session;
use crate::store::visitor_badges::{self, PoolStatus, VisitorBadge};
use crate::store::visits::{self, CheckOut, VisitView};
use crate::store::waiting;
use crate::visit::{BadgeOutcome, IdKind, VisitError, VisitStatus};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/visitors", get(desk_page))
        .route("/visitors/check-in", post(check_in::check_in))
        .route("/visitors/{id}/decide", post(decide))
        .route("/visitors/{id}/badge", post(badge))
        .route("/visitors/{id}/check-out", post(check_out))
}

fn status_label(s: VisitStatus, t: Tr) -> &'static str {
    match s {
        VisitStatus::WaitingApproval => t.s(
            "Menunggu izin kepala fasilitas",
            "Waiting for the head of the facility's approval",
        ),
        VisitStatus::Approved => t.s(
            "Diizinkan; kartu tamu belum diserahkan",
            "Approved; visitor badge not handed out yet",
        ),
        VisitStatus::Denied => t.s("Tidak diizinkan", "Denied"),
        VisitStatus::Active => t.s("Sedang berkunjung", "Visiting now"),
        VisitStatus::Closed => t.s("Selesai", "Finished"),
    }
}

/// The kind of identity document, in the page's language (KTP and SIM are Indonesian
/// documents: their names stay, explained in English).
fn id_kind_label(k: IdKind, t: Tr) -> &'static str {
    match k {
        IdKind::Ktp => t.s(k.label(), "KTP (identity card)"),
        IdKind::Sim => t.s(k.label(), "SIM (driving licence)"),
        IdKind::Paspor => t.s(k.label(), "Passport"),
        IdKind::Other => t.s(k.label(), "Other"),
    }
}

/// A message for one field of one row's form, after an action on that visit failed.
pub(super) struct RowError {
    visit: i64,
    field: &'static str,
    message: String,
}

/// What the desk page shows besides the visits: the check-in form as typed (with its
/// messages) and a failed action's message.
#[derive(Default)]
pub(super) struct Shown<'a> {
    done: Option<&'a str>,
    form: Option<(&'a Fields, &'a Check)>,
    form_failed: Option<&'a str>,
    row: Option<RowError>,
}

#[derive(Deserialize)]
struct Done {
    done: Option<String>,
}

async fn desk_page(
    State(s): State<AppState>,
    staff: Staff<Authenticated>,
    Query(q): Query<Done>,
) -> Result<Markup, PageError> {
    let shown = Shown {
        done: q.done.as_deref(),
        ..Default::default()
    };
    desk(&s, &staff.session, shown).await
}

/// The visits waiting for this actor's decision now, as their inbox lists them.
async fn waiting_for(s: &AppState, actor: &Actor) -> Result<Vec<i64>, PageError> {
    if !may::<DecideVisits>(actor.role) {
        return Ok(vec![]);
    }
    let actor = actor.clone();
    Ok(s.db
        .read(move |c| {
            Ok(waiting::all(c, Utc::now())?
                .into_iter()
                .filter(|w| w.case == "visit" && w.is_for(&actor))
                .map(|w| w.id)
                .collect())
        })
        .await?)
}

/// The page. A role that reads visits sees the desk's day; an approver whose role does not
/// (an `approver_role` outside ReadVisits) sees only the visits waiting for them, as the
/// API lets them decide those (and the inbox links them here); anyone else is refused.
pub(super) async fn desk(
    s: &AppState,
    session: &Session,
    shown: Shown<'_>,
) -> Result<Markup, PageError> {
    let actor = session.actor.clone();
    let reads = may::<ReadVisits>(actor.role);
    let mine = waiting_for(s, &actor).await?;
    let approver = may::<DecideVisits>(actor.role) && actor.role == s.visitors.approver_role;
    if !reads && !approver {
        return Err(PageError::Forbidden {
            role: actor.role.to_string(),
            action: ReadVisits::ACTION,
        });
    }
    let tz = s.timezone;
    let today = super::form::start_of(Utc::now().with_timezone(&tz).date_naive(), tz);
    let desk_acts = may::<CheckInVisitors>(actor.role);
    let wanted = mine.clone();
    let (rows, free) =
        s.db.read(move |c| {
            let now = Utc::now();
            let rows = if reads {
                visits::desk(c, today, now)?
            } else {
                wanted
                    .iter()
                    .map(|id| visits::get(c, *id, now))
                    .collect::<crate::store::Result<_>>()?
            };
            let free = if desk_acts {
                visitor_badges::list(c, Some(PoolStatus::Available))?
            } else {
                vec![]
            };
            Ok((rows, free))
        })
        .await?;
    let t = Tr::of(session);
    let ctx = Row {
        t,
        csrf: &session.csrf,
        mine: &mine,
        desk: desk_acts,
        free: &free,
        error: shown.row.as_ref(),
        tz,
    };
    let check_in = match desk_acts {
        true => Some(check_in::form(s, session, shown.form, shown.form_failed).await?),
        false => None,
    };
    let body = html! {
        (layout::done(shown.done, session))
        @if let Some(e) = &shown.row { div.alert.error role="alert" { (e.message) } }
        section aria-labelledby="visits-h" {
            h2 #visits-h { (t.s("Kunjungan hari ini dan yang belum selesai", "Today's visits and those not finished")) }
            @if rows.is_empty() && reads { p.muted #visits-empty { (t.s("Belum ada kunjungan hari ini.", "No visits today yet.")) } }
            @else if rows.is_empty() { p.muted #visits-empty { (t.s("Tidak ada kunjungan yang menunggu keputusan Anda.", "No visits are waiting for your decision.")) } }
            @else {
                div.table-wrap { table #visits {
                    thead {
                        tr {
                            th rowspan="2" { "No." }
                            th colspan="5" { (t.s("Identitas", "Identity")) }
                            th rowspan="2" { (t.s("No. Badge", "Badge no.")) }
                            th colspan="3" { (t.s("Waktu", "Time")) }
                            th rowspan="2" { (t.s("Tujuan", "Purpose")) }
                            th rowspan="2" { (t.s("Fasilitas", "Equipment")) }
                            th rowspan="2" { (t.s("TTD", "Signature")) }
                            th rowspan="2" { "Status" }
                            th rowspan="2" { (t.s("Tindakan", "Actions")) }
                        }
                        tr {
                            th { (t.s("Nama", "Name")) } th { (t.s("Instansi", "Agency")) } th { (t.s("Alamat", "Address")) }
                            th { (t.s("Jenis Identitas", "Identity document")) } th { (t.s("No. Identitas", "Identity no.")) }
                            th { (t.s("Tanggal", "Date")) } th { (t.s("Jam Masuk", "Time in")) } th { (t.s("Jam Keluar", "Time out")) }
                        }
                    }
                    tbody { @for v in &rows { (row(v, reads, &ctx)) } }
                } }
            }
        }
        @if let Some(form) = check_in { (form) }
    };
    Ok(layout::page(
        t.s("Meja Tamu", "Visitors desk"),
        session,
        body,
    ))
}

/// What every row needs to draw its buttons.
struct Row<'a> {
    t: Tr,
    csrf: &'a str,
    /// The visits waiting for this actor's decision.
    mine: &'a [i64],
    /// Whether this actor works the desk (badge, check-out).
    desk: bool,
    free: &'a [VisitorBadge],
    error: Option<&'a RowError>,
    tz: chrono_tz::Tz,
}

impl Row<'_> {
    fn error(&self, visit: i64, field: &str) -> Option<&str> {
        self.error
            .filter(|e| e.visit == visit && e.field == field)
            .map(|e| e.message.as_str())
    }
}

fn row(v: &VisitView, reads: bool, c: &Row) -> Markup {
    let id_kind = match &v.jenis_identitas_lain {
        Some(other) => other.clone(),
        None => id_kind_label(v.jenis_identitas, c.t).to_owned(),
    };
    let t = c.t;
    let local = v.checked_in_at.with_timezone(&c.tz);
    html! {
        tr id={"visit-" (v.id)} data-status=(v.status.as_str()) {
            td { (v.id) }
            td.nama { (v.nama) }
            td { (v.instansi.as_deref().unwrap_or("")) }
            @if reads {
                td { (v.alamat.as_deref().unwrap_or("")) }
                td { (id_kind) @if v.id_deposited { br; span.muted { (t.s("dititipkan", "deposited")) } } }
                td { (v.no_identitas) }
            } @else {
                td colspan="3" { span.muted { "—" } }
            }
            td.badge { (v.badge_number.as_deref().unwrap_or("")) }
            td { (local.format("%d-%m-%Y")) }
            td { (local.format("%H:%M")) }
            td { @if let Some(out) = v.checked_out_at { (out.with_timezone(&c.tz).format("%H:%M")) } }
            td {
                (v.tujuan) br;
                span.muted { (t.s("Yang dituju: ", "Visiting: ")) (v.host) br; (t.s("Pendamping: ", "Escort: ")) (v.escort_name) }
            }
            td { @for e in &v.equipment {
                (e.jenis) @if let Some(n) = &e.no_seri { " (" (n) ")" } br;
            } }
            td { @match &v.ttd.name { Some(n) => (n), None => span.muted { (t.s("gambar", "drawn")) } } }
            td.status {
                (status_label(v.status, t))
                @if let Some(w) = &v.waiting {
                    br; span.muted { (t.s("batas ", "due ")) (when(w.due_at, c.tz)) }
                    @if w.overdue { " " span.overdue { (t.s("terlambat", "overdue")) } }
                }
                @if let Some(n) = &v.decision_note { br; span.muted { (t.s("Catatan: ", "Note: ")) (n) } }
            }
            td.actions { (actions(v, c)) }
        }
    }
}

fn actions(v: &VisitView, c: &Row) -> Markup {
    let id = v.id;
    let t = c.t;
    let field_error = |field: &str| {
        html! { @if let Some(e) = c.error(id, field) { p.field-error role="alert" { (e) } } }
    };
    html! {
        @if c.mine.contains(&id) {
            form.inline.decide method="post" action={"/ui/visitors/" (id) "/decide"} {
                (csrf(c.csrf))
                label for={"note-" (id)} { (t.s("Catatan (wajib bila menolak)", "Note (required to deny)")) }
                input id={"note-" (id)} name="note";
                (field_error("note"))
                button name="decision" value="approve" { (t.s("Izinkan", "Approve")) }
                button.reject name="decision" value="deny" { (t.s("Tolak", "Deny")) }
            }
        }
        @if c.desk && v.status == VisitStatus::Approved {
            form.inline.badge method="post" action={"/ui/visitors/" (id) "/badge"} {
                (csrf(c.csrf))
                label for={"badge-" (id)} { (t.s("Kartu tamu", "Visitor badge")) }
                select id={"badge-" (id)} name="badge_number" {
                    option value="" { (t.s("— nomor terkecil yang bebas —", "— lowest free number —")) }
                    @for b in c.free { option value=(b.badge_number) { (b.badge_number) } }
                }
                (field_error("badge_number"))
                button type="submit" { (t.s("Serahkan kartu tamu", "Hand out the visitor badge")) }
            }
        }
        @if c.desk && v.checked_out_at.is_none() {
            form.inline.check-out method="post" action={"/ui/visitors/" (id) "/check-out"} {
                (csrf(c.csrf))
                @if v.status == VisitStatus::Active {
                    fieldset.checks {
                        legend { (t.s("Kartu tamu ", "Visitor badge ")) (v.badge_number.as_deref().unwrap_or("")) }
                        label { input type="radio" name="badge" value="returned"; (t.s("dikembalikan", "returned")) }
                        label { input type="radio" name="badge" value="lost"; (t.s("hilang (diblokir)", "lost (blocked)")) }
                        (field_error("badge"))
                    }
                }
                @if v.id_deposited {
                    label { input type="checkbox" name="id_returned" value="1"; (t.s("Identitas yang dititipkan sudah dikembalikan", "The deposited identity document is returned")) }
                    (field_error("id_returned"))
                }
                label for={"out-note-" (id)} { (t.s("Catatan", "Note")) }
                input id={"out-note-" (id)} name="note";
                button type="submit" { (t.s("Tamu keluar", "Check out")) }
            }
        }
    }
}

/// The desk page again with a message on one field of one visit's form (422).
async fn failed(
    s: &AppState,
    session: &Session,
    visit: i64,
    field: &'static str,
    message: &str,
) -> Result<Response, PageError> {
    let row = RowError {
        visit,
        field,
        message: message.to_owned(),
    };
    let shown = Shown {
        row: Some(row),
        ..Default::default()
    };
    let page = desk(s, session, shown).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

fn done(code: &str, id: i64) -> Response {
    Redirect::to(&format!("/ui/visitors?done={code}#visit-{id}")).into_response()
}

async fn decide(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted<DecideVisits>,
) -> Result<Response, PageError> {
    let f = &posted.fields;
    let approve = match f.get("decision") {
        "approve" => true,
        "deny" => false,
        _ => return Err(ApiError::BadRequest("decision must be approve or deny".into()).into()),
    };
    let note = f.opt("note");
    let session = &posted.staff.session;
    let t = Tr::of(session);
    // The reason asked for next to the button, when the button was this actor's to press.
    if !approve && note.is_none() && waiting_for(&s, &session.actor).await?.contains(&id) {
        return failed(
            &s,
            session,
            id,
            "note",
            t.s(
                "Tulis alasan bila menolak kunjungan.",
                "Write the reason for denying the visit.",
            ),
        )
        .await;
    }
    decide_visit(&s, posted.staff.actor(), id, approve, note).await?;
    Ok(done(
        if approve {
            "visit_granted"
        } else {
            "visit_denied"
        },
        id,
    ))
}

async fn badge(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted<CheckInVisitors>,
) -> Result<Response, PageError> {
    let number = posted.fields.opt("badge_number");
    let t = Tr::of(&posted.staff.session);
    let message = match hand_out_badge(&s, posted.staff.actor(), id, number).await {
        Ok(_) => return Ok(done("badge", id)),
        Err(ApiError::NotFound(what)) if what.starts_with("visitor badge") => t.s(
            "Tidak ada kartu tamu dengan nomor itu.",
            "There is no visitor badge with that number.",
        ),
        Err(ApiError::Conflict(what)) if what.starts_with("no visitor badge is free") => t.s(
            "Tidak ada kartu tamu yang bebas; tambahkan kartu ke persediaan.",
            "No visitor badge is free; add badges to the pool.",
        ),
        Err(ApiError::Conflict(what)) if what.starts_with("visitor badge") => t.s(
            "Kartu tamu itu sedang tidak bebas; pilih kartu lain.",
            "That visitor badge is not free; choose another one.",
        ),
        Err(e) => return Err(e.into()),
    };
    failed(&s, &posted.staff.session, id, "badge_number", message).await
}

async fn check_out(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted<CheckInVisitors>,
) -> Result<Response, PageError> {
    let f = &posted.fields;
    let outcome = match f.get("badge") {
        "returned" => Some(BadgeOutcome::Returned),
        "lost" => Some(BadgeOutcome::Lost),
        _ => None,
    };
    let c = CheckOut {
        badge: outcome,
        id_returned: f.checked("id_returned"),
        note: f.opt("note"),
    };
    // The same rule the store applies, read first so its message lands on the field.
    let v = s.db.read(move |c| visits::get(c, id, Utc::now())).await?;
    let checked = visits::check_out_rule(&v, &c);
    let session = &posted.staff.session;
    let t = Tr::of(session);
    match checked {
        Err(VisitError::BadgeUnaccounted { .. }) => {
            let m = t.s(
                "Pilih: kartu tamu dikembalikan atau hilang.",
                "Choose: the visitor badge is returned or lost.",
            );
            return failed(&s, session, id, "badge", m).await;
        }
        Err(VisitError::IdNotReturned { .. }) => {
            let m = t.s(
                "Kembalikan identitas yang dititipkan kepada tamu, lalu centang di sini.",
                "Return the deposited identity document to the visitor, then tick here.",
            );
            return failed(&s, session, id, "id_returned", m).await;
        }
        _ => {}
    }
    check_out_visit(&s, posted.staff.actor(), id, c).await?;
    Ok(done("checked_out", id))
}
