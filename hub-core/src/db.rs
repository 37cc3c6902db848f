//! Database connection: SQLite (WAL) by default, PostgreSQL by URL; runs migrators at start.

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;

/// Opens the database at `url`. SQLite files get WAL, `synchronous=NORMAL`, a larger page cache
/// and a busy timeout;
/// the directory of a SQLite file is created if missing.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_pool(url, if url.starts_with("sqlite:") { 8 } else { 16 }).await
}

/// A SQLite file's own connection for writes, beside the pool of [`connect`]: SQLite empties a
/// connection's page cache when another connection changed the file, so writes that go through
/// one connection keep its cache (the indexes they update) warm. `None` on PostgreSQL and for
/// an in-memory database, which a second pool would not share.
pub async fn connect_writer(url: &str) -> Result<Option<DatabaseConnection>, DbErr> {
    if sqlite_path(url).is_none() {
        return Ok(None);
    }
    connect_pool(url, 1).await.map(Some)
}

async fn connect_pool(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = sqlite_path(url)
        && let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
    }
    let is_sqlite = url.starts_with("sqlite:");
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10));
    if is_sqlite {
        // A SQLite connection is a file handle in this process and cannot go stale: pinging it
        // on every checkout (sqlx's default) costs a round trip to its worker thread per query.
        opts.test_before_acquire(false);
        opts.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .pragma("journal_size_limit", "67108864")
                // 16 MiB of pages per connection instead of 2: a large ledger's or inbox's
                // indexes stay in memory instead of being re-read through the OS on every write.
                .pragma("cache_size", "-16384")
                // Statement and savepoint journals in memory: every writer works in a savepoint,
                // and a journal on disk is a temporary file created, written and deleted per
                // statement that needs one.
                .pragma("temp_store", "memory")
        });
    } else {
        // A server connection can be dropped by the server or the network while idle: ping only
        // those idle long enough for that, not every checkout.
        opts.test_before_acquire_if_idle_for(Duration::from_secs(30));
    }
    Database::connect(opts).await
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Applies the core migrations (every hub has the generic resources).
pub async fn migrate_core(db: &DatabaseConnection) -> Result<(), DbErr> {
    migrations::core::Migrator::up(db, None).await
}

/// The current time at the precision both databases store (microseconds), so a row returned
/// from memory equals the same row read back.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A case-insensitive substring match of `col` against `needle`, the same on SQLite and
/// PostgreSQL; `%`, `_` and backslash in `needle` match literally.
pub fn contains_ci(col: impl sea_orm::ColumnTrait, needle: &str) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
    let mut pattern = String::from("%");
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    Expr::expr(Func::lower(Expr::col(col.as_column_ref())))
        .like(LikeExpr::new(pattern).escape('\\'))
}

/// True when the database answers a trivial query.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_are_found() {
        assert_eq!(
            sqlite_path("sqlite://data/dev.db?mode=rwc"),
            Some("data/dev.db")
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x/y"), None);
    }
}
