//! Application state, built once in `main` (or a test) and cloned into
//! every worker.

use std::sync::Arc;

use cert_expiry::ExpiryJobs;
use scenario_engine::rules::Rules;
use scenario_engine::service::{
    BatchEvaluator, Clock, EvaluationService, IdSource, MentorService, OutboxService,
};
use scheduler_core::JobService;
use storage_diesel::Store;

use crate::delivery::{DeliveryConfig, DeliveryWaker, DeliveryWorker};
use crate::runtime::{JobRuntime, RuntimeConfig};

/// What handlers reach: the domain services and the store behind them.
#[derive(Clone)]
pub struct AppState {
    /// Mentor data.
    pub mentors: MentorService,
    /// Evaluations.
    pub evaluations: EvaluationService,
    /// Jobs, runs and the scheduler.
    pub runtime: Arc<JobRuntime>,
    /// The outbox: the notifications API.
    pub notifications: OutboxService,
    /// The notification worker. `serve` runs its loop
    /// ([`DeliveryWorker::run`]); handlers that enqueue call
    /// `delivery.wake()`.
    pub delivery: Arc<DeliveryWorker>,
    /// The store, for readiness checks.
    pub store: Store,
    /// Largest accepted JSON body, in bytes; also the longest line of an import.
    pub max_body_bytes: usize,
    /// Largest accepted NDJSON import body, in bytes.
    pub max_import_bytes: usize,
}

impl AppState {
    /// Wires the services over `store`, with the log sink. The scheduler
    /// loop and the notification worker are not started here: `main` (or a
    /// test that wants them) spawns
    /// [`scheduler_loop`](crate::runtime::scheduler_loop) and
    /// [`DeliveryWorker::run`].
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        rules: Rules,
        max_body_bytes: usize,
    ) -> Self {
        Self::with_runtime_config(
            store,
            clock,
            ids,
            rules,
            max_body_bytes,
            RuntimeConfig::default(),
        )
    }

    /// [`AppState::new`] with explicit lease and retention settings.
    pub fn with_runtime_config(
        store: Store,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        rules: Rules,
        max_body_bytes: usize,
        config: RuntimeConfig,
    ) -> Self {
        Self::with_config(
            store,
            clock,
            ids,
            rules,
            max_body_bytes,
            config,
            DeliveryConfig::default(),
        )
    }

    /// [`AppState::with_runtime_config`] with explicit delivery settings
    /// (sink, retries, window). The delivery window is read in the rules'
    /// evaluation time zone.
    pub fn with_config(
        store: Store,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        rules: Rules,
        max_body_bytes: usize,
        config: RuntimeConfig,
        delivery: DeliveryConfig,
    ) -> Self {
        let repo = Arc::new(store.clone());
        // Made first, so that whatever enqueues (the job runtime too) can
        // hold a handle that wakes the worker.
        let waker = DeliveryWaker::new();
        let notifications = OutboxService::new(
            repo.clone(),
            clock.clone(),
            delivery.policy,
            delivery.claim_ttl,
        );
        let worker = DeliveryWorker::new(
            notifications.clone(),
            clock.clone(),
            rules.timezone,
            delivery,
            waker.clone(),
        );
        let evaluations = EvaluationService::new(repo.clone(), clock.clone(), ids.clone(), rules);
        let runtime = JobRuntime::new(
            JobService::new(repo.clone()).with_params_check(crate::runtime::check_params),
            repo.clone(),
            ExpiryJobs::new(repo.clone(), evaluations.clone()),
            BatchEvaluator::new(repo.clone(), clock.clone(), ids.clone(), rules),
            repo.clone(),
            repo.clone(),
            clock.clone(),
            ids,
            rules.timezone,
            config,
        )
        .with_delivery_waker(waker);
        Self {
            mentors: MentorService::new(repo, clock),
            evaluations,
            runtime: Arc::new(runtime),
            notifications,
            delivery: Arc::new(worker),
            store,
            max_body_bytes,
            max_import_bytes: crate::import::DEFAULT_MAX_IMPORT_BYTES,
        }
    }

    /// The same state with another import body limit (`--max-import-bytes`).
    pub fn with_max_import_bytes(self, max_import_bytes: usize) -> Self {
        Self {
            max_import_bytes,
            ..self
        }
    }
}
