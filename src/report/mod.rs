//! What office staff read: register exports and the facility register of visits (seed 004)
//! now; periodic reports and the SOP's other forms build on the same pieces. Renderers are
//! pure: rows in, bytes out, times shown in the office's zone, labels in Indonesian with
//! English as an option.

pub mod access;
pub mod access_doc;
pub mod csv;
pub mod doc;
pub mod forms;
pub mod html;
pub mod pdf;
pub mod period;
pub mod scheduled;
pub mod visits;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Deserialize;

/// A document in `format` (JSON is the caller's business: it serialises its own data).
pub fn render(
    doc: &doc::Document,
    format: doc::Format,
    sep: u8,
    lang: Lang,
) -> std::io::Result<Vec<u8>> {
    match format {
        doc::Format::Json => serde_json::to_vec(doc).map_err(std::io::Error::other),
        doc::Format::Csv => {
            let mut out = Vec::with_capacity(16 * 1024);
            doc::to_csv(doc, sep, &mut out)?;
            Ok(out)
        }
        doc::Format::Html => Ok(html::to_html(
            doc,
            match lang {
                Lang::Id => "id",
                Lang::En => "en",
            },
        )
        .into_bytes()),
        doc::Format::Pdf => pdf::to_pdf(
            doc,
            match lang {
                Lang::Id => "Halaman",
                Lang::En => "Page",
            },
        )
        .map_err(std::io::Error::other),
    }
}

/// Language of labels and column names.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Id,
    En,
}

/// A time given by a person: an RFC 3339 instant, or a date meaning that day in the office's
/// zone (`2026-11-01`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSpec {
    Instant(DateTime<Utc>),
    Date(NaiveDate),
}

impl TimeSpec {
    pub fn parse(text: &str) -> Result<TimeSpec, String> {
        if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return Ok(TimeSpec::Date(d));
        }
        DateTime::parse_from_rfc3339(text)
            .map(|t| TimeSpec::Instant(t.with_timezone(&Utc)))
            .map_err(|_| {
                format!("{text:?} is neither a date (2026-11-01) nor an RFC 3339 time (2026-11-01T08:00:00+07:00)")
            })
    }

    /// The start of the period: a date means its first instant in `tz`.
    pub fn start(self, tz: chrono_tz::Tz) -> DateTime<Utc> {
        match self {
            TimeSpec::Instant(t) => t,
            TimeSpec::Date(d) => local_midnight(d, tz),
        }
    }

    /// The exclusive end of a period given as its last day: a date includes the whole day.
    pub fn end_inclusive_date(self, tz: chrono_tz::Tz) -> DateTime<Utc> {
        match self {
            TimeSpec::Instant(t) => t,
            TimeSpec::Date(d) => local_midnight(d.succ_opt().unwrap_or(d), tz),
        }
    }
}

pub(crate) fn local_midnight(d: NaiveDate, tz: chrono_tz::Tz) -> DateTime<Utc> {
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
}

impl<'de> Deserialize<'de> for TimeSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        TimeSpec::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_is_a_whole_day_in_the_office_zone() {
        let tz = chrono_tz::Asia::Jakarta;
        let d = TimeSpec::parse("2026-11-30").unwrap();
        assert_eq!(d.start(tz).to_rfc3339(), "2026-11-29T17:00:00+00:00");
        assert_eq!(
            d.end_inclusive_date(tz).to_rfc3339(),
            "2026-11-30T17:00:00+00:00"
        );
        let t = TimeSpec::parse("2026-11-30T08:00:00+07:00").unwrap();
        assert_eq!(t.start(tz).to_rfc3339(), "2026-11-30T01:00:00+00:00");
        assert!(TimeSpec::parse("30/11/2026").is_err());
        assert!(TimeSpec::parse("2026-02-30").is_err());
    }
}
