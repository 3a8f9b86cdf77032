//! Laporan & formulir: the periodic access report and the SOP's forms, downloaded from the
//! page. Each download is the API's own handler behind the page's session, so a printout
//! never shows more than the API would show the same role.

use std::marker::PhantomData;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use chrono::{Datelike, Utc};
use maud::{Markup, html};

use super::PageError;
use super::layout::{self, Tr, may};
use super::session::Staff;
use crate::api::auth::{Auth, Authenticated, ReadAccess, ReadReports, ReadVisits, ReadWorkflow};
use crate::api::forms::{self, ListQuery, OutputQuery};
use crate::api::reports::{PeriodQuery, access_report};
use crate::api::{ApiError, ApiQuery, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports", get(index))
        .route("/reports/access", get(access))
        .route("/reports/forms/access-request/{id}", get(access_request))
        .route("/reports/forms/access-list", get(access_list))
        .route("/reports/forms/review/{id}", get(review))
        .route("/reports/forms/removal/{id}", get(removal))
        .route("/reports/forms/facility-register", get(facility_register))
        .route("/reports/forms/remote-access", get(remote_access))
}

async fn index(State(s): State<AppState>, staff: Staff<ReadReports>) -> Markup {
    let role = staff.session.actor.role;
    let t = Tr::of(&staff.session);
    let today = Utc::now().with_timezone(&s.timezone).date_naive();
    let month = format!("{:04}-{:02}", today.year(), today.month());
    let output = html! {
        label for="format" { "Format" }
        select #format name="format" {
            option value="pdf" { (t.s("PDF (untuk dicetak)", "PDF (to print)")) }
            option value="csv" { (t.s("CSV (lembar kerja)", "CSV (spreadsheet)")) }
            option value="html" { "HTML" }
        }
        label for="lang" { (t.s("Bahasa", "Language")) }
        select #lang name="lang" {
            option value="id" { "Indonesia" }
            option value="en" selected[t.0 == crate::report::Lang::En] { "English" }
        }
    };
    let body = html! {
        section.card aria-labelledby="report-h" {
            h2 #report-h { (t.s("Laporan akses berkala", "Periodic access report")) }
            p.muted { (t.s("Masuk dan keluar per orang, percobaan yang ditolak, akses di luar jam kerja, alarm, kunjungan, langkah yang terlambat, hak yang akan berakhir dan yang tidak dipakai.",
                "Entries and exits per person, refused attempts, access outside working hours, alarms, visits, overdue steps, rights about to end and rights not used.")) }
            form method="get" action="/ui/reports/access" {
                label for="month" { (t.s("Bulan", "Month")) }
                input #month type="month" name="month" value=(month) required;
                (output)
                button type="submit" { (t.s("Unduh laporan", "Download the report")) }
            }
        }
        section.card aria-labelledby="forms-h" {
            h2 #forms-h { (t.s("Formulir SOP", "The SOP's forms")) }
            ul {
                @if may::<ReadAccess>(role) {
                    li { a href="/ui/reports/forms/access-list" { (t.s("Formulir Daftar Akses Ruang Server (PDF)", "Formulir Daftar Akses Ruang Server: the server room access list (PDF)")) } }
                }
                @if may::<ReadVisits>(role) {
                    li { a href={"/ui/reports/forms/facility-register?month=" (month)} { (t.s("Formulir Pencatatan Penggunaan Fasilitas, bulan ini (PDF)", "Formulir Pencatatan Penggunaan Fasilitas: the facility register, this month (PDF)")) } }
                }
                @if may::<ReadWorkflow>(role) {
                    li { a href={"/ui/reports/forms/remote-access?month=" (month)} { (t.s("Formulir Pencatatan Pemberian Remote Akses, bulan ini (PDF)", "Formulir Pencatatan Pemberian Remote Akses: remote access granted, this month (PDF)")) } }
                }
            }
            p.muted { (t.s("Formulir permintaan, reviu dan penghapusan ada di halaman masing-masing.", "The request, review and removal forms are on their own pages.")) }
        }
    };
    layout::page(
        t.s("Laporan & formulir", "Reports & forms"),
        &staff.session,
        body,
    )
}

/// The API's handler, as the session's actor.
fn auth<P>(actor: crate::model::Actor) -> Auth<P> {
    Auth(actor, PhantomData)
}

type Query<T> = Result<ApiQuery<T>, ApiError>;

async fn access(
    State(s): State<AppState>,
    staff: Staff<ReadReports>,
    q: Query<PeriodQuery>,
) -> Result<Response, PageError> {
    Ok(access_report(State(s), auth(staff.actor()), q?).await?)
}

async fn access_request(
    State(s): State<AppState>,
    staff: Staff<Authenticated>,
    Path(id): Path<i64>,
    q: Query<OutputQuery>,
) -> Result<Response, PageError> {
    Ok(forms::access_request(State(s), auth(staff.actor()), Path(id), q?).await?)
}

async fn access_list(
    State(s): State<AppState>,
    staff: Staff<ReadAccess>,
    q: Query<ListQuery>,
) -> Result<Response, PageError> {
    Ok(forms::access_list(State(s), auth(staff.actor()), q?).await?)
}

async fn review(
    State(s): State<AppState>,
    staff: Staff<ReadWorkflow>,
    Path(id): Path<i64>,
    q: Query<OutputQuery>,
) -> Result<Response, PageError> {
    Ok(forms::review(State(s), auth(staff.actor()), Path(id), q?).await?)
}

async fn removal(
    State(s): State<AppState>,
    staff: Staff<ReadWorkflow>,
    Path(id): Path<i64>,
    q: Query<OutputQuery>,
) -> Result<Response, PageError> {
    Ok(forms::removal(State(s), auth(staff.actor()), Path(id), q?).await?)
}

async fn facility_register(
    State(s): State<AppState>,
    staff: Staff<ReadVisits>,
    q: Query<PeriodQuery>,
) -> Result<Response, PageError> {
    Ok(forms::facility_register(State(s), auth(staff.actor()), q?).await?)
}

async fn remote_access(
    State(s): State<AppState>,
    staff: Staff<ReadWorkflow>,
    q: Query<PeriodQuery>,
) -> Result<Response, PageError> {
    Ok(forms::remote_access(State(s), auth(staff.actor()), q?).await?)
}
