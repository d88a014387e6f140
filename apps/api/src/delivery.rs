//! The notification worker (SPEC sections 6, 13 and 15): it claims due
//! `pending` notifications in batches, hands each to a sink, and writes the
//! outcomes of a batch in one transaction. The rules (claims, retries, the
//! delivery window) are `scenario_engine`'s; this module owns the threads,
//! the HTTP and the signature.
//!
//! Two sinks: [`Sink::Log`] writes one structured `tracing` line per
//! notification; [`Sink::Webhook`] POSTs the stored payload, signed with
//! HMAC-SHA256 ([`signature`]).
//!
//! An idle worker costs nothing: it sleeps until the earliest
//! `next_attempt_at` of a pending notification (one indexed read), until the
//! delivery window opens, or until woken through a [`DeliveryWaker`] (the
//! evaluation handlers wake it when they enqueue), and at most
//! [`DeliveryConfig::idle_poll`] (other instances may enqueue too).

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, KeyInit, Mac};
use scenario_engine::service::{
    AttemptResult, Clock, Delivery, DeliveryWindow, Notification, OutboxError, OutboxService,
    RetryPolicy,
};
use sha2::Sha256;
use tokio::sync::Notify;

use crate::error::ErrorChain;

/// Notifications claimed per batch, by default.
pub const DEFAULT_BATCH_SIZE: u32 = 50;
/// How long a webhook call may take, by default.
pub const DEFAULT_WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest sleep of an idle worker: other instances may enqueue
/// without waking this one.
pub const DEFAULT_IDLE_POLL: Duration = Duration::from_secs(60);
/// The shortest secret accepted for signing, in bytes.
pub const MIN_SECRET_BYTES: usize = 16;
/// How long the worker waits after a storage error before trying again.
const ERROR_PAUSE: Duration = Duration::from_secs(5);
/// How long the worker waits when something is due that it could not claim
/// (another instance is claiming it right now).
const CONTENDED_PAUSE: Duration = Duration::from_millis(200);
/// The most of a failed webhook answer's body kept in `last_error`.
const ERROR_BODY_CHARS: usize = 200;

/// A secret that never shows in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// The secret's bytes, for signing.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(Arc::from(s)))
    }
}

/// Why a sink could not be set up (a startup error).
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The webhook URL does not parse or is not `http(s)://host...`.
    #[error("MENTOR_SCHEDULER_WEBHOOK_URL is not an http:// or https:// URL: {0}")]
    InvalidUrl(String),
    /// The webhook sink needs a URL.
    #[error("the webhook sink needs MENTOR_SCHEDULER_WEBHOOK_URL (or --webhook-url)")]
    MissingUrl,
    /// The webhook sink signs every request: it needs a secret.
    #[error(
        "the webhook sink needs MENTOR_SCHEDULER_WEBHOOK_SECRET of at least {MIN_SECRET_BYTES} bytes to sign its requests"
    )]
    WeakSecret,
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot build the webhook HTTP client")]
    Client(#[source] reqwest::Error),
}

/// The `X-Signature` of a webhook request: `sha256=` and the lowercase hex
/// HMAC-SHA256, keyed with the secret, of `timestamp + "." + body` (the
/// exact bytes sent).
///
/// ```
/// use mentor_scheduler_api::delivery::signature;
/// assert_eq!(
///     signature(b"0123456789abcdef", 1_774_425_600, br#"{"version":1}"#),
///     "sha256=b21c406d926df1075e94e64278f11ca07ada7841b7b204a7983265903a28aa4d"
/// );
/// ```
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        unreachable!("HMAC accepts keys of every length")
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + digest.len() * 2);
    out.push_str("sha256=");
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The webhook sink: a POST of the notification's payload to one URL.
#[derive(Clone)]
pub struct WebhookSink {
    client: reqwest::Client,
    url: reqwest::Url,
    secret: Secret,
}

impl fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSink")
            .field("target", &redacted_url(&self.url))
            .finish_non_exhaustive()
    }
}

/// A URL for logs: scheme, host and port only. Webhook URLs often carry a
/// token in their path or query, and the secret is never logged.
fn redacted_url(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{}://{host}:{p}/…", url.scheme()),
        None => format!("{}://{host}/…", url.scheme()),
    }
}

