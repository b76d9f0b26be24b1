//! `/admin/quarantine`: held mail with its reason; view one (headers, raw text, download), retry it through the
//! pipeline, turn it into a ticket for a named requester, or delete it (the raw message stays in storage).

use super::{ListPage, PER_PAGE, capitalise, render};
use crate::db::admin::QuarantineEntry;
use crate::domain::EmailAddress;
use crate::domain::{DisplayName, NamedAddress};
use crate::ingest::{Held, OutcomeKind};
use crate::web::dashboard::AdminUser;
use crate::web::dashboard::pages::{flash, sv};
use crate::web::{AppState, Error};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use minijinja::context;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

/// The raw text shown on the page is cut here; the download has it all.
const SHOWN_BYTES: usize = 512 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/quarantine", get(list))
        .route("/admin/quarantine/{id}", get(view))
        .route("/admin/quarantine/{id}/raw", get(download))
        .route("/admin/quarantine/{id}/retry", post(retry))
        .route("/admin/quarantine/{id}/ticket", post(to_ticket))
        .route("/admin/quarantine/{id}/delete", post(delete))
        .route("/admin/blocks/unblock", post(unblock_entry))
}

#[derive(Debug, Deserialize)]
struct UnblockForm {
    entry: String,
}

/// Removes one block list entry (an address or `@domain`) and lets the mail held for it through.
async fn unblock_entry(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    axum::Form(f): axum::Form<UnblockForm>,
) -> Result<Response, Error> {
    let entry = f.entry.trim().to_lowercase();
    if state.db.unblock(&entry).await? {
        let released = state.pipeline.release_blocked(&entry).await.map_err(ingest_error)?;
        tracing::info!(entry, by = %user.email, released = released.len(), "sender unblocked");
        flash(&session, "ok", format!("Unblocked {entry}; {} held message(s) went through again.", released.len()))
            .await;
    }
    Ok(Redirect::to("/admin/quarantine").into_response())
}

/// A header's (unfolded) value from a header block.
fn header(headers: &str, name: &str) -> String {
    let mut value: Option<String> = None;
    for line in headers.lines() {
        match &mut value {
            Some(v) if line.starts_with([' ', '\t']) => v.push_str(line.trim_end()),
            Some(_) => break,
            None => {
                if let Some((n, v)) = line.split_once(':')
                    && n.eq_ignore_ascii_case(name)
                {
                    value = Some(v.trim().to_string());
                }
            }
        }
    }
    value.unwrap_or_default()
}

#[derive(Debug, Serialize)]
struct Row {
    id: i64,
    created_at: i64,
    mailbox: Option<String>,
    reason: String,
    size: i64,
    kept: bool,
    from: String,
    subject: String,
}

#[derive(Debug, Deserialize)]
struct ListParams {
    page: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Query(p): Query<ListParams>,
) -> Result<Response, Error> {
    let list = ListPage::new(p.page);
    let (rows, total) = state.db.quarantine(PER_PAGE, list.offset()).await?;
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|q| Row {
            from: header(&q.headers, "From"),
            subject: header(&q.headers, "Subject"),
            id: q.id,
            created_at: q.created_at,
            mailbox: q.mailbox,
            reason: q.reason,
            size: q.size,
            kept: q.raw_id.is_some(),
        })
        .collect();
    let page = context! {
        entries => sv(rows), total => total, page_no => list.0, more => list.0 * PER_PAGE < total,
        blocks => sv(state.db.blocks().await?), config_blocks => state.settings.ingest.block_list.clone(),
    };
    render(&state, &user, &session, "admin_quarantine.html", "quarantine", page, StatusCode::OK).await
}

async fn raw_of(state: &AppState, entry: &QuarantineEntry) -> Result<Option<Vec<u8>>, Error> {
    let Some(sha) = &entry.sha256 else { return Ok(None) };
    Ok(Some(crate::web::read_blob(&state.blobs, sha, "raw message missing from storage").await?))
}

/// The entry page, with an error beside the requester field after a failed "turn into a ticket".
async fn view_page(
    state: &AppState,
    user: &crate::db::UserRow,
    session: &Session,
    entry: QuarantineEntry,
    requester: Option<(String, String)>,
    status: StatusCode,
) -> Result<Response, Error> {
    let raw = raw_of(state, &entry).await?;
    let sender = crate::ingest::parse::parse(format!("{}\r\n\r\n", entry.headers).as_bytes())
        .and_then(|m| m.from)
        .map(|p| (p.email.to_string(), p.name));
    let (typed, error) = requester.unzip();
    let text = raw.as_ref().map(|r| String::from_utf8_lossy(&r[..r.len().min(SHOWN_BYTES)]).into_owned());
    let page = context! {
        q => context! {
            id => entry.id, mailbox => entry.mailbox, reason => entry.reason, headers => entry.headers,
            size => entry.size, status => entry.status, ticket => entry.ticket_number, created_at => entry.created_at,
            kept => raw.is_some(),
        },
        raw_text => text,
        cut => raw.as_ref().is_some_and(|r| r.len() > SHOWN_BYTES),
        requester => typed.unwrap_or_else(|| sender.map(|s| s.0).unwrap_or_default()),
        requester_error => error,
    };
    render(state, user, session, "admin_quarantine_entry.html", "quarantine", page, status).await
}

