//! The span model: OpenTelemetry's, which OTLP carries as is and which
//! Zipkin's and Jaeger's formats map onto.

use super::{SpanPredicate, TagScope};
use std::fmt;
use std::sync::Arc;

/// Why a hex id did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdError(pub String);

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for IdError {}

fn parse_hex<const N: usize>(s: &str, what: &str) -> Result<[u8; N], IdError> {
    let s = s.trim();
    if s.is_empty() || s.len() > 2 * N {
        return Err(IdError(format!(
            "invalid {what} {s:?}: want 1 to {} hex digits",
            2 * N
        )));
    }
    let mut out = [0u8; N];
    // Left-padded with zeros: Tempo, Jaeger and Zipkin all accept ids whose
    // leading zeros were dropped (Jaeger's JSON prints them so), and a
    // 64-bit Zipkin trace id is the low half of a 128-bit one.
    let pad = 2 * N - s.len();
    for (i, c) in s.bytes().enumerate() {
        let v = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => {
                return Err(IdError(format!(
                    "invalid {what} {s:?}: {:?} is not a hex digit",
                    c as char
                )))
            }
        };
        let pos = pad + i;
        out[pos / 2] |= if pos.is_multiple_of(2) { v << 4 } else { v };
    }
    Ok(out)
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for b in bytes {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

/// A 128-bit trace id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TraceId(pub [u8; 16]);

impl TraceId {
    /// From 1 to 32 hex digits, left-padded with zeros.
    pub fn parse_hex(s: &str) -> Result<TraceId, IdError> {
        parse_hex::<16>(s, "trace id").map(TraceId)
    }

    /// From OTLP's bytes (16 of them; Zipkin's 8-byte ids are left-padded).
    pub fn from_slice(b: &[u8]) -> Result<TraceId, IdError> {
        if b.is_empty() || b.len() > 16 {
            return Err(IdError(format!(
                "invalid trace id: {} bytes, want 16",
                b.len()
            )));
        }
        let mut out = [0u8; 16];
        out[16 - b.len()..].copy_from_slice(b);
        Ok(TraceId(out))
    }

    pub fn is_zero(&self) -> bool {
        self.0 == [0; 16]
    }

    /// The low 64 bits (Jaeger's `traceIdLow`, a 64-bit Zipkin id).
    pub fn low(&self) -> u64 {
        u64::from_be_bytes(self.0[8..].try_into().expect("8 bytes"))
    }

    /// The high 64 bits (Jaeger's `traceIdHigh`).
    pub fn high(&self) -> u64 {
        u64::from_be_bytes(self.0[..8].try_into().expect("8 bytes"))
    }

    pub fn from_halves(high: u64, low: u64) -> TraceId {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&high.to_be_bytes());
        out[8..].copy_from_slice(&low.to_be_bytes());
        TraceId(out)
    }
}

impl fmt::Display for TraceId {
    /// 32 lowercase hex digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

/// A 64-bit span id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SpanId(pub [u8; 8]);

impl SpanId {
    /// From 1 to 16 hex digits, left-padded with zeros.
    pub fn parse_hex(s: &str) -> Result<SpanId, IdError> {
        parse_hex::<8>(s, "span id").map(SpanId)
    }

    pub fn from_slice(b: &[u8]) -> Result<SpanId, IdError> {
        <[u8; 8]>::try_from(b)
            .map(SpanId)
            .map_err(|_| IdError(format!("invalid span id: {} bytes, want 8", b.len())))
    }

    pub fn from_u64(v: u64) -> SpanId {
        SpanId(v.to_be_bytes())
    }

    pub fn as_u64(&self) -> u64 {
        u64::from_be_bytes(self.0)
    }

