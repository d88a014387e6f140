//! The single calls that may enqueue a notification, for callers outside a
//! run: each wakes the notification worker when it did, so the
//! notification goes out now rather than at the worker's next poll.

use scenario_engine::service::{
    EvaluateRequest, EvaluationError, EvaluationRecord, Notification, OutboxError,
};

use crate::runtime::Runtime;

impl Runtime {
    /// Evaluates one mentor for one scenario and records the decision
    /// (with its notification, when it fires and is not a dry run).
    ///
    /// # Errors
    /// [`EvaluationError`] for an unknown mentor or a storage failure.
    pub fn evaluate(&self, request: EvaluateRequest) -> Result<EvaluationRecord, EvaluationError> {
        let record = self.evaluations.evaluate(request)?;
        if record.should_notify && !record.dry_run {
            self.delivery.wake();
        }
        Ok(record)
    }

    /// Sends a `failed` notification back to `pending`, due now, with a
    /// fresh attempt budget.
    ///
    /// # Errors
    /// [`OutboxError::NotFound`]; [`OutboxError::NotRetryable`] for a
    /// notification that is not `failed`.
    pub fn retry_notification(&self, id: &str) -> Result<Notification, OutboxError> {
        let n = self.notifications.retry(id)?;
        self.delivery.wake();
        Ok(n)
    }
}
