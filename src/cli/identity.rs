//! Identity commands: `hubmesh login`, `hubmesh token`, `hubmesh identity …`, the local issuer
//! `hubmesh up` runs on the port base, and the bearer token every client command sends.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use hub_core::auth::PrincipalKind;
use hub_core::config::HubConfig;
use hub_core::issuer::service::code_challenge;
use hub_core::issuer::store::{random_token, write_private};
use hub_core::issuer::{ADMIN_CLIENT, CLI_CLIENT, IssuerOptions, LocalIssuer, NewClient, NewUser};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Where the local mesh keeps its files.
#[derive(Debug, Clone, Args)]
pub struct DataDirArg {
    /// The mesh's data dir (identity file, signing keys, endpoints.json).
    #[arg(long, env = "HUBMESH_DATA_DIR", default_value = "./hubmesh-data")]
    pub data_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub dir: DataDirArg,
    /// Only this hub as audience [default: every hub of the mesh].
    #[arg(long)]
    pub hub: Option<String>,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub dir: DataDirArg,
    /// Issuer URL [default: the local mesh's issuer].
    #[arg(long, env = "HUBMESH_OIDC_ISSUER")]
    pub issuer: Option<String>,
    /// Log in as this confidential client (client credentials) instead of in the browser.
    #[arg(long)]
    pub client_id: Option<String>,
    /// The client's secret.
    #[arg(long, env = "HUBMESH_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// Audience(s) to request (RFC 8707 `resource`) [default: every hub of the local mesh].
    #[arg(long = "resource")]
    pub resources: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum IdentityCommand {
    /// Add a service or agent client; prints its secret once (none for --public).
    AddClient {
        #[command(flatten)]
        dir: DataDirArg,
        /// The client id (also the `sub` of its tokens).
        id: String,
        /// `service` or `agent` (or `human` for a public login client).
        #[arg(long, default_value = "service")]
        kind: String,
        /// Roles such as hub:read, hub:write, hub:admin, fin:admin (repeat or comma-separate).
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        /// Limit the client to these domains [default: all].
        #[arg(long, value_delimiter = ',')]
        domains: Option<Vec<String>>,
        /// A public client (no secret) for the browser flow, with its redirect URIs.
        #[arg(long)]
        public: bool,
        /// A redirect URI the browser flow may return to (repeat for several).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
    },
    /// Add a user who logs in through the browser; the password is read from stdin.
    AddUser {
        #[command(flatten)]
        dir: DataDirArg,
        /// The user name (also the `sub` of the user's tokens).
        name: String,
        /// `human` or `agent`.
        #[arg(long, default_value = "human")]
        kind: String,
        /// Roles such as hub:read, hub:write, dev:admin (repeat or comma-separate).
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        /// Limit the user to these domains [default: all].
        #[arg(long, value_delimiter = ',')]
        domains: Option<Vec<String>>,
    },
    /// List clients, users and published key ids (no secrets).
    List {
        #[command(flatten)]
        dir: DataDirArg,
    },
    /// Sign with a new key; the old one stays published until its tokens expired.
    RotateKeys {
        #[command(flatten)]
        dir: DataDirArg,
    },
}

fn kind(text: &str) -> anyhow::Result<PrincipalKind> {
    serde_json::from_value(serde_json::Value::String(text.into()))
        .with_context(|| format!("kind must be human, agent or service, not {text}"))
}

pub fn identity(cmd: IdentityCommand) -> anyhow::Result<()> {
    match cmd {
        IdentityCommand::AddClient {
            dir,
            id,
            kind: k,
            roles,
            domains,
            public,
            redirect_uris,
        } => {
            let issuer = LocalIssuer::load(&dir.data_dir)?;
            let new = NewClient {
                id: id.clone(),
                kind: kind(&k)?,
                roles,
                domains,
                public,
                redirect_uris,
            };
            match issuer.add_client(new)? {
                Some(secret) => println!("client {id} added; its secret (shown once):\n{secret}"),
                None => println!("public client {id} added"),
            }
        }
        IdentityCommand::AddUser {
            dir,
            name,
            kind: k,
            roles,
            domains,
        } => {
            let issuer = LocalIssuer::load(&dir.data_dir)?;
            eprintln!("password for {name} (one line on stdin):");
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let new = NewUser {
                name: name.clone(),
                kind: kind(&k)?,
                roles,
                domains,
            };
            issuer.add_user(new, password.trim_end_matches(['\r', '\n']))?;
            println!("user {name} added");
        }
        IdentityCommand::List { dir } => {
            let listing = LocalIssuer::load(&dir.data_dir)?.list();
            println!("issuer {}", listing.issuer);
            println!(
                "\n  {:<8} {:<20} {:<8} {:<30} DOMAINS",
                "TYPE", "ID", "KIND", "ROLES"
            );
            let row = |t: &str, p: &hub_core::auth::Principal| {
                let kind = serde_json::to_value(p.kind).unwrap_or_default();
                println!(
                    "  {t:<8} {:<20} {:<8} {:<30} {}",
                    p.sub,
                    kind.as_str().unwrap_or(""),
                    p.roles.join(","),
                    p.domains.as_ref().map_or("*".into(), |d| d.join(","))
                );
            };
            for c in &listing.clients {
                row(if c.public { "public" } else { "client" }, &c.principal);
            }
            for u in &listing.users {
                row("user", u);
            }
            println!("\nkeys (signing key last): {}", listing.keys.join(", "));
        }
        IdentityCommand::RotateKeys { dir } => {
            let kid = LocalIssuer::load(&dir.data_dir)?.rotate_keys()?;
            println!(
                "now signing with key {kid}; the previous key stays published until its tokens expired"
            );
        }
    }
    Ok(())
}

/// `endpoints.json` as `hubmesh up` writes it.
#[derive(Debug, Deserialize)]
struct Endpoints {
    hubs: BTreeMap<String, String>,
}

/// The hubs of the local mesh (name -> URL).
fn mesh_hubs(data_dir: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let path = data_dir.join("endpoints.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}; is the mesh up?", path.display()))?;
    Ok(serde_json::from_str::<Endpoints>(&text)?.hubs)
}

