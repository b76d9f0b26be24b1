//! The ticket page's forms (reply, note, status, priority, assignee, tags, delivery retry) and attachment downloads.
//! Every form works without JavaScript and answers 303 with a flash message, or the page again with the error beside its field.

use super::auth::CurrentUser;
use super::pages::flash;
use super::ticket_page::{FormState, render};
use crate::actions::{ActionError, Changes, NewFile, ReplyInput};
use crate::domain::{Priority, Status};
use crate::web::{AppState, Error};
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use std::collections::HashMap;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tickets/{number}/replies", post(reply))
        .route("/tickets/{number}/notes", post(note))
        .route("/tickets/{number}/status", post(status))
        .route("/tickets/{number}/priority", post(priority))
        .route("/tickets/{number}/assignee", post(assignee))
        .route("/tickets/{number}/tags", post(tags))
        .route("/tickets/{number}/links", post(add_link))
        .route("/tickets/{number}/links/{id}/delete", post(remove_link))
        .route("/tickets/{number}/deliveries/{id}/retry", post(retry_delivery))
        .route("/tickets/{number}/attachments/{id}", get(download))
        .route("/tickets/{number}/attachments/{id}/inline", get(inline_image))
        .layer(DefaultBodyLimit::max(30 * 1024 * 1024))
}

/// A multipart form: its text fields and its uploaded files (field `files`).
struct Upload {
    fields: HashMap<String, String>,
    files: Vec<NewFile>,
}

impl Upload {
    fn field(&self, name: &str) -> String {
        self.fields.get(name).cloned().unwrap_or_default()
    }
}

async fn read_upload(mut mp: Multipart) -> Result<Upload, Error> {
    let mut up = Upload { fields: HashMap::new(), files: Vec::new() };
    while let Some(field) = mp.next_field().await.map_err(|e| Error::BadRequest(format!("form: {e}")))? {
        let name = field.name().unwrap_or_default().to_string();
        match field.file_name().map(str::to_string) {
            Some(filename) if name == "files" => {
                let content_type = field.content_type().unwrap_or("application/octet-stream").to_string();
                let data = field.bytes().await.map_err(|e| Error::BadRequest(format!("upload: {e}")))?;
                if !filename.is_empty() && !data.is_empty() {
                    up.files.push(NewFile { filename, content_type, data: data.to_vec() });
                }
            }
            _ => {
                let text = field.text().await.map_err(|e| Error::BadRequest(format!("form: {e}")))?;
                up.fields.insert(name, text);
            }
        }
    }
    Ok(up)
}

fn addresses(s: &str) -> Vec<String> {
    s.split([',', ';', '\n']).map(str::trim).filter(|a| !a.is_empty()).map(str::to_string).collect()
}

fn back(number: i64) -> Redirect {
    Redirect::to(&format!("/tickets/{number}"))
}

