//! The initial schema: every table the API needs, mirroring Drycc's models.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    Email,
    FirstName,
    LastName,
    Password,
    IsSuperuser,
    IsStaff,
    IsActive,
    LastLogin,
    DateJoined,
}

#[derive(DeriveIden)]
enum Tokens {
    Table,
    Id,
    UserId,
    KeyHash,
    Created,
}

#[derive(DeriveIden)]
enum Apps {
    Table,
    Id,
    Uuid,
    Name,
    OwnerId,
    Structure,
    Procfile,
    CurrentVersion,
    LastVersion,
    Created,
    Updated,
}

#[derive(DeriveIden)]
enum Collaborators {
    Table,
    Id,
    AppId,
    UserId,
    Created,
}

#[derive(DeriveIden)]
enum Configs {
    Table,
    Id,
    Uuid,
    AppId,
    OwnerId,
    Data,
    Created,
}

#[derive(DeriveIden)]
enum Builds {
    Table,
    Id,
    Uuid,
    AppId,
    OwnerId,
    Image,
    Sha,
    Procfile,
    Dockerfile,
    Created,
}

#[derive(DeriveIden)]
enum Releases {
    Table,
    Id,
    Uuid,
    AppId,
    OwnerId,
    Version,
    Summary,
    ConfigId,
    BuildId,
    State,
    Exception,
    Created,
    Updated,
}

#[derive(DeriveIden)]
enum Certificates {
    Table,
    Id,
    Name,
    OwnerId,
    CommonName,
    San,
    Fingerprint,
    Expires,
    Starts,
    Issuer,
    Subject,
    ChainPem,
    KeyPem,
    Created,
    Updated,
}

#[derive(DeriveIden)]
enum Domains {
    Table,
    Id,
    AppId,
    OwnerId,
    Domain,
    CertificateId,
    Created,
    Updated,
}

#[derive(DeriveIden)]
enum Keys {
    Table,
    Id,
    Uuid,
    OwnerId,
    KeyId,
    Public,
    Fingerprint,
    Created,
    Updated,
}

#[derive(DeriveIden)]
enum Tls {
    Table,
    Id,
    Uuid,
    AppId,
    OwnerId,
    HttpsEnforced,
    Created,
    Updated,
}

#[derive(DeriveIden)]
enum AppEvents {
    Table,
    Id,
    AppId,
    Created,
    Message,
}

