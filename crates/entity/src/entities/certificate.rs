//! The `certificates` table.

use sea_orm::entity::prelude::*;

/// One row of `certificates`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "certificates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub name: String,
    pub owner_id: i32,
    pub common_name: String,
    /// JSON array of DNS names.
    pub san: String,
    pub fingerprint: String,
    pub expires: DateTimeUtc,
    pub starts: DateTimeUtc,
    pub issuer: String,
    pub subject: String,
    pub chain_pem: String,
    pub key_pem: String,
    pub created: DateTimeUtc,
    pub updated: DateTimeUtc,
}

/// No declared relations: the store joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
