//! Property filters evaluated on batch columns: the per-step filters of a
//! funnel and the conversion filters of an A/B test, which the scan cannot
//! apply because they hold for some events of the question and not others.

use crate::model::{EventBatch, PropFilter, PropOp};
use crate::{Error, Result};

/// Whether a property's value (`None`: the event has none) passes `op`.
pub fn matches(op: &PropOp, value: Option<&str>) -> bool {
    match (op, value) {
        (PropOp::Exists, v) => v.is_some(),
        (PropOp::Ne(t), v) => v != Some(t.as_str()),
        (_, None) => false,
        (PropOp::Eq(t), Some(v)) => v == t,
        (PropOp::In(ts), Some(v)) => ts.iter().any(|t| t == v),
        (PropOp::Contains(t), Some(v)) => v.contains(t.as_str()),
        (PropOp::Gt(x), Some(v)) => v.parse::<f64>().is_ok_and(|n| n > *x),
        (PropOp::Lt(x), Some(v)) => v.parse::<f64>().is_ok_and(|n| n < *x),
    }
}

/// Checks a property key names a place an event has properties in:
/// `properties.<key>`, `traits.<key>` or `context.<path>`.
pub fn check_key(key: &str, field: &str) -> Result<()> {
    let ok = ["properties.", "traits.", "context."]
        .iter()
        .any(|p| key.strip_prefix(p).is_some_and(|rest| !rest.is_empty()));
    if ok {
        Ok(())
    } else {
        Err(Error::BadInput {
            field: field.into(),
            reason: format!(
                "property key {key:?} must start with \"properties.\", \"traits.\" or \"context.\""
            ),
        })
    }
}

/// Filters bound to the column positions of one scan's batches.
pub(crate) struct BoundFilters<'a> {
    filters: Vec<(&'a PropOp, usize)>,
}

impl<'a> BoundFilters<'a> {
    /// Binds `filters` to `columns` (the scan's [`crate::model::ScanRequest::columns`]);
    /// every key must be among them.
    pub(crate) fn bind(filters: &'a [PropFilter], columns: &[String]) -> Self {
        let filters = filters
            .iter()
            .map(|f| {
                let col = columns
                    .iter()
                    .position(|c| *c == f.key)
                    .expect("filter keys are added to the scan's columns");
                (&f.op, col)
            })
            .collect();
        BoundFilters { filters }
    }

    /// Whether event `i` of `batch` passes every filter.
    pub(crate) fn pass(&self, batch: &EventBatch, i: usize) -> bool {
        self.filters
            .iter()
            .all(|(op, col)| matches(op, batch.props.get(*col).and_then(|c| c.get(i))))
    }
}

/// Adds `key` to `columns` unless there, returning its position.
pub(crate) fn column(columns: &mut Vec<String>, key: &str) -> usize {
    match columns.iter().position(|c| c == key) {
        Some(i) => i,
        None => {
            columns.push(key.to_string());
            columns.len() - 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops() {
        let eq = PropOp::Eq("pro".into());
        assert!(matches(&eq, Some("pro")));
        assert!(!matches(&eq, Some("free")));
        assert!(!matches(&eq, None));
        let ne = PropOp::Ne("pro".into());
        assert!(matches(&ne, None));
        assert!(!matches(&ne, Some("pro")));
        assert!(matches(&PropOp::Gt(9.5), Some("10")));
        assert!(!matches(&PropOp::Gt(9.5), Some("ten")));
        assert!(matches(&PropOp::Lt(0.0), Some("-1")));
        assert!(matches(
            &PropOp::In(vec!["a".into(), "b".into()]),
            Some("b")
        ));
        assert!(matches(&PropOp::Contains("ro".into()), Some("pro")));
        assert!(matches(&PropOp::Exists, Some("")));
        assert!(!matches(&PropOp::Exists, None));
    }

    #[test]
    fn keys() {
        assert!(check_key("properties.plan", "breakdown").is_ok());
        assert!(check_key("context.page.path", "breakdown").is_ok());
        let e = check_key("plan", "breakdown").unwrap_err().to_string();
        assert!(e.starts_with("breakdown: property key \"plan\""), "{e}");
        assert!(check_key("traits.", "x").is_err());
    }
}
