//! JSON request bodies whose rejections answer in the API's `{"error": …}` shape.

use crate::web::Error;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

/// Like `axum::Json`, but a malformed body is a 400 (422 for wrong fields; 413 too large, 415 not JSON) with a
/// JSON error.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(axum::extract::rejection::JsonRejection::JsonDataError(e)) => Err(Error::Unprocessable(e.body_text())),
            Err(e) if e.status() == axum::http::StatusCode::BAD_REQUEST => Err(Error::BadRequest(e.body_text())),
            // Too large (413) or not JSON (415): the status says which; `json_errors` gives it the JSON shape.
            Err(e) => Err(Error::Status(e.status(), e.body_text())),
        }
    }
}
