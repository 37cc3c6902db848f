//! Database connection: SQLite (WAL) by default, PostgreSQL by URL; runs migrators at start.

use std::ffi::c_int;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use sea_orm::sqlx::sqlite::SqliteConnection;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr, QueryResult, TryGetable};
use sea_orm_migration::MigratorTrait;

pub mod checkpoint;
mod inline;
pub use inline::InlineReads;

/// Opens the database at `url`. SQLite files get WAL, `synchronous=NORMAL`, a larger page cache
/// and a busy timeout;
/// the directory of a SQLite file is created if missing.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let size = if url.starts_with("sqlite:") {
        sqlite_readers()
    } else {
        16
    };
    connect_pool(url, size, None).await
}

/// A SQLite pool's size: one connection per core, at least 2 and at most 8. Each connection's
/// queries run on a thread of its own in this process, so readers beyond the cores only take
/// turns on them, and a query whose thread waits for its turn answers late: on 2 cores, 8
/// readers put the 99th percentile of `get_messages` at 16 clients about a fifth above 2
/// readers (docs/BENCHMARKS.md, session 10).
fn sqlite_readers() -> u32 {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8) as u32)
}

/// A SQLite file's own connection for writes, beside the pool of [`connect`]: SQLite empties a
/// connection's page cache when another connection changed the file, so writes that go through
/// one connection keep its cache (the indexes they update) warm. Its commits leave copying the
/// log back to [`checkpoint::run`]. `None` on PostgreSQL and for an in-memory database, which a
/// second pool would not share.
pub async fn connect_writer(url: &str) -> Result<Option<DatabaseConnection>, DbErr> {
    connect_one(url, Some(checkpoint::WRITER_AUTOCHECKPOINT)).await
}

/// A SQLite file's own connection for [`checkpoint::run`], so that a pass never takes a reader's
/// turn. `None` where [`connect_writer`] gives none.
pub async fn connect_checkpointer(url: &str) -> Result<Option<DatabaseConnection>, DbErr> {
    connect_one(url, None).await
}

async fn connect_one(
    url: &str,
    autocheckpoint: Option<u32>,
) -> Result<Option<DatabaseConnection>, DbErr> {
    if sqlite_path(url).is_none() {
        return Ok(None);
    }
    connect_pool(url, 1, autocheckpoint).await.map(Some)
}

/// `autocheckpoint` replaces SQLite's `wal_autocheckpoint` of 1,000 pages.
async fn connect_pool(
    url: &str,
    max_connections: u32,
    autocheckpoint: Option<u32>,
) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = sqlite_path(url)
        && let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
    }
    let is_sqlite = url.starts_with("sqlite:");
    if is_sqlite {
        sqlite_process_settings();
    }
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10));
    if is_sqlite {
        // A SQLite connection is a file handle in this process and cannot go stale: pinging it
        // on every checkout (sqlx's default) costs a round trip to its worker thread per query.
        opts.test_before_acquire(false);
        opts.map_sqlx_sqlite_opts(move |o| {
            let o = o
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true)
                .pragma("journal_size_limit", "67108864");
            let o = SQLITE_CONNECTION_PRAGMAS
                .into_iter()
                .fold(o, |o, (name, value)| o.pragma(name, value));
            match autocheckpoint {
                Some(pages) => o.pragma("wal_autocheckpoint", pages.to_string()),
                None => o,
            }
        });
        opts.map_sqlx_sqlite_pool_opts(|o| {
            o.after_connect(|conn, _| Box::pin(stable_query_plans(conn)))
        });
    } else {
        // A server connection can be dropped by the server or the network while idle: ping only
        // those idle long enough for that, not every checkout.
        opts.test_before_acquire_if_idle_for(Duration::from_secs(30));
    }
    Database::connect(opts).await
}

/// How long a SQLite connection waits for a lock before it gives up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Pragmas of every SQLite connection, sqlx's and the inline reads' alike.
const SQLITE_CONNECTION_PRAGMAS: [(&str, &str); 2] = [
    // 16 MiB of pages per connection instead of 2: a large ledger's or inbox's indexes stay in
    // memory instead of being re-read through the OS on every write.
    ("cache_size", "-16384"),
    // Statement and savepoint journals in memory: every writer works in a savepoint, and a
    // journal on disk is a temporary file created, written and deleted per statement that
    // needs one.
    ("temp_store", "memory"),
];

