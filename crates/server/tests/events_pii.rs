//! Issue 19, item 2: no planted personal value reaches the disk.
//!
//! A corpus of events with e-mail addresses, phone numbers, card numbers,
//! IBANs, IP addresses, JWTs and listed keys planted in properties,
//! traits, context and ids, nested and inside longer strings, goes in
//! through `/v1/batch`; the store cuts blocks (1 s head age) and keeps a
//! WAL. Then every file under the data directory is read, with every
//! zstd frame in it decompressed, and none may hold an original value.
//! The scrubbed counts per rule on `/metrics` must be as planted, and the
//! stored events must carry the masks, hashes and truncation in place.

mod common;
#[path = "common/events.rs"]
mod events_common;

use common::{eventually, http, Server};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

/// The values planted, each of which must be gone from the disk.
fn planted() -> Vec<&'static str> {
    vec![
        "jane.doe@example.com",
        "bob@corp.example.org",
        "carol@example.net",
        "dave@example.io",
        "+44 20 7946 0958",
        "(555) 123-4567",
        "4111 1111 1111 1111",
        "5500-0000-0000-0004",
        "DE89 3704 0044 0532 0130 00",
        "GB82WEST12345698765432",
        "198.51.100.77",
        "2001:db8:85a3::8a2e:370:7334",
        "203.0.113.42",
        JWT,
        "hunter2-secret-pw",
    ]
}

/// One event holding every planted value once; `n` makes its message id.
fn corpus_event(n: usize) -> Value {
    json!({
        "type": "track",
        "messageId": format!("pii-{n}"),
        "userId": "dave@example.io",
        "event": "Checkout",
        "properties": {
            "note": "contact jane.doe@example.com before noon",
            "msg": "call me on +44 20 7946 0958 please",
            "payment": {"card_note": "paid with 4111 1111 1111 1111 yesterday"},
            "refund_to": "IBAN DE89 3704 0044 0532 0130 00",
            "text": "login from 198.51.100.77",
            "Password": "hunter2-secret-pw",
            "plan": "pro"
        },
        "traits": {
            "contact": {"primary": ["work: bob@corp.example.org"]},
            "old_card": "5500-0000-0000-0004",
            "v6": "seen at 2001:db8:85a3::8a2e:370:7334"
        },
        "context": {
            "ip": "203.0.113.42",
            "email": "carol@example.net",
            "extra": [{"phoneish": "(555) 123-4567"}],
            "bank": "GB82WEST12345698765432",
            "headers": {"authorization": format!("Bearer {JWT}")}
        }
    })
}

/// Per rule, what one corpus event is counted as.
const PER_EVENT: [(&str, f64); 9] = [
    // note, traits.contact, userId (hashed whole)
    ("email", 3.0),
    ("phone", 2.0),
    ("card", 2.0),
    ("iban", 2.0),
    ("ip", 2.0),
    ("jwt", 1.0),
    ("drop_key", 1.0),
    // context.email
    ("hash_key", 1.0),
    ("ip_truncate", 1.0),
];

/// Every file under `dir`, with the decompressed content of every zstd
/// frame found in it appended (the store's blocks and WAL records).
fn disk_text(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            disk_text(&p, out);
            continue;
        }
        let raw = std::fs::read(&p).unwrap_or_default();
        let mut all = raw.clone();
        let magic = [0x28, 0xb5, 0x2f, 0xfd];
        for i in 0..raw.len().saturating_sub(4) {
            if raw[i..i + 4] == magic {
                let mut dec = Vec::new();
                if let Ok(mut d) = zstd::stream::read::Decoder::new(&raw[i..]) {
                    use std::io::Read;
                    let _ = d.read_to_end(&mut dec);
                }
                all.extend_from_slice(&dec);
            }
        }
        out.push((p.display().to_string(), all));
    }
}

