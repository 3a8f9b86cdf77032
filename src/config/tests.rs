//! Configuration tests: defaults, the documented examples, and that every error names its
//! key and line.
use super::*;

fn parse(text: &str) -> Result<Config, String> {
    Config::parse(text, "test.toml")
        .map(|(c, _)| c)
        .map_err(|e| e.to_string())
}

#[test]
fn empty_file_gives_local_defaults() {
    let c = parse("").unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.timezone, chrono_tz::Asia::Jakarta);
    assert!(c.doors.is_empty() && c.readers.is_empty());
}

#[test]
fn the_documented_example_parses() {
    let c = parse(
        r#"
[server]
listen = "127.0.0.1:8080"
timezone = "Asia/Jakarta"

[[door]]
name = "ruang-server"
unlock_seconds = 5
actuator = { kind = "log" }

[[reader]]
name = "masuk"
door = "ruang-server"
direction = "in"
kind = "simulated"
"#,
    )
    .unwrap();
    assert_eq!(c.doors[0].unlock, Duration::from_secs(5));
    assert_eq!(c.readers[0].kind, ReaderKind::Simulated);
    assert_eq!(c.readers[0].direction, Direction::In);
}

#[test]
fn unknown_keys_are_named_with_their_line() {
    let err = parse("[server]\nlisten = \"127.0.0.1:1\"\nlisen = 3\n").unwrap_err();
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("lisen"), "{err}");
}

#[test]
fn bad_values_are_named_with_their_line() {
    let cases = [
        (
            "[server]\n\ntimezone = \"Mars/Olympus\"\n",
            "line 3",
            "timezone",
        ),
        (
            "[[door]]\nname = \"a\"\nunlock_seconds = 0\n",
            "line 3",
            "unlock_seconds",
        ),
        (
            "[[door]]\nname = \"a\"\n[[reader]]\nname = \"r\"\ndoor = \"b\"\ndirection = \"in\"\nkind = \"simulated\"\n",
            "line 5",
            "no [[door]]",
        ),
        (
            "[[door]]\nname = \"a\"\n[[reader]]\nname = \"r\"\ndoor = \"a\"\ndirection = \"in\"\nkind = \"telepathy\"\n",
            "line 7",
            "reader.kind",
        ),
        ("[[door]]\nname = \"a b\"\n", "line 2", "door.name"),
    ];
    for (text, line, key) in cases {
        let err = parse(text).unwrap_err();
        assert!(err.contains(line) && err.contains(key), "{text:?} -> {err}");
    }
}

#[test]
fn pin_rules() {
    let night = parse(
        "[[door]]\nname = \"a\"\npin = \"schedule\"\npin_schedule = { windows = [{ days = [\"sat\", \"sun\"], from = \"00:00\", until = \"24:00\" }] }\n",
    )
    .unwrap();
    let rule = &night.doors[0].pin;
    assert!(rule.required(crate::schedule::at(chrono::Weekday::Sat, 10, 0)));
    assert!(!rule.required(crate::schedule::at(chrono::Weekday::Mon, 10, 0)));
    assert_eq!(
        parse("[[door]]\nname = \"a\"\npin = \"always\"\n")
            .unwrap()
            .doors[0]
            .pin,
        PinRule::Always
    );
    assert!(
        parse("[[door]]\nname = \"a\"\npin = \"schedule\"\n")
            .unwrap_err()
            .contains("pin_schedule")
    );
    assert!(
        parse("[pin]\nattempts = 0\n")
            .unwrap_err()
            .contains("pin.attempts")
    );
    let d = parse("").unwrap();
    assert_eq!(
        (
            d.pin.attempts,
            d.pin.timeout.as_secs(),
            d.pin.lockout.as_secs()
        ),
        (3, 10, 900)
    );
}

#[test]
fn serial_reader_needs_path_and_protocol() {
    let base = "[[door]]\nname = \"a\"\n[[reader]]\nname = \"r\"\ndoor = \"a\"\ndirection = \"out\"\nkind = \"serial\"\n";
    assert!(parse(base).unwrap_err().contains("reader.path"));
    let ok = parse(&format!(
        "{base}path = \"/dev/ttyUSB0\"\nprotocol = \"rdm6300\"\n"
    ))
    .unwrap();
    assert_eq!(
        ok.readers[0].kind,
        ReaderKind::Serial(SerialReaderConfig {
            path: "/dev/ttyUSB0".into(),
            baud: 9600,
            protocol: SerialProtocol::Rdm6300
        })
    );
}

#[test]
fn visitors_default_to_the_kepala_every_door_and_ten_seconds() {
    let c = parse("[[door]]\nname = \"a\"\n[[door]]\nname = \"b\"\n").unwrap();
    assert_eq!(c.visitors.approver_role, crate::model::Role::Kepala);
    assert_eq!(c.visitors.escort_window, Duration::from_secs(10));
    assert_eq!(c.visitors.doors, ["a", "b"]);
    assert_eq!(c.doors[0].anti_passback, AntiPassback::Off);
    let c = parse(
        "[[door]]\nname = \"a\"\n[[door]]\nname = \"b\"\n\
         [visitors]\napprover_role = \"kasi\"\nescort_window_seconds = 2\ndoors = [\"b\"]\n",
    )
    .unwrap();
    assert_eq!(c.visitors.approver_role, crate::model::Role::Kasi);
    assert_eq!(c.visitors.escort_window, Duration::from_secs(2));
    assert_eq!(c.visitors.doors, ["b"]);
}

