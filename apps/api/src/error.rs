//! The one error type of the HTTP layer and its mapping to the statuses and
//! error body of docs/api.md ("Errors"). Every domain error variant is matched
//! here, with no wildcard arm, so a new variant does not compile until its
//! status is chosen.

use actix_web::error::{PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header::{ALLOW, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};
use scenario_engine::rules::{OutOfRange, UnknownName};
use scenario_engine::service::{
    EvaluationError, InvalidId, MentorError, OutboxError, RejectedImport,
};
use scheduler_core::{JobError, ScheduleError};
use serde::Serialize;
use serde_json::{Value, json};

use runtime::{ErrorChain, RuntimeError};

use mapping::{evaluation_parts, runtime_details, runtime_parts, store_parts};

mod mapping;

/// The body of every error response: `{"error": {"code", "message", "details"}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The inside of [`ErrorBody`].
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable machine code, for example `invalid_body` or `not_found`.
    pub code: &'static str,
    /// A sentence for humans.
    pub message: String,
    /// Structured details (the field, the valid values, ...), or null.
    #[schema(value_type = Object)]
    pub details: Value,
}

/// The 409 of a trigger or execute while a run holds the job's lock
/// (docs/api.md, "Jobs and runs"): the error body plus the holder at the top
/// level, and the key the view names jobs by.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LockConflictBody {
    /// `code: lock_held`, `details: {job_id, run_id}`.
    pub error: ErrorDetail,
    /// The job (null for an ad-hoc scheduler invocation).
    pub job_id: Option<String>,
    /// Always false.
    pub lock_acquired: bool,
    /// The run holding the lock.
    pub run_id: String,
    /// The job id, in the certification-cron view.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The job id, in the certification-cron view (its execute answer's key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cron_id: Option<String>,
    /// The job's name, in the scheduler view.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_name: Option<String>,
}

