//! The mailbox form: its fields as posted, checked into `MailboxSettings` with an error per field, and filled from stored settings.

pub use super::stored_password::has_password;
use super::stored_password::{Destination, enter_again, kept_or_typed};
use crate::domain::EmailAddress;
use crate::platform::config::{
    AfterImport, CHECK_INTERVAL_MS, ImapSettings, ImportExisting, MailboxSettings, SmtpSettings, TlsMode,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Errors by field name, shown beside each field.
pub type FieldErrors = BTreeMap<&'static str, String>;

/// The mailbox form as posted (checkboxes are present only when ticked). Passwords are never sent back to the page.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct MailboxForm {
    pub name: String,
    pub address: String,
    pub display_name: String,
    pub plus_addressing: Option<String>,
    pub enabled: Option<String>,
    pub imap_on: Option<String>,
    pub imap_host: String,
    pub imap_port: String,
    pub imap_tls: String,
    pub imap_username: String,
    #[serde(skip_serializing)]
    pub imap_password: String,
    pub imap_folder: String,
    pub imap_after_import: String,
    pub imap_idle: Option<String>,
    pub imap_poll_interval: String,
    /// Milliseconds between quick checks; empty or 0 is off.
    pub imap_check_interval: String,
    pub imap_import_existing: String,
    pub imap_ca_file: String,
    pub smtp_on: Option<String>,
    pub smtp_host: String,
    pub smtp_port: String,
    pub smtp_tls: String,
    pub smtp_username: String,
    #[serde(skip_serializing)]
    pub smtp_password: String,
    pub smtp_save_sent: Option<String>,
    pub smtp_ca_file: String,
}

fn on(b: bool) -> Option<String> {
    b.then(|| "1".to_string())
}

fn tls_name(t: TlsMode) -> String {
    match t {
        TlsMode::Implicit => "implicit",
        TlsMode::Starttls => "starttls",
        TlsMode::None => "none",
    }
    .into()
}

fn path_text(p: &Option<PathBuf>) -> String {
    p.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
}

impl MailboxForm {
    /// An empty form for a new mailbox, with the usual defaults.
    pub fn new_mailbox() -> Self {
        Self {
            enabled: on(true),
            imap_port: "993".into(),
            imap_tls: "implicit".into(),
            imap_folder: "INBOX".into(),
            imap_after_import: "seen".into(),
            imap_idle: on(true),
            imap_poll_interval: "60".into(),
            imap_import_existing: "unseen".into(),
            smtp_port: "587".into(),
            smtp_tls: "starttls".into(),
            ..Default::default()
        }
    }

    /// The form of stored settings (passwords left empty: an empty field keeps the stored one).
    pub fn from_settings(s: &MailboxSettings) -> Self {
        let mut f = Self {
            name: s.name.clone(),
            address: s.address.clone(),
            display_name: s.display_name.clone(),
            plus_addressing: on(s.plus_addressing),
            enabled: on(s.enabled),
            ..Self::new_mailbox()
        };
        if let Some(i) = &s.imap {
            f.imap_on = on(true);
            (f.imap_host, f.imap_port, f.imap_tls) = (i.host.clone(), i.port.to_string(), tls_name(i.tls));
            (f.imap_username, f.imap_folder) = (i.username.clone(), i.folder.clone());
            (f.imap_after_import, f.imap_idle) = (i.after_import.to_string(), on(i.idle));
            f.imap_poll_interval = i.poll_interval_secs.to_string();
            f.imap_check_interval = i.check_interval_ms.to_string();
            f.imap_import_existing = serde_plain(&i.import_existing);
            f.imap_ca_file = path_text(&i.ca_file);
        }
        if let Some(m) = &s.smtp {
            f.smtp_on = on(true);
            (f.smtp_host, f.smtp_port, f.smtp_tls) = (m.host.clone(), m.port.to_string(), tls_name(m.tls));
            f.smtp_username = m.username.clone().unwrap_or_default();
            (f.smtp_save_sent, f.smtp_ca_file) = (on(m.save_sent), path_text(&m.ca_file));
        }
        f
    }

