//! Review Akses (procedure 2): the campaigns; the Kasi starts and closes one; each
//! penanggung jawab marks the rights addressed to them still valid or not valid, with the
//! buttons shown only on the items the API would let them decide.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Duration, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

use super::PageError;
use super::form::{Check, Fields, csrf, input, start_of};
use super::layout::{self, Tr, may, when};
use super::session::{Posted, Staff};
use crate::api::auth::{DecideReview, ReadWorkflow, RunReviews};
use crate::api::workflow::{close_campaign, decide_review_item, start_campaign};
use crate::api::{ApiError, AppState};
use crate::config::Undecided;
use crate::model::{Actor, Role};
use crate::store::removals::RightKind;
use crate::store::reviews::{self, NewReview, Review, ReviewItem, Validity};
use crate::store::sessions::Session;
use crate::store::waiting;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reviews", get(list).post(start))
        .route("/reviews/{id}", get(show))
        .route("/reviews/{id}/items/{item}", post(decide))
        .route("/reviews/{id}/close", post(close))
}

#[derive(Deserialize)]
struct Done {
    done: Option<String>,
}

fn status_label(status: &str, t: Tr) -> &'static str {
    match status {
        "open" => t.s("Berjalan", "Open"),
        _ => t.s("Ditutup", "Closed"),
    }
}

fn undecided_label(u: Undecided, t: Tr) -> &'static str {
    match u {
        Undecided::Keep => t.s("dipertahankan", "kept"),
        Undecided::Remove => t.s("dihapus", "removed"),
    }
}

async fn list(
    State(s): State<AppState>,
    staff: Staff<ReadWorkflow>,
    Query(q): Query<Done>,
) -> Result<Markup, PageError> {
    list_page(&s, &staff.session, q.done.as_deref(), None).await
}

