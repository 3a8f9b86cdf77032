//! Weekly schedules: when in the week a right may be used, in the office's local time.
//!
//! A window runs from `from` to `until` on each of its days. A window whose `until` is not
//! after its `from` crosses midnight: it starts on its listed day and ends on the next
//! (a night shift on Friday, 22:00–06:00, still opens the door at 05:59 on Saturday).

use std::fmt;

use chrono::{Datelike, NaiveTime, Timelike, Weekday};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// The right is usable inside any of these windows.
    pub windows: Vec<Window>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// Days the window starts on: `mon` … `sun`.
    #[schema(value_type = Vec<String>, example = json!(["mon", "tue", "wed", "thu", "fri"]))]
    pub days: Vec<Day>,
    /// Local start time, `HH:MM`.
    #[schema(value_type = String, example = "07:00")]
    pub from: ClockTime,
    /// Local end time, `HH:MM` (exclusive; `24:00` is the end of the day).
    #[schema(value_type = String, example = "17:00")]
    pub until: ClockTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    fn index(self) -> u32 {
        self as u32
    }
}

/// Minutes since local midnight, 0..=1440, written `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClockTime(u16);

impl ClockTime {
    pub fn new(minutes: u16) -> Option<Self> {
        (minutes <= 24 * 60).then_some(ClockTime(minutes))
    }

    pub fn minutes(self) -> u16 {
        self.0
    }

    /// A time written in code; `hh:mm` past 24:00 is clamped to 24:00.
    pub const fn hm(hh: u16, mm: u16) -> Self {
        let m = hh * 60 + mm;
        ClockTime(if m > 24 * 60 { 24 * 60 } else { m })
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for ClockTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let bad =
            || serde::de::Error::custom(format!("{text:?} is not a time HH:MM (00:00 to 24:00)"));
        let (h, m) = text.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: u16 = h.parse().map_err(|_| bad())?;
        let m: u16 = m.parse().map_err(|_| bad())?;
        if m >= 60 {
            return Err(bad());
        }
        ClockTime::new(h * 60 + m).ok_or_else(bad)
    }
}

impl Schedule {
    /// Checks what serde cannot: a schedule must be able to open the door at some time.
    pub fn validate(&self) -> Result<(), String> {
        if self.windows.is_empty() {
            return Err("a schedule needs at least one window; omit it for \"any time\"".into());
        }
        for w in &self.windows {
            if w.days.is_empty() {
                return Err("every schedule window needs at least one day".into());
            }
            if w.from == w.until {
                return Err(format!("window {}–{} is empty", w.from, w.until));
            }
        }
        Ok(())
    }

    /// Whether `local` (a wall-clock time in the office's zone) falls in a window.
    pub fn allows(&self, local: chrono::NaiveDateTime) -> bool {
        let minute = (local.time().hour() * 60 + local.time().minute()) as u16;
        let today = local.weekday().num_days_from_monday();
        let yesterday = (today + 6) % 7;
        self.windows.iter().any(|w| {
            let starts = |d: u32| w.days.iter().any(|x| x.index() == d);
            if w.from < w.until {
                starts(today) && w.from.0 <= minute && minute < w.until.0
            } else {
                // Crosses midnight: the evening part today, the morning part from yesterday.
                (starts(today) && minute >= w.from.0) || (starts(yesterday) && minute < w.until.0)
            }
        })
    }
}

/// For tests and fixtures.
pub fn at(day: Weekday, hh: u32, mm: u32) -> chrono::NaiveDateTime {
    // 2024-01-01 was a Monday.
    let date = chrono::NaiveDate::from_ymd_opt(2024, 1, 1 + day.num_days_from_monday())
        .unwrap_or_default();
    date.and_time(NaiveTime::from_hms_opt(hh, mm, 0).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Weekday::*;

    fn sched(json: &str) -> Schedule {
        let s: Schedule = serde_json::from_str(json).unwrap();
        s.validate().unwrap();
        s
    }

    #[test]
    fn office_hours_edges() {
        let s = sched(
            r#"{"windows":[{"days":["mon","tue","wed","thu","fri"],"from":"07:00","until":"17:00"}]}"#,
        );
        let cases = [
            (Mon, 6, 59, false),
            (Mon, 7, 0, true),
            (Fri, 16, 59, true),
            (Fri, 17, 0, false),
            (Sat, 10, 0, false),
            (Sun, 7, 0, false),
        ];
        for (d, h, m, want) in cases {
            assert_eq!(s.allows(at(d, h, m)), want, "{d:?} {h:02}:{m:02}");
        }
    }

    #[test]
    fn night_window_crosses_midnight_into_the_next_day() {
        let s = sched(r#"{"windows":[{"days":["fri"],"from":"22:00","until":"06:00"}]}"#);
        let cases = [
            (Fri, 21, 59, false),
            (Fri, 22, 0, true),
            (Fri, 23, 59, true),
            (Sat, 0, 0, true),
            (Sat, 5, 59, true),
            (Sat, 6, 0, false),
            (Sat, 22, 30, false),
            (Thu, 23, 0, false),
            (Fri, 3, 0, false), // the morning after Thursday, which has no window
        ];
        for (d, h, m, want) in cases {
            assert_eq!(s.allows(at(d, h, m)), want, "{d:?} {h:02}:{m:02}");
        }
    }

    #[test]
    fn sunday_night_wraps_to_monday() {
        let s = sched(r#"{"windows":[{"days":["sun"],"from":"20:00","until":"02:00"}]}"#);
        assert!(s.allows(at(Mon, 1, 59)));
        assert!(!s.allows(at(Mon, 2, 0)));
    }

    #[test]
    fn until_midnight() {
        let s = sched(r#"{"windows":[{"days":["sat"],"from":"00:00","until":"24:00"}]}"#);
        assert!(s.allows(at(Sat, 0, 0)));
        assert!(s.allows(at(Sat, 23, 59)));
        assert!(!s.allows(at(Sun, 0, 0)));
    }

    #[test]
    fn bad_schedules_are_refused() {
        for bad in [
            r#"{"windows":[{"days":["mon"],"from":"7:00","until":"17:00"}]}"#,
            r#"{"windows":[{"days":["mon"],"from":"07:60","until":"17:00"}]}"#,
            r#"{"windows":[{"days":["mon"],"from":"07:00","until":"24:01"}]}"#,
            r#"{"windows":[{"days":["senin"],"from":"07:00","until":"17:00"}]}"#,
            r#"{"windows":[{"days":["mon"],"from":"07:00","until":"17:00","x":1}]}"#,
        ] {
            assert!(serde_json::from_str::<Schedule>(bad).is_err(), "{bad}");
        }
        for invalid in [
            r#"{"windows":[]}"#,
            r#"{"windows":[{"days":[],"from":"07:00","until":"17:00"}]}"#,
            r#"{"windows":[{"days":["mon"],"from":"07:00","until":"07:00"}]}"#,
        ] {
            let s: Schedule = serde_json::from_str(invalid).unwrap();
            assert!(s.validate().is_err(), "{invalid}");
        }
    }
}
