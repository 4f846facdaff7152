//! The one place where error kinds become HTTP status codes and `{"message": ...}` bodies.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_api::{ErrorKind, ErrorResponse};

use crate::backend::BackendError;
use crate::http::json_response;

/// docker's status code for each kind of error.
pub fn status_for(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::InvalidArgument => StatusCode::BAD_REQUEST,
        ErrorKind::NotModified => StatusCode::NOT_MODIFIED,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::NotImplemented => StatusCode::NOT_IMPLEMENTED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for BackendError {
    fn into_response(self) -> Response {
        let status = status_for(self.kind);
        if status == StatusCode::NOT_MODIFIED {
            // A 304 carries no body.
            return status.into_response();
        }
        if status.is_server_error() && self.kind != ErrorKind::NotImplemented {
            tracing::error!(kind = %self.kind, "{}", self.message);
        } else {
            tracing::debug!(kind = %self.kind, "{}", self.message);
        }
        json_response(status, &ErrorResponse::new(self.message))
    }
}
