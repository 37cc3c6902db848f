//! The authenticated caller of a request and the permission checks on it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::HubError;

/// What kind of party a principal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    Human,
    Agent,
    Service,
}

/// The level of access an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    Read,
    Write,
    Admin,
}

impl Access {
    fn suffix(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::Admin => "admin",
        }
    }
}

/// The subject hub `hub` acts as, `<hub>-hub`: in its own work, and as the client id of its
/// service account when it calls other hubs.
pub fn hub_subject(hub: &str) -> String {
    format!("{hub}-hub")
}

/// The authenticated caller, as proven by a verified access token.
///
/// `domains: None` means the principal is not limited to particular domains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Principal {
    pub sub: String,
    pub kind: PrincipalKind,
    pub roles: Vec<String>,
    pub domains: Option<Vec<String>>,
}

impl Principal {
    /// The principal `hub` acts as in its own work (jobs, post-commit watches, bus consumers):
    /// `<hub>-hub`, a service that may write to that hub in every domain.
    pub fn hub_itself(hub: &str) -> Self {
        Self {
            sub: hub_subject(hub),
            kind: PrincipalKind::Service,
            roles: vec![Self::scope(hub, Access::Write)],
            domains: None,
        }
    }

    /// The scope name a caller needs for `access` on `hub`, as named in 403 answers.
    pub fn scope(hub: &str, access: Access) -> String {
        format!("{hub}:{}", access.suffix())
    }

    /// True when a role grants `access` on `hub`: `hub:<level>` for every hub, or `<hub>:<level>`,
    /// where a higher level implies the lower ones.
    pub fn has(&self, hub: &str, access: Access) -> bool {
        [Access::Read, Access::Write, Access::Admin]
            .into_iter()
            .filter(|level| *level >= access)
            .any(|level| {
                let suffix = level.suffix();
                self.roles.iter().any(|role| {
                    role.split_once(':').is_some_and(|(prefix, s)| {
                        s == suffix && (prefix == "hub" || prefix == hub)
                    })
                })
            })
    }

    /// `Ok` when the principal has `access` on `hub`, else `Forbidden` naming the needed scope.
    pub fn require(&self, hub: &str, access: Access) -> Result<(), HubError> {
        if self.has(hub, access) {
            Ok(())
        } else {
            Err(HubError::Forbidden {
                scope: Self::scope(hub, access),
            })
        }
    }

    /// True when the principal may see or change things of `domain`.
    pub fn may_use_domain(&self, domain: &str) -> bool {
        self.domains
            .as_ref()
            .is_none_or(|ds| ds.iter().any(|d| d == domain))
    }

    /// `Ok` when the principal may use `domain`, else `Forbidden`.
    pub fn require_domain(&self, domain: &str) -> Result<(), HubError> {
        if self.may_use_domain(domain) {
            Ok(())
        } else {
            Err(HubError::DomainForbidden {
                domain: domain.to_owned(),
            })
        }
    }
}

#[cfg(test)]
impl Principal {
    /// An agent that may read every hub in every domain: the caller unit tests most often need.
    pub(crate) fn reading_agent(sub: &str) -> Self {
        Self {
            sub: sub.into(),
            kind: PrincipalKind::Agent,
            roles: vec!["hub:read".into()],
            domains: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_roles(roles: &[&str]) -> Principal {
        Principal {
            sub: "a".into(),
            kind: PrincipalKind::Agent,
            roles: roles.iter().map(|r| r.to_string()).collect(),
            domains: Some(vec!["finance".into()]),
        }
    }

    #[test]
    fn higher_levels_imply_lower_ones_and_hub_roles_are_per_hub() {
        let p = with_roles(&["fin:write", "hub:read"]);
        assert!(p.has("fin", Access::Read));
        assert!(p.has("fin", Access::Write));
        assert!(!p.has("fin", Access::Admin));
        assert!(p.has("dev", Access::Read));
        assert!(!p.has("dev", Access::Write));
        assert!(
            matches!(p.require("dev", Access::Write), Err(HubError::Forbidden { scope }) if scope == "dev:write")
        );
    }

    #[test]
    fn domain_limits_apply() {
        let p = with_roles(&["hub:admin"]);
        assert!(p.may_use_domain("finance"));
        assert!(!p.may_use_domain("infotech"));
        let unlimited = Principal { domains: None, ..p };
        assert!(unlimited.may_use_domain("infotech"));
    }
}
