//! Hub configuration in two steps: a serde [`RawConfig`] from a TOML file and `HUBMESH_*`
//! environment overrides, then a validated [`HubConfig`]. Nothing past start-up sees the raw one.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Configuration problems found at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config {field}: {message}")]
    Invalid { field: String, message: String },
}

fn invalid(field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// OIDC settings as written in the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOidc {
    /// Issuer URL; discovery is fetched from `<issuer>/.well-known/openid-configuration`.
    pub issuer: Option<String>,
    /// Audience the hub expects in `aud`; defaults to the hub's public URL.
    pub audience: Option<String>,
    /// Claim holding roles: a dotted path such as `roles` or `realm_access.roles`.
    pub roles_claim: Option<String>,
    /// Claim holding a space-separated scope string whose entries also count as roles.
    pub scope_claim: Option<String>,
    /// Claim holding the allowed domains (absent = all domains).
    pub domains_claim: Option<String>,
    /// Claim holding the principal kind (`human`, `agent`, `service`).
    pub kind_claim: Option<String>,
    /// Require header `typ: at+jwt` (RFC 9068). Default true; turn off for providers that do not set it.
    pub require_at_jwt: Option<bool>,
    /// The hub's own service account at the issuer, for hub-to-hub calls (with `client_secret`).
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
}

/// A hub's own service account in a mesh config (`[hubs.dev.oidc]`): each hub has its own.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHubOidc {
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
}

/// NATS settings as written in the file (`[nats]`); the URL itself is `nats_url`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNats {
    pub user: Option<String>,
    pub password: Option<String>,
    /// NKey seed (`SU…`).
    pub nkey_seed: Option<String>,
    /// A `.creds` file (JWT + NKey seed) as `nsc` writes it.
    pub creds_file: Option<PathBuf>,
    /// Require TLS even if the URL says `nats://`.
    pub require_tls: Option<bool>,
    /// CA certificate (PEM) to trust for the server.
    pub tls_ca_file: Option<PathBuf>,
    /// Client certificate and key (PEM) for mutual TLS.
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    /// Replicas of the streams and the registry bucket (1 on a single server, 3 in a cluster).
    pub replicas: Option<usize>,
    /// Seconds within which a second publish with the same message id is dropped.
    pub duplicate_window_secs: Option<u64>,
    /// Seconds a hub stays in the registry after its last heartbeat.
    pub registry_ttl_secs: Option<u64>,
    /// Milliseconds a hub waits for another hub to answer a request (capability routing).
    pub request_timeout_ms: Option<u64>,
    /// Days a sent outbox row is kept before the relay prunes it.
    pub outbox_retention_days: Option<u64>,
}

/// Per-hub overrides inside a mesh config file (`[hubs.dev]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHubOverrides {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub public_url: Option<String>,
    /// NATS credentials of this hub (each hub has its own account user).
    pub nats: Option<RawNats>,
    /// This hub's service account, replacing `[oidc] client_id` / `client_secret`.
    pub oidc: Option<RawHubOidc>,
}

/// Configuration as read from file and environment, before validation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub nats_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub public_url: Option<String>,
    /// Seconds after the last heartbeat an agent counts as offline.
    pub presence_timeout_secs: Option<u64>,
    /// Largest accepted request body in bytes.
    pub body_limit_bytes: Option<usize>,
    /// Module ids not to start; their data stays.
    #[serde(default)]
    pub disabled_modules: Vec<String>,
    #[serde(default)]
    pub oidc: RawOidc,
    #[serde(default)]
    pub nats: RawNats,
    #[serde(default)]
    pub hubs: BTreeMap<String, RawHubOverrides>,
    /// Settings of each module (`[modules.fin]`), read by the module itself.
    #[serde(default)]
    pub modules: BTreeMap<String, toml::Table>,
}

