//! Rule groups: evaluating every rule of a group at one timestamp, writing
//! results and staleness markers back, and restoring `for` state.

use crate::alerting::{AlertingRule, OutgoingAlert};
use crate::file::{GroupSpec, QueryLang, RuleKind, RuleSpec};
use crate::template::TemplateEnv;
use promql_parser::parser::Expr;
use sightline_core::logs::{LogQuerier, DEFAULT_TENANT};
use sightline_core::{
    FloatHistogram, Labels, Matcher, MetricAppender, MetricQuerier, METRIC_NAME, STALE_NAN,
};
use sightline_promql::{Engine, Value};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a group evaluates against and writes to.
#[derive(Clone)]
pub struct RuleContext {
    /// Where queries read.
    pub querier: Arc<dyn MetricQuerier>,
    /// Where recording results and `ALERTS` go.
    pub appender: Arc<dyn MetricAppender>,
    /// The PromQL engine.
    pub engine: Engine,
    /// `global.external_labels`, for `$externalLabels`.
    pub external_labels: Labels,
    /// `--web.external-url`, for `$externalURL` and generator URLs.
    pub external_url: String,
    /// The log store LogQL rules read (as tenant `fake`, Loki's
    /// single-tenant name); `None` where logs are off, and a LogQL rule
    /// then fails its evaluation saying so.
    pub logs: Option<Arc<dyn LogQuerier>>,
}

/// Rule health, as the API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Not evaluated yet.
    Unknown,
    /// Last evaluation succeeded.
    Ok,
    /// Last evaluation failed.
    Err,
}

impl Health {
    /// `unknown`, `ok` or `err`.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Ok => "ok",
            Health::Err => "err",
        }
    }
}

/// The kind-specific part of a rule.
#[derive(Debug, Clone)]
pub enum RuleBody {
    /// A recording rule.
    Recording(RuleSpec),
    /// An alerting rule with its alerts.
    Alerting(AlertingRule),
}

/// One rule with its evaluation status.
#[derive(Debug, Clone)]
pub struct Rule {
    /// What the rule is.
    pub body: RuleBody,
    /// Health of the last evaluation.
    pub health: Health,
    /// Error of the last evaluation.
    pub last_error: Option<String>,
    /// When it was last evaluated (ms).
    pub last_eval: Option<i64>,
    /// How long that took.
    pub eval_duration: Duration,
    /// Series written by the last successful evaluation, for staleness.
    prev_series: HashSet<Labels>,
    /// The expression, parsed at the first evaluation: Prometheus parses a
    /// rule once when it loads, not at every evaluation.
    parsed: Option<Parsed>,
}

/// A rule's parsed expression, in the language of its group.
#[derive(Debug, Clone)]
enum Parsed {
    PromQL(Arc<Expr>),
    LogQL(Arc<sightline_logql::ast::Expr>),
}

impl Rule {
    /// The rule as written (group labels merged in).
    pub fn spec(&self) -> &RuleSpec {
        match &self.body {
            RuleBody::Recording(s) => s,
            RuleBody::Alerting(a) => &a.spec,
        }
    }

    /// The record or alert name.
    pub fn name(&self) -> &str {
        &self.spec().name
    }
}

/// A group of rules evaluated in order at the same timestamp.
#[derive(Debug, Clone)]
pub struct RuleGroup {
    /// Name from the file.
    pub name: String,
    /// File the group came from.
    pub file: String,
    /// The language of its expressions: PromQL, or LogQL for the groups of
    /// `logs.rule_files` (Loki's ruler).
    pub lang: QueryLang,
    /// Evaluation interval in ms.
    pub interval_ms: i64,
    /// `limit:`, 0 for none.
    pub limit: usize,
    /// Query offset in ms.
    pub query_offset_ms: i64,
    /// Rules in order.
    pub rules: Vec<Rule>,
    /// When the group was last evaluated (ms).
    pub last_eval: Option<i64>,
    /// How long that took.
    pub eval_duration: Duration,
    /// True until `for` state was restored (after the second evaluation).
    pub should_restore: bool,
    /// Evaluations so far.
    pub evaluations: u64,
    /// Rule evaluations so far (rules × group evaluations).
    pub rule_evaluations: u64,
    /// Rule evaluations that failed (query or write errors).
    pub rule_failures: u64,
    /// Evaluation slots skipped because the previous one ran late.
    pub iterations_missed: u64,
}

