//! The traffic model the live shop and the history share: which routes
//! exist, who calls whom, the request mix, each hop's own latency and its
//! own failures under a fault.

use crate::Fault;

/// Every route of every service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Route {
    /// frontend `GET /`
    Index,
    /// frontend `GET /products` → db
    Products,
    /// frontend `POST /checkout` → checkout
    Checkout,
    /// checkout `POST /orders` → db, payments, db
    Orders,
    /// payments `POST /charge`
    Charge,
    /// db `POST /query`: `SELECT products`
    SelectProducts,
    /// db `POST /query`: `SELECT stock`
    SelectStock,
    /// db `POST /query`: `INSERT order`
    InsertOrder,
}

/// The db statements, by the `op` a caller sends in its body.
pub(crate) const DB_OPS: [(Route, &str, &str); 3] = [
    (
        Route::SelectProducts,
        "select_products",
        "SELECT id, name, price FROM products LIMIT 20",
    ),
    (
        Route::SelectStock,
        "select_stock",
        "SELECT stock FROM products WHERE id = $1 FOR UPDATE",
    ),
    (
        Route::InsertOrder,
        "insert_order",
        "INSERT INTO orders (product_id, amount) VALUES ($1, $2)",
    ),
];

impl Route {
    /// The index in [`crate::SERVICES`] of the service that serves it.
    pub(crate) fn service(self) -> usize {
        match self {
            Route::Index | Route::Products | Route::Checkout => 0,
            Route::Orders => 1,
            Route::Charge => 2,
            Route::SelectProducts | Route::SelectStock | Route::InsertOrder => 3,
        }
    }

    pub(crate) fn method(self) -> &'static str {
        match self {
            Route::Index | Route::Products => "GET",
            _ => "POST",
        }
    }

    /// The route label (the axum path).
    pub(crate) fn path(self) -> &'static str {
        match self {
            Route::Index => "/",
            Route::Products => "/products",
            Route::Checkout => "/checkout",
            Route::Orders => "/orders",
            Route::Charge => "/charge",
            _ => "/query",
        }
    }

    /// The db `op` this route stands for.
    pub(crate) fn db_op(self) -> Option<&'static str> {
        DB_OPS
            .iter()
            .find(|(r, _, _)| *r == self)
            .map(|(_, op, _)| *op)
    }

    pub(crate) fn db_statement(self) -> Option<&'static str> {
        DB_OPS
            .iter()
            .find(|(r, _, _)| *r == self)
            .map(|(_, _, s)| *s)
    }

    /// The downstream calls this route makes, in order; the first failure
    /// stops the rest.
    pub(crate) fn calls(self) -> &'static [Route] {
        match self {
            Route::Products => &[Route::SelectProducts],
            Route::Checkout => &[Route::Orders],
            Route::Orders => &[Route::SelectStock, Route::Charge, Route::InsertOrder],
            _ => &[],
        }
    }
}

/// The frontend's request mix: half the home page, a third the product list,
/// the rest checkouts.
pub(crate) fn pick_entry(rng: &mut fastrand::Rng) -> Route {
    match rng.u32(0..100) {
        0..50 => Route::Index,
        50..85 => Route::Products,
        _ => Route::Checkout,
    }
}

/// What one hop does by itself, before its downstream calls.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Own {
    /// Its own work, in milliseconds (fault slowness included).
    pub(crate) ms: f64,
    /// It answers this status without calling downstream (500 from an error
    /// fault, 503 when down, 402 for a declined card, 500 for the payment
    /// provider's rare failures).
    pub(crate) fail: Option<u16>,
    /// A slow query (db only): shows in the span and the logs.
    pub(crate) slow_query: bool,
}

/// Draws one hop's own behaviour under `fault`.
pub(crate) fn own(route: Route, fault: &Fault, rng: &mut fastrand::Rng) -> Own {
    if *fault == Fault::Down {
        return Own {
            ms: 0.5,
            fail: Some(503),
            slow_query: false,
        };
    }
    // A skewed jitter: most requests near the base, a tail a few times longer.
    let (base, spread) = match route {
        Route::Index => (4.0, 6.0),
        Route::Products => (8.0, 10.0),
        Route::Checkout => (10.0, 15.0),
        Route::Orders => (15.0, 20.0),
        Route::Charge => (60.0, 80.0),
        _ => (2.0, 6.0),
    };
    let u = rng.f64();
    let mut ms = base + spread * u * u * 2.0;
    let mut slow_query = false;
    if route.service() == 3 && rng.u32(0..100) == 0 {
        // One query in a hundred waits on a lock.
        slow_query = true;
        ms += 150.0 + 250.0 * rng.f64();
    }
    let mut fail = None;
    match fault {
        Fault::Slow { extra_ms } => ms += *extra_ms as f64,
        Fault::Errors { ratio } if rng.f64() < *ratio => fail = Some(500),
        _ => {}
    }
    if fail.is_none() && route == Route::Charge {
        match rng.u32(0..1000) {
            0..20 => fail = Some(402),
            20..22 => fail = Some(500),
            _ => {}
        }
    }
    Own {
        ms,
        fail,
        slow_query,
    }
}

/// The status a hop answers when a downstream call answered `status`: a
/// declined card passes through, any server error becomes a 502.
pub(crate) fn upstream_status(status: u16) -> u16 {
    if status >= 500 {
        502
    } else {
        status
    }
}

/// The buckets of `http_request_duration_seconds` (Prometheus's defaults).
pub(crate) const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
