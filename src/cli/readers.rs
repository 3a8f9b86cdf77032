//! `lawang readers list`: what is plugged in (PC/SC readers, serial ports) next to what is
//! configured, so commissioning a reader needs no other tool; `lawang osdp`: maintaining an
//! OSDP reader through the running daemon.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use serde_json::{Value, json};

use super::ApiArgs;
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

#[derive(Debug, Subcommand)]
pub enum OsdpCmd {
    /// Install a new secure channel key on the PD (osdp_KEYSET over the established secure
    /// channel). On success point the reader's `scbk_file` at the new key and reload.
    Keyset {
        #[arg(long)]
        reader: String,
        /// File holding the new key as 32 hex digits (the key itself is never an argument:
        /// arguments are visible to other users).
        #[arg(long)]
        key_file: PathBuf,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Switch one of the PD's outputs on or off (osdp_OUT), permanently or for `--seconds`.
    Output {
        #[arg(long)]
        reader: String,
        /// The PD's output number, from 0.
        #[arg(long)]
        output: u8,
        #[arg(long, conflicts_with = "off", required_unless_present = "off")]
        on: bool,
        #[arg(long)]
        off: bool,
        /// Only for this many seconds, then back to the permanent state.
        #[arg(long)]
        seconds: Option<u16>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Move the PD to a new address and speed (osdp_COMSET). The reader is then offline
    /// until its `address` and `baud` are changed to match and lawang is reloaded.
    Comset {
        #[arg(long)]
        reader: String,
        #[arg(long)]
        address: u8,
        #[arg(long)]
        baud: u32,
        #[command(flatten)]
        api: ApiArgs,
    },
}

pub fn osdp(cmd: OsdpCmd, client: impl Fn(ApiArgs) -> Client) -> anyhow::Result<()> {
    match cmd {
        OsdpCmd::Keyset {
            reader,
            key_file,
            api,
        } => {
            let text = std::fs::read_to_string(&key_file)
                .with_context(|| format!("cannot read {}", key_file.display()))?;
            // Checked here so a malformed file is reported by name, without its content.
            crate::reader::osdp::secure::Scbk::parse(&text)
                .with_context(|| format!("{}", key_file.display()))?;
            client(api).post(
                &format!("/api/v1/readers/{reader}/osdp/keyset"),
                &json!({ "key": text.trim() }),
            )?;
            println!(
                "the PD acknowledged the new key: set scbk_file = {:?} for reader {reader:?} and reload lawang (systemctl reload lawang)",
                key_file.display().to_string()
            );
            Ok(())
        }
        OsdpCmd::Output {
            reader,
            output,
            on,
            off: _,
            seconds,
            api,
        } => {
            client(api).post(
                &format!("/api/v1/readers/{reader}/osdp/output"),
                &json!({ "output": output, "on": on, "seconds": seconds }),
            )?;
            let state = if on { "on" } else { "off" };
            match seconds {
                Some(s) => println!("the PD acknowledged: output {output} {state} for {s} s"),
                None => println!("the PD acknowledged: output {output} {state}"),
            }
            Ok(())
        }
        OsdpCmd::Comset {
            reader,
            address,
            baud,
            api,
        } => {
            let answer = client(api).post(
                &format!("/api/v1/readers/{reader}/osdp/comset"),
                &json!({ "address": address, "baud": baud }),
            )?;
            println!(
                "{}",
                answer["message"]
                    .as_str()
                    .unwrap_or("the PD answered COMSET; change the reader's configuration to match and reload lawang (systemctl reload lawang)")
            );
            Ok(())
        }
    }
}
