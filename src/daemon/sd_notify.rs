//! The systemd notification protocol (`sd_notify`): one datagram per state change to the
//! socket named in `$NOTIFY_SOCKET`. Outside systemd (no variable) every call does nothing.
//!
//! `READY=1` once the API listens and the readers run; `RELOADING=1` (with
//! `MONOTONIC_USEC`, as `Type=notify-reload` wants) and `READY=1` around a reload;
//! `STOPPING=1` at shutdown; `WATCHDOG=1` from the watchdog task while the doors answer.

use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Default)]
pub struct Notifier {
    target: Option<Arc<(UnixDatagram, SocketAddr)>>,
}

impl Notifier {
    /// From `$NOTIFY_SOCKET`: a path, or `@name` for an abstract socket.
    pub fn from_env() -> Notifier {
        let Some(name) = std::env::var_os("NOTIFY_SOCKET") else {
            return Notifier::default();
        };
        match connect(Path::new(&name)) {
            Ok(target) => Notifier {
                target: Some(Arc::new(target)),
            },
            Err(e) => {
                tracing::warn!(socket = ?name, error = %e, "NOTIFY_SOCKET unusable; systemd will not hear from lawang");
                Notifier::default()
            }
        }
    }

    pub fn ready(&self, status: &str) {
        self.send(&format!("READY=1\nSTATUS={status}"));
    }

    pub fn reloading(&self) {
        let usec = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
        let usec = usec.tv_sec as u128 * 1_000_000 + usec.tv_nsec as u128 / 1000;
        self.send(&format!(
            "RELOADING=1\nMONOTONIC_USEC={usec}\nSTATUS=reloading the configuration"
        ));
    }

    pub fn stopping(&self) {
        self.send("STOPPING=1\nSTATUS=locking the doors and flushing the register");
    }

    pub fn watchdog(&self) {
        self.send("WATCHDOG=1");
    }

    fn send(&self, message: &str) {
        if let Some(target) = &self.target {
            let (socket, addr) = target.as_ref();
            if let Err(e) = socket.send_to_addr(message.as_bytes(), addr) {
                tracing::warn!(error = %e, "cannot notify systemd");
            }
        }
    }
}

fn connect(name: &Path) -> std::io::Result<(UnixDatagram, SocketAddr)> {
    let addr = match name.as_os_str().as_encoded_bytes().strip_prefix(b"@") {
        Some(abstract_name) => {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(abstract_name)?
        }
        None => SocketAddr::from_pathname(name)?,
    };
    Ok((UnixDatagram::unbound()?, addr))
}

/// How often to ping systemd's watchdog: a third of `$WATCHDOG_USEC`, so one round in which
/// a door is busy for a moment (locking its strike while a reload stops it) is not yet a
/// timeout; only when it is meant for this process (`$WATCHDOG_PID` unset or ours).
pub fn watchdog_interval() -> Option<Duration> {
    interval_from(
        std::env::var("WATCHDOG_USEC").ok().as_deref(),
        std::env::var("WATCHDOG_PID").ok().as_deref(),
        std::process::id(),
    )
}

fn interval_from(usec: Option<&str>, pid: Option<&str>, me: u32) -> Option<Duration> {
    if let Some(pid) = pid
        && pid.trim().parse::<u32>().ok() != Some(me)
    {
        return None;
    }
    let usec: u64 = usec?.trim().parse().ok().filter(|&u| u > 0)?;
    Some(Duration::from_micros(usec) / 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watchdog_interval_is_a_third_of_the_timeout_for_this_process_only() {
        assert_eq!(
            interval_from(Some("30000000"), None, 7),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            interval_from(Some("30000000"), Some("7"), 7),
            Some(Duration::from_secs(10))
        );
        assert_eq!(interval_from(Some("30000000"), Some("8"), 7), None);
        assert_eq!(interval_from(None, None, 7), None);
        assert_eq!(interval_from(Some("0"), None, 7), None);
        assert_eq!(interval_from(Some("x"), None, 7), None);
    }

    #[test]
    fn messages_reach_a_real_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let server = UnixDatagram::bind(&path).unwrap();
        let n = Notifier {
            target: Some(Arc::new(connect(&path).unwrap())),
        };
        n.ready("running");
        n.reloading();
        n.watchdog();
        let mut buf = [0u8; 256];
        let mut next = || {
            let len = server.recv(&mut buf).unwrap();
            String::from_utf8_lossy(&buf[..len]).into_owned()
        };
        assert_eq!(next(), "READY=1\nSTATUS=running");
        let reloading = next();
        assert!(
            reloading.starts_with("RELOADING=1\nMONOTONIC_USEC="),
            "{reloading}"
        );
        assert_eq!(next(), "WATCHDOG=1");
    }

    #[test]
    fn abstract_socket_names_start_with_an_at() {
        let name = format!("@lawang-test-{}", std::process::id());
        let server = {
            use std::os::linux::net::SocketAddrExt;
            let addr = SocketAddr::from_abstract_name(&name.as_bytes()[1..]).unwrap();
            UnixDatagram::bind_addr(&addr).unwrap()
        };
        let n = Notifier {
            target: Some(Arc::new(connect(Path::new(&name)).unwrap())),
        };
        n.stopping();
        let mut buf = [0u8; 128];
        let len = server.recv(&mut buf).unwrap();
        assert!(buf[..len].starts_with(b"STOPPING=1"));
    }

    #[test]
    fn without_a_socket_nothing_happens() {
        Notifier::default().ready("running");
    }
}
