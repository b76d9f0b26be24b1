//! SMTP AUTH with an OAuth2 access token (XOAUTH2 or OAUTHBEARER), written out here because lettre knows no
//! OAUTHBEARER and ends an XOAUTH2 exchange on the server's error challenge without reading the failure.

use super::oauth::{TokenSource, sasl};
use super::smtp::SendError;
use crate::platform::config::MailboxAuth;
use lettre::transport::smtp::client::AsyncSmtpConnection;
use std::sync::Arc;

/// Who signs in, how, and where the tokens come from.
#[derive(Clone)]
pub(super) struct OAuthLogin {
    pub mechanism: MailboxAuth,
    pub user: String,
    pub source: Arc<TokenSource>,
}

/// How one AUTH exchange ended.
enum Outcome {
    Accepted,
    /// The server refused the token (535 after the error challenge).
    Refused(String),
}

/// Signs in with the current access token; a refused token is dropped and a fresh one tried once on the same
/// session. Token trouble is transient for the mail: the grant may be renewed before the retries run out.
pub(super) async fn authenticate(
    conn: &mut AsyncSmtpConnection,
    login: &OAuthLogin,
    host: &str,
    port: u16,
) -> Result<(), SendError> {
    let token = access_token(login).await?;
    if let Outcome::Refused(why) = exchange(conn, login, host, port, &token).await? {
        tracing::info!(%host, refused = %why, "access token refused; trying a fresh one");
        login.source.refused(&token).await;
        let token = access_token(login).await?;
        if let Outcome::Refused(why) = exchange(conn, login, host, port, &token).await? {
            return Err(SendError::Transient(format!("{host} refused the OAuth2 access token: {why}")));
        }
    }
    Ok(())
}

async fn access_token(login: &OAuthLogin) -> Result<String, SendError> {
    login.source.access_token().await.map_err(|e| SendError::Transient(format!("OAuth2: {e}")))
}

async fn exchange(
    conn: &mut AsyncSmtpConnection,
    login: &OAuthLogin,
    host: &str,
    port: u16,
    token: &str,
) -> Result<Outcome, SendError> {
    let name = sasl::mechanism_name(login.mechanism);
    let message = sasl::encode(&sasl::initial(login.mechanism, &login.user, host, port, token));
    let answer = match conn.command(format!("AUTH {name} {message}\r\n")).await {
        Ok(answer) => answer,
        Err(e) if e.is_permanent() => return Ok(Outcome::Refused(crate::platform::telemetry::chain(&e))),
        Err(e) => return Err(SendError::Transient(format!("AUTH {name}: {}", crate::platform::telemetry::chain(&e)))),
    };
    if !answer.has_code(334) {
        return Ok(Outcome::Accepted);
    }
    // An error challenge (JSON naming the problem): acknowledge it, the server then answers with its failure.
    let ack = sasl::encode(sasl::after_error(login.mechanism));
    match conn.command(format!("{ack}\r\n")).await {
        Ok(_) => Ok(Outcome::Refused("the server sent an error challenge".into())),
        Err(e) => Ok(Outcome::Refused(crate::platform::telemetry::chain(&e))),
    }
}
