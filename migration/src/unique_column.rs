//! The shape several migrations share: a nullable text column added to a
//! table, filled from each row by the migration, then indexed unique; and
//! the reverse.

use sea_orm_migration::prelude::*;

/// Adds `column` to `table` as a nullable string of at most `len` characters.
pub async fn add<T, C>(
    manager: &SchemaManager<'_>,
    table: T,
    column: C,
    len: u32,
) -> Result<(), DbErr>
where
    T: IntoIden,
    C: IntoIden,
{
    manager
        .alter_table(
            Table::alter()
                .table(table)
                .add_column(ColumnDef::new(column).string_len(len).null())
                .to_owned(),
        )
        .await
}

/// Indexes `column` of `table` unique under `index` (`NULL`s never collide).
pub async fn index<T, C>(
    manager: &SchemaManager<'_>,
    table: T,
    column: C,
    index: &str,
) -> Result<(), DbErr>
where
    T: IntoIden,
    C: IntoIden,
{
    manager
        .create_index(
            Index::create()
                .name(index)
                .table(table)
                .col(column)
                .unique()
                .to_owned(),
        )
        .await
}

/// Drops the index and the column again.
pub async fn drop<T, C>(
    manager: &SchemaManager<'_>,
    table: T,
    column: C,
    index: &str,
) -> Result<(), DbErr>
where
    T: IntoIden,
    C: IntoIden,
{
    let table = table.into_iden();
    manager
        .drop_index(Index::drop().name(index).table(table.clone()).to_owned())
        .await?;
    manager
        .alter_table(Table::alter().table(table).drop_column(column).to_owned())
        .await
}
