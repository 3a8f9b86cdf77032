//! `lawang readers list`: what is plugged in (PC/SC readers, serial ports) next to what is
//! configured, so commissioning a reader needs no other tool.

use serde_json::Value;

use super::client::Client;
use crate::config::{Config, ReaderKind};

pub fn list(config: &Config, client: &Client) -> anyhow::Result<()> {
    println!("PC/SC readers (pcscd):");
    match pcsc_readers() {
        Ok(names) if names.is_empty() => println!("  none"),
        Ok(names) => names.iter().for_each(|n| println!("  {n}")),
        Err(e) => println!("  pcscd not reachable: {e}"),
    }

    println!("\nSerial ports:");
    match tokio_serial::available_ports() {
        Ok(ports) if ports.is_empty() => println!("  none"),
        Ok(ports) => {
            for p in ports {
                let usb = match p.port_type {
                    tokio_serial::SerialPortType::UsbPort(u) => format!(
                        "  USB {:04x}:{:04x}{}{}",
                        u.vid,
                        u.pid,
                        u.manufacturer.map(|m| format!(" {m}")).unwrap_or_default(),
                        u.serial_number
                            .map(|s| format!(" serial {s}"))
                            .unwrap_or_default()
                    ),
                    _ => String::new(),
                };
                println!("  {}{usb}", p.port_name);
            }
        }
        Err(e) => println!("  cannot list: {e}"),
    }

    // The daemon knows whether each reader is online; without it, show the configuration.
    let live = client.get("/api/v1/readers", &[]).ok();
    println!(
        "\nConfigured readers{}:",
        if live.is_some() {
            ""
        } else {
            " (daemon not reachable)"
        }
    );
    if config.readers.is_empty() {
        println!("  none");
    }
    for r in &config.readers {
        let device = match &r.kind {
            ReaderKind::Simulated => "API taps".to_owned(),
            ReaderKind::Pcsc { pattern } => format!("PC/SC name contains {pattern:?}"),
            ReaderKind::Serial(s) => {
                format!("{} at {} baud, {:?}", s.path.display(), s.baud, s.protocol)
            }
            ReaderKind::Osdp(o) => format!(
                "{} at {} baud, OSDP address {}, {}",
                o.path.display(),
                o.baud,
                o.address,
                match o.key {
                    crate::config::OsdpKey::None => "plain (no secure channel)",
                    crate::config::OsdpKey::File(_) => "secure channel",
                    crate::config::OsdpKey::Install => "secure channel, INSTALL MODE key",
                }
            ),
        };
        let state = live
            .as_ref()
            .and_then(|l| l.as_array())
            .and_then(|l| l.iter().find(|x| x["name"] == r.name.as_str()))
            .map(state_of)
            .unwrap_or_else(|| "-".into());
        println!(
            "  {:<12} {:<10} door {:<16} {:<4} {state:<28} {device}",
            r.name,
            r.kind.as_str(),
            r.door,
            r.direction.as_str()
        );
    }
    Ok(())
}

fn state_of(reader: &Value) -> String {
    let status = &reader["status"];
    match status["state"].as_str() {
        Some("online") => "online".into(),
        Some(s) => format!("{s}: {}", status["detail"].as_str().unwrap_or("")),
        None => "-".into(),
    }
}

fn pcsc_readers() -> Result<Vec<String>, pcsc::Error> {
    let ctx = pcsc::Context::establish(pcsc::Scope::User)?;
    let names = match ctx.list_readers_owned() {
        Ok(n) => n,
        Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
        Err(e) => return Err(e),
    };
    Ok(names
        .into_iter()
        .map(|n| n.to_string_lossy().into_owned())
        .collect())
}
