//! `sightline demo`: the shop, six hours of its past, and `serve` over the
//! provisioned files, in one process, until Ctrl-C.
//!
//! Order matters: the server's listener is bound first (its port goes into
//! the shop's OTLP endpoint and the files), then the shop starts (its
//! ports go into the files), then the history is written into the data
//! folder, and only then does `serve` open it.

use super::backfill;
use super::files::{self, Ports};
use crate::serve::{serve, Embedding};
use anyhow::Context;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// What `sightline demo` was asked for.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Keep the data here (and the files in `DIR/demo-config`); none: a
    /// temporary folder, removed at the end.
    pub data_dir: Option<PathBuf>,
    /// The server's address; port 0 puts every part of the demo on a free
    /// port.
    pub listen: SocketAddr,
    /// The shop's control server; default 127.0.0.1:9180 (a free port
    /// when `listen` has port 0).
    pub control: Option<SocketAddr>,
    pub no_backfill: bool,
    pub requests_per_second: f64,
}

/// Runs the demo until Ctrl-C (or SIGTERM).
pub fn run(opts: RunOptions) -> anyhow::Result<()> {
    let rt = crate::serve::runtime()?;
    rt.block_on(run_async(opts))
}

async fn run_async(opts: RunOptions) -> anyhow::Result<()> {
    let started = Instant::now();
    // reqwest is built without a crypto provider of its own (we pin
    // rustls to ring); the shop's clients and ours need one installed.
    sightline_config::tls::install_default_provider();
    let (root, temporary) = match &opts.data_dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            (d.clone(), false)
        }
        None => (temp_dir()?, true),
    };
    let cancel = CancellationToken::new();
    crate::serve::spawn_shutdown_on_signals(cancel.clone());
    let result = run_in(&opts, &root, started, cancel.clone()).await;
    cancel.cancel();
    if temporary {
        if let Err(e) = std::fs::remove_dir_all(&root) {
            tracing::warn!(dir = %root.display(), error = %e, "could not remove the demo's temporary folder");
        }
    }
    result
}

async fn run_in(
    opts: &RunOptions,
    root: &Path,
    started: Instant,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let config_dir = root.join("demo-config");
    let log_dir = root.join("demo-logs");
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .with_context(|| {
            format!(
                "listening on {} (is another Sightline running? pass --listen to use another address)",
                opts.listen
            )
        })?;
    let sightline = listener.local_addr().context("the listener's address")?;
    let ephemeral = opts.listen.port() == 0;
    let control = opts.control.unwrap_or_else(|| {
        let port = if ephemeral {
            0
        } else {
            super::DEFAULT_CONTROL.port()
        };
        SocketAddr::new(opts.listen.ip(), port)
    });
    let shop_cfg = sightline_demo::ShopConfig {
        listen_host: opts.listen.ip(),
        control_port: control.port(),
        service_ports: if ephemeral {
            [0; 4]
        } else {
            sightline_demo::DEFAULT_SERVICE_PORTS
        },
        otlp_endpoint: format!("http://{sightline}"),
        log_dir: log_dir.clone(),
        requests_per_second: opts.requests_per_second,
        ..sightline_demo::ShopConfig::default()
    };
    let seed = shop_cfg.seed;
    let shop = sightline_demo::start(shop_cfg, cancel.clone())
        .await
        .map_err(|e| anyhow::anyhow!("starting the demo shop: {e}"))?;
    let services = shop.services();
    let ports = Ports {
        sightline,
        control: shop.control_addr(),
        services: [
            services[0].addr,
            services[1].addr,
            services[2].addr,
            services[3].addr,
        ],
    };

    let result = async {
        files::write(&config_dir, &files::render(&ports, &log_dir), true)?;
        let backfilled = if opts.no_backfill {
            None
        } else if root.join(backfill::MARKER).exists() {
            tracing::info!(
                "the data folder holds the demo's history already; not backfilling again"
            );
            None
        } else {
            let (data, logs) = (root.to_owned(), log_dir.clone());
            let now = sightline_core::time::now_ms();
            let t = Instant::now();
            let done =
                tokio::task::spawn_blocking(move || backfill::run(&data, &logs, &ports, now, seed))
                    .await
                    .context("backfill task")??;
            tracing::info!(
                samples = done.samples,
                log_lines = done.log_lines,
                spans = done.spans,
                took_ms = t.elapsed().as_millis() as u64,
                "backfilled 6h of history"
            );
            Some(done)
        };
        if cancel.is_cancelled() {
            return Ok(());
        }
        let args = serve_args(&config_dir, root, sightline)?;
        tokio::spawn(announce_when_ready(
            ports,
            config_dir.clone(),
            backfilled,
            started,
            opts.data_dir.is_none(),
            cancel.clone(),
        ));
        serve(
            args,
            Embedding {
                listener: Some(listener),
                cancel: Some(cancel.clone()),
            },
        )
        .await
    }
    .await;
    cancel.cancel();
    // The shop flushes its exporters; a server already gone is no reason
    // to wait long.
    let _ = tokio::time::timeout(Duration::from_secs(10), shop.stopped()).await;
    result
}

