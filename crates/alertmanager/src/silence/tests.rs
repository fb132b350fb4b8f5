use super::*;
use chrono::TimeZone;

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
}

fn m(name: &str, op: MatchOp, value: &str) -> Matcher {
    Matcher::new(name, op, value).unwrap()
}

fn sil(matchers: Vec<Matcher>, start: i64, end: i64) -> Silence {
    Silence {
        id: String::new(),
        matchers: Matchers(matchers),
        starts_at: t(start),
        ends_at: t(end),
        updated_at: t(0),
        created_by: "me".into(),
        comment: "why".into(),
    }
}

fn labels(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn create_validates_like_alertmanager() {
    let s = Silences::in_memory(DEFAULT_RETENTION);
    let now = t(100);
    // Messages as Alertmanager 0.25's API answers them (lowercased).
    let err = s
        .set(sil(vec![m("a", MatchOp::Equal, "")], 0, 1000), now)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "silence invalid: at least one matcher must not match the empty string"
    );
    let err = s
        .set(sil(vec![m("a", MatchOp::Regexp, ".*")], 0, 1000), now)
        .unwrap_err();
    assert!(err.to_string().contains("must not match the empty string"));
    let err = s.set(sil(vec![], 0, 1000), now).unwrap_err();
    assert!(err.to_string().contains("at least one matcher"));
    let err = s
        .set(sil(vec![m("a", MatchOp::Equal, "b")], 500, 400), now)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to create silence: start time must be before end time"
    );
    let err = s
        .set(sil(vec![m("a", MatchOp::Equal, "b")], 10, 50), now)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to create silence: end time can't be in the past"
    );
    // One matcher that needs a value is enough.
    let id = s
        .set(
            sil(
                vec![m("a", MatchOp::Equal, ""), m("b", MatchOp::NotEqual, "")],
                0,
                1000,
            ),
            now,
        )
        .unwrap();
    // A start in the past is moved to now.
    let got = s.get(&id).unwrap();
    assert_eq!(got.starts_at, now);
    assert_eq!(got.updated_at, now);
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
}

#[test]
fn states_follow_the_clock() {
    let s = Silences::in_memory(DEFAULT_RETENTION);
    let id = s
        .set(sil(vec![m("a", MatchOp::Equal, "b")], 200, 300), t(100))
        .unwrap();
    let got = s.get(&id).unwrap();
    assert_eq!(got.state(t(199)), SilenceState::Pending);
    assert_eq!(got.state(t(200)), SilenceState::Active);
    assert_eq!(got.state(t(299)), SilenceState::Active);
    assert_eq!(got.state(t(300)), SilenceState::Expired);
}

#[test]
fn update_rules() {
    let s = Silences::in_memory(DEFAULT_RETENTION);
    let id = s
        .set(sil(vec![m("a", MatchOp::Equal, "b")], 100, 1000), t(100))
        .unwrap();
    // Active: changing only the end (and comment) keeps the id.
    let mut upd = s.get(&id).unwrap();
    upd.ends_at = t(2000);
    upd.comment = "longer".into();
    assert_eq!(s.set(upd, t(150)).unwrap(), id);
    let got = s.get(&id).unwrap();
    assert_eq!((got.ends_at, got.updated_at), (t(2000), t(150)));
    // Active: changing the matchers expires the old one and makes a new one.
    let mut upd = s.get(&id).unwrap();
    upd.matchers = Matchers(vec![m("a", MatchOp::Equal, "c")]);
    let new_id = s.set(upd, t(200)).unwrap();
    assert_ne!(new_id, id);
    assert_eq!(s.get(&id).unwrap().ends_at, t(200));
    assert_eq!(s.get(&id).unwrap().state(t(200)), SilenceState::Expired);
    assert_eq!(s.get(&new_id).unwrap().starts_at, t(200));
    // Active: changing the start does too.
    let mut upd = s.get(&new_id).unwrap();
    upd.starts_at = t(250);
    let newer = s.set(upd, t(300)).unwrap();
    assert_ne!(newer, new_id);
    // The new one starts at 300, not 250: its start lay in the past.
    assert_eq!(s.get(&newer).unwrap().starts_at, t(300));
    // Pending: moving the start (still in the future) keeps the id.
    let p = s
        .set(sil(vec![m("x", MatchOp::Equal, "y")], 5000, 6000), t(300))
        .unwrap();
    let mut upd = s.get(&p).unwrap();
    upd.starts_at = t(4000);
    assert_eq!(s.set(upd, t(300)).unwrap(), p);
    assert_eq!(s.get(&p).unwrap().starts_at, t(4000));
    // Expired: any update creates a new silence and leaves the old one alone.
    s.expire(&p, t(400)).unwrap();
    let old = s.get(&p).unwrap();
    assert_eq!((old.starts_at, old.ends_at), (t(400), t(400)));
    let mut upd = old.clone();
    upd.ends_at = t(9000);
    let again = s.set(upd, t(500)).unwrap();
    assert_ne!(again, p);
    assert_eq!(s.get(&p).unwrap(), old);
    // Unknown ids are not found.
    let mut upd = old;
    upd.id = "nope".into();
    upd.ends_at = t(9000);
    assert!(matches!(s.set(upd, t(500)), Err(Error::NotFound(_))));
}

