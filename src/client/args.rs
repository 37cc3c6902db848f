//! The flags every client command takes, and those of every list command.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// Which hub to talk to, as whom, and how to print.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Hub options")]
pub struct GlobalArgs {
    /// Hub of the local mesh, by its name in `<data-dir>/endpoints.json` (dev, ops, fin; default dev).
    #[arg(long, global = true, env = "HUBMESH_HUB", value_name = "NAME")]
    pub hub: Option<String>,
    /// Base URL of a hub, e.g. http://127.0.0.1:7101; takes precedence over --hub.
    #[arg(long, global = true, env = "HUBMESH_URL", value_name = "URL")]
    pub url: Option<String>,
    /// Data directory of the local mesh (where `hubmesh up` wrote endpoints.json).
    #[arg(
        long,
        global = true,
        env = "HUBMESH_DATA_DIR",
        default_value = "./hubmesh-data",
        value_name = "DIR"
    )]
    pub data_dir: PathBuf,
    /// Bearer token sent to the hub.
    #[arg(
        long,
        global = true,
        env = "HUBMESH_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    /// Print the API's JSON as it comes, for scripts, instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

/// A command group (`hubmesh domain …`) with the global flags.
#[derive(Debug, Args)]
pub struct Group<C: Subcommand> {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: C,
}

/// A single command (`hubmesh risks`) with the global flags.
#[derive(Debug, Args)]
pub struct Single<A: Args> {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(flatten)]
    pub args: A,
}

/// Paging of list commands.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Paging")]
pub struct ListArgs {
    /// Fetch every page (following `next_cursor`) instead of the first one.
    #[arg(long)]
    pub all: bool,
    /// Page size, 1 to 500 (the hub's default is 50).
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Start after this cursor (the `next_cursor` of a previous page).
    #[arg(long, value_name = "CURSOR")]
    pub cursor: Option<String>,
}

/// Reads a flag's value as JSON (`--input '{"env": "prod"}'`).
pub fn json_value(s: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(s).map_err(|e| format!("not valid JSON: {e}"))
}

/// The name a value-enum flag has on the command line, which is also its wire name.
pub fn wire<T: clap::ValueEnum>(value: &T) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_owned())
        .unwrap_or_default()
}
