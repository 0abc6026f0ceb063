//! Registration, login, tokens, passwords and admin rights.

use std::net::IpAddr;
use std::sync::LazyLock;

use drydock_domain::password::{self, Verification};
use drydock_domain::text::NUL_MESSAGE;
use drydock_domain::token::PlainToken;
use drydock_domain::username;
use drydock_domain::DomainError;
use drydock_entity::entities::user;
use drydock_entity::store::users::AdminRemoval;
use drydock_entity::store::{apps, keys, tokens, users, PageRequest};
use drydock_entity::StoreError;
use regex::Regex;

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::{AppState, Registration};

static USERNAME_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\w.@+-]+$").unwrap_or_else(|_| unreachable!()));

/// What a client sends to register.
#[derive(Debug, Default)]
pub struct Registering {
    /// Login name.
    pub username: Option<String>,
    /// Password in clear.
    pub password: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
}

fn required<'a>(errors: &mut Vec<(String, String)>, field: &str, v: &'a Option<String>) -> &'a str {
    match v.as_deref() {
        None => errors.push((field.into(), "This field is required.".into())),
        Some("") => errors.push((field.into(), "This field may not be blank.".into())),
        Some(_) => {}
    }
    v.as_deref().unwrap_or_default()
}

fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && e.len() <= 254
}

async fn hash_password(state: &AppState, password: String) -> Result<String, ApiError> {
    let iterations = state.settings.password_iterations;
    super::cpu_bound(state, move || password::hash(&password, iterations)).await
}

async fn verify_password(
    state: &AppState,
    password: String,
    stored: String,
) -> Result<Verification, ApiError> {
    let iterations = state.settings.password_iterations;
    super::cpu_bound(state, move || {
        password::verify(&password, &stored, iterations)
    })
    .await
}

/// Creates an account. The first account ever becomes admin.
pub async fn register(
    state: &AppState,
    caller: Option<&AuthUser>,
    input: Registering,
) -> Result<user::Model, ApiError> {
    let first = users::count(&state.db).await? == 0;
    match state.settings.registration {
        Registration::Disabled => {
            return Err(ApiError::Request {
                status: poem::http::StatusCode::FORBIDDEN,
                message: "Registration is disabled".into(),
            });
        }
        Registration::AdminOnly if !first && !caller.is_some_and(AuthUser::is_admin) => {
            return Err(DomainError::Forbidden.into());
        }
        _ => {}
    }
    let mut errors = Vec::new();
    let username = username::normalise(required(&mut errors, "username", &input.username));
    let password = required(&mut errors, "password", &input.password).to_owned();
    if !username.is_empty() && (username.chars().count() > 150 || !USERNAME_RE.is_match(&username))
    {
        errors.push((
            "username".into(),
            "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.".into(),
        ));
    }
    let email = input.email.unwrap_or_default();
    if !email.is_empty() && !valid_email(&email) {
        errors.push(("email".into(), "Enter a valid email address.".into()));
    }
    for (field, v) in [
        ("first_name", &input.first_name),
        ("last_name", &input.last_name),
    ] {
        if v.as_ref().is_some_and(|s| s.chars().count() > 150) {
            errors.push((
                field.into(),
                "Ensure this field has no more than 150 characters.".into(),
            ));
        }
    }
    // Django's ProhibitNullCharactersValidator: this message replaces the field's others.
    for (field, v) in [
        ("username", username.as_str()),
        ("password", password.as_str()),
        ("email", email.as_str()),
        (
            "first_name",
            input.first_name.as_deref().unwrap_or_default(),
        ),
        ("last_name", input.last_name.as_deref().unwrap_or_default()),
    ] {
        if v.contains('\0') {
            errors.retain(|(f, _)| f != field);
            errors.push((field.into(), NUL_MESSAGE.into()));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Fields(errors));
    }
    let password_hash = hash_password(state, password).await?;
    let new = users::NewUser {
        username,
        email,
        first_name: input.first_name.unwrap_or_default(),
        last_name: input.last_name.unwrap_or_default(),
        password_hash,
        is_superuser: false,
    };
    users::register(&state.db, new).await.map_err(|e| match e {
        StoreError::Conflict(_) => {
            ApiError::field("username", "A user with that username already exists.")
        }
        other => other.into(),
    })
}

