//! The periodic access report the Kasi Layanan reads instead of the raw register: entries
//! and exits per person, refused taps by reason, entries outside office hours, alarms, plus
//! what the store adds (visits, overdue steps, rights expiring or unused).
//!
//! [`Tally`] is the pure part: it is fed register lines one at a time (a month of a busy
//! register never sits in memory) and keeps only counts and the capped lists.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::schedule::Schedule;
use crate::store::waiting::WaitingItem;

/// Longest list of single events (outside-hours entries, alarms) a report prints; the count
/// is always complete.
pub const MAX_LISTED: usize = 1000;

/// One register line as the report needs it.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    pub at: DateTime<Utc>,
    /// `tap`, `exit_button`, `alarm`, `alarm_cleared`, `clock_jump`.
    pub event: &'a str,
    pub door_id: i64,
    /// `in` or `out`.
    pub direction: Option<&'a str>,
    pub person_id: Option<i64>,
    pub granted: bool,
    pub reason: &'a str,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PersonCounts {
    pub entries: u64,
    pub exits: u64,
    pub refused: u64,
    pub first_at: Option<DateTime<Utc>>,
    pub last_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub door_id: i64,
    pub person_id: Option<i64>,
    /// The alarm code, or `granted` for an entry.
    pub code: String,
}

/// Counts of a period, built line by line.
#[derive(Debug, Clone)]
pub struct Tally {
    tz: Tz,
    working_hours: Schedule,
    /// Keyed by person; `None` holds the taps of cards nobody holds.
    pub people: HashMap<Option<i64>, PersonCounts>,
    pub refused_by_reason: BTreeMap<String, u64>,
    pub alarms_by_kind: BTreeMap<String, u64>,
    pub exit_buttons: u64,
    pub outside_hours: Vec<Event>,
    pub outside_hours_total: u64,
    pub alarms: Vec<Event>,
    pub lines: u64,
}

impl Tally {
    pub fn new(tz: Tz, working_hours: Schedule) -> Tally {
        Tally {
            tz,
            working_hours,
            people: HashMap::new(),
            refused_by_reason: BTreeMap::new(),
            alarms_by_kind: BTreeMap::new(),
            exit_buttons: 0,
            outside_hours: Vec::new(),
            outside_hours_total: 0,
            alarms: Vec::new(),
            lines: 0,
        }
    }

    pub fn add(&mut self, l: Line<'_>) {
        self.lines += 1;
        match l.event {
            "tap" => self.tap(l),
            "exit_button" => self.exit_buttons += 1,
            "alarm" => {
                bump(&mut self.alarms_by_kind, l.reason);
                if self.alarms.len() < MAX_LISTED {
                    self.alarms.push(Event {
                        at: l.at,
                        door_id: l.door_id,
                        person_id: l.person_id,
                        code: l.reason.to_owned(),
                    });
                }
            }
            _ => {}
        }
    }

    fn tap(&mut self, l: Line<'_>) {
        let p = self.people.entry(l.person_id).or_default();
        p.first_at = Some(p.first_at.map_or(l.at, |t| t.min(l.at)));
        p.last_at = Some(p.last_at.map_or(l.at, |t| t.max(l.at)));
        if !l.granted {
            p.refused += 1;
            bump(&mut self.refused_by_reason, l.reason);
            return;
        }
        if l.direction == Some("out") {
            p.exits += 1;
            return;
        }
        p.entries += 1;
        let local = l.at.with_timezone(&self.tz).naive_local();
        if !self.working_hours.allows(local) {
            self.outside_hours_total += 1;
            if self.outside_hours.len() < MAX_LISTED {
                self.outside_hours.push(Event {
                    at: l.at,
                    door_id: l.door_id,
                    person_id: l.person_id,
                    code: "granted".into(),
                });
            }
        }
    }
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_owned(), 1);
        }
    }
}

