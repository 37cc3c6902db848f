//! A 64-bit hash of each ledger entry's `(source, external_id)`, which SQLite finds repeats by.
//!
//! The unique index on `(source, external_id)` had random keys of about 50 bytes: an import's
//! commit of a few thousand rows dirtied about one page of it per row, and each dirty page was
//! written to the WAL and again at the checkpoint. An index of 8-byte hashes is a sixth of the
//! size, so a commit of the same rows touches far fewer pages. On SQLite the ledger's insert skips
//! rows whose hash and key match a stored row; one writer at a time makes that check safe.
//! PostgreSQL keeps the unique index (concurrent transactions need the constraint) and gets the
//! column only so that both backends have the same table.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};
use sha2::{Digest, Sha256};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FinSpend {
    Table,
    KeyHash,
    Source,
    ExternalId,
}

/// The first 8 bytes of SHA-256 over `source`, a unit separator and `external_id`. Different keys
/// may share a hash; readers compare the key itself too.
pub fn key_hash(source: &str, external_id: &str) -> i64 {
    let digest = Sha256::new()
        .chain_update(source)
        .chain_update([0x1f])
        .chain_update(external_id)
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Rows hashed per round trip when filling the column of an existing ledger.
const FILL_CHUNK: u64 = 1000;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(FinSpend::Table)
                    .add_column(
                        ColumnDef::new(FinSpend::KeyHash)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        fill(manager).await?;
        if manager.get_database_backend() == DbBackend::Sqlite {
            manager.create_index(hash_index()).await?;
            manager.drop_index(drop_statement(KEY_INDEX)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Sqlite {
            manager.create_index(key_index()).await?;
            manager.drop_index(drop_statement(HASH_INDEX)).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(FinSpend::Table)
                    .drop_column(FinSpend::KeyHash)
                    .to_owned(),
            )
            .await
    }
}

const HASH_INDEX: &str = "fin_spend_key_hash";
const KEY_INDEX: &str = "fin_spend_source_external_id";

fn hash_index() -> IndexCreateStatement {
    Index::create()
        .name(HASH_INDEX)
        .table(FinSpend::Table)
        .col(FinSpend::KeyHash)
        .to_owned()
}

/// The unique index SQLite had before this migration (and PostgreSQL keeps).
fn key_index() -> IndexCreateStatement {
    Index::create()
        .name(KEY_INDEX)
        .table(FinSpend::Table)
        .col(FinSpend::Source)
        .col(FinSpend::ExternalId)
        .unique()
        .to_owned()
}

fn drop_statement(name: &str) -> IndexDropStatement {
    Index::drop().name(name).table(FinSpend::Table).to_owned()
}

/// Hashes the entries already in the ledger, a chunk at a time in id order.
async fn fill(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = db.get_database_backend();
    let (after, update) = match backend {
        DbBackend::Postgres => ("$1", "UPDATE fin_spend SET key_hash = $1 WHERE id = $2"),
        _ => ("?", "UPDATE fin_spend SET key_hash = ? WHERE id = ?"),
    };
    let select = format!(
        "SELECT id, source, external_id FROM fin_spend WHERE id > {after} ORDER BY id LIMIT {FILL_CHUNK}"
    );
    let mut last = String::new();
    loop {
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                &select,
                [last.clone().into()],
            ))
            .await?;
        for row in &rows {
            let id: String = row.try_get("", "id")?;
            let source: String = row.try_get("", "source")?;
            let external_id: String = row.try_get("", "external_id")?;
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                update,
                [key_hash(&source, &external_id).into(), id.clone().into()],
            ))
            .await?;
            last = id;
        }
        if (rows.len() as u64) < FILL_CHUNK {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::key_hash;

    #[test]
    fn the_hash_depends_on_both_parts_and_their_boundary() {
        assert_eq!(key_hash("import", "a"), key_hash("import", "a"));
        assert_ne!(key_hash("import", "a"), key_hash("manual", "a"));
        assert_ne!(key_hash("import", "ab"), key_hash("importa", "b"));
    }
}
