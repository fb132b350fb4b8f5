//! `/loki/api/v1/tail`: a websocket that sends the query's new lines as
//! they arrive, in Loki's message shape
//! (`{"streams":[{"stream":{...},"values":[["<ns>","line"]]}],"dropped_entries":null}`).
//! Lines are read from the store every second, from where the last read
//! ended (`delay_for` seconds behind now, to let late lines land).

use super::{bad, now_ns, parse_time, tenant, LokiState, Params};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;
use sightline_logql::ast::Expr;
use sightline_logql::eval::{self, QueryResult};
use std::time::Duration;

pub(super) async fn tail(
    State(s): State<LokiState>,
    RawQuery(raw): RawQuery,
    h: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let p = Params::new(raw.as_deref(), b"");
    let Some(q) = p.get("query") else {
        return bad("query parameter is required");
    };
    let expr = match sightline_logql::parse(q) {
        Ok(e @ Expr::Log(_)) => e,
        Ok(_) => return bad("tail takes a log query, not a metric query"),
        Err(e) => return bad(e),
    };
    let delay: i64 = match p.get("delay_for").map(str::parse::<i64>).transpose() {
        Ok(d) if d.unwrap_or(0) <= 5 => d.unwrap_or(0) * 1_000_000_000,
        _ => return bad("delay_for can't be greater than 5"),
    };
    let limit: usize = p.get("limit").and_then(|v| v.parse().ok()).unwrap_or(100);
    let start = match p.get("start").map(parse_time).transpose() {
        Ok(t) => t.unwrap_or_else(|| now_ns() - 3_600_000_000_000),
        Err(e) => return bad(e),
    };
    let t = tenant(&h);
    ws.on_upgrade(move |socket| run(socket, s, t, expr, start, delay, limit))
}

async fn run(
    mut socket: WebSocket,
    s: LokiState,
    tenant: String,
    expr: Expr,
    mut from: i64,
    delay: i64,
    limit: usize,
) {
    let mut first = true;
    loop {
        let to = now_ns() - delay;
        if to > from {
            let (q, t, e) = (s.querier.clone(), tenant.clone(), expr.clone());
            // The first read sends the newest `limit` lines since `start`;
            // later ones everything new, oldest first.
            let params = eval::Params {
                start_ns: from,
                end_ns: to,
                step_ns: 1,
                backward: first,
                limit: if first { limit } else { 100_000 },
            };
            let got = tokio::task::spawn_blocking(move || {
                eval::evaluate(q.as_ref(), &t, &e, &params, false)
            })
            .await;
            let streams = match got {
                Ok(Ok((QueryResult::Streams(st), _))) => st,
                Ok(Err(e)) => {
                    let _ = socket
                        .send(Message::Close(Some(axum::extract::ws::CloseFrame {
                            code: 1011,
                            reason: e.to_string().into(),
                        })))
                        .await;
                    return;
                }
                _ => return,
            };
            first = false;
            from = to;
            if !streams.is_empty() {
                let msg = json!({
                    "streams": streams.iter().map(|st| {
                        let mut entries = st.entries.clone();
                        entries.sort_by_key(|e| e.0);
                        json!({"stream": st.labels, "values": entries.iter().map(|e| json!([e.0.to_string(), e.1])).collect::<Vec<_>>()})
                    }).collect::<Vec<_>>(),
                    "dropped_entries": null,
                });
                if socket
                    .send(Message::Text(msg.to_string().into()))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            m = socket.recv() => match m {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
