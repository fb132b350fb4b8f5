//! Faults: what a service does wrong, set by hand or by the built-in schedule.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use crate::{service_index, DemoError, SERVICES};

/// What a service does wrong. Serialized with external tagging in snake case:
/// `"none"`, `{"errors":{"ratio":0.3}}`, `{"slow":{"extra_ms":800}}`, `"down"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// Healthy.
    None,
    /// This share of requests (0 to 1) answers 500 before doing any work.
    Errors { ratio: f64 },
    /// Every request takes this much longer.
    Slow { extra_ms: u64 },
    /// Every route, `/healthz` and `/metrics` included, answers 503, so the
    /// scrape fails (`up` is 0) and health probes fail.
    Down,
}

impl FromStr for Fault {
    type Err = DemoError;

    /// `none` or `clear`, `down`, `errors 30%` (or `errors 0.3`), `slow 800ms`
    /// (or `slow 2s`, `slow 800`: milliseconds).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| DemoError::BadFault {
            input: s.to_owned(),
            reason: reason.to_owned(),
        };
        let lower = s.trim().to_ascii_lowercase();
        let mut words = lower.split_whitespace();
        let kind = words.next().unwrap_or("");
        let arg = words.next();
        if words.next().is_some() {
            return Err(bad("too many words"));
        }
        match (kind, arg) {
            ("none" | "clear", None) => Ok(Fault::None),
            ("down", None) => Ok(Fault::Down),
            ("errors", Some(a)) => {
                let (num, scale) = match a.strip_suffix('%') {
                    Some(n) => (n, 100.0),
                    None => (a, 1.0),
                };
                let v: f64 = num
                    .parse()
                    .map_err(|_| bad("the error ratio is not a number (use `errors 30%`)"))?;
                let ratio = v / scale;
                if !(0.0..=1.0).contains(&ratio) {
                    return Err(bad("the error ratio must be between 0% and 100%"));
                }
                Ok(Fault::Errors { ratio })
            }
            ("slow", Some(a)) => {
                let (num, scale) = if let Some(n) = a.strip_suffix("ms") {
                    (n, 1)
                } else if let Some(n) = a.strip_suffix('s') {
                    (n, 1000)
                } else {
                    (a, 1)
                };
                let v: u64 = num
                    .parse()
                    .map_err(|_| bad("the delay is not a whole number (use `slow 800ms`)"))?;
                if v * scale > 60_000 {
                    return Err(bad("the delay must be at most 60s"));
                }
                Ok(Fault::Slow {
                    extra_ms: v * scale,
                })
            }
            ("errors" | "slow", None) => {
                Err(bad("missing the amount (`errors 30%`, `slow 800ms`)"))
            }
            ("none" | "clear" | "down", Some(_)) => Err(bad("takes no amount")),
            _ => Err(bad(
                "unknown fault (expected `none`, `clear`, `down`, `errors 30%` or `slow 800ms`)",
            )),
        }
    }
}

impl fmt::Display for Fault {
    /// The [`FromStr`] form: `none`, `errors 30%`, `slow 800ms`, `down`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::None => f.write_str("none"),
            // Rounded to a hundredth of a percent: 0.07 * 100 is 7.000000000000001.
            Fault::Errors { ratio } => write!(f, "errors {}%", (ratio * 10_000.0).round() / 100.0),
            Fault::Slow { extra_ms } => write!(f, "slow {extra_ms}ms"),
            Fault::Down => f.write_str("down"),
        }
    }
}

/// The built-in schedule on a 10-minute cycle of wall-clock time (so the
/// backfilled history and the live shop agree): checkout errors 25% during
/// minutes 2-5, payments slow +900 ms during 5-8, db down during 8:00-9:30.
pub fn scheduled(service: usize, ts_ms: i64) -> Fault {
    let in_cycle = ts_ms.rem_euclid(CYCLE_MS);
    match service {
        1 if (2 * MINUTE..5 * MINUTE).contains(&in_cycle) => Fault::Errors { ratio: 0.25 },
        2 if (5 * MINUTE..8 * MINUTE).contains(&in_cycle) => Fault::Slow { extra_ms: 900 },
        3 if (8 * MINUTE..9 * MINUTE + MINUTE / 2).contains(&in_cycle) => Fault::Down,
        _ => Fault::None,
    }
}

const MINUTE: i64 = 60_000;
/// The length of the built-in schedule's cycle.
pub const CYCLE_MS: i64 = 10 * MINUTE;

/// The faults in force, shared by the services, the control server and the
/// caller. A fault set by hand wins over the schedule for that service until
/// it is set back to [`Fault::None`], which hands the service back to the
/// schedule (when the schedule runs).
#[derive(Clone, Debug)]
pub struct FaultController {
    manual: Arc<RwLock<[Fault; 4]>>,
    schedule: bool,
}

