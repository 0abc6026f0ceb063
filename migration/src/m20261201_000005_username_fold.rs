//! Users carry the folded form of their name (see `drydock_domain::username`)
//! under a unique index, so `Admin` or a fullwidth `ａｄｍｉｎ` cannot be
//! registered beside `admin`. Names that already collide keep working: the
//! oldest holds the folded form, the later ones leave it `NULL`, which the
//! index does not compare.

use std::collections::HashSet;

use drydock_domain::username;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::unique_column;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    UsernameFold,
}

const INDEX: &str = "users_username_fold_key";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        unique_column::add(manager, Users::Table, Users::UsernameFold, 600).await?;
        backfill(manager).await?;
        unique_column::index(manager, Users::Table, Users::UsernameFold, INDEX).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        unique_column::drop(manager, Users::Table, Users::UsernameFold, INDEX).await
    }
}

/// Folds every stored name, oldest first; a fold already taken stays `NULL`.
async fn backfill(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let select = Query::select()
        .columns([Users::Id, Users::Username])
        .from(Users::Table)
        .order_by(Users::Id, Order::Asc)
        .to_owned();
    let mut taken = HashSet::new();
    for row in db.query_all(&select).await? {
        let id: i32 = row.try_get("", "id")?;
        let name: String = row.try_get("", "username")?;
        let fold = username::fold(&name);
        if !taken.insert(fold.clone()) {
            continue;
        }
        let update = Query::update()
            .table(Users::Table)
            .value(Users::UsernameFold, fold)
            .and_where(Expr::col(Users::Id).eq(id))
            .to_owned();
        db.execute(&update).await?;
    }
    Ok(())
}
