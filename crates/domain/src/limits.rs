//! Per-process-type resource limits and health checks, validated as the
//! reference does and stored with the config of each release.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::name::ProcessType;
use crate::pyrepr::repr;
use crate::DomainError;

static MEMORY_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?i)(([0-9]+(MB|KB|GB|[BKMG])|0)(/([0-9]+(MB|KB|GB|[BKMG])))?)$")
        .expect("static regex")
});
static CPU_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(([-+]?[0-9]*\.?[0-9]+m?)(/([-+]?[0-9]*\.?[0-9]+m?))?)$").expect("static regex")
});

/// The reference's message for a bad memory value.
pub const MEMORY_FORMAT: &str =
    "Memory limit format: <number><unit> or <number><unit>/<number><unit>, where unit = B, K, M or G";
/// The reference's message for a bad CPU value.
pub const CPU_FORMAT: &str =
    "CPU limit format: <value> or <value>/<value>, where value must be a numeric";

/// A memory setting such as `512M` or `256M/1G` (request/limit).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MemoryLimit(String);

impl MemoryLimit {
    /// Validates a memory setting with the reference's rule: a number with a
    /// unit (`B`, `K`, `M`, `G`, `KB`, `MB`, `GB`, any case) or `0`, then
    /// optionally `/` and a limit. Kept as written.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if !MEMORY_RE.is_match(s) {
            return Err(DomainError::field("memory", MEMORY_FORMAT));
        }
        Ok(Self(s.to_owned()))
    }

    /// As written by the user.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hard limit (the part after `/`, or the only part), e.g. `1G`.
    pub fn limit(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

/// A CPU setting such as `500m`, `2` or `250m/1` (request/limit).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CpuLimit(String);

impl CpuLimit {
    /// Validates a CPU setting.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if !CPU_RE.is_match(s) {
            return Err(DomainError::field("cpu", CPU_FORMAT));
        }
        Ok(Self(s.to_owned()))
    }

    /// As written by the user.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hard limit in cores as a decimal (`500m` → `0.5`, `.5` → `0.5`),
    /// for Docker's `--cpus`; zero or less (which the reference accepts) is `0`,
    /// Docker's "no limit".
    pub fn cores(&self) -> String {
        let limit = self.0.rsplit('/').next().unwrap_or(&self.0);
        let (number, scale) = match limit.strip_suffix('m') {
            Some(milli) => (milli, 1000.0),
            None => (limit, 1.0),
        };
        let cores = number.parse::<f64>().unwrap_or(0.0) / scale;
        if cores > 0.0 {
            format!("{cores}")
        } else {
            "0".into()
        }
    }
}

/// Memory and CPU limits per process type.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Limits {
    /// Memory per process type.
    pub memory: BTreeMap<ProcessType, MemoryLimit>,
    /// CPU per process type.
    pub cpu: BTreeMap<ProcessType, CpuLimit>,
}

/// An HTTP GET probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpGet {
    /// Path to request; must start with `/`.
    #[serde(default = "root_path")]
    pub path: String,
    /// Container port.
    pub port: u16,
    /// Extra headers (kept for compatibility; Dokku cannot send them).
    #[serde(default, rename = "httpHeaders", skip_serializing_if = "Vec::is_empty")]
    pub http_headers: Vec<serde_json::Value>,
}

fn root_path() -> String {
    "/".into()
}

/// A TCP connect probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpSocket {
    /// Container port.
    pub port: u16,
}

/// A command probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecProbe {
    /// Command and arguments.
    pub command: Vec<String>,
}

/// One probe in the Kubernetes shape the clients send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    /// HTTP check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_get: Option<HttpGet>,
    /// TCP check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_socket: Option<TcpSocket>,
    /// Command check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecProbe>,
    /// Seconds before the first check.
    #[serde(default = "default_delay")]
    pub initial_delay_seconds: u32,
    /// Seconds before a check times out.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u32,
    /// Seconds between checks.
    #[serde(default = "default_period")]
    pub period_seconds: u32,
    /// Successes needed after a failure.
    #[serde(default = "one")]
    pub success_threshold: u32,
    /// Failures before giving up.
    #[serde(default = "default_failures")]
    pub failure_threshold: u32,
}

fn default_delay() -> u32 {
    50
}
fn default_timeout() -> u32 {
    50
}
fn default_period() -> u32 {
    10
}
fn one() -> u32 {
    1
}
fn default_failures() -> u32 {
    3
}

/// The probes of one process type.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Healthcheck {
    /// Restart the container when this fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,
    /// Hold traffic until this passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
}

/// Health checks per process type.
pub type Healthchecks = BTreeMap<ProcessType, Healthcheck>;

/// The reference's message for a probe name other than the two it knows.
pub const PROBE_NAMES: &str = "Healthcheck keys must be either livenessProbe or readinessProbe";

const INTEGER_FIELDS: [&str; 5] = [
    "initialDelaySeconds",
    "timeoutSeconds",
    "periodSeconds",
    "successThreshold",
    "failureThreshold",
];

fn not_of(v: &Value, t: &str) -> String {
    format!("{} is not of type '{t}'", repr(v))
}

/// `v` as an object, or the schema's type error.
fn object(v: &Value) -> Result<&Map<String, Value>, String> {
    v.as_object().ok_or_else(|| not_of(v, "object"))
}

fn integer(v: &Value) -> Result<(), String> {
    if v.is_i64() || v.is_u64() {
        Ok(())
    } else {
        Err(not_of(v, "integer"))
    }
}

fn string(v: &Value) -> Result<(), String> {
    if v.is_string() {
        Ok(())
    } else {
        Err(not_of(v, "string"))
    }
}

