//! `hubmesh`: runs the whole mesh (`hubmesh up`) and talks to its hubs as an operator.

mod cli;
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
    /// Log in: as a client (client credentials) or in the browser (authorization code + PKCE).
    Login(cli::identity::LoginArgs),
    /// Print a bearer token (the stored login's, else the local mesh's admin client).
    Token(cli::identity::TokenArgs),
    /// Manage the local issuer's clients, users and signing keys.
    #[command(subcommand)]
    Identity(cli::identity::IdentityCommand),
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
            Command::Login(args) => cli::identity::login(args).await,
            Command::Token(args) => cli::identity::token(args).await,
            Command::Identity(cmd) => cli::identity::identity(cmd),
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
