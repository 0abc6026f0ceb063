//! Routes the clients call that Dokku has no equivalent for: the API root the
//! clients probe, and the app settings and whitelist the `apps:info`,
//! `labels:*` and `whitelist:*` commands read. Reads answer neutral defaults so
//! those commands work; writes are refused with a clear reason.

use std::collections::BTreeMap;

use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde_json::Value;

use super::auth::state;
use super::problem::ApiResult;
use super::Tag;
use crate::auth::TokenAuth;
use crate::error::ApiError;
use crate::usecase::access::{app_for, AppAction};
use crate::usecase::fmt_time;
use drydock_domain::DomainError;

const UNSUPPORTED: &str =
    "Maintenance mode, routing, autoscaling, labels and IP whitelists are not supported by Drydock on Dokku";

/// An app's settings, as the clients expect them.
#[derive(Object)]
pub struct AppSettingsDto {
    /// Stable id (the app's).
    pub uuid: String,
    /// App name.
    pub app: String,
    /// Owner's username.
    pub owner: String,
    /// Always false: Dokku's maintenance mode is a separate plugin.
    pub maintenance: bool,
    /// Always true: every app is routed.
    pub routable: bool,
    /// Always empty.
    pub whitelist: Vec<String>,
    /// Always empty.
    pub autoscale: BTreeMap<String, Value>,
    /// Always empty.
    pub label: BTreeMap<String, Value>,
    /// App creation time.
    pub created: String,
    /// App change time.
    pub updated: String,
}

/// `{"addresses": []}`.
#[derive(Object)]
pub struct WhitelistDto {
    /// Always empty.
    pub addresses: Vec<String>,
}

/// The API root's answer to an authenticated caller.
#[derive(Object)]
pub struct RootDto {
    /// The API version served.
    pub api_version: String,
}

/// Compatibility endpoints.
pub struct CompatApi;

#[OpenApi(tag = "Tag::Apps")]
impl CompatApi {
    /// The API root: 401 without a token (the clients' "is this a controller?" probe).
    #[oai(path = "/v2", method = "get")]
    async fn root(&self, _auth: TokenAuth) -> ApiResult<Json<RootDto>> {
        Ok(Json(RootDto {
            api_version: crate::middleware::API_VERSION.into(),
        }))
    }

    /// The app's settings (neutral defaults).
    #[oai(path = "/v2/apps/:id/settings", method = "get")]
    async fn settings(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
    ) -> ApiResult<Json<AppSettingsDto>> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        let owner = drydock_entity::store::users::by_id(&st.db, app.owner_id)
            .await
            .map_err(ApiError::from)?
            .map(|u| u.username)
            .unwrap_or_default();
        Ok(Json(AppSettingsDto {
            uuid: app.uuid.to_string(),
            app: app.name.clone(),
            owner,
            maintenance: false,
            routable: true,
            whitelist: vec![],
            autoscale: BTreeMap::new(),
            label: BTreeMap::new(),
            created: fmt_time(&app.created),
            updated: fmt_time(&app.updated),
        }))
    }

    /// Changing settings is not supported on Dokku.
    #[oai(path = "/v2/apps/:id/settings", method = "post")]
    async fn set_settings(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
    ) -> ApiResult<Json<AppSettingsDto>> {
        app_for(state(req)?, &auth.0, &id.0, AppAction::Use).await?;
        Err(ApiError::from(DomainError::BadRequest(UNSUPPORTED.into())).into())
    }

    /// The app's IP whitelist (always empty).
    #[oai(path = "/v2/apps/:id/whitelist", method = "get")]
    async fn whitelist(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
    ) -> ApiResult<Json<WhitelistDto>> {
        app_for(state(req)?, &auth.0, &id.0, AppAction::Use).await?;
        Ok(Json(WhitelistDto { addresses: vec![] }))
    }

    /// Whitelists are not supported on Dokku.
    #[oai(path = "/v2/apps/:id/whitelist", method = "post")]
    async fn add_whitelist(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
    ) -> ApiResult<Json<WhitelistDto>> {
        app_for(state(req)?, &auth.0, &id.0, AppAction::Use).await?;
        Err(ApiError::from(DomainError::BadRequest(UNSUPPORTED.into())).into())
    }
}
