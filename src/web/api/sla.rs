//! `GET /calendars`, `GET/PUT/DELETE /calendars/{name}` (with a week preview) and `GET /sla`,
//! `GET/PUT/DELETE /sla/{name}`: the SLA setup (admins write, agents read). The store's writes ask the SLA worker
//! to recompute the clocks.

use super::ApiUser;
use super::body::Body;
use crate::db::sla::{CalendarRow, PolicyRow};
use crate::db::sla_setup::CalendarDeleted;
use crate::domain::calendar::{Calendar, CalendarSpec};
use crate::domain::sla::PolicySpec;
use crate::web::{AppState, Error, Result};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/calendars", get(calendars))
        .route("/calendars/{name}", get(calendar).put(put_calendar).delete(delete_calendar))
        .route("/sla", get(policies))
        .route("/sla/{name}", get(policy).put(put_policy).delete(delete_policy))
}

async fn calendars(State(state): State<AppState>, _user: ApiUser) -> Result<Json<Value>> {
    let (calendars, _) = state.db.sla_setup().await?;
    Ok(Json(json!({ "calendars": calendars.iter().map(calendar_json).collect::<Vec<_>>() })))
}

async fn calendar(State(state): State<AppState>, _user: ApiUser, Path(name): Path<String>) -> Result<Json<Value>> {
    let (calendars, _) = state.db.sla_setup().await?;
    let row = calendars.iter().find(|c| c.name == name).ok_or(Error::NotFound)?;
    Ok(Json(calendar_json(row)))
}

async fn put_calendar(
    State(state): State<AppState>,
    user: ApiUser,
    Path(name): Path<String>,
    Body(spec): Body<CalendarSpec>,
) -> Result<Json<Value>> {
    user.require_admin()?;
    let name = setup_name(&name)?;
    Calendar::parse(&spec).map_err(|e| Error::Unprocessable(e.to_string()))?;
    let now = crate::domain::now();
    let text = serde_json::to_string(&spec).map_err(anyhow::Error::from)?;
    state.db.put_calendar(&name, &text, now).await?;
    tracing::info!(calendar = name, by = %user.0.email, "calendar saved");
    Ok(Json(calendar_json(&CalendarRow { name, spec: text, updated_at: now })))
}

async fn delete_calendar(State(state): State<AppState>, user: ApiUser, Path(name): Path<String>) -> Result<StatusCode> {
    user.require_admin()?;
    match state.db.delete_calendar(&name).await? {
        CalendarDeleted::Deleted => {}
        CalendarDeleted::Missing => return Err(Error::NotFound),
        CalendarDeleted::InUseBy(p) => return Err(Error::Conflict(format!("policy {p} uses this calendar"))),
    }
    tracing::info!(calendar = name, by = %user.0.email, "calendar deleted");
    Ok(StatusCode::NO_CONTENT)
}

async fn policies(State(state): State<AppState>, _user: ApiUser) -> Result<Json<Value>> {
    let (_, policies) = state.db.sla_setup().await?;
    Ok(Json(json!({ "policies": policies.iter().map(policy_json).collect::<Vec<_>>() })))
}

async fn policy(State(state): State<AppState>, _user: ApiUser, Path(name): Path<String>) -> Result<Json<Value>> {
    let (_, policies) = state.db.sla_setup().await?;
    Ok(Json(policy_json(policies.iter().find(|p| p.name == name).ok_or(Error::NotFound)?)))
}

async fn put_policy(
    State(state): State<AppState>,
    user: ApiUser,
    Path(name): Path<String>,
    Body(spec): Body<PolicySpec>,
) -> Result<Json<Value>> {
    user.require_admin()?;
    let name = setup_name(&name)?;
    crate::automation::sla::check::check(&spec).map_err(|e| Error::Unprocessable(e.to_string()))?;
    let (calendars, _) = state.db.sla_setup().await?;
    if let Some(c) = &spec.calendar
        && !calendars.iter().any(|k| &k.name == c)
    {
        return Err(Error::Unprocessable(format!("calendar: no calendar {c:?}")));
    }
    let now = crate::domain::now();
    let row = state.db.save_policy(&name, &spec, now).await?;
    tracing::info!(policy = row.name, by = %user.0.email, "SLA policy saved");
    Ok(Json(policy_json(&row)))
}

async fn delete_policy(State(state): State<AppState>, user: ApiUser, Path(name): Path<String>) -> Result<StatusCode> {
    user.require_admin()?;
    if !state.db.delete_policy(&name).await? {
        return Err(Error::NotFound);
    }
    tracing::info!(policy = name, by = %user.0.email, "SLA policy deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// A calendar or policy name: like a ticket type's.
fn setup_name(name: &str) -> Result<String> {
    Ok(crate::tickets::types::type_name(name)?)
}

/// A stored calendar with its next seven days as local working ranges (the week preview).
pub fn calendar_json(row: &CalendarRow) -> Value {
    let spec: Option<CalendarSpec> = serde_json::from_str(&row.spec).ok();
    let preview = spec.as_ref().and_then(|s| Calendar::parse(s).ok()).map(|cal| {
        let week = cal.week(crate::domain::now());
        week.iter()
            .map(|d| {
                let ranges: Vec<[String; 2]> =
                    d.intervals.iter().map(|(a, b)| [cal.local_hm(*a), end_hm(&cal, *b)]).collect();
                json!({ "date": d.date.to_string(), "hours": ranges })
            })
            .collect::<Vec<_>>()
    });
    json!({
        "name": row.name,
        "time_zone": spec.as_ref().map(|s| s.time_zone.clone()),
        "hours": spec.as_ref().map(|s| json!(s.hours)),
        "holidays": spec.as_ref().map(|s| json!(s.holidays)),
        "updated_at": crate::domain::rfc3339(row.updated_at),
        "week": preview,
    })
}

/// An interval's end: midnight ending a day reads `24:00`.
fn end_hm(cal: &Calendar, at: i64) -> String {
    match cal.local_hm(at) {
        m if m == "00:00" => "24:00".into(),
        m => m,
    }
}

/// A stored policy as the API shows it.
pub fn policy_json(p: &PolicyRow) -> Value {
    json!({
        "name": p.name,
        "position": p.position,
        "calendar": p.calendar,
        "conditions": serde_json::from_str::<Value>(&p.conditions).unwrap_or(Value::Null),
        "first_response_minutes": p.first_response_minutes,
        "next_response_minutes": p.next_response_minutes,
        "resolution_minutes": p.resolution_minutes,
        "warn_before_minutes": p.warn_before_minutes,
        "updated_at": crate::domain::rfc3339(p.updated_at),
    })
}