    pub fn is_zero(&self) -> bool {
        self.0 == [0; 8]
    }
}

impl fmt::Display for SpanId {
    /// 16 lowercase hex digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

/// An attribute value, as OTLP's `AnyValue`.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyValue {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Bytes(Vec<u8>),
    Array(Vec<AnyValue>),
    Map(Attributes),
}

impl AnyValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AnyValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as text, as Jaeger and Zipkin show attributes (numbers in
    /// their shortest form, arrays and maps as JSON).
    pub fn to_text(&self) -> String {
        match self {
            AnyValue::Str(s) => s.clone(),
            AnyValue::Int(i) => i.to_string(),
            AnyValue::Float(f) => crate::gofmt::shortest_g(*f),
            AnyValue::Bool(b) => b.to_string(),
            AnyValue::Bytes(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
            AnyValue::Array(_) | AnyValue::Map(_) => self.to_json_text(),
        }
    }

    fn to_json_text(&self) -> String {
        fn quote(s: &str) -> String {
            let mut out = String::with_capacity(s.len() + 2);
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
        match self {
            AnyValue::Str(s) => quote(s),
            AnyValue::Array(a) => {
                let items: Vec<String> = a.iter().map(AnyValue::to_json_text).collect();
                format!("[{}]", items.join(","))
            }
            AnyValue::Map(m) => {
                let items: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{}:{}", quote(k), v.to_json_text()))
                    .collect();
                format!("{{{}}}", items.join(","))
            }
            AnyValue::Float(f) if !f.is_finite() => quote(&self.to_text()),
            other => other.to_text(),
        }
    }

    /// Rough bytes held, for size limits.
    pub fn size_bytes(&self) -> usize {
        match self {
            AnyValue::Str(s) => s.len(),
            AnyValue::Bytes(b) => b.len(),
            AnyValue::Int(_) | AnyValue::Float(_) => 8,
            AnyValue::Bool(_) => 1,
            AnyValue::Array(a) => a.iter().map(AnyValue::size_bytes).sum(),
            AnyValue::Map(m) => attrs_size(m),
        }
    }
}

/// Key-value attributes in the order they came (keys unique).
pub type Attributes = Vec<(String, AnyValue)>;

fn attrs_size(a: &Attributes) -> usize {
    a.iter().map(|(k, v)| k.len() + v.size_bytes()).sum()
}

/// Looks up `key` in `attrs`.
pub fn attr<'a>(attrs: &'a Attributes, key: &str) -> Option<&'a AnyValue> {
    attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// The entity that produced spans: its attributes (`service.name`, ...).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resource {
    pub attributes: Attributes,
    pub dropped_attributes_count: u32,
}

impl Resource {
    /// `service.name`, when set and a string.
    pub fn service_name(&self) -> Option<&str> {
        attr(&self.attributes, "service.name").and_then(AnyValue::as_str)
    }
}

/// The instrumentation scope (library) that made spans.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scope {
    pub name: String,
    pub version: String,
    pub attributes: Attributes,
}

/// OTLP's span kinds, with their wire numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum SpanKind {
    #[default]
    Unspecified = 0,
    Internal = 1,
    Server = 2,
    Client = 3,
    Producer = 4,
    Consumer = 5,
}

impl SpanKind {
    pub fn from_i32(v: i32) -> SpanKind {
        match v {
            1 => SpanKind::Internal,
            2 => SpanKind::Server,
            3 => SpanKind::Client,
            4 => SpanKind::Producer,
            5 => SpanKind::Consumer,
            _ => SpanKind::Unspecified,
        }
    }

    /// TraceQL's and Tempo's name: `unspecified`, `internal`, `server`, ...
    pub fn name(&self) -> &'static str {
        match self {
            SpanKind::Unspecified => "unspecified",
            SpanKind::Internal => "internal",
            SpanKind::Server => "server",
            SpanKind::Client => "client",
            SpanKind::Producer => "producer",
            SpanKind::Consumer => "consumer",
        }
    }

    /// OTLP's enum name, as span metrics label it (`SPAN_KIND_SERVER`).
    pub fn otlp_name(&self) -> &'static str {
        match self {
            SpanKind::Unspecified => "SPAN_KIND_UNSPECIFIED",
            SpanKind::Internal => "SPAN_KIND_INTERNAL",
            SpanKind::Server => "SPAN_KIND_SERVER",
            SpanKind::Client => "SPAN_KIND_CLIENT",
            SpanKind::Producer => "SPAN_KIND_PRODUCER",
            SpanKind::Consumer => "SPAN_KIND_CONSUMER",
        }
    }
}

/// A span's status code, with OTLP's wire numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum StatusCode {
    #[default]
    Unset = 0,
    Ok = 1,
    Error = 2,
}

impl StatusCode {
    pub fn from_i32(v: i32) -> StatusCode {
        match v {
            1 => StatusCode::Ok,
            2 => StatusCode::Error,
            _ => StatusCode::Unset,
        }
    }

    /// TraceQL's name: `unset`, `ok`, `error`.
    pub fn name(&self) -> &'static str {
        match self {
            StatusCode::Unset => "unset",
            StatusCode::Ok => "ok",
            StatusCode::Error => "error",
        }
    }

    /// OTLP's enum name, as span metrics label it (`STATUS_CODE_ERROR`).
    pub fn otlp_name(&self) -> &'static str {
        match self {
            StatusCode::Unset => "STATUS_CODE_UNSET",
            StatusCode::Ok => "STATUS_CODE_OK",
            StatusCode::Error => "STATUS_CODE_ERROR",
        }
    }
}