impl RuleGroup {
    /// Builds a group from its spec; `default_interval_ms` and
    /// `default_offset_ms` apply where the group sets none.
    pub fn new(spec: &GroupSpec, default_interval_ms: i64, default_offset_ms: i64) -> Self {
        let rules = spec
            .rules
            .iter()
            .map(|r| {
                let mut r = r.clone();
                let mut labels = spec.labels.clone();
                labels.extend(r.labels);
                r.labels = labels;
                let body = match r.kind {
                    RuleKind::Recording => RuleBody::Recording(r),
                    RuleKind::Alerting => RuleBody::Alerting(AlertingRule::new(r)),
                };
                Rule {
                    body,
                    health: Health::Unknown,
                    last_error: None,
                    last_eval: None,
                    eval_duration: Duration::ZERO,
                    prev_series: HashSet::new(),
                    parsed: None,
                }
            })
            .collect();
        RuleGroup {
            name: spec.name.clone(),
            file: spec.file.clone(),
            lang: QueryLang::PromQL,
            interval_ms: spec.interval_ms.unwrap_or(default_interval_ms).max(1),
            limit: spec.limit,
            query_offset_ms: spec.query_offset_ms.unwrap_or(default_offset_ms),
            rules,
            last_eval: None,
            eval_duration: Duration::ZERO,
            should_restore: true,
            evaluations: 0,
            rule_evaluations: 0,
            rule_failures: 0,
            iterations_missed: 0,
        }
    }

    /// The group with its expressions read as `lang` (PromQL by default).
    pub fn with_lang(mut self, lang: QueryLang) -> Self {
        self.lang = lang;
        self
    }

    /// Marks every alerting rule restored (no restore will happen), so
    /// `ALERTS` are written from the first evaluation, as promtool does.
    pub fn set_restored(&mut self) {
        self.should_restore = false;
        for r in &mut self.rules {
            if let RuleBody::Alerting(a) = &mut r.body {
                a.restored = true;
            }
        }
    }

    /// Takes over alert state and staleness bookkeeping from the same
    /// group of a previous load (rules matched by kind and name, in order),
    /// as Prometheus does on reload.
    pub fn copy_state(&mut self, old: &RuleGroup) {
        let mut used = vec![false; old.rules.len()];
        for r in &mut self.rules {
            let Some(i) = old.rules.iter().enumerate().position(|(i, o)| {
                !used[i] && o.name() == r.name() && o.spec().kind == r.spec().kind
            }) else {
                continue;
            };
            used[i] = true;
            let o = &old.rules[i];
            r.prev_series = o.prev_series.clone();
            r.health = o.health;
            r.last_error = o.last_error.clone();
            r.last_eval = o.last_eval;
            if let (RuleBody::Alerting(a), RuleBody::Alerting(oa)) = (&mut r.body, &o.body) {
                a.active = oa.active.clone();
                a.restored = oa.restored;
            }
        }
        self.last_eval = old.last_eval;
        self.should_restore = old.should_restore;
        self.evaluations = old.evaluations;
        self.rule_evaluations = old.rule_evaluations;
        self.rule_failures = old.rule_failures;
        self.iterations_missed = old.iterations_missed;
    }

