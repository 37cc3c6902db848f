//! The outbound HTTP client of hub-core (issuer discovery, JWKS, hub-to-hub token requests).

use std::sync::Once;
use std::time::Duration;

/// A reqwest client with rustls on the ring provider, which is installed once per process
/// (reqwest is built without a provider of its own).
pub fn client() -> reqwest::Client {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        // Another part of the process may have installed one already; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a TLS backend is installed")
}
