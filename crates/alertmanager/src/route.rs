//! The routing tree: which receivers an alert goes to, and how its
//! notifications are grouped and timed.
//!
//! [`Route::new`] builds the tree from the file's [`RouteConfig`], filling in
//! what each node inherits from its parent (receiver, `group_by`, the three
//! intervals) the way Alertmanager 0.25's `dispatch.NewRoute` does.
//! [`Route::match_labels`] walks it depth first: a node that matches hands the
//! alert to its first matching child, and to later siblings only while the
//! children that matched say `continue: true`; a node whose children all miss
//! takes the alert itself.
//!
//! [`Route::key`] and [`Route::id`] print a node's place in the tree as
//! Alertmanager does, since group keys in webhook payloads and in the
//! notification log are built from them.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::alert::LabelSet;
use crate::config::RouteConfig;
use crate::matcher::{go_quote, Matchers};

/// Alertmanager's defaults for a root route that leaves them out.
pub const DEFAULT_GROUP_WAIT: Duration = Duration::from_secs(30);
/// See [`DEFAULT_GROUP_WAIT`].
pub const DEFAULT_GROUP_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// See [`DEFAULT_GROUP_WAIT`].
pub const DEFAULT_REPEAT_INTERVAL: Duration = Duration::from_secs(4 * 3600);

/// One node of the routing tree, with its inherited settings resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// The receiver (own or inherited).
    pub receiver: String,
    /// Labels that split alerts into groups (own or inherited).
    pub group_by: BTreeSet<String>,
    /// `group_by: ['...']`: every label splits groups.
    pub group_by_all: bool,
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
    /// Names of time intervals that mute this route (not inherited).
    pub mute_time_intervals: Vec<String>,
    /// Names of time intervals outside which this route is muted (not inherited).
    pub active_time_intervals: Vec<String>,
    /// All of the node's matchers (legacy `match`/`match_re` converted), sorted.
    pub matchers: Matchers,
    /// Whether siblings after this one are tried once it matched.
    pub continue_matching: bool,
    /// Children in file order.
    pub routes: Vec<Route>,
    key: String,
    id: String,
}

impl Route {
    /// Builds the tree rooted at `cfg` (the file's `route:`).
    pub fn new(cfg: &RouteConfig) -> Route {
        let root_defaults = Route {
            receiver: String::new(),
            group_by: BTreeSet::new(),
            group_by_all: false,
            group_wait: DEFAULT_GROUP_WAIT,
            group_interval: DEFAULT_GROUP_INTERVAL,
            repeat_interval: DEFAULT_REPEAT_INTERVAL,
            mute_time_intervals: Vec::new(),
            active_time_intervals: Vec::new(),
            matchers: Matchers::default(),
            continue_matching: false,
            routes: Vec::new(),
            key: String::new(),
            id: String::new(),
        };
        Route::build(cfg, &root_defaults, None)
    }

    /// `parent` gives the inherited settings; `place` is the parent's key and
    /// this node's position among its siblings (`None` for the root).
    fn build(cfg: &RouteConfig, parent: &Route, place: Option<(&str, usize)>) -> Route {
        let mut group_by = parent.group_by.clone();
        let mut group_by_all = parent.group_by_all;
        // As in Alertmanager: naming labels replaces the parent's list and
        // turns `...` off; `...` alone turns it on but keeps the parent's
        // list (which `...` makes moot); an empty list inherits both.
        if let Some(labels) = cfg.group_by_labels() {
            group_by = labels.into_iter().collect();
            group_by_all = false;
        } else if cfg.group_by_all() {
            group_by_all = true;
        }
        let matchers = cfg.all_matchers();
        let key = match place {
            Some((parent_key, _)) => format!("{parent_key}/{matchers}"),
            None => matchers.to_string(),
        };
        let id = match place {
            Some((_, pos)) => format!("{key}/{pos}"),
            None => key.clone(),
        };
        let mut route = Route {
            receiver: if cfg.receiver.is_empty() {
                parent.receiver.clone()
            } else {
                cfg.receiver.clone()
            },
            group_by,
            group_by_all,
            group_wait: cfg.group_wait.map_or(parent.group_wait, |d| d.std()),
            group_interval: cfg
                .group_interval
                .map_or(parent.group_interval, |d| d.std()),
            repeat_interval: cfg
                .repeat_interval
                .map_or(parent.repeat_interval, |d| d.std()),
            mute_time_intervals: cfg.mute_time_intervals.clone(),
            active_time_intervals: cfg.active_time_intervals.clone(),
            matchers,
            continue_matching: cfg.continue_,
            routes: Vec::new(),
            key,
            id,
        };
        route.routes = cfg
            .routes
            .iter()
            .enumerate()
            .map(|(i, c)| Route::build(c, &route, Some((&route.key, i))))
            .collect();
        route
    }

    /// The routes that take an alert with `labels`, in tree order; empty when
    /// this node's own matchers reject it.
    pub fn match_labels(&self, labels: &LabelSet) -> Vec<&Route> {
        let mut out = Vec::new();
        self.collect_matches(labels, &mut out);
        out
    }

    /// Appends this subtree's matches; returns whether this node matched.
    fn collect_matches<'a>(&'a self, labels: &LabelSet, out: &mut Vec<&'a Route>) -> bool {
        if !self.matchers.matches(labels) {
            return false;
        }
        let before = out.len();
        for child in &self.routes {
            if child.collect_matches(labels, out) && !child.continue_matching {
                break;
            }
        }
        if out.len() == before {
            out.push(self);
        }
        true
    }

    /// The node's key: its ancestors' matchers and its own, `/`-separated
    /// (`{}/{env="prod"}`). Siblings with equal matchers share a key.
    pub fn key(&self) -> String {
        self.key.clone()
    }

    /// The key plus the node's position among its siblings (`{}/{env="prod"}/0`);
    /// unique in the tree.
    pub fn id(&self) -> String {
        self.id.clone()
    }

    /// The labels of `labels` that define the alert's group on this route.
    pub fn group_labels(&self, labels: &LabelSet) -> LabelSet {
        labels
            .iter()
            .filter(|(name, _)| self.group_by_all || self.group_by.contains(*name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The aggregation group key for `group_labels` on this route, as
    /// Alertmanager prints it: `{}/{env="prod"}:{alertname="X", env="prod"}`.
    pub fn group_key(&self, group_labels: &LabelSet) -> String {
        format!("{}:{}", self.key, label_set_string(group_labels))
    }

    /// Calls `f` on every node, parents before children.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Route)) {
        f(self);
        for c in &self.routes {
            c.walk(f);
        }
    }
}

/// A label set as Prometheus's `model.LabelSet.String()` prints it:
/// `{a="1", b="2"}`, names sorted, values Go-quoted.
pub fn label_set_string(labels: &LabelSet) -> String {
    let inner: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

#[cfg(test)]
mod tests;
