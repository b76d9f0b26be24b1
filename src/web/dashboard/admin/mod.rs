//! Admin pages under `/admin/` (admins only; agents get 403): mailboxes, e-mail templates, quarantine, deliveries,
//! bounces, webhooks, the customer portal, ticket types, SLA calendars and policies.

mod bounces;
mod calendar_form;
mod calendars;
mod deliveries;
mod mailbox_check;
mod mailbox_form;
mod mailboxes;
mod oauth_connect;
mod portal;
mod quarantine;
mod sla_form;
mod sla_policies;
mod stored_password;
mod teams;
mod templates;
mod types;
mod webhooks;

use super::pages::{layout, take_flashes};
use crate::db::UserRow;
use crate::web::{AppState, Error};
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::{Value, context};
use tower_sessions::Session;

/// Every admin route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(home))
        .merge(mailboxes::router())
        .merge(oauth_connect::router())
        .merge(templates::router())
        .merge(quarantine::router())
        .merge(deliveries::router())
        .merge(bounces::router())
        .merge(portal::router())
        .merge(teams::router())
        .merge(webhooks::router())
        .merge(types::router())
        .merge(calendars::router())
        .merge(sla_policies::router())
}

/// Rows per page of the admin lists.
const PER_PAGE: i64 = 50;

/// A page of an admin list, from `?page=` (1 when missing or below 1).
#[derive(Debug, Clone, Copy)]
struct ListPage(i64);

impl ListPage {
    fn new(page: Option<i64>) -> Self {
        Self(page.unwrap_or(1).max(1))
    }

    /// Rows to skip.
    fn offset(self) -> i64 {
        (self.0 - 1) * PER_PAGE
    }

    /// Cuts the one row beyond the page that was fetched to learn whether another page follows; says whether one does.
    fn cut<T>(self, rows: &mut Vec<T>) -> bool {
        let more = rows.len() as i64 > PER_PAGE;
        rows.truncate(PER_PAGE as usize);
        more
    }
}

async fn home(_: super::AdminUser) -> Redirect {
    Redirect::to("/admin/mailboxes")
}

/// Renders an admin page: the layout, the admin sub-navigation at `section`, and the page's own values.
async fn render(
    state: &AppState,
    user: &UserRow,
    session: &Session,
    template: &str,
    section: &str,
    page: Value,
    status: StatusCode,
) -> Result<Response, Error> {
    let page = context! { admin_section => section, ..page };
    let html = state.pages.render(template, layout(Some(user), take_flashes(session).await, "admin", page))?;
    Ok((status, html).into_response())
}

/// What a type, calendar or policy name may be (`crate::tickets::types::type_name`).
const NAME_RULE: &str = "Use 1 to 40 lowercase letters, digits, - and _.";

/// A new calendar's or policy's name from its form (`what`: "Calendar", "Policy"), or the refusal shown beside
/// the field: the name rule, `new` (the form's own address), or one of `taken`.
fn new_setup_name<'a>(raw: &str, what: &str, mut taken: impl Iterator<Item = &'a str>) -> Result<String, String> {
    match crate::tickets::types::type_name(raw) {
        Err(_) => Err(NAME_RULE.to_string()),
        Ok(name) if name == "new" => Err("“new” is taken by this page's address.".into()),
        Ok(name) if taken.any(|t| t == name) => Err(format!("{what} {name} exists already: open it to change it.")),
        Ok(name) => Ok(name),
    }
}

/// The first letter upper-cased (error texts from lower layers start in lower case).
fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}
