//! The period of a report: a day, an ISO week, a month, a quarter or a custom range, as
//! whole days in the office's zone. A tap at 23:59:59 WIB on the last day of November is in
//! November, although it is 16:59:59 UTC.

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;

use super::{Lang, TimeSpec, local_midnight};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day(NaiveDate),
    /// The Monday of an ISO week.
    Week(NaiveDate),
    /// The first day of the month.
    Month(NaiveDate),
    /// The first day of the quarter.
    Quarter(NaiveDate),
    /// From a date or time to a date (included) or time (excluded).
    Custom(TimeSpec, TimeSpec),
}

const MONTHS_ID: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl Period {
    /// `day` `2026-11-30`, `week` `2026-W48`, `month` `2026-11`, `quarter` `2026-Q4`.
    pub fn parse(kind: &str, value: &str) -> Result<Period, String> {
        let bad = |what: &str| format!("{kind} {value:?} is not {what}");
        match kind {
            "day" => NaiveDate::parse_from_str(value, "%Y-%m-%d")
                .map(Period::Day)
                .map_err(|_| bad("a date like 2026-11-30")),
            "week" => {
                let (y, w) = value
                    .split_once("-W")
                    .ok_or_else(|| bad("an ISO week like 2026-W48"))?;
                let y: i32 = y.parse().map_err(|_| bad("an ISO week like 2026-W48"))?;
                let w: u32 = w.parse().map_err(|_| bad("an ISO week like 2026-W48"))?;
                NaiveDate::from_isoywd_opt(y, w, Weekday::Mon)
                    .map(Period::Week)
                    .ok_or_else(|| bad("an ISO week like 2026-W48"))
            }
            "month" => NaiveDate::parse_from_str(&format!("{value}-01"), "%Y-%m-%d")
                .map(Period::Month)
                .map_err(|_| bad("a month like 2026-11")),
            "quarter" => {
                let (y, q) = value
                    .split_once("-Q")
                    .ok_or_else(|| bad("a quarter like 2026-Q4"))?;
                let y: i32 = y.parse().map_err(|_| bad("a quarter like 2026-Q4"))?;
                let q: u32 = q.parse().map_err(|_| bad("a quarter like 2026-Q4"))?;
                if !(1..=4).contains(&q) {
                    return Err(bad("a quarter like 2026-Q4"));
                }
                NaiveDate::from_ymd_opt(y, (q - 1) * 3 + 1, 1)
                    .map(Period::Quarter)
                    .ok_or_else(|| bad("a quarter like 2026-Q4"))
            }
            _ => Err(format!(
                "unknown period {kind:?}: use day, week, month, quarter or from/to"
            )),
        }
    }

    /// The month before the one holding `today`: what a report made on the 1st covers.
    pub fn previous_month(today: NaiveDate) -> Period {
        let first = today.with_day(1).unwrap_or(today);
        Period::Month(
            first
                .pred_opt()
                .and_then(|d| d.with_day(1))
                .unwrap_or(first),
        )
    }

    /// `[start, end)` in UTC.
    pub fn bounds(&self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let days = |first: NaiveDate, next: Option<NaiveDate>| {
            (
                local_midnight(first, tz),
                local_midnight(next.unwrap_or(first), tz),
            )
        };
        match *self {
            Period::Day(d) => days(d, d.succ_opt()),
            Period::Week(d) => days(d, d.checked_add_days(chrono::Days::new(7))),
            Period::Month(d) => days(d, d.checked_add_months(chrono::Months::new(1))),
            Period::Quarter(d) => days(d, d.checked_add_months(chrono::Months::new(3))),
            Period::Custom(from, to) => (from.start(tz), to.end_inclusive_date(tz)),
        }
    }

    /// How the period is named on a report: `November 2026`, `Triwulan IV 2026`.
    pub fn label(&self, lang: Lang, tz: Tz) -> String {
        let month = |d: NaiveDate| {
            let names = match lang {
                Lang::Id => MONTHS_ID,
                Lang::En => MONTHS_EN,
            };
            names[d.month0() as usize]
        };
        let date = |d: NaiveDate| format!("{} {} {}", d.day(), month(d), d.year());
        match *self {
            Period::Day(d) => date(d),
            Period::Week(d) => {
                let end = d.checked_add_days(chrono::Days::new(6)).unwrap_or(d);
                let w = d.iso_week();
                match lang {
                    Lang::Id => format!(
                        "Minggu ke-{} {} ({} – {})",
                        w.week(),
                        w.year(),
                        date(d),
                        date(end)
                    ),
                    Lang::En => format!(
                        "Week {} of {} ({} – {})",
                        w.week(),
                        w.year(),
                        date(d),
                        date(end)
                    ),
                }
            }
            Period::Month(d) => format!("{} {}", month(d), d.year()),
            Period::Quarter(d) => {
                let q = ["I", "II", "III", "IV"][d.month0() as usize / 3];
                match lang {
                    Lang::Id => format!("Triwulan {q} {}", d.year()),
                    Lang::En => format!("Quarter {q} {}", d.year()),
                }
            }
            Period::Custom(..) => {
                let (from, to) = self.bounds(tz);
                let last = (to - chrono::Duration::milliseconds(1)).with_timezone(&tz);
                format!(
                    "{} – {}",
                    date(from.with_timezone(&tz).date_naive()),
                    date(last.date_naive())
                )
            }
        }
    }

    /// A short name for files: `2026-11`, `2026-Q4`, `2026-W48`, `2026-11-30`.
    pub fn slug(&self, tz: Tz) -> String {
        match *self {
            Period::Day(d) => d.format("%Y-%m-%d").to_string(),
            Period::Week(d) => format!("{}-W{:02}", d.iso_week().year(), d.iso_week().week()),
            Period::Month(d) => d.format("%Y-%m").to_string(),
            Period::Quarter(d) => format!("{}-Q{}", d.year(), d.month0() / 3 + 1),
            Period::Custom(..) => {
                let (from, to) = self.bounds(tz);
                let last = (to - chrono::Duration::milliseconds(1)).with_timezone(&tz);
                format!(
                    "{}_{}",
                    from.with_timezone(&tz).format("%Y-%m-%d"),
                    last.format("%Y-%m-%d")
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const WIB: Tz = chrono_tz::Asia::Jakarta;

    #[test]
    fn a_month_is_whole_days_in_the_office_zone() {
        let p = Period::parse("month", "2026-11").unwrap();
        let (from, to) = p.bounds(WIB);
        assert_eq!(from.to_rfc3339(), "2026-10-31T17:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-11-30T17:00:00+00:00");
        // 23:59:59 WIB on 30 November is inside, 00:00:00 WIB on 1 December is not.
        let last = chrono::DateTime::parse_from_rfc3339("2026-11-30T23:59:59+07:00").unwrap();
        assert!(last < to && last >= from);
        let next = chrono::DateTime::parse_from_rfc3339("2026-12-01T00:00:00+07:00").unwrap();
        assert!(next >= to);
        assert_eq!(p.label(Lang::Id, WIB), "November 2026");
        assert_eq!(p.slug(WIB), "2026-11");
    }

    #[test]
    fn weeks_quarters_days_and_custom_ranges() {
        let w = Period::parse("week", "2026-W48").unwrap();
        assert_eq!(
            w,
            Period::Week(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap())
        );
        assert_eq!(w.slug(WIB), "2026-W48");
        let q = Period::parse("quarter", "2026-Q4").unwrap();
        let (from, to) = q.bounds(WIB);
        assert_eq!(from.to_rfc3339(), "2026-09-30T17:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-12-31T17:00:00+00:00");
        assert_eq!(q.label(Lang::Id, WIB), "Triwulan IV 2026");
        assert_eq!(q.label(Lang::En, WIB), "Quarter IV 2026");
        let d = Period::parse("day", "2026-11-30").unwrap();
        assert_eq!(d.label(Lang::Id, WIB), "30 November 2026");
        let c = Period::Custom(
            TimeSpec::parse("2026-11-01").unwrap(),
            TimeSpec::parse("2026-11-15").unwrap(),
        );
        assert_eq!(c.label(Lang::Id, WIB), "1 November 2026 – 15 November 2026");
        assert_eq!(c.slug(WIB), "2026-11-01_2026-11-15");
        for (k, v) in [
            ("month", "2026-13"),
            ("quarter", "2026-Q5"),
            ("week", "2026-W54"),
            ("year", "2026"),
        ] {
            assert!(Period::parse(k, v).is_err(), "{k} {v}");
        }
    }

    #[test]
    fn the_previous_month_of_a_first_of_january() {
        let today = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert_eq!(
            Period::previous_month(today),
            Period::Month(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap())
        );
    }

    #[test]
    fn other_office_zones_have_their_own_midnight() {
        // An office in Makassar (WITA, UTC+8) or Jayapura (WIT, UTC+9).
        let p = Period::parse("month", "2026-11").unwrap();
        let (from, to) = p.bounds(chrono_tz::Asia::Makassar);
        assert_eq!(from.to_rfc3339(), "2026-10-31T16:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-11-30T16:00:00+00:00");
        let (_, to) = p.bounds(chrono_tz::Asia::Jayapura);
        assert_eq!(to.to_rfc3339(), "2026-11-30T15:00:00+00:00");
    }
}
