//! Drydock's domain: the types and rules every other crate agrees on.
//!
//! Nothing here performs IO or knows about HTTP, SQL or sockets. Values are
//! parsed once at the edge into the newtypes of [`name`], and from then on the
//! type system carries the proof that they were validated — the Dokku command
//! builder accepts nothing else.

pub mod certificate;
pub mod config_vars;
pub mod error;
pub mod limits;
pub mod name;
pub mod password;
pub mod platform;
pub mod procfile;
pub mod pyrepr;
pub mod ssh_key;
pub mod text;
pub mod token;
pub mod username;

pub use error::DomainError;
