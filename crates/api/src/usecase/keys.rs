//! SSH keys for `git push`: stored per user, installed on Dokku under a name
//! derived from the owner's id and the key's uuid.

use chrono::Utc;
use drydock_domain::name::SshKeyName;
use drydock_domain::ssh_key::PublicKey;
use drydock_domain::text::check_no_nul;
use drydock_domain::DomainError;
use drydock_entity::entities::key;
use drydock_entity::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use drydock_entity::store::keys;
use drydock_entity::StoreError;

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

const KEY_IN_USE: &str = "Public Key is already in use";

/// The duplicate-key error, under `public` (the field sent), exactly as the reference answers it.
fn key_in_use() -> ApiError {
    ApiError::field("public", KEY_IN_USE)
}

/// The name a new key is installed under on Dokku: `drydock-u<user id>-<key
/// uuid>`, one-to-one with its owner whatever the username (two usernames
/// must never share a key name there, and names are Dokku's only handle).
fn dokku_key_name(user_id: i32, key_uuid: &uuid::Uuid) -> Result<SshKeyName, ApiError> {
    Ok(SshKeyName::parse(&format!(
        "drydock-u{user_id}-{}",
        key_uuid.simple()
    ))?)
}

/// The name a stored key is installed under on Dokku: the recorded one, or
/// for keys added before names were recorded, `<username>.<key id>` with
/// anything outside `[A-Za-z0-9._@-]` replaced by `_`, at most 128 characters.
pub fn installed_name(username: &str, key: &key::Model) -> Result<SshKeyName, ApiError> {
    if let Some(name) = &key.dokku_name {
        return Ok(SshKeyName::parse(name)?);
    }
    let mut s: String = format!("{username}.{}", key.key_id)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        s.insert(0, 'k');
    }
    s.truncate(128);
    Ok(SshKeyName::parse(&s)?)
}

/// Registers a key for the caller.
pub async fn add(
    state: &AppState,
    caller: &AuthUser,
    key_id: Option<String>,
    public: Option<String>,
) -> Result<key::Model, ApiError> {
    let mut missing = Vec::new();
    if key_id.as_deref().is_none_or(|s| s.trim().is_empty()) {
        missing.push(("id".to_owned(), "This field is required.".to_owned()));
    }
    if public.as_deref().is_none_or(|s| s.trim().is_empty()) {
        missing.push(("public".to_owned(), "This field is required.".to_owned()));
    }
    if !missing.is_empty() {
        return Err(ApiError::Fields(missing));
    }
    let key_id = key_id.unwrap_or_default().trim().to_owned();
    check_no_nul("id", &key_id)?;
    check_no_nul("public", public.as_deref().unwrap_or_default())?;
    if key_id.len() > 128 {
        return Err(ApiError::field(
            "id",
            "Ensure this field has no more than 128 characters.",
        ));
    }
    let pk =
        PublicKey::parse(public.as_deref().unwrap_or_default().trim()).map_err(|e| match e {
            DomainError::Field { message, .. } => ApiError::field("public", &message),
            other => other.into(),
        })?;
    let fingerprint = pk.fingerprint_md5();
    let taken = key::Entity::find()
        .filter(key::Column::Fingerprint.eq(fingerprint.as_str()))
        .one(&state.db)
        .await
        .map_err(StoreError::from)?;
    if taken.is_some() {
        return Err(key_in_use());
    }
    if keys::by_key_id(&state.db, caller.id(), &key_id)
        .await?
        .is_some()
    {
        return Err(ApiError::field(
            "id",
            "SSH Key with this id already exists.",
        ));
    }
    let line = pk.to_openssh();
    let uuid = uuid::Uuid::new_v4();
    let name = dokku_key_name(caller.id(), &uuid)?;
    let now = Utc::now();
    let row = keys::insert(
        &state.db,
        key::ActiveModel {
            uuid: Set(uuid),
            dokku_name: Set(Some(name.as_str().to_owned())),
            owner_id: Set(caller.id()),
            key_id: Set(key_id.clone()),
            public: Set(line.clone()),
            fingerprint: Set(fingerprint),
            fingerprint_sha256: Set(Some(pk.fingerprint_sha256())),
            created: Set(now),
            updated: Set(now),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict(_) => key_in_use(),
        other => other.into(),
    })?;
    if let Err(e) = state.platform.add_ssh_key(&name, &line).await {
        if let Err(db_err) = keys::delete(&state.db, row.id).await {
            tracing::error!(error = %db_err, "could not undo a key Dokku refused");
        }
        return Err(e.into());
    }
    Ok(row)
}

/// Removes one of the caller's keys (404 for anyone else's).
pub async fn remove(state: &AppState, caller: &AuthUser, key_id: &str) -> Result<(), ApiError> {
    let row = keys::by_key_id(&state.db, caller.id(), key_id)
        .await?
        .ok_or_else(|| DomainError::not_found("Key"))?;
    let name = installed_name(caller.name(), &row)?;
    state.platform.remove_ssh_key(&name).await?;
    keys::delete(&state.db, row.id).await?;
    Ok(())
}
