//! Helpers shared by the workspace's tests and benchmarks: a token verifier that reads the
//! principal from the token text, fresh databases on SQLite and PostgreSQL, awaiting a condition,
//! and driving a hub's router in-process (`respond`, `Res`, and an MCP session in `mcp`).
//! Only ever a dev-dependency: no shipped binary can be reached through it.

pub mod bench;
mod http;
pub mod mcp;

pub use http::{Res, respond};

use async_trait::async_trait;
use hub_core::auth::{AuthError, Principal, PrincipalKind, TokenVerifier};
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;

/// Test tokens spell out their principal: `sub=alice;roles=hub:write,dev:admin;domains=finance;kind=human`.
/// Missing `roles` means `hub:admin`; missing `domains` means all domains.
pub struct SpelledTokens;

#[async_trait]
impl TokenVerifier for SpelledTokens {
    async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let mut p = Principal {
            sub: String::new(),
            kind: PrincipalKind::Agent,
            roles: vec!["hub:admin".into()],
            domains: None,
        };
        for part in token.split(';') {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| AuthError::Invalid("unreadable test token".into()))?;
            let list = || {
                v.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            };
            match k {
                "sub" => p.sub = v.to_owned(),
                "roles" => p.roles = list(),
                "domains" => p.domains = Some(list()),
                "kind" => {
                    p.kind = serde_json::from_value(Value::String(v.into()))
                        .map_err(|_| AuthError::Invalid("kind".into()))?
                }
                _ => return Err(AuthError::Invalid(format!("unknown test token key {k}"))),
            }
        }
        if p.sub.is_empty() {
            return Err(AuthError::Invalid("no sub".into()));
        }
        Ok(p)
    }
}

/// The admin test token.
pub const ADMIN: &str = "sub=admin;kind=service";

/// The storage a test hub runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL database of this test run: `HUBMESH_TEST_PG` (scripts/test sets it to a fresh
/// database), else the server's `postgres` database.
pub fn pg_test_url() -> String {
    std::env::var("HUBMESH_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A URL of a new, empty database of `backend`: on SQLite a file in a temp dir (the returned
/// guard keeps it), on PostgreSQL a fresh schema in the run's database (schemas are cheap to
/// make and the whole run is dropped at once).
pub async fn fresh_database(backend: Backend) -> (String, Option<tempfile::TempDir>) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            (
                format!("sqlite://{}/hub.db?mode=rwc", dir.path().display()),
                Some(dir),
            )
        }
        Backend::Postgres => {
            let run_db = pg_test_url();
            let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
            let db = Database::connect(&run_db)
                .await
                .expect("connect to the test PostgreSQL database");
            db.execute_unprepared(&format!("CREATE SCHEMA {schema}"))
                .await
                .expect("create test schema");
            (
                format!("{run_db}?options=-c%20search_path%3D{schema}"),
                None,
            )
        }
    }
}

/// Polls `check` until it holds, failing the test with `what` after `within`: for conditions
/// that no event announces (a row another process writes, a server coming up).
pub async fn eventually<F, Fut>(what: &str, within: std::time::Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