fn audience(data_dir: &Path, hub: Option<&str>) -> anyhow::Result<Vec<String>> {
    let hubs = mesh_hubs(data_dir)?;
    match hub {
        Some(name) => Ok(vec![
            hubs.get(name)
                .with_context(|| format!("no hub {name} in the mesh"))?
                .clone(),
        ]),
        None => Ok(hubs.into_values().collect()),
    }
}

/// A stored login (`hubmesh login`), in `$XDG_CONFIG_HOME/hubmesh/credentials.json` (0600).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Credentials {
    issuer: String,
    client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    resources: Vec<String>,
    access_token: String,
    /// Unix seconds.
    expires_at: i64,
}

fn credentials_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("hubmesh/credentials.json"))
}

fn save(creds: &Credentials) -> anyhow::Result<()> {
    let path = credentials_path().context("no home directory for the credentials file")?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    write_private(&path, &serde_json::to_vec_pretty(creds)?)?;
    Ok(())
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<i64>,
    refresh_token: Option<String>,
}

async fn token_request(
    issuer: &str,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> anyhow::Result<TokenResponse> {
    let http = hub_core::auth::http::client();
    let meta = hub_core::auth::discovery::discover(&http, issuer).await?;
    let endpoint = meta
        .token_endpoint
        .context("the issuer names no token endpoint")?;
    let mut req = http.post(endpoint).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let res = req.send().await?;
    if !res.status().is_success() {
        bail!(
            "token request refused: {}",
            res.text().await.unwrap_or_default()
        );
    }
    Ok(res.json().await?)
}

fn with_resources<'a>(
    mut form: Vec<(&'a str, &'a str)>,
    resources: &'a [String],
) -> Vec<(&'a str, &'a str)> {
    form.extend(resources.iter().map(|r| ("resource", r.as_str())));
    form
}