/// Where notifications go.
#[derive(Debug, Clone)]
pub enum Sink {
    /// One `tracing` line per notification (target
    /// `mentor_scheduler::notifications`); always delivered.
    Log,
    /// A signed POST (SPEC section 15, "Webhook wire format").
    Webhook(WebhookSink),
}

impl Sink {
    /// The webhook sink for `url`, signing with `secret`; each call may take
    /// up to `timeout`.
    ///
    /// # Errors
    /// [`SinkError`] for a URL that is not `http(s)://host...`, a secret
    /// shorter than [`MIN_SECRET_BYTES`], or a client that cannot be built.
    pub fn webhook(url: &str, secret: &Secret, timeout: Duration) -> Result<Self, SinkError> {
        let url = reqwest::Url::parse(url).map_err(|e| SinkError::InvalidUrl(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(SinkError::InvalidUrl(format!(
                "scheme `{}` with host {:?}",
                url.scheme(),
                url.host_str()
            )));
        }
        if secret.expose().len() < MIN_SECRET_BYTES {
            return Err(SinkError::WeakSecret);
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect is a receiver to reconfigure, not to follow: a 3xx
            // fails the notification (classify_http_status).
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mentor-scheduler/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(SinkError::Client)?;
        Ok(Self::Webhook(WebhookSink {
            client,
            url,
            secret: secret.clone(),
        }))
    }

    /// `log` or `webhook`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Log => "log",
            Self::Webhook(_) => "webhook",
        }
    }

    /// Where it delivers, for the start-up log line (no secrets).
    pub fn describe(&self) -> String {
        match self {
            Self::Log => "the log (target mentor_scheduler::notifications)".to_owned(),
            Self::Webhook(w) => redacted_url(&w.url),
        }
    }

    /// Delivers one notification as attempt `attempt`, signed (webhook) at
    /// Unix time `timestamp`.
    pub async fn deliver(&self, n: &Notification, attempt: u32, timestamp: i64) -> AttemptResult {
        match self {
            Self::Log => {
                tracing::info!(
                    target: "mentor_scheduler::notifications",
                    notification_id = %n.id,
                    user_id = %n.user_id,
                    org_id = %n.org_id,
                    scenario_type = n.scenario_type.as_str(),
                    reason_code = n.payload["reason_code"].as_str().unwrap_or_default(),
                    reason = n.payload["reason"].as_str().unwrap_or_default(),
                    attempt,
                    "notification"
                );
                AttemptResult::Delivered
            }
            Self::Webhook(w) => w.post(n, timestamp).await,
        }
    }
}

impl WebhookSink {
    async fn post(&self, n: &Notification, timestamp: i64) -> AttemptResult {
        // The stored payload is the wire body; these bytes are signed and sent.
        let body = match serde_json::to_vec(&n.payload) {
            Ok(b) => b,
            Err(e) => return AttemptResult::Permanent(format!("payload does not serialise: {e}")),
        };
        let sig = signature(self.secret.expose(), timestamp, &body);
        let sent = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Notification-Id", n.id.as_str())
            .header("X-Timestamp", timestamp.to_string())
            .header("X-Signature", sig)
            .body(body)
            .send()
            .await;
        let mut resp = match sent {
            // Connection errors and timeouts: the receiver may be back later.
            // The error is formatted without its URL (it may hold a token).
            Err(e) => return AttemptResult::Retryable(ErrorChain(&e.without_url()).to_string()),
            Ok(r) => r,
        };
        let status = resp.status();
        let class = classify_http_status(status.as_u16());
        if class == StatusClass::Delivered {
            return AttemptResult::Delivered;
        }
        // A little of the answer helps whoever reads `last_error`.
        let snippet = match resp.chunk().await {
            Ok(Some(bytes)) => String::from_utf8_lossy(&bytes)
                .chars()
                .take(ERROR_BODY_CHARS)
                .collect::<String>(),
            _ => String::new(),
        };
        let error = if snippet.trim().is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {}", snippet.trim())
        };
        match class {
            StatusClass::Retryable => AttemptResult::Retryable(error),
            StatusClass::Permanent | StatusClass::Delivered => AttemptResult::Permanent(error),
        }
    }
}

/// How a webhook's HTTP status classifies an attempt (SPEC section 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusClass {
    /// 2xx.
    Delivered,
    /// 408, 429 and 5xx.
    Retryable,
    /// Everything else: other 4xx, and 1xx and 3xx (the webhook follows no
    /// redirects: a moved receiver is a configuration to fix, not a retry).
    Permanent,
}