    /// Evaluates every rule at `ts` (ms), writes results and staleness
    /// markers, and returns the alerts due for sending.
    pub fn eval(&mut self, ctx: &RuleContext, ts: i64, resend_delay_ms: i64) -> Vec<OutgoingAlert> {
        let start = Instant::now();
        let qt = ts - self.query_offset_ms;
        let env = TemplateEnv {
            querier: Some(ctx.querier.clone()),
            engine: ctx.engine.clone(),
            ts: qt,
            external_url: ctx.external_url.clone(),
        };
        let mut to_send = Vec::new();
        for rule in &mut self.rules {
            let rstart = Instant::now();
            rule.last_eval = Some(ts);
            let res = eval_rule(rule, ctx, self.lang, ts, qt, self.limit, &env);
            rule.eval_duration = rstart.elapsed();
            let out = match res {
                Ok(out) => {
                    rule.health = Health::Ok;
                    rule.last_error = None;
                    out
                }
                Err(e) => {
                    rule.health = Health::Err;
                    rule.last_error = Some(e);
                    self.rule_failures += 1;
                    continue;
                }
            };
            if let RuleBody::Alerting(a) = &mut rule.body {
                to_send.extend(a.alerts_to_send(
                    ts,
                    resend_delay_ms,
                    self.interval_ms,
                    &ctx.external_url,
                ));
            }
            let mut app = ctx.appender.appender();
            let mut now = HashSet::with_capacity(out.len());
            for (l, v, h) in out {
                // Out-of-order and duplicate samples are dropped, not rule
                // errors, as in Prometheus.
                let _ = match &h {
                    Some(h) => app.append_histogram(0, &l, qt, h),
                    None => app.append(0, &l, qt, v),
                };
                now.insert(l);
            }
            for gone in rule.prev_series.difference(&now) {
                let _ = app.append(0, gone, qt, STALE_NAN);
            }
            if let Err(e) = app.commit() {
                rule.health = Health::Err;
                rule.last_error = Some(format!("writing results: {e}"));
                self.rule_failures += 1;
            }
            rule.prev_series = now;
        }
        self.last_eval = Some(ts);
        self.evaluations += 1;
        self.rule_evaluations += self.rules.len() as u64;
        self.eval_duration = start.elapsed();
        to_send
    }

    /// Writes staleness markers for every series the group wrote last, for
    /// a group that goes away on reload or shutdown.
    pub fn mark_stale(&mut self, ctx: &RuleContext, ts: i64) {
        let mut app = ctx.appender.appender();
        for r in &mut self.rules {
            for l in r.prev_series.drain() {
                let _ = app.append(0, &l, ts - self.query_offset_ms, STALE_NAN);
            }
        }
        let _ = app.commit();
    }

    /// Restores `ActiveAt` of pending alerts from `ALERTS_FOR_STATE` as
    /// Prometheus's `RestoreForState` does after a restart: the time an
    /// alert had been pending before the outage counts, when the outage
    /// was shorter than `outage_tolerance_ms`, and an alert gets at least
    /// `for_grace_period_ms` before it fires.
    pub fn restore_for_state(
        &mut self,
        ctx: &RuleContext,
        ts: i64,
        for_grace_period_ms: i64,
        outage_tolerance_ms: i64,
    ) {
        self.should_restore = false;
        let mint = ts - outage_tolerance_ms;
        for r in &mut self.rules {
            let RuleBody::Alerting(ar) = &mut r.body else {
                continue;
            };
            let hold = ar.spec.for_ms;
            if hold < for_grace_period_ms {
                ar.restored = true;
                continue;
            }
            for a in ar.active.values_mut() {
                let mut want = a.labels.to_builder();
                want.set(METRIC_NAME, "ALERTS_FOR_STATE");
                let want = want.into_labels();
                let matchers: Vec<Matcher> = want
                    .iter()
                    .map(|l| Matcher::equal(l.name.clone(), l.value.clone()))
                    .collect();
                // A restore at start-up, bounded by the outage window it
                // reads: no deadline of its own.
                let Ok(series) = ctx
                    .querier
                    .select(&sightline_core::QueryContext::new(), mint, ts, &matchers)
                    .and_then(|s| s.into_vec())
                else {
                    continue;
                };
                let Some(s) = series.into_iter().find(|s| s.labels == want) else {
                    continue;
                };
                let Some(last) = s.samples.last() else {
                    continue;
                };
                if sightline_core::is_stale_nan(last.v) {
                    continue;
                }
                let down_at = last.t.div_euclid(1000) * 1000;
                let mut active_at = (last.v as i64) * 1000;
                let remaining = hold - (down_at - active_at);
                if remaining <= 0 {
                    // It was firing when we went down; the next evaluation
                    // decides again.
                } else if remaining < for_grace_period_ms {
                    active_at = ts + for_grace_period_ms - hold;
                } else {
                    active_at += ts - down_at;
                }
                a.active_at = active_at;
            }
            ar.restored = true;
        }
    }
}