/// A timed event within a span (an exception, a log).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanEvent {
    pub time_ns: i64,
    pub name: String,
    pub attributes: Attributes,
    pub dropped_attributes_count: u32,
}

/// A link from a span to a span of another (or the same) trace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanLink {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub trace_state: String,
    pub attributes: Attributes,
    pub dropped_attributes_count: u32,
}

/// One span, with the resource and scope it came under.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Span {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    /// `None` for a root span.
    pub parent_span_id: Option<SpanId>,
    pub trace_state: String,
    pub name: String,
    pub kind: SpanKind,
    /// Nanoseconds since the epoch.
    pub start_ns: i64,
    pub end_ns: i64,
    pub attributes: Attributes,
    pub dropped_attributes_count: u32,
    pub events: Vec<SpanEvent>,
    pub dropped_events_count: u32,
    pub links: Vec<SpanLink>,
    pub dropped_links_count: u32,
    pub status_code: StatusCode,
    pub status_message: String,
    /// Shared by the spans of one resource in a batch.
    pub resource: Arc<Resource>,
    pub scope: Arc<Scope>,
}

impl Span {
    pub fn duration_ns(&self) -> i64 {
        (self.end_ns - self.start_ns).max(0)
    }

    pub fn is_root(&self) -> bool {
        self.parent_span_id.is_none()
    }

    /// The resource's `service.name`, or `""`.
    pub fn service_name(&self) -> &str {
        self.resource.service_name().unwrap_or("")
    }

    /// The value of `key` in `scope` (for [`TagScope::Any`]: the span's
    /// attribute, else the resource's, as TraceQL's unscoped `.key` looks).
    pub fn attribute(&self, scope: TagScope, key: &str) -> Option<&AnyValue> {
        match scope {
            TagScope::Span => attr(&self.attributes, key),
            TagScope::Resource => attr(&self.resource.attributes, key),
            TagScope::Instrumentation => attr(&self.scope.attributes, key),
            TagScope::Any => {
                attr(&self.attributes, key).or_else(|| attr(&self.resource.attributes, key))
            }
            TagScope::Event => self.events.iter().find_map(|e| attr(&e.attributes, key)),
            TagScope::Link => self.links.iter().find_map(|l| attr(&l.attributes, key)),
        }
    }

    /// Every attribute in `scope` (events' and links' all together;
    /// [`TagScope::Any`]: the span's, then the resource's).
    pub fn attributes_in(&self, scope: TagScope) -> Vec<&(String, AnyValue)> {
        match scope {
            TagScope::Span => self.attributes.iter().collect(),
            TagScope::Resource => self.resource.attributes.iter().collect(),
            TagScope::Instrumentation => self.scope.attributes.iter().collect(),
            TagScope::Event => self
                .events
                .iter()
                .flat_map(|e| e.attributes.iter())
                .collect(),
            TagScope::Link => self
                .links
                .iter()
                .flat_map(|l| l.attributes.iter())
                .collect(),
            TagScope::Any => self
                .attributes
                .iter()
                .chain(self.resource.attributes.iter())
                .collect(),
        }
    }

    /// Whether this span holds `p` (exactly).
    pub fn satisfies(&self, p: &SpanPredicate) -> bool {
        match p {
            SpanPredicate::ServiceName(s) => self.service_name() == s,
            SpanPredicate::SpanName(s) => &self.name == s,
            // An array holding the string counts too: TraceQL's `=` holds
            // when any element of an array attribute is equal.
            SpanPredicate::AttrEquals { scope, key, value } => {
                self.any_attribute(*scope, key, |v| match v {
                    AnyValue::Array(items) => items.iter().any(|x| x.as_str() == Some(value)),
                    v => v.as_str() == Some(value),
                })
            }
            SpanPredicate::AttrExists { scope, key } => self.any_attribute(*scope, key, |_| true),
            SpanPredicate::MinDuration(ns) => self.duration_ns() >= *ns,
            SpanPredicate::MaxDuration(ns) => self.duration_ns() <= *ns,
            SpanPredicate::Status(c) => self.status_code == *c,
            SpanPredicate::Kind(k) => self.kind == *k,
        }
    }