#[test]
fn bad_visitor_settings_are_named_with_their_line() {
    let door = "[[door]]\nname = \"a\"\n";
    for (text, want) in [
        ("[visitors]\napprover_role = \"helpdesk\"\n", "line 4"),
        ("[visitors]\napprover_role = \"lurah\"\n", "`kepala`"),
        ("[visitors]\n\nescort_window_seconds = 0\n", "line 5"),
        ("[visitors]\ndoors = [\"gudang\"]\n", "gudang"),
        ("[visitors]\ndoors = []\n", "at least one door"),
    ] {
        let err = parse(&format!("{door}{text}")).unwrap_err();
        assert!(err.contains(want), "{text}: {err}");
    }
}

#[test]
fn anti_passback_needs_an_out_reader() {
    let base = "[[door]]\nname = \"a\"\nanti_passback = \"enforce\"\n\
                [[reader]]\nname = \"m\"\ndoor = \"a\"\ndirection = \"in\"\nkind = \"simulated\"\n";
    let err = parse(base).unwrap_err();
    assert!(
        err.contains("line 2") && err.contains("direction = \"out\""),
        "{err}"
    );
    let ok = parse(&format!(
        "{base}[[reader]]\nname = \"k\"\ndoor = \"a\"\ndirection = \"out\"\nkind = \"simulated\"\n"
    ))
    .unwrap();
    assert_eq!(ok.doors[0].anti_passback, AntiPassback::Enforce);
    assert!(parse("[[door]]\nname = \"a\"\nanti_passback = \"sometimes\"\n").is_err());
}

#[test]
fn register_retention_defaults_to_two_years_and_never_below_three_months() {
    assert_eq!(parse("").unwrap().retention_days, 730);
    assert_eq!(
        parse("[register]\nretention_days = 90\n")
            .unwrap()
            .retention_days,
        90
    );
    let e = parse("\n[register]\nretention_days = 89\n").unwrap_err();
    assert!(e.contains("line 3") && e.contains("at least 90"), "{e}");
}

#[test]
fn held_register_lines_are_bounded() {
    assert_eq!(parse("").unwrap().held_lines, 1000);
    assert_eq!(parse("[register]\nheld_lines = 0\n").unwrap().held_lines, 0);
    let e = parse("[register]\nheld_lines = 100001\n").unwrap_err();
    assert!(e.contains("line 2") && e.contains("0 to 100000"), "{e}");
}

#[test]
fn the_packaged_configuration_and_its_commented_examples_parse() {
    let packaged = include_str!("../../debian/lawang.toml");
    let c = parse(packaged).unwrap();
    assert_eq!(c.data_dir, Path::new("/var/lib/lawang"));
    assert_eq!(c.retention_days, 730);
    assert!(c.doors.is_empty());
    let is_setting = |l: &str| {
        l.starts_with('[')
            || l.split_once(" = ")
                .is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
    };
    let uncommented: String = packaged
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(setting) if is_setting(setting) => setting,
            _ => l,
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let c = parse(&uncommented).unwrap();
    assert_eq!(c.doors.len(), 1);
    assert_eq!(c.readers.len(), 2);
}

#[test]
fn a_desk_reader_serves_no_door_and_needs_a_port_of_its_own() {
    let door = "[[door]]\nname = \"a\"\n";
    let c = parse(&format!(
        "{door}[[reader]]\nname = \"meja\"\npurpose = \"enrollment\"\nkind = \"pcsc\"\nmatch = \"ACS\"\n"
    ))
    .unwrap();
    assert!(c.readers.is_empty());
    assert_eq!(c.enrollment_readers[0].name, "meja");
    assert_eq!(c.enrollment_readers[0].kind.as_str(), "pcsc");
    for (text, want) in [
        (
            "[[reader]]\nname = \"meja\"\npurpose = \"enrollment\"\ndoor = \"a\"\nkind = \"simulated\"\n",
            "`door` does not apply",
        ),
        (
            "[[reader]]\nname = \"meja\"\npurpose = \"enrollment\"\ndirection = \"in\"\nkind = \"simulated\"\n",
            "`direction` does not apply",
        ),
        (
            "[[reader]]\nname = \"m\"\ndirection = \"in\"\nkind = \"simulated\"\n",
            "`door` is required",
        ),
        (
            "[[reader]]\nname = \"m\"\ndoor = \"a\"\nkind = \"simulated\"\n",
            "`direction` is required",
        ),
        (
            "[[reader]]\nname = \"m\"\npurpose = \"exit\"\nkind = \"simulated\"\n",
            "expected `door` or `enrollment`",
        ),
        (
            "[[reader]]\nname = \"m\"\ndoor = \"a\"\ndirection = \"in\"\nkind = \"serial\"\npath = \"/dev/ttyUSB0\"\nprotocol = \"rdm6300\"\n\
             [[reader]]\nname = \"meja\"\npurpose = \"enrollment\"\nkind = \"serial\"\npath = \"/dev/ttyUSB0\"\nprotocol = \"rdm6300\"\n",
            "a port of its own",
        ),
        (
            "[[reader]]\nname = \"m\"\npurpose = \"enrollment\"\nkind = \"simulated\"\n\
             [[reader]]\nname = \"m\"\npurpose = \"enrollment\"\nkind = \"simulated\"\n",
            "declared twice",
        ),
    ] {
        let err = parse(&format!("{door}{text}")).unwrap_err();
        assert!(err.contains(want), "{text}: {err}");
    }
}
