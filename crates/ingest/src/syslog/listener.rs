//! The listener: framing, labels, and batched appends.
//!
//! Connections and datagrams feed one writer task through a channel; it
//! appends up to [`BATCH_LINES`] lines at a time (or what arrived within
//! [`BATCH_WAIT`]), off the async workers since appending writes the WAL.
//! Syslog has no answer to give, so refusals and store errors are logged.

use super::parse::{self, Message, FACILITIES, SEVERITIES};
use super::{Protocol, SyslogConfig};
use crate::loki::decode::{RawStream, StreamLabels};
use crate::loki::{push_streams, LogIngestCounters, Protocol as Counted, PushLimits};
use crate::relabel::process;
use crate::{Error, Result};
use sightline_core::logs::{LogAppender, LogEntry, DEFAULT_TENANT};
use sightline_core::LabelsBuilder;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Most lines per append.
pub const BATCH_LINES: usize = 1000;
/// Longest wait for a batch to fill.
pub const BATCH_WAIT: Duration = Duration::from_millis(50);

enum Socket {
    Tcp(TcpListener),
    Udp(UdpSocket),
}

/// A bound syslog listener, not yet reading.
pub struct SyslogListener {
    cfg: Arc<SyslogConfig>,
    socket: Socket,
}

/// Binds per `cfg` and serves until `cancel`, counting in `counters`.
pub async fn run_syslog(
    cfg: SyslogConfig,
    appender: Arc<dyn LogAppender>,
    counters: Arc<LogIngestCounters>,
    cancel: CancellationToken,
) -> Result<()> {
    SyslogListener::bind(cfg)
        .await?
        .run(appender, counters, cancel)
        .await;
    Ok(())
}

impl SyslogListener {
    /// Binds `cfg.listen_address`.
    pub async fn bind(cfg: SyslogConfig) -> Result<Self> {
        let addr = cfg.listen_address.clone();
        let bind_err =
            |e: std::io::Error| Error::Syslog(format!("syslog: listening on {addr:?}: {e}"));
        let socket = match cfg.listen_protocol {
            Protocol::Tcp => Socket::Tcp(TcpListener::bind(&addr).await.map_err(bind_err)?),
            Protocol::Udp => Socket::Udp(UdpSocket::bind(&addr).await.map_err(bind_err)?),
        };
        Ok(SyslogListener {
            cfg: Arc::new(cfg),
            socket,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(match &self.socket {
            Socket::Tcp(l) => l.local_addr()?,
            Socket::Udp(u) => u.local_addr()?,
        })
    }

    /// Reads messages until `cancel`, then writes what is pending.
    pub async fn run(
        self,
        appender: Arc<dyn LogAppender>,
        counters: Arc<LogIngestCounters>,
        cancel: CancellationToken,
    ) {
        let (tx, rx) = mpsc::channel::<RawStream>(4 * BATCH_LINES);
        let writer = tokio::spawn(write_loop(rx, appender, counters));
        match self.socket {
            Socket::Tcp(l) => loop {
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    acc = l.accept() => match acc {
                        Ok((conn, peer)) => {
                            let (cfg, tx, cancel) = (self.cfg.clone(), tx.clone(), cancel.clone());
                            tokio::spawn(async move {
                                if let Err(e) = read_tcp(conn, peer, &cfg, &tx, cancel).await {
                                    tracing::warn!(%peer, "syslog connection: {e}");
                                }
                            });
                        }
                        Err(e) => tracing::warn!("syslog accept: {e}"),
                    },
                }
            },
            Socket::Udp(u) => {
                let mut buf = vec![0u8; 65536];
                loop {
                    tokio::select! {
                        _ = cancel.cancelled() => break,
                        r = u.recv_from(&mut buf) => match r {
                            Ok((n, peer)) => {
                                let n = n.min(self.cfg.max_message_length);
                                let text = String::from_utf8_lossy(&buf[..n]);
                                handle(&text, peer, &self.cfg, &tx).await;
                            }
                            Err(e) => tracing::warn!("syslog UDP receive: {e}"),
                        },
                    }
                }
            }
        }
        drop(tx);
        let _ = writer.await;
    }
}

/// Reads one TCP connection: each message is octet-counted (`LEN SP MSG`)
/// when it starts with a digit, else ends at a newline.
async fn read_tcp(
    conn: TcpStream,
    peer: SocketAddr,
    cfg: &SyslogConfig,
    tx: &mpsc::Sender<RawStream>,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    let mut r = BufReader::new(conn);
    let idle = cfg.idle_timeout.std();
    loop {
        let first = tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            b = tokio::time::timeout(idle, r.fill_buf()) => match b {
                Err(_) => return Ok(()), // idle: close
                Ok(b) => match b?.first() {
                    None => return Ok(()), // closed
                    Some(c) => *c,
                },
            },
        };
        let mut msg = Vec::new();
        if first.is_ascii_digit() {
            let mut len = Vec::new();
            r.read_until(b' ', &mut len).await?;
            let n: usize = std::str::from_utf8(&len)
                .ok()
                .and_then(|s| s.trim_end().parse().ok())
                .ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "bad octet count {:?}",
                            String::from_utf8_lossy(&len).trim_end()
                        ),
                    )
                })?;
            msg.resize(n, 0);
            r.read_exact(&mut msg).await?;
        } else {
            r.read_until(b'\n', &mut msg).await?;
        }
        msg.truncate(cfg.max_message_length);
        let text = String::from_utf8_lossy(&msg);
        if text.trim().is_empty() {
            continue;
        }
        handle(&text, peer, cfg, tx).await;
    }
}

