//! What the service tells its operators: a request id and an access-log
//! line in a span for every request, and `/metrics` in the Prometheus text
//! format (docs/operations.md, "Observability").
//!
//! The runtime records its own figures (runs, batches, deliveries,
//! scheduler lateness) through the `metrics` facade; this module installs
//! the one Prometheus recorder of the process, adds the HTTP figures, and
//! reads the gauges it can only know at scrape time (the database pool,
//! notifications by status).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use scenario_engine::service::{NotificationFilter, NotificationStatus, PageRequest};
use tracing::Instrument;

use crate::error::ApiError;
use crate::state::AppState;

/// The request id header, read from the request and echoed in the answer.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id taken from a client; a longer (or unprintable)
/// one is replaced by a fresh id.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// The pattern of the route a request reached, kept with its resource
/// (`routes::configure`) so that the metrics and the access log name the
/// route without matching the path against the route table a second time
/// (the router matched it once already).
#[derive(Debug, Clone)]
pub struct RoutePattern(pub Arc<str>);

/// A request's id, in its extensions for whoever wants to log it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Buckets of the latency histograms, in seconds: from a cached read to a
/// whole run.
const SECONDS_BUCKETS: [f64; 16] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
    600.0,
];

/// The process's Prometheus recorder, installed on first use: every
/// `metrics::counter!` of the process, the runtime's included, lands in it.
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &SECONDS_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Only fails when another recorder was installed first, in which
        // case this one still renders what is recorded through it: nothing.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// The id of `req`: its `x-request-id` when it is 1-128 visible ASCII
/// characters, else a fresh ULID.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= MAX_REQUEST_ID_LEN
                && id.bytes().all(|b| b.is_ascii_graphic())
        })
        .map_or_else(|| ulid::Ulid::new().to_string(), str::to_owned)
}

/// The pattern of the route `req` reached: the one its resource keeps, or
/// for a request answered before it reached one (a refusal of the tokens),
/// the one its path matches; `None` for a path no route matches.
fn route_of(req: &actix_web::HttpRequest) -> Option<Arc<str>> {
    match req.app_data::<RoutePattern>() {
        Some(RoutePattern(pattern)) => Some(pattern.clone()),
        None => req.match_pattern().map(Arc::from),
    }
}

/// The route label of a request no route matches.
fn unmatched() -> Arc<str> {
    static UNMATCHED: OnceLock<Arc<str>> = OnceLock::new();
    UNMATCHED.get_or_init(|| Arc::from("unmatched")).clone()
}

/// The method as a metrics label: the methods of HTTP by name, and any
/// other token a client may send as `other`, so that requests cannot add
/// series without bound.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

/// A method label, a route pattern and a status.
type HttpSeries = (&'static str, Arc<str>, u16);

/// The HTTP figures of one method, route and status.
struct HttpFigures {
    requests: metrics::Counter,
    duration: metrics::Histogram,
}

thread_local! {
    /// The figures each worker thread has recorded into, by method, route
    /// and status: found in the recorder once, not on every request (a
    /// lookup there builds the labelled key and hashes it). Routes,
    /// method labels and statuses are finite, and so is this.
    static HTTP_FIGURES: RefCell<HashMap<HttpSeries, HttpFigures>> =
        RefCell::new(HashMap::new());
}

/// Counts one request and records how long it took.
fn record_request(method: &'static str, route: Arc<str>, status: u16, elapsed: Duration) {
    HTTP_FIGURES.with(|figures| {
        let mut figures = figures.borrow_mut();
        let figures =
            figures
                .entry((method, route, status))
                .or_insert_with_key(|(method, route, status)| HttpFigures {
                    requests: metrics::counter!(
                        "mentor_scheduler_http_requests_total",
                        "method" => *method,
                        "route" => route.to_string(),
                        "status" => status.to_string(),
                    ),
                    duration: metrics::histogram!(
                        "mentor_scheduler_http_request_duration_seconds",
                        "method" => *method,
                        "route" => route.to_string(),
                    ),
                });
        figures.requests.increment(1);
        figures.duration.record(elapsed.as_secs_f64());
    });
}

/// A peer's address in the access log: its IP, or nothing when unknown.
struct PeerIp(Option<std::net::SocketAddr>);

impl std::fmt::Display for PeerIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(addr) => addr.ip().fmt(f),
            None => Ok(()),
        }
    }
}

/// The outermost middleware: the request id (echoed in `x-request-id`), a
/// `request` span around everything the request does, one access-log line,
/// and the HTTP metrics by route pattern and status.
///
/// # Errors
/// Whatever the app answers with as an error (answers are errors only
/// when something failed before a response could be made).
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().clone();
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    let peer = PeerIp(req.peer_addr());
    // A clone of the URI shares its bytes: the log line's path costs no
    // copy unless a line is written.
    let uri = req.uri().clone();
    let answer = next.call(req).instrument(span.clone()).await;
    let (status, route) = match &answer {
        Ok(res) => (res.status(), route_of(res.request())),
        // Only a middleware's failure gets here, and it took the request.
        Err(e) => (e.as_response_error().status_code(), None),
    };
    let route = route.unwrap_or_else(unmatched);
    span.record("route", &*route);
    let elapsed = started.elapsed();
    let code = status.as_u16();
    span.record("status", code);
    // A successful read is logged at debug: dashboards and orchestrators
    // poll all day, and a line per poll would cost more than the read
    // itself (docs/benchmarks.md, "Reads through HTTP"). Writes and
    // refusals stay at info.
    let ms = elapsed.as_secs_f64() * 1000.0;
    let path = uri.path();
    span.in_scope(|| {
        if matches!(method, Method::GET | Method::HEAD) && code < 400 {
            tracing::debug!(target: "mentor_scheduler::http", peer = %peer, path = %path, ms, "{method} {route} {code}");
        } else {
            tracing::info!(target: "mentor_scheduler::http", peer = %peer, path = %path, ms, "{method} {route} {code}");
        }
    });
    record_request(method_label(&method), route, code, elapsed);
    let mut res = answer?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}

