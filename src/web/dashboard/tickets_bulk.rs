//! `POST /tickets/bulk`: one change (assignee, status, mailbox, macro, merge) applied to every selected ticket.

use super::auth::{CurrentUser, safe_next};
use super::pages::flash;
use crate::domain::Status;
use crate::tickets::Changes;
use crate::web::{AppState, Error};
use axum::extract::State;
use axum::response::Redirect;
use axum_extra::extract::Form;
use serde::Deserialize;
use tower_sessions::Session;

#[derive(Debug, Deserialize)]
pub(super) struct BulkForm {
    #[serde(default)]
    ids: Vec<i64>,
    action: String,
    #[serde(default)]
    value: String,
    back: Option<String>,
}

/// Applies one change (assign or status) to every selected ticket.
pub(super) async fn bulk(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Form(form): Form<BulkForm>,
) -> Result<Redirect, Error> {
    let back = safe_next(form.back.as_deref());
    if form.ids.is_empty() {
        flash(&session, "error", "Select at least one ticket.").await;
        return Ok(Redirect::to(&back));
    }
    if form.action == "macro" {
        return super::rules::macros::bulk(&state, &user, &session, &form.ids, &form.value, back).await;
    }
    if form.action == "merge" {
        return bulk_merge(&state, &user, &session, &form.ids, back).await;
    }
    let changes = match form.action.as_str() {
        "mailbox" => {
            let name = form.value.strip_prefix("mailbox:").unwrap_or(&form.value);
            let m = state
                .db
                .mailbox_by_name(name)
                .await?
                .ok_or_else(|| Error::BadRequest("mailbox: no such mailbox".into()))?;
            Changes { mailbox: Some(m.id), ..Default::default() }
        }
        "status" => {
            Changes { status: Some(Status::parse(&form.value).map_err(Error::BadRequest)?), ..Default::default() }
        }
        "assign" if form.value == "none" => Changes { assignee: Some(None), ..Default::default() },
        "assign" => Changes {
            assignee: Some(Some(form.value.parse().map_err(|_| Error::BadRequest("assignee: not a user id".into()))?)),
            ..Default::default()
        },
        other => return Err(Error::BadRequest(format!("unknown bulk action {other:?}"))),
    };
    let mut done = 0;
    for number in &form.ids {
        match state.tickets.update(*number, &user, changes.clone()).await {
            Ok(()) => done += 1,
            Err(crate::tickets::TicketError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    flash(&session, "ok", format!("Updated {done} ticket{}.", if done == 1 { "" } else { "s" })).await;
    Ok(Redirect::to(&back))
}

/// Merges the selected tickets into the oldest of them (the lowest number), one by one; stops at the first refusal
/// and says which.
async fn bulk_merge(
    state: &AppState,
    user: &crate::db::UserRow,
    session: &Session,
    ids: &[i64],
    back: String,
) -> Result<Redirect, Error> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let Some((&target, sources)) = ids.split_first().filter(|(_, rest)| !rest.is_empty()) else {
        flash(session, "error", "Select at least two tickets to merge.").await;
        return Ok(Redirect::to(&back));
    };
    for &source in sources {
        match state.tickets.merge(source, target, user).await {
            Ok(_) => {}
            Err(crate::tickets::TicketError::Invalid(why)) => {
                flash(session, "error", format!("#{source} was not merged: {}", why.trim_start_matches("into: ")))
                    .await;
                return Ok(Redirect::to(&format!("/tickets/{target}")));
            }
            Err(e) => return Err(e.into()),
        }
    }
    flash(session, "ok", format!("Merged {} tickets into #{target}.", sources.len())).await;
    Ok(Redirect::to(&format!("/tickets/{target}")))
}
