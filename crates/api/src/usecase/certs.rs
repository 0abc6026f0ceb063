//! Certificates: upload, attach to a domain, detach, delete. Dokku holds one
//! certificate per app, so an app's domains may share only one certificate.

use chrono::Utc;
use drydock_domain::certificate::CertificateInfo;
use drydock_domain::name::{AppName, CertName, DomainName};
use drydock_domain::text::check_no_nul;
use drydock_domain::DomainError;
use drydock_entity::entities::{app, certificate};
use drydock_entity::sea_orm::{EntityTrait, Set};
use drydock_entity::store::{certs, domains, events};
use drydock_entity::StoreError;

use super::access::{app_for, AppAction};
use super::lock::with_app_lock;
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

const NAME_TAKEN: &str = "certificate with this name already exists.";

/// Whether the caller may see or change this certificate: its owner and admins.
pub fn may_manage(caller: &AuthUser, cert: &certificate::Model) -> bool {
    caller.is_admin() || cert.owner_id == caller.id()
}

/// A certificate the caller may manage, by name (404 when missing or not
/// theirs, as the reference answers: a name alone reveals nothing).
pub async fn get(
    state: &AppState,
    caller: &AuthUser,
    name: &str,
) -> Result<certificate::Model, ApiError> {
    if CertName::parse(name).is_err() {
        return Err(DomainError::not_found("Certificate").into());
    }
    let cert = certs::by_name(&state.db, name)
        .await?
        .ok_or_else(|| DomainError::not_found("Certificate"))?;
    if !may_manage(caller, &cert) {
        return Err(DomainError::not_found("Certificate").into());
    }
    Ok(cert)
}

/// Parses and stores an uploaded certificate.
pub async fn create(
    state: &AppState,
    caller: &AuthUser,
    name: Option<String>,
    certificate_pem: Option<String>,
    key_pem: Option<String>,
) -> Result<certificate::Model, ApiError> {
    let mut missing = Vec::new();
    for (field, v) in [
        ("name", &name),
        ("certificate", &certificate_pem),
        ("key", &key_pem),
    ] {
        if v.as_deref().is_none_or(|s| s.trim().is_empty()) {
            missing.push((field.to_owned(), "This field is required.".to_owned()));
        }
    }
    if !missing.is_empty() {
        return Err(ApiError::Fields(missing));
    }
    let name = CertName::parse(name.as_deref().unwrap_or_default())?;
    check_no_nul(
        "certificate",
        certificate_pem.as_deref().unwrap_or_default(),
    )?;
    check_no_nul("key", key_pem.as_deref().unwrap_or_default())?;
    let (chain, key) = (
        certificate_pem.unwrap_or_default(),
        key_pem.unwrap_or_default(),
    );
    let info = super::cpu_bound(state, move || CertificateInfo::from_pem(&chain, &key))
        .await?
        .map_err(|e| ApiError::Fields(e.into_fields()))?;
    if certs::by_name(&state.db, name.as_str()).await?.is_some() {
        return Err(ApiError::field("name", NAME_TAKEN));
    }
    if !info.is_currently_valid(Utc::now()) {
        tracing::warn!(
            certificate = %name,
            starts = %info.starts(),
            expires = %info.expires(),
            "uploaded certificate is expired or not yet valid"
        );
    }
    let now = Utc::now();
    let row = certificate::ActiveModel {
        name: Set(name.as_str().to_owned()),
        owner_id: Set(caller.id()),
        common_name: Set(info.common_name().to_owned()),
        san: Set(serde_json::to_string(info.san()).unwrap_or_else(|_| "[]".into())),
        fingerprint: Set(info.fingerprint().to_owned()),
        expires: Set(info.expires()),
        starts: Set(info.starts()),
        issuer: Set(info.issuer().to_owned()),
        subject: Set(info.subject().to_owned()),
        chain_pem: Set(info.chain_pem().to_owned()),
        key_pem: Set(info.key_pem().expose().to_owned()),
        created: Set(now),
        updated: Set(now),
        ..Default::default()
    };
    certs::insert(&state.db, row).await.map_err(|e| match e {
        StoreError::Conflict(_) => ApiError::field("name", NAME_TAKEN),
        other => other.into(),
    })
}

async fn app_by_id(state: &AppState, id: i32) -> Result<app::Model, ApiError> {
    app::Entity::find_by_id(id)
        .one(&state.db)
        .await
        .map_err(StoreError::from)?
        .ok_or_else(|| DomainError::not_found("App").into())
}

