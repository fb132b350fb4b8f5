//! Command-line flags. Names follow Prometheus's where a Prometheus user
//! would look for them (`--storage.tsdb.retention.time`), with the short
//! forms of the issue (`--retention.time`) as aliases.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Sightline: metrics, alerting, uptime probes and SLOs in one binary.
#[derive(Parser, Debug)]
#[command(name = "sightline", version, about)]
pub struct Cli {
    /// Log level (error, warn, info, debug, trace); `SIGHTLINE_LOG` overrides.
    #[arg(long, global = true, default_value = "info")]
    pub log_level: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server.
    Serve(Box<ServeArgs>),
    /// Backfill data into the data directory as blocks.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Validate files, as `promtool check`.
    #[command(subcommand)]
    Check(CheckCommand),
    /// Run unit tests, as `promtool test`.
    #[command(subcommand)]
    Test(TestCommand),
    /// Turn SLO specs into rule files, and report error budgets.
    #[command(subcommand)]
    Slo(SloCommand),
    /// Tail files as Promtail does and ship them to Sightline or Loki
    /// (reads Promtail's config file unchanged).
    Agent(AgentArgs),
    /// Run Sightline with a sample shop (four instrumented services, load,
    /// faults) and six hours of its history: every signal live in seconds.
    Demo(Box<DemoArgs>),
}

/// `sightline demo [--data-dir DIR] [--listen ADDR] [--no-backfill]`,
/// `sightline demo --print-config DIR`, `sightline demo fault ...`.
#[derive(Args, Debug, Clone)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DemoArgs {
    /// `fault`: change a fault of the running demo.
    #[command(subcommand)]
    pub command: Option<DemoCommand>,
    /// Keep the demo's data (and its files, in DIR/demo-config) here;
    /// default: a temporary folder, removed when the demo stops.
    #[arg(long, alias = "storage.tsdb.path")]
    pub data_dir: Option<PathBuf>,
    /// Address of Sightline's HTTP server. Port 0 puts the server, the
    /// shop's services and its control server each on a free port.
    #[arg(long, alias = "web.listen-address", default_value = "127.0.0.1:9090")]
    pub listen: SocketAddr,
    /// Address of the shop's control server (faults, Alertmanager's
    /// webhook); default 127.0.0.1:9180.
    #[arg(long)]
    pub control: Option<SocketAddr>,
    /// Start without the six hours of history.
    #[arg(long)]
    pub no_backfill: bool,
    /// Requests per second the load generator sends the shop's frontend
    /// (bench/soak.py runs twice the default).
    #[arg(long, default_value_t = 20.0)]
    pub requests_per_second: f64,
    /// Write the demo's configuration files (sightline.yml,
    /// prometheus.yml, alertmanager.yml, rules, SLOs, dashboards) into DIR
    /// and exit.
    #[arg(long, value_name = "DIR")]
    pub print_config: Option<PathBuf>,
    /// With --print-config: write into a folder that is not empty.
    #[arg(long, requires = "print_config")]
    pub force: bool,
}

/// `sightline demo fault ...`.
#[derive(Subcommand, Debug, Clone)]
pub enum DemoCommand {
    /// Set a fault on a service of the running demo: `checkout errors 30%`,
    /// `payments slow 800ms`, `db down`, `checkout none`.
    Fault {
        /// The running demo's control server.
        #[arg(long, default_value_t = crate::demo::DEFAULT_CONTROL)]
        control: SocketAddr,
        /// frontend, checkout, payments or db.
        service: String,
        /// `errors N%`, `slow Nms`, `down`, or `none`.
        #[arg(required = true, num_args = 1..)]
        fault: Vec<String>,
    },
}

/// `sightline agent --config.file=promtail.yml`.
#[derive(Args, Debug, Clone)]
pub struct AgentArgs {
    /// Promtail's configuration file.
    #[arg(long = "config.file", alias = "config")]
    pub config_file: PathBuf,
    /// Replace `${VAR}` and `${VAR:-default}` in the file with the
    /// environment's values, as Promtail's flag of the same name.
    #[arg(
        long = "config.expand-env",
        num_args = 0..=1,
        default_missing_value = "true",
        default_value = "false",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub expand_env: bool,
    /// Check the file and exit, as Promtail's `-check-syntax`.
    #[arg(long = "check-syntax")]
    pub check_syntax: bool,
}

