//! `ops-hub`: runs the ops hub on its own.

fn main() -> std::process::ExitCode {
    hub_core::cli::main(
        ops_hub::NAME,
        ops_hub::modules,
        hub_core::auth::verifier_for,
    )
}