/// SQLite's process-wide settings, made once, before this process opens its first SQLite
/// connection (SQLite takes them only before it initializes; later it refuses and changes nothing).
///
/// Memory statistics off: with them on, every SQLite allocation takes one process-wide mutex to
/// count itself, and sqlx copies every column value of every row it reads, on its worker threads,
/// while the rows of the previous query are freed on tokio's: that mutex and its contention were
/// 5 % of the hub's CPU per MCP inbox call. The hub reads none of the statistics it keeps.
fn sqlite_process_settings() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: `sqlite3_config` must not run while another thread calls SQLite. The hub opens
        // SQLite only in `connect_pool`, after this `Once` completed; before that first
        // connection no SQLite call can be under way.
        let rc = unsafe {
            libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS, 0 as c_int)
        };
        if rc != libsqlite3_sys::SQLITE_OK {
            tracing::debug!(
                code = rc,
                "SQLite keeps its memory statistics: it was initialized before the hub connected"
            );
        }
    });
}

/// Turns on SQLite's query planner stability guarantee (QPSG) for a new connection.
/// Without it SQLite (3.51) plans `LIMIT ?` with the bound number as a constant and marks the
/// statement expired whenever that parameter is bound again, so every paged query was parsed
/// and planned anew on each run instead of reusing sqlx's prepared statement (measured: 8 % of
/// the hub's CPU per MCP inbox call). With it, plans never depend on bound values; the hub keeps
/// no planner statistics (`ANALYZE`) that such plans could use. A SQLite without the flag (before
/// 3.18) is only slower, so its refusal is logged and the connection kept.
async fn stable_query_plans(conn: &mut SqliteConnection) -> Result<(), sea_orm::sqlx::Error> {
    let (rc, on) = query_planner_stability(conn, 1).await?;
    if rc != libsqlite3_sys::SQLITE_OK || on != 1 {
        tracing::warn!(
            code = rc,
            "SQLite refused the query planner stability guarantee: paged queries are prepared anew on each run"
        );
    }
    Ok(())
}

/// Sets the connection's QPSG flag (`1` on, `0` off, `-1` leaves it as it is); SQLite's result
/// code and the flag's value afterwards.
async fn query_planner_stability(
    conn: &mut SqliteConnection,
    set: c_int,
) -> Result<(c_int, c_int), sea_orm::sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let mut on: c_int = -1;
    // SAFETY: `db` is the open connection the lock holds for this call; the call sets or reads
    // one flag of it and writes its value into `on`.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db,
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            set,
            &mut on,
        )
    };
    Ok((rc, on))
}

pub(crate) fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// A row's columns read in order by position, from sea-orm or from an inline read
/// ([`InlineReads`]). sea-orm's own decoding finds each column by a name it formats and hashes
/// per row and column, which was a fifth of the hub's CPU per MCP inbox call; a hot query
/// selects its columns in a known order and reads them back with this.
pub struct Cells<'a> {
    row: Row<'a>,
    next: usize,
}

enum Row<'a> {
    Orm(&'a QueryResult),
    Inline(&'a rusqlite::Row<'a>),
}

impl<'a> Cells<'a> {
    pub fn new(row: &'a QueryResult) -> Self {
        Self {
            row: Row::Orm(row),
            next: 0,
        }
    }

    fn inline(row: &'a rusqlite::Row<'a>) -> Self {
        Self {
            row: Row::Inline(row),
            next: 0,
        }
    }

    /// The next column's value.
    pub fn take<T: TryGetable + Cell>(&mut self) -> Result<T, DbErr> {
        let at = self.next;
        self.next += 1;
        match self.row {
            Row::Orm(row) => row.try_get_by_index(at),
            Row::Inline(row) => {
                let bad = |e: &dyn std::fmt::Display| DbErr::Type(format!("column {at}: {e}"));
                T::cell(row.get_ref(at).map_err(|e| bad(&e))?).map_err(|e| bad(&e))
            }
        }
    }
}

/// A column's type as an inline read decodes it: rusqlite's decoding, except for times.
pub trait Cell: Sized {
    fn cell(v: ValueRef) -> FromSqlResult<Self>;
}

macro_rules! cells_as_rusqlite_reads_them {
    ($($t:ty),*) => {$(
        impl Cell for $t {
            fn cell(v: ValueRef) -> FromSqlResult<Self> {
                FromSql::column_result(v)
            }
        }
    )*};
}
cells_as_rusqlite_reads_them!(String, bool, i32, i64);

