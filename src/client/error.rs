//! Why a client command failed, worded for the operator: one line each.

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

/// A failure talking to a hub.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "no mesh endpoints at {}: {reason}; is the mesh running? try `hubmesh up`, or pass --url",
        path.display()
    )]
    Endpoints { path: PathBuf, reason: String },
    #[error("no hub {name} in {} (it lists: {})", path.display(), known.join(", "))]
    UnknownHub {
        name: String,
        path: PathBuf,
        known: Vec<String>,
    },
    #[error("cannot reach hub {hub}: {reason}; is the mesh running? try `hubmesh up`")]
    Unreachable { hub: String, reason: String },
    #[error("hub {hub}: {problem}")]
    Problem { hub: String, problem: Problem },
    #[error("hub {hub} answered {status}: {body}")]
    Http {
        hub: String,
        status: u16,
        body: String,
    },
}

/// An RFC 9457 problem document as hubs send them.
#[derive(Debug, Clone, Deserialize)]
pub struct Problem {
    #[serde(default)]
    pub title: String,
    pub status: u16,
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl fmt::Display for Problem {
    /// `409 Conflict: domain finance exists`, plus the fields at fault the detail does not name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Hub details often start with the title already ("invalid input: …").
        let title_in_detail = self
            .detail
            .to_lowercase()
            .starts_with(&self.title.to_lowercase());
        match (self.detail.is_empty(), title_in_detail) {
            (true, _) => write!(f, "{} {}", self.status, self.title)?,
            (false, true) => write!(f, "{} {}", self.status, self.detail)?,
            (false, false) => write!(f, "{} {}: {}", self.status, self.title, self.detail)?,
        }
        let unnamed: Vec<String> = self
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .filter(|e| !self.detail.contains(e.as_str()))
            .collect();
        if !unnamed.is_empty() {
            write!(f, " [{}]", unnamed.join("; "))?;
        }
        if self.status == 401 {
            f.write_str(" (pass --token or set HUBMESH_TOKEN)")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(detail: &str, errors: &[(&str, &str)]) -> Problem {
        Problem {
            title: "Bad request".into(),
            status: 400,
            detail: detail.into(),
            errors: errors
                .iter()
                .map(|(field, message)| FieldError {
                    field: (*field).into(),
                    message: (*message).into(),
                })
                .collect(),
        }
    }

    #[test]
    fn fields_are_named_once() {
        let p = problem("invalid input: slug: too long", &[("slug", "too long")]);
        assert_eq!(
            p.to_string(),
            "400 Bad request: invalid input: slug: too long"
        );
        let p = problem("expected a number", &[("limit", "expected a number")]);
        assert_eq!(
            p.to_string(),
            "400 Bad request: expected a number [limit: expected a number]"
        );
    }
}
