//! What a probe produces: metric families with blackbox_exporter's names,
//! help texts and labels, a failure cause, and blackbox-style log lines;
//! and the text exposition blackbox's `/probe` answers with.

use sightline_core::gofmt::shortest_g;
use sightline_core::time;
use sightline_core::FamilySample;
use std::fmt::Write;
use std::time::SystemTime;

/// A metric family: every blackbox probe metric is a gauge.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricFamily {
    /// Metric name (`probe_success`, ...).
    pub name: &'static str,
    /// HELP text, as blackbox writes it.
    pub help: &'static str,
    /// TYPE (`gauge` for all of blackbox's probe metrics).
    pub kind: &'static str,
    /// Samples.
    pub samples: Vec<FamilySample>,
}

/// One log line of the probe, as blackbox's `debug=true` output has them.
#[derive(Debug, Clone)]
pub struct LogLine {
    /// When.
    pub time: SystemTime,
    /// `info`, `warn`, `error` or `debug`.
    pub level: &'static str,
    /// The message and its key/value pairs, logfmt.
    pub text: String,
}

/// The outcome of one probe.
#[derive(Debug, Clone)]
pub struct ProbeResult {
    /// The module's prober.
    pub prober: String,
    /// The target probed.
    pub target: String,
    /// `probe_success`.
    pub success: bool,
    /// `probe_duration_seconds`.
    pub duration_seconds: f64,
    /// Why it failed, for outage lists (`None` on success).
    pub failure: Option<String>,
    /// Every family, `probe_success` and `probe_duration_seconds` included.
    pub families: Vec<MetricFamily>,
    /// The probe's log.
    pub logs: Vec<LogLine>,
    /// Earliest certificate expiry seen (unix seconds), for expiry warnings.
    pub cert_expiry: Option<f64>,
}

impl ProbeResult {
    /// The value of an unlabelled family, or of the first sample of it.
    pub fn value(&self, name: &str) -> Option<f64> {
        self.families
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.samples.first())
            .map(|s| s.value)
    }

    /// The value of a sample with the given label pair.
    pub fn labelled_value(&self, name: &str, label: &str, value: &str) -> Option<f64> {
        self.families
            .iter()
            .find(|f| f.name == name)?
            .samples
            .iter()
            .find(|s| s.labels.iter().any(|(k, v)| k == label && v == value))
            .map(|s| s.value)
    }
}

/// Collects families while a prober runs.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    pub(crate) families: Vec<MetricFamily>,
    pub(crate) logs: Vec<LogLine>,
    pub(crate) failure: Option<String>,
    /// TLS gauges of the current HTTP hop, kept aside until it is known to
    /// be the final one.
    pub(crate) pending_tls: Option<Vec<MetricFamily>>,
}

impl Recorder {
    fn family(&mut self, name: &'static str, help: &'static str) -> &mut MetricFamily {
        if let Some(i) = self.families.iter().position(|f| f.name == name) {
            return &mut self.families[i];
        }
        self.families.push(MetricFamily {
            name,
            help,
            kind: "gauge",
            samples: Vec::new(),
        });
        self.families.last_mut().expect("just pushed")
    }

    /// Sets an unlabelled gauge.
    pub(crate) fn set(&mut self, name: &'static str, help: &'static str, value: f64) {
        self.set_with(name, help, &[], value);
    }

    /// Sets a labelled gauge (replacing a sample with the same labels).
    pub(crate) fn set_with(
        &mut self,
        name: &'static str,
        help: &'static str,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        let labels: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let fam = self.family(name, help);
        match fam.samples.iter_mut().find(|s| s.labels == labels) {
            Some(s) => s.value = value,
            None => fam.samples.push(FamilySample { labels, value }),
        }
    }

    /// Adds to a labelled gauge (phase timings summed over redirects).
    pub(crate) fn add_with(
        &mut self,
        name: &'static str,
        help: &'static str,
        labels: &[(&str, &str)],
        delta: f64,
    ) {
        let old = self
            .families
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| {
                f.samples.iter().find(|s| {
                    s.labels.len() == labels.len()
                        && s.labels
                            .iter()
                            .zip(labels)
                            .all(|(a, b)| a.0 == b.0 && a.1 == b.1)
                })
            })
            .map_or(0.0, |s| s.value);
        self.set_with(name, help, labels, old + delta);
    }

    /// Logs a line; `kv` pairs are written logfmt-quoted.
    pub(crate) fn log(&mut self, level: &'static str, msg: &str, kv: &[(&str, &str)]) {
        let mut text = format!("msg={}", logfmt_value(msg));
        for (k, v) in kv {
            let _ = write!(text, " {k}={}", logfmt_value(v));
        }
        self.logs.push(LogLine {
            time: SystemTime::now(),
            level,
            text,
        });
    }

    /// Logs an error and keeps the first one as the failure cause.
    pub(crate) fn fail(&mut self, msg: &str, err: &str) {
        self.log("error", msg, &[("err", err)]);
        if self.failure.is_none() {
            self.failure = Some(if err.is_empty() {
                msg.to_string()
            } else {
                format!("{msg}: {err}")
            });
        }
    }
}