/// Promtail's flags are written with one dash (`-config.file=x`); clap
/// reads long flags with two. After `agent`, a one-dash word longer than
/// one letter gets its second dash.
pub fn promtail_flags(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let Some(at) = args.iter().position(|a| a == "agent") else {
        return args;
    };
    args.into_iter()
        .enumerate()
        .map(|(i, a)| match a.to_str() {
            Some(s) if i > at && s.len() > 2 && s.starts_with('-') && !s.starts_with("--") => {
                format!("-{s}").into()
            }
            _ => a,
        })
        .collect()
}

/// `sightline slo ...`.
#[derive(Subcommand, Debug)]
pub enum SloCommand {
    /// Print the Prometheus rule file (recordings and burn-rate alerts) for
    /// SLO specs (Sloth prometheus/v1, OpenSLO v1 or sightline/v1).
    Generate {
        /// SLO spec files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print each SLO's objective, SLI, error budget left, burn rates and
    /// alert state, read from a server with the Prometheus query API
    /// (Sightline, or Prometheus running the generated rules).
    Report {
        /// The server to query.
        #[arg(long, default_value = "http://localhost:9090")]
        url: String,
        /// Print JSON (the data of `/api/v1/slos`) instead of a table.
        #[arg(long)]
        json: bool,
        /// SLO spec files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// `sightline check ...`.
#[derive(Subcommand, Debug)]
pub enum CheckCommand {
    /// Check Prometheus rule files, as `promtool check rules`.
    Rules {
        /// Rule files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Check a config file (prometheus.yml or sightline.yml) and everything
    /// `serve` would load from it: rule files as `promtool check config`
    /// does, SLO specs and probe modules.
    Config {
        /// Config files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The blackbox modules file `serve` would be given, which probe
        /// monitors may name.
        #[arg(long = "probe.modules-file")]
        probe_modules_file: Option<PathBuf>,
    },
    /// Check web config files (TLS, basic auth), as `promtool check
    /// web-config`.
    WebConfig {
        /// Web config files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// `sightline test ...`.
#[derive(Subcommand, Debug)]
pub enum TestCommand {
    /// Run rule unit test files, as `promtool test rules`.
    Rules {
        /// Test files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// `sightline serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// A Prometheus configuration file (prometheus.yml). Without one,
    /// Sightline scrapes its own /metrics every 15s.
    #[arg(long, alias = "config.file")]
    pub config: Option<PathBuf>,
    /// Where the TSDB keeps its WAL and blocks.
    #[arg(long, alias = "storage.tsdb.path", default_value = "data")]
    pub data_dir: PathBuf,
    /// Address of the HTTP server.
    #[arg(long, alias = "web.listen-address", default_value = "127.0.0.1:9090")]
    pub listen: SocketAddr,
    /// How long to keep samples (Prometheus duration, e.g. 15d).
    #[arg(
        long = "retention.time",
        alias = "storage.tsdb.retention.time",
        default_value = "15d"
    )]
    pub retention_time: String,
    /// The most bytes blocks may use on disk (e.g. 10GB); 0 = no limit.
    #[arg(
        long = "retention.size",
        alias = "storage.tsdb.retention.size",
        default_value = "0"
    )]
    pub retention_size: String,
    /// Accept samples this much older than a series' newest one (0 = off).
    #[arg(
        long = "storage.tsdb.out-of-order-time-window",
        alias = "out-of-order-window",
        default_value = "0s"
    )]
    pub out_of_order_window: String,
    /// Width of a level-1 block (Prometheus's hidden flag of the same name,
    /// 2h). Tests shrink it to make the head cut and compact within seconds.
    #[arg(
        long = "storage.tsdb.min-block-duration",
        default_value = "2h",
        hide = true
    )]
    pub min_block_duration: String,
    /// How often the TSDB looks for head cutting, compaction and retention
    /// work (1m). Hidden, for the fault tests, which crash it mid-compaction.
    #[arg(
        long = "storage.tsdb.maintenance-interval",
        default_value = "1m",
        hide = true
    )]
    pub tsdb_maintenance_interval: String,
    /// Longest a query may run before it is aborted (Prometheus duration);
    /// a request's `timeout` parameter can only shorten it.
    #[arg(long = "query.timeout", default_value = "2m")]
    pub query_timeout: String,
    /// Most samples one query may hold in memory at once.
    #[arg(long = "query.max-samples", default_value_t = 50_000_000)]
    pub query_max_samples: usize,
    /// Most queries evaluated at once; the rest wait for a slot.
    #[arg(long = "query.max-concurrency", default_value_t = 20)]
    pub query_max_concurrency: usize,
    /// How far back an instant selector looks for the latest sample.
    #[arg(long = "query.lookback-delta", default_value = "5m")]
    pub query_lookback_delta: String,
    /// An alertmanager.yml: runs the built-in Alertmanager (API v2 on the
    /// same port), and rule alerts go to it as well as to
    /// `alerting.alertmanagers`.
    #[arg(long = "alertmanager.config.file", alias = "alertmanager.config")]
    pub alertmanager_config: Option<PathBuf>,
    /// The URL users reach Sightline at, for links in notifications
    /// (default: http://<listen address>).
    #[arg(long = "web.external-url")]
    pub external_url: Option<String>,
    /// The path the server's routes live under (UI, API, /metrics,
    /// /-/healthy...), as Prometheus's flag; `/` then redirects there.
    /// Default: the path of `--web.external-url`, else none.
    #[arg(long = "web.route-prefix")]
    pub route_prefix: Option<String>,
    /// A folder of Grafana dashboard JSON files to provision (sub-folders
    /// become dashboard folders; the UI may edit them), besides any
    /// `dashboards:` providers of the config file.
    #[arg(long = "dashboards.dir")]
    pub dashboards_dir: Option<PathBuf>,
    /// Address of the OTLP/gRPC metrics receiver (default 127.0.0.1:4317;
    /// `0` or empty turns it off). OTLP/HTTP is served on `--listen`.
    #[arg(long = "otlp.grpc.listen")]
    pub otlp_grpc_listen: Option<String>,
    /// The most memory Sightline may use (e.g. 512MB): near it, stores
    /// flush and pushes are refused with a retryable 503 before the kernel
    /// would kill the process. Default: the cgroup's limit, if any; `0`: none.
    #[arg(long = "memory.limit", default_value = "")]
    pub memory_limit: String,
    /// `--probe.*`: blackbox modules for `/probe` and `probes:` monitors.
    #[command(flatten)]
    pub probe: crate::probes::ProbeArgs,
    /// `--web.*`: the web config file (TLS, basic auth) and admin switches.
    #[command(flatten)]
    pub web: crate::web::WebArgs,
    /// Multi-tenancy (Mimir's flag): every tenant API needs `X-Scope-OrgID`
    /// and each tenant sees only its own data (docs/tenants.md).
    #[arg(long = "auth.multitenancy-enabled")]
    pub multitenancy_enabled: bool,
}

