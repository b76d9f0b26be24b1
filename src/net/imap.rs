//! IMAP connections: TCP, implicit TLS or STARTTLS (rustls; system roots plus an optional CA file), login with a
//! password or an OAuth2 access token, and the timeout every IMAP step runs under.

use super::oauth::{TokenSource, sasl::BearerAuthenticator};
use crate::platform::config::{ImapSettings, MailboxAuth, TlsMode};
use async_imap::{Client, Session};
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// Why a connection to an IMAP server or one of its commands failed.
#[derive(Debug, thiserror::Error)]
pub enum ImapNetError {
    /// Settings that cannot work as given (missing password variable, unreadable CA file …).
    #[error("configuration: {0}")]
    Config(String),
    #[error("cannot connect to {0}")]
    Connect(String, #[source] std::io::Error),
    #[error("TLS handshake failed")]
    Tls(#[source] std::io::Error),
    #[error("login refused: {0}")]
    Login(String),
    /// No OAuth2 access token could be had (the grant was refused, the token endpoint is down …).
    #[error("OAuth2: {0}")]
    OAuth(String),
    #[error("IMAP error")]
    Protocol(#[source] async_imap::error::Error),
    #[error("timed out during {0}")]
    Timeout(&'static str),
}

use ImapNetError as ImapError;

/// Any byte stream an IMAP session can run over.
pub trait ImapIo: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> ImapIo for T {}

/// A logged-in IMAP session over TCP or TLS.
pub type ImapSession = Session<Box<dyn ImapIo>>;

/// How a session signs in.
enum Login<'a> {
    Password(&'a str),
    /// SASL XOAUTH2 or OAUTHBEARER with this access token.
    Bearer(MailboxAuth, &'a str),
}

/// Connects and logs in with the password; every step bounded by `timeout`.
pub async fn connect(imap: &ImapSettings, timeout: Duration) -> Result<ImapSession, ImapError> {
    if imap.auth.is_oauth() {
        return Err(ImapError::Config("this mailbox signs in with OAuth2, not a password".into()));
    }
    let password = imap.password.resolve().map_err(ImapError::Config)?.unwrap_or_default();
    open(imap, timeout, Login::Password(&password)).await
}

/// Connects and signs in as the settings say: with the password, or with an access token of `tokens`. A token the
/// server refuses is dropped and a fresh one tried once (it may have been revoked or have expired early).
pub async fn connect_with(
    imap: &ImapSettings,
    timeout: Duration,
    tokens: Option<&TokenSource>,
) -> Result<ImapSession, ImapError> {
    if !imap.auth.is_oauth() {
        return connect(imap, timeout).await;
    }
    let source = tokens.ok_or_else(|| ImapError::Config("OAuth2 sign-in without a token source".into()))?;
    let token = source.access_token().await.map_err(|e| ImapError::OAuth(e.to_string()))?;
    match open(imap, timeout, Login::Bearer(imap.auth, &token)).await {
        Err(ImapError::Login(refused)) => {
            tracing::info!(host = %imap.host, %refused, "access token refused; trying a fresh one");
            source.refused(&token).await;
            let token = source.access_token().await.map_err(|e| ImapError::OAuth(e.to_string()))?;
            open(imap, timeout, Login::Bearer(imap.auth, &token)).await
        }
        other => other,
    }
}

async fn open(imap: &ImapSettings, timeout: Duration, login: Login<'_>) -> Result<ImapSession, ImapError> {
    let addr = format!("{}:{}", imap.host, imap.port);
    let tcp = within(timeout, "connect", TcpStream::connect(&addr))
        .await?
        .map_err(|e| ImapError::Connect(addr.clone(), e))?;
    let _ = tcp.set_nodelay(true);
    let client: Client<Box<dyn ImapIo>> = match imap.tls {
        TlsMode::None => greeted(Client::new(Box::new(tcp) as Box<dyn ImapIo>), timeout).await?,
        TlsMode::Implicit => {
            let tls = tls_handshake(tcp, imap, timeout).await?;
            greeted(Client::new(Box::new(tls) as Box<dyn ImapIo>), timeout).await?
        }
        TlsMode::Starttls => {
            let mut plain = greeted(Client::new(tcp), timeout).await?;
            within(timeout, "STARTTLS", plain.run_command_and_check_ok("STARTTLS", None))
                .await?
                .map_err(ImapError::Protocol)?;
            let tls = tls_handshake(plain.into_inner(), imap, timeout).await?;
            Client::new(Box::new(tls) as Box<dyn ImapIo>)
        }
    };
    match login {
        Login::Password(password) => {
            let login = within(timeout, "LOGIN", client.login(&imap.username, password)).await?;
            login.map_err(|(e, _)| ImapError::Login(e.to_string()))
        }
        Login::Bearer(mechanism, token) => {
            let auth = BearerAuthenticator::new(mechanism, &imap.username, &imap.host, imap.port, token);
            let name = super::oauth::sasl::mechanism_name(mechanism);
            let session = within(timeout, "AUTHENTICATE", client.authenticate(name, auth)).await?;
            session.map_err(|(e, _)| ImapError::Login(e.to_string()))
        }
    }
}

async fn greeted<T: ImapIo>(mut client: Client<T>, timeout: Duration) -> Result<Client<T>, ImapError> {
    let greeting =
        within(timeout, "greeting", client.read_response()).await?.map_err(|e| ImapError::Protocol(e.into()))?;
    match greeting {
        Some(_) => Ok(client),
        None => Err(ImapError::Protocol(async_imap::error::Error::ConnectionLost)),
    }
}

async fn tls_handshake(
    tcp: TcpStream,
    imap: &ImapSettings,
    timeout: Duration,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, ImapError> {
    let config = super::tls::client_config(imap.ca_file.as_deref()).map_err(ImapError::Config)?;
    let name = super::tls::server_name(&imap.host).map_err(ImapError::Config)?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    within(timeout, "TLS handshake", connector.connect(name, tcp)).await?.map_err(ImapError::Tls)
}

/// Runs `fut` with a timeout named after the step, for the error message.
pub async fn within<F: std::future::Future>(
    timeout: Duration,
    step: &'static str,
    fut: F,
) -> Result<F::Output, ImapError> {
    tokio::time::timeout(timeout, fut).await.map_err(|_| ImapError::Timeout(step))
}
