//! SIGHUP: read the configuration again and change only what changed.
//!
//! [`plan`] is pure: from what runs and the new configuration it says which doors and
//! reader groups stop and which start. A door whose settings changed is restarted with its
//! readers (they hold its channels); a reader group whose members changed is restarted; a
//! door or reader whose settings are the same keeps running untouched, with its state
//! (strike timer, alarms, online status). An invalid file changes nothing.

use std::path::{Path, PathBuf};

use crate::config::{
    Config, DoorConfig, EnrollmentReaderConfig, PinConfig, PinRule, ReaderConfig, ReaderKind,
};

use super::devices::Running;
use super::sd_notify::Notifier;

/// What one driver task or thread drives: one reader, or every OSDP reader on one port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupKey {
    Reader(String),
    OsdpBus(PathBuf),
}

impl GroupKey {
    fn of(reader: &ReaderConfig) -> GroupKey {
        match &reader.kind {
            ReaderKind::Osdp(o) => GroupKey::OsdpBus(o.path.clone()),
            _ => GroupKey::Reader(reader.name.clone()),
        }
    }
}

/// The readers of a configuration in their driver groups, in configuration order.
pub fn groups(readers: &[ReaderConfig]) -> Vec<(GroupKey, Vec<ReaderConfig>)> {
    let mut out: Vec<(GroupKey, Vec<ReaderConfig>)> = Vec::new();
    for r in readers {
        let key = GroupKey::of(r);
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(r.clone()),
            None => out.push((key, vec![r.clone()])),
        }
    }
    out
}

/// What a reload (or the first start) does.
#[derive(Debug)]
pub struct Plan {
    pub stop_groups: Vec<GroupKey>,
    pub stop_doors: Vec<String>,
    pub start_doors: Vec<DoorConfig>,
    pub start_groups: Vec<(GroupKey, Vec<ReaderConfig>)>,
    /// The whole new configuration: database rows, ordering, PIN settings.
    pub all_doors: Vec<DoorConfig>,
    pub all_readers: Vec<ReaderConfig>,
    pub pin: PinConfig,
    /// The desk readers; all restart when they differ from the running ones.
    pub enrollment_readers: Vec<EnrollmentReaderConfig>,
}

impl Plan {
    pub fn door_order(&self, name: &str) -> usize {
        self.all_doors
            .iter()
            .position(|d| d.name == name)
            .unwrap_or(usize::MAX)
    }

    pub fn group_order(&self, key: &GroupKey) -> usize {
        self.all_readers
            .iter()
            .position(|r| GroupKey::of(r) == *key)
            .unwrap_or(usize::MAX)
    }

    pub fn is_empty(&self) -> bool {
        self.stop_groups.is_empty()
            && self.stop_doors.is_empty()
            && self.start_doors.is_empty()
            && self.start_groups.is_empty()
    }
}

/// From the running doors, PIN settings and reader groups to `new`.
pub fn plan<'a>(
    doors: impl IntoIterator<Item = &'a DoorConfig>,
    pin: &PinConfig,
    running_groups: impl IntoIterator<Item = (&'a GroupKey, &'a [ReaderConfig])>,
    new: &Config,
) -> Plan {
    let doors: Vec<&DoorConfig> = doors.into_iter().collect();
    let pin_changed = *pin != new.pin;
    // A PIN door holds the PIN timeout and the shared lockout: new PIN settings restart it.
    let same = |old: &DoorConfig, new: &DoorConfig| {
        old == new && !(pin_changed && new.pin != PinRule::Never)
    };
    let mut p = Plan {
        stop_groups: Vec::new(),
        stop_doors: Vec::new(),
        start_doors: Vec::new(),
        start_groups: Vec::new(),
        all_doors: new.doors.clone(),
        all_readers: new.readers.clone(),
        pin: new.pin.clone(),
        enrollment_readers: new.enrollment_readers.clone(),
    };
    for old in &doors {
        if !new.doors.iter().any(|d| same(old, d)) {
            p.stop_doors.push(old.name.clone());
        }
    }
    for d in &new.doors {
        if !doors.iter().any(|old| same(old, d)) {
            p.start_doors.push(d.clone());
        }
    }
    let new_groups = groups(&new.readers);
    let restarted = |members: &[ReaderConfig]| {
        members
            .iter()
            .any(|r| p.start_doors.iter().any(|d| d.name == r.door))
    };
    let mut kept = Vec::new();
    for (key, members) in running_groups {
        let unchanged = new_groups
            .iter()
            .any(|(k, m)| k == key && m.as_slice() == members);
        if unchanged && !restarted(members) {
            kept.push(key.clone());
        } else {
            p.stop_groups.push(key.clone());
        }
    }
    for (key, members) in new_groups {
        if !kept.contains(&key) {
            p.start_groups.push((key, members));
        }
    }
    p
}

