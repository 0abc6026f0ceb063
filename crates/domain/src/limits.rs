//! Per-process-type resource limits and health checks, validated as the
//! reference does and stored with the config of each release.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::name::ProcessType;
use crate::DomainError;

static MEMORY_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?i)[0-9]+[BKMG]?(/[0-9]+[BKMG]?)?$").expect("static regex"));
static CPU_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([0-9]+(\.[0-9]+)?m?)(/[0-9]+(\.[0-9]+)?m?)?$").expect("static regex")
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
    /// Validates a memory setting.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if !MEMORY_RE.is_match(s)
            || s.split('/')
                .any(|p| p.trim_end_matches(char::is_alphabetic) == "0")
        {
            return Err(DomainError::field("memory", MEMORY_FORMAT));
        }
        Ok(Self(s.to_uppercase()))
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

    /// The hard limit in cores as a decimal (`500m` → `0.5`), for Docker's `--cpus`.
    pub fn cores(&self) -> String {
        let limit = self.0.rsplit('/').next().unwrap_or(&self.0);
        match limit.strip_suffix('m') {
            Some(milli) => {
                let m: f64 = milli.parse().unwrap_or(0.0);
                format!("{}", m / 1000.0)
            }
            None => limit.to_owned(),
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
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
pub struct TcpSocket {
    /// Container port.
    pub port: u16,
}

/// A command probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecProbe {
    /// Command and arguments.
    pub command: Vec<String>,
}

/// One probe in the Kubernetes shape the clients send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
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

impl Healthcheck {
    /// Parses and checks one process type's health check from the client's JSON.
    pub fn parse(value: &serde_json::Value) -> Result<Self, DomainError> {
        let bad = |m: String| DomainError::field("healthcheck", m);
        let hc: Healthcheck =
            serde_json::from_value(value.clone()).map_err(|e| bad(e.to_string()))?;
        for probe in [&hc.liveness_probe, &hc.readiness_probe]
            .into_iter()
            .flatten()
        {
            let kinds = [
                probe.http_get.is_some(),
                probe.tcp_socket.is_some(),
                probe.exec.is_some(),
            ];
            if kinds.iter().filter(|k| **k).count() != 1 {
                return Err(bad(
                    "a probe needs exactly one of httpGet, tcpSocket or exec".into(),
                ));
            }
            if let Some(h) = &probe.http_get {
                if !h.path.starts_with('/') || h.path.chars().any(char::is_whitespace) {
                    return Err(bad(format!(
                        "httpGet path {:?} must start with / and contain no whitespace",
                        h.path
                    )));
                }
                if h.port == 0 {
                    return Err(bad("port must be between 1 and 65535".into()));
                }
            }
            if let Some(e) = &probe.exec {
                if e.command.is_empty() {
                    return Err(bad("exec needs a command".into()));
                }
            }
            if probe.timeout_seconds == 0
                || probe.period_seconds == 0
                || probe.failure_threshold == 0
            {
                return Err(bad(
                    "timeoutSeconds, periodSeconds and failureThreshold must be at least 1".into(),
                ));
            }
        }
        Ok(hc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory() {
        for ok in ["512M", "1g", "256M/1G", "100"] {
            assert!(MemoryLimit::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["lots", "", "1T", "M", "1M/", "0M"] {
            assert!(MemoryLimit::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(MemoryLimit::parse("256m/1g").unwrap().limit(), "1G");
    }

    #[test]
    fn cpu() {
        assert_eq!(CpuLimit::parse("500m").unwrap().cores(), "0.5");
        assert_eq!(CpuLimit::parse("250m/2").unwrap().cores(), "2");
        assert!(CpuLimit::parse("fast").is_err());
    }

    #[test]
    fn healthcheck() {
        let ok = serde_json::json!({"livenessProbe": {"httpGet": {"path": "/", "port": 5000}}});
        assert!(Healthcheck::parse(&ok).is_ok());
        let bad = serde_json::json!({"livenessProbe": {"initialDelaySeconds": 1}});
        assert!(Healthcheck::parse(&bad).is_err());
        let unknown = serde_json::json!({"nope": {}});
        assert!(Healthcheck::parse(&unknown).is_err());
    }
}
