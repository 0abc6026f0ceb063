//! The `releases` table.

use sea_orm::entity::prelude::*;

/// One row of `releases`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "releases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub uuid: Uuid,
    pub app_id: i32,
    pub owner_id: i32,
    pub version: i32,
    pub summary: String,
    pub config_id: i32,
    pub build_id: Option<i32>,
    /// `pending`, `succeeded` or `failed`.
    pub state: String,
    pub exception: Option<String>,
    pub created: DateTimeUtc,
    pub updated: DateTimeUtc,
}

/// What a release points at; release lists join them in one query.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Who caused the release.
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::OwnerId",
        to = "super::user::Column::Id"
    )]
    Owner,
    /// Its config snapshot.
    #[sea_orm(
        belongs_to = "super::config::Entity",
        from = "Column::ConfigId",
        to = "super::config::Column::Id"
    )]
    Config,
    /// Its build, if any.
    #[sea_orm(
        belongs_to = "super::build::Entity",
        from = "Column::BuildId",
        to = "super::build::Column::Id"
    )]
    Build,
}

impl ActiveModelBehavior for ActiveModel {}
