//! The per-request check, and the web config kept current.
//!
//! [`WebAuth`] holds the web config file's last good reading. Before each
//! request and each TLS handshake it looks at the file's and the
//! certificates' modification times (at most every [`RECHECK`]); on a
//! change it reads them again, as Prometheus re-reads the file per
//! connection. A file that no longer loads leaves the last good one in
//! force and is logged once per change.
//!
//! [`Gate`] answers, in Prometheus's order: the web config's headers on
//! every response; 401 with `WWW-Authenticate` without good credentials
//! when users or tokens exist; 403 `Lifecycle API is not enabled.` (and the
//! admin API's 500) when a flag is off; 403 when a token lacks the route's
//! scope.

use crate::scope::{self, Need, Scope, Switch};
use crate::tokens::{sha256, Tokens};
use crate::web_config::WebConfig;
use crate::Result;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use rustls::ServerConfig;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant, SystemTime};

/// How often the files are looked at, at most.
pub const RECHECK: Duration = Duration::from_millis(200);

/// The admin flags of `sightline serve`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags {
    /// `--web.enable-lifecycle`.
    pub lifecycle: bool,
    /// `--web.enable-admin-api`.
    pub admin_api: bool,
}

type Stamp = Option<(SystemTime, u64)>;

fn stamp(p: &Path) -> Stamp {
    let m = std::fs::metadata(p).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// One good reading of the web config file.
#[derive(Debug)]
pub struct Snapshot {
    /// The file's content.
    pub config: WebConfig,
    /// Its TLS configuration, when it asks for TLS.
    pub tls: Option<Arc<ServerConfig>>,
    stamps: Vec<(PathBuf, Stamp)>,
}

/// The web config file, kept current.
#[derive(Debug)]
pub struct WebAuth {
    path: Option<PathBuf>,
    current: RwLock<Arc<Snapshot>>,
    /// The stamps of a reading that failed, so it is logged once.
    failed: Mutex<Option<Vec<(PathBuf, Stamp)>>>,
    started: Instant,
    last_check_ms: AtomicU64,
}

fn read_snapshot(path: &Path) -> Result<Snapshot> {
    // Stamps first: a change while reading is then seen next time.
    let before = stamp(path);
    let config = WebConfig::load(path)?;
    let tls = match &config.tls {
        Some(t) => Some(Arc::new(crate::tls::server_config(t, config.http2)?)),
        None => None,
    };
    let mut stamps = vec![(path.to_path_buf(), before)];
    stamps.extend(config.files().into_iter().map(|f| {
        let s = stamp(&f);
        (f, s)
    }));
    Ok(Snapshot {
        config,
        tls,
        stamps,
    })
}

impl WebAuth {
    /// Reads the file (none: no TLS, no users); a bad file is an error.
    pub fn load(path: Option<&Path>) -> Result<WebAuth> {
        let snap = match path {
            Some(p) => read_snapshot(p)?,
            None => Snapshot {
                config: WebConfig {
                    http2: true,
                    ..WebConfig::default()
                },
                tls: None,
                stamps: Vec::new(),
            },
        };
        Ok(WebAuth {
            path: path.map(Path::to_path_buf),
            current: RwLock::new(Arc::new(snap)),
            failed: Mutex::new(None),
            started: Instant::now(),
            last_check_ms: AtomicU64::new(0),
        })
    }

    /// The reading in force, re-read first when a file changed.
    pub fn current(&self) -> Arc<Snapshot> {
        let cur = self
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let Some(path) = &self.path else {
            return cur;
        };
        let now = self.started.elapsed().as_millis() as u64;
        let last = self.last_check_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < RECHECK.as_millis() as u64
            || self
                .last_check_ms
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
        {
            return cur;
        }
        let stamps: Vec<(PathBuf, Stamp)> = cur
            .stamps
            .iter()
            .map(|(p, _)| (p.clone(), stamp(p)))
            .collect();
        if stamps == cur.stamps {
            return cur;
        }
        let mut failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
        if failed.as_ref() == Some(&stamps) {
            return cur;
        }
        match read_snapshot(path) {
            Ok(snap) => {
                if snap.tls.is_some() != cur.tls.is_some() {
                    tracing::warn!(file = %path.display(), "web config: TLS turned on or off; this takes a restart (the listener keeps its kind)");
                }
                tracing::info!(file = %path.display(), "web config reloaded");
                *failed = None;
                let snap = Arc::new(snap);
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = snap.clone();
                snap
            }
            Err(e) => {
                tracing::error!(file = %path.display(), error = %e, "web config reload failed; the last good one stays in force");
                *failed = Some(stamps);
                cur
            }
        }
    }

    /// The TLS configuration for a new connection, when TLS is on.
    pub fn tls_config(&self) -> Option<Arc<ServerConfig>> {
        self.current().tls.clone()
    }
}

/// Cached bcrypt checks: bcrypt is slow on purpose (tens of milliseconds),
/// and a client sends the same credentials with every request. Keyed by a
/// hash of user, stored hash and password, so no password is kept.
#[derive(Debug, Default)]
struct BcryptCache {
    map: Mutex<HashMap<[u8; 32], bool>>,
    /// One check at a time, as exporter-toolkit: a flood of bad passwords
    /// takes one core, not all.
    running: tokio::sync::Mutex<()>,
}

const CACHE_MAX: usize = 1024;

/// The hash unknown users are checked against, so that an unknown user
/// takes as long as a wrong password.
fn fake_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| bcrypt::hash("fakepassword", 10).unwrap_or_default())
}

