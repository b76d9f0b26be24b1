//! SMTP per mailbox (lettre): TLS modes, extra CA, AUTH PLAIN/LOGIN, a connection pool; errors sorted into retry or fail.

use crate::config::{SmtpSettings, TlsMode};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor, address::Envelope};
use std::time::Duration;

/// How a send ended when it did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// 4xx, connection or TLS trouble: try again later.
    #[error("{0}")]
    Transient(String),
    /// 5xx or a configuration that cannot work: give up, with the server's diagnostic.
    #[error("{0}")]
    Permanent(String),
}

/// A pooled SMTP transport.
pub type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// Builds the transport of a mailbox's SMTP settings.
pub fn transport(smtp: &SmtpSettings) -> Result<Transport, SendError> {
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
        .port(smtp.port)
        .timeout(Some(Duration::from_secs(60)))
        .pool_config(PoolConfig::new().max_size(smtp.pool_size.max(1)).idle_timeout(Duration::from_secs(60)));
    if smtp.tls != TlsMode::None {
        let mut params = TlsParameters::builder(smtp.host.clone());
        if let Some(ca) = &smtp.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| SendError::Permanent(format!("cannot read ca_file {}: {e}", ca.display())))?;
            let cert = Certificate::from_pem(&pem)
                .map_err(|e| SendError::Permanent(format!("bad ca_file {}: {e}", ca.display())))?;
            params = params.add_root_certificate(cert);
        }
        let params = params.build_rustls().map_err(|e| SendError::Permanent(format!("TLS settings: {e}")))?;
        builder = builder.tls(if smtp.tls == TlsMode::Implicit { Tls::Wrapper(params) } else { Tls::Required(params) });
    }
    if let Some(user) = &smtp.username {
        let password = smtp.password.resolve().map_err(SendError::Permanent)?.unwrap_or_default();
        builder = builder
            .credentials(Credentials::new(user.clone(), password))
            .authentication(vec![Mechanism::Plain, Mechanism::Login]);
    }
    Ok(builder.build())
}

/// Connects to the server, secures and authenticates as configured, and says whether it answers (`mailbox test`).
pub async fn check_connection(smtp: &SmtpSettings) -> Result<(), String> {
    let transport = transport(smtp).map_err(|e| e.to_string())?;
    match transport.test_connection().await {
        Ok(true) => Ok(()),
        Ok(false) => Err("the server did not answer NOOP".into()),
        Err(e) => Err(crate::telemetry::chain(&e)),
    }
}

/// Sends `raw` to one recipient in its own envelope.
pub async fn send(transport: &Transport, sender: &str, recipient: &str, raw: &[u8]) -> Result<(), SendError> {
    let from = sender.parse().map_err(|e| SendError::Permanent(format!("sender {sender}: {e}")))?;
    let to = recipient.parse().map_err(|e| SendError::Permanent(format!("recipient {recipient}: {e}")))?;
    let envelope = Envelope::new(Some(from), vec![to]).map_err(|e| SendError::Permanent(e.to_string()))?;
    transport.send_raw(&envelope, raw).await.map(|_| ()).map_err(classify)
}

fn classify(e: lettre::transport::smtp::Error) -> SendError {
    let text = crate::telemetry::chain(&e);
    if e.is_permanent() { SendError::Permanent(text) } else { SendError::Transient(text) }
}