    /// Whether some value of `key` in `scope` holds `f` (events and links
    /// may hold several).
    fn any_attribute(&self, scope: TagScope, key: &str, f: impl Fn(&AnyValue) -> bool) -> bool {
        match scope {
            TagScope::Event => self
                .events
                .iter()
                .any(|e| attr(&e.attributes, key).is_some_and(&f)),
            TagScope::Link => self
                .links
                .iter()
                .any(|l| attr(&l.attributes, key).is_some_and(&f)),
            TagScope::Any => {
                attr(&self.attributes, key).is_some_and(&f)
                    || attr(&self.resource.attributes, key).is_some_and(&f)
            }
            s => self.attribute(s, key).is_some_and(f),
        }
    }

    /// Rough bytes held (ids, times, names and attributes; the shared
    /// resource not counted), for size limits and rate limits.
    pub fn size_bytes(&self) -> usize {
        48 + self.trace_state.len()
            + self.name.len()
            + attrs_size(&self.attributes)
            + self
                .events
                .iter()
                .map(|e| 8 + e.name.len() + attrs_size(&e.attributes))
                .sum::<usize>()
            + self
                .links
                .iter()
                .map(|l| 24 + l.trace_state.len() + attrs_size(&l.attributes))
                .sum::<usize>()
            + self.status_message.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_left_padded_and_print_full() {
        let t = TraceId::parse_hex("1f").unwrap();
        assert_eq!(t.to_string(), format!("{}1f", "0".repeat(30)));
        assert_eq!(t.low(), 0x1f);
        let full = "0af7651916cd43dd8448eb211c80319c";
        assert_eq!(TraceId::parse_hex(full).unwrap().to_string(), full);
        assert_eq!(
            TraceId::parse_hex("0AF7651916CD43DD8448EB211C80319C").unwrap(),
            TraceId::parse_hex(full).unwrap()
        );
        let t = TraceId::parse_hex(full).unwrap();
        assert_eq!(TraceId::from_halves(t.high(), t.low()), t);
        assert!(TraceId::parse_hex("").is_err());
        assert!(TraceId::parse_hex(&"1".repeat(33)).is_err());
        let e = TraceId::parse_hex("12zz").unwrap_err();
        assert!(e.0.contains("'z'"), "{e}");
        assert_eq!(
            SpanId::parse_hex("b7ad6b7169203331").unwrap().as_u64(),
            0xb7ad6b7169203331
        );
        assert_eq!(
            TraceId::from_slice(&[1, 2, 3, 4, 5, 6, 7, 8])
                .unwrap()
                .low(),
            0x0102030405060708
        );
    }

    #[test]
    fn values_as_text() {
        assert_eq!(AnyValue::Float(1.5).to_text(), "1.5");
        assert_eq!(AnyValue::Int(-3).to_text(), "-3");
        let m = AnyValue::Map(vec![(
            "a".into(),
            AnyValue::Array(vec![AnyValue::Str("x\"y".into()), AnyValue::Bool(true)]),
        )]);
        assert_eq!(m.to_text(), r#"{"a":["x\"y",true]}"#);
    }

    #[test]
    fn predicates_hold_as_spans_do() {
        let res = Arc::new(Resource {
            attributes: vec![("service.name".into(), AnyValue::Str("api".into()))],
            dropped_attributes_count: 0,
        });
        let s = Span {
            name: "GET /".into(),
            start_ns: 100,
            end_ns: 350,
            attributes: vec![("http.route".into(), AnyValue::Str("/".into()))],
            resource: res,
            ..Default::default()
        };
        assert!(s.satisfies(&SpanPredicate::ServiceName("api".into())));
        assert!(!s.satisfies(&SpanPredicate::ServiceName("db".into())));
        assert!(s.satisfies(&SpanPredicate::MinDuration(250)));
        assert!(!s.satisfies(&SpanPredicate::MinDuration(251)));
        assert!(s.satisfies(&SpanPredicate::AttrEquals {
            scope: TagScope::Any,
            key: "service.name".into(),
            value: "api".into()
        }));
        assert!(!s.satisfies(&SpanPredicate::AttrEquals {
            scope: TagScope::Span,
            key: "service.name".into(),
            value: "api".into()
        }));
        let tagged = Span {
            attributes: vec![(
                "tags".into(),
                AnyValue::Array(vec![AnyValue::Str("a".into()), AnyValue::Int(1)]),
            )],
            ..s.clone()
        };
        let tag = |v: &str| SpanPredicate::AttrEquals {
            scope: TagScope::Span,
            key: "tags".into(),
            value: v.into(),
        };
        assert!(tagged.satisfies(&tag("a")));
        assert!(!tagged.satisfies(&tag("1")));
        assert!(s.satisfies(&SpanPredicate::AttrExists {
            scope: TagScope::Span,
            key: "http.route".into()
        }));
    }
}
