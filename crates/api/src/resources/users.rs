//! `/v2/users` and `/v2/admin/perms`: user administration, admins only.

use drydock_domain::DomainError;
use drydock_entity::store::users;
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::{state, NoContent, UserDto};
use super::problem::ApiResult;
use super::Tag;
use crate::auth::TokenAuth;
use crate::error::ApiError;
use crate::pagination::{page_request, paginate, Paginated};
use crate::usecase::accounts;

/// An admin as `/v2/admin/perms` lists them.
#[derive(Object)]
pub struct AdminDto {
    /// Login name.
    pub username: String,
    /// Always true in this list.
    pub is_superuser: bool,
}

/// Grant request.
#[derive(Object)]
pub struct UsernameBody {
    /// The user to grant.
    pub username: Option<String>,
}

/// Empty 201.
#[derive(ApiResponse)]
pub enum CreatedEmpty {
    /// Done.
    #[oai(status = 201)]
    Created,
}

fn admin_only(auth: &TokenAuth) -> Result<(), ApiError> {
    if auth.0.is_admin() {
        Ok(())
    } else {
        Err(DomainError::Forbidden.into())
    }
}

/// User administration endpoints.
pub struct UsersApi;

#[OpenApi(tag = "Tag::Users")]
impl UsersApi {
    /// Every user (admins only).
    #[oai(path = "/v2/users", method = "get")]
    async fn list_users(
        &self,
        req: &Request,
        auth: TokenAuth,
    ) -> ApiResult<Json<Paginated<UserDto>>> {
        admin_only(&auth)?;
        let page = page_request(req);
        let p = users::list(&state(req)?.db, page)
            .await
            .map_err(ApiError::from)?;
        Ok(Json(paginate(
            req,
            page,
            p.total,
            p.items.iter().map(UserDto::from).collect(),
        )))
    }

    /// Every admin (admins only).
    #[oai(path = "/v2/admin/perms", method = "get")]
    async fn list_admins(
        &self,
        req: &Request,
        auth: TokenAuth,
    ) -> ApiResult<Json<Paginated<AdminDto>>> {
        admin_only(&auth)?;
        let page = page_request(req);
        let p = users::list_superusers(&state(req)?.db, page)
            .await
            .map_err(ApiError::from)?;
        let rows = p
            .items
            .into_iter()
            .map(|u| AdminDto {
                username: u.username,
                is_superuser: true,
            })
            .collect();
        Ok(Json(paginate(req, page, p.total, rows)))
    }

    /// Make a user admin.
    #[oai(path = "/v2/admin/perms", method = "post")]
    async fn grant_admin(
        &self,
        req: &Request,
        auth: TokenAuth,
        body: Json<UsernameBody>,
    ) -> ApiResult<CreatedEmpty> {
        admin_only(&auth)?;
        let Some(name) = body.0.username.filter(|n| !n.is_empty()) else {
            return Err(ApiError::field("username", "This field is required.").into());
        };
        accounts::set_admin(state(req)?, &auth.0, &name, true).await?;
        Ok(CreatedEmpty::Created)
    }

    /// Take admin rights away.
    #[oai(path = "/v2/admin/perms/:username", method = "delete")]
    async fn revoke_admin(
        &self,
        req: &Request,
        auth: TokenAuth,
        username: Path<String>,
    ) -> ApiResult<NoContent> {
        admin_only(&auth)?;
        accounts::set_admin(state(req)?, &auth.0, &username.0, false).await?;
        Ok(NoContent::Done)
    }
}
