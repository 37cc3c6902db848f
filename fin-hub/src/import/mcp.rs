//! MCP tool: `import_costs`.

use std::collections::BTreeMap;
use std::io::{Seek, Write};
use std::sync::Arc;

use hub_core::HubError;
use hub_core::auth::Access;
use hub_core::mcp::{McpTool, ToolCall};
use schemars::JsonSchema;
use serde::Deserialize;

use super::api::Import;
use super::model::{ImportFormat, ImportKind};
use super::service::{self, ImportOptions};
use crate::config::FinConfig;

pub fn tools(cfg: &Arc<FinConfig>) -> Vec<McpTool> {
    let cfg = cfg.clone();
    vec![McpTool::new(
        "import_costs",
        "Import CSV text of costs (FinOps FOCUS columns, the native date,amount,currency,domain \
         columns, or your own with `map`) or of token usage. Valid rows are kept, rejected rows \
         come back with their line numbers, and importing the same rows again adds nothing.",
        Access::Write,
        move |call, args| import_costs(call, cfg.clone(), args),
    )]
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportArgs {
    /// The CSV text, header line first.
    pub csv: String,
    /// `costs` (default) or `token_usage`.
    pub kind: Option<ImportKind>,
    /// Detected from the header when absent.
    pub format: Option<ImportFormat>,
    /// The domain of every row (else each row's domain / SubAccountName column).
    pub domain: Option<String>,
    /// Field -> column name, e.g. {"date": "UsageDate", "amount": "Cost"}.
    #[serde(default)]
    pub map: BTreeMap<String, String>,
    pub filename: Option<String>,
}

async fn import_costs(
    call: ToolCall,
    cfg: Arc<FinConfig>,
    args: ImportArgs,
) -> Result<Import, HubError> {
    if args.csv.len() as u64 > cfg.import_max_bytes {
        return Err(HubError::PayloadTooLarge {
            limit: cfg.import_max_bytes as usize,
        });
    }
    let temp = |e: std::io::Error| HubError::Internal(format!("temporary file: {e}"));
    let mut file = tempfile::tempfile().map_err(temp)?;
    file.write_all(args.csv.as_bytes()).map_err(temp)?;
    file.rewind().map_err(temp)?;
    let opts = ImportOptions {
        kind: args.kind.unwrap_or(ImportKind::Costs),
        format: args.format,
        domain: args.domain,
        mapping: args.map,
        filename: args.filename,
    };
    Ok(service::import(call.ctx(), &call.who, cfg, file, opts)
        .await?
        .into())
}
