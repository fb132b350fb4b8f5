//! The grpc prober: `grpc.health.v1.Health/Check` over HTTP/2 (h2), the
//! gauges of blackbox's `grpc.go`. The two messages involved each have one
//! field, so they are encoded by hand rather than through generated code.

use crate::config::GrpcProbe;
use crate::net;
use crate::result::Recorder;
use crate::tls;
use bytes::{Buf, Bytes};
use std::net::SocketAddr;
use std::time::Instant;

const HELP_PHASE: &str = "Duration of gRPC request by phase";
const HELP_SSL: &str = "Indicates if SSL was used for the connection";
const HELP_STATUS: &str = "Response gRPC status code";
const HELP_HEALTH: &str = "Response HealthCheck response";
const SERVING_STATUS: [&str; 4] = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"];

/// Runs the grpc prober against `target` (`host:port`, optionally with a
/// `grpc://` or `http(s)://` prefix).
pub(crate) async fn probe(
    rec: &mut Recorder,
    target: &str,
    cfg: &GrpcProbe,
) -> (bool, Option<f64>) {
    for phase in ["check", "resolve"] {
        rec.set_with(
            "probe_grpc_duration_seconds",
            HELP_PHASE,
            &[("phase", phase)],
            0.0,
        );
    }
    rec.set("probe_grpc_ssl", HELP_SSL, 0.0);
    rec.set("probe_grpc_status_code", HELP_STATUS, 0.0);
    for s in SERVING_STATUS {
        rec.set_with(
            "probe_grpc_healthcheck_response",
            HELP_HEALTH,
            &[("serving_status", s)],
            0.0,
        );
    }
    let bare = target
        .split_once("://")
        .map_or(target, |(_, rest)| rest)
        .trim_end_matches('/');
    let (host, port) = match net::split_host_port(bare, None) {
        Ok(hp) => hp,
        Err(e) => {
            rec.fail("Could not parse target URL", &e);
            return (false, None);
        }
    };
    let (ip, took) = match net::resolve(
        rec,
        &host,
        cfg.preferred_ip_protocol,
        cfg.ip_protocol_fallback,
    )
    .await
    {
        Ok(r) => r,
        Err(_) => return (false, None),
    };
    rec.set_with(
        "probe_grpc_duration_seconds",
        HELP_PHASE,
        &[("phase", "resolve")],
        took,
    );
    let t0 = Instant::now();
    let outcome = check(rec, SocketAddr::new(ip, port), &host, cfg).await;
    rec.set_with(
        "probe_grpc_duration_seconds",
        HELP_PHASE,
        &[("phase", "check")],
        t0.elapsed().as_secs_f64(),
    );
    match outcome {
        Ok((grpc_status, serving, expiry)) => {
            rec.set(
                "probe_grpc_status_code",
                HELP_STATUS,
                f64::from(grpc_status),
            );
            if let Some(s) = serving {
                let name = SERVING_STATUS.get(s as usize).copied().unwrap_or("UNKNOWN");
                rec.set_with(
                    "probe_grpc_healthcheck_response",
                    HELP_HEALTH,
                    &[("serving_status", name)],
                    1.0,
                );
                if name != "SERVING" {
                    rec.fail("Service is not serving", &format!("serving_status={name}"));
                    return (false, expiry);
                }
                (true, expiry)
            } else {
                rec.fail(
                    "Can't connect grpc server",
                    &format!("rpc error: code = {grpc_status}"),
                );
                (false, expiry)
            }
        }
        Err(e) => {
            rec.fail("Can't connect grpc server", &e);
            (false, None)
        }
    }
}

type Outcome = (u32, Option<u64>, Option<f64>);

async fn check(
    rec: &mut Recorder,
    addr: SocketAddr,
    host: &str,
    cfg: &GrpcProbe,
) -> Result<Outcome, String> {
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("dial tcp {addr}: connect: {}", net::io_text(&e)))?;
    let _ = tcp.set_nodelay(true);
    if cfg.tls {
        let setup = tls::setup(&cfg.tls_config, host, &[b"h2"])?;
        let stream = setup.connect(tcp).await?;
        rec.set("probe_grpc_ssl", HELP_SSL, 1.0);
        let expiry = setup.record(rec, stream.get_ref().1);
        let (status, serving) = call(stream, host, "https", &cfg.service).await?;
        Ok((status, serving, expiry))
    } else {
        let (status, serving) = call(tcp, host, "http", &cfg.service).await?;
        Ok((status, serving, None))
    }
}

async fn call<S>(
    io: S,
    host: &str,
    scheme: &str,
    service: &str,
) -> Result<(u32, Option<u64>), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (client, conn) = h2::client::handshake(io)
        .await
        .map_err(|e| format!("http2 handshake: {e}"))?;
    // The connection task ends when the request and its stream are dropped.
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut client = client.ready().await.map_err(|e| e.to_string())?;
    let req = http::Request::builder()
        .method("POST")
        .uri(format!("{scheme}://{host}/grpc.health.v1.Health/Check"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .map_err(|e| e.to_string())?;
    let (resp, mut send) = client.send_request(req, false).map_err(|e| e.to_string())?;
    send.send_data(Bytes::from(frame(&encode_request(service))), true)
        .map_err(|e| e.to_string())?;
    let resp = resp.await.map_err(|e| e.to_string())?;
    let (parts, mut body) = resp.into_parts();
    if parts.status != http::StatusCode::OK {
        return Err(format!("unexpected HTTP status {}", parts.status.as_u16()));
    }
    let mut data = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(|e| e.to_string())?;
        let _ = body.flow_control().release_capacity(chunk.len());
        data.extend_from_slice(chunk.chunk());
    }
    let trailers = body.trailers().await.map_err(|e| e.to_string())?;
    // A trailers-only response carries grpc-status in the headers.
    let status_header = trailers
        .as_ref()
        .and_then(|t| t.get("grpc-status"))
        .or_else(|| parts.headers.get("grpc-status"))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(2);
    if status_header != 0 {
        return Ok((status_header, None));
    }
    if data.len() < 5 {
        return Err("grpc: response without a message".into());
    }
    let len = u32::from_be_bytes([data[1], data[2], data[3], data[4]]) as usize;
    let msg = data.get(5..5 + len).ok_or("grpc: truncated message")?;
    Ok((0, Some(decode_status(msg)?)))
}

