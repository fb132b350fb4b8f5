//! The incident store on its own: what opens, reopens and resolves an
//! incident, its fields, its file, its ticket. Times are fixed instants,
//! never the clock.

use chrono::{DateTime, TimeZone, Utc};

use super::config::IncidentsConfig;
use super::model::{EventKind, Status};
use super::store::{Declaration, IncidentFilter, Incidents, Patch, INCIDENTS_FILE};
use super::view::{links, runbook, IncidentView};
use crate::alert::{Alert, LabelSet};
use crate::Error;

const EXTERNAL: &str = "http://sightline.example:9090";
const GROUP: &str = "{}:{alertname=\"HighErrorRate\"}";

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

fn ls(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn alert(instance: &str, severity: &str, start: i64, end: Option<i64>) -> Alert {
    Alert {
        labels: ls(&[
            ("alertname", "HighErrorRate"),
            ("service", "checkout"),
            ("instance", instance),
            ("severity", severity),
        ]),
        annotations: ls(&[
            ("summary", "checkout answers 5% errors"),
            ("description", "5xx over 5% for 5 minutes"),
            ("runbook_url", "https://runbooks.example/HighErrorRate"),
            ("dashboard", "http://grafana.example/d/abc"),
        ]),
        starts_at: t(start),
        // A firing alert ends in the future (Prometheus resends it).
        ends_at: end.map_or(t(1_000_000), t),
        generator_url: "http://prom:9090/graph?g0.expr=errors+%3E+0.05&g0.tab=1".into(),
        updated_at: t(start),
        timeout: false,
    }
}

fn open(dir: &std::path::Path) -> Incidents {
    Incidents::open(dir, IncidentsConfig::default(), dir, EXTERNAL, t(0)).unwrap()
}

fn group_labels() -> LabelSet {
    ls(&[("alertname", "HighErrorRate")])
}

#[test]
fn firing_group_opens_one_incident_with_the_alerts_fields() {
    let dir = tempfile::tempdir().unwrap();
    let inc = open(dir.path());
    let sent = inc.on_notify(
        GROUP,
        "ops",
        &group_labels(),
        vec![
            alert("b:80", "critical", 20, None),
            alert("a:80", "critical", 10, None),
        ],
        t(40),
    );
    let all = inc.list(&IncidentFilter::default());
    assert_eq!(all.len(), 1);
    let i = &all[0];
    assert_eq!(i.id, 1);
    assert_eq!(i.status, Status::Open);
    assert_eq!(i.ticket.name, "HighErrorRate");
    // The earliest start among the firing alerts.
    assert_eq!(i.ticket.date, t(10));
    assert_eq!(i.ticket.subject, "checkout answers 5% errors");
    assert_eq!(
        i.ticket.affected_area,
        "service=checkout, instance=a:80, instance=b:80"
    );
    assert_eq!(i.ticket.severity, "critical");
    assert_eq!(i.ticket.description, "5xx over 5% for 5 minutes");
    assert_eq!(i.opened_at, t(40));
    assert_eq!(i.group_key.as_deref(), Some(GROUP));
    let fired: Vec<(DateTime<Utc>, &str)> =
        i.events.iter().map(|e| (e.time, e.text.as_str())).collect();
    assert_eq!(
        fired,
        [
            (
                t(10),
                "HighErrorRate{instance=\"a:80\", service=\"checkout\", severity=\"critical\"}"
            ),
            (
                t(20),
                "HighErrorRate{instance=\"b:80\", service=\"checkout\", severity=\"critical\"}"
            ),
        ]
    );
    // Every alert sent carries the page and a signed acknowledge link.
    for a in &sent {
        assert_eq!(
            a.annotations["incident_url"],
            "http://sightline.example:9090/#/incidents/1"
        );
        let ack = &a.annotations["acknowledge_url"];
        let token = ack
            .strip_prefix("http://sightline.example:9090/api/v1/incidents/ack/")
            .unwrap();
        assert_eq!(inc.verify_token(token, t(40)).unwrap(), 1);
        // Valid for the default 24 h, not longer.
        assert!(matches!(
            inc.verify_token(token, t(40 + 24 * 3600 + 1)),
            Err(Error::Forbidden(_))
        ));
    }
    // The next flush of the same group keeps the same incident.
    inc.on_notify(
        GROUP,
        "ops",
        &group_labels(),
        vec![alert("a:80", "critical", 10, None)],
        t(100),
    );
    assert_eq!(inc.list(&IncidentFilter::default()).len(), 1);
}

#[test]
fn warnings_open_nothing_and_carry_no_links() {
    let dir = tempfile::tempdir().unwrap();
    let inc = open(dir.path());
    let sent = inc.on_notify(
        GROUP,
        "ops",
        &group_labels(),
        vec![alert("a:80", "warning", 10, None)],
        t(40),
    );
    assert!(inc.list(&IncidentFilter::default()).is_empty());
    assert!(!sent[0].annotations.contains_key("incident_url"));
}

#[test]
fn group_resolution_resolves_and_refiring_within_grace_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let inc = open(dir.path());
    inc.on_notify(
        GROUP,
        "ops",
        &group_labels(),
        vec![alert("a:80", "critical", 10, None)],
        t(40),
    );
    // A second alert joins at the next flush.
    inc.observe_group(
        GROUP,
        &[
            alert("a:80", "critical", 10, None),
            alert("b:80", "critical", 50, None),
        ],
        t(70),
    );
    // One resolves: the incident stays open.
    inc.observe_group(
        GROUP,
        &[
            alert("a:80", "critical", 10, Some(90)),
            alert("b:80", "critical", 50, None),
        ],
        t(100),
    );
    assert_eq!(inc.get(1).unwrap().status, Status::Open);
    // Both resolved: resolved by the Alertmanager.
    inc.observe_group(
        GROUP,
        &[
            alert("a:80", "critical", 10, Some(90)),
            alert("b:80", "critical", 50, Some(120)),
        ],
        t(130),
    );
    let i = inc.get(1).unwrap();
    assert_eq!(i.status, Status::Resolved);
    assert_eq!(i.resolved_at, Some(t(130)));
    assert_eq!(i.resolved_by.as_deref(), Some("alertmanager"));
    let kinds: Vec<EventKind> = i.events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::AlertFired,
            EventKind::AlertFired,
            EventKind::AlertResolved,
            EventKind::AlertResolved,
            EventKind::Resolved
        ]
    );
    // Time to resolve: opened at 40, resolved at 130.
    let h = inc.durations.resolve.snapshot();
    assert_eq!((h.count, h.sum), (1, 90.0));
    // Fires again 2 minutes later (grace 5 min): the same incident reopens.
    inc.on_notify(
        GROUP,
        "ops",
        &group_labels(),
        vec![alert("a:80", "critical", 250, None)],
        t(250),
    );
    let i = inc.get(1).unwrap();
    assert_eq!(i.status, Status::Open);
    assert_eq!(i.resolved_at, None);
    assert_eq!(i.events.last().unwrap().kind, EventKind::AlertFired);
    assert!(i.events.iter().any(|e| e.kind == EventKind::Reopened));
    // Resolved again; firing 10 minutes later opens a new incident.
    inc.observe_group(GROUP, &[alert("a:80", "critical", 250, Some(300))], t(300));
    inc.on_notify(
        GROUP,
        "ops",
        &group_labels(),
        vec![alert("a:80", "critical", 900, None)],
        t(900),
    );
    let ids: Vec<u64> = inc
        .list(&IncidentFilter::default())
        .iter()
        .map(|i| i.id)
        .collect();
    // Unresolved first.
    assert_eq!(ids, [2, 1]);
}

