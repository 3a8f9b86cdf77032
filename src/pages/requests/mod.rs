//! Permintaan akses: the list, the form ([`form`]), and one request with its history and the
//! buttons of the step it waits for, shown only to whoever that step belongs to ([`case`]).

mod case;
mod form;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use chrono::Utc;
use maud::{Markup, html};

use super::PageError;
use super::layout::{self, Tr, may, when};
use super::session::Staff;
use crate::api::AppState;
use crate::api::auth::{Authenticated, SubmitRequest};
use crate::api::workflow::involving;
use crate::model::Role;
use crate::store::requests::{self, Filter};
use crate::workflow::CaseStatus;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/requests", get(list))
        .route("/requests/new", get(form::new_form).post(form::create))
        .route("/requests/{id}", get(case::show))
        .route("/requests/{id}/decide", post(case::decide))
        .route("/requests/{id}/issue", post(case::issue))
        .route("/requests/{id}/inform", post(case::inform))
        .route("/requests/{id}/withdraw", post(case::withdraw))
}

pub fn status_label(status: CaseStatus, t: Tr) -> &'static str {
    match status {
        CaseStatus::Open => t.s("Dalam proses", "In progress"),
        CaseStatus::Rejected => t.s("Ditolak", "Rejected"),
        CaseStatus::Completed => t.s("Selesai", "Completed"),
        CaseStatus::Withdrawn => t.s("Dibatalkan", "Withdrawn"),
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
    let t = Tr::of(&staff.session);
    let body = html! {
        @if may::<SubmitRequest>(actor.role) {
            p { a href="/ui/requests/new" { (t.s("Isi formulir permintaan akses baru", "Fill in a new access request")) } }
        }
        @if rows.is_empty() { p.muted { (t.s("Belum ada permintaan.", "No requests yet.")) } }
        @else {
            div.table-wrap { table {
                thead { tr { th { "No." } th { (t.s("Pemohon", "Applicant")) } th { (t.s("Keperluan", "Purpose")) } th { "Status" }
                    th { (t.s("Menunggu", "Waiting for")) } th { (t.s("Diajukan", "Submitted")) } } }
                tbody { @for r in rows.iter().rev() { tr {
                    td { a href={"/ui/requests/" (r.id)} { (r.id) } }
                    td { (r.applicant_name) }
                    td { (r.purpose) }
                    td { (status_label(r.status, t)) }
                    td { @if let Some(w) = &r.waiting {
                        (w.step.label) " (" (t.role(w.step.role)) ")"
                        @if w.overdue { " " span.overdue { (t.s("terlambat", "overdue")) } }
                    } }
                    td { (when(r.created_at, tz)) }
                } } }
            } }
        }
    };
    Ok(layout::page(
        t.s("Permintaan akses", "Access requests"),
        &staff.session,
        body,
    ))
}
