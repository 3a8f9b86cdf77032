//! The GPIO driver against the kernel's `gpio-sim`: a simulated chip made through configfs,
//! driven with the real character-device requests, observed and pulled through gpio-sim's
//! sysfs attributes (`sim_gpioN/value` and `sim_gpioN/pull`).
//!
//! This is the project's one allowed skip: a CI container has no GPIO hardware, and where
//! its kernel lacks gpio-sim (or configfs, or GPIO support at all) the test says so on the
//! real stderr, past the test harness's capture, and returns.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::config::InputLine;
use crate::door::{Contact, DoorInput};

const CONFIGFS: &str = "/sys/kernel/config";

/// A live simulated chip; torn down on drop.
struct GpioSim {
    dir: PathBuf,
    dev_name: String,
    chip_name: String,
}

impl GpioSim {
    /// Makes a chip with `lines` lines, or says why it cannot and returns `None`.
    fn create(lines: u32) -> Option<GpioSim> {
        let root = Path::new(CONFIGFS).join("gpio-sim");
        if !root.is_dir() {
            // Best effort: as root, load the module and mount configfs if they exist.
            let quietly = |program: &str, args: &[&str]| {
                let _ = std::process::Command::new(program)
                    .args(args)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .status();
            };
            quietly("modprobe", &["gpio-sim"]);
            if Path::new(CONFIGFS).is_dir() && !root.is_dir() {
                quietly("mount", &["-t", "configfs", "none", CONFIGFS]);
            }
        }
        if !root.is_dir() {
            notice(&format!(
                "{} does not exist ({})",
                root.display(),
                kernel_support()
            ));
            return None;
        }
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "lawang-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let dir = root.join(name);
        let made = (|| -> std::io::Result<(String, String)> {
            fs::create_dir(&dir)?;
            fs::create_dir(dir.join("bank0"))?;
            fs::write(dir.join("bank0/num_lines"), lines.to_string())?;
            fs::write(dir.join("live"), "1")?;
            let dev = fs::read_to_string(dir.join("dev_name"))?;
            let chip = fs::read_to_string(dir.join("bank0/chip_name"))?;
            Ok((dev.trim().to_owned(), chip.trim().to_owned()))
        })();
        match made {
            Ok((dev_name, chip_name)) => Some(GpioSim {
                dir,
                dev_name,
                chip_name,
            }),
            Err(e) => {
                teardown(&dir);
                notice(&format!("cannot create a gpio-sim chip: {e}"));
                None
            }
        }
    }

    fn chip(&self) -> PathBuf {
        Path::new("/dev").join(&self.chip_name)
    }

    fn attr(&self, line: u32, name: &str) -> PathBuf {
        Path::new("/sys/devices/platform")
            .join(&self.dev_name)
            .join(&self.chip_name)
            .join(format!("sim_gpio{line}"))
            .join(name)
    }

    /// The physical level of a line (what an output drives).
    fn value(&self, line: u32) -> u8 {
        let text = fs::read_to_string(self.attr(line, "value")).unwrap();
        text.trim().parse().unwrap()
    }

    /// Plays the outside world: a switch pulling the line to ground or letting it rise.
    fn pull(&self, line: u32, high: bool) {
        let pull = if high { "pull-up" } else { "pull-down" };
        fs::write(self.attr(line, "pull"), pull).unwrap();
    }
}

impl Drop for GpioSim {
    fn drop(&mut self) {
        teardown(&self.dir);
    }
}

fn teardown(dir: &Path) {
    let _ = fs::write(dir.join("live"), "0");
    let _ = fs::remove_dir(dir.join("bank0"));
    let _ = fs::remove_dir(dir);
}

