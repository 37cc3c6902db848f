//! MCP over streamable HTTP at `/mcp`, behind hub-core's own guard: Origin check, bearer token,
//! tool profile, protocol version and session ownership. rmcp checks none of the first four.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rmcp::model::ProtocolVersion;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::handler::{Caller, HubMcp};
use super::tool::PROFILE_ALL;
use crate::api::problem::www_authenticate;
use crate::auth::Principal;
use crate::error::HubError;
use crate::hub::Hub;

const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";

/// The path of the RFC 9728 protected-resource metadata.
pub const RESOURCE_METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// Which principal opened which session: a session id is usable only by its opener.
#[derive(Clone)]
struct Sessions {
    manager: Arc<LocalSessionManager>,
    owners: Arc<Mutex<HashMap<String, String>>>,
}

impl Sessions {
    fn owner(&self, id: &str) -> Option<String> {
        self.owners
            .lock()
            .expect("owners poisoned")
            .get(id)
            .cloned()
    }

    async fn record(&self, id: String, sub: String) {
        let prune = {
            let mut owners = self.owners.lock().expect("owners poisoned");
            owners.insert(id, sub);
            owners.len().is_power_of_two() && owners.len() >= 64
        };
        // Sessions also end by idle timeout inside rmcp; forget their owners now and then.
        if prune {
            let live: Vec<String> = self
                .manager
                .sessions
                .read()
                .await
                .keys()
                .map(|k| k.to_string())
                .collect();
            self.owners
                .lock()
                .expect("owners poisoned")
                .retain(|id, _| live.contains(id));
        }
    }

    fn forget(&self, id: &str) {
        self.owners.lock().expect("owners poisoned").remove(id);
    }
}

/// `/mcp` and the protected-resource metadata, for the hub's router. `stop` ends open streams
/// at shutdown.
pub fn router(hub: &Hub, stop: CancellationToken) -> Router<Hub> {
    let manager = Arc::new(LocalSessionManager::default());
    let sessions = Sessions {
        manager: manager.clone(),
        owners: Arc::default(),
    };
    let mut hosts = vec!["localhost".to_owned(), "127.0.0.1".into(), "::1".into()];
    if let Some(authority) = authority_of(&hub.config().public_url) {
        hosts.push(authority.to_owned());
        hosts.extend(authority.rsplit_once(':').map(|(h, _)| h.to_owned()));
    }
    // Legacy sessions (before protocol 2026-07-28) stay, for subscriptions and older clients;
    // a request of the session-less protocol that gets a plain answer is sent as JSON rather than
    // as an SSE stream of one event, which saves the stream's task and framing on every call.
    let config = StreamableHttpServerConfig::default()
        .with_json_response(true)
        .with_allowed_hosts(hosts)
        .with_cancellation_token(stop);
    let handler_hub = hub.clone();
    let service = StreamableHttpService::new(
        move || Ok(HubMcp::per_request(handler_hub.clone())),
        manager,
        config,
    );
    let guarded =
        Router::new()
            .nest_service("/mcp", service)
            .layer(axum::middleware::from_fn_with_state(
                (hub.clone(), sessions),
                guard,
            ));
    Router::new()
        .route(RESOURCE_METADATA_PATH, get(resource_metadata))
        .route(
            &format!("{RESOURCE_METADATA_PATH}/mcp"),
            get(resource_metadata),
        )
        .merge(guarded)
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> Option<&str> {
    let after_scheme = url.find("://")? + 3;
    let end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| i + after_scheme);
    Some(&url[..end])
}

/// `host[:port]` of a URL.
fn authority_of(url: &str) -> Option<&str> {
    origin_of(url)
        .and_then(|o| o.split_once("://"))
        .map(|(_, a)| a)
}

/// The refusal of a request to `/mcp`.
fn refuse(hub: &Hub, err: HubError) -> Response {
    let reason = match &err {
        HubError::Unauthorized(reason) => Some(reason.clone()),
        _ => None,
    };
    let mut res = err.into_response();
    if let Some(reason) = reason {
        let url = format!("{}{RESOURCE_METADATA_PATH}", hub.config().public_url);
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            www_authenticate(&reason, Some(&url)),
        );
    }
    res
}

