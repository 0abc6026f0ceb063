//! The `keys` table.

use sea_orm::entity::prelude::*;

/// One row of `keys`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub uuid: Uuid,
    pub owner_id: i32,
    pub key_id: String,
    pub public: String,
    #[sea_orm(unique)]
    pub fingerprint: String,
    /// `SHA256:…`, as OpenSSH and Dokku print it; unique where set.
    pub fingerprint_sha256: Option<String>,
    /// The name the key is installed under on Dokku; `None` for keys
    /// installed before names were recorded (`<username>.<key id>`).
    pub dokku_name: Option<String>,
    pub created: DateTimeUtc,
    pub updated: DateTimeUtc,
}

/// No declared relations: the store joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
