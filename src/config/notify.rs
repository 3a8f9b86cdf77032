//! `[notify]`: email over SMTP and webhooks, validated into a [`NotifyConfig`].
//!
//! Everything is optional: without `[notify.smtp]` emails are recorded as `disabled`, without
//! `[notify.webhook]` events are. Secrets (the SMTP password, the webhook signing key) are
//! paths to files read when the daemon starts, so no secret is ever in the configuration,
//! which `check-config` prints and the log shows.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};
use toml::Spanned;

use super::Invalid;

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyFile {
    /// Delivery attempts before a message is given up (`failed`).
    pub max_attempts: u32,
    /// Wait after the first failed attempt; doubled after each further failure.
    pub retry_first_seconds: u64,
    /// Longest wait between two attempts.
    pub retry_max_seconds: u64,
    /// Days a finished message (sent, failed, disabled) stays in the delivery log.
    pub retention_days: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookFile>,
}

impl Default for NotifyFile {
    fn default() -> Self {
        NotifyFile {
            max_attempts: 20,
            retry_first_seconds: 30,
            retry_max_seconds: 3600,
            retention_days: 90,
            smtp: None,
            webhook: None,
        }
    }
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpFile {
    /// The relay's host name (checked against its TLS certificate).
    pub host: Spanned<String>,
    /// Default: 25 without TLS, 587 for STARTTLS, 465 for implicit TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The sender, e.g. `"Lawang Diskominfo <lawang@diskominfo.example.go.id>"`.
    pub from: Spanned<String>,
    /// `none`, `starttls` (the default; refused if the relay does not offer it) or `tls`.
    #[serde(default)]
    pub tls: SmtpTls,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<Spanned<String>>,
    /// File holding the password (mode 0600); required with `username`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<Spanned<PathBuf>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP: only for a relay on this machine (a password is refused otherwise).
    None,
    #[default]
    Starttls,
    /// Implicit TLS (SMTPS).
    Tls,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookFile {
    /// `http://` or `https://` URL that receives a POST per event. Shown by `check-config`
    /// without its path and query, which often hold a token.
    #[serde(serialize_with = "serialize_url_redacted")]
    pub url: Spanned<String>,
    /// File holding the signing key: each body is signed with HMAC-SHA256 in the
    /// `X-Lawang-Signature: sha256=HEX` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_file: Option<Spanned<PathBuf>>,
    /// Events to send, e.g. `["alarm.raised", "alarm.cleared"]`; absent means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<Spanned<String>>>,
}

fn serialize_url_redacted<S: Serializer>(url: &Spanned<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&redact_url(url.get_ref()))
}

/// `scheme://host:port/…`: what can be shown of a webhook URL.
pub fn redact_url(url: &str) -> String {
    match url.parse::<ureq::http::Uri>() {
        Ok(uri) => match (uri.scheme_str(), uri.authority()) {
            (Some(scheme), Some(authority)) => {
                // The authority may carry `user:password@`.
                let host = authority.as_str().rsplit('@').next().unwrap_or_default();
                format!("{scheme}://{host}/…")
            }
            _ => "(hidden)".into(),
        },
        Err(_) => "(hidden)".into(),
    }
}

/// The validated notification settings.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyConfig {
    pub retry: RetryPolicy,
    pub retention: Duration,
    pub smtp: Option<SmtpConfig>,
    pub webhook: Option<WebhookConfig>,
}

/// When a failed delivery is tried again: after `first`, doubling up to `max_delay`, at most
/// `max_attempts` attempts in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub first: Duration,
    pub max_delay: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub from: lettre::message::Mailbox,
    pub tls: SmtpTls,
    /// The user name and the file its password is read from at start.
    pub login: Option<(String, PathBuf)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WebhookConfig {
    pub url: String,
    pub secret_file: Option<PathBuf>,
    /// `None`: every event.
    pub events: Option<Vec<String>>,
}

impl WebhookConfig {
    pub fn wants(&self, event: &str) -> bool {
        self.events
            .as_ref()
            .is_none_or(|events| events.iter().any(|e| e == event))
    }
}