/// Settings a reload cannot change: the listener, the data directory, the zone the access
/// list was built in, logging. Named so the log says a restart is needed.
pub fn restart_only(old: &Config, new: &Config) -> Vec<&'static str> {
    let mut keys = Vec::new();
    if old.listen != new.listen {
        keys.push("server.listen");
    }
    if old.timezone != new.timezone {
        keys.push("server.timezone");
    }
    if old.max_body_bytes != new.max_body_bytes {
        keys.push("server.max_body_bytes");
    }
    if old.data_dir != new.data_dir {
        keys.push("store.data_dir");
    }
    if old.log != new.log {
        keys.push("log");
    }
    // Read once at start by the API, the scheduler, the notification task and the doors'
    // escort rule.
    if old.workflow != new.workflow {
        keys.push("workflow");
    }
    if old.notify != new.notify {
        keys.push("notify");
    }
    if old.visitors != new.visitors {
        keys.push("visitors");
    }
    if old.report != new.report {
        keys.push("report");
    }
    keys
}

/// Reloads from `source` (the `--config` file, or the default search). Returns the new
/// configuration in force, or `None` when the file was refused and nothing changed.
pub async fn reload(
    running: &mut Running,
    source: Option<&Path>,
    current: &Config,
    notifier: &Notifier,
) -> Option<Config> {
    notifier.reloading();
    let result = reload_inner(running, source, current).await;
    notifier.ready("running");
    result
}

async fn reload_inner(
    running: &mut Running,
    source: Option<&Path>,
    current: &Config,
) -> Option<Config> {
    let (mut new, _) = match Config::load(source) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "SIGHUP: configuration refused; the running configuration stays in force");
            return None;
        }
    };
    let restart = restart_only(current, &new);
    if !restart.is_empty() {
        tracing::warn!(
            keys = ?restart,
            "SIGHUP: these settings only change with a restart; the running values stay"
        );
        new.listen = current.listen;
        new.timezone = current.timezone;
        new.max_body_bytes = current.max_body_bytes;
        new.data_dir = current.data_dir.clone();
        new.log = current.log.clone();
        new.workflow = current.workflow.clone();
        new.notify = current.notify.clone();
        new.visitors = current.visitors.clone();
        new.report = current.report.clone();
    }
    let plan = plan(running.doors(), running.pin(), running.groups(), &new);
    tracing::info!(
        stop_doors = ?plan.stop_doors,
        start_doors = plan.start_doors.len(),
        stop_reader_groups = plan.stop_groups.len(),
        start_reader_groups = plan.start_groups.len(),
        "SIGHUP: applying the configuration"
    );
    for e in running.apply(plan).await {
        tracing::error!(
            error = format!("{e:#}"),
            "SIGHUP: part of the configuration did not start"
        );
    }
    Some(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::parse(text, "test").unwrap().0
    }

    const BASE: &str = r#"
