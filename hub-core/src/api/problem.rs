//! `HubError` -> RFC 9457 `application/problem+json`: the REST edge's one error mapping.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::AuthError;
use crate::error::{FieldError, HubError};

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem kind.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The fields at fault, when the input was to blame.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

fn kind(err: &HubError) -> (&'static str, &'static str) {
    match err {
        HubError::BadRequest { .. } => ("bad-request", "Bad request"),
        HubError::Invalid(_) => ("validation", "Invalid input"),
        HubError::Unauthorized(_) => ("unauthorized", "Unauthorized"),
        HubError::Forbidden { .. } | HubError::DomainForbidden { .. } => ("forbidden", "Forbidden"),
        HubError::NotFound { .. } => ("not-found", "Not found"),
        HubError::Conflict(_) => ("conflict", "Conflict"),
        HubError::PayloadTooLarge { .. } => ("payload-too-large", "Payload too large"),
        HubError::Unavailable(_) => ("unavailable", "Service unavailable"),
        HubError::Db(_) | HubError::Internal(_) => ("internal", "Internal error"),
    }
}

impl Problem {
    pub fn from_error(err: &HubError) -> Self {
        let (slug, title) = kind(err);
        let detail = if err.is_server_error() && !matches!(err, HubError::Unavailable(_)) {
            // The cause goes to the log, never to the caller.
            "internal error".to_owned()
        } else {
            err.to_string()
        };
        let errors = match err {
            HubError::Invalid(fields) => fields.clone(),
            HubError::BadRequest {
                field: Some(field),
                message,
            } => vec![FieldError::new(field, message)],
            _ => Vec::new(),
        };
        Problem {
            problem_type: format!("https://hubmesh.dev/problems/{slug}"),
            title: title.into(),
            status: err.status(),
            detail,
            errors,
        }
    }
}

impl IntoResponse for HubError {
    fn into_response(self) -> Response {
        if self.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let problem = Problem::from_error(&self);
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, axum::Json(problem)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let HubError::Unauthorized(reason) = &self {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, www_authenticate(reason, None));
        }
        if let HubError::Forbidden { scope } = &self {
            let value = format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\"");
            if let Ok(v) = HeaderValue::from_str(&value) {
                res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
        }
        res
    }
}

/// The `WWW-Authenticate` challenge for a refused token (RFC 6750), with the RFC 9728
/// `resource_metadata` parameter where the route has one.
pub fn www_authenticate(reason: &AuthError, resource_metadata: Option<&str>) -> HeaderValue {
    let mut value = match reason {
        AuthError::Missing => "Bearer realm=\"hubmesh\"".to_owned(),
        other => format!(
            "Bearer realm=\"hubmesh\", error=\"invalid_token\", error_description=\"{}\"",
            other.to_string().replace(['"', '\\'], "'")
        ),
    };
    if let Some(url) = resource_metadata {
        value.push_str(&format!(", resource_metadata=\"{url}\""));
    }
    HeaderValue::from_str(&value)
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer realm=\"hubmesh\""))
}

impl From<JsonRejection> for HubError {
    fn from(rej: JsonRejection) -> Self {
        match rej.status() {
            StatusCode::PAYLOAD_TOO_LARGE => HubError::PayloadTooLarge { limit: 0 },
            _ => {
                let message = match &rej {
                    JsonRejection::JsonDataError(e) => e.body_text(),
                    JsonRejection::JsonSyntaxError(e) => e.body_text(),
                    JsonRejection::MissingJsonContentType(_) => {
                        "expected content-type application/json".into()
                    }
                    other => other.body_text(),
                };
                HubError::BadRequest {
                    field: json_error_field(&message)
                        .map(str::to_owned)
                        .or(Some("body".into())),
                    message,
                }
            }
        }
    }
}

/// The JSON path axum's error text names (`Failed to deserialize …: recipients[0]: invalid type …`).
fn json_error_field(message: &str) -> Option<&str> {
    let rest = message.split_once("target type: ")?.1;
    let (path, _) = rest.split_once(": ")?;
    (!path.contains(' ')).then_some(path)
}

impl From<QueryRejection> for HubError {
    fn from(rej: QueryRejection) -> Self {
        HubError::BadRequest {
            field: Some("query".into()),
            message: rej.body_text(),
        }
    }
}

impl From<PathRejection> for HubError {
    fn from(rej: PathRejection) -> Self {
        HubError::BadRequest {
            field: Some("path".into()),
            message: rej.body_text(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_hide_their_cause() {
        let p = Problem::from_error(&HubError::Internal("secret connection string".into()));
        assert_eq!(p.detail, "internal error");
        assert_eq!(p.status, 500);
    }

    #[test]
    fn json_paths_are_extracted() {
        let msg = "Failed to deserialize the JSON body into the target type: importance: unknown variant `x`";
        assert_eq!(json_error_field(msg), Some("importance"));
        assert_eq!(json_error_field("EOF while parsing"), None);
    }
}
