//! "Connect with Google / Microsoft" on `/admin/mailboxes`: the authorization-code flow with PKCE (S256) and a
//! state kept in the admin's session; the callback exchanges the code and stores the refresh token sealed for the
//! mailbox (a dashboard mailbox is switched to XOAUTH2 with that provider).

use super::mailboxes::stored_settings;
use crate::db::MailboxRow;
use crate::net::oauth::{endpoint, pkce, seed_fingerprint};
use crate::platform::config::{MailboxAuth, MailboxSettings, OAuthClient, OAuthSettings, Provider};
use crate::web::dashboard::AdminUser;
use crate::web::dashboard::pages::flash;
use crate::web::{AppState, Error};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

/// The session key of a flow under way (one at a time per session).
const FLOW_KEY: &str = "oauth_connect";

/// A flow must come back within this many seconds.
const FLOW_SECS: i64 = 900;

pub fn router() -> Router<AppState> {
    // A link, not a form: the browser leaves for the provider, and CSP form-action would stop a form's redirect there.
    Router::new()
        .route("/admin/mailboxes/{id}/oauth/{provider}", get(start))
        .route("/admin/oauth/callback", get(callback))
}

/// What the session remembers between the redirect and the callback.
#[derive(Debug, Serialize, Deserialize)]
struct Flow {
    state: String,
    verifier: String,
    mailbox_id: i64,
    provider: String,
    started_at: i64,
}

/// The redirect URI registered with the provider.
fn redirect_uri(state: &AppState) -> String {
    format!("{}/admin/oauth/callback", state.settings.server.public_url.trim_end_matches('/'))
}

/// The app to authorize: the mailbox's own client when its grant names this provider, else `[oauth.<provider>]`.
fn client_for(state: &AppState, settings: &MailboxSettings, provider: Provider) -> Result<OAuthClient, String> {
    let own = settings.oauth().filter(|o| o.provider == Some(provider) && o.client_id.is_some());
    let fallback = OAuthSettings { provider: Some(provider), ..Default::default() };
    own.unwrap_or(&fallback).client(state.oauth.providers()).map_err(|_| {
        format!("Set client_id (and client_secret_env) under [oauth.{}] in the config file first.", provider.as_str())
    })
}

async fn back(session: &Session, kind: &str, text: String) -> Result<Response, Error> {
    flash(session, kind, text).await;
    Ok(Redirect::to("/admin/mailboxes").into_response())
}

async fn start(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    session: Session,
    Path((id, provider)): Path<(i64, String)>,
) -> Result<Response, Error> {
    let provider = Provider::parse(&provider).ok_or(Error::NotFound)?;
    let row = state.db.mailbox_by_id(id).await?;
    let client = match client_for(&state, &stored_settings(&row), provider) {
        Ok(client) => client,
        Err(e) => return back(&session, "error", e).await,
    };
    let endpoints = state.oauth.providers().endpoints(provider);
    let flow = Flow {
        state: pkce::random_token(32),
        verifier: pkce::verifier(),
        mailbox_id: id,
        provider: provider.as_str().into(),
        started_at: crate::domain::now(),
    };
    let extra: &[(&str, &str)] =
        if provider == Provider::Google { &[("access_type", "offline"), ("prompt", "consent")] } else { &[] };
    let url = pkce::authorize_url(&pkce::AuthorizeRequest {
        auth_url: &endpoints.auth_url,
        client_id: &client.client_id,
        redirect_uri: &redirect_uri(&state),
        scopes: &endpoints.scopes,
        state: &flow.state,
        challenge: &pkce::challenge(&flow.verifier),
        login_hint: Some(&row.address),
        extra,
    });
    session.insert(FLOW_KEY, flow).await.map_err(|e| Error::Internal(anyhow::anyhow!("session: {e}")))?;
    Ok(Redirect::to(&url).into_response())
}

