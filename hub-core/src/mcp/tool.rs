//! MCP tools as hub-core sees them: a name, a description, an input schema, the access level
//! it needs, the profiles it belongs to, and an async fn over the same service fns REST calls.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use rmcp::model::{CallToolResult, ContentBlock, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::api::problem::Problem;
use crate::auth::{Access, Principal};
use crate::ctx::Ctx;
use crate::error::HubError;
use crate::hub::Hub;
use crate::outbox::Event;

/// The profile that holds every tool.
pub const PROFILE_ALL: &str = "all";

/// What a tool fn gets besides its arguments: the hub and the verified caller.
#[derive(Clone)]
pub struct ToolCall {
    pub hub: Hub,
    pub who: Principal,
}

impl ToolCall {
    pub fn ctx(&self) -> &Ctx {
        self.hub.ctx()
    }
}

type ToolFn = dyn Fn(ToolCall, Value) -> BoxFuture<'static, Result<Output, HubError>> + Send + Sync;

/// A tool's result: the JSON text of an object, written once from the typed value. MCP answers
/// it as structured content, with the same text beside it for clients that read only text.
pub(crate) struct Output {
    json: String,
    /// `json` escaped as a JSON string's contents (written in the same pass, `mcp::escaped`).
    escaped: Vec<u8>,
}

impl Output {
    pub(crate) fn of(out: &impl Serialize) -> Result<Self, HubError> {
        let failed = |e: serde_json::Error| HubError::Internal(format!("tool result: {e}"));
        let (json, escaped) = super::escaped::to_json_and_escaped(out).map_err(failed)?;
        let json = String::from_utf8(json).expect("serde_json writes UTF-8");
        // Structured content must be an object.
        if json.starts_with('{') {
            return Ok(Self { json, escaped });
        }
        Ok(Self {
            json: format!(r#"{{"result":{json}}}"#),
            escaped: [br#"{\"result\":"#, &escaped[..], b"}"].concat(),
        })
    }

    /// The result's JSON text.
    pub(crate) fn json(&self) -> &str {
        &self.json
    }

    /// The JSON text escaped as the contents of a JSON string.
    pub(crate) fn escaped(&self) -> &[u8] {
        &self.escaped
    }
}

impl From<Output> for CallToolResult {
    fn from(out: Output) -> Self {
        let structured = serde_json::from_str(&out.json).expect("a tool result's own JSON");
        let mut res = CallToolResult::success(vec![ContentBlock::text(out.json)]);
        res.structured_content = Some(structured);
        res
    }
}

/// One MCP tool. Build it with [`McpTool::new`] from an async fn
/// `async fn(ToolCall, Args) -> Result<impl Serialize, HubError>` whose `Args` derive
/// `Deserialize` and `schemars::JsonSchema` (doc comments become the field descriptions).
#[derive(Clone)]
pub struct McpTool {
    pub(crate) def: Tool,
    pub(crate) access: Access,
    /// Profiles the tool is listed in besides `all`; `None` = every profile.
    pub(crate) profiles: Option<BTreeSet<String>>,
    call: Arc<ToolFn>,
}

impl McpTool {
    /// A tool that needs `access` on the hub to be listed and called. Reading tools
    /// (`Access::Read`) are annotated read-only. The tool starts in no profile but `all`.
    pub fn new<A, R, F, Fut>(
        name: &'static str,
        description: &'static str,
        access: Access,
        f: F,
    ) -> Self
    where
        A: DeserializeOwned + JsonSchema + 'static,
        R: Serialize + 'static,
        F: Fn(ToolCall, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, HubError>> + Send + 'static,
    {
        let f = Arc::new(f);
        let call: Arc<ToolFn> = Arc::new(move |call, args| {
            let f = f.clone();
            Box::pin(async move {
                let args: A = serde_json::from_value(args)
                    .map_err(|e| HubError::bad_request("arguments", e.to_string()))?;
                Output::of(&f(call, args).await?)
            })
        });
        let mut schema = (*rmcp::handler::server::common::schema_for_type::<A>()).clone();
        object_schemas(&mut schema);
        let def = Tool::new(name, description, Arc::new(schema))
            .with_annotations(ToolAnnotations::new().read_only(access == Access::Read));
        Self {
            def,
            access,
            profiles: Some(BTreeSet::new()),
            call,
        }
    }

    /// Also lists the tool in `profile`.
    pub fn profile(mut self, profile: &str) -> Self {
        if let Some(ps) = &mut self.profiles {
            ps.insert(profile.to_owned());
        }
        self
    }

    /// Lists the tool in every profile (orientation tools every agent needs).
    pub fn in_every_profile(mut self) -> Self {
        self.profiles = None;
        self
    }

    pub fn name(&self) -> &str {
        &self.def.name
    }

    fn in_profile(&self, profile: &str) -> bool {
        profile == PROFILE_ALL || self.profiles.as_ref().is_none_or(|ps| ps.contains(profile))
    }

    /// Runs the tool if the caller may. A failure is answered as a tool error (`isError: true`,
    /// `From<HubError> for CallToolResult`), never as a transport error.
    pub(crate) async fn run(&self, call: ToolCall, args: Value) -> Result<Output, HubError> {
        call.who.require(&call.hub.config().name, self.access)?;
        (self.call)(call, args).await
    }
}

/// Replaces the boolean schema `true` (what schemars makes of a free JSON value) by the
/// equivalent `{}` where property and item schemas are expected: some clients accept only objects.
fn object_schemas(map: &mut serde_json::Map<String, Value>) {
    for (key, child) in map.iter_mut() {
        match (key.as_str(), child) {
            ("properties", Value::Object(props)) => {
                for prop in props.values_mut() {
                    if *prop == Value::Bool(true) {
                        *prop = json!({});
                    }
                    if let Value::Object(m) = prop {
                        object_schemas(m);
                    }
                }
            }
            ("items", item @ Value::Bool(true)) => *item = json!({}),
            (_, Value::Object(m)) => object_schemas(m),
            _ => {}
        }
    }
}

impl From<HubError> for CallToolResult {
    fn from(err: HubError) -> Self {
        if err.is_server_error() {
            tracing::error!(error = %err, "tool call failed");
        }
        let problem = Problem::from_error(&err);
        let text = format!("{}: {}", problem.title, problem.detail);
        let mut res = CallToolResult::error(vec![ContentBlock::text(text)]);
        res.structured_content = serde_json::to_value(&problem).ok();
        res
    }
}

/// Why a set of tools cannot be assembled.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CatalogError {
    #[error(
        "tool name {0:?} is not snake_case (a-z, 0-9, '_', starting with a letter, at most 64)"
    )]
    BadName(String),
    #[error("{0} is defined twice")]
    Duplicate(String),
}