impl ServeArgs {
    /// `--web.external-url`, or the listen address as a URL.
    pub fn external_url(&self) -> String {
        self.external_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }

    /// The route prefix in force: `--web.route-prefix`, else the path of
    /// `--web.external-url`; `""` for none, otherwise `/path` without a
    /// trailing slash.
    pub fn route_prefix(&self) -> String {
        let raw = match &self.route_prefix {
            Some(p) => p.clone(),
            None => self
                .external_url
                .as_deref()
                .map(url_path)
                .unwrap_or_default(),
        };
        let trimmed = raw.trim().trim_matches('/');
        if trimmed.is_empty() {
            String::new()
        } else {
            format!("/{trimmed}")
        }
    }

    /// The flags in force under Prometheus's names, for
    /// `/api/v1/status/flags`.
    pub fn flag_map(&self) -> std::collections::BTreeMap<String, String> {
        let rows = [
            (
                "config.file",
                self.config
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            ),
            ("storage.tsdb.path", self.data_dir.display().to_string()),
            ("web.listen-address", self.listen.to_string()),
            ("storage.tsdb.retention.time", self.retention_time.clone()),
            ("storage.tsdb.retention.size", self.retention_size.clone()),
            (
                "storage.tsdb.out-of-order-time-window",
                self.out_of_order_window.clone(),
            ),
            ("query.timeout", self.query_timeout.clone()),
            ("query.max-samples", self.query_max_samples.to_string()),
            (
                "query.max-concurrency",
                self.query_max_concurrency.to_string(),
            ),
            ("query.lookback-delta", self.query_lookback_delta.clone()),
            ("memory.limit", self.memory_limit.clone()),
            (
                "alertmanager.config.file",
                self.alertmanager_config
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            ),
            ("web.external-url", self.external_url()),
            ("web.route-prefix", {
                let p = self.route_prefix();
                if p.is_empty() {
                    "/".to_owned()
                } else {
                    p
                }
            }),
            (
                "dashboards.dir",
                self.dashboards_dir
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            ),
            (
                "otlp.grpc.listen",
                self.otlp_grpc_listen
                    .clone()
                    .unwrap_or_else(|| crate::otlp::DEFAULT_GRPC_LISTEN.to_owned()),
            ),
        ];
        let mut map: std::collections::BTreeMap<String, String> =
            rows.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        self.web.add_flags(&mut map);
        map
    }
}

