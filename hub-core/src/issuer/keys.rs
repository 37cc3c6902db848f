//! The issuer's Ed25519 signing keys in `DIR/identity-keys.json`, with rotation: a retired key
//! stays in the JWKS until every token it signed has expired.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::IssuerError;
use super::store::{random_token, write_private};

/// The key file's name inside the data dir.
pub const KEYS_FILE: &str = "identity-keys.json";

/// PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410 §7); the 32-byte seed follows.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    /// Base64 PKCS#8 DER.
    private_pkcs8: String,
    created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retired_at: Option<DateTime<Utc>>,
}

/// The key file: the issuer URL the keys sign for, and the keys, newest last.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyFile {
    issuer: String,
    keys: Vec<StoredKey>,
}

/// A loaded signing key.
pub struct SigningKey {
    pub kid: String,
    pub encoding: EncodingKey,
    jwk: Jwk,
    retired_at: Option<DateTime<Utc>>,
}

/// The issuer URL and its keys; the last key signs, older ones only verify.
pub struct KeyRing {
    pub issuer: String,
    keys: Vec<SigningKey>,
    stored: Vec<StoredKey>,
}

fn new_stored_key() -> StoredKey {
    let mut der = ED25519_PKCS8_PREFIX.to_vec();
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    der.extend_from_slice(&seed);
    StoredKey {
        kid: random_token(12),
        private_pkcs8: STANDARD.encode(der),
        created_at: Utc::now(),
        retired_at: None,
    }
}

fn load_key(stored: &StoredKey) -> Result<SigningKey, IssuerError> {
    let bad = |m: String| IssuerError::Internal(format!("signing key {}: {m}", stored.kid));
    let der = STANDARD
        .decode(&stored.private_pkcs8)
        .map_err(|e| bad(e.to_string()))?;
    let encoding = EncodingKey::from_ed_der(&der);
    let mut jwk =
        Jwk::from_encoding_key(&encoding, Algorithm::EdDSA).map_err(|e| bad(e.to_string()))?;
    jwk.common.key_id = Some(stored.kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk.common.key_algorithm = Some(KeyAlgorithm::EdDSA);
    Ok(SigningKey {
        kid: stored.kid.clone(),
        encoding,
        jwk,
        retired_at: stored.retired_at,
    })
}

impl KeyRing {
    /// Reads the key file; `issuer` (when given) replaces the stored URL, and a missing file
    /// is created with one fresh key.
    pub fn open(path: &Path, issuer: Option<&str>) -> Result<Self, IssuerError> {
        let (mut file, mut dirty) = match std::fs::read(path) {
            Ok(bytes) => (
                serde_json::from_slice::<KeyFile>(&bytes).map_err(|e| IssuerError::File {
                    path: path.to_owned(),
                    message: e.to_string(),
                })?,
                false,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let issuer = issuer.ok_or_else(|| IssuerError::NotInitialized(path.to_owned()))?;
                let file = KeyFile {
                    issuer: issuer.to_owned(),
                    keys: vec![new_stored_key()],
                };
                (file, true)
            }
            Err(e) => return Err(IssuerError::io(path, e)),
        };
        if let Some(issuer) = issuer
            && file.issuer != issuer
        {
            file.issuer = issuer.to_owned();
            dirty = true;
        }
        if file.keys.is_empty() {
            file.keys.push(new_stored_key());
            dirty = true;
        }
        if dirty {
            write_private(path, &serde_json::to_vec_pretty(&file).map_err(internal)?)?;
        }
        Ok(Self {
            issuer: file.issuer,
            keys: file.keys.iter().map(load_key).collect::<Result<_, _>>()?,
            stored: file.keys,
        })
    }

    /// The key that signs new tokens.
    pub fn current(&self) -> &SigningKey {
        self.keys.last().expect("a key ring always holds a key")
    }

    /// The public keys still needed: the current one and those retired less than `keep` ago.
    pub fn jwks(&self, keep: Duration) -> JwkSet {
        let keep = chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
        let now = Utc::now();
        JwkSet {
            keys: self
                .keys
                .iter()
                .filter(|k| k.retired_at.is_none_or(|t| t + keep > now))
                .map(|k| k.jwk.clone())
                .collect(),
        }
    }

    /// Adds a new current key, retires the old one and drops keys retired more than `keep`
    /// ago; writes the file. Returns the new key id.
    pub fn rotate(&mut self, path: &Path, keep: Duration) -> Result<String, IssuerError> {
        let keep = chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
        let now = Utc::now();
        let mut stored: Vec<StoredKey> = self
            .stored
            .iter()
            .filter(|k| k.retired_at.is_none_or(|t| t + keep > now))
            .cloned()
            .map(|mut k| {
                k.retired_at.get_or_insert(now);
                k
            })
            .collect();
        let fresh = new_stored_key();
        let kid = fresh.kid.clone();
        stored.push(fresh);
        let file = KeyFile {
            issuer: self.issuer.clone(),
            keys: stored,
        };
        write_private(path, &serde_json::to_vec_pretty(&file).map_err(internal)?)?;
        self.keys = file.keys.iter().map(load_key).collect::<Result<_, _>>()?;
        self.stored = file.keys;
        Ok(kid)
    }
}

fn internal(e: serde_json::Error) -> IssuerError {
    IssuerError::Internal(e.to_string())
}