impl<T: Cell> Cell for Option<T> {
    fn cell(v: ValueRef) -> FromSqlResult<Self> {
        match v {
            ValueRef::Null => Ok(None),
            v => T::cell(v).map(Some),
        }
    }
}

/// sqlx stores a time as RFC 3339 text in UTC, which is read by position
/// ([`utc_by_position`]); rusqlite's decoding tries strftime patterns, which took 4.6 % of the
/// hub's CPU per MCP inbox call (docs/BENCHMARKS.md, session 16), and chrono's RFC 3339 parser
/// 2 % (session 21). Other RFC 3339 spellings go to chrono, the rest to rusqlite.
impl Cell for DateTime<Utc> {
    fn cell(v: ValueRef) -> FromSqlResult<Self> {
        let text = v.as_str()?;
        if let Some(t) = utc_by_position(text) {
            return Ok(t);
        }
        match DateTime::parse_from_rfc3339(text) {
            Ok(t) => Ok(t.to_utc()),
            Err(_) => FromSql::column_result(v),
        }
    }
}

/// sqlx's spelling of a UTC time, `2026-12-07T03:15:00.123456+00:00` (or ending in `Z`), read
/// digit by digit; `None` for any other spelling, and for a leap second.
fn utc_by_position(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let b = b.strip_suffix(b"+00:00").or_else(|| b.strip_suffix(b"Z"))?;
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if b.len() < 19 || separators.iter().any(|&(at, c)| b[at] != c) {
        return None;
    }
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            number(digits)? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let year = i32::try_from(number(&b[0..4])?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, number(&b[5..7])?, number(&b[8..10])?)?;
    let (h, m, s) = (
        number(&b[11..13])?,
        number(&b[14..16])?,
        number(&b[17..19])?,
    );
    Some(date.and_hms_nano_opt(h, m, s, nanos)?.and_utc())
}

