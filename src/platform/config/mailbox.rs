//! `[[mailbox]]` settings: identity, IMAP source and SMTP sender of one support address.

use super::oauth::{MailboxAuth, OAuthSettings};
use serde::{Deserialize, Deserializer, Serialize};
use std::path::PathBuf;

/// One support mailbox as configured.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxSettings {
    pub name: String,
    pub address: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub plus_addressing: bool,
    #[serde(default = "enabled_default")]
    pub enabled: bool,
    #[serde(default)]
    pub imap: Option<ImapSettings>,
    #[serde(default)]
    pub smtp: Option<SmtpSettings>,
    /// Regex finding order numbers in mail (group 1 is the number).
    #[serde(default)]
    pub order_pattern: Option<String>,
}

fn enabled_default() -> bool {
    true
}

/// How a connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    Implicit,
    Starttls,
    None,
}

/// What happens on the server after a message is safely stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterImport {
    Seen,
    Move(String),
    Delete,
}

impl AfterImport {
    /// Parses `seen`, `move:FOLDER` or `delete`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "seen" => Ok(Self::Seen),
            "delete" => Ok(Self::Delete),
            other => match other.strip_prefix("move:") {
                Some(folder) if !folder.trim().is_empty() => Ok(Self::Move(folder.trim().to_string())),
                _ => Err(format!("after_import must be seen, move:FOLDER or delete, not {other:?}")),
            },
        }
    }
}

impl std::fmt::Display for AfterImport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Seen => f.write_str("seen"),
            Self::Delete => f.write_str("delete"),
            Self::Move(folder) => write!(f, "move:{folder}"),
        }
    }
}

impl Serialize for AfterImport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for AfterImport {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Which messages the first sync of a folder imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportExisting {
    Unseen,
    All,
    None,
}

/// Where a password comes from; exactly one is used.
#[derive(Clone, Default, Deserialize, Serialize)]
pub struct PasswordSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// A password entered in the dashboard, encrypted with the installation secret (see `secretbox`);
    /// decrypted into `password` when the settings are loaded from the database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_encrypted: Option<String>,
}

impl std::fmt::Debug for PasswordSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordSource")
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("password_env", &self.password_env)
            .field("password_file", &self.password_file)
            .field("password_encrypted", &self.password_encrypted.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl PasswordSource {
    /// Reads the password now (env and files may change between restarts).
    pub fn resolve(&self) -> Result<Option<String>, String> {
        if let Some(p) = &self.password {
            return Ok(Some(p.clone()));
        }
        if let Some(var) = &self.password_env {
            return std::env::var(var)
                .map(Some)
                .map_err(|_| format!("environment variable {var} (password_env) is not set"));
        }
        if let Some(path) = &self.password_file {
            return std::fs::read_to_string(path)
                .map(|s| Some(s.trim_end_matches(['\r', '\n']).to_string()))
                .map_err(|e| format!("cannot read password_file {}: {e}", path.display()));
        }
        if self.password_encrypted.is_some() {
            return Err("the stored password was not decrypted (load the settings with secretbox)".into());
        }
        Ok(None)
    }
}

/// `imap = { … }` of a mailbox. (Unknown keys are refused also next to the flattened password fields: serde checks
/// what the flattened struct left over.)
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ImapSettings {
    pub host: String,
    #[serde(default = "imap_port")]
    pub port: u16,
    #[serde(default = "tls_implicit")]
    pub tls: TlsMode,
    pub username: String,
    #[serde(flatten)]
    pub password: PasswordSource,
    /// `password` (default), `xoauth2` or `oauthbearer` (then `oauth` names the grant).
    #[serde(default, skip_serializing_if = "MailboxAuth::is_password")]
    pub auth: MailboxAuth,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuthSettings>,
    #[serde(default = "inbox")]
    pub folder: String,
    #[serde(default = "after_import_seen")]
    pub after_import: AfterImport,
    #[serde(default = "yes")]
    pub idle: bool,
    #[serde(default = "poll_interval")]
    pub poll_interval_secs: u64,
    /// The quick check: while waiting for mail (in IDLE or between polls), ask the server with `NOOP` this often;
    /// 0 (the default) is off. For a server of one's own: Dovecot tells an IDLE client of new mail ~500 ms late.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub check_interval_ms: u64,
    #[serde(default = "import_unseen")]
    pub import_existing: ImportExisting,
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

/// The quick check's bounds: more often than every 50 ms would be busy-waiting, and past a minute IDLE or polling
/// does the job.
pub const CHECK_INTERVAL_MS: std::ops::RangeInclusive<u64> = 50..=60_000;

impl ImapSettings {
    /// The quick check's interval: `None` when off, an error when outside [`CHECK_INTERVAL_MS`].
    pub fn check_interval(&self) -> Result<Option<std::time::Duration>, String> {
        match self.check_interval_ms {
            0 => Ok(None),
            ms if CHECK_INTERVAL_MS.contains(&ms) => Ok(Some(std::time::Duration::from_millis(ms))),
            ms => Err(format!(
                "imap.check_interval_ms is {ms}: use 0 (off) or {}..={}",
                CHECK_INTERVAL_MS.start(),
                CHECK_INTERVAL_MS.end()
            )),
        }
    }
}

/// `smtp = { … }` of a mailbox.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    #[serde(default = "smtp_port")]
    pub port: u16,
    #[serde(default = "tls_starttls")]
    pub tls: TlsMode,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(flatten)]
    pub password: PasswordSource,
    /// `password` (default), `xoauth2` or `oauthbearer` (the grant is `oauth`, or IMAP's).
    #[serde(default, skip_serializing_if = "MailboxAuth::is_password")]
    pub auth: MailboxAuth,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuthSettings>,
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub save_sent: bool,
    #[serde(default = "sent_folder")]
    pub sent_folder: String,
    #[serde(default = "pool_size")]
    pub pool_size: u32,
    /// Seconds each step may take: connect, TLS, greeting, each command and each write of DATA.
    #[serde(default = "smtp_timeout")]
    pub timeout_secs: u64,
}