/// Classifies a webhook's HTTP status.
fn classify_http_status(status: u16) -> StatusClass {
    match status {
        200..=299 => StatusClass::Delivered,
        408 | 429 | 500..=599 => StatusClass::Retryable,
        _ => StatusClass::Permanent,
    }
}

/// How the worker delivers.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Where notifications go.
    pub sink: Sink,
    /// Attempts and backoff.
    pub policy: RetryPolicy,
    /// Local hours of delivery (in the evaluation time zone); `None` delivers at once.
    pub window: Option<DeliveryWindow>,
    /// Notifications claimed per batch.
    pub batch_size: u32,
    /// How long a claim lasts: longer than the slowest attempt of a batch
    /// (the attempts of a batch run side by side).
    pub claim_ttl: TimeDelta,
    /// The longest sleep of an idle worker.
    pub idle_poll: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            sink: Sink::Log,
            policy: RetryPolicy::default(),
            window: None,
            batch_size: DEFAULT_BATCH_SIZE,
            claim_ttl: claim_ttl_for(DEFAULT_WEBHOOK_TIMEOUT),
            idle_poll: DEFAULT_IDLE_POLL,
        }
    }
}

/// The claim TTL for a webhook timeout: twice the timeout (connecting and
/// answering) plus 30 s for writing the batch's outcomes.
pub fn claim_ttl_for(timeout: Duration) -> TimeDelta {
    TimeDelta::from_std(timeout * 2).unwrap_or(TimeDelta::minutes(2)) + TimeDelta::seconds(30)
}

/// A cheap, cloneable handle that wakes the delivery worker: call
/// [`DeliveryWaker::wake`] after enqueueing notifications, so that they go
/// out now rather than at the worker's next poll. Waking an awake worker
/// costs nothing, and a wake while it works is kept for its next sleep.
#[derive(Debug, Clone, Default)]
pub struct DeliveryWaker(Arc<Notify>);

impl DeliveryWaker {
    /// A handle nothing listens to yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Wakes the worker.
    pub fn wake(&self) {
        self.0.notify_one();
    }

    async fn woken(&self) {
        self.0.notified().await;
    }
}

/// What one [`DeliveryWorker::step`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Outside the delivery window: nothing claimed; it opens at `until`.
    Held {
        /// When the window opens.
        until: DateTime<Utc>,
    },
    /// Nothing was due; `next` is when something is (if anything is pending).
    Idle {
        /// The earliest `next_attempt_at` of a pending notification.
        next: Option<DateTime<Utc>>,
    },
    /// A batch was attempted.
    Attempted {
        /// Notifications claimed and attempted.
        attempted: usize,
        /// Of them, delivered.
        delivered: usize,
        /// Outcomes written (the rest lost their claim meanwhile).
        recorded: u64,
    },
}

/// The delivery worker: [`DeliveryWorker::run`] is the loop `serve` starts
/// beside the scheduler loop; [`DeliveryWorker::step`] is one pass of it.
pub struct DeliveryWorker {
    outbox: OutboxService,
    clock: Arc<dyn Clock>,
    timezone: chrono_tz::Tz,
    config: DeliveryConfig,
    waker: DeliveryWaker,
    stopping: AtomicBool,
    stopped: Notify,
}

impl fmt::Debug for DeliveryWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeliveryWorker")
            .field("sink", &self.config.sink)
            .field("window", &self.config.window)
            .finish_non_exhaustive()
    }
}

/// A number in `[0, 1)` for the backoff's jitter: std's randomly keyed
/// hasher over a counter (no cryptographic quality needed, no dependency).
fn jitter() -> f64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::hash::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    // 53 random bits make an exact f64 fraction.
    (h.finish() >> 11) as f64 / (1_u64 << 53) as f64
}

impl DeliveryWorker {
    /// A worker over `outbox`, reading time from `clock` and the delivery
    /// window in `timezone`, woken through `waker`.
    pub fn new(
        outbox: OutboxService,
        clock: Arc<dyn Clock>,
        timezone: chrono_tz::Tz,
        config: DeliveryConfig,
        waker: DeliveryWaker,
    ) -> Self {
        Self {
            outbox,
            clock,
            timezone,
            config,
            waker,
            stopping: AtomicBool::new(false),
            stopped: Notify::new(),
        }
    }

    /// Wakes the worker (see [`DeliveryWaker`]).
    pub fn wake(&self) {
        self.waker.wake();
    }