#[test]
fn acknowledge_resolve_comment_edit_and_their_errors() {
    let dir = tempfile::tempdir().unwrap();
    let inc = open(dir.path());
    let e = inc.declare(Declaration::default(), t(0)).unwrap_err();
    assert_eq!(e.to_string(), "name: must not be empty");
    let d = inc
        .declare(
            Declaration {
                name: "Checkout down".into(),
                severity: "High".into(),
                by: Some("alice".into()),
                ..Default::default()
            },
            t(0),
        )
        .unwrap();
    assert_eq!(d.id, 1);
    assert_eq!(d.events[0].actor, "alice");
    let a = inc.acknowledge(1, Some("bob"), t(300)).unwrap();
    assert_eq!(a.status, Status::Acknowledged);
    assert_eq!(a.acknowledged_by.as_deref(), Some("bob"));
    // Twice: nothing changes, no second observation.
    inc.acknowledge(1, Some("carol"), t(400)).unwrap();
    assert_eq!(inc.get(1).unwrap().acknowledged_by.as_deref(), Some("bob"));
    let h = inc.durations.acknowledge.snapshot();
    assert_eq!((h.count, h.sum), (1, 300.0));
    assert_eq!(
        inc.comment(1, None, "  ", t(500)).unwrap_err().to_string(),
        "text: must not be empty"
    );
    inc.comment(1, Some("bob"), "rolled back 1.4.2", t(500))
        .unwrap();
    let p = inc
        .patch(
            1,
            Patch {
                subject: Some("payments fail".into()),
                severity: Some("High".into()),
                ..Default::default()
            },
            t(600),
        )
        .unwrap();
    assert_eq!(p.ticket.subject, "payments fail");
    // Only the field that changed is recorded.
    assert_eq!(p.events.last().unwrap().text, "subject");
    assert!(p.edited.contains("subject"));
    inc.resolve(1, Some("bob"), t(900)).unwrap();
    assert!(matches!(
        inc.acknowledge(1, None, t(901)),
        Err(Error::Conflict(_))
    ));
    assert!(matches!(inc.get(7), Err(Error::NotFound(m)) if m == "incident 7 not found"));
    let f = IncidentFilter {
        status: Some(Status::Resolved),
        severity: Some("high".into()),
        ..Default::default()
    };
    assert_eq!(inc.list(&f).len(), 1);
    let f = IncidentFilter {
        status: Some(Status::Open),
        ..Default::default()
    };
    assert!(inc.list(&f).is_empty());
}

