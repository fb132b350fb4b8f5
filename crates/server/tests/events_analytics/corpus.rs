//! The corpus of the analytics end-to-end tests (events_analytics.rs and
//! events_analytics_ui.rs): ~50k seeded events with known structure, and
//! the analytics routes serving them.
#![allow(dead_code)]

use serde_json::json;
use sightline_api::analytics::{analytics_routes, EventsSource};
use sightline_eventstore::analytics::testing::track;
use sightline_eventstore::model::{Event, EventAppender};
use sightline_eventstore::{EventStore, EventStoreOptions};
use std::sync::Arc;

pub const DAY: i64 = 86_400_000;
/// Monday 2026-01-05T00:00:00Z: weeks of the corpus start on its days.
pub const T0: i64 = 1_767_571_200_000;
pub const DAYS: i64 = 60;
const PEOPLE: usize = 1500;

/// A small deterministic generator (xorshift64*), so the corpus is the
/// same in every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// People sign up over the first 50 days (plan, and an experiment variant
/// they are shown at sign-up; 2% see both), then come back on some days
/// (less and less often), view pages, log in, fill carts and buy: variant
/// "b" buys more often than "control". A few events are anonymous.
pub fn corpus() -> Vec<Event> {
    let mut rng = Rng(0x5eed_0019_0004);
    let mut out = Vec::new();
    let plans = ["free", "free", "free", "pro", "team"];
    let paths = ["/", "/pricing", "/docs", "/blog", "/app"];
    for p in 0..PEOPLE {
        let who = format!("user-{p}");
        let plan = plans[rng.below(plans.len() as u64) as usize];
        let variant = if rng.chance(0.5) { "b" } else { "control" };
        let buy_p = if variant == "b" { 0.55 } else { 0.35 };
        let signup_day = rng.below(50) as i64;
        let mut t = T0 + signup_day * DAY + rng.below(20 * 3600) as i64 * 1000;
        let step = |t: &mut i64, rng: &mut Rng| *t += 1000 + rng.below(1800) as i64 * 1000;
        out.push(track(t, "signup", &who, json!({"plan": plan})));
        step(&mut t, &mut rng);
        out.push(track(
            t,
            "experiment_viewed",
            &who,
            json!({"variant": variant}),
        ));
        if rng.chance(0.02) {
            step(&mut t, &mut rng);
            let other = if variant == "b" { "control" } else { "b" };
            out.push(track(
                t,
                "experiment_viewed",
                &who,
                json!({"variant": other}),
            ));
        }
        for d in signup_day..DAYS {
            let age = (d - signup_day) as f64;
            if d > signup_day && !rng.chance(0.45 / (1.0 + age / 10.0)) {
                continue;
            }
            let mut t = (T0 + d * DAY + rng.below(8 * 3600) as i64 * 1000).max(t + 1000);
            out.push(track(t, "login", &who, json!({})));
            for _ in 0..1 + rng.below(6) {
                step(&mut t, &mut rng);
                let path = paths[rng.below(paths.len() as u64) as usize];
                out.push(track(
                    t,
                    "page_view",
                    &who,
                    json!({"path": path, "plan": plan}),
                ));
            }
            if rng.chance(0.3) {
                step(&mut t, &mut rng);
                out.push(track(t, "add_to_cart", &who, json!({"plan": plan})));
                if rng.chance(buy_p) {
                    step(&mut t, &mut rng);
                    let amount = 1 + rng.below(200);
                    out.push(track(
                        t,
                        "purchase",
                        &who,
                        json!({"amount": amount, "plan": plan}),
                    ));
                }
            }
            // t moves on within the day; the next day starts later anyway.
            let _ = t;
        }
    }
    for i in 0..400 {
        let mut e = track(
            T0 + rng.below(DAYS as u64 * 86_400) as i64 * 1000,
            "page_view",
            "",
            json!({"path": "/"}),
        );
        e.user_id = None;
        e.anonymous_id = Some(format!("anon-{}", i % 150));
        e.message_id = format!("anon-msg-{i}");
        out.push(e);
    }
    out
}

/// The events behind the routes: the event store itself, in a directory
/// of its own, with four fifths of the corpus cut into day blocks and the
/// rest left in the head, so answers merge both.
pub fn source(events: Vec<Event>) -> Arc<dyn EventsSource> {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let store = EventStore::open(&dir, EventStoreOptions::default()).expect("open the event store");
    let split = events.len() * 4 / 5;
    for chunk in events[..split].chunks(5000) {
        store.append(chunk.to_vec()).expect("append");
    }
    store.cut().expect("cut the head into day blocks");
    for chunk in events[split..].chunks(5000) {
        store.append(chunk.to_vec()).expect("append");
    }
    Arc::new(store)
}

/// Serves the routes (and the web UI) on a free port; returns the base URL.
pub fn serve(source: Arc<dyn EventsSource>, ui: bool) -> (tokio::runtime::Runtime, String) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut app = analytics_routes(source);
    if ui {
        app = app.merge(sightline_ui::router());
    }
    rt.spawn(async move {
        axum::serve(listener, app).await.ok();
    });
    (rt, format!("http://{addr}"))
}
