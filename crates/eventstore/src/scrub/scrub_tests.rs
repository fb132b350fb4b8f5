//! The scrubber over whole events. Hashes were computed with Python's
//! `hmac.new(key, value, hashlib.sha256).hexdigest()[:16]`.

use super::*;
use serde_json::json;

const KEY: &[u8] = b"0123456789abcdef-test-key";

fn event(v: Value) -> Event {
    let mut base = json!({
        "timestampMs": 1, "receivedAtMs": 2, "type": "track", "name": "Signed Up",
        "anonymousId": "anon-1", "messageId": "m1", "source": "web"
    });
    base.as_object_mut()
        .unwrap()
        .extend(v.as_object().unwrap().clone());
    serde_json::from_value(base).unwrap()
}

fn cfg(v: Value) -> ScrubConfig {
    serde_json::from_value(v).unwrap()
}

#[test]
fn listed_keys_are_dropped_or_hashed_at_any_depth_in_any_case() {
    let s = Scrubber::new(
        "web",
        &cfg(json!({"drop_keys": ["password"], "hash_keys": ["EMAIL", "age"]})),
        KEY,
    );
    let mut e = vec![event(json!({
        "properties": {"Password": "hunter2", "plan": "pro",
                       "billing": {"email": "jane@example.com", "PASSWORD": "x"}},
        "traits": {"Email": "jane@example.com", "age": 42, "nick": null},
        "context": {"list": [{"password": "y"}]}
    }))];
    let t = s.scrub_batch(&mut e);
    assert_eq!(
        Value::Object(e[0].properties.clone()),
        json!({"plan": "pro", "billing": {"email": "h:5489b6344d24f2ec"}})
    );
    assert_eq!(
        Value::Object(e[0].traits.clone()),
        json!({"Email": "h:5489b6344d24f2ec", "age": "h:9a28f91c6637b30b", "nick": null})
    );
    assert_eq!(Value::Object(e[0].context.clone()), json!({"list": [{}]}));
    assert_eq!(t.get(Rule::DropKey), 3);
    assert_eq!(t.get(Rule::HashKey), 3);
    assert_eq!(s.counts(), t);
}

#[test]
fn detectors_mask_inside_longer_strings_and_count_each_find() {
    let s = Scrubber::new("web", &ScrubConfig::default(), KEY);
    let mut e = vec![event(json!({
        "properties": {
            "note": "mail jane@example.com or call +44 20 7946 0958 today",
            "pay": ["card 4111 1111 1111 1111", {"iban": "DE89 3704 0044 0532 0130 00"}],
            "from": "seen at 203.0.113.42 and 2001:db8::7",
            "tok": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
            "n": 4111111111111111u64, "plan": "pro"
        }
    }))];
    let t = s.scrub_batch(&mut e);
    assert_eq!(
        Value::Object(e[0].properties.clone()),
        json!({
            "note": "mail [email] or call [phone] today",
            "pay": ["card [card]", {"iban": "[iban]"}],
            "from": "seen at [ip] and [ip]",
            "tok": "Bearer [jwt]",
            // Numbers are not strings: a card number sent as a number is
            // for `hash_keys`/`drop_keys` (docs/events-pii.md).
            "n": 4111111111111111u64, "plan": "pro"
        })
    );
    let want = [1, 1, 1, 1, 2, 1, 0, 0, 0];
    assert_eq!(t.0, want);
}

#[test]
fn hash_action_keeps_equal_values_equal() {
    let s = Scrubber::new("web", &cfg(json!({"detectors": {"phone": "hash"}})), KEY);
    let mut e = vec![
        event(json!({"properties": {"p": "+4915112345678"}})),
        event(json!({"properties": {"p": "tel +4915112345678."}})),
    ];
    s.scrub_batch(&mut e);
    assert_eq!(e[0].properties["p"], json!("h:9635e487ccbeac02"));
    assert_eq!(e[1].properties["p"], json!("tel h:9635e487ccbeac02."));
    // Another key, another hash.
    let other = Scrubber::new(
        "web",
        &cfg(json!({"detectors": {"phone": "hash"}})),
        b"another key of 16+ bytes",
    );
    let mut e2 = vec![event(json!({"properties": {"p": "+4915112345678"}}))];
    other.scrub_batch(&mut e2);
    assert_ne!(e2[0].properties["p"], e[0].properties["p"]);
}

