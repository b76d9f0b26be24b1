//! `/tickets`: the inbox — status tabs with maintained counts, the "Due soon" view, filters and search in the URL,
//! sorting, paging, SLA due badges and types on the rows; bulk actions are in `tickets_bulk`.

use super::auth::CurrentUser;
use super::due_badge::badge;
use super::pages::{layout, sv, take_flashes};
use crate::db::TicketFilter;
use crate::db::ticket_filter::Sort;
use crate::domain::sla::SlaState;
use crate::domain::{Priority, Status};
use crate::web::{AppState, Error};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::{get, post};
use minijinja::context;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new().route("/tickets", get(list)).route("/tickets/bulk", post(super::tickets_bulk::bulk))
}

/// The list's URL parameters (all optional; they are the bookmarkable state of the view).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct ListParams {
    /// `active` (new+open+pending, the default), `all`, or one status.
    #[serde(default)]
    pub status: Option<String>,
    /// `mine`, `none`, `mine_or_none` or a user id.
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub mailbox: Option<String>,
    /// Only tickets of this team's mailboxes.
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub tag: Option<String>,
    /// A ticket type's name.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    /// `warning` or `breached` (another SLA state), or `running`: any running target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<String>,
    #[serde(default)]
    pub q: Option<String>,
    /// Linked to this order number.
    #[serde(default)]
    pub order: Option<String>,
    /// Linked to this product reference.
    #[serde(default)]
    pub product: Option<String>,
    #[serde(default)]
    pub sort: Option<String>,
    #[serde(default)]
    pub page: Option<u32>,
}

const PER_PAGE: u32 = 50;

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl ListParams {
    /// The filter these parameters select; unknown values are ignored (a bookmark never breaks).
    pub fn filter(&self, user_id: i64, mailbox_ids: Option<Vec<i64>>) -> TicketFilter {
        let statuses = match nonempty(&self.status) {
            None | Some("active") => vec![Status::New, Status::Open, Status::Pending],
            Some("all") => Vec::new(),
            Some(s) => Status::parse(s).map(|s| vec![s]).unwrap_or_default(),
        };
        let assignee = match nonempty(&self.assignee) {
            Some("mine_or_none") => None,
            Some("mine") => Some(Some(user_id)),
            Some("none") => Some(None),
            Some(id) => id.parse().ok().map(Some),
            None => None,
        };
        TicketFilter {
            statuses,
            assignee,
            mailbox: nonempty(&self.mailbox).map(str::to_string),
            mailbox_ids,
            priority: nonempty(&self.priority).and_then(|p| Priority::parse(p).ok()),
            tag: nonempty(&self.tag).map(str::to_string),
            type_name: nonempty(&self.type_name).map(str::to_lowercase),
            sla: nonempty(&self.sla).and_then(SlaState::parse).map(|s| s.as_str().to_string()),
            has_due: nonempty(&self.sla) == Some("running"),
            mine_or_unassigned: (nonempty(&self.assignee) == Some("mine_or_none")).then_some(user_id),
            requester_id: None,
            order: nonempty(&self.order).map(str::to_string),
            product: nonempty(&self.product).map(str::to_string),
            query: nonempty(&self.q).map(str::to_string),
            sort: nonempty(&self.sort).and_then(Sort::parse).unwrap_or_default(),
            page: self.page.unwrap_or(1).max(1),
            per_page: PER_PAGE,
        }
    }

    /// The "Due soon" view: active tickets of mine or of nobody with a running SLA target, the nearest due first.
    pub fn due_soon() -> Self {
        Self {
            status: Some("active".into()),
            assignee: Some("mine_or_none".into()),
            sla: Some("running".into()),
            sort: Some("due".into()),
            ..Self::default()
        }
    }

    /// Whether these parameters are the "Due soon" view (nothing more, nothing less but the page).
    fn is_due_soon(&self) -> bool {
        let mut p = self.clone();
        p.page = None;
        p.status = p.status.filter(|s| !s.trim().is_empty()).or(Some("active".into()));
        serde_urlencoded::to_string(&p).ok() == serde_urlencoded::to_string(Self::due_soon()).ok()
    }

    /// The query string of these parameters with `page` replaced (for tab, paging and sort links).
    pub fn url(&self, changes: &[(&str, &str)]) -> String {
        let mut p = self.clone();
        p.page = None;
        for (k, v) in changes {
            let v = (!v.is_empty()).then(|| v.to_string());
            match *k {
                "status" => p.status = v,
                "assignee" => p.assignee = v,
                "sort" => p.sort = v,
                "page" => p.page = v.and_then(|v| v.parse().ok()),
                _ => {}
            }
        }
        format!("/tickets?{}", serde_urlencoded::to_string(&p).unwrap_or_default())
    }
}