/// The keys a job view adds to a [`LockConflictBody`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockView {
    /// `id` (certification-cron).
    pub id: Option<String>,
    /// `cron_id` (certification-cron).
    pub cron_id: Option<String>,
    /// `job_name` (scheduler).
    pub job_name: Option<String>,
}

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON at all.
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// The body is JSON but a field has the wrong type or is missing.
    #[error("invalid request body: {message}")]
    InvalidBody {
        /// The path of the field, where serde knows it (`threshold_days`, `user_ids[2]`).
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A query string or path parameter could not be read.
    #[error("malformed query: {0}")]
    MalformedQuery(String),
    /// The body is larger than the limit.
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A well-typed value that is not valid.
    #[error("{message}")]
    Invalid {
        /// The field, when one is to blame.
        field: Option<&'static str>,
        /// What is wrong.
        message: String,
    },
    /// A field required in this combination is missing; `valid` lists its values.
    #[error("{field} is required here; one of: {}", .valid.join(", "))]
    MissingChoice {
        /// The field.
        field: &'static str,
        /// Its accepted values.
        valid: Vec<&'static str>,
    },
    /// An unknown field in a body (`deny_unknown_fields`).
    #[error("{0}")]
    UnknownField(String),
    /// An enum value outside its set.
    #[error(transparent)]
    UnknownName(#[from] UnknownName),
    /// A number outside its bounds.
    #[error(transparent)]
    OutOfRange(#[from] OutOfRange),
    /// A malformed platform id.
    #[error(transparent)]
    InvalidId(#[from] InvalidId),
    /// No bearer token, or one that is not configured.
    #[error("a bearer token is required: send `Authorization: Bearer <token>`")]
    Unauthorized,
    /// A token whose role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// A write from another site's page.
    #[error("cross-site requests may not change anything ({0})")]
    CrossSite(String),
    /// Unknown path.
    #[error("no route for {0}")]
    RouteNotFound(String),
    /// Known path, other method: the methods it does answer, for the
    /// `Allow` header (`GET, PUT, DELETE`).
    #[error("method not allowed; this path answers {allow}")]
    MethodNotAllowed {
        /// The methods of the path, comma-separated.
        allow: String,
    },
    /// Mentor operations.
    #[error(transparent)]
    Mentor(#[from] MentorError),
    /// Evaluation operations.
    #[error(transparent)]
    Evaluation(#[from] EvaluationError),
    /// Notification (outbox) operations.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// Job, run and schedule operations.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// A trigger refused because a run holds the job's lock, with the keys
    /// of the view it came through.
    #[error("job `{job_id}` is already running (run `{run_id}`)")]
    LockConflict {
        /// The job.
        job_id: String,
        /// The run holding the lock.
        run_id: String,
        /// The view's own keys.
        view: LockView,
    },
    /// An idempotency key whose first request is still being answered.
    #[error("a request with {header} `{key}` is still being answered; retry shortly")]
    IdempotencyInProgress {
        /// The header that carried the key.
        header: &'static str,
        /// The key.
        key: String,
    },
    /// An idempotency key used before for another request.
    #[error("{header} `{key}` was used for another request within the last 24 hours")]
    IdempotencyKeyReused {
        /// The header that carried the key.
        header: &'static str,
        /// The key.
        key: String,
    },
    /// A blocking task was cancelled or panicked.
    #[error("internal error")]
    Blocking(#[from] actix_web::error::BlockingError),
    /// A body of a type the endpoint does not read.
    #[error(
        "unsupported content type `{}`: this endpoint takes {expected}",
        .got.as_deref().unwrap_or("(none)")
    )]
    UnsupportedMediaType {
        /// The type the endpoint takes.
        expected: &'static str,
        /// The request's `Content-Type`, if any.
        got: Option<String>,
    },
    /// A line of an NDJSON import is longer than the JSON body limit.
    #[error("line longer than {limit} bytes")]
    LineTooLong {
        /// The limit in bytes (`--max-body-bytes`).
        limit: usize,
    },
    /// The request body broke off or is not valid HTTP framing.
    #[error("the request body could not be read: {0}")]
    InvalidPayload(String),
    /// Reading an import, or its spool file, failed.
    #[error("reading the import failed")]
    Io(#[source] std::io::Error),
    /// An NDJSON import refused because `limit` others are in progress.
    #[error("{limit} import(s) in progress, the most at once; retry in {retry_after_seconds} s")]
    TooManyImports {
        /// Imports in progress at once (`--max-concurrent-imports`).
        limit: usize,
        /// The `Retry-After` of the answer.
        retry_after_seconds: u64,
    },
    /// An NDJSON import refused because of its lines; nothing was written.
    #[error(
        "the import has {} invalid line(s); nothing was imported",
        .0.error_count
    )]
    ImportRejected(RejectedImport<ApiError>),
}

impl From<JobError> for ApiError {
    fn from(e: JobError) -> Self {
        Self::Runtime(e.into())
    }
}

impl From<ScheduleError> for ApiError {
    fn from(e: ScheduleError) -> Self {
        Self::Runtime(JobError::from(e).into())
    }
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        use EvaluationError as E;
        use MentorError as M;
        match self {
            Self::MalformedJson(_) => (StatusCode::BAD_REQUEST, "invalid_body"),
            Self::InvalidBody { .. } => (StatusCode::BAD_REQUEST, "invalid_body"),
            Self::MalformedQuery(_) => (StatusCode::BAD_REQUEST, "malformed_query"),
            Self::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_value"),
            Self::UnknownField(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_field"),
            Self::MissingChoice { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "missing_field"),
            Self::UnknownName(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_value"),
            Self::OutOfRange(_) => (StatusCode::UNPROCESSABLE_ENTITY, "out_of_range"),
            Self::InvalidId(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_id"),
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::CrossSite(_) => (StatusCode::FORBIDDEN, "cross_site"),
            Self::RouteNotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::MethodNotAllowed { .. } => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::Mentor(M::NotFound(_) | M::CertificationNotFound { .. }) => {
                (StatusCode::NOT_FOUND, "not_found")
            }
            Self::Mentor(M::InvalidId(_)) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_id"),
            Self::Mentor(M::MissingField(_)) => (StatusCode::UNPROCESSABLE_ENTITY, "missing_field"),
            Self::Mentor(M::InvalidValue { .. }) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_value")
            }
            Self::Mentor(M::MentorPaused { .. }) => (StatusCode::CONFLICT, "mentor_paused"),
            Self::Mentor(M::PauseHeldByExpiry(_)) => (StatusCode::CONFLICT, "pause_held_by_expiry"),
            Self::Mentor(M::ActivityConflict(_)) => (StatusCode::CONFLICT, "event_conflict"),
            Self::Mentor(M::DuplicateUserId { .. }) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "duplicate_user_id")
            }
            Self::Mentor(M::Store(e)) | Self::Evaluation(E::Store(e)) => store_parts(e),
            Self::Evaluation(e @ (E::UnknownUser(_) | E::NotFound(_))) => evaluation_parts(e),
            Self::Outbox(OutboxError::NotFound(_)) => (StatusCode::NOT_FOUND, "not_found"),
            Self::Outbox(OutboxError::NotRetryable { .. }) => {
                (StatusCode::CONFLICT, "invalid_transition")
            }
            Self::Outbox(OutboxError::Store(e)) => store_parts(e),
            Self::Runtime(e) => runtime_parts(e),
            Self::LockConflict { .. } => (StatusCode::CONFLICT, "lock_held"),
            Self::IdempotencyInProgress { .. } => (StatusCode::CONFLICT, "idempotency_in_progress"),
            Self::IdempotencyKeyReused { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
            }
            Self::Blocking(_) | Self::Io(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            Self::UnsupportedMediaType { .. } => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::LineTooLong { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "line_too_long"),
            Self::InvalidPayload(_) => (StatusCode::BAD_REQUEST, "malformed_body"),
            Self::ImportRejected(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_lines"),
            Self::TooManyImports { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_imports"),
        }
    }

    fn details(&self) -> Value {
        use EvaluationError as E;
        use MentorError as M;
        match self {
            Self::UnknownName(u) => json!({"field": u.field, "value": u.value, "valid": u.valid}),
            Self::OutOfRange(r) => {
                json!({"field": r.field, "value": r.value, "min": r.min, "max": r.max})
            }
            Self::InvalidId(i) | Self::Mentor(M::InvalidId(i)) => json!({"field": i.field}),
            Self::Invalid { field: Some(f), .. }
            | Self::Mentor(M::InvalidValue { field: f, .. }) => {
                json!({"field": f})
            }
            Self::Mentor(M::MissingField(f)) => json!({"field": f}),
            Self::MissingChoice { field, valid } => json!({"field": field, "valid": valid}),
            Self::InvalidBody { field: Some(f), .. } => json!({"field": f}),
            Self::PayloadTooLarge { limit } | Self::LineTooLong { limit } => {
                json!({"limit_bytes": limit})
            }
            Self::UnsupportedMediaType { expected, got } => {
                json!({"expected": expected, "content_type": got})
            }
            Self::TooManyImports {
                limit,
                retry_after_seconds,
            } => json!({"limit": limit, "retry_after_seconds": retry_after_seconds}),
            Self::MethodNotAllowed { allow } => {
                json!({"allow": allow.split(", ").collect::<Vec<_>>()})
            }
            // Each line's error as the body of a request would carry it.
            Self::ImportRejected(r) => json!({
                "errors": r.errors.iter()
                    .map(|(line, e)| json!({"line": line, "error": e.detail()}))
                    .collect::<Vec<_>>(),
                "error_count": r.error_count,
                "truncated": r.truncated(),
            }),
            Self::Mentor(M::NotFound(id)) | Self::Evaluation(E::UnknownUser(id)) => {
                json!({"resource": "mentor", "user_id": id})
            }
            Self::Mentor(M::CertificationNotFound {
                user_id,
                certification_id,
            }) => {
                json!({"resource": "certification", "user_id": user_id, "certification_id": certification_id})
            }
            Self::Mentor(M::MentorPaused { user_id, reason }) => {
                json!({"user_id": user_id, "pause_reason": reason.as_str()})
            }
            Self::Mentor(M::PauseHeldByExpiry(id)) => {
                json!({"user_id": id, "pause_reason": "certification_expired"})
            }
            Self::Mentor(M::ActivityConflict(id)) => json!({"event_id": id}),
            Self::Mentor(M::DuplicateUserId {
                user_id,
                first_line,
            }) => json!({"user_id": user_id, "first_line": first_line}),
            Self::Evaluation(E::NotFound(id)) => json!({"resource": "evaluation", "id": id}),
            Self::Outbox(OutboxError::NotFound(id)) => {
                json!({"resource": "notification", "id": id})
            }
            Self::Outbox(OutboxError::NotRetryable { id, status }) => {
                json!({"id": id, "from": status.as_str(), "to": "pending"})
            }
            Self::Runtime(e) => runtime_details(e),
            Self::LockConflict { job_id, run_id, .. } => {
                json!({"job_id": job_id, "run_id": run_id})
            }
            Self::IdempotencyInProgress { header, key }
            | Self::IdempotencyKeyReused { header, key } => {
                json!({"header": header, "key": key})
            }
            _ => Value::Null,
        }
    }

    /// The machine code of the error body (`invalid_body`, `not_found`, ...).
    pub fn code(&self) -> &'static str {
        self.parts().1
    }

    /// The inside of the error body: code, message and details.
    fn detail(&self) -> ErrorDetail {
        ErrorDetail {
            code: self.parts().1,
            message: self.public_message(),
            details: self.details(),
        }
    }

    /// The message a client sees: server errors hide their causes.
    fn public_message(&self) -> String {
        if self.parts().0.is_server_error() {
            "internal server error".to_owned()
        } else {
            self.to_string()
        }
    }

    /// Maps a query-string extractor failure.
    pub fn from_query(err: QueryPayloadError) -> Self {
        Self::MalformedQuery(err.to_string())
    }

    /// Maps a path extractor failure.
    pub fn from_path(err: PathError) -> Self {
        Self::MalformedQuery(err.to_string())
    }

    /// Maps the failure of a trigger or execute: a held lock becomes the 409
    /// of docs/api.md ("Jobs and runs") with the view's own keys; anything
    /// else maps as usual. The one place the three job views turn a lock into
    /// an answer.
    pub fn from_trigger(err: RuntimeError, view: LockView) -> Self {
        match err {
            RuntimeError::LockHeld { job_id, run_id } => Self::LockConflict {
                job_id,
                run_id,
                view,
            },
            other => Self::Runtime(other),
        }
    }

    /// The holder of the lock, for the top level of a lock conflict's body.
    fn lock_conflict(&self) -> Option<(Option<&str>, &str, LockView)> {
        match self {
            Self::LockConflict {
                job_id,
                run_id,
                view,
            } => Some((Some(job_id), run_id, view.clone())),
            Self::Runtime(RuntimeError::LockHeld { job_id, run_id }) => {
                Some((Some(job_id), run_id, LockView::default()))
            }
            Self::Runtime(RuntimeError::InvocationRunning { job_id, run_id }) => {
                Some((job_id.as_deref(), run_id, LockView::default()))
            }
            _ => None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            // The client gets a generic message; the chain goes to the log.
            tracing::error!(error = %ErrorChain(self), "request failed");
        }
        let error = self.detail();
        let mut response = HttpResponse::build(status);
        if let Self::TooManyImports {
            retry_after_seconds,
            ..
        } = self
        {
            response.insert_header((RETRY_AFTER, retry_after_seconds.to_string()));
        }
        if let Self::MethodNotAllowed { allow } = self {
            response.insert_header((ALLOW, allow.as_str()));
        }
        match self.lock_conflict() {
            Some((job_id, run_id, view)) => response.json(LockConflictBody {
                error,
                job_id: job_id.map(str::to_owned),
                lock_acquired: false,
                run_id: run_id.to_owned(),
                id: view.id,
                cron_id: view.cron_id,
                job_name: view.job_name,
            }),
            None => {
                if matches!(self, Self::Unauthorized) {
                    response.insert_header((WWW_AUTHENTICATE, "Bearer"));
                }
                response.json(ErrorBody { error })
            }
        }
    }
}