    /// A handle that wakes this worker, for code that enqueues (the job runtime).
    pub fn waker(&self) -> DeliveryWaker {
        self.waker.clone()
    }

    /// The sink in use.
    pub fn sink(&self) -> &Sink {
        &self.config.sink
    }

    /// How long a claim lasts: also how long a stopping worker may take to
    /// finish the batch in hand.
    pub fn claim_ttl(&self) -> Duration {
        self.config.claim_ttl.to_std().unwrap_or(DEFAULT_IDLE_POLL)
    }

    /// The delivery window in force, if any.
    pub fn window(&self) -> Option<DeliveryWindow> {
        self.config.window
    }

    /// One pass: outside the delivery window, nothing; else, when something
    /// is due, claim one batch, attempt each notification of it side by
    /// side, and write every outcome in one transaction.
    ///
    /// # Errors
    /// [`OutboxError::Store`] when claiming or recording fails. Claimed
    /// notifications whose outcome was not written are due again when their
    /// claim lapses.
    pub async fn step(&self) -> Result<Step, OutboxError> {
        let now = self.clock.now();
        if let Some(window) = self.config.window {
            let opens = window.next_open(now, self.timezone);
            if opens > now {
                return Ok(Step::Held { until: opens });
            }
        }
        // A read first: an idle worker never takes SQLite's write lock.
        let outbox = self.outbox.clone();
        let next = blocking(move || outbox.next_due()).await?;
        if next.is_none_or(|t| t > now) {
            return Ok(Step::Idle { next });
        }
        let outbox = self.outbox.clone();
        let limit = self.config.batch_size;
        let batch = blocking(move || outbox.claim(limit)).await?;
        if batch.is_empty() {
            // Due, but another worker is claiming it right now.
            return Ok(Step::Idle { next });
        }
        let attempted = batch.len();
        let results = self.attempt(batch).await;
        let delivered = results
            .iter()
            .filter(|(_, r)| *r == AttemptResult::Delivered)
            .count();
        let settled: Vec<_> = results
            .into_iter()
            .map(|(claim, result)| self.outbox.settle(claim, result, jitter()))
            .collect();
        let outbox = self.outbox.clone();
        let recorded = blocking(move || outbox.record(&settled)).await?;
        if recorded < attempted as u64 {
            tracing::warn!(
                attempted,
                recorded,
                "some delivery outcomes were not recorded: their claims lapsed, or the notifications were cancelled or erased meanwhile"
            );
        }
        Ok(Step::Attempted {
            attempted,
            delivered,
            recorded,
        })
    }

    /// Attempts a batch side by side; the results in batch order.
    async fn attempt(
        &self,
        batch: Vec<Delivery>,
    ) -> Vec<(scenario_engine::service::Claim, AttemptResult)> {
        let timestamp = self.clock.now().timestamp();
        let tasks: Vec<_> = batch
            .into_iter()
            .map(|d| {
                let sink = self.config.sink.clone();
                let claim = d.claim;
                let n = d.notification;
                let attempt = claim.attempt;
                let task =
                    actix_web::rt::spawn(async move { sink.deliver(&n, attempt, timestamp).await });
                (claim, task)
            })
            .collect();
        let mut out = Vec::with_capacity(tasks.len());
        for (claim, task) in tasks {
            let result = task.await.unwrap_or_else(|e| {
                AttemptResult::Retryable(format!("the delivery task failed: {e}"))
            });
            out.push((claim, result));
        }
        out
    }