impl RawConfig {
    /// Reads a TOML file; a missing `path` gives the empty config.
    pub fn from_file(path: Option<&Path>) -> Result<Self, ConfigError> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// Applies `HUBMESH_*` overrides read through `var` (the process environment in production).
    pub fn apply_env(mut self, var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let set = |slot: &mut Option<String>, name: &str| {
            if let Some(v) = var(name) {
                *slot = Some(v);
            }
        };
        set(&mut self.listen, "HUBMESH_LISTEN");
        set(&mut self.database_url, "HUBMESH_DATABASE_URL");
        set(&mut self.nats_url, "HUBMESH_NATS_URL");
        set(&mut self.public_url, "HUBMESH_PUBLIC_URL");
        set(&mut self.oidc.issuer, "HUBMESH_OIDC_ISSUER");
        set(&mut self.oidc.audience, "HUBMESH_OIDC_AUDIENCE");
        set(&mut self.oidc.roles_claim, "HUBMESH_OIDC_ROLES_CLAIM");
        set(&mut self.oidc.client_id, "HUBMESH_OIDC_CLIENT_ID");
        if let Some(v) = var("HUBMESH_OIDC_CLIENT_SECRET") {
            self.oidc.client_secret = Some(Secret::new(v));
        }
        set(&mut self.nats.user, "HUBMESH_NATS_USER");
        set(&mut self.nats.password, "HUBMESH_NATS_PASSWORD");
        set(&mut self.nats.nkey_seed, "HUBMESH_NATS_NKEY_SEED");
        if let Some(v) = var("HUBMESH_NATS_CREDS_FILE") {
            self.nats.creds_file = Some(v.into());
        }
        if let Some(v) = var("HUBMESH_DATA_DIR") {
            self.data_dir = Some(v.into());
        }
        if let Some(v) = var("HUBMESH_PRESENCE_TIMEOUT_SECS") {
            self.presence_timeout_secs =
                Some(v.parse().map_err(|_| {
                    invalid("HUBMESH_PRESENCE_TIMEOUT_SECS", "must be a whole number")
                })?);
        }
        if let Some(v) = var("HUBMESH_OIDC_REQUIRE_AT_JWT") {
            self.oidc.require_at_jwt =
                Some(v.parse().map_err(|_| {
                    invalid("HUBMESH_OIDC_REQUIRE_AT_JWT", "must be true or false")
                })?);
        }
        Ok(self)
    }

    /// Validates the config for hub `name`, filling defaults. `hubs.<name>` entries override the shared ones.
    pub fn for_hub(&self, name: &str) -> Result<HubConfig, ConfigError> {
        let over = self.hubs.get(name).cloned().unwrap_or_default();
        let listen_text = over
            .listen
            .or_else(|| self.listen.clone())
            .unwrap_or_else(|| "127.0.0.1:7101".into());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            invalid(
                "listen",
                format!("{listen_text:?} is not an address such as 127.0.0.1:7101"),
            )
        })?;
        let data_dir = self
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("./hubmesh-data"));
        let database_url = over
            .database_url
            .or_else(|| self.database_url.clone())
            .unwrap_or_else(|| default_sqlite_url(&data_dir, name));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "database_url",
                "must start with sqlite:, postgres:// or postgresql://",
            ));
        }
        let public_url = over
            .public_url
            .or_else(|| self.public_url.clone())
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_owned();
        let oidc = OidcConfig {
            issuer: self
                .oidc
                .issuer
                .clone()
                .map(|s| s.trim_end_matches('/').to_owned()),
            audience: self
                .oidc
                .audience
                .clone()
                .unwrap_or_else(|| public_url.clone()),
            roles_claim: self
                .oidc
                .roles_claim
                .clone()
                .unwrap_or_else(|| "roles".into()),
            scope_claim: self
                .oidc
                .scope_claim
                .clone()
                .unwrap_or_else(|| "scope".into()),
            domains_claim: self
                .oidc
                .domains_claim
                .clone()
                .unwrap_or_else(|| "domains".into()),
            kind_claim: self
                .oidc
                .kind_claim
                .clone()
                .unwrap_or_else(|| "kind".into()),
            require_at_jwt: self.oidc.require_at_jwt.unwrap_or(true),
            service_account: self.service_account(over.oidc.as_ref())?,
        };
        let nats = nats_config(over.nats.as_ref().unwrap_or(&self.nats))?;
        Ok(HubConfig {
            name: name.to_owned(),
            listen,
            database_url,
            nats_url: self.nats_url.clone(),
            nats,
            data_dir,
            public_url,
            presence_timeout: Duration::from_secs(self.presence_timeout_secs.unwrap_or(300)),
            body_limit_bytes: self.body_limit_bytes.unwrap_or(1024 * 1024),
            disabled_modules: self.disabled_modules.clone(),
            oidc,
            modules: self.modules.clone(),
        })
    }

    /// The hub's service account: its `[hubs.<name>.oidc]` entry, else the shared `[oidc]` one.
    fn service_account(
        &self,
        over: Option<&RawHubOidc>,
    ) -> Result<Option<ServiceAccount>, ConfigError> {
        let (id, secret) = match over {
            Some(o) => (&o.client_id, &o.client_secret),
            None => (&self.oidc.client_id, &self.oidc.client_secret),
        };
        match (id, secret) {
            (Some(id), Some(secret)) => Ok(Some(ServiceAccount {
                client_id: id.clone(),
                client_secret: secret.clone(),
            })),
            (None, None) => Ok(None),
            _ => Err(invalid(
                "oidc.client_id",
                "client_id and client_secret go together",
            )),
        }
    }
}

