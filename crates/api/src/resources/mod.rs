//! One `#[OpenApi]` struct per resource, each with its request and response
//! types. Handlers stay thin: parse, call a use-case, shape the answer.

pub mod apps;
pub mod auth;
pub mod builds;
pub mod config;
pub mod health;
pub mod releases;
pub mod users;

use poem_openapi::Tags;

/// Groups in the OpenAPI document.
#[derive(Tags)]
pub enum Tag {
    /// Accounts and tokens.
    Auth,
    /// User administration.
    Users,
    /// Applications.
    Apps,
    /// Configuration.
    Config,
    /// Builds.
    Builds,
    /// Releases and rollback.
    Releases,
    /// Liveness and readiness.
    Health,
}