/// The path of a URL (`http://x/sl/` → `/sl/`): what follows the
/// authority, without query or fragment.
fn url_path(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or("").to_owned()
}

/// `sightline import ...`.
#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Import an OpenMetrics file, as `promtool tsdb create-blocks-from openmetrics`.
    Openmetrics(ImportArgs),
}

/// `sightline import openmetrics FILE [--data-dir DIR]`.
#[derive(Args, Debug, Clone)]
pub struct ImportArgs {
    /// The OpenMetrics text file (must end with `# EOF`).
    pub file: PathBuf,
    /// The data directory to write blocks into (the server's --data-dir).
    #[arg(long, alias = "storage.tsdb.path", default_value = "data")]
    pub data_dir: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(args: &[&str]) -> String {
        let mut all = vec!["sightline", "serve"];
        all.extend_from_slice(args);
        match Cli::parse_from(all).command {
            Command::Serve(a) => a.route_prefix(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn issue_15_agent_reads_promtail_one_dash_flags() {
        let args: Vec<std::ffi::OsString> = [
            "sightline",
            "agent",
            "-config.file=/p.yml",
            "-config.expand-env=true",
        ]
        .iter()
        .map(Into::into)
        .collect();
        match Cli::parse_from(promtail_flags(args)).command {
            Command::Agent(a) => {
                assert_eq!(a.config_file, PathBuf::from("/p.yml"));
                assert!(a.expand_env);
            }
            _ => unreachable!(),
        }
        match Cli::parse_from(["sightline", "agent", "--config.file", "/q.yml"]).command {
            Command::Agent(a) => {
                assert_eq!(a.config_file, PathBuf::from("/q.yml"));
                assert!(!a.expand_env);
            }
            _ => unreachable!(),
        }
    }

    #[test]
    fn issue_14_route_prefix_defaults_to_the_external_url_path() {
        assert_eq!(prefix(&[]), "");
        assert_eq!(prefix(&["--web.external-url", "http://x:9090"]), "");
        assert_eq!(prefix(&["--web.external-url", "http://x/sl/"]), "/sl");
        assert_eq!(prefix(&["--web.external-url", "https://x/a/b?q=1"]), "/a/b");
        assert_eq!(
            prefix(&[
                "--web.external-url",
                "http://x/sl/",
                "--web.route-prefix",
                "/"
            ]),
            ""
        );
        assert_eq!(prefix(&["--web.route-prefix", "sl/"]), "/sl");
    }
}