#[test]
fn records_survive_reopening_and_damaged_lines_are_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let before = {
        let inc = open(dir.path());
        inc.on_notify(
            GROUP,
            "ops",
            &group_labels(),
            vec![alert("a:80", "critical", 10, None)],
            t(40),
        );
        inc.acknowledge(1, Some("bob"), t(60)).unwrap();
        inc.get(1).unwrap()
    };
    let path = dir.path().join(INCIDENTS_FILE);
    // Two lines: opened, acknowledged (the last one wins).
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
    assert_eq!(open(dir.path()).get(1).unwrap(), before);
    // A torn append and a damaged line lose only themselves.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(b"garbage\n{\"id\":");
    std::fs::write(&path, &bytes).unwrap();
    let inc = open(dir.path());
    assert_eq!(inc.get(1).unwrap(), before);
    assert!(dir.path().join("incidents.jsonl.corrupted").exists());
    // The next id follows the highest kept.
    let d = inc
        .declare(
            Declaration {
                name: "x".into(),
                ..Default::default()
            },
            t(70),
        )
        .unwrap();
    assert_eq!(d.id, 2);
}

#[test]
fn ticket_markdown_has_the_seeds_fields_runbook_timeline_and_links() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("runbooks")).unwrap();
    std::fs::write(
        dir.path().join("runbooks/HighErrorRate.md"),
        "1. **Check dashboard**\n2. **Rollback**\n",
    )
    .unwrap();
    let inc = open(dir.path());
    inc.on_notify(
        GROUP,
        "ops",
        &group_labels(),
        vec![alert("a:80", "critical", 10, None)],
        t(40),
    );
    inc.acknowledge(1, Some("bob"), t(100)).unwrap();
    inc.comment(1, Some("bob"), "rolled back", t(110)).unwrap();
    let i = inc.get(1).unwrap();
    let v = IncidentView {
        runbook: runbook(&inc, &i),
        links: links(&inc, &i, t(200)),
        timeline: i.events.clone(),
        incident: i,
    };
    // t(0) is 2027-01-15 08:00:00 UTC; the window is 10..200 s padded by
    // 15 minutes: 1800000010000 - 900000 ms to 1800000200000 + 900000 ms.
    let expected = "### TROUBLE TICKET

Name: HighErrorRate

Date: 2027-01-15 08:00:10 UTC

Subject: checkout answers 5% errors

Affected Area: service=checkout, instance=a:80

Severity: critical

Description: 5xx over 5% for 5 minutes

Status: acknowledged

Acknowledged: 2027-01-15 08:01:40 UTC by bob

Incident: http://sightline.example:9090/#/incidents/1

## Runbook

Link: https://runbooks.example/HighErrorRate

1. **Check dashboard**
2. **Rollback**

## Timeline

- 2027-01-15 08:00:10 UTC alert fired (alertmanager): HighErrorRate{instance=\"a:80\", service=\"checkout\", severity=\"critical\"}
- 2027-01-15 08:01:40 UTC acknowledged (bob)
- 2027-01-15 08:01:50 UTC comment (bob): rolled back

## Links

- Dashboard: http://grafana.example/d/abc
- Explore: http://sightline.example:9090/#/explore?expr=errors%20%3E%200.05&from=1799999110000&to=1800001100000
- Logs: http://sightline.example:9090/#/logs?query=%7Bservice%3D%22checkout%22%7D&from=1799999110000&to=1800001100000
- Traces: http://sightline.example:9090/#/traces?service=checkout&from=1799999110000&to=1800001100000
";
    assert_eq!(super::ticket::markdown(&v, EXTERNAL), expected);
}
