//! A fake Kubernetes API server: list responses, watch streams of
//! newline-delimited JSON events pushed by the test, 410 Gone, a bearer
//! token check, optionally TLS. Written on tokio directly rather than
//! axum so that the test controls each watch stream (ending it, breaking
//! it) and can put TLS in front with a generated certificate.

use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// What a watch stream is told to do next.
enum Push {
    Line(String),
    /// Bytes as they are, no newline added.
    Raw(String),
    /// End the response normally.
    Close,
    /// Drop the connection mid-stream (a broken stream: the chunked body
    /// never terminates).
    Break,
}

#[derive(Default)]
struct State {
    /// Objects by list path (`/api/v1/pods`), by `namespace/name`.
    objects: HashMap<String, BTreeMap<String, Value>>,
    version: u64,
    watchers: HashMap<String, Vec<mpsc::UnboundedSender<Push>>>,
    token: Option<String>,
    /// Paths whose next watch request gets 410 Gone.
    gone: Vec<String>,
    /// Every request's path and query, in order.
    requests: Vec<String>,
}

/// A running fake.
#[derive(Clone)]
pub struct FakeApi {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

/// PEM texts of a generated CA and a server certificate for 127.0.0.1.
pub struct TestCa {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

impl TestCa {
    pub fn new() -> TestCa {
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
        TestCa {
            ca_pem: ca.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

fn key_of(obj: &Value) -> String {
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if ns.is_empty() {
        name.to_owned()
    } else {
        format!("{ns}/{name}")
    }
}

impl FakeApi {
    /// Starts on 127.0.0.1; with `tls`, serves https with its certificate.
    pub async fn start(tls: Option<&TestCa>) -> FakeApi {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let acceptor = tls.map(|ca| {
            use tokio_rustls::rustls::pki_types::pem::PemObject;
            use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
            sightline_config::tls::install_default_provider();
            let certs = CertificateDer::pem_slice_iter(ca.cert_pem.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            let key = PrivateKeyDer::from_pem_slice(ca.key_pem.as_bytes()).unwrap();
            let config = tokio_rustls::rustls::ServerConfig::builder()
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .unwrap();
            tokio_rustls::TlsAcceptor::from(Arc::new(config))
        });
        let st = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let st = st.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match acceptor {
                        Some(a) => {
                            if let Ok(tls) = a.accept(sock).await {
                                serve(tls, st).await;
                            }
                        }
                        None => serve(sock, st).await,
                    }
                });
            }
        });
        FakeApi { addr, state }
    }

    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}", self.addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// Requires `Authorization: Bearer <token>` from now on.
    pub fn require_token(&self, token: &str) {
        self.lock().token = Some(token.to_owned());
    }

    /// Sets an object in the list at `path` without telling watchers
    /// (what happened while no watch was open).
    pub fn put(&self, path: &str, obj: Value) {
        let mut st = self.lock();
        st.version += 1;
        st.objects
            .entry(path.to_owned())
            .or_default()
            .insert(key_of(&obj), obj);
    }

    /// An event on `path`: applied to the list and sent to its watchers.
    pub fn event(&self, path: &str, kind: &str, obj: Value) {
        let mut st = self.lock();
        st.version += 1;
        let mut obj = obj;
        obj["metadata"]["resourceVersion"] = json!(st.version.to_string());
        let objects = st.objects.entry(path.to_owned()).or_default();
        match kind {
            "DELETED" => {
                objects.remove(&key_of(&obj));
            }
            "ADDED" | "MODIFIED" => {
                objects.insert(key_of(&obj), obj.clone());
            }
            _ => {}
        }
        let line = json!({"type": kind, "object": obj}).to_string();
        Self::push(&mut st, path, || Push::Line(line.clone()));
    }

    /// Sends raw bytes to the watchers of `path` as one chunk (events
    /// split across chunks, or several in one).
    pub fn raw(&self, path: &str, bytes: &str) {
        Self::push(&mut self.lock(), path, || Push::Raw(bytes.to_owned()));
    }

