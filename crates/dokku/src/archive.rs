//! The release archive deployed with `git:from-archive` (dokku-commands §2.3 B).
//!
//! A tar holding exactly what Dokku needs to run a release of an image:
//! `Dockerfile` (`FROM <image>`), `Procfile` (when the release has process
//! types), `app.json` (health checks translated from the Kubernetes-shaped
//! probes) and [`RELEASE_MARKER`], a small JSON file naming the release. The
//! marker also carries a random nonce, so every apply is a new git commit and
//! Dokku never answers "No changes detected". Built in memory; no IO.

use std::collections::BTreeMap;

use drydock_domain::limits::{Healthchecks, Probe};
use drydock_domain::platform::{PlatformError, ReleaseSpec};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::image::ImageRef;
use crate::process_types;

/// The marker file's name at the archive root.
pub const RELEASE_MARKER: &str = "drydock-release.json";

/// The contents of [`RELEASE_MARKER`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseMarker {
    /// The Drycc release number.
    pub release: u32,
    /// The image the release runs.
    pub image: String,
    /// Random, so that re-applying a release is still a new commit.
    pub nonce: String,
}

/// Builds the tar for `spec` (whose image was validated as `image`).
pub fn release_archive(
    spec: &ReleaseSpec,
    image: &ImageRef,
    web_is_cmd: bool,
) -> Result<Vec<u8>, PlatformError> {
    let mut files: Vec<(&str, Vec<u8>)> = vec![(
        "Dockerfile",
        format!("FROM {}\n", image.as_str()).into_bytes(),
    )];
    if !spec.procfile.is_empty() {
        files.push(("Procfile", procfile(spec)?.into_bytes()));
    }
    let app_json = json!({ "healthchecks": healthchecks(&spec.healthchecks, web_is_cmd) });
    files.push(("app.json", to_json(&app_json)?));
    let marker = ReleaseMarker {
        release: spec.version,
        image: image.as_str().to_owned(),
        nonce: uuid::Uuid::new_v4().simple().to_string(),
    };
    files.push((RELEASE_MARKER, to_json(&marker)?));

    let mut tar = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, name, data.as_slice())
            .map_err(|e| {
                PlatformError::InvalidArgument(format!("cannot build release archive: {e}"))
            })?;
    }
    tar.into_inner()
        .map_err(|e| PlatformError::InvalidArgument(format!("cannot build release archive: {e}")))
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, PlatformError> {
    serde_json::to_vec_pretty(value).map_err(|e| {
        PlatformError::InvalidArgument(format!("cannot encode release archive file: {e}"))
    })
}

fn procfile(spec: &ReleaseSpec) -> Result<String, PlatformError> {
    let mut out = String::new();
    for (t, command) in &spec.procfile {
        if command.trim().is_empty() || command.contains(['\n', '\r', '\0']) {
            return Err(PlatformError::InvalidArgument(format!(
                "the command of process type {t} must be one non-empty line"
            )));
        }
        out.push_str(&format!("{t}: {command}\n"));
    }
    Ok(out)
}

/// Translates Drycc health checks into Dokku's `app.json` `healthchecks`:
/// a readiness probe becomes a `startup` check (the one docker-local runs
/// before switching traffic), a liveness probe a `liveness` check.
fn healthchecks(checks: &Healthchecks, web_is_cmd: bool) -> BTreeMap<String, Vec<Value>> {
    let mut out = BTreeMap::new();
    for (t, hc) in checks {
        let mut list = Vec::new();
        if let Some(p) = hc.readiness_probe.as_ref().filter(|p| p.checks_something()) {
            list.push(check("startup", p));
        }
        if let Some(p) = hc.liveness_probe.as_ref().filter(|p| p.checks_something()) {
            list.push(check("liveness", p));
        }
        if !list.is_empty() {
            out.insert(process_types::to_dokku(t, web_is_cmd).to_string(), list);
        }
    }
    out
}

fn check(kind: &str, probe: &Probe) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), json!(kind));
    m.insert("name".into(), json!(format!("drydock-{kind}")));
    if let Some(h) = &probe.http_get {
        m.insert("path".into(), json!(h.path));
        m.insert("port".into(), json!(h.port));
        if !h.http_headers.is_empty() {
            m.insert("httpHeaders".into(), json!(h.http_headers));
        }
    }
    if let Some(t) = &probe.tcp_socket {
        m.insert("listening".into(), json!(true));
        m.insert("port".into(), json!(t.port));
    }
    if let Some(e) = &probe.exec {
        m.insert("command".into(), json!(e.command));
    }
    m.insert("initialDelay".into(), json!(probe.initial_delay_seconds));
    m.insert("timeout".into(), json!(probe.timeout_seconds));
    m.insert("wait".into(), json!(probe.period_seconds));
    m.insert("attempts".into(), json!(probe.failure_threshold));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use drydock_domain::limits::Healthcheck;
    use drydock_domain::name::ProcessType;
    use std::io::Read;

    fn entries(tar_bytes: &[u8]) -> BTreeMap<String, String> {
        let mut a = tar::Archive::new(tar_bytes);
        let mut out = BTreeMap::new();
        for e in a.entries().unwrap() {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let mut s = String::new();
            e.read_to_string(&mut s).unwrap();
            out.insert(name, s);
        }
        out
    }

    #[test]
    fn archive_without_procfile() {
        let mut spec = ReleaseSpec {
            version: 3,
            ..Default::default()
        };
        let hc = Healthcheck::parse(&json!({
            "readinessProbe": {"httpGet": {"path": "/ready", "port": 5000}, "periodSeconds": 2},
            "livenessProbe": {"tcpSocket": {"port": 5000}}
        }))
        .unwrap();
        spec.healthchecks.insert(ProcessType::cmd(), hc);
        let image = ImageRef::parse("nginx:1").unwrap();
        let files = entries(&release_archive(&spec, &image, true).unwrap());
        assert_eq!(files["Dockerfile"], "FROM nginx:1\n");
        assert!(!files.contains_key("Procfile"));
        let app: Value = serde_json::from_str(&files["app.json"]).unwrap();
        let web = &app["healthchecks"]["web"];
        assert_eq!(web[0]["type"], "startup");
        assert_eq!(web[0]["path"], "/ready");
        assert_eq!(web[0]["wait"], 2);
        assert_eq!(web[1]["type"], "liveness");
        assert_eq!(web[1]["listening"], true);
        let marker: ReleaseMarker = serde_json::from_str(&files[RELEASE_MARKER]).unwrap();
        assert_eq!(marker.release, 3);
        assert_eq!(marker.image, "nginx:1");
    }

    #[test]
    fn procfile_lines_and_rejects_multiline() {
        let mut spec = ReleaseSpec {
            version: 1,
            ..Default::default()
        };
        spec.procfile
            .insert(ProcessType::web(), "serve --port $PORT".into());
        spec.procfile
            .insert(ProcessType::parse("worker").unwrap(), "work".into());
        let image = ImageRef::parse("app").unwrap();
        let files = entries(&release_archive(&spec, &image, false).unwrap());
        assert_eq!(files["Procfile"], "web: serve --port $PORT\nworker: work\n");
        spec.procfile.insert(ProcessType::web(), "a\nb".into());
        assert!(matches!(
            release_archive(&spec, &image, false),
            Err(PlatformError::InvalidArgument(_))
        ));
    }
}
