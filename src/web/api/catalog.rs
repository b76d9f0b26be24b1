//! The shop's side of the API: products and orders (admins), NDJSON bulk import, catalog search, ticket links.

use super::ApiUser;
use super::body::Body;
use crate::db::catalog::LinkRow;
use crate::tickets::catalog::{ImportReport, Record, parse_order, parse_product};
use crate::web::{AppState, Error, Result};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/products/{ref}", put(put_product))
        .route("/orders/{number}", put(put_order))
        .route("/catalog/import", post(import).layer(DefaultBodyLimit::max(200 * 1024 * 1024)))
        .route("/catalog/search", get(search))
        .route("/tickets/{number}/links", post(add_link))
        .route("/tickets/{number}/links/{id}", delete(remove_link))
}

async fn write_one(state: &AppState, record: Record) -> Result<StatusCode> {
    let mut report = ImportReport::default();
    crate::tickets::catalog::write_batch(&state.db, &mut vec![record], &mut report).await?;
    Ok(if report.created == 1 { StatusCode::CREATED } else { StatusCode::OK })
}

async fn put_product(
    State(state): State<AppState>,
    user: ApiUser,
    Path(r): Path<String>,
    Body(body): Body<Value>,
) -> Result<(StatusCode, Json<Value>)> {
    user.require_admin()?;
    let p = parse_product(&body, Some(&r)).map_err(Error::Unprocessable)?;
    let status = write_one(&state, Record::Product(p.clone())).await?;
    Ok((status, Json(json!(p))))
}

async fn put_order(
    State(state): State<AppState>,
    user: ApiUser,
    Path(number): Path<String>,
    Body(body): Body<Value>,
) -> Result<(StatusCode, Json<Value>)> {
    user.require_admin()?;
    let o = parse_order(&body, Some(&number)).map_err(Error::Unprocessable)?;
    let status = write_one(&state, Record::Order(o.clone())).await?;
    Ok((status, Json(json!(o))))
}

/// `POST /catalog/import`: NDJSON, one record per line; answers the report (invalid lines with numbers and reasons).
async fn import(State(state): State<AppState>, user: ApiUser, body: String) -> Result<Json<ImportReport>> {
    user.require_admin()?;
    Ok(Json(crate::tickets::catalog::import_ndjson(&state.db, &body, |_| {}).await?))
}

#[derive(Debug, Deserialize)]
struct SearchQuery {
    q: Option<String>,
}

async fn search(State(state): State<AppState>, _user: ApiUser, Query(q): Query<SearchQuery>) -> Result<Json<Value>> {
    let hits = state.db.search_catalog(q.q.as_deref().unwrap_or(""), 20).await?;
    Ok(Json(json!({ "results": hits })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkIn {
    kind: String,
    r#ref: String,
}

async fn add_link(
    State(state): State<AppState>,
    user: ApiUser,
    Path(number): Path<i64>,
    Body(body): Body<LinkIn>,
) -> Result<(StatusCode, Json<Value>)> {
    let link = state.tickets.link(number, &body.kind, &body.r#ref, &user.0.actor()).await?;
    let t = state.db.ticket(number).await?.ok_or(Error::NotFound)?;
    Ok((StatusCode::CREATED, Json(link_json(&link, &t.requester_email))))
}

async fn remove_link(
    State(state): State<AppState>,
    user: ApiUser,
    Path((number, id)): Path<(i64, i64)>,
) -> Result<StatusCode> {
    state.tickets.unlink(number, id, &user.0.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{id, kind, ref, title, added_by, other_customer}` (plus status, url and order details).
pub fn link_json(l: &LinkRow, requester: &str) -> Value {
    let other = !l.customer_email.is_empty() && !l.customer_email.eq_ignore_ascii_case(requester);
    let title = match l.kind.as_str() {
        "order" => format!("Order {}", l.r#ref),
        _ => l.title.clone(),
    };
    json!({
        "id": l.id, "kind": l.kind, "ref": l.r#ref, "title": title, "status": l.status, "url": l.url,
        "total": l.total, "currency": l.currency, "quantity": l.quantity, "order": l.order_number,
        "customer_email": l.customer_email, "added_by": l.added_by, "added_at": crate::domain::rfc3339(l.added_at),
        "other_customer": other,
    })
}
