//! Domains carry their name in lower case under a unique index, so
//! `SHOP.EXAMPLE.COM` cannot be claimed beside `shop.example.com` now that
//! names keep the case they were written in (as the reference keeps them):
//! DNS and nginx see one name. Every stored name was lower case until now,
//! so the backfill cannot collide.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::unique_column;

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
        unique_column::add(manager, Domains::Table, Domains::DomainFold, 253).await?;
        backfill(manager).await?;
        unique_column::index(manager, Domains::Table, Domains::DomainFold, INDEX).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        unique_column::drop(manager, Domains::Table, Domains::DomainFold, INDEX).await
    }
}

/// Lower-cases every stored name (all were lower case until now).
async fn backfill(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
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
    Ok(())
}