/// A fresh token for stored credentials: client credentials again, or the refresh token.
async fn renew(creds: &mut Credentials) -> anyhow::Result<()> {
    let res = match (&creds.client_secret, &creds.refresh_token) {
        (Some(secret), _) => {
            let form = with_resources(vec![("grant_type", "client_credentials")], &creds.resources);
            token_request(&creds.issuer, &form, Some((&creds.client_id, secret))).await?
        }
        (None, Some(refresh)) => {
            let form = vec![
                ("grant_type", "refresh_token"),
                ("client_id", creds.client_id.as_str()),
                ("refresh_token", refresh.as_str()),
            ];
            token_request(&creds.issuer, &form, None)
                .await
                .context("the login expired; run `hubmesh login` again")?
        }
        (None, None) => bail!("the stored login cannot be renewed; run `hubmesh login` again"),
    };
    creds.access_token = res.access_token;
    creds.expires_at = chrono::Utc::now().timestamp() + res.expires_in.unwrap_or(300);
    if res.refresh_token.is_some() {
        creds.refresh_token = res.refresh_token;
    }
    save(creds)
}

/// The bearer token client commands send: the stored login (renewed when it is about to
/// expire), else one minted for the local mesh's admin client from `data_dir`; `None` when
/// there is neither.
pub async fn bearer_token(data_dir: &Path, hub: Option<&str>) -> anyhow::Result<Option<String>> {
    let stored = credentials_path()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice::<Credentials>(&b).ok());
    if let Some(mut creds) = stored {
        if creds.expires_at - 30 <= chrono::Utc::now().timestamp() {
            renew(&mut creds).await?;
        }
        return Ok(Some(creds.access_token));
    }
    if !data_dir
        .join(hub_core::issuer::store::IDENTITY_FILE)
        .exists()
    {
        return Ok(None);
    }
    let issuer = LocalIssuer::load(data_dir)?;
    let admin = issuer
        .client_principal(ADMIN_CLIENT)
        .context("the identity file has no admin client")?;
    Ok(Some(issuer.mint(
        &admin,
        ADMIN_CLIENT,
        &audience(data_dir, hub)?,
    )?))
}

pub async fn token(args: TokenArgs) -> anyhow::Result<()> {
    println!(
        "{}",
        bearer_token(&args.dir.data_dir, args.hub.as_deref())
            .await?
            .with_context(|| format!(
                "no credentials: run `hubmesh login`, or start a mesh in {} with `hubmesh up`",
                args.dir.data_dir.display()
            ))?
    );
    Ok(())
}

pub async fn login(args: LoginArgs) -> anyhow::Result<()> {
    let issuer = match args.issuer {
        Some(i) => i.trim_end_matches('/').to_owned(),
        None => LocalIssuer::load(&args.dir.data_dir)?
            .issuer_url()
            .to_owned(),
    };
    let resources = if args.resources.is_empty() {
        audience(&args.dir.data_dir, None)?
    } else {
        args.resources
    };
    let mut creds = Credentials {
        issuer: issuer.clone(),
        client_id: args.client_id.clone().unwrap_or_else(|| CLI_CLIENT.into()),
        client_secret: None,
        refresh_token: None,
        resources: resources.clone(),
        access_token: String::new(),
        expires_at: 0,
    };
    match (args.client_id, args.client_secret) {
        (Some(_), Some(secret)) => {
            creds.client_secret = Some(secret);
            renew(&mut creds).await?;
        }
        (Some(id), None) => bail!("client {id} needs --client-secret or HUBMESH_CLIENT_SECRET"),
        (None, _) => browser_login(&mut creds).await?,
    }
    println!("logged in to {issuer} as {}", creds.client_id);
    Ok(())
}

