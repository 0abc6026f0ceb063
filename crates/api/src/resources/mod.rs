//! One `#[OpenApi]` struct per resource, each with its request and response
//! types. Handlers stay thin: parse, call a use-case, shape the answer.

pub mod apps;
pub mod auth;
pub mod builds;
pub mod certs;
pub mod compat;
pub mod config;
pub mod domains;
pub mod health;
pub mod hooks;
pub mod keys;
pub mod perms;
pub mod pods;
pub mod problem;
pub mod releases;
pub mod tls;
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
    /// Containers, scaling, logs, one-off commands.
    Pods,
    /// Liveness and readiness.
    Health,
    /// Domains.
    Domains,
    /// TLS certificates.
    Certs,
    /// HTTPS enforcement.
    Tls,
    /// SSH keys.
    Keys,
    /// App permissions.
    Perms,
    /// Builder hooks (builder key, not user tokens).
    Hooks,
}