/// `serve`'s flags for the demo, through the same parser as the command
/// line so every default is the one users get.
fn serve_args(
    config_dir: &Path,
    data_dir: &Path,
    listen: SocketAddr,
) -> anyhow::Result<crate::cli::ServeArgs> {
    use clap::Parser;
    let path = |p: PathBuf| p.display().to_string();
    let argv = [
        "sightline".to_owned(),
        "serve".to_owned(),
        "--config".to_owned(),
        path(config_dir.join("sightline.yml")),
        "--alertmanager.config.file".to_owned(),
        path(config_dir.join("alertmanager.yml")),
        "--data-dir".to_owned(),
        path(data_dir.to_owned()),
        "--listen".to_owned(),
        listen.to_string(),
        // The shop sends OTLP over HTTP; a second demo (or a collector)
        // may hold 4317.
        "--otlp.grpc.listen".to_owned(),
        "0".to_owned(),
    ];
    match crate::cli::Cli::try_parse_from(argv)?.command {
        crate::cli::Command::Serve(a) => Ok(*a),
        _ => anyhow::bail!("internal: the demo's serve flags did not parse as serve"),
    }
}

/// Prints what to open once the server answers `/-/ready`.
async fn announce_when_ready(
    ports: Ports,
    config_dir: PathBuf,
    backfilled: Option<backfill::Backfilled>,
    started: Instant,
    temporary: bool,
    cancel: CancellationToken,
) {
    let Ok(client) = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
    else {
        return;
    };
    let ready = format!("http://{}/-/ready", ports.sightline);
    loop {
        if cancel.is_cancelled() {
            return;
        }
        if let Ok(r) = client.get(&ready).send().await {
            if r.status().is_success() {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "{}",
        banner(
            &ports,
            &config_dir,
            backfilled,
            started.elapsed(),
            temporary
        )
    );
}

fn banner(
    ports: &Ports,
    config_dir: &Path,
    backfilled: Option<backfill::Backfilled>,
    took: Duration,
    temporary: bool,
) -> String {
    let ui = format!("http://{}", ports.sightline);
    let history = match backfilled {
        Some(b) => format!(
            "6 h of history backfilled: {} samples, {} log lines, {} spans",
            b.samples, b.log_lines, b.spans
        ),
        None => "no history backfilled".to_owned(),
    };
    let control_flag = if ports.control == Ports::default().control {
        String::new()
    } else {
        format!(" --control {}", ports.control)
    };
    let services: Vec<String> = sightline_demo::SERVICES
        .iter()
        .zip(&ports.services)
        .map(|(n, a)| format!("{n} http://{a}"))
        .collect();
    format!(
        "\nSightline demo running (ready in {:.1} s; {history})\n\n\
         \x20 UI              {ui}/\n\
         \x20 Shop dashboard  {ui}/#/dashboards/sightline-demo-shop\n\
         \x20 Logs            {ui}/#/logs\n\
         \x20 Traces          {ui}/#/traces\n\
         \x20 Alerts          {ui}/#/alerts\n\
         \x20 SLOs            {ui}/#/slos\n\
         \x20 Uptime          {ui}/#/uptime\n\
         \x20 Shop control    http://{}/  (faults in force, the alerts Alertmanager sent)\n\
         \x20 Services        {}\n\
         \x20 Config files    {}  (write your own copy: sightline demo --print-config DIR)\n\n\
         Inject a fault:  sightline demo fault{control_flag} checkout errors 30%\n\
         \x20                (or: payments slow 800ms, db down, checkout none)\n\
         Stop:            Ctrl-C{}\n",
        took.as_secs_f64(),
        ports.control,
        services.join(", "),
        config_dir.display(),
        if temporary {
            " (the temporary data folder is removed)"
        } else {
            ""
        },
    )
}

/// A new folder under the system's temporary folder.
fn temp_dir() -> anyhow::Result<PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir =
        std::env::temp_dir().join(format!("sightline-demo-{}-{nanos:08x}", std::process::id()));
    std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