impl FaultController {
    pub(crate) fn new(schedule: bool) -> Self {
        FaultController {
            manual: Arc::new(RwLock::new(std::array::from_fn(|_| Fault::None))),
            schedule,
        }
    }

    /// Sets a service's fault (`Fault::None` clears it).
    pub fn set(&self, service: &str, f: Fault) -> Result<(), DemoError> {
        let i = service_index(service)?;
        if let Fault::Errors { ratio } = f {
            if !(0.0..=1.0).contains(&ratio) {
                return Err(DemoError::BadFault {
                    input: f.to_string(),
                    reason: "the error ratio must be between 0 and 1".into(),
                });
            }
        }
        self.manual.write().unwrap_or_else(|e| e.into_inner())[i] = f;
        Ok(())
    }

    /// The fault in force for each service, in [`SERVICES`] order.
    pub fn get(&self) -> Vec<(String, Fault)> {
        let now = sightline_core::time::now_ms();
        (0..SERVICES.len())
            .map(|i| (SERVICES[i].to_owned(), self.current(i, now)))
            .collect()
    }

    /// The fault in force for service `i` at `now_ms`.
    pub(crate) fn current(&self, i: usize, now_ms: i64) -> Fault {
        let manual = self.manual.read().unwrap_or_else(|e| e.into_inner())[i].clone();
        if manual != Fault::None || !self.schedule {
            return manual;
        }
        scheduled(i, now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_cli_forms() {
        assert_eq!(
            "errors 30%".parse::<Fault>().unwrap(),
            Fault::Errors { ratio: 0.3 }
        );
        assert_eq!(
            "Errors 0.5".parse::<Fault>().unwrap(),
            Fault::Errors { ratio: 0.5 }
        );
        assert_eq!(
            "slow 800ms".parse::<Fault>().unwrap(),
            Fault::Slow { extra_ms: 800 }
        );
        assert_eq!(
            "slow 2s".parse::<Fault>().unwrap(),
            Fault::Slow { extra_ms: 2000 }
        );
        assert_eq!(" down ".parse::<Fault>().unwrap(), Fault::Down);
        assert_eq!("clear".parse::<Fault>().unwrap(), Fault::None);
        assert_eq!("none".parse::<Fault>().unwrap(), Fault::None);
        for bad in [
            "",
            "errors",
            "errors 130%",
            "errors x%",
            "slow fast",
            "down 3",
            "explode",
            "errors 3% now",
        ] {
            let e = bad.parse::<Fault>().unwrap_err().to_string();
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
        assert_eq!(Fault::Errors { ratio: 0.07 }.to_string(), "errors 7%");
        for f in [
            Fault::None,
            Fault::Down,
            Fault::Errors { ratio: 0.25 },
            Fault::Slow { extra_ms: 900 },
        ] {
            assert_eq!(f.to_string().parse::<Fault>().unwrap(), f);
        }
    }

    #[test]
    fn serializes_with_external_tags() {
        let v = serde_json::to_string(&[
            Fault::None,
            Fault::Errors { ratio: 0.3 },
            Fault::Slow { extra_ms: 5 },
            Fault::Down,
        ])
        .unwrap();
        assert_eq!(
            v,
            r#"["none",{"errors":{"ratio":0.3}},{"slow":{"extra_ms":5}},"down"]"#
        );
    }

    #[test]
    fn schedule_and_manual_overrides() {
        let base = 1_800_000_000_000 - 1_800_000_000_000 % CYCLE_MS;
        assert_eq!(
            scheduled(1, base + 3 * MINUTE),
            Fault::Errors { ratio: 0.25 }
        );
        assert_eq!(scheduled(1, base + 5 * MINUTE), Fault::None);
        assert_eq!(
            scheduled(2, base + 6 * MINUTE),
            Fault::Slow { extra_ms: 900 }
        );
        assert_eq!(scheduled(3, base + 9 * MINUTE), Fault::Down);
        assert_eq!(scheduled(3, base + 9 * MINUTE + 31_000), Fault::None);
        assert_eq!(scheduled(0, base + 9 * MINUTE), Fault::None);
        let c = FaultController::new(true);
        c.set("db", Fault::Slow { extra_ms: 10 }).unwrap();
        assert_eq!(c.current(3, base), Fault::Slow { extra_ms: 10 });
        c.set("db", Fault::None).unwrap();
        assert_eq!(c.current(3, base + 9 * MINUTE), Fault::Down);
        assert!(c.set("cart", Fault::Down).is_err());
        assert!(FaultController::new(false).current(3, base + 9 * MINUTE) == Fault::None);
    }
}