/// Runs one rule's query and turns the result into the samples to write.
fn eval_rule(
    rule: &mut Rule,
    ctx: &RuleContext,
    lang: QueryLang,
    ts: i64,
    qt: i64,
    limit: usize,
    env: &TemplateEnv,
) -> Result<Vec<RuleSample>, String> {
    let parsed = match &rule.parsed {
        Some(p) => p.clone(),
        None => {
            let expr = &rule.spec().expr;
            let p = match lang {
                QueryLang::PromQL => Parsed::PromQL(Arc::new(
                    sightline_promql::parse(expr).map_err(|e| e.to_string())?,
                )),
                QueryLang::LogQL => Parsed::LogQL(Arc::new(
                    sightline_logql::parse(expr).map_err(|e| e.to_string())?,
                )),
            };
            rule.parsed = Some(p.clone());
            p
        }
    };
    let samples = match parsed {
        Parsed::PromQL(parsed) => {
            let res = ctx
                .engine
                .instant_expr(ctx.querier.as_ref(), &parsed, &rule.spec().expr, qt)
                .map_err(|e| e.to_string())?;
            match res.value {
                Value::Vector(v) => v.into_iter().map(|s| (s.labels, s.v, s.h)).collect(),
                Value::Scalar(_, v) => vec![(Labels::empty(), v, None)],
                _ => return Err("rule result is not a vector or scalar".into()),
            }
        }
        Parsed::LogQL(parsed) => logql_instant(ctx, &parsed, qt)?,
    };
    match &mut rule.body {
        RuleBody::Recording(spec) => {
            let mut out = Vec::with_capacity(samples.len());
            let mut seen = HashSet::with_capacity(samples.len());
            for (l, v, h) in samples {
                let mut b = l.to_builder();
                b.set(METRIC_NAME, spec.name.clone());
                for (k, val) in &spec.labels {
                    b.set(k.clone(), val.clone());
                }
                let l = b.into_labels();
                if !seen.insert(l.clone()) {
                    return Err(
                        "vector contains metrics with the same labelset after applying rule labels"
                            .into(),
                    );
                }
                out.push((l, v, h));
            }
            if limit > 0 && out.len() > limit {
                return Err(format!(
                    "exceeded limit of {limit} with {} series",
                    out.len()
                ));
            }
            Ok(out)
        }
        // An alert's `$value` is the sample's float, 0 for a histogram
        // sample, as in Prometheus.
        RuleBody::Alerting(a) => {
            let floats = samples.into_iter().map(|(l, v, _)| (l, v)).collect();
            Ok(a.apply(floats, ts, limit, &ctx.external_labels, env)?
                .into_iter()
                .map(|(l, v)| (l, v, None))
                .collect())
        }
    }
}

/// Evaluates a LogQL metric query at `qt` (ms) as Loki's ruler does: an
/// instant query over the log store.
fn logql_instant(
    ctx: &RuleContext,
    expr: &sightline_logql::ast::Expr,
    qt: i64,
) -> Result<Vec<RuleSample>, String> {
    use sightline_logql::eval::{evaluate, Params, QueryResult};
    let Some(logs) = &ctx.logs else {
        return Err("no log store to evaluate a LogQL rule against".into());
    };
    let t_ns = qt.saturating_mul(1_000_000);
    let params = Params {
        start_ns: t_ns,
        end_ns: t_ns,
        step_ns: 1,
        backward: true,
        limit: 0,
    };
    let (res, _) =
        evaluate(logs.as_ref(), DEFAULT_TENANT, expr, &params, true).map_err(|e| e.to_string())?;
    match res {
        QueryResult::Vector(v) | QueryResult::Matrix(v) => Ok(v
            .into_iter()
            .filter_map(|s| {
                let v = s.points.last()?.1;
                Some((Labels::from_pairs(s.labels), v, None))
            })
            .collect()),
        QueryResult::Scalar(_, v) => Ok(vec![(Labels::empty(), v, None)]),
        QueryResult::Streams(_) => Err("rule result is not a vector or scalar".into()),
    }
}

/// One result of a rule: labels, and a float or a native histogram (a
/// recording rule over histograms records histograms).
type RuleSample = (Labels, f64, Option<FloatHistogram>);