    /// Sends an `ERROR` event with code 410 to the watchers of `path`,
    /// then ends their streams (as the API server does).
    pub fn expire(&self, path: &str) {
        let line = json!({"type": "ERROR", "object": {"kind": "Status", "code": 410, "message": "too old resource version"}}).to_string();
        let mut st = self.lock();
        Self::push(&mut st, path, || Push::Line(line.clone()));
        st.watchers.remove(path);
    }

    /// Answers the next watch of `path` with HTTP 410.
    pub fn gone_next(&self, path: &str) {
        self.lock().gone.push(path.to_owned());
    }

    /// Ends the watch streams of `path` normally.
    pub fn close_watches(&self, path: &str) {
        let mut st = self.lock();
        Self::push(&mut st, path, || Push::Close);
        st.watchers.remove(path);
    }

    /// Breaks the watch streams of `path`.
    pub fn break_watches(&self, path: &str) {
        let mut st = self.lock();
        Self::push(&mut st, path, || Push::Break);
        st.watchers.remove(path);
    }

    fn push(st: &mut State, path: &str, make: impl Fn() -> Push) {
        if let Some(ws) = st.watchers.get_mut(path) {
            ws.retain(|w| w.send(make()).is_ok());
        }
    }

    /// How many open watches `path` has.
    pub fn watchers(&self, path: &str) -> usize {
        self.lock()
            .watchers
            .get(path)
            .map_or(0, |w| w.iter().filter(|w| !w.is_closed()).count())
    }

    /// The requests so far (`path?query`).
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    /// How many list (non-watch) requests `path` got.
    pub fn lists(&self, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.split('?').next() == Some(path) && !r.contains("watch=1"))
            .count()
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut sock: S, st: Arc<Mutex<State>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let auth = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("authorization")
                .then(|| v.trim().to_owned())
        })
        .unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let watch = query.split('&').any(|p| p == "watch=1");
    let reply = {
        let mut s = st.lock().unwrap();
        s.requests.push(target.clone());
        if let Some(t) = &s.token {
            if auth != format!("Bearer {t}") {
                Some((401, json!({"kind": "Status", "code": 401, "message": "Unauthorized"}).to_string()))
            } else {
                None
            }
        } else {
            None
        }
        .or_else(|| {
            if watch {
                let i = s.gone.iter().position(|g| g == path)?;
                s.gone.remove(i);
                Some((410, json!({"kind": "Status", "code": 410, "message": "Gone"}).to_string()))
            } else {
                let items: Vec<Value> = s
                    .objects
                    .get(path)
                    .map(|o| o.values().cloned().collect())
                    .unwrap_or_default();
                let body = json!({"kind": "List", "metadata": {"resourceVersion": s.version.to_string()}, "items": items});
                Some((200, body.to_string()))
            }
        })
    };
    if let Some((code, body)) = reply {
        let resp = format!(
            "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = sock.write_all(resp.as_bytes()).await;
        let _ = sock.shutdown().await;
        return;
    }
    // A watch: chunked, one chunk per event line.
    let (tx, mut rx) = mpsc::unbounded_channel();
    st.lock()
        .unwrap()
        .watchers
        .entry(path.to_owned())
        .or_default()
        .push(tx);
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    if sock.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let _ = sock.flush().await;
    while let Some(p) = rx.recv().await {
        match p {
            Push::Line(_) | Push::Raw(_) => {
                let data = match p {
                    Push::Line(l) => format!("{l}\n"),
                    Push::Raw(r) => r,
                    _ => unreachable!(),
                };
                let c = format!("{:x}\r\n{data}\r\n", data.len());
                if sock.write_all(c.as_bytes()).await.is_err() {
                    return;
                }
                let _ = sock.flush().await;
            }
            Push::Close => {
                let _ = sock.write_all(b"0\r\n\r\n").await;
                let _ = sock.shutdown().await;
                return;
            }
            Push::Break => return,
        }
    }
}
