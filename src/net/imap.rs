//! IMAP connections: TCP, implicit TLS or STARTTLS (rustls; system roots plus an optional CA file), login, and
//! the timeout every IMAP step runs under.

use crate::platform::config::{ImapSettings, TlsMode};
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

/// Connects and logs in; every step bounded by `timeout`.
pub async fn connect(imap: &ImapSettings, timeout: Duration) -> Result<ImapSession, ImapError> {
    let password = imap.password.resolve().map_err(ImapError::Config)?.unwrap_or_default();
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
    let login = within(timeout, "LOGIN", client.login(&imap.username, &password)).await?;
    login.map_err(|(e, _)| ImapError::Login(e.to_string()))
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