/// Length-prefixed message framing (uncompressed).
fn frame(msg: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8];
    out.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    out.extend_from_slice(msg);
    out
}

/// `HealthCheckRequest { string service = 1; }`.
fn encode_request(service: &str) -> Vec<u8> {
    if service.is_empty() {
        return Vec::new();
    }
    let mut out = vec![0x0a];
    let mut n = service.len();
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out.extend_from_slice(service.as_bytes());
    out
}

fn varint(buf: &mut &[u8]) -> Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.first().ok_or("grpc: truncated varint")?;
        *buf = &buf[1..];
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Ok(v);
        }
    }
    Err("grpc: varint too long".into())
}

/// `HealthCheckResponse { ServingStatus status = 1; }`; other fields skipped.
fn decode_status(mut msg: &[u8]) -> Result<u64, String> {
    let mut status = 0;
    while !msg.is_empty() {
        let key = varint(&mut msg)?;
        match (key >> 3, key & 7) {
            (1, 0) => status = varint(&mut msg)?,
            (_, 0) => {
                varint(&mut msg)?;
            }
            (_, 2) => {
                let n = varint(&mut msg)? as usize;
                msg = msg.get(n..).ok_or("grpc: truncated field")?;
            }
            (_, 1) => msg = msg.get(8..).ok_or("grpc: truncated field")?,
            (_, 5) => msg = msg.get(4..).ok_or("grpc: truncated field")?,
            (_, w) => return Err(format!("grpc: unsupported wire type {w}")),
        }
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_response_bytes() {
        // Hand-encoded protobuf: field 1, wire type 2, length 3, "foo".
        assert_eq!(encode_request("foo"), b"\x0a\x03foo");
        assert_eq!(encode_request(""), b"");
        // field 1 varint 1 = SERVING.
        assert_eq!(decode_status(b"\x08\x01").unwrap(), 1);
        assert_eq!(decode_status(b"").unwrap(), 0);
        assert_eq!(frame(b"\x08\x01"), b"\x00\x00\x00\x00\x02\x08\x01");
    }

    /// A health server over h2: "down" is NOT_SERVING (2), "missing" gets
    /// grpc-status 5 (NOT_FOUND) trailers-only, anything else SERVING (1).
    async fn health_server() -> u16 {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move {
            loop {
                let (s, _) = l.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut conn = h2::server::handshake(s).await.unwrap();
                    while let Some(Ok((req, mut respond))) = conn.accept().await {
                        assert_eq!(req.uri().path(), "/grpc.health.v1.Health/Check");
                        let mut body = req.into_body();
                        let mut data = Vec::new();
                        while let Some(Ok(c)) = body.data().await {
                            data.extend_from_slice(&c);
                        }
                        let service =
                            String::from_utf8_lossy(data.get(7..).unwrap_or_default()).into_owned();
                        if service == "missing" {
                            let resp = http::Response::builder()
                                .header("content-type", "application/grpc")
                                .header("grpc-status", "5")
                                .body(())
                                .unwrap();
                            respond.send_response(resp, true).unwrap();
                            continue;
                        }
                        let status = if service == "down" { 2 } else { 1 };
                        let resp = http::Response::builder()
                            .header("content-type", "application/grpc")
                            .body(())
                            .unwrap();
                        let mut send = respond.send_response(resp, false).unwrap();
                        send.send_data(Bytes::from(frame(&[0x08, status])), false)
                            .unwrap();
                        let mut trailers = http::HeaderMap::new();
                        trailers.insert("grpc-status", "0".parse().unwrap());
                        send.send_trailers(trailers).unwrap();
                    }
                });
            }
        });
        port
    }

    #[tokio::test]
    async fn health_checks() {
        let port = health_server().await;
        let target = format!("127.0.0.1:{port}");
        let t = std::time::Duration::from_secs(5);
        let mut m = crate::Module {
            prober: "grpc".into(),
            ..Default::default()
        };
        m.grpc.service = "web".into();
        let r = crate::run_probe(&m, &target, t).await;
        assert!(r.success, "{:?}", r.failure);
        assert_eq!(
            r.labelled_value(
                "probe_grpc_healthcheck_response",
                "serving_status",
                "SERVING"
            ),
            Some(1.0)
        );
        assert_eq!(r.value("probe_grpc_status_code"), Some(0.0));
        assert_eq!(r.value("probe_grpc_ssl"), Some(0.0));
        m.grpc.service = "down".into();
        let r = crate::run_probe(&m, &target, t).await;
        assert!(!r.success);
        assert_eq!(
            r.labelled_value(
                "probe_grpc_healthcheck_response",
                "serving_status",
                "NOT_SERVING"
            ),
            Some(1.0)
        );
        m.grpc.service = "missing".into();
        let r = crate::run_probe(&m, &target, t).await;
        assert!(!r.success);
        assert_eq!(r.value("probe_grpc_status_code"), Some(5.0));
    }
}
