//! `Authorization: token <key>` authentication, answered with the reference's
//! three distinct 401 messages.

use drydock_domain::token::{PlainToken, TokenHash};
use drydock_entity::entities::user;
use drydock_entity::store::tokens;
use poem::Request;
use poem_openapi::auth::ApiKey;
use poem_openapi::SecurityScheme;

use crate::error::ApiError;
use crate::state::AppState;

/// The caller, once their token checked out, and the hash of that token
/// (`None` where no token was involved: a builder hook names the user).
#[derive(Debug, Clone)]
pub struct AuthUser(pub user::Model, pub Option<TokenHash>);

impl AuthUser {
    /// Whether the caller is an admin.
    pub fn is_admin(&self) -> bool {
        self.0.is_superuser
    }

    /// The caller's username.
    pub fn name(&self) -> &str {
        &self.0.username
    }

    /// The caller's id.
    pub fn id(&self) -> i32 {
        self.0.id
    }
}

/// Token authentication (`Authorization: token <40 hex>`).
#[derive(SecurityScheme)]
#[oai(
    ty = "api_key",
    key_name = "Authorization",
    key_in = "header",
    checker = "check_token"
)]
pub struct TokenAuth(pub AuthUser);

/// The credentials part of an Authorization header, or the reference's message for why not.
fn credentials(header: &str) -> Result<&str, ApiError> {
    let mut words = header.split_whitespace();
    match words.next() {
        Some(scheme) if scheme.eq_ignore_ascii_case("token") => {}
        _ => {
            return Err(ApiError::Unauthenticated(
                "Authentication credentials were not provided.",
            ))
        }
    }
    let Some(key) = words.next() else {
        return Err(ApiError::Unauthenticated(
            "Invalid token header. No credentials provided.",
        ));
    };
    if words.next().is_some() {
        return Err(ApiError::Unauthenticated(
            "Invalid token header. Token string should not contain spaces.",
        ));
    }
    Ok(key)
}

/// Resolves an `Authorization` header value to its user, or the 401 to answer.
pub async fn authenticate(state: &AppState, header: &str) -> Result<AuthUser, ApiError> {
    let key = credentials(header)?;
    let hash = PlainToken::from_client(key).hash();
    match tokens::user_for(&state.read, &hash).await? {
        Some(user) => Ok(AuthUser(user, Some(hash))),
        None => Err(ApiError::Unauthenticated("Invalid token.")),
    }
}

async fn check_token(req: &Request, key: ApiKey) -> poem::Result<AuthUser> {
    let state = req
        .data::<AppState>()
        .ok_or_else(|| ApiError::Internal("AppState missing from request".into()))?;
    Ok(authenticate(state, &key.key).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_forms() {
        assert_eq!(credentials("token abc").ok(), Some("abc"));
        assert_eq!(credentials("Token abc").ok(), Some("abc"));
        assert!(
            matches!(credentials("token"), Err(ApiError::Unauthenticated(m)) if m.contains("No credentials"))
        );
        assert!(
            matches!(credentials("Bearer x"), Err(ApiError::Unauthenticated(m)) if m.contains("not provided"))
        );
        assert!(
            matches!(credentials("token a b"), Err(ApiError::Unauthenticated(m)) if m.contains("spaces"))
        );
    }
}