    /// Checks every field; `stored` are the settings being edited (their passwords stay when the fields are empty).
    pub fn check(&self, stored: Option<&MailboxSettings>) -> Result<MailboxSettings, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = self.name.trim().to_string();
        if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            errors.insert("name", "Use 1–64 letters, digits, dots, dashes or underscores.".into());
        }
        let address = match EmailAddress::parse(self.address.trim()) {
            Ok(a) => a.to_string(),
            Err(_) => {
                errors.insert("address", "Enter an e-mail address like support@example.com.".into());
                String::new()
            }
        };
        if self.display_name.chars().count() > 200 {
            errors.insert("display_name", "At most 200 characters.".into());
        }
        let imap = self.imap_on.is_some().then(|| self.check_imap(stored.and_then(|s| s.imap.as_ref()), &mut errors));
        let smtp = self.smtp_on.is_some().then(|| self.check_smtp(stored.and_then(|s| s.smtp.as_ref()), &mut errors));
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(MailboxSettings {
            name,
            address,
            display_name: self.display_name.trim().to_string(),
            plus_addressing: self.plus_addressing.is_some(),
            enabled: self.enabled.is_some(),
            imap: imap.flatten(),
            smtp: smtp.flatten(),
            order_pattern: stored.and_then(|s| s.order_pattern.clone()),
        })
    }

    fn check_imap(&self, stored: Option<&ImapSettings>, errors: &mut FieldErrors) -> Option<ImapSettings> {
        let host = required(&self.imap_host, "imap_host", errors);
        let port = port(&self.imap_port, "imap_port", errors);
        let tls = tls(&self.imap_tls, "imap_tls", errors);
        let username = required(&self.imap_username, "imap_username", errors);
        let typed = match (&host, port, tls, &username) {
            (Some(h), Some(p), Some(t), Some(u)) => Some(Destination::new(h, p, t, Some(u))),
            _ => None,
        };
        // A mailbox connected with OAuth2 keeps its grant (no password) while server and account stay the same and
        // no password is typed: its access tokens must not go to another server.
        let oauth = stored
            .filter(|s| s.auth.is_oauth() && self.imap_password.is_empty())
            .filter(|s| typed.as_ref() == Some(&Destination::of_imap(s)))
            .map(|s| (s.auth, s.oauth.clone()));
        let (password, moved) =
            kept_or_typed(&self.imap_password, stored.map(|s| (Destination::of_imap(s), &s.password)), typed);
        let password = if oauth.is_some() { Some(password.unwrap_or_default()) } else { password };
        if password.is_none() {
            let error = if moved { enter_again("IMAP") } else { "Enter the IMAP password.".into() };
            errors.insert("imap_password", error);
        }
        let folder =
            if self.imap_folder.trim().is_empty() { "INBOX".to_string() } else { self.imap_folder.trim().into() };
        let after_import = AfterImport::parse(&self.imap_after_import)
            .map_err(|_| errors.insert("imap_after_import", "Use seen, delete or move:FOLDER.".into()))
            .ok();
        let poll = match self.imap_poll_interval.trim().parse::<u64>() {
            Ok(n) if (5..=86_400).contains(&n) => Some(n),
            _ => errors.insert("imap_poll_interval", "Enter seconds between 5 and 86400.".into()).and(None),
        };
        let check = match self.imap_check_interval.trim() {
            "" => Some(0),
            text => match text.parse::<u64>() {
                Ok(n) if n == 0 || CHECK_INTERVAL_MS.contains(&n) => Some(n),
                _ => errors
                    .insert("imap_check_interval", "Enter 0 (off) or milliseconds between 50 and 60000.".into())
                    .and(None),
            },
        };
        let import_existing = match self.imap_import_existing.as_str() {
            "unseen" => Some(ImportExisting::Unseen),
            "all" => Some(ImportExisting::All),
            "none" => Some(ImportExisting::None),
            _ => errors.insert("imap_import_existing", "Choose unseen, all or none.".into()).and(None),
        };
        let ca_file = ca_file(&self.imap_ca_file, "imap_ca_file", errors);
        Some(ImapSettings {
            host: host?,
            port: port?,
            tls: tls?,
            username: username?,
            password: password?,
            auth: oauth.as_ref().map(|o| o.0).unwrap_or_default(),
            oauth: oauth.and_then(|o| o.1),
            folder,
            after_import: after_import?,
            idle: self.imap_idle.is_some(),
            poll_interval_secs: poll?,
            check_interval_ms: check?,
            import_existing: import_existing?,
            ca_file: ca_file?,
        })
    }

    fn check_smtp(&self, stored: Option<&SmtpSettings>, errors: &mut FieldErrors) -> Option<SmtpSettings> {
        let host = required(&self.smtp_host, "smtp_host", errors);
        let port = port(&self.smtp_port, "smtp_port", errors);
        let tls = tls(&self.smtp_tls, "smtp_tls", errors);
        let username = Some(self.smtp_username.trim().to_string()).filter(|u| !u.is_empty());
        let typed = match (&host, port, tls) {
            (Some(h), Some(p), Some(t)) => Some(Destination::new(h, p, t, username.as_deref())),
            _ => None,
        };
        let oauth = stored
            .filter(|s| s.auth.is_oauth() && self.smtp_password.is_empty())
            .filter(|s| typed.as_ref() == Some(&Destination::of_smtp(s)))
            .map(|s| (s.auth, s.oauth.clone()));
        let (password, moved) =
            kept_or_typed(&self.smtp_password, stored.map(|s| (Destination::of_smtp(s), &s.password)), typed);
        let password = password.unwrap_or_default();
        if username.is_some() && !has_password(&password) && oauth.is_none() {
            let error = if moved {
                enter_again("SMTP")
            } else {
                "Enter the SMTP password (or leave the username empty).".into()
            };
            errors.insert("smtp_password", error);
        }
        let ca_file = ca_file(&self.smtp_ca_file, "smtp_ca_file", errors);
        Some(SmtpSettings {
            host: host?,
            port: port?,
            tls: tls?,
            username,
            password,
            auth: oauth.as_ref().map(|o| o.0).unwrap_or_default(),
            oauth: oauth.and_then(|o| o.1),
            ca_file: ca_file?,
            save_sent: self.smtp_save_sent.is_some(),
            sent_folder: stored.map(|s| s.sent_folder.clone()).unwrap_or_else(|| "Sent".into()),
            pool_size: stored.map(|s| s.pool_size).unwrap_or(4),
            timeout_secs: stored.map(|s| s.timeout_secs).unwrap_or(30),
        })
    }
}

