//! The CloudWatch embedded metric format: one JSON object per log line, which CloudWatch Logs
//! turns into metrics (no PutMetricData call, no extra permission). The adapters print the
//! objects [`record`] builds, one per line, on standard output.
//!
//! Written here with serde_json rather than with the `metrics_cloudwatch_embedded` crate: the
//! metric model stays plain data that tests compare whole, there is no process-global recorder
//! to install and flush, and no extra dependency (that crate's Lambda integration is built for
//! lambda_runtime 0.14, not the 1.x these functions use). docs/operations.md lists every metric.

use super::metric_names::NAMES;
use serde_json::{Map, Value, json};

/// The unit of a metric, as CloudWatch spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A count.
    Count,
    /// A duration in milliseconds.
    Milliseconds,
}

impl Unit {
    /// CloudWatch's name for the unit.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// One metric value.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// Its name (unique within a [`MetricSet`], and never a dimension's name).
    pub name: &'static str,
    /// Its unit.
    pub unit: Unit,
    /// Its value.
    pub value: f64,
}

impl Metric {
    /// A count.
    pub fn count(name: &'static str, value: usize) -> Self {
        Self {
            name,
            unit: Unit::Count,
            // Counts are far below 2^53: exact as f64.
            value: value as f64,
        }
    }

    /// A duration.
    pub fn millis(name: &'static str, value: u64) -> Self {
        Self {
            name,
            unit: Unit::Milliseconds,
            value: value as f64,
        }
    }
}

/// Metrics that share one set of dimensions: one EMF record.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSet {
    /// Dimension names and values. Every value comes from a small, fixed set (a function, a
    /// phase, a mode, an outcome, a reason code): never a cluster, account or principal.
    pub dimensions: Vec<(&'static str, String)>,
    /// The values.
    pub metrics: Vec<Metric>,
}

impl MetricSet {
    /// The value of metric `name`, if the set has it.
    pub fn value(&self, name: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.value)
    }

    /// The value of dimension `name`, if the set has it.
    pub fn dimension(&self, name: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The EMF record of `set` in `namespace` at `timestamp_ms` (epoch milliseconds).
pub fn record(namespace: &str, timestamp_ms: u64, set: &MetricSet) -> Value {
    let dimension_names: Vec<&str> = set.dimensions.iter().map(|(n, _)| *n).collect();
    let definitions: Vec<Value> = set
        .metrics
        .iter()
        .map(|m| json!({ "Name": m.name, "Unit": m.unit.as_str() }))
        .collect();
    let mut object = Map::new();
    object.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [dimension_names],
                "Metrics": definitions,
            }],
        }),
    );
    for (name, value) in &set.dimensions {
        object.insert((*name).to_owned(), Value::String(value.clone()));
    }
    for m in &set.metrics {
        let value = if m.value.fract() == 0.0 && m.value.abs() < 9.0e15 {
            json!(m.value as i64)
        } else {
            json!(m.value)
        };
        object.insert(m.name.to_owned(), value);
    }
    Value::Object(object)
}

/// The metric sets of one EMF line as it was printed (for tests and tools that read logs back):
/// `None` when `line` is not an EMF record.
pub fn parse_line(line: &str) -> Option<(String, MetricSet)> {
    let value: Value = serde_json::from_str(line.trim()).ok()?;
    let directive = value.get("_aws")?.get("CloudWatchMetrics")?.get(0)?;
    let namespace = directive.get("Namespace")?.as_str()?.to_owned();
    let dimensions = directive
        .get("Dimensions")?
        .get(0)?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|n| {
            let v = value.get(n)?.as_str()?.to_owned();
            Some((leak_name(n), v))
        })
        .collect();
    let metrics = directive
        .get("Metrics")?
        .as_array()?
        .iter()
        .filter_map(|m| {
            let name = m.get("Name")?.as_str()?;
            let unit = match m.get("Unit")?.as_str()? {
                "Milliseconds" => Unit::Milliseconds,
                _ => Unit::Count,
            };
            Some(Metric {
                name: leak_name(name),
                unit,
                value: value.get(name)?.as_f64()?,
            })
        })
        .collect();
    Some((
        namespace,
        MetricSet {
            dimensions,
            metrics,
        },
    ))
}

/// The `'static` spelling of a known metric or dimension name (names read back from a log line
/// are matched against [`NAMES`]); an unknown name reads as `"unknown"`.
fn leak_name(name: &str) -> &'static str {
    NAMES
        .iter()
        .find(|n| **n == name)
        .copied()
        .unwrap_or("unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_declares_its_dimensions_and_metrics_at_the_top_level() {
        let set = MetricSet {
            dimensions: vec![("Function", "fleet-scan".to_owned())],
            metrics: vec![
                Metric::count("ClustersFound", 3),
                Metric::millis("ScanDuration", 1250),
            ],
        };
        let r = record("EksAuthMigrator", 1_700_000_000_000, &set);
        assert_eq!(
            r,
            json!({
                "_aws": {
                    "Timestamp": 1_700_000_000_000_u64,
                    "CloudWatchMetrics": [{
                        "Namespace": "EksAuthMigrator",
                        "Dimensions": [["Function"]],
                        "Metrics": [
                            {"Name": "ClustersFound", "Unit": "Count"},
                            {"Name": "ScanDuration", "Unit": "Milliseconds"}
                        ]
                    }]
                },
                "Function": "fleet-scan",
                "ClustersFound": 3,
                "ScanDuration": 1250
            })
        );
        let line = serde_json::to_string(&r).expect("json");
        assert!(!line.contains('\n'), "one log line");
        assert_eq!(parse_line(&line), Some(("EksAuthMigrator".to_owned(), set)));
        assert_eq!(parse_line("{\"level\":\"INFO\"}"), None);
    }
}
