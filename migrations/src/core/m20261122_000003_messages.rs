//! Messages and their per-recipient state, with full-text search over subject and body.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    Sender,
    Subject,
    Body,
    ThreadId,
    Importance,
    AckRequired,
    Domain,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MessageRecipients {
    Table,
    MessageId,
    Recipient,
    Hub,
    Delivery,
    ReadAt,
    AckedAt,
}

/// SQLite: an FTS5 table over the messages' own rows (external content, keyed by the implicit
/// rowid), kept in sync by triggers. A `VACUUM` may renumber implicit rowids; run
/// `INSERT INTO messages_fts(messages_fts) VALUES('rebuild')` after one.
const SQLITE_FTS: &[&str] = &[
    "CREATE VIRTUAL TABLE messages_fts USING fts5(subject, body, content='messages', content_rowid='rowid')",
    "CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN \
     INSERT INTO messages_fts(rowid, subject, body) VALUES (new.rowid, new.subject, new.body); END",
    "CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN \
     INSERT INTO messages_fts(messages_fts, rowid, subject, body) VALUES ('delete', old.rowid, old.subject, old.body); END",
    "CREATE TRIGGER messages_fts_au AFTER UPDATE OF subject, body ON messages BEGIN \
     INSERT INTO messages_fts(messages_fts, rowid, subject, body) VALUES ('delete', old.rowid, old.subject, old.body); \
     INSERT INTO messages_fts(rowid, subject, body) VALUES (new.rowid, new.subject, new.body); END",
];

/// PostgreSQL: the search query uses exactly this expression, so the planner picks the index.
const PG_FTS: &str = "CREATE INDEX messages_fts ON messages \
     USING GIN (to_tsvector('simple', subject || ' ' || body))";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(
                        ColumnDef::new(Messages::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Messages::Sender).string().not_null())
                    .col(ColumnDef::new(Messages::Subject).string().not_null())
                    .col(ColumnDef::new(Messages::Body).text().not_null())
                    .col(ColumnDef::new(Messages::ThreadId).string().not_null())
                    .col(ColumnDef::new(Messages::Importance).string().not_null())
                    .col(ColumnDef::new(Messages::AckRequired).boolean().not_null())
                    .col(ColumnDef::new(Messages::Domain).string().null())
                    .col(
                        ColumnDef::new(Messages::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // Thread view (thread, id) and "sent by me" visibility checks (sender, id).
        for (name, col) in [
            ("messages_thread", Messages::ThreadId),
            ("messages_sender", Messages::Sender),
            ("messages_domain", Messages::Domain),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Messages::Table)
                        .col(col)
                        .col(Messages::Id)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(MessageRecipients::Table)
                    .col(
                        ColumnDef::new(MessageRecipients::MessageId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MessageRecipients::Recipient)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(MessageRecipients::Hub).string().not_null())
                    .col(
                        ColumnDef::new(MessageRecipients::Delivery)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MessageRecipients::ReadAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(MessageRecipients::AckedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(MessageRecipients::MessageId)
                            .col(MessageRecipients::Recipient),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MessageRecipients::Table, MessageRecipients::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The inbox: one recipient's rows, newest first.
        manager
            .create_index(
                Index::create()
                    .name("message_recipients_inbox")
                    .table(MessageRecipients::Table)
                    .col(MessageRecipients::Recipient)
                    .col((MessageRecipients::MessageId, IndexOrder::Desc))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => {
                for sql in SQLITE_FTS {
                    db.execute_unprepared(sql).await?;
                }
            }
            _ => {
                db.execute_unprepared(PG_FTS).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Sqlite {
            manager
                .get_connection()
                .execute_unprepared("DROP TABLE IF EXISTS messages_fts")
                .await?;
        }
        manager
            .drop_table(Table::drop().table(MessageRecipients::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Messages::Table).to_owned())
            .await
    }
}
