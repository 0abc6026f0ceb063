//! An app's configuration (environment, limits, tags, registry, health checks),
//! how a client's change merges into it, and the release summary it produces.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::limits::{CpuLimit, Healthcheck, Healthchecks, Limits, MemoryLimit};
use crate::name::{ConfigKey, ProcessType};
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
/// An object left empty unsets the type.
fn merge_probes(current: Option<&Value>, change: &Option<Value>) -> Option<Value> {
    match change {
        Some(Value::Object(members)) => {
            let mut base = current
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            for (probe, v) in members {
                if v.is_null() {
                    base.remove(probe);
                } else {
                    base.insert(probe.clone(), v.clone());
                }
            }
            (!base.is_empty()).then_some(Value::Object(base))
        }
        other => other.clone(),
    }
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

    fn keys(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .added
            .iter()
            .chain(&self.changed)
            .chain(&self.deleted)
            .cloned()
            .collect();
        all.sort();
        all.dedup();
        all
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
            ProcessType::parse(k).map_err(|_| {
                DomainError::field("memory", format!("{k} is not a valid process type"))
            })?;
            Ok(MemoryLimit::parse(&scalar("memory", v)?)?
                .as_str()
                .to_owned())
        })?;
        let cpu = merge("cpu", &mut next.cpu, &change.cpu, |k, v| {
            ProcessType::parse(k).map_err(|_| {
                DomainError::field("cpu", format!("{k} is not a valid process type"))
            })?;
            Ok(CpuLimit::parse(&scalar("cpu", v)?)?.as_str().to_owned())
        })?;
        let tags = merge("tags", &mut next.tags, &change.tags, |k, v| {
            if k.is_empty()
                || k.len() > 63
                || !k
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            {
                return Err(DomainError::field(
                    "tags",
                    format!("Tag key {k:?} is not valid"),
                ));
            }
            let s = scalar("tags", v)?;
            if s.len() > 63
                || !s
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            {
                return Err(DomainError::field(
                    "tags",
                    format!("Tag value {s:?} is not valid"),
                ));
            }
            Ok(s)
        })?;
        let registry = merge("registry", &mut next.registry, &change.registry, |k, v| {
            if !matches!(k, "username" | "password" | "email" | "server") {
                return Err(DomainError::field(
                    "registry",
                    format!("{k} is not a valid registry key"),
                ));
            }
            scalar("registry", v)
        })?;
        let probe_level: BTreeMap<String, Option<Value>> = change
            .healthcheck
            .iter()
            .map(|(k, v)| (k.clone(), merge_probes(self.healthcheck.get(k), v)))
            .collect();
        let healthcheck = merge(
            "healthcheck",
            &mut next.healthcheck,
            &probe_level,
            |k, v| {
                ProcessType::parse(k).map_err(|_| {
                    DomainError::field("healthcheck", format!("{k} is not a valid process type"))
                })?;
                check_json_no_nul("healthcheck", v)?;
                Healthcheck::parse(v)?;
                Ok(v.clone())
            },
        )?;

        let mut parts = Vec::new();
        if !values.added.is_empty() {
            parts.push(format!("added {}", values.added.join(", ")));
        }
        if !values.changed.is_empty() {
            parts.push(format!("changed {}", values.changed.join(", ")));
        }
        if !values.deleted.is_empty() {
            parts.push(format!("deleted {}", values.deleted.join(", ")));
        }
        let mut limit_types = memory.keys();
        limit_types.extend(cpu.keys());
        limit_types.sort();
        limit_types.dedup();
        if !limit_types.is_empty() {
            parts.push(format!("changed limits for {}", limit_types.join(", ")));
        }
        if !tags.is_empty() {
            parts.push(format!("changed tags for {}", tags.keys().join(", ")));
        }
        if !registry.is_empty() {
            parts.push(format!(
                "changed registry info for {}",
                registry.keys().join(", ")
            ));
        }
        if !healthcheck.is_empty() {
            parts.push(format!(
                "changed healthchecks for {}",
                healthcheck.keys().join(", ")
            ));
        }
        if parts.is_empty() {
            return Err(DomainError::Conflict(format!(
                "{user} changed nothing - release stopped"
            )));
        }
        Ok((next, format!("{user} {}", parts.join(" and "))))
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
    pub fn healthchecks(&self) -> Healthchecks {
        self.healthcheck
            .iter()
            .filter_map(|(k, v)| Some((ProcessType::parse(k).ok()?, Healthcheck::parse(v).ok()?)))
            .collect()
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
    fn limits_summary() {
        let ch = ConfigChange {
            memory: [("web".to_string(), Some(json!("512M")))].into(),
            ..Default::default()
        };
        let (_, s) = AppConfig::default().apply(&ch, "alice").unwrap();
        assert_eq!(s, "alice changed limits for web");
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
        assert_eq!(s, "a changed healthchecks for web");
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