fn nats_config(raw: &RawNats) -> Result<NatsConfig, ConfigError> {
    let auth = match (&raw.user, &raw.password, &raw.nkey_seed, &raw.creds_file) {
        (None, None, None, None) => NatsAuth::None,
        (Some(user), Some(password), None, None) => NatsAuth::UserPassword {
            user: user.clone(),
            password: password.clone(),
        },
        (None, None, Some(seed), None) => NatsAuth::NKey { seed: seed.clone() },
        (None, None, None, Some(path)) => NatsAuth::CredsFile(path.clone()),
        (Some(_), None, None, None) | (None, Some(_), None, None) => {
            return Err(invalid("nats", "user and password go together"));
        }
        _ => {
            return Err(invalid(
                "nats",
                "choose one of user/password, nkey_seed or creds_file",
            ));
        }
    };
    let client_cert = match (&raw.tls_cert_file, &raw.tls_key_file) {
        (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
        (None, None) => None,
        _ => {
            return Err(invalid(
                "nats.tls_cert_file",
                "tls_cert_file and tls_key_file go together",
            ));
        }
    };
    let replicas = raw.replicas.unwrap_or(1);
    if !(1..=5).contains(&replicas) {
        return Err(invalid("nats.replicas", "must be between 1 and 5"));
    }
    Ok(NatsConfig {
        auth,
        require_tls: raw.require_tls.unwrap_or(false),
        tls_ca_file: raw.tls_ca_file.clone(),
        client_cert,
        replicas,
        duplicate_window: Duration::from_secs(raw.duplicate_window_secs.unwrap_or(120).max(1)),
        registry_ttl: Duration::from_secs(raw.registry_ttl_secs.unwrap_or(30).max(3)),
        request_timeout: Duration::from_millis(raw.request_timeout_ms.unwrap_or(5000).max(1)),
        outbox_retention: Duration::from_secs(
            raw.outbox_retention_days
                .unwrap_or(7)
                .saturating_mul(86_400),
        ),
    })
}

/// The SQLite URL of hub `name` under `data_dir`, created on first use.
pub fn default_sqlite_url(data_dir: &Path, name: &str) -> String {
    format!("sqlite://{}/{name}.db?mode=rwc", data_dir.display())
}

/// Validated OIDC settings.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    pub issuer: Option<String>,
    pub audience: String,
    pub roles_claim: String,
    pub scope_claim: String,
    pub domains_claim: String,
    pub kind_claim: String,
    pub require_at_jwt: bool,
    /// The hub's own client at the issuer for calls to other hubs; `None`: it calls none.
    pub service_account: Option<ServiceAccount>,
}

/// A hub's own confidential client: it requests client-credentials tokens for other hubs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    pub client_id: String,
    pub client_secret: Secret,
}

/// A secret value: `Debug` shows `***`, so no log line, error or config dump carries it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The plain value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// How a hub proves itself to NATS. Its `Debug` shows no password or seed.
#[derive(Clone, PartialEq, Eq)]
pub enum NatsAuth {
    None,
    UserPassword { user: String, password: String },
    NKey { seed: String },
    CredsFile(PathBuf),
}

impl NatsAuth {
    /// Who the hub claims to be, without the secret: for logs and errors.
    pub fn describe(&self) -> String {
        match self {
            NatsAuth::None => "no credentials".into(),
            NatsAuth::UserPassword { user, .. } => format!("user {user}"),
            NatsAuth::NKey { .. } => "an nkey".into(),
            NatsAuth::CredsFile(path) => format!("creds file {}", path.display()),
        }
    }
}

impl std::fmt::Debug for NatsAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NatsAuth({})", self.describe())
    }
}

/// Validated NATS settings (used when `nats_url` is set; the window and TTL also by the in-process bus).
#[derive(Debug, Clone)]
pub struct NatsConfig {
    pub auth: NatsAuth,
    pub require_tls: bool,
    pub tls_ca_file: Option<PathBuf>,
    /// Client certificate and key for mutual TLS.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    pub replicas: usize,
    pub duplicate_window: Duration,
    pub registry_ttl: Duration,
    /// How long a request to another hub may take before it fails.
    pub request_timeout: Duration,
    /// How long sent outbox rows are kept.
    pub outbox_retention: Duration,
}

/// How long a hub waits for another hub's answer unless `nats.request_timeout_ms` says otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long sent outbox rows are kept unless `nats.outbox_retention_days` says otherwise.
pub const DEFAULT_OUTBOX_RETENTION: Duration = Duration::from_secs(7 * 86_400);

