//! The services that decide and record, and the ports they own.
//!
//! The services validate, decide with [`evaluate`](crate::evaluate), and
//! reach everything outside through ports: storage through the repository
//! traits, time through [`Clock`], generated ids through [`IdSource`]. They
//! do no I/O of their own, so they run as well over
//! [`InMemoryStore`](crate::adapters::InMemoryStore) as over a database.
//!
//! - Mentor data: [`MentorService`] over [`MentorRepository`]; its bulk
//!   import reads an [`ImportSource`] and hands storage an [`ImportFeed`].
//! - Evaluations: [`EvaluationService`] over [`EvaluationRepository`]: one
//!   decision recorded with its notification in one transaction.
//! - Runs: [`BatchEvaluator`] over [`BatchRepository`]: a batch read at
//!   once and written all or nothing ([`BatchWrite`]).
//! - Delivery: [`OutboxService`] over [`Outbox`], the [`RetryPolicy`] and
//!   the [`DeliveryWindow`].
//! - Ids: [`IdSource`], the bounds of an instant's ids ([`id_bounds_at`]),
//!   and the checks of platform ids ([`validate_platform_id`]).
//! - Storage failures ([`StoreError`]) and pages ([`PageRequest`],
//!   [`Paged`]).

mod batch;
mod batch_repo;
mod batch_request;
mod checks;
mod clock;
mod evaluation_repo;
mod evaluation_service;
mod ids;
mod import;
mod json_text;
mod mentor_repo;
mod mentor_service;
mod outbox;
mod render;
mod retry;
mod store;
mod window;

pub use batch::BatchEvaluator;
pub use batch_repo::{
    BatchDecision, BatchEntry, BatchOutcome, BatchRepository, BatchWrite, Enqueue, LeaseFence,
    StoredDecision, json_text,
};
pub use batch_request::{
    BatchIdsError, BatchReport, BatchRequest, BatchTotals, BatchUserResult, MAX_BATCH_USER_IDS,
    PreparedBatch, UNKNOWN_USER, check_batch_ids,
};
pub use checks::MentorError;
pub use clock::Clock;
pub use evaluation_repo::{
    EvaluationFilter, EvaluationOverride, EvaluationRecord, EvaluationRepository, NewNotification,
    NotificationStatus, Subject,
};
pub use evaluation_service::{EvaluateRequest, EvaluationError, EvaluationService, ShouldNotify};
pub use ids::{
    EVALUATION_ID_PREFIX, IdSource, InvalidId, NOTIFICATION_ID_PREFIX, id_bounds_at, ulid_millis,
    validate_platform_id,
};
pub use import::{ImportOutcome, ImportSource, MAX_REPORTED_LINES, RejectedImport, SourceLine};
pub use json_text::JsonText;
pub use mentor_repo::{
    ActivityEvent, ActivityOutcome, ImportCounts, ImportFeed, ImportLine, MentorFilter,
    MentorImport, MentorRecord, MentorRepository, MentorUpsert, PreferencesPatch,
    SESSION_COMPLETED,
};
pub use mentor_service::{ActivityResult, MentorService};
pub use outbox::{
    CLAIM_LAPSED_ERROR, Claim, ClaimRequest, Delivery, Notification, NotificationFilter, Outbox,
    OutboxError, OutboxService, Requeue, Settled,
};
pub use render::snapshot;
pub use retry::{
    AttemptResult, DEFAULT_MAX_ATTEMPTS, MAX_ATTEMPTS_RANGE, MAX_ERROR_CHARS, Outcome, RetryPolicy,
    error_text,
};
pub use store::{MaybeMentor, PageRequest, Paged, StoreError};
pub use window::{DeliveryWindow, InvalidWindow};
