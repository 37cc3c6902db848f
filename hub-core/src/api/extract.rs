//! Request extractors whose rejections are `HubError`s, so malformed input becomes a problem document.

use axum::extract::{FromRequest, FromRequestParts};

use crate::error::HubError;

/// A JSON body; on failure a 400 naming the offending field, or 413 over the size limit.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(HubError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

/// A query string; on failure a 400.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(HubError))]
pub struct Query<T>(pub T);

/// Path parameters; on failure a 400.
#[derive(Debug, Clone, Copy, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(HubError))]
pub struct Path<T>(pub T);
