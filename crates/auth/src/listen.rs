//! Serving a router on a listener: plain TCP through `axum::serve` (HTTP/1.1
//! and h2c with prior knowledge, which Tempo's streaming gRPC uses), or TLS
//! through an accept loop that takes the web config's current TLS
//! configuration for each connection (so new certificates apply to new
//! connections with no restart) and speaks HTTP/1.1 or h2 as ALPN chose.

use crate::gate::WebAuth;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long a TLS handshake may take before the connection is dropped (a
/// client that opens sockets and sends nothing must not hold tasks).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` completes, then waits for
/// open connections to finish. TLS when the web config has
/// `tls_server_config` at this call.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    web: Arc<WebAuth>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if web.tls_config().is_none() {
        return axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await;
    }
    serve_tls(listener, app, web, shutdown).await;
    Ok(())
}

async fn serve_tls(
    listener: TcpListener,
    app: Router,
    web: Arc<WebAuth>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let builder = Builder::new(TokioExecutor::new());
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            acc = listener.accept() => match acc {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, most often: wait, not spin.
                    tracing::warn!(error = %e, "accepting a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(config) = web.tls_config() else {
            continue;
        };
        let app = app.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let acceptor = tokio_rustls::TlsAcceptor::from(config);
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let svc = TowerToHyperService::new(app);
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), svc);
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