/// What the provider sends back.
#[derive(Debug, Deserialize)]
struct Answer {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Query(answer): Query<Answer>,
) -> Result<Response, Error> {
    // A callback with another state (forged, or of an older attempt) leaves the flow under way alone.
    let flow: Option<Flow> = session.get(FLOW_KEY).await.ok().flatten();
    let flow = flow.filter(|f| Some(&f.state) == answer.state.as_ref());
    if flow.is_some() {
        let _ = session.remove::<Flow>(FLOW_KEY).await;
    }
    let Some(flow) = flow.filter(|f| crate::domain::now() - f.started_at <= FLOW_SECS) else {
        return back(&session, "error", "The sign-in came back unknown or too late; connect again.".into()).await;
    };
    if let Some(error) = answer.error {
        let why = answer.error_description.unwrap_or_default();
        return back(&session, "error", format!("The provider did not grant access: {error} {why}")).await;
    }
    let (Some(code), Some(provider)) = (answer.code, Provider::parse(&flow.provider)) else {
        return back(&session, "error", "The provider sent no authorization code.".into()).await;
    };
    let row = state.db.mailbox_by_id(flow.mailbox_id).await?;
    let client = match client_for(&state, &stored_settings(&row), provider) {
        Ok(client) => client,
        Err(e) => return back(&session, "error", e).await,
    };
    let exchange = endpoint::CodeExchange {
        token_url: &client.token_url,
        client_id: &client.client_id,
        client_secret: client.client_secret.as_deref(),
        code: &code,
        redirect_uri: &redirect_uri(&state),
        verifier: &flow.verifier,
    };
    let refresh_token = match endpoint::exchange_code(state.oauth.http(), &exchange).await {
        Ok(tokens) => tokens.refresh_token,
        Err(e) => return back(&session, "error", format!("The code exchange failed: {e}")).await,
    };
    let Some(refresh_token) = refresh_token else {
        let text =
            "The provider sent no refresh token: remove deskmail's access in the account's settings and connect again.";
        return back(&session, "error", text.into()).await;
    };
    let note = store(&state, &row, provider, &refresh_token).await?;
    tracing::info!(mailbox = %row.name, provider = provider.as_str(), by = %user.email, "mailbox connected with OAuth2");
    back(&session, "ok", format!("Mailbox {} connected with {}.{note}", row.name, provider.title())).await
}

/// Seals and stores the refresh token; a dashboard mailbox is switched to XOAUTH2 with `provider`. Returns a note
/// for a config mailbox whose file must name the provider itself.
async fn store(state: &AppState, row: &MailboxRow, provider: Provider, refresh_token: &str) -> Result<String, Error> {
    let mut settings = stored_settings(row);
    let mut note = String::new();
    if settings.oauth().is_none_or(|o| o.provider != Some(provider)) {
        if row.source == "dashboard" {
            switch_to_oauth(&mut settings, provider);
            let json = serde_json::to_string(&settings).unwrap_or_else(|_| row.settings_json.clone());
            state.db.update_dashboard_mailbox(row.id, &settings, &json).await?;
        } else {
            note = format!(
                " Set auth = \"xoauth2\" and oauth = {{ provider = \"{}\" }} for it in the config file.",
                provider.as_str()
            );
        }
    }
    let seed = settings.oauth().and_then(|o| o.resolve(state.oauth.providers()).ok());
    let seed = seed.map(|g| seed_fingerprint(&g)).unwrap_or_default();
    let sealed = state.secrets.seal(refresh_token);
    state.db.oauth_connected(row.id, &sealed, &seed, crate::domain::now()).await?;
    state.oauth.reset(row.id).await;
    state.mailboxes_changed.notify_one();
    Ok(note)
}

/// IMAP (or else SMTP) holds the grant; both servers sign in with XOAUTH2.
fn switch_to_oauth(settings: &mut MailboxSettings, provider: Provider) {
    let grant = OAuthSettings { provider: Some(provider), ..Default::default() };
    let address = settings.address.clone();
    // The access tokens replace the passwords.
    if let Some(imap) = &mut settings.imap {
        (imap.auth, imap.oauth, imap.password) = (MailboxAuth::Xoauth2, Some(grant.clone()), Default::default());
    }
    let imap_holds = settings.imap.is_some();
    if let Some(smtp) = &mut settings.smtp {
        (smtp.auth, smtp.password) = (MailboxAuth::Xoauth2, Default::default());
        smtp.oauth = (!imap_holds).then_some(grant);
        smtp.username.get_or_insert(address);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dashboard_mailbox_switches_both_servers_to_xoauth2_with_one_grant() {
        let mut mb: MailboxSettings = serde_json::from_str(
            r#"{"name":"s","address":"s@x.test","imap":{"host":"imap.gmail.com","username":"s@x.test","password":"p"},
                "smtp":{"host":"smtp.gmail.com"}}"#,
        )
        .unwrap();
        switch_to_oauth(&mut mb, Provider::Google);
        assert!(mb.check_oauth().is_ok());
        assert_eq!(mb.oauth().unwrap().provider, Some(Provider::Google));
        let smtp = mb.smtp.unwrap();
        assert_eq!((smtp.auth, smtp.oauth, smtp.username.as_deref()), (MailboxAuth::Xoauth2, None, Some("s@x.test")));
        assert!(mb.imap.unwrap().password.password.is_none(), "the password is dropped");
    }
}