fn logfmt_value(v: &str) -> String {
    if !v.is_empty() && !v.contains([' ', '"', '=', '\n', '\t']) {
        v.to_string()
    } else {
        format!("{v:?}")
    }
}

/// The text exposition (format 0.0.4) of a result, byte for byte as
/// blackbox's `/probe` writes it: families sorted by name, samples by
/// label values, Go's float formatting.
pub fn render_exposition(result: &ProbeResult) -> String {
    let mut fams: Vec<&MetricFamily> = result.families.iter().collect();
    fams.sort_by_key(|f| f.name);
    let mut out = String::new();
    for f in fams {
        let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind);
        let mut samples: Vec<&FamilySample> = f.samples.iter().collect();
        samples.sort_by(|a, b| a.labels.cmp(&b.labels));
        for s in samples {
            out.push_str(f.name);
            if !s.labels.is_empty() {
                out.push('{');
                for (i, (k, v)) in s.labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let v = v
                        .replace('\\', "\\\\")
                        .replace('"', "\\\"")
                        .replace('\n', "\\n");
                    let _ = write!(out, "{k}=\"{v}\"");
                }
                out.push('}');
            }
            out.push(' ');
            out.push_str(&shortest_g(s.value));
            out.push('\n');
        }
    }
    out
}

/// blackbox's `debug=true` page: the log, the metrics, and the module.
pub fn render_debug(result: &ProbeResult, module_name: &str) -> String {
    let mut out = String::from("Logs for the probe:\n");
    for l in &result.logs {
        let ts = time::rfc3339_digits(&time::from_system_time(l.time), 9);
        let _ = writeln!(
            out,
            "ts={ts} module={module_name} target={} level={} {}",
            result.target, l.level, l.text
        );
    }
    out.push_str("\n\n\nMetrics that would have been returned:\n");
    out.push_str(&render_exposition(result));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_float_matches_blackbox_output() {
        // Values as blackbox 0.23 printed them on this machine.
        assert_eq!(shortest_g(3668918509.0), "3.668918509e+09");
        assert_eq!(shortest_g(1.2289e-05), "1.2289e-05");
        assert_eq!(shortest_g(0.001743131), "0.001743131");
        assert_eq!(shortest_g(335.0), "335");
        assert_eq!(shortest_g(200.0), "200");
        assert_eq!(shortest_g(0.0), "0");
        assert_eq!(shortest_g(f64::NAN), "NaN");
        assert_eq!(shortest_g(1.5e21), "1.5e+21");
        assert_eq!(shortest_g(0.0001), "0.0001");
        assert_eq!(shortest_g(1e6), "1e+06");
        assert_eq!(shortest_g(123456.0), "123456");
        assert_eq!(shortest_g(-2.5), "-2.5");
    }

    #[test]
    fn renders_sorted_families() {
        let mut r = Recorder::default();
        r.set(
            "probe_success",
            "Displays whether or not the probe was a success",
            1.0,
        );
        r.set_with(
            "probe_http_duration_seconds",
            "Duration of http request by phase, summed over all redirects",
            &[("phase", "tls")],
            0.0,
        );
        r.add_with(
            "probe_http_duration_seconds",
            "Duration of http request by phase, summed over all redirects",
            &[("phase", "connect")],
            0.25,
        );
        r.add_with(
            "probe_http_duration_seconds",
            "Duration of http request by phase, summed over all redirects",
            &[("phase", "connect")],
            0.25,
        );
        let res = ProbeResult {
            prober: "http".into(),
            target: "t".into(),
            success: true,
            duration_seconds: 0.0,
            failure: None,
            families: r.families,
            logs: vec![],
            cert_expiry: None,
        };
        assert_eq!(
            render_exposition(&res),
            "# HELP probe_http_duration_seconds Duration of http request by phase, summed over all redirects\n\
             # TYPE probe_http_duration_seconds gauge\n\
             probe_http_duration_seconds{phase=\"connect\"} 0.5\n\
             probe_http_duration_seconds{phase=\"tls\"} 0\n\
             # HELP probe_success Displays whether or not the probe was a success\n\
             # TYPE probe_success gauge\n\
             probe_success 1\n"
        );
    }
}
