//! The one error type of hub-core services. Each edge (REST, MCP, bus) maps it once.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AuthError;

/// A problem with one field of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// The field's name or JSON path (`recipients[2]`, `query.limit`).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Everything that can go wrong in a hub-core operation.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// 400: the request could not be read at all (malformed JSON, bad query string, bad cursor).
    #[error("{message}")]
    BadRequest {
        field: Option<String>,
        message: String,
    },
    /// 422: the request was read but its values break the rules; each field named.
    #[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// 401: no or bad credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(AuthError),
    /// 403: authenticated but the principal lacks the role `scope`.
    #[error("forbidden: requires scope {scope}")]
    Forbidden { scope: String },
    /// 403: authenticated but the principal is not allowed in `domain`.
    #[error("forbidden: no access to domain {domain}")]
    DomainForbidden { domain: String },
    /// 404: no `resource` with this id (or not visible to the caller).
    #[error("{resource} {id} not found")]
    NotFound { resource: &'static str, id: String },
    /// 409: the change conflicts with the current state (duplicate key, illegal transition).
    #[error("{0}")]
    Conflict(String),
    /// 413: the request body exceeds the limit.
    #[error("request body exceeds the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 503: a dependency (database, issuer) is not available right now.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// 500: a database failure that is not the caller's fault.
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// 500: a bug or broken invariant.
    #[error("internal error: {0}")]
    Internal(String),
}

impl HubError {
    /// The HTTP status of each variant: the only such table.
    pub fn status(&self) -> u16 {
        match self {
            HubError::BadRequest { .. } => 400,
            HubError::Invalid(_) => 422,
            HubError::Unauthorized(_) => 401,
            HubError::Forbidden { .. } | HubError::DomainForbidden { .. } => 403,
            HubError::NotFound { .. } => 404,
            HubError::Conflict(_) => 409,
            HubError::PayloadTooLarge { .. } => 413,
            HubError::Unavailable(_) => 503,
            HubError::Db(_) | HubError::Internal(_) => 500,
        }
    }

    /// One invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        HubError::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn not_found(resource: &'static str, id: impl Into<String>) -> Self {
        HubError::NotFound {
            resource,
            id: id.into(),
        }
    }

    pub fn bad_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        HubError::BadRequest {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// Maps a unique-key violation to `Conflict` with `message`, any other database error to `Db`.
    /// The one place that knows how the databases report duplicates.
    pub fn from_db_unique(err: sea_orm::DbErr, message: impl FnOnce() -> String) -> Self {
        match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => HubError::Conflict(message()),
            _ => HubError::Db(err),
        }
    }

    /// True for errors caused by the server side rather than the input.
    pub fn is_server_error(&self) -> bool {
        self.status() >= 500
    }
}

/// Collects field errors while validating an input, then turns them into one `Invalid`.
#[derive(Debug, Default)]
pub struct Validator(Vec<FieldError>);

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `message` for `field` unless `ok`.
    pub fn check(&mut self, ok: bool, field: &str, message: impl Into<String>) -> &mut Self {
        if !ok {
            self.0.push(FieldError::new(field, message));
        }
        self
    }

    /// Records that a required text field is present and not blank, with at most `max` characters.
    pub fn text(&mut self, value: &str, field: &str, max: usize) -> &mut Self {
        if value.trim().is_empty() {
            self.0.push(FieldError::new(field, "must not be empty"));
        } else if value.chars().count() > max {
            self.0.push(FieldError::new(
                field,
                format!("must be at most {max} characters"),
            ));
        }
        self
    }

    /// Like `text`, for an optional field.
    pub fn opt_text(&mut self, value: Option<&str>, field: &str, max: usize) -> &mut Self {
        match value {
            Some(v) => self.text(v, field, max),
            None => self,
        }
    }

    /// Records that `value` is a slug: 1..=64 chars of `a-z0-9-_`, starting with a letter or digit.
    pub fn slug(&mut self, value: &str, field: &str) -> &mut Self {
        self.check(
            is_slug(value),
            field,
            "must be 1-64 characters of a-z, 0-9, '-' or '_', starting with a letter or digit",
        )
    }

    pub fn finish(&mut self) -> Result<(), HubError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(HubError::Invalid(std::mem::take(&mut self.0)))
        }
    }
}

/// True when `value` is 1..=64 chars of `a-z0-9-_`, starting with a letter or digit: the shape
/// of domain slugs and hub names.
pub fn is_slug(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_its_status() {
        let cases: Vec<(HubError, u16)> = vec![
            (HubError::bad_request("cursor", "bad"), 400),
            (HubError::invalid("slug", "bad"), 422),
            (HubError::Unauthorized(AuthError::Missing), 401),
            (
                HubError::Forbidden {
                    scope: "dev:write".into(),
                },
                403,
            ),
            (
                HubError::DomainForbidden {
                    domain: "finance".into(),
                },
                403,
            ),
            (HubError::not_found("domain", "x"), 404),
            (HubError::Conflict("dup".into()), 409),
            (HubError::PayloadTooLarge { limit: 1 }, 413),
            (HubError::Unavailable("db".into()), 503),
            (HubError::Db(sea_orm::DbErr::Custom("x".into())), 500),
            (HubError::Internal("x".into()), 500),
        ];
        for (err, status) in cases {
            assert_eq!(err.status(), status, "{err:?}");
        }
    }

    #[test]
    fn validator_collects_every_field() {
        let err = Validator::new()
            .text(" ", "name", 10)
            .slug("Bad Slug", "slug")
            .finish()
            .unwrap_err();
        let HubError::Invalid(fields) = err else {
            panic!("expected Invalid")
        };
        let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["name", "slug"]);
    }
}