fn fk(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(pk_auto(Users::Id))
                .col(string_len_uniq(Users::Username, 150))
                .col(string_len(Users::Email, 254))
                .col(string_len(Users::FirstName, 150))
                .col(string_len(Users::LastName, 150))
                .col(string_len(Users::Password, 255))
                .col(boolean(Users::IsSuperuser))
                .col(boolean(Users::IsStaff))
                .col(boolean(Users::IsActive))
                .col(timestamp_with_time_zone_null(Users::LastLogin))
                .col(timestamp_with_time_zone(Users::DateJoined))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Tokens::Table)
                .col(pk_auto(Tokens::Id))
                .col(integer(Tokens::UserId))
                .col(string_len_uniq(Tokens::KeyHash, 64))
                .col(timestamp_with_time_zone(Tokens::Created))
                .foreign_key(&mut fk(
                    Tokens::Table,
                    Tokens::UserId,
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_tokens_user")
                .table(Tokens::Table)
                .col(Tokens::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Apps::Table)
                .col(pk_auto(Apps::Id))
                .col(uuid_uniq(Apps::Uuid))
                .col(string_len_uniq(Apps::Name, 63))
                .col(integer(Apps::OwnerId))
                .col(text(Apps::Structure))
                .col(text(Apps::Procfile))
                .col(integer_null(Apps::CurrentVersion))
                .col(integer(Apps::LastVersion))
                .col(timestamp_with_time_zone(Apps::Created))
                .col(timestamp_with_time_zone(Apps::Updated))
                .foreign_key(&mut fk(Apps::Table, Apps::OwnerId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_apps_owner")
                .table(Apps::Table)
                .col(Apps::OwnerId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Collaborators::Table)
                .col(pk_auto(Collaborators::Id))
                .col(integer(Collaborators::AppId))
                .col(integer(Collaborators::UserId))
                .col(timestamp_with_time_zone(Collaborators::Created))
                .foreign_key(&mut fk(
                    Collaborators::Table,
                    Collaborators::AppId,
                    Apps::Table,
                    Apps::Id,
                ))
                .foreign_key(&mut fk(
                    Collaborators::Table,
                    Collaborators::UserId,
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_collaborators_app_user")
                .table(Collaborators::Table)
                .col(Collaborators::AppId)
                .col(Collaborators::UserId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_collaborators_user")
                .table(Collaborators::Table)
                .col(Collaborators::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Configs::Table)
                .col(pk_auto(Configs::Id))
                .col(uuid_uniq(Configs::Uuid))
                .col(integer(Configs::AppId))
                .col(integer(Configs::OwnerId))
                .col(text(Configs::Data))
                .col(timestamp_with_time_zone(Configs::Created))
                .foreign_key(&mut fk(
                    Configs::Table,
                    Configs::AppId,
                    Apps::Table,
                    Apps::Id,
                ))
                .foreign_key(&mut fk(
                    Configs::Table,
                    Configs::OwnerId,
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_configs_app")
                .table(Configs::Table)
                .col(Configs::AppId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Builds::Table)
                .col(pk_auto(Builds::Id))
                .col(uuid_uniq(Builds::Uuid))
                .col(integer(Builds::AppId))
                .col(integer(Builds::OwnerId))
                .col(text(Builds::Image))
                .col(string_len(Builds::Sha, 128))
                .col(text(Builds::Procfile))
                .col(text(Builds::Dockerfile))
                .col(timestamp_with_time_zone(Builds::Created))
                .foreign_key(&mut fk(Builds::Table, Builds::AppId, Apps::Table, Apps::Id))
                .foreign_key(&mut fk(
                    Builds::Table,
                    Builds::OwnerId,
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_builds_app")
                .table(Builds::Table)
                .col(Builds::AppId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Releases::Table)
                .col(pk_auto(Releases::Id))
                .col(uuid_uniq(Releases::Uuid))
                .col(integer(Releases::AppId))
                .col(integer(Releases::OwnerId))
                .col(integer(Releases::Version))
                .col(text(Releases::Summary))
                .col(integer(Releases::ConfigId))
                .col(integer_null(Releases::BuildId))
                .col(string_len(Releases::State, 16))
                .col(text_null(Releases::Exception))
                .col(timestamp_with_time_zone(Releases::Created))
                .col(timestamp_with_time_zone(Releases::Updated))
                .foreign_key(&mut fk(
                    Releases::Table,
                    Releases::AppId,
                    Apps::Table,
                    Apps::Id,
                ))
                .foreign_key(&mut fk(
                    Releases::Table,
                    Releases::OwnerId,
                    Users::Table,
                    Users::Id,
                ))
                .foreign_key(&mut fk(
                    Releases::Table,
                    Releases::ConfigId,
                    Configs::Table,
                    Configs::Id,
                ))
                .foreign_key(&mut fk(
                    Releases::Table,
                    Releases::BuildId,
                    Builds::Table,
                    Builds::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_releases_app_version")
                .table(Releases::Table)
                .col(Releases::AppId)
                .col(Releases::Version)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_releases_state")
                .table(Releases::Table)
                .col(Releases::State)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Certificates::Table)
                .col(pk_auto(Certificates::Id))
                .col(string_len_uniq(Certificates::Name, 253))
                .col(integer(Certificates::OwnerId))
                .col(text(Certificates::CommonName))
                .col(text(Certificates::San))
                .col(string_len(Certificates::Fingerprint, 128))
                .col(timestamp_with_time_zone(Certificates::Expires))
                .col(timestamp_with_time_zone(Certificates::Starts))
                .col(text(Certificates::Issuer))
                .col(text(Certificates::Subject))
                .col(text(Certificates::ChainPem))
                .col(text(Certificates::KeyPem))
                .col(timestamp_with_time_zone(Certificates::Created))
                .col(timestamp_with_time_zone(Certificates::Updated))
                .foreign_key(&mut fk(
                    Certificates::Table,
                    Certificates::OwnerId,
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Domains::Table)
                .col(pk_auto(Domains::Id))
                .col(integer(Domains::AppId))
                .col(integer(Domains::OwnerId))
                .col(string_len_uniq(Domains::Domain, 253))
                .col(integer_null(Domains::CertificateId))
                .col(timestamp_with_time_zone(Domains::Created))
                .col(timestamp_with_time_zone(Domains::Updated))
                .foreign_key(&mut fk(
                    Domains::Table,
                    Domains::AppId,
                    Apps::Table,
                    Apps::Id,
                ))
                .foreign_key(&mut fk(
                    Domains::Table,
                    Domains::OwnerId,
                    Users::Table,
                    Users::Id,
                ))
                .foreign_key(
                    ForeignKey::create()
                        .from(Domains::Table, Domains::CertificateId)
                        .to(Certificates::Table, Certificates::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_domains_app")
                .table(Domains::Table)
                .col(Domains::AppId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Keys::Table)
                .col(pk_auto(Keys::Id))
                .col(uuid_uniq(Keys::Uuid))
                .col(integer(Keys::OwnerId))
                .col(string_len(Keys::KeyId, 128))
                .col(text(Keys::Public))
                .col(string_len_uniq(Keys::Fingerprint, 128))
                .col(timestamp_with_time_zone(Keys::Created))
                .col(timestamp_with_time_zone(Keys::Updated))
                .foreign_key(&mut fk(Keys::Table, Keys::OwnerId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_keys_owner_key")
                .table(Keys::Table)
                .col(Keys::OwnerId)
                .col(Keys::KeyId)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Tls::Table)
                .col(pk_auto(Tls::Id))
                .col(uuid_uniq(Tls::Uuid))
                .col(integer_uniq(Tls::AppId))
                .col(integer(Tls::OwnerId))
                .col(boolean_null(Tls::HttpsEnforced))
                .col(timestamp_with_time_zone(Tls::Created))
                .col(timestamp_with_time_zone(Tls::Updated))
                .foreign_key(&mut fk(Tls::Table, Tls::AppId, Apps::Table, Apps::Id))
                .foreign_key(&mut fk(Tls::Table, Tls::OwnerId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AppEvents::Table)
                .col(pk_auto(AppEvents::Id))
                .col(integer(AppEvents::AppId))
                .col(timestamp_with_time_zone(AppEvents::Created))
                .col(text(AppEvents::Message))
                .foreign_key(&mut fk(
                    AppEvents::Table,
                    AppEvents::AppId,
                    Apps::Table,
                    Apps::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_app_events_app")
                .table(AppEvents::Table)
                .col(AppEvents::AppId)
                .col(AppEvents::Id)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
