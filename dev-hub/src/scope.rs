//! Shared helpers of the dev resources: domain scoping of queries, human ids, and the progress
//! events that status changes and claims leave behind.

use hub_core::auth::Principal;
use hub_core::progress::model::Severity;
use hub_core::progress::service::{self as progress, NewEvent};
use hub_core::{Ctx, HubError};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Select};
use serde::de::DeserializeOwned;

/// Limits `q` to `domain` (which the caller must be allowed) or to the caller's domains.
pub fn in_domains<E: EntityTrait>(
    q: Select<E>,
    who: &Principal,
    domain: Option<&str>,
    column: impl ColumnTrait,
) -> Result<Select<E>, HubError> {
    Ok(match (domain, &who.domains) {
        (Some(d), _) => {
            who.require_domain(d)?;
            q.filter(column.eq(d))
        }
        (None, Some(allowed)) => q.filter(column.is_in(allowed.iter().cloned())),
        (None, None) => q,
    })
}

/// True for a human id: 2-64 characters of `A-Z`, `0-9` in parts joined by `-` (`CUST-WP-0025`).
pub fn is_human_id(s: &str) -> bool {
    (2..=64).contains(&s.len())
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
}

/// The message of a malformed human id.
pub const HUMAN_ID: &str = "must be 2-64 characters of A-Z and 0-9 in parts joined by '-'";

/// Reads a snake_case wire name (`in_progress`) into one of its enum values.
pub fn parse_wire<T: DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

/// The snake_case wire name of an enum value (`in_progress`).
pub fn wire_name(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Appends a progress event about a task after its change committed. The change stands even if
/// this fails, so a failure is logged rather than returned.
pub async fn task_event(
    ctx: &Ctx,
    who: &Principal,
    event_type: &str,
    task: &str,
    workplan: &str,
    domain: &str,
    summary: String,
) {
    let mut refs = serde_json::Map::new();
    refs.insert("task".into(), task.into());
    refs.insert("workplan".into(), workplan.into());
    let new = NewEvent {
        event_type: event_type.into(),
        domain: Some(domain.to_owned()),
        subject_refs: refs,
        summary,
        severity: Severity::Info,
        key: None,
    };
    if let Err(e) = progress::record(ctx, who, new).await {
        tracing::warn!(task, event_type, error = %e, "progress event not recorded");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_ids() {
        for ok in ["CUST-WP-0025", "CUST-WP-0025-T03", "A1"] {
            assert!(is_human_id(ok), "{ok}");
        }
        for bad in ["", "a-b", "CUST--WP", "-X", "X-", "CUST WP", "X"] {
            assert!(!is_human_id(bad), "{bad}");
        }
    }
}
