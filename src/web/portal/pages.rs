//! Rendering portal pages: the page templates (`templates/web/portal_*.html`) with the portal's header (title,
//! logo, the signed-in customer) around them.

use super::session::Customer;
use crate::web::{AppState, Error};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::{Value, context};

/// Renders `name` with `page` as its values, for `customer` (or nobody signed in).
pub async fn render(
    state: &AppState,
    status: StatusCode,
    name: &str,
    customer: Option<&Customer>,
    page: Value,
) -> Result<Response, Error> {
    let (title, logo) = super::look::brand(state).await?;
    let me = customer.map(|c| context! { email => c.email.clone() });
    let ctx = context! { brand => context! { title => title, logo => logo }, me => me, page => page };
    Ok((status, state.pages.render(name, ctx)?).into_response())
}

/// Renders with 200.
pub async fn ok(state: &AppState, name: &str, customer: Option<&Customer>, page: Value) -> Result<Response, Error> {
    render(state, StatusCode::OK, name, customer, page).await
}
