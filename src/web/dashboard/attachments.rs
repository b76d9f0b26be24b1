//! Attachment downloads of a ticket: always a download, inline images only as raster images, ids checked against the ticket.

use super::auth::CurrentUser;
use crate::web::{AppState, Error};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tickets/{number}/attachments/{id}", get(download))
        .route("/tickets/{number}/attachments/{id}/inline", get(inline_image))
}

/// An attachment of this ticket (any other id is 404), always as a download.
async fn download(
    State(state): State<AppState>,
    CurrentUser(_u): CurrentUser,
    Path((number, id)): Path<(i64, i64)>,
) -> Result<Response, Error> {
    let (att, bytes) = attachment_of(&state, number, id).await?;
    Ok((crate::web::api::download_headers(&att.filename, &att.content_type), bytes).into_response())
}

/// An inline image (`cid:`) of this ticket's HTML mail: only raster images, never sniffed, sandboxed.
async fn inline_image(
    State(state): State<AppState>,
    CurrentUser(_u): CurrentUser,
    Path((number, id)): Path<(i64, i64)>,
) -> Result<Response, Error> {
    let (att, bytes) = attachment_of(&state, number, id).await?;
    let ct = match att.content_type.as_str() {
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" => att.content_type.clone(),
        _ => return Err(Error::NotFound),
    };
    let headers = [
        (axum::http::header::CONTENT_TYPE, ct),
        (axum::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
        (axum::http::header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox".into()),
    ];
    Ok((headers, bytes).into_response())
}

async fn attachment_of(state: &AppState, number: i64, id: i64) -> Result<(crate::db::AttachmentRow, Vec<u8>), Error> {
    let t = state.db.ticket(number).await?.ok_or(Error::NotFound)?;
    let att = state.db.ticket_attachments(t.id).await?.into_iter().find(|a| a.id == id).ok_or(Error::NotFound)?;
    let bytes = crate::web::read_blob(&state.blobs, &att.sha256, "attachment blob missing").await?;
    Ok((att, bytes))
}
