//! Posted forms: the fields as sent, and checks that put an Indonesian message next to the
//! field at fault instead of failing the whole page.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};

use super::PageError;
use crate::api::{ApiError, AppState};

/// The fields of an `application/x-www-form-urlencoded` body, in order (a field may repeat,
/// as checkboxes do).
#[derive(Debug, Default, Clone)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The trimmed value, or `None` when blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        let v = self.get(name).trim();
        (!v.is_empty()).then(|| v.to_owned())
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn checked(&self, name: &str) -> bool {
        !self.get(name).is_empty()
    }
}

impl FromIterator<(String, String)> for Fields {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        Fields(pairs.into_iter().collect())
    }
}

impl FromRequest<AppState> for Fields {
    type Rejection = PageError;

    async fn from_request(req: Request, s: &AppState) -> Result<Self, PageError> {
        let form = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !form {
            return Err(ApiError::BadRequest("send the form as a browser does".into()).into());
        }
        let bytes = Bytes::from_request(req, s)
            .await
            .map_err(|_| ApiError::PayloadTooLarge)?;
        Ok(Fields(
            form_urlencoded::parse(&bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }
}

/// Messages per field, collected while reading a form, in the page's language.
#[derive(Debug, Default)]
pub struct Check {
    errors: Vec<(&'static str, String)>,
    t: super::layout::Tr,
}

impl Check {
    pub fn new(t: super::layout::Tr) -> Check {
        Check {
            errors: Vec::new(),
            t,
        }
    }

    pub fn fail(&mut self, field: &'static str, message: impl Into<String>) {
        self.errors.push((field, message.into()));
    }

    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn required(&mut self, f: &Fields, field: &'static str, label: &str) -> String {
        f.opt(field).unwrap_or_else(|| {
            let message = match self.t.0 {
                crate::report::Lang::Id => format!("{label} wajib diisi."),
                crate::report::Lang::En => format!("{label} is required."),
            };
            self.fail(field, message);
            String::new()
        })
    }

    /// A calendar date (`YYYY-MM-DD`, as a date input sends it).
    pub fn date(&mut self, f: &Fields, field: &'static str, label: &str) -> Option<NaiveDate> {
        if f.opt(field).is_none() {
            self.required(f, field, label);
            return None;
        }
        let v = f.get(field).trim();
        match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                let message = match self.t.0 {
                    crate::report::Lang::Id => format!("{label} bukan tanggal (TTTT-BB-HH)."),
                    crate::report::Lang::En => format!("{label} is not a date (YYYY-MM-DD)."),
                };
                self.fail(field, message);
                None
            }
        }
    }
}

/// The start of `day` in the office's zone, as UTC.
pub fn start_of(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    crate::report::TimeSpec::Date(day).start(tz)
}

/// A labelled text input with its message underneath, tied together for screen readers.
pub fn input(
    name: &str,
    label: &str,
    value: &str,
    check: Option<&Check>,
    kind: &str,
    required: bool,
) -> Markup {
    let error = check.and_then(|c| c.error(name));
    let error_id = format!("{name}-error");
    html! {
        div.field {
            label for=(name) { (label) @if required { " *" } }
            input id=(name) name=(name) type=(kind) value=(value) required[required]
                aria-invalid=[error.map(|_| "true")]
                aria-describedby=[error.map(|_| error_id.as_str())];
            @if let Some(e) = error { p.field-error id=(error_id) role="alert" { (e) } }
        }
    }
}

/// The hidden form token every form carries.
pub fn csrf(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        Fields(
            pairs
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
        )
    }

    #[test]
    fn checks_put_messages_on_the_field() {
        let f = fields(&[("a", " "), ("d", "2026-13-01"), ("n", "500"), ("ok", "x")]);
        let mut c = Check::default();
        assert_eq!(c.required(&f, "a", "Nama"), "");
        assert_eq!(c.date(&f, "d", "Mulai"), None);
        assert_eq!(c.required(&f, "ok", "Ok"), "x");
        assert!(!c.ok());
        assert_eq!(c.error("a"), Some("Nama wajib diisi."));
        assert!(c.error("d").unwrap().contains("bukan tanggal"));
        assert_eq!(c.error("ok"), None);
    }

    #[test]
    fn messages_follow_the_page_language() {
        let f = fields(&[("d", "kemarin")]);
        let mut c = Check::new(super::super::layout::Tr(crate::report::Lang::En));
        c.required(&f, "a", "Name");
        c.date(&f, "d", "Start");
        assert_eq!(c.error("a"), Some("Name is required."));
        assert_eq!(c.error("d"), Some("Start is not a date (YYYY-MM-DD)."));
    }

    #[test]
    fn repeated_fields_are_all_kept() {
        let f = fields(&[("door", "a"), ("door", "b"), ("x", "")]);
        assert_eq!(f.all("door"), ["a", "b"]);
        assert!(!f.checked("x"));
        assert_eq!(f.opt("x"), None);
    }

    #[test]
    fn an_input_with_an_error_says_so_to_screen_readers() {
        let mut c = Check::default();
        c.fail("nama", "Nama wajib diisi.");
        let html = input("nama", "Nama", "<b>", Some(&c), "text", true).into_string();
        assert!(html.contains("aria-invalid=\"true\""), "{html}");
        assert!(html.contains("aria-describedby=\"nama-error\""), "{html}");
        assert!(html.contains("&lt;b&gt;"), "escaped: {html}");
    }
}
