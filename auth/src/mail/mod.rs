//! Sending email (Django's `django.core.mail`): one [`EmailBackend`]
//! trait and four backends chosen by `AUTH_EMAIL_BACKEND`: `console` (the
//! default: each message on standard output), `file` (one `.eml` file per
//! message in `AUTH_EMAIL_FILE_PATH`), `smtp` (`AUTH_EMAIL_HOST`, …, with
//! the `smtp` feature) and `memory` (kept for tests: [`Mail::outbox`],
//! through `auth.mail()`).
//! An app can bring its own with [`AuthBuilder::email_backend`].
//!
//! [`AuthBuilder::email_backend`]: crate::AuthBuilder::email_backend

mod console;
mod file;
mod memory;
#[cfg(feature = "smtp")]
mod smtp;

use std::sync::Arc;

use crate::{
    kernel::error::{Error, Result},
    settings::{EmailBackendKind, Settings},
};

pub(crate) use memory::Outbox;

/// One message (Django's `EmailMessage`, plain text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailMessage {
    /// The subject, one line.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
    /// The sender (`DEFAULT_FROM_EMAIL` unless a view says otherwise).
    pub from_email: String,
    /// The recipients.
    pub to: Vec<String>,
}

impl EmailMessage {
    /// The message in RFC 5322 form (headers encoded as needed, a `Date`
    /// and a `Message-ID`), as the console and file backends write it and
    /// SMTP sends it.
    pub fn to_rfc5322(&self) -> Result<Vec<u8>> {
        Ok(self.build()?.formatted())
    }

    pub(crate) fn build(&self) -> Result<lettre::Message> {
        use lettre::message::{
            Body, Mailbox, header::ContentTransferEncoding, header::ContentType,
        };
        let parse = |address: &str| {
            address
                .parse::<Mailbox>()
                .map_err(|e| Error::Invalid(format!("invalid email address {address:?}: {e}")))
        };
        let from = parse(&self.from_email)?;
        let message_id = format!(
            "<{}@{}>",
            uuid::Uuid::new_v4().simple(),
            from.email.domain()
        );
        let mut builder = lettre::Message::builder()
            .from(from)
            .message_id(Some(message_id))
            .subject(self.subject.clone());
        for to in &self.to {
            builder = builder.to(parse(to)?);
        }
        // As written, with CRLF line ends, never quoted-printable: a link
        // in the body stays whole on its line, whatever reads the message.
        // (lettre would switch to quoted-printable past 76 characters; RFC
        // 5322 allows 998.) Anything else (NUL, a bare CR, a longer line)
        // goes as base64.
        let text = self.body.replace("\r\n", "\n").replace('\n', "\r\n");
        let plain = !text.contains(['\0'])
            && !text.replace("\r\n", "").contains('\r')
            && text.split("\r\n").all(|line| line.len() <= 998);
        let body = if plain {
            let encoding = if text.is_ascii() {
                ContentTransferEncoding::SevenBit
            } else {
                ContentTransferEncoding::EightBit
            };
            Body::dangerous_pre_encoded(text.into_bytes(), encoding)
        } else {
            Body::new_with_encoding(self.body.clone(), ContentTransferEncoding::Base64)
                .unwrap_or_else(Body::new)
        };
        builder
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| Error::Invalid(format!("cannot build the message: {e}")))
    }
}

/// Where messages go. Implement it for a service of your own and give it
/// to [`AuthBuilder::email_backend`](crate::AuthBuilder::email_backend).
pub trait EmailBackend: Send + Sync + 'static {
    /// Sends one message.
    fn send(&self, message: &EmailMessage) -> impl Future<Output = Result<()>> + Send;
}

/// [`EmailBackend`] with its future boxed.
trait DynBackend: Send + Sync {
    fn send<'a>(
        &'a self,
        message: &'a EmailMessage,
    ) -> crate::kernel::future::BoxFuture<'a, Result<()>>;
}

impl<B: EmailBackend> DynBackend for B {
    fn send<'a>(
        &'a self,
        message: &'a EmailMessage,
    ) -> crate::kernel::future::BoxFuture<'a, Result<()>> {
        Box::pin(EmailBackend::send(self, message))
    }
}

/// How many messages may be in preparation off the request path at once
/// (password-reset requests): a flood drops the excess.
pub(crate) const MAIL_SLOTS: usize = 32;

