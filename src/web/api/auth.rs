//! Bearer-token authentication of API calls.

use crate::db::UserRow;
use crate::web::{AppState, Error};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// The staff user an API token belongs to.
#[derive(Debug, Clone)]
pub struct ApiUser(pub UserRow);

impl ApiUser {
    /// Refuses non-admins with 403.
    pub fn require_admin(&self) -> Result<(), Error> {
        if self.0.is_admin() { Ok(()) } else { Err(Error::Forbidden) }
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(Error::Unauthorized)?;
        let token =
            header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer ")).ok_or(Error::Unauthorized)?;
        let user = state
            .db
            .user_by_token_hash(&crate::platform::password::token_hash(token))
            .await?
            .ok_or(Error::Unauthorized)?;
        crate::web::rights::check_path(state, &user, parts.uri.path()).await?;
        Ok(ApiUser(user))
    }
}