pub(super) fn validate(f: &NotifyFile) -> Result<NotifyConfig, Invalid> {
    let bad = |m: String| Err((0..0, m));
    if !(1..=100).contains(&f.max_attempts) {
        return bad(format!(
            "notify.max_attempts must be 1 to 100, got {}",
            f.max_attempts
        ));
    }
    if !(1..=86_400).contains(&f.retry_first_seconds) {
        return bad(format!(
            "notify.retry_first_seconds must be 1 to 86400, got {}",
            f.retry_first_seconds
        ));
    }
    if !(f.retry_first_seconds..=7 * 86_400).contains(&f.retry_max_seconds) {
        return bad(format!(
            "notify.retry_max_seconds must be from retry_first_seconds ({}) to 604800, got {}",
            f.retry_first_seconds, f.retry_max_seconds
        ));
    }
    if !(1..=3650).contains(&f.retention_days) {
        return bad(format!(
            "notify.retention_days must be 1 to 3650, got {}",
            f.retention_days
        ));
    }
    Ok(NotifyConfig {
        retry: RetryPolicy {
            max_attempts: f.max_attempts,
            first: Duration::from_secs(f.retry_first_seconds),
            max_delay: Duration::from_secs(f.retry_max_seconds),
        },
        retention: Duration::from_secs(u64::from(f.retention_days) * 86_400),
        smtp: f.smtp.as_ref().map(validate_smtp).transpose()?,
        webhook: f.webhook.as_ref().map(validate_webhook).transpose()?,
    })
}

fn validate_smtp(s: &SmtpFile) -> Result<SmtpConfig, Invalid> {
    let host = s.host.get_ref().trim();
    if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '/') {
        return Err((
            s.host.span(),
            format!(
                "notify.smtp.host {:?} is not a host name or address",
                s.host.get_ref()
            ),
        ));
    }
    let from = s.from.get_ref().parse().map_err(|e| {
        (
            s.from.span(),
            format!(
                "notify.smtp.from {:?} is not an address like \"Lawang <lawang@example.go.id>\": {e}",
                s.from.get_ref()
            ),
        )
    })?;
    let login = match (&s.username, &s.password_file) {
        (None, None) => None,
        (Some(user), Some(file)) => {
            if s.tls == SmtpTls::None && !is_local(host) {
                return Err((
                    user.span(),
                    "notify.smtp: a password is never sent in clear over the network: use tls = \"starttls\" or \"tls\" (tls = \"none\" with a login is only for a relay on this machine)".into(),
                ));
            }
            Some((user.get_ref().clone(), file.get_ref().clone()))
        }
        (Some(user), None) => {
            return Err((
                user.span(),
                "notify.smtp.username needs password_file".into(),
            ));
        }
        (None, Some(file)) => {
            return Err((
                file.span(),
                "notify.smtp.password_file needs username".into(),
            ));
        }
    };
    let port = s.port.unwrap_or(match s.tls {
        SmtpTls::None => 25,
        SmtpTls::Starttls => 587,
        SmtpTls::Tls => 465,
    });
    Ok(SmtpConfig {
        host: host.to_owned(),
        port,
        from,
        tls: s.tls,
        login,
    })
}