#[test]
fn issue_19_no_planted_personal_value_reaches_the_disk() {
    let tmp = sightline_testkit::TempDir::new("events-pii");
    let args = events_common::config(
        tmp.path(),
        "  storage: {head_cut_age: 1s, maintenance_interval: 200ms, wal_segment_size: 1MB}\n  sources:\n    \
         - name: web\n      write_keys: [wk-web]\n      scrub:\n        \
         drop_keys: [password]\n        hash_keys: [email]\n        hash_key: 0123456789abcdef-test-key\n",
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let data = tmp.path().join("data");
    let server = Server::start(&data, &args);
    let url = server.url();
    let send = |from: usize, n: usize| {
        let batch: Vec<Value> = (from..from + n).map(corpus_event).collect();
        let r = http()
            .post(format!("{url}/v1/batch"))
            .basic_auth("wk-web", Some(""))
            .json(&json!({"batch": batch}))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{}", r.text().unwrap_or_default());
    };
    // Some events cut into a block, then more left in the WAL.
    send(0, 5);
    let blocks = eventually(Duration::from_secs(30), || {
        let mut files = Vec::new();
        disk_text(&data.join("events"), &mut files);
        files
            .iter()
            .any(|(p, _)| p.ends_with("meta.json"))
            .then_some(())
    });
    send(5, 3);
    let metrics = common::get_text(&format!("{url}/metrics"));
    for (rule, per) in PER_EVENT {
        let line = format!("sightline_events_scrubbed_total{{source=\"web\",rule=\"{rule}\"}} ");
        let v: f64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&line))
            .unwrap_or_else(|| panic!("no {line} in /metrics"))
            .trim()
            .parse()
            .unwrap();
        assert_eq!(v, per * 8.0, "{rule}");
    }
    server.kill9();

    let mut files = Vec::new();
    disk_text(&data, &mut files);
    assert!(!files.is_empty());
    let mut found = Vec::new();
    for (path, bytes) in &files {
        // Lossy text keeps every ASCII byte where it was, so an ASCII
        // value is found if present.
        let text = String::from_utf8_lossy(bytes);
        for v in planted() {
            if text.contains(v) {
                found.push(format!("{v:?} in {path}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "personal data on disk:\n{}",
        found.join("\n")
    );
    assert!(
        blocks.is_some(),
        "no block was cut: the check would cover the WAL only"
    );

    // The stored events carry the scrubbed forms.
    let stored = events_common::stored(&data);
    assert_eq!(stored.len(), 8);
    let e = stored.iter().find(|e| e["messageId"] == "pii-0").unwrap();
    // HMAC-SHA256 under the configured key, first 8 bytes as hex
    // (Python: hmac.new(key, value, hashlib.sha256).hexdigest()[:16]).
    assert_eq!(e["context"]["ip"], "203.0.113.0");
    assert_eq!(e["properties"]["note"], "contact [email] before noon");
    assert_eq!(
        e["properties"]["payment"]["card_note"],
        "paid with [card] yesterday"
    );
    assert_eq!(e["properties"]["refund_to"], "IBAN [iban]");
    assert_eq!(e["properties"]["text"], "login from [ip]");
    assert!(e["properties"].get("Password").is_none());
    assert_eq!(e["traits"]["contact"]["primary"][0], "work: [email]");
    assert_eq!(e["context"]["headers"]["authorization"], "Bearer [jwt]");
    assert_eq!(e["context"]["extra"][0]["phoneish"], "[phone]");
    assert_eq!(e["context"]["email"], hmac_hex("carol@example.net"));
    assert_eq!(e["userId"], hmac_hex("dave@example.io"));
}

/// `h:` and the first 16 hex digits of HMAC-SHA256, computed by Python's
/// hmac module (an implementation other than ours).
fn hmac_hex(v: &str) -> String {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import hmac,hashlib,sys;print('h:'+hmac.new(b'0123456789abcdef-test-key',sys.argv[1].encode(),hashlib.sha256).hexdigest()[:16])",
            v,
        ])
        .output()
        .expect("python3");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}