/// Validated configuration of one hub.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// The hub's short name (`dev`, `ops`, `fin`): used in events, subjects and role names.
    pub name: String,
    pub listen: SocketAddr,
    pub database_url: String,
    pub nats_url: Option<String>,
    pub nats: NatsConfig,
    pub data_dir: PathBuf,
    /// The URL clients use to reach this hub; also the default token audience.
    pub public_url: String,
    pub presence_timeout: Duration,
    pub body_limit_bytes: usize,
    pub disabled_modules: Vec<String>,
    pub oidc: OidcConfig,
    /// Each module's own settings by module id, unvalidated: the module validates them when it registers.
    pub modules: BTreeMap<String, toml::Table>,
}

impl HubConfig {
    /// A config for hub `name` on `database_url` with every other value at its default.
    pub fn with_database(name: &str, database_url: &str) -> Result<Self, ConfigError> {
        RawConfig {
            database_url: Some(database_url.to_owned()),
            ..RawConfig::default()
        }
        .for_hub(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file_and_hub_sections_override_shared_values() {
        let raw: RawConfig = toml::from_str(
            r#"
            listen = "127.0.0.1:9000"
            data_dir = "/tmp/x"
            [hubs.fin]
            listen = "127.0.0.1:9003"
            "#,
        )
        .unwrap();
        let raw = raw
            .apply_env(|k| (k == "HUBMESH_OIDC_ISSUER").then(|| "http://idp/".to_owned()))
            .unwrap();
        let dev = raw.for_hub("dev").unwrap();
        let fin = raw.for_hub("fin").unwrap();
        assert_eq!(dev.listen.port(), 9000);
        assert_eq!(fin.listen.port(), 9003);
        assert_eq!(fin.database_url, "sqlite:///tmp/x/fin.db?mode=rwc");
        assert_eq!(fin.oidc.issuer.as_deref(), Some("http://idp"));
        assert_eq!(fin.oidc.audience, "http://127.0.0.1:9003");
    }

    #[test]
    fn module_sections_reach_every_hub_unvalidated() {
        let raw: RawConfig = toml::from_str(
            r#"
            [modules.fin]
            currency = "USD"
            [modules.fin.rates]
            "EUR/USD" = "1.08"
            "#,
        )
        .unwrap();
        let fin = raw.for_hub("fin").unwrap();
        assert_eq!(fin.modules["fin"]["currency"].as_str(), Some("USD"));
        assert!(fin.modules["fin"]["rates"].is_table());
        assert!(raw.for_hub("dev").unwrap().modules.contains_key("fin"));
    }

    #[test]
    fn the_service_account_comes_from_oidc_or_the_hub_section_and_never_shows() {
        let raw: RawConfig = toml::from_str(
            r#"
            [oidc]
            client_id = "shared"
            client_secret = "file-secret"
            [hubs.ops.oidc]
            client_id = "ops-hub"
            client_secret = "ops-secret"
            "#,
        )
        .unwrap();
        let account = |raw: &RawConfig, hub: &str| {
            let a = raw.for_hub(hub).unwrap().oidc.service_account.unwrap();
            (a.client_id, a.client_secret.expose().to_owned())
        };
        assert_eq!(
            account(&raw, "dev"),
            ("shared".into(), "file-secret".into())
        );
        assert_eq!(
            account(&raw, "ops"),
            ("ops-hub".into(), "ops-secret".into())
        );
        let env = raw
            .clone()
            .apply_env(|k| match k {
                "HUBMESH_OIDC_CLIENT_ID" => Some("dev-hub".into()),
                "HUBMESH_OIDC_CLIENT_SECRET" => Some("env-secret".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            account(&env, "dev"),
            ("dev-hub".into(), "env-secret".into())
        );
        let shown = format!("{raw:?} {:?}", env.for_hub("ops").unwrap());
        for secret in ["file-secret", "ops-secret", "env-secret"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(
            RawConfig::default()
                .for_hub("dev")
                .unwrap()
                .oidc
                .service_account
                .is_none()
        );
    }

    #[test]
    fn a_client_id_without_its_secret_is_refused() {
        let raw = RawConfig::default()
            .apply_env(|k| (k == "HUBMESH_OIDC_CLIENT_ID").then(|| "dev-hub".into()))
            .unwrap();
        assert!(matches!(
            raw.for_hub("dev"),
            Err(ConfigError::Invalid { field, .. }) if field == "oidc.client_id"
        ));
    }

    #[test]
    fn bad_values_name_the_field() {
        let raw = RawConfig {
            listen: Some("nowhere".into()),
            ..Default::default()
        };
        assert!(
            matches!(raw.for_hub("dev"), Err(ConfigError::Invalid { field, .. }) if field == "listen")
        );
        let err = toml::from_str::<RawConfig>("colour = 1").unwrap_err();
        assert!(err.to_string().contains("colour"));
    }
}