#[test]
fn context_ip_is_truncated_other_ips_masked() {
    let s = Scrubber::new("web", &ScrubConfig::default(), KEY);
    let mut e = vec![
        event(json!({"context": {"ip": "203.0.113.42", "note": "proxy 198.51.100.7"}})),
        event(json!({"context": {"ip": "2001:db8:85a3:8d3:1319:8a2e:370:7348"}})),
        event(json!({"context": {"ip": "not an ip"}})),
    ];
    let t = s.scrub_batch(&mut e);
    assert_eq!(
        Value::Object(e[0].context.clone()),
        json!({"ip": "203.0.113.0", "note": "proxy [ip]"})
    );
    assert_eq!(e[1].context["ip"], json!("2001:db8:85a3::"));
    assert_eq!(e[2].context["ip"], json!("not an ip"));
    assert_eq!(t.get(Rule::IpTruncate), 2);
    assert_eq!(t.get(Rule::Detected(Detector::Ip)), 1);
    // Listed as a key, `ip` follows the key rule instead.
    let s = Scrubber::new("web", &cfg(json!({"drop_keys": ["ip"]})), KEY);
    let mut e = vec![event(json!({"context": {"ip": "203.0.113.42"}}))];
    let t = s.scrub_batch(&mut e);
    assert!(e[0].context.is_empty());
    assert_eq!((t.get(Rule::DropKey), t.get(Rule::IpTruncate)), (1, 0));
}

#[test]
fn ids_with_personal_data_are_hashed_whole_names_masked() {
    let s = Scrubber::new("web", &ScrubConfig::default(), KEY);
    let mut e = vec![event(json!({
        "userId": "jane@example.com", "anonymousId": "anon-1",
        "name": "Invite sent to jane@example.com",
        "properties": {"jane@example.com": true}
    }))];
    let t = s.scrub_batch(&mut e);
    assert_eq!(e[0].user_id.as_deref(), Some("h:5489b6344d24f2ec"));
    assert_eq!(e[0].anonymous_id.as_deref(), Some("anon-1"));
    assert_eq!(e[0].name, "Invite sent to [email]");
    assert_eq!(
        Value::Object(e[0].properties.clone()),
        json!({"[email]": true})
    );
    assert_eq!(t.get(Rule::Detected(Detector::Email)), 3);
}

#[test]
fn disabled_and_kept_detectors_change_nothing() {
    let raw = json!({"properties": {"e": "jane@example.com"}, "context": {"ip": "203.0.113.42"}});
    let s = Scrubber::new("web", &cfg(json!({"enabled": false})), KEY);
    let mut e = vec![event(raw.clone())];
    assert_eq!(s.scrub_batch(&mut e), Tally::default());
    assert_eq!(e[0], event(raw.clone()));
    let s = Scrubber::new(
        "web",
        &cfg(json!({"detectors": {"email": "keep"}, "truncate_ip": false})),
        KEY,
    );
    let mut e = vec![event(raw.clone())];
    s.scrub_batch(&mut e);
    // The e-mail is kept; context.ip, not truncated, is masked as any IP.
    assert_eq!(e[0].properties["e"], json!("jane@example.com"));
    assert_eq!(e[0].context["ip"], json!("[ip]"));
}

#[test]
fn configured_key_errors_name_the_field() {
    let dir = std::env::temp_dir();
    let c = cfg(json!({"hash_key": "short"}));
    let e = c
        .configured_key(&dir, "events.sources[1].scrub")
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("events.sources[1].scrub.hash_key: the key is 5 bytes"),
        "{e}"
    );
    let c = cfg(json!({"hash_key": "0123456789abcdef", "hash_key_file": "k"}));
    assert!(c.configured_key(&dir, "s").is_err());
    let c = cfg(json!({"hash_key_file": "no-such-scrub-key-file"}));
    assert!(c
        .configured_key(&dir, "s")
        .unwrap_err()
        .to_string()
        .contains("no-such-scrub-key-file"));
    assert_eq!(
        ScrubConfig::default().configured_key(&dir, "s").unwrap(),
        None
    );
    assert!(serde_json::from_value::<ScrubConfig>(json!({"drop": []})).is_err());
}

#[test]
fn telemetry_reports_every_rule_per_source() {
    let s = Arc::new(Scrubber::new("web", &ScrubConfig::default(), KEY));
    s.scrub_batch(&mut [event(json!({"properties": {"e": "a@b.io c@d.io"}}))]);
    let mut r = Report::default();
    ScrubTelemetry(vec![s]).report(&mut r);
    let f = &r.families()[0];
    assert_eq!(f.name, "sightline_events_scrubbed");
    assert_eq!(f.points.len(), N_RULES);
    let email = f
        .points
        .iter()
        .find(|p| p.labels.iter().any(|(k, v)| k == "rule" && v == "email"))
        .unwrap();
    assert_eq!(email.value, 2.0);
}
