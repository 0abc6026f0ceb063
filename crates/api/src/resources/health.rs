//! `/healthz` (the process is up) and `/readiness` (the database answers), as
//! the reference serves them; `/readyz` is the Kubernetes-style alias.

use drydock_entity::store::connect::ping;
use poem::Request;
use poem_openapi::payload::PlainText;
use poem_openapi::{ApiResponse, OpenApi};

use super::auth::state;
use super::Tag;

/// Readiness answers.
#[derive(ApiResponse)]
pub enum Ready {
    /// The database answers.
    #[oai(status = 200)]
    Ready(PlainText<&'static str>),
    /// The database does not answer.
    #[oai(status = 503)]
    NotReady(PlainText<&'static str>),
}

/// Health endpoints (no authentication).
pub struct HealthApi;

#[OpenApi(tag = "Tag::Health")]
impl HealthApi {
    /// Liveness: the process serves requests.
    #[oai(path = "/healthz", method = "get")]
    async fn healthz(&self) -> PlainText<&'static str> {
        PlainText("OK")
    }

    /// Readiness: the database is reachable.
    #[oai(path = "/readiness", method = "get")]
    async fn readiness(&self, req: &Request) -> poem::Result<Ready> {
        ready(req).await
    }

    /// Readiness under its Kubernetes-style name.
    #[oai(path = "/readyz", method = "get")]
    async fn readyz(&self, req: &Request) -> poem::Result<Ready> {
        ready(req).await
    }
}

async fn ready(req: &Request) -> poem::Result<Ready> {
    Ok(if ping(&state(req)?.db).await {
        Ready::Ready(PlainText("OK"))
    } else {
        Ready::NotReady(PlainText("Database health check failed"))
    })
}
