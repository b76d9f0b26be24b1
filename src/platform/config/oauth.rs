//! OAuth2 sign-in of a mailbox (`auth = "xoauth2"` or `"oauthbearer"` with `oauth = { … }` on `imap`/`smtp`) and
//! the `[oauth]` section: the two well-known providers' endpoints (preset, overridable) and client credentials.

use super::MailboxSettings;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How a mailbox signs in to its IMAP or SMTP server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MailboxAuth {
    /// LOGIN / AUTH PLAIN with the configured password.
    #[default]
    Password,
    /// SASL XOAUTH2 (Google's and Microsoft's) with an access token.
    Xoauth2,
    /// SASL OAUTHBEARER (RFC 7628) with an access token.
    Oauthbearer,
}

impl MailboxAuth {
    /// Whether the server is signed in to with an access token.
    pub fn is_oauth(self) -> bool {
        self != Self::Password
    }

    /// Whether this is the default (left out when settings are stored).
    pub fn is_password(&self) -> bool {
        *self == Self::Password
    }
}

/// A provider whose endpoints and scopes are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Google,
    Microsoft,
}

impl Provider {
    /// Both providers, in the order the dashboard shows them.
    pub const ALL: [Provider; 2] = [Provider::Google, Provider::Microsoft];

    /// The name in config and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Google => "google",
            Self::Microsoft => "microsoft",
        }
    }

    /// Parses `google` or `microsoft`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The name people know.
    pub fn title(self) -> &'static str {
        match self {
            Self::Google => "Google",
            Self::Microsoft => "Microsoft",
        }
    }

    /// `(authorization endpoint, token endpoint, scopes)` as published by the provider.
    fn preset(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Google => (
                "https://accounts.google.com/o/oauth2/v2/auth",
                "https://oauth2.googleapis.com/token",
                "https://mail.google.com/",
            ),
            Self::Microsoft => (
                "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
                "https://login.microsoftonline.com/common/oauth2/v2.0/token",
                "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access",
            ),
        }
    }
}

/// `oauth = { … }` of `imap` or `smtp`: where the mailbox's access tokens come from. Secrets are named (an
/// environment variable or a file), never written here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthSettings {
    /// `google` or `microsoft`: token endpoint and (unless given here) client from `[oauth.<provider>]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<Provider>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_file: Option<PathBuf>,
    /// The first refresh token; a rotated one (or one from the dashboard's Connect flow) is kept in the database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_file: Option<PathBuf>,
    /// Sent with each refresh when set (most providers keep the granted scopes without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// `[oauth]`: the providers of the "Connect with …" buttons and of mailboxes with `oauth = { provider = … }`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OAuthProviders {
    pub google: ProviderSettings,
    pub microsoft: ProviderSettings,
}

/// `[oauth.google]` / `[oauth.microsoft]`: the app registered with the provider; endpoints and scopes are preset.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderSettings {
    pub client_id: Option<String>,
    pub client_secret_env: Option<String>,
    pub client_secret_file: Option<PathBuf>,
    pub auth_url: Option<String>,
    pub token_url: Option<String>,
    pub scopes: Option<String>,
}

/// A provider's settings with the presets filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEndpoints {
    pub client_id: Option<String>,
    pub auth_url: String,
    pub token_url: String,
    pub scopes: String,
}

impl OAuthProviders {
    fn of(&self, p: Provider) -> &ProviderSettings {
        match p {
            Provider::Google => &self.google,
            Provider::Microsoft => &self.microsoft,
        }
    }

    /// A provider's endpoints, scopes and client id (presets unless overridden).
    pub fn endpoints(&self, p: Provider) -> ProviderEndpoints {
        let (auth, token, scopes) = p.preset();
        let s = self.of(p);
        ProviderEndpoints {
            client_id: s.client_id.clone().filter(|c| !c.trim().is_empty()),
            auth_url: s.auth_url.clone().unwrap_or_else(|| auth.into()),
            token_url: s.token_url.clone().unwrap_or_else(|| token.into()),
            scopes: s.scopes.clone().unwrap_or_else(|| scopes.into()),
        }
    }

    /// The client secret of a provider's app, read now (`None`: a public client).
    pub fn client_secret(&self, p: Provider) -> Result<Option<String>, String> {
        let s = self.of(p);
        read_secret(s.client_secret_env.as_deref(), s.client_secret_file.as_deref(), "client_secret")
    }
}

/// An app registered with a provider, and its token endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthClient {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: Option<String>,
}

