//! Kartu akses: every card bound to a person, and for the operator the buttons that take one
//! out of service at once (revoke for good, report lost, suspend) or put a suspended one back.
//! The same store call as the API: the door refuses the card when the page answers.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;

use super::PageError;
use super::form::csrf;
use super::layout::{self, Tr, may, when};
use super::session::{Posted, Staff};
use crate::api::AppState;
use crate::api::auth::{ManageAccess, ReadAccess};
use crate::model::CredentialStatus;
use crate::store::badges::{self, Badge};
use crate::store::sessions::Session;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/badges", get(list))
        .route("/badges/{id}/status", post(set_status))
}

/// Most cards a page lists; the search narrows it.
const SHOWN: usize = 500;

#[derive(Deserialize)]
struct Shown {
    q: Option<String>,
    done: Option<String>,
}

fn status_label(status: CredentialStatus, t: Tr) -> &'static str {
    match status {
        CredentialStatus::Active => t.s("Aktif", "Active"),
        CredentialStatus::Suspended => t.s("Ditangguhkan", "Suspended"),
        CredentialStatus::Lost => t.s("Hilang (diblokir)", "Lost (blocked)"),
        CredentialStatus::Revoked => t.s("Dicabut", "Revoked"),
    }
}

/// A refused change, shown under its card's form.
struct Refused {
    badge: i64,
    message: &'static str,
}

async fn list(
    State(s): State<AppState>,
    staff: Staff<ReadAccess>,
    Query(q): Query<Shown>,
) -> Result<Markup, PageError> {
    render(&s, &staff.session, q, None).await
}

async fn render(
    s: &AppState,
    session: &Session,
    q: Shown,
    refused: Option<Refused>,
) -> Result<Markup, PageError> {
    let t = Tr::of(session);
    let tz = s.timezone;
    let manage = may::<ManageAccess>(session.actor.role);
    let needle = q.q.as_deref().map(str::trim).unwrap_or("").to_lowercase();
    let all = s.db.read(|c| badges::list(c, None, u32::MAX, None)).await?;
    let shown: Vec<&Badge> = all
        .iter()
        .rev()
        .filter(|b| {
            needle.is_empty()
                || b.person_name.to_lowercase().contains(&needle)
                || b.uid.to_lowercase().contains(&needle)
                || b.badge_number
                    .as_deref()
                    .is_some_and(|n| n.to_lowercase().contains(&needle))
        })
        .take(SHOWN)
        .collect();
    let done = match q.done.as_deref() {
        Some("revoked") => Some(t.s(
            "Kartu dicabut; pintu menolaknya sekarang.",
            "Card revoked; the door refuses it now.",
        )),
        Some("lost") => Some(t.s(
            "Kartu dilaporkan hilang; pintu menolaknya sekarang.",
            "Card reported lost; the door refuses it now.",
        )),
        Some("suspended") => Some(t.s(
            "Kartu ditangguhkan; pintu menolaknya sekarang.",
            "Card suspended; the door refuses it now.",
        )),
        Some("active") => Some(t.s("Kartu aktif kembali.", "Card active again.")),
        _ => None,
    };
    let body = html! {
        @if let Some(d) = done { p.alert.ok role="status" { (d) } }
        form.search method="get" action="/ui/badges" {
            label for="q" { (t.s("Cari nama, UID atau nomor kartu", "Search a name, UID or card number")) }
            input #q type="search" name="q" value=(q.q.as_deref().unwrap_or(""));
            button type="submit" { (t.s("Cari", "Search")) }
        }
        @if shown.is_empty() { p.muted #badges-empty { (t.s("Tidak ada kartu.", "No cards.")) } }
        @else {
            div.table-wrap { table #badges {
                thead { tr {
                    th { (t.s("Nama", "Name")) } th { (t.s("No. kartu", "Card no.")) } th { "UID" }
                    th { (t.s("Status", "Status")) } th { (t.s("Diterbitkan", "Issued")) }
                    @if manage { th { (t.s("Tindakan", "Action")) } }
                } }
                tbody { @for b in &shown { tr id={"badge-" (b.id)} data-status=(b.status.as_str()) {
                    td { (b.person_name) }
                    td { (b.badge_number.as_deref().unwrap_or("")) }
                    td { code { (b.technology.as_str()) ":" (b.uid) } }
                    td { (status_label(b.status, t))
                        @if let Some(r) = &b.status_reason { br; span.muted { (r) } } }
                    td { (when(b.issued_at, tz)) }
                    @if manage { td { (actions(b, session, t, refused.as_ref())) } }
                } } }
            } }
        }
    };
    Ok(layout::page(
        t.s("Kartu akses", "Access cards"),
        session,
        body,
    ))
}

fn actions(b: &Badge, session: &Session, t: Tr, refused: Option<&Refused>) -> Markup {
    let error = refused.filter(|r| r.badge == b.id).map(|r| r.message);
    let reason_id = format!("reason-{}", b.id);
    html! {
        @match b.status {
            CredentialStatus::Active | CredentialStatus::Suspended => {
                form.inline method="post" action={"/ui/badges/" (b.id) "/status"} {
                    (csrf(&session.csrf))
                    label for=(reason_id) { (t.s("Alasan", "Reason")) }
                    input id=(reason_id) name="reason" aria-invalid=[error.map(|_| "true")];
                    @if let Some(e) = error { p.field-error role="alert" { (e) } }
                    div.buttons {
                        button.danger name="status" value="revoked" { (t.s("Cabut", "Revoke")) }
                        button.danger name="status" value="lost" { (t.s("Hilang", "Lost")) }
                        @if b.status == CredentialStatus::Active {
                            button name="status" value="suspended" { (t.s("Tangguhkan", "Suspend")) }
                        } @else {
                            button name="status" value="active" { (t.s("Aktifkan lagi", "Reactivate")) }
                        }
                    }
                }
            }
            _ => span.muted { (t.s("tidak bisa diubah lagi", "final")) },
        }
    }
}

async fn set_status(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted<ManageAccess>,
) -> Result<Response, PageError> {
    let f = &posted.fields;
    let t = Tr::of(&posted.staff.session);
    let Ok(status) = f.get("status").parse::<CredentialStatus>() else {
        return Err(crate::api::ApiError::BadRequest(
            "status must be active, suspended, lost or revoked".into(),
        )
        .into());
    };
    let reason = f.opt("reason");
    if status != CredentialStatus::Active && reason.is_none() {
        let refused = Refused {
            badge: id,
            message: t.s("Alasan wajib diisi.", "A reason is required."),
        };
        let q = Shown {
            q: None,
            done: None,
        };
        let page = render(&s, &posted.staff.session, q, Some(refused)).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let actor = posted.staff.actor();
    s.db.write(move |tx| badges::set_status(tx, id, status, reason.as_deref(), &actor, Utc::now()))
        .await?;
    Ok(Redirect::to(&format!("/ui/badges?done={}#badge-{id}", status.as_str())).into_response())
}
