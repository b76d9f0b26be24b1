//! The real mail servers of the test rig: addresses, SMTP sending, IMAP inspection, private instances.

use crate::helpers::require_env;
use deskmail::net::imap::{ImapSession, connect};
use deskmail::platform::config::{ImapSettings, MailboxSettings, SmtpSettings};
use std::path::PathBuf;
use std::time::Duration;

/// Connection settings of one mail system (the shared one, or a private instance).
#[derive(Debug, Clone)]
pub struct MailEnv {
    pub host: String,
    pub imap_port: u16,
    pub imaps_port: u16,
    pub smtp_port: u16,
    pub submission_port: u16,
    pub ca_cert: PathBuf,
    pub domain: String,
    pub password: String,
    /// Set for a private instance: its directory (for stop/start and cleanup).
    pub private_dir: Option<String>,
}

impl MailEnv {
    /// The shared instance `scripts/test` started; `None` (skip) outside it unless CI.
    pub fn shared() -> Option<Self> {
        crate::helpers::init_once();
        require_env("MAILENV_HOST")?;
        Some(Self::from_vars(|k| std::env::var(k).ok(), None))
    }

    fn from_vars(get: impl Fn(&str) -> Option<String>, private_dir: Option<String>) -> Self {
        let port = |k: &str| get(k).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{k} missing"));
        Self {
            host: get("MAILENV_HOST").unwrap_or_else(|| "127.0.0.1".into()),
            imap_port: port("MAILENV_IMAP_PORT"),
            imaps_port: port("MAILENV_IMAPS_PORT"),
            smtp_port: port("MAILENV_SMTP_PORT"),
            submission_port: port("MAILENV_SUBMISSION_PORT"),
            ca_cert: PathBuf::from(get("MAILENV_CA_CERT").expect("MAILENV_CA_CERT")),
            domain: get("MAILENV_WILDCARD_DOMAIN").unwrap_or_else(|| "any.example.test".into()),
            password: get("MAILENV_WILDCARD_PASSWORD").unwrap_or_else(|| "test-pw".into()),
            private_dir,
        }
    }

    /// Starts a private instance (for outage tests) on free ports.
    pub fn private() -> Option<Self> {
        Self::private_with(&[])
    }

    /// Starts a private instance with extra `MAILENV_*` settings (e.g. `MAILENV_OAUTH2_URL`).
    pub fn private_with(vars: &[(&str, &str)]) -> Option<Self> {
        crate::helpers::init_once();
        let sh = require_env("MAILENV_SH")?;
        let root = std::env::var("MAILENV_PRIVATE_ROOT").unwrap_or_else(|_| "/tmp/dmp".into());
        std::fs::create_dir_all(&root).unwrap();
        let dir = format!("{root}/{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let status = std::process::Command::new(&sh)
            .arg("start")
            .env("MAILENV_DIR", &dir)
            .env("MAILENV_PORTS", "auto")
            .envs(vars.iter().copied())
            .env_remove("MAILENV_SHARED")
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run mailenv.sh");
        assert!(status.success(), "private mail system did not start");
        let env = std::fs::read_to_string(format!("{dir}/env")).expect("env file");
        let vars: std::collections::HashMap<String, String> = env
            .lines()
            .filter_map(|l| {
                l.strip_prefix("export ")?
                    .split_once('=')
                    .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
            })
            .collect();
        Some(Self::from_vars(|k| vars.get(k).cloned(), Some(dir)))
    }

    /// Ends every IMAP session of `user` on this private instance (as a server does when a token expires).
    pub fn kick(&self, user: &str) {
        self.control_with(&["kick", user]);
    }

    /// Runs a kit command (`stop-imap`, `start-imap`, `stop-smtp`, `start-smtp`) on this private instance.
    pub fn control(&self, command: &str) {
        self.control_with(&[command]);
    }

    fn control_with(&self, args: &[&str]) {
        let command = args.join(" ");
        let dir = self.private_dir.as_ref().expect("only private instances are controlled");
        let sh = std::env::var("MAILENV_SH").expect("MAILENV_SH");
        let status = std::process::Command::new(sh)
            .args(args)
            .env("MAILENV_DIR", dir)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "mailenv {command} failed");
    }

    /// A fresh address on the wildcard domain (its mailbox exists on first use).
    pub fn address(&self, prefix: &str) -> String {
        format!("{prefix}-{}@{}", &uuid::Uuid::new_v4().simple().to_string()[..12], self.domain)
    }

    /// IMAP settings for a user over implicit TLS, trusting the test CA.
    pub fn imap(&self, user: &str) -> ImapSettings {
        toml::from_str(&format!(
            "host = \"{}\"\nport = {}\ntls = \"implicit\"\nusername = \"{user}\"\npassword = \"{}\"\nca_file = \"{}\"\nimport_existing = \"all\"\n",
            self.host,
            self.imaps_port,
            self.password,
            self.ca_cert.display()
        ))
        .unwrap()
    }

