//! What the Grafana data source tests share (grafana_datasource.rs for the
//! Prometheus data source, grafana_alertmanager.rs for the Alertmanager
//! one): Grafana's way of making a call, JSON shapes, and the pair of
//! servers a test compares.
#![allow(dead_code)]

use crate::common::{http, Proc, Server};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

/// Grafana's backend names itself so; the frontend's resource calls go
/// through the same backend, which forwards them.
pub const USER_AGENT: &str = "Grafana/12.0.0";

pub fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// One call as Grafana makes it: `query` on the URL, `form` (if any) as a
/// form-encoded POST body. Returns the status and the JSON body (`null`
/// when it is not JSON).
pub fn call(
    base: &str,
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    form: Option<&[(&str, &str)]>,
) -> (u16, Value) {
    let mut url = format!("{base}{path}");
    if !query.is_empty() {
        url.push('?');
        url.push_str(&encode(query));
    }
    let client = http();
    let mut req = match method {
        "GET" => client.get(&url),
        "POST" => client.post(&url),
        "DELETE" => client.delete(&url),
        m => panic!("method {m}"),
    }
    .header("User-Agent", USER_AGENT)
    .header("X-Grafana-Org-Id", "1")
    .header("Accept", "application/json, text/plain, */*");
    if let Some(f) = form {
        req = req
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(encode(f));
    }
    let r = req.send().unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = r.status().as_u16();
    let text = r.text().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub fn post_json(base: &str, path: &str, body: &Value) -> (u16, Value) {
    let r = http()
        .post(format!("{base}{path}"))
        .header("User-Agent", USER_AGENT)
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_str(&r.text().unwrap_or_default()).unwrap_or(Value::Null),
    )
}

pub fn encode(pairs: &[(&str, &str)]) -> String {
    let mut u = reqwest::Url::parse("http://x/").unwrap();
    u.query_pairs_mut().extend_pairs(pairs);
    u.query().unwrap_or("").to_owned()
}

/// The shape of a JSON value: every path with the type found there (array
/// elements share the path `[]`).
pub fn shape(v: &Value) -> BTreeSet<String> {
    fn walk(v: &Value, path: &str, out: &mut BTreeSet<String>) {
        let t = match v {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(a) => {
                for x in a {
                    walk(x, &format!("{path}[]"), out);
                }
                "array"
            }
            Value::Object(m) => {
                for (k, x) in m {
                    walk(x, &format!("{path}.{k}"), out);
                }
                "object"
            }
        };
        out.insert(format!("{path}: {t}"));
    }
    let mut out = BTreeSet::new();
    walk(v, "", &mut out);
    out
}

/// Sorts a list of JSON values by their text (Prometheus orders some lists
/// by Go map iteration, so at random).
pub fn sorted(v: &Value) -> Value {
    let mut list = v.as_array().cloned().unwrap_or_default();
    list.sort_by_key(|x| x.to_string());
    Value::Array(list)
}

/// The servers a test compares: ours always, the peer when it runs here.
pub struct Both {
    pub ours: Server,
    pub peer: Option<(Proc, String)>,
}

impl Both {
    pub fn ours(&self) -> String {
        self.ours.url()
    }
    /// The same call to both: ours, and the peer's answer when it runs.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        form: Option<&[(&str, &str)]>,
    ) -> ((u16, Value), Option<(u16, Value)>) {
        let ours = call(&self.ours(), method, path, query, form);
        let theirs = self
            .peer
            .as_ref()
            .map(|(_, base)| call(base, method, path, query, form));
        (ours, theirs)
    }
}

impl Both {
    pub fn bases(&self) -> Vec<String> {
        let mut v = vec![self.ours()];
        v.extend(self.peer.as_ref().map(|(_, b)| b.clone()));
        v
    }
}

/// Seconds since the epoch as Alertmanager writes times (UTC, millis).
pub fn time_rfc3339(s: f64) -> String {
    let ms = (s * 1000.0) as i64;
    let t = sightline_core::time::from_ms(ms).unwrap();
    sightline_core::time::rfc3339_millis(&t)
}
