//! One SMTP session: connecting (TCP, TLS or STARTTLS, EHLO, AUTH, each step bounded) and a mail transaction,
//! pipelined (RFC 2920) when the server offers PIPELINING: MAIL, RCPT and DATA in one write, then the content.

use super::{SendError, Target, classify};
use crate::net::stall::StallGuard;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Mechanism;
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::net::TcpStream;

/// A session to the server, counted among the client's open sessions while it lives.
pub(super) struct Session {
    pub conn: AsyncSmtpConnection,
    /// The server offered PIPELINING (asked once more after TLS, before AUTH).
    pipelining: bool,
    _open: OpenGuard,
}

/// Counts a live session; dropping it uncounts.
struct OpenGuard(Arc<AtomicUsize>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Why a new session could not be had.
pub(super) struct ConnectError {
    pub error: SendError,
    /// The server refused the session with a 4xx answer: with other sessions open, a sign that it takes no more of
    /// them (421 "too many connections").
    pub refused: bool,
}

impl From<SendError> for ConnectError {
    fn from(error: SendError) -> Self {
        Self { error, refused: false }
    }
}

/// A transaction that did not go through.
pub(super) struct Failed {
    pub error: lettre::transport::smtp::Error,
    /// It failed before any of the content was written: nothing can have been sent.
    pub before_content: bool,
}

fn lettre_error(e: lettre::transport::smtp::Error) -> ConnectError {
    let refused = e.is_transient();
    ConnectError { error: classify(e), refused }
}

impl Session {
    /// A new session: TCP, TLS or STARTTLS, EHLO and AUTH, each step bounded. Counted in `opening` meanwhile,
    /// then in `open`.
    pub async fn open(
        t: &Target,
        open: &Arc<AtomicUsize>,
        opening: &Arc<AtomicUsize>,
    ) -> Result<Session, ConnectError> {
        opening.fetch_add(1, Ordering::Relaxed);
        let _opening = OpenGuard(opening.clone());
        let at = format!("{}:{}", t.host, t.port);
        let tcp = tokio::time::timeout(t.step, TcpStream::connect((t.host.as_str(), t.port)))
            .await
            .map_err(|_| SendError::Transient(format!("connect to {at}: no answer for {} s", t.step.as_secs())))?
            .map_err(|e| SendError::Transient(format!("connect to {at}: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let hello = ClientId::default();
        let mut conn = match (&t.rustls, &t.starttls) {
            (Some(config), _) => {
                let name = crate::net::tls::server_name(&t.host).map_err(SendError::Transient)?;
                let handshake = tokio_rustls::TlsConnector::from(config.clone()).connect(name, tcp);
                let tls = tokio::time::timeout(t.step, handshake)
                    .await
                    .map_err(|_| SendError::Transient(format!("TLS handshake with {at}: timed out")))?
                    .map_err(|e| SendError::Transient(format!("TLS handshake with {at}: {e}")))?;
                let stream = Box::new(StallGuard::new(tls, t.step));
                AsyncSmtpConnection::connect_with_transport(stream, &hello).await.map_err(lettre_error)?
            }
            (None, starttls) => {
                let stream = Box::new(StallGuard::new(tcp, t.step));
                let mut conn =
                    AsyncSmtpConnection::connect_with_transport(stream, &hello).await.map_err(lettre_error)?;
                if let Some(params) = starttls {
                    if !conn.can_starttls() {
                        conn.abort().await;
                        return Err(
                            SendError::Transient(format!("{at} does not offer STARTTLS (tls = \"starttls\")")).into()
                        );
                    }
                    conn.starttls(params.clone(), &hello).await.map_err(lettre_error)?;
                }
                conn
            }
        };
        // lettre keeps no note of PIPELINING: ask EHLO once more (before AUTH, so no sign-in state is reset).
        let pipelining = match conn.command(Ehlo::new(hello)).await {
            Ok(answer) => answer.message().any(|line| line.trim().eq_ignore_ascii_case("PIPELINING")),
            Err(e) if e.status().is_some() => false,
            Err(e) => {
                conn.abort().await;
                return Err(lettre_error(e));
            }
        };
        if let Some(login) = &t.oauth
            && let Err(e) = super::super::smtp_oauth::authenticate(&mut conn, login, &t.host, t.port).await
        {
            conn.abort().await;
            return Err(e.into());
        }
        if let Some(credentials) = &t.credentials
            && let Err(e) = conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials).await
        {
            conn.abort().await;
            return Err(lettre_error(e));
        }
        open.fetch_add(1, Ordering::Relaxed);
        Ok(Session { conn, pipelining, _open: OpenGuard(open.clone()) })
    }

    /// One mail transaction. Pipelined: MAIL, RCPT and DATA go in one write and their answers are read in order
    /// (all of them, so the first refusal is the one reported); the content follows the 354 as RFC 2920 asks.
    /// Mail needing SMTPUTF8 or 8BITMIME the server lacks goes lettre's way, which refuses it.
    pub async fn transaction(&mut self, envelope: &Envelope, raw: &[u8]) -> Result<(), Failed> {
        let info = self.conn.server_info();
        let ascii = |a: &lettre::Address| AsRef::<str>::as_ref(a).is_ascii();
        let utf8 = envelope.from().is_some_and(|a| !ascii(a)) || envelope.to().iter().any(|a| !ascii(a));
        let eight_bit = !raw.is_ascii();
        if !self.pipelining
            || (utf8 && !info.supports_feature(Extension::SmtpUtfEight))
            || (eight_bit && !info.supports_feature(Extension::EightBitMime))
        {
            // lettre's way does not say how far it got: a broken stream counts as before the content, as ever.
            return self
                .conn
                .send(envelope, raw)
                .await
                .map(drop)
                .map_err(|error| Failed { before_content: error.status().is_none() && !error.is_timeout(), error });
        }
        let mut options = Vec::new();
        if utf8 {
            options.push(MailParameter::SmtpUtfEight);
        }
        if eight_bit {
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let mut group = Mail::new(envelope.from().cloned(), options).to_string();
        for to in envelope.to() {
            group.push_str(&Rcpt::new(to.clone(), vec![]).to_string());
        }
        group.push_str(&Data.to_string());
        let mut first_refusal = None;
        for n in 0..envelope.to().len() + 2 {
            let answer = if n == 0 { self.conn.command(&group).await } else { self.conn.read_response().await };
            match answer {
                Ok(_) => {}
                // The stream is broken: nothing more will come.
                Err(error) if error.status().is_none() => return Err(Failed { error, before_content: true }),
                Err(e) => first_refusal = first_refusal.or(Some(e)),
            }
        }
        // A refusal leaves DATA refused too (or, from an odd server, accepted: the caller drops the session then).
        if let Some(error) = first_refusal {
            return Err(Failed { error, before_content: true });
        }
        self.conn.message(raw).await.map(drop).map_err(|error| Failed { error, before_content: false })
    }
}
