//! Bulk inserts whose rows travel as one JSON array in one bind parameter: the statement text
//! is the same whatever the number of rows, so each connection prepares it once, and no query
//! builder makes and binds a value per cell (a 1,000-row ledger batch had 12,000).

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde::Serialize;

use hub_core::HubError;

/// An `INSERT … SELECT` from a JSON array of rows, each row an array of the columns in order.
pub struct BulkInsert {
    pub table: &'static str,
    /// Each column and the PostgreSQL type its JSON value is cast to (SQLite needs none: the
    /// values take the types a bound parameter would have).
    pub columns: &'static [(&'static str, &'static str)],
    /// What happens to a row whose key is taken.
    pub conflict: Conflict,
    /// The column returned for each inserted row, if any.
    pub returning: Option<&'static str>,
}

/// How a [`BulkInsert`] treats rows whose key is already stored.
pub enum Conflict {
    /// What follows `ON CONFLICT`, on both backends.
    Clause(&'static str),
    /// Rows whose `key` columns equal a stored row's are skipped. PostgreSQL finds those by the
    /// unique index on `key`. SQLite finds them by the index on `hash`, a column of 64-bit hashes
    /// of the key that the rows carry, and compares the key itself; its one writer makes that
    /// check safe without a unique index, and rows repeated within one insert must be dropped by
    /// the caller (the check sees only rows stored before the statement).
    Skip {
        hash: &'static str,
        key: &'static [&'static str],
    },
}

impl BulkInsert {
    /// The JSON value of `column` in the row `r` of the source.
    fn value(&self, backend: DbBackend, column: &str) -> String {
        let (i, (_, pg)) = self
            .columns
            .iter()
            .enumerate()
            .find(|(_, (c, _))| *c == column)
            .expect("a conflict key names inserted columns");
        element(backend, i, pg)
    }

    fn sql(&self, backend: DbBackend) -> String {
        let names: Vec<&str> = self.columns.iter().map(|(c, _)| *c).collect();
        let values: Vec<String> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, (_, pg))| element(backend, i, pg))
            .collect();
        let source = match backend {
            DbBackend::Postgres => "jsonb_array_elements($1::jsonb) AS r(value)",
            _ => "jsonb_each(?) AS r",
        };
        // `WHERE true` keeps SQLite from reading `ON CONFLICT` as a join constraint.
        let tail = match (&self.conflict, backend) {
            (Conflict::Clause(clause), _) => format!("WHERE true ON CONFLICT {clause}"),
            (Conflict::Skip { key, .. }, DbBackend::Postgres) => {
                format!("WHERE true ON CONFLICT ({}) DO NOTHING", key.join(", "))
            }
            (Conflict::Skip { hash, key }, _) => {
                let same: Vec<String> = std::iter::once(hash)
                    .chain(key.iter())
                    .map(|c| format!("s.{c} = {}", self.value(backend, c)))
                    .collect();
                format!(
                    "WHERE NOT EXISTS (SELECT 1 FROM {} AS s WHERE {})",
                    self.table,
                    same.join(" AND ")
                )
            }
        };
        let mut sql = format!(
            "INSERT INTO {} ({}) SELECT {} FROM {source} {tail}",
            self.table,
            names.join(", "),
            values.join(", "),
        );
        if let Some(col) = self.returning {
            sql.push_str(" RETURNING ");
            sql.push_str(col);
        }
        sql
    }

    /// Inserts `rows` (each serializing to a JSON array of the columns) and returns the
    /// `returning` column of the rows inserted.
    pub async fn run<R: Serialize>(
        &self,
        db: &impl ConnectionTrait,
        rows: &[R],
    ) -> Result<Vec<String>, HubError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let backend = db.get_database_backend();
        let json = serde_json::to_string(rows)
            .map_err(|e| HubError::Internal(format!("bulk rows: {e}")))?;
        let stmt = Statement::from_sql_and_values(backend, self.sql(backend), [json.into()]);
        let Some(col) = self.returning else {
            db.execute_raw(stmt).await?;
            return Ok(Vec::new());
        };
        db.query_all_raw(stmt)
            .await?
            .iter()
            .map(|row| row.try_get::<String>("", col).map_err(HubError::from))
            .collect()
    }
}

/// Element `i` of the source row `r`, cast to `pg` on PostgreSQL.
fn element(backend: DbBackend, i: usize, pg: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("(r.value ->> {i})::{pg}"),
        _ => format!("r.value ->> {i}"),
    }
}

/// A time as the text SQLite stores for a bound time, so bulk-inserted rows read and sort like
/// any other (PostgreSQL casts it to `timestamptz`).
pub fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}
