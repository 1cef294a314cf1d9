//! The `smtp` backend: lettre's asynchronous SMTP client, plain, with
//! STARTTLS (`AUTH_EMAIL_USE_TLS`) or TLS from the start
//! (`AUTH_EMAIL_USE_SSL`), logging in when `AUTH_EMAIL_HOST_USER` is set.

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Tokio1Executor,
    transport::smtp::authentication::Credentials,
};

use super::{EmailBackend, EmailMessage};
use crate::{
    kernel::error::{Error, Result},
    settings::Settings,
};

/// Sends over SMTP, one connection per message.
pub(super) struct SmtpBackend {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl SmtpBackend {
    pub(super) fn new(settings: &Settings) -> Result<Self> {
        let host = settings.email_host.as_str();
        let config = |e: lettre::transport::smtp::Error| {
            Error::Config(format!("AUTH_EMAIL_HOST {host:?}: {e}"))
        };
        let mut builder = match (settings.email_use_ssl, settings.email_use_tls) {
            (true, true) => {
                return Err(Error::Config(
                    "AUTH_EMAIL_USE_TLS and AUTH_EMAIL_USE_SSL are mutually exclusive; set \
                     one"
                    .into(),
                ));
            }
            (true, false) => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(config)?,
            (false, true) => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(config)?
            }
            (false, false) => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        };
        builder = builder
            .port(settings.email_port)
            .timeout(Some(settings.email_timeout));
        if !settings.email_host_user.is_empty() {
            builder = builder.credentials(Credentials::new(
                settings.email_host_user.clone(),
                settings.email_host_password.clone(),
            ));
        }
        Ok(SmtpBackend {
            transport: builder.build(),
        })
    }
}

impl EmailBackend for SmtpBackend {
    async fn send(&self, message: &EmailMessage) -> Result<()> {
        let built = message.build()?;
        self.transport
            .send(built)
            .await
            .map_err(|e| Error::Io(std::io::Error::other(format!("SMTP: {e}"))))?;
        Ok(())
    }
}
