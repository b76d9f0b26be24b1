//! The ticket page's forms (reply, note, status, priority, assignee, tags, delivery retry) and attachment downloads.
//! Every form works without JavaScript and answers 303 with a flash message, or the page again with the error beside its field.

use super::auth::CurrentUser;
use super::pages::flash;
use super::ticket_page::{FormState, render};
use crate::domain::{Priority, Status};
use crate::tickets::{Changes, NewFile, ReplyInput, TicketError};
use crate::web::{AppState, Error};
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
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
        .route("/tickets/{number}/mailbox", post(mailbox))
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
                    up.files.push(NewFile::lenient(&filename, &content_type, up.files.len(), data.to_vec()));
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

pub(super) fn back(number: i64) -> Redirect {
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
    match state.tickets.reply(number, &user, input).await {
        Ok(_) => flash(&session, "ok", "Reply sent.").await,
        Err(TicketError::Duplicate(_)) => flash(&session, "ok", "This reply was already sent.").await,
        Err(TicketError::Invalid(msg)) => {
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

pub(super) fn capitalise(s: &str) -> String {
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
    match state.tickets.note(number, &user, input).await {
        Ok(_) => flash(&session, "ok", "Note added.").await,
        Err(TicketError::Duplicate(_)) => flash(&session, "ok", "This note was already added.").await,
        Err(TicketError::Invalid(msg)) => {
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
    state.tickets.update(number, user, changes).await?;
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

async fn mailbox(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(number): Path<i64>,
    Form(f): Form<ValueForm>,
) -> Result<Redirect, Error> {
    let m = state
        .db
        .mailbox_by_name(&f.value)
        .await?
        .ok_or_else(|| Error::BadRequest("mailbox: no such mailbox".into()))?;
    let what = format!("Moved to mailbox {}.", m.name);
    change(&state, &user, &session, number, Changes { mailbox: Some(m.id), ..Default::default() }, &what).await
}
