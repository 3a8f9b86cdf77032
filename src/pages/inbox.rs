//! Kotak masuk: what waits for the logged-in member of staff, oldest due first, with the
//! approve / reject buttons of approval steps right there.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use chrono::Utc;
use maud::{Markup, html};

use super::PageError;
use super::form::csrf;
use super::layout::{self, Tr, when};
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

fn case_label(case: &str, t: Tr) -> &'static str {
    match case {
        "request" => t.s("Permintaan akses", "Access request"),
        "removal" => t.s("Penghapusan hak akses", "Removal of access"),
        "review_item" => t.s("Reviu hak akses", "Access review"),
        "logical_right" => t.s("Akun sistem lain", "Account in another system"),
        "visit" => t.s("Kunjungan tamu", "Visit"),
        _ => t.s("Lainnya", "Other"),
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
    let t = Tr::of(&staff.session);
    let body = html! {
        @if items.is_empty() { p.muted #inbox-empty { (t.s("Tidak ada yang menunggu Anda.", "Nothing waits for you.")) } }
        @else {
            div.table-wrap { table #inbox {
                thead { tr { th { (t.s("Perihal", "Subject")) } th { (t.s("Langkah", "Step")) } th { (t.s("Batas waktu", "Due")) } th { (t.s("Tindakan", "Action")) } } }
                tbody { @for w in &items { tr data-case=(w.case) data-id=(w.id) {
                    td { (case_label(w.case, t)) " no. " (w.id) br; span.muted { (w.title) } }
                    td { (w.label) }
                    td { (when(w.due_at, tz)) @if w.overdue { br; span.overdue { (t.s("terlambat", "overdue")) } } }
                    td {
                        @if w.case == "request" && w.step_kind == Some(StepKind::Approve) {
                            form.inline method="post" action={"/ui/requests/" (w.id) "/decide"} {
                                (csrf(&staff.session.csrf))
                                input type="hidden" name="step" value=(w.step);
                                label for={"note-" (w.id)} { (t.s("Catatan (wajib bila menolak)", "Note (required to reject)")) }
                                input id={"note-" (w.id)} name="note";
                                div.buttons {
                                    button name="decision" value="approve" { (t.s("Setujui", "Approve")) }
                                    button.reject name="decision" value="reject" { (t.s("Tolak", "Reject")) }
                                }
                            }
                        }
                        @if let Some(href) = link(w) { a href=(href) { (t.s("Buka", "Open")) } }
                        @else { span.muted { (t.s("lewat API / baris perintah", "through the API / command line")) } }
                    }
                } } }
            } }
        }
    };
    Ok(layout::page(
        t.s("Kotak masuk", "Inbox"),
        &staff.session,
        body,
    ))
}
