//! The ticket page's merge and split forms: merge this ticket into another (by number; across customers only when
//! confirmed) and split the ticked messages off into a new ticket.

use super::auth::CurrentUser;
use super::pages::flash;
use super::ticket_forms::back;
use crate::tickets::TicketError;
use crate::web::{AppState, Error};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::routing::post;
use axum_extra::extract::Form;
use serde::Deserialize;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new().route("/tickets/{number}/merge", post(merge)).route("/tickets/{number}/split", post(split))
}

#[derive(Debug, Deserialize)]
struct MergeForm {
    #[serde(default)]
    into: String,
    /// Set when the agent confirmed merging another customer's ticket.
    #[serde(default)]
    confirm: Option<String>,
}

async fn merge(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(number): Path<i64>,
    Form(f): Form<MergeForm>,
) -> Result<Redirect, Error> {
    let Ok(into) = f.into.trim().trim_start_matches('#').parse::<i64>() else {
        flash(&session, "error", "Merge: enter the number of the ticket to merge into.").await;
        return Ok(back(number));
    };
    let (Some(source), Some(target)) = (state.db.ticket(number).await?, state.db.ticket(into).await?) else {
        flash(&session, "error", format!("Merge: there is no ticket #{into}.")).await;
        return Ok(back(number));
    };
    if source.requester_id != target.requester_id && f.confirm.is_none() {
        let text = format!(
            "Ticket #{into} is {}'s request, not {}'s. Tick “Merge across customers” to merge anyway: {} stays the \
             requester, {} becomes a participant.",
            target.requester_email, source.requester_email, target.requester_email, source.requester_email
        );
        flash(&session, "error", text).await;
        return Ok(back(number));
    }
    match state.tickets.merge(number, into, &user).await {
        Ok(done) => {
            let moved =
                if done.messages == 1 { "1 message".to_string() } else { format!("{} messages", done.messages) };
            flash(&session, "ok", format!("Merged #{number} into #{into} ({moved} moved).")).await;
            Ok(back(into))
        }
        Err(TicketError::Invalid(why)) => {
            flash(&session, "error", format!("Merge: {}", why.trim_start_matches("into: "))).await;
            Ok(back(number))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
struct SplitForm {
    #[serde(default)]
    messages: Vec<i64>,
    #[serde(default)]
    subject: String,
}

async fn split(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(number): Path<i64>,
    Form(f): Form<SplitForm>,
) -> Result<Redirect, Error> {
    match state.tickets.split(number, &f.messages, &f.subject, &user).await {
        Ok(new) => {
            let moved =
                if f.messages.len() == 1 { "1 message".to_string() } else { format!("{} messages", f.messages.len()) };
            flash(&session, "ok", format!("Split {moved} off #{number} into this new ticket.")).await;
            Ok(back(new))
        }
        Err(TicketError::Invalid(why)) => {
            flash(&session, "error", format!("Split: {}", why.trim_start_matches("messages: "))).await;
            Ok(back(number))
        }
        Err(e) => Err(e.into()),
    }
}