fn imap_port() -> u16 {
    993
}
fn smtp_port() -> u16 {
    587
}
fn tls_implicit() -> TlsMode {
    TlsMode::Implicit
}
fn tls_starttls() -> TlsMode {
    TlsMode::Starttls
}
fn inbox() -> String {
    "INBOX".into()
}
fn sent_folder() -> String {
    "Sent".into()
}
fn after_import_seen() -> AfterImport {
    AfterImport::Seen
}
fn yes() -> bool {
    true
}
fn is_zero(n: &u64) -> bool {
    *n == 0
}
fn poll_interval() -> u64 {
    60
}
fn import_unseen() -> ImportExisting {
    ImportExisting::Unseen
}
fn pool_size() -> u32 {
    8
}
fn smtp_timeout() -> u64 {
    30
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_import_accepts_the_three_forms() {
        assert_eq!(AfterImport::parse("seen"), Ok(AfterImport::Seen));
        assert_eq!(AfterImport::parse("delete"), Ok(AfterImport::Delete));
        assert_eq!(AfterImport::parse("move:Archive/2026"), Ok(AfterImport::Move("Archive/2026".into())));
        assert!(AfterImport::parse("move:").is_err());
        assert!(AfterImport::parse("archive").is_err());
    }

    #[test]
    fn settings_survive_a_json_round_trip() {
        let mb: MailboxSettings = toml::from_str(
            "name = \"s\"\naddress = \"s@x.test\"\nimap = { host = \"h\", username = \"u\", password_env = \"P\", after_import = \"move:Done\" }\n",
        )
        .unwrap();
        let back: MailboxSettings = serde_json::from_str(&serde_json::to_string(&mb).unwrap()).unwrap();
        let imap = back.imap.unwrap();
        assert_eq!(imap.after_import, AfterImport::Move("Done".into()));
        assert_eq!(imap.password.password_env.as_deref(), Some("P"));
    }

    #[test]
    fn password_comes_from_env_or_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "from-file\n").unwrap();
        let src = PasswordSource { password_file: Some(file), ..Default::default() };
        assert_eq!(src.resolve().unwrap().as_deref(), Some("from-file"));
        let missing = PasswordSource { password_env: Some("DESKMAIL_TEST_NO_SUCH_VAR".into()), ..Default::default() };
        assert!(missing.resolve().unwrap_err().contains("DESKMAIL_TEST_NO_SUCH_VAR"));
    }

    #[test]
    fn debug_output_hides_passwords() {
        let src = PasswordSource { password: Some("hunter2".into()), ..Default::default() };
        assert!(!format!("{src:?}").contains("hunter2"));
    }
}
