//! `DIR/identity.toml`: the local issuer's users, agents and service clients, with argon2-hashed
//! secrets; and the small file helpers the issuer's state files share (0600, atomic replace).

use std::path::Path;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::IssuerError;
use crate::auth::PrincipalKind;

/// The identity file's name inside the data dir.
pub const IDENTITY_FILE: &str = "identity.toml";

const HEADER: &str = "# Hubmesh local issuer: service clients, agents and users.\n\
# Secrets are argon2 hashes; add entries with `hubmesh identity add-client|add-user`.\n\n";

/// A client: a service or agent authenticating with its secret (client credentials), or a
/// public client (no secret) that humans log in through with the PKCE authorization-code flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientEntry {
    pub id: String,
    /// Argon2 PHC string; absent for a public client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_hash: Option<String>,
    #[serde(default = "service_kind")]
    pub kind: PrincipalKind,
    #[serde(default)]
    pub roles: Vec<String>,
    /// Allowed domains; absent means every domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<String>>,
    /// Where the authorization-code flow may return to; loopback URIs match any port (RFC 8252).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirect_uris: Vec<String>,
}

/// A person (or an agent with a password) logging in through the authorize form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserEntry {
    pub name: String,
    pub password_hash: String,
    #[serde(default = "human_kind")]
    pub kind: PrincipalKind,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<String>>,
}

fn service_kind() -> PrincipalKind {
    PrincipalKind::Service
}

fn human_kind() -> PrincipalKind {
    PrincipalKind::Human
}

/// The whole identity file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityFile {
    #[serde(default)]
    pub clients: Vec<ClientEntry>,
    #[serde(default)]
    pub users: Vec<UserEntry>,
}

impl IdentityFile {
    pub fn read(path: &Path) -> Result<Self, IssuerError> {
        let text = std::fs::read_to_string(path).map_err(|e| IssuerError::io(path, e))?;
        toml::from_str(&text).map_err(|e| IssuerError::File {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    pub fn write(&self, path: &Path) -> Result<(), IssuerError> {
        let body = toml::to_string_pretty(self).map_err(|e| IssuerError::File {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        write_private(path, format!("{HEADER}{body}").as_bytes())
    }

    pub fn client(&self, id: &str) -> Option<&ClientEntry> {
        self.clients.iter().find(|c| c.id == id)
    }

    pub fn user(&self, name: &str) -> Option<&UserEntry> {
        self.users.iter().find(|u| u.name == name)
    }
}

/// Writes `bytes` to `path` readable by the owner only, replacing it atomically.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), IssuerError> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp).map_err(|e| IssuerError::io(&tmp, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| IssuerError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| IssuerError::io(path, e))
}

/// `n` random bytes as URL-safe base64: secrets, codes, refresh tokens, key ids.
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// An argon2id PHC hash of `secret`.
pub fn hash_secret(secret: &str) -> Result<String, IssuerError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| IssuerError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| IssuerError::Internal(e.to_string()))
}

/// A hash no secret matches, checked for unknown users so their absence takes as long.
pub static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_secret(&random_token(32)).unwrap_or_default());

/// True when `secret` matches the PHC `hash`. Slow by design: call it off the async runtime.
pub fn verify_secret(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &h)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_secret() {
        let h = hash_secret("s3cret").unwrap();
        assert!(verify_secret("s3cret", &h));
        assert!(!verify_secret("other", &h));
        assert!(!verify_secret("s3cret", "not a hash"));
    }

    #[test]
    fn the_file_round_trips_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(IDENTITY_FILE);
        let file = IdentityFile {
            clients: vec![ClientEntry {
                id: "admin".into(),
                secret_hash: Some("h".into()),
                kind: PrincipalKind::Service,
                roles: vec!["hub:admin".into()],
                domains: None,
                redirect_uris: vec![],
            }],
            users: vec![],
        };
        file.write(&path).unwrap();
        assert_eq!(IdentityFile::read(&path).unwrap(), file);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
