//! The inbox's index also holds a recipient's read and ack times, so a page of the inbox reads
//! them from the index rather than looking up each recipient row (docs/BENCHMARKS.md, session
//! 21). Marking a message read or acknowledged now also updates its index entry.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MessageRecipients {
    Table,
    MessageId,
    Recipient,
    ReadAt,
    AckedAt,
}

const INBOX: &str = "message_recipients_inbox";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_inbox(
            manager,
            vec![MessageRecipients::ReadAt, MessageRecipients::AckedAt],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_inbox(manager, vec![]).await
    }
}

/// The inbox index anew: one recipient's rows, newest first, then `extra` columns. Dropped and
/// created in one call, so on one connection: a SQLite connection that did not see the drop
/// would refuse the creation, finding the index in its cached schema.
async fn replace_inbox(
    manager: &SchemaManager<'_>,
    extra: Vec<MessageRecipients>,
) -> Result<(), DbErr> {
    let drop = Index::drop()
        .name(INBOX)
        .table(MessageRecipients::Table)
        .to_owned();
    let mut create = Index::create()
        .name(INBOX)
        .table(MessageRecipients::Table)
        .col(MessageRecipients::Recipient)
        .col((MessageRecipients::MessageId, IndexOrder::Desc))
        .to_owned();
    for col in extra {
        create.col(col);
    }
    let backend = manager.get_database_backend();
    let sql = format!(
        "{}; {}",
        backend.build(&drop).sql,
        backend.build(&create).sql
    );
    manager.get_connection().execute_unprepared(&sql).await?;
    Ok(())
}
