//! The notification worker: it claims due `pending` notifications in
//! batches, hands each to a [`Sink`], and writes the outcomes of a batch in
//! one transaction. The rules (claims, retries, the delivery window) are
//! `scenario_engine`'s; this module owns the loop, its sleeps and its tasks.
//!
//! The runtime ships one sink, [`LogSink`], which writes one structured
//! `tracing` line per notification; the service adds a signed webhook.
//!
//! An idle worker costs nothing: it sleeps until the earliest
//! `next_attempt_at` of a pending notification (one indexed read), until the
//! delivery window opens, or until woken through a [`DeliveryWaker`] (what
//! enqueues wakes it), and at most [`DeliveryConfig::idle_poll`] (other
//! instances may enqueue too).

use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use scenario_engine::service::{
    AttemptResult, Clock, Delivery, DeliveryWindow, Notification, OutboxError, OutboxService,
    Outcome, RetryPolicy,
};
use tokio::sync::Notify;

use crate::error::ErrorChain;
use crate::telemetry;

/// Notifications claimed per batch, by default.
pub const DEFAULT_BATCH_SIZE: u32 = 50;
/// How long one delivery may take, by default (a webhook's timeout); the
/// claim on a batch outlasts it ([`claim_ttl_for`]).
pub const DEFAULT_DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest sleep of an idle worker: other instances may enqueue
/// without waking this one.
pub const DEFAULT_IDLE_POLL: Duration = Duration::from_secs(60);
/// How long the worker waits after a storage error before trying again.
const ERROR_PAUSE: Duration = Duration::from_secs(5);
/// How long the worker waits when something is due that it could not claim
/// (another instance is claiming it right now).
const CONTENDED_PAUSE: Duration = Duration::from_millis(200);

/// What a delivery attempt returns: a future the worker awaits on a task of
/// its own.
pub type Attempt<'a> = Pin<Box<dyn Future<Output = AttemptResult> + Send + 'a>>;

/// Where notifications go. A sink says how one attempt went; what that
/// means (delivered, retried later, failed) is the outbox's rule.
pub trait Sink: fmt::Debug + Send + Sync + 'static {
    /// A short name for logs (`log`, `webhook`).
    fn name(&self) -> &'static str;

    /// Where it delivers, for the start-up log line; never a secret.
    fn describe(&self) -> String;

    /// Delivers `n` as attempt number `attempt`. `clock` is the worker's:
    /// read it for the time of this attempt (a webhook signs each request
    /// with it) and of its answer, so that the tests' fixed clock holds here too.
    fn deliver<'a>(
        &'a self,
        n: &'a Notification,
        attempt: u32,
        clock: &'a dyn Clock,
    ) -> Attempt<'a>;
}

/// One `tracing` line per notification (target
/// `mentor_scheduler::notifications`); always delivered.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogSink;

impl Sink for LogSink {
    fn name(&self) -> &'static str {
        "log"
    }

    fn describe(&self) -> String {
        "the log (target mentor_scheduler::notifications)".to_owned()
    }

    fn deliver<'a>(
        &'a self,
        n: &'a Notification,
        attempt: u32,
        _clock: &'a dyn Clock,
    ) -> Attempt<'a> {
        let payload = n.payload.to_value();
        tracing::info!(
            target: "mentor_scheduler::notifications",
            notification_id = %n.id,
            user_id = %n.user_id,
            org_id = %n.org_id,
            scenario_type = n.scenario_type.as_str(),
            reason_code = payload["reason_code"].as_str().unwrap_or_default(),
            reason = payload["reason"].as_str().unwrap_or_default(),
            attempt,
            "notification"
        );
        Box::pin(std::future::ready(AttemptResult::Delivered))
    }
}

/// How the worker delivers.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Where notifications go.
    pub sink: Arc<dyn Sink>,
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
            sink: Arc::new(LogSink),
            policy: RetryPolicy::default(),
            window: None,
            batch_size: DEFAULT_BATCH_SIZE,
            claim_ttl: claim_ttl_for(DEFAULT_DELIVERY_TIMEOUT),
            idle_poll: DEFAULT_IDLE_POLL,
        }
    }
}

/// The claim TTL for a delivery timeout: twice the timeout (connecting and
/// answering) plus 30 s for writing the batch's outcomes.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(runtime::claim_ttl_for(Duration::from_secs(10)), chrono::TimeDelta::seconds(50));
/// ```
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
    pub fn sink(&self) -> &dyn Sink {
        self.config.sink.as_ref()
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
        for s in &settled {
            telemetry::delivery_attempted(match s.outcome {
                Outcome::Delivered => "delivered",
                Outcome::Retry { .. } => "retry",
                Outcome::Failed { .. } => "failed",
            });
        }
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
        let tasks: Vec<_> = batch
            .into_iter()
            .map(|d| {
                let sink = Arc::clone(&self.config.sink);
                let clock = Arc::clone(&self.clock);
                let claim = d.claim;
                let n = d.notification;
                let attempt = claim.attempt;
                // A task each: the attempts of a batch wait on their
                // receivers side by side, and one that panics fails alone.
                let task =
                    tokio::spawn(async move { sink.deliver(&n, attempt, clock.as_ref()).await });
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
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        OutboxError::Store(scenario_engine::service::StoreError::Backend(Box::new(e)))
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_a_fraction_and_varies() {
        let draws: Vec<f64> = (0..64).map(|_| jitter()).collect();
        assert!(draws.iter().all(|j| (0.0..1.0).contains(j)));
        assert!(draws.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn the_claim_outlasts_two_delivery_timeouts() {
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