/// `GET /metrics`: everything recorded, plus the gauges read now.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain"),
        (status = 401, body = crate::error::ErrorBody),
    ))]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let handle = recorder();
    // The handlers' pool, and the runs' own when they have one.
    let pools = std::iter::once(("handlers", &state.store))
        .chain(state.runs_store.as_ref().map(|s| ("runs", s)));
    for (name, store) in pools {
        let pool = store.pool_state();
        metrics::gauge!("mentor_scheduler_db_connections", "pool" => name, "state" => "in_use")
            .set(f64::from(
                pool.connections.saturating_sub(pool.idle_connections),
            ));
        metrics::gauge!("mentor_scheduler_db_connections", "pool" => name, "state" => "idle")
            .set(f64::from(pool.idle_connections));
    }
    let outbox = state.runtime.notifications.clone();
    let counts = web::block(move || {
        NotificationStatus::ALL
            .into_iter()
            .map(|status| {
                let filter = NotificationFilter {
                    status: Some(status),
                    ..NotificationFilter::default()
                };
                outbox
                    .list(&filter, PageRequest { page: 1, limit: 1 })
                    .map(|page| (status, page.total))
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await??;
    for (status, count) in counts {
        metrics::gauge!("mentor_scheduler_notifications", "status" => status.as_str())
            .set(count as f64);
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render()))
}

/// Query parameters of a database URL that are safe to show in a log; the
/// value of any other is masked (libpq's `password`, `sslpassword`, keys
/// and whatever a driver adds later).
const SHOWN_PARAMETERS: [&str; 8] = [
    "sslmode",
    "application_name",
    "connect_timeout",
    "host",
    "port",
    "dbname",
    "user",
    "target_session_attrs",
];

/// A database URL fit for a log line. A `scheme://` URL is parsed: its
/// password and the values of query parameters that may hold a secret are
/// masked as `***`. A SQLite path without a scheme is shown as it is.
///
/// ```
/// use mentor_scheduler_api::observe::redacted_database_url as r;
/// assert_eq!(r("postgres://app:s3cret@db:5432/ms"), "postgres://app:***@db:5432/ms");
/// assert_eq!(
///     r("postgresql://db/ms?user=app&password=s3cret&sslmode=require"),
///     "postgresql://db/ms?user=app&password=***&sslmode=require"
/// );
/// assert_eq!(r("./data/mentor-scheduler.db"), "./data/mentor-scheduler.db");
/// ```
pub fn redacted_database_url(raw: &str) -> String {
    if !raw.contains("://") {
        return raw.to_owned();
    }
    let Ok(mut url) = url::Url::parse(raw) else {
        // Not a URL we can read: show only its scheme.
        let scheme = raw.split("://").next().unwrap_or_default();
        return format!("{scheme}://***");
    };
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let shown = SHOWN_PARAMETERS.contains(&k.as_ref());
                (
                    k.into_owned(),
                    if shown {
                        v.into_owned()
                    } else {
                        "***".to_owned()
                    },
                )
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string().replace("%2A%2A%2A", "***")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_method_outside_http_is_counted_as_other() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let made_up = Method::from_bytes(b"PURGE").unwrap();
        assert_eq!(method_label(&made_up), "other");
    }

    #[test]
    fn kept_figures_count_every_request() {
        let handle = recorder();
        let route: Arc<str> = Arc::from("/kept-figures-test");
        for _ in 0..3 {
            record_request("GET", route.clone(), 200, Duration::from_millis(2));
        }
        record_request("GET", route, 404, Duration::from_millis(1));
        let text = handle.render();
        let line = |status: &str| {
            format!(
                "mentor_scheduler_http_requests_total{{method=\"GET\",route=\"/kept-figures-test\",status=\"{status}\"}} "
            )
        };
        let count = |status: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(line(status).as_str()))
                .map(str::to_owned)
        };
        assert_eq!(count("200").as_deref(), Some("3"), "{text}");
        assert_eq!(count("404").as_deref(), Some("1"), "{text}");
        let histogram = "mentor_scheduler_http_request_duration_seconds_count{method=\"GET\",route=\"/kept-figures-test\"} 4";
        assert!(text.contains(histogram), "{text}");
    }

    #[test]
    fn database_urls_lose_every_secret_in_the_log() {
        for (raw, shown) in [
            ("postgres://u:pw@h/db", "postgres://u:***@h/db"),
            (
                "postgres://u:p%40w@h:5432/db?sslmode=require",
                "postgres://u:***@h:5432/db?sslmode=require",
            ),
            (
                "postgres://h/db?password=pw",
                "postgres://h/db?password=***",
            ),
            (
                "postgresql://h/db?sslpassword=pw&application_name=ms",
                "postgresql://h/db?sslpassword=***&application_name=ms",
            ),
            (
                "postgres://u@h/db?PassWord=pw",
                "postgres://u@h/db?PassWord=***",
            ),
            ("sqlite:///var/lib/ms.db", "sqlite:///var/lib/ms.db"),
            ("./data/ms.db", "./data/ms.db"),
        ] {
            let r = redacted_database_url(raw);
            assert_eq!(r, shown, "{raw}");
            assert!(!r.contains("pw") || raw == shown, "{r}");
        }
    }
}
