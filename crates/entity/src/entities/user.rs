//! The `users` table.

use sea_orm::entity::prelude::*;

/// One row of `users`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub username: String,
    /// The name as it collides with others (`drydock_domain::username::fold`);
    /// `NULL` for the tombstone and for names that collided before the fold existed.
    #[sea_orm(unique)]
    pub username_fold: Option<String>,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub password: String,
    pub is_superuser: bool,
    pub is_staff: bool,
    pub is_active: bool,
    pub last_login: Option<DateTimeUtc>,
    pub date_joined: DateTimeUtc,
}

/// No declared relations: the store joins explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
