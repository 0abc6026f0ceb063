//! `/v2/apps/<id>/perms`: who besides the owner may work on an app.

use drydock_entity::store::collaborators;
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::auth::{state, NoContent};
use super::problem::ApiResult;
use super::users::CreatedEmpty;
use super::Tag;
use crate::auth::TokenAuth;
use crate::error::ApiError;
use crate::usecase::access::{app_for, AppAction};
use crate::usecase::perms as uc;

/// An app's collaborators (the owner is not listed).
#[derive(Object)]
pub struct PermsDto {
    /// Usernames, sorted.
    pub users: Vec<String>,
}

/// Grant request.
#[derive(Object)]
pub struct PermBody {
    /// Who to grant access to.
    pub username: Option<String>,
}

/// App permission endpoints.
pub struct PermsApi;

#[OpenApi(tag = "Tag::Perms")]
impl PermsApi {
    /// The app's collaborators.
    #[oai(path = "/v2/apps/:id/perms", method = "get")]
    async fn list(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
    ) -> ApiResult<Json<PermsDto>> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        let users = collaborators::usernames(&st.db, app.id)
            .await
            .map_err(ApiError::from)?;
        Ok(Json(PermsDto { users }))
    }

    /// Grant a user access (owner or admin).
    #[oai(path = "/v2/apps/:id/perms", method = "post")]
    async fn grant(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
        body: Json<PermBody>,
    ) -> ApiResult<CreatedEmpty> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Administer).await?;
        let Some(username) = body.0.username.filter(|u| !u.is_empty()) else {
            return Err(ApiError::field("username", "This field is required.").into());
        };
        uc::grant(st, &app, &username).await?;
        Ok(CreatedEmpty::Created)
    }

    /// Revoke a user's access (owner or admin; collaborators may remove themselves).
    #[oai(path = "/v2/apps/:id/perms/:username", method = "delete")]
    async fn revoke(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
        username: Path<String>,
    ) -> ApiResult<NoContent> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        uc::revoke(st, &auth.0, &app, &username.0).await?;
        Ok(NoContent::Done)
    }
}