/// The tools and resources of one hub: the core set plus its modules'.
#[derive(Clone, Default)]
pub struct Catalog {
    tools: Vec<McpTool>,
    pub(crate) resources: Vec<McpResource>,
}

impl Catalog {
    /// Adds tools; nothing is added when a name is malformed or already taken.
    pub fn add(&mut self, tools: Vec<McpTool>) -> Result<(), CatalogError> {
        let mut seen: BTreeSet<&str> = self.tools.iter().map(McpTool::name).collect();
        for t in &tools {
            let name = t.name();
            let ok = name.len() <= 64
                && name.starts_with(|c: char| c.is_ascii_lowercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                return Err(CatalogError::BadName(name.to_owned()));
            }
            if !seen.insert(name) {
                return Err(CatalogError::Duplicate(name.to_owned()));
            }
        }
        self.tools.extend(tools);
        Ok(())
    }

    /// Adds resources; nothing is added when a URI is already taken.
    pub fn add_resources(&mut self, resources: Vec<McpResource>) -> Result<(), CatalogError> {
        let mut seen: BTreeSet<&str> = self.resources.iter().map(|r| r.uri).collect();
        if let Some(dup) = resources.iter().find(|r| !seen.insert(r.uri)) {
            return Err(CatalogError::Duplicate(dup.uri.to_owned()));
        }
        self.resources.extend(resources);
        Ok(())
    }

    pub fn resource(&self, uri: &str) -> Option<&McpResource> {
        self.resources.iter().find(|r| r.uri == uri)
    }

    /// Every tool's name, as the registry announces them.
    pub fn tool_names(&self) -> Vec<String> {
        self.tools.iter().map(|t| t.name().to_owned()).collect()
    }

    pub fn get(&self, name: &str) -> Option<&McpTool> {
        self.tools.iter().find(|t| t.name() == name)
    }

    /// Every profile name a client may ask for.
    pub fn profiles(&self) -> BTreeSet<String> {
        let mut all: BTreeSet<String> = self
            .tools
            .iter()
            .filter_map(|t| t.profiles.clone())
            .flatten()
            .collect();
        all.insert(PROFILE_ALL.to_owned());
        all
    }

    /// `Ok` when the set knows `profile`, else a 400 naming the known ones.
    pub fn check_profile(&self, profile: &str) -> Result<(), HubError> {
        // Asked on every request to `/mcp`: look, and build the list only for the error.
        let known = profile == PROFILE_ALL
            || self
                .tools
                .iter()
                .any(|t| t.profiles.as_ref().is_some_and(|ps| ps.contains(profile)));
        if known {
            return Ok(());
        }
        Err(HubError::bad_request(
            "profile",
            format!(
                "unknown profile {profile}; known: {}",
                self.profiles().into_iter().collect::<Vec<_>>().join(", ")
            ),
        ))
    }

