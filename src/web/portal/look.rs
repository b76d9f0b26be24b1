//! What the portal looks like and whether it is on: a title, a colour and a small logo set by an admin
//! (`settings` rows), served as a stylesheet and an image so the pages keep their strict CSP.

use crate::web::{AppState, Error};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The portal's title (default: the first mailbox's display name).
pub const TITLE_KEY: &str = "portal.title";
/// The accent colour, `#rrggbb`.
pub const COLOR_KEY: &str = "portal.color";
/// The logo: `{content type} {sha256}` of a blob.
pub const LOGO_KEY: &str = crate::db::backup::LOGO_SETTING;

/// The colour when none is set.
const DEFAULT_COLOR: &str = "#2457d6";

/// Whether the portal is on (admins can turn it off for the installation).
pub async fn portal_on(state: &AppState) -> Result<bool, Error> {
    Ok(state.db.setting(crate::outbound::compose::PORTAL_ENABLED).await?.as_deref() != Some("false"))
}

/// Whether `s` is a colour the stylesheet can carry: `#` and six hex digits.
pub fn valid_color(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// The page header's title and whether there is a logo.
pub async fn brand(state: &AppState) -> Result<(String, bool), Error> {
    let title = match state.db.setting(TITLE_KEY).await?.filter(|t| !t.trim().is_empty()) {
        Some(t) => t,
        None => state
            .db
            .mailboxes()
            .await?
            .into_iter()
            .filter(|m| m.enabled == 1)
            .min_by_key(|m| m.id)
            .map(|m| m.team_name())
            .unwrap_or_else(|| "Support".into()),
    };
    Ok((title, state.db.setting(LOGO_KEY).await?.is_some()))
}

/// `/portal/theme.css`: the accent colour as a CSS variable.
pub async fn theme(State(state): State<AppState>) -> Result<Response, Error> {
    let color = state.db.setting(COLOR_KEY).await?.filter(|c| valid_color(c)).unwrap_or(DEFAULT_COLOR.into());
    let css = format!(":root {{ --brand: {color}; }}\n");
    Ok(([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=300")], css)
        .into_response())
}

/// `/portal/logo`: the logo image, if one is set (raster images only).
pub async fn logo(State(state): State<AppState>) -> Result<Response, Error> {
    let Some(setting) = state.db.setting(LOGO_KEY).await? else { return Err(Error::NotFound) };
    let Some((content_type, sha)) = setting.split_once(' ') else { return Err(Error::NotFound) };
    if !LOGO_TYPES.contains(&content_type) {
        return Err(Error::NotFound);
    }
    let bytes = crate::web::read_blob(&state.blobs, sha, "portal logo missing").await?;
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_str(content_type).map_err(|e| Error::Internal(e.into()))?);
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=300"));
    Ok(resp)
}

/// The image types a logo may have (no SVG: it can carry script).
pub const LOGO_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// The largest logo, in bytes.
pub const MAX_LOGO_BYTES: usize = 200 * 1024;

#[cfg(test)]
mod tests {
    #[test]
    fn only_plain_hex_colours_reach_the_stylesheet() {
        assert!(super::valid_color("#2457d6") && super::valid_color("#ABCDEF"));
        for bad in ["2457d6", "#2457d", "#2457d6;}", "red", "#zzzzzz", ""] {
            assert!(!super::valid_color(bad), "{bad}");
        }
    }
}