/// Reads a column of a string-valued sea-orm enum in an inline read.
pub fn enum_cell<E: sea_orm::ActiveEnum<Value = String>>(v: ValueRef) -> FromSqlResult<E> {
    E::try_from_value(&v.as_str()?.to_owned()).map_err(FromSqlError::other)
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

/// The URL of a SQLite file `name` in a new temporary directory, for unit tests; the directory
/// and the file go when the returned guard is dropped.
#[cfg(test)]
pub(crate) fn temp_sqlite_url(name: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/{name}?mode=rwc", dir.path().display());
    (dir, url)
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

    #[test]
    fn times_read_inline_as_rusqlite_reads_them() {
        let conn = rusqlite::Connection::open_in_memory().expect("connection");
        let read = |text: Option<&str>| {
            conn.query_row("SELECT ?1", [text], |row| {
                let v = row.get_ref(0)?;
                Ok((
                    <Option<DateTime<Utc>>>::cell(v),
                    <Option<DateTime<Utc>>>::column_result(v),
                ))
            })
            .expect("row")
        };
        let at = |s: &str| DateTime::parse_from_rfc3339(s).expect("time").to_utc();
        for (text, want) in [
            // As sqlx writes a time.
            (
                "2026-12-07T03:15:00.123456789+00:00",
                at("2026-12-07T03:15:00.123456789Z"),
            ),
            ("2026-12-07T05:15:00+02:00", at("2026-12-07T03:15:00Z")),
            // As SQLite's CURRENT_TIMESTAMP writes one: rusqlite's fallback.
            ("2026-12-07 03:15:00", at("2026-12-07T03:15:00Z")),
        ] {
            let (ours, theirs) = read(Some(text));
            assert_eq!(ours.expect(text), Some(want), "{text}");
            assert_eq!(theirs.expect(text), Some(want), "{text}");
        }
        assert_eq!(read(None).0.expect("null"), None);
        assert!(read(Some("yesterday")).0.is_err());
    }

    /// What is read by position is what chrono reads, and what chrono alone reads is left to it.
    #[test]
    fn times_read_by_position_as_chrono_reads_them() {
        let cases = [
            ("2026-12-07T03:15:00.123456+00:00", true),
            ("2026-12-07T03:15:00+00:00", true),
            ("2026-12-07T03:15:00Z", true),
            ("2026-12-07T03:15:00.1Z", true),
            ("2026-12-07T03:15:00.123456789+00:00", true),
            ("0001-01-01T00:00:00.000000001Z", true),
            ("9999-12-31T23:59:59.999999999+00:00", true),
            ("2024-02-29T12:00:00Z", true),
            // chrono's alone, or no one's.
            ("2026-12-07T05:15:00+02:00", false),
            ("2026-12-07t03:15:00z", false),
            ("2026-12-07 03:15:00+00:00", false),
            ("2016-12-31T23:59:60.5Z", false),
            ("2026-12-07T03:15:00.1234567891Z", false),
            ("2026-12-07T03:15:00.Z", false),
            ("2025-02-29T12:00:00Z", false),
            ("2026-13-07T03:15:00Z", false),
            ("2026-12-07T24:00:00Z", false),
            ("2026-12-07T03:15:0xZ", false),
            ("+2026-12-07T03:15:00Z", false),
            ("2026-12-07T03:15Z", false),
            ("", false),
        ];
        for (text, by_position) in cases {
            let chronos = DateTime::parse_from_rfc3339(text).map(|t| t.to_utc()).ok();
            let ours = utc_by_position(text);
            assert_eq!(ours.is_some(), by_position, "{text}");
            if ours.is_some() {
                assert_eq!(ours, chronos, "{text}");
            }
            let cell = <DateTime<Utc>>::cell(ValueRef::Text(text.as_bytes())).ok();
            if chronos.is_some() {
                assert_eq!(cell, chronos, "{text}");
            }
        }
    }

    #[tokio::test]
    async fn sqlite_connections_plan_without_bound_values() {
        let (_dir, url) = crate::db::temp_sqlite_url("plans.db");
        let pool = connect(&url).await.expect("pool");
        let writer = connect_writer(&url).await.expect("writer").expect("a file");
        for db in [pool, writer] {
            let mut conn = db
                .get_sqlite_connection_pool()
                .acquire()
                .await
                .expect("connection");
            let (rc, on) = query_planner_stability(&mut conn, -1)
                .await
                .expect("flag read");
            assert_eq!((rc, on), (libsqlite3_sys::SQLITE_OK, 1));
        }
    }

    #[tokio::test]
    async fn a_sqlite_pool_has_a_reader_per_core_and_the_writer_one_connection() {
        let (_dir, url) = crate::db::temp_sqlite_url("sizes.db");
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let size = |db: DatabaseConnection| {
            db.get_sqlite_connection_pool()
                .options()
                .get_max_connections()
        };
        let readers = size(connect(&url).await.expect("pool"));
        assert_eq!(readers as usize, cores.clamp(2, 8));
        let writer = connect_writer(&url).await.expect("writer").expect("a file");
        assert_eq!(size(writer), 1);
    }

    #[tokio::test]
    async fn only_the_writer_leaves_its_checkpoints_to_the_checkpointer() {
        let (_dir, url) = crate::db::temp_sqlite_url("threshold.db");
        let threshold = |db: DatabaseConnection| async move {
            let row = sea_orm::ConnectionTrait::query_one_raw(
                &db,
                sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Sqlite,
                    "PRAGMA wal_autocheckpoint",
                ),
            )
            .await
            .expect("read")
            .expect("a row");
            row.try_get_by_index::<i64>(0).expect("pages")
        };
        let writer = connect_writer(&url).await.expect("writer").expect("a file");
        assert_eq!(
            threshold(writer).await,
            i64::from(checkpoint::WRITER_AUTOCHECKPOINT)
        );
        let checkpointer = connect_checkpointer(&url).await.expect("connect");
        assert_eq!(threshold(checkpointer.expect("a file")).await, 1_000);
        assert_eq!(threshold(connect(&url).await.expect("pool")).await, 1_000);
    }

    #[tokio::test]
    async fn sqlite_keeps_no_memory_statistics() {
        let (_dir, url) = crate::db::temp_sqlite_url("stats.db");
        let db = connect(&url).await.expect("pool");
        sea_orm::ConnectionTrait::execute_unprepared(
            &db,
            "CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('counted if statistics were kept')",
        )
        .await
        .expect("write");
        // SAFETY: reads a process-wide counter; callable from any thread at any time.
        let counted = unsafe { libsqlite3_sys::sqlite3_memory_used() };
        // With statistics on, the open connections' caches and schema alone would count here.
        assert_eq!(counted, 0);
    }
}
