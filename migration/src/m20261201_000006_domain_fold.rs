//! Domains carry their name in lower case under a unique index, so
//! `SHOP.EXAMPLE.COM` cannot be claimed beside `shop.example.com` now that
//! names keep the case they were written in (as the reference keeps them):
//! DNS and nginx see one name. Every stored name was lower case until now,
//! so the backfill cannot collide.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Domains {
    Table,
    Id,
    Domain,
    DomainFold,
}

const INDEX: &str = "domains_domain_fold_key";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Domains::Table)
                    .add_column(ColumnDef::new(Domains::DomainFold).string_len(253).null())
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let select = Query::select()
            .columns([Domains::Id, Domains::Domain])
            .from(Domains::Table)
            .to_owned();
        for row in db.query_all(&select).await? {
            let id: i32 = row.try_get("", "id")?;
            let name: String = row.try_get("", "domain")?;
            let update = Query::update()
                .table(Domains::Table)
                .value(Domains::DomainFold, name.to_ascii_lowercase())
                .and_where(Expr::col(Domains::Id).eq(id))
                .to_owned();
            db.execute(&update).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Domains::Table)
                    .col(Domains::DomainFold)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Domains::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Domains::Table)
                    .drop_column(Domains::DomainFold)
                    .to_owned(),
            )
            .await
    }
}