    /// SMTP submission settings for a user (STARTTLS + AUTH), trusting the test CA.
    pub fn smtp(&self, user: &str) -> SmtpSettings {
        toml::from_str(&format!(
            "host = \"{}\"\nport = {}\ntls = \"starttls\"\nusername = \"{user}\"\npassword = \"{}\"\nca_file = \"{}\"\n",
            self.host,
            self.submission_port,
            self.password,
            self.ca_cert.display()
        ))
        .unwrap()
    }

    /// A mailbox that sends through submission and is fed by `ingest` only.
    pub fn sending_mailbox(&self, name: &str, address: &str) -> MailboxSettings {
        MailboxSettings { imap: None, smtp: Some(self.smtp(address)), ..self.mailbox(name, address, |_| {}) }
    }

    /// A mailbox definition for `address`, fetched over IMAP.
    pub fn mailbox(&self, name: &str, address: &str, adjust: impl FnOnce(&mut ImapSettings)) -> MailboxSettings {
        let mut imap = self.imap(address);
        adjust(&mut imap);
        MailboxSettings {
            name: name.into(),
            address: address.into(),
            display_name: "Test Support".into(),
            plus_addressing: true,
            enabled: true,
            imap: Some(imap),
            smtp: None,
            order_pattern: None,
        }
    }

    /// Sends raw bytes over SMTP (port 25 style: no auth) to `to`.
    pub async fn send(&self, from: &str, to: &[&str], raw: &[u8]) {
        use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor, address::Envelope};
        let transport: AsyncSmtpTransport<Tokio1Executor> =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host).port(self.smtp_port).build();
        let envelope =
            Envelope::new(Some(from.parse().unwrap()), to.iter().map(|t| t.parse().unwrap()).collect()).unwrap();
        transport.send_raw(&envelope, raw).await.expect("SMTP send");
    }

    /// A logged-in IMAP session of `user`.
    pub async fn session(&self, user: &str) -> ImapSession {
        connect(&self.imap(user), Duration::from_secs(10)).await.expect("IMAP login")
    }
}

impl Drop for MailEnv {
    fn drop(&mut self) {
        if let (Some(dir), Ok(sh)) = (&self.private_dir, std::env::var("MAILENV_SH")) {
            let _ = std::process::Command::new(sh)
                .args(["stop", "--purge"])
                .env("MAILENV_DIR", dir)
                .stdout(std::process::Stdio::null())
                .status();
        }
    }
}

/// UIDs matching `query` in `folder`.
pub async fn search(session: &mut ImapSession, folder: &str, query: &str) -> Vec<u32> {
    session.select(folder).await.expect("select");
    let mut v: Vec<u32> = session.uid_search(query).await.expect("search").into_iter().collect();
    v.sort_unstable();
    v
}

/// Appends a message to a folder.
pub async fn append(session: &mut ImapSession, folder: &str, raw: &[u8]) {
    session.append(folder, None, None, raw).await.expect("append");
}

/// Waits until `user`'s INBOX holds at least `n` messages; returns their raw bytes (fewer on timeout).
pub async fn wait_inbox(env: &MailEnv, user: &str, n: usize, secs: u64) -> Vec<Vec<u8>> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let mut s = env.session(user).await;
        let found = bodies(&mut s, "INBOX").await;
        let _ = s.logout().await;
        if found.len() >= n || tokio::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The raw bytes of every message in a folder.
pub async fn bodies(session: &mut ImapSession, folder: &str) -> Vec<Vec<u8>> {
    let mb = session.select(folder).await.expect("select");
    if mb.exists == 0 {
        return Vec::new();
    }
    use futures::TryStreamExt;
    let fetched: Vec<_> = session.fetch("1:*", "BODY.PEEK[]").await.expect("fetch").try_collect().await.expect("fetch");
    fetched.iter().filter_map(|f| f.body().map(<[u8]>::to_vec)).collect()
}

/// Polls `check` every 50 ms until it returns `Some`, for at most `secs` seconds.
pub async fn wait_for<T, F, Fut>(secs: u64, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if let Some(v) = check().await {
            return Some(v);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// Sends `to` a marker mail over SMTP and waits (up to 30 s) until it is in the INBOX; returns the other messages
/// there. Mail handed to the same Postfix before the marker is normally delivered by then, so this is the later event
/// after which "nothing else arrived" is checked.
pub async fn inbox_after_marker(env: &MailEnv, to: &str) -> Vec<Vec<u8>> {
    let subject = format!("marker-{}", uuid::Uuid::new_v4().simple());
    env.send("marker@customer.example", &[to], &test_mail("marker@customer.example", to, &subject)).await;
    let is_marker = |raw: &Vec<u8>| String::from_utf8_lossy(raw).contains(&subject);
    let inbox = wait_for(30, || async {
        let inbox = wait_inbox(env, to, 0, 0).await;
        inbox.iter().any(is_marker).then_some(inbox)
    })
    .await
    .expect("the marker mail arrived");
    inbox.into_iter().filter(|raw| !is_marker(raw)).collect()
}

/// A simple test mail with a unique Message-ID.
pub fn test_mail(from: &str, to: &str, subject: &str) -> Vec<u8> {
    let id = uuid::Uuid::new_v4().simple();
    format!("From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}@customer.example>\r\nDate: Tue, 01 Sep 2026 10:00:00 +0000\r\n\r\nHello {subject}\r\n").into_bytes()
}