#[test]
fn expire_and_mutes() {
    let s = Silences::in_memory(DEFAULT_RETENTION);
    let a = s
        .set(
            sil(
                vec![
                    m("alertname", MatchOp::Equal, "X"),
                    m("env", MatchOp::Regexp, "prod|stage"),
                ],
                0,
                1000,
            ),
            t(0),
        )
        .unwrap();
    let pending = s
        .set(
            sil(vec![m("alertname", MatchOp::Equal, "X")], 500, 1000),
            t(0),
        )
        .unwrap();
    let l = labels(&[("alertname", "X"), ("env", "prod")]);
    assert_eq!(s.mutes(&l, t(10)), vec![a.clone()]);
    assert_eq!(s.pending_for(&l, t(10)), vec![pending.clone()]);
    assert!(s
        .mutes(&labels(&[("alertname", "X"), ("env", "dev")]), t(10))
        .is_empty());
    let mut both = vec![a.clone(), pending.clone()];
    both.sort();
    assert_eq!(s.mutes(&l, t(600)), both);
    s.expire(&a, t(700)).unwrap();
    assert_eq!(s.mutes(&l, t(700)), vec![pending.clone()]);
    assert!(s
        .expire(&a, t(701))
        .unwrap_err()
        .to_string()
        .contains("already expired"));
    assert!(matches!(s.expire("zzz", t(701)), Err(Error::NotFound(_))));
}

#[test]
fn query_by_state_id_and_filter() {
    let s = Silences::in_memory(DEFAULT_RETENTION);
    let a = s
        .set(sil(vec![m("job", MatchOp::Equal, "api")], 0, 1000), t(0))
        .unwrap();
    let b = s
        .set(sil(vec![m("job", MatchOp::Equal, "db")], 500, 1000), t(0))
        .unwrap();
    let ids = |v: Vec<Silence>| {
        let mut v: Vec<String> = v.into_iter().map(|s| s.id).collect();
        v.sort();
        v
    };
    let q = SilenceQuery {
        states: vec![SilenceState::Active],
        ..Default::default()
    };
    assert_eq!(ids(s.query(&q, t(10))), vec![a.clone()]);
    let q = SilenceQuery {
        filter: vec![m("job", MatchOp::Equal, "db")],
        ..Default::default()
    };
    assert_eq!(ids(s.query(&q, t(10))), vec![b.clone()]);
    let q = SilenceQuery {
        ids: vec![b.clone()],
        ..Default::default()
    };
    assert_eq!(ids(s.query(&q, t(10))), vec![b.clone()]);
    // `foo=""` in a filter accepts silences without a `foo` matcher.
    let q = SilenceQuery {
        filter: vec![m("foo", MatchOp::Equal, "")],
        ..Default::default()
    };
    assert_eq!(s.query(&q, t(10)).len(), 2);
}

#[test]
fn survive_restart_and_gc_after_retention() {
    let dir = tempfile::tempdir().unwrap();
    let retention = Duration::from_secs(3600);
    let (a, b);
    {
        let s = Silences::open(dir.path(), retention).unwrap();
        a = s
            .set(
                sil(
                    vec![
                        m("a", MatchOp::Regexp, "x|y"),
                        m("b", MatchOp::NotEqual, "z"),
                    ],
                    0,
                    1000,
                ),
                t(0),
            )
            .unwrap();
        b = s
            .set(sil(vec![m("c", MatchOp::Equal, "d")], 0, 2000), t(0))
            .unwrap();
        s.expire(&b, t(100)).unwrap();
    }
    let s = Silences::open(dir.path(), retention).unwrap();
    assert_eq!(s.len(), 2);
    let got = s.get(&a).unwrap();
    assert_eq!(got.matchers.to_string(), r#"{a=~"x|y",b!="z"}"#);
    assert_eq!((got.starts_at, got.ends_at), (t(0), t(1000)));
    assert_eq!(got.created_by, "me");
    // The regex is compiled again on load.
    assert_eq!(s.mutes(&labels(&[("a", "y")]), t(50)), vec![a.clone()]);
    assert_eq!(s.get(&b).unwrap().ends_at, t(100));
    // b ended at 100: kept until 100 + 3600, gone after.
    assert_eq!(s.gc(t(3700)).unwrap(), 0);
    assert_eq!(s.gc(t(3701)).unwrap(), 1);
    drop(s);
    let s = Silences::open(dir.path(), retention).unwrap();
    assert!(s.get(&b).is_none());
    assert!(s.get(&a).is_some());
}