fn serde_plain<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn required(value: &str, field: &'static str, errors: &mut FieldErrors) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        errors.insert(field, "Required.".into());
        return None;
    }
    Some(v.to_string())
}

fn port(value: &str, field: &'static str, errors: &mut FieldErrors) -> Option<u16> {
    match value.trim().parse::<u16>() {
        Ok(p) if p > 0 => Some(p),
        _ => errors.insert(field, "Enter a port number between 1 and 65535.".into()).and(None),
    }
}

fn tls(value: &str, field: &'static str, errors: &mut FieldErrors) -> Option<TlsMode> {
    match value {
        "implicit" => Some(TlsMode::Implicit),
        "starttls" => Some(TlsMode::Starttls),
        "none" => Some(TlsMode::None),
        _ => errors.insert(field, "Choose implicit TLS, STARTTLS or none.".into()).and(None),
    }
}

fn ca_file(value: &str, field: &'static str, errors: &mut FieldErrors) -> Option<Option<PathBuf>> {
    let v = value.trim();
    if v.is_empty() {
        return Some(None);
    }
    let path = PathBuf::from(v);
    if !path.is_absolute() || !path.is_file() {
        errors.insert(field, "Enter the absolute path of a readable PEM file on the server.".into());
        return None;
    }
    Some(Some(path))
}

#[cfg(test)]
#[path = "mailbox_form_tests.rs"]
mod tests;
