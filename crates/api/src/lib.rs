//! Drydock's HTTP API: the Drycc/Deis Workflow controller API v2.3 on poem +
//! poem-openapi. `routes` builds the whole server; `openapi_service` the
//! document alone (for `drydock openapi`).

pub mod allow;
pub mod auth;
pub mod error;
pub mod login_limit;
pub mod middleware;
pub mod pagination;
pub mod resources;
pub mod run_slots;
pub mod server;
pub mod state;
pub mod usecase;

use poem::endpoint::make_sync;
use poem::middleware::{NormalizePath, TrailingSlash};
use poem::{Endpoint, EndpointExt, Route};
use poem_openapi::OpenApiService;

use resources::{
    apps::AppsApi, auth::AuthApi, builds::BuildsApi, certs::CertsApi, compat::CompatApi,
    config::ConfigApi, domains::DomainsApi, health::HealthApi, hooks::HooksApi, keys::KeysApi,
    perms::PermsApi, pods::PodsApi, releases::ReleasesApi, tls::TlsApi, users::UsersApi,
};
pub use state::{AppState, Registration, Settings};

/// Every API of the server, in one tuple.
pub type Apis = (
    AuthApi,
    UsersApi,
    AppsApi,
    ConfigApi,
    BuildsApi,
    ReleasesApi,
    PodsApi,
    HealthApi,
    (DomainsApi, CertsApi, TlsApi, KeysApi, PermsApi, CompatApi),
    HooksApi,
);

/// The OpenAPI service describing every route.
pub fn openapi_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            AuthApi,
            UsersApi,
            AppsApi,
            ConfigApi,
            BuildsApi,
            ReleasesApi,
            PodsApi,
            HealthApi,
            (DomainsApi, CertsApi, TlsApi, KeysApi, PermsApi, CompatApi),
            HooksApi,
        ),
        "Drydock — Drycc Workflow controller API",
        middleware::API_VERSION,
    )
    .description("The Drycc/Deis Workflow controller API v2.3, served for a Dokku host.")
}

/// The complete server: API, `/v2/openapi.json`, `/swagger`, with every path
/// accepted with or without a trailing slash.
pub fn routes(state: AppState) -> impl Endpoint {
    let api = openapi_service();
    let spec = api.spec();
    let swagger = api.swagger_ui();
    let settings = state.settings.clone();
    let allow = std::sync::Arc::new(allow::AllowTable::from_spec(&spec));
    Route::new()
        .nest("/", api)
        .at(
            "/v2/openapi.json",
            make_sync(move |_| {
                poem::Response::builder()
                    .content_type("application/json")
                    .body(spec.clone())
            }),
        )
        .nest("/swagger", swagger)
        .with(NormalizePath::new(TrailingSlash::Trim))
        .data(state)
        .around(move |ep, req| {
            let (settings, allow) = (settings.clone(), allow.clone());
            async move { middleware::around(&ep, req, &settings, &allow).await }
        })
}
