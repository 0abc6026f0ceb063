//! An app's configuration (environment, limits, tags, registry, health checks),
//! how a client's change merges into it, and the release summary it produces.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::limits::{CpuLimit, Healthcheck, Healthchecks, Limits, MemoryLimit};
use crate::name::{ConfigKey, ProcessType, PROCTYPE_MISMATCH};
use crate::text::{check_json_no_nul, check_no_nul};
use crate::DomainError;

/// One release's configuration, exactly as the API shows it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AppConfig {
    /// Environment variables.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// Memory per process type.
    #[serde(default)]
    pub memory: BTreeMap<String, String>,
    /// CPU per process type.
    #[serde(default)]
    pub cpu: BTreeMap<String, String>,
    /// Scheduling tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Private registry credentials.
    #[serde(default)]
    pub registry: BTreeMap<String, String>,
    /// Health checks per process type, in the clients' Kubernetes shape.
    #[serde(default)]
    pub healthcheck: BTreeMap<String, Value>,
}

/// A client's requested change: for each section, keys to set (`Some`) or unset (`None`).
#[derive(Debug, Clone, Default)]
pub struct ConfigChange {
    /// `values` changes.
    pub values: BTreeMap<String, Option<Value>>,
    /// `memory` changes.
    pub memory: BTreeMap<String, Option<Value>>,
    /// `cpu` changes.
    pub cpu: BTreeMap<String, Option<Value>>,
    /// `tags` changes.
    pub tags: BTreeMap<String, Option<Value>>,
    /// `registry` changes.
    pub registry: BTreeMap<String, Option<Value>>,
    /// `healthcheck` changes.
    pub healthcheck: BTreeMap<String, Option<Value>>,
}

/// The longest config value, in bytes: 64 KiB. With the longest key it still
/// fits, base64-encoded, in one argument of a Dokku command (Linux's
/// `MAX_ARG_STRLEN`, 128 KiB), so every stored value can be applied.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// Renders a JSON scalar as the reference does (`5` → `"5"`, `true` → `"True"`).
fn scalar(field: &str, v: &Value) -> Result<String, DomainError> {
    match v {
        Value::String(s) => {
            check_no_nul(field, s)?;
            Ok(s.clone())
        }
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(true) => Ok("True".into()),
        Value::Bool(false) => Ok("False".into()),
        _ => Err(DomainError::field(
            field,
            "Values must be strings, numbers or booleans",
        )),
    }
}

/// Clients set or unset one probe at a time (`{"web": {"livenessProbe": null}}`):
/// merge such an object into the type's current probes instead of replacing them.
/// An object left empty unsets the type; unsetting a probe that is not set is
/// 422, as in the reference.
fn merge_probes(
    key: &str,
    current: Option<&Value>,
    change: &Option<Value>,
) -> Result<Option<Value>, DomainError> {
    match change {
        Some(Value::Object(members)) => {
            let mut base = current
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            for (probe, v) in members {
                if v.is_null() {
                    if base.remove(probe).is_none() {
                        return Err(DomainError::Unprocessable(format!(
                            "{key} does not exist under healthcheck"
                        )));
                    }
                } else {
                    base.insert(probe.clone(), v.clone());
                }
            }
            Ok((!base.is_empty()).then_some(Value::Object(base)))
        }
        other => Ok(other.clone()),
    }
}

/// The health-check key the clients use by default: the `web` process type,
/// or `cmd` when the image runs without a Procfile.
pub const WEB_OR_CMD: &str = "web/cmd";

/// The reference's message for a config or registry key it refuses.
const CONFIG_KEY_MISMATCH: &str =
    "Config keys must start with a letter or underscore and only contain [A-z0-9_]";

fn proc_type_key(field: &str, key: &str) -> Result<(), DomainError> {
    ProcessType::parse(key)
        .map(drop)
        .map_err(|_| DomainError::field(field, PROCTYPE_MISMATCH))
}

static TAG_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[a-zA-Z\d][-\.\w]{0,61})?[a-zA-Z\d]$").expect("static regex")
});

