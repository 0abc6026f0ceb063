//! The `apps` table.

use sea_orm::entity::prelude::*;

/// One row of `apps`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "apps")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub uuid: Uuid,
    #[sea_orm(unique)]
    pub name: String,
    pub owner_id: i32,
    /// JSON object: process type → container count.
    pub structure: String,
    /// JSON object: process type → command of the current release's build (`{}` without one).
    pub procfile: String,
    /// The version of the release Dokku runs; `None` before the first succeeds.
    pub current_version: Option<i32>,
    /// The highest version ever allocated; versions are never reused.
    pub last_version: i32,
    /// Dokku may not run the current release (one failed after it, and it
    /// has not been re-applied since): start-up settling re-applies it.
    pub needs_reapply: bool,
    pub created: DateTimeUtc,
    pub updated: DateTimeUtc,
}

/// An app belongs to its owner; app lists join the owner's name in.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The owner.
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::OwnerId",
        to = "super::user::Column::Id"
    )]
    Owner,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Owner.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