async fn reply(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(number): Path<i64>,
    mp: Multipart,
) -> Result<Response, Error> {
    let up = read_upload(mp).await?;
    let (to, cc) = (up.field("to"), up.field("cc"));
    let input = ReplyInput {
        body: up.field("body"),
        attachments: up.files.clone(),
        status: Status::parse(&up.field("status")).ok(),
        to: Some(addresses(&to)),
        cc: Some(addresses(&cc)),
        idempotency: Some(up.field("idempotency_key")).filter(|k| !k.is_empty()).map(|k| (user.id, k)),
        ..Default::default()
    };
    match state.actions.reply(number, &user, input).await {
        Ok(_) => flash(&session, "ok", "Reply sent.").await,
        Err(ActionError::Duplicate(_)) => flash(&session, "ok", "This reply was already sent.").await,
        Err(ActionError::Invalid(msg)) => {
            let (field, error) = field_error(&msg);
            let form = FormState {
                form: "reply".into(),
                field,
                error,
                body: up.field("body"),
                to: Some(to),
                cc: Some(cc),
                ..Default::default()
            };
            return render(&state, &user, &session, number, false, form, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(back(number).into_response())
}

/// `"to: …"` style messages name their field; the rest belongs to the text.
fn field_error(msg: &str) -> (String, String) {
    match msg.split_once(": ") {
        Some((f, rest)) if ["body", "to", "cc"].contains(&f) => (f.to_string(), capitalise(rest)),
        _ if msg.contains("e-mail address") => ("to".into(), capitalise(msg)),
        _ => ("body".into(), capitalise(msg)),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

async fn note(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(number): Path<i64>,
    mp: Multipart,
) -> Result<Response, Error> {
    let up = read_upload(mp).await?;
    let input = ReplyInput {
        body: up.field("body"),
        attachments: up.files.clone(),
        idempotency: Some(up.field("idempotency_key")).filter(|k| !k.is_empty()).map(|k| (user.id, k)),
        ..Default::default()
    };
    match state.actions.note(number, &user, input).await {
        Ok(_) => flash(&session, "ok", "Note added.").await,
        Err(ActionError::Duplicate(_)) => flash(&session, "ok", "This note was already added.").await,
        Err(ActionError::Invalid(msg)) => {
            let form = FormState {
                form: "note".into(),
                field: "body".into(),
                error: field_error(&msg).1,
                body: up.field("body"),
                ..Default::default()
            };
            return render(&state, &user, &session, number, false, form, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(back(number).into_response())
}

#[derive(Debug, Deserialize)]
struct ValueForm {
    value: String,
}

async fn change(
    state: &AppState,
    user: &crate::db::UserRow,
    session: &Session,
    number: i64,
    changes: Changes,
    what: &str,
) -> Result<Redirect, Error> {
    state.actions.update(number, user, changes).await?;
    flash(session, "ok", what).await;
    Ok(back(number))
}

async fn status(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(number): Path<i64>,
    Form(f): Form<ValueForm>,
) -> Result<Redirect, Error> {
    let s = Status::parse(&f.value).map_err(Error::BadRequest)?;
    change(
        &state,
        &user,
        &session,
        number,
        Changes { status: Some(s), ..Default::default() },
        &format!("Status set to {s}."),
    )
    .await
}

async fn priority(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(number): Path<i64>,
    Form(f): Form<ValueForm>,
) -> Result<Redirect, Error> {
    let p = Priority::parse(&f.value).map_err(Error::BadRequest)?;
    change(
        &state,
        &user,
        &session,
        number,
        Changes { priority: Some(p), ..Default::default() },
        &format!("Priority set to {p}."),
    )
    .await
}

async fn assignee(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(number): Path<i64>,
    Form(f): Form<ValueForm>,
) -> Result<Redirect, Error> {
    let (assignee, what) = match f.value.as_str() {
        "" | "none" => (None, "Unassigned.".to_string()),
        "me" => (Some(user.id), "Assigned to you.".to_string()),
        id => {
            let id: i64 = id.parse().map_err(|_| Error::BadRequest("assignee: not a user".into()))?;
            (Some(id), format!("Assigned to {}.", state.db.user(id).await?.name))
        }
    };
    change(&state, &user, &session, number, Changes { assignee: Some(assignee), ..Default::default() }, &what).await
}

#[derive(Debug, Deserialize)]
struct TagForm {
    tag: String,
    action: String,
}

async fn tags(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(number): Path<i64>,
    Form(f): Form<TagForm>,
) -> Result<Redirect, Error> {
    let t = state.db.ticket(number).await?.ok_or(Error::NotFound)?;
    let tag: String =
        f.tag.trim().to_lowercase().chars().filter(|c| c.is_alphanumeric() || "-_./".contains(*c)).take(40).collect();
    if tag.is_empty() {
        flash(&session, "error", "A tag needs letters or digits.").await;
        return Ok(back(number));
    }
    let on = f.action != "remove";
    if state.db.set_tag(t.id, &tag, on).await? {
        let (kind, text) = if on {
            ("tag_added", format!("Tag {tag} added."))
        } else {
            ("tag_removed", format!("Tag {tag} removed."))
        };
        crate::db::messages::insert_event(state.db.pool(), t.id, &user.email, kind, &tag, crate::domain::now()).await?;
        flash(&session, "ok", text).await;
    }
    Ok(back(number))
}

async fn retry_delivery(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
    session: Session,
    Path((number, id)): Path<(i64, i64)>,
) -> Result<Redirect, Error> {
    let t = state.db.ticket(number).await?.ok_or(Error::NotFound)?;
    // The delivery must belong to this ticket: ids from other tickets are refused.
    if !state.db.ticket_deliveries(t.id).await?.iter().any(|d| d.id == id) {
        return Err(Error::NotFound);
    }
    state.db.retry_delivery(id, crate::domain::now()).await?;
    state.actions.composer.wake();
    flash(&session, "ok", "Delivery queued again.").await;
    Ok(back(number))
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
        (axum::http::header::CACHE_CONTROL, "private, max-age=3600".into()),
    ];
    Ok((headers, bytes).into_response())
}

async fn attachment_of(state: &AppState, number: i64, id: i64) -> Result<(crate::db::AttachmentRow, Vec<u8>), Error> {
    let t = state.db.ticket(number).await?.ok_or(Error::NotFound)?;
    let att = state.db.ticket_attachments(t.id).await?.into_iter().find(|a| a.id == id).ok_or(Error::NotFound)?;
    let blobs = state.blobs.clone();
    let sha = att.sha256.clone();
    let bytes = tokio::task::spawn_blocking(move || blobs.get(&sha))
        .await
        .map_err(|e| Error::Internal(e.into()))?
        .map_err(|e| Error::Internal(anyhow::Error::new(e).context("attachment blob missing")))?;
    Ok((att, bytes))
}

#[derive(Debug, Deserialize)]
struct LinkForm {
    kind: String,
    r#ref: String,
}

async fn add_link(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(number): Path<i64>,
    Form(f): Form<LinkForm>,
) -> Result<Redirect, Error> {
    match state.actions.link(number, &f.kind, &f.r#ref, &user.email).await {
        Ok(l) => flash(&session, "ok", format!("Linked {} {}.", l.kind.replace('_', " "), l.r#ref)).await,
        Err(ActionError::Invalid(msg)) => {
            flash(&session, "error", capitalise(msg.trim_start_matches("ref: ").trim_start_matches("kind: "))).await
        }
        Err(e) => return Err(e.into()),
    }
    Ok(back(number))
}

async fn remove_link(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path((number, id)): Path<(i64, i64)>,
) -> Result<Redirect, Error> {
    state.actions.unlink(number, id, &user.email).await?;
    flash(&session, "ok", "Link removed.").await;
    Ok(back(number))
}
