//! `/admin/calendars`: SLA business-hours calendars — the list, the form (time zone, ranges per weekday,
//! holidays; refusals beside their fields) with a preview of the next 7 days' local hours, delete. Every save
//! asks the SLA worker to recompute the clocks.

use super::calendar_form::CalendarForm;
use super::{new_setup_name, render};
use crate::db::UserRow;
use crate::db::sla::CalendarRow;
use crate::db::sla_setup::CalendarDeleted;
use crate::domain::calendar::CalendarSpec;
use crate::web::api::sla::calendar_json;
use crate::web::dashboard::AdminUser;
use crate::web::dashboard::pages::{flash, sv};
use crate::web::{AppState, Error};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use minijinja::context;
use serde_json::Value;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/calendars", get(list).post(create))
        .route("/admin/calendars/new", get(new))
        .route("/admin/calendars/{name}", get(show).post(update))
        .route("/admin/calendars/{name}/delete", post(delete))
}

async fn list(State(state): State<AppState>, AdminUser(user): AdminUser, session: Session) -> Result<Response, Error> {
    let (calendars, policies) = state.db.sla_setup().await?;
    let rows: Vec<_> = calendars
        .iter()
        .map(|c| {
            let spec = spec_of(c);
            let used_by: Vec<_> =
                policies.iter().filter(|p| p.calendar.as_deref() == Some(&c.name)).map(|p| p.name.clone()).collect();
            context! { form => sv(CalendarForm::of(&c.name, &spec)), holidays => spec.holidays.len(), used_by => used_by }
        })
        .collect();
    render(&state, &user, &session, "admin_calendars.html", "calendars", context! { calendars => rows }, StatusCode::OK)
        .await
}

async fn new(State(state): State<AppState>, AdminUser(user): AdminUser, session: Session) -> Result<Response, Error> {
    form_page(&state, &user, &session, None, CalendarForm::blank(), StatusCode::OK).await
}

async fn show(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Path(name): Path<String>,
) -> Result<Response, Error> {
    let row = stored(&state, &name).await?.ok_or(Error::NotFound)?;
    let form = CalendarForm::of(&row.name, &spec_of(&row));
    form_page(&state, &user, &session, Some(&row), form, StatusCode::OK).await
}

/// The form page; `row` is the stored calendar (none for a new one), whose week it previews.
async fn form_page(
    state: &AppState,
    user: &UserRow,
    session: &Session,
    row: Option<&CalendarRow>,
    form: CalendarForm,
    status: StatusCode,
) -> Result<Response, Error> {
    let week = row.map(|r| week_of(&calendar_json(r)));
    let zones: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
    let ctx = context! { form => sv(&form), stored => row.map(|r| r.name.clone()), week => sv(week), zones => zones };
    render(state, user, session, "admin_calendar.html", "calendars", ctx, status).await
}

/// The API's week preview with each date's weekday.
fn week_of(json: &Value) -> Vec<Value> {
    let days = json["week"].as_array().cloned().unwrap_or_default();
    days.into_iter()
        .map(|mut d| {
            let date = d["date"].as_str().and_then(|s| s.parse::<jiff::civil::Date>().ok());
            d["weekday"] = date.map(|d| d.strftime("%a").to_string()).into();
            d
        })
        .collect()
}

async fn create(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, Error> {
    let mut form = CalendarForm::posted(&pairs, None);
    let (calendars, _) = state.db.sla_setup().await?;
    match new_setup_name(&form.name, "Calendar", calendars.iter().map(|c| c.name.as_str())) {
        Ok(name) => form.name = name,
        Err(refusal) => {
            form.errors.insert("name".into(), refusal);
        }
    }
    save(&state, &user, &session, None, form).await
}

async fn update(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Path(name): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, Error> {
    let row = stored(&state, &name).await?.ok_or(Error::NotFound)?;
    let form = CalendarForm::posted(&pairs, Some(&row.name));
    save(&state, &user, &session, Some(&row), form).await
}

/// Stores the form's calendar and asks for the recompute, or shows the form again with its errors.
async fn save(
    state: &AppState,
    user: &UserRow,
    session: &Session,
    row: Option<&CalendarRow>,
    mut form: CalendarForm,
) -> Result<Response, Error> {
    let Some(spec) = form.spec() else {
        return form_page(state, user, session, row, form, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let now = crate::domain::now();
    let text = serde_json::to_string(&spec).map_err(anyhow::Error::from)?;
    state.db.put_calendar(&form.name, &text, now).await?;
    tracing::info!(calendar = form.name, by = %user.email, "calendar saved");
    flash(session, "ok", format!("Calendar {} saved; the SLA clocks are being recomputed.", form.name)).await;
    Ok(Redirect::to(&format!("/admin/calendars/{}", form.name)).into_response())
}

async fn delete(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Path(name): Path<String>,
) -> Result<Response, Error> {
    match state.db.delete_calendar(&name).await? {
        CalendarDeleted::InUseBy(p) => {
            flash(&session, "error", format!("Calendar {name} is used by policy {p}: change that policy first.")).await;
            return Ok(Redirect::to(&format!("/admin/calendars/{name}")).into_response());
        }
        CalendarDeleted::Deleted => {
            tracing::info!(calendar = name, by = %user.email, "calendar deleted");
            flash(&session, "ok", format!("Calendar {name} deleted.")).await;
        }
        CalendarDeleted::Missing => {}
    }
    Ok(Redirect::to("/admin/calendars").into_response())
}

async fn stored(state: &AppState, name: &str) -> Result<Option<CalendarRow>, Error> {
    Ok(state.db.sla_setup().await?.0.into_iter().find(|c| c.name == name))
}

/// A stored calendar's spec (an unreadable one shows as UTC without hours).
fn spec_of(row: &CalendarRow) -> CalendarSpec {
    serde_json::from_str(&row.spec).unwrap_or(CalendarSpec {
        time_zone: "UTC".into(),
        hours: Default::default(),
        holidays: Vec::new(),
    })
}
