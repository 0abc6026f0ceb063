//! sea-orm models, one module per table; queries live in `store`.

pub mod app;
pub mod app_event;
pub mod build;
pub mod certificate;
pub mod collaborator;
pub mod config;
pub mod domain;
pub mod key;
pub mod release;
pub mod tls;
pub mod token;
pub mod user;