/// Attaches `cert` to a domain and installs it on the domain's app.
pub async fn attach(
    state: &AppState,
    caller: &AuthUser,
    cert: &certificate::Model,
    raw_domain: &str,
) -> Result<(), ApiError> {
    let Ok(wanted) = DomainName::parse(raw_domain) else {
        return Err(DomainError::not_found("Domain").into());
    };
    let row = domains::by_name(&state.db, wanted.as_str())
        .await?
        .ok_or_else(|| DomainError::not_found("Domain"))?;
    let app = app_by_id(state, row.app_id).await?;
    let app = app_for(state, caller, &app.name, AppAction::Use).await?;
    if row.certificate_id.is_some() {
        return Err(DomainError::Conflict(
            "Domain already has a certificate attached to it".into(),
        )
        .into());
    }
    let domain_name = DomainName::parse(&row.domain)?;
    let info = CertificateInfo::from_pem(&cert.chain_pem, &cert.key_pem)
        .map_err(|_| ApiError::Internal("a stored certificate no longer parses".into()))?;
    if !info.covers(&domain_name) {
        return Err(DomainError::BadRequest(format!(
            "Certificate {} does not cover domain {}",
            cert.name, row.domain
        ))
        .into());
    }
    let app_name = AppName::parse(&app.name)?;
    with_app_lock(state, &app.name, app.id, async || {
        let siblings = domains::all_for_app(&state.db, app.id).await?;
        if siblings
            .iter()
            .any(|d| d.certificate_id.is_some_and(|c| c != cert.id))
        {
            return Err(DomainError::Conflict(format!(
                "App {} already has a different certificate attached; Dokku holds one certificate per app: detach it first",
                app.name
            ))
            .into());
        }
        let installed = siblings.iter().any(|d| d.certificate_id == Some(cert.id));
        if !installed {
            state
                .platform
                .install_certificate(&app_name, info.chain_pem(), info.key_pem().expose())
                .await?;
        }
        domains::set_certificate(&state.db, row.id, Some(cert.id)).await?;
        let msg = format!(
            "{} attached certificate {} to domain {}",
            caller.name(),
            cert.name,
            row.domain
        );
        events::record(&state.db, app.id, &msg).await?;
        Ok(())
    })
    .await
}

/// Detaches `cert` from one domain (removing it from Dokku when no other
/// domain of that app still uses it).
pub async fn detach(
    state: &AppState,
    caller: &AuthUser,
    cert: &certificate::Model,
    raw_domain: &str,
) -> Result<(), ApiError> {
    let Ok(wanted) = DomainName::parse(raw_domain) else {
        return Err(DomainError::not_found("Domain").into());
    };
    let row = domains::by_name(&state.db, wanted.as_str())
        .await?
        .filter(|d| d.certificate_id == Some(cert.id))
        .ok_or_else(|| DomainError::not_found("Domain"))?;
    let app = app_by_id(state, row.app_id).await?;
    let app = app_for(state, caller, &app.name, AppAction::Use).await?;
    detach_rows(state, caller, cert, &app, &[row.id], &row.domain).await
}

async fn detach_rows(
    state: &AppState,
    caller: &AuthUser,
    cert: &certificate::Model,
    app: &app::Model,
    ids: &[i32],
    label: &str,
) -> Result<(), ApiError> {
    let app_name = AppName::parse(&app.name)?;
    with_app_lock(state, &app.name, app.id, async || {
        let still_used = domains::all_for_app(&state.db, app.id)
            .await?
            .iter()
            .any(|d| !ids.contains(&d.id) && d.certificate_id == Some(cert.id));
        if !still_used {
            state.platform.remove_certificate(&app_name).await?;
        }
        for id in ids {
            domains::set_certificate(&state.db, *id, None).await?;
        }
        let msg = format!(
            "{} detached certificate {} from {}",
            caller.name(),
            cert.name,
            label
        );
        events::record(&state.db, app.id, &msg).await?;
        Ok(())
    })
    .await
}

/// Detaches the certificate everywhere, then deletes it.
pub async fn delete(
    state: &AppState,
    caller: &AuthUser,
    cert: &certificate::Model,
) -> Result<(), ApiError> {
    let attached = domains::for_certificate(&state.db, cert.id).await?;
    let mut by_app: std::collections::BTreeMap<i32, Vec<i32>> = Default::default();
    for d in &attached {
        by_app.entry(d.app_id).or_default().push(d.id);
    }
    for (app_id, ids) in by_app {
        let app = app_by_id(state, app_id).await?;
        detach_rows(state, caller, cert, &app, &ids, "its domains").await?;
    }
    certs::delete(&state.db, cert.id).await?;
    Ok(())
}

/// Names of the domains a certificate is attached to.
pub async fn domain_names(state: &AppState, cert_id: i32) -> Result<Vec<String>, ApiError> {
    Ok(domains::for_certificate(&state.db, cert_id)
        .await?
        .into_iter()
        .map(|d| d.domain)
        .collect())
}
