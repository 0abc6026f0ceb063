//! Keys remember the name Drydock installed them under on Dokku. New keys
//! are named after their owner's id (one-to-one with users, whatever the
//! username); keys installed before keep their recorded-nowhere name, which
//! `NULL` here means: the legacy `<username>.<key id>` form.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Keys {
    Table,
    DokkuName,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Keys::Table)
                    .add_column(ColumnDef::new(Keys::DokkuName).string_len(128).null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Keys::Table)
                    .drop_column(Keys::DokkuName)
                    .to_owned(),
            )
            .await
    }
}
