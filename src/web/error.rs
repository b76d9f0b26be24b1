//! The web layer's error type: a status code and a JSON `{"error": …}` body; 5xx causes are logged, not shown.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Errors a handler can return.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400: the request is malformed; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid credentials.
    #[error("authentication required")]
    Unauthorized,
    /// 403: authenticated, but not allowed.
    #[error("forbidden")]
    Forbidden,
    /// 404: no such resource.
    #[error("not found")]
    NotFound,
    /// 409: conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// 422: well-formed but invalid; the message names the field.
    #[error("{0}")]
    Unprocessable(String),
    /// Any other client error with its own status (413 too large, 415 wrong media type …).
    #[error("{1}")]
    Status(StatusCode, String),
    /// 503: a dependency (database) is unavailable.
    #[error("service unavailable")]
    Unavailable,
    /// 500: anything else; the cause is logged.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// Result alias of handlers.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<crate::db::DbError> for Error {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::NotFound => Error::NotFound,
            crate::db::DbError::Conflict(m) => Error::Conflict(m),
            e if e.is_transient() => {
                tracing::error!(error = %crate::platform::telemetry::chain(&e), "database unavailable");
                Error::Unavailable
            }
            e => Error::Internal(anyhow::Error::new(e)),
        }
    }
}

impl Error {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Unauthorized => StatusCode::UNAUTHORIZED,
            Error::Forbidden => StatusCode::FORBIDDEN,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Status(status, _) => *status,
            Error::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if let Error::Internal(e) = &self {
            tracing::error!(error = %crate::platform::telemetry::chain(e.as_ref()), "request failed");
        }
        let mut resp = (self.status(), Json(serde_json::json!({ "error": self.to_string() }))).into_response();
        if matches!(self, Error::Unauthorized) {
            resp.headers_mut().insert("www-authenticate", axum::http::HeaderValue::from_static("Bearer"));
        }
        resp
    }
}
