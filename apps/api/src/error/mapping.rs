//! How the domain and runtime errors map to a status, a machine code and
//! the `details` of the error body. Every variant is matched, with no
//! wildcard arm, so a new variant does not compile until its status is chosen.

use actix_web::http::StatusCode;
use run_log::UpdateRefused;
use scenario_engine::service::{BatchIdsError, EvaluationError, StoreError};
use scheduler_core::{CronError, JobError};
use serde_json::{Value, json};

use runtime::RuntimeError;

pub(super) fn store_parts(e: &StoreError) -> (StatusCode, &'static str) {
    match e {
        StoreError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
        StoreError::Backend(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

pub(super) fn job_parts(e: &JobError) -> (StatusCode, &'static str) {
    use scheduler_core::StoreError as S;
    match e {
        JobError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        JobError::DuplicateName(_) => (StatusCode::CONFLICT, "duplicate_name"),
        JobError::InvalidName(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_value"),
        JobError::InvalidCron(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_cron"),
        JobError::UnknownTimezone(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_timezone"),
        JobError::UnknownHandler(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_handler"),
        JobError::HandlerImmutable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "handler_immutable"),
        JobError::InvalidMisfireDeadline => (StatusCode::UNPROCESSABLE_ENTITY, "out_of_range"),
        JobError::InvalidParams(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_params"),
        JobError::TooManyJobs { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "too_many_jobs"),
        JobError::Store(S::Conflict(_)) => (StatusCode::CONFLICT, "conflict"),
        JobError::Store(S::Backend(_)) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

pub(super) fn runtime_parts(e: &RuntimeError) -> (StatusCode, &'static str) {
    use run_log::StoreError as S;
    match e {
        RuntimeError::Job(e) => job_parts(e),
        RuntimeError::LockHeld { .. } => (StatusCode::CONFLICT, "lock_held"),
        RuntimeError::RunNotFound(_)
        | RuntimeError::NeverRan(_)
        | RuntimeError::NoReport { .. } => (StatusCode::NOT_FOUND, "not_found"),
        RuntimeError::IllegalTransition(_) => (StatusCode::CONFLICT, "invalid_transition"),
        RuntimeError::Runs(S::Conflict(_)) => (StatusCode::CONFLICT, "conflict"),
        RuntimeError::Runs(S::Backend(_)) | RuntimeError::CorruptReport(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "internal")
        }
        RuntimeError::InvocationRunning { .. } => (StatusCode::CONFLICT, "lock_held"),
        RuntimeError::RunFinished { .. } => (StatusCode::CONFLICT, "run_finished"),
        RuntimeError::NotExternal(_) => (StatusCode::CONFLICT, "run_not_external"),
        RuntimeError::RunRunning(_) => (StatusCode::CONFLICT, "run_running"),
        RuntimeError::BatchIds(BatchIdsError::TooMany { .. }) => {
            (StatusCode::UNPROCESSABLE_ENTITY, "out_of_range")
        }
        RuntimeError::BatchIds(BatchIdsError::Empty | BatchIdsError::Duplicate(_)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_value")
        }
        RuntimeError::UpdateRefused(_) => (StatusCode::CONFLICT, "invalid_transition"),
        RuntimeError::Batch(e) => evaluation_parts(e),
    }
}

pub(super) fn evaluation_parts(e: &EvaluationError) -> (StatusCode, &'static str) {
    match e {
        EvaluationError::Store(e) => store_parts(e),
        EvaluationError::UnknownUser(_) | EvaluationError::NotFound(_) => {
            (StatusCode::NOT_FOUND, "not_found")
        }
    }
}

pub(super) fn job_details(e: &JobError) -> Value {
    match e {
        JobError::NotFound(key) => json!({"resource": "job", "key": key}),
        JobError::DuplicateName(name) => json!({"name": name}),
        JobError::InvalidName(n) => json!({"field": "name", "problem": n.problem}),
        JobError::InvalidCron(CronError::Invalid { expr, reason }) => {
            json!({"expression": expr, "reason": reason})
        }
        JobError::InvalidCron(CronError::NeverFires { expr }) => {
            json!({"expression": expr, "reason": "matches no date"})
        }
        JobError::InvalidCron(CronError::TooLong { len, max }) => {
            json!({"length": len, "max": max})
        }
        JobError::UnknownTimezone(zone) => json!({"timezone": zone}),
        JobError::UnknownHandler(u) => {
            json!({"field": "handler", "value": u.name, "valid": u.known})
        }
        JobError::HandlerImmutable(handler) => json!({"field": "handler", "handler": handler}),
        JobError::InvalidParams(p) => json!({"field": p.field, "problem": p.problem}),
        JobError::InvalidMisfireDeadline => {
            json!({"field": "misfire_deadline_seconds", "min": 1, "max": 604_800})
        }
        JobError::TooManyJobs { limit } => json!({"limit": limit}),
        JobError::Store(_) => Value::Null,
    }
}

pub(super) fn runtime_details(e: &RuntimeError) -> Value {
    match e {
        RuntimeError::Job(e) => job_details(e),
        RuntimeError::LockHeld { job_id, run_id } => {
            json!({"job_id": job_id, "run_id": run_id})
        }
        RuntimeError::RunNotFound(id) => json!({"resource": "run", "id": id}),
        RuntimeError::IllegalTransition(t) => {
            json!({"from": t.from.as_str(), "to": t.to.as_str()})
        }
        RuntimeError::NeverRan(name) => json!({"resource": "run", "job_name": name}),
        RuntimeError::NoReport { run_id, .. } => json!({"resource": "report", "run_id": run_id}),
        RuntimeError::Runs(_) | RuntimeError::Batch(_) | RuntimeError::CorruptReport(_) => {
            Value::Null
        }
        RuntimeError::InvocationRunning { run_id, job_id } => {
            json!({"job_id": job_id, "run_id": run_id})
        }
        RuntimeError::RunFinished { run_id, status } => {
            json!({"run_id": run_id, "status": status.as_str()})
        }
        RuntimeError::NotExternal(run_id) | RuntimeError::RunRunning(run_id) => {
            json!({"run_id": run_id})
        }
        RuntimeError::BatchIds(e) => match e {
            BatchIdsError::Empty => json!({"field": "user_ids", "min": 1}),
            BatchIdsError::TooMany { count, max } => {
                json!({"field": "user_ids", "value": count, "min": 1, "max": max})
            }
            BatchIdsError::Duplicate(id) => json!({"field": "user_ids", "duplicate": id}),
        },
        RuntimeError::UpdateRefused(e) => match e {
            UpdateRefused::Illegal(t) => json!({"from": t.from.as_str(), "to": t.to.as_str()}),
            UpdateRefused::ProcessedByService(run_id) => {
                json!({"run_id": run_id, "from": "running", "to": "success"})
            }
            UpdateRefused::Finished { run_id, status } => {
                json!({"run_id": run_id, "status": status.as_str()})
            }
        },
    }
}
