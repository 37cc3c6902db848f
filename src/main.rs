//! `hubmesh`: runs the whole mesh (`hubmesh up`) and talks to its hubs as an operator.

mod cli;
mod client;
mod cmd;
mod mesh;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use client::{Ctx, GlobalArgs, Group, Single};
use cmd::{agents, cap, dev, domain, fin, msg, ops, progress, repo, service, system};

#[derive(Debug, Parser)]
#[command(name = "hubmesh", version, about = "Hubmesh: run the federated hubs and operate them", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Operator commands talk to one hub over REST (`--hub` or `--url`) and print tables, or the
/// API's JSON with `--json`.
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
    /// Health and state summary of every hub of the mesh (or of the one --hub/--url names).
    Status(GlobalArgs),
    /// The hub's modules and their state.
    Modules(GlobalArgs),
    /// The live hubs of the federation: version, last heartbeat, modules, REST URL.
    Hubs(GlobalArgs),
    /// Domains: list, create, show, summary.
    Domain(Group<domain::DomainCmd>),
    /// Messages: send, inbox, read, ack, reply, thread, search.
    Msg(Group<msg::MsgCmd>),
    /// Agents' presence: list, heartbeat.
    Agents(Group<agents::AgentsCmd>),
    /// Capabilities and requests for them.
    Cap(Group<cap::CapCmd>),
    /// Repositories of the domains.
    Repo(Group<repo::RepoCmd>),
    /// The dev hub: workplan documents (import, check, export), workplans, tasks and claims, decisions.
    Dev(Group<dev::DevCmd>),
    /// Third-party services and tools, and the GDPR report.
    Service(Group<service::ServiceCmd>),
    /// Progress events, newest first; `events record` adds one.
    Events(Single<progress::EventsArgs>),
    /// Open risks (all with --all).
    Risks(Single<progress::TrackedArgs>),
    /// Open and acknowledged alerts (all with --all).
    Alerts(Single<progress::TrackedArgs>),
    /// The fin hub (default --hub fin): budgets, commitments, spend, imports, burn, runway, costs.
    Fin(Group<fin::FinCmd>),
    /// The ops hub: services, deployments, runs, evidence, outcomes, readiness, costs, import/export.
    Ops(Group<ops::OpsCmd>),
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Up(args) => mesh::up(args).await,
        Command::Migrate(args) => mesh::migrate(args).await,
        Command::Login(args) => cli::identity::login(args).await,
        Command::Token(args) => cli::identity::token(args).await,
        Command::Identity(cmd) => cli::identity::identity(cmd),
        Command::Status(global) => system::status(&global).await,
        Command::Modules(global) => system::modules(&Ctx::connect(&global).await?).await,
        Command::Hubs(global) => system::hubs(&Ctx::connect(&global).await?).await,
        Command::Domain(g) => domain::run(&Ctx::connect(&g.global).await?, g.command).await,
        Command::Msg(g) => msg::run(&Ctx::connect(&g.global).await?, g.command).await,
        Command::Agents(g) => agents::run(&Ctx::connect(&g.global).await?, g.command).await,
        Command::Cap(g) => cap::run(&Ctx::connect(&g.global).await?, g.command).await,
        Command::Repo(g) => repo::run(&Ctx::connect(&g.global).await?, g.command).await,
        Command::Dev(g) => dev::run(&Ctx::connect(&g.global).await?, g.command).await,
        Command::Service(g) => service::run(&Ctx::connect(&g.global).await?, g.command).await,
        Command::Events(s) => progress::events(&Ctx::connect(&s.global).await?, s.args).await,
        Command::Risks(s) => {
            progress::tracked(&Ctx::connect(&s.global).await?, "/api/v1/risks", s.args).await
        }
        Command::Alerts(s) => {
            progress::tracked(&Ctx::connect(&s.global).await?, "/api/v1/alerts", s.args).await
        }
        Command::Fin(mut g) => {
            g.global.hub.get_or_insert_with(|| fin_hub::NAME.to_owned());
            fin::run(&Ctx::connect(&g.global).await?, g.command).await
        }
        Command::Ops(mut g) => {
            g.global.hub.get_or_insert_with(|| ops_hub::NAME.to_owned());
            ops::run(&Ctx::connect(&g.global).await?, g.command).await
        }
    }
}

fn main() -> ExitCode {
    hub_core::runner::init_logging();
    let cli = Cli::parse();
    // reqwest is built without a default TLS provider: install ring's before any client exists.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_cli_is_consistent() {
        Cli::command().debug_assert();
    }

    /// `--help` must explain every option of every command.
    #[test]
    fn every_argument_has_help() {
        fn undocumented(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
            let path = format!("{path} {}", cmd.get_name());
            if cmd.get_about().is_none() && !path.ends_with(" help") {
                out.push(path.clone());
            }
            for arg in cmd.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if !builtin && arg.get_help().is_none() && arg.get_long_help().is_none() {
                    out.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                undocumented(sub, &path, out);
            }
        }
        let mut missing = Vec::new();
        undocumented(&Cli::command(), "", &mut missing);
        assert_eq!(missing, Vec::<String>::new());
    }
}