async fn list_page(
    s: &AppState,
    session: &Session,
    done: Option<&str>,
    typed: Option<(&Fields, &Check)>,
) -> Result<Markup, PageError> {
    let all = s.db.read(reviews::list).await?;
    let tz = s.timezone;
    let open = all.iter().find(|r| r.status == "open").map(|r| r.id);
    let t = Tr::of(session);
    let empty = (Fields::default(), Check::new(t));
    let (f, check) = typed.unwrap_or((&empty.0, &empty.1));
    let default = s.workflow.review.default_undecided;
    let body = html! {
        (layout::done(done, session))
        @if all.is_empty() { p.muted #reviews-empty { (t.s("Belum ada reviu hak akses.", "No access reviews yet.")) } }
        @else {
            div.table-wrap { table #reviews {
                thead { tr {
                    th { "No." } th { (t.s("Judul", "Title")) } th { "Status" } th { (t.s("Dimulai", "Started")) }
                    th { (t.s("Batas waktu", "Deadline")) } th { (t.s("Ditutup", "Closed")) } th { (t.s("Oleh", "By")) }
                } }
                tbody { @for r in &all { tr id={"review-" (r.id)} {
                    td { a href={"/ui/reviews/" (r.id)} { (r.id) } }
                    td { a href={"/ui/reviews/" (r.id)} { (r.title) } }
                    td { (status_label(&r.status, t)) }
                    td { (when(r.started_at, tz)) }
                    td { (when(r.deadline, tz)) }
                    td { @if let Some(c) = r.closed_at { (when(c, tz)) } }
                    td { (r.started_by) }
                } } }
            } }
        }
        @if may::<RunReviews>(session.actor.role) {
            section.card #start-review aria-labelledby="start-h" {
                h2 #start-h { (t.s("Mulai reviu hak akses", "Start an access review")) }
                @if let Some(id) = open {
                    p.muted {
                        (t.s("Reviu no. ", "Review no. ")) a href={"/ui/reviews/" (id)} { (id) }
                        (t.s(" masih berjalan; tutup dahulu sebelum memulai yang baru.", " is still open; close it before starting a new one."))
                    }
                } @else {
                    @if !check.ok() { div.alert.error role="alert" { (t.s("Periksa isian yang ditandai di bawah.", "Check the fields marked below.")) } }
                    form method="post" action="/ui/reviews" novalidate {
                        (csrf(&session.csrf))
                        (input("title", t.s("Judul (kosongkan untuk \"Review Akses <tanggal>\")", "Title (leave empty for \"Review Akses <date>\")"), f.get("title"), Some(check), "text", false))
                        (input("deadline", t.s("Batas waktu (tanggal terakhir; kosongkan untuk bawaan)", "Deadline (the last day; leave empty for the default)"), f.get("deadline"), Some(check), "date", false))
                        div.field {
                            label for="default_undecided" { (t.s("Hak yang tidak diputuskan sampai ditutup", "Rights not decided by the close")) }
                            select #default_undecided name="default_undecided" {
                                option value="" { (t.s("bawaan: ", "default: ")) (undecided_label(default, t)) }
                                option value="keep" selected[f.get("default_undecided") == "keep"] { (undecided_label(Undecided::Keep, t)) }
                                option value="remove" selected[f.get("default_undecided") == "remove"] { (undecided_label(Undecided::Remove, t)) }
                            }
                        }
                        button type="submit" { (t.s("Mulai reviu", "Start the review")) }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        t.s("Reviu hak akses", "Access reviews"),
        session,
        body,
    ))
}

async fn start(
    State(s): State<AppState>,
    posted: Posted<RunReviews>,
) -> Result<Response, PageError> {
    let f = &posted.fields;
    let t = Tr::of(&posted.staff.session);
    let mut check = Check::new(t);
    let tz = s.timezone;
    let deadline = match f.opt("deadline") {
        Some(_) => check
            .date(f, "deadline", t.s("Batas waktu", "The deadline"))
            // The last day is included: the campaign ends when the next day begins.
            .map(|d| start_of(d + Duration::days(1), tz)),
        None => None,
    };
    let default_undecided = match f.get("default_undecided") {
        "keep" => Some(Undecided::Keep),
        "remove" => Some(Undecided::Remove),
        _ => None,
    };
    let session = &posted.staff.session;
    let again = async |check: &Check| -> Result<Response, PageError> {
        let page = list_page(&s, session, None, Some((f, check))).await?;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    if !check.ok() {
        return again(&check).await;
    }
    let r = NewReview {
        title: f.opt("title"),
        deadline,
        default_undecided,
    };
    let started = start_campaign(&s, posted.staff.actor(), r).await;
    match started {
        Ok(r) => {
            Ok(Redirect::to(&format!("/ui/reviews/{}?done=review_started", r.id)).into_response())
        }
        Err(ApiError::BadRequest(m)) if m.starts_with("deadline") => {
            check.fail(
                "deadline",
                t.s(
                    "Batas waktu harus sesudah hari ini dan paling lama setahun lagi.",
                    "The deadline must be after today and at most a year from now.",
                ),
            );
            again(&check).await
        }
        Err(ApiError::BadRequest(m)) if m.starts_with("title") => {
            check.fail(
                "title",
                t.s(
                    "Judul terlalu panjang atau berisi karakter kendali.",
                    "The title is too long or contains control characters.",
                ),
            );
            again(&check).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether this actor may decide `item` now, as the API would let them: a penanggung jawab,
/// the one the item is addressed to (the same rule as their inbox), the campaign open.
fn may_decide(review: &Review, item: &ReviewItem, actor: &Actor) -> bool {
    review.status == "open"
        && may::<DecideReview>(actor.role)
        && waiting::addressed(Role::PenanggungJawab, item.responsible_id, actor)
}

fn millis(v: &Value) -> Option<DateTime<Utc>> {
    v.as_i64().and_then(DateTime::from_timestamp_millis)
}

/// The right as it was frozen, in a line.
fn summary(item: &ReviewItem, tz: chrono_tz::Tz, t: Tr) -> String {
    let s = &item.summary;
    let text = |k: &str| s[k].as_str().unwrap_or("").to_owned();
    match item.right_kind {
        RightKind::Door => {
            let doors: Vec<&str> = s["doors"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let until = millis(&s["valid_until"]).map_or(String::new(), |t| when(t, tz));
            format!(
                "{} {} {} {until}",
                t.s("Pintu", "Doors"),
                doors.join(", "),
                t.s("s.d.", "until")
            )
        }
        RightKind::Logical => {
            let until = millis(&s["planned_until"]).map_or(String::new(), |t| when(t, tz));
            format!(
                "{} {} {} ({}) {} {until}",
                t.s("Akun", "Account"),
                text("kind"),
                text("username"),
                text("hak_akses"),
                t.s("s.d.", "until")
            )
        }
    }
}

fn decision_label(d: Option<Validity>, t: Tr) -> &'static str {
    match d {
        Some(Validity::Valid) => t.s("Masih valid", "Still valid"),
        Some(Validity::NotValid) => t.s("Tidak valid", "Not valid"),
        None => t.s("Belum diputuskan", "Not decided yet"),
    }
}

async fn show(
    State(s): State<AppState>,
    staff: Staff<ReadWorkflow>,
    Path(id): Path<i64>,
    Query(q): Query<Done>,
) -> Result<Markup, PageError> {
    let r = s.db.read(move |c| reviews::get(c, id)).await?;
    let tz = s.timezone;
    let actor = staff.actor();
    let token = &staff.session.csrf;
    let t = Tr::of(&staff.session);
    let body = html! {
        (layout::done(q.done.as_deref(), &staff.session))
        dl.facts {
            dt { "Status" } dd #status { (status_label(&r.status, t)) }
            dt { (t.s("Dimulai", "Started")) } dd { (when(r.started_at, tz)) (t.s(" oleh ", " by ")) (r.started_by) }
            dt { (t.s("Batas waktu", "Deadline")) } dd { (when(r.deadline, tz)) }
            @if let Some(c) = r.closed_at { dt { (t.s("Ditutup", "Closed")) } dd { (when(c, tz)) } }
            dt { (t.s("Hak yang tidak diputuskan", "Rights not decided")) } dd { (undecided_label(r.default_undecided, t)) }
            dt { (t.s("Jumlah", "Count")) } dd #counts {
                (r.total) (t.s(" hak: ", " rights: ")) (r.valid) (t.s(" masih valid, ", " still valid, "))
                (r.not_valid) (t.s(" tidak valid, ", " not valid, "))
                (r.undecided) (t.s(" belum diputuskan", " not decided yet"))
            }
        }
        p { a href={"/ui/reports/forms/review/" (r.id)} { (t.s("Unduh formulir Review Akses (PDF)", "Download the Review Akses form (PDF)")) } }
        @if r.status == "open" && may::<RunReviews>(actor.role) {
            form.card method="post" action={"/ui/reviews/" (r.id) "/close"} {
                (csrf(token))
                p {
                    (t.s("Menutup reviu: hak yang tidak valid langsung dihapus dan ditolak di pintu; yang belum diputuskan ",
                         "Closing the review: rights not valid are removed at once and refused at the door; those not decided are "))
                    (undecided_label(r.default_undecided, t)) "."
                }
                button.danger type="submit" { (t.s("Tutup reviu", "Close the review")) }
            }
        }
        @if r.items.is_empty() { p.muted { (t.s("Tidak ada hak akses yang berlaku saat reviu dimulai.", "No access rights were valid when the review started.")) } }
        @else {
            div.table-wrap { table #items {
                thead { tr {
                    th { "No." } th { (t.s("Pemegang", "Holder")) } th { (t.s("Hak akses", "Access right")) }
                    th { (t.role(Role::PenanggungJawab)) } th { (t.s("Keputusan", "Decision")) }
                    th { (t.s("Komentar", "Comment")) } th { (t.s("Hasil", "Outcome")) } th { (t.s("Tindakan", "Actions")) }
                } }
                tbody { @for i in &r.items { tr id={"item-" (i.id)} data-decision=[i.decision.map(|d| match d { Validity::Valid => "valid", Validity::NotValid => "not_valid" })] {
                    td { (i.id) }
                    td { (i.holder_name) }
                    td { (summary(i, tz, t)) }
                    td { (i.penanggung_jawab.as_deref().unwrap_or(t.s("(siapa saja)", "(anyone)"))) }
                    td.decision {
                        (decision_label(i.decision, t))
                        @if let (Some(by), Some(at)) = (&i.decided_by, i.decided_at) { br; span.muted { (by) ", " (when(at, tz)) } }
                    }
                    td { (i.comment.as_deref().unwrap_or("")) }
                    td { @match i.outcome.as_deref() {
                        Some("removed") => (undecided_label(Undecided::Remove, t)),
                        Some("kept") => (undecided_label(Undecided::Keep, t)),
                        _ => "",
                    } @if let Some(n) = &i.outcome_note { br; span.muted { (n) } } }
                    td { @if may_decide(&r, i, &actor) {
                        form.inline method="post" action={"/ui/reviews/" (r.id) "/items/" (i.id)} {
                            (csrf(token))
                            label for={"comment-" (i.id)} { (t.s("Komentar", "Comment")) }
                            input id={"comment-" (i.id)} name="comment" value=(i.comment.as_deref().unwrap_or(""));
                            button name="decision" value="valid" { (decision_label(Some(Validity::Valid), t)) }
                            button.reject name="decision" value="not_valid" { (decision_label(Some(Validity::NotValid), t)) }
                        }
                    } }
                } } }
            } }
        }
    };
    Ok(layout::page(
        &format!(
            "{} {}: {}",
            t.s("Reviu hak akses no.", "Access review no."),
            r.id,
            r.title
        ),
        &staff.session,
        body,
    ))
}

async fn decide(
    State(s): State<AppState>,
    Path((id, item)): Path<(i64, i64)>,
    posted: Posted<DecideReview>,
) -> Result<Response, PageError> {
    let f = &posted.fields;
    let decision = match f.get("decision") {
        "valid" => Validity::Valid,
        "not_valid" => Validity::NotValid,
        _ => {
            return Err(ApiError::BadRequest("decision must be valid or not_valid".into()).into());
        }
    };
    let comment = f.opt("comment");
    decide_review_item(&s, posted.staff.actor(), id, item, decision, comment).await?;
    Ok(Redirect::to(&format!("/ui/reviews/{id}?done=item_decided#item-{item}")).into_response())
}

async fn close(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted<RunReviews>,
) -> Result<Response, PageError> {
    close_campaign(&s, posted.staff.actor(), id).await?;
    Ok(Redirect::to(&format!("/ui/reviews/{id}?done=review_closed")).into_response())
}
