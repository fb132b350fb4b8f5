//! The tcp prober: connect (optionally with TLS), then the module's
//! `query_response` conversation, as blackbox's `tcp.go` runs it.

use crate::config::TcpProbe;
use crate::http::HELP_REGEX;
use crate::net;
use crate::result::Recorder;
use crate::tls;
use std::net::SocketAddr;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Either side of a STARTTLS upgrade.
enum Stream {
    Plain(BufReader<TcpStream>),
    Tls(Box<BufReader<tokio_rustls::client::TlsStream<TcpStream>>>),
}

async fn read_line(s: &mut Stream, line: &mut Vec<u8>) -> std::io::Result<usize> {
    match s {
        Stream::Plain(r) => r.read_until(b'\n', line).await,
        Stream::Tls(r) => r.read_until(b'\n', line).await,
    }
}

async fn write_all(s: &mut Stream, b: &[u8]) -> std::io::Result<()> {
    async fn w<S: AsyncRead + AsyncWrite + Unpin>(
        r: &mut BufReader<S>,
        b: &[u8],
    ) -> std::io::Result<()> {
        r.get_mut().write_all(b).await?;
        r.get_mut().flush().await
    }
    match s {
        Stream::Plain(r) => w(r, b).await,
        Stream::Tls(r) => w(r, b).await,
    }
}

/// Runs the tcp prober against `target` (`host:port`). Returns success and
/// the earliest certificate expiry when TLS was used.
pub(crate) async fn probe(rec: &mut Recorder, target: &str, cfg: &TcpProbe) -> (bool, Option<f64>) {
    rec.set("probe_failed_due_to_regex", HELP_REGEX, 0.0);
    let (host, port) = match net::split_host_port(target, None) {
        Ok(hp) => hp,
        Err(e) => {
            rec.fail("Error splitting target address and port", &e);
            return (false, None);
        }
    };
    let ip = match net::resolve(
        rec,
        &host,
        cfg.preferred_ip_protocol,
        cfg.ip_protocol_fallback,
    )
    .await
    {
        Ok((ip, _)) => ip,
        Err(_) => return (false, None),
    };
    let addr = SocketAddr::new(ip, port);
    rec.log("info", "Dialing TCP without TLS", &[]);
    let tcp = match connect(addr, &cfg.source_ip_address).await {
        Ok(s) => s,
        Err(e) => {
            rec.fail("Error dialing TCP", &e);
            return (false, None);
        }
    };
    rec.log("info", "Successfully dialed", &[]);
    let tls_cfg = &cfg.tls_config;
    let setup = if cfg.tls || cfg.query_response.iter().any(|q| q.starttls) {
        match tls::setup(tls_cfg, &host, &[]) {
            Ok(s) => Some(s),
            Err(e) => {
                rec.fail("Error creating TLS configuration", &e);
                return (false, None);
            }
        }
    } else {
        None
    };
    let mut expiry = None;
    let mut stream = if cfg.tls {
        let setup = setup.as_ref().expect("built above");
        match setup.connect(tcp).await {
            Ok(s) => {
                expiry = setup.record(rec, s.get_ref().1);
                Stream::Tls(Box::new(BufReader::new(s)))
            }
            Err(e) => {
                rec.fail("Error dialing TCP", &e);
                return (false, None);
            }
        }
    } else {
        Stream::Plain(BufReader::new(tcp))
    };
    for (i, qr) in cfg.query_response.iter().enumerate() {
        rec.log(
            "info",
            "Processing query response entry",
            &[("entry_number", &i.to_string())],
        );
        let mut send = qr.send.clone();
        if let Some(re) = &qr.expect {
            let mut matched = false;
            let mut line = Vec::new();
            loop {
                line.clear();
                match read_line(&mut stream, &mut line).await {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) => {
                        rec.fail("Error reading from connection", &e.to_string());
                        return (false, expiry);
                    }
                }
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches(['\n', '\r']);
                rec.log("debug", "Read line", &[("line", text)]);
                if let Some(caps) = re.re.captures(text) {
                    rec.log(
                        "info",
                        "Regexp matched",
                        &[("regexp", &re.source), ("line", text)],
                    );
                    let mut expanded = String::new();
                    caps.expand(&send, &mut expanded);
                    send = expanded;
                    matched = true;
                    break;
                }
            }
            if !matched {
                rec.fail("Regexp did not match", &format!("regexp={}", re.source));
                rec.set("probe_failed_due_to_regex", HELP_REGEX, 1.0);
                return (false, expiry);
            }
        }
        if !send.is_empty() {
            rec.log("debug", "Sending line", &[("line", &send)]);
            if let Err(e) = write_all(&mut stream, format!("{send}\n").as_bytes()).await {
                rec.fail("Failed to send", &e.to_string());
                return (false, expiry);
            }
        }
        if qr.starttls {
            let Stream::Plain(reader) = stream else {
                rec.fail("TLS already started", "");
                return (false, expiry);
            };
            // Bytes already buffered before the upgrade would belong to the
            // plaintext side; the protocol forbids them, so drop them.
            let tcp = reader.into_inner();
            let setup = setup.as_ref().expect("built above");
            match setup.connect(tcp).await {
                Ok(s) => {
                    expiry = setup.record(rec, s.get_ref().1);
                    stream = Stream::Tls(Box::new(BufReader::new(s)));
                }
                Err(e) => {
                    rec.fail("TLS Handshake (client) failed", &e);
                    return (false, expiry);
                }
            }
        }
    }
    (true, expiry)
}

async fn connect(addr: SocketAddr, source: &str) -> Result<TcpStream, String> {
    let sock = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    }
    .map_err(|e| e.to_string())?;
    if !source.is_empty() {
        let ip: std::net::IpAddr = source
            .parse()
            .map_err(|_| format!("invalid source_ip_address {source:?}"))?;
        sock.bind(SocketAddr::new(ip, 0))
            .map_err(|e| format!("bind {source}: {e}"))?;
    }
    sock.connect(addr)
        .await
        .map_err(|e| format!("dial tcp {addr}: connect: {}", net::io_text(&e)))
}

#[cfg(test)]
#[path = "tcp_tests.rs"]
mod tests;