/// A person as the report names them.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Who {
    pub name: String,
    pub id_number: Option<String>,
    pub unit: Option<String>,
    /// Holds a visitor badge (procedure 4) rather than a staff card.
    pub visitor: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonLine {
    pub person_id: Option<i64>,
    #[serde(flatten)]
    pub who: Who,
    #[serde(flatten)]
    pub counts: PersonCounts,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CodeCount {
    pub code: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventLine {
    pub at: DateTime<Utc>,
    pub door: String,
    pub person_id: Option<i64>,
    pub name: Option<String>,
    pub code: String,
}

/// A right as listed among those expiring or unused.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RightLine {
    pub right_id: i64,
    pub person_id: i64,
    pub name: String,
    pub id_number: Option<String>,
    pub unit: Option<String>,
    pub doors: String,
    pub valid_until: DateTime<Utc>,
    /// The holder's last granted tap at any door, if ever.
    pub last_used: Option<DateTime<Utc>>,
}

/// A visit checked in within the period (the facility register, seed 004).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VisitLine {
    pub visit_id: i64,
    pub nama: String,
    pub instansi: Option<String>,
    pub tujuan: String,
    pub no_badge: Option<String>,
    pub jam_masuk: DateTime<Utc>,
    pub jam_keluar: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Totals {
    pub entries: u64,
    pub exits: u64,
    pub refused: u64,
    pub exit_buttons: u64,
    pub alarms: u64,
    pub outside_hours: u64,
    /// People with at least one tap (unknown cards not counted).
    pub people: u64,
    pub visits: u64,
    pub overdue_steps: u64,
    pub rights_expiring: u64,
    pub rights_unused: u64,
}

/// The whole report, as JSON gives it and the renderers print it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccessReport {
    /// `2026-11`, `2026-Q4` …
    pub period: String,
    /// `November 2026`, `Triwulan IV 2026`.
    pub period_label: String,
    pub period_label_en: String,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Door name; `null` for every door.
    pub door: Option<String>,
    pub generated_at: DateTime<Utc>,
    pub expiring_within_days: u32,
    pub unused_for_days: u32,
    pub totals: Totals,
    /// Staff first, then visitors, by name; unknown cards last.
    pub people: Vec<PersonLine>,
    pub refused_by_reason: Vec<CodeCount>,
    pub outside_hours: Vec<EventLine>,
    pub alarms_by_kind: Vec<CodeCount>,
    pub alarms: Vec<EventLine>,
    pub visits: Vec<VisitLine>,
    pub overdue: Vec<WaitingItem>,
    pub rights_expiring: Vec<RightLine>,
    pub rights_unused: Vec<RightLine>,
}

/// What the store finds beside the register lines.
pub struct Context {
    pub period: String,
    pub period_label: String,
    pub period_label_en: String,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub door: Option<String>,
    pub now: DateTime<Utc>,
    pub expiring_within_days: u32,
    pub unused_for_days: u32,
    pub doors: HashMap<i64, String>,
    pub people: HashMap<i64, Who>,
    pub visits: Vec<VisitLine>,
    pub overdue: Vec<WaitingItem>,
    pub rights_expiring: Vec<RightLine>,
    pub rights_unused: Vec<RightLine>,
}