async fn guard(
    State((hub, sessions)): State<(Hub, Sessions)>,
    mut req: Request,
    next: Next,
) -> Response {
    match admit(&hub, &sessions, &mut req).await {
        Ok(sub) => {
            let opened = !req.headers().contains_key(SESSION_HEADER);
            let closing = (req.method() == Method::DELETE)
                .then(|| req.headers().get(SESSION_HEADER).cloned())
                .flatten();
            let res = next.run(req).await;
            if let Some(id) = closing.filter(|_| res.status().is_success()) {
                sessions.forget(id.to_str().unwrap_or_default());
            }
            if opened
                && let Some(id) = res
                    .headers()
                    .get(SESSION_HEADER)
                    .and_then(|v| v.to_str().ok())
            {
                sessions.record(id.to_owned(), sub).await;
            }
            res
        }
        Err(e) => refuse(&hub, e),
    }
}

/// Checks a request and puts its [`Caller`] into the extensions; returns the caller's `sub`.
async fn admit(hub: &Hub, sessions: &Sessions, req: &mut Request) -> Result<String, HubError> {
    let headers = req.headers();
    if let Some(origin) = headers.get(header::ORIGIN) {
        let allowed = origin_of(&hub.config().public_url).map(str::as_bytes);
        if Some(origin.as_bytes()) != allowed {
            return Err(HubError::Forbidden {
                scope: "a request from this hub's own origin".into(),
            });
        }
    }
    if let Some(version) = headers.get(VERSION_HEADER) {
        let known = ProtocolVersion::KNOWN_VERSIONS
            .iter()
            .any(|v| v.as_str().as_bytes() == version.as_bytes());
        if !known {
            return Err(HubError::bad_request(
                VERSION_HEADER,
                format!(
                    "unsupported protocol version {}; supported: {}",
                    String::from_utf8_lossy(version.as_bytes()),
                    ProtocolVersion::KNOWN_VERSIONS
                        .iter()
                        .map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    let profile = profile_param(req.uri().query())
        .unwrap_or(PROFILE_ALL)
        .to_owned();
    hub.mcp_catalog().check_profile(&profile)?;
    let (mut parts, body) =
        std::mem::replace(req, Request::new(axum::body::Body::empty())).into_parts();
    let who =
        <Principal as axum::extract::FromRequestParts<Hub>>::from_request_parts(&mut parts, hub)
            .await;
    *req = Request::from_parts(parts, body);
    let who = who?;
    if let Some(id) = req
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        && sessions.owner(id).is_some_and(|owner| owner != who.sub)
    {
        return Err(HubError::Forbidden {
            scope: "the principal that opened this session".into(),
        });
    }
    let sub = who.sub.clone();
    req.extensions_mut().insert(Caller { who, profile });
    Ok(sub)
}

/// The `profile` query parameter.
fn profile_param(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("profile="))
}

/// RFC 9728 protected-resource metadata.
#[derive(Serialize)]
struct ResourceMetadata {
    resource: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authorization_servers: Vec<String>,
    bearer_methods_supported: [&'static str; 1],
    scopes_supported: Vec<String>,
    resource_name: String,
}

async fn resource_metadata(State(hub): State<Hub>) -> Response {
    let config = hub.config();
    let name = &config.name;
    let body = ResourceMetadata {
        resource: config.oidc.audience.clone(),
        authorization_servers: config.oidc.issuer.iter().cloned().collect(),
        bearer_methods_supported: ["header"],
        scopes_supported: ["hub:read", "hub:write", "hub:admin"]
            .into_iter()
            .map(str::to_owned)
            .chain(["read", "write", "admin"].map(|l| format!("{name}:{l}")))
            .collect(),
        resource_name: format!("Hubmesh {name} hub"),
    };
    let mut res = axum::Json(body).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_profiles_are_read() {
        assert_eq!(
            origin_of("http://127.0.0.1:7101"),
            Some("http://127.0.0.1:7101")
        );
        assert_eq!(
            origin_of("https://hub.example.com/dev"),
            Some("https://hub.example.com")
        );
        assert_eq!(
            authority_of("https://hub.example.com:8443/x"),
            Some("hub.example.com:8443")
        );
        assert_eq!(
            profile_param(Some("a=1&profile=messaging")),
            Some("messaging")
        );
        assert_eq!(profile_param(None), None);
    }
}
