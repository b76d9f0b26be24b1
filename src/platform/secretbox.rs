//! Encryption of secrets stored in the database (mailbox passwords entered in the dashboard).
//!
//! XChaCha20-Poly1305 with a key derived from the installation secret (HMAC-SHA256 over a fixed
//! context string) and a random 24-byte nonce per value; stored as `v1:` + base64(nonce ‖ ciphertext).

use crate::platform::config::{MailboxSettings, PasswordSource};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

const CONTEXT: &[u8] = b"deskmail mailbox passwords v1";
const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 24;

/// Why a stored secret cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretBoxError {
    /// The text is not a value this module wrote (wrong prefix, bad base64, too short).
    #[error("the stored secret is malformed")]
    Malformed,
    /// Authentication failed: another installation secret, or the value was tampered with.
    #[error("the stored secret cannot be decrypted (was the installation secret changed?)")]
    Decrypt,
}

/// Encrypts and decrypts small secrets with the installation's key. Cheap to clone.
#[derive(Clone)]
pub struct SecretBox {
    key: [u8; 32],
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox([redacted])")
    }
}

impl SecretBox {
    /// Derives the key from the installation secret.
    pub fn new(secret: &[u8]) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("hmac accepts any key length");
        mac.update(CONTEXT);
        let mut key = [0u8; 32];
        key.copy_from_slice(&mac.finalize().into_bytes());
        Self { key }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&Key::from(self.key))
    }

    /// Encrypts `plain` with a fresh random nonce.
    pub fn seal(&self, plain: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(&XNonce::from(nonce), plain.as_bytes())
            .expect("encryption of a short value succeeds");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}", base64::engine::general_purpose::STANDARD.encode(out))
    }

    /// Decrypts a value written by [`SecretBox::seal`].
    pub fn open(&self, sealed: &str) -> Result<String, SecretBoxError> {
        let b64 = sealed.trim().strip_prefix(PREFIX).ok_or(SecretBoxError::Malformed)?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|_| SecretBoxError::Malformed)?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(SecretBoxError::Malformed);
        }
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SecretBoxError::Malformed)?;
        let plain = self.cipher().decrypt(&XNonce::from(nonce), body).map_err(|_| SecretBoxError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| SecretBoxError::Malformed)
    }
}

/// Why stored mailbox settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("mailbox settings unreadable: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0} password: {1}")]
    Password(&'static str, SecretBoxError),
}

/// Reads a mailbox's `settings_json`, decrypting dashboard-entered passwords into `password` (in memory only).
pub fn load_mailbox_settings(json: &str, secrets: &SecretBox) -> Result<MailboxSettings, SettingsError> {
    let mut settings: MailboxSettings = serde_json::from_str(json)?;
    if let Some(imap) = &mut settings.imap {
        open_password(&mut imap.password, secrets).map_err(|e| SettingsError::Password("IMAP", e))?;
    }
    if let Some(smtp) = &mut settings.smtp {
        open_password(&mut smtp.password, secrets).map_err(|e| SettingsError::Password("SMTP", e))?;
    }
    Ok(settings)
}

fn open_password(source: &mut PasswordSource, secrets: &SecretBox) -> Result<(), SecretBoxError> {
    if let Some(sealed) = source.password_encrypted.take() {
        source.password = Some(secrets.open(&sealed)?);
    }
    Ok(())
}

/// Replaces plain `password`s by `password_encrypted` before settings are stored.
pub fn seal_passwords(settings: &mut MailboxSettings, secrets: &SecretBox) {
    let sources = [settings.imap.as_mut().map(|i| &mut i.password), settings.smtp.as_mut().map(|s| &mut s.password)];
    for source in sources.into_iter().flatten() {
        if let Some(plain) = source.password.take() {
            source.password_encrypted = Some(secrets.seal(&plain));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_settings_keep_passwords_encrypted_and_load_them_decrypted() {
        let secrets = SecretBox::new(b"k");
        let mut mb: MailboxSettings = serde_json::from_str(
            r#"{"name":"s","address":"s@x.test","imap":{"host":"h","username":"u","password":"imap-pw"},
                "smtp":{"host":"h","username":"u","password":"smtp-pw"}}"#,
        )
        .unwrap();
        seal_passwords(&mut mb, &secrets);
        let json = serde_json::to_string(&mb).unwrap();
        assert!(!json.contains("imap-pw") && !json.contains("smtp-pw") && json.contains("password_encrypted"));
        let loaded = load_mailbox_settings(&json, &secrets).unwrap();
        assert_eq!(loaded.imap.unwrap().password.resolve().unwrap().as_deref(), Some("imap-pw"));
        assert_eq!(loaded.smtp.unwrap().password.resolve().unwrap().as_deref(), Some("smtp-pw"));
        assert!(load_mailbox_settings(&json, &SecretBox::new(b"other")).is_err());
    }

    #[test]
    fn a_sealed_value_opens_with_the_same_secret_only() {
        let a = SecretBox::new(b"installation secret one");
        let sealed = a.seal("hunter2");
        assert!(sealed.starts_with("v1:") && !sealed.contains("hunter2"));
        assert_eq!(a.open(&sealed).unwrap(), "hunter2");
        assert_eq!(SecretBox::new(b"another secret").open(&sealed), Err(SecretBoxError::Decrypt));
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let b = SecretBox::new(b"s");
        assert_ne!(b.seal("same"), b.seal("same"));
    }

    #[test]
    fn tampered_or_foreign_values_are_refused() {
        let b = SecretBox::new(b"s");
        let mut sealed = b.seal("pw").into_bytes();
        let last = sealed.len() - 2;
        sealed[last] = if sealed[last] == b'A' { b'B' } else { b'A' };
        assert!(b.open(&String::from_utf8(sealed).unwrap()).is_err());
        assert_eq!(b.open("plain"), Err(SecretBoxError::Malformed));
        assert_eq!(b.open("v1:AAAA"), Err(SecretBoxError::Malformed));
    }
}