impl BcryptCache {
    async fn check(&self, user: &str, hash: Option<&str>, pass: &str) -> bool {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| fake_hash()).to_owned();
        let mut key_src = Vec::with_capacity(user.len() + hash.len() + pass.len() + 2);
        for part in [user.as_bytes(), hash.as_bytes(), pass.as_bytes()] {
            key_src.extend_from_slice(&(part.len() as u32).to_le_bytes());
            key_src.extend_from_slice(part);
        }
        let key = sha256(&key_src);
        if let Some(&ok) = self.map.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return ok && known;
        }
        let _one = self.running.lock().await;
        let pass = pass.to_owned();
        let ok = tokio::task::spawn_blocking(move || bcrypt::verify(pass, &hash).unwrap_or(false))
            .await
            .unwrap_or(false);
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CACHE_MAX {
            map.clear();
        }
        map.insert(key, ok);
        ok && known
    }
}

/// Who the request is.
#[derive(Debug)]
enum Who {
    /// No users or tokens exist: everyone may do everything.
    Open,
    /// A web config user: every scope.
    User,
    /// A token with its scopes.
    Token(String, Vec<Scope>),
}

/// The per-request check; see the module docs.
#[derive(Debug)]
pub struct Gate {
    web: Arc<WebAuth>,
    tokens: RwLock<Arc<Tokens>>,
    flags: Flags,
    prefix: String,
    bcrypt: BcryptCache,
}

impl Gate {
    /// A gate over `web` and `tokens`; `prefix` is the route prefix
    /// (`""` for none) taken off paths before they are classified.
    pub fn new(web: Arc<WebAuth>, tokens: Tokens, flags: Flags, prefix: &str) -> Gate {
        Gate {
            web,
            tokens: RwLock::new(Arc::new(tokens)),
            flags,
            prefix: prefix.trim_end_matches('/').to_owned(),
            bcrypt: BcryptCache::default(),
        }
    }

    /// Replaces the tokens (a reload of sightline.yml).
    pub fn set_tokens(&self, tokens: Tokens) {
        *self.tokens.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(tokens);
    }

    /// The web config in force.
    pub fn web(&self) -> &Arc<WebAuth> {
        &self.web
    }

    async fn authenticate(
        &self,
        snap: &Snapshot,
        tokens: &Tokens,
        authz: Option<&str>,
    ) -> Option<Who> {
        let users = &snap.config.users;
        if users.is_empty() && tokens.is_empty() {
            return Some(Who::Open);
        }
        let authz = authz?;
        let (scheme, rest) = authz.split_once(' ')?;
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("basic") && !users.is_empty() {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(rest)
                .ok()?;
            let raw = String::from_utf8(raw).ok()?;
            let (user, pass) = raw.split_once(':')?;
            let hash = users.get(user).map(String::as_str);
            return self
                .bcrypt
                .check(user, hash, pass)
                .await
                .then_some(Who::User);
        }
        if scheme.eq_ignore_ascii_case("bearer") {
            let t = tokens.find(rest)?;
            return Some(Who::Token(t.name.clone(), t.scopes.clone()));
        }
        None
    }

    /// Whether TLS or credentials are configured (the gRPC listener then
    /// goes through [`crate::listen::serve`] and [`check_grpc`]).
    pub fn is_locked(&self) -> bool {
        let snap = self.web.current();
        snap.tls.is_some()
            || !snap.config.users.is_empty()
            || !self
                .tokens
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .is_empty()
    }