    /// The loop `serve` runs: steps while there is work, sleeps otherwise
    /// (until the next due notification, the window's opening, a wake, or
    /// at most [`DeliveryConfig::idle_poll`]), until [`DeliveryWorker::shutdown`].
    pub async fn run(self: Arc<Self>) {
        tracing::info!(
            sink = self.config.sink.name(),
            destination = %self.config.sink.describe(),
            window = ?self.config.window.map(|w| w.to_string()),
            timezone = self.timezone.name(),
            "notification worker started"
        );
        while !self.stopping.load(Ordering::Acquire) {
            let wait = match self.step().await {
                Ok(Step::Attempted { .. }) => continue,
                Ok(Step::Held { until }) => self.until(until),
                // Due but not claimable: another instance is claiming it now.
                Ok(Step::Idle { next: Some(next) }) if next <= self.clock.now() => CONTENDED_PAUSE,
                Ok(Step::Idle { next: Some(next) }) => self.until(next),
                Ok(Step::Idle { next: None }) => self.config.idle_poll,
                Err(e) => {
                    tracing::error!(error = %ErrorChain(&e), "notification worker: storage failed");
                    ERROR_PAUSE
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.waker.woken() => {}
                () = self.stopped.notified() => {}
            }
        }
        tracing::info!("notification worker stopped");
    }

    /// How long to sleep until `t` by the worker's clock, at most the idle poll.
    fn until(&self, t: DateTime<Utc>) -> Duration {
        (t - self.clock.now())
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(self.config.idle_poll)
    }

    /// Asks [`DeliveryWorker::run`] to stop: it finishes the batch in hand
    /// (its outcomes are written) and returns.
    pub fn shutdown(&self) {
        self.stopping.store(true, Ordering::Release);
        self.stopped.notify_one();
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, OutboxError> + Send + 'static,
) -> Result<T, OutboxError> {
    actix_web::rt::task::spawn_blocking(f).await.map_err(|e| {
        OutboxError::Store(scenario_engine::service::StoreError::Backend(Box::new(e)))
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_classes_follow_the_spec() {
        assert_eq!(classify_http_status(204), StatusClass::Delivered);
        assert_eq!(classify_http_status(429), StatusClass::Retryable);
        assert_eq!(classify_http_status(503), StatusClass::Retryable);
        assert_eq!(classify_http_status(404), StatusClass::Permanent);
        for s in [200, 201, 202, 204, 299] {
            assert_eq!(classify_http_status(s), StatusClass::Delivered, "{s}");
        }
        for s in [408, 429, 500, 502, 503, 504, 599] {
            assert_eq!(classify_http_status(s), StatusClass::Retryable, "{s}");
        }
        for s in [100, 301, 302, 400, 401, 403, 404, 409, 410, 422, 499, 600] {
            assert_eq!(classify_http_status(s), StatusClass::Permanent, "{s}");
        }
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // Independent value: printf '1774425600.{"version":1}' |
        //   openssl dgst -sha256 -hmac 0123456789abcdef
        assert_eq!(
            signature(b"0123456789abcdef", 1_774_425_600, br#"{"version":1}"#),
            "sha256=b21c406d926df1075e94e64278f11ca07ada7841b7b204a7983265903a28aa4d"
        );
        assert_ne!(
            signature(b"0123456789abcdef", 1_774_425_601, br#"{"version":1}"#),
            signature(b"0123456789abcdef", 1_774_425_600, br#"{"version":1}"#)
        );
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let secret: Secret = "s3cr3t-s3cr3t-s3cr3t".parse().unwrap();
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        let sink = Sink::webhook(
            "https://hooks.example.org/abc/TOKEN?key=TOKEN",
            &secret,
            Duration::from_secs(1),
        )
        .unwrap();
        let shown = format!("{sink:?} {}", sink.describe());
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("TOKEN"),
            "{shown}"
        );
        assert!(shown.contains("https://hooks.example.org/"), "{shown}");
    }

    #[test]
    fn a_webhook_needs_an_http_url_and_a_long_enough_secret() {
        let good: Secret = "0123456789abcdef".parse().unwrap();
        let short: Secret = "0123456789abcde".parse().unwrap();
        let t = Duration::from_secs(1);
        assert!(Sink::webhook("http://127.0.0.1:9/hook", &good, t).is_ok());
        assert!(matches!(
            Sink::webhook("http://127.0.0.1:9/hook", &short, t),
            Err(SinkError::WeakSecret)
        ));
        for bad in [
            "ftp://example.org/",
            "example.org/hook",
            "unix:/tmp/sock",
            "",
        ] {
            assert!(
                matches!(Sink::webhook(bad, &good, t), Err(SinkError::InvalidUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn jitter_is_a_fraction_and_varies() {
        let draws: Vec<f64> = (0..64).map(|_| jitter()).collect();
        assert!(draws.iter().all(|j| (0.0..1.0).contains(j)));
        assert!(draws.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn the_claim_outlasts_two_webhook_timeouts() {
        assert_eq!(
            claim_ttl_for(Duration::from_secs(10)),
            TimeDelta::seconds(50)
        );
        assert_eq!(
            claim_ttl_for(Duration::from_secs(60)),
            TimeDelta::seconds(150)
        );
    }
}
