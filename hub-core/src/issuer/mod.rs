//! The local OIDC issuer a machine with nothing else uses: clients and users from
//! `DIR/identity.toml`, Ed25519 keys with rotation, discovery, JWKS, token and authorize endpoints.

mod api;
mod keys;
pub mod service;
pub mod store;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, Header, encode};
use serde::Serialize;
use serde_json::{Value, json};

use crate::auth::{Principal, PrincipalKind, hub_subject};
use crate::config::{Secret, ServiceAccount};
use keys::{KEYS_FILE, KeyRing};
use store::{ClientEntry, IDENTITY_FILE, IdentityFile, UserEntry, hash_secret, random_token};

/// What can go wrong in the issuer; the OAuth variants carry RFC 6749 error codes.
#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    /// `invalid_client` (401): unknown client or wrong secret.
    #[error("client authentication failed")]
    InvalidClient,
    /// `invalid_grant` (400): bad, used or expired code or refresh token, or a PKCE mismatch.
    #[error("{0}")]
    InvalidGrant(String),
    /// `invalid_request` (400): a parameter is missing, repeated or malformed.
    #[error("{0}")]
    InvalidRequest(String),
    /// `invalid_target` (400, RFC 8707): a `resource` is not an absolute URI or not allowed.
    #[error("{0}")]
    InvalidTarget(String),
    /// `unauthorized_client` (400): this client may not use this grant.
    #[error("{0}")]
    UnauthorizedClient(String),
    /// `unsupported_grant_type` (400).
    #[error("unsupported grant_type {0}")]
    UnsupportedGrantType(String),
    /// The login form's user name or password was wrong.
    #[error("wrong user name or password")]
    AccessDenied,
    /// A client or user with this id exists already.
    #[error("{0} already exists")]
    Exists(String),
    /// No client or user with this id.
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0} is not set up; run `hubmesh up` once")]
    NotInitialized(PathBuf),
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