fn is_local(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn validate_webhook(w: &WebhookFile) -> Result<WebhookConfig, Invalid> {
    let url = w.url.get_ref();
    let ok = url.parse::<ureq::http::Uri>().is_ok_and(|u| {
        matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some_and(|h| !h.is_empty())
    });
    if !ok {
        // The URL itself is not repeated: it may hold a token.
        return Err((
            w.url.span(),
            "notify.webhook.url is not an http:// or https:// URL with a host".into(),
        ));
    }
    let events = match &w.events {
        None => None,
        Some(list) => {
            let mut events = Vec::new();
            for e in list {
                if !crate::store::outbox::valid_event_name(e.get_ref()) {
                    return Err((
                        e.span(),
                        format!(
                            "notify.webhook.events: {:?} is not an event name such as \"alarm.raised\"",
                            e.get_ref()
                        ),
                    ));
                }
                events.push(e.get_ref().clone());
            }
            Some(events)
        }
    };
    Ok(WebhookConfig {
        url: url.clone(),
        secret_file: w.secret_file.as_ref().map(|f| f.get_ref().clone()),
        events,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    use super::*;

    fn parse(text: &str) -> Result<NotifyConfig, String> {
        Config::parse(text, "t.toml")
            .map(|(c, _)| c.notify)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn without_a_notify_section_nothing_is_delivered_and_defaults_apply() {
        let n = parse("").unwrap();
        assert_eq!((n.smtp, n.webhook), (None, None));
        assert_eq!(n.retry.max_attempts, 20);
        assert_eq!(n.retry.first, Duration::from_secs(30));
        assert_eq!(n.retention, Duration::from_secs(90 * 86_400));
    }

    #[test]
    fn the_documented_example_parses() {
        let n = parse(
            r#"
[notify.smtp]
host = "mail.diskominfo.example.go.id"
from = "Lawang Ruang Server <lawang@diskominfo.example.go.id>"
username = "lawang"
password_file = "/etc/lawang/smtp-password"

[notify.webhook]
url = "https://chat.example.go.id/hooks/T0K3N"
secret_file = "/etc/lawang/webhook-secret"
events = ["alarm.raised", "alarm.cleared"]
"#,
        )
        .unwrap();
        let smtp = n.smtp.unwrap();
        assert_eq!((smtp.port, smtp.tls), (587, SmtpTls::Starttls));
        assert_eq!(
            smtp.from.email.to_string(),
            "lawang@diskominfo.example.go.id"
        );
        assert_eq!(
            smtp.login,
            Some(("lawang".into(), "/etc/lawang/smtp-password".into()))
        );
        let hook = n.webhook.unwrap();
        assert!(hook.wants("alarm.raised") && !hook.wants("workflow.step_waiting"));
    }

    #[test]
    fn ports_follow_the_tls_mode() {
        let port = |tls: &str| {
            parse(&format!(
                "[notify.smtp]\nhost = \"h\"\nfrom = \"a@b.c\"\ntls = \"{tls}\"\n"
            ))
            .unwrap()
            .smtp
            .unwrap()
            .port
        };
        assert_eq!(
            (port("none"), port("starttls"), port("tls")),
            (25, 587, 465)
        );
    }

    #[test]
    fn a_password_is_never_configured_for_plain_smtp_across_the_network() {
        let text = |host: &str| {
            format!(
                "[notify.smtp]\nhost = \"{host}\"\nfrom = \"a@b.c\"\ntls = \"none\"\nusername = \"u\"\npassword_file = \"/p\"\n"
            )
        };
        let err = parse(&text("mail.example.go.id")).unwrap_err();
        assert!(
            err.contains("never sent in clear") && err.contains("line 5"),
            "{err}"
        );
        assert!(parse(&text("127.0.0.1")).is_ok());
        assert!(parse(&text("localhost")).is_ok());
    }

    #[test]
    fn bad_values_are_named_with_their_line() {
        let cases = [
            (
                "[notify.smtp]\nhost = \"h\"\nfrom = \"not an address\"\n",
                "line 3",
                "notify.smtp.from",
            ),
            (
                "[notify.smtp]\nhost = \"h\"\nfrom = \"a@b.c\"\nusername = \"u\"\n",
                "line 4",
                "password_file",
            ),
            (
                "[notify.smtp]\nhost = \"h\"\nfrom = \"a@b.c\"\ntls = \"ssl\"\n",
                "line 4",
                "tls",
            ),
            (
                "[notify.webhook]\nurl = \"ftp://x/y\"\n",
                "line 2",
                "notify.webhook.url",
            ),
            (
                "[notify.webhook]\nurl = \"http://x\"\nevents = [\"Alarm Raised\"]\n",
                "line 3",
                "notify.webhook.events",
            ),
            ("[notify]\nmax_attempts = 0\n", "", "notify.max_attempts"),
            (
                "[notify]\nretry_first_seconds = 60\nretry_max_seconds = 30\n",
                "",
                "retry_max_seconds",
            ),
            ("[notify]\nsmtp = 3\n", "line 2", "SmtpFile"),
            (
                "[notify.webhook]\nurl = \"http://x\"\nsecret = \"s\"\n",
                "line 3",
                "secret",
            ),
        ];
        for (text, line, key) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.contains(line) && err.contains(key), "{text:?} -> {err}");
        }
    }

    #[test]
    fn a_webhook_url_is_shown_without_the_token_in_its_path_or_credentials() {
        let (_, file) = Config::parse(
            "[notify.webhook]\nurl = \"https://user:pw@chat.example.go.id:8443/hooks/T0K3N?k=SECRET\"\n",
            "t.toml",
        )
        .unwrap();
        let shown = file.to_toml();
        assert!(
            shown.contains("url = \"https://chat.example.go.id:8443/…\""),
            "{shown}"
        );
        for secret in ["T0K3N", "SECRET", "pw"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        let err = parse("[notify.webhook]\nurl = \"nope T0K3N\"\n").unwrap_err();
        assert!(!err.contains("T0K3N"), "{err}");
    }
}
