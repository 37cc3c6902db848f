//! Verified access-token claims -> [`Principal`], with the claim names the issuer uses.

use serde_json::Value;

use super::{AuthError, Principal, PrincipalKind};
use crate::config::OidcConfig;

/// The value at a dotted path (`realm_access.roles`); a key containing the whole path wins,
/// since some providers use URLs with dots as claim names.
pub fn lookup<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(path) {
        return Some(v);
    }
    path.split('.').try_fold(claims, |v, key| v.get(key))
}

/// Strings from an array of strings or a space-separated string.
fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => s.split_whitespace().map(str::to_owned).collect(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// Claims only ID tokens carry (OpenID Connect Core §2, §3.3.2.11); access tokens may carry
/// `auth_time` (RFC 9068 §2.2.1), so it is not one of them.
const ID_TOKEN_CLAIMS: [&str; 3] = ["nonce", "at_hash", "c_hash"];

/// Maps verified claims to the principal. Roles come from `roles_claim` plus the role-like
/// (`x:y`) entries of `scope_claim`; no `domains_claim` means every domain.
pub fn principal_from_claims(claims: &Value, names: &OidcConfig) -> Result<Principal, AuthError> {
    if let Some(c) = ID_TOKEN_CLAIMS.iter().find(|c| claims.get(**c).is_some()) {
        return Err(AuthError::Invalid(format!(
            "an id token is not an access token (it carries {c})"
        )));
    }
    // Keycloak marks its token kinds in a `typ` claim.
    if claims.get("typ").and_then(Value::as_str) == Some("ID") {
        return Err(AuthError::Invalid(
            "an id token is not an access token".into(),
        ));
    }
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AuthError::Invalid("token has no sub".into()))?
        .to_owned();
    let mut roles = lookup(claims, &names.roles_claim)
        .map(strings)
        .unwrap_or_default();
    for scope in lookup(claims, &names.scope_claim)
        .map(strings)
        .unwrap_or_default()
    {
        if scope.contains(':') && !roles.contains(&scope) {
            roles.push(scope);
        }
    }
    let domains = lookup(claims, &names.domains_claim).map(strings);
    let kind = match lookup(claims, &names.kind_claim).and_then(Value::as_str) {
        Some("human") => PrincipalKind::Human,
        Some("agent") => PrincipalKind::Agent,
        Some("service") => PrincipalKind::Service,
        Some(other) => {
            return Err(AuthError::Invalid(format!(
                "unknown principal kind {other}"
            )));
        }
        // RFC 9068: a client acting for itself has `sub` equal to its `client_id`.
        None if claims.get("client_id").and_then(Value::as_str) == Some(&sub) => {
            PrincipalKind::Service
        }
        None => PrincipalKind::Human,
    };
    Ok(Principal {
        sub,
        kind,
        roles,
        domains,
    })
}

/// The `exp` of a JWT, read without verification: only for a token the request's
/// [`Principal`] was already verified from.
pub fn unverified_expiry(token: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    chrono::DateTime::from_timestamp(claims.get("exp")?.as_i64()?, 0)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::RawConfig;

    fn names(roles_claim: &str) -> OidcConfig {
        let mut c = RawConfig::default().for_hub("dev").unwrap().oidc;
        c.roles_claim = roles_claim.into();
        c
    }

    #[test]
    fn roles_come_from_a_dotted_path_and_role_like_scopes() {
        let claims = json!({
            "sub": "u1",
            "realm_access": {"roles": ["hub:read", "offline_access"]},
            "scope": "openid fin:admin",
        });
        let p = principal_from_claims(&claims, &names("realm_access.roles")).unwrap();
        assert_eq!(p.roles, ["hub:read", "offline_access", "fin:admin"]);
        assert_eq!(p.kind, PrincipalKind::Human);
        assert_eq!(p.domains, None);
    }

    #[test]
    fn clients_acting_for_themselves_are_services() {
        let claims = json!({"sub": "c1", "client_id": "c1", "domains": ["finance"]});
        let p = principal_from_claims(&claims, &names("roles")).unwrap();
        assert_eq!(p.kind, PrincipalKind::Service);
        assert_eq!(p.domains, Some(vec!["finance".to_owned()]));
    }

    #[test]
    fn id_tokens_and_unknown_kinds_are_refused() {
        let n = names("roles");
        assert!(principal_from_claims(&json!({"sub": "u", "nonce": "x"}), &n).is_err());
        assert!(principal_from_claims(&json!({"sub": "u", "kind": "robot"}), &n).is_err());
        assert!(principal_from_claims(&json!({"sub": ""}), &n).is_err());
    }
}
