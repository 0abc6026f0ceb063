//! Drydock's persistence: sea-orm entities and the store functions that query
//! them. Every store function takes `&impl ConnectionTrait`, so the same query
//! runs on the pool or inside a use-case's transaction. No HTTP, no Dokku.

pub mod entities;
pub mod error;
pub mod store;

pub use error::StoreError;
pub use sea_orm;
