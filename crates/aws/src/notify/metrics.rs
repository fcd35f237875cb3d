//! Printing EMF records: one JSON object per line on standard output, where Lambda's log
//! capture sends it to CloudWatch Logs and CloudWatch extracts the metrics. Functions print
//! to standard output; tests give their own writer.

use eks_auth_core::notify::emf::{MetricSet, record};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

type Sink = Arc<Mutex<Box<dyn Write + Send>>>;

/// Where a function's metrics go, in which namespace.
#[derive(Clone)]
pub struct MetricsOut {
    namespace: String,
    sink: Option<Sink>,
}

impl std::fmt::Debug for MetricsOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsOut")
            .field("namespace", &self.namespace)
            .field("enabled", &self.sink.is_some())
            .finish()
    }
}

impl MetricsOut {
    /// Standard output in `namespace`; `None` publishes nothing.
    pub fn stdout(namespace: Option<String>) -> Self {
        match namespace {
            Some(ns) => Self::to_writer(ns, std::io::stdout()),
            None => Self {
                namespace: String::new(),
                sink: None,
            },
        }
    }

    /// `writer` in `namespace`.
    pub fn to_writer(namespace: impl Into<String>, writer: impl Write + Send + 'static) -> Self {
        Self {
            namespace: namespace.into(),
            sink: Some(Arc::new(Mutex::new(Box::new(writer)))),
        }
    }

    /// Prints one EMF line per set, each with one write (lines never interleave with the
    /// function's log lines).
    pub fn emit(&self, sets: &[MetricSet]) {
        let Some(sink) = &self.sink else { return };
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let mut text = String::new();
        for set in sets {
            text.push_str(&record(&self.namespace, now, set).to_string());
            text.push('\n');
        }
        let Ok(mut out) = sink.lock() else { return };
        for line in text.lines() {
            // A lost metric line must not fail the function.
            let _ = out.write_all(format!("{line}\n").as_bytes());
        }
        let _ = out.flush();
    }
}
