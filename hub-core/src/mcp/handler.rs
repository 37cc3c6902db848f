//! The rmcp server handler: lists and calls the hub's tools, reads its resources and pushes
//! `notifications/resources/updated` to subscribers on committed events (no polling).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, Implementation, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ReadResourceResult, Resource, ResourceContents, ServerCapabilities, ServerConfig,
    SubscribeRequestParams, SubscriptionFilter, UnsubscribeRequestParams,
};
use rmcp::service::{RequestContext, SubscriptionContext};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use tokio_util::sync::{CancellationToken, DropGuard};

use super::deferred::Deferred;
use super::tool::{Catalog, McpResource, ToolCall};
use crate::auth::{Access, Principal};
use crate::error::HubError;
use crate::hub::Hub;
use crate::outbox::Event;

/// Who is calling and which profile of tools they asked for.
#[derive(Debug, Clone)]
pub struct Caller {
    pub who: Principal,
    pub profile: String,
}

/// One MCP session's handler. Over stdio the caller is fixed at start; over HTTP each request
/// carries the caller the bearer layer verified.
#[derive(Clone)]
pub struct HubMcp {
    hub: Hub,
    fixed: Option<Arc<Caller>>,
    /// Legacy `resources/subscribe` watchers of this session, cancelled when dropped.
    watchers: Arc<Mutex<HashMap<String, DropGuard>>>,
}

impl HubMcp {
    /// A handler whose callers come from the HTTP request (the bearer layer puts a [`Caller`]
    /// into the request's extensions).
    pub fn per_request(hub: Hub) -> Self {
        Self {
            hub,
            fixed: None,
            watchers: Arc::default(),
        }
    }

    /// A handler serving one caller, for stdio.
    pub fn for_caller(hub: Hub, caller: Caller) -> Self {
        Self {
            hub,
            fixed: Some(Arc::new(caller)),
            watchers: Arc::default(),
        }
    }

    fn catalog(&self) -> &Catalog {
        self.hub.mcp_catalog()
    }

    fn caller(&self, ext: &rmcp::model::Extensions) -> Result<Caller, ErrorData> {
        if let Some(c) = &self.fixed {
            return Ok(c.as_ref().clone());
        }
        ext.get::<axum::http::request::Parts>()
            .and_then(|p| p.extensions.get::<Caller>())
            .cloned()
            // The bearer layer rejects unauthenticated requests before they get here.
            .ok_or_else(|| ErrorData::invalid_request("no authenticated caller", None))
    }

    fn call(&self, who: Principal) -> ToolCall {
        ToolCall {
            hub: self.hub.clone(),
            who,
        }
    }

    fn readable(&self, uri: &str, who: &Principal) -> Result<&McpResource, ErrorData> {
        let resource = self
            .catalog()
            .resource(uri)
            .ok_or_else(|| ErrorData::resource_not_found(format!("no resource {uri}"), None))?;
        who.require(self.hub.name(), Access::Read)
            .map_err(|e| ErrorData::invalid_request(e.to_string(), None))?;
        Ok(resource)
    }
}

/// Waits for committed events that update `uri` for `who` and calls `notify` for each, until
/// `stop` fires or `notify` fails (the session is gone).
async fn watch<F, Fut>(hub: Hub, uri: String, who: Principal, stop: CancellationToken, notify: F)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = bool>,
{
    let mut events = hub.ctx().subscribe_committed();
    let updates = |event: &Event| {
        hub.mcp_catalog()
            .resource(&uri)
            .is_some_and(|r| r.is_updated_by(event, &who))
    };
    loop {
        let event = tokio::select! {
            _ = stop.cancelled() => return,
            e = events.recv() => match e { Some(e) => e, None => return },
        };
        if updates(&event) && !notify(uri.clone()).await {
            return;
        }
    }
}

