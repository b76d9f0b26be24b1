//! `/admin/portal`: the customer portal's switch, title, colour and logo, and the satisfaction answers counted
//! per agent and per mailbox.

use super::render;
use crate::web::dashboard::AdminUser;
use crate::web::dashboard::pages::{flash, sv};
use crate::web::portal::{COLOR_KEY, LOGO_KEY, TITLE_KEY, look};
use crate::web::{AppState, Error};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::context;
use std::collections::HashMap;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/portal", get(show).post(save))
        .layer(DefaultBodyLimit::max(look::MAX_LOGO_BYTES + 64 * 1024))
}

/// Satisfaction is counted over this many days on the page.
const COUNT_DAYS: i64 = 90;

async fn show(State(state): State<AppState>, AdminUser(user): AdminUser, session: Session) -> Result<Response, Error> {
    let page = values(&state, None, "", "").await?;
    render(&state, &user, &session, "admin_portal.html", "portal", page, StatusCode::OK).await
}

async fn values(
    state: &AppState,
    form: Option<&HashMap<String, String>>,
    field: &str,
    error: &str,
) -> Result<minijinja::Value, Error> {
    let stored = |k: &'static str| async move { state.db.setting(k).await.map(Option::unwrap_or_default) };
    let (title, color) = match form {
        Some(f) => (f.get("title").cloned().unwrap_or_default(), f.get("color").cloned().unwrap_or_default()),
        None => (stored(TITLE_KEY).await?, stored(COLOR_KEY).await?),
    };
    let since = crate::domain::now() - COUNT_DAYS * 86_400;
    Ok(context! {
        enabled => look::portal_on(state).await?, title => title, color => color,
        logo => state.db.setting(LOGO_KEY).await?.is_some(), field => field, error => error,
        per_agent => sv(state.db.satisfaction_counts(true, since).await?),
        per_mailbox => sv(state.db.satisfaction_counts(false, since).await?), days => COUNT_DAYS,
        public_url => state.settings.server.public_url.trim_end_matches('/').to_string(),
    })
}

/// Saves the settings; a bad colour or logo shows the page again with the error beside its field.
async fn save(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    mut mp: Multipart,
) -> Result<Response, Error> {
    let mut fields = HashMap::new();
    let mut logo: Option<(String, Vec<u8>)> = None;
    while let Some(field) = mp.next_field().await.map_err(|e| Error::BadRequest(format!("form: {e}")))? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "logo" {
            let ct = field.content_type().unwrap_or_default().to_string();
            let data = field.bytes().await.map_err(|e| Error::BadRequest(format!("upload: {e}")))?;
            if !data.is_empty() {
                logo = Some((ct, data.to_vec()));
            }
        } else {
            fields.insert(name, field.text().await.map_err(|e| Error::BadRequest(format!("form: {e}")))?);
        }
    }
    let color = fields.get("color").map(|c| c.trim().to_string()).unwrap_or_default();
    let title: String = fields
        .get("title")
        .map(|t| t.trim().chars().filter(|c| !c.is_control()).take(100).collect())
        .unwrap_or_default();
    let problem = if !color.is_empty() && !look::valid_color(&color) {
        Some(("color", "A colour like #2457d6."))
    } else if logo.as_ref().is_some_and(|(ct, _)| !look::LOGO_TYPES.contains(&ct.as_str())) {
        Some(("logo", "A PNG, JPEG, GIF or WebP image."))
    } else if logo.as_ref().is_some_and(|(_, d)| d.len() > look::MAX_LOGO_BYTES) {
        Some(("logo", "At most 200 KB."))
    } else {
        None
    };
    if let Some((field, error)) = problem {
        let page = values(&state, Some(&fields), field, error).await?;
        return render(&state, &user, &session, "admin_portal.html", "portal", page, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    }
    let enabled = fields.get("enabled").is_some_and(|v| v == "on" || v == "true");
    state.db.set_setting(crate::outbound::compose::PORTAL_ENABLED, if enabled { "true" } else { "false" }).await?;
    state.db.set_setting(TITLE_KEY, &title).await?;
    state.db.set_setting(COLOR_KEY, &color).await?;
    if let Some((ct, data)) = logo {
        let blobs = state.blobs.clone();
        let sha = crate::platform::storage::sha256_hex(&data);
        let key = sha.clone();
        tokio::task::spawn_blocking(move || blobs.put(&key, &data).and_then(|_| blobs.sync()))
            .await
            .map_err(|e| Error::Internal(e.into()))?
            .map_err(|e| Error::Internal(anyhow::Error::new(e).context("storing the portal logo")))?;
        state.db.set_setting(LOGO_KEY, &format!("{ct} {sha}")).await?;
    } else if fields.contains_key("remove_logo") {
        state.db.delete_setting(LOGO_KEY).await?;
    }
    tracing::info!(admin = %user.email, enabled, "portal settings saved");
    flash(&session, "ok", "Portal settings saved.").await;
    Ok(Redirect::to("/admin/portal").into_response())
}