    /// Whether a request with this `authorization` value may do what
    /// `need` says (the gRPC listener's check, which has no routes).
    pub async fn allows(
        &self,
        authz: Option<&str>,
        need: Scope,
    ) -> std::result::Result<(), String> {
        let snap = self.web.current();
        let tokens = self
            .tokens
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match self.authenticate(&snap, &tokens, authz).await {
            None => Err("unauthorized".into()),
            Some(Who::Token(name, scopes)) if !scopes.contains(&need) => {
                Err(format!("token {name:?} lacks the {} scope", need.name()))
            }
            Some(_) => Ok(()),
        }
    }

    /// `method`, `path` (with the route prefix) and the `authorization`
    /// header, taken out of the request: a body is not `Sync`, so the
    /// request cannot be borrowed across the bcrypt check's await.
    async fn decide(
        &self,
        snap: &Snapshot,
        method: &str,
        full_path: &str,
        authz: Option<&str>,
    ) -> std::result::Result<(), Response> {
        let path = full_path
            .strip_prefix(self.prefix.as_str())
            .unwrap_or(full_path);
        let path = if path.is_empty() { "/" } else { path };
        if scope::self_authenticating(path) {
            return Ok(());
        }
        let need: Need = scope::need(method, path);
        let tokens = self
            .tokens
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let Some(who) = self.authenticate(snap, &tokens, authz).await else {
            let challenge = if snap.config.users.is_empty() {
                "Bearer"
            } else {
                "Basic"
            };
            let mut r = go_error(StatusCode::UNAUTHORIZED, "Unauthorized\n");
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
            return Err(r);
        };
        let writes = matches!(method, "POST" | "PUT" | "DELETE");
        match need.switch {
            Some(Switch::Lifecycle) if writes && !self.flags.lifecycle => {
                // Prometheus writes this without a newline.
                return Err(go_error(
                    StatusCode::FORBIDDEN,
                    "Lifecycle API is not enabled.",
                ));
            }
            Some(Switch::AdminApi) if !self.flags.admin_api => {
                let body =
                    r#"{"status":"error","errorType":"unavailable","error":"admin APIs disabled"}"#;
                // Prometheus 2.42 answers 500 here (checked by the
                // web config differential test).
                return Err((
                    StatusCode::INTERNAL_SERVER_ERROR,
                    [(header::CONTENT_TYPE, "application/json")],
                    body,
                )
                    .into_response());
            }
            _ => {}
        }
        if let Who::Token(name, scopes) = who {
            if !scopes.contains(&need.scope) {
                return Err(go_error(
                    StatusCode::FORBIDDEN,
                    &format!(
                        "token {name:?} lacks the {} scope that {} {path} needs\n",
                        need.scope.name(),
                        method
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A plain-text error as Go's `http.Error` writes it.
fn go_error(status: StatusCode, body: &str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        Body::from(body.to_owned()),
    )
        .into_response()
}

/// The middleware: `axum::middleware::from_fn_with_state(gate, check)`.
pub async fn check(State(gate): State<Arc<Gate>>, req: Request, next: Next) -> Response {
    let snap = gate.web.current();
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let authz = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut resp = match gate.decide(&snap, &method, &path, authz.as_deref()).await {
        Ok(()) => next.run(req).await,
        Err(r) => r,
    };
    let h = resp.headers_mut();
    for (k, v) in &snap.config.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::try_from(k.as_str()),
            HeaderValue::try_from(v.as_str()),
        ) {
            h.insert(k, v);
        }
    }
    resp
}

/// `app` behind `gate`.
pub fn wrap(app: axum::Router, gate: Arc<Gate>) -> axum::Router {
    app.layer(axum::middleware::from_fn_with_state(gate, check))
}

/// The gRPC check: credentials in the `authorization` metadata, the write
/// scope; refusals as gRPC statuses (trailers-only answers).
pub async fn check_grpc(State(gate): State<Arc<Gate>>, req: Request, next: Next) -> Response {
    let authz = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match gate.allows(authz.as_deref(), Scope::Write).await {
        Ok(()) => next.run(req).await,
        Err(why) => {
            // 16 UNAUTHENTICATED, 7 PERMISSION_DENIED.
            let code = if why == "unauthorized" { "16" } else { "7" };
            let mut r = StatusCode::OK.into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/grpc"),
            );
            h.insert("grpc-status", HeaderValue::from_static(code));
            if let Ok(v) = HeaderValue::try_from(why) {
                h.insert("grpc-message", v);
            }
            r
        }
    }
}

/// A gRPC router behind `gate`.
pub fn wrap_grpc(app: axum::Router, gate: Arc<Gate>) -> axum::Router {
    app.layer(axum::middleware::from_fn_with_state(gate, check_grpc))
}
