//! The write side: replies, notes and ticket changes (`Idempotency-Key` makes a retried reply or note a no-op).

use super::ApiUser;
use super::body::Body;
use super::tickets::{message_json, ticket_json_read};
use crate::db::UserRow;
use crate::domain::{Priority, Status};
use crate::tickets::{Changes, NewFile, ReplyInput, TicketError};
use crate::web::{AppState, Error, Result};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{patch, post};
use axum::{Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

/// Replies may carry attachments (base64 in JSON).
const BODY_LIMIT: usize = 40 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tickets/{number}/replies", post(reply))
        .route("/tickets/{number}/notes", post(note))
        .route("/tickets/{number}", patch(update))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIn {
    filename: String,
    content_type: Option<String>,
    data_base64: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageIn {
    body: String,
    /// Reply as another user (admins only).
    author: Option<String>,
    status: Option<String>,
    to: Option<Vec<String>>,
    cc: Option<Vec<String>>,
    #[serde(default)]
    attachments: Vec<FileIn>,
}

async fn reply(
    State(state): State<AppState>,
    user: ApiUser,
    headers: HeaderMap,
    Path(number): Path<i64>,
    Body(body): Body<MessageIn>,
) -> Result<(StatusCode, Json<Value>)> {
    let author = author(&state, &user, body.author.as_deref()).await?;
    let input = ReplyInput {
        status: body.status.as_deref().map(Status::parse).transpose().map_err(Error::Unprocessable)?,
        to: body.to.clone(),
        cc: body.cc.clone(),
        ..input(&user, &headers, &body)?
    };
    let result = state.tickets.reply(number, &author, input).await;
    respond(&state, number, result).await
}

async fn note(
    State(state): State<AppState>,
    user: ApiUser,
    headers: HeaderMap,
    Path(number): Path<i64>,
    Body(body): Body<MessageIn>,
) -> Result<(StatusCode, Json<Value>)> {
    // A note goes to nobody and changes nothing: fields that would are a mistake worth telling.
    let misplaced = [("status", body.status.is_some()), ("to", body.to.is_some()), ("cc", body.cc.is_some())];
    if let Some((field, _)) = misplaced.iter().find(|(_, given)| *given) {
        return Err(Error::Unprocessable(format!("{field}: not a field of a note (use a reply, or PATCH the ticket)")));
    }
    let author = author(&state, &user, body.author.as_deref()).await?;
    let result = state.tickets.note(number, &author, input(&user, &headers, &body)?).await;
    respond(&state, number, result).await
}

fn input(user: &ApiUser, headers: &HeaderMap, body: &MessageIn) -> Result<ReplyInput> {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::trim).filter(|k| !k.is_empty());
    if key.is_some_and(|k| k.len() > 200) {
        return Err(Error::BadRequest("Idempotency-Key: at most 200 characters".into()));
    }
    let attachments = body
        .attachments
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let data = base64::engine::general_purpose::STANDARD
                .decode(f.data_base64.trim())
                .map_err(|e| Error::Unprocessable(format!("attachments: {} is not valid base64: {e}", f.filename)))?;
            let content_type = f.content_type.as_deref().unwrap_or("application/octet-stream");
            NewFile::new(&f.filename, content_type, i, data)
                .map_err(|e| Error::Unprocessable(format!("attachments: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ReplyInput {
        body: body.body.clone(),
        attachments,
        idempotency: key.map(|k| (user.0.id, k.to_string())),
        ..Default::default()
    })
}

/// The author of a message: the token's user, or (admins only) another active user.
async fn author(state: &AppState, user: &ApiUser, author: Option<&str>) -> Result<UserRow> {
    match author.map(str::trim).filter(|a| !a.is_empty() && !a.eq_ignore_ascii_case(&user.0.email)) {
        None => Ok(user.0.clone()),
        Some(email) => {
            user.require_admin()?;
            state
                .db
                .user_by_email(&email.to_lowercase())
                .await?
                .filter(|u| u.active == 1)
                .ok_or_else(|| Error::Unprocessable(format!("author: no active user {email}")))
        }
    }
}

async fn respond(state: &AppState, number: i64, result: Result<i64, TicketError>) -> Result<(StatusCode, Json<Value>)> {
    let (status, id) = match result {
        Ok(id) => (StatusCode::CREATED, id),
        Err(TicketError::Duplicate(id)) => (StatusCode::OK, id),
        Err(e) => return Err(e.into()),
    };
    let t = state.db.ticket(number).await?.ok_or(Error::NotFound)?;
    // The one message written, not the ticket's whole history: a reply on a long ticket costs what a short one does.
    let m = state.db.message(id).await?.filter(|m| m.ticket_id == t.id).ok_or(Error::NotFound)?;
    let attachments = state.db.message_attachments(id).await?;
    let deliveries = state.db.message_deliveries(id).await?;
    Ok((
        status,
        Json(
            json!({ "message": message_json(&m, &attachments, &deliveries), "ticket": ticket_json_read(state, &t).await? }),
        ),
    ))
}

async fn update(
    State(state): State<AppState>,
    user: ApiUser,
    Path(number): Path<i64>,
    Body(body): Body<Value>,
) -> Result<Json<Value>> {
    let changes = parse_changes(&state, &body).await?;
    state.tickets.update(number, &user.0, changes).await?;
    let t = state.db.ticket(number).await?.ok_or(Error::NotFound)?;
    Ok(Json(ticket_json_read(&state, &t).await?))
}

/// `{"status"?, "priority"?, "type"?: name|null, "assignee"?: email|null, "tags"?: [..], "mailbox"?: name}`; an
/// absent key changes nothing, `null` clears the type or unassigns, `tags` replaces the set.
async fn parse_changes(state: &AppState, body: &Value) -> Result<Changes> {
    let obj = body.as_object().ok_or_else(|| Error::BadRequest("expected a JSON object".into()))?;
    const KNOWN: [&str; 6] = ["status", "priority", "type", "assignee", "tags", "mailbox"];
    if let Some(k) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(Error::Unprocessable(format!(
            "unknown field {k:?}; expected status, priority, type, assignee, tags or mailbox"
        )));
    }
    let text = |k: &str| -> Result<Option<String>> {
        match obj.get(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Error::Unprocessable(format!("{k}: expected a string"))),
        }
    };
    let assignee = match obj.get("assignee") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(team)) if team.starts_with("round_robin:") => {
            let team = team.trim_start_matches("round_robin:").trim();
            let next = state.db.round_robin(team).await?;
            Some(Some(next.ok_or_else(|| Error::Unprocessable(format!("assignee: team {team} has no active member")))?))
        }
        Some(Value::String(email)) => {
            let u = state.db.user_by_email(&email.trim().to_lowercase()).await?;
            Some(Some(u.ok_or_else(|| Error::Unprocessable(format!("assignee: no user {email}")))?.id))
        }
        Some(_) => return Err(Error::Unprocessable("assignee: expected an e-mail or null".into())),
    };
    let mailbox = match text("mailbox")? {
        Some(name) => Some(
            state
                .db
                .mailbox_by_name(name.trim())
                .await?
                .ok_or_else(|| Error::Unprocessable(format!("mailbox: no mailbox {name}")))?
                .id,
        ),
        None => None,
    };
    let type_name = match obj.get("type") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(_) => return Err(Error::Unprocessable("type: expected a type name or null".into())),
    };
    Ok(Changes {
        mailbox,
        type_name,
        status: text("status")?.map(|s| Status::parse(&s)).transpose().map_err(Error::Unprocessable)?,
        priority: text("priority")?.map(|p| Priority::parse(&p)).transpose().map_err(Error::Unprocessable)?,
        assignee,
        tags: match obj.get("tags") {
            None => None,
            Some(Value::Array(a)) => Some(
                a.iter()
                    .map(|t| t.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| Error::Unprocessable("tags: expected a list of strings".into()))?,
            ),
            Some(_) => return Err(Error::Unprocessable("tags: expected a list of strings".into())),
        },
    })
}

impl From<TicketError> for Error {
    fn from(e: TicketError) -> Self {
        match e {
            TicketError::NotFound => Error::NotFound,
            TicketError::Invalid(m) => Error::Unprocessable(m),
            TicketError::Duplicate(_) => Error::Conflict("this request was already processed".into()),
            TicketError::Db(e) => e.into(),
            TicketError::Storage(e) => Error::Internal(anyhow::Error::new(e).context("storing an attachment")),
        }
    }
}
