//! SMTP sessions (lettre's connection) with a timeout on every step — connect, TLS, greeting, EHLO, STARTTLS,
//! AUTH, each command and each write of DATA — and a small pool of idle sessions per server.

use super::oauth::TokenSource;
use super::smtp_oauth::OAuthLogin;
use super::stall::StallGuard;
use crate::platform::config::{SmtpSettings, TlsMode};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

/// How a send ended when it did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// 4xx, connection, timeout or TLS trouble: try again later.
    #[error("{0}")]
    Transient(String),
    /// 5xx or an address that cannot work: give up, with the server's diagnostic.
    #[error("{0}")]
    Permanent(String),
}

/// An idle session is reused only this long (servers drop idle clients after a few minutes).
const IDLE_REUSE: Duration = Duration::from_secs(30);

/// A server to send through, with at most `pool_size` sessions at once.
#[derive(Clone)]
pub struct SmtpClient {
    target: Arc<Target>,
    idle: Arc<Mutex<Vec<(AsyncSmtpConnection, Instant)>>>,
    permits: Arc<Semaphore>,
    pool_size: usize,
}

struct Target {
    host: String,
    port: u16,
    /// Implicit TLS: the handshake is done here, over rustls.
    rustls: Option<Arc<rustls::ClientConfig>>,
    /// STARTTLS: lettre upgrades the session.
    starttls: Option<TlsParameters>,
    credentials: Option<Credentials>,
    /// Sign-in with an OAuth2 access token instead of `credentials`.
    oauth: Option<OAuthLogin>,
    step: Duration,
}

impl std::fmt::Debug for SmtpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpClient").field("host", &self.target.host).field("port", &self.target.port).finish()
    }
}

impl SmtpClient {
    /// A client of a mailbox's SMTP settings; reads the password and CA file now. A mailbox signing in with OAuth2
    /// takes its access tokens from `tokens`.
    pub fn new(smtp: &SmtpSettings, tokens: Option<Arc<TokenSource>>) -> Result<Self, SendError> {
        let config_error = |e: String| SendError::Transient(e);
        let (rustls, starttls) = match smtp.tls {
            TlsMode::None => (None, None),
            TlsMode::Implicit => {
                (Some(Arc::new(super::tls::client_config(smtp.ca_file.as_deref()).map_err(config_error)?)), None)
            }
            TlsMode::Starttls => (None, Some(starttls_parameters(smtp)?)),
        };
        let oauth = match (smtp.auth.is_oauth(), tokens) {
            (false, _) => None,
            (true, Some(source)) => {
                let user = smtp.username.clone().unwrap_or_default();
                Some(OAuthLogin { mechanism: smtp.auth, user, source })
            }
            (true, None) => return Err(SendError::Transient("OAuth2 sign-in without a token source".into())),
        };
        let credentials = match &smtp.username {
            Some(_) if oauth.is_some() => None,
            Some(user) => {
                let password = smtp.password.resolve().map_err(config_error)?.unwrap_or_default();
                Some(Credentials::new(user.clone(), password))
            }
            None => None,
        };
        let target = Target {
            host: smtp.host.clone(),
            port: smtp.port,
            rustls,
            starttls,
            credentials,
            oauth,
            step: Duration::from_secs(smtp.timeout_secs.max(1)),
        };
        let pool_size = smtp.pool_size.max(1) as usize;
        Ok(Self {
            target: Arc::new(target),
            idle: Arc::default(),
            permits: Arc::new(Semaphore::new(pool_size)),
            pool_size,
        })
    }

    /// How many sessions may run at once (the mailbox's `pool_size`).
    pub fn concurrency(&self) -> usize {
        self.pool_size
    }

    /// Sends `raw` to one recipient in its own envelope. A session from the pool that turns out to be closed is
    /// replaced once; any other failure ends the session.
    pub async fn send(&self, sender: &str, recipient: &str, raw: &[u8]) -> Result<(), SendError> {
        let envelope = envelope(sender, recipient)?;
        let _permit = self.permits.acquire().await.map_err(|_| SendError::Transient("client closed".into()))?;
        if let Some(mut conn) = self.pooled() {
            match conn.send(&envelope, raw).await {
                Ok(_) => {
                    self.put_back(conn);
                    return Ok(());
                }
                // The server closed the idle session before MAIL FROM went through: nothing was sent.
                Err(e) if !e.is_response() && !e.is_timeout() => conn.abort().await,
                Err(e) => return Err(self.fail(conn, e).await),
            }
        }
        let mut conn = self.connect().await?;
        match conn.send(&envelope, raw).await {
            Ok(_) => {
                self.put_back(conn);
                Ok(())
            }
            Err(e) => Err(self.fail(conn, e).await),
        }
    }

    /// Connects, secures and authenticates as configured and asks NOOP (`mailbox test`).
    pub async fn check_settings(smtp: &SmtpSettings, tokens: Option<Arc<TokenSource>>) -> Result<(), String> {
        Self::new(smtp, tokens).map_err(|e| e.to_string())?.check().await
    }

