//! What the service tells its operators: a request id and an access-log
//! line in a span for every request, and `/metrics` in the Prometheus text
//! format (docs/operations.md, "Observability").
//!
//! The runtime records its own figures (runs, batches, deliveries,
//! scheduler lateness) through the `metrics` facade; this module installs
//! the one Prometheus recorder of the process, adds the HTTP figures, and
//! reads the gauges it can only know at scrape time (the database pool,
//! notifications by status).

use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
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
pub struct RoutePattern(pub std::sync::Arc<str>);

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
fn route_of(req: &actix_web::HttpRequest) -> Option<String> {
    match req.app_data::<RoutePattern>() {
        Some(RoutePattern(pattern)) => Some(pattern.to_string()),
        None => req.match_pattern(),
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
    let method = req.method().as_str().to_owned();
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    let peer = req.peer_addr();
    let path = req.path().to_owned();
    let answer = next.call(req).instrument(span.clone()).await;
    let (status, route) = match &answer {
        Ok(res) => (res.status(), route_of(res.request())),
        // Only a middleware's failure gets here, and it took the request.
        Err(e) => (e.as_response_error().status_code(), None),
    };
    let route = route.unwrap_or_else(|| "unmatched".to_owned());
    span.record("route", route.as_str());
    let elapsed = started.elapsed();
    span.record("status", status.as_u16());
    // A successful read is logged at debug: dashboards and orchestrators
    // poll all day, and a line per poll would cost more than the read
    // itself (docs/benchmarks.md, "Reads through HTTP"). Writes and
    // refusals stay at info.
    let peer = peer.map(|p| p.ip().to_string()).unwrap_or_default();
    let ms = elapsed.as_secs_f64() * 1000.0;
    let code = status.as_u16();
    span.in_scope(|| {
        if matches!(method.as_str(), "GET" | "HEAD") && code < 400 {
            tracing::debug!(target: "mentor_scheduler::http", peer = %peer, path = %path, ms, "{method} {route} {code}");
        } else {
            tracing::info!(target: "mentor_scheduler::http", peer = %peer, path = %path, ms, "{method} {route} {code}");
        }
    });
    metrics::counter!(
        "mentor_scheduler_http_requests_total",
        "method" => method.clone(),
        "route" => route.clone(),
        "status" => status.as_u16().to_string(),
    )
    .increment(1);
    metrics::histogram!(
        "mentor_scheduler_http_request_duration_seconds",
        "method" => method,
        "route" => route,
    )
    .record(elapsed.as_secs_f64());
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
