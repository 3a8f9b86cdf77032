//! Email through an SMTP relay (lettre over tokio): STARTTLS or implicit TLS with the
//! system's CA certificates, or plain SMTP to a relay on this machine. UTF-8 subjects and
//! bodies (Indonesian texts) are encoded by lettre (RFC 2047 words, quoted-printable or
//! base64 bodies).

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{Failure, NotifyError, read_secret};
use crate::config::{SmtpConfig, SmtpTls};
use crate::store::outbox::Email;

/// Longest wait for the relay at each step of a conversation.
const TIMEOUT: Duration = Duration::from_secs(30);

pub struct Relay {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Relay {
    /// Builds the transport and reads the password file, if any. Connects to nothing yet.
    pub fn new(c: &SmtpConfig) -> Result<Relay, NotifyError> {
        let tls = |host: &str| {
            TlsParameters::new(host.to_owned())
                .map_err(|e| NotifyError::Smtp(format!("TLS for {host}: {e}")))
        };
        let tls = match c.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls => Tls::Required(tls(&c.host)?),
            SmtpTls::Tls => Tls::Wrapper(tls(&c.host)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(c.host.as_str())
            .port(c.port)
            .tls(tls)
            .timeout(Some(TIMEOUT));
        if let Some((user, file)) = &c.login {
            let password = read_secret("notify.smtp.password_file", file)?;
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Relay {
            transport: builder.build(),
            from: c.from.clone(),
        })
    }

    pub async fn send(&self, email: &Email) -> Result<(), Failure> {
        let message = message(&self.from, email)?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| {
            let error = format!("smtp: {e}");
            if e.is_permanent() {
                Failure::permanent(error)
            } else {
                Failure::transient(error)
            }
        })
    }
}

/// The message as sent: one `To` per recipient, a plain UTF-8 text body. An address that
/// cannot be an email address is a permanent failure.
pub fn message(from: &Mailbox, email: &Email) -> Result<Message, Failure> {
    let mut builder = Message::builder()
        .from(from.clone())
        .message_id(None)
        .subject(email.subject.as_str())
        .header(ContentType::TEXT_PLAIN);
    for to in &email.to {
        let mailbox: Mailbox = to
            .parse()
            .map_err(|e| Failure::permanent(format!("{to:?} is not an email address: {e}")))?;
        builder = builder.to(mailbox);
    }
    builder
        .body(email.body.clone())
        .map_err(|e| Failure::permanent(format!("cannot build the message: {e}")))
}
