//! `/v2/auth/*`: register, login, cancel, whoami, tokens, passwd.

use std::net::IpAddr;

use drydock_entity::entities::user;
use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::registry::{
    MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::problem::ApiResult;
use super::Tag;
use crate::auth::{AuthUser, TokenAuth};
use crate::error::ApiError;
use crate::state::AppState;
use crate::usecase::{accounts, fmt_time};

/// A user as the reference shows it.
#[derive(Object)]
pub struct UserDto {
    /// Login name.
    pub username: String,
    /// Email address.
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Admin.
    pub is_superuser: bool,
    /// Staff (same as admin here).
    pub is_staff: bool,
    /// Django groups (always empty).
    pub groups: Vec<String>,
    /// Django permissions (always empty).
    pub user_permissions: Vec<String>,
    /// Last successful login.
    #[oai(nullable)]
    pub last_login: Option<String>,
    /// Registration time.
    pub date_joined: String,
    /// Whether the account may log in.
    pub is_active: bool,
}

impl From<&user::Model> for UserDto {
    fn from(u: &user::Model) -> Self {
        Self {
            username: u.username.clone(),
            email: u.email.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            is_superuser: u.is_superuser,
            is_staff: u.is_staff,
            groups: vec![],
            user_permissions: vec![],
            last_login: u.last_login.as_ref().map(fmt_time),
            date_joined: fmt_time(&u.date_joined),
            is_active: u.is_active,
        }
    }
}

/// Registration request.
#[derive(Object)]
pub struct RegisterBody {
    /// Login name (required).
    pub username: Option<String>,
    /// Password (required).
    pub password: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
}

/// Login request.
#[derive(Object)]
pub struct LoginBody {
    /// Login name.
    pub username: Option<String>,
    /// Password.
    pub password: Option<String>,
}

/// A freshly issued token.
#[derive(Object)]
pub struct TokenDto {
    /// 40 hex characters; shown once.
    pub token: String,
}

/// Cancel request (admins may name another user).
#[derive(Object)]
pub struct CancelBody {
    /// Account to delete; defaults to the caller.
    pub username: Option<String>,
}

/// Token regeneration request.
#[derive(Object)]
pub struct TokensBody {
    /// Whose token (admin only for others).
    pub username: Option<String>,
    /// Revoke every user's tokens (admin only).
    pub all: Option<serde_json::Value>,
}

/// Password change request.
#[derive(Object)]
pub struct PasswdBody {
    /// Current password (not needed by an admin changing another's).
    pub password: Option<String>,
    /// New password.
    pub new_password: Option<String>,
    /// Whose password (admin only for others).
    pub username: Option<String>,
}

/// `{"status": "password set"}`.
#[derive(Object)]
pub struct StatusDto {
    /// Always "password set".
    pub status: String,
}

/// Register answers.
#[derive(ApiResponse)]
pub enum Registered {
    /// Account created.
    #[oai(status = 201)]
    Created(Json<UserDto>),
}

/// Token regeneration answers: `{"token": "…"}`, or `""` once every user's
/// tokens were revoked (`all`), as the reference answers.
pub enum Regenerated {
    /// The new token.
    Token(TokenDto),
    /// Everyone's tokens were revoked.
    All,
}

impl poem::IntoResponse for Regenerated {
    fn into_response(self) -> poem::Response {
        match self {
            Regenerated::Token(t) => Json(t).into_response(),
            Regenerated::All => Json(String::new()).into_response(),
        }
    }
}

impl ApiResponse for Regenerated {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "The new token; `\"\"` when every user's tokens were revoked (`all`).",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: "application/json; charset=utf-8",
                    schema: MetaSchemaRef::Inline(Box::new(MetaSchema {
                        any_of: vec![
                            TokenDto::schema_ref(),
                            MetaSchemaRef::Inline(Box::new(MetaSchema::new("string"))),
                        ],
                        ..MetaSchema::ANY
                    })),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        TokenDto::register(registry);
    }
}

/// Empty success.
#[derive(ApiResponse)]
pub enum NoContent {
    /// Done.
    #[oai(status = 204)]
    Done,
}

fn truthy(v: &Option<serde_json::Value>) -> bool {
    match v {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) => {
            matches!(s.to_ascii_lowercase().as_str(), "true" | "1" | "yes")
        }
        Some(serde_json::Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    }
}