/// A mailbox's grant, resolved: what the token provider needs to refresh access tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct Grant {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// The configured refresh token (env or file); the database may hold a newer one.
    pub seed_refresh_token: Option<String>,
    pub scope: Option<String>,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grant")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "[redacted]"))
            .field("seed_refresh_token", &self.seed_refresh_token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl OAuthSettings {
    /// Resolves endpoints and client (the provider's presets and `[oauth.<provider>]` fill what is not given
    /// here) and reads the secrets now.
    pub fn resolve(&self, providers: &OAuthProviders) -> Result<Grant, String> {
        let client = self.client(providers)?;
        let seed = read_secret(self.refresh_token_env.as_deref(), self.refresh_token_file.as_deref(), "refresh_token")?;
        Ok(Grant {
            token_url: client.token_url,
            client_id: client.client_id,
            client_secret: client.client_secret,
            seed_refresh_token: seed,
            scope: self.scope.clone(),
        })
    }

    /// The token endpoint and the client (id, secret read now) this grant is refreshed with.
    pub fn client(&self, providers: &OAuthProviders) -> Result<OAuthClient, String> {
        let endpoints = self.provider.map(|p| providers.endpoints(p));
        let token_url = self.token_url.clone().or_else(|| endpoints.as_ref().map(|e| e.token_url.clone()));
        let client_id = self.client_id.clone().or_else(|| endpoints.as_ref().and_then(|e| e.client_id.clone()));
        let mut client_secret =
            read_secret(self.client_secret_env.as_deref(), self.client_secret_file.as_deref(), "client_secret")?;
        if client_secret.is_none() && self.client_id.is_none() {
            client_secret = match self.provider {
                Some(p) => providers.client_secret(p)?,
                None => None,
            };
        }
        Ok(OAuthClient {
            token_url: token_url.ok_or("oauth: set token_url or provider")?,
            client_id: client_id.ok_or("oauth: set client_id (or [oauth.<provider>] client_id)")?,
            client_secret,
        })
    }

    /// Makes relative secret file paths absolute (against the config file's folder).
    pub fn resolve_paths(&mut self, join: impl Fn(&Path) -> PathBuf) {
        self.client_secret_file = self.client_secret_file.as_deref().map(&join);
        self.refresh_token_file = self.refresh_token_file.as_deref().map(&join);
    }
}

impl MailboxSettings {
    /// The OAuth2 grant the mailbox signs in with: IMAP's `oauth`, else SMTP's; `None` when neither server uses
    /// OAuth2.
    pub fn oauth(&self) -> Option<&OAuthSettings> {
        let imap = self.imap.as_ref().filter(|i| i.auth.is_oauth()).and_then(|i| i.oauth.as_ref());
        let smtp = self.smtp.as_ref().filter(|s| s.auth.is_oauth()).and_then(|s| s.oauth.as_ref());
        imap.or(smtp)
    }

    /// Refuses OAuth2 settings that cannot work: a server with `auth = "xoauth2"` but no grant, two different
    /// grants for one mailbox, or `oauth` next to password sign-in.
    pub fn check_oauth(&self) -> Result<(), String> {
        let servers = [
            ("imap", self.imap.as_ref().map(|i| (i.auth, i.oauth.as_ref()))),
            ("smtp", self.smtp.as_ref().map(|s| (s.auth, s.oauth.as_ref()))),
        ];
        for (name, server) in servers {
            let Some((auth, oauth)) = server else { continue };
            if auth.is_oauth() && self.oauth().is_none() {
                return Err(format!("{name}.auth = {auth:?} needs oauth = {{ provider or token_url, client_id, … }}"));
            }
            if !auth.is_oauth() && oauth.is_some() {
                return Err(format!("{name}.oauth is set but {name}.auth is \"password\""));
            }
            if let (Some(oauth), Some(grant)) = (oauth, self.oauth())
                && oauth != grant
            {
                return Err("imap.oauth and smtp.oauth differ: a mailbox has one grant (leave smtp's out)".into());
            }
        }
        if let Some(o) = self.oauth()
            && o.provider.is_none()
            && (o.token_url.is_none() || o.client_id.is_none())
        {
            return Err("oauth needs provider, or token_url and client_id".into());
        }
        Ok(())
    }
}

/// A secret from an environment variable or a file (trailing newline dropped); `None` when neither is named.
pub(super) fn read_secret(env: Option<&str>, file: Option<&Path>, what: &str) -> Result<Option<String>, String> {
    if let Some(var) = env {
        return std::env::var(var)
            .map(|v| Some(v.trim().to_string()))
            .map_err(|_| format!("environment variable {var} ({what}_env) is not set"));
    }
    if let Some(path) = file {
        return std::fs::read_to_string(path)
            .map(|s| Some(s.trim().to_string()))
            .map_err(|e| format!("cannot read {what}_file {}: {e}", path.display()));
    }
    Ok(None)
}

#[cfg(test)]
#[path = "oauth_tests.rs"]
mod tests;
