//! CSV imports and what they did; and the last value each cross-hub signal carried.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FinImports {
    Table,
    Id,
    Kind,
    Format,
    Filename,
    Status,
    Rows,
    Inserted,
    Duplicates,
    Rejected,
    Errors,
    Error,
    CreatedBy,
    CreatedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum FinSignalMarks {
    Table,
    Key,
    Value,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FinImports::Table)
                    .col(
                        ColumnDef::new(FinImports::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(FinImports::Kind).string().not_null())
                    .col(ColumnDef::new(FinImports::Format).string().not_null())
                    .col(ColumnDef::new(FinImports::Filename).string().null())
                    .col(ColumnDef::new(FinImports::Status).string().not_null())
                    .col(ColumnDef::new(FinImports::Rows).big_integer().not_null())
                    .col(
                        ColumnDef::new(FinImports::Inserted)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FinImports::Duplicates)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FinImports::Rejected)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(FinImports::Errors).json_binary().not_null())
                    .col(ColumnDef::new(FinImports::Error).text().null())
                    .col(ColumnDef::new(FinImports::CreatedBy).string().not_null())
                    .col(
                        ColumnDef::new(FinImports::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FinImports::FinishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FinSignalMarks::Table)
                    .col(
                        ColumnDef::new(FinSignalMarks::Key)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(FinSignalMarks::Value)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FinSignalMarks::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }
}
