//! `fin-hub`: runs the fin hub on its own.

fn main() -> std::process::ExitCode {
    hub_core::cli::main(
        fin_hub::NAME,
        fin_hub::modules,
        hub_core::auth::verifier_for,
    )
}
