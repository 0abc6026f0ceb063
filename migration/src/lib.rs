//! Drydock's schema. One migration set, run unchanged on SQLite and PostgreSQL;
//! `drydock serve` applies pending migrations at start-up and `drydock migrate`
//! does it on demand.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_initial;
mod m20261201_000002_key_sha256;
mod m20261201_000003_app_needs_reapply;
mod m20261201_000004_key_dokku_name;
mod m20261201_000005_username_fold;
mod m20261201_000006_domain_fold;
mod unique_column;

/// Every migration, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_initial::Migration),
            Box::new(m20261201_000002_key_sha256::Migration),
            Box::new(m20261201_000003_app_needs_reapply::Migration),
            Box::new(m20261201_000004_key_dokku_name::Migration),
            Box::new(m20261201_000005_username_fold::Migration),
            Box::new(m20261201_000006_domain_fold::Migration),
        ]
    }
}
