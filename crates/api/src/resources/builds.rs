//! `/v2/apps/<id>/builds` (and `/build`): deploy images, list past builds.

use std::collections::BTreeMap;

use drydock_domain::DomainError;
use drydock_entity::entities::build;
use drydock_entity::store::{builds, users};
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::state;
use super::problem::ApiResult;
use super::Tag;
use crate::auth::TokenAuth;
use crate::error::ApiError;
use crate::pagination::{page_request, paginate, Paginated};
use crate::usecase::access::{app_for, AppAction};
use crate::usecase::builds::{create, BuildInput};
use crate::usecase::fmt_time;

/// A build.
#[derive(Object)]
pub struct BuildDto {
    /// Stable id.
    pub uuid: String,
    /// Who deployed it.
    pub owner: String,
    /// App name.
    pub app: String,
    /// Image reference.
    pub image: String,
    /// Source commit.
    pub sha: String,
    /// Process type → command.
    pub procfile: BTreeMap<String, String>,
    /// Dockerfile text.
    pub dockerfile: String,
    /// Creation time.
    pub created: String,
    /// Same as created.
    pub updated: String,
}

fn dto(b: &build::Model, app: &str, owner: String) -> Result<BuildDto, ApiError> {
    Ok(BuildDto {
        uuid: b.uuid.to_string(),
        owner,
        app: app.to_owned(),
        image: b.image.clone(),
        sha: b.sha.clone(),
        procfile: builds::procfile(b)?,
        dockerfile: b.dockerfile.clone(),
        created: fmt_time(&b.created),
        updated: fmt_time(&b.created),
    })
}

/// Build request.
#[derive(Object)]
pub struct BuildBody {
    /// Image to deploy (required).
    pub image: Option<String>,
    /// Process type → command.
    pub procfile: Option<BTreeMap<String, String>>,
    /// Source commit.
    pub sha: Option<String>,
    /// Dockerfile text.
    pub dockerfile: Option<String>,
}

/// Build answers.
#[derive(ApiResponse)]
pub enum BuildCreated {
    /// Deployed.
    #[oai(status = 201)]
    Created(Json<BuildDto>),
}

/// Build endpoints.
pub struct BuildsApi;

impl BuildsApi {
    async fn do_list(
        req: &Request,
        auth: TokenAuth,
        id: &str,
    ) -> ApiResult<Json<Paginated<BuildDto>>> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, id, AppAction::Use).await?;
        let page = page_request(req);
        let p = builds::list(&st.read, app.id, page)
            .await
            .map_err(ApiError::from)?;
        let owners = users::usernames(&st.read, p.items.iter().map(|b| b.owner_id))
            .await
            .map_err(ApiError::from)?;
        let rows = p
            .items
            .iter()
            .map(|b| {
                dto(
                    b,
                    &app.name,
                    owners.get(&b.owner_id).cloned().unwrap_or_default(),
                )
            })
            .collect::<Result<_, _>>()?;
        Ok(Json(paginate(req, page, p.total, rows)))
    }

    async fn do_create(
        req: &Request,
        auth: TokenAuth,
        id: &str,
        body: BuildBody,
    ) -> ApiResult<BuildCreated> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, id, AppAction::Use).await?;
        let input = BuildInput {
            image: body.image,
            procfile: body.procfile.unwrap_or_default(),
            sha: body.sha,
            dockerfile: body.dockerfile,
        };
        let row = create(st, &auth.0, &app, input, false).await?;
        Ok(BuildCreated::Created(Json(dto(
            &row,
            &app.name,
            auth.0.name().to_owned(),
        )?)))
    }
}

#[OpenApi(tag = "Tag::Builds")]
impl BuildsApi {
    /// The app's builds, newest first.
    #[oai(path = "/v2/apps/:id/builds", method = "get")]
    async fn list(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
    ) -> ApiResult<Json<Paginated<BuildDto>>> {
        Self::do_list(req, auth, &id.0).await
    }

    /// Deploy an image as a new release.
    #[oai(path = "/v2/apps/:id/builds", method = "post")]
    async fn create(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
        body: Json<BuildBody>,
    ) -> ApiResult<BuildCreated> {
        Self::do_create(req, auth, &id.0, body.0).await
    }

    /// One build by its uuid.
    #[oai(path = "/v2/apps/:id/builds/:uuid", method = "get")]
    async fn get(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
        uuid: Path<String>,
    ) -> ApiResult<Json<BuildDto>> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        let not_found = || ApiError::from(DomainError::not_found("Build"));
        let uuid = uuid::Uuid::parse_str(&uuid.0).map_err(|_| not_found())?;
        let b = builds::by_uuid(&st.read, app.id, uuid)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(not_found)?;
        let owner = users::usernames(&st.read, [b.owner_id])
            .await
            .map_err(ApiError::from)?
            .remove(&b.owner_id)
            .unwrap_or_default();
        Ok(Json(dto(&b, &app.name, owner)?))
    }

    /// Alias of `/builds` used by older clients.
    #[oai(path = "/v2/apps/:id/build", method = "get")]
    async fn list_alias(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
    ) -> ApiResult<Json<Paginated<BuildDto>>> {
        Self::do_list(req, auth, &id.0).await
    }

    /// Alias of `/builds` used by older clients.
    #[oai(path = "/v2/apps/:id/build", method = "post")]
    async fn create_alias(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
        body: Json<BuildBody>,
    ) -> ApiResult<BuildCreated> {
        Self::do_create(req, auth, &id.0, body.0).await
    }
}
