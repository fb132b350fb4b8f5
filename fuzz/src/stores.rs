//! On-disk readers: each target writes the fuzzer's bytes over one file of
//! a small store made once per process (a template), in a fresh temp dir,
//! then opens the store as `sightline` does at startup and reads all of
//! it. A damaged file may be refused, set aside or cut short; it must not
//! panic, hang or allocate without bound.

use sightline_core::logs::{LogAppender, LogEntry, LogStream};
use sightline_core::traces::TraceAppender;
use sightline_core::{Labels, MetricAppender};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;
use tempfile::TempDir;

const T0_MS: i64 = 1_700_000_000_000;

/// Logs and spans are stamped an hour before the process started: the
/// stores refuse lines older than their age limit, so a fixed date would
/// leave the templates empty.
fn t0_ns() -> i64 {
    static T: OnceLock<i64> = OnceLock::new();
    *T.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(1_700_000_000);
        (now - 3600) * 1_000_000_000
    })
}

/// A store's files made once, with the one the target replaces. They live
/// in a fixed folder under the temp dir, shared by every run of the same
/// build: AFL starts the target thousands of times, and a template per
/// process would leak a folder each time (statics are never dropped).
struct Template {
    dir: PathBuf,
}

impl Template {
    fn new(name: &str, make: impl FnOnce(&Path)) -> Template {
        let dir = std::env::temp_dir()
            .join(format!(
                "sightline-fuzz-templates-{}",
                env!("CARGO_PKG_VERSION")
            ))
            .join(name);
        let fresh = std::fs::metadata(&dir)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age < Duration::from_secs(3600));
        if !fresh {
            // Made aside and renamed, so a concurrent run never sees half a
            // template; the loser of a race keeps the winner's.
            let parent = dir.parent().expect("template parent");
            std::fs::create_dir_all(parent).expect("create template root");
            let tmp = tempfile::Builder::new()
                .prefix(&format!("{name}.new"))
                .tempdir_in(parent)
                .expect("temp dir");
            make(tmp.path());
            let _ = std::fs::remove_dir_all(&dir);
            let made = tmp.keep();
            if std::fs::rename(&made, &dir).is_err() {
                let _ = std::fs::remove_dir_all(&made);
            }
        }
        Template { dir }
    }

    fn path(&self) -> &Path {
        &self.dir
    }

    /// The first file (by sorted path) whose path relative to the store
    /// satisfies `pick`.
    fn find(&self, pick: impl Fn(&str) -> bool) -> Option<String> {
        let mut all = Vec::new();
        walk(self.path(), self.path(), &mut all);
        all.sort();
        all.into_iter().find(|p| pick(p))
    }

    /// A copy of the store with `rel` holding `data`.
    fn with_file(&self, rel: &str, data: &[u8]) -> TempDir {
        let dir = tempfile::Builder::new()
            .prefix("sightline-fuzz")
            .tempdir()
            .expect("temp dir");
        copy_dir(self.path(), dir.path());
        let path = dir.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dir");
        }
        std::fs::write(&path, data).expect("write input");
        dir
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(root, &p, out);
        } else if let Ok(rel) = p.strip_prefix(root) {
            out.push(rel.to_string_lossy().into_owned());
        }
    }
}

/// Cuts the zeros preallocated at the end of each file in `dir` (head
/// chunk files are made full size), so seeds and per-input copies stay small.
fn trim_zeros(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        if let Ok(mut b) = std::fs::read(e.path()) {
            let end = b.iter().rposition(|x| *x != 0).map_or(0, |i| i + 1);
            b.truncate(end);
            let _ = std::fs::write(e.path(), b);
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for e in std::fs::read_dir(from).expect("read template").flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst);
        } else if src.file_name().is_some_and(|n| n != "lock") {
            std::fs::copy(&src, &dst).expect("copy template");
        }
    }
}

/// The template file a target replaces, for seeding its corpus.
fn seed_of(t: &Template, rel: &Option<String>) -> Option<Vec<u8>> {
    std::fs::read(t.path().join(rel.as_ref()?)).ok()
}

// ---- tsdb ---------------------------------------------------------------

fn tsdb_options() -> sightline_tsdb::Options {
    sightline_tsdb::Options {
        maintenance_interval_ms: 0,
        ..Default::default()
    }
}

fn series() -> Vec<Labels> {
    ["api", "db"]
        .iter()
        .flat_map(|job| {
            ["200", "500"].iter().map(move |code| {
                Labels::from_pairs([
                    ("__name__", "http_requests_total"),
                    ("job", job),
                    ("code", code),
                ])
            })
        })
        .collect()
}

struct Tsdb {
    t: Template,
    wal: Option<String>,
    head_chunks: Option<String>,
    index: Option<String>,
    chunks: Option<String>,
}