    /// Connects, secures and authenticates as configured and asks NOOP.
    pub async fn check(&self) -> Result<(), String> {
        let mut conn = self.connect().await.map_err(|e| e.to_string())?;
        let answered = conn.test_connected().await;
        let _ = tokio::time::timeout(self.target.step, conn.quit()).await;
        if answered { Ok(()) } else { Err("the server did not answer NOOP".into()) }
    }

    /// A new session: TCP, TLS or STARTTLS, EHLO and AUTH, each step bounded.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let t = &self.target;
        let at = format!("{}:{}", t.host, t.port);
        let tcp = tokio::time::timeout(t.step, TcpStream::connect((t.host.as_str(), t.port)))
            .await
            .map_err(|_| SendError::Transient(format!("connect to {at}: no answer for {} s", t.step.as_secs())))?
            .map_err(|e| SendError::Transient(format!("connect to {at}: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let hello = ClientId::default();
        let mut conn = match (&t.rustls, &t.starttls) {
            (Some(config), _) => {
                let name = super::tls::server_name(&t.host).map_err(SendError::Transient)?;
                let handshake = tokio_rustls::TlsConnector::from(config.clone()).connect(name, tcp);
                let tls = tokio::time::timeout(t.step, handshake)
                    .await
                    .map_err(|_| SendError::Transient(format!("TLS handshake with {at}: timed out")))?
                    .map_err(|e| SendError::Transient(format!("TLS handshake with {at}: {e}")))?;
                let stream = Box::new(StallGuard::new(tls, t.step));
                AsyncSmtpConnection::connect_with_transport(stream, &hello).await.map_err(classify)?
            }
            (None, starttls) => {
                let stream = Box::new(StallGuard::new(tcp, t.step));
                let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &hello).await.map_err(classify)?;
                if let Some(params) = starttls {
                    if !conn.can_starttls() {
                        conn.abort().await;
                        return Err(SendError::Transient(format!("{at} does not offer STARTTLS (tls = \"starttls\")")));
                    }
                    conn.starttls(params.clone(), &hello).await.map_err(classify)?;
                }
                conn
            }
        };
        if let Some(login) = &t.oauth
            && let Err(e) = super::smtp_oauth::authenticate(&mut conn, login, &t.host, t.port).await
        {
            conn.abort().await;
            return Err(e);
        }
        if let Some(credentials) = &t.credentials
            && let Err(e) = conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials).await
        {
            conn.abort().await;
            return Err(classify(e));
        }
        Ok(conn)
    }

    fn pooled(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock().expect("smtp pool");
        while let Some((conn, since)) = idle.pop() {
            if since.elapsed() < IDLE_REUSE && !conn.has_broken() {
                return Some(conn);
            }
        }
        None
    }

    fn put_back(&self, conn: AsyncSmtpConnection) {
        if !conn.has_broken() {
            self.idle.lock().expect("smtp pool").push((conn, Instant::now()));
        }
    }

    /// A failed session is not reused: its state (an open transaction, a half-read answer) is unknown.
    async fn fail(&self, mut conn: AsyncSmtpConnection, e: lettre::transport::smtp::Error) -> SendError {
        let _ = tokio::time::timeout(self.target.step, conn.abort()).await;
        classify(e)
    }
}

fn starttls_parameters(smtp: &SmtpSettings) -> Result<TlsParameters, SendError> {
    let mut params = TlsParameters::builder(smtp.host.clone());
    if let Some(ca) = &smtp.ca_file {
        let pem = std::fs::read(ca)
            .map_err(|e| SendError::Transient(format!("cannot read ca_file {}: {e}", ca.display())))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| SendError::Transient(format!("bad ca_file {}: {e}", ca.display())))?;
        params = params.add_root_certificate(cert);
    }
    params.build_rustls().map_err(|e| SendError::Transient(format!("TLS settings: {e}")))
}

fn envelope(sender: &str, recipient: &str) -> Result<Envelope, SendError> {
    let from = sender.parse().map_err(|e| SendError::Permanent(format!("sender {sender}: {e}")))?;
    let to = recipient.parse().map_err(|e| SendError::Permanent(format!("recipient {recipient}: {e}")))?;
    Envelope::new(Some(from), vec![to]).map_err(|e| SendError::Permanent(e.to_string()))
}

fn classify(e: lettre::transport::smtp::Error) -> SendError {
    let text = crate::platform::telemetry::chain(&e);
    if e.is_permanent() { SendError::Permanent(text) } else { SendError::Transient(text) }
}

/// Streams that know their peer (lettre asks for it in logs).
pub trait Peer {
    fn peer(&self) -> std::io::Result<std::net::SocketAddr>;
}

impl Peer for TcpStream {
    fn peer(&self) -> std::io::Result<std::net::SocketAddr> {
        self.peer_addr()
    }
}

impl Peer for tokio_rustls::client::TlsStream<TcpStream> {
    fn peer(&self) -> std::io::Result<std::net::SocketAddr> {
        self.get_ref().0.peer_addr()
    }
}

impl<S> AsyncTokioStream for StallGuard<S>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Peer + Unpin + Send + Sync + std::fmt::Debug,
{
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.get_ref().peer()
    }
}
