//! Writes the shop's simulated history to a file and prints its size and the
//! time it took: `cargo run --release -p sightline-demo --example history --
//! OUT.om [HOURS] [SEED]`; check it with `sightline import openmetrics OUT.om
//! DIR` or `promtool tsdb create-blocks-from openmetrics OUT.om DIR`.

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().expect("usage: history OUT.om [HOURS] [SEED]");
    let hours: f64 = args
        .next()
        .map(|h| h.parse().expect("HOURS is a number"))
        .unwrap_or(6.0);
    let seed: u64 = args
        .next()
        .map(|s| s.parse().expect("SEED is a number"))
        .unwrap_or(1);
    let end = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_millis() as i64;
    let start = end - (hours * 3_600_000.0) as i64;
    let t = std::time::Instant::now();
    let h = sightline_demo::history::generate(start, end, seed);
    let took = t.elapsed();
    std::fs::write(&out, &h.openmetrics).expect("cannot write the output file");
    let log_bytes: usize = h.log_lines.iter().map(|l| l.line.len() + 1).sum();
    let spans: usize = h
        .spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum();
    let span_bytes: usize = h.spans.iter().map(prost::Message::encoded_len).sum();
    println!(
        "{hours} h in {:.0} ms: openmetrics {} bytes, {} log lines ({log_bytes} bytes), {spans} spans in {} batches ({span_bytes} protobuf bytes)",
        took.as_secs_f64() * 1000.0,
        h.openmetrics.len(),
        h.log_lines.len(),
        h.spans.len(),
    );
}