fn tsdb() -> &'static Tsdb {
    static T: OnceLock<Tsdb> = OnceLock::new();
    T.get_or_init(|| {
        let t = Template::new("tsdb", |dir| {
            // A persisted block (as a backfill writes it) and a WAL.
            let mut w = sightline_tsdb::BlockWriter::new(dir, 2 * 3_600_000).expect("block writer");
            for l in series() {
                for i in 0..120 {
                    w.add(&l, T0_MS - 7_200_000 + i * 15_000, (i * 7) as f64)
                        .expect("add");
                }
            }
            w.finish().expect("finish block");
            let db = sightline_tsdb::Db::open(dir, tsdb_options()).expect("open db");
            let mut app = db.appender();
            for l in series() {
                for i in 0..200 {
                    let _ = app.append(0, &l, T0_MS + i * 15_000, i as f64 * 0.5);
                }
            }
            app.commit().expect("commit");
            db.close().expect("close");
            trim_zeros(&dir.join("chunks_head"));
        });
        Tsdb {
            wal: t.find(|p| p.starts_with("wal/") && !p.contains("checkpoint")),
            head_chunks: t.find(|p| p.starts_with("chunks_head/")),
            index: t.find(|p| p.ends_with("/index")),
            chunks: t.find(|p| p.contains("/chunks/")),
            t,
        }
    })
}

fn open_tsdb(dir: &Path) {
    let Ok(db) = sightline_tsdb::Db::open(dir, tsdb_options()) else {
        return;
    };
    let engine = sightline_promql::Engine::new(sightline_promql::EngineOptions {
        timeout: Some(Duration::from_secs(2)),
        ..Default::default()
    });
    let _ = engine.range_query(
        &*db,
        "sum by (job) (rate({__name__=~\".+\"}[5m]))",
        T0_MS - 7_200_000,
        T0_MS + 3_600_000,
        60_000,
    );
    let _ = engine.instant_query(&*db, "{__name__=~\".+\"}[3h]", T0_MS + 3_000_000);
    let _ = db.close();
}

fn tsdb_with(rel: &Option<String>, name: &str, data: &[u8]) {
    let rel = rel.as_deref().unwrap_or(name);
    let dir = tsdb().t.with_file(rel, data);
    open_tsdb(dir.path());
}

/// A TSDB WAL segment (the first one).
pub fn tsdb_wal(data: &[u8]) {
    tsdb_with(&tsdb().wal, "wal/00000000", data);
}

/// A head chunks file (`chunks_head/000001`).
pub fn tsdb_head_chunks(data: &[u8]) {
    tsdb_with(&tsdb().head_chunks, "chunks_head/000001", data);
}

/// A block's index.
pub fn tsdb_block_index(data: &[u8]) {
    tsdb_with(&tsdb().index, "index", data);
}

/// A block's chunk segment (`chunks/000001`).
pub fn tsdb_block_chunks(data: &[u8]) {
    tsdb_with(&tsdb().chunks, "chunks/000001", data);
}

// ---- logstore -----------------------------------------------------------

fn log_options() -> sightline_logstore::LogStoreOptions {
    sightline_logstore::LogStoreOptions {
        // The template's WAL must be on disk when it is copied.
        wal_sync: sightline_logstore::WalSync::EveryWrite,
        ..Default::default()
    }
}

fn trace_options() -> sightline_tracestore::TraceStoreOptions {
    sightline_tracestore::TraceStoreOptions {
        wal_sync: sightline_tracestore::WalSync::EveryWrite,
        ..Default::default()
    }
}

fn log_streams(from: i64) -> Vec<LogStream> {
    ["api", "db"]
        .iter()
        .map(|app| LogStream {
            labels: Labels::from_pairs([("app", *app), ("env", "prod")]),
            entries: (0..50)
                .map(|i| LogEntry {
                    ts_ns: t0_ns() + (from + i) * 1_000_000_000,
                    line: format!("level=info msg=\"request {i}\" app={app} duration={i}ms"),
                    metadata: vec![("trace_id".into(), format!("{i:032x}"))],
                })
                .collect(),
        })
        .collect()
}

struct Logs {
    t: Template,
    wal: Option<String>,
    chunks: Option<String>,
    index: Option<String>,
}

fn logs() -> &'static Logs {
    static T: OnceLock<Logs> = OnceLock::new();
    T.get_or_init(|| {
        let t = Template::new("logstore", |dir| {
            let store = sightline_logstore::LogStore::open_without_maintenance(dir, log_options())
                .expect("open logstore");
            store.append("fuzz", log_streams(0)).expect("append");
            store.flush().expect("flush");
            store.append("fuzz", log_streams(100)).expect("append");
        });
        Logs {
            wal: largest(&t, |p| p.starts_with("wal/")),
            chunks: t.find(|p| p.ends_with("/chunks")),
            index: t.find(|p| p.ends_with("/index")),
            t,
        }
    })
}

