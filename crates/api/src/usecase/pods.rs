//! Containers: listing, scaling, restarting, logs and one-off commands.

use std::collections::BTreeMap;

use drydock_domain::name::{AppName, PodName, ProcessType};
use drydock_domain::platform::{Pod, RestartTarget, RunOutput};
use drydock_domain::text::check_no_nul;
use drydock_domain::{procfile, DomainError};
use drydock_entity::entities::app;
use drydock_entity::store::{apps, events};
use poem::http::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::lock::with_app_lock;
use super::releases;
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::run_slots::Full;
use crate::state::AppState;

/// The longest one-off command, in bytes: like a config value, it travels
/// base64-encoded in one argument of a Dokku command.
pub const MAX_COMMAND_BYTES: usize = drydock_domain::config_vars::MAX_VALUE_BYTES;

/// The app's containers, optionally of one process type, ordered by type and name.
pub async fn list(
    state: &AppState,
    app: &app::Model,
    only_type: Option<&str>,
) -> Result<Vec<Pod>, ApiError> {
    let name = AppName::parse(&app.name)?;
    let mut pods = state.platform.list_pods(&name).await?;
    if let Some(t) = only_type {
        pods.retain(|p| p.process_type == t);
    }
    for p in &mut pods {
        p.name = shown_name(&app.name, p);
    }
    pods.sort_by(|a, b| (&a.process_type, &a.name).cmp(&(&b.process_type, &b.name)));
    Ok(pods)
}

/// The name a container is shown under: `<app>-<type>-<10>-<5>`, the shape
/// of the reference's Kubernetes pod names, which both clients parse to find
/// a pod's type (`ps:restart`). Derived from Dokku's container name alone,
/// so a name a client read keeps working across deploys and restarts.
pub fn shown_name(app: &str, pod: &Pod) -> String {
    let digest = Sha256::digest(&pod.name);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // Ten digits, then five of [a-z0-9], as Kubernetes names a deployment's
    // pods: the deis client takes only digits in the first part.
    let number = u64::from_be_bytes(first) % 10_000_000_000;
    let suffix: String = digest[8..13]
        .iter()
        .map(|b| char::from(b"0123456789abcdefghijklmnopqrstuvwxyz"[usize::from(*b) % 36]))
        .collect();
    format!("{app}-{}-{number:010}-{suffix}", pod.process_type)
}

/// The container a client names, by the name it is shown under or Dokku's own.
fn find_pod<'a>(app: &str, pods: &'a [Pod], wanted: &str) -> Option<&'a Pod> {
    pods.iter()
        .find(|p| p.name == wanted || shown_name(app, p) == wanted)
}

/// The process types the app's current build runs; a 400 when there is no build.
async fn current_types(state: &AppState, app: &app::Model) -> Result<Vec<ProcessType>, ApiError> {
    let current = releases::current(state, app).await?;
    let build = current
        .build
        .ok_or_else(|| DomainError::BadRequest("No build associated with this release".into()))?;
    Ok(procfile::process_types(&releases::typed_procfile(&build)?))
}

/// Sets container counts per process type, on Dokku and in `structure`.
pub async fn scale(
    state: &AppState,
    caller: &AuthUser,
    app: &app::Model,
    request: BTreeMap<String, Value>,
) -> Result<(), ApiError> {
    with_app_lock(state, &app.name, app.id, async || {
        let app = apps::by_name(&state.db, &app.name)
            .await?
            .ok_or_else(|| DomainError::not_found("App"))?;
        let types = current_types(state, &app).await?;
        let invalid =
            |why: String| DomainError::BadRequest(format!("Invalid scaling format: {why}"));
        let mut wanted = BTreeMap::new();
        for (t, v) in &request {
            let count = python_int(v).map_err(invalid)?;
            wanted.insert(t, count);
        }
        if wanted.values().any(|c| *c < 0) {
            return Err(invalid("['Must be greater than or equal to zero']".into()).into());
        }
        let max = i64::from(state.settings.max_scale);
        if wanted.values().any(|c| *c > max) {
            return Err(invalid(format!("['Must be at most {max}']")).into());
        }
        let mut counts = BTreeMap::new();
        for (t, count) in wanted {
            let pt = ProcessType::parse(t)
                .ok()
                .filter(|pt| types.contains(pt))
                .ok_or_else(|| {
                    DomainError::Missing(format!(
                        "Container type {t} does not exist in application"
                    ))
                })?;
            counts.insert(pt, u32::try_from(count).unwrap_or(u32::MAX));
        }
        // Nothing asked, or nothing different: nothing to do, as in the reference.
        let structure = apps::structure(&app)?;
        if counts
            .iter()
            .all(|(t, c)| structure.get(t.as_str()) == Some(c))
        {
            return Ok(());
        }
        let name = AppName::parse(&app.name)?;
        state.platform.scale(&name, &counts).await?;
        let mut structure = structure;
        for (t, c) in &counts {
            structure.insert(t.to_string(), *c);
        }
        apps::set_structure(&state.db, app.id, &structure).await?;
        let desc: Vec<String> = counts.iter().map(|(t, c)| format!("{t}={c}")).collect();
        events::record(
            &state.db,
            app.id,
            &format!("{} scaled pods {}", caller.name(), desc.join(" ")),
        )
        .await?;
        Ok(())
    })
    .await
}

