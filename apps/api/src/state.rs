//! Application state, built once in `main` (or a test) and cloned into
//! every worker.

use std::sync::Arc;

use cert_expiry::ExpiryJobs;
use scenario_engine::{BatchEvaluator, Clock, EvaluationService, IdSource, MentorService, Rules};
use scheduler_core::JobService;
use storage_diesel::Store;

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
    /// The store, for readiness checks.
    pub store: Store,
    /// Largest accepted JSON body, in bytes; also the longest line of an import.
    pub max_body_bytes: usize,
    /// Largest accepted NDJSON import body, in bytes.
    pub max_import_bytes: usize,
}

impl AppState {
    /// Wires the services over `store`. The scheduler loop is not started
    /// here: `main` (or a test that wants it) spawns
    /// [`scheduler_loop`](crate::runtime::scheduler_loop).
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
        let repo = Arc::new(store.clone());
        let evaluations = EvaluationService::new(repo.clone(), clock.clone(), ids.clone(), rules);
        let runtime = JobRuntime::new(
            JobService::new(repo.clone()),
            repo.clone(),
            ExpiryJobs::new(repo.clone(), evaluations.clone()),
            BatchEvaluator::new(repo.clone(), clock.clone(), ids.clone(), rules),
            repo.clone(),
            clock.clone(),
            ids,
            rules.timezone,
            config,
        );
        Self {
            mentors: MentorService::new(repo, clock),
            evaluations,
            runtime: Arc::new(runtime),
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