impl ServerHandler for HubMcp {
    fn get_info(&self) -> ServerConfig {
        let name = self.hub.name();
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_resources_subscribe()
                .build(),
        )
        .with_server_info(Implementation::new(
            format!("hubmesh-{name}"),
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(format!(
            "Hubmesh {name} hub. Start with whoami and get_state_summary; \
             read hub://inbox (or subscribe to it) for messages addressed to you. \
             Tool errors explain what to fix."
        ))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let caller = self.caller(&context.extensions)?;
        let tools = self
            .catalog()
            .visible(self.hub.name(), &caller.who, &caller.profile)
            .map(|t| t.def.clone())
            .collect();
        let mut res = ListToolsResult::with_all_items(tools);
        // The list depends on the caller's roles.
        res.cache_scope = Some(CacheScope::Private);
        Ok(res)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let caller = self.caller(&context.extensions)?;
        let Some(tool) = self.catalog().get(&request.name) else {
            return Err(ErrorData::invalid_params(
                format!("unknown tool {}", request.name),
                None,
            ));
        };
        let args = serde_json::Value::Object(request.arguments.unwrap_or_default());
        let deferred = context
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|p| p.extensions.get::<Deferred>());
        let res = match (tool.run(self.call(caller.who), args).await, deferred) {
            (Ok(out), Some(deferred)) => deferred.hold(out),
            (Ok(out), None) => out.into(),
            (Err(e), _) => e.into(),
        };
        Ok(res.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let caller = self.caller(&context.extensions)?;
        let resources = if caller.who.has(self.hub.name(), Access::Read) {
            self.catalog()
                .resources
                .iter()
                .map(|r| {
                    Resource::new(r.uri, r.name)
                        .with_description(r.description)
                        .with_mime_type("application/json")
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut res = ListResourcesResult::with_all_items(resources);
        res.cache_scope = Some(CacheScope::Private);
        Ok(res)
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let caller = self.caller(&context.extensions)?;
        let resource = self.readable(&request.uri, &caller.who)?;
        let value = resource
            .read(self.call(caller.who))
            .await
            .map_err(resource_error)?;
        let text = serde_json::to_string_pretty(&value)
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        let mut res = ReadResourceResult::new(vec![
            ResourceContents::text(text, request.uri).with_mime_type("application/json"),
        ]);
        res.cache_scope = Some(CacheScope::Private);
        Ok(res.into())
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        let mut accepted = SubscriptionFilter::new();
        accepted.resource_subscriptions = requested.resource_subscriptions.as_ref().map(|uris| {
            uris.iter()
                .filter(|u| self.catalog().resource(u).is_some_and(|r| r.subscribable()))
                .cloned()
                .collect()
        });
        Some(accepted)
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        let caller = self.caller(&context.request_context().extensions)?;
        let uris = context
            .accepted()
            .resource_subscriptions
            .clone()
            .unwrap_or_default();
        for uri in &uris {
            self.readable(uri, &caller.who)?;
        }
        let stop = context.request_context().ct.clone();
        let watchers = uris.into_iter().map(|uri| {
            let sink = context.sink().clone();
            watch(
                self.hub.clone(),
                uri,
                caller.who.clone(),
                stop.clone(),
                move |uri| {
                    let sink = sink.clone();
                    async move { sink.notify_resource_updated(uri).await.is_ok() }
                },
            )
        });
        futures::future::join_all(watchers).await;
        Ok(())
    }

    #[allow(deprecated)]
    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let caller = self.caller(&context.extensions)?;
        let resource = self.readable(&request.uri, &caller.who)?;
        if !resource.subscribable() {
            return Err(ErrorData::invalid_params(
                format!("{} does not change by events; read it instead", request.uri),
                None,
            ));
        }
        let stop = CancellationToken::new();
        let peer = context.peer.clone();
        tokio::spawn(watch(
            self.hub.clone(),
            request.uri.clone(),
            caller.who,
            stop.clone(),
            move |uri| {
                let peer = peer.clone();
                async move {
                    peer.notify_resource_updated(
                        rmcp::model::ResourceUpdatedNotificationParam::new(uri),
                    )
                    .await
                    .is_ok()
                }
            },
        ));
        self.watchers
            .lock()
            .expect("watchers poisoned")
            .insert(request.uri, stop.drop_guard());
        Ok(())
    }

    #[allow(deprecated)]
    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.watchers
            .lock()
            .expect("watchers poisoned")
            .remove(&request.uri);
        Ok(())
    }
}

/// A resource read that failed: its problem text, as a JSON-RPC error.
fn resource_error(err: HubError) -> ErrorData {
    let problem = crate::api::problem::Problem::from_error(&err);
    ErrorData::invalid_request(
        format!("{}: {}", problem.title, problem.detail),
        serde_json::to_value(&problem).ok(),
    )
}
