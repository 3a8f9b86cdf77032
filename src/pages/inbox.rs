//! Kotak masuk: what waits for the logged-in member of staff, oldest due first, with the
//! approve / reject buttons of approval steps right there.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use chrono::Utc;
use maud::{Markup, html};

use super::PageError;
use super::form::csrf;
use super::layout::{self, when};
use super::session::Staff;
use crate::api::AppState;
use crate::api::auth::Authenticated;
use crate::store::waiting::{self, WaitingItem};
use crate::workflow::StepKind;

pub fn routes() -> Router<AppState> {
    Router::new().route("/inbox", get(inbox))
}

/// Where an item is dealt with.
fn link(w: &WaitingItem) -> Option<String> {
    match w.case {
        "request" => Some(format!("/ui/requests/{}", w.id)),
        "visit" => Some(format!("/ui/visitors#visit-{}", w.id)),
        "review_item" => w.parent_id.map(|r| format!("/ui/reviews/{r}")),
        _ => None,
    }
}

fn case_label(case: &str) -> &'static str {
    match case {
        "request" => "Permintaan akses",
        "removal" => "Penghapusan hak akses",
        "review_item" => "Reviu hak akses",
        "logical_right" => "Akun sistem lain",
        "visit" => "Kunjungan tamu",
        _ => "Lainnya",
    }
}

async fn inbox(
    State(s): State<AppState>,
    staff: Staff<Authenticated>,
) -> Result<Markup, PageError> {
    let actor = staff.actor();
    let items: Vec<WaitingItem> =
        s.db.read(|c| waiting::all(c, Utc::now()))
            .await?
            .into_iter()
            .filter(|w| w.is_for(&actor))
            .collect();
    let tz = s.timezone;
    let body = html! {
        @if items.is_empty() { p.muted #inbox-empty { "Tidak ada yang menunggu Anda." } }
        @else {
            div.table-wrap { table #inbox {
                thead { tr { th { "Perihal" } th { "Langkah" } th { "Batas waktu" } th { "Tindakan" } } }
                tbody { @for w in &items { tr data-case=(w.case) data-id=(w.id) {
                    td { (case_label(w.case)) " no. " (w.id) br; span.muted { (w.title) } }
                    td { (w.label) }
                    td { (when(w.due_at, tz)) @if w.overdue { br; span.overdue { "terlambat" } } }
                    td {
                        @if w.case == "request" && w.step_kind == Some(StepKind::Approve) {
                            form.inline method="post" action={"/ui/requests/" (w.id) "/decide"} {
                                (csrf(&staff.session.csrf))
                                input type="hidden" name="step" value=(w.step);
                                label for={"note-" (w.id)} { "Catatan (wajib bila menolak)" }
                                input id={"note-" (w.id)} name="note";
                                div.actions {
                                    button name="decision" value="approve" { "Setujui" }
                                    button.reject name="decision" value="reject" { "Tolak" }
                                }
                            }
                        }
                        @if let Some(href) = link(w) { a href=(href) { "Buka" } }
                        @else { span.muted { "lewat API / baris perintah" } }
                    }
                } } }
            } }
        }
    };
    Ok(layout::page("Kotak masuk", &staff.session, body))
}
