//! Logging in and out, and who is asking: the session cookie, the role check and the form
//! token (CSRF) of every form.
//!
//! The cookie is `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page
//! sends it) and `Secure` unless `server.secure_cookies = false`. Every form carries the
//! session's form token as well, and a POST whose `Origin` is another site is refused.

use std::marker::PhantomData;
use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Query, Request, State};
use axum::http::{HeaderMap, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use chrono::Utc;
use maud::html;
use serde::Deserialize;

use super::form::Fields;
use super::layout::{self, Tr};
use super::{PageError, ROOT};
use crate::api::auth::Permission;
use crate::api::{ApiError, AppState};
use crate::report::Lang;
use crate::store::sessions::{self, Principal, Session};

const COOKIE: &str = "lawang_session";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", axum::routing::post(logout))
        .route("/lang", axum::routing::post(switch_lang))
}

/// A logged-in member of staff whose role holds permission `P`.
pub struct Staff<P> {
    pub session: Session,
    // `fn() -> P`: the marker never makes the extractor less `Send` than a session.
    _p: PhantomData<fn() -> P>,
}

impl<P> Staff<P> {
    pub fn actor(&self) -> crate::model::Actor {
        self.session.actor.clone()
    }
}

fn cookie_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            c.trim()
                .strip_prefix(&format!("{COOKIE}="))
                .map(str::to_owned)
        })
}

/// The session the request's cookie stands for, if any.
pub async fn current(s: &AppState, headers: &HeaderMap) -> Result<Option<Session>, PageError> {
    let Some(cookie) = cookie_of(headers) else {
        return Ok(None);
    };
    Ok(s.db
        .read(move |c| sessions::authenticate(c, &cookie, Utc::now()))
        .await?)
}

impl<P: Permission> FromRequestParts<AppState> for Staff<P> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, PageError> {
        let Some(session) = current(s, &parts.headers).await? else {
            // Inside the nested pages router the URI lost its `/ui`; the original has it.
            let uri = parts
                .extensions
                .get::<axum::extract::OriginalUri>()
                .map_or(&parts.uri, |o| &o.0);
            let next = match parts.method {
                axum::http::Method::GET => uri
                    .path_and_query()
                    .map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned()),
                _ => format!("{ROOT}/"),
            };
            return Err(PageError::LoginNeeded { next });
        };
        if !P::ROLES.contains(&session.actor.role) {
            return Err(PageError::Forbidden {
                role: session.actor.role.to_string(),
                action: P::ACTION,
            });
        }
        Ok(Staff {
            session,
            _p: PhantomData,
        })
    }
}

/// A form posted by a member of staff holding `P`, from one of our own pages.
pub struct Posted<P> {
    pub staff: Staff<P>,
    pub fields: Fields,
}

impl<P: Permission> FromRequest<AppState> for Posted<P> {
    type Rejection = PageError;

    async fn from_request(req: Request, s: &AppState) -> Result<Self, PageError> {
        let (mut parts, body) = req.into_parts();
        same_origin(&parts.headers)?;
        let staff = Staff::<P>::from_request_parts(&mut parts, s).await?;
        let req = Request::from_parts(parts, body);
        let fields = Fields::from_request(req, s).await?;
        if !constant_time_eq(fields.get("csrf").as_bytes(), staff.session.csrf.as_bytes()) {
            tracing::warn!(
                session = staff.session.id,
                "form without this session's token refused"
            );
            return Err(PageError::Csrf);
        }
        Ok(Posted { staff, fields })
    }
}

/// A POST from a page of another site is refused even before its token is looked at.
fn same_origin(headers: &HeaderMap) -> Result<(), PageError> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return Ok(()); // Not a browser's cross-site request: those always say where from.
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, h)| h);
    if host.is_some() && origin_host == host {
        Ok(())
    } else {
        Err(PageError::Csrf)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
    lang: Option<String>,
}

fn lang_of(code: Option<&str>) -> Tr {
    Tr(if code == Some("en") {
        Lang::En
    } else {
        Lang::Id
    })
}

/// Only our own pages: a crafted link must not send a fresh login elsewhere.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/ui/") && !n.contains("//") && !n.contains('\\') => n.into(),
        _ => format!("{ROOT}/"),
    }
}

async fn login_page(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Next>,
) -> Result<Response, PageError> {
    if current(&s, &headers).await?.is_some() {
        return Ok(Redirect::to(&safe_next(q.next.as_deref())).into_response());
    }
    let t = lang_of(q.lang.as_deref());
    Ok(login_form(t, q.next.as_deref(), "", false).into_response())
}

fn login_form(t: Tr, next: Option<&str>, username: &str, failed: bool) -> maud::Markup {
    let other = match t.0 {
        Lang::Id => ("en", "English"),
        Lang::En => ("id", "Bahasa Indonesia"),
    };
    let next = safe_next(next);
    layout::bare(
        t.s("Masuk", "Log in"),
        t,
        html! {
            form.card method="post" action="/ui/login" {
                h2 { (t.s("Masuk ke Lawang", "Log in to Lawang")) }
                @if failed {
                    p.alert.error role="alert" id="login-error" {
                        (t.s("Nama pengguna, kata sandi atau token salah.",
                             "Wrong username, password or token."))
                    }
                }
                input type="hidden" name="next" value=(next);
                input type="hidden" name="lang" value=(t.s("id", "en"));
                label for="username" { (t.s("Nama pengguna", "Username")) }
                input #username name="username" autocomplete="username" value=(username) autofocus;
                label for="password" { (t.s("Kata sandi", "Password")) }
                input #password type="password" name="password" autocomplete="current-password";
                details {
                    summary { (t.s("Masuk dengan token API", "Log in with an API token")) }
                    label for="token" { (t.s("Token API", "API token")) }
                    input #token type="password" name="token" autocomplete="off";
                }
                button type="submit" { (t.s("Masuk", "Log in")) }
            }
            p { a lang=(other.0) href={"/ui/login?lang=" (other.0) "&next=" (super::error::encode(&next))} { (other.1) } }
        },
    )
}

