//! `hubmesh`: runs the whole mesh (`hubmesh up`) and talks to its hubs as an operator.

mod mesh;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "hubmesh", version, about = "Hubmesh: run the federated hubs and operate them", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run dev, ops and fin in one process with embedded defaults (SQLite files, local issuer).
    Up(mesh::UpArgs),
    /// Apply every hub's database migrations and exit.
    Migrate(mesh::MigrateArgs),
}

fn main() -> ExitCode {
    hub_core::runner::init_logging();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Up(args) => mesh::up(args).await,
            Command::Migrate(args) => mesh::migrate(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
