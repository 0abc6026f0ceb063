//! Keys also carry the SHA-256 fingerprint that OpenSSH and Dokku's
//! sshcommand print (`SHA256:…`), so the builder hook can find the key a
//! `git push` connected with from what Dokku hands the plugin.

use drydock_domain::ssh_key::PublicKey;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::unique_column;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Keys {
    Table,
    Id,
    Public,
    FingerprintSha256,
}

const INDEX: &str = "keys_fingerprint_sha256_key";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        unique_column::add(manager, Keys::Table, Keys::FingerprintSha256, 128).await?;
        backfill(manager).await?;
        unique_column::index(manager, Keys::Table, Keys::FingerprintSha256, INDEX).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        unique_column::drop(manager, Keys::Table, Keys::FingerprintSha256, INDEX).await
    }
}

/// Computes the fingerprint of every stored key (each was validated when it was added).
async fn backfill(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let select = Query::select()
        .columns([Keys::Id, Keys::Public])
        .from(Keys::Table)
        .to_owned();
    for row in db.query_all(&select).await? {
        let id: i32 = row.try_get("", "id")?;
        let public: String = row.try_get("", "public")?;
        let Ok(key) = PublicKey::parse(&public) else {
            continue;
        };
        let update = Query::update()
            .table(Keys::Table)
            .value(Keys::FingerprintSha256, key.fingerprint_sha256())
            .and_where(Expr::col(Keys::Id).eq(id))
            .to_owned();
        db.execute(&update).await?;
    }
    Ok(())
}