/// Authentication endpoints.
pub struct AuthApi;

#[OpenApi(tag = "Tag::Auth")]
impl AuthApi {
    /// Register a new user; the first ever becomes admin.
    #[oai(path = "/v2/auth/register", method = "post")]
    async fn register(&self, req: &Request, body: Json<RegisterBody>) -> ApiResult<Registered> {
        let state = state(req)?;
        let caller = optional_caller(req, state).await;
        let b = body.0;
        let input = accounts::Registering {
            username: b.username,
            password: b.password,
            email: b.email,
            first_name: b.first_name,
            last_name: b.last_name,
        };
        let user = accounts::register(state, caller.as_ref(), input).await?;
        Ok(Registered::Created(Json(UserDto::from(&user))))
    }

    /// Log in and receive a token.
    #[oai(path = "/v2/auth/login", method = "post")]
    async fn login(&self, req: &Request, body: Json<LoginBody>) -> ApiResult<Json<TokenDto>> {
        let state = state(req)?;
        let client = client_address(req, state);
        let token = accounts::login(state, body.0.username, body.0.password, client).await?;
        Ok(Json(TokenDto {
            token: token.expose().to_owned(),
        }))
    }

    /// Delete your account (or, as admin, someone else's).
    #[oai(path = "/v2/auth/cancel", method = "delete")]
    async fn cancel(
        &self,
        req: &Request,
        auth: TokenAuth,
        body: Json<CancelBody>,
    ) -> ApiResult<NoContent> {
        let username = body.0.username;
        accounts::cancel(state(req)?, &auth.0, username.as_deref()).await?;
        Ok(NoContent::Done)
    }

    /// Who the token belongs to.
    #[oai(path = "/v2/auth/whoami", method = "get")]
    async fn whoami(&self, auth: TokenAuth) -> ApiResult<Json<UserDto>> {
        Ok(Json(UserDto::from(&auth.0 .0)))
    }

    /// Revoke tokens and issue a new one.
    #[oai(path = "/v2/auth/tokens", method = "post")]
    async fn tokens(
        &self,
        req: &Request,
        auth: TokenAuth,
        body: Json<TokensBody>,
    ) -> ApiResult<Regenerated> {
        let all = truthy(&body.0.all);
        let token =
            accounts::regenerate_token(state(req)?, &auth.0, body.0.username.as_deref(), all)
                .await?;
        Ok(match token {
            Some(t) => Regenerated::Token(TokenDto {
                token: t.expose().to_owned(),
            }),
            None => Regenerated::All,
        })
    }

    /// Change a password.
    #[oai(path = "/v2/auth/passwd", method = "post")]
    async fn passwd(
        &self,
        req: &Request,
        auth: TokenAuth,
        body: Json<PasswdBody>,
    ) -> ApiResult<Json<StatusDto>> {
        let b = body.0;
        accounts::change_password(
            state(req)?,
            &auth.0,
            b.username.as_deref(),
            b.password,
            b.new_password,
        )
        .await?;
        Ok(Json(StatusDto {
            status: "password set".into(),
        }))
    }
}

/// The shared state put on every request by the router.
pub fn state(req: &Request) -> Result<&AppState, ApiError> {
    req.data::<AppState>()
        .ok_or_else(|| ApiError::Internal("AppState missing from request".into()))
}

/// The address failed logins are counted against: the last entry of the
/// configured proxy header when present, else the TCP peer.
fn client_address(req: &Request, state: &AppState) -> Option<IpAddr> {
    let from_proxy = state.settings.client_ip_header.as_deref().and_then(|h| {
        req.headers()
            .get(h)?
            .to_str()
            .ok()?
            .rsplit(',')
            .next()?
            .trim()
            .parse()
            .ok()
    });
    from_proxy.or_else(|| req.remote_addr().as_socket_addr().map(|a| a.ip()))
}

/// The caller if a valid token came along (registration in `admin_only` mode).
async fn optional_caller(req: &Request, state: &AppState) -> Option<AuthUser> {
    let header = req.headers().get("authorization")?.to_str().ok()?;
    crate::auth::authenticate(state, header).await.ok()
}