async fn view(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, Error> {
    let entry = state.db.quarantine_entry(id).await?;
    view_page(&state, &user, &session, entry, None, StatusCode::OK).await
}

async fn download(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, Error> {
    let entry = state.db.quarantine_entry(id).await?;
    let raw = raw_of(&state, &entry).await?.ok_or(Error::NotFound)?;
    let headers = crate::web::api::download_headers(&format!("quarantine-{id}.eml"), "message/rfc822");
    Ok((headers, raw).into_response())
}

/// The entry if it is held with its raw bytes, else a flash saying why not and the way back.
async fn actionable(
    state: &AppState,
    session: &Session,
    id: i64,
) -> Result<Result<(QuarantineEntry, Held), Response>, Error> {
    let entry = state.db.quarantine_entry(id).await?;
    let back = Redirect::to(&format!("/admin/quarantine/{id}")).into_response();
    if entry.status != "held" {
        flash(session, "error", format!("This message is already {}.", entry.status)).await;
        return Ok(Err(back));
    }
    match (entry.raw_id, entry.mailbox_id) {
        (Some(raw_id), Some(_)) => Ok(Ok((entry.clone(), Held { entry_id: id, raw_id }))),
        _ => {
            flash(session, "error", "Only the headers of this message were kept; it can only be deleted.").await;
            Ok(Err(back))
        }
    }
}

/// Reports what became of a retried or converted message.
async fn report(session: &Session, outcome: &crate::ingest::Outcome) {
    match (outcome.kind, outcome.ticket) {
        (OutcomeKind::Quarantined, _) => {
            let why = outcome.reason.clone().unwrap_or_default();
            flash(session, "error", format!("Held again: {why}")).await
        }
        (_, Some(n)) => flash(session, "ok", format!("Stored on ticket #{n}.")).await,
        (_, None) => flash(session, "ok", capitalise(outcome.reason.as_deref().unwrap_or("stored."))).await,
    }
}

fn ingest_error(e: crate::ingest::IngestError) -> Error {
    Error::Internal(anyhow::Error::new(e).context("storing a quarantined message"))
}

async fn retry(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, Error> {
    let (entry, held) = match actionable(&state, &session, id).await? {
        Ok(found) => found,
        Err(back) => return Ok(back),
    };
    let mailbox = state.db.mailbox_by_id(entry.mailbox_id.unwrap_or_default()).await?;
    let raw = raw_of(&state, &entry).await?.ok_or(Error::NotFound)?;
    let outcome = state.pipeline.retry_quarantined(&mailbox, held, raw).await.map_err(ingest_error)?;
    report(&session, &outcome).await;
    Ok(Redirect::to(&format!("/admin/quarantine/{id}")).into_response())
}

#[derive(Debug, Deserialize)]
struct TicketForm {
    #[serde(default)]
    requester: String,
}

async fn to_ticket(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<TicketForm>,
) -> Result<Response, Error> {
    let (entry, held) = match actionable(&state, &session, id).await? {
        Ok(found) => found,
        Err(back) => return Ok(back),
    };
    let Ok(email) = EmailAddress::parse(form.requester.trim()) else {
        let error = "Enter the requester's e-mail address.".to_string();
        let typed = Some((form.requester.clone(), error));
        return view_page(&state, &user, &session, entry, typed, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let mailbox = state.db.mailbox_by_id(entry.mailbox_id.unwrap_or_default()).await?;
    let raw = raw_of(&state, &entry).await?.ok_or(Error::NotFound)?;
    let requester = NamedAddress { email, name: DisplayName::default() };
    let outcome = state.pipeline.quarantined_to_ticket(&mailbox, held, raw, requester).await.map_err(ingest_error)?;
    report(&session, &outcome).await;
    Ok(Redirect::to(&format!("/admin/quarantine/{id}")).into_response())
}

async fn delete(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, Error> {
    if state.db.delete_quarantined(id).await? {
        flash(&session, "ok", "Deleted from the quarantine (the raw message stays in storage).").await;
    } else {
        flash(&session, "error", "This message is not held any more.").await;
    }
    Ok(Redirect::to("/admin/quarantine").into_response())
}

#[cfg(test)]
mod tests {
    use super::header;

    #[test]
    fn header_values_are_unfolded_and_found_case_insensitively() {
        let h = "From: a@b.test\r\nsubject: Hello\r\n there\r\nX: y";
        assert_eq!(header(h, "Subject"), "Hello there");
        assert_eq!(header(h, "from"), "a@b.test");
        assert_eq!(header(h, "Missing"), "");
    }
}
