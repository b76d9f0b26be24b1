//! `/reports`: the report figures per group as a table and two inline SVG charts (created vs resolved, backlog per
//! day), with a from/to/group form; `/reports.csv` downloads the same table. For agents and admins.

mod charts;
mod csv;

use super::auth::CurrentUser;
use super::pages::{layout, sv, take_flashes};
use crate::automation::reports::{self, GroupBy, GroupFigures, Params, Query, Summary};
use crate::web::{AppState, Error};
use axum::Router;
use axum::extract::{Query as QueryString, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use minijinja::context;
use serde::Serialize;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new().route("/reports", get(page)).route("/reports.csv", get(download))
}

/// A table row as shown: durations and percentages in words, `–` for no data.
#[derive(Debug, Serialize)]
struct Row {
    key: String,
    created: u64,
    resolved: u64,
    first_median: String,
    first_p90: String,
    resolution_median: String,
    resolution_p90: String,
    sla_met: String,
    reopen_rate: String,
    satisfaction: String,
}

/// Business minutes as `45 m` or `44 h 05 m` (hours, not days: a business day is no 24 hours).
fn duration(minutes: Option<i64>) -> String {
    match minutes {
        None => "–".into(),
        Some(m) if m < 60 => format!("{m} m"),
        Some(m) => format!("{} h {:02} m", m / 60, m % 60),
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.1} %"))
}

fn row(g: &GroupFigures) -> Row {
    let s = &g.satisfaction;
    Row {
        key: g.key.clone(),
        created: g.created,
        resolved: g.resolved,
        first_median: duration(g.first_response_minutes.median),
        first_p90: duration(g.first_response_minutes.p90),
        resolution_median: duration(g.resolution_minutes.median),
        resolution_p90: duration(g.resolution_minutes.p90),
        sla_met: pct(g.sla_met_pct),
        reopen_rate: pct(g.reopen_rate_pct),
        satisfaction: if s.count == 0 { "–".into() } else { format!("{} ({})", pct(s.good_pct), s.count) },
    }
}

async fn figures(state: &AppState, user: &crate::db::UserRow, q: &Query) -> Result<Summary, Error> {
    let scope = state.db.visible_mailboxes(user).await?;
    Ok(reports::summary(&state.db, q, scope.as_deref()).await?)
}

async fn page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    QueryString(params): QueryString<Params>,
) -> Result<Response, Error> {
    let (status, report, error) = match params.parse(reports::today()) {
        Ok(q) => {
            let s = figures(&state, &user, &q).await?;
            let csv =
                serde_urlencoded::to_string([("from", &s.from), ("to", &s.to), ("group", &q.group.as_str().into())])
                    .map_err(anyhow::Error::from)?;
            let rows: Vec<Row> = s.groups.iter().map(row).collect();
            let report = context! {
                from => s.from.clone(), to => s.to.clone(), group => q.group.as_str(), rows => sv(rows),
                bars => sv(charts::bars(&s.groups)), backlog => sv(charts::line(&s.backlog)),
                csv_url => format!("/reports.csv?{csv}"),
            };
            (StatusCode::OK, Some(report), None)
        }
        Err(e) => (StatusCode::BAD_REQUEST, None, Some(e.to_string())),
    };
    let groups: Vec<&str> = GroupBy::ALL.iter().map(|g| g.as_str()).collect();
    let page = context! { params => sv(&params), report => report, error => error, groups => groups };
    let html =
        state.pages.render("reports.html", layout(Some(&user), take_flashes(&session).await, "reports", page))?;
    Ok((status, html).into_response())
}

async fn download(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    QueryString(params): QueryString<Params>,
) -> Result<Response, Error> {
    let q = params.parse(reports::today()).map_err(|e| Error::BadRequest(e.to_string()))?;
    let s = figures(&state, &user, &q).await?;
    let name = format!("attachment; filename=\"deskmail-report-{}-{}-{}.csv\"", s.group.as_str(), s.from, s.to);
    let headers = [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, name)];
    Ok((headers, csv::table(&s)).into_response())
}

#[cfg(test)]
mod tests {
    use super::{duration, pct};

    #[test]
    fn durations_and_percentages_read_as_words() {
        assert_eq!(duration(None), "–");
        assert_eq!(duration(Some(45)), "45 m");
        assert_eq!(duration(Some(185)), "3 h 05 m");
        assert_eq!(duration(Some(2_645)), "44 h 05 m");
        assert_eq!(pct(Some(50.0)), "50.0 %");
        assert_eq!(pct(None), "–");
    }
}
