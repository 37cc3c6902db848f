//! Federation: why a cross-hub message copy failed, per recipient.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MessageRecipients {
    Table,
    DeliveryError,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MessageRecipients::Table)
                    .add_column(
                        ColumnDef::new(MessageRecipients::DeliveryError)
                            .string()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MessageRecipients::Table)
                    .drop_column(MessageRecipients::DeliveryError)
                    .to_owned(),
            )
            .await
    }
}
