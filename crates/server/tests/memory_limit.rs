//! Issue 18: `--memory.limit` makes ingestion back off before the kernel
//! would kill the process.
//!
//! A server gets a limit a little above what it uses idle; a client then
//! pushes remote_write requests of new series (a cardinality bomb) as fast
//! as they are taken. The pushes must start to be refused with a retryable
//! 503 that names the memory limit, the process must stay alive and near
//! its limit (measured from outside, in /proc), every acknowledged series
//! must be queryable, and the other intakes (a Loki push, an OTLP gRPC
//! export) must be refused too while queries go on.

mod common;

use common::{free_port, Server};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use sightline_proto::prometheus::{Label, Sample, TimeSeries, WriteRequest};
use std::time::{Duration, Instant};

const SERIES_PER_REQUEST: usize = 5_000;

/// Request `n`: `SERIES_PER_REQUEST` series never seen before, with long
/// label values (as a leaking request ID or URL label makes them).
fn bomb(n: usize, t: i64) -> Vec<u8> {
    let timeseries = (0..SERIES_PER_REQUEST)
        .map(|s| TimeSeries {
            labels: vec![
                Label {
                    name: "__name__".into(),
                    value: "bomb_total".into(),
                },
                Label {
                    name: "request_id".into(),
                    value: format!("{n:06}-{s:06}-{}", "x".repeat(120)),
                },
            ],
            samples: vec![Sample {
                timestamp: t,
                value: s as f64,
            }],
            ..Default::default()
        })
        .collect();
    let req = WriteRequest {
        timeseries,
        ..Default::default()
    };
    snap::raw::Encoder::new()
        .compress_vec(&req.encode_to_vec())
        .unwrap()
}

/// Anonymous resident bytes of process `pid` (what the limit counts).
/// An OTLP gRPC trace export (empty: the refusal comes before decoding)
/// to `port`, as its status code and message.
fn grpc_export(port: u16) -> (tonic::Code, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
            .unwrap()
            .connect()
            .await
            .expect("an HTTP/2 connection to the OTLP gRPC port");
        let mut grpc = tonic::client::Grpc::new(channel);
        grpc.ready().await.unwrap();
        let codec =
            tonic::codec::ProstCodec::<ExportTraceServiceRequest, ExportTraceServiceResponse>::default();
        let path = tonic::codegen::http::uri::PathAndQuery::from_static(
            "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        );
        match grpc
            .unary(tonic::Request::new(ExportTraceServiceRequest::default()), path, codec)
            .await
        {
            Ok(_) => (tonic::Code::Ok, String::new()),
            Err(s) => (s.code(), s.message().to_owned()),
        }
    })
}

fn anon_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb * 1024
}

#[test]
fn issue_18_pushes_are_refused_at_the_memory_limit_and_nothing_acknowledged_is_lost() {
    if !cfg!(target_os = "linux") {
        eprintln!("skipped: reads /proc");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Measure an idle server first, then give the real one 60 MiB more.
    let idle = Server::start(&dir.path().join("idle"), &["--otlp.grpc.listen", "0"]);
    std::thread::sleep(Duration::from_millis(500));
    let baseline = anon_rss(idle.child.id());
    idle.stop();
    let limit = baseline + (60 << 20);
    let limit_flag = limit.to_string() + "B";
    let grpc_port = free_port();
    let grpc_listen = format!("127.0.0.1:{grpc_port}");
    let server = Server::start(
        &dir.path().join("data"),
        &[
            "--otlp.grpc.listen",
            &grpc_listen,
            "--memory.limit",
            &limit_flag,
        ],
    );
    let (code, msg) = grpc_export(grpc_port);
    assert_eq!(code, tonic::Code::Ok, "an export below the limit: {msg}");
    let pid = server.child.id();
    let http = common::http();
    let write = format!("{}/api/v1/write", server.url());
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;

    let (mut acked, mut peak) = (0usize, 0u64);
    let mut refusal = None;
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let resp = http
            .post(&write)
            .header("Content-Type", "application/x-protobuf")
            .header("Content-Encoding", "snappy")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .body(bomb(acked, t))
            .send()
            .expect("the server must stay up");
        peak = peak.max(anon_rss(pid));
        match resp.status().as_u16() {
            200..=299 => acked += 1,
            503 => {
                let retry = resp.headers().get("Retry-After").cloned();
                refusal = Some((retry, resp.text().unwrap()));
                break;
            }
            s => panic!("remote write answered {s}: {}", resp.text().unwrap()),
        }
    }
    let (retry, body) = refusal.unwrap_or_else(|| {
        panic!(
            "no refusal after {acked} requests; peak {} MiB of a {} MiB limit",
            peak >> 20,
            limit >> 20
        )
    });
    eprintln!(
        "refused after {acked} requests of {SERIES_PER_REQUEST} series: peak {} MiB, limit {} MiB (idle {} MiB)",
        peak >> 20,
        limit >> 20,
        baseline >> 20
    );
    assert!(retry.is_some(), "a 503 without Retry-After");
    assert!(body.contains("memory limit reached"), "{body}");
    assert!(acked > 0, "refused before anything was taken");
    // The watcher samples every 200 ms: the overshoot is at most a few
    // requests of 5,000 series past the hard mark (95%).
    assert!(
        peak <= limit + limit / 10,
        "peak {} MiB passed the {} MiB limit by more than 10%",
        peak >> 20,
        limit >> 20
    );

    // While refusing: a Loki push is refused too, queries still answer and
    // every acknowledged series is there.
    let loki = http
        .post(format!("{}/loki/api/v1/push", server.url()))
        .header("Content-Type", "application/json")
        .body(r#"{"streams":[{"stream":{"job":"x"},"values":[["1","l"]]}]}"#)
        .send()
        .unwrap();
    let loki_status = loki.status().as_u16();
    let (grpc_code, grpc_msg) = grpc_export(grpc_port);
    let q: serde_json::Value = http
        .get(format!("{}/api/v1/query", server.url()))
        .query(&[
            ("query", "count(bomb_total)"),
            ("time", &(t / 1000 + 1).to_string()),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let counted: usize = q["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap_or_else(|| panic!("{q}"))
        .parse()
        .unwrap();
    assert!(
        counted >= acked * SERIES_PER_REQUEST,
        "{counted} series stored of {} acknowledged",
        acked * SERIES_PER_REQUEST
    );
    let metrics = http
        .get(format!("{}/metrics", server.url()))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains(&format!("sightline_memory_limit_bytes {limit}")),
        "limit not reported"
    );
    assert!(
        metrics.contains("sightline_memory_pressure 2"),
        "pressure not reported"
    );
    assert_eq!(loki_status, 503, "a Loki push taken at the limit");
    // UNAVAILABLE is the code OTLP exporters retry.
    assert_eq!(grpc_code, tonic::Code::Unavailable, "{grpc_msg}");
    assert!(grpc_msg.contains("memory limit reached"), "{grpc_msg}");
    assert!(server_alive(pid));
    server.stop();
}

fn server_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}
