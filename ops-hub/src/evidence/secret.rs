//! Secret detection for evidence: private keys, bearer tokens and JWTs, password assignments,
//! well-known access-key shapes, any value of a password-named field, and high-entropy values of
//! secret-named fields. A finding names where the value is and what it looks like, never the
//! value itself, so the refusal cannot leak it into a response or a log.

use serde_json::Value;

/// Where a secret-looking value was found (`fields.db.password`) and what it looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub path: String,
    pub looks_like: &'static str,
}

/// The first secret-looking value in `value` (reached as `path`), if any.
pub fn find(path: &str, value: &Value) -> Option<Finding> {
    find_in(path, None, value)
}

fn find_in(path: &str, key: Option<&str>, value: &Value) -> Option<Finding> {
    let found = |looks_like| {
        Some(Finding {
            path: path.to_owned(),
            looks_like,
        })
    };
    match value {
        Value::String(s) => {
            if let Some(what) = in_text(s) {
                return found(what);
            }
            match key.map(name_kind) {
                Some(Some(Named::Password)) if !is_placeholder(s) => found("a password"),
                Some(Some(Named::Secret)) if is_high_entropy(s) => found("a high-entropy secret"),
                _ => None,
            }
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_in(&format!("{path}[{i}]"), key, v)),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| find_in(&format!("{path}.{k}"), Some(k), v)),
        // A number in a password field is still a password.
        Value::Number(_) if matches!(key.map(name_kind), Some(Some(Named::Password))) => {
            found("a password")
        }
        _ => None,
    }
}

/// What a secret looks like inside free text, wherever it appears.
pub fn in_text(s: &str) -> Option<&'static str> {
    let lower = s.to_ascii_lowercase();
    if lower.contains("private key-----") {
        return Some("a private key");
    }
    if let Some(at) = lower.find("bearer ") {
        let token: String = s[at + 7..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '\'')
            .collect();
        if token.len() >= 16 {
            return Some("a bearer token");
        }
    }
    for word in s.split(|c: char| c.is_whitespace() || "\"'`,;()[]{}<>".contains(c)) {
        if is_jwt(word) {
            return Some("a JSON Web Token");
        }
        if is_access_key(word) {
            return Some("an access key");
        }
        if let Some((k, v)) = word.split_once(['=', ':'])
            && name_kind(k) == Some(Named::Password)
            && !v.is_empty()
            && !is_placeholder(v)
        {
            return Some("a password assignment");
        }
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    /// Any value is a password.
    Password,
    /// A random-looking value is a secret.
    Secret,
}

fn name_kind(key: &str) -> Option<Named> {
    let k = key.to_ascii_lowercase().replace(['-', ' '], "_");
    if ["password", "passwd", "passphrase", "pwd"]
        .iter()
        .any(|p| k.contains(p))
    {
        Some(Named::Password)
    } else if [
        "secret",
        "token",
        "apikey",
        "api_key",
        "access_key",
        "private_key",
        "credential",
        "auth",
        "signature",
    ]
    .iter()
    .any(|p| k.contains(p))
    {
        Some(Named::Secret)
    } else {
        None
    }
}

/// Values people write instead of a secret: empty, masked or marked redacted.
fn is_placeholder(v: &str) -> bool {
    let t = v.trim().to_ascii_lowercase();
    t.is_empty()
        || t.chars().all(|c| c == '*' || c == 'x' || c == '•')
        || [
            "redacted",
            "<redacted>",
            "[redacted]",
            "(redacted)",
            "none",
            "null",
            "n/a",
        ]
        .contains(&t.as_str())
}

fn is_b64url(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '=')
}

fn is_jwt(word: &str) -> bool {
    let parts: Vec<&str> = word.split('.').collect();
    parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts[0].len() >= 10
        && parts[1].len() >= 4
        && parts.iter().take(2).all(|p| is_b64url(p))
        && (parts[2].is_empty() || is_b64url(parts[2]))
}

fn is_access_key(word: &str) -> bool {
    let upper_alnum = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    };
    let tail_ok = |prefix: &str, min: usize| {
        word.strip_prefix(prefix).is_some_and(|t| {
            t.len() >= min
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
    };
    (word.len() == 20
        && (word.starts_with("AKIA") || word.starts_with("ASIA"))
        && upper_alnum(word))
        || tail_ok("ghp_", 30)
        || tail_ok("github_pat_", 30)
        || tail_ok("glpat-", 20)
        || tail_ok("xoxb-", 20)
        || tail_ok("xoxp-", 20)
        || tail_ok("sk-", 32)
}

/// At least 16 characters of letters and digits mixed, no spaces, not a URL, and at least 3.5
/// bits of entropy per character: random keys, not words or references.
fn is_high_entropy(s: &str) -> bool {
    let s = s.trim();
    if s.chars().count() < 16
        || s.contains(' ')
        || s.contains("://")
        || !s.chars().any(|c| c.is_ascii_digit())
        || !s.chars().any(|c| c.is_ascii_alphabetic())
    {
        return false;
    }
    let mut counts = std::collections::HashMap::new();
    for c in s.chars() {
        *counts.entry(c).or_insert(0u32) += 1;
    }
    let n = s.chars().count() as f64;
    let bits: f64 = counts
        .values()
        .map(|&k| {
            let p = f64::from(k) / n;
            -p * p.log2()
        })
        .sum();
    bits >= 3.5
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn what(v: Value) -> Option<(String, &'static str)> {
        find("fields", &v).map(|f| (f.path, f.looks_like))
    }

    #[test]
    fn secrets_are_found_with_their_path() {
        let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----";
        assert_eq!(
            what(json!({"cert": key})).unwrap(),
            ("fields.cert".into(), "a private key")
        );
        assert_eq!(
            what(json!({"curl": "curl -H 'Authorization: Bearer abcdef0123456789abcdef'"}))
                .unwrap()
                .1,
            "a bearer token"
        );
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";
        assert_eq!(
            what(json!({"note": format!("used {jwt} here")})).unwrap().1,
            "a JSON Web Token"
        );
        assert_eq!(
            what(json!({"db": {"password": "hunter2"}})).unwrap(),
            ("fields.db.password".into(), "a password")
        );
        assert_eq!(
            what(json!({"conn": "postgres://u host=db password=s3cret"}))
                .unwrap()
                .1,
            "a password assignment"
        );
        assert_eq!(
            what(json!({"api_token": "q8Zr2LwX0pT9vKs4Yb7nM1cE"}))
                .unwrap()
                .1,
            "a high-entropy secret"
        );
        assert_eq!(
            what(json!({"keys": ["x", "AKIAIOSFODNN7EXAMPLE"]})).unwrap(),
            ("fields.keys[1]".into(), "an access key")
        );
        assert_eq!(what(json!({"pwd": 123456})).unwrap().1, "a password");
    }

    #[test]
    fn ordinary_evidence_passes() {
        for ok in [
            json!({"http_status": 200, "latency_ms": 12, "url": "https://svc.example/healthz"}),
            json!({"password": "***", "token_count": 3, "auth_mode": "oidc"}),
            json!({"token_url": "https://idp/token", "secret_name": "vault:db/creds"}),
            json!({"commit": "3f9a2c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39", "note": "bearer of good news"}),
        ] {
            assert_eq!(what(ok.clone()), None, "{ok}");
        }
    }
}