/// A scheduling tag as the reference takes it: an optional DNS-subdomain
/// prefix and `/`, a name, and a value (empty or like the name).
fn check_tag(key: &str, value: &str) -> Result<(), DomainError> {
    let bad = |m: &str| DomainError::field("tags", m);
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        if prefix.len() > 253 {
            return Err(bad("Tag key prefixes must 253 characters or less."));
        }
        if !TAG_RE.is_match(prefix) {
            return Err(bad("Tag key prefixes must be DNS subdomains."));
        }
    }
    if !TAG_RE.is_match(name) {
        return Err(bad(
            "Tag keys must be alphanumeric or \"-_.\", and 1-63 characters.",
        ));
    }
    if !value.is_empty() && !TAG_RE.is_match(value) {
        return Err(bad(
            "Tag values must be alphanumeric or \"-_.\", and 1-63 characters.",
        ));
    }
    Ok(())
}

/// The values the reference checks by name: `PORT` and the legacy
/// `HEALTHCHECK_*` settings.
fn check_special_value(key: &str, value: &str) -> Result<(), DomainError> {
    let bad = |m: String| Err(DomainError::field("values", m));
    let numeric = !value.is_empty() && value.chars().all(|c| c.is_ascii_digit());
    if key == "PORT" {
        if !numeric {
            return bad("PORT can only be a numeric value".into());
        }
        if !value.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p)) {
            return bad("PORT needs to be between 1 and 65535".into());
        }
    } else if key == "HEALTHCHECK_URL" {
        let (path, rest) = match value.find(['?', '#']) {
            Some(i) => (&value[..i], &value[i..]),
            None => (value, ""),
        };
        let has_host = value.contains("//");
        let path = if has_host {
            value
                .split_once("//")
                .and_then(|(_, after)| after.find('/').map(|i| &after[i..]))
                .unwrap_or_default()
        } else {
            path
        };
        if path.is_empty() {
            return bad(format!(
                "{key} is missing a URI path (such as /healthz). Without it no health check can be done"
            ));
        }
        if has_host || !rest.is_empty() {
            return bad(format!(
                "{key} can only be a URI path (such as /healthz) that does not contain other things such as query params"
            ));
        }
    } else if key.starts_with("HEALTHCHECK_") && !numeric {
        return bad(format!("{key} can only be a numeric value"));
    }
    Ok(())
}

/// What a merge did to one section.
#[derive(Default)]
struct SectionDiff {
    added: Vec<String>,
    changed: Vec<String>,
    deleted: Vec<String>,
}