/// Joins the counts with names and the store's lists.
pub fn assemble(t: Tally, c: Context) -> AccessReport {
    let who = |id: Option<i64>| match id {
        Some(id) => c.people.get(&id).cloned().unwrap_or_else(|| Who {
            name: format!("#{id}"),
            ..Who::default()
        }),
        None => Who::default(),
    };
    let mut people: Vec<PersonLine> = t
        .people
        .iter()
        .map(|(id, counts)| PersonLine {
            person_id: *id,
            who: who(*id),
            counts: counts.clone(),
        })
        .collect();
    people.sort_by(|a, b| {
        (
            a.person_id.is_none(),
            a.who.visitor,
            &a.who.name,
            a.person_id,
        )
            .cmp(&(
                b.person_id.is_none(),
                b.who.visitor,
                &b.who.name,
                b.person_id,
            ))
    });
    let door = |id: i64| {
        c.doors
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("#{id}"))
    };
    let event = |e: &Event| EventLine {
        at: e.at,
        door: door(e.door_id),
        person_id: e.person_id,
        name: e.person_id.map(|id| who(Some(id)).name),
        code: e.code.clone(),
    };
    let counts = |m: &BTreeMap<String, u64>| {
        let mut v: Vec<CodeCount> = m
            .iter()
            .map(|(code, count)| CodeCount {
                code: code.clone(),
                count: *count,
            })
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
        v
    };
    let sum = |f: fn(&PersonCounts) -> u64| t.people.values().map(f).sum::<u64>();
    let totals = Totals {
        entries: sum(|p| p.entries),
        exits: sum(|p| p.exits),
        refused: sum(|p| p.refused),
        exit_buttons: t.exit_buttons,
        alarms: t.alarms_by_kind.values().sum(),
        outside_hours: t.outside_hours_total,
        people: t.people.keys().filter(|k| k.is_some()).count() as u64,
        visits: c.visits.len() as u64,
        overdue_steps: c.overdue.len() as u64,
        rights_expiring: c.rights_expiring.len() as u64,
        rights_unused: c.rights_unused.len() as u64,
    };
    AccessReport {
        outside_hours: t.outside_hours.iter().map(event).collect(),
        alarms: t.alarms.iter().map(event).collect(),
        refused_by_reason: counts(&t.refused_by_reason),
        alarms_by_kind: counts(&t.alarms_by_kind),
        people,
        totals,
        period: c.period,
        period_label: c.period_label,
        period_label_en: c.period_label_en,
        from: c.from,
        until: c.until,
        door: c.door,
        generated_at: c.now,
        expiring_within_days: c.expiring_within_days,
        unused_for_days: c.unused_for_days,
        visits: c.visits,
        overdue: c.overdue,
        rights_expiring: c.rights_expiring,
        rights_unused: c.rights_unused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn line(
        at: &str,
        direction: &str,
        person: Option<i64>,
        granted: bool,
        reason: &str,
    ) -> Line<'static> {
        let at = chrono::DateTime::parse_from_rfc3339(at)
            .unwrap()
            .with_timezone(&Utc);
        let (event, direction) = match direction {
            "alarm" => ("alarm", None),
            "button" => ("exit_button", None),
            "in" => ("tap", Some("in")),
            _ => ("tap", Some("out")),
        };
        Line {
            at,
            event,
            door_id: 1,
            direction,
            person_id: person,
            granted,
            reason: Box::leak(reason.to_owned().into_boxed_str()),
        }
    }

    #[test]
    fn counts_per_person_reasons_alarms_and_office_hours() {
        let mut t = Tally::new(
            chrono_tz::Asia::Jakarta,
            crate::config::ReportConfig::default().working_hours,
        );
        // Monday 2 November 2026, 08:00 WIB: in office hours.
        t.add(line(
            "2026-11-02T08:00:00+07:00",
            "in",
            Some(1),
            true,
            "granted",
        ));
        t.add(line(
            "2026-11-02T12:00:00+07:00",
            "out",
            Some(1),
            true,
            "granted",
        ));
        // 06:59 WIB and Saturday: outside.
        t.add(line(
            "2026-11-03T06:59:00+07:00",
            "in",
            Some(1),
            true,
            "granted",
        ));
        t.add(line(
            "2026-11-07T10:00:00+07:00",
            "in",
            Some(2),
            true,
            "granted",
        ));
        t.add(line(
            "2026-11-04T10:00:00+07:00",
            "in",
            Some(2),
            false,
            "expired",
        ));
        t.add(line(
            "2026-11-04T10:01:00+07:00",
            "in",
            None,
            false,
            "unknown_credential",
        ));
        t.add(line(
            "2026-11-04T10:02:00+07:00",
            "in",
            None,
            false,
            "unknown_credential",
        ));
        t.add(line(
            "2026-11-05T01:00:00+07:00",
            "alarm",
            None,
            false,
            "door_forced",
        ));
        t.add(line(
            "2026-11-05T01:05:00+07:00",
            "button",
            None,
            true,
            "exit_button",
        ));
        assert_eq!(t.lines, 9);
        let p1 = &t.people[&Some(1)];
        assert_eq!((p1.entries, p1.exits, p1.refused), (2, 1, 0));
        assert_eq!(
            p1.first_at.unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap()
        );
        assert_eq!(t.people[&None].refused, 2);
        assert_eq!(t.refused_by_reason["unknown_credential"], 2);
        assert_eq!(t.refused_by_reason["expired"], 1);
        assert_eq!(t.outside_hours_total, 2);
        assert_eq!(t.alarms_by_kind["door_forced"], 1);
        assert_eq!(t.exit_buttons, 1);
    }
}
