//! `lawang`: parse the command line, load the configuration, start logging, and hand over
//! to the daemon or a CLI command.

use std::process::ExitCode;

use clap::Parser;
use lawang::cli::{Cli, Command};
use lawang::config::{Config, LogFormat};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (config, file) = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("lawang: configuration error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Serve => {
            init_tracing(&config);
            serve(config, cli.config)
        }
        other => lawang::cli::run(other, &config, &file),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("lawang: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to standard error. Under systemd (`$JOURNAL_STREAM` set) text lines carry
/// neither colours nor a timestamp: the journal stamps each line itself. `json` gives one
/// object per line for log shippers.
fn init_tracing(config: &Config) {
    use std::io::IsTerminal;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.level));
    let journal = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match (config.log.format, journal) {
        (LogFormat::Json, _) => builder.json().init(),
        (LogFormat::Text, true) => builder.without_time().init(),
        (LogFormat::Text, false) => builder.init(),
    }
}

fn serve(config: Config, source: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        let shutdown = CancellationToken::new();
        let (reload, requests) = tokio::sync::mpsc::channel(1);
        on_signals(shutdown.clone(), reload)?;
        let reload = lawang::daemon::Reload { source, requests };
        lawang::daemon::run(config, listener, shutdown, reload).await
    })
}

/// SIGTERM (systemd) or SIGINT (Ctrl-C) starts an orderly stop: doors locked, register
/// flushed. SIGHUP asks for a reload; several while one runs make one more.
fn on_signals(
    shutdown: CancellationToken,
    reload: tokio::sync::mpsc::Sender<()>,
) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM: stopping"),
                _ = int.recv() => tracing::info!("SIGINT: stopping"),
                _ = hup.recv() => {
                    tracing::info!("SIGHUP: reloading the configuration");
                    let _ = reload.try_send(());
                    continue;
                }
            }
            shutdown.cancel();
            return;
        }
    });
    Ok(())
}
