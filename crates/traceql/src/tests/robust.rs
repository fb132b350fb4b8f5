//! Bad and outsized input: bounded nesting and size, random queries.

use super::store;
use crate::{parse, query_range, search};

#[test]
fn the_largest_queries_evaluate_on_a_small_stack() {
    // 999 operators, the most a query may hold, on a 1 MiB thread (half
    // what tokio gives a worker): no stack overflow.
    let field = format!("{{ {} }}", vec!["span.rows = 3"; 500].join(" && "));
    let spanset = vec!["{ span.rows = 3 }"; 500].join(" >> ");
    // And the deepest nesting allowed.
    let nested = format!(
        "{}{{ {}span.rows = 3{} }}{}",
        "(".repeat(31),
        "(".repeat(31),
        ")".repeat(31),
        ")".repeat(31)
    );
    let s = store();
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            for (q, want) in [(field, 1), (spanset, 0), (nested, 1)] {
                let r = search(&s, "t", &q, 0, i64::MAX, 10, 3).unwrap();
                assert_eq!(r.traces.len(), want, "{q}");
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn random_input_never_panics() {
    // Random queries from a small grammar, and the same with a character
    // dropped or a piece inserted: every input must parse or fail with an
    // error, never panic, and what parses must run.
    let fields = [
        "name",
        "status",
        "kind",
        "duration",
        "span.rows",
        "resource.service.name",
        ".x",
        "event:name",
        "span:childCount",
        "trace:duration",
        "span:id",
        "link:traceID",
    ];
    let ops = ["=", "!=", ">", "<", ">=", "<=", "=~", "!~"];
    let values = [
        "\"q1\"",
        "error",
        "server",
        "1ms",
        "3",
        "1.5",
        "nil",
        "true",
        "\"q.*\"",
        "-2",
        "span.rows + 1",
    ];
    let sops = [
        "&&", "||", ">", ">>", "<", "<<", "~", "!>", "!>>", "!<", "!<<", "!~", "&>", "&>>", "&<",
        "&<<", "&~",
    ];
    let stages = [
        "| count() > 1",
        "| by(name)",
        "| select(span.rows, duration)",
        "| coalesce()",
        "| avg(duration) > 1ms",
        "| { status = error }",
        "| max(span.rows) >= 3",
        "| rate()",
        "| count_over_time() by (name)",
        "| quantile_over_time(duration, .5)",
        "| histogram_over_time(duration)",
        "| min_over_time(span.rows)",
    ];
    let junk = [
        "{", "}", "(", ")", "|", "\"", "`", ".", "&", "!", "é", "\\", "1e", "µ",
    ];
    let s = store();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let (mut parsed, mut refused) = (0, 0);
    for _ in 0..5_000 {
        let mut q = String::new();
        for i in 0..1 + next(3) {
            if i > 0 {
                q.push_str(&format!(" {} ", sops[next(sops.len())]));
            }
            if next(5) == 0 {
                q.push_str("{}");
                continue;
            }
            q.push('{');
            for j in 0..1 + next(2) {
                if j > 0 {
                    q.push_str(if next(2) == 0 { " && " } else { " || " });
                }
                q.push_str(&format!(
                    " {} {} {}",
                    fields[next(fields.len())],
                    ops[next(ops.len())],
                    values[next(values.len())]
                ));
            }
            q.push_str(" }");
        }
        for _ in 0..next(3) {
            q.push(' ');
            q.push_str(stages[next(stages.len())]);
        }
        match next(3) {
            0 if !q.is_empty() => {
                let at = next(q.len());
                if q.is_char_boundary(at) {
                    let c = q[at..].chars().next().map_or(0, char::len_utf8);
                    q.replace_range(at..at + c, "");
                }
            }
            1 => {
                let at = next(q.len() + 1);
                if q.is_char_boundary(at) {
                    q.insert_str(at, junk[next(junk.len())]);
                }
            }
            _ => {}
        }
        match parse(&q) {
            Ok(query) => {
                parsed += 1;
                let ok = if query.metrics.is_none() {
                    search(&s, "t", &q, 0, i64::MAX, 5, 2).is_ok()
                } else {
                    query_range(&s, "t", &q, 0, 20_000_000_000, 10_000_000_000).is_ok()
                };
                assert!(ok, "{q}");
            }
            Err(e) => {
                refused += 1;
                assert!(
                    e.to_string().starts_with("parse error at line 1, col "),
                    "{q}: {e}"
                );
            }
        }
    }
    assert!(
        parsed > 1000 && refused > 500,
        "parsed {parsed}, refused {refused}"
    );
}