impl IssuerError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Settings of a running issuer.
#[derive(Debug, Clone)]
pub struct IssuerOptions {
    /// The issuer URL (`iss`), e.g. `http://127.0.0.1:7100`.
    pub issuer_url: String,
    /// Audiences of tokens requested without `resource` (e.g. every hub of the mesh).
    pub default_audience: Vec<String>,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

impl IssuerOptions {
    pub fn new(issuer_url: &str) -> Self {
        Self {
            issuer_url: issuer_url.trim_end_matches('/').to_owned(),
            default_audience: Vec::new(),
            access_ttl: Duration::from_secs(600),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// The admin client created with a new identity file; its secret exists nowhere else.
#[derive(Debug, Clone)]
pub struct NewAdminSecret {
    pub client_id: String,
    pub secret: String,
}

/// The id of the admin service client created on first start.
pub const ADMIN_CLIENT: &str = "admin";
/// The public client `hubmesh login` uses for the browser flow.
pub const CLI_CLIENT: &str = "hubmesh-cli";

/// Roles of a hub's own service account at the other hubs: a hub only ever reads another.
pub const HUB_SERVICE_ROLES: &[&str] = &["hub:read"];

/// A new client for [`LocalIssuer::add_client`].
#[derive(Debug, Clone)]
pub struct NewClient {
    pub id: String,
    pub kind: PrincipalKind,
    pub roles: Vec<String>,
    pub domains: Option<Vec<String>>,
    /// A public client has no secret and uses the authorization-code flow with PKCE.
    pub public: bool,
    pub redirect_uris: Vec<String>,
}

/// A new user for [`LocalIssuer::add_user`].
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub kind: PrincipalKind,
    pub roles: Vec<String>,
    pub domains: Option<Vec<String>>,
}

/// Clients and users without their secrets.
#[derive(Debug, Clone, Serialize)]
pub struct IdentityListing {
    pub issuer: String,
    pub clients: Vec<ListedClient>,
    pub users: Vec<Principal>,
    /// Key ids in the JWKS, the signing key last.
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListedClient {
    #[serde(flatten)]
    pub principal: Principal,
    pub public: bool,
    pub redirect_uris: Vec<String>,
}

type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// The issuer's files as last read; reread when they change on disk, so the CLI can add
/// clients or rotate keys while the issuer runs.
struct Files {
    identity: IdentityFile,
    identity_stamp: Stamp,
    keys: KeyRing,
    keys_stamp: Stamp,
}

struct Inner {
    dir: PathBuf,
    options: IssuerOptions,
    files: Mutex<Files>,
    codes: Mutex<HashMap<String, service::CodeGrant>>,
    refresh: Mutex<HashMap<String, service::RefreshGrant>>,
}

/// The local issuer; cheap to clone.
#[derive(Clone)]
pub struct LocalIssuer(Arc<Inner>);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl LocalIssuer {
    /// Opens the issuer's files in `dir`, creating them on first start: the identity file with
    /// one admin service client (whose secret is returned once) and the public CLI client.
    pub fn open(
        dir: &Path,
        options: IssuerOptions,
    ) -> Result<(Self, Option<NewAdminSecret>), IssuerError> {
        std::fs::create_dir_all(dir).map_err(|e| IssuerError::io(dir, e))?;
        let identity_path = dir.join(IDENTITY_FILE);
        let admin = if identity_path.exists() {
            None
        } else {
            let secret = random_token(32);
            IdentityFile {
                clients: vec![
                    ClientEntry {
                        id: ADMIN_CLIENT.into(),
                        secret_hash: Some(hash_secret(&secret)?),
                        kind: PrincipalKind::Service,
                        roles: vec!["hub:admin".into()],
                        domains: None,
                        redirect_uris: Vec::new(),
                    },
                    ClientEntry {
                        id: CLI_CLIENT.into(),
                        secret_hash: None,
                        kind: PrincipalKind::Human,
                        roles: Vec::new(),
                        domains: None,
                        redirect_uris: vec!["http://127.0.0.1/callback".into()],
                    },
                ],
                users: Vec::new(),
            }
            .write(&identity_path)?;
            Some(NewAdminSecret {
                client_id: ADMIN_CLIENT.into(),
                secret,
            })
        };
        let keys = KeyRing::open(&dir.join(KEYS_FILE), Some(&options.issuer_url))?;
        Ok((Self::from_parts(dir, options, keys)?, admin))
    }

    /// Opens an issuer set up earlier (by `open`), for offline work: the CLI adding clients,
    /// rotating keys or minting a token with the stored issuer URL.
    pub fn load(dir: &Path) -> Result<Self, IssuerError> {
        let keys = KeyRing::open(&dir.join(KEYS_FILE), None)?;
        let options = IssuerOptions::new(&keys.issuer);
        Self::from_parts(dir, options, keys)
    }

    fn from_parts(dir: &Path, options: IssuerOptions, keys: KeyRing) -> Result<Self, IssuerError> {
        let identity_path = dir.join(IDENTITY_FILE);
        if !identity_path.exists() {
            return Err(IssuerError::NotInitialized(identity_path));
        }
        let files = Files {
            identity: IdentityFile::read(&identity_path)?,
            identity_stamp: stamp(&identity_path),
            keys_stamp: stamp(&dir.join(KEYS_FILE)),
            keys,
        };
        Ok(Self(Arc::new(Inner {
            dir: dir.to_owned(),
            options,
            files: Mutex::new(files),
            codes: Mutex::new(HashMap::new()),
            refresh: Mutex::new(HashMap::new()),
        })))
    }

    pub fn issuer_url(&self) -> &str {
        &self.0.options.issuer_url
    }

    pub fn options(&self) -> &IssuerOptions {
        &self.0.options
    }

    /// The HTTP endpoints: discovery, JWKS, token, authorize.
    pub fn router(&self) -> axum::Router {
        api::router(self.clone())
    }

    fn identity_path(&self) -> PathBuf {
        self.0.dir.join(IDENTITY_FILE)
    }

    fn keys_path(&self) -> PathBuf {
        self.0.dir.join(KEYS_FILE)
    }

    /// The files, reread first if they changed on disk (a failed reread keeps the old state).
    fn files(&self) -> MutexGuard<'_, Files> {
        let mut files = lock(&self.0.files);
        let (ipath, kpath) = (self.identity_path(), self.keys_path());
        let istamp = stamp(&ipath);
        if istamp != files.identity_stamp {
            match IdentityFile::read(&ipath) {
                Ok(f) => files.identity = f,
                Err(e) => tracing::warn!(error = %e, "keeping the identity file read before"),
            }
            files.identity_stamp = istamp;
        }
        let kstamp = stamp(&kpath);
        if kstamp != files.keys_stamp {
            match KeyRing::open(&kpath, None) {
                Ok(k) => files.keys = k,
                Err(e) => tracing::warn!(error = %e, "keeping the signing keys read before"),
            }
            files.keys_stamp = kstamp;
        }
        files
    }

    /// Changes the identity file under the lock and writes it.
    fn update_identity<T>(
        &self,
        change: impl FnOnce(&mut IdentityFile) -> Result<T, IssuerError>,
    ) -> Result<T, IssuerError> {
        let mut files = self.files();
        let mut next = files.identity.clone();
        let out = change(&mut next)?;
        let path = self.identity_path();
        next.write(&path)?;
        files.identity = next;
        files.identity_stamp = stamp(&path);
        Ok(out)
    }

    /// Adds a client; returns its secret (shown once) unless it is public.
    pub fn add_client(&self, new: NewClient) -> Result<Option<String>, IssuerError> {
        validate_name(&new.id, "client id")?;
        let secret = (!new.public).then(|| random_token(32));
        let secret_hash = secret.as_deref().map(hash_secret).transpose()?;
        self.update_identity(|f| {
            if f.client(&new.id).is_some() {
                return Err(IssuerError::Exists(format!("client {}", new.id)));
            }
            f.clients.push(ClientEntry {
                id: new.id,
                secret_hash,
                kind: new.kind,
                roles: new.roles,
                domains: new.domains,
                redirect_uris: new.redirect_uris,
            });
            Ok(())
        })?;
        Ok(secret)
    }

    /// Gives a confidential client a new secret (the old one stops working) and returns it;
    /// a missing client is created as a service with `roles`. `hubmesh up` uses this for each
    /// hub's own service account, so no plain secret is ever stored.
    pub fn reset_client_secret(&self, id: &str, roles: &[String]) -> Result<String, IssuerError> {
        validate_name(id, "client id")?;
        let secret = random_token(32);
        let hash = hash_secret(&secret)?;
        self.update_identity(|f| {
            match f.clients.iter_mut().find(|c| c.id == id) {
                Some(c) => c.secret_hash = Some(hash),
                None => f.clients.push(ClientEntry {
                    id: id.to_owned(),
                    secret_hash: Some(hash),
                    kind: PrincipalKind::Service,
                    roles: roles.to_vec(),
                    domains: None,
                    redirect_uris: Vec::new(),
                }),
            }
            Ok(())
        })?;
        Ok(secret)
    }

    /// Hub `hub`'s own service account (client id [`hub_subject`]) with a fresh secret; created with
    /// [`HUB_SERVICE_ROLES`] when missing, an existing entry keeps its roles. `hubmesh up` calls
    /// this on every start and hands the secret to the hub in memory: only its hash is stored.
    pub fn hub_service_account(&self, hub: &str) -> Result<ServiceAccount, IssuerError> {
        let client_id = hub_subject(hub);
        let roles: Vec<String> = HUB_SERVICE_ROLES.iter().map(|r| r.to_string()).collect();
        let secret = self.reset_client_secret(&client_id, &roles)?;
        Ok(ServiceAccount {
            client_id,
            client_secret: Secret::new(secret),
        })
    }

    /// Adds a user who logs in through the authorize form with `password`.
    pub fn add_user(&self, new: NewUser, password: &str) -> Result<(), IssuerError> {
        validate_name(&new.name, "user name")?;
        if password.chars().count() < 8 {
            return Err(IssuerError::InvalidRequest(
                "password must have at least 8 characters".into(),
            ));
        }
        let password_hash = hash_secret(password)?;
        self.update_identity(|f| {
            if f.user(&new.name).is_some() {
                return Err(IssuerError::Exists(format!("user {}", new.name)));
            }
            f.users.push(UserEntry {
                name: new.name,
                password_hash,
                kind: new.kind,
                roles: new.roles,
                domains: new.domains,
            });
            Ok(())
        })
    }

    /// The principal a client's own tokens carry, if the client exists.
    pub fn client_principal(&self, id: &str) -> Option<Principal> {
        self.files().identity.client(id).map(client_principal)
    }

    /// Clients, users and key ids, without secrets.
    pub fn list(&self) -> IdentityListing {
        let keep = self.key_overlap();
        let files = self.files();
        IdentityListing {
            issuer: self.issuer_url().to_owned(),
            clients: files
                .identity
                .clients
                .iter()
                .map(|c| ListedClient {
                    principal: client_principal(c),
                    public: c.secret_hash.is_none(),
                    redirect_uris: c.redirect_uris.clone(),
                })
                .collect(),
            users: files.identity.users.iter().map(user_principal).collect(),
            keys: files
                .keys
                .jwks(keep)
                .keys
                .into_iter()
                .filter_map(|k| k.common.key_id)
                .collect(),
        }
    }

    /// How long a retired key stays published: the token lifetime plus verifier leeway.
    fn key_overlap(&self) -> Duration {
        self.0.options.access_ttl + Duration::from_secs(60)
    }

    /// Starts signing with a new key; the old one stays in the JWKS until its tokens expired.
    /// Returns the new key id.
    pub fn rotate_keys(&self) -> Result<String, IssuerError> {
        let keep = self.key_overlap();
        let path = self.keys_path();
        let mut files = self.files();
        let kid = files.keys.rotate(&path, keep)?;
        files.keys_stamp = stamp(&path);
        Ok(kid)
    }

    /// The published verification keys.
    pub fn jwks(&self) -> JwkSet {
        let keep = self.key_overlap();
        self.files().keys.jwks(keep)
    }

    /// Signs `claims` as they are, with header `typ` (none when `None`), using the current key.
    /// The building block of [`Self::mint`]; tests use it to craft unusual tokens.
    pub fn sign(&self, typ: Option<&str>, claims: &Value) -> Result<String, IssuerError> {
        let files = self.files();
        let key = files.keys.current();
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = typ.map(str::to_owned);
        header.kid = Some(key.kid.clone());
        encode(&header, claims, &key.encoding).map_err(|e| IssuerError::Internal(e.to_string()))
    }

    /// An access token (`typ: at+jwt`) for `who` with audiences `audience`, as the token
    /// endpoint issues them.
    pub fn mint(
        &self,
        who: &Principal,
        client_id: &str,
        audience: &[String],
    ) -> Result<String, IssuerError> {
        if audience.is_empty() {
            return Err(IssuerError::InvalidTarget(
                "a token needs an audience".into(),
            ));
        }
        let now = chrono::Utc::now().timestamp();
        let aud = match audience {
            [one] => json!(one),
            many => json!(many),
        };
        let mut claims = json!({
            "iss": self.issuer_url(),
            "sub": who.sub,
            "aud": aud,
            "exp": now + self.0.options.access_ttl.as_secs() as i64,
            "iat": now,
            "jti": crate::ids::new_id(),
            "client_id": client_id,
            "kind": who.kind,
            "roles": who.roles,
        });
        if let Some(domains) = &who.domains {
            claims["domains"] = json!(domains);
        }
        self.sign(Some("at+jwt"), &claims)
    }
}

fn validate_name(name: &str, what: &str) -> Result<(), IssuerError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(IssuerError::InvalidRequest(format!(
            "{what} must be 1-100 characters of letters, digits, - _ . @"
        )))
    }
}

fn client_principal(c: &ClientEntry) -> Principal {
    Principal {
        sub: c.id.clone(),
        kind: c.kind,
        roles: c.roles.clone(),
        domains: c.domains.clone(),
    }
}

fn user_principal(u: &UserEntry) -> Principal {
    Principal {
        sub: u.name.clone(),
        kind: u.kind,
        roles: u.roles.clone(),
        domains: u.domains.clone(),
    }
}