/// The authorization-code flow with PKCE through the user's browser and a loopback redirect.
async fn browser_login(creds: &mut Credentials) -> anyhow::Result<()> {
    let http = hub_core::auth::http::client();
    let meta = hub_core::auth::discovery::discover(&http, &creds.issuer).await?;
    let authorize = meta
        .authorization_endpoint
        .context("the issuer names no authorize endpoint")?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let redirect = format!(
        "http://127.0.0.1:{}/callback",
        listener.local_addr()?.port()
    );
    let verifier = random_token(48);
    let state = random_token(16);
    let mut url = reqwest::Url::parse(&authorize)?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &creds.client_id)
        .append_pair("redirect_uri", &redirect)
        .append_pair("code_challenge", &code_challenge(&verifier))
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", &state);
    for r in &creds.resources {
        url.query_pairs_mut().append_pair("resource", r);
    }
    eprintln!("Open this URL in your browser to sign in:\n\n  {url}\n");
    let (code, returned_state) = wait_for_callback(&listener).await?;
    if returned_state != state {
        bail!("the sign-in answer does not belong to this login (state mismatch)");
    }
    let form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", creds.client_id.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let res = token_request(&creds.issuer, &form, None).await?;
    creds.access_token = res.access_token;
    creds.expires_at = chrono::Utc::now().timestamp() + res.expires_in.unwrap_or(300);
    creds.refresh_token = res.refresh_token;
    save(creds)
}

/// Accepts the browser's redirect and returns `code` and `state`.
async fn wait_for_callback(listener: &TcpListener) -> anyhow::Result<(String, String)> {
    loop {
        let (mut stream, _) = listener.accept().await?;
        let mut line = String::new();
        BufReader::new(&mut stream).read_line(&mut line).await?;
        let target = line.split_whitespace().nth(1).unwrap_or("");
        let Ok(url) = reqwest::Url::parse(&format!("http://127.0.0.1{target}")) else {
            continue;
        };
        if url.path() != "/callback" {
            continue;
        }
        let q: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
        let body = "Signed in. You can close this tab.";
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(answer.as_bytes()).await?;
        if let Some(err) = q.get("error") {
            bail!(
                "sign-in failed: {err} {}",
                q.get("error_description").map_or("", |d| d.as_str())
            );
        }
        return Ok((
            q.get("code").context("the answer has no code")?.clone(),
            q.get("state").cloned().unwrap_or_default(),
        ));
    }
}

/// Starts the local issuer on `127.0.0.1:<port_base>` unless an issuer is configured, points
/// every hub at it and hands each hub its own service account (`<hub>-hub`) with a fresh secret,
/// kept in memory only. Returns the issuer URL; the admin secret of a new identity file is
/// printed once, the hubs' secrets never.
pub async fn start_local_issuer(
    data_dir: &Path,
    port_base: u16,
    configs: &mut [HubConfig],
    stop: CancellationToken,
) -> anyhow::Result<Option<String>> {
    if configs.iter().any(|c| c.oidc.issuer.is_some()) {
        return Ok(None);
    }
    let listener = TcpListener::bind(("127.0.0.1", port_base))
        .await
        .with_context(|| format!("identity issuer cannot listen on 127.0.0.1:{port_base}"))?;
    let url = format!("http://{}", listener.local_addr()?);
    let mut options = IssuerOptions::new(&url);
    options.default_audience = configs.iter().map(|c| c.oidc.audience.clone()).collect();
    let (issuer, admin) = LocalIssuer::open(data_dir, options)?;
    if let Some(admin) = admin {
        println!(
            "Created {} with the admin client.\nAdmin client secret (shown once, store it now):\n\n  client_id={}  client_secret={}\n",
            data_dir.join("identity.toml").display(),
            admin.client_id,
            admin.secret
        );
    }
    for config in configs.iter_mut() {
        config.oidc.issuer = Some(url.clone());
        config.oidc.service_account = Some(issuer.hub_service_account(&config.name)?);
    }
    let router = issuer.router();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router.into_make_service())
            .with_graceful_shutdown(stop.cancelled_owned())
            .await
        {
            tracing::error!(error = %e, "identity issuer stopped");
        }
    });
    Ok(Some(url))
}
