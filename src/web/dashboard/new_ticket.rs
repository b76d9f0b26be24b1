//! `/tickets/new`: an agent opens a ticket to a customer; the first message goes out by mail.

use super::auth::CurrentUser;
use super::pages::{flash, layout, sv, take_flashes};
use crate::db::UserRow;
use crate::domain::Status;
use crate::tickets::open::OpenInput;
use crate::tickets::{NewFile, TicketError};
use crate::web::{AppState, Error};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::context;
use serde::Serialize;
use std::collections::HashMap;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new().route("/tickets/new", get(show).post(open)).layer(DefaultBodyLimit::max(30 * 1024 * 1024))
}

/// The statuses a new ticket may have after its first message.
const STATUSES: [&str; 3] = ["pending", "open", "resolved"];

/// The form's values and the error beside a field.
#[derive(Debug, Default, Clone, Serialize)]
struct FormState {
    email: String,
    name: String,
    mailbox: String,
    subject: String,
    body: String,
    cc: String,
    status: String,
    field: String,
    error: String,
}

async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
) -> Result<Response, Error> {
    let form = FormState { status: "pending".into(), ..Default::default() };
    render(&state, &user, &session, form, StatusCode::OK).await
}

async fn render(
    state: &AppState,
    user: &UserRow,
    session: &Session,
    form: FormState,
    status: StatusCode,
) -> Result<Response, Error> {
    let visible = state.db.visible_mailboxes(user).await?;
    let mailboxes: Vec<_> = state
        .db
        .mailboxes()
        .await?
        .into_iter()
        .filter(crate::db::MailboxRow::can_send)
        .filter(|m| visible.as_ref().is_none_or(|v| v.contains(&m.id)))
        .map(|m| context! { id => m.id, name => m.name.clone(), address => m.address.clone(), label => m.team_name() })
        .collect();
    let page = context! {
        mailboxes => mailboxes,
        statuses => STATUSES,
        form => sv(&form),
        idempotency_key => uuid::Uuid::new_v4().to_string(),
    };
    let html = state.pages.render("new_ticket.html", layout(Some(user), take_flashes(session).await, "new", page))?;
    Ok((status, html).into_response())
}

/// The text fields and the uploaded files (field `files`) of the form.
async fn read_form(mut mp: Multipart) -> Result<(HashMap<String, String>, Vec<NewFile>), Error> {
    let (mut fields, mut files) = (HashMap::new(), Vec::new());
    while let Some(field) = mp.next_field().await.map_err(|e| Error::BadRequest(format!("form: {e}")))? {
        let name = field.name().unwrap_or_default().to_string();
        match field.file_name().map(str::to_string) {
            Some(filename) if name == "files" => {
                let content_type = field.content_type().unwrap_or("application/octet-stream").to_string();
                let data = field.bytes().await.map_err(|e| Error::BadRequest(format!("upload: {e}")))?;
                if !filename.is_empty() && !data.is_empty() {
                    files.push(NewFile::lenient(&filename, &content_type, files.len(), data.to_vec()));
                }
            }
            _ => {
                let text = field.text().await.map_err(|e| Error::BadRequest(format!("form: {e}")))?;
                fields.insert(name, text);
            }
        }
    }
    Ok((fields, files))
}

async fn open(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    mp: Multipart,
) -> Result<Response, Error> {
    let (fields, files) = read_form(mp).await?;
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let form = FormState {
        email: get("email").trim().to_string(),
        name: get("name").trim().to_string(),
        mailbox: get("mailbox"),
        subject: get("subject"),
        body: get("body"),
        cc: get("cc"),
        status: get("status"),
        ..Default::default()
    };
    let input = OpenInput {
        customer_email: form.email.clone(),
        customer_name: form.name.clone(),
        mailbox_id: form.mailbox.parse().unwrap_or(0),
        subject: form.subject.clone(),
        body: form.body.clone(),
        cc: form.cc.split([',', ';', '\n']).map(str::trim).filter(|a| !a.is_empty()).map(str::to_string).collect(),
        status: Some(form.status.as_str()).filter(|s| STATUSES.contains(s)).and_then(|s| Status::parse(s).ok()),
        attachments: files,
        idempotency: Some(get("idempotency_key")).filter(|k| !k.is_empty()).map(|k| (user.id, k)),
    };
    let number = match state.tickets.open_ticket(&user, input).await {
        Ok(number) => number,
        Err(TicketError::Duplicate(number)) if number > 0 => number,
        Err(TicketError::Invalid(msg)) => {
            let (field, error) = msg.split_once(": ").unwrap_or(("body", msg.as_str()));
            let form = FormState { field: field.to_string(), error: capitalise(error), ..form };
            return render(&state, &user, &session, form, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(e) => return Err(e.into()),
    };
    flash(&session, "ok", format!("Ticket #{number} opened; the message to {} is on its way.", form.email)).await;
    Ok(Redirect::to(&format!("/tickets/{number}")).into_response())
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}
