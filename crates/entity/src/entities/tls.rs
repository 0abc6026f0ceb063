//! The `tls` table.

use sea_orm::entity::prelude::*;

/// One row of `tls`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tls")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub uuid: Uuid,
    #[sea_orm(unique)]
    pub app_id: i32,
    pub owner_id: i32,
    pub https_enforced: Option<bool>,
    pub created: DateTimeUtc,
    pub updated: DateTimeUtc,
}

/// No declared relations: the store joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