/// The largest file whose path satisfies `pick` (a block's data file
/// rather than its small meta).
fn largest(t: &Template, pick: impl Fn(&str) -> bool) -> Option<String> {
    let mut all = Vec::new();
    walk(t.path(), t.path(), &mut all);
    all.sort();
    all.into_iter().filter(|p| pick(p)).max_by_key(|p| {
        std::fs::metadata(t.path().join(p))
            .map(|m| m.len())
            .unwrap_or(0)
    })
}

fn read_logs(dir: &Path) {
    let Ok(store) = sightline_logstore::LogStore::open_without_maintenance(dir, log_options())
    else {
        return;
    };
    let params = sightline_logql::eval::Params {
        start_ns: t0_ns() - 10_800_000_000_000,
        end_ns: t0_ns() + 10_800_000_000_000,
        step_ns: 60_000_000_000,
        backward: true,
        limit: 1000,
    };
    for q in [
        r#"{env="prod"} |= "request""#,
        r#"sum by (app) (count_over_time({env="prod"}[5m]))"#,
    ] {
        if let Ok(expr) = sightline_logql::parse(q) {
            let _ = sightline_logql::eval::evaluate(&store, "fuzz", &expr, &params, false);
        }
    }
}

/// A logstore WAL segment.
pub fn logstore_wal(data: &[u8]) {
    let l = logs();
    let dir =
        l.t.with_file(l.wal.as_deref().unwrap_or("wal/00000000"), data);
    read_logs(dir.path());
}

/// A logstore block's chunks file.
pub fn logstore_block(data: &[u8]) {
    let l = logs();
    let dir =
        l.t.with_file(l.chunks.as_deref().unwrap_or("blocks/chunks"), data);
    read_logs(dir.path());
}

/// A logstore block's index (streams, postings, token filters).
pub fn logstore_block_index(data: &[u8]) {
    let l = logs();
    let dir =
        l.t.with_file(l.index.as_deref().unwrap_or("blocks/index"), data);
    read_logs(dir.path());
}

// ---- tracestore ---------------------------------------------------------

struct Traces {
    t: Template,
    wal: Option<String>,
    data: Option<String>,
    index: Option<String>,
}

fn spans(trace: u8) -> Vec<sightline_core::traces::Span> {
    let body = format!(
        r#"[{{"traceId":"{trace:02x}f7183fb1d4cf5f","id":"6b221d5bc9e6496c","name":"get /api","timestamp":{ts},"duration":20000,"kind":"SERVER","localEndpoint":{{"serviceName":"frontend"}},"tags":{{"http.method":"GET","http.status_code":"500"}}}},
{{"traceId":"{trace:02x}f7183fb1d4cf5f","parentId":"6b221d5bc9e6496c","id":"352bff9a74ca9ad2","name":"select","timestamp":{ts},"duration":5000,"kind":"CLIENT","localEndpoint":{{"serviceName":"db"}}}}]"#,
        ts = t0_ns() / 1000 + i64::from(trace) * 1_000_000
    );
    sightline_ingest::zipkin::decode(
        body.as_bytes(),
        sightline_ingest::zipkin::ZipkinFormat::Json,
        None,
    )
    .expect("template spans")
}

fn traces() -> &'static Traces {
    static T: OnceLock<Traces> = OnceLock::new();
    T.get_or_init(|| {
        let t = Template::new("tracestore", |dir| {
            let store =
                sightline_tracestore::TraceStore::open_without_maintenance(dir, trace_options())
                    .expect("open tracestore");
            for i in 0..10 {
                store.append("fuzz", spans(i)).expect("append");
            }
            store.flush().expect("flush");
            for i in 10..20 {
                store.append("fuzz", spans(i)).expect("append");
            }
        });
        Traces {
            wal: largest(&t, |p| p.starts_with("wal/")),
            data: t.find(|p| p.ends_with("/data")),
            index: t.find(|p| p.ends_with("/index")),
            t,
        }
    })
}

fn read_traces(dir: &Path) {
    let Ok(store) =
        sightline_tracestore::TraceStore::open_without_maintenance(dir, trace_options())
    else {
        return;
    };
    let (start, end) = (t0_ns() - 10_800_000_000_000, t0_ns() + 10_800_000_000_000);
    for q in [
        "{}",
        "{ span.http.status_code = 500 } >> { resource.service.name = \"db\" }",
    ] {
        let _ = sightline_traceql::search(&store, "fuzz", q, start, end, 50, 5);
    }
}

/// A tracestore WAL segment.
pub fn tracestore_wal(data: &[u8]) {
    let t = traces();
    let dir =
        t.t.with_file(t.wal.as_deref().unwrap_or("wal/00000000"), data);
    read_traces(dir.path());
}

