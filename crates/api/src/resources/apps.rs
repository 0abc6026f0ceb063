//! `/v2/apps`: list, create, inspect, transfer and destroy applications.

use std::collections::BTreeMap;

use drydock_domain::DomainError;
use drydock_entity::entities::app;
use drydock_entity::store::apps::AppRow;
use drydock_entity::store::{apps, users};
use drydock_entity::StoreError;
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::{state, NoContent};
use super::problem::ApiResult;
use super::Tag;
use crate::auth::TokenAuth;
use crate::error::ApiError;
use crate::pagination::{page_request, paginate, Paginated};
use crate::state::AppState;
use crate::usecase::access::{app_for, AppAction};
use crate::usecase::{apps as uc, fmt_time};

/// An application.
#[derive(Object)]
pub struct AppDto {
    /// Stable unique id.
    pub uuid: String,
    /// The app's name.
    pub id: String,
    /// Owner's username.
    pub owner: String,
    /// Containers per process type.
    pub structure: BTreeMap<String, u32>,
    /// Process type → command of the current build.
    pub procfile_structure: BTreeMap<String, String>,
    /// Creation time.
    pub created: String,
    /// Last change.
    pub updated: String,
}

fn dto(app: AppRow) -> Result<AppDto, ApiError> {
    Ok(AppDto {
        uuid: app.uuid.to_string(),
        id: app.name,
        owner: app.owner,
        structure: serde_json::from_str(&app.structure).map_err(StoreError::from)?,
        procfile_structure: serde_json::from_str(&app.procfile).map_err(StoreError::from)?,
        created: fmt_time(&app.created),
        updated: fmt_time(&app.updated),
    })
}

/// The DTO of one app (one query, for its owner's name).
pub async fn app_dto(state: &AppState, app: &app::Model) -> Result<AppDto, ApiError> {
    let owner = users::by_id(&state.read, app.owner_id)
        .await?
        .map(|u| u.username)
        .unwrap_or_default();
    let row = AppRow {
        uuid: app.uuid,
        name: app.name.clone(),
        structure: app.structure.clone(),
        procfile: app.procfile.clone(),
        created: app.created,
        updated: app.updated,
        owner,
    };
    dto(row)
}

/// Transfer answers.
#[derive(ApiResponse)]
pub enum Transferred {
    /// Transferred (or nothing asked).
    #[oai(status = 200)]
    Done,
}

/// Create request.
#[derive(Object)]
pub struct CreateAppBody {
    /// Desired name; generated when absent.
    pub id: Option<String>,
}

/// Update request.
#[derive(Object)]
pub struct UpdateAppBody {
    /// New owner's username.
    pub owner: Option<String>,
}

/// Create answers.
#[derive(ApiResponse)]
pub enum AppCreated {
    /// Created.
    #[oai(status = 201)]
    Created(Json<AppDto>),
}

/// Application endpoints.
pub struct AppsApi;

#[OpenApi(tag = "Tag::Apps")]
impl AppsApi {
    /// Apps the caller owns or collaborates on (admins: all).
    #[oai(path = "/v2/apps", method = "get")]
    async fn list(&self, req: &Request, auth: TokenAuth) -> ApiResult<Json<Paginated<AppDto>>> {
        let st = state(req)?;
        let page = page_request(req);
        let p = apps::visible(&st.read, auth.0.id(), auth.0.is_admin(), page)
            .await
            .map_err(ApiError::from)?;
        let rows = p.items.into_iter().map(dto).collect::<Result<_, _>>()?;
        Ok(Json(paginate(req, page, p.total, rows)))
    }

    /// Create an app.
    #[oai(path = "/v2/apps", method = "post")]
    async fn create(
        &self,
        req: &Request,
        auth: TokenAuth,
        body: Json<CreateAppBody>,
    ) -> ApiResult<AppCreated> {
        let st = state(req)?;
        let app = uc::create(st, &auth.0, body.0.id).await?;
        Ok(AppCreated::Created(Json(app_dto(st, &app).await?)))
    }

    /// One app.
    #[oai(path = "/v2/apps/:id", method = "get")]
    async fn get(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
    ) -> ApiResult<Json<AppDto>> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        Ok(Json(app_dto(st, &app).await?))
    }

    /// Transfer an app to another owner (owner or admin); answers, as the
    /// reference does, 200 with no body.
    #[oai(path = "/v2/apps/:id", method = "post")]
    async fn update(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
        body: Json<UpdateAppBody>,
    ) -> ApiResult<Transferred> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        if let Some(owner) = body.0.owner {
            if !(auth.0.is_admin() || app.owner_id == auth.0.id()) {
                return Err(ApiError::from(DomainError::Forbidden).into());
            }
            uc::transfer(st, &auth.0, &app, &owner).await?;
        }
        Ok(Transferred::Done)
    }

    /// Destroy an app, here and on Dokku (owner or admin).
    #[oai(path = "/v2/apps/:id", method = "delete")]
    async fn destroy(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
    ) -> ApiResult<NoContent> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Administer).await?;
        uc::destroy(st, &app).await?;
        Ok(NoContent::Done)
    }
}
