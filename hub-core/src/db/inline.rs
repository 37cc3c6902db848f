//! SQLite reads run on the calling thread, for the hottest queries (an agent's inbox page, the
//! relay's unsent rows).
//!
//! sqlx runs each SQLite connection on a thread of its own: a query is a command sent to that
//! thread, and every row comes back over a channel after its column values were copied. For a
//! page of 20 messages those hand-offs, the thread wake-ups and the copies were about a quarter
//! of the hub's CPU per MCP `get_messages` call (docs/BENCHMARKS.md, session 15). A read of an
//! indexed page takes tens of microseconds, so it runs here, on the task's own thread, on a
//! connection of this module's (rusqlite, the same SQLite as sqlx's), with the statement
//! prepared once per connection. Only reads go this way: in WAL mode a reader never waits for
//! the writer, so the thread does not block on the hub's own writes. The largest such read, a
//! relay round of up to 1,000 outbox rows, holds its thread a few milliseconds; the runtime's
//! other workers take its queued tasks meanwhile.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::SecondsFormat;
use rusqlite::types::{ToSqlOutput, Value as Lite, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};
use sea_orm::DbErr;
use sea_orm::sea_query::{SelectStatement, SqliteQueryBuilder, Value};

use super::Cells;

/// A SQLite file's connections for inline reads: one per thread reading at a time, opened on
/// first need and kept. A connection is held only for the length of one synchronous query, so
/// there are never more than the threads that run queries.
pub struct InlineReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl InlineReads {
    /// Inline reads of the SQLite file at `url`; `None` for PostgreSQL and in-memory SQLite.
    pub fn for_url(url: &str) -> Option<Self> {
        super::sqlite_path(url).map(|path| Self {
            path: Path::new(path).to_owned(),
            idle: Mutex::default(),
        })
    }

    /// Runs `q` and reads each row with `read`, its columns in the select's order.
    pub fn select<T>(
        &self,
        q: &SelectStatement,
        mut read: impl FnMut(&mut Cells) -> Result<T, DbErr>,
    ) -> Result<Vec<T>, DbErr> {
        let (sql, values) = q.build(SqliteQueryBuilder);
        let conn = self.take()?;
        let rows = (|| {
            let mut stmt = conn.prepare_cached(&sql).map_err(query_failed)?;
            let mut rows = stmt
                .query(rusqlite::params_from_iter(values.iter().map(Bind)))
                .map_err(query_failed)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(query_failed)? {
                out.push(read(&mut Cells::inline(row))?);
            }
            Ok(out)
        })();
        // A connection whose query failed is as good as any: SQLite resets the statement.
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(conn);
        rows
    }

    fn take(&self) -> Result<Connection, DbErr> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match idle {
            Some(conn) => Ok(conn),
            None => self.open().map_err(query_failed),
        }
    }

    /// A connection as `db::connect` makes them, but for reading only.
    fn open(&self) -> rusqlite::Result<Connection> {
        super::sqlite_process_settings();
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(super::SQLITE_BUSY_TIMEOUT)?;
        conn.pragma_update(None, "query_only", true)?;
        for (name, value) in super::SQLITE_CONNECTION_PRAGMAS {
            conn.pragma_update(None, name, value)?;
        }
        // As on sqlx's connections (`db::stable_query_plans`): plans that do not depend on
        // bound values, so a paged query is prepared once.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        Ok(conn)
    }
}

fn query_failed(e: rusqlite::Error) -> DbErr {
    DbErr::Custom(format!("SQLite read failed: {e}"))
}

/// A query's value bound as sqlx binds it for SQLite (sea-orm's path), so both read the same rows.
struct Bind<'a>(&'a Value);

impl ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        let int = |i: Option<i64>| Ok(ToSqlOutput::Owned(i.map_or(Lite::Null, Lite::Integer)));
        match self.0 {
            Value::Bool(b) => int(b.map(i64::from)),
            Value::TinyInt(i) => int(i.map(i64::from)),
            Value::SmallInt(i) => int(i.map(i64::from)),
            Value::Int(i) => int(i.map(i64::from)),
            Value::BigInt(i) => int(*i),
            Value::TinyUnsigned(i) => int(i.map(i64::from)),
            Value::SmallUnsigned(i) => int(i.map(i64::from)),
            Value::Unsigned(i) => int(i.map(i64::from)),
            Value::BigUnsigned(Some(u)) => i64::try_from(*u)
                .map(|i| ToSqlOutput::Owned(Lite::Integer(i)))
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e))),
            Value::BigUnsigned(None) => int(None),
            Value::String(s) => Ok(s.as_deref().map_or(ToSqlOutput::Owned(Lite::Null), |s| {
                ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
            })),
            Value::ChronoDateTimeUtc(t) => Ok(ToSqlOutput::Owned(t.map_or(Lite::Null, |t| {
                Lite::Text(t.to_rfc3339_opts(SecondsFormat::AutoSi, false))
            }))),
            other => Err(rusqlite::Error::ToSqlConversionFailure(
                format!("no inline binding for {other:?}").into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Statement};

    use super::*;

    /// An inline reader is set up as the pool's connections are, and reads only.
    #[tokio::test]
    async fn inline_connections_have_the_pools_settings() {
        let (_dir, url) = crate::db::temp_sqlite_url("settings.db");
        let pool = crate::db::connect(&url).await.expect("pool");
        let reads = InlineReads::for_url(&url).expect("a SQLite file");
        let conn = reads.open().expect("inline connection");
        for pragma in ["cache_size", "temp_store", "busy_timeout"] {
            let sql = format!("PRAGMA {pragma}");
            let inline: i64 = conn
                .query_row(&sql, [], |r| r.get(0))
                .expect("inline pragma");
            let row = pool
                .query_one_raw(Statement::from_string(pool.get_database_backend(), sql))
                .await
                .expect("pool pragma")
                .expect("a row");
            let pooled: i64 = row.try_get_by_index(0).expect("a number");
            assert_eq!(inline, pooled, "{pragma}");
        }
        let query_only: i64 = conn
            .query_row("PRAGMA query_only", [], |r| r.get(0))
            .expect("query_only");
        assert_eq!(query_only, 1);
    }
}
