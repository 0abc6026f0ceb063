//! `/v2/apps/<id>/tls`: whether HTTP is redirected to HTTPS.

use drydock_entity::entities::{app, tls};
use drydock_entity::store::{tls as store, users};
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Union};

use super::auth::state;
use super::problem::ApiResult;
use super::Tag;
use crate::auth::TokenAuth;
use crate::error::ApiError;
use crate::state::AppState;
use crate::usecase::access::{app_for, AppAction};
use crate::usecase::fmt_time;

/// An app's TLS settings.
#[derive(Object)]
pub struct TlsDto {
    /// Stable id.
    pub uuid: String,
    /// App name.
    pub app: String,
    /// Owner's username.
    pub owner: String,
    /// Whether HTTP is redirected to HTTPS (`null` until set).
    #[oai(nullable)]
    pub https_enforced: Option<bool>,
    /// Creation time.
    pub created: String,
    /// Last change.
    pub updated: String,
}

async fn dto(st: &AppState, app: &app::Model, t: &tls::Model) -> Result<TlsDto, ApiError> {
    let owner = users::by_id(&st.db, t.owner_id)
        .await?
        .map(|u| u.username)
        .unwrap_or_default();
    Ok(TlsDto {
        uuid: t.uuid.to_string(),
        app: app.name.clone(),
        owner,
        https_enforced: t.https_enforced,
        created: fmt_time(&t.created),
        updated: fmt_time(&t.updated),
    })
}

/// A boolean as the reference's serializer takes it: `true`/`false`, or one
/// of the words and digits Django REST framework reads as one.
#[derive(Union)]
pub enum Flag {
    /// A JSON boolean.
    Bool(bool),
    /// `"true"`, `"yes"`, `"on"`, `"1"`, `"false"`, `"no"`, `"off"`, `"0"`, … (`""` and `"null"`: not set).
    Text(String),
    /// `1` or `0`.
    Number(i64),
}

impl Flag {
    /// The value, `None` for the null spellings; otherwise the reference's 400.
    fn read(self, field: &str) -> Result<Option<bool>, ApiError> {
        let text = match self {
            Self::Bool(b) => return Ok(Some(b)),
            Self::Number(1) => return Ok(Some(true)),
            Self::Number(0) => return Ok(Some(false)),
            Self::Number(n) => n.to_string(),
            Self::Text(t) => t,
        };
        match text.as_str() {
            "t" | "T" | "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on"
            | "On" | "ON" | "1" => Ok(Some(true)),
            "f" | "F" | "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off"
            | "Off" | "OFF" | "0" => Ok(Some(false)),
            "" | "null" | "Null" | "NULL" => Ok(None),
            other => Err(ApiError::field(
                field,
                &format!("\"{other}\" is not a valid boolean."),
            )),
        }
    }
}

/// TLS change request.
#[derive(Object)]
pub struct TlsBody {
    /// Redirect HTTP to HTTPS; null or absent unsets it.
    pub https_enforced: Option<Flag>,
}

/// Change answers.
#[derive(ApiResponse)]
pub enum TlsCreated {
    /// Applied.
    #[oai(status = 201)]
    Created(Json<TlsDto>),
}

/// TLS endpoints.
pub struct TlsApi;

#[OpenApi(tag = "Tag::Tls")]
impl TlsApi {
    /// The app's TLS settings.
    #[oai(path = "/v2/apps/:id/tls", method = "get")]
    async fn get(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
    ) -> ApiResult<Json<TlsDto>> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        let row = store::get_or_create(&st.db, app.id, app.owner_id)
            .await
            .map_err(ApiError::from)?;
        Ok(Json(dto(st, &app, &row).await?))
    }

    /// Turn the HTTPS redirect on or off.
    #[oai(path = "/v2/apps/:id/tls", method = "post")]
    async fn set(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
        body: Json<TlsBody>,
    ) -> ApiResult<TlsCreated> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        let enforced = match body.0.https_enforced {
            Some(flag) => flag.read("https_enforced")?,
            None => None,
        };
        let row = crate::usecase::tls::set_https_enforced(st, &auth.0, &app, enforced).await?;
        Ok(TlsCreated::Created(Json(dto(st, &app, &row).await?)))
    }
}
