//! The Markdown trouble ticket: the seeds' fields (Name, Date, Subject,
//! Affected Area, Severity, Description) in their `Field: value` shape,
//! then the status, the runbook, the timeline and the links.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::view::IncidentView;

/// `2026-12-08 00:12:03 UTC`: the seeds write `16/9/2022`, which reads
/// differently on each side of the Atlantic; an ISO date with the time
/// and zone does not.
pub fn ticket_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Makes a relative UI link absolute under `external_url`.
fn absolute(external_url: &str, link: &str) -> String {
    if link.starts_with('#') {
        format!("{}/{link}", external_url.trim_end_matches('/'))
    } else {
        link.to_string()
    }
}

/// The ticket of `v`; relative links are made absolute under `external_url`.
pub fn markdown(v: &IncidentView, external_url: &str) -> String {
    let i = &v.incident;
    let t = &i.ticket;
    let mut out = String::new();
    let _ = writeln!(out, "### TROUBLE TICKET\n");
    for (field, value) in [
        ("Name", t.name.clone()),
        ("Date", ticket_time(&t.date)),
        ("Subject", t.subject.clone()),
        ("Affected Area", t.affected_area.clone()),
        ("Severity", t.severity.clone()),
        ("Description", t.description.clone()),
    ] {
        let _ = writeln!(out, "{field}: {value}\n");
    }
    let _ = writeln!(out, "Status: {}\n", i.status.as_str());
    if let (Some(at), Some(by)) = (&i.acknowledged_at, &i.acknowledged_by) {
        let _ = writeln!(out, "Acknowledged: {} by {by}\n", ticket_time(at));
    }
    if let (Some(at), Some(by)) = (&i.resolved_at, &i.resolved_by) {
        let _ = writeln!(out, "Resolved: {} by {by}\n", ticket_time(at));
    }
    let _ = writeln!(out, "Incident: {}\n", v.links.incident);
    let _ = writeln!(out, "## Runbook\n");
    match (&v.runbook.url, &v.runbook.markdown) {
        (None, None) => {
            let _ = writeln!(out, "No runbook.\n");
        }
        (url, md) => {
            if let Some(u) = url {
                let _ = writeln!(out, "Link: {u}\n");
            }
            if let Some(md) = md {
                let _ = writeln!(out, "{}\n", md.trim_end());
            }
        }
    }
    let _ = writeln!(out, "## Timeline\n");
    for e in &v.timeline {
        let _ = write!(
            out,
            "- {} {} ({})",
            ticket_time(&e.time),
            e.kind.title(),
            e.actor
        );
        if !e.text.is_empty() {
            let _ = write!(out, ": {}", e.text.replace('\n', " "));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "\n## Links\n");
    for (name, link) in [
        ("Dashboard", &v.links.dashboard),
        ("Explore", &v.links.explore),
        ("Logs", &v.links.logs),
        ("Traces", &v.links.traces),
    ] {
        if let Some(l) = link {
            let _ = writeln!(out, "- {name}: {}", absolute(external_url, l));
        }
    }
    out
}
