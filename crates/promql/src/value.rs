//! What a query returns.

use sightline_core::{FloatHistogram, HistogramSample, Labels, Sample};

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct InstantSample {
    /// The series' labels (after `__name__` removal where PromQL drops it).
    pub labels: Labels,
    /// Evaluation timestamp in milliseconds.
    pub t: i64,
    /// The value (0 when the sample is a histogram).
    pub v: f64,
    /// The native histogram, when the sample is one.
    pub h: Option<FloatHistogram>,
}

/// One series of a range vector (matrix).
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSeries {
    /// The series' labels.
    pub labels: Labels,
    /// Float points in time order.
    pub points: Vec<Sample>,
    /// Native histogram points in time order (a timestamp is in at most
    /// one of `points` and `histograms`).
    pub histograms: Vec<HistogramSample>,
}

/// The value of a query, as Prometheus's API types it (`resultType`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `scalar`: a timestamp (ms) and a value.
    Scalar(i64, f64),
    /// `string`: a timestamp (ms) and a string.
    String(i64, String),
    /// `vector`: an instant vector.
    Vector(Vec<InstantSample>),
    /// `matrix`: a range vector; range queries always return one, sorted by labels.
    Matrix(Vec<RangeSeries>),
}

impl Value {
    /// The `resultType` string of Prometheus's JSON API.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar(..) => "scalar",
            Value::String(..) => "string",
            Value::Vector(_) => "vector",
            Value::Matrix(_) => "matrix",
        }
    }
}

/// A query's value plus the annotations Prometheus reports beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    /// The result.
    pub value: Value,
    /// `PromQL warning: ...` annotations (API field `warnings`).
    pub warnings: Vec<String>,
    /// `PromQL info: ...` annotations (API field `infos`).
    pub infos: Vec<String>,
}