fn required<'a>(o: &'a Map<String, Value>, name: &str) -> Result<&'a Value, String> {
    o.get(name)
        .ok_or_else(|| format!("'{name}' is a required property"))
}

/// Checks one probe against the reference's probe schema; the error reads as
/// Python's jsonschema words it (`'50' is not of type 'integer'`).
fn check_schema(probe: &Value) -> Result<(), String> {
    let members = object(probe)?;
    if let Some(exec) = members.get("exec") {
        let command = required(object(exec)?, "command")?;
        let items = command.as_array().ok_or_else(|| not_of(command, "array"))?;
        if items.is_empty() {
            return Err(format!("{} is too short", repr(command)));
        }
        items.iter().try_for_each(string)?;
    }
    if let Some(get) = members.get("httpGet") {
        let get = object(get)?;
        integer(required(get, "port")?)?;
        for name in ["path", "host", "scheme"] {
            get.get(name).map_or(Ok(()), string)?;
        }
        if let Some(headers) = get.get("httpHeaders") {
            let items = headers.as_array().ok_or_else(|| not_of(headers, "array"))?;
            for h in items {
                let h = object(h)?;
                for name in ["name", "value"] {
                    h.get(name).map_or(Ok(()), string)?;
                }
            }
        }
    }
    if let Some(tcp) = members.get("tcpSocket") {
        integer(required(object(tcp)?, "port")?)?;
    }
    for name in INTEGER_FIELDS {
        members.get(name).map_or(Ok(()), integer)?;
    }
    Ok(())
}

impl Healthcheck {
    /// Parses and checks one process type's probes from the client's JSON, as
    /// the reference does: known probe names, its schema, and a liveness
    /// probe's success threshold of 1.
    pub fn parse(value: &Value) -> Result<Self, DomainError> {
        let bad = |m: String| DomainError::field("healthcheck", m);
        let probes = value.as_object().ok_or_else(|| {
            bad(format!(
                "could not validate {}: {}",
                repr(value),
                not_of(value, "object")
            ))
        })?;
        for (name, probe) in probes {
            if probe.is_null() {
                continue;
            }
            if name != "livenessProbe" && name != "readinessProbe" {
                return Err(bad(PROBE_NAMES.into()));
            }
            check_schema(probe)
                .map_err(|e| bad(format!("could not validate {}: {e}", repr(probe))))?;
        }
        let hc: Healthcheck =
            serde_json::from_value(value.clone()).map_err(|e| bad(e.to_string()))?;
        if hc
            .liveness_probe
            .as_ref()
            .is_some_and(|p| p.success_threshold != 1)
        {
            return Err(bad("livenessProbe successThreshold can only be 1".into()));
        }
        Ok(hc)
    }
}

impl Probe {
    /// Whether the probe says what to check (the reference's schema allows
    /// one that does not; such a probe checks nothing on Dokku).
    pub fn checks_something(&self) -> bool {
        self.http_get.is_some() || self.tcp_socket.is_some() || self.exec.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory() {
        for ok in [
            "512M", "1g", "256M/1G", "20MB", "20gb", "0m", "0", "0/100MB", "1KB",
        ] {
            assert!(MemoryLimit::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["lots", "", "1T", "M", "1M/", "10", "1M/0"] {
            assert!(MemoryLimit::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(MemoryLimit::parse("256m/1g").unwrap().limit(), "1g");
    }

    #[test]
    fn cpu() {
        assert_eq!(CpuLimit::parse("500m").unwrap().cores(), "0.5");
        assert_eq!(CpuLimit::parse("250m/2").unwrap().cores(), "2");
        assert!(CpuLimit::parse("fast").is_err());
        assert_eq!(CpuLimit::parse(".123").unwrap().cores(), "0.123");
        assert_eq!(CpuLimit::parse("+2").unwrap().cores(), "2");
        assert_eq!(CpuLimit::parse("-1").unwrap().cores(), "0");
    }

    #[test]
    fn healthcheck() {
        let ok = serde_json::json!({"livenessProbe": {"httpGet": {"path": "/", "port": 5000}}});
        assert!(Healthcheck::parse(&ok).is_ok());
        let empty = serde_json::json!({"livenessProbe": {"initialDelaySeconds": 1}});
        assert!(!Healthcheck::parse(&empty)
            .expect("the schema allows it")
            .liveness_probe
            .expect("probe")
            .checks_something());
        let unknown = serde_json::json!({"nope": {}});
        assert_eq!(
            Healthcheck::parse(&unknown),
            Err(DomainError::field("healthcheck", PROBE_NAMES))
        );
        let wrong = serde_json::json!({"livenessProbe": {"httpGet": {"port": "50"}}});
        assert_eq!(
            Healthcheck::parse(&wrong),
            Err(DomainError::field(
                "healthcheck",
                "could not validate {'httpGet': {'port': '50'}}: '50' is not of type 'integer'"
            ))
        );
        let missing = serde_json::json!({"readinessProbe": {"tcpSocket": {}}});
        assert_eq!(
            Healthcheck::parse(&missing),
            Err(DomainError::field(
                "healthcheck",
                "could not validate {'tcpSocket': {}}: 'port' is a required property"
            ))
        );
        let threshold =
            serde_json::json!({"livenessProbe": {"tcpSocket": {"port": 1}, "successThreshold": 5}});
        assert_eq!(
            Healthcheck::parse(&threshold),
            Err(DomainError::field(
                "healthcheck",
                "livenessProbe successThreshold can only be 1"
            ))
        );
    }
}
