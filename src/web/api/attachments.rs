//! `GET /api/v1/attachments/{id}`: attachment bytes, always as a download.

use super::ApiUser;
use crate::web::{AppState, Error, Result};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new().route("/attachments/{id}", get(download))
}

async fn download(State(state): State<AppState>, _user: ApiUser, Path(id): Path<i64>) -> Result<impl IntoResponse> {
    let att = state.db.attachment(id).await?.ok_or(Error::NotFound)?;
    let bytes = crate::web::read_blob(&state.blobs, &att.sha256, "attachment blob missing").await?;
    Ok((download_headers(&att.filename, &att.content_type), bytes))
}

/// Headers that make a browser save the file and never render or sniff it.
pub fn download_headers(filename: &str, content_type: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    let ct = content_type
        .parse::<mime::Mime>()
        .map(|m| m.essence_str().to_string())
        .unwrap_or_else(|_| "application/octet-stream".into());
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&ct).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_DISPOSITION, content_disposition(filename));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    // Customer files: no shared cache keeps them, whether fetched through the API or the dashboard.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h
}

fn content_disposition(filename: &str) -> HeaderValue {
    let ascii: String = filename
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"))
        .unwrap_or(HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloads_are_attachments_and_never_sniffed() {
        let h = download_headers("Rechnung für März.pdf", "application/pdf; name=x");
        assert_eq!(h[header::CONTENT_TYPE], "application/pdf");
        let cd = h[header::CONTENT_DISPOSITION].to_str().unwrap();
        assert!(cd.starts_with("attachment; filename=\"Rechnung f_r M_rz.pdf\""), "{cd}");
        assert!(cd.contains("filename*=UTF-8''Rechnung%20f%C3%BCr%20M%C3%A4rz.pdf"));
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(download_headers("x", "text/html<script>")[header::CONTENT_TYPE], "application/octet-stream");
    }
}
