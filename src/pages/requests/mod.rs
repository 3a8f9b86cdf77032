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
use super::layout::{self, may, role_label, when};
use super::session::Staff;
use crate::api::AppState;
use crate::api::auth::{Authenticated, SubmitRequest};
use crate::api::workflow::involving;
use crate::model::Role;
use crate::store::requests::{self, Filter};
use crate::workflow::CaseStatus;

pub use case::waits_for;

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