impl SectionDiff {
    fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.deleted.is_empty()
    }

    /// `added A, B, changed C, deleted D`, each list prefixed with `noun`
    /// (`added tag A`), as the reference words a section's change.
    fn describe(&self, noun: &str) -> String {
        [
            ("added", &self.added),
            ("changed", &self.changed),
            ("deleted", &self.deleted),
        ]
        .into_iter()
        .filter(|(_, keys)| !keys.is_empty())
        .map(|(verb, keys)| format!("{verb} {noun}{}", keys.join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

fn merge<T: Clone + PartialEq>(
    field: &str,
    current: &mut BTreeMap<String, T>,
    change: &BTreeMap<String, Option<Value>>,
    convert: impl Fn(&str, &Value) -> Result<T, DomainError>,
) -> Result<SectionDiff, DomainError> {
    let mut diff = SectionDiff::default();
    for (key, v) in change {
        match v {
            None => {
                if current.remove(key).is_none() {
                    return Err(DomainError::Unprocessable(format!(
                        "{key} does not exist under {field}"
                    )));
                }
                diff.deleted.push(key.clone());
            }
            Some(v) => {
                let new = convert(key, v)?;
                match current.insert(key.clone(), new.clone()) {
                    None => diff.added.push(key.clone()),
                    Some(old) if old != new => diff.changed.push(key.clone()),
                    Some(_) => {}
                }
            }
        }
    }
    Ok(diff)
}

impl AppConfig {
    /// Merges `change` into a copy of `self` and describes it for the release summary
    /// (`"added HELLO, WORLD"`). A change that alters nothing is a 409.
    pub fn apply(
        &self,
        change: &ConfigChange,
        user: &str,
    ) -> Result<(AppConfig, String), DomainError> {
        let mut next = self.clone();
        let values = merge("values", &mut next.values, &change.values, |k, v| {
            ConfigKey::parse(k)?;
            let value = scalar("values", v)?;
            check_special_value(k, &value)?;
            if value.len() > MAX_VALUE_BYTES {
                return Err(DomainError::field(
                    "values",
                    format!(
                        "The value of {k} is {} bytes long; config values are limited to {MAX_VALUE_BYTES} bytes",
                        value.len()
                    ),
                ));
            }
            Ok(value)
        })?;
        let memory = merge("memory", &mut next.memory, &change.memory, |k, v| {
            proc_type_key("memory", k)?;
            Ok(MemoryLimit::parse(&scalar("memory", v)?)?
                .as_str()
                .to_owned())
        })?;
        let cpu = merge("cpu", &mut next.cpu, &change.cpu, |k, v| {
            proc_type_key("cpu", k)?;
            Ok(CpuLimit::parse(&scalar("cpu", v)?)?.as_str().to_owned())
        })?;
        let tags = merge("tags", &mut next.tags, &change.tags, |k, v| {
            let value = scalar("tags", v)?;
            check_tag(k, &value)?;
            Ok(value)
        })?;
        // The reference keeps registry keys in lower case.
        let registry_change: BTreeMap<String, Option<Value>> = change
            .registry
            .iter()
            .map(|(k, v)| (k.to_lowercase(), v.clone()))
            .collect();
        let registry = merge("registry", &mut next.registry, &registry_change, |k, v| {
            ConfigKey::parse(k).map_err(|_| DomainError::field("registry", CONFIG_KEY_MISMATCH))?;
            scalar("registry", v)
        })?;
        let mut probe_level = BTreeMap::new();
        for (k, v) in &change.healthcheck {
            probe_level.insert(k.clone(), merge_probes(k, self.healthcheck.get(k), v)?);
        }
        let healthcheck = merge(
            "healthcheck",
            &mut next.healthcheck,
            &probe_level,
            |k, v| {
                if k != WEB_OR_CMD {
                    proc_type_key("healthcheck", k)?;
                }
                check_json_no_nul("healthcheck", v)?;
                Healthcheck::parse(v)?;
                Ok(v.clone())
            },
        )?;
        if !next.registry.is_empty() && !next.values.contains_key("PORT") {
            return Err(DomainError::BadRequest(
                "PORT needs to be set in the config when using a private registry".into(),
            ));
        }

        // Worded as the reference's release summary: one clause per section,
        // each naming the user, joined with " and ".
        let mut limit_kinds = Vec::new();
        if !memory.is_empty() {
            limit_kinds.push("memory");
        }
        if !cpu.is_empty() {
            limit_kinds.push("cpu");
        }
        let limits = if limit_kinds.is_empty() {
            String::new()
        } else {
            format!("changed limits for {}", limit_kinds.join(", "))
        };
        let clauses: Vec<String> = [
            values.describe(""),
            limits,
            tags.describe("tag "),
            registry.describe("registry info "),
            healthcheck.describe("healthcheck info for proc type "),
        ]
        .into_iter()
        .filter(|c| !c.is_empty())
        .map(|c| format!("{user} {c}"))
        .collect();
        if clauses.is_empty() {
            return Err(DomainError::Conflict(format!(
                "{user} changed nothing - release stopped"
            )));
        }
        Ok((next, clauses.join(" and ")))
    }

    /// The limits in typed form, for the platform. Stored values were validated on the way in.
    pub fn limits(&self) -> Limits {
        let mut limits = Limits::default();
        for (k, v) in &self.memory {
            if let (Ok(t), Ok(m)) = (ProcessType::parse(k), MemoryLimit::parse(v)) {
                limits.memory.insert(t, m);
            }
        }
        for (k, v) in &self.cpu {
            if let (Ok(t), Ok(c)) = (ProcessType::parse(k), CpuLimit::parse(v)) {
                limits.cpu.insert(t, c);
            }
        }
        limits
    }

    /// The health checks in typed form, for the platform.
    /// `web/cmd` stands for both `web` and `cmd`; a type named on its own wins.
    pub fn healthchecks(&self) -> Healthchecks {
        let mut out = Healthchecks::new();
        if let Some(hc) = self
            .healthcheck
            .get(WEB_OR_CMD)
            .and_then(|v| Healthcheck::parse(v).ok())
        {
            for t in ["web", "cmd"] {
                if let Ok(t) = ProcessType::parse(t) {
                    out.insert(t, hc.clone());
                }
            }
        }
        for (k, v) in &self.healthcheck {
            if let (Ok(t), Ok(hc)) = (ProcessType::parse(k), Healthcheck::parse(v)) {
                out.insert(t, hc);
            }
        }
        out
    }

    /// The environment the app runs with: its values plus `DRYCC_APP` and `DRYCC_RELEASE`.
    pub fn environment(&self, app: &str, version: u32) -> BTreeMap<ConfigKey, String> {
        let mut env: BTreeMap<ConfigKey, String> = self
            .values
            .iter()
            .filter_map(|(k, v)| Some((ConfigKey::parse(k).ok()?, v.clone())))
            .collect();
        if let Ok(k) = ConfigKey::parse("DRYCC_APP") {
            env.insert(k, app.to_owned());
        }
        if let Ok(k) = ConfigKey::parse("DRYCC_RELEASE") {
            env.insert(k, format!("v{version}"));
        }
        env
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(values: &[(&str, Option<Value>)]) -> ConfigChange {
        ConfigChange {
            values: values
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn merges_and_summarises() {
        let c0 = AppConfig::default();
        let (c1, s) = c0
            .apply(
                &change(&[("HELLO", Some(json!("w"))), ("N", Some(json!(5)))]),
                "alice",
            )
            .unwrap();
        assert_eq!(s, "alice added HELLO, N");
        assert_eq!(c1.values["N"], "5");
        let (c2, s) = c1.apply(&change(&[("HELLO", None)]), "alice").unwrap();
        assert_eq!(s, "alice deleted HELLO");
        assert!(!c2.values.contains_key("HELLO"));
        let err = c2.apply(&change(&[("NOPE", None)]), "alice").unwrap_err();
        assert_eq!(
            err,
            DomainError::Unprocessable("NOPE does not exist under values".into())
        );
        let err = c2
            .apply(&change(&[("N", Some(json!("5")))]), "alice")
            .unwrap_err();
        assert_eq!(
            err,
            DomainError::Conflict("alice changed nothing - release stopped".into())
        );
        assert!(c2
            .apply(&change(&[("1BAD", Some(json!("x")))]), "a")
            .is_err());
    }

    #[test]
    fn worded_and_checked_as_the_reference() {
        let base = AppConfig::default()
            .apply(
                &change(&[("B", Some(json!("1"))), ("C", Some(json!("1")))]),
                "a",
            )
            .unwrap()
            .0;
        let (next, s) = base
            .apply(
                &change(&[
                    ("A", Some(json!("1"))),
                    ("B", Some(json!("2"))),
                    ("C", None),
                ]),
                "alice",
            )
            .unwrap();
        assert_eq!(s, "alice added A, changed B, deleted C");
        let tags = ConfigChange {
            tags: [("kubernetes.io/hostname".to_string(), Some(json!("node1")))].into(),
            ..Default::default()
        };
        assert_eq!(
            next.apply(&tags, "alice").unwrap().1,
            "alice added tag kubernetes.io/hostname"
        );
        for (key, value, message) in [
            ("PORT", "dog", "PORT can only be a numeric value"),
            ("PORT", "-1", "PORT can only be a numeric value"),
            ("PORT", "99999", "PORT needs to be between 1 and 65535"),
            ("PORT", "0", "PORT needs to be between 1 and 65535"),
            ("HEALTHCHECK_INITIAL_DELAY", "soon", "HEALTHCHECK_INITIAL_DELAY can only be a numeric value"),
            ("HEALTHCHECK_URL", "/health?x=1", "HEALTHCHECK_URL can only be a URI path (such as /healthz) that does not contain other things such as query params"),
            ("HEALTHCHECK_URL", "?x=1", "HEALTHCHECK_URL is missing a URI path (such as /healthz). Without it no health check can be done"),
        ] {
            assert_eq!(
                next.apply(&change(&[(key, Some(json!(value)))]), "a"),
                Err(DomainError::field("values", message)),
                "{key}={value}"
            );
        }
        let registry = ConfigChange {
            registry: [("USERNAME".to_string(), Some(json!("bob")))].into(),
            ..Default::default()
        };
        assert_eq!(
            next.apply(&registry, "a"),
            Err(DomainError::BadRequest(
                "PORT needs to be set in the config when using a private registry".into()
            ))
        );
        let with_port = next
            .apply(&change(&[("PORT", Some(json!("5000")))]), "a")
            .unwrap()
            .0;
        let (c, s) = with_port.apply(&registry, "alice").unwrap();
        assert_eq!(s, "alice added registry info username");
        assert_eq!(c.registry["username"], "bob");
        let hc = ConfigChange {
            healthcheck: [(
                WEB_OR_CMD.to_string(),
                Some(json!({"livenessProbe": {"tcpSocket": {"port": 5000}}})),
            )]
            .into(),
            ..Default::default()
        };
        let (c, s) = c.apply(&hc, "alice").unwrap();
        assert_eq!(s, "alice added healthcheck info for proc type web/cmd");
        assert_eq!(c.healthchecks().len(), 2, "web and cmd");
        let unset = ConfigChange {
            healthcheck: [(
                WEB_OR_CMD.to_string(),
                Some(json!({"readinessProbe": null})),
            )]
            .into(),
            ..Default::default()
        };
        assert_eq!(
            c.apply(&unset, "a"),
            Err(DomainError::Unprocessable(
                "web/cmd does not exist under healthcheck".into()
            ))
        );
    }

    #[test]
    fn limits_summary() {
        let ch = ConfigChange {
            memory: [("web".to_string(), Some(json!("512M")))].into(),
            ..Default::default()
        };
        let (_, s) = AppConfig::default().apply(&ch, "alice").unwrap();
        assert_eq!(s, "alice changed limits for memory");
        let bad = ConfigChange {
            memory: [("web".to_string(), Some(json!("lots")))].into(),
            ..Default::default()
        };
        assert!(matches!(
            AppConfig::default().apply(&bad, "a"),
            Err(DomainError::Field { .. })
        ));
    }

    #[test]
    fn healthchecks_merge_per_probe() {
        let probe = json!({"httpGet": {"path": "/", "port": 5000}});
        let set = |v: Value| ConfigChange {
            healthcheck: [("web".to_string(), Some(v))].into(),
            ..Default::default()
        };
        let (c1, _) = AppConfig::default()
            .apply(&set(json!({"livenessProbe": probe.clone()})), "a")
            .unwrap();
        let (c2, s) = c1
            .apply(&set(json!({"readinessProbe": probe.clone()})), "a")
            .unwrap();
        assert_eq!(s, "a changed healthcheck info for proc type web");
        assert_eq!(
            c2.healthcheck["web"],
            json!({"livenessProbe": probe.clone(), "readinessProbe": probe.clone()})
        );
        let (c3, _) = c2.apply(&set(json!({"livenessProbe": null})), "a").unwrap();
        assert_eq!(c3.healthcheck["web"], json!({"readinessProbe": probe}));
        let (c4, _) = c3
            .apply(&set(json!({"readinessProbe": null})), "a")
            .unwrap();
        assert!(c4.healthcheck.is_empty(), "an emptied type is unset");
    }

    #[test]
    fn environment_has_drycc_vars() {
        let env = AppConfig::default().environment("myapp", 3);
        let get = |k: &str| {
            env.iter()
                .find(|(key, _)| key.as_str() == k)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get("DRYCC_APP").as_deref(), Some("myapp"));
        assert_eq!(get("DRYCC_RELEASE").as_deref(), Some("v3"));
    }
}