/// A tracestore block's data file.
pub fn tracestore_block(data: &[u8]) {
    let t = traces();
    let dir =
        t.t.with_file(t.data.as_deref().unwrap_or("blocks/data"), data);
    read_traces(dir.path());
}

/// A tracestore block's index (trace ids, attribute columns).
pub fn tracestore_block_index(data: &[u8]) {
    let t = traces();
    let dir =
        t.t.with_file(t.index.as_deref().unwrap_or("blocks/index"), data);
    read_traces(dir.path());
}

// ---- alertmanager state -------------------------------------------------

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(T0_MS).expect("time")
}

/// The silences snapshot (`silences.json`), loaded and queried.
pub fn am_silences(data: &[u8]) {
    use sightline_alertmanager::silence::{Silences, SILENCES_FILE};
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join(SILENCES_FILE), data).expect("write input");
    let Ok(s) = Silences::open(dir.path(), Duration::from_secs(3600)) else {
        return;
    };
    let labels: sightline_alertmanager::LabelSet = [("alertname".to_string(), "X".to_string())]
        .into_iter()
        .collect();
    let _ = s.mutes(&labels, now());
    let _ = s.gc(now());
}

/// The notification log (`nflog.jsonl`), loaded and compacted.
pub fn am_nflog(data: &[u8]) {
    use sightline_alertmanager::nflog::{Nflog, NFLOG_FILE};
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join(NFLOG_FILE), data).expect("write input");
    let Ok(n) = Nflog::open(dir.path(), Duration::from_secs(3600), now()) else {
        return;
    };
    let _ = n.gc(now());
}

/// Seeds for the store targets: the template files they replace, and a
/// silences snapshot and nflog written by the real code.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    let t = tsdb();
    for (name, rel) in [
        ("tsdb_wal", &t.wal),
        ("tsdb_head_chunks", &t.head_chunks),
        ("tsdb_block_index", &t.index),
        ("tsdb_block_chunks", &t.chunks),
    ] {
        out.extend(seed_of(&t.t, rel).map(|b| (name, b)));
    }
    let l = logs();
    out.extend(seed_of(&l.t, &l.wal).map(|b| ("logstore_wal", b)));
    out.extend(seed_of(&l.t, &l.chunks).map(|b| ("logstore_block", b)));
    out.extend(seed_of(&l.t, &l.index).map(|b| ("logstore_block_index", b)));
    let tr = traces();
    out.extend(seed_of(&tr.t, &tr.wal).map(|b| ("tracestore_wal", b)));
    out.extend(seed_of(&tr.t, &tr.data).map(|b| ("tracestore_block", b)));
    out.extend(seed_of(&tr.t, &tr.index).map(|b| ("tracestore_block_index", b)));
    out.extend(am_seeds());
    out
}

fn am_seeds() -> Vec<(&'static str, Vec<u8>)> {
    use sightline_alertmanager::nflog::{Nflog, NflogKey, NFLOG_FILE};
    use sightline_alertmanager::silence::{Silence, Silences, SILENCES_FILE};
    let dir = tempfile::tempdir().expect("temp dir");
    let mut out = Vec::new();
    if let Ok(s) = Silences::open(dir.path(), Duration::from_secs(3600)) {
        let matchers =
            sightline_alertmanager::matcher::parse_matchers(r#"{alertname="X",env=~"prod|dev"}"#)
                .expect("matchers");
        let _ = s.set(
            Silence {
                id: String::new(),
                matchers: sightline_alertmanager::matcher::Matchers(matchers),
                starts_at: now(),
                ends_at: now() + chrono::Duration::hours(1),
                updated_at: now(),
                created_by: "fuzz".into(),
                comment: "seed".into(),
            },
            now(),
        );
        drop(s);
        if let Ok(b) = std::fs::read(dir.path().join(SILENCES_FILE)) {
            out.push(("am_silences", b));
        }
    }
    if let Ok(n) = Nflog::open(dir.path(), Duration::from_secs(3600), now()) {
        let key = NflogKey {
            group_key: r#"{}/{env="prod"}:{alertname="X"}"#.into(),
            receiver: "team".into(),
            integration: "webhook".into(),
            index: 0,
        };
        let _ = n.log(&key, &[1, 2].into(), &[3].into(), now());
        if let Ok(b) = std::fs::read(dir.path().join(NFLOG_FILE)) {
            out.push(("am_nflog", b));
        }
    }
    out
}

/// Where a store target's template lives (for the seed writer's report).
pub fn template_dirs() -> Vec<PathBuf> {
    vec![
        tsdb().t.path().to_path_buf(),
        logs().t.path().to_path_buf(),
        traces().t.path().to_path_buf(),
    ]
}