/// Creates an admin from the command line, whatever the registration mode.
pub async fn create_superuser(
    state: &AppState,
    username: &str,
    email: &str,
    password: &str,
) -> Result<user::Model, ApiError> {
    let username = username::normalise(username);
    if !USERNAME_RE.is_match(&username) {
        return Err(ApiError::field("username", "Enter a valid username."));
    }
    let password_hash = hash_password(state, password.to_owned()).await?;
    let new = users::NewUser {
        username,
        email: email.to_owned(),
        first_name: String::new(),
        last_name: String::new(),
        password_hash,
        is_superuser: true,
    };
    users::create(&state.db, new).await.map_err(|e| match e {
        StoreError::Conflict(_) => {
            ApiError::field("username", "A user with that username already exists.")
        }
        other => other.into(),
    })
}

/// Checks credentials and issues a new token (several machines can be logged in at once).
///
/// Failures count against the username and the client address; once either
/// has used up its allowance the attempt is refused with 429 before any
/// password is checked.
pub async fn login(
    state: &AppState,
    username: Option<String>,
    password: Option<String>,
    client: Option<IpAddr>,
) -> Result<PlainToken, ApiError> {
    let mut errors = Vec::new();
    let username = username::normalise(required(&mut errors, "username", &username));
    let password = required(&mut errors, "password", &password).to_owned();
    if !errors.is_empty() {
        return Err(ApiError::Fields(errors));
    }
    state
        .login_limiter
        .attempt(&username, client)
        .map_err(ApiError::Throttled)?;
    let iterations = state.settings.password_iterations;
    let user = users::by_username(&state.db, &username).await?;
    let stored = user.as_ref().map(|u| u.password.clone());
    // Without a user, still spend the hashing time so response times don't reveal which names exist.
    let verdict = verify_password(
        state,
        password.clone(),
        stored.unwrap_or_else(|| format!("pbkdf2_sha256${iterations}$x$x")),
    )
    .await?;
    let user = match (user, verdict) {
        (Some(u), Verification::Match | Verification::MatchNeedsRehash) if u.is_active => u,
        _ => {
            return Err(ApiError::Fields(vec![(
                "non_field_errors".into(),
                "Unable to log in with provided credentials.".into(),
            )]));
        }
    };
    state.login_limiter.succeeded(&username, client);
    if verdict == Verification::MatchNeedsRehash {
        let h = hash_password(state, password).await?;
        users::set_password(&state.db, user.id, h).await?;
    }
    users::touch_login(&state.db, user.id).await?;
    let token = PlainToken::generate();
    tokens::insert(&state.db, user.id, &token.hash()).await?;
    Ok(token)
}

/// Resolves an optional `username` argument that only admins may use for someone else.
pub async fn target_user(
    state: &AppState,
    caller: &AuthUser,
    username: Option<&str>,
) -> Result<user::Model, ApiError> {
    match username {
        None => Ok(caller.0.clone()),
        Some(name) if name == caller.name() => Ok(caller.0.clone()),
        Some(name) => {
            if !caller.is_admin() {
                return Err(DomainError::Forbidden.into());
            }
            users::by_username(&state.db, name)
                .await?
                .ok_or_else(|| DomainError::not_found("User").into())
        }
    }
}

