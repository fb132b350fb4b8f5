//! `/probe` limits (issue 18): which modules and targets anyone who can
//! reach `/probe` may make the server probe. Without limits `/probe` probes
//! whatever it is asked to, as blackbox_exporter does; a server on a
//! network then lends its reach (internal hosts, the cloud metadata address)
//! to every caller.
//!
//! `--probe.allowed-module NAME` (repeatable) names the modules allowed;
//! `--probe.allowed-target REGEX` (repeatable, anchored: the whole target
//! must match) the targets. A refused probe answers 403 with the reason.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// blackbox_exporter's module when the request names none.
const DEFAULT_MODULE: &str = "http_2xx";

/// The limits in force; empty lists allow everything.
#[derive(Debug, Default)]
pub struct ProbeLimits {
    modules: Vec<String>,
    targets: Vec<regex::Regex>,
}

impl ProbeLimits {
    /// From the flags; a bad pattern is refused with the flag's name.
    pub fn new(modules: &[String], targets: &[String]) -> anyhow::Result<ProbeLimits> {
        let targets = targets
            .iter()
            .map(|t| {
                regex::Regex::new(&format!("^(?:{t})$"))
                    .map_err(|e| anyhow::anyhow!("--probe.allowed-target {t:?}: {e}"))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(ProbeLimits {
            modules: modules.to_vec(),
            targets,
        })
    }

    /// Whether there are limits at all.
    pub fn is_empty(&self) -> bool {
        self.modules.is_empty() && self.targets.is_empty()
    }

    /// Why `module`/`target` may not be probed, if they may not.
    pub fn refuse(&self, module: &str, target: &str) -> Option<String> {
        if !self.modules.is_empty() && !self.modules.iter().any(|m| m == module) {
            return Some(format!(
                "module {module:?} is not allowed (--probe.allowed-module)"
            ));
        }
        if !self.targets.is_empty() && !self.targets.iter().any(|r| r.is_match(target)) {
            return Some(format!(
                "target {target:?} is not allowed (--probe.allowed-target)"
            ));
        }
        None
    }
}

/// The middleware in front of `/probe`.
pub async fn check(State(limits): State<Arc<ProbeLimits>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !path.ends_with("/probe") || limits.is_empty() {
        return next.run(req).await;
    }
    let (mut module, mut target) = (None, None);
    for (k, v) in form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "module" if module.is_none() => module = Some(v.into_owned()),
            "target" if target.is_none() => target = Some(v.into_owned()),
            _ => {}
        }
    }
    let module = module.unwrap_or_else(|| DEFAULT_MODULE.to_owned());
    match limits.refuse(&module, target.as_deref().unwrap_or("")) {
        Some(why) => (StatusCode::FORBIDDEN, format!("{why}\n")).into_response(),
        None => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_18_limits_match_whole_targets_and_named_modules() {
        let l = ProbeLimits::new(
            &["http_2xx".into()],
            &[r"https?://.*\.example\.com(/.*)?".into()],
        )
        .unwrap();
        assert!(l.refuse("http_2xx", "https://www.example.com/x").is_none());
        assert!(l
            .refuse("http_2xx", "http://169.254.169.254/")
            .unwrap()
            .contains("target"));
        // Anchored: a prefix match is not enough.
        assert!(l
            .refuse("http_2xx", "http://www.example.com.evil.org/")
            .is_some());
        assert!(l
            .refuse("tcp_connect", "https://www.example.com/")
            .unwrap()
            .contains("module \"tcp_connect\""));
        assert!(ProbeLimits::new(&[], &["(".into()]).is_err());
        assert!(ProbeLimits::default().refuse("any", "thing").is_none());
    }
}