[[door]]
name = "a"
[[door]]
name = "b"
[[reader]]
name = "a-in"
door = "a"
direction = "in"
kind = "simulated"
[[reader]]
name = "b-in"
door = "b"
direction = "in"
kind = "simulated"
"#;

    fn plan_from(old: &Config, new: &Config) -> Plan {
        let groups = groups(&old.readers);
        plan(
            &old.doors,
            &old.pin,
            groups.iter().map(|(k, m)| (k, m.as_slice())),
            new,
        )
    }

    fn reader(name: &str) -> GroupKey {
        GroupKey::Reader(name.into())
    }

    #[test]
    fn the_same_configuration_changes_nothing() {
        let c = config(BASE);
        assert!(plan_from(&c, &c).is_empty());
    }

    #[test]
    fn a_first_start_starts_everything() {
        let c = config(BASE);
        let p = plan(&[], &c.pin, [], &c);
        assert_eq!(p.start_doors.len(), 2);
        assert_eq!(p.start_groups.len(), 2);
    }

    #[test]
    fn adding_and_removing_a_reader_touches_only_that_reader() {
        let old = config(BASE);
        let new = config(&format!(
            "{BASE}[[reader]]\nname = \"a-out\"\ndoor = \"a\"\ndirection = \"out\"\nkind = \"simulated\"\n"
        ));
        let p = plan_from(&old, &new);
        assert!(p.stop_doors.is_empty() && p.start_doors.is_empty() && p.stop_groups.is_empty());
        assert_eq!(p.start_groups.len(), 1);
        assert_eq!(p.start_groups[0].0, reader("a-out"));

        let p = plan_from(&new, &old);
        assert_eq!(p.stop_groups, [reader("a-out")]);
        assert!(p.start_groups.is_empty() && p.stop_doors.is_empty());
    }

    #[test]
    fn a_changed_door_restarts_with_its_readers_and_nothing_else() {
        let old = config(BASE);
        let new = config(&BASE.replacen("name = \"b\"\n", "name = \"b\"\nunlock_seconds = 9\n", 1));
        let p = plan_from(&old, &new);
        assert_eq!(p.stop_doors, ["b"]);
        assert_eq!(p.start_doors.len(), 1);
        assert_eq!(p.stop_groups, [reader("b-in")]);
        assert_eq!(p.start_groups.len(), 1);
        assert_eq!(p.start_groups[0].0, reader("b-in"));
    }

    #[test]
    fn a_changed_reader_restarts_alone() {
        let old = config(BASE);
        let new = config(&BASE.replacen(
            "name = \"b-in\"\ndoor = \"b\"\ndirection = \"in\"",
            "name = \"b-in\"\ndoor = \"b\"\ndirection = \"out\"",
            1,
        ));
        let p = plan_from(&old, &new);
        assert_eq!(p.stop_groups, [reader("b-in")]);
        assert_eq!(p.start_groups[0].0, reader("b-in"));
        assert!(p.stop_doors.is_empty());
    }

    #[test]
    fn new_pin_settings_restart_only_pin_doors() {
        let old = config(&BASE.replacen("name = \"a\"\n", "name = \"a\"\npin = \"always\"\n", 1));
        let new = config(&format!(
            "[pin]\ntimeout_seconds = 20\n{}",
            BASE.replacen("name = \"a\"\n", "name = \"a\"\npin = \"always\"\n", 1)
        ));
        let p = plan_from(&old, &new);
        assert_eq!(p.stop_doors, ["a"]);
        assert_eq!(p.stop_groups, [reader("a-in")]);
    }

    #[test]
    fn osdp_readers_on_one_port_are_one_group() {
        let bus = |extra: &str| {
            format!(
                "[[door]]\nname = \"a\"\n\
                 [[reader]]\nname = \"r1\"\ndoor = \"a\"\ndirection = \"in\"\nkind = \"osdp\"\npath = \"/dev/x\"\naddress = 1\nsecure = false\n\
                 [[reader]]\nname = \"r2\"\ndoor = \"a\"\ndirection = \"out\"\nkind = \"osdp\"\npath = \"/dev/x\"\naddress = 2\nsecure = false\n{extra}"
            )
        };
        let old = config(&bus(""));
        assert_eq!(groups(&old.readers).len(), 1);
        let new = config(&bus("poll_ms = 80\n"));
        let p = plan_from(&old, &new);
        assert_eq!(p.stop_groups, [GroupKey::OsdpBus("/dev/x".into())]);
        assert_eq!(p.start_groups[0].1.len(), 2);
    }

    #[test]
    fn restart_only_settings_are_named() {
        let old = config(BASE);
        let new = config(&format!(
            "[server]\nlisten = \"127.0.0.1:9\"\n[log]\nformat = \"json\"\n{BASE}"
        ));
        assert_eq!(restart_only(&old, &new), ["server.listen", "log"]);
    }
}