async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Query(params): Query<ListParams>,
) -> Result<Html<String>, Error> {
    let scope = crate::web::rights::list_scope(&state, &user, params.team.as_deref()).await?;
    let counts = match &scope {
        Some(ids) => state.db.status_counts_in(ids).await?,
        None => state.db.status_counts().await?,
    };
    let filter = params.filter(user.id, scope);
    let (tickets, total) = state.db.list_tickets(&filter).await?;
    let meta = state.list_meta.get(&state.db).await?;
    let count = |s: &str| counts.iter().find(|(k, _)| k == s).map(|(_, n)| *n).unwrap_or(0);
    let tabs: Vec<_> = ["active", "new", "open", "pending", "resolved", "closed", "all"]
        .iter()
        .map(|s| {
            let n = match *s {
                "active" => count("new") + count("open") + count("pending"),
                "all" => counts.iter().map(|(_, n)| n).sum(),
                s => count(s),
            };
            context! { key => *s, count => n, url => params.url(&[("status", s)]) }
        })
        .collect();
    let pages = ((total.count + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE)).max(1);
    let page_no = i64::from(filter.page);
    let ids: Vec<i64> = tickets.iter().map(|t| t.id).collect();
    let links = state.db.links_of_tickets(&ids).await?;
    let clocks = crate::db::sla::clocks(state.db.pool(), &ids).await?;
    let now = crate::domain::now();
    let rows: Vec<_> = tickets
        .iter()
        .map(|t| {
            let mine: Vec<_> = links
                .iter()
                .filter(|(id, _, _)| *id == t.id)
                .map(|(_, k, r)| context! { kind => k.clone(), label => r.clone() })
                .collect();
            let due = clocks.iter().find(|c| c.ticket_id == t.id).and_then(|c| badge(c, now));
            let type_title = t.type_name.as_ref().map(|n| meta.type_title(n));
            context! { t => sv(crate::web::api::ticket_json(t, &[])), updated_at => t.updated_at, links => mine, due => sv(due), type_title => type_title }
        })
        .collect();
    let due_soon = params.is_due_soon();
    let page = context! {
        tickets => rows,
        total => total.count,
        total_capped => total.capped,
        search_cap => crate::db::ticket_filter::SEARCH_CAP,
        tabs => tabs,
        params => sv(&params),
        current_status => nonempty(&params.status).unwrap_or("active"),
        due_soon => due_soon,
        due_soon_url => ListParams::due_soon().url(&[]),
        types => meta.types.iter().map(|(name, title)| context! { name => name.clone(), title => title.clone() }).collect::<Vec<_>>(),
        agents => meta.agents.iter().map(|(id, name)| context! { id => *id, name => name.clone() }).collect::<Vec<_>>(),
        mailboxes => meta.mailboxes.clone(),
        teams => state.db.teams().await?.into_iter().map(|t| t.name).collect::<Vec<_>>(),
        customer => customer_named(&state, params.q.as_deref()).await?,
        tags => meta.tags.clone(),
        macros => super::rules::macros::buttons(&state, &user).await?,
        page_no => page_no,
        pages => pages,
        prev_url => (page_no > 1).then(|| params.url(&[("page", &(page_no - 1).to_string())])),
        next_url => (page_no < pages).then(|| params.url(&[("page", &(page_no + 1).to_string())])),
        sort_urls => ["updated", "oldest", "created", "priority", "due"].iter().map(|s| context! { key => *s, url => params.url(&[("sort", s)]) }).collect::<Vec<_>>(),
        self_url => params.url(&[("page", &page_no.to_string())]),
    };
    state.pages.render("tickets.html", layout(Some(&user), take_flashes(&session).await, "tickets", page))
}

/// The customer a search for an e-mail address names, if deskmail knows them (a link to their page).
async fn customer_named(state: &AppState, q: Option<&str>) -> Result<Option<(String, String)>, Error> {
    let Some(q) = q.map(str::trim).filter(|q| q.contains('@') && !q.contains(' ')) else { return Ok(None) };
    Ok(state.db.customer_profile(&q.to_lowercase()).await?.map(|(email, name, _, _)| (email, name)))
}
