//! The load generator: requests to the frontend at a steady rate, in the
//! model's mix, each in its own task so a slow answer does not slow the rate.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::model::{self, Route};

pub(crate) async fn run(
    client: reqwest::Client,
    frontend: SocketAddr,
    per_second: f64,
    seed: u64,
    cancel: CancellationToken,
) {
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x6c6f_6164);
    let period = Duration::from_secs_f64(1.0 / per_second.clamp(0.01, 10_000.0));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let urls = [Route::Index, Route::Products, Route::Checkout]
        .map(|r| format!("http://{frontend}{}", r.path()));
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let route = model::pick_entry(&mut rng);
        let req = match route {
            Route::Index => client.get(&urls[0]),
            Route::Products => client.get(&urls[1]),
            _ => client
                .post(&urls[2])
                .header("content-type", "application/json")
                .body(r#"{"product_id":1,"quantity":1}"#),
        };
        let cancel = cancel.clone();
        tokio::spawn(async move {
            // The answer does not matter: the services measure themselves.
            tokio::select! {
                _ = cancel.cancelled() => {}
                r = req.send() => { if let Ok(r) = r { let _ = r.bytes().await; } }
            }
        });
    }
}
