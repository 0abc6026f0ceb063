//! The `app_events` table.

use sea_orm::entity::prelude::*;

/// One row of `app_events`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "app_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub app_id: i32,
    pub created: DateTimeUtc,
    pub message: String,
}

/// No declared relations: the store joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
