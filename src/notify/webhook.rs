//! Webhooks: one `POST` of JSON `{id, event, at, payload}` per event, signed with
//! HMAC-SHA256 of the body when a secret is configured. A 2xx answer is delivered; 408, 429
//! and 5xx (and no answer) are tried again; any other answer is a permanent failure (the
//! receiver refuses what we send, so sending it again will not help).
//!
//! The receiver checks `X-Lawang-Signature: sha256=HEX` against the raw body, and may use
//! `id` (the outbox id, also in `X-Lawang-Delivery`) to drop a repeat: delivery is at least
//! once.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{Failure, NotifyError, read_secret};
use crate::config::{WebhookConfig, redact_url};

pub const SIGNATURE_HEADER: &str = "X-Lawang-Signature";
pub const EVENT_HEADER: &str = "X-Lawang-Event";
pub const DELIVERY_HEADER: &str = "X-Lawang-Delivery";
/// Longest wait for the receiver's answer.
const TIMEOUT: Duration = Duration::from_secs(15);

pub struct Webhook {
    config: WebhookConfig,
    secret: Option<Vec<u8>>,
    agent: ureq::Agent,
}

impl Webhook {
    /// Reads the secret file, if any, and the system's CA certificates for `https://`.
    pub fn new(c: &WebhookConfig) -> Result<Webhook, NotifyError> {
        let secret = c
            .secret_file
            .as_ref()
            .map(|f| read_secret("notify.webhook.secret_file", f).map(String::into_bytes))
            .transpose()?;
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_global(Some(TIMEOUT));
        if c.url.starts_with("https:") {
            config = config.tls_config(tls_config());
        }
        Ok(Webhook {
            config: c.clone(),
            secret,
            agent: config.build().into(),
        })
    }

    pub fn wants(&self, event: &str) -> bool {
        self.config.wants(event)
    }

    /// Posts one event; `id` is its outbox id, `at` when it was queued.
    pub async fn post(
        &self,
        id: i64,
        event: &str,
        at: DateTime<Utc>,
        payload: &Value,
    ) -> Result<(), Failure> {
        let body = body(id, event, at, payload);
        let mut request = self
            .agent
            .post(&self.config.url)
            .header("Content-Type", "application/json")
            .header(EVENT_HEADER, event)
            .header(DELIVERY_HEADER, id.to_string());
        if let Some(secret) = &self.secret {
            request = request.header(SIGNATURE_HEADER, signature(secret, &body));
        }
        let url = self.config.url.clone();
        let answer = tokio::task::spawn_blocking(move || request.send(&body[..]))
            .await
            .map_err(|e| Failure::transient(format!("webhook: the request task failed: {e}")))?;
        match answer {
            Ok(response) => status(response.status().as_u16()),
            Err(e) => Err(Failure::transient(format!(
                "webhook: {}",
                describe(&e, &url)
            ))),
        }
    }
}

/// The request body: compact JSON, signed as sent.
pub fn body(id: i64, event: &str, at: DateTime<Utc>, payload: &Value) -> Vec<u8> {
    json!({
        "id": id,
        "event": event,
        "at": at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "payload": payload,
    })
    .to_string()
    .into_bytes()
}

/// `sha256=` and the lowercase hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length; the error case cannot happen.
    let hex = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    };
    format!("sha256={hex}")
}

/// What an HTTP status means for the delivery.
pub fn status(code: u16) -> Result<(), Failure> {
    match code {
        200..=299 => Ok(()),
        408 | 429 | 500..=599 => Err(Failure::transient(format!("webhook: HTTP {code}"))),
        _ => Err(Failure::permanent(format!("webhook: HTTP {code}"))),
    }
}

/// A request failure in words, without the URL's path or query (often a token).
fn describe(e: &ureq::Error, url: &str) -> String {
    match e {
        ureq::Error::Timeout(_) => "no answer in time".into(),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::Io(io) => format!("connection failed: {}", io.kind()),
        ureq::Error::BadUri(_) => "the configured URL is not usable".into(),
        other => other.to_string().replace(url, &redact_url(url)),
    }
}

/// The system's CA certificates (so an office CA installed with update-ca-certificates is
/// trusted), else the bundled Mozilla roots.
fn tls_config() -> ureq::tls::TlsConfig {
    let found = rustls_native_certs::load_native_certs();
    let certs: Vec<ureq::tls::Certificate<'static>> = found
        .certs
        .iter()
        .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    let roots = if certs.is_empty() {
        tracing::warn!(
            "no system CA certificates found; HTTPS webhooks trust the bundled Mozilla roots"
        );
        ureq::tls::RootCerts::WebPki
    } else {
        ureq::tls::RootCerts::new_with_certs(&certs)
    };
    ureq::tls::TlsConfig::builder().root_certs(roots).build()
}