#[derive(Deserialize)]
struct Login {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    token: String,
    next: Option<String>,
    lang: Option<String>,
}

async fn login(
    State(s): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<Login>,
) -> Result<Response, PageError> {
    same_origin(&headers)?;
    let ip = client.ip();
    let throttle = |f: &dyn Fn(&mut crate::api::throttle::Throttle) -> Result<(), ApiError>| {
        s.auth_throttle
            .lock()
            .map_err(|_| ApiError::Internal("the login throttle lock was poisoned".into()))
            .and_then(|mut t| f(&mut t))
    };
    throttle(&|t| {
        t.check(ip, Instant::now())
            .map_err(ApiError::TooManyRequests)
    })?;
    let who = if !f.token.trim().is_empty() {
        let token = f.token.trim().to_owned();
        s.db.read(move |c| sessions::token_id(c, &token))
            .await?
            .map(Principal::Token)
    } else {
        let username = f.username.trim().to_owned();
        let found =
            s.db.read(move |c| sessions::password_of(c, &username))
                .await?;
        let password = f.password.clone();
        let (id, hash) = found.map_or((None, None), |(id, h)| (Some(id), Some(h)));
        let ok = tokio::task::spawn_blocking(move || {
            crate::password::verify(hash.as_deref(), &password)
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
        id.filter(|_| ok).map(Principal::Account)
    };
    let Some(who) = who else {
        throttle(&|t| {
            t.failed(ip, Instant::now());
            Ok(())
        })?;
        // The address and the username typed; never the password or token.
        tracing::info!(client = %ip, username = %f.username.trim(), "failed login to the pages");
        let page = login_form(
            lang_of(f.lang.as_deref()),
            f.next.as_deref(),
            f.username.trim(),
            true,
        );
        return Ok((axum::http::StatusCode::UNAUTHORIZED, page).into_response());
    };
    let lang = lang_of(f.lang.as_deref()).0;
    let (cookie, session) =
        s.db.write(move |tx| {
            Ok((
                sessions::open(tx, who, lang, Utc::now())?,
                crate::store::Changed::none(),
            ))
        })
        .await?;
    tracing::info!(session = session.id, actor = %session.actor.name, role = %session.actor.role, "logged in to the pages");
    let max_age = sessions::LIFETIME.num_seconds();
    let secure = if s.secure_cookies { "; Secure" } else { "" };
    let set = format!(
        "{COOKIE}={cookie}; Path={ROOT}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    );
    Ok((
        [(header::SET_COOKIE, set)],
        Redirect::to(&safe_next(f.next.as_deref())),
    )
        .into_response())
}

async fn logout(
    State(s): State<AppState>,
    posted: Posted<crate::api::auth::Authenticated>,
) -> Result<Response, PageError> {
    let session = posted.staff.session;
    s.db.write(move |tx| {
        sessions::end(tx, &session, Utc::now())?;
        Ok(((), crate::store::Changed::none()))
    })
    .await?;
    let clear = format!("{COOKIE}=; Path={ROOT}; Max-Age=0; HttpOnly; SameSite=Strict");
    Ok(([(header::SET_COOKIE, clear)], Redirect::to("/ui/login")).into_response())
}

/// The header's language switch: the session keeps the choice; back to the same page.
async fn switch_lang(
    State(s): State<AppState>,
    headers: HeaderMap,
    posted: Posted<crate::api::auth::Authenticated>,
) -> Result<Response, PageError> {
    let lang = lang_of(Some(posted.fields.get("lang"))).0;
    let session = posted.staff.session;
    s.db.write(move |tx| {
        sessions::set_lang(tx, &session, lang)?;
        Ok(((), crate::store::Changed::none()))
    })
    .await?;
    // Back where the switch was pressed (our own pages only).
    let back = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| &rest[i..]));
    Ok(Redirect::to(&safe_next(back)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_our_pages() {
        assert_eq!(safe_next(Some("/ui/inbox")), "/ui/inbox");
        assert_eq!(safe_next(Some("https://evil.example/")), "/ui/");
        assert_eq!(safe_next(Some("//evil.example/ui/")), "/ui/");
        assert_eq!(safe_next(Some("/ui//evil.example")), "/ui/");
        assert_eq!(safe_next(None), "/ui/");
    }

    #[test]
    fn origin_must_be_this_host() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        assert!(same_origin(&h).is_ok());
        h.insert(header::ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
        assert!(same_origin(&h).is_ok());
        h.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(same_origin(&h).is_err());
        h.insert(header::ORIGIN, "null".parse().unwrap());
        assert!(same_origin(&h).is_err());
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; lawang_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie_of(&h).as_deref(), Some("abc"));
        h.insert(header::COOKIE, "xlawang_session=abc".parse().unwrap());
        assert_eq!(cookie_of(&h), None);
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