    /// The tools `who` may use on `hub` that belong to `profile`.
    pub fn visible<'a>(
        &'a self,
        hub: &'a str,
        who: &'a Principal,
        profile: &'a str,
    ) -> impl Iterator<Item = &'a McpTool> + 'a {
        self.tools
            .iter()
            .filter(move |t| t.in_profile(profile) && who.has(hub, t.access))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, JsonSchema)]
    struct NoArgs {}

    async fn nothing(_: ToolCall, _: NoArgs) -> Result<Value, HubError> {
        Ok(Value::Null)
    }

    fn tool(name: &'static str, access: Access) -> McpTool {
        McpTool::new(name, "test", access, nothing)
    }

    #[test]
    fn names_are_checked_and_unique() {
        let mut set = Catalog::default();
        assert_eq!(
            set.add(vec![tool("Bad-Name", Access::Read)]),
            Err(CatalogError::BadName("Bad-Name".into()))
        );
        set.add(vec![tool("a_tool", Access::Read)]).unwrap();
        assert_eq!(
            set.add(vec![
                tool("b_tool", Access::Read),
                tool("a_tool", Access::Read)
            ]),
            Err(CatalogError::Duplicate("a_tool".into()))
        );
        assert!(set.get("b_tool").is_none(), "a failed add adds nothing");
    }

    #[test]
    fn visibility_follows_roles_and_profiles() {
        let mut set = Catalog::default();
        set.add(vec![
            tool("read_it", Access::Read).profile("messaging"),
            tool("write_it", Access::Write).profile("messaging"),
            tool("admin_it", Access::Admin).profile("repos"),
            tool("whoami", Access::Read).in_every_profile(),
        ])
        .unwrap();
        let reader = Principal::reading_agent("r");
        let names = |profile| {
            set.visible("dev", &reader, profile)
                .map(|t| t.name().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(names("all"), ["read_it", "whoami"]);
        assert_eq!(names("repos"), ["whoami"]);
        assert_eq!(
            set.profiles().into_iter().collect::<Vec<_>>(),
            ["all", "messaging", "repos"]
        );
        for known in ["all", "messaging", "repos"] {
            assert!(set.check_profile(known).is_ok(), "{known} is known");
        }
        let err = set.check_profile("nope").unwrap_err().to_string();
        assert!(err.contains("known: all, messaging, repos"), "{err}");
    }

    /// The text beside the structured content is the same JSON, for objects and for the other
    /// values the structured content wraps in `result`.
    #[test]
    fn a_result_text_is_its_structured_content() {
        #[derive(Serialize)]
        struct Page {
            items: Vec<u32>,
            next_cursor: Option<String>,
            note: &'static str,
        }
        let page = Page {
            items: vec![1, 2],
            next_cursor: None,
            note: "a \"quoted\" line\n",
        };
        let cases = [
            (
                Output::of(&page).unwrap(),
                serde_json::to_value(&page).unwrap(),
            ),
            (
                Output::of(&vec![3, 4]).unwrap(),
                json!({ "result": [3, 4] }),
            ),
            (Output::of(&"done").unwrap(), json!({ "result": "done" })),
        ];
        for (out, expected) in cases {
            let text: Value = serde_json::from_str(out.json()).expect("the text is JSON");
            assert_eq!(text, expected);
            let as_string = serde_json::to_string(out.json()).unwrap();
            assert_eq!(out.escaped(), &as_string.as_bytes()[1..as_string.len() - 1]);
            let res = CallToolResult::from(out);
            assert_eq!(res.is_error, Some(false));
            assert_eq!(res.structured_content, Some(expected));
            let [ContentBlock::Text(block)] = &res.content[..] else {
                panic!("one text block: {:?}", res.content);
            };
            assert_eq!(serde_json::from_str::<Value>(&block.text).unwrap(), text);
        }
    }
}

type ReadFn = dyn Fn(ToolCall) -> BoxFuture<'static, Result<Value, HubError>> + Send + Sync;
type UpdatedFn = dyn Fn(&Event, &Principal) -> bool + Send + Sync;

/// A read-only view as an MCP resource (`hub://…`), JSON, read with the caller's rights.
#[derive(Clone)]
pub struct McpResource {
    pub(crate) uri: &'static str,
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
    read: Arc<ReadFn>,
    updated_by: Option<Arc<UpdatedFn>>,
}

impl McpResource {
    pub fn new<R, F, Fut>(
        uri: &'static str,
        name: &'static str,
        description: &'static str,
        read: F,
    ) -> Self
    where
        R: Serialize + 'static,
        F: Fn(ToolCall) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, HubError>> + Send + 'static,
    {
        let read = Arc::new(read);
        Self {
            uri,
            name,
            description,
            read: Arc::new(move |call| {
                let read = read.clone();
                Box::pin(async move {
                    let out = read(call).await?;
                    serde_json::to_value(out)
                        .map_err(|e| HubError::Internal(format!("resource: {e}")))
                })
            }),
            updated_by: None,
        }
    }

    /// Makes the resource subscribable: a committed event for which `f(event, subscriber)` holds
    /// sends the subscriber `notifications/resources/updated`.
    pub fn updated_by(
        mut self,
        f: impl Fn(&Event, &Principal) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.updated_by = Some(Arc::new(f));
        self
    }

    pub(crate) fn subscribable(&self) -> bool {
        self.updated_by.is_some()
    }

    pub(crate) fn is_updated_by(&self, event: &Event, who: &Principal) -> bool {
        self.updated_by.as_ref().is_some_and(|f| f(event, who))
    }

    pub(crate) async fn read(&self, call: ToolCall) -> Result<Value, HubError> {
        (self.read)(call).await
    }
}
