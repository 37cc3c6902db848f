//! `dev-hub`: runs the dev hub on its own.

fn main() -> std::process::ExitCode {
    hub_core::cli::main(
        dev_hub::NAME,
        dev_hub::modules,
        hub_core::auth::verifier_for,
    )
}
