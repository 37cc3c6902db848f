//! MCP over streamable HTTP at `/mcp`, behind hub-core's own guard: Origin check, bearer token,
//! tool profile, protocol version and session ownership. rmcp checks none of the first four.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use rmcp::model::ProtocolVersion;
use rmcp::transport::streamable_http_server::session::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::deferred::Deferred;
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

/// How often a session's own worker must see one of its tool calls. rmcp's worker ends a
/// session it has not seen for `SessionConfig::DEFAULT_KEEP_ALIVE` (5 minutes); the session's
/// other tool calls go around it (see [`Sessions::goes_around`]). So an idle session ends at
/// least 4 minutes after its last call, rather than exactly 5.
const THROUGH_SESSION_EVERY: Duration = Duration::from_secs(60);

/// A session's opener, and when one of its calls last went through its worker.
struct Owner {
    sub: String,
    seen: Instant,
}

/// Which principal opened which session: a session id is usable only by its opener.
struct Sessions {
    manager: Arc<LocalSessionManager>,
    owners: Arc<Mutex<HashMap<String, Owner>>>,
}

impl Sessions {
    fn owner_is(&self, id: &str, sub: &str) -> Option<bool> {
        self.owners
            .lock()
            .expect("owners poisoned")
            .get(id)
            .map(|o| o.sub == sub)
    }

    /// Whether this call of session `id` may go around the session's worker: not when the
    /// worker has not seen one for [`THROUGH_SESSION_EVERY`] (this one then goes through and
    /// keeps the session alive).
    fn goes_around(&self, id: &str) -> bool {
        let mut owners = self.owners.lock().expect("owners poisoned");
        let Some(owner) = owners.get_mut(id) else {
            return false;
        };
        if owner.seen.elapsed() < THROUGH_SESSION_EVERY {
            return true;
        }
        owner.seen = Instant::now();
        false
    }

    async fn record(&self, id: String, sub: String) {
        let prune = {
            let mut owners = self.owners.lock().expect("owners poisoned");
            owners.insert(
                id,
                Owner {
                    sub,
                    seen: Instant::now(),
                },
            );
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

    async fn is_live(&self, id: &str) -> bool {
        self.manager
            .has_session(&id.to_owned().into())
            .await
            .unwrap_or(false)
    }
}

/// What `/mcp` hands admitted requests to: rmcp's service with sessions, and the same handler
/// served session-less for a session's tool calls. Shared behind an `Arc`: a clone of rmcp's
/// services (their configs' strings) for every request cost 1.6 % of the hub's instructions
/// per inbox page (docs/BENCHMARKS.md, session 21).
struct Mcp {
    hub: Hub,
    sessions: Sessions,
    with_sessions: StreamableHttpService<HubMcp, LocalSessionManager>,
    calls: StreamableHttpService<HubMcp, NeverSessionManager>,
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
        .with_cancellation_token(stop)
        .with_max_request_body_bytes(BODY_AT_MOST);
    let handler = |hub: &Hub| {
        let hub = hub.clone();
        move || Ok(HubMcp::per_request(hub.clone()))
    };
    let mcp = Mcp {
        hub: hub.clone(),
        sessions,
        with_sessions: StreamableHttpService::new(handler(hub), manager, config.clone()),
        calls: StreamableHttpService::new(
            handler(hub),
            Arc::default(),
            config.with_legacy_session_mode(false),
        ),
    };
    Router::new()
        .route(RESOURCE_METADATA_PATH, get(resource_metadata))
        .route(
            &format!("{RESOURCE_METADATA_PATH}/mcp"),
            get(resource_metadata),
        )
        .merge(
            Router::new()
                .route("/mcp", any(serve))
                .with_state(Arc::new(mcp)),
        )
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

/// The largest request body `/mcp` takes: rmcp's own default limit, applied here since the body
/// is read here first (to tell tool calls from other messages).
const BODY_AT_MOST: usize = 4 * 1024 * 1024;

/// Admits a request (see [`admit`]) and hands it to rmcp. A tool call that is answered as one
/// body of its own gets its result written in once ([`Deferred`]): a session-less call, and a
/// session's call, which is served as a session-less one: rmcp's session worker would pass it
/// between three more tasks and answer it as an SSE stream, costing the hub and its client CPU
/// on every call, and the hub's tools use nothing of a session (subscriptions, which do, are not
/// tool calls).
async fn serve(State(mcp): State<Arc<Mcp>>, mut req: Request) -> Response {
    let sub = match admit(&mcp.hub, &mcp.sessions, &mut req).await {
        Ok(sub) => sub,
        Err(e) => return refuse(&mcp.hub, e),
    };
    let session = req
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if req.method() == Method::POST {
        let (parts, body) = req.into_parts();
        let Ok(body) = axum::body::to_bytes(body, BODY_AT_MOST).await else {
            return HubError::PayloadTooLarge {
                limit: BODY_AT_MOST,
            }
            .into_response();
        };
        let tool_call = is_tool_call(&body);
        req = Request::from_parts(parts, body.into());
        if tool_call {
            match &session {
                None => return answered_once(&mcp.with_sessions, req).await,
                Some(id) if mcp.sessions.is_live(id).await && mcp.sessions.goes_around(id) => {
                    return answered_once(&mcp.calls, req).await;
                }
                Some(_) => {}
            }
        }
    }
    let closing = req.method() == Method::DELETE;
    let res = mcp.with_sessions.handle(req).await.into_response();
    match session {
        Some(id) if closing && res.status().is_success() => mcp.sessions.forget(&id),
        None => {
            if let Some(id) = res
                .headers()
                .get(SESSION_HEADER)
                .and_then(|v| v.to_str().ok())
            {
                mcp.sessions.record(id.to_owned(), sub).await;
            }
        }
        Some(_) => {}
    }
    res
}

/// A tool call answered as one body by `service`, its result written in once ([`Deferred`]).
async fn answered_once<M: SessionManager>(
    service: &StreamableHttpService<HubMcp, M>,
    mut req: Request,
) -> Response {
    let deferred = Deferred::default();
    req.extensions_mut().insert(deferred.clone());
    deferred.answer(service.handle(req).await).await
}

/// Whether a JSON-RPC body is a `tools/call` request.
fn is_tool_call(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Message<'a> {
        #[serde(borrow)]
        method: Option<std::borrow::Cow<'a, str>>,
    }
    serde_json::from_slice::<Message>(body).is_ok_and(|m| m.method.as_deref() == Some("tools/call"))
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
        && sessions.owner_is(id, &who.sub) == Some(false)
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

    #[tokio::test]
    async fn a_sessions_calls_go_around_it_but_one_a_minute() {
        let sessions = Sessions {
            manager: Arc::default(),
            owners: Arc::default(),
        };
        sessions.record("s1".into(), "alice".into()).await;
        assert!(sessions.goes_around("s1"));
        assert!(!sessions.goes_around("unknown"));
        let minute_ago = Instant::now().checked_sub(THROUGH_SESSION_EVERY).unwrap();
        sessions.owners.lock().unwrap().get_mut("s1").unwrap().seen = minute_ago;
        assert!(!sessions.goes_around("s1"), "due to go through the session");
        assert!(sessions.goes_around("s1"), "then around it again");
    }

    #[test]
    fn tool_calls_are_told_from_other_messages() {
        let call = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}"#;
        assert!(is_tool_call(call));
        assert!(!is_tool_call(
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#
        ));
        assert!(!is_tool_call(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#));
        assert!(!is_tool_call(br#"[{"method":"tools/call"}]"#));
        assert!(!is_tool_call(b"not json"));
    }

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
