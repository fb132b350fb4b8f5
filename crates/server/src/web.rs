//! Wiring of `sightline_auth`: the `--web.*` flags, the gate in front of the
//! router, the listener (TLS or not), `/-/quit`, and `sightline check
//! web-config`.

use sightline_auth::{Flags, Gate, WebAuth};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The `--web.*` flags of `sightline serve` that Prometheus has too.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct WebArgs {
    /// Prometheus's web configuration file: TLS, client certificates,
    /// basic auth users (bcrypt), response headers. Re-read when it or its
    /// certificates change.
    #[arg(long = "web.config.file")]
    pub config_file: Option<PathBuf>,
    /// Serve `POST /-/reload` and `/-/quit` (403 otherwise, as Prometheus).
    #[arg(long = "web.enable-lifecycle")]
    pub enable_lifecycle: bool,
    /// Serve the TSDB admin API under `/api/v1/admin` (500 `admin APIs disabled` otherwise, as Prometheus 2.42).
    #[arg(long = "web.enable-admin-api")]
    pub enable_admin_api: bool,
}

impl WebArgs {
    /// Adds these flags to `/api/v1/status/flags`.
    pub fn add_flags(&self, map: &mut std::collections::BTreeMap<String, String>) {
        map.insert(
            "web.config.file".into(),
            self.config_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        );
        map.insert(
            "web.enable-lifecycle".into(),
            self.enable_lifecycle.to_string(),
        );
        map.insert(
            "web.enable-admin-api".into(),
            self.enable_admin_api.to_string(),
        );
    }

    /// Reads the web config file (a bad one refuses the start) and builds
    /// the gate over it and `tokens`.
    pub fn gate(
        &self,
        tokens: sightline_auth::tokens::Tokens,
        prefix: &str,
    ) -> anyhow::Result<Arc<Gate>> {
        let web = WebAuth::load(self.config_file.as_deref())
            .map_err(|e| anyhow::anyhow!("--web.config.file: {e}"))?;
        let flags = Flags {
            lifecycle: self.enable_lifecycle,
            admin_api: self.enable_admin_api,
        };
        Ok(Arc::new(Gate::new(Arc::new(web), tokens, flags, prefix)))
    }
}

/// `/-/quit`, as Prometheus: stops the server gracefully (reached only with
/// `--web.enable-lifecycle`; the gate refuses it otherwise).
pub fn quit_route(cancel: CancellationToken) -> axum::Router {
    let quit = move || {
        let cancel = cancel.clone();
        async move {
            tracing::info!("termination requested through /-/quit");
            cancel.cancel();
            "Requesting termination... Goodbye!"
        }
    };
    axum::Router::new().route("/-/quit", axum::routing::post(quit.clone()).put(quit))
}

/// `sightline check web-config FILE...`: as promtool, `FILE SUCCESS` or
/// `FILE FAILED: reason` on stderr, exit code 1 when any failed.
pub fn check(files: &[PathBuf]) -> ExitCode {
    let mut code = 0u8;
    for f in files {
        match check_one(f) {
            Ok(()) => eprintln!("{} SUCCESS", f.display()),
            Err(e) => {
                eprintln!("{} FAILED: {e}", f.display());
                code = 1;
            }
        }
    }
    ExitCode::from(code)
}

fn check_one(f: &Path) -> anyhow::Result<()> {
    // Reading certificates and keys too, as promtool does.
    WebAuth::load(Some(f)).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}