/// What the running kernel says about the pieces gpio-sim needs, for the notice.
fn kernel_support() -> String {
    let Ok(out) = std::process::Command::new("sh")
        .args(["-c", "zcat /proc/config.gz 2>/dev/null"])
        .output()
    else {
        return "kernel config not readable".into();
    };
    let config = String::from_utf8_lossy(&out.stdout);
    let keys = [
        "CONFIG_GPIOLIB",
        "CONFIG_GPIO_SIM",
        "CONFIG_CONFIGFS_FS",
        "CONFIG_MODULES",
    ];
    let found: Vec<String> = keys
        .iter()
        .map(|key| {
            let set = config
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_owned));
            format!("{key}={}", set.as_deref().unwrap_or("n"))
        })
        .collect();
    if config.is_empty() {
        "no /proc/config.gz".into()
    } else {
        format!("kernel {}", found.join(" "))
    }
}

/// Written to the real stderr, so it shows even when the harness captures test output.
fn notice(why: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "NOTICE: gpio-sim not available ({why}); real GPIO test skipped"
    );
}

async fn next(rx: &mut mpsc::Receiver<DoorInput>) -> DoorInput {
    tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .expect("a door input within 2 s")
        .expect("the input thread is running")
}

async fn quiet(rx: &mut mpsc::Receiver<DoorInput>) {
    let extra = tokio::time::timeout(Duration::from_millis(150), rx.recv()).await;
    assert!(extra.is_err(), "unexpected door input {extra:?}");
}

#[tokio::test]
async fn strike_and_inputs_on_gpio_sim() {
    let Some(sim) = GpioSim::create(3) else {
        return;
    };
    let chip = sim.chip();

    // Fail-secure strike, active-high relay board: requested locked (coil off).
    let act = GpioActuator::open("sim", &chip, 0, false, FailMode::Secure).unwrap();
    assert_eq!(sim.value(0), 0, "requested at the locked level");
    act.set(Strike::Unlocked).await.unwrap();
    assert_eq!(sim.value(0), 1);
    act.set(Strike::Locked).await.unwrap();
    assert_eq!(sim.value(0), 0);
    drop(act);

    // Fail-safe maglock on an active-low relay board: locked = coil on = line low.
    let act = GpioActuator::open("sim", &chip, 0, true, FailMode::Safe).unwrap();
    assert_eq!(sim.value(0), 0, "requested at the locked level");
    act.set(Strike::Unlocked).await.unwrap();
    assert_eq!(sim.value(0), 1);
    act.set(Strike::Locked).await.unwrap();
    assert_eq!(sim.value(0), 0);
    // The line is held: a second request for it must fail.
    assert!(GpioActuator::open("sim", &chip, 0, false, FailMode::Secure).is_err());
    drop(act);

    // Contact on line 1 (high = door open), exit button on line 2 (pressed = low).
    let contact = InputLine {
        chip: chip.clone(),
        line: 1,
        active_low: false,
    };
    let button = InputLine {
        chip: chip.clone(),
        line: 2,
        active_low: true,
    };
    sim.pull(1, false);
    sim.pull(2, true);
    let (tx, mut rx) = mpsc::channel(16);
    let shutdown = CancellationToken::new();
    let thread = watch_inputs("sim", Some(contact), Some(button), tx, shutdown.clone())
        .unwrap()
        .expect("a thread for two lines");
    // The request itself asks for pull-ups; whatever the start state, it is reported.
    let first = next(&mut rx).await;
    sim.pull(1, false);
    if first != DoorInput::Contact(Contact::Closed) {
        assert_eq!(next(&mut rx).await, DoorInput::Contact(Contact::Closed));
    }
    sim.pull(2, true);
    quiet(&mut rx).await;

    sim.pull(1, true);
    assert_eq!(next(&mut rx).await, DoorInput::Contact(Contact::Open));
    sim.pull(1, false);
    assert_eq!(next(&mut rx).await, DoorInput::Contact(Contact::Closed));
    sim.pull(2, false);
    assert_eq!(next(&mut rx).await, DoorInput::ExitButton);
    sim.pull(2, true);
    quiet(&mut rx).await;
    sim.pull(2, false);
    assert_eq!(next(&mut rx).await, DoorInput::ExitButton);

    let asked = Instant::now();
    shutdown.cancel();
    thread.join().unwrap();
    assert!(asked.elapsed() < Duration::from_millis(250));
}
