//! Field values while evaluating (borrowed from the span or the query,
//! never allocated per comparison), and how they compare and combine.

use crate::ast::{BinOp, Static};
use crate::matcher::Matcher;
use sightline_core::traces::{AnyValue, SpanKind, StatusCode};
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// Missing: an absent attribute, a span without events, ...
    Nil,
    Int(i64),
    Float(f64),
    Str(&'a str),
    Bool(bool),
    /// Nanoseconds.
    Duration(i64),
    Status(StatusCode),
    Kind(SpanKind),
    /// A trace or span id: compares with a string of hex digits.
    Id(&'a [u8]),
    /// An array attribute: `=`, `=~` (and the orderings) hold when some
    /// element holds them, `!=` and `!~` when no element is equal / matches.
    Array(&'a [AnyValue]),
    /// Present but of a type TraceQL does not compare (bytes, maps):
    /// exists for `!= nil`, false for every other comparison.
    Other,
}

impl<'a> Value<'a> {
    pub fn from_any(v: &'a AnyValue) -> Value<'a> {
        match v {
            AnyValue::Str(s) => Value::Str(s),
            AnyValue::Int(i) => Value::Int(*i),
            AnyValue::Float(f) => Value::Float(*f),
            AnyValue::Bool(b) => Value::Bool(*b),
            AnyValue::Array(a) => Value::Array(a),
            AnyValue::Bytes(_) | AnyValue::Map(_) => Value::Other,
        }
    }

    pub fn from_static(s: &'a Static) -> Value<'a> {
        match s {
            Static::Nil => Value::Nil,
            Static::Int(i) => Value::Int(*i),
            Static::Float(f) => Value::Float(*f),
            Static::Str(s) => Value::Str(s),
            Static::Bool(b) => Value::Bool(*b),
            Static::Duration(d) => Value::Duration(*d),
            Static::Status(s) => Value::Status(*s),
            Static::Kind(k) => Value::Kind(*k),
        }
    }

    pub fn to_static(self) -> Static {
        match self {
            Value::Nil | Value::Other => Static::Nil,
            Value::Int(i) => Static::Int(i),
            Value::Float(f) => Static::Float(f),
            Value::Str(s) => Static::Str(s.to_string()),
            Value::Bool(b) => Static::Bool(b),
            Value::Duration(d) => Static::Duration(d),
            Value::Status(s) => Static::Status(s),
            Value::Kind(k) => Static::Kind(k),
            Value::Id(b) => Static::Str(hex(b)),
            Value::Array(a) => Static::Str(AnyValue::Array(a.to_vec()).to_text()),
        }
    }

    /// The value as a number, when it is one (durations in nanoseconds).
    pub fn as_f64(self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            Value::Duration(d) => Some(d as f64),
            _ => None,
        }
    }

    pub fn is_true(self) -> bool {
        self == Value::Bool(true)
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Whether the id's hex form equals `s` (case-insensitive), without
/// formatting it.
fn id_eq(id: &[u8], s: &str) -> bool {
    let s = s.as_bytes();
    if s.len() != 2 * id.len() {
        return false;
    }
    id.iter().zip(s.chunks(2)).all(|(b, pair)| {
        let d = |c: u8| (c as char).to_digit(16);
        match (d(pair[0]), d(pair[1])) {
            (Some(h), Some(l)) => (h << 4 | l) as u8 == *b,
            _ => false,
        }
    })
}

fn ordered(op: BinOp, o: Option<Ordering>) -> bool {
    let Some(o) = o else { return false };
    match op {
        BinOp::Eq => o == Ordering::Equal,
        BinOp::Neq => o != Ordering::Equal,
        BinOp::Gt => o == Ordering::Greater,
        BinOp::Gte => o != Ordering::Less,
        BinOp::Lt => o == Ordering::Less,
        BinOp::Lte => o != Ordering::Greater,
        _ => false,
    }
}

/// `x = nil` / `x != nil`: whether `x` is missing / present.
pub fn exists_test(op: BinOp, v: Value<'_>) -> bool {
    match op {
        BinOp::Eq => v == Value::Nil,
        BinOp::Neq => v != Value::Nil,
        _ => false,
    }
}

/// A comparison, as Tempo evaluates it: a missing value or mismatched
/// types make it false (`!=` too); numbers (ints, floats, durations)
/// compare with each other. (A comparison with the literal `nil` is an
/// existence test, [`exists_test`], decided before values are compared.)
pub fn compare(op: BinOp, l: Value<'_>, r: Value<'_>, re: Option<&Matcher>) -> bool {
    use Value::*;
    match (l, r) {
        (Nil, _) | (_, Nil) => false,
        (Array(items), r) => {
            let any = |op| items.iter().any(|x| compare(op, Value::from_any(x), r, re));
            match op {
                BinOp::Neq => !any(BinOp::Eq),
                BinOp::Nre => !any(BinOp::Re),
                op => any(op),
            }
        }
        _ if matches!(op, BinOp::Re | BinOp::Nre) => {
            let Some(re) = re else { return false };
            let m = match l {
                Str(s) => re.is_match(s),
                Id(b) => re.is_match(&hex(b)),
                _ => return false,
            };
            m == (op == BinOp::Re)
        }
        (Int(a), Int(b)) | (Duration(a), Duration(b)) => ordered(op, Some(a.cmp(&b))),
        (Str(a), Str(b)) => ordered(op, Some(a.cmp(b))),
        (Id(a), Str(b)) | (Str(b), Id(a)) => match op {
            BinOp::Eq => id_eq(a, b),
            BinOp::Neq => !id_eq(a, b),
            _ => false,
        },
        (Bool(a), Bool(b)) => eq_only(op, a == b),
        (Status(a), Status(b)) => eq_only(op, a == b),
        (Kind(a), Kind(b)) => eq_only(op, a == b),
        _ => match (l.as_f64(), r.as_f64()) {
            (Some(a), Some(b)) => ordered(op, a.partial_cmp(&b)),
            _ => false,
        },
    }
}

fn eq_only(op: BinOp, equal: bool) -> bool {
    match op {
        BinOp::Eq => equal,
        BinOp::Neq => !equal,
        _ => false,
    }
}

/// `+ - * / % ^`: two ints give an int, as in Tempo (`/` truncates; a
/// negative power gives a float); a duration with any number gives a
/// duration (nanoseconds, truncated); otherwise a float. Anything else,
/// and division by zero, is nil.
pub fn arithmetic<'a>(op: BinOp, l: Value<'a>, r: Value<'a>) -> Value<'a> {
    if let (Value::Int(a), Value::Int(b)) = (l, r) {
        return match op {
            BinOp::Add => Value::Int(a.wrapping_add(b)),
            BinOp::Sub => Value::Int(a.wrapping_sub(b)),
            BinOp::Mul => Value::Int(a.wrapping_mul(b)),
            BinOp::Mod if b != 0 => Value::Int(a.wrapping_rem(b)),
            BinOp::Div if b != 0 => Value::Int(a.wrapping_div(b)),
            BinOp::Pow => match u32::try_from(b) {
                Ok(e) => Value::Int(a.wrapping_pow(e)),
                Err(_) => Value::Float((a as f64).powf(b as f64)),
            },
            _ => Value::Nil,
        };
    }
    let (Some(a), Some(b)) = (l.as_f64(), r.as_f64()) else {
        return Value::Nil;
    };
    let v = match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div if b != 0.0 => a / b,
        BinOp::Mod if b != 0.0 => a % b,
        BinOp::Pow => return Value::Float(a.powf(b)),
        _ => return Value::Nil,
    };
    if matches!(l, Value::Duration(_)) || matches!(r, Value::Duration(_)) {
        Value::Duration(v.trunc() as i64)
    } else {
        Value::Float(v)
    }
}