/// Parses, labels and queues one message; a malformed one is logged.
async fn handle(text: &str, peer: SocketAddr, cfg: &SyslogConfig, tx: &mpsc::Sender<RawStream>) {
    match parse::parse(text) {
        Ok(m) => {
            if let Some(s) = to_stream(&m, text, peer, cfg, now_ns()) {
                let _ = tx.send(s).await;
            }
        }
        Err(e) => tracing::warn!(%peer, "{e}"),
    }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// The line of one message with its labels (relabeled, `__` labels
/// dropped); `None` when a relabel rule drops it.
pub fn to_stream(
    m: &Message,
    raw: &str,
    peer: SocketAddr,
    cfg: &SyslogConfig,
    now_ns: i64,
) -> Option<RawStream> {
    let mut lb = LabelsBuilder::new();
    for (k, v) in &cfg.labels {
        lb.set(k.as_str(), v.as_str());
    }
    lb.set("__syslog_connection_ip_address", peer.ip().to_string());
    lb.set(
        "__syslog_message_severity",
        SEVERITIES[usize::from(m.severity)],
    );
    if let Some(f) = FACILITIES.get(usize::from(m.facility)) {
        lb.set("__syslog_message_facility", *f);
    }
    let opt = [
        ("__syslog_message_hostname", &m.hostname),
        ("__syslog_message_app_name", &m.app_name),
        ("__syslog_message_proc_id", &m.proc_id),
        ("__syslog_message_msg_id", &m.msg_id),
    ];
    for (k, v) in opt {
        if let Some(v) = v {
            lb.set(k, v.as_str());
        }
    }
    if cfg.label_structured_data {
        for (id, params) in &m.structured_data {
            for (n, v) in params {
                let name: String = format!("__syslog_message_sd_{id}_{n}")
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                lb.set(name, v.as_str());
            }
        }
    }
    if !process(&cfg.relabel_configs, &mut lb) {
        return None;
    }
    lb.retain(|l| !l.name.starts_with("__"));
    let labels = lb
        .iter()
        .map(|l| (l.name.clone(), l.value.clone()))
        .collect();
    let ts_ns = match (cfg.use_incoming_timestamp, m.timestamp_ns) {
        (true, Some(t)) => t,
        _ => now_ns,
    };
    let line = if cfg.use_rfc5424_message {
        raw.trim_end_matches(['\n', '\r', '\0']).to_owned()
    } else {
        m.message.clone()
    };
    Some(RawStream {
        labels: StreamLabels::Pairs(labels),
        entries: vec![LogEntry {
            ts_ns,
            line,
            metadata: Vec::new(),
        }],
    })
}

async fn write_loop(
    mut rx: mpsc::Receiver<RawStream>,
    appender: Arc<dyn LogAppender>,
    counters: Arc<LogIngestCounters>,
) {
    let limits = Arc::new(PushLimits::default());
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + BATCH_WAIT;
        while batch.len() < BATCH_LINES {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(s)) => batch.push(s),
                _ => break,
            }
        }
        let (appender, limits) = (appender.clone(), limits.clone());
        let out = tokio::task::spawn_blocking(move || {
            push_streams(batch, DEFAULT_TENANT, &limits, now_ns(), appender.as_ref())
        })
        .await;
        if let Ok(o) = &out {
            counters.record(Counted::Syslog, o);
        }
        match out {
            Ok(o) if o.status == 204 => {}
            Ok(o) => tracing::warn!(status = o.status, "syslog lines refused: {}", o.message),
            Err(e) => tracing::error!("syslog write task failed: {e}"),
        }
    }
}
