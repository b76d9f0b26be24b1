//! SMTP sessions (lettre's connection) with a timeout on every step — connect, TLS, greeting, EHLO, STARTTLS,
//! AUTH, each command and each write of DATA — and a pool of sessions per server, sized by the server's answers.

#[path = "smtp_session.rs"]
mod session;

use super::oauth::TokenSource;
use super::smtp_oauth::OAuthLogin;
use super::stall::StallGuard;
use crate::platform::config::{SmtpSettings, TlsMode};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{AsyncTokioStream, Certificate, TlsParameters};
use session::Session;
use std::sync::atomic::{AtomicUsize, Ordering};
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
    /// Not attempted: the server refused one more session while others were open; send over those.
    #[error("{0}")]
    Busy(String),
}

/// An idle session is reused only this long (servers drop idle clients after a few minutes).
const IDLE_REUSE: Duration = Duration::from_secs(30);

/// After the server refused a session, the pool tries one more this long later.
const REGROW: Duration = Duration::from_secs(60);

/// A server to send through, with at most `pool_size` sessions at once: fewer when the server refuses more.
#[derive(Clone)]
pub struct SmtpClient {
    target: Arc<Target>,
    idle: Arc<Mutex<Vec<(Session, Instant)>>>,
    permits: Arc<Semaphore>,
    size: Arc<PoolSize>,
}

/// How many sessions the server takes: `pool_size` until it refuses one, then the sessions it had accepted.
struct PoolSize {
    max: usize,
    /// Sessions open now (in use or idle), and being opened.
    open: Arc<AtomicUsize>,
    opening: Arc<AtomicUsize>,
    /// The current limit and when it was last lowered or raised after a refusal.
    limit: Mutex<(usize, Option<Instant>)>,
}

impl PoolSize {
    fn current(&self) -> usize {
        let mut limit = self.limit.lock().expect("smtp pool size");
        if let (n, Some(at)) = *limit
            && n < self.max
            && at.elapsed() >= REGROW
        {
            *limit = (n + 1, Some(Instant::now()));
        }
        limit.0
    }

    /// After a refusal: whether other sessions are open, once those being opened meanwhile are (or failed).
    async fn others_open(&self, patience: Duration) -> bool {
        let deadline = Instant::now() + patience;
        while self.opening.load(Ordering::Relaxed) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.open.load(Ordering::Relaxed) > 0
    }

    fn shrink(&self) {
        let open = self.open.load(Ordering::Relaxed).max(1);
        let mut limit = self.limit.lock().expect("smtp pool size");
        *limit = (limit.0.min(open), Some(Instant::now()));
    }
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
        let max = smtp.pool_size.max(1) as usize;
        let size = PoolSize { max, open: Arc::default(), opening: Arc::default(), limit: Mutex::new((max, None)) };
        Ok(Self {
            target: Arc::new(target),
            idle: Arc::default(),
            permits: Arc::new(Semaphore::new(max)),
            size: Arc::new(size),
        })
    }

    /// How many sessions may run at once: the mailbox's `pool_size`, or fewer after the server refused one more
    /// (growing back by one a minute).
    pub fn concurrency(&self) -> usize {
        self.size.current()
    }

    /// Sends `raw` to one recipient in its own envelope. A session from the pool that turns out to be closed before
    /// any content went out is replaced once; any other failure ends the session. [`SendError::Busy`] when the
    /// server refused a new session while others were open (the pool shrinks to those).
    pub async fn send(&self, sender: &str, recipient: &str, raw: &[u8]) -> Result<(), SendError> {
        let envelope = envelope(sender, recipient)?;
        let _permit = self.permits.acquire().await.map_err(|_| SendError::Transient("client closed".into()))?;
        if let Some(mut session) = self.pooled() {
            match session.transaction(&envelope, raw).await {
                Ok(()) => {
                    self.put_back(session);
                    return Ok(());
                }
                // The server closed the idle session before the content went out: nothing was sent.
                Err(f) if f.before_content && f.error.status().is_none() && !f.error.is_timeout() => {
                    session.conn.abort().await
                }
                Err(f) => return Err(self.fail(session, f.error).await),
            }
        }
        let mut session = match self.open().await {
            Ok(session) => session,
            Err(e) if e.refused && self.size.others_open(self.target.step).await => {
                self.size.shrink();
                return Err(SendError::Busy(e.error.to_string()));
            }
            Err(e) => return Err(e.error),
        };
        match session.transaction(&envelope, raw).await {
            Ok(()) => {
                self.put_back(session);
                Ok(())
            }
            Err(f) => Err(self.fail(session, f.error).await),
        }
    }

    /// Connects, secures and authenticates as configured and asks NOOP (`mailbox test`).
    pub async fn check_settings(smtp: &SmtpSettings, tokens: Option<Arc<TokenSource>>) -> Result<(), String> {
        Self::new(smtp, tokens).map_err(|e| e.to_string())?.check().await
    }

    /// Connects, secures and authenticates as configured and asks NOOP.
    pub async fn check(&self) -> Result<(), String> {
        let mut session = self.open().await.map_err(|e| e.error.to_string())?;
        let answered = session.conn.test_connected().await;
        let _ = tokio::time::timeout(self.target.step, session.conn.quit()).await;
        if answered { Ok(()) } else { Err("the server did not answer NOOP".into()) }
    }

    async fn open(&self) -> Result<Session, session::ConnectError> {
        Session::open(&self.target, &self.size.open, &self.size.opening).await
    }

    fn pooled(&self) -> Option<Session> {
        let mut idle = self.idle.lock().expect("smtp pool");
        while let Some((session, since)) = idle.pop() {
            if since.elapsed() < IDLE_REUSE && !session.conn.has_broken() {
                return Some(session);
            }
        }
        None
    }

    fn put_back(&self, session: Session) {
        if !session.conn.has_broken() {
            self.idle.lock().expect("smtp pool").push((session, Instant::now()));
        }
    }

    /// A failed session is not reused: its state (an open transaction, a half-read answer) is unknown.
    async fn fail(&self, mut session: Session, e: lettre::transport::smtp::Error) -> SendError {
        let _ = tokio::time::timeout(self.target.step, session.conn.abort()).await;
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
