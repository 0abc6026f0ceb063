//! Containers as Drycc pods (docker-local scheduler, dokku-commands §2.4).
//!
//! `ps:report APP --format json` says whether the app has containers at all
//! (`status-TYPE.N` keys); only then is `ps:inspect APP` asked for details,
//! because with no containers it fails (`docker inspect` without arguments).
//! Names, types and states come from the inspect data, the release from the
//! `com.drycc.release` label that every deploy carries.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use drydock_domain::name::{AppName, PodName, ProcessType};
use drydock_domain::platform::{PlatformError, Pod, PodState};
use serde::Deserialize;

use super::reports;
use super::{Class, DokkuPlatform};
use crate::command::{Command, RELEASE_LABEL};
use crate::process_types::{self, WEB_IS_CMD_KEY};

/// Dokku's container label naming the process type.
const PROCESS_TYPE_LABEL: &str = "com.dokku.process-type";

/// The parts of `docker inspect` output used here.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Container {
    name: String,
    #[serde(default)]
    config: ContainerConfig,
    #[serde(default)]
    state: ContainerState,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerConfig {
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerState {
    #[serde(default)]
    status: String,
    #[serde(default)]
    exit_code: i64,
    #[serde(default)]
    started_at: Option<String>,
}

pub(super) async fn list(p: &DokkuPlatform, app: &AppName) -> Result<Vec<Pod>, PlatformError> {
    let report = reports::report(p, "ps:report", app).await?;
    if !reports::entries(&report, "ps").any(|(k, _)| k.starts_with("status-")) {
        return Ok(Vec::new());
    }
    let reply = p
        .send(Command::new("ps:inspect").app(app), Class::Quick)
        .await?;
    let containers: Vec<Container> = reply.json()?;
    let mut pods: Vec<Pod> = containers.into_iter().map(to_pod).collect();
    pods.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(pods)
}

fn to_pod(c: Container) -> Pod {
    let name = c.name.trim_start_matches('/').to_owned();
    let labels = c.config.labels.unwrap_or_default();
    let dokku_type = labels
        .get(PROCESS_TYPE_LABEL)
        .cloned()
        .or_else(|| name.split('.').nth(1).map(str::to_owned))
        .unwrap_or_default();
    let web_is_cmd = labels.get(WEB_IS_CMD_KEY).is_some_and(|v| v == "true");
    Pod {
        process_type: process_types::to_drycc(&dokku_type, web_is_cmd),
        state: state(&c.state),
        started: c
            .state
            .started_at
            .as_deref()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc))
            .filter(|t| t.timestamp() > 0),
        release: labels
            .get(RELEASE_LABEL)
            .and_then(|v| v.strip_prefix('v'))
            .and_then(|v| v.parse().ok()),
        name,
    }
}

/// Docker's `.State.Status` in Drycc's words.
fn state(s: &ContainerState) -> PodState {
    match s.status.as_str() {
        "running" => PodState::Up,
        "created" => PodState::Starting,
        "restarting" | "dead" => PodState::Crashed,
        "exited" if s.exit_code != 0 => PodState::Crashed,
        _ => PodState::Down,
    }
}

/// The Dokku process type of a pod named `APP.TYPE.N`; Dokku restarts whole
/// types, so restarting one pod restarts its type.
pub(super) fn type_of_pod(app: &AppName, pod: &PodName) -> Result<ProcessType, PlatformError> {
    let missing = || {
        PlatformError::Rejected(format!(
            "Container {pod} does not exist in application {app}"
        ))
    };
    let rest = pod
        .as_str()
        .strip_prefix(app.as_str())
        .and_then(|r| r.strip_prefix('.'))
        .ok_or_else(missing)?;
    let (t, n) = rest.rsplit_once('.').ok_or_else(missing)?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return Err(missing());
    }
    ProcessType::parse(t).map_err(|_| missing())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn container(v: serde_json::Value) -> Pod {
        to_pod(serde_json::from_value(v).unwrap())
    }

    #[test]
    fn maps_inspect_data() {
        let pod = container(json!({
            "Name": "/shop.web.1",
            "Config": {"Labels": {"com.dokku.process-type": "web", "com.drycc.release": "v7", "com.drycc.web-is-cmd": "true"}},
            "State": {"Status": "running", "ExitCode": 0, "StartedAt": "2024-05-01T10:00:00.123456789Z"}
        }));
        assert_eq!(pod.name, "shop.web.1");
        assert_eq!(pod.process_type, "cmd");
        assert_eq!(pod.state, PodState::Up);
        assert_eq!(pod.release, Some(7));
        assert_eq!(
            pod.started.unwrap().to_rfc3339(),
            "2024-05-01T10:00:00.123456789+00:00"
        );
    }

    #[test]
    fn states_and_missing_fields() {
        let pod = container(
            json!({"Name": "/shop.worker.2", "State": {"Status": "exited", "ExitCode": 1, "StartedAt": "0001-01-01T00:00:00Z"}}),
        );
        assert_eq!(pod.process_type, "worker");
        assert_eq!(pod.state, PodState::Crashed);
        assert_eq!(pod.started, None);
        assert_eq!(pod.release, None);
        let pod = container(
            json!({"Name": "/shop.web.1", "Config": {"Labels": null}, "State": {"Status": "exited", "ExitCode": 0}}),
        );
        assert_eq!(pod.state, PodState::Down);
    }

    #[test]
    fn pod_names_to_types() {
        let app = AppName::parse("shop").unwrap();
        let ok = PodName::parse("shop.web.1").unwrap();
        assert_eq!(type_of_pod(&app, &ok).unwrap(), ProcessType::web());
        for bad in [
            "other.web.1",
            "shop.web",
            "shop.web.x",
            "shopx.web.1",
            "shop..1",
        ] {
            let pod = PodName::parse(bad).unwrap();
            assert!(type_of_pod(&app, &pod).is_err(), "{bad}");
        }
    }
}
