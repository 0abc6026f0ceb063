//! The `domains` table.

use sea_orm::entity::prelude::*;

/// One row of `domains`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "domains")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub app_id: i32,
    pub owner_id: i32,
    #[sea_orm(unique)]
    pub domain: String,
    /// `domain` in lower case, unique: how names are compared.
    #[sea_orm(unique)]
    pub domain_fold: Option<String>,
    pub certificate_id: Option<i32>,
    pub created: DateTimeUtc,
    pub updated: DateTimeUtc,
}

/// No declared relations: the store joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