/// The app's email backend ([`Auth::mail`](crate::Auth::mail)).
#[derive(Clone)]
pub struct Mail {
    backend: Arc<dyn DynBackend>,
    outbox: Option<Outbox>,
    /// Messages being rendered and sent off the request path: a bounded
    /// number at a time.
    slots: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail").finish_non_exhaustive()
    }
}

impl Mail {
    /// An app's own backend.
    pub(crate) fn custom(backend: impl EmailBackend) -> Self {
        Mail {
            backend: Arc::new(backend),
            outbox: None,
            slots: Arc::new(tokio::sync::Semaphore::new(MAIL_SLOTS)),
        }
    }

    /// A slot to prepare a message off the request path, if one is free.
    pub(crate) fn slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }

    /// Waits until no message is in preparation (tests, and the
    /// shutdown).
    pub(crate) async fn idle(&self) {
        let all = u32::try_from(MAIL_SLOTS).unwrap_or(u32::MAX);
        if let Ok(permits) = self.slots.acquire_many(all).await {
            drop(permits);
        }
    }

    /// The backend the settings name.
    pub(crate) fn from_settings(settings: &Settings) -> Result<Self> {
        Ok(match settings.email_backend {
            EmailBackendKind::Console => Mail::custom(console::ConsoleBackend),
            EmailBackendKind::File => {
                let Some(dir) = &settings.email_file_path else {
                    return Err(Error::Config(
                        "AUTH_EMAIL_BACKEND=file needs AUTH_EMAIL_FILE_PATH, the directory \
                         to write messages to"
                            .into(),
                    ));
                };
                Mail::custom(file::FileBackend::new(dir.clone())?)
            }
            EmailBackendKind::Smtp => smtp_backend(settings)?,
            EmailBackendKind::Memory => {
                let outbox = Outbox::default();
                Mail {
                    outbox: Some(outbox.clone()),
                    ..Mail::custom(outbox)
                }
            }
        })
    }

    /// Sends one message (Django's `send_mail`).
    pub async fn send(&self, message: &EmailMessage) -> Result<()> {
        self.backend.send(message).await
    }

    /// The messages the `memory` backend kept (Django's `mail.outbox`);
    /// `None` with another backend.
    pub fn outbox(&self) -> Option<Vec<EmailMessage>> {
        self.outbox.as_ref().map(Outbox::messages)
    }
}

#[cfg(feature = "smtp")]
fn smtp_backend(settings: &Settings) -> Result<Mail> {
    Ok(Mail::custom(smtp::SmtpBackend::new(settings)?))
}

#[cfg(not(feature = "smtp"))]
fn smtp_backend(_settings: &Settings) -> Result<Mail> {
    Err(Error::Config(
        "AUTH_EMAIL_BACKEND=smtp needs the `smtp` feature of the `auth` crate".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> String {
        let message = EmailMessage {
            subject: "Password reset on example.com".into(),
            body: body.into(),
            from_email: "webmaster@example.com".into(),
            to: vec!["alice@example.com".into()],
        };
        String::from_utf8(message.to_rfc5322().unwrap()).unwrap()
    }

    #[test]
    fn long_links_stay_whole_on_their_line() {
        let link = format!("https://example.com/reset/MQ/{}/", "a".repeat(200));
        let text = message(&format!("Open this page:\n\n{link}\n"));
        assert!(text.contains(&format!("\r\n{link}\r\n")), "{text}");
        assert!(text.contains("Content-Transfer-Encoding: 7bit"), "{text}");
        assert!(text.contains("Message-ID: <"), "{text}");
        assert!(text.contains("@example.com>"), "{text}");
    }

    #[test]
    fn non_ascii_text_goes_as_eight_bit_and_odd_text_is_encoded() {
        let text = message("Grüße, Zoë\n");
        assert!(text.contains("Content-Transfer-Encoding: 8bit"), "{text}");
        assert!(text.contains("Grüße, Zoë\r\n"), "{text}");
        let long = message(&"x".repeat(2000));
        assert!(
            !long.contains(&"x".repeat(999)),
            "a line over 998 bytes is encoded"
        );
        let nul = message("a\0b");
        assert!(!nul.contains("a\0b"));
    }

    #[test]
    fn bad_addresses_are_errors_not_panics() {
        let message = EmailMessage {
            subject: "s".into(),
            body: "b".into(),
            from_email: "webmaster@example.com".into(),
            to: vec!["not an address".into()],
        };
        assert!(message.to_rfc5322().is_err());
    }
}