/// Deletes an account, its tokens and its ssh keys (on Dokku too); refused
/// while it still owns apps. What it wrote into other people's apps stays,
/// authored by the tombstone account (`users::TOMBSTONE`).
pub async fn cancel(
    state: &AppState,
    caller: &AuthUser,
    username: Option<&str>,
) -> Result<(), ApiError> {
    let target = target_user(state, caller, username).await?;
    let owned = apps::count_owned(&state.db, target.id).await?;
    if owned > 0 {
        return Err(DomainError::Conflict(format!(
            "{} still has applications assigned. Delete or transfer ownership",
            target.username
        ))
        .into());
    }
    if target.is_superuser {
        let admins = users::list_superusers(
            &state.db,
            PageRequest {
                offset: 0,
                limit: 2,
            },
        )
        .await?;
        if admins.total < 2 {
            return Err(last_admin());
        }
    }
    // A departed user keeps no way in: their keys leave Dokku first, and the
    // account goes only once every one of them has.
    for key in keys::of_users(&state.db, &[target.id]).await? {
        let name = super::keys::installed_name(&target.username, &key)?;
        state.platform.remove_ssh_key(&name).await?;
        keys::delete(&state.db, key.id).await?;
    }
    if !users::remove_unless_last_admin(&state.db, target.id, AdminRemoval::Delete).await? {
        return Err(last_admin());
    }
    Ok(())
}

/// The refusal for removing the only admin: nobody could manage users after.
fn last_admin() -> ApiError {
    DomainError::Conflict(
        "Cannot remove the last administrator; make another user an administrator first.".into(),
    )
    .into()
}

/// Revokes tokens and issues a new one: own, another user's (admin), or everyone's (admin, returns none).
pub async fn regenerate_token(
    state: &AppState,
    caller: &AuthUser,
    username: Option<&str>,
    all: bool,
) -> Result<Option<PlainToken>, ApiError> {
    if all {
        if !caller.is_admin() {
            return Err(DomainError::Forbidden.into());
        }
        tokens::revoke_all(&state.db).await?;
        return Ok(None);
    }
    let target = target_user(state, caller, username).await?;
    tokens::revoke_user(&state.db, target.id).await?;
    let token = PlainToken::generate();
    tokens::insert(&state.db, target.id, &token.hash()).await?;
    Ok(Some(token))
}

/// Changes a password, revoking the user's other tokens; admins may change
/// another's without knowing it (which revokes all of that user's tokens).
pub async fn change_password(
    state: &AppState,
    caller: &AuthUser,
    username: Option<&str>,
    password: Option<String>,
    new_password: Option<String>,
) -> Result<(), ApiError> {
    let required = |field: &str, v: &Option<String>| match v.as_deref() {
        None | Some("") => Err(ApiError::from(DomainError::BadRequest(format!(
            "{field} is a required field"
        )))),
        Some(v) => Ok(v.to_owned()),
    };
    let new_password = required("new_password", &new_password)?;
    let target = target_user(state, caller, username).await?;
    let for_self = target.id == caller.id();
    if for_self {
        required("password", &password)?;
    }
    if for_self {
        state
            .login_limiter
            .attempt(&target.username, None)
            .map_err(ApiError::Throttled)?;
        let verdict =
            verify_password(state, password.unwrap_or_default(), target.password.clone()).await?;
        if verdict == Verification::Mismatch {
            return Err(ApiError::WrongPassword("Current password does not match"));
        }
        state.login_limiter.succeeded(&target.username, None);
    }
    let h = hash_password(state, new_password).await?;
    users::set_password(&state.db, target.id, h).await?;
    // Whoever held the old password may hold a token made with it: only the
    // token this very request came with survives, and only a change of one's own.
    let keep = if for_self { caller.1.as_ref() } else { None };
    tokens::revoke_user_except(&state.db, target.id, keep).await?;
    Ok(())
}

/// Grants or revokes admin rights (admins only).
pub async fn set_admin(
    state: &AppState,
    caller: &AuthUser,
    username: &str,
    admin: bool,
) -> Result<(), ApiError> {
    if !caller.is_admin() {
        return Err(DomainError::Forbidden.into());
    }
    let target = users::by_username(&state.db, username)
        .await?
        .ok_or_else(|| DomainError::not_found("User"))?;
    if admin {
        users::set_superuser(&state.db, target.id, true).await?;
    } else if !users::remove_unless_last_admin(&state.db, target.id, AdminRemoval::Demote).await? {
        return Err(last_admin());
    }
    Ok(())
}
