//! Application state, built once in `main` (or a test) and cloned into
//! every worker.

use std::sync::Arc;

use scenario_engine::{Clock, EvaluationService, IdSource, MentorService, Rules};
use storage_diesel::Store;

/// What handlers reach: the domain services and the store behind them.
#[derive(Clone)]
pub struct AppState {
    /// Mentor data.
    pub mentors: MentorService,
    /// Evaluations.
    pub evaluations: EvaluationService,
    /// The store, for readiness checks.
    pub store: Store,
    /// Largest accepted JSON body, in bytes.
    pub max_body_bytes: usize,
}

impl AppState {
    /// Wires the services over `store`.
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        rules: Rules,
        max_body_bytes: usize,
    ) -> Self {
        let repo = Arc::new(store.clone());
        Self {
            mentors: MentorService::new(repo.clone(), clock.clone()),
            evaluations: EvaluationService::new(repo, clock, ids, rules),
            store,
            max_body_bytes,
        }
    }
}