/// A scale count read as Python's `int()` reads it (the reference's rule):
/// integers, floats truncated, strings of an integer, booleans; otherwise
/// Python's error text.
fn python_int(v: &Value) -> Result<i64, String> {
    let not_a_number = |kind: &str| {
        format!(
            "int() argument must be a string, a bytes-like object or a real number, not '{kind}'"
        )
    };
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.trunc() as i64)
            })
            .ok_or_else(|| "cannot convert float infinity to integer".to_owned()),
        Value::String(s) => s
            .trim()
            .replace('_', "")
            .parse::<i64>()
            .map_err(|_| format!("invalid literal for int() with base 10: '{s}'")),
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::Null => Err(not_a_number("NoneType")),
        Value::Array(_) => Err(not_a_number("list")),
        Value::Object(_) => Err(not_a_number("dict")),
    }
}

/// Restarts all pods, one type's, or one pod's (which, when `of_type` is
/// given, must be of that type); returns the pods affected afterwards.
pub async fn restart(
    state: &AppState,
    caller: &AuthUser,
    app: &app::Model,
    which: Option<&str>,
    of_type: Option<&str>,
) -> Result<Vec<Pod>, ApiError> {
    let name = AppName::parse(&app.name)?;
    // A container addressed with its type must exist and be of that type;
    // the one listing serves the check below too.
    let listed = match (which, of_type) {
        (Some(w), Some(t)) => {
            let pods = state.platform.list_pods(&name).await?;
            if find_pod(&app.name, &pods, w).is_none_or(|p| p.process_type != t) {
                return Err(DomainError::BadRequest(format!(
                    "Container {w} of type {t} does not exist in application"
                ))
                .into());
            }
            Some(pods)
        }
        _ => None,
    };
    let types = current_types(state, app).await?;
    let mut restarted_type = None;
    let target = match which {
        None => RestartTarget::All,
        Some(w) => match ProcessType::parse(w).ok().filter(|t| types.contains(t)) {
            Some(t) => RestartTarget::Type(t),
            None => {
                let pods = match listed {
                    Some(pods) => pods,
                    None => state.platform.list_pods(&name).await?,
                };
                let Some(found) = find_pod(&app.name, &pods, w) else {
                    return Err(DomainError::BadRequest(format!(
                        "Container {w} does not exist in application"
                    ))
                    .into());
                };
                restarted_type = Some(found.process_type.clone());
                RestartTarget::Pod(PodName::parse(&found.name)?)
            }
        },
    };
    with_app_lock(state, &app.name, app.id, async || {
        Ok(state.platform.restart(&name, &target).await?)
    })
    .await?;
    events::record(
        &state.db,
        app.id,
        &format!(
            "{} restarted {}",
            caller.name(),
            which.unwrap_or("all pods")
        ),
    )
    .await?;
    let mut pods = list(state, app, None).await?;
    match &target {
        RestartTarget::All => {}
        RestartTarget::Type(t) => pods.retain(|p| p.process_type == t.as_str()),
        RestartTarget::Pod(_) => pods.retain(|x| Some(&x.process_type) == restarted_type.as_ref()),
    }
    Ok(pods)
}

/// The app's recent log: its event lines and Dokku's container lines, last `lines` of them.
pub async fn logs(state: &AppState, app: &app::Model, lines: u32) -> Result<String, ApiError> {
    let name = AppName::parse(&app.name)?;
    let mut out: Vec<String> = events::recent(&state.db, app.id, u64::from(lines))
        .await?
        .into_iter()
        .map(|e| format!("{} drycc[api]: {}", e.created.format("%H:%M:%S"), e.message))
        .collect();
    // An app never deployed has no containers for Dokku to read logs from.
    if releases::current(state, app).await?.build.is_some() {
        out.extend(state.platform.logs(&name, lines).await?);
    }
    let skip = out.len().saturating_sub(lines as usize);
    let mut text = out[skip..].join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    Ok(text)
}

/// Runs a one-off command in a new container of the app's current release.
pub async fn run(
    state: &AppState,
    caller: &AuthUser,
    app: &app::Model,
    command: Option<String>,
) -> Result<RunOutput, ApiError> {
    let command = command.unwrap_or_default();
    if command.trim().is_empty() {
        return Err(DomainError::BadRequest("command is a required field".into()).into());
    }
    check_no_nul("command", &command)?;
    if command.len() > MAX_COMMAND_BYTES {
        return Err(ApiError::field(
            "command",
            &format!("Ensure this field has no more than {MAX_COMMAND_BYTES} bytes."),
        ));
    }
    if releases::current(state, app).await?.build.is_none() {
        return Err(DomainError::BadRequest(
            "No build associated with this release to run this command".into(),
        )
        .into());
    }
    let _slot = state.run_slots.take(caller.id()).map_err(|full| {
        let message = match full {
            Full::User(n) => {
                format!("You already have {n} one-off commands running; wait for one to finish")
            }
            Full::Server(n) => format!(
                "{n} one-off commands are running on this server; try again when one has finished"
            ),
        };
        ApiError::Request {
            status: StatusCode::TOO_MANY_REQUESTS,
            message,
        }
    })?;
    let name = AppName::parse(&app.name)?;
    events::record(
        &state.db,
        app.id,
        &format!("{} runs '{}'", caller.name(), command.replace('\n', " ")),
    )
    .await?;
    Ok(state
        .platform
        .run(&name, &command, state.settings.run_timeout)
        .await?)
}
